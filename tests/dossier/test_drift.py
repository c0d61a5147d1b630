"""`dossier drift` on a small fake SGLang (package and checkout layouts) and on the installed sglang."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dossier import drift, source_tree
from dossier.cli import app
from dossier.evidence import LOCK_FILE, LockEntry, key_sha, write_lock
from dossier.model import KeyFragment
from dossier.project import Project
from dossier.render import skill_dir
from tests.dossier.factories import make_card, write_project

runner = CliRunner()
MODEL = "python/sglang/srt/models/qwen3_next.py"
OLD_KERNEL = "python/sglang/srt/layers/attention/fla/fused_gating.py"
KERNEL_TEXT = "import triton\n\n\n@triton.jit\ndef widget_gating_kernel(g, a):\n    pass\n"

FAKE = {
    "__init__.py": "",
    "version.py": "from sglang._version import __version__\n",
    "_version.py": "__version__ = version = '9.9.1'\n__version_tuple__ = (9, 9, 1)\n",
    "srt/models/qwen3_next.py": (
        "class Widget:\n    def __init__(self):\n        self.in_proj_qkvzba = MergedColumnParallelLinear(\n"
    ),
    "kernels/ops/gating/fused_gating.py": KERNEL_TEXT,
    "srt/layers/uses_gating.py": "from sglang.kernels.ops.gating.fused_gating import widget_gating_kernel\n",
    "srt/layers/notes.md": "widget_gating_kernel is documented here, not code\n",
}


def write_tree(base: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = base / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return base


def kf(file: str, match: str) -> dict:
    return {
        "file": file,
        "match": match,
        "explain": "The changed lines this card is about, in our own words.",
    }


CARDS = [
    make_card(100),  # in place
    make_card(101, key_fragment=kf(OLD_KERNEL, "def widget_gating_kernel(")),  # relocated
    make_card(102, key_fragment=kf(MODEL, "self.in_proj_ba = Column(")),  # missing
    make_card(90, status="superseded", superseded_by=[100], key_fragment=kf(MODEL, "class Widget:")),
    make_card(91, status="reverted", superseded_by=[100], key_fragment=kf(MODEL, "self.gone = 1")),
    make_card(103, key_fragment=kf("sgl-kernel/csrc/widget.cu", "widget_launch(")),  # outside the package
    make_card(104, status="candidate", state="open", merged_at=None, key_fragment=kf(MODEL, "nope")),
]


@pytest.fixture
def package(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "site" / "sglang", FAKE)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_project(tmp_path / "p", CARDS)


def results(root: Path, src: Path, evidence=None) -> dict[int, drift.DriftResult]:
    tree = drift.locate(src)
    return {r.pr: r for r in drift.check(Project.load(root).cards, tree, evidence)}


def test_verdicts_on_a_package(root, package):
    got = results(root, package)
    assert sorted(got) == [90, 91, 100, 101, 102, 103]  # the candidate is not behaviour: not checked
    assert (got[100].verdict, got[100].found) == ("in-place", (drift.Where(MODEL, (3,)),))
    assert got[101].verdict == "relocated"
    assert got[101].found[0] == drift.Where("python/sglang/kernels/ops/gating/fused_gating.py", (5,))
    assert [w.file for w in got[101].found] == ["python/sglang/kernels/ops/gating/fused_gating.py"]
    assert got[102].verdict == "missing" and got[102].problem and "reverted or superseded?" in got[102].note
    assert (
        got[90].verdict == "in-place"
        and "is status superseded right?" in got[90].note
        and not got[90].problem
    )
    assert got[91].verdict == "missing" and got[91].note == "gone, as its status says" and not got[91].problem
    assert got[103].verdict == "outside" and not got[103].problem


def test_a_pointer_still_in_place_is_no_question_about_its_status(tmp_path, package):
    """A superseded card whose match names the code the PR targeted (explain "Unverified: ..."): that code being
    there says nothing of the PR, yet drift, and the manual's card, asked "is status superseded right?"."""
    pointer = {**kf(MODEL, "class Widget:"), "explain": "Unverified: no source we hold shows a line of this PR; the "
                                                        "match names the class it targeted."}
    root = write_project(tmp_path / "p", [make_card(100), make_card(90, state="closed", merged_at=None,
                                                                    status="superseded", superseded_by=[100],
                                                                    key_fragment=pointer)])
    got = results(root, package)[90]
    assert got.verdict == "in-place" and got.note == "a pointer to the code the PR targeted, which is still there"
    runner.invoke(app, ["drift", "--sglang-src", str(package), "--record", "--root", str(root)])
    shown = drift.annotator(Project.load(root))(Project.load(root).card(90))[0]
    assert "is status superseded right?" not in shown and "a pointer to the code the PR targeted" in shown


def test_relocation_prefers_the_same_file_name(root, package):
    write_tree(
        package, {"srt/zz/a.py": "x = widget_gating_kernel\n", "aa/fused_gating.py": "widget_gating_kernel\n"}
    )
    card = make_card(101, key_fragment=kf(OLD_KERNEL, "widget_gating_kernel"))
    write_project(root, [card])
    found = [w.file for w in results(root, package)[101].found]
    assert found == [
        "python/sglang/aa/fused_gating.py",
        "python/sglang/kernels/ops/gating/fused_gating.py",
        "python/sglang/srt/layers/uses_gating.py",
        "python/sglang/srt/zz/a.py",
    ]


def test_a_checkout_resolves_paths_outside_the_package(root, tmp_path):
    checkout = tmp_path / "sglang-checkout"
    write_tree(checkout / "python" / "sglang", FAKE)
    write_tree(checkout, {"sgl-kernel/csrc/widget.cu": "void widget_launch(int n) {}\n"})
    got = results(root, checkout)
    assert got[103].verdict == "in-place" and got[103].found[0].file == "sgl-kernel/csrc/widget.cu"
    assert got[101].found[0].file == "python/sglang/kernels/ops/gating/fused_gating.py"
    assert drift.locate(checkout).label == f"SGLang 9.9.1 (checkout {checkout.resolve()})"


def test_a_removal_fragment_is_expected_to_stay_gone(root, package):
    lock = {
        102: LockEntry(
            key_sha(KeyFragment(MODEL, "self.in_proj_ba = Column(", "")),
            "0" * 64,
            "github",
            MODEL,
            "old",
            (21,),
            "2026-04-01",
            1,
            1,
            1,
        )
    }
    got = results(root, package, lock)[102]
    assert (
        got.verdict == "missing"
        and got.removal
        and not got.problem
        and got.note == "removed code still absent"
    )
    stale = {102: LockEntry(**{**lock[102].__dict__, "key_fragment": "f" * 64})}
    assert results(root, package, stale)[102].problem  # a lock for another fragment says nothing


@pytest.mark.parametrize(
    "files, version",
    [
        ({"__init__.py": "", "version.py": '__version__ = "1.2.3"\n'}, "1.2.3"),
        (
            {
                "__init__.py": "",
                "version.py": "from sglang._version import __version__\n",
                "_version.py": "__version__ = version = '0.6.0rc1'\n",
            },
            "0.6.0rc1",
        ),
        ({"__init__.py": ""}, "unknown"),
    ],
)
def test_read_version_without_importing(tmp_path, files, version):
    assert source_tree.read_version(write_tree(tmp_path / "sglang", files)) == version


def test_read_version_falls_back_to_dist_metadata(tmp_path):
    package = write_tree(tmp_path / "sglang", {"__init__.py": ""})
    write_tree(
        tmp_path, {"sglang-4.5.6.dist-info/METADATA": "Metadata-Version: 2.1\nName: sglang\nVersion: 4.5.6\n"}
    )
    assert source_tree.read_version(package) == "4.5.6"


def test_locate_accepts_the_dir_holding_the_package_and_rejects_others(package, tmp_path):
    assert drift.locate(package.parent).package == package.resolve()
    with pytest.raises(drift.DriftError, match="neither an SGLang checkout"):
        drift.locate(tmp_path)


def test_cli_text_json_exit_codes_and_record(root, package):
    text = runner.invoke(app, ["drift", "--sglang-src", str(package), "--root", str(root)])
    assert text.exit_code == 1
    lines = text.stdout.splitlines()
    assert lines[0] == f"compared against SGLang 9.9.1 (package {package.resolve()})"
    assert any(
        ln.startswith("#101") and f"{OLD_KERNEL} -> python/sglang/kernels/ops/gating/fused_gating.py:5" in ln
        for ln in lines
    )
    assert lines[-1] == "6 card(s): 2 in-place, 1 relocated, 0 rewritten, 2 missing, 1 outside; 1 current card(s) missing"
    js = runner.invoke(app, ["drift", "--sglang-src", str(package), "--format", "json", "--root", str(root)])
    data = json.loads(js.stdout)
    assert data["sglang"]["version"] == "9.9.1" and [c["pr"] for c in data["cards"] if c["problem"]] == [102]
    (root / "cards" / "102.yaml").unlink()
    ok = runner.invoke(app, ["drift", "--sglang-src", str(package), "--record", "--root", str(root)])
    assert ok.exit_code == 0
    lock = root / drift.DRIFT_LOCK
    first = lock.read_bytes()
    runner.invoke(app, ["drift", "--sglang-src", str(package), "--record", "--root", str(root)])
    assert lock.read_bytes() == first
    data = yaml.safe_load(first)
    assert data["sglang"] == "9.9.1" and data["cards"][101]["verdict"] == "relocated"
    bad = runner.invoke(app, ["drift", "--sglang-src", str(root), "--root", str(root)])
    assert bad.exit_code == 2 and "neither an SGLang checkout" in bad.output


def test_render_shows_the_recorded_drift(root, package):
    (root / "cards" / "102.yaml").unlink()
    runner.invoke(app, ["drift", "--sglang-src", str(package), "--record", "--root", str(root)])
    note = drift.annotator(Project.load(root))
    cards = {c.pr: c for c in Project.load(root).cards}
    assert note(cards[100]) == [f"**SGLang 9.9.1:** in place, `{MODEL}` line 3."]
    assert note(cards[101]) == [
        "**SGLang 9.9.1:** moved to `python/sglang/kernels/ops/gating/fused_gating.py` line 5."
    ]
    # the manual tells the reader what is known; the maintainer's question stays in `dossier drift`'s output
    assert "(the card is superseded: the same text may be a later change's)" in note(cards[90])[0]
    assert "is status" not in note(cards[90])[0]
    assert note(cards[104]) == []
    write_project(root, [make_card(100, key_fragment=kf(MODEL, "class Widget"))])
    assert (
        "recorded for an earlier key fragment"
        in drift.annotator(Project.load(root))(Project.load(root).card(100))[0]
    )
    refused = runner.invoke(app, ["render", "--root", str(root)])  # the note is for the maintainer, not the reader
    assert refused.exit_code == 1 and "cards/100.yaml (D332)" in refused.output.splitlines()[0], refused.output
    runner.invoke(app, ["drift", "--sglang-src", str(package), "--record", "--root", str(root)])
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    history = (skill_dir(Project.load(root)) / "references" / "pr-history.md").read_text()
    assert "**SGLang 9.9.1:** moved to `python/sglang/kernels/ops/gating/fused_gating.py`" in history
    assert not (root / LOCK_FILE).exists()


# ---- the installed sglang (CI installs it with --no-deps) --------------------------------------

installed = pytest.mark.skipif(importlib.util.find_spec("sglang") is None, reason="sglang is not installed")


@installed
def test_installed_sglang_is_found_without_importing_it():
    sys.modules.pop("sglang", None)
    tree = drift.locate()
    assert "sglang" not in sys.modules
    assert tree.version == importlib.metadata.version("sglang") and (tree.package / "srt").is_dir()


@installed
def test_installed_sglang_verdicts(tmp_path):
    cards = [
        make_card(100, key_fragment=kf(MODEL, "class Qwen3NextForCausalLM(")),
        make_card(
            101,
            key_fragment=kf(
                "python/sglang/srt/layers/attention/fla/fused_gdn_gating.py", "def fused_gdn_gating("
            ),
        ),
        make_card(102, key_fragment=kf(MODEL, "no SGLang line says this: 5be7c0de")),
    ]
    root = write_project(tmp_path / "p", cards)
    got = {r.pr: r for r in drift.check(Project.load(root).cards, drift.locate())}
    assert got[100].verdict == "in-place"
    assert got[101].verdict == "relocated"
    assert got[101].found[0].file == "python/sglang/kernels/ops/attention/linear/fused_gdn_gating.py"
    assert got[102].verdict == "missing" and got[102].problem


@installed
def test_drift_on_this_repository_cards_runs(tmp_path):
    repo = Path(__file__).resolve().parents[2]
    result = runner.invoke(app, ["drift", "--root", str(repo), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.stdout)
    assert data["sglang"]["version"] == importlib.metadata.version("sglang")
    assert result.exit_code == (1 if any(c["problem"] for c in data["cards"]) else 0)


def test_write_lock_for_the_evidence_is_untouched_by_drift(root, package, tmp_path):
    write_lock(root, {})
    before = (root / LOCK_FILE).read_bytes()
    runner.invoke(app, ["drift", "--sglang-src", str(package), "--record", "--root", str(root)])
    assert (root / LOCK_FILE).read_bytes() == before


def test_rewritten_behaviour_is_tracked_through_today(tmp_path):
    """A current card whose PR lines were rewritten later is fine when its `today` place still holds."""
    from dossier.drift import MISSING, REWRITTEN, check
    from dossier.model import Card
    from dossier.source_tree import SourceTree
    from tests.dossier.factories import make_card

    pkg = tmp_path / "sglang"
    (pkg / "srt").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "srt" / "hooks.py").write_text("def supports_extra_buffer(p):\n    return p.is_cuda or p.is_hip\n")
    tree = SourceTree(pkg, None, "0.0.test")
    kf = {"file": "python/sglang/srt/server_args.py", "match": "is_npu() or is_hip()",
          "explain": "The platform assertion accepts HIP for extra_buffer."}
    plain = Card.from_data(make_card(1, key_fragment=kf))
    tracked = Card.from_data(make_card(2, key_fragment={
        **kf, "today": {"file": "python/sglang/srt/hooks.py", "match": "p.is_hip"}}))
    gone = Card.from_data(make_card(3, key_fragment={
        **kf, "today": {"file": "python/sglang/srt/hooks.py", "match": "p.is_musa"}}))
    r_plain, r_tracked, r_gone = check([plain, tracked, gone], tree)
    assert r_plain.verdict == MISSING and r_plain.problem
    assert r_tracked.verdict == REWRITTEN and not r_tracked.problem
    assert r_tracked.found[0].file == "python/sglang/srt/hooks.py" and r_tracked.found[0].lines == (2,)
    assert r_gone.verdict == MISSING and r_gone.problem


def test_today_outranks_the_same_text_in_a_file_of_another_name(tmp_path):
    """A line another PR also wrote elsewhere is not where this card's code moved: its `today` place wins; a file
    of the fragment's own name still counts as a relocation."""
    from dossier.drift import RELOCATED, REWRITTEN, check
    from dossier.model import Card
    from dossier.source_tree import SourceTree
    from tests.dossier.factories import make_card

    pkg = tmp_path / "sglang"
    (pkg / "ops").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    line = "    BV = min(next_power_of_2(V), 32)\n"
    (pkg / "ops" / "other_kernel.py").write_text("def launch(V):\n" + line)
    (pkg / "ops" / "gating.py").write_text("def pick(v):\n    return min(next_power_of_2(v), 32), 1\n")
    tree = SourceTree(pkg, None, "0.0.test")
    kf = {"file": "python/sglang/srt/old/gating.py", "match": "BV = min(next_power_of_2(V), 32)",
          "explain": "The value tile cap of the gating kernel goes from 8 to 32."}
    today = {"file": "python/sglang/ops/gating.py", "match": "return min(next_power_of_2(v), 32), 1"}
    tracked, untracked = check([Card.from_data(make_card(1, key_fragment={**kf, "today": today})),
                                Card.from_data(make_card(2, key_fragment=kf))], tree)
    assert tracked.verdict == REWRITTEN and not tracked.problem
    assert tracked.found[0].file == "python/sglang/ops/gating.py" and tracked.found[0].lines == (2,)
    assert untracked.verdict == RELOCATED and untracked.found[0].file == "python/sglang/ops/other_kernel.py"

    (pkg / "ops" / "gating.py").write_text("def launch(V):\n" + line + "def pick(v):\n    return min(next_power_of_2(v), 32), 1\n")
    (moved,) = check([Card.from_data(make_card(3, key_fragment={**kf, "today": today}))], SourceTree(pkg, None, "0.0.test"))
    assert moved.verdict == RELOCATED and moved.found[0].file == "python/sglang/ops/gating.py"
    assert len(moved.found) == 1, "other files' copies of the line are other code"


def test_a_moved_short_match_is_shown_where_the_cards_today_pins_it(tmp_path):
    """#17094's match (`min(triton.next_power_of_2(V), 32)`) moved with its file, and later kernels wrote the same
    text twice more in that file and in others: the manual named all five places, four of them other code. The
    card's `today` match pins the PR's line: drift reports that one place, as moved."""
    from dossier.drift import RELOCATED, check
    from dossier.model import Card
    from dossier.source_tree import SourceTree
    from tests.dossier.factories import make_card

    pkg = tmp_path / "sglang"
    (pkg / "ops" / "fla").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    cap = "min(next_power_of_2(V), 32)"
    (pkg / "ops" / "fla" / "recurrent.py").write_text(
        f"def fwd(K, V):\n    BK, BV = next_power_of_2(K), {cap}\n\n\ndef packed(V):\n    BV = {cap}\n")
    (pkg / "ops" / "ring.py").write_text(f"def fold(V):\n    BV = {cap}\n")
    kf = {"file": "python/sglang/srt/old/fla/recurrent.py", "match": cap,
          "explain": "The value tile cap of the recurrent kernel goes from 8 to 32."}
    today = {"file": "python/sglang/ops/fla/recurrent.py", "match": f"BK, BV = next_power_of_2(K), {cap}"}
    (moved,) = check([Card.from_data(make_card(1, key_fragment={**kf, "today": today}))],
                     SourceTree(pkg, None, "0.0.test"))
    assert moved.verdict == RELOCATED and not moved.problem
    assert [(w.file, w.lines) for w in moved.found] == [("python/sglang/ops/fla/recurrent.py", (2,))]


def test_record_refuses_a_tree_whose_version_cannot_be_read(root, package):
    """A git checkout has no _version.py: `drift --record` wrote `sglang: "unknown"` and render printed "SGLang
    unknown:" on 150 card notes with lint clean. Recording refuses, and a lock holding it is unreadable (D311)."""
    (package / "_version.py").unlink()
    (package / "version.py").write_text("from sglang._version import __version__\n")
    refused = runner.invoke(app, ["drift", "--sglang-src", str(package), "--record", "--root", str(root)])
    assert refused.exit_code == 2 and "cannot tell which SGLang version" in refused.output, refused.output
    assert not (root / drift.DRIFT_LOCK).exists()
    (root / drift.DRIFT_LOCK).write_text('version: 1\nsglang: "unknown"\ncards: {}\n')
    with pytest.raises(drift.LockError, match="sglang must be the SGLang version"):
        drift.read_lock(root)


def test_today_in_the_key_file_outranks_the_match_text_at_another_place_of_it(tmp_path):
    """#27583's guard text (`if (is_cuda() or is_hip()) and qkv_dim <= MAX:`) also opens another function's branch
    from 0.5.20 while its own line became `(is_cuda() or is_hip() or is_xpu())`: drift said "in place" at the other
    function's line. The card's `today`, in the same file, pins the PR's code."""
    from dossier.drift import IN_PLACE, REWRITTEN, check
    from dossier.model import Card
    from dossier.source_tree import SourceTree
    from tests.dossier.factories import make_card

    pkg = tmp_path / "sglang"
    (pkg / "srt").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "srt" / "backend.py").write_text(
        "def forward_extend(qkv_dim):\n    if (is_cuda() or is_hip() or is_xpu()) and qkv_dim <= MAX:\n        pass\n"
        "\n\ndef forward_segments(qkv_dim):\n    if (is_cuda() or is_hip()) and qkv_dim <= MAX:\n        pass\n")
    tree = SourceTree(pkg, None, "0.0.test")
    kf = {"file": "python/sglang/srt/backend.py", "match": "if (is_cuda() or is_hip()) and qkv_dim <= MAX:",
          "explain": "The prefill dispatch takes the fused split on HIP as well as CUDA."}
    pinned = {**kf, "today": {"file": "python/sglang/srt/backend.py", "match": "or is_xpu()) and qkv_dim <= MAX:"}}
    here = {**kf, "today": {"file": "python/sglang/srt/backend.py", "match": "def forward_segments("}}
    moved, plain, near = check([Card.from_data(make_card(n, key_fragment=k)) for n, k in
                                ((1, pinned), (2, kf), (3, here))], tree)
    assert moved.verdict == REWRITTEN and [(w.file, w.lines) for w in moved.found] == [(kf["file"], (2,))]
    assert plain.verdict == IN_PLACE and plain.found[0].lines == (7,)
    assert near.verdict == REWRITTEN  # a today place that does not hold the match line is where the code is


def test_the_manual_says_how_many_places_a_cut_list_left_out(root, package):
    """The manual showed three lines of fourteen (#16056: "line 119, 186, 230.") and three files of four, as if they
    were all: a cut list now says how many more there are."""
    write_tree(package, {f"srt/zz/copy{i}.py": "x = widget_gating_kernel\n" * 5 for i in range(3)})
    write_tree(package, {"kernels/ops/gating/fused_gating.py": KERNEL_TEXT + "widget_gating_kernel\n" * 3})
    write_project(root, [make_card(101, key_fragment=kf(OLD_KERNEL, "widget_gating_kernel"))])
    runner.invoke(app, ["drift", "--sglang-src", str(package), "--record", "--root", str(root)])
    project = Project.load(root)
    (note,) = drift.annotator(project)(project.card(101))
    assert " and 2 more." in note and "line 5, 7, 8 and 1 more;" in note, note
