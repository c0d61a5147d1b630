"""`dossier fetch` end to end against the fake GitHub API: cache hits, --all, --import, errors, secrecy."""

from __future__ import annotations

import json

import pytest
import yaml
from typer.testing import CliRunner

from dossier.cli import app
from dossier.sources.cache import Cache
from tests.dossier.factories import make_card, write_project
from tests.dossier.fake_github import FakeGitHub, Reply, make_file, make_pull

REPO = "example/repo"  # what tests.dossier.factories writes into [tool.dossier]
PATCH = "@@ -1,2 +1,2 @@\n keep = 1\n-old = 2\n+new = 2"
SECRET = "ghp_S3cr3tT0kenValue0123456789abcdefXYZ"


@pytest.fixture
def gh():
    with FakeGitHub() as fake:
        for n in (90, 100, 101, 102):
            files = [make_file(f"python/sglang/srt/m{n}.py", PATCH), make_file(f"test/test_m{n}.py", PATCH)]
            fake.add(REPO, make_pull(n, f"PR number {n}", files=files), files)
        yield fake


def fetch(gh: FakeGitHub, root, *args: str, token: str | None = None, **env):
    env = {
        "GITHUB_API_URL": gh.url,
        "GITHUB_TOKEN": token,
        "DOSSIER_CACHE": None,
        "DOSSIER_HTTP_BACKOFF": "0",
        "DOSSIER_HTTP_THROTTLE": "0",
        "DOSSIER_HTTP_RETRIES": "1",
        **env,
    }
    return CliRunner().invoke(app, ["fetch", *args, "--root", str(root)], env=env)


def test_fetch_fills_cache_then_hits_cost_zero_requests(gh, project_dir):
    first = fetch(gh, project_dir, "100", "101")
    assert first.exit_code == 0, first.output
    rows = [ln.split() for ln in first.stdout.splitlines() if ln.strip().startswith("#")]
    assert rows == [
        ["#100", "│", "merged", "│", "2", "│", "+2/-2", "│", "github", "│", "fetched"],
        ["#101", "│", "merged", "│", "2", "│", "+2/-2", "│", "github", "│", "fetched"],
    ]
    assert "2 fetched, 0 cached, 0 failed" in first.stderr
    cache = Cache(project_dir / ".dossier" / "cache")
    assert cache.get(100).facts()["files"] == {
        "runtime": ["python/sglang/srt/m100.py"],
        "tests": ["test/test_m100.py"],
        "docs": [],
    }
    asked = len(gh.requests)
    assert asked == 4
    second = fetch(gh, project_dir, "100", "101")
    assert second.exit_code == 0
    assert len(gh.requests) == asked  # cache hits: zero requests
    assert "0 fetched, 2 cached, 0 failed" in second.stderr
    third = fetch(gh, project_dir, "100", "--refresh")
    assert third.exit_code == 0 and len(gh.requests) == asked + 2


def test_entry_from_another_repo_is_not_a_hit(gh, project_dir, tmp_path):
    cache = Cache(tmp_path / "c")
    cache.put(
        100, {"number": 100, "title": "elsewhere", "files": []}, "", {"source": "github", "repo": "x/y"}
    )
    result = fetch(gh, project_dir, "100", "--cache-dir", str(tmp_path / "c"))
    assert result.exit_code == 0
    assert cache.get(100).meta["title"] == "PR number 100" and len(gh.requests) == 2
    assert "warning: #100: the cache holds #100 of x/y under this number; example/repo's replaces it" in result.stderr


def test_all_fetches_every_cited_pr(gh, tmp_path):
    root = write_project(
        tmp_path / "p",
        [
            make_card(100),
            make_card(90, status="superseded", superseded_by=[101]),
            make_card(102, status="reverted", superseded_by=[100]),
        ],
    )
    result = fetch(gh, root, "--all", "--jobs", "2")
    assert result.exit_code == 0, result.output
    cache = Cache(root / ".dossier" / "cache")
    assert all(cache.get(n) is not None for n in (90, 100, 101, 102))
    assert len([p for p in gh.paths() if not p.endswith("/files")]) == 4  # each PR once


def test_one_failure_exits_1_and_the_others_land(gh, project_dir):
    gh.fail(f"/repos/{REPO}/pulls/101", *[Reply(500, {"message": "boom"})] * 2)
    result = fetch(gh, project_dir, "100", "404404", "101", "102")
    assert result.exit_code == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert errors == [
        "error: #404404: no pull request #404404 in example/repo (HTTP 404): an issue's number, a PR of another "
        "repository (--repo), or a private repository (GITHUB_TOKEN)?",
        f"error: #101: {gh.url[7:]} answered HTTP 500 2 time(s); try again later",
    ]
    assert "Traceback" not in result.output
    cache = Cache(project_dir / ".dossier" / "cache")
    assert [n for n in (100, 101, 102, 404404) if cache.get(n)] == [100, 102]
    assert "2 fetched, 0 cached, 2 failed" in result.stderr
    failed_row = next(ln for ln in result.stdout.splitlines() if "#404404" in ln)
    assert "failed" in failed_row


def test_a_pr_github_keeps_computing_fails_alone_within_the_wait(gh, project_dir):
    gh.fail(f"/repos/{REPO}/pulls/101", *[Reply(202, {})] * 50)
    result = fetch(gh, project_dir, "100", "101", DOSSIER_HTTP_WAIT="0")
    assert result.exit_code == 1
    assert (f"error: #101: {gh.url[7:]} answered #101 with HTTP 202 (accepted, still computing) 1 time(s) over 0s: "
            "not cached; run `dossier fetch 101` again in a few minutes") in result.stderr
    assert "1 fetched, 0 cached, 1 failed" in result.stderr


def test_rate_limit_one_line_per_pr(gh, project_dir):
    gh.rate_limit_reset = 4102444800  # 2100-01-01 00:00 UTC
    result = fetch(gh, project_dir, "100")
    assert result.exit_code == 1
    # a reset days away is a wrong clock or header, not "in 38,000,000 min"
    assert "error: #100: GitHub API rate limit exhausted; it resets at 2100-01-01 00:00 UTC, " in result.stderr
    assert " days away (a clock or a header that is wrong?)" in " ".join(result.stderr.split())
    assert "set GITHUB_TOKEN to a personal access token" in result.stderr


def secondary_limit(after: str) -> Reply:
    return Reply(429, {"message": "You have exceeded a secondary rate limit."},
                 {"Retry-After": after, "X-RateLimit-Remaining": "4990"})


def test_a_secondary_rate_limit_is_waited_out_with_a_line_in_the_log(gh, project_dir):
    """It failed the PR ("retry after 1s"); now the wait is said (off a terminal too) and the PR lands."""
    gh.fail(f"/repos/{REPO}/pulls/101", secondary_limit("1"))
    result = fetch(gh, project_dir, "100", "101", "--jobs", "1", DOSSIER_HTTP_WAIT="30")
    assert result.exit_code == 0, result.output
    assert ("#101: GitHub's secondary rate limit (too many requests at once or in a short time): waiting 1s, "
            "until ") in result.stderr
    assert "2 fetched, 0 cached, 0 failed" in result.stderr
    told = " ".join(CliRunner().invoke(app, ["fetch", "--help"]).output.split())
    assert "A run's waits, both kinds, share one budget: $DOSSIER_HTTP_WAIT seconds of waiting in all" in told
    assert "A PR limited inside its file list goes on from the page it stopped at" in told


def _fetch_100_101_in_a_child(gh, project_dir, **env_vars):
    """`dossier fetch 100 101 --jobs 1` in a child process against the fake GitHub, to be signalled."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k not in ("DOSSIER_CACHE", "GITHUB_TOKEN")}
    env.update(GITHUB_API_URL=gh.url, DOSSIER_HTTP_THROTTLE="0", PYTHONPATH=str(Path(__file__).resolve().parents[2]),
               **env_vars)
    # a shell without job control starts background jobs (CI's runner, say) with SIGINT ignored, and Python
    # installs no KeyboardInterrupt handler for an ignored SIGINT: give the child the default disposition
    return subprocess.Popen([sys.executable, "-m", "dossier.cli", "fetch", "100", "101", "--jobs", "1", "--root",
                             str(project_dir)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def test_ctrl_c_while_waiting_out_a_rate_limit_ends_at_once_and_keeps_what_landed(gh, project_dir):
    """A worker thread asleep in the wait kept the process alive after Ctrl-C until the wait was over (here
    600 s): the interrupt cancels the wait, exit 130, #100 stays cached."""
    import queue
    import signal
    import threading

    gh.fail(f"/repos/{REPO}/pulls/101", secondary_limit("600"))
    proc = _fetch_100_101_in_a_child(gh, project_dir, DOSSIER_HTTP_WAIT="3600")
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=lambda: [*map(lines.put, proc.stderr), lines.put(None)], daemon=True).start()
    seen = [""]
    try:
        while "waiting 600s" not in seen[-1]:
            seen.append(lines.get(timeout=60))
            assert seen[-1] is not None, "".join(seen[:-1])  # ended without waiting
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
    finally:
        proc.kill()
    assert code == 130
    assert Cache(project_dir / ".dossier" / "cache").get(100) is not None
    assert Cache(project_dir / ".dossier" / "cache").get(101) is None


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_an_interrupted_fetch_does_not_wait_for_a_request_in_flight(gh, project_dir, how):
    """After Ctrl-C or SIGTERM the summary was printed, then the process stayed alive until a request still in
    flight ended (the pool's threads are joined at exit): up to DOSSIER_HTTP_TIMEOUT for each of its attempts.
    What is in flight is abandoned (its cache entry lands whole or not at all). (The deadline caps each request's
    timeout, so it ends them in time.)"""
    import signal
    import threading

    stuck = gh.gate[f"/repos/{REPO}/pulls/101"] = threading.Event()  # answered only when the test ends
    proc = _fetch_100_101_in_a_child(gh, project_dir, DOSSIER_HTTP_TIMEOUT="600")
    try:
        assert gh.arrived(f"/repos/{REPO}/pulls/101", timeout=60)  # #100 landed, #101 is in flight
        proc.send_signal(getattr(signal, how))
        out, err = proc.communicate(timeout=30)  # the request would hold it 600 s (the gate: 60 s)
    finally:
        proc.kill()
        stuck.set()
    assert proc.returncode == {"SIGINT": 130, "SIGTERM": 143}[how], err
    assert Cache(project_dir / ".dossier" / "cache").get(100) is not None
    assert Cache(project_dir / ".dossier" / "cache").get(101) is None


def test_jobs_run_concurrently(gh, project_dir):
    for n in (90, 100, 101, 102):
        gh.delay[f"/repos/{REPO}/pulls/{n}"] = 0.3
    assert fetch(gh, project_dir, "90", "100", "101", "102", "--jobs", "4").exit_code == 0
    assert gh.max_in_flight >= 2
    gh.max_in_flight = 0
    assert fetch(gh, project_dir, "90", "100", "--jobs", "1", "--refresh").exit_code == 0
    assert gh.max_in_flight == 1


@pytest.mark.parametrize("server_token", [SECRET, "ghp_other"], ids=["accepted", "rejected"])
def test_token_never_in_output_or_cache(gh, project_dir, server_token):
    gh.token = server_token
    result = fetch(gh, project_dir, "100", "404404", token=SECRET)
    assert gh.requests and all(r.headers["authorization"].endswith(SECRET) for r in gh.requests)
    assert SECRET not in result.output and SECRET[4:12] not in result.output
    if server_token != SECRET:
        assert "rejected the token in GITHUB_TOKEN" in result.stderr
    cache_dir = project_dir / ".dossier" / "cache"
    written = [p for p in cache_dir.rglob("*") if p.is_file()] if cache_dir.exists() else []
    assert bool(written) == (server_token == SECRET)
    assert all(SECRET not in p.read_text() for p in written)


def test_dossier_cache_env_is_used(gh, project_dir, tmp_path):
    result = fetch(gh, project_dir, "100", DOSSIER_CACHE=str(tmp_path / "envcache"))
    assert result.exit_code == 0
    assert Cache(tmp_path / "envcache").get(100) is not None
    assert not (project_dir / ".dossier").exists()


SAVED = (
    "diff --git a/python/sglang/srt/layers/linear.py b/python/sglang/srt/layers/linear.py\n"
    "index 1..2 100644\n--- a/python/sglang/srt/layers/linear.py\n+++ b/python/sglang/srt/layers/linear.py\n"
    "@@ -1,2 +1,3 @@\n keep\n+added one\n+added two\n-removed\n"
)


def test_import_saved_diff(project_dir, tmp_path):
    saved = tmp_path / "19321.diff"
    saved.write_text(SAVED)
    result = CliRunner().invoke(
        app,
        ["fetch", "19321", "--import", str(saved), "--root", str(project_dir)],
        env={"DOSSIER_CACHE": None},
    )
    assert result.exit_code == 0, result.output
    entry = Cache(project_dir / ".dossier" / "cache").get(19321)
    assert entry.provenance["source"] == "import" and entry.provenance["import_path"] == str(saved)
    assert entry.diff_text == SAVED
    assert (entry.meta["additions"], entry.meta["deletions"], entry.meta["title"]) == (2, 1, None)
    assert entry.facts()["files"]["runtime"] == ["python/sglang/srt/layers/linear.py"]
    assert "import" in result.stdout


def _import_from_pipe(project_dir, tmp_path, *args: str, writes: bytes | None):
    """`dossier fetch 19321 --import /dev/fd/N ...` as bash runs `--import <(cmd)`: N is a pipe's read end; the
    write end gets ``writes`` and is closed, or (None) is held open and never written, as `<(sleep 60)` does."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    read, write = os.pipe()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "DOSSIER_CACHE": str(tmp_path / "c")}
    try:
        if writes is not None:
            os.write(write, writes)
            os.close(write)
        return subprocess.run([sys.executable, "-m", "dossier", "fetch", "19321", "--import", f"/dev/fd/{read}",
                               *args, "--root", str(project_dir)], pass_fds=(read,), capture_output=True, text=True,
                              env=env, timeout=60)
    finally:
        os.close(read)
        if writes is None:
            os.close(write)


def test_import_from_a_process_substitution(project_dir, tmp_path):
    """`--import <(gh pr diff 19321)`, which --help offers: the path, /dev/fd/63, was resolved to where its link
    leads, `pipe:[12482]`, a name no file has: 'error: --import /proc/.../fd/pipe:[12482] does not exist', exit 2."""
    result = _import_from_pipe(project_dir, tmp_path, writes=SAVED.encode())
    assert result.returncode == 0, result.stderr
    assert Cache(tmp_path / "c").get(19321).diff_text == SAVED


def test_import_from_a_pipe_that_never_writes_ends_at_the_deadline(project_dir, tmp_path):
    """`--import <(sleep 60) --deadline 0.5`: the pipe is open and sends nothing; the fetch fails the PR at the
    deadline, one line, exit 1, nothing cached (the refusal of /dev/fd paths above ended it before it read)."""
    import time

    started = time.monotonic()
    result = _import_from_pipe(project_dir, tmp_path, "--deadline", "0.5", writes=None)
    assert time.monotonic() - started < 30
    assert result.returncode == 1, result.stderr
    assert "error: #19321: did not finish within the fetch deadline (0.5s)" in result.stderr.splitlines()
    assert Cache(tmp_path / "c").get(19321) is None


def test_import_rejects_what_is_not_a_diff(project_dir, tmp_path):
    bad = tmp_path / "bad.diff"
    bad.write_text(SAVED.replace("@@ -1,2 +1,3 @@", "@@ -1,5 +1,5 @@"))
    result = CliRunner().invoke(
        app, ["fetch", "19321", "--import", str(bad), "--root", str(project_dir)], env={"DOSSIER_CACHE": None}
    )
    assert result.exit_code == 1
    assert (
        f"error: #19321: {bad} is not a unified diff: line 9: Hunk is shorter than expected" in result.stderr
    )
    assert Cache(project_dir / ".dossier" / "cache").get(19321) is None


def test_import_of_an_endless_input_stops_at_a_bound_no_diff_reaches(project_dir, monkeypatch):
    """`--import /dev/zero` (or `<(yes)`, a pipe that never ends) read until memory ran out: "unexpected
    MemoryError", or the kernel's kill (exit 137). It is read up to a bound no PR's diff comes near."""
    from dossier.sources import saved

    assert saved.MAX_DIFF_BYTES >= 64 << 20  # a 600,000-line diff is about 30 MB
    monkeypatch.setattr(saved, "MAX_DIFF_BYTES", 1 << 20)
    result = CliRunner().invoke(
        app, ["fetch", "19321", "--import", "/dev/zero", "--root", str(project_dir)], env={"DOSSIER_CACHE": None}
    )
    assert result.exit_code == 1, result.output
    assert "error: #19321: /dev/zero holds more than 1 MiB, more than any PR's diff: not cached" in result.stderr
    assert Cache(project_dir / ".dossier" / "cache").get(19321) is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "name PR numbers, or pass --all"),
        (["1", "--jobs", "0"], "--jobs must be from 1 to 32, got 0"),
        (["1", "--repo", "not a repo"], "--repo must be OWNER/NAME"),
        (["1", "--source", "svn"], "--source must be github or git"),
        (["1", "2", "--import", "x.diff"], "--import takes exactly one PR number"),
        (
            ["1", "--git-repo", ".", "--source", "git", "--import", "x.diff"],
            "--import takes exactly one PR number",
        ),
    ],
)
def test_usage_errors_exit_2(project_dir, args, message):
    result = CliRunner().invoke(app, ["fetch", *args, "--root", str(project_dir)])
    assert result.exit_code == 2
    assert message in result.stderr


def test_new_scaffolds_from_the_fetched_facts(gh, project_dir):
    assert fetch(gh, project_dir, "101").exit_code == 0
    result = CliRunner().invoke(
        app,
        ["new", "101", "--lane", "gdn-projection", "--root", str(project_dir)],
        env={"DOSSIER_CACHE": None},
    )
    assert result.exit_code == 0, result.output
    card = yaml.safe_load((project_dir / "cards" / "101.yaml").read_text())
    assert (card["title"], card["state"], str(card["merged_at"])) == ("PR number 101", "merged", "2026-03-20")
    assert card["files"] == {
        "runtime": ["python/sglang/srt/m101.py"],
        "tests": ["test/test_m101.py"],
        "docs": [],
    }


@pytest.mark.parametrize("jobs", ["0", "-1", "33", "100000"])
def test_jobs_outside_its_range_is_one_line_naming_the_range_before_any_request(gh, project_dir, jobs):
    """--jobs 100000 started a thread per PR (each with its own GitHub client), 0 and -1 were refused without the range."""
    result = fetch(gh, project_dir, "100", "--jobs", jobs)
    assert result.exit_code == 2 and result.output == f"error: --jobs must be from 1 to 32, got {jobs}\n"
    assert gh.requests == []


def test_jobs_at_the_ends_of_its_range_fetch(gh, project_dir):
    assert fetch(gh, project_dir, "100", "--jobs", "1").exit_code == 0
    assert fetch(gh, project_dir, "101", "--jobs", "32").exit_code == 0


@pytest.mark.parametrize("where, says", [("missing.diff", "does not exist"), (".", "is a folder, not a saved diff")])
def test_an_import_path_that_is_no_file_is_a_usage_error_before_the_cache_is_touched(project_dir, tmp_path, where,
                                                                                      says):
    """It failed as the PR's fetch (exit 1, 'cannot read ...: Is a directory'), after the cache was made."""
    path = tmp_path / where
    result = CliRunner().invoke(app, ["fetch", "19321", "--import", str(path), "--root", str(project_dir)],
                                env={"DOSSIER_CACHE": None})
    assert result.exit_code == 2 and result.output == f"error: --import {path.resolve()} {says}\n"
    assert not (project_dir / ".dossier").exists()


@pytest.mark.parametrize("repo", ["../..", "owner/..", "./x", "\u0455gl-project/sglang", "a/b/c", "a b/c"])
def test_a_repo_that_is_no_github_name_is_refused_before_any_request(gh, project_dir, repo):
    """'../..' sent GET /repos/../../pulls/N (a path out of /repos/), a Cyrillic letter passed as a word character."""
    result = fetch(gh, project_dir, "100", "--repo", repo)
    assert result.exit_code == 2 and result.output == f"error: --repo must be OWNER/NAME, got {repo!r}\n"
    assert gh.requests == []


def test_an_import_saved_with_a_byte_order_mark_is_read_or_named(project_dir, tmp_path):
    """Notepad's UTF-8 mark made the first line no diff header ('line 2: Unexpected new file found'): it is dropped
    as the encoding's, not the diff's. A UTF-16 save (PowerShell's `>`) read 'byte 0xff on line 1': it is named."""
    cache = Cache(project_dir / ".dossier" / "cache")
    marked = tmp_path / "notepad.diff"
    marked.write_bytes(b"\xef\xbb\xbf" + SAVED.encode())
    args = ["fetch", "19321", "--import", str(marked), "--root", str(project_dir)]
    result = CliRunner().invoke(app, args, env={"DOSSIER_CACHE": None})
    assert result.exit_code == 0, result.output
    assert cache.get(19321).diff_text == SAVED
    wide = tmp_path / "powershell.diff"
    wide.write_bytes(SAVED.encode("utf-16"))
    result = CliRunner().invoke(app, [*args[:3], str(wide), *args[4:], "--refresh"], env={"DOSSIER_CACHE": None})
    assert result.exit_code == 1
    assert (f"error: #19321: {wide} is UTF-16LE (it starts with that byte-order mark): save the diff as UTF-8 (iconv "
            "-f UTF-16 -t UTF-8): not cached") in result.stderr
    assert cache.get(19321).diff_text == SAVED  # the entry it had


def test_an_import_saved_with_crlf_line_ends_is_cached_as_git_wrote_it(project_dir, tmp_path):
    """A diff saved with CRLF (Windows) was cached with its CRs: every path ended in CR, so the file read as a rename
    of itself and evidence.lock recorded 'qwen3_next.py\\r', and the same PR fetched as git writes it had another
    sha256. Git ends every line of a diff's own with LF, so CRLF on every line is the save's: cached with LF and
    said so (provenance saved_crlf); a CR that a changed line holds, in a CRLF save too, is the file's and kept."""
    cache = Cache(project_dir / ".dossier" / "cache")

    def imported(text: str, name: str):
        saved = tmp_path / name
        saved.write_bytes(text.encode())
        result = CliRunner().invoke(app, ["fetch", "19321", "--import", str(saved), "--root", str(project_dir)],
                                    env={"DOSSIER_CACHE": None})
        return result, cache.get(19321)

    result, lf = imported(SAVED, "lf.diff")
    assert result.exit_code == 0 and "saved_crlf" not in lf.provenance
    result, crlf = imported(SAVED.replace("\n", "\r\n"), "crlf.diff")
    assert result.exit_code == 0, result.output
    assert crlf.diff_text == SAVED and crlf.provenance["sha256"] == lf.provenance["sha256"]
    assert crlf.provenance["saved_crlf"] == SAVED.count("\n")
    (f,) = crlf.files()
    assert (f.path, f.status) == ("python/sglang/srt/layers/linear.py", "modified")
    assert ("note: #19321: every line of the saved diff ended in CRLF (saved on Windows?), which git never writes: "
            "cached with LF, the text git gives (9 lines; provenance: saved_crlf)") in result.stderr
    own = SAVED.replace("+added one\n", "+added one\r\n")  # a changed file with CRLF line ends of its own
    result, kept = imported(own, "own.diff")
    assert result.exit_code == 0 and kept.diff_text == own and "saved_crlf" not in kept.provenance
    result, both = imported(own.replace("\n", "\r\n"), "own-crlf.diff")
    assert result.exit_code == 0 and both.diff_text == own and both.provenance["saved_crlf"] == 9
    mixed = tmp_path / "mixed.diff"
    mixed.write_bytes(SAVED.replace("\n", "\r\n", 4).encode())  # the headers saved with CRLF, the hunk not
    result = CliRunner().invoke(app, ["fetch", "19321", "--import", str(mixed), "--root", str(project_dir)],
                                env={"DOSSIER_CACHE": None})
    assert result.exit_code == 1
    assert (f"error: #19321: {mixed} is not a unified diff: line 1: a file header ends in CRLF, which git never "
            "writes (a diff saved with CRLF line ends on some lines only?): convert it to LF line ends (dos2unix)"
            ) in result.stderr
    assert cache.get(19321) == both  # the entry it had
    mac = tmp_path / "mac.diff"
    mac.write_bytes(SAVED.replace("\n", "\r").encode())  # read as one line: "no file header found"
    result = CliRunner().invoke(app, ["fetch", "19321", "--import", str(mac), "--root", str(project_dir)],
                                env={"DOSSIER_CACHE": None})
    assert result.exit_code == 1 and (f"error: #19321: {mac} ends its lines in CR alone (a classic Mac save): convert "
                                      "it to LF line ends (mac2unix): not cached") in result.stderr


def test_an_import_that_is_not_utf8_is_refused_naming_where_not_cached_with_replacements(project_dir, tmp_path):
    """Each byte UTF-8 cannot read became U+FFFD in the cached diff, silently: the cache held another text than
    the file its provenance names."""
    saved = tmp_path / "latin1.diff"
    saved.write_bytes(SAVED.encode().replace(b"+added one", b"+added caf\xe9"))
    result = CliRunner().invoke(app, ["fetch", "19321", "--import", str(saved), "--root", str(project_dir)],
                                env={"DOSSIER_CACHE": None})
    assert result.exit_code == 1
    assert f"error: #19321: {saved} is not UTF-8 text (byte 0xe9 on line " in result.stderr
    assert Cache(project_dir / ".dossier" / "cache").get(19321) is None


def test_an_entry_an_older_import_cached_with_crlf_is_named_and_converted_by_fetch(gh, project_dir, tmp_path):
    """An entry `fetch --import` cached with a CRLF save's line ends before it converted them: the parser now
    refuses a path ending in CR, so the entry was useless, yet lint folded it into D301's count, `show --diff`
    printed the card then 'not a unified diff', and `fetch N` called it cached and left it so; its hint, `fetch
    --refresh N`, asks GitHub, not the saved file. Lint and show name it (one line), and `fetch N` converts it as
    an import does today, without a request."""
    cache = Cache(project_dir / ".dossier" / "cache")
    path = "python/sglang/srt/layers/linear.py"
    old_meta = {"title": None, "state": None, "merged": None, "merged_at": None, "author": None, "additions": 2,
                "deletions": 1, "changed_files": 1, "merge_commit_sha": None, "base": None, "head": None, "files": [{"filename": path + "\r", "previous_filename": path + "\r",
                                               "status": "renamed", "additions": 2, "deletions": 1,
                                               "patch_missing": False, "binary": False}]}
    cache.put(100, old_meta, SAVED.replace("\n", "\r\n"), {"source": "import", "repo": REPO,
                                                          "import_path": "/mnt/c/pr.diff"})
    env = {"DOSSIER_CACHE": None}
    why = (f"pr.diff is a saved diff an older `fetch --import` cached with its CRLF line ends, {SAVED.count(chr(10))} "
           "lines: every path in it ends in CR")
    linted = CliRunner().invoke(app, ["lint", "--root", str(project_dir)], env=env)
    assert (f"cards/100.yaml:1:1: D330 the fetch cache entry of #100 is damaged ({why}): it is not used [warning]\n"
            "    hint: `dossier fetch 100` converts it to LF, as an import does today (no request)\n") in linted.output
    shown = CliRunner().invoke(app, ["show", "100", "--diff", "--root", str(project_dir)], env=env)
    assert shown.exit_code == 2 and shown.output == (f"error: the fetch cache entry of #100 is damaged ({why}): "
                                                     "`dossier fetch 100` converts it to LF, as an import does "
                                                     "today (no request)\n")
    fetched = fetch(gh, project_dir, "100")
    assert fetched.exit_code == 0, fetched.output
    assert gh.requests == []
    assert ("note: #100: the cached diff, which an older `fetch --import` kept with the CRLF line ends of its save, "
            "was converted to LF, as an import does today (9 lines; provenance: saved_crlf)") in fetched.stderr
    mended = cache.get(100)
    saved = tmp_path / "crlf.diff"
    saved.write_bytes(SAVED.replace("\n", "\r\n").encode())
    assert CliRunner().invoke(app, ["fetch", "100", "--import", str(saved), "--cache-dir", str(tmp_path / "today"),
                                    "--root", str(project_dir)], env=env).exit_code == 0
    today = Cache(tmp_path / "today").get(100)
    assert (mended.diff_text, mended.meta, mended.provenance["sha256"]) == (
        today.diff_text, today.meta, today.provenance["sha256"])
    assert (mended.provenance["saved_crlf"], mended.provenance["import_path"]) == (9, "/mnt/c/pr.diff")
    assert "D330" not in CliRunner().invoke(app, ["lint", "--root", str(project_dir)], env=env).output


def test_an_interrupt_is_said_on_standard_output_when_standard_error_is_closed(project_dir, tmp_path):
    """`dossier fetch ... 2>&-` stopped by SIGTERM exited 143 without a word: the summary table was on stdout, the
    line saying it was cut short (and how to go on) went nowhere. It now follows the table."""
    import errno
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    fifo = tmp_path / "pr.diff"
    os.mkfifo(fifo)  # the import reads it: the fetch waits there until it is signalled
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "DOSSIER_CACHE": str(tmp_path / "c")}
    proc = subprocess.Popen(["sh", "-c", 'exec "$0" -m dossier fetch 5 --import "$1" --root "$2" 2>&-', sys.executable,
                             str(fifo), str(project_dir)], stdout=subprocess.PIPE, text=True, env=env)
    writer = None
    try:
        for _ in range(600):  # opening to write succeeds once the fetch has opened it to read
            try:
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                break
            except OSError as exc:
                assert exc.errno == errno.ENXIO
                assert proc.poll() is None, proc.stdout.read()
                time.sleep(0.1)
        assert writer is not None
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
        if writer is not None:
            os.close(writer)
    assert proc.returncode == 143
    assert out.splitlines()[-1] == "terminated: run the same command again to fetch the rest (what landed is cached)"


def test_a_pr_cached_from_another_repository_proves_nothing_of_the_projects(gh, project_dir):
    """`fetch 100 --repo other/fork` cached the fork's #100 where the project's #100 goes: lint then checked the card
    against that other change (and `lint --record` would record it as the card's proof). It is read as another
    repository's, not used, and said so (D330)."""
    files = [make_file("python/sglang/srt/models/qwen3_next.py",
                       "@@ -1 +1 @@\n-x\n+        self.in_proj_qkvzba = MergedColumnParallelLinear(")]
    gh.add("other/fork", make_pull(100, "Another PR", files=files), files)
    assert fetch(gh, project_dir, "100", "--repo", "other/fork").exit_code == 0
    card = str(project_dir / "cards" / "100.yaml")
    result = CliRunner().invoke(app, ["lint", card, "--root", str(project_dir), "--select", "D3"],
                                env={"DOSSIER_CACHE": None})
    assert ("D330 the fetch cache entry of #100 is damaged (it holds #100 of other/fork, not of example/repo): it "
            "is not used") in result.output, result.output
    shown = CliRunner().invoke(app, ["show", "100", "--diff", "--root", str(project_dir)], env={"DOSSIER_CACHE": None})
    assert shown.exit_code == 2 and "it holds #100 of other/fork, not of example/repo" in shown.output


def test_bytes_github_sent_that_are_not_utf8_are_named_and_recorded_not_cached_silently(gh, project_dir):
    """A GitHub answer with bytes that are not UTF-8 (a patch of a Latin-1 file, a title) was cached with U+FFFD in
    their place and nothing said so (robust9): the fetch now warns as a git source's does, provenance records them."""
    files = [make_file("python/sglang/srt/latin.py", PATCH.replace("new = 2", "new = 'caf\u00e9'"))]
    pull = make_pull(100, "Caf\u00e9 title", files=files)
    latin = {"\u00e9": b"\xe9"}  # the UTF-8 JSON of each answer, with its one non-ASCII character as Latin-1
    for path, body in ((f"/repos/{REPO}/pulls/100", pull), (f"/repos/{REPO}/pulls/100/files", files)):
        raw = json.dumps(body, ensure_ascii=False).encode().replace("\u00e9".encode(), latin["\u00e9"])
        gh.fail(path, Reply(200, raw))
    result = fetch(gh, project_dir, "100")
    assert result.exit_code == 0, result.output
    assert ("warning: #100: python/sglang/srt/latin.py: 1 diff line(s) not UTF-8, cached with U+FFFD (\ufffd) in place "
            "of each byte UTF-8 cannot read") in result.stderr
    assert "warning: #100: the PR's title not UTF-8, cached with U+FFFD" in result.stderr
    entry = Cache(project_dir / ".dossier" / "cache").get(100)
    assert entry.provenance["not_utf8"] == {"python/sglang/srt/latin.py": 1}
    assert entry.provenance["not_utf8_meta"] == ["title"]
    clean = fetch(gh, project_dir, "101")  # a PR in UTF-8 says nothing and records nothing
    assert "warning" not in clean.stderr and "not_utf8" not in Cache(project_dir / ".dossier" / "cache").get(101).provenance


def test_import_never_replaces_a_fetched_entry_without_refresh(gh, project_dir, tmp_path):
    """A saved diff carries no title, state or merge day: it replaced a GitHub-fetched entry without a word."""
    assert fetch(gh, project_dir, "100").exit_code == 0
    saved = tmp_path / "saved.diff"
    saved.write_text("diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1,1 +1,1 @@\n-a\n+b\n")
    refused = fetch(gh, project_dir, "100", "--import", str(saved))
    assert refused.exit_code == 2 and "cached from github" in refused.output and "--refresh" in refused.output
    cache = Cache(project_dir / ".dossier" / "cache")
    assert cache.get(100).meta["title"] == "PR number 100"
    replaced = fetch(gh, project_dir, "100", "--import", str(saved), "--refresh")
    assert replaced.exit_code == 0 and cache.get(100).provenance["source"] == "import"
    again = fetch(gh, project_dir, "100", "--import", str(saved))  # an imported entry is imported again
    assert again.exit_code == 0, again.output


def test_a_second_interrupt_does_not_cut_the_report_of_what_landed(gh, project_dir, monkeypatch):
    """`timeout -s INT` signals the process group too, so fetch took two SIGINTs: the second, landing while the table
    of what landed was printed, left only 'interrupted' (no table, no counts, no 'run the same command again'). The
    PRs left unfinished are counted, not tabled one by one (185 rows of 'interrupted' for `fetch --all`)."""
    import os
    import signal

    from dossier import fetching
    from dossier.fetching import INTERRUPTED, FetchInterrupted, Outcome

    def stopped(numbers, *args, **kwargs):
        raise FetchInterrupted([Outcome(numbers[0], "failed", error="boom"),
                                *(Outcome(n, INTERRUPTED) for n in numbers[1:])])

    table = fetching.summary_table

    def second_interrupt(outcomes):
        os.kill(os.getpid(), signal.SIGINT)  # held while the report is printed
        assert INTERRUPTED not in {o.result for o in outcomes}
        return table(outcomes)

    monkeypatch.setattr(fetching, "fetch_with_progress", stopped)
    monkeypatch.setattr(fetching, "summary_table", second_interrupt)
    before = signal.getsignal(signal.SIGINT)
    result = fetch(gh, project_dir, "100", "101", "102")
    assert result.exit_code == 130, result.output
    assert "#100" in result.stdout and "0 fetched, 0 cached, 1 failed, 2 interrupted" in result.stderr
    assert "run the same command again to fetch the rest" in result.stderr
    assert "not fetched (interrupted): #101, #102" in result.stderr
    assert signal.getsignal(signal.SIGINT) is before  # the handlers are given back
