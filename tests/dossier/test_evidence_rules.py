"""D3xx: every evidence rule against the fixture diff, one card that trips it and one that passes it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dossier.diff import file_patch_to_diff, parse_diff
from dossier.evidence import (
    ABSENT,
    AMBIGUOUS,
    CONTEXT,
    IMPORT,
    NO_PATCH,
    NOT_CHANGED,
    find_fragment,
    import_lines,
    read_lock,
    record_lock,
)
from dossier.lint import RULES, LintContext, run_lint
from dossier.model import KeyFragment
from dossier.project import Project
from dossier.sources.cache import Cache
from tests.dossier import evidence_support as ev
from tests.dossier.factories import make_card, write_project

GOOD_MATCH = "self.in_proj_qkvzba = MergedColumnParallelLinear("


def lint(root: Path, cache: Path | None, **kw):
    return run_lint(LintContext(Project.load(root), cache_dir=cache), select=["D3"], **kw)


def codes(root: Path, cache: Path | None) -> list[str]:
    return [d.code for d in lint(root, cache)]


def kf(file: str, match: str) -> dict:
    return {"file": file, "match": match, "explain": "The lines the test points at, described in our words."}


def record(root: Path, cache: Path) -> None:
    record_lock(Project.load(root), Cache(cache).get, recorded="2026-04-01")


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    d = tmp_path / "cache"
    ev.put(d, 100)
    return d


# ---- find_fragment on the fixture diff --------------------------------------------------------

FILES = parse_diff(ev.github_diff())


@pytest.mark.parametrize(
    "file, match, problem, side, lines",
    [
        (ev.MODEL, GOOD_MATCH, None, "new", (18,)),
        (ev.MODEL, "MergedColumnParallelLinear", None, "new", (18,)),  # import + use: the use counts
        (ev.MODEL, "self.in_proj_ba = ColumnParallelLinear(", None, "old", (21,)),  # a removal
        (ev.DELETED, "def split_qkvz(", None, "old", (1,)),  # a deleted file
        (ev.RENAMED_NEW, "def fused_gdn_gating(", None, "new", (13,)),
        (ev.RENAMED_OLD, "def fused_gdn_gating(", None, "new", (13,)),  # the old name resolves to the rename
        (ev.ADDED_TEST, "(0, 1)", None, "new", (2,)),
        (ev.MODEL, "in_proj_qkvzba", AMBIGUOUS, "new", (18, 28)),
        (ev.MODEL, "MergedColumnParallelLinear,", IMPORT, "new", (6,)),
        (ev.MODEL, "hidden_states.shape", CONTEXT, "new", (27,)),
        (ev.MODEL, "not in this diff at all", ABSENT, "new", ()),
        (ev.BINARY, "PNG", NO_PATCH, "new", ()),
        (ev.NO_PATCH, "TABLE", NO_PATCH, "new", ()),
        ("python/sglang/srt/models/qwen3_nxt.py", GOOD_MATCH, NOT_CHANGED, "new", ()),
    ],
)
def test_find_fragment(file, match, problem, side, lines):
    located = find_fragment(FILES, KeyFragment(file, match, ""))
    assert (located.problem, located.side, located.lines) == (problem, side, lines)


def test_hints_point_at_the_changed_lines():
    context = find_fragment(FILES, KeyFragment(ev.MODEL, "hidden_states.shape", ""))
    assert "+28: projected, _ = self.in_proj_qkvzba(hidden_states)" in context.hint
    absent = find_fragment(FILES, KeyFragment(ev.MODEL, "self.in_proj_qkvzab = MergedColumnParallel(", ""))
    assert absent.hint.startswith(
        "closest changed lines: +18: self.in_proj_qkvzba = MergedColumnParallelLinear("
    )
    ambiguous = find_fragment(FILES, KeyFragment(ev.MODEL, "in_proj_qkvzba", ""))
    assert "hunk 2 (@@ -12,15 +15,9 @@" in ambiguous.hint and "hunk 3 (@@ -28,9 +25,8 @@" in ambiguous.hint
    typo = find_fragment(FILES, KeyFragment("python/sglang/srt/models/qwen3_nxt.py", "x", ""))
    assert ev.MODEL in typo.hint


def test_a_pure_rename_has_no_changed_line():
    text = (
        "diff --git a/old/name.py b/new/name.py\nsimilarity index 100%\n"
        "rename from old/name.py\nrename to new/name.py\n"
    )
    located = find_fragment(parse_diff(text), KeyFragment("old/name.py", "anything", ""))
    assert located.problem == ABSENT and "pure rename" in located.hint


def test_a_renamed_file_sent_without_patch_is_unverified_not_wrong(tmp_path):
    cache = tmp_path / "cache"
    text = ev.github_diff() + file_patch_to_diff(ev.BIG_RENAMED, None, status="renamed", old_path=ev.BIG_OLD)
    ev.put(cache, 100, text)
    root = write_project(tmp_path / "p", [_card(key_fragment=kf(ev.BIG_RENAMED, "TABLE"))])
    (d,) = lint(root, cache)
    assert d.code == "D301" and "no patch text" in d.message
    # without the metadata's word, the same section reads as a pure rename
    assert find_fragment(parse_diff(text), KeyFragment(ev.BIG_RENAMED, "TABLE", "")).problem == ABSENT


def test_import_lines_cover_parenthesised_imports_on_each_side():
    hunk = FILES[[f.path for f in FILES].index(ev.MODEL)].hunks[0]
    flagged = {hunk.lines[i].text for i in import_lines(hunk.lines)}
    assert flagged == {
        "from sglang.srt.layers.linear import ColumnParallelLinear",
        "from sglang.srt.layers.linear import (",
        "    ColumnParallelLinear,",
        "    MergedColumnParallelLinear,",
        ")",
        "from sglang.srt.layers.norm import RMSNorm",
        "import torch",
    }


# ---- each rule: a failing card, a passing card ------------------------------------------------


def _card(**overrides) -> dict:
    return make_card(100, **overrides)


FAILING = [
    ("D302", _card(key_fragment=kf("python/sglang/srt/models/qwen3_nxt.py", GOOD_MATCH)), "did not change"),
    ("D303", _card(key_fragment=kf(ev.MODEL, "hidden_states.shape")), "only on unchanged context lines"),
    (
        "D303",
        _card(key_fragment=kf(ev.MODEL, "self.in_proj_qkvz = MergedColumnParallelLinear(")),
        "on no line",
    ),
    ("D304", _card(key_fragment=kf(ev.MODEL, "MergedColumnParallelLinear,")), "only on import lines"),
    ("D305", _card(key_fragment=kf(ev.MODEL, "in_proj_qkvzba")), "in 2 unrelated hunks"),
    (
        "D306",
        _card(files={"runtime": [ev.MODEL, "python/sglang/srt/layers/other.py"], "tests": [], "docs": []}),
        "did not change python/sglang/srt/layers/other.py",
    ),
    ("D307", _card(title="Fuse the widget projections"), "title differs"),
    (
        "D308",
        _card(state="open", merged_at=None, status="candidate"),
        "card says open but the PR is merged since 2026-03-20",
    ),
    ("D308", _card(merged_at=dt.date(2026, 3, 21)), "merged_at 2026-03-21 differs from the PR's 2026-03-20"),
    ("D301", _card(key_fragment=kf(ev.NO_PATCH, "TABLE")), "no patch text"),
    ("D301", _card(key_fragment=kf(ev.BINARY, "PNG")), "no patch text"),
]

PASSING = [
    ("D302", _card(key_fragment=kf(ev.RENAMED_OLD, "def fused_gdn_gating("))),
    ("D303", _card(key_fragment=kf(ev.MODEL, "self.in_proj_ba = ColumnParallelLinear("))),
    ("D303", _card(key_fragment=kf(ev.DELETED, "def split_qkvz("))),
    ("D304", _card(key_fragment=kf(ev.MODEL, "MergedColumnParallelLinear"))),
    ("D305", _card(key_fragment=kf(ev.LINEAR, "isinstance(loaded_shard_id, tuple)"))),
    (
        "D306",
        _card(
            files={
                "runtime": [ev.MODEL, ev.RENAMED_OLD, ev.RENAMED_NEW, ev.DELETED, ev.NO_PATCH],
                "tests": [ev.ADDED_TEST],
                "docs": [ev.BINARY],
            }
        ),
    ),
    ("D307", _card()),
    ("D308", _card()),
    ("D301", _card()),
]


@pytest.mark.parametrize(
    "code, card, message", FAILING, ids=[f"{c}-{i}" for i, (c, *_) in enumerate(FAILING)]
)
def test_rule_fails(tmp_path, cache, code, card, message):
    root = write_project(tmp_path / "p", [card])
    found = [d for d in lint(root, cache) if d.code == code]
    assert len(found) == 1 and message in found[0].message, lint(root, cache)


@pytest.mark.parametrize("code, card", PASSING, ids=[f"{c}-{i}" for i, (c, _) in enumerate(PASSING)])
def test_rule_passes(tmp_path, cache, code, card):
    root = write_project(tmp_path / "p", [card])
    assert lint(root, cache) == []


def test_findings_sit_on_the_field_they_concern(tmp_path, cache):
    root = write_project(tmp_path / "p", [_card(key_fragment=kf(ev.MODEL, "in_proj_qkvzba"))])
    (d,) = lint(root, cache)
    text = (root / "cards" / "100.yaml").read_text().splitlines()
    assert "in_proj_qkvzba" in text[d.line - 1] and d.hint.startswith("make the match specific")


def test_a_mistyped_file_gets_the_changed_path_as_hint(tmp_path, cache):
    files = {"runtime": [ev.MODEL, "python/sglang/srt/layer/linear.py"], "tests": [], "docs": []}
    root = write_project(tmp_path / "p", [_card(files=files)])
    (d,) = lint(root, cache)
    assert d.code == "D306" and d.hint == f"did you mean {ev.LINEAR}?"
    assert (
        "python/sglang/srt/layer/linear.py"
        in (root / "cards" / "100.yaml").read_text().splitlines()[d.line - 1]
    )


def test_a_saved_diff_without_title_or_state_checks_only_the_diff(tmp_path):
    cache = tmp_path / "cache"
    ev.put(cache, 100, title=None, state=None, merged=None, merged_at=None)
    root = write_project(tmp_path / "p", [_card(title="anything at all", state="open", merged_at=None)])
    assert codes(root, cache) == []


def test_unverified_without_cache_or_lock_is_a_warning_strict_does_not_promote(tmp_path):
    root = ev.project_with(tmp_path / "p")
    (d,) = lint(root, None)
    assert (d.code, d.severity) == ("D301", "warning") and "dossier fetch 100" in d.hint
    assert lint(root, tmp_path / "empty-cache", strict=True)[0].severity == "warning"
    assert lint(root, None, promote=["D301"])[0].severity == "error"
    assert RULES["D301"].strict_exempt and not RULES["D309"].strict_exempt


@pytest.mark.parametrize("card,why", [
    (_card(state="closed", merged_at=None), "#100 was never merged"),
    (_card(key_fragment=kf("docker/Dockerfile", "RUN pip install sglang")), "no release wheel ships docker/Dockerfile"),
])
def test_unverified_says_when_no_release_diff_can_prove_it(tmp_path, card, why):
    """The hint offered `releases verify --record` to a card no release can prove (a PR never merged, a key file
    outside the wheel): only the PR's own diff can."""
    (d,) = [d for d in lint(ev.project_with(tmp_path / "p", card), None) if d.code == "D301"]
    assert why in d.hint and "releases verify" not in d.hint
    (plain,) = lint(ev.project_with(tmp_path / "q"), None)
    assert "releases verify --record" in plain.hint


def test_unverified_when_the_cached_text_is_not_a_diff(tmp_path):
    cache = tmp_path / "cache"
    Cache(cache).put(100, ev.github_meta(100, ev.PR100), "this is not a diff\n", {"source": "import"})
    root = ev.project_with(tmp_path / "p")
    (d,) = lint(root, cache)
    assert d.code == "D301" and "not a unified diff" in d.message


def test_lock_stands_in_for_the_cache(tmp_path, cache):
    root = ev.project_with(tmp_path / "p")
    record(root, cache)
    assert lint(root, None) == [] and lint(root, tmp_path / "empty-cache") == []


def test_stale_evidence_fails_and_fresh_evidence_passes(tmp_path, cache):
    root = ev.project_with(tmp_path / "p")
    record(root, cache)
    card = _card(key_fragment=kf(ev.LINEAR, "isinstance(loaded_shard_id, tuple)"))
    write_project(root, [card])
    (d,) = lint(root, None)
    assert (d.code, d.severity) == ("D309", "error") and "verified on 2026-04-01" in d.message
    assert codes(root, cache) == ["D309"]  # the card is fine against the diff, but the lock is stale
    record(root, cache)
    assert codes(root, None) == []


def test_changed_cached_diff_fails_and_recorded_diff_passes(tmp_path, cache):
    root = ev.project_with(tmp_path / "p")
    record(root, cache)
    assert codes(root, cache) == []
    extra = "diff --git a/NOTES.md b/NOTES.md\nnew file mode 100644\n--- /dev/null\n+++ b/NOTES.md\n"
    extra += "@@ -0,0 +1 @@\n+x\n"
    ev.put(cache, 100, ev.github_diff() + extra)
    (d,) = lint(root, cache)
    assert (d.code, d.severity) == ("D310", "warning")


ENTRY = (
    "version: 1\ncards:\n  100: {{additions: 1, deletions: 1, diff_sha256: x, file: f, files: {files},\n"
    "    key_fragment: k, lines: {lines}, recorded: 2026-04-01, side: new, source: github}}\n"
)


@pytest.mark.parametrize(
    "text, message",
    [
        ("version: 1\ncards: [1, 2]\n", "expected a mapping"),
        ("version: 1\ncards: {100: {file: x}}\n", "entry 100 must be"),
        ("version: 1\ncards: {100: [oops\n", "not valid YAML"),
        (ENTRY.format(files="1", lines="7"), "lines must be a list"),
        (ENTRY.format(files="many", lines="[7]"), "files must be a count"),
    ],
)
def test_malformed_lock_fails(tmp_path, text, message):
    root = ev.project_with(tmp_path / "p")
    (root / "cards" / "evidence.lock").write_text(text)
    found = [d for d in lint(root, None) if d.code == "D311"]
    assert len(found) == 1 and message in found[0].message and found[0].file == "cards/evidence.lock"


def test_lock_entry_without_card_fails_and_recorded_lock_passes(tmp_path, cache):
    root = write_project(tmp_path / "p", [_card(), make_card(101)])
    ev.put(cache, 101)
    record(root, cache)
    assert codes(root, None) == []
    (root / "cards" / "101.yaml").unlink()
    (d,) = lint(root, None)
    assert d.code == "D311" and "#101, which has no card" in d.message
    lock_lines = (root / "cards" / "evidence.lock").read_text().splitlines()
    assert lock_lines[d.line - 1].strip().startswith("101:")


def test_every_evidence_rule_has_a_failing_and_a_passing_case():
    # D312-D317 (release evidence) have failing and passing cases in test_release_evidence.py
    releases = {"D312", "D313", "D314", "D315", "D316", "D317"}
    # D318 (a match in another listed file) needs an SGLang tree: its cases are in test_claims.py
    releases.add("D318")
    # D319 (a release the prose says a PR shipped in), D320 (unlisted key file), D321 (current, never shipped),
    # D322 (a release that never existed), D323 (a span that runs backwards), D324 (a release's day): test_lint_probes.py
    releases |= {"D319", "D320", "D321", "D322", "D323", "D324"}
    releases.add("D325")  # runtime source listed as a test or doc: test_lint_probes14.py
    releases.add("D330")  # a damaged fetch cache entry: test_cache.py
    releases.add("D326")  # a card missing from the recorded release evidence: test_lint_probes15.py
    # D327 (a removal the releases contradict), D328 (a PR-diff proof the lock lost): test_lint_probes16.py
    releases |= {"D327", "D328"}
    releases.add("D329")  # a cards section that is not the one lint --record sealed: test_evidence_lock.py
    releases.add("D331")  # a release line number the release evidence puts elsewhere: test_lint_probes18.py
    releases.add("D332")  # a judged card with no verdict in drift.lock: test_drift_lock_lint.py
    # the PR said to remove its own line (D333), a name said added that the diff only keeps (D334): probes19
    releases |= {"D333", "D334"}
    # the card's line said to hold today against drift.lock (D335), a listed file the shipping release did not
    # change (D336): test_lint_probes20.py
    releases |= {"D335", "D336"}
    releases.add("D337")  # a listed file cards/checked.lock does not hold: test_lint_probes21.py
    releases.add("D338")  # a card cards/checked.lock has no record of: test_lint_probes22.py
    releases.add("D339")  # a quoted line away and back that the card does not explain: test_release_evidence.py
    releases.add("D340")  # a merged line no release and no PR diff holds: test_release_evidence.py
    releases.add("D341")  # a releases section edited by hand after its seal: test_bad_input21.py
    releases.add("D342")  # a release that never existed, named in lanes.yaml or a finding: test_bad_input21.py
    releases.add("D344")  # a hand-edited cards/checked.lock (its seal): test_bad_input22.py
    releases.add("D343")  # a PR said to ship in a release the evidence contradicts, in lanes.yaml: test_bad_input22.py
    releases.add("D345")  # a GPU of the card's story cards/checked.lock does not hold: test_lint_probes26.py
    releases.add("D346")  # a value change written backwards against the added line: test_lint_probes28.py
    tested_fail = {c for c, *_ in FAILING} | {"D309", "D310", "D311"} | releases
    tested_pass = {c for c, _ in PASSING} | {"D309", "D310", "D311"} | releases
    evidence_rules = {c for c in RULES if c.startswith("D3")}
    assert evidence_rules <= tested_fail and evidence_rules <= tested_pass


def test_recording_keeps_the_entry_of_a_card_whose_cached_text_is_no_diff(tmp_path, cache):
    """A cached text that is no diff (an entry an older version cached, a file replaced by hand with its sha256)
    judges nothing, yet `lint --record` dropped the card's recorded evidence as if its fragment had failed."""
    root = ev.project_with(tmp_path / "p")
    record(root, cache)
    before = read_lock(root)
    assert set(before) == {100}
    Cache(cache).put(100, ev.github_meta(100, ev.PR100), "this is not a diff\n", {"source": "import"})
    record(root, cache)
    assert read_lock(root) == before
