"""by-file.md promises, for a change that moved, the file that holds it in today's SGLang: every current card whose key
fragment drift found relocated is listed on the row of the file it moved to (session 29's agent audit: #10466's and
#18088's rows named only the file each PR changed, gone since)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dossier.drift import read_lock
from dossier.locks import LockError
from tests.dossier.test_manual_questions import SKILL

ROOT = Path(__file__).resolve().parents[2]


def _rows() -> dict[str, str]:
    rows = {}
    for line in (SKILL / "references" / "by-file.md").read_text().splitlines():
        if line.startswith("- `"):
            rows[line[3:line.index("`", 3)]] = line
    return rows


def test_a_relocated_change_is_listed_under_the_file_that_holds_it_today():
    _, verdicts = read_lock(ROOT)
    moved = {pr: e["found"][0]["file"] for pr, e in verdicts.items()
             if e["verdict"] == "relocated" and e["status"] == "current"}
    assert len(moved) >= 10  # drift.lock records about 27 relocated cards
    rows = _rows()
    missing = [(pr, file) for pr, file in moved.items()
               if f"[#{pr}](pr-history.md#pr-{pr})" not in rows.get(file, "")]
    assert not missing, missing


def test_every_listed_file_todays_sglang_lacks_is_marked_and_no_other():
    """by-file.md listed 51 package paths SGLang 0.5.23 no longer has (sigmoid_gate_mul.py, the fla/ kernels moved
    under kernels/ops/) as if a reader could open them there."""
    from dossier.drift import read_absent
    from dossier.source_tree import PACKAGE_PREFIX

    version, _ = read_lock(ROOT)
    absent = read_absent(ROOT)
    assert len(absent) >= 20
    rows = _rows()
    for path, row in rows.items():
        marked = f"(not in SGLang {version}" in row
        assert marked == (path in absent), row
        if path in absent and len(absent[path]) == 1:
            assert (f"one file of its name: `{absent[path][0]}`" in row or f"now in `{absent[path][0]}`" in row
                    or f"its lines went to `{absent[path][0]}`" in row), row
    assert all(path.startswith(f"{PACKAGE_PREFIX}/") and path in rows for path in absent)


def test_a_file_todays_sglang_lacks_names_where_its_cards_key_fragments_moved():
    """by-file.md marked python/sglang/jit_kernel/triton/gdn_fused_proj.py "not in SGLang 0.5.23" and left the reader
    there, though drift had found #21019's and #26206's key fragments in kernels/ops/attention/triton_gdn_fused_proj.py."""
    from dossier.drift import read_absent
    from dossier.manual import moved_files
    from dossier.project import Project

    project = Project.load(ROOT)
    moved, absent, rows = moved_files(project), read_absent(ROOT), _rows()
    named = 0
    for card in project.cards:
        path = card.key_fragment.file
        if path in absent and card.pr in moved:
            assert f"now in `{moved[card.pr]}`" in rows[path] and f"#{card.pr}](" in rows[path].split(": [#")[0], path
            named += 1
    assert named >= 10
    gone = "python/sglang/jit_kernel/triton/gdn_fused_proj.py"
    assert "#21019](pr-history.md#pr-21019), [#26206](pr-history.md#pr-26206) now in " \
           "`python/sglang/kernels/ops/attention/triton_gdn_fused_proj.py`" in rows[gone]


def test_only_a_cards_own_key_fragment_names_where_an_absent_file_went():
    """A card that lists the gone file among its files, with its key fragment elsewhere, says nothing of where the
    file went: its fragment's move is no evidence for that file."""
    from dossier.model import Card
    from dossier.render.documents import _by_file
    from tests.dossier.factories import make_card

    gone, new, other = "python/sglang/a/gone.py", "python/sglang/b/kept.py", "python/sglang/c/other.py"
    owner, bystander = make_card(100), make_card(200)
    owner["files"]["runtime"] = [gone]
    owner["key_fragment"]["file"] = gone
    bystander["files"]["runtime"] = [gone, other]
    bystander["key_fragment"]["file"] = other
    cards = [Card.from_data(d, Path(f"cards/{d['pr']}.yaml")) for d in (owner, bystander)]
    files = {f["path"]: f for d in _by_file(cards, {100: new, 200: "python/sglang/d/elsewhere.py"},
                                              {gone: []}) for f in d["files"]}
    assert files[gone]["moved_to"] == [{"file": new, "prs": [100]}]
    assert files[other]["moved_to"] == []  # not absent: nothing to say


def test_drift_records_the_listed_files_a_tree_lacks_with_the_files_of_their_name(tmp_path):
    from dossier.drift import absent_files, read_absent, write_lock
    from dossier.model import Card
    from dossier.source_tree import SourceTree
    from tests.dossier.factories import make_card, sglang_package

    package = sglang_package(tmp_path / "site", {"kernels/ops/gating.py": "x = 1\n", "srt/layers/linear.py": "y\n"})
    data = make_card(100)
    data["files"]["runtime"] = ["python/sglang/srt/layers/linear.py", "python/sglang/srt/layers/gating.py",
                                "python/sglang/srt/layers/gone.py", "sgl-kernel/csrc/x.cu"]
    card = Card.from_data(data, Path("cards/100.yaml"))
    tree = SourceTree.at(package)
    absent = absent_files([card], tree)
    assert absent["python/sglang/srt/layers/gating.py"] == ["python/sglang/kernels/ops/gating.py"]
    assert absent["python/sglang/srt/layers/gone.py"] == []
    assert "python/sglang/srt/layers/linear.py" not in absent and "sgl-kernel/csrc/x.cu" not in absent
    (tmp_path / "cards").mkdir()
    write_lock(tmp_path, [], tree, absent)
    assert read_absent(tmp_path) == absent
    lock = tmp_path / "cards" / "drift.lock"
    lock.write_text(lock.read_text().replace("absent:\n", "absent:\n  python/sglang/x.py: 3\n", 1))
    with pytest.raises(LockError, match="absent must map each listed file"):
        read_absent(tmp_path)


def test_a_second_move_to_the_key_fragments_file_names_it_as_that():
    """A file moved twice (srt/layers/attention/fla/ to kernels/ops/attention/fla/ in 0.5.16, then to
    kernels/ops/attention/linear/ in 0.5.23) read "then there in 0.5.23": after the first move's path, "there" read
    as that path, so the reader was told the file stayed under fla/ (session 46's audit)."""
    row = _rows()["python/sglang/srt/layers/attention/fla/fused_sigmoid_gating_recurrent.py"]
    assert "then there" not in row
    assert ("its lines went to `python/sglang/kernels/ops/attention/fla/fused_sigmoid_gating_recurrent.py` in 0.5.16"
            in row and "; then to the key fragment's file in 0.5.23" in row), row
    assert "now in `python/sglang/kernels/ops/attention/linear/fused_sigmoid_gating_recurrent.py`" in row
