"""The releases' flag/env surface (cards/surface.lock) and D610: a name marked historical must have shipped."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.lint import LintContext, run_lint
from dossier.project import Project
from dossier.surface_history import SURFACE_LOCK, read_history
from tests.dossier.factories import FACTORY_NAMES, factory_names_module, make_card, write_project
from tests.dossier.release_support import write_release

OLD = ('def add(parser):\n    parser.add_argument("--cuda-graph-max-bs", type=int)\n'
       '    parser.add_argument("--enable-piecewise-cuda-graph", action="store_true")\n'
       'import os\nos.environ.get("SGLANG_OLD_SWITCH")\n')
NEW = ('def add(parser):\n    parser.add_argument("--cuda-graph-max-bs-decode", type=int)\n'
       'import os\nos.environ.get("SGLANG_NEW_SWITCH")\n')
#: today's package holds what the factory card names too (its key file, code names, --tp-size)
TODAY = {"__init__.py": "", "version.py": '__version__ = "0.5.3"\n', "srt/models/qwen3_next.py": "",
         FACTORY_NAMES: factory_names_module(),
         "srt/server_args.py": NEW + 'def add_tp(parser):\n    parser.add_argument("--tp-size", type=int)\n'}


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(project root, release cache with 0.5.1 (old names) .. 0.5.3 (new names), today's package = 0.5.3)."""
    cache = tmp_path / "releases"
    write_release(cache, "0.5.1", "2025-08-23", {"srt/server_args.py": OLD})
    write_release(cache, "0.5.2", "2025-09-11", {"srt/server_args.py": OLD + NEW})
    write_release(cache, "0.5.3", "2025-10-06", {"srt/server_args.py": NEW})
    pkg = tmp_path / "site" / "sglang"
    for rel, text in TODAY.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    root = tmp_path / "p"
    write_project(root, [make_card(100)])
    return root, cache, pkg


def _record(root: Path, cache: Path, *extra: str):
    return CliRunner().invoke(app, ["releases", "surface", "--cache-dir", str(cache), "--root", str(root), *extra])


def test_record_writes_first_and_last_release_per_name_deterministically(project):
    root, cache, _ = project
    assert _record(root, cache, "--record").exit_code == 0
    text = (root / SURFACE_LOCK).read_text()
    h = read_history(root)
    assert h.releases == ["0.5.1", "0.5.2", "0.5.3"]
    assert str(h.flags["--cuda-graph-max-bs"]) == "0.5.1..0.5.2"
    assert str(h.flags["--cuda-graph-max-bs-decode"]) == "0.5.2..0.5.3"
    assert str(h.env["SGLANG_OLD_SWITCH"]) == "0.5.1..0.5.2" and str(h.env["SGLANG_NEW_SWITCH"]) == "0.5.2..0.5.3"
    # the check mode agrees with what was recorded, and re-recording writes the same bytes
    assert _record(root, cache).exit_code == 0
    assert _record(root, cache, "--record").exit_code == 0 and (root / SURFACE_LOCK).read_text() == text
    write_release(cache, "0.5.4", "2025-10-24", {"srt/server_args.py": NEW})
    result = _record(root, cache)
    assert result.exit_code == 1 and "differs from the releases for releases (0.5.3 last recorded -> 0.5.4)" in \
        " ".join(result.output.split()) and "run with --record" in result.output
    (root / SURFACE_LOCK).unlink()
    result = _record(root, cache)
    assert result.exit_code == 1 and "is missing" in result.output


def test_record_never_drops_a_release_the_cache_lacks(project):
    """A cache missing a release the lock records (a partial sync, another machine's cache) would rewrite the
    lock without that release's history: refused (exit 2, lock untouched); the check says to sync it."""
    root, cache, _ = project
    assert _record(root, cache, "--record").exit_code == 0
    text = (root / SURFACE_LOCK).read_text()
    (cache / "0.5.1").rename(cache.parent / "0.5.1-elsewhere")
    result = _record(root, cache, "--record")
    assert result.exit_code == 2 and "lacks 1 release(s) cards/surface.lock records (0.5.1)" in result.output
    assert "dossier releases sync --from 0.5.1 --to 0.5.1" in result.output
    assert (root / SURFACE_LOCK).read_text() == text
    check = _record(root, cache)
    assert check.exit_code == 1 and "(0.5.1)" in check.output and "run with --record" not in check.output


def _lint_prose(root: Path, pkg: Path, sentence: str):
    card = make_card(100)
    card["implementation"] += " " + sentence
    write_project(root, [card])
    return [(d.code, d.message) for d in run_lint(LintContext(Project.load(root), sglang_src=pkg), select=["D6"])]


@pytest.mark.parametrize("sentence", [
    "The then `--enable-gdn-turbo` switch chose the kernel.",
    "The old --enable-gdn-turbo flag chose the kernel.",
    "It was SGLANG_GDN_TURBO that chose the kernel.",
    "`--enable-gdn-turbo` (now `--cuda-graph-max-bs-decode`) chose the kernel.",
    "The flag --enable-gdn-turbo no longer exists.",
    "SGLang proposed --enable-gdn-turbo for it.",
    "The draft model read the then SGLANG_GDN_TURBO.",
])
def test_a_historical_name_no_release_had_is_an_error(project, sentence):
    root, cache, pkg = project
    assert _record(root, cache, "--record").exit_code == 0
    found = _lint_prose(root, pkg, sentence)
    assert [c for c, _ in found] == ["D610"], found
    assert "no SGLang release (0.5.1 .. 0.5.3)" in found[0][1]


@pytest.mark.parametrize("sentence", [
    "The then `--cuda-graph-max-bs` bounded the captured batch sizes.",
    "It was SGLANG_OLD_SWITCH that chose the kernel.",
    "The PR's --enable-gdn-turbo spelling was renamed before the merge.",
    "The description proposed --enable-gdn-turbo, which never shipped.",
])
def test_a_historical_name_some_release_had_or_a_prs_own_wording_passes(project, sentence):
    root, cache, pkg = project
    assert _record(root, cache, "--record").exit_code == 0
    assert _lint_prose(root, pkg, sentence) == []


@pytest.mark.parametrize("sentence,near", [
    ("The PR's --cuda-graph-max-bz spelling was renamed before the merge.", "--cuda-graph-max-bs"),
    ("The PR's flag was --enable-piecewise-cuda-grpah.", "--enable-piecewise-cuda-graph"),
    ("The description proposed SGLANG_OLD_SWITHC, which never shipped.", "SGLANG_OLD_SWITCH"),
])
def test_a_prs_own_wording_one_keystroke_from_a_shipped_name_is_a_misspelling(project, sentence, near):
    """Crediting a name to the PR's own text exempts it from having shipped, but not a misspelling: a name one
    keystroke from one some release had ("--cuda-graph-max-bz") is that name mistyped (session 46's round five of
    planted edits: "The PR's flag was --enable-gdn-replay-ssm-spec" passed)."""
    root, cache, pkg = project
    assert _record(root, cache, "--record").exit_code == 0
    found = _lint_prose(root, pkg, sentence)
    assert [c for c, _ in found] == ["D610"] and f"one keystroke from {near}" in found[0][1], found


@pytest.mark.parametrize("claim,state,found", [
    ("TTFT -3% with SGLANG_GDN_TURBO=1 (PR description; TP4).", "merged", ["D610"]),
    ("TTFT -3% with --enable-gdn-turbo (PR description; TP4).", "merged", ["D610"]),
    # near misses: a name some release had, a name the PR's own text gives, an unmerged PR's proposal
    ("TTFT -3% with --enable-piecewise-cuda-graph and SGLANG_OLD_SWITCH=1 (PR description; TP4).", "merged", []),
    ("TTFT -3% with the PR's --enable-gdn-turbo (PR description; TP4).", "merged", []),
    ("TTFT -3% with --enable-gdn-turbo (PR description; TP4).", "closed", []),
])
def test_a_merged_prs_claims_name_flags_and_env_vars_some_release_had(project, claim, state, found):
    """validation.claims was not checked at all: a made-up env var or flag in a merged PR's numbers passed, though
    what was run for them was real then (an unmerged PR's claims may name what never shipped)."""
    root, cache, pkg = project
    assert _record(root, cache, "--record").exit_code == 0
    card = make_card(100, state=state, **({} if state == "merged" else {"merged_at": None, "status": "candidate"}))
    card["validation"]["claims"] = [claim]
    write_project(root, [card])
    got = [d for d in run_lint(LintContext(Project.load(root), sglang_src=pkg), select=["D6"])]
    assert [d.code for d in got] == found, [d.text() for d in got]
    assert all(d.line > 0 and "no SGLang release (0.5.1 .. 0.5.3)" in d.message for d in got)


def test_a_current_mention_of_a_name_that_left_names_its_last_release(project):
    root, cache, pkg = project
    assert _record(root, cache, "--record").exit_code == 0
    found = _lint_prose(root, pkg, "Pass `--enable-piecewise-cuda-graph` and set SGLANG_OLD_SWITCH=1.")
    assert found == [
        ("D601", "--enable-piecewise-cuda-graph is not a flag of SGLang 0.5.3 (last in SGLang 0.5.2; mark it historical if "
                 "that is meant)"),
        ("D603", "SGLANG_OLD_SWITCH is not an env var of SGLang 0.5.3 (last in SGLang 0.5.2; mark it historical "
                 "if that is meant)"),
    ]


def test_without_a_lock_historical_names_are_not_judged_and_a_broken_lock_is_reported(project):
    root, _, pkg = project
    assert _lint_prose(root, pkg, "The then `--enable-gdn-turbo` switch chose the kernel.") == []
    (root / SURFACE_LOCK).write_text("version: 1\nreleases: [0.5.1]\nflags: {--x: 0.4.0}\nenv: {}\n")
    assert _lint_prose(root, pkg, "The then `--enable-gdn-turbo` switch chose the kernel.") == []  # not judged
    broken = run_lint(LintContext(Project.load(root), sglang_src=pkg), select=["D311"])
    assert [(d.code, d.file) for d in broken] == [("D311", "cards/surface.lock")]  # reported once, at the lock


def test_the_committed_lock_covers_the_cached_releases():
    root = Path(__file__).resolve().parents[2]
    h = read_history(root)
    assert h is not None and h.releases[0] == "0.5.1" and h.newest == "0.5.23"
    assert str(h.flags["--enable-piecewise-cuda-graph"]).startswith("0.5.")  # a flag that left SGLang


def test_lanes_historical_entries_must_name_flags_that_shipped(project):
    from tests.dossier.factories import LANES

    root, cache, pkg = project
    lane = {**LANES["lanes"][0], "historical": ["`--enable-gdn-turbo` was the switch", "`--cuda-graph-max-bs` was it"],
            "flags": ["historical: SGLANG_MADE_UP_SWITCH before the rename", "historical: SGLANG_OLD_SWITCH"]}
    write_project(root, [make_card(100)], {**LANES, "lanes": [lane]})
    assert _record(root, cache, "--record").exit_code == 0
    found = run_lint(LintContext(Project.load(root), sglang_src=pkg), select=["D6"])
    assert sorted((d.code, d.message.split()[0]) for d in found) == [
        ("D610", "--enable-gdn-turbo"), ("D610", "SGLANG_MADE_UP_SWITCH")]


def test_a_server_flag_ends_where_the_server_dropped_it_though_another_command_keeps_the_name(tmp_path):
    """0.5.20 to 0.5.23 dropped the server's --enable-breakable-cuda-graph, but the diffusion runtime's own
    server_args defines a flag of that name: the lock said the server flag parsed through 0.5.23."""
    from dossier import releases as rl
    from dossier.source_tree import SourceTree
    from dossier.surface_history import scan

    server = 'def add(parser):\n    parser.add_argument("--enable-shared-name", action="store_true")\n'
    other = {"multimodal_gen/runtime/cli.py": server}
    cache = tmp_path / "releases"
    write_release(cache, "0.5.1", "2025-08-23", {"srt/server_args.py": server})
    write_release(cache, "0.5.2", "2025-09-11", {"srt/server_args.py": server, **other})
    write_release(cache, "0.5.3", "2025-10-06", {"srt/server_args.py": "", **other})
    write_release(cache, "0.5.4", "2025-10-24", {"srt/server_args.py": "",
                                                 "tools/bench.py": server.replace("shared-name", "tool-only")})
    history = scan([SourceTree.release(r) for r in rl.synced(cache)])
    assert str(history.flags["--enable-shared-name"]) == "0.5.1..0.5.2"
    assert str(history.flags["--enable-tool-only"]) == "0.5.4"  # a flag no server had keeps its own span


def test_a_current_mention_of_a_server_flag_another_command_keeps_is_an_error(tmp_path):
    """0.5.20 dropped the server's --enable-breakable-cuda-graph, but the diffusion runtime defines a flag of that
    name: lint read a current mention as valid and even suggested it for near misses."""
    other = {"multimodal_gen/runtime/server_args.py": OLD}
    cache = tmp_path / "releases"
    write_release(cache, "0.5.1", "2025-08-23", {"srt/server_args.py": OLD})
    write_release(cache, "0.5.2", "2025-09-11", {"srt/server_args.py": OLD + NEW, **other})
    write_release(cache, "0.5.3", "2025-10-06", {"srt/server_args.py": NEW, **other})
    pkg = tmp_path / "site" / "sglang"
    for rel, text in {**TODAY, **other}.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    root = write_project(tmp_path / "p", [make_card(100)])
    assert _record(root, cache, "--record").exit_code == 0
    found = _lint_prose(root, pkg, "Pass `--enable-piecewise-cuda-graph` to capture prefill.")
    assert [c for c, _ in found] == ["D601"], found
    assert "not a server flag of SGLang 0.5.3 (the server's last in SGLang 0.5.2" in found[0][1]
    assert "multimodal_gen/runtime/server_args.py" in found[0][1]
    assert _lint_prose(root, pkg, "The old `--enable-piecewise-cuda-graph` captured prefill.") == []
