"""GitHub source through the real PyGithub client against the fake API on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
import time

import pytest

from dossier.diff import parse_diff
from dossier.sources import SourceError
from dossier.sources.github import GithubSource, HttpSettings
from tests.dossier.fake_github import FakeGitHub, Reply, make_file, make_pull

REPO = "sgl-project/sglang"
FAST = HttpSettings(retries=2, backoff=0, timeout=5, throttle=0, wait=0)
PATCH = "@@ -5,2 +5,3 @@ def f():\n     x = 1\n-    y = 2\n+    y = 3\n+    z = 4"


@pytest.fixture
def gh():
    with FakeGitHub() as fake:
        yield fake


def source(gh: FakeGitHub, token: str | None = None, **kw) -> GithubSource:
    settings = HttpSettings(**{**FAST.__dict__, **kw})
    return GithubSource(REPO, api_url=gh.url, token=token, settings=settings)


def add_pr(gh: FakeGitHub, number: int = 19321, files: list[dict] | None = None, **kw) -> None:
    files = files if files is not None else [make_file("python/sglang/srt/layers/linear.py", PATCH)]
    gh.add(REPO, make_pull(number, "[Qwen3-Next] Fuse GDN projections", files=files, **kw), files)


def test_happy_path_metadata_diff_and_provenance(gh):
    files = [
        make_file("python/sglang/srt/layers/linear.py", PATCH),
        make_file("python/sglang/srt/models/qwen3_next.py", "@@ -0,0 +1,1 @@\n+import os", status="added"),
    ]
    add_pr(gh, files=files, author="yizhang2077", merged_at="2026-03-20T08:15:00Z")
    got = source(gh).fetch(19321)
    m = got.meta
    assert (m["number"], m["title"], m["state"], m["merged"], m["merged_at"], m["author"]) == (
        19321,
        "[Qwen3-Next] Fuse GDN projections",
        "merged",
        True,
        "2026-03-20T08:15:00Z",
        "yizhang2077",
    )
    assert (m["additions"], m["deletions"], m["changed_files"]) == (3, 1, 2)
    assert m["merge_commit_sha"] == "d" * 40
    assert m["base"] == {"ref": "main", "sha": "b" * 40}
    assert m["head"] == {"ref": "feature-19321", "sha": "c" * 40}
    assert [(f["filename"], f["status"], f["additions"], f["deletions"]) for f in m["files"]] == [
        ("python/sglang/srt/layers/linear.py", "modified", 2, 1),
        ("python/sglang/srt/models/qwen3_next.py", "added", 1, 0),
    ]
    parsed = parse_diff(got.diff_text)
    assert [f.path for f in parsed] == [f["filename"] for f in m["files"]]
    assert [(ln.new_lineno, ln.text) for ln in parsed[0].added()] == [(6, "    y = 3"), (7, "    z = 4")]
    assert got.provenance == {
        "source": "github",
        "repo": REPO,
        "api_url": gh.url,
        "api_host": gh.url.removeprefix("http://"),
        "merge_commit_sha": "d" * 40,
        "base_sha": "b" * 40,
        "head_sha": "c" * 40,
    }
    assert gh.paths() == [f"/repos/{REPO}/pulls/19321", f"/repos/{REPO}/pulls/19321/files"]


@pytest.mark.parametrize(
    ("state", "merged_at", "expect"), [("open", None, "open"), ("closed", None, "closed")]
)
def test_state_merged_wins_only_when_merged(gh, state, merged_at, expect):
    add_pr(gh, state=state, merged_at=merged_at)
    m = source(gh).fetch(19321).meta
    assert (m["state"], m["merged"], m["merged_at"]) == (expect, False, None)


def test_pagination_reads_every_page_of_files(gh):
    files = [make_file(f"python/pkg/mod_{i:03d}.py", PATCH) for i in range(250)]
    add_pr(gh, files=files)
    got = source(gh).fetch(19321)
    assert [f["filename"] for f in got.meta["files"]] == [f["filename"] for f in files]
    assert len(parse_diff(got.diff_text)) == 250
    pages = [r.query.get("page", "1") for r in gh.requests if r.path.endswith("/files")]
    assert pages == ["1", "2", "3"]
    assert {r.query["per_page"] for r in gh.requests if r.path.endswith("/files")} == {"100"}


def test_a_file_list_that_repeats_or_stops_short_is_refused(gh):
    """A proxy that replays a page (its Link says there is more) or drops the Link header: the files do not add
    up to changed_files, and a diff missing files would read as evidence that the PR never changed them."""
    files = [make_file(f"python/pkg/mod_{i}.py", PATCH) for i in range(3)]
    add_pr(gh, files=files)
    path = f"/repos/{REPO}/pulls/19321/files"
    more = {"Link": f'<{gh.url}{path}?per_page=100&page=2>; rel="next"'}
    gh.fail(path, Reply(200, files[:2], more), Reply(200, files[:2]))
    with pytest.raises(SourceError, match=r"#19321 listed python/pkg/mod_0.py twice .*: not cached"):
        source(gh).fetch(19321)
    gh.fail(path, Reply(200, files[:2]))
    with pytest.raises(SourceError, match=r"#19321 with 2 of its 3 changed files .*: not cached"):
        source(gh).fetch(19321)
    assert len(parse_diff(source(gh).fetch(19321).diff_text)) == 3  # the whole list is cached


@pytest.mark.parametrize("where, bad", [("pull", {"merged_at": "yesterday"}), ("pull", {"user": "octo"}),
                                        ("files", {"additions": "7"}), ("files", {"status": "teleported"})])
def test_a_field_of_the_wrong_kind_is_malformed_data(gh, where, bad):
    files = [make_file("python/ok.py", PATCH)]
    add_pr(gh, files=files)
    pull = gh.pulls[REPO, 19321]
    gh.fail(f"/repos/{REPO}/pulls/19321" + ("/files" if where == "files" else ""),
            Reply(200, [{**files[0], **bad}]) if where == "files" else Reply(200, {**pull, **bad}))
    with pytest.raises(SourceError, match=r"answered #19321 with malformed data \(.+\): not cached$"):
        source(gh).fetch(19321)


@pytest.mark.parametrize(("where", "body", "why"), [
    ("", b'{"number": 19321, "title": 7 8}', "not JSON: Expecting ',' delimiter"),
    ("/files", b"[" * 100_000 + b"]" * 100_000, "JSON nested too deep"),  # was 'unexpected RecursionError: ...'
    ("", b"[" * 100_000 + b"]" * 100_000, "JSON nested too deep"),
    ("", b"null", "TypeError: "),  # and what PyGithub said
])
def test_a_body_that_is_no_json_object_is_malformed_data(gh, where, body, why):
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321{where}", Reply(200, body))
    with pytest.raises(SourceError) as info:
        source(gh).fetch(19321)
    said = f"{gh.url.removeprefix('http://')} answered #19321 with malformed data ({why}"
    assert str(info.value).startswith(said) and str(info.value).endswith("): not cached"), str(info.value)


@pytest.mark.parametrize("entry", [make_file("python/a\nb.py", PATCH),
                                   make_file("python/b.py", PATCH, status="renamed", previous_filename="python/a\r")])
def test_a_file_name_with_a_line_break_is_named_not_blamed_on_the_patch(gh, entry):
    """A name git allows but a diff header cannot carry unquoted: the fetch said 'GitHub sent a patch that is not a
    valid diff (line 8: Unexpected hunk found ...)', blaming a patch that was fine."""
    add_pr(gh, files=[entry])
    with pytest.raises(SourceError) as info:
        source(gh).fetch(19321)
    name = entry.get("previous_filename") or entry["filename"]
    assert str(info.value) == (f"{gh.url.removeprefix('http://')} answered #19321 with the file name {name!r}, which "
                               "holds a line break no diff header can carry unquoted: not cached")


def test_a_redirect_to_another_host_or_scheme_names_github_api_url(gh):
    """`http://` for an https API (or an HTML host) answers 301: say which setting to fix, not PyGithub's."""
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321", Reply(301, {}, {"Location": f"https://example.com/repos/{REPO}/pulls/19321"}))
    with pytest.raises(SourceError, match=r"^http://.+ answers with a redirect \(.+ from http protocol to https\): set GITHUB_API_URL to "):
        source(gh).fetch(19321)


def test_a_redirect_on_the_same_host_to_another_repositorys_pr_is_not_cached_as_ours(gh):
    """GitHub answers a renamed repository's old path with a 301 on the same host, which the client follows: a PR of
    another repository was cached (its title and files) under this one's name and number."""
    files = [make_file("python/x.py", PATCH)]
    gh.add("someone/fork", make_pull(19321, "A fork's PR", files=files), files)
    for tail in ("", "/files"):
        gh.fail(f"/repos/{REPO}/pulls/19321{tail}",
                Reply(301, {}, {"Location": f"{gh.url}/repos/someone/fork/pulls/19321{tail}"}))
    with pytest.raises(SourceError, match=r"answered #19321 with a PR of someone/fork, not of sgl-project/sglang "
                                          r"\(a redirect to another repository; renamed\? set repo in "):
        source(gh).fetch(19321)


def test_a_metadata_answer_that_is_not_json_says_so(gh):
    """A 200 with an HTML body (a proxy's error page) read as 'answered #19321 without a valid title, state, ...'."""
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321", Reply(200, b"<html><body>Server busy</body></html>",
                                                 {"Content-Type": "text/html"}))
    with pytest.raises(SourceError, match=r"answered #19321 with malformed data \(not JSON: the answer's body starts "
                                          r"'<html><body>Server busy"):
        source(gh).fetch(19321)


def test_a_patch_that_is_not_a_valid_diff_is_named_by_its_file(gh):
    """'GitHub sent a patch that is not a valid diff (line 7: Hunk is shorter than expected)' named neither the file
    nor a line the user could find: line 7 of a diff assembled from every file's patch."""
    add_pr(gh, files=[make_file("python/ok.py", PATCH), make_file("python/short.py", "@@ -1,3 +1,3 @@\n-a\n+b")])
    with pytest.raises(SourceError, match=r"answered #19321 with a patch for python/short.py that is not a valid diff "
                                          r"\(its section's line \d+: "):
        source(gh).fetch(19321)


def test_file_without_patch_binary_and_rename_are_recorded(gh):
    files = [
        make_file("python/huge_table.py", None, additions=40000, deletions=12),
        make_file("assets/plot.png", None, status="added"),
        make_file("python/new_name.py", None, status="renamed", previous_filename="python/old_name.py"),
        make_file("python/edited_name.py", PATCH, status="renamed", previous_filename="python/orig.py"),
        make_file("python/ok.py", PATCH),
        make_file("scripts/run.sh", None, status="changed"),  # chmod +x: no lines, and not a binary file
    ]
    add_pr(gh, files=files)
    got = source(gh).fetch(19321)
    flags = {
        f["filename"]: (f["status"], f["previous_filename"], f["patch_missing"], f["binary"])
        for f in got.meta["files"]
    }
    assert flags == {
        "python/huge_table.py": ("modified", None, True, False),
        "assets/plot.png": ("added", None, False, True),
        "python/new_name.py": ("renamed", "python/old_name.py", False, False),
        "python/edited_name.py": ("renamed", "python/orig.py", False, False),
        "python/ok.py": ("modified", None, False, False),
        "scripts/run.sh": ("modified", None, False, False),
    }
    parsed = {f.path: f for f in parse_diff(got.diff_text)}
    assert parsed["python/huge_table.py"].hunks == ()
    assert parsed["assets/plot.png"].binary
    assert parsed["python/new_name.py"].old_path == "python/old_name.py"
    assert len(parsed["python/edited_name.py"].added()) == 2
    assert not parsed["scripts/run.sh"].binary and parsed["scripts/run.sh"].hunks == ()


@pytest.mark.parametrize("patch", ["this is not a diff\nat all\0binary", "<html>Server busy</html>"])
def test_a_patch_that_is_not_a_diff_is_refused_naming_the_pr_and_file(gh, patch):
    add_pr(gh, files=[make_file("python/ok.py", PATCH), make_file("python/sglang/srt/layers/linear.py", patch)])
    with pytest.raises(SourceError, match=r"#19321 with a patch for python/sglang/srt/layers/linear.py that is "
                                          r"not a unified diff .*: not cached"):
        source(gh).fetch(19321)


def test_unknown_pr_is_404_and_says_what_the_number_may_be(gh):
    """GitHub answers 404 for an issue's number (issues and PRs share numbers), a PR of another repository and a
    private repository without a token: "not found" alone left the user guessing."""
    with pytest.raises(SourceError) as info:
        source(gh).fetch(99999)
    assert str(info.value) == ("no pull request #99999 in sgl-project/sglang (HTTP 404): an issue's number, a PR of "
                               "another repository (--repo), or a private repository (GITHUB_TOKEN)?")


def test_bad_token_is_401_and_the_token_is_sent(gh):
    add_pr(gh)
    gh.token = "ghp_right"
    with pytest.raises(SourceError, match="rejected the token in GITHUB_TOKEN") as info:
        source(gh, token="ghp_wrong_3c7e").fetch(19321)
    assert "ghp_wrong_3c7e" not in str(info.value)
    assert gh.requests[0].headers["authorization"].endswith("ghp_wrong_3c7e")
    assert source(gh, token="ghp_right").fetch(19321).meta["number"] == 19321


def test_a_token_pasted_with_a_line_end_is_sent_without_it(gh):
    """`GITHUB_TOKEN=$(cat token.txt)` in a CI secret often keeps the newline: an HTTP header cannot carry it."""
    add_pr(gh)
    gh.token = "ghp_right"
    assert source(gh, token=" ghp_right\r\n").fetch(19321).meta["number"] == 19321


@pytest.mark.parametrize("token", ["ghp\u20ac_ab", "ghp _ab", "ghp\x00_ab"])
def test_a_token_with_a_character_no_token_has_is_refused_before_any_request(gh, token):
    """Not 'malformed data' from the server (a non-ASCII character) nor an InvalidHeader per PR; never echoed."""
    with pytest.raises(SourceError, match=r"^GITHUB_TOKEN holds a character no GitHub token has \(at position 4: "
                                          r"U\+[0-9A-F]{4}\); check how it was set$"):
        source(gh, token=token)
    assert gh.requests == []


def test_anonymous_requests_carry_no_authorization(gh):
    add_pr(gh)
    source(gh).fetch(19321)
    assert all("authorization" not in r.headers for r in gh.requests)


@pytest.mark.parametrize(("token", "hint"), [(None, "set GITHUB_TOKEN"), ("ghp_x", "wait for the reset")])
def test_rate_limit_says_when_it_resets_and_how_to_pass_a_token(gh, token, hint):
    add_pr(gh)
    gh.rate_limit_reset = int(time.time()) + 37 * 60
    reset = time.strftime("%H:%M", time.gmtime(gh.rate_limit_reset))
    with pytest.raises(SourceError) as info:
        source(gh, token=token).fetch(19321)
    msg = str(info.value)
    assert msg.startswith("GitHub API rate limit exhausted; it resets at " + reset + " UTC (in 3")
    assert hint in msg
    assert len(gh.requests) == 1  # a rate limit is not retried


@pytest.mark.parametrize("status", [403, 429])
@pytest.mark.parametrize("token", [None, "ghp_x"])
def test_a_secondary_rate_limit_says_retry_after_and_to_slow_down_not_to_wait_for_the_hourly_reset(gh, status, token):
    """GitHub's secondary limit (too many requests at once: 403/429, Retry-After, requests left this hour) read as
    the hourly limit exhausted: "it resets at HH:MM (in 52 min)" from the hourly window's reset, and, without a
    token, "set GITHUB_TOKEN", which does not lift it."""
    add_pr(gh)
    reset = int(time.time()) + 52 * 60
    gh.fail(f"/repos/{REPO}/pulls/19321", Reply(status, {
        "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
        "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"},
        {"Retry-After": "60", "X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": "4990",
         "X-RateLimit-Reset": str(reset)}))
    with pytest.raises(SourceError) as info:
        source(gh, token=token).fetch(19321)
    msg = str(info.value)
    assert msg == ("GitHub's secondary rate limit (too many requests at once or in a short time): retry after 60s, "
                   "with fewer at once (--jobs 1, DOSSIER_HTTP_THROTTLE=1); not waited out: 60s is more than the 0s "
                   "left of DOSSIER_HTTP_WAIT=0")


SECONDARY = {"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
             "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}


def limited(status: int, after: str | None = "1", **headers: str) -> Reply:
    """A secondary rate limit reply: requests left this hour, Retry-After (when given)."""
    extra = {"Retry-After": after} if after is not None else {}
    return Reply(status, SECONDARY, {"X-RateLimit-Remaining": "4990", **extra, **headers})


@pytest.mark.parametrize(("status", "where"), [(429, ""), (403, "/files")])
def test_a_secondary_rate_limit_is_waited_out_then_the_pr_is_fetched(gh, status, where):
    """It was reported at once ("retry after 60s"), so `fetch --all` lost every PR the limit caught: now the
    source waits as GitHub asks (Retry-After), says so, and asks again."""
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321{where}", limited(status))
    said: list[str] = []
    src = source(gh, wait=30)
    src.on_wait = said.append
    got = src.fetch(19321)
    assert got.meta["files"][0]["filename"] == "python/sglang/srt/layers/linear.py"
    assert gh.paths().count(f"/repos/{REPO}/pulls/19321{where}") == 2
    assert len(said) == 1 and said[0].startswith(
        "#19321: GitHub's secondary rate limit (too many requests at once or in a short time): waiting 1s, until ")
    assert said[0].endswith(" UTC, then asking again (1s of at most 30s of waiting a run, "
                            "DOSSIER_HTTP_WAIT)")


@pytest.mark.parametrize(("status", "body", "headers"), [
    (429, {"message": "slow down"}, {"Retry-After": "1"}),  # a gateway's own words: Too Many Requests all the same
    (429, {"message": "Too Many Requests"}, {}),  # no Retry-After: a minute, as GitHub advises
    (403, {"message": "Forbidden"}, {"Retry-After": "1"}),
])
def test_a_too_many_requests_answer_is_a_rate_limit_whatever_its_text(gh, status, body, headers):
    """An HTTP 429 (or a 403 naming a Retry-After) whose message does not say 'rate limit' and that carries no
    X-RateLimit-Remaining, as a proxy or GitHub Enterprise's gateway answer: the PR failed at once, 'GitHub API
    error HTTP 429: slow down', never waited out. It is the secondary limit: waited as asked, then asked again."""
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321", Reply(status, body, headers))
    said: list[str] = []
    src = source(gh, wait=30 if headers else 0)
    src.on_wait = said.append
    if not headers:
        with pytest.raises(SourceError) as info:
            src.fetch(19321)
        assert str(info.value) == ("GitHub's secondary rate limit (too many requests at once or in a short time): "
                                   "wait a minute or more, with fewer at once (--jobs 1, DOSSIER_HTTP_THROTTLE=1); "
                                   "not waited out: 60s is more than the 0s left of DOSSIER_HTTP_WAIT=0")
        return
    assert src.fetch(19321).meta["title"]
    assert gh.paths().count(f"/repos/{REPO}/pulls/19321") == 2
    assert len(said) == 1 and said[0].startswith("#19321: GitHub's secondary rate limit (too many requests at once "
                                                 "or in a short time): waiting 1s, until ")


def test_a_rate_limit_wait_beyond_what_is_left_is_reported_at_once_and_the_total_is_bounded(gh):
    """The cap is for the whole run (every PR a limit catches shares it), and a Retry-After: 0 that GitHub keeps
    sending counts a second each time: the waiting ends."""
    add_pr(gh)
    add_pr(gh, 19322)
    gh.fail(f"/repos/{REPO}/pulls/19321", limited(429, "120"))
    src = source(gh, wait=1)
    with pytest.raises(SourceError, match=r"retry after 120s, .*; not waited out: 120s is more than the 1s left "
                                          r"of DOSSIER_HTTP_WAIT=1$"):
        src.fetch(19321)
    assert gh.paths().count(f"/repos/{REPO}/pulls/19321") == 1  # reported at once, not asked again
    gh.fail(f"/repos/{REPO}/pulls/19322", *[limited(403, "0")] * 50)
    with pytest.raises(SourceError, match=r"retry after 0s, .*; not waited out: 1s is more than the 0s left "
                                          r"of DOSSIER_HTTP_WAIT=1$"):
        src.fetch(19322)
    assert gh.paths().count(f"/repos/{REPO}/pulls/19322") == 2  # waited (counted 1 s) once, then refused


def test_a_rate_limit_wait_the_fetch_deadline_would_cut_is_reported_at_once(gh):
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321", limited(429, "5"))
    src = source(gh, wait=60)
    src.deadline = time.monotonic() + 2
    with pytest.raises(SourceError, match=r"retry after 5s, .*; not waited out: the fetch deadline \(--deadline\) "
                                          r"ends before it$"):
        src.fetch(19321)
    assert len(gh.requests) == 1


def test_the_hourly_limit_is_waited_out_when_it_resets_within_the_cap(gh):
    """The same rule for the hourly limit: its reset is when to ask again (37 minutes away above: reported)."""
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321", Reply(403, {"message": "API rate limit exceeded for 127.0.0.1."}, {
        "X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 1)}))
    said: list[str] = []
    src = source(gh, wait=30)
    src.on_wait = said.append
    assert src.fetch(19321).meta["number"] == 19321
    assert len(said) == 1 and said[0].startswith("#19321: GitHub API rate limit exhausted: waiting ")


def test_an_hourly_reset_beyond_any_date_is_reported_not_a_crash(gh):
    """X-RateLimit-Reset: 99999999999999 made datetime raise ("year is out of range"): `unexpected ValueError`."""
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321", Reply(403, {"message": "API rate limit exceeded"}, {
        "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "99999999999999"}))
    with pytest.raises(SourceError, match=r"^GitHub API rate limit exhausted; it resets at \d{4}-\d\d-\d\d \d\d:\d\d "
                                          r"UTC, [\d,]+ days away \(a clock or a header that is wrong\?\): set "
                                          r"GITHUB_TOKEN.*; not waited out: "):
        source(gh, wait=60).fetch(19321)


def test_a_cancelled_source_stops_waiting_at_once(gh):
    """Ctrl-C during a wait: the fetch loop cancels the source, and a worker thread asleep in the wait ends
    (the process would otherwise hang at exit until the wait was over)."""
    import threading

    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321", limited(429, "600"))
    src = source(gh, wait=3600)
    waiting = threading.Event()
    src.on_wait = lambda line: waiting.set()
    failed: list[BaseException] = []

    def run():
        try:
            src.fetch(19321)
        except SourceError as exc:
            failed.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    assert waiting.wait(10)
    src.cancel()
    worker.join(10)
    assert not worker.is_alive()
    assert [str(e) for e in failed] == ["interrupted while waiting out GitHub's rate limit: not cached"]


def test_server_error_is_retried_then_succeeds(gh):
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321", Reply(500, {"message": "Server Error"}))
    gh.fail(
        f"/repos/{REPO}/pulls/19321/files",
        Reply(502, {"message": "Bad Gateway"}),
        Reply(503, {"message": "Unavailable"}),
    )
    got = source(gh).fetch(19321)
    assert got.meta["files"][0]["filename"] == "python/sglang/srt/layers/linear.py"
    assert len(gh.requests) == 5


def test_server_error_that_persists_is_reported_after_the_retries(gh):
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321", *[Reply(500, {"message": "Server Error"})] * 5)
    with pytest.raises(SourceError, match=r"answered HTTP 500 3 time\(s\); try again later$"):
        source(gh).fetch(19321)
    assert len(gh.requests) == 3


def test_timeout_is_reported(gh):
    add_pr(gh)
    gh.delay[f"/repos/{REPO}/pulls/19321"] = 1.6
    start = time.monotonic()
    with pytest.raises(SourceError, match=r"did not answer within 1s \(1 attempt\(s\)\)$"):
        source(gh, timeout=1, retries=0).fetch(19321)
    assert time.monotonic() - start < 1.5


def test_unreachable_host_is_one_line():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = GithubSource(REPO, api_url=f"http://127.0.0.1:{port}", settings=FAST)
    with pytest.raises(SourceError, match=rf"^cannot reach http://127.0.0.1:{port} \(3 attempt\(s\)\)"):
        src.fetch(1)


def test_settings_from_env():
    s = HttpSettings.from_env(
        {"DOSSIER_HTTP_RETRIES": "0", "DOSSIER_HTTP_BACKOFF": "0.5", "DOSSIER_HTTP_THROTTLE": "0"}
    )
    assert (s.retries, s.backoff, s.throttle, s.timeout) == (0, 0.5, 0.0, 30)
    with pytest.raises(SourceError, match="DOSSIER_HTTP_TIMEOUT must be a whole number"):
        HttpSettings.from_env({"DOSSIER_HTTP_TIMEOUT": "soon"})


@pytest.mark.parametrize("name, value, expect", [
    ("RETRIES", "-1", "a whole number from 0 to 20"), ("TIMEOUT", "0", "a whole number from 1 to 3600"),
    ("TIMEOUT", "1e9", "a whole number from 1 to 3600"), ("BACKOFF", "nan", "a number from 0 to 60"),
    ("THROTTLE", "-5", "a number from 0 to 60"), ("PER_PAGE", "0", "a whole number from 1 to 100"),
    ("PER_PAGE", "1000", "a whole number from 1 to 100"), ("WAIT", "inf", "a number from 0 to 86400"),
    ("WAIT", "-1", "a number from 0 to 86400"), ("WAIT", "1e9", "a number from 0 to 86400"),
])
def test_settings_out_of_range_are_refused_with_the_range(name, value, expect):
    """A zero timeout read as 'malformed data', a negative throttle or zero page size as an AssertionError in
    PyGithub: each knob says what it takes instead."""
    with pytest.raises(SourceError, match=rf"^DOSSIER_HTTP_{name} must be {expect}, got '{value}'$"):
        HttpSettings.from_env({f"DOSSIER_HTTP_{name}": value})


@pytest.mark.parametrize("name", ["DOSSIER_HTTP_WAIT_202", "DOSSIER_HTTP_WAIT_RATE_LIMIT"])
def test_a_wait_budget_by_its_former_name_is_refused_naming_the_one_that_replaced_it(name):
    """Ignoring it would wait the 300 s default where the user set 0 (as CI jobs do to fail fast)."""
    with pytest.raises(SourceError, match=rf"^{name} is gone: DOSSIER_HTTP_WAIT=SECONDS bounds a run's waiting, "
                                          r"for 202 answers and rate limits alike$"):
        HttpSettings.from_env({name: "0"})
    assert HttpSettings.from_env({name: "", "DOSSIER_HTTP_WAIT": "0"}).wait == 0  # set empty: not set


def test_token_never_reaches_logs(gh, caplog):
    add_pr(gh)
    gh.token = "ghp_right"
    with caplog.at_level(logging.DEBUG):
        source(gh, token="ghp_right").fetch(19321)
        with pytest.raises(SourceError):
            source(gh, token="ghp_wrong_secret").fetch(19321)
    assert caplog.records  # PyGithub and urllib3 did log at DEBUG
    assert "ghp_right" not in caplog.text and "ghp_wrong_secret" not in caplog.text


@pytest.mark.parametrize("where", ["", "/files"])
def test_a_pr_github_keeps_computing_fails_naming_it_instead_of_waiting_forever(gh, where):
    """PyGithub answers a 202 by sleeping 2 s and asking again, with no end: the wait is bounded
    (DOSSIER_HTTP_WAIT, here 0) and the error names the PR and what to do."""
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321{where}", *[Reply(202, {})] * 3)
    started = time.monotonic()
    with pytest.raises(SourceError) as err:
        source(gh, wait=0).fetch(19321)
    assert time.monotonic() - started < 1.5  # no 2 s sleep before failing
    assert str(err.value).startswith(f"{gh.url.removeprefix('http://')} answered #19321 with HTTP 202 "
                                     "(accepted, still computing) 1 time(s) over 0s: not cached; run "
                                     "`dossier fetch 19321` again in a few minutes, or allow a run more waiting "
                                     "with DOSSIER_HTTP_WAIT=SECONDS (now 0, 0s of it left)")
    assert gh.paths().count(f"/repos/{REPO}/pulls/19321{where}") == 1


def test_the_fetch_deadline_also_ends_a_202_wait(gh):
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321", *[Reply(202, {})] * 3)
    src = source(gh)
    src.deadline = time.monotonic() + 1  # PyGithub's next ask (2 s) would pass it
    with pytest.raises(SourceError, match=r"202 .* the fetch deadline \(--deadline\) left no time to wait"):
        src.fetch(19321)


def test_a_202_within_the_wait_is_asked_again_and_fetched(gh):
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321", Reply(202, {}))
    assert source(gh, wait=10).fetch(19321).meta["number"] == 19321
    assert HttpSettings().wait == 300  # bounded by default


def file_pages(gh: FakeGitHub, files: list[dict], *numbers: int) -> list[Reply]:
    """The fake's own pages of 100 files (with their Link header), to script before a fault."""
    path = f"/repos/{REPO}/pulls/19321/files"
    return [Reply(200, files[(n - 1) * 100:n * 100], {"Link": f'<{gh.url}{path}?per_page=100&page={n + 1}>; '
                                                              f'rel="next"'}) for n in numbers]


def test_a_rate_limit_caught_mid_list_resumes_at_the_page_it_stopped_at(gh):
    """A PR of 3 pages limited at its third was listed again from its first page after the wait (every page
    asked again, under a limit that counts requests): the pages read are kept, the metadata is asked again (its
    head says whether they still hold), and the list goes on from the page that was limited."""
    files = [make_file(f"python/pkg/mod_{i:03d}.py", PATCH) for i in range(250)]
    add_pr(gh, files=files)
    gh.fail(f"/repos/{REPO}/pulls/19321/files", *file_pages(gh, files, 1, 2), limited(429))
    got = source(gh, wait=30).fetch(19321)
    assert [f["filename"] for f in got.meta["files"]] == [f["filename"] for f in files]
    asked = [r.query.get("page", "1") if r.path.endswith("/files") else "pull" for r in gh.requests]
    assert asked == ["pull", "1", "2", "3", "pull", "3"]


def test_a_pr_whose_head_moved_during_the_wait_is_listed_again_from_the_first_page(gh):
    """Pages listed at another commit are not this commit's list: resuming would mix two lists."""
    files = [make_file(f"python/pkg/mod_{i:03d}.py", PATCH) for i in range(250)]
    add_pr(gh, files=files)
    gh.fail(f"/repos/{REPO}/pulls/19321/files", *file_pages(gh, files, 1, 2), limited(429))
    src = source(gh, wait=30)
    src.on_wait = lambda line: gh.pulls[REPO, 19321]["head"].update(sha="e" * 40)  # pushed to meanwhile
    got = src.fetch(19321)
    assert len(got.meta["files"]) == 250 and got.provenance["head_sha"] == "e" * 40
    asked = [r.query.get("page", "1") if r.path.endswith("/files") else "pull" for r in gh.requests]
    assert asked == ["pull", "1", "2", "3", "pull", "1", "2", "3"]


def test_retry_after_as_an_http_date_is_honoured():
    """RFC 9110 allows `Retry-After: <HTTP date>`; it was read as "no number": a minute."""
    from dossier.sources.github import retry_after

    now = dt.datetime(2026, 12, 2, 0, 0, 0, tzinfo=dt.UTC)
    assert retry_after("Wed, 02 Dec 2026 00:01:30 GMT", now) == 90
    assert retry_after("Wednesday, 02-Dec-26 00:00:07 GMT", now) == 7  # RFC 850, obsolete but allowed
    assert retry_after("Tue, 01 Dec 2026 23:00:00 GMT", now) == 0  # in the past: ask now
    assert retry_after(" 120 ", now) == 120
    assert retry_after("9" * 5000, now) > 86400  # past any budget (int() refuses 4300 digits and more)
    for bad in ("soon", "-5", "1.5", "", "\u0661\u0662", "Wed, 32 Dec 2026 00:00:00 GMT"):
        assert retry_after(bad, now) is None, bad


def test_a_retry_after_date_in_the_past_is_waited_as_now_not_a_minute(gh):
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321", limited(429, "Wed, 21 Oct 2015 07:28:00 GMT"))
    said: list[str] = []
    src = source(gh, wait=30)  # a minute would not fit
    src.on_wait = said.append
    assert src.fetch(19321).meta["number"] == 19321
    assert len(said) == 1 and ": waiting 1s, until " in said[0]


@pytest.mark.parametrize("after", ["soon", "1.5"])
def test_a_retry_after_that_is_no_delay_nor_date_says_the_minute_it_falls_back_to(gh, after):
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321", limited(429, after))
    with pytest.raises(SourceError, match=rf"Retry-After {after!r} is neither seconds nor an HTTP date, so a minute "
                                          r"as GitHub advises.*; not waited out: 60s is more than the 30s left"):
        source(gh, wait=30).fetch(19321)


def test_a_202_wait_and_a_rate_limit_draw_on_one_wait_budget_for_the_run(gh, monkeypatch):
    """Two budgets (60 s per PR for 202 answers, 300 s a run for rate limits) bounded a run's waiting by neither:
    `fetch --all` could wait 60 s for every PR. One budget, DOSSIER_HTTP_WAIT, covers both."""
    from github import Consts

    monkeypatch.setattr(Consts, "PROCESSING_202_WAIT_TIME", 0.5)
    add_pr(gh)
    add_pr(gh, 19322)
    gh.fail(f"/repos/{REPO}/pulls/19321", *[Reply(202, {})] * 3)
    src = source(gh, wait=2)
    assert src.fetch(19321).meta["number"] == 19321  # 1.5 s of the 2 s waited
    gh.fail(f"/repos/{REPO}/pulls/19322", limited(429, "1"))
    with pytest.raises(SourceError, match=r"not waited out: 1s is more than the 0s left of DOSSIER_HTTP_WAIT=2$"):
        src.fetch(19322)
    gh.fail(f"/repos/{REPO}/pulls/19322", Reply(202, {}), Reply(202, {}))  # the first 202 takes the 0.5 s left
    with pytest.raises(SourceError, match=r"202 \(accepted, still computing\) 2 time\(s\) .* not cached; run `dossier fetch 19322` again in a few minutes, or "
                                          r"allow a run more waiting with DOSSIER_HTTP_WAIT=SECONDS \(now 2, 0s of "
                                          r"it left\)$"):
        src.fetch(19322)


def test_two_prs_limited_at_once_print_one_wait_line(gh):
    """Requests in flight when a limit starts are limited too, a moment later: that is the same pause (it
    printed a second line for the milliseconds the second one moved its end)."""
    import threading

    add_pr(gh)
    add_pr(gh, 19322)
    gh.fail(f"/repos/{REPO}/pulls/19321", limited(429, "1"))
    gh.fail(f"/repos/{REPO}/pulls/19322", limited(429, "1"))
    gate = gh.gate[f"/repos/{REPO}/pulls/19322"] = threading.Event()
    said: list[str] = []
    src = source(gh, wait=30)
    src.on_wait = lambda line: (said.append(line), gate.set())
    got = {}
    second = threading.Thread(target=lambda: got.update(b=src.fetch(19322)), daemon=True)
    second.start()
    assert gh.arrived(f"/repos/{REPO}/pulls/19322", timeout=10)  # in flight, held by the server
    got["a"] = src.fetch(19321)
    second.join(30)
    assert {k: v.meta["number"] for k, v in got.items()} == {"a": 19321, "b": 19322}
    assert len(said) == 1, said


@pytest.mark.parametrize("link", ["<http://evil.example:1/repos/o/r/pulls/19321/files?page=2>", "<>"])
def test_a_next_page_on_another_host_is_refused_naming_it(gh, link):
    """PyGithub asserts that a Link header stays on the API's host: "unexpected AssertionError: evil.example"."""
    files = [make_file(f"python/pkg/mod_{i}.py", PATCH) for i in range(3)]
    add_pr(gh, files=files)
    gh.fail(f"/repos/{REPO}/pulls/19321/files", Reply(200, files[:2], {"Link": f'{link}; rel="next"'}))
    host = gh.url.removeprefix("http://")
    with pytest.raises(SourceError, match=rf"^{host} answered #19321 with a next page of its file list on another "
                                          r"address \(.*\): not cached$"):
        source(gh).fetch(19321)


def test_a_file_list_github_pages_by_repository_id_is_read_whole(gh):
    """GitHub's Link headers name the repository by its id (/repositories/{id}/pulls/{n}/files?...&page=2)."""
    files = [make_file(f"python/pkg/mod_{i:03d}.py", PATCH) for i in range(250)]
    add_pr(gh, files=files)
    gh.link_by_id = True
    got = source(gh).fetch(19321)
    assert [f["filename"] for f in got.meta["files"]] == [f["filename"] for f in files]
    listed = [(r.path, r.query.get("page", "1")) for r in gh.requests if r.path.endswith("/files")]
    assert listed == [(f"/repos/{REPO}/pulls/19321/files", "1"), ("/repositories/1000/pulls/19321/files", "2"),
                      ("/repositories/1000/pulls/19321/files", "3")]


NEXT = f"/repos/{REPO}/pulls/19321/files"


@pytest.mark.parametrize("link, why", [
    ("/repos/other/repo/pulls/19321/files?per_page=100&page=2", "at another path"),
    ("/orgs/x?per_page=100&page=2", "at another path"),
    (f"/repos/{REPO}/pulls/1/files?per_page=100&page=2", "at another path"),
    ("/repositories/999/pulls/19321/files?per_page=100&page=2", "at another path"),  # another repository's id
    (f"{NEXT}/../../1/files?per_page=100&page=2", "at another path"),
    (f"{NEXT}/?per_page=100&page=2", "at another path"),
    (f"/repos/{REPO.upper()}/pulls/19321/files?per_page=100&page=2", "at another path"),
    (f"{NEXT}?per_page=100&page=1", "that is not page 2"),  # the page just read, again and again
    (f"{NEXT}?per_page=100&page=3", "that is not page 2"),  # a page skipped
    (f"{NEXT}?per_page=100", "that is not page 2"),
    (f"{NEXT}?per_page=100&page=2&page=3", "that is not page 2"),
    (f"{NEXT}?per_page=100&page=%EF%BC%92", "that is not page 2"),  # a full-width 2
    (f"{NEXT}?per_page=7&page=2", "with another query"),
    (f"{NEXT}?page=2", "with another query"),
    (f"{NEXT}?per_page=100&page=2&state=all", "with another query"),
])
def test_a_next_page_at_another_path_or_page_of_the_same_host_is_refused_not_followed(gh, link, why):
    """Only the PR's own file list, its next page, is followed: a Link to another PR's files or another endpoint of
    the same host was read as this PR's files; one back to the same page looped until the files did not add up."""
    files = [make_file(f"python/pkg/mod_{i}.py", PATCH) for i in range(3)]
    add_pr(gh, files=files)
    add_pr(gh, 1, files=files[2:])
    gh.fail(NEXT, Reply(200, files[:2], {"Link": f'<{gh.url}{link}>; rel="next"'}))
    host = gh.url.removeprefix("http://")
    with pytest.raises(SourceError, match=rf"^{host} answered #19321 with a next page of its file list {why}"
                                          r".*\): not cached$"):
        source(gh).fetch(19321)
    assert [r.path for r in gh.requests] == [f"/repos/{REPO}/pulls/19321", NEXT]


def test_the_file_list_is_read_at_the_prs_own_address_not_where_its_answer_points(gh):
    """The file list was read from the pull's "url" field: an answer naming another PR's address cached that PR's
    files as this one's."""
    add_pr(gh, files=[make_file("python/pkg/own.py", PATCH)])
    add_pr(gh, 1, files=[make_file("python/pkg/other.py", PATCH)])
    pull = make_pull(19321, "[Qwen3-Next] Fuse GDN projections", files=gh.files[REPO, 19321])
    gh.fail(f"/repos/{REPO}/pulls/19321", Reply(200, {**pull, "url": f"{gh.url}/repos/{REPO}/pulls/1"}))
    got = source(gh).fetch(19321)
    assert [f["filename"] for f in got.meta["files"]] == ["python/pkg/own.py"]
    assert [r.path for r in gh.requests] == [f"/repos/{REPO}/pulls/19321", NEXT]


def test_an_api_url_whose_scheme_is_in_capitals_is_used(gh):
    """URL schemes are case-insensitive (RFC 3986 3.1): "HTTP://..." was refused as not an http(s) URL."""
    add_pr(gh)
    got = GithubSource(REPO, api_url=gh.url.replace("http://", "HTTP://"), settings=FAST).fetch(19321)
    assert got.meta["number"] == 19321


# ---- an answer cut short (robust9: 'request to ... failed: ChunkedEncodingError', never asked again) -------------

CUT = {  # what a dropped connection leaves: fewer bytes than Content-Length said, or JSON that stops mid-value
    "dropped": lambda body: Reply(200, body, cut=len(body) // 2),
    "json-stops": lambda body: Reply(200, body[:len(body) // 2]),
}


def _body(gh: FakeGitHub, where: str) -> bytes:
    pull = gh.pulls[REPO, 19321]
    return json.dumps(gh.files[REPO, 19321] if where else {**pull, "url": "x"}).encode()


@pytest.mark.parametrize("how", CUT)
@pytest.mark.parametrize("where", ["", "/files"])
def test_an_answer_cut_short_is_asked_again_and_fetched(gh, how, where):
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321{where}", CUT[how](_body(gh, where)))
    got = source(gh).fetch(19321)
    assert got.meta["title"] == "[Qwen3-Next] Fuse GDN projections" and "+    z = 4" in got.diff_text
    assert gh.paths().count(f"/repos/{REPO}/pulls/19321{where}") == 2


@pytest.mark.parametrize(("where", "part"), [("", "the metadata"), ("/files", "the file list")])
def test_an_answer_cut_short_every_time_says_what_and_what_to_do(gh, where, part):
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321{where}", *[CUT["dropped"](_body(gh, where))] * 3)
    with pytest.raises(SourceError) as info:
        source(gh).fetch(19321)
    assert str(info.value) == (f"{gh.url.removeprefix('http://')} cut its answer short while sending {part} of #19321 "
                               "(the connection dropped or the body ended mid-way, 3 time(s)): not cached; run `dossier "
                               "fetch 19321` again (a proxy or a flaky network? DOSSIER_HTTP_RETRIES asks more times)")
    assert gh.paths().count(f"/repos/{REPO}/pulls/19321{where}") == 3  # retries=2: three attempts, no more


def test_a_cut_answer_is_not_asked_again_past_the_fetch_deadline(gh):
    add_pr(gh)
    gh.fail(f"/repos/{REPO}/pulls/19321", *[CUT["dropped"](_body(gh, ""))] * 3)
    src = source(gh, backoff=30)  # the second retry would sleep 60 s
    src.deadline = time.monotonic() + 10
    start = time.monotonic()
    with pytest.raises(SourceError) as info:
        src.fetch(19321)
    assert str(info.value).endswith("mid-way, 2 time(s)): not cached; the fetch deadline (--deadline) left no time to "
                                    "ask again: run `dossier fetch 19321` again"), str(info.value)
    assert time.monotonic() - start < 5
    assert gh.paths().count(f"/repos/{REPO}/pulls/19321") == 2
