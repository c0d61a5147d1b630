"""Options that contradict each other, or one that the rest of the command line makes do nothing: one usage line,
exit 2, nothing done. Each was taken silently: one of the two was ignored (`lint --explain D101 --record` said
what D101 checks and exited 0, recording nothing; `regress 100 --all` ran #100 alone; `fetch 5 --git-repo .`
asked GitHub)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from dossier.cli import app

CASES = {
    "list-rules-explain": (["lint", "--list-rules", "--explain", "D101"],
                           "--list-rules and --explain do not go together: each prints what rules check and exits"),
    "explain-record": (["lint", "--explain", "D101", "--record"],
                       "--explain prints what rules check and exits, checking no card: --record would be ignored"),
    "explain-select": (["lint", "--explain", "D101", "--select", "D1"],
                       "--explain prints what rules check and exits, checking no card: --select would be ignored"),
    "explain-paths": (["lint", "cards/100.yaml", "--explain", "D101"],
                      "--explain prints what rules check and exits, checking no card: PATHS would be ignored"),
    "list-rules-json": (["lint", "--list-rules", "--format", "json", "--strict"],
                        "--list-rules prints what rules check and exits, checking no card: --format, --strict would "
                        "be ignored"),
    "allow-host-alone": (["lint", "--allow-host", "127.0.0.1"],
                         "--allow-host is for --record: it names the hosts whose cached diffs may be recorded"),
    "regress-prs-all": (["regress", "100", "--all", "--device", "cpu"],
                        "name PRs or pass --all, not both: with PRs named, --all would be ignored"),
    "regress-list-results": (["regress", "--list", "--results", "out"],
                             "--list prints the jobs as a CI matrix (JSON) and exits, running none: --results would "
                             "be ignored"),
    "regress-list-text": (["regress", "--list", "--format", "text"],
                          "--list prints the jobs as a CI matrix (JSON) and exits, running none: --format would be "
                          "ignored"),
    "show-context": (["show", "100", "--context", "9"],
                     "without --diff the card alone is printed: --context would be ignored"),
    "fetch-git-repo": (["fetch", "100", "--git-repo", "."],
                       "--git-repo is for --source git: without it the PRs would come from GitHub"),
    "sync-index-and-links": (["releases", "sync", "--index-url", "http://127.0.0.1:9/simple", "--find-links", "."],
                             "--index-url and --find-links do not go together: --find-links reads only that folder "
                             "of wheels, no index"),
}


@pytest.mark.parametrize("args, says", CASES.values(), ids=CASES.keys())
def test_options_that_contradict_are_one_usage_line(project_dir, monkeypatch, args, says):
    monkeypatch.chdir(project_dir)
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")  # nothing listens: a request would fail loudly
    before = sorted(p.relative_to(project_dir) for p in project_dir.rglob("*"))
    result = CliRunner().invoke(app, args)
    assert (result.exit_code, result.output) == (2, f"error: {says}\n")
    assert sorted(p.relative_to(project_dir) for p in project_dir.rglob("*")) == before


def test_list_rules_still_takes_select_and_ignore(project_dir, monkeypatch):
    monkeypatch.chdir(project_dir)
    result = CliRunner().invoke(app, ["lint", "--list-rules", "--select", "D10", "--ignore", "D101"])
    codes = [line.split()[0] for line in result.output.splitlines()]
    assert result.exit_code == 0 and codes[0] == "D100" and "D101" not in codes
    assert all(c.startswith("D10") for c in codes)
