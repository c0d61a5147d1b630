"""Release evidence on tiny synthetic releases: which release diff adds (or removes) each card's line,
shipped-in / removed-in, the date and fragment findings (D312-D316), and how render and show name it."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dossier.cli import app
from dossier.evidence import LockError, read_lock
from dossier.file_moves import Move
from dossier.project import Project
from dossier.release_evidence import ADDED, RELEASE_DIFF, RELEASE_SCAN, REMOVED, read_release_lock
from dossier.render.documents import skill_dir
from dossier.source_tree import SourceTree
from tests.dossier.factories import make_card, write_project
from tests.dossier.release_support import write_release
from tests.dossier.yaml_support import load_yaml

runner = CliRunner()
MODEL = "srt/models/qwen3_next.py"
MOVED = "kernels/ops/gating.py"
OLD_GATING = "srt/layers/gating.py"
NORM = "srt/layers/norm.py"
BASE = "class Model:\n    def forward(self, x):\n        return x\n"

RELEASES = [  # (version, built, files)
    ("0.1.0", "2026-01-05", {NORM: "x = a / (sqrt(sum(q)) + eps)\n", MODEL: BASE, OLD_GATING: "def old_gate():\n    pass\n",
                             "srt/server_args.py": "mixed = False\nif self.enable_thing:\n    pass\n"}),
    ("0.1.0.post1", "2026-01-20", {NORM: "x = a / (sqrt(sum(q)) + eps)\n", MODEL: BASE + "    def fused_widget(self):\n        return 1\n",
                                   OLD_GATING: "def old_gate():\n    pass\n",
                                   "srt/server_args.py": "mixed = False\nif self.enable_thing:\n    pass\n"}),
    ("0.2.0", "2026-02-20", {NORM: "x = a / sqrt(sum(q) + eps)\n", MODEL: BASE + "    def fused_widget(self):\n        return 1\n"
                                           "    def split_heads(self):\n        return 2\n",
                             OLD_GATING: "def old_gate():\n    pass\n",
                             "srt/server_args.py": "if self.enable_thing:\n    pass\n"}),
    ("0.3.0", "2026-04-01", {NORM: "if True:\n    x = a / sqrt(sum(q) + eps)\n", MODEL: BASE + "    def split_heads(self):\n        return 2\n",
                             MOVED: "def old_gate():\n    pass\ndef gate_v2():\n    pass\n",
                             "srt/arg_groups/overrides.py": "def moved_setting():\n    pass\n",
                             "srt/server_args.py": "if self.enable_thing:\n    pass\n"}),
]


def kf(match: str, file: str = f"python/sglang/{MODEL}") -> dict:
    return {"file": file, "match": match, "explain": "The line this card is about, in our own words."}


CARDS = {
    # shipped in 0.1.0.post1, removed in 0.3.0 (superseded by #101)
    100: make_card(100, merged_at=dt.date(2026, 1, 10), status="superseded", superseded_by=[101],
                   key_fragment=kf("def fused_widget(")),
    101: make_card(101, merged_at=dt.date(2026, 2, 1), key_fragment=kf("def split_heads(")),
    # merged after the release that already shipped its line: a date error
    102: make_card(102, merged_at=dt.date(2026, 1, 25), key_fragment=kf("def fused_widget(")),
    # the match is in the first release, long before the merge: not distinctive
    103: make_card(103, merged_at=dt.date(2026, 3, 1), key_fragment=kf("def forward(")),
    # merged, never in any release although one was built weeks later
    104: make_card(104, merged_at=dt.date(2026, 1, 6), key_fragment=kf("def never_shipped(")),
    # a removal: present before the window, gone after it
    105: make_card(105, merged_at=dt.date(2026, 2, 10),
                   key_fragment=kf("mixed = False", "python/sglang/srt/server_args.py")),
    # the key file moved: followed into the new path (whole-tree search)
    106: make_card(106, merged_at=dt.date(2026, 3, 15),
                   key_fragment=kf("def gate_v2(", f"python/sglang/{OLD_GATING}")),
    # never merged: its match must never ship
    107: make_card(107, state="closed", merged_at=None, status="candidate", key_fragment=kf("def split_heads(")),
    108: make_card(108, state="open", merged_at=None, status="candidate", key_fragment=kf("def not_yet(")),
    # an unmerged PR's match that every release since the first scanned has: nothing to attribute
    119: make_card(119, state="closed", merged_at=None, status="candidate", key_fragment=kf("def forward(")),
    # no source holds these unmerged PRs' lines: their explains declare the match a pointer to existing code
    120: make_card(120, state="closed", merged_at=None, status="adjacent", key_fragment={
        **kf("def fused_widget("), "explain": "Unverified: fused_widget is the function the PR meant to change."}),
    121: make_card(121, state="open", merged_at=None, status="candidate", key_fragment={
        **kf("def no_such_code("), "explain": "Unverified: no_such_code names nothing any release holds."}),
    # reverted by #110 before the next release was built: need not ship
    109: make_card(109, merged_at=dt.date(2026, 3, 2), status="reverted", superseded_by=[110],
                   key_fragment=kf("def reverted_soon(")),
    110: make_card(110, merged_at=dt.date(2026, 3, 3), key_fragment=kf("def split_heads(")),
    # a fix that shipped in 0.3.0, to a file 0.2.0 does not have
    # never shipped as written, but the behaviour is where its `today` says, in a release in time
    113: make_card(113, merged_at=dt.date(2026, 1, 6), key_fragment={
        **kf("def rewritten_before_release("), "today": {"file": f"python/sglang/{MODEL}", "match": "def split_heads("}}),
    # landed in a file of another name (server_args.py split up): found in the whole tree after the merge
    114: make_card(114, merged_at=dt.date(2026, 3, 10),
                   key_fragment=kf("def moved_setting(", "python/sglang/srt/server_args.py")),
    # the same text in an unrelated file before the merge is another line: not this card's
    115: make_card(115, merged_at=dt.date(2026, 3, 1), key_fragment=kf("def forward(", "python/sglang/srt/other.py")),
    # its window's diff modifies a line carrying the (older) text: that added line is the evidence
    116: make_card(116, merged_at=dt.date(2026, 2, 1), key_fragment=kf("sum(q)", f"python/sglang/{NORM}")),
    # its window only re-indents the line, which 0.2.0 already shipped: a date finding
    117: make_card(117, merged_at=dt.date(2026, 3, 1), key_fragment=kf("sum(q) + eps", f"python/sglang/{NORM}")),
    # the text shipped two releases before the merge: not distinctive rather than a date slip
    118: make_card(118, merged_at=dt.date(2026, 4, 10), key_fragment=kf("sum(q) + eps", f"python/sglang/{NORM}")),
    # a key file outside the package: no wheel holds it, so the releases say nothing
    112: make_card(112, merged_at=dt.date(2026, 1, 6), key_fragment=kf("DEEPEP_COMMIT=abc", "docker/Dockerfile")),
    111: make_card(111, title="Fix a wrong gate value in the moved kernel", merged_at=dt.date(2026, 3, 20),
                   key_fragment=kf("def gate_v2(", f"python/sglang/{OLD_GATING}")),
}
for _card in CARDS.values():  # a card lists its key file among the PR's files (D320)
    if _card["key_fragment"]["file"] not in _card["files"]["runtime"]:
        _card["files"]["runtime"].append(_card["key_fragment"]["file"])


def released_project(tmp_path: Path, monkeypatch, cards: list[dict] | None = None) -> tuple[Path, Path]:
    """(a project of ``cards``, CARDS by default; a release cache of RELEASES), on 2026-04-01."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1775001600")  # 2026-04-01
    cache = tmp_path / "releases"
    for version, built, files in RELEASES:
        write_release(cache, version, built, files)
    root = write_project(tmp_path / "proj", list(CARDS.values()) if cards is None else cards)
    return root, cache


@pytest.fixture
def setup(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    return released_project(tmp_path, monkeypatch)


def verify(root: Path, cache: Path, *args: str):
    return runner.invoke(app, ["releases", "verify", "--cache-dir", str(cache), "--root", str(root), *args])


def lint(root: Path, *args: str):
    return runner.invoke(app, ["lint", "--root", str(root), *args])


def test_verify_records_release_diffs_with_versions_dates_and_file_hashes(setup):
    root, cache = setup
    result = verify(root, cache, "--record")
    assert result.exit_code == 1, result.output  # some cards have findings
    lock = read_release_lock(root)
    assert list(lock.built) == ["0.1.0", "0.1.0.post1", "0.2.0", "0.3.0"]
    h = lock.cards[100]
    added = next(e for e in h.events if e.change == ADDED)
    assert (added.old.version, added.new.version, added.new.built) == ("0.1.0", "0.1.0.post1", "2026-01-20")
    assert added.file == f"python/sglang/{MODEL}" and added.lines == (4,)
    new_file = cache / "0.1.0.post1" / "python/sglang" / MODEL
    assert added.new.sha256 == hashlib.sha256(new_file.read_bytes()).hexdigest()
    assert added.old.sha256 == hashlib.sha256((cache / "0.1.0/python/sglang" / MODEL).read_bytes()).hexdigest()
    removed = next(e for e in h.events if e.change == REMOVED)
    assert (removed.old.version, removed.new.version, removed.lines) == ("0.2.0", "0.3.0", (4,))
    raw = load_yaml((root / "cards/evidence.lock").read_text())
    assert raw["releases"]["cards"][100]["kind"] == RELEASE_DIFF
    assert raw["releases"]["cards"][103]["kind"] == RELEASE_SCAN
    assert raw["cards"] == {}  # the PR-diff section is there, empty
    assert "#100   merged current" not in result.output and "removed in 0.3.0" in result.output


def test_a_reverts_restored_line_is_not_judged_undistinctive(tmp_path, monkeypatch):
    """A revert's key line is one it puts back, which releases before its merge held (#31622 restored the line
    #31369 had replaced, both between two builds): no D314 there, while the same line on another card is one."""
    cards = [make_card(n, title=title, merged_at=dt.date(2026, 3, 1), key_fragment=kf("def forward("))
             for n, title in ((130, 'Revert "Fix the forward (#129)"'), (131, "Fix the forward"),
                              (132, "Fix flaky forward tests by reverting the slot release"))]
    root, cache = released_project(tmp_path, monkeypatch, cards)
    # releases verify judges the revert as lint does (it printed D314 for #31622 and exited 1 on the project)
    out = verify(root, cache, "--record").output
    assert "#131 " in out and "D314 not distinctive" in out.split("#131 ", 1)[1].split("\n#", 1)[0], out
    # a title that says it reverts (#18910: "Fix flaky ... by reverting mamba slot release") is a revert's too
    assert not any("D314" in out.split(f"#{n} ", 1)[1].split("\n#", 1)[0] for n in (130, 132)), out
    out = lint(root, "--verbose").output
    assert re.search(r"cards/131\.yaml:\S+ D314 ", out) and not re.search(r"cards/13[02]\.yaml:\S+ D314 ", out), out


def test_lint_judges_dates_and_fragments_from_the_lock(setup):
    root, cache = setup
    verify(root, cache, "--record")
    out = lint(root, "--verbose").output
    codes = {(line.split(":")[0].rsplit("/", 1)[-1], line.split()[1]) for line in out.splitlines()
             if line.startswith("cards/") and " D3" in line}
    assert ("102.yaml", "D312") in codes  # merged 2026-01-25, shipped in 0.1.0.post1 built 2026-01-20
    assert ("103.yaml", "D314") in codes  # already in 0.1.0
    # not in 0.1.0.post1 nor 0.2.0 (built > 14 days later), and no PR diff holds it: nothing shows the line existed
    assert ("104.yaml", "D340") in codes and ("104.yaml", "D313") not in codes
    assert ("107.yaml", "D315") in codes  # a closed PR's line is in 0.2.0 and 0.3.0
    assert not {c for c in codes if c[0] in ("100.yaml", "101.yaml", "105.yaml", "106.yaml")}
    assert {c for c in codes if c[0] == "109.yaml"} == {("109.yaml", "D301")}  # reverted unshipped: no D313
    assert " D316 " not in out  # the recorded evidence matches every card
    assert 112 not in read_release_lock(root).cards and ("112.yaml", "D313") not in codes
    assert ("113.yaml", "D313") not in codes  # its `today` place shipped in 0.2.0
    assert not {c for c in codes if c[0] in ("114.yaml", "116.yaml")}
    assert ("117.yaml", "D312") in codes and ("118.yaml", "D314") in codes
    assert ("119.yaml", "D315") not in codes
    # a declared pointer arriving in a release is not the PR shipping (an undeclared match is: #107);
    # a pointer to code no release holds points at nothing; neither is proven (D301 stays)
    assert {c for c in codes if c[0] == "120.yaml"} == {("120.yaml", "D301")}
    assert {c for c in codes if c[0] == "121.yaml"} == {("121.yaml", "D315"), ("121.yaml", "D301")}
    # 115 names other.py, which never held its match; the model file it lists does (D318)
    # and, current with its line in no release at all, its status is wrong too (D321)
    assert {c for c in codes if c[0] == "115.yaml"} == {("115.yaml", "D340"), ("115.yaml", "D301"), ("115.yaml", "D318"),
                                                        ("115.yaml", "D321")}
    # D301 only where neither kind of evidence exists
    unverified = {f for f, code in codes if code == "D301"}
    assert "100.yaml" not in unverified and "105.yaml" not in unverified and "108.yaml" in unverified


def test_a_line_the_prs_diff_holds_and_no_release_shipped_is_only_a_warning(setup):
    """D340 is for a line nothing holds: the PR's diff proves one rewritten before any release (D313 warns)."""
    from tests.dossier.evidence_support import put

    root, cache = setup
    verify(root, cache, "--record")
    path = f"python/sglang/{MODEL}"
    put(root / ".dossier" / "cache", 104, f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n"
        "@@ -1,3 +1,5 @@\n class Model:\n     def forward(self, x):\n         return x\n"
        "+    def never_shipped(self):\n+        return 3\n", merged_at="2026-01-06T08:00:00Z")
    out = lint(root, str(root / "cards" / "104.yaml"), "--verbose").output
    assert " D313 " in out and " D340 " not in out, out


def test_a_removal_and_a_moved_file_are_proven(setup):
    root, cache = setup
    verify(root, cache, "--record")
    project = Project.load(root)
    lock = read_release_lock(root)
    removal = lock.verdict(project.card(105))
    assert removal.kind == RELEASE_DIFF and removal.evidence.change == REMOVED
    assert (removal.evidence.old.version, removal.evidence.new.version) == ("0.1.0.post1", "0.2.0")
    # the code a pointer names left in 0.3.0: that is not the closed PR's change being removed
    assert lock.verdict(project.card(120)).removed is None
    moved = lock.verdict(project.card(106))
    assert moved.kind == RELEASE_DIFF and moved.evidence.file == f"python/sglang/{MOVED}"
    assert moved.shipped.new.version == "0.3.0"


def test_fixing_merged_at_clears_the_date_finding_without_a_new_scan(setup):
    root, cache = setup
    verify(root, cache, "--record")
    card = yaml.safe_load((root / "cards/102.yaml").read_text())
    card["merged_at"] = dt.date(2026, 1, 12)
    (root / "cards/102.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    assert "cards/102.yaml" not in lint(root, "--select", "D312").output


def test_render_and_show_name_the_kind_and_the_releases(setup):
    root, cache = setup
    verify(root, cache, "--record")
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    history = (skill_dir(Project.load(root)) / "references/pr-history.md").read_text()
    section = history.split("### #100 ")[1].split("### #")[0]
    assert "**Evidence (release diff, not the PR's own diff).**" in section
    assert "PR diff)" not in section
    assert ("Shipped in SGLang 0.1.0.post1 ([built 2026-01-20](by-release.md#release-0-1-0-post1)), `qwen3_next.py` "
            "line(s) 4; removed in 0.3.0 ([built 2026-04-01](by-release.md#release-0-3-0))." in section)
    shown = runner.invoke(app, ["show", "105", "--root", str(root)]).output
    assert "release diff, not the PR's own diff" in " ".join(shown.split())
    assert "removed line(s)" in " ".join(shown.split())


def test_render_says_shipped_once_when_the_proving_release_first_ships_it(setup):
    root, cache = setup
    verify(root, cache, "--record")
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    history = (skill_dir(Project.load(root)) / "references/pr-history.md").read_text()
    sections = history.split("\n### #")[1:]
    folded = [s for s in sections if ", the first release shipping it; checked" in s]
    assert folded, "no card whose proving release is its first shipping release"
    assert all("**Releases.**" not in s for s in folded)
    assert any("**Releases.**" in s for s in sections)  # a removal still gets its own line


def test_pr_diff_evidence_keeps_the_first_shipping_release_the_release_proof_named(setup):
    """Recording the PR's own diff replaced the release-diff proof, whose line was the only one naming the first
    release shipping the change: 126 cards would have lost that fact silently. The releases line comes back."""
    from dossier.evidence import LockEntry, key_sha, write_lock

    root, cache = setup
    verify(root, cache, "--record")
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    history = (skill_dir(Project.load(root)) / "references/pr-history.md").read_text()
    folded = [s for s in history.split("\n### #")[1:] if ", the first release shipping it; checked" in s]
    pr = int(folded[0].split()[0])
    shipped = folded[0].split("between SGLang ")[1].split(" and ")[1].split(" (")[0]
    card = Project.load(root).card(pr)
    write_lock(root, {pr: LockEntry(key_sha(card.key_fragment), "b" * 64, "github", card.key_fragment.file, "new",
                                    (4,), "2026-04-02", 1, 1, 0)})
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    history = (skill_dir(Project.load(root)) / "references/pr-history.md").read_text()
    section = history.split(f"\n### #{pr} ")[1].split("\n### #")[0]
    assert "**Evidence (PR diff).**" in section and "release diff, not the PR's own diff" not in section
    assert f"**Releases.** Shipped in SGLang {shipped} " in section, section


def test_a_changed_fragment_makes_the_release_evidence_stale(setup):
    root, cache = setup
    verify(root, cache, "--record")
    card = yaml.safe_load((root / "cards/101.yaml").read_text())
    card["key_fragment"]["match"] = "return 2"
    (root / "cards/101.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    out = lint(root, "--verbose").output
    assert "D316 release evidence of #101 was recorded on 2026-04-01 for an earlier key fragment" in out
    assert "cards/101.yaml" in out.split("D301")[0] or "101.yaml" in out  # unverified again


def test_lint_record_keeps_the_releases_section(setup):
    root, cache = setup
    verify(root, cache, "--record")
    before = read_release_lock(root)
    assert lint(root, "--record").exit_code in (0, 1)
    assert read_release_lock(root) == before
    assert read_lock(root) == {}


def test_verify_without_releases_is_a_usage_error(tmp_path):
    root = write_project(tmp_path / "p", [make_card(100)])
    result = verify(root, tmp_path / "empty")
    assert result.exit_code == 2 and "dossier releases sync" in result.output


def test_for_version_places_each_current_card(setup):
    root, cache = setup
    verify(root, cache, "--record")
    old = runner.invoke(app, ["for-version", "0.2.0", "--format", "json", "--root", str(root)])
    assert old.exit_code == 0, old.output
    data = json.loads(old.stdout)
    assert data["built"] == "2026-02-20"
    assert [r["pr"] for r in data["has"]] == [101, 105, 113, 116]  # shipped in 0.2.0 or before (105: a removal)
    assert data["has"][2]["note"].startswith("as its key_fragment.today")  # its own lines never shipped
    assert {r["pr"]: r["release"] for r in data["lacks"]} == {106: "0.3.0", 111: "0.3.0", 114: "0.3.0"}
    # without the 0.2.0 sources, the lacking fix counts as a bug 0.2.0 carries
    assert [(r["pr"], r["note"]) for r in data["exposed"]] == [(111, "fixed in 0.3.0")]
    assert data["unplaced"] == [102, 103, 104, 110, 112, 115, 117, 118]  # a finding or no release evidence: not placed
    # 0.2.0 runs #100's change, which #101 replaced later (for-version listed only current cards: it was missing)
    assert [(r["pr"], r["note"]) for r in data["replaced"]] == [(100, "replaced later by #101 (its line gone in 0.3.0)")]
    # with them, the fix is to a file 0.2.0 does not have: no exposure
    sharp = runner.invoke(app, ["for-version", "0.2.0", "--format", "json", "--cache-dir", str(cache),
                                "--root", str(root)])
    assert json.loads(sharp.stdout)["exposed"] == []
    new = json.loads(runner.invoke(app, ["for-version", "0.3.0", "--format", "json", "--root", str(root)]).stdout)
    assert {r["pr"] for r in new["has"]} == {101, 105, 106, 111, 113, 114, 116} and new["lacks"] == []
    assert new["replaced"] == []  # #100's line left in 0.3.0
    text = runner.invoke(app, ["for-version", "0.2.0", "--root", str(root)]).stdout
    assert text.startswith("SGLang 0.2.0 (release built 2026-02-20): 4 current change(s) in, 3 later")
    assert "replaced later (1): changes 0.2.0 runs that later PRs replaced" in text


def test_for_version_lists_the_later_releases_changes_no_card_covers(setup):
    """by-release.md says for-version gives its answer for one version: its 'Without a card' lines were missing."""
    root, cache = setup
    verify(root, cache, "--record")
    lanes = load_yaml((root / "cards" / "lanes.yaml").read_text())
    lanes.setdefault("answers", {})["release_notes"] = [
        {"version": "0.3.0", "note": "Verify tiles narrowed ([#106](pr-history.md#pr-106) is not it)."},
        {"version": "0.2.0", "note": "Prefill moved."}, {"version": "0.1.0.post1", "note": "A log line."}]
    (root / "cards" / "lanes.yaml").write_text(yaml.safe_dump(lanes, sort_keys=False))
    data = json.loads(runner.invoke(app, ["for-version", "0.1.0.post1", "--format", "json", "--root", str(root)]).stdout)
    assert data["lacks_without_card"] == [{"release": "0.2.0", "note": "Prefill moved."},
                                          {"release": "0.3.0", "note": "Verify tiles narrowed (#106 is not it)."}]
    text = runner.invoke(app, ["for-version", "0.2.0", "--root", str(root)]).stdout
    assert "lacks without a card (1)" in text and "  0.3.0   Verify tiles narrowed (#106 is not it)." in text
    assert "Prefill moved" not in text and "A log line" not in text  # 0.2.0 has those
    assert json.loads(runner.invoke(app, ["for-version", "0.3.0", "--format", "json", "--root", str(root)]).stdout)[
        "lacks_without_card"] == []


def test_verify_says_why_no_release_diff_proves_a_card(setup):
    """A card no release diff proves was printed as a bare `release-scan` line: now with the reason."""
    root, cache = setup
    out = verify(root, cache).stdout
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("#")}
    assert rows["#109"].endswith("[reverted: the releases lack its own lines]")
    assert "a pointer (its explain starts 'Unverified:')" in rows["#120"]


def test_verify_record_never_drops_a_release_the_cache_lacks(setup):
    """Recording from a cache that lacks a release the lock holds would drop every event through it: refused."""
    root, cache = setup
    assert verify(root, cache, "--record").exit_code == 1
    before = (root / "cards" / "evidence.lock").read_text()
    (cache / "0.1.0.post1").rename(cache.parent / "0.1.0.post1-elsewhere")
    result = verify(root, cache, "--record")
    assert result.exit_code == 2 and "lacks 1 release(s) cards/evidence.lock records (0.1.0.post1)" in result.output
    assert "scanning" not in result.output  # refused before the trees are read (13 s on the real cache)
    assert (root / "cards" / "evidence.lock").read_text() == before
    assert verify(root, cache).exit_code == 1  # without --record the scan still answers


@pytest.mark.parametrize("version", ["garbage", "../0.2.0"])
def test_for_version_refuses_what_is_not_a_version_first(setup, version):
    """One error line: no warning about a cache folder named after it, no sync command built from it."""
    root, cache = setup
    assert verify(root, cache, "--record").exit_code == 1
    result = runner.invoke(app, ["for-version", version, "--cache-dir", str(cache), "--root", str(root)])
    assert result.exit_code == 2 and result.output == f"error: not a version: {version!r}\n"


@pytest.mark.parametrize("spelled", ["v0.2.0", "0.2.0.0", "0.2", "0.2.0+cu121"])
def test_for_version_reads_a_release_spelled_another_way_as_that_release(setup, spelled):
    """v0.2.0 (a git tag), 0.2.0.0 and 0.2 are release 0.2.0 (PEP 440): they were answered as a version "not among
    the releases scanned", without its build date, and its sources in the cache were not found (the warning
    then built `releases sync --from v0.2.0`)."""
    root, cache = setup
    assert verify(root, cache, "--record").exit_code == 1
    args = ["for-version", spelled, "--root", str(root), "--cache-dir", str(cache)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0 and result.stdout.startswith("SGLang 0.2.0 (release built 2026-02-20): "), result.output
    assert "warning:" not in result.output  # its sources are in the cache
    data = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    assert data["version"] == "0.2.0" and data["built"] == "2026-02-20" and data["exposed"] == []


@pytest.mark.parametrize(("version", "lead"), [("0.3.0rc1", "0.3.0"), ("0.3.0.dev2", "0.3.0"), ("0.2.1b1", "0.2.1"),
                                             ("0.1.0.post1.dev0", "0.1.0.post1")])
def test_for_version_refuses_a_pre_release(setup, version, lead):
    """0.3.0rc1 was answered silently as the release before 0.3.0: a pre-release holds an unknown part of 0.3.0. A
    development build of a post release leads to that post release, not to the release before it."""
    root, cache = setup
    verify(root, cache, "--record")
    result = runner.invoke(app, ["for-version", version, "--root", str(root), "--cache-dir", str(cache)])
    assert result.exit_code == 2 and f"is a pre-release of {lead}:" in result.output, result.output


def test_for_version_older_than_every_release_scanned_judges_no_bug_without_its_sources(setup):
    """0.0.9 predates the first release scanned (0.1.0): the evidence cannot say a later fix's file was even there,
    so no bug is listed as exposed (it listed #111); with its sources synced, the files decide as for any version."""
    root, cache = setup
    assert verify(root, cache, "--record").exit_code == 1
    args = ["for-version", "0.0.9", "--root", str(root), "--cache-dir", str(cache)]
    data = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    assert data["exposed"] == [] and data["exposed_not_judged"].startswith("0.0.9 is older than every release")
    assert data["exposure_sharpened"] is False  # one shape whatever the answer: both keys, always
    result = runner.invoke(app, args)
    text = result.stdout
    assert "warning:" not in result.output  # no "a fix counts as an exposed bug" for a list it does not make
    assert ("exposed: not judged: 0.0.9 is older than every release scanned (the first, 0.1.0) and its sources are "
            "not in the release cache") in text
    write_release(cache, "0.0.9", "2025-12-01", {MODEL: BASE})
    data = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    assert data["exposed_not_judged"] is None and [r["pr"] for r in data["lacks"]]


@pytest.mark.parametrize("version", ["0.3.1", "0.3.0.post1", "0.4.0rc1", "1!0.1"])
def test_for_version_newer_than_every_release_scanned_is_refused(setup, version):
    """0.3.1 (after 0.3.0, the newest scanned) was answered as having every current change and carrying no bug,
    labelled "not among the releases scanned": a later release may have dropped any change, so nothing is vouched
    for: one error line (exit 2) saying why and what would answer; a local build of the newest (0.3.0+cu124) is
    that release."""
    root, cache = setup
    assert verify(root, cache, "--record").exit_code == 1
    result = runner.invoke(app, ["for-version", version, "--cache-dir", str(cache), "--root", str(root)])
    assert result.exit_code == 2 and result.stdout == "", result.output
    assert result.output.startswith(f"error: SGLang {version} is newer than every release scanned (the newest is "
                                    "0.3.0, built ") and "dossier drift --sglang-src" in result.output
    local = runner.invoke(app, ["for-version", "0.3.0+cu124", "--format", "json", "--root", str(root)])
    assert local.exit_code == 0 and json.loads(local.stdout)["lacks"] == []


def test_for_version_of_an_installed_sglang_newer_than_every_release_scanned_is_refused(setup, tmp_path, monkeypatch):
    root, cache = setup
    assert verify(root, cache, "--record").exit_code == 1
    newer = write_release(tmp_path / "site", "0.9.0", "2026-12-01", {MODEL: BASE, "version.py": "__version__ = '0.9.0'\n"})
    monkeypatch.setattr(SourceTree, "installed", classmethod(lambda cls: SourceTree.at(newer)))
    result = runner.invoke(app, ["for-version", "--root", str(root)])
    assert result.exit_code == 2 and "error: SGLang 0.9.0 is newer than every release scanned" in result.output


def test_for_version_without_release_evidence_is_a_usage_error(tmp_path):
    root = write_project(tmp_path / "p", [make_card(100)])
    result = runner.invoke(app, ["for-version", "0.5.10", "--root", str(root)])
    assert result.exit_code == 2 and "releases verify --record" in result.output


def _d213(root: Path) -> set[str]:
    out = lint(root, "--verbose").output
    return {line.split(":")[0].rsplit("/", 1)[-1] for line in out.splitlines() if " D213 " in line}


def test_release_that_shipped_the_change_grounds_the_implementation(setup, monkeypatch):
    """With the release cache synced, D213 looks the implementation's identifiers up in the release diff that first
    shipped its line, in the card's named files (#101: 0.1.0.post1 -> 0.2.0 of qwen3_next.py): its hunks and the
    functions they change, not the files whole (`forward`, which that release left alone, is not the change)."""
    root, cache = setup
    grounded = "Adds `split_heads` to the model beside `fused_widget`; the heads are split once per call instead of " \
               "twice, which the release diff of the model file shows."
    untouched = "Keeps `forward` of the model as it was and calls `forward` once per step; the heads are split " \
                "once per call instead of twice in the projection path."
    ungrounded = "Adds Model.reshape_qkvz_heads beside Model.gather_packed_rows and the interleave_groups helper; " \
                 "the heads are split once per call instead of twice in the projection path."
    for text, expected in ((grounded, set()), (untouched, {"101.yaml"}), (ungrounded, {"101.yaml"})):
        card = yaml.safe_load((root / "cards/101.yaml").read_text())
        card["implementation"] = text
        (root / "cards/101.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
        verify(root, cache, "--record")
        monkeypatch.setenv("DOSSIER_RELEASES", str(cache))
        assert _d213(root) & {"101.yaml"} == expected
        monkeypatch.delenv("DOSSIER_RELEASES")  # no release cache (CI): nothing to ground against
        assert "101.yaml" not in _d213(root)


def test_only_the_release_that_proves_the_card_grounds_it(setup, monkeypatch):
    """A release diff grounds D213 only where the release rules take it as the card's proof: not for a PR that
    never merged (#107 points at split_heads, which #101 shipped) nor for a line that shipped before the merge
    (#103's def forward). The PR that did ship the line (#101) is still judged against that release."""
    root, cache = setup
    ungrounded = "Adds Model.reshape_qkvz_heads beside Model.gather_packed_rows and the interleave_groups helper; " \
                 "the heads are split once per call instead of twice in the projection path."
    for pr in (101, 103, 107):
        card = yaml.safe_load((root / f"cards/{pr}.yaml").read_text())
        card["implementation"] = ungrounded
        (root / f"cards/{pr}.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    verify(root, cache, "--record")
    monkeypatch.setenv("DOSSIER_RELEASES", str(cache))
    assert _d213(root) & {"101.yaml", "103.yaml", "107.yaml"} == {"101.yaml"}


def test_a_current_cards_rewritten_line_is_not_called_removed():
    """A current card whose PR line later left (drift follows its `today` form) must not read as undone; a
    superseded card's, and a card whose change is itself a removal, still read "removed in"."""
    from dossier.release_evidence import Event, FileAt, Verdict, shipped_line

    def at(v: str, built: str) -> FileAt:
        return FileAt(v, built, "0" * 64)

    added = Event(ADDED, "python/sglang/x.py", (4,), at("0.1.0", "2026-01-01"), at("0.2.0", "2026-02-01"))
    left = Event(REMOVED, "python/sglang/x.py", (9,), at("0.2.0", "2026-02-01"), at("0.3.0", "2026-03-01"))
    shipped_then_left = Verdict(RELEASE_DIFF, added, added, left, ())
    assert shipped_line(shipped_then_left, current=True) == (
        "shipped in SGLang 0.2.0 (built 2026-02-01), x.py line(s) 4; its line rewritten in 0.3.0 (built 2026-03-01), "
        "the change still current in its rewritten form")
    assert shipped_line(shipped_then_left).endswith("; removed in 0.3.0 (built 2026-03-01)")
    removal = Verdict(RELEASE_DIFF, left, None, left, ())
    assert shipped_line(removal, current=True) == "removed in 0.3.0 (built 2026-03-01), x.py line(s) 9"


AWAY = "srt/mem_cache/cache.py"
AWAY_RELEASES = [  # each card's line ships, leaves for a while (rewritten), then comes back; #202's leaves again
    ("0.1.0", "2026-01-05", {AWAY: "pass\n"}),
    ("0.2.0", "2026-02-05", {AWAY: "class Cache(Base):\ndef keep():\ndef undo():\n"}),
    ("0.3.0", "2026-03-05", {AWAY: "class Cache(Mixin, Base):\ndef keep2():\ndef undo():\n"}),
    ("0.4.0", "2026-04-05", {AWAY: "class Cache(Mixin, Base):\ndef keep2():\n"}),
    ("0.5.0", "2026-05-05", {AWAY: "class Cache(Base):\ndef keep():\ndef undo():\n"}),
    ("0.6.0", "2026-06-05", {AWAY: "def keep():\ndef undo():\n"}),
]


def test_a_line_that_left_and_came_back_was_away_not_removed(tmp_path, monkeypatch):
    """A line absent for some releases and then back was not removed when it first left: the card's Releases line,
    the by-release page and for-version name the absence and, where it left again for good, only that release."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")
    cache = tmp_path / "releases"
    for version, built, files in AWAY_RELEASES:
        write_release(cache, version, built, files)
    file = f"python/sglang/{AWAY}"
    cards = [make_card(201, merged_at=dt.date(2026, 1, 20), key_fragment=kf("def keep():", file)),
             make_card(202, merged_at=dt.date(2026, 1, 20), status="superseded", superseded_by=[201],
                       key_fragment=kf("class Cache(Base):", file)),
             make_card(203, merged_at=dt.date(2026, 1, 20), status="reverted", superseded_by=[201],
                       key_fragment=kf("def undo():", file))]
    for c in cards:
        c["files"]["runtime"].append(file)
    root = write_project(tmp_path / "proj", cards)
    assert verify(root, cache, "--record").exit_code == 0
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    skill = skill_dir(Project.load(root))
    history = (skill / "references/pr-history.md").read_text()
    releases = {int(n): line for n, line in re.findall(r'<a id="pr-(\d+)"></a>.*?\*\*Releases\.\*\* (.*?)\n',
                                                       history, flags=re.S)}
    assert "its line absent from 0.3.0 to 0.4.0, back in 0.5.0" in releases[201]
    assert "rewritten" not in releases[201] and "removed" not in releases[201]  # back in the last release scanned
    assert "its line absent from 0.3.0 to 0.4.0, back in 0.5.0; removed in 0.6.0" in releases[202]
    assert "removed in 0.3.0" not in releases[202]
    assert "its line absent in 0.4.0, back in 0.5.0" in releases[203]
    page = (skill / "references/by-release.md").read_text()
    taken_out = page.split('<a id="taken-out"></a>', 1)[1]
    assert ("shipped in 0.2.0 (its line absent from 0.3.0 to 0.4.0, back in 0.5.0), its line gone in 0.6.0"
            in taken_out)
    sections = dict(re.findall(r"^## SGLang (\S+) .*?\n(.*?)(?=^## |\Z)", page, flags=re.M | re.S))
    assert "[#202]" in sections["0.6.0"] and "[#202]" not in sections["0.3.0"]

    def for_version(v: str) -> dict:
        out = runner.invoke(app, ["for-version", v, "--format", "json", "--root", str(root)])
        assert out.exit_code == 0, out.output
        return json.loads(out.stdout)

    note = {r["pr"]: r.get("note", "") for r in for_version("0.4.0")["has"]}
    assert "its line absent from 0.3.0 to 0.4.0, back in 0.5.0" in note[201]
    assert {r["pr"]: r.get("note", "") for r in for_version("0.5.0")["has"]}[201] == ""
    # the reverted change's line is in 0.3.0 and 0.5.0, not in 0.4.0: only those carry it
    exposed = {v: {r["pr"] for r in for_version(v)["exposed"]} for v in ("0.3.0", "0.4.0", "0.5.0")}
    assert exposed == {"0.3.0": {203}, "0.4.0": set(), "0.5.0": {203}}

    # D339: #202's class line changed form (a mixin) for two releases; the card's prose says nothing of it
    found = " ".join(lint(root, "--select", "D339").output.split())
    assert "cards/202.yaml" in found and "from 0.3.0 to 0.4.0 and back in 0.5.0" in found
    card = yaml.safe_load((root / "cards/202.yaml").read_text())
    card["implementation"] += " A mixin base class replaced the line from 0.3.0; 0.5.0 restored it."
    (root / "cards/202.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    assert "cards/202.yaml" not in lint(root, "--select", "D339").output


def test_by_release_page_agrees_with_for_version_at_every_release(setup):
    """references/by-release.md answers 'what does version V have' the way `dossier for-version V` does, for
    every scanned V: the cards listed under V and older releases are exactly V's `has`."""
    import re

    root, cache = setup
    verify(root, cache, "--record")
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    skill = skill_dir(Project.load(root))
    page = (skill / "references/by-release.md").read_text()
    sections = re.split(r"^## ", page, flags=re.M)[1:]
    listed = {s.split("\n")[0]: {int(n) for n in re.findall(r"^- \[#(\d+)\]", s, flags=re.M)} for s in sections}
    releases = [h for h in listed if h.startswith("SGLang ")]
    assert releases, page
    versions = [h.split()[1] for h in releases]
    assert versions == sorted(versions, key=lambda v: tuple(int(x) for x in re.findall(r"\d+", v)), reverse=True)
    for version in read_release_lock(root).built:
        data = json.loads(runner.invoke(app, ["for-version", version, "--format", "json", "--root", str(root)]).stdout)
        older = set().union(*(cards for h, cards in listed.items()
                              if h.startswith("SGLang ") and _not_newer(h.split()[1], version)))
        assert older == {r["pr"] for r in data["has"]}, version
    unplaced = listed.get("Current, but no release places them", set())
    assert unplaced == set(json.loads(runner.invoke(app, ["for-version", "0.3.0", "--format", "json", "--root",
                                                          str(root)]).stdout)["unplaced"])
    assert "(references/by-release.md)" in (skill / "SKILL.md").read_text()
    # the fixes a version lacks are the entries marked fix under newer releases
    marked = {int(n) for n in re.findall(r"^- \[#(\d+)\].* · \*\*fix\*\*", page, flags=re.M)}
    assert 111 in marked and 101 not in marked
    for version in read_release_lock(root).built:
        data = json.loads(runner.invoke(app, ["for-version", version, "--format", "json", "--root", str(root)]).stdout)
        assert {r["pr"] for r in data["exposed"] if r["note"].startswith("fixed in")} <= marked, version


def test_by_release_page_lists_merged_changes_later_reverted_or_replaced(setup):
    """A merged superseded card a release shipped is listed with the releases that shipped and dropped its line;
    a reverted card no release shipped is listed as unplaced; current cards are not; SKILL.md routes to it."""
    root, cache = setup
    verify(root, cache, "--record")
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    skill = skill_dir(Project.load(root))
    page = (skill / "references/by-release.md").read_text()
    section = page.split('<a id="taken-out"></a>', 1)[1].split("\n## ")[1]
    lines = {int(m[1]): m[0] for m in re.finditer(r"^- \[#(\d+)\].*$", section, flags=re.M)}
    assert set(lines) == {100, 109}, section
    assert "superseded by [#101]" in lines[100] and "shipped in 0.1.0.post1, its line gone in 0.3.0" in lines[100]
    assert "reverted; see [#110]" in lines[109] and "no release diff places it" in lines[109]
    assert "(references/by-release.md#taken-out)" in (skill / "SKILL.md").read_text()


def _not_newer(a: str, b: str) -> bool:
    from packaging.version import Version
    return Version(a) <= Version(b)


def test_without_release_evidence_the_page_says_so_and_skill_md_does_not_route_to_it(tmp_path):
    root = write_project(tmp_path / "p", [make_card(100)])
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    skill = skill_dir(Project.load(root))
    assert "No release evidence recorded" in (skill / "references/by-release.md").read_text()
    assert "(references/by-release.md)" not in (skill / "SKILL.md").read_text().split("## Route by symptom")[1].split("##")[0]


def test_a_current_card_whose_line_left_the_releases_needs_a_today_place(setup):
    """#100's line shipped in 0.1.0.post1 and left in 0.3.0 (superseded): marked current, lint says its line is
    gone; with a `today` place naming where the behaviour lives, it does not."""
    root, cache = setup
    path = root / "cards/100.yaml"
    card = yaml.safe_load(path.read_text())
    card.update(status="current", superseded_by=[])
    path.write_text(yaml.safe_dump(card, sort_keys=False))
    verify(root, cache, "--record")
    out = lint(root).output
    assert "100.yaml" in out and " D317 " in out and "left SGLang in 0.3.0" in out
    card["key_fragment"]["today"] = {"file": f"python/sglang/{MODEL}", "match": "def split_heads("}
    path.write_text(yaml.safe_dump(card, sort_keys=False))
    verify(root, cache, "--record")
    assert " D317 " not in lint(root).output


def test_a_release_cache_named_but_not_there_is_an_environment_error(setup, tmp_path, monkeypatch):
    root, cache = setup
    verify(root, cache, "--record")
    file = tmp_path / "a-file"
    file.write_text("x")
    for args, env in [(["--cache-dir", str(tmp_path / "typo")], None), (["--cache-dir", str(file)], None),
                      ([], str(tmp_path / "typo"))]:
        if env:
            monkeypatch.setenv("DOSSIER_RELEASES", env)
        for command in (["for-version", "0.2.0"], ["releases", "list"], ["releases", "verify"],
                        ["releases", "surface"]):
            result = runner.invoke(app, [*command, *args, "--root", str(root)])
            assert result.exit_code == 2, (command, args, result.output)
            lines = [ln for ln in result.output.splitlines() if ln.startswith("error: ")]
            assert len(lines) == 1 and ("does not exist" in lines[0] or "is not a directory" in lines[0])
            assert ("$DOSSIER_RELEASES " if env else "--cache-dir ") in lines[0]
    monkeypatch.delenv("DOSSIER_RELEASES")
    # the default folder absent is no typo: none synced, as its --help says (it said "2 when the folder does not exist")
    listed = runner.invoke(app, ["releases", "list", "--root", str(root)])
    assert listed.exit_code == 0 and "0 release(s)" in listed.stderr
    assert "the folder --cache-dir or $DOSSIER_RELEASES names" in " ".join(
        runner.invoke(app, ["releases", "list", "--help"]).output.split())
    # without a named cache, a missing release is a visible warning: the bug list is not sharpened
    result = runner.invoke(app, ["for-version", "0.2.0", "--format", "json", "--root", str(root)])
    assert result.exit_code == 0 and "warning: SGLang 0.2.0's sources are not in the release cache" in result.stderr
    assert [r["pr"] for r in json.loads(result.stdout)["exposed"]] == [111]
    sharp = runner.invoke(app, ["for-version", "0.2.0", "--cache-dir", str(cache), "--root", str(root)])
    assert "warning" not in sharp.stderr
    # a damaged copy there is not "not in the release cache": the warning says what is wrong with it
    (cache / "0.2.0" / "release.json").write_text("{not json")
    damaged = runner.invoke(app, ["for-version", "0.2.0", "--cache-dir", str(cache), "--root", str(root)])
    assert damaged.exit_code == 0 and (f"warning: SGLang 0.2.0's sources are incomplete in the release cache {cache} "
                                       f"(release.json is not valid JSON; remove {cache / '0.2.0'} first)"
                                       ) in damaged.stderr


def test_verify_leaves_out_a_release_missing_a_source_and_says_so(setup):
    """0.1.0.post1 without the model file (deleted by hand, a copy cut short) was scanned: #100's line read as
    added by 0.2.0, a release that did not add it. The release is left out, with a line saying so (with --record
    the lock then refuses to drop its history)."""
    root, cache = setup
    (cache / "0.1.0.post1" / "python" / "sglang" / MODEL).unlink()
    result = verify(root, cache)
    assert result.stderr.splitlines()[:2] == [
        f"warning: {cache / '0.1.0.post1'}: not a complete release (it holds 4 .py files, release.json records 5: one "
        "was deleted or the copy cut short, and its diffs would show changes no release made): left out of the scan, "
        f"so its changes read as the next release's; `dossier releases sync --cache-dir {cache}` syncs it again",
        f"scanning {len(CARDS)} card(s) through 3 releases (0.1.0 .. 0.3.0) in {cache}"]


def test_releases_list_names_a_release_folder_it_cannot_use(setup):
    root, cache = setup
    (cache / "0.1.0" / "release.json").write_text("{not json")
    (cache / "0.9.9").mkdir()
    result = runner.invoke(app, ["releases", "list", "--cache-dir", str(cache), "--root", str(root)])
    assert result.exit_code == 0
    assert f"warning: {cache / '0.1.0'}: not a complete release (release.json is not valid JSON)" in result.stderr
    assert f"warning: {cache / '0.9.9'}: not a complete release (no release.json)" in result.stderr
    assert not result.stdout.startswith("0.1.0 ") and ", 2 incomplete" in result.stderr


def test_a_reverted_change_whose_text_arrives_releases_later_never_shipped(tmp_path, monkeypatch):
    """#31369 (merged and reverted between two builds) read "shipped in 0.5.18" because its expression arrived there
    inside other code, and for-version listed it as a bug 0.5.20 carries. A reverted change ships in the release
    built while it stood (within SHIP_WITHIN of its merge) or not at all."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1780000000")
    cache = tmp_path / "releases"
    for version, built, files in [("0.1.0", "2026-01-05", {AWAY: "pass\n"}), ("0.2.0", "2026-02-05", {AWAY: "pass\n"}),
                                  ("0.3.0", "2026-04-05", {AWAY: "def undo():\n"})]:
        write_release(cache, version, built, files)
    file = f"python/sglang/{AWAY}"
    cards = [make_card(301, merged_at=dt.date(2026, 1, 20), status="reverted", superseded_by=[302],
                       key_fragment=kf("def undo():", file)),
             make_card(302, merged_at=dt.date(2026, 3, 20), key_fragment=kf("def undo():", file))]
    for c in cards:
        c["files"]["runtime"].append(file)
    root = write_project(tmp_path / "proj", cards)
    assert verify(root, cache, "--record").exit_code == 0
    data = json.loads(runner.invoke(app, ["for-version", "0.3.0", "--format", "json", "--root", str(root)]).stdout)
    assert 301 not in {r["pr"] for r in data["exposed"]} and 302 in {r["pr"] for r in data["has"]}
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    page = (skill_dir(Project.load(root)) / "references/by-release.md").read_text()
    line = next(ln for ln in page.splitlines() if ln.startswith("- [#301]"))
    assert "no release diff places it" in line, line


GATE, BUDGET, PREFILL = "srt/layers/gate.py", "srt/mem/cache_budget.py", "srt/layers/prefill_pick.py"
LEGACY_BUDGET = "srt/legacy/cache_budget.py"
BUDGET_CODE = "def budget(n):\n    reserved_slots_for_requests = n * 5\n    return reserved_slots_for_requests\n"
CHOOSE = "def choose(cfg):\n    if cfg.prefill_backend_given is not None:\n        return None\n"
FIX_RELEASES = [
    ("0.1.0", "2026-01-05", {GATE: "def pick(x):\n    return 'fast'\n",  # the function, written otherwise
                             LEGACY_BUDGET: BUDGET_CODE,  # the budget's code, in the file it later left
                             PREFILL: "def other():\n    pass\n"}),  # choose() comes in 0.2.0, with its bug
    ("0.2.0", "2026-02-05", {GATE: "def pick(x):\n    if x.explicit_backend is not None:\n        return None\n"
                                   "    return 'fast'\n",
                             BUDGET: BUDGET_CODE,
                             PREFILL: "def other():\n    pass\n" + CHOOSE + "    return 'flash'\n"}),
    ("0.3.0", "2026-03-05", {GATE: "def pick(x):\n    if x.explicit_backend is not None:\n        return None\n"
                                   "    if x.deterministic_inference:\n        return None\n    return 'fast'\n",
                             BUDGET: BUDGET_CODE.replace("    return", "    reserved_slots_for_requests += 1\n    return"),
                             PREFILL: "def other():\n    pass\n" + CHOOSE + "    if cfg.deterministic:\n"
                                      "        return None\n    return 'flash'\n"}),
]


def test_for_version_counts_a_fix_where_the_code_around_it_is(tmp_path):
    """A fix is a bug of V when V holds the code the fix changed, not merely its file: `for-version 0.5.12` listed a
    fix to a function 0.5.19 introduced (#35632), and dropped a fix whose file had moved since (#32184). The code
    around the fix is read from the release diff that shipped it; V having the file without that code is unsure."""
    cache = tmp_path / "releases"
    for version, built, files in FIX_RELEASES:
        write_release(cache, version, built, files)
    cards = [make_card(301, title="[Fix] Keep deterministic runs off the fast pick", merged_at=dt.date(2026, 2, 20),
                       key_fragment=kf("if x.deterministic_inference:", f"python/sglang/{GATE}")),
             make_card(302, title="Fix the budget's missing padding slot", merged_at=dt.date(2026, 2, 20),
                       key_fragment=kf("reserved_slots_for_requests += 1", f"python/sglang/{BUDGET}")),
             make_card(303, title="Fix choose() under deterministic inference", merged_at=dt.date(2026, 2, 20),
                       key_fragment=kf("if cfg.deterministic:", f"python/sglang/{PREFILL}"))]
    for c in cards:
        c["files"]["runtime"].append(c["key_fragment"]["file"])
    root = write_project(tmp_path / "proj", cards)
    assert verify(root, cache, "--record").exit_code == 0

    def bugs(version: str, *args: str) -> tuple[set[int], set[int]]:
        out = runner.invoke(app, ["for-version", version, "--format", "json", "--root", str(root), *args])
        assert out.exit_code == 0, out.output
        data = json.loads(out.stdout)
        return {r["pr"] for r in data["exposed"]}, {r["pr"] for r in data["unsure"]}

    assert bugs("0.1.0", "--cache-dir", str(cache)) == ({302}, {301})  # 303's function came later; 302's file moved
    assert bugs("0.2.0", "--cache-dir", str(cache)) == ({301, 302, 303}, set())
    text = runner.invoke(app, ["for-version", "0.1.0", "--cache-dir", str(cache), "--root", str(root)]).stdout
    assert "unsure (1): fixes whose file 0.1.0 has, but not the code around the fix" in text
    shutil.rmtree(cache / "0.2.0")  # the diff that shipped the fixes: without it, a fix's file decides, as before
    assert bugs("0.1.0", "--cache-dir", str(cache)) == ({301, 303}, set())


def test_verify_names_an_evidence_lock_that_records_the_releases_otherwise(setup):
    """A release event's lines edited by hand in evidence.lock reached pr-history ('added line(s) 99236'), and
    `releases verify` printed the real line and exited 0: nothing compared the scan with the lock."""
    import re as _re

    root, cache = setup
    assert verify(root, cache, "--record").exit_code in (0, 1)
    clean = verify(root, cache)
    assert "otherwise for" not in clean.output
    lock = root / "cards" / "evidence.lock"
    text = lock.read_text()
    edited, n = _re.subn(r"lines: \[(\d+)\]", lambda m: f"lines: [{int(m[1]) + 90000}]", text, count=1)
    assert n == 1
    lock.write_text(edited)
    result = verify(root, cache)
    assert result.exit_code == 1 and "cards/evidence.lock records these releases otherwise for #" in result.output
    assert "`dossier releases verify --record` records this scan" in result.output


def test_for_version_json_says_whether_exposure_was_judged_on_the_versions_sources(setup, tmp_path):
    """`for-version 0.5.10 --format json` gave 24 exposed without the release cache and 13 with it under the same
    keys: only a stderr warning told a tool the first list counted fixes whose file the version lacks."""
    root, cache = setup
    assert verify(root, cache, "--record").exit_code == 1
    version = sorted((p.name for p in cache.iterdir() if (p / "release.json").is_file()), key=lambda v: v)[0]
    args = ["for-version", version, "--root", str(root), "--format", "json"]
    with_sources = json.loads(runner.invoke(app, [*args, "--cache-dir", str(cache)]).stdout)
    (tmp_path / "empty").mkdir()
    without = json.loads(runner.invoke(app, [*args, "--cache-dir", str(tmp_path / "empty")]).stdout)
    assert with_sources["exposure_sharpened"] is True and without["exposure_sharpened"] is False


def test_verify_keeps_quiet_on_a_card_that_did_not_load_as_record_keeps_its_entry(setup):
    """A card failing the schema is not scanned; `record` keeps its entry while its file exists, so verify named it
    'otherwise' on every run, and `--record` could not clear it."""
    root, cache = setup
    verify(root, cache, "--record")
    card = next(p for p in sorted((root / "cards").glob("*.yaml")) if p.stem.isdigit()
                and f"  {p.stem}:" in (root / "cards" / "evidence.lock").read_text())
    card.write_text(card.read_text().replace("title:", "titel:", 1))  # fails the schema: not loaded
    assert "otherwise for" not in verify(root, cache).output


def test_a_change_whose_merge_the_card_infers_is_marked_where_its_release_is_given(setup):
    """A release-diff card whose prose says the PR's merge is inferred (its thread shows it open; a release ships the
    change) read "(0.2.0)" on the routing pages, like one GitHub records merged."""
    root, cache = setup
    card = yaml.safe_load((root / "cards/101.yaml").read_text())
    card["implementation"] += " The merge is inferred: the stored thread shows the PR open and 0.2.0 ships the line."
    (root / "cards/101.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    verify(root, cache, "--record")
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    refs = skill_dir(Project.load(root)) / "references"
    by_file = (refs / "by-file.md").read_text()
    assert "[#101](pr-history.md#pr-101) (0.2.0, merge inferred)" in by_file
    assert "[#114](pr-history.md#pr-114) (0.3.0) " in by_file  # a card saying nothing of its merge
    by_release = (refs / "by-release.md").read_text()
    assert re.search(r"- \[#101\]\(pr-history\.md#pr-101\) .*· merge inferred \(its card says why\)", by_release)
    history = (refs / "pr-history.md").read_text()
    assert "· merged (inferred) ~2026-02-01 ·" in history.split("### #101 ")[1]


def test_verify_records_the_releases_that_changed_each_file_by_file_lists(setup):
    """by-file.md said "what changed in a file between two releases is the PRs whose release lies between them",
    while releases no card covers changed the file too (qwen3_next.py in ten of them): the lock now records the
    releases that changed each listed file, and by-file names those no card of the file shipped in."""
    root, cache = setup
    verify(root, cache, "--record")
    assert read_release_lock(root).files == {  # the first release is the baseline; docker/ is in no wheel
        "python/sglang/srt/layers/gating.py": ("0.3.0",), "python/sglang/srt/layers/norm.py": ("0.2.0", "0.3.0"),
        "python/sglang/srt/models/qwen3_next.py": ("0.1.0.post1", "0.2.0", "0.3.0"),
        "python/sglang/srt/other.py": (), "python/sglang/srt/server_args.py": ("0.2.0",)}
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    lines = {line.split("`")[1]: line for line in
             (skill_dir(Project.load(root)) / "references/by-file.md").read_text().splitlines() if line.startswith("- `")}
    assert lines["python/sglang/srt/layers/norm.py"].endswith("; also changed in 0.3.0")  # #116 shipped 0.2.0's
    assert "also changed" not in lines["python/sglang/srt/server_args.py"]  # #105 dropped its line in 0.2.0
    assert "also changed" not in lines["python/sglang/srt/models/qwen3_next.py"]
    assert "also changed" not in lines["docker/Dockerfile"] and "recorded" not in lines["docker/Dockerfile"]


def _before_seals(lock: str) -> str:
    """evidence.lock as an older dossier wrote it: no seal of the releases section (D341 judges a sealed one)."""
    return "".join(line for line in lock.splitlines(True) if not line.startswith("# releases sha256: "))


def _resealed(lock: str) -> str:
    """evidence.lock with its releases section sealed as it now reads: what a recording of that section writes (one
    with moves has no unsealed form: D341 refuses it)."""

    from dossier.locks import section_digest

    seal = section_digest(load_yaml(lock)["releases"])
    return re.sub(r"(?m)^# releases sha256: [0-9a-f]{64}$", f"# releases sha256: {seal}", lock)


def test_a_file_whose_releases_of_change_the_lock_lacks_says_so_and_verify_names_it(setup):
    root, cache = setup
    verify(root, cache, "--record")
    lock_file = root / "cards/evidence.lock"
    text = lock_file.read_text()
    entry = re.search(r"\n    python/sglang/srt/layers/norm\.py: \[(.*)\]", text)
    assert entry is not None and "0.2.0" in entry.group(1)
    lock_file.write_text(_resealed(text.replace(entry.group(0), "")))
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    by_file = (skill_dir(Project.load(root)) / "references/by-file.md").read_text()
    assert "`python/sglang/srt/layers/norm.py`: " in by_file
    assert by_file.split("`python/sglang/srt/layers/norm.py`: ")[1].split("\n")[0].endswith(
        "; releases that changed it not recorded")
    result = verify(root, cache)
    assert result.exit_code == 1
    assert "records other releases of change or moves for python/sglang/srt/layers/norm.py" in " ".join(result.output.split())
    lock_file.write_text(text.replace(entry.group(0), "\n    python/sglang/srt/layers/norm.py: ['0.3.0', '0.2.0']"))
    out = " ".join(lint(root, "--select", "D316").output.split())
    assert "D316" in out and "files: 'python/sglang/srt/layers/norm.py'" in out


def test_a_lock_recorded_before_file_histories_renders_as_before(setup):
    root, cache = setup
    verify(root, cache, "--record")
    lock_file = root / "cards/evidence.lock"
    older = lock_file.read_text()
    for section in ("files", "moved"):  # both newer than seals
        older = re.sub(rf"\n  {section}:\n(?:    .*\n)+", "\n", older)
    lock_file.write_text(_before_seals(older))
    assert read_release_lock(root).files is None
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    by_file = (skill_dir(Project.load(root)) / "references/by-file.md").read_text()
    assert "also changed" not in by_file and "not recorded" not in by_file
    assert "changed the file between them, among other PRs" in " ".join(by_file.split())


def test_for_version_warns_of_a_release_between_two_scanned_that_the_scan_lacks(setup):
    """0.1.0.post2 lies between 0.1.0.post1 and 0.2.0 and the scan has no such release: `for-version 0.5.19.post1`
    answered with exit 0 and no word that no such release may exist. A scan can also skip a real release (two sync
    ranges), so it is answered, with the warning, and the JSON names the two releases around it."""
    root, cache = setup
    verify(root, cache, "--record")
    out = runner.invoke(app, ["for-version", "0.1.0.post2", "--root", str(root)])
    said = " ".join(out.output.split())
    assert out.exit_code == 0 and "warning: SGLang 0.1.0.post2 is not among the 4 releases" in said
    assert "between 0.1.0.post1 and 0.2.0. No such release may exist" in said
    data = json.loads(runner.invoke(app, ["for-version", "0.1.0.post2", "--format", "json", "--root",
                                          str(root)]).stdout)
    assert data["not_scanned_between"] == ["0.1.0.post1", "0.2.0"]
    scanned = runner.invoke(app, ["for-version", "0.1.0.post1", "--format", "json", "--root", str(root)])
    assert scanned.exit_code == 0 and json.loads(scanned.stdout)["not_scanned_between"] is None
    assert "warning: SGLang" not in runner.invoke(app, ["for-version", "0.0.9", "--root", str(root)]).output


def test_by_file_counts_a_release_where_a_merged_card_of_any_status_shipped_as_covered(setup):
    """by-file said "also changed in 0.5.10" beside #19369, an adjacent card whose change shipped in 0.5.10: only
    current and taken-out cards counted. A merged card of any status covers the release its line arrived in."""
    root, cache = setup
    card = make_card(130, merged_at=dt.date(2026, 3, 20), status="adjacent",
                     key_fragment=kf("if True:", f"python/sglang/{NORM}"))
    card["files"]["runtime"].append(f"python/sglang/{NORM}")
    (root / "cards" / "130.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    verify(root, cache, "--record")
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    by_file = (skill_dir(Project.load(root)) / "references/by-file.md").read_text()
    line = next(x for x in by_file.splitlines() if x.startswith(f"- `python/sglang/{NORM}`"))
    assert "[#130]" in line and "also changed" not in line  # 0.3.0 is #130's


def test_verify_scans_on_past_an_unreadable_drift_lock(setup):
    """by-file's files include where drift found key fragments moved (cards/drift.lock): a damaged drift.lock stopped
    `releases verify` after its scan, with no card result (exit 2). It warns and leaves those files out instead."""
    root, cache = setup
    (root / "cards" / "drift.lock").write_text("sglang: [0.5.23\n")
    result = verify(root, cache)
    said = " ".join(result.output.split())
    assert result.exit_code == 1 and "#100" in said  # the cards' findings, as without a drift lock
    assert "warning: cards/drift.lock" in said and "left out of by-file's releases of change" in said


def test_verify_records_where_a_deleted_file_went_and_by_file_names_it(setup, tmp_path):
    root, cache = setup
    today = tmp_path / "today"  # today's SGLang: 0.3.0's sources, installed (a version file names it)
    shutil.copytree(cache / "0.3.0/python/sglang", today / "sglang")
    (today / "sglang/version.py").write_text('__version__ = "0.3.0"\n')
    drift = runner.invoke(app, ["drift", "--record", "--sglang-src", str(today), "--root", str(root)])
    assert drift.exit_code in (0, 1), drift.output
    verify(root, cache, "--record")
    gating = f"python/sglang/{OLD_GATING}"
    # 0.3.0 deleted gating.py and added kernels/ops/gating.py: two of its lines in four (2*2/6 of the lines alike)
    assert read_release_lock(root).moved == {gating: (Move("0.3.0", f"python/sglang/{MOVED}", 66),),
                                             "python/sglang/srt/other.py": ()}  # in no release
    assert "records other releases of change" not in verify(root, cache).output  # the scan agrees with the lock
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    by_file = (skill_dir(Project.load(root)) / "references/by-file.md").read_text()
    line = next(x for x in by_file.splitlines() if x.startswith(f"- `{gating}`"))
    # the lines went where drift found the key fragment: "there", not the path again
    assert "(not in SGLang 0.3.0; the key fragment of" in line
    assert f"now in `python/sglang/{MOVED}`; its lines went there in 0.3.0 (66% alike))" in line
    assert "one file of its name" not in line  # the move names it already

    lock_file = root / "cards/evidence.lock"
    text = lock_file.read_text()
    lock_file.write_text(_resealed(text.replace(f"[0.3.0, python/sglang/{MOVED}, 66]",
                                                 "[0.3.0, python/sglang/srt/elsewhere.py, 66]")))
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    by_file = (skill_dir(Project.load(root)) / "references/by-file.md").read_text()
    assert "its lines went to `python/sglang/srt/elsewhere.py` in 0.3.0 (66% alike)" in by_file

    lock_file.write_text(_resealed(text.replace(f"[0.3.0, python/sglang/{MOVED}, 66]", "[0.3.0, null, null]")))
    assert read_release_lock(root).moved[gating] == (Move("0.3.0", None, None),)
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    by_file = (skill_dir(Project.load(root)) / "references/by-file.md").read_text()
    assert "deleted in 0.3.0, which added no file half alike" in by_file
    assert "an existing file" not in by_file

    # code merged into a file the release already had: the lead names it
    lock_file.write_text(_resealed(text.replace(f"[0.3.0, python/sglang/{MOVED}, 66]",
                                                 "[0.3.0, python/sglang/srt/host.py, null]")))
    assert read_release_lock(root).moved[gating] == (Move("0.3.0", "python/sglang/srt/host.py", None),)
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    by_file = (skill_dir(Project.load(root)) / "references/by-file.md").read_text()
    assert ("deleted in 0.3.0, which added no file half alike; its top-level functions and classes went to "
            "`python/sglang/srt/host.py`, an existing file") in " ".join(by_file.split())
    lock_file.write_text(_resealed(text.replace(f"[0.3.0, python/sglang/{MOVED}, 66]", "[0.3.0, null, null]")))
    result = verify(root, cache)  # the scan finds the move the lock lost
    assert result.exit_code == 1
    assert f"records other releases of change or moves for {gating} (by-file" in " ".join(result.output.split())


@pytest.mark.parametrize("step", [
    "[0.3.0, python/sglang/srt/x.py, 40]",  # below the rename threshold
    "[0.3.0, python/sglang/srt/x.py, 101]",
    "[0.9.0, python/sglang/srt/x.py, 80]",  # a release the lock does not list
    "[0.1.0, python/sglang/srt/x.py, 80]",  # the first release is the baseline: nothing moves into it
    "[0.3.0, docker/Dockerfile, 80]",  # no wheel's file
    "[0.3.0, python/sglang/srt/x.py, '80']",
    "[0.3.0, null, 80]",
])
def test_a_hand_edited_move_is_a_lock_error(setup, step):
    root, cache = setup
    verify(root, cache, "--record")
    lock_file = root / "cards/evidence.lock"
    text = lock_file.read_text()
    lock_file.write_text(_before_seals(text.replace(f"[0.3.0, python/sglang/{MOVED}, 66]", step)))
    with pytest.raises(LockError, match="releases: moved: 'python/sglang/srt/layers/gating.py'"):
        read_release_lock(root)


def test_a_deletion_is_the_last_move_and_moves_go_forward(setup):
    root, cache = setup
    verify(root, cache, "--record")
    lock_file = root / "cards/evidence.lock"
    text = lock_file.read_text()
    for steps in ("[0.2.0, null, null]\n    - [0.3.0, python/sglang/srt/x.py, 80]",
                  "[0.2.0, python/sglang/srt/kept.py, null]\n    - [0.3.0, python/sglang/srt/x.py, 80]",
                  "[0.3.0, python/sglang/srt/x.py, 80]\n    - [0.2.0, python/sglang/srt/y.py, 80]"):
        lock_file.write_text(_before_seals(text.replace(f"[0.3.0, python/sglang/{MOVED}, 66]", steps)))
        with pytest.raises(LockError, match="the last move"):
            read_release_lock(root)


def test_a_parenthesis_after_a_name_is_about_that_name(tmp_path, monkeypatch):
    """"`x` (removed in 0.3.0)" (how D621 asks a gone name to be written) says x left, not the card's own line: true
    of `fused_widget`, which 0.3.0 dropped, while #101's line ships there; said of the card's own `split_heads`
    (its key fragment's code), it is still D327's."""
    card = {**CARDS[101], "implementation": CARDS[101]["implementation"] + " It took over from `fused_widget` "
            "(removed in 0.3.0)."}
    root, cache = released_project(tmp_path, monkeypatch, [card])
    verify(root, cache, "--record")
    assert " D327 " not in lint(root).output
    card["implementation"] = CARDS[101]["implementation"] + " It adds `split_heads` (removed in 0.3.0)."
    root, cache = released_project(tmp_path / "own", monkeypatch, [card])
    verify(root, cache, "--record")
    assert " D327 " in lint(root).output
