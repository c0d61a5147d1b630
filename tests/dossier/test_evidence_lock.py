"""The evidence lock end to end: `dossier lint --record` then `dossier lint`, --strict-evidence, render notes,
and `dossier show N --diff`, all on the fixture diff."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dossier.cli import app
from dossier.evidence import annotator, read_lock
from dossier.project import Project
from dossier.render.documents import skill_dir
from tests.dossier import evidence_support as ev
from tests.dossier.factories import make_card, write_project
from tests.dossier.yaml_support import load_yaml

runner = CliRunner()
GOOD = make_card(100)
AMBIGUOUS = make_card(
    101,
    implementation=(
        "GatedWidget.project now calls in_proj_qkvzba once and cuts the result with projected.split, sizing the "
        "ba slice from num_v_heads; the two ColumnParallelLinear layers in_proj_qkvz and in_proj_ba are gone "
        "from the constructor of the widget model."
    ),
    key_fragment={
        "file": ev.MODEL,
        "match": "in_proj_qkvzba",
        "explain": "in_proj_qkvzba appears where the merged layer is built and where project calls it and splits "
                   "projected, so this match lands in two hunks of the file at once.",
    },
)
REMOVAL = make_card(
    102,
    implementation=(
        "The helper split_qkvz, which cut the packed projection into q, k, v and z with qkvz.split and made each "
        "piece contiguous, is deleted: project returns both parts of the merged in_proj_qkvzba output from one "
        "projected.split call."
    ),
    key_fragment={
        "file": ev.DELETED,
        "match": "def split_qkvz(",
        "explain": "split_qkvz was the slicing helper that the merged projection made unnecessary; the PR deletes "
                   "its whole file, so the match sits on removed lines.",
    },
)


@pytest.fixture(autouse=True)
def _no_env_cache(monkeypatch):
    monkeypatch.delenv("DOSSIER_CACHE", raising=False)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1775001600")  # 2026-04-01


def empty_cache(tmp_path: Path) -> Path:
    """A fetch cache that holds nothing (a named cache must exist)."""
    (tmp_path / "empty-cache").mkdir(exist_ok=True)
    return tmp_path / "empty-cache"


def dossier(root: Path, *args: str, cache: Path | None = None):
    extra = ["--cache-dir", str(cache)] if cache else []
    return runner.invoke(app, [*args, "--root", str(root), *extra])


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path]:
    cache = tmp_path / "cache"
    for pr in (100, 101, 102):
        ev.put(cache, pr)
    return write_project(tmp_path / "p", [GOOD, AMBIGUOUS, REMOVAL, make_card(103)]), cache


def test_record_then_lint_round_trips(setup, tmp_path):
    root, cache = setup
    first = dossier(root, "lint", "--record", cache=cache)
    assert (
        first.exit_code == 1 and "D305" in first.stdout and "recorded evidence for 2 card(s)" in first.output
    )
    assert sorted(read_lock(root)) == [100, 102]
    write_project(
        root, [{**AMBIGUOUS, "key_fragment": {**AMBIGUOUS["key_fragment"], "match": "projected.split("}}]
    )
    assert dossier(root, "lint", "--record", cache=cache).exit_code == 0
    assert sorted(read_lock(root)) == [100, 101, 102]
    # no cache at all now: the lock proves 100..102; 103 was never fetched
    offline = dossier(root, "lint", "--select", "D3", "--verbose", cache=empty_cache(tmp_path))
    found = [(ln.split(":")[0], ln.split()[1]) for ln in offline.stdout.splitlines() if " D3" in ln]
    assert offline.exit_code == 0 and found == [("cards/103.yaml", "D301")]
    assert dossier(root, "lint", "--strict", cache=empty_cache(tmp_path)).exit_code == 0
    strict = dossier(root, "lint", "--strict-evidence", cache=empty_cache(tmp_path))
    assert (
        strict.exit_code == 1
        and "D301 unverified: #103" in strict.stdout
        and "[warning]" not in strict.stdout
    )


def test_the_diffs_names_keep_an_offline_lint_clean(setup, tmp_path):
    """D621 takes a name from the PR's change; offline (CI: no cache) the lock's names stand in for the diff, so a
    card proven by lint --record is not an invented-name error on the next machine."""
    from dossier.evidence import LockEntry, read_lock, write_lock

    root, cache = setup
    dossier(root, "lint", "--record", cache=cache)
    offline = dossier(root, "lint", "--select", "D621", cache=empty_cache(tmp_path))
    assert offline.exit_code == 0, offline.output
    entries = read_lock(root)
    assert 101 not in entries and "in_proj_qkvzba" in entries[102].names  # 101's match is ambiguous: not recorded
    write_lock(root, {pr: LockEntry(**{**e.__dict__, "names": ()}) for pr, e in entries.items()})
    bare = dossier(root, "lint", "--select", "D621", cache=empty_cache(tmp_path))
    assert bare.exit_code == 1 and "cards/102.yaml:" in bare.stdout and "D621 in_proj_qkvzba" in bare.stdout


def test_lock_content_is_what_the_diff_says(setup):
    root, cache = setup
    dossier(root, "lint", "--record", cache=cache)
    data = load_yaml((root / "cards" / "evidence.lock").read_text())
    diff_sha = hashlib.sha256(ev.github_diff().encode()).hexdigest()
    assert data["version"] == 1
    assert data["cards"][100] == {
        "additions": 2116,
        "deletions": 317,
        "diff_sha256": diff_sha,
        "file": ev.MODEL,
        "files": 7,
        "key_fragment": hashlib.sha256(f"{ev.MODEL}\n{GOOD['key_fragment']['match']}".encode()).hexdigest(),
        "kind": "pr-diff",
        "lines": [18],
        # the code names of the prose that the diff's lines hold (fused_qkvzba_split_reshape_cat is the prose's only)
        "names": ["MergedColumnParallelLinear", "in_proj_ba", "in_proj_qkvz", "in_proj_qkvzba", "output_sizes",
                  "weight_loader"],
        "recorded": "2026-04-01",
        "side": "new",
        "source": "github",
    }
    assert {k: data["cards"][102][k] for k in ("file", "side", "lines")} == {
        "file": ev.DELETED,
        "side": "old",
        "lines": [1],
    }


def test_lock_is_deterministic_and_keeps_dates_of_unchanged_evidence(setup, monkeypatch):
    root, cache = setup
    lock = root / "cards" / "evidence.lock"
    dossier(root, "lint", "--record", cache=cache)
    before = lock.read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1777593600")  # 2026-05-01
    dossier(root, "lint", "--record", cache=cache)
    assert lock.read_bytes() == before
    write_project(
        root,
        [
            {
                **GOOD,
                "key_fragment": {**GOOD["key_fragment"], "match": "self.head_v_dim, 2 * self.num_v_heads]"},
            }
        ],
    )
    dossier(root, "lint", "--record", cache=cache)
    entry = read_lock(root)[100]
    assert (entry.recorded, entry.lines) == ("2026-05-01", (20,))
    assert read_lock(root)[102].recorded == "2026-04-01"


def test_record_keeps_uncached_and_unloaded_cards_and_drops_the_rest(setup, tmp_path):
    root, cache = setup
    dossier(root, "lint", "--record", cache=cache)
    recorded = read_lock(root)
    # a card that no longer lands on the diff loses its entry; other cards keep theirs without a cache
    write_project(root, [{**GOOD, "key_fragment": {**GOOD["key_fragment"], "match": "hidden_states.shape"}}])
    (root / "cards" / "102.yaml").unlink()
    dossier(root, "lint", "--record", cache=cache)
    assert read_lock(root) == {}
    dossier(root, "lint", "--record", cache=empty_cache(tmp_path))
    write_project(root, [GOOD, REMOVAL])
    dossier(root, "lint", "--record", cache=cache)
    assert read_lock(root) == {100: recorded[100], 102: recorded[102]}
    # lint on one card records that card only and keeps the entries of the others
    write_project(root, [{**GOOD, "key_fragment": {**GOOD["key_fragment"], "match": "hidden_states.shape"}}])
    dossier(root, "lint", str(root / "cards" / "102.yaml"), "--record", cache=empty_cache(tmp_path))
    assert read_lock(root) == {100: recorded[100], 102: recorded[102]}


def test_render_shows_verified_stale_and_unverified(setup):
    root, cache = setup
    dossier(root, "lint", "--record", cache=cache)
    write_project(root, [{**REMOVAL, "key_fragment": {**REMOVAL["key_fragment"], "match": "q.contiguous()"}}])
    note = annotator(Project.load(root))
    cards = {c.pr: c for c in Project.load(root).cards}
    diff_sha = hashlib.sha256(ev.github_diff().encode()).hexdigest()
    verified = (
        f"**Evidence (PR diff).** Fragment verified against the PR's diff sha256:{diff_sha[:12]} (github) on 2026-04-01: "
        f"added line(s) 18 of `{ev.MODEL}`. Diff coverage: 7 file(s), +2116/-317."
    )
    assert note(cards[100]) == [verified]
    assert note(cards[102])[0].startswith(
        "**Evidence.** Stale: the key fragment changed after it was verified"
    )
    assert note(cards[103]) == []  # unverified: said once in the coverage, not per card
    assert annotator(Project.load(root), unverified=True)(cards[103]) == [
        "**Evidence.** Unverified: neither the PR's diff nor a release diff proves it; "
        "run `dossier fetch 103 && dossier lint --record`."]
    assert dossier(root, "render").exit_code == 0
    history = (skill_dir(Project.load(root)) / "references" / "pr-history.md").read_text()
    assert (
        f"diff sha256:{diff_sha[:12]} (github) on 2026-04-01: removed line(s) 1" not in history
    )  # 102 is stale
    shown = [pr for pr, card in cards.items() if note(card)]
    assert 103 not in shown and history.count("**Evidence.**") + history.count("**Evidence (") == len(shown)
    assert history.count("**Evidence (PR diff).**") == 1 and "Unverified: " not in history


def test_show_diff_prints_the_changed_lines_around_the_match(setup):
    root, cache = setup
    shown = dossier(root, "show", "100", "--diff", "--context", "1", cache=cache)
    assert shown.exit_code == 0, shown.output
    out = shown.stdout
    assert "@@ -12,15 +15,9 @@" in out and f"diff {ev.MODEL}" in out
    assert "    18 +        self.in_proj_qkvzba = MergedColumnParallelLinear(" in out
    assert "    15        -        self.in_proj_qkvz = ColumnParallelLinear(" in out
    assert "    16     19              config.hidden_size," in out
    assert "self.head_v_dim = " not in out  # two lines away: outside --context 1
    removal = dossier(root, "show", "102", "--diff", cache=cache).stdout
    assert "     1        -def split_qkvz(" in removal


def test_show_diff_without_cache_or_on_a_bad_fragment_exits_1(setup, tmp_path):
    root, cache = setup
    missing = dossier(root, "show", "103", "--diff", cache=cache)
    assert missing.exit_code == 2 and "run `dossier fetch 103`" in missing.output  # environment: exit 2
    ambiguous = dossier(root, "show", "101", "--diff", cache=cache)
    assert (
        ambiguous.exit_code == 1
        and "note: the match is on changed lines in several hunks" in ambiguous.stdout
    )
    assert "    28 +        projected, _ = self.in_proj_qkvzba(hidden_states)" in ambiguous.stdout
    write_project(root, [make_card(100, key_fragment={**GOOD["key_fragment"], "file": ev.BINARY})])
    binary = dossier(root, "show", "100", "--diff", cache=cache)
    assert binary.exit_code == 1 and "has no patch text" in binary.stdout


def test_round_trip_through_fetch_import(tmp_path):
    """The whole path a contributor takes: `dossier fetch N --import saved.diff`, `lint --record`, `lint`."""
    root = write_project(tmp_path / "p", [GOOD])
    cache = tmp_path / "cache"
    saved = str(ev.FIXTURES / "pr100.diff")
    assert dossier(root, "fetch", "100", "--import", saved, cache=cache).exit_code == 0
    assert dossier(root, "lint", "--record", "--strict-evidence", cache=cache).exit_code == 0
    entry = read_lock(root)[100]
    assert (entry.source, entry.lines, entry.files) == ("import", (18,), 6)
    assert entry.diff_sha256 == hashlib.sha256(ev.PR100.encode()).hexdigest()
    offline = dossier(root, "lint", "--strict-evidence", cache=empty_cache(tmp_path))
    assert offline.exit_code == 0 and "0 error(s), 0 warning(s)" in offline.output


@pytest.mark.parametrize("lock", ["version: 99\ncards: {}\nreleases: {built: [[0.5.1, '2026-01-01']], cards: {}}\n",
                                  "version: 1\ncards: [1]\nreleases: {built: [[0.5.1, '2026-01-01']], cards: {}}\n",
                                  # a section misspelt in a merge: read as no release evidence, dropped by a recording
                                  "version: 1\ncards: {}\nrelease: {built: [[0.5.1, '2026-01-01']], cards: {}}\n"])
def test_a_lock_of_another_version_or_shape_is_refused_by_every_reader_of_a_section(tmp_path, lock):
    """The releases section was read from a lock of any version (and `version: 99` without it read as "no release
    evidence"), and a recording of one section rewrote a lock of another version as version 1."""
    from dossier.evidence import LockError, write_section
    from dossier.release_evidence import read_release_lock

    root = write_project(tmp_path / "p", [make_card(100)])
    (root / "cards" / "evidence.lock").write_text(lock)
    with pytest.raises(LockError, match=r"^cards/evidence.lock: expected a mapping with version: 1 and cards: \{PR: entry\}"):
        read_release_lock(root)
    with pytest.raises(LockError, match="expected a mapping with version: 1"):
        write_section(root, "releases", {"built": [], "cards": {}})
    assert (root / "cards" / "evidence.lock").read_text() == lock
    result = CliRunner().invoke(app, ["for-version", "0.5.1", "--root", str(root)])
    assert result.exit_code == 2 and result.output.startswith(
        "error: cards/evidence.lock: expected a mapping with version: 1 and cards: {PR: entry}")


def test_a_pr_diff_entry_deleted_by_hand_breaks_the_seal(setup, tmp_path):
    """lint16 gap 2: in a clone without the fetch cache the lock is the proof; deleting #100's entry left D301, the
    warning an honest card without a PR diff gets. The seal `lint --record` writes makes it an error (D329), a
    releases recording carries the seal over, and re-recording after a real change seals again."""
    from dossier.release_evidence import write_section

    root, cache = setup
    dossier(root, "lint", "--record", cache=cache)
    lock = root / "cards" / "evidence.lock"
    assert "# cards sha256: " in lock.read_text()
    offline = dossier(root, "lint", cache=empty_cache(tmp_path))
    assert "D329" not in offline.stdout
    write_section(root, "releases", {"built": [["0.5.9", "2026-02-23"]], "cards": {}})  # what releases verify writes
    assert "D329" not in dossier(root, "lint", cache=empty_cache(tmp_path)).stdout
    data = load_yaml(lock.read_text())
    del data["cards"][100]
    header = "".join(line for line in lock.read_text().splitlines(keepends=True) if line.startswith("#"))
    lock.write_text(header + yaml.safe_dump(data, sort_keys=True))
    broken = dossier(root, "lint", cache=empty_cache(tmp_path))
    assert broken.exit_code == 1 and "D329 the cards section is not the one" in broken.stdout, broken.stdout
    assert "evidence.lock:3:1: D329" in broken.stdout  # the seal's own line
    refused = CliRunner().invoke(app, ["render", "--root", str(root)])  # it wrote the manual without #100's evidence
    first = refused.output.splitlines()[0]
    assert refused.exit_code == 1 and first.startswith("error: not rendering: ") and first.endswith(
        "cards/evidence.lock (D329)"), refused.output
    # an edited entry is caught too; a fresh recording from the cache seals the section again
    dossier(root, "lint", "--record", cache=cache)
    data = load_yaml(lock.read_text())
    data["cards"][102]["lines"] = [2]
    header = "".join(line for line in lock.read_text().splitlines(keepends=True) if line.startswith("#"))
    lock.write_text(header + yaml.safe_dump(data, sort_keys=True))
    assert "D329" in dossier(root, "lint", cache=empty_cache(tmp_path)).stdout
    dossier(root, "lint", "--record", cache=cache)  # exit 1: #101's match lands in two hunks (D305)
    assert "D329" not in dossier(root, "lint", cache=empty_cache(tmp_path)).stdout


def test_a_lock_without_a_seal_is_not_judged(tmp_path):
    root = write_project(tmp_path / "p", [make_card(100)])
    (root / "cards" / "evidence.lock").write_text("version: 1\ncards: {}\n")
    assert "D329" not in dossier(root, "lint", cache=empty_cache(tmp_path)).stdout
