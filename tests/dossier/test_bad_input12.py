"""Bad input, round 12: locks and cards cut at a line end (still YAML, entries gone), truncated release sources,
output paths that cannot be written, and what an adversarial pass over the commands found."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.lint import LintContext, run_lint
from dossier.project import Project
from tests.dossier.factories import make_card, write_project

runner = CliRunner()


def _flat(result) -> str:
    return " ".join(result.output.split())


# ---- cards/opened.lock cut at an entry boundary: the anchors past the cut (the highest PRs' floors) were lost ----

def _opened_lock(root: Path) -> str:
    from dossier.opened import Anchor, record_opened

    (root / "cards").mkdir(exist_ok=True)
    record_opened(root, {pr: Anchor(pr, dt.date(2026, 1, 1) + dt.timedelta(days=pr // 10), f"https://x/pull/{pr}")
                         for pr in (100, 110, 120, 130)})
    return (root / "cards" / "opened.lock").read_text()


def test_an_opened_lock_cut_at_any_line_end_is_refused_naming_it(tmp_path):
    """Cut after any whole entry, the lock was valid YAML holding fewer anchors, and D405 checked merge dates against
    the floors left with nothing said. Every cut after `opened:` is now an error naming the file and what to do."""
    from dossier.opened import OpenedError, read_anchors

    text = _opened_lock(tmp_path)
    assert [a.pr for a in read_anchors(tmp_path)] == [100, 110, 120, 130]
    lock = tmp_path / "cards" / "opened.lock"
    start = text.index("opened:\n") + len("opened:\n")
    cuts = [i + 1 for i, ch in enumerate(text) if ch == "\n" and start <= i + 1 < len(text)]
    assert len(cuts) == 5
    for cut in cuts:
        lock.write_text(text[:cut])
        with pytest.raises(OpenedError, match=r"^cards/opened\.lock: no closing `anchors:` count.*cut short.*"
                                              r"git checkout -- cards/opened\.lock"):
            read_anchors(tmp_path)


def test_an_opened_lock_that_lost_an_anchor_is_d405_and_recording_keeps_the_lock(tmp_path):
    from dossier.opened import Anchor, OpenedError, record_opened

    root = write_project(tmp_path, [make_card(135, merged_at=dt.date(2026, 1, 5))])
    text = _opened_lock(root).replace("  130: {opened: 2026-01-14, source: https://x/pull/130}\n", "")
    lock = root / "cards" / "opened.lock"
    lock.write_text(text)
    found = [d for d in run_lint(LintContext(Project.load(root)), select=["D405"])]
    assert [d.code for d in found] == ["D405"]
    assert "opened lists 3 anchor(s) where `anchors:` counts 4: the lock is cut short or was edited by hand, and " \
           "anchors are lost" in found[0].message
    with pytest.raises(OpenedError):
        record_opened(root, {200: Anchor(200, dt.date(2026, 2, 1), "y")})
    assert lock.read_text() == text
    lock.write_text(text.replace("anchors: 4", "anchors: 3"))  # the count set after a removal by hand: accepted
    found = [d for d in run_lint(LintContext(Project.load(root)), select=["D405"])]
    assert [d.code for d in found] == ["D405"] and "#130" not in found[0].message  # the floor of #120 holds now


def test_the_committed_opened_lock_is_what_recording_writes():
    from dossier.opened import read_anchors

    root = Path(__file__).resolve().parents[2]
    text = (root / "cards" / "opened.lock").read_text()
    assert text.endswith(f"anchors: {len(read_anchors(root))}\n")


# ---- a card cut exactly at a line end: still YAML, its last text, items or field gone from the manual ----

RUNTIME_NONE = ("runtime:\n  none: >-\n    Whole-model bring-up (model file, config, state pools); there is no single\n"
                "    kernel to reproduce here, and the Triton helpers it added are referenced\n"
                "    under the projection cards.\n")


def _lint_d1(root: Path) -> list:
    return [d for d in run_lint(LintContext(Project.load(root)), select=["D1"])]


def test_a_card_cut_at_a_line_end_inside_its_last_text_block_is_d100(project_dir):
    """`none: >-` cut after a whole line was a valid card: the manual said 'there is no single' and lint passed."""
    card = project_dir / "cards" / "100.yaml"
    text = card.read_text()
    text = text[:text.index("\nruntime:") + 1] + RUNTIME_NONE
    card.write_text(text)
    assert _lint_d1(project_dir) == []
    for dropped in (2, 1):  # the block's first line kept, its first two
        cut = "".join(text.splitlines(keepends=True)[:-dropped])
        card.write_text(cut)
        found = _lint_d1(project_dir)
        assert [(d.code, d.line) for d in found] == [("D100", cut.count("\n"))], [d.text() for d in found]
        assert "file ends mid-sentence, after" in found[0].message and "a copy cut at a line end" in found[0].message
        result = runner.invoke(app, ["render", "--root", str(project_dir)])
        assert result.exit_code == 1 and "D100" in result.output, result.output
        assert not (project_dir / "skills").exists()


def _git(root: Path, *args: str) -> None:
    import subprocess

    subprocess.run(["git", "-C", str(root), "-c", "user.email=t@t", "-c", "user.name=t", *args], check=True,
                   capture_output=True)


def test_a_card_that_is_its_committed_version_cut_after_a_whole_line_is_d100(project_dir):
    """Cut after a whole correction, the card was still valid and the manual lost the corrections past the cut with
    nothing said: where git holds the card, a file that is its committed text cut short is refused, naming it."""
    card = project_dir / "cards" / "100.yaml"
    text = card.read_text() + ("corrections:\n  - The earlier manual filed this PR under loading; it is a decode fix.\n"
                               "  - The earlier manual gave it no runtime test; runtime.gdn pins the layout.\n")
    card.write_text(text)
    _git(project_dir, "init", "-q")
    _git(project_dir, "add", "-A")
    _git(project_dir, "commit", "-qm", "cards")
    assert _lint_d1(project_dir) == []
    lines = text.splitlines(keepends=True)
    card.write_text("".join(lines[:-1]))  # the last correction gone
    found = _lint_d1(project_dir)
    assert [(d.code, d.file) for d in found] == [("D100", "cards/100.yaml")], [d.text() for d in found]
    assert f"file is its committed version (git HEAD) cut after line {len(lines) - 1} of {len(lines)}" \
        in found[0].message
    card.write_text("".join(lines[:-3]))  # the whole optional field gone
    assert [d.code for d in _lint_d1(project_dir)] == ["D100"]
    result = runner.invoke(app, ["render", "--root", str(project_dir)])
    assert result.exit_code == 1 and "cut after line" in _flat(result)
    card.write_text("".join(lines[:-2] + lines[-1:]))  # an item removed inside the list is an edit, not a cut
    assert _lint_d1(project_dir) == []
    _git(project_dir, "commit", "-qam", "one correction less")  # and a shorter card once committed is the card
    card.write_text("".join(lines[:-3]))
    assert [d.code for d in _lint_d1(project_dir)] == ["D100"]
    _git(project_dir, "commit", "-qam", "no corrections")
    assert _lint_d1(project_dir) == []


# ---- a release-cache source cut short: still Python, and every verdict read from it wrong ----

MODULE = "class Model:\n    def forward(self, x):\n        return x\n\n\ndef fused_split(x):\n    return x\n"


def _synced(tmp_path: Path) -> Path:
    """Two releases as `releases sync` leaves them (its extraction and record, without pip)."""
    import json

    from dossier.releases import INDEX, INDEX_SHA, RECORD, _sha256, extract
    from tests.dossier.release_support import make_wheel

    cache = tmp_path / "cache"
    args = 'def add(parser):\n    parser.add_argument("--tp-size", type=int)\n'
    for version, extra in (("0.1.0", ""), ("0.1.1", "\n\ndef extra():\n    pass\n")):
        wheel = make_wheel(tmp_path / "wheels", version, {"srt/model.py": MODULE + extra, "srt/server_args.py": args})
        built, files = extract(wheel, cache / version)
        (cache / version / RECORD).write_text(json.dumps({"version": version, "built": built, "files": files,
                                                          INDEX_SHA: _sha256(cache / version / INDEX)}))
    return cache


@pytest.mark.parametrize("cut", ["line end", "mid-line", "deleted", "edited"])
def test_a_release_source_cut_short_is_refused_by_name_wherever_it_is_read(tmp_path, cut):
    """A module of the release cache cut after `class Model` (still Python) made every card whose code sat past the
    cut 'removed' in that release. Sync now records each source's size and sha256 (files.json); reading one that
    differs stops the command with the file's path and the sync that restores it."""
    from dossier.releases import DamagedRelease, synced
    from dossier.source_tree import SourceTree

    cache = _synced(tmp_path)
    release = cache / "0.1.0"
    assert (release / "files.json").is_file()
    path = release / "python/sglang/srt/model.py"
    tree = SourceTree.release(synced(cache)[0])
    assert tree.text("python/sglang/srt/model.py") == MODULE
    if cut == "deleted":
        path.write_text(MODULE.replace("x", "y"))  # the same size, other bytes
    elif cut == "edited":
        path.write_text(MODULE + "# a local note\n")
    else:
        path.write_text(MODULE[:MODULE.index("def fused_split")] if cut == "line end" else MODULE[:-5])
    for read in (lambda t: t.text("python/sglang/srt/model.py"), lambda t: t.texts, lambda t: t.search("fused_split")):
        with pytest.raises(DamagedRelease, match=rf"^release cache: {path} (is \d+ bytes where the wheel's copy was "
                                                  rf"{len(MODULE)}|differs from the wheel's copy).*remove {release} "
                                                  r"and run `dossier releases sync --cache-dir "):
            read(SourceTree.release(synced(cache)[0]))


def test_a_damaged_release_stops_the_command_with_one_error_line(tmp_path, monkeypatch):
    cache = _synced(tmp_path)
    (cache / "0.1.1/python/sglang/srt/server_args.py").write_text("def add(parser):\n")
    root = write_project(tmp_path / "p", [make_card(100)])
    monkeypatch.setenv("DOSSIER_RELEASES", str(cache))
    result = runner.invoke(app, ["releases", "surface", "--root", str(root)])
    assert result.exit_code == 2 and "error: release cache: " in result.output and "server_args.py is 17 bytes" in \
        _flat(result), result.output
    assert "Traceback" not in result.output and "D000" not in result.output


def test_a_release_synced_before_sizes_were_recorded_is_still_refused_when_a_source_ends_mid_line(tmp_path):
    """No files.json (a cache synced by an older dossier): a source that ends mid-line is cut (no source of the 38
    real releases does); one cut at a line end cannot be told from a whole one there."""
    import json

    from dossier.releases import DamagedRelease, synced
    from dossier.source_tree import SourceTree

    cache = _synced(tmp_path)
    (cache / "0.1.0" / "files.json").unlink()
    record = json.loads((cache / "0.1.0" / "release.json").read_text())
    del record["files_json_sha256"]  # as an older sync wrote it
    (cache / "0.1.0" / "release.json").write_text(json.dumps(record))
    path = cache / "0.1.0/python/sglang/srt/model.py"
    path.write_text(MODULE[:-5])
    with pytest.raises(DamagedRelease, match="model.py ends mid-line, after '    retu'"):
        SourceTree.release(synced(cache)[0]).text("python/sglang/srt/model.py")
    path.write_text(MODULE[:MODULE.index("def fused_split")])
    assert "fused_split" not in SourceTree.release(synced(cache)[0]).text("python/sglang/srt/model.py")


# ---- output places that cannot be written: one line naming what is in the way, nothing half-written ----

DIFF = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n"


@pytest.mark.parametrize("block,said", [
    ("entry-file", "cache/100: a file is in the way where a directory is needed; move it away"),
    ("diff-folder", "cache/100/pr.diff: a directory is in the way where a file is written; move it away"),
])
def test_a_fetch_cache_entry_that_cannot_be_written_names_what_is_in_the_way(project_dir, block, said):
    """A file where the entry's folder goes said 'File exists'; a folder where pr.diff goes named a hidden staging
    file (.pr.diff.<sha256>) as the one in the way."""
    cache = project_dir / "cache"
    cache.mkdir()
    if block == "entry-file":
        (cache / "100").write_text("x\n")
    else:
        (cache / "100" / "pr.diff").mkdir(parents=True)
    (project_dir / "d.diff").write_text(DIFF)
    result = runner.invoke(app, ["fetch", "100", "--import", str(project_dir / "d.diff"), "--cache-dir", str(cache),
                                 "--root", str(project_dir)])
    assert result.exit_code == 1 and f"{cache.parent}/{said}" in _flat(result), result.output
    assert ".pr.diff." not in result.output


def test_a_file_in_the_way_of_an_output_folder_is_named_with_the_path_it_blocks(tmp_path):
    """`regress --results FILE` said 'FILE/cpu: Not a directory'; the blocker is named, and what it blocks."""
    from dossier.files import check_writable, write_failure

    (tmp_path / "results").write_text("x\n")
    with pytest.raises(OSError) as caught:
        check_writable(tmp_path / "results" / "cpu")
    assert write_failure(caught.value) == (f"{tmp_path}/results: a file is in the way where a directory is needed (on "
                                           f"the way to {tmp_path}/results/cpu); move it away")
    assert (tmp_path / "results").read_text() == "x\n"


# ---- one PR under two keys of a lock: YAML tells 100 from "100", and int() made them one PR, either kept ----

def test_an_opened_lock_key_that_is_no_plain_pr_number_is_refused(tmp_path):
    from dossier.opened import OpenedError, read_anchors

    (tmp_path / "cards").mkdir()
    lock = tmp_path / "cards" / "opened.lock"
    for keys in ('100: {opened: 2025-01-02, source: x}\n  "100": {opened: 2025-03-02, source: y}\n',
                 '"100": {opened: 2025-01-02, source: x}\n  110: {opened: 2025-01-03, source: y}\n'):
        lock.write_text(f"version: 1\nopened:\n  {keys}anchors: 2\n")
        with pytest.raises(OpenedError, match=r"opened.lock: opened: key '100' is not a PR number written as "
                                              r"recording writes it \(an unquoted whole number\)"):
            read_anchors(tmp_path)


def test_release_evidence_under_a_quoted_pr_key_is_refused(tmp_path):
    from dossier.locks import LockError
    from dossier.release_evidence import read_release_lock

    (tmp_path / "cards").mkdir()
    history = "{events: [], today: null}"
    (tmp_path / "cards" / "evidence.lock").write_text(
        "version: 1\ncards: {}\nreleases:\n  built:\n  - ['0.5.1', '2025-08-23']\n  cards:\n"
        f"    100: {history}\n    '100': {history}\n")
    with pytest.raises(LockError, match=r"evidence.lock: releases: cards: key '100' is not a PR number"):
        read_release_lock(tmp_path)


def test_a_release_index_deleted_or_cut_is_refused_not_taken_for_an_old_release(tmp_path):
    """Without its files.json a release read as one synced before sizes were recorded: nothing checked. Such a
    release is not complete (listed as incomplete, fetched again by sync); one taken before that check still stops
    its reader."""
    from dossier.releases import DamagedRelease, incomplete, synced
    from dossier.source_tree import SourceTree

    cache = _synced(tmp_path)
    release = synced(cache)[0]
    index = cache / "0.1.0" / "files.json"
    text = index.read_text()
    for damage, said in ((lambda: index.write_text(text[:text.rindex(",")] + "}\n"), "is not the index sync wrote"),
                         (index.unlink, "is missing, though release.json records it")):
        damage()
        assert "0.1.0" not in [r.version for r in synced(cache)]
        assert dict((p.name, why) for p, why in incomplete(cache))["0.1.0"].startswith(f"files.json {said}")
        with pytest.raises(DamagedRelease, match=f"files.json {said}"):
            SourceTree.release(release).text("python/sglang/srt/model.py")


def test_an_installed_sglang_file_cut_short_is_refused_by_name_against_pips_record(tmp_path):
    """drift, lint and for-version read today's installed SGLang: a module cut short there (still Python) gave
    current cards a 'missing' verdict. pip's RECORD holds each file's size and sha256; a file read that differs
    stops the command, naming it and the reinstall."""
    from dossier.releases import DamagedSource
    from dossier.source_tree import SourceTree
    from tests.dossier.factories import record_installed, sglang_package

    pkg = sglang_package(tmp_path / "site", {"srt/model.py": MODULE})
    info = record_installed(pkg).parent
    assert SourceTree.at(pkg).text("python/sglang/srt/model.py") == MODULE
    (pkg / "srt" / "model.py").write_text(MODULE[:MODULE.index("def fused_split")])
    with pytest.raises(DamagedSource, match=rf"^SGLang package: {pkg}/srt/model.py is \d+ bytes where {info}/RECORD "
                                            rf"records {len(MODULE)}: .*pip install --force-reinstall --no-deps "
                                            r"sglang==9\.9\.9"):
        SourceTree.at(pkg).search("fused_split")
    root = write_project(tmp_path / "p", [make_card(100)])
    result = runner.invoke(app, ["drift", "--root", str(root), "--sglang-src", str(pkg)])
    assert result.exit_code == 2 and "error: SGLang package: " in result.output, result.output
