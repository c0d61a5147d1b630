"""A fake GitHub REST API for tests: the two endpoints `dossier fetch` uses, on 127.0.0.1, threaded.

Serves GET /repos/{owner}/{name}/pulls/{n} and .../pulls/{n}/files (paged with Link headers, like GitHub; with
``link_by_id`` the Link names /repositories/{id}/pulls/{n}/files, as GitHub's do, and serves that path too),
records every request (so a test can assert a cache hit made none), and injects faults: scripted responses
per path (e.g. one 500 then success), a delay or a gate (an event the answer waits for), a required token (401
otherwise), an exhausted rate limit.

Run it by hand to try the CLI without the network; it serves fake PRs built from the cards' own facts:
    python -m tests.dossier.fake_github cards/   # then GITHUB_API_URL=<printed url> dossier fetch --all
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Self
from urllib.parse import parse_qs, urlparse

import yaml


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class Reply:
    status: int
    body: dict | list | bytes  # bytes: sent as they are (a body that is not JSON, cut, or nested too deep)
    headers: dict[str, str] = field(default_factory=dict)
    #: send only this many bytes of the body, under the whole body's Content-Length, then drop the connection
    cut: int | None = None


def make_file(
    filename: str,
    patch: str | None = None,
    *,
    status: str = "modified",
    previous_filename: str | None = None,
    additions: int | None = None,
    deletions: int | None = None,
) -> dict:
    """A file entry as GitHub lists it; counts follow from the patch unless given (large files: no patch)."""
    lines = (patch or "").split("\n")
    add = sum(ln.startswith("+") for ln in lines) if additions is None else additions
    rem = sum(ln.startswith("-") for ln in lines) if deletions is None else deletions
    entry = {
        "sha": f"{abs(hash(filename)) % 16**40:040x}",
        "filename": filename,
        "status": status,
        "additions": add,
        "deletions": rem,
        "changes": add + rem,
        "blob_url": f"https://github.com/o/r/blob/x/{filename}",
        "raw_url": f"https://github.com/o/r/raw/x/{filename}",
        "contents_url": f"https://api.github.com/repos/o/r/contents/{filename}",
    }
    if patch is not None:
        entry["patch"] = patch
    if previous_filename:
        entry["previous_filename"] = previous_filename
    return entry


def make_pull(
    number: int,
    title: str,
    *,
    state: str = "merged",
    merged_at: str | None = "2026-03-20T08:15:00Z",
    author: str = "octo",
    files: list[dict] = (),
    base_sha: str = "b" * 40,
    head_sha: str = "c" * 40,
    merge_sha: str | None = "d" * 40,
) -> dict:
    """A pull request as GET /repos/o/r/pulls/n returns it (the fields PyGithub reads, and a few more)."""
    merged = state == "merged"
    return {
        "number": number,
        "title": title,
        "state": "closed" if merged else state,
        "merged": merged,
        "merged_at": merged_at if merged else None,
        "closed_at": merged_at if state != "open" else None,
        "created_at": merged_at or "2026-03-01T10:00:00Z",
        "updated_at": "2026-03-21T10:00:00Z",
        "user": {"login": author, "id": 1, "type": "User"},
        "body": "fake PR body",
        "additions": sum(f["additions"] for f in files),
        "deletions": sum(f["deletions"] for f in files),
        "changed_files": len(files),
        "commits": 1,
        "comments": 0,
        "draft": False,
        "merge_commit_sha": merge_sha if merged else None,
        "base": {"label": "o:main", "ref": "main", "sha": base_sha},
        "head": {"label": f"{author}:feature-{number}", "ref": f"feature-{number}", "sha": head_sha},
    }


class FakeGitHub:
    """Start with ``with FakeGitHub() as gh:``; ``gh.url`` is the API base for GITHUB_API_URL."""

    def __init__(self, max_per_page: int = 100):
        self.max_per_page = max_per_page
        self.pulls: dict[tuple[str, int], dict] = {}
        self.files: dict[tuple[str, int], list[dict]] = {}
        self.requests: list[Request] = []
        self.scripted: dict[str, list[Reply]] = {}
        self.delay: dict[str, float] = {}
        self.gate: dict[str, threading.Event] = {}  # a request for the path is answered once its event is set
        self._arrivals: dict[str, threading.Event] = {}
        self.token: str | None = None  # when set, a request with another token gets 401 (none: anonymous ok)
        self.rate_limit_reset: int | None = None  # when set, every request gets 403, remaining 0
        self.link_by_id = False  # Link headers name the repository by its id (base.repo.id), as GitHub's do
        self.in_flight = self.max_in_flight = 0  # concurrent requests, now and at most
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def add(self, repo: str, pull: dict, files: list[dict]) -> None:
        self.pulls[repo, pull["number"]] = pull
        self.files[repo, pull["number"]] = list(files)

    def repo_ids(self) -> list[str]:
        return list(dict.fromkeys(repo for repo, _ in self.pulls))

    def repo_id(self, repo: str) -> int:
        """The repository's id: GitHub's Link headers name it by that."""
        return 1000 + self.repo_ids().index(repo)

    def fail(self, path: str, *replies: Reply) -> None:
        """Answer the next requests for ``path`` with ``replies``, in order, before serving normally."""
        self.scripted.setdefault(path, []).extend(replies)

    def arrived(self, path: str, timeout: float) -> bool:
        """Wait until a request for ``path`` has reached the server (answered or still held by a gate)."""
        with self._lock:
            seen = self._arrivals.setdefault(path, threading.Event())
        return seen.wait(timeout)

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Self:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, path: str, query: dict[str, str], headers: dict[str, str]) -> Reply:
        with self._lock:
            self.requests.append(Request("GET", path, query, headers))
            scripted = self.scripted.get(path)
            reply = scripted.pop(0) if scripted else None
        if reply is not None:
            return reply
        if self.rate_limit_reset is not None:
            return Reply(
                403,
                {
                    "message": "API rate limit exceeded for 127.0.0.1. (But here's the good news: "
                    "Authenticated requests get a higher rate limit.)",
                    "documentation_url": "https://docs.github.com/rest/rate-limit",
                },
                {
                    "X-RateLimit-Limit": "60",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(self.rate_limit_reset),
                },
            )
        auth = headers.get("authorization")
        if self.token is not None and auth is not None and auth.split()[-1] != self.token:
            return Reply(
                401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
            )
        m = re.fullmatch(r"/repos/([^/]+/[^/]+)/pulls/(\d+)(/files)?", path) or re.fullmatch(
            r"/repositories/(\d+)/pulls/(\d+)(/files)?", path)
        repo = m and next((r for r in self.repo_ids() if m.group(1) in (r, str(self.repo_id(r)))), None)
        key = (repo, int(m.group(2))) if m else None
        if key not in self.pulls:
            return Reply(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        if not m.group(3):
            pull, base = self.pulls[key], self.pulls[key].get("base")
            if isinstance(base, dict):  # the repository the PR is in, by id too
                pull = {**pull, "base": {**base, "repo": {"id": self.repo_id(key[0]), "full_name": key[0]}}}
            return Reply(
                200,
                {
                    **pull,
                    "url": f"{self.url}{path}",
                    "html_url": f"https://github.com/{key[0]}/pull/{key[1]}",
                },
            )
        per_page = min(int(query.get("per_page", 30)), self.max_per_page)
        page = int(query.get("page", 1))
        files = self.files[key]
        last = max(1, -(-len(files) // per_page))
        at = f"/repositories/{self.repo_id(key[0])}/pulls/{key[1]}/files" if self.link_by_id else path
        links = [
            f'<{self.url}{at}?per_page={per_page}&page={p}>; rel="{rel}"'
            for p, rel in ((page + 1, "next"), (last, "last"))
            if page < last
        ]
        return Reply(
            200, files[(page - 1) * per_page : page * per_page], {"Link": ", ".join(links)} if links else {}
        )


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake = self.fake
        with fake._lock:
            fake.in_flight += 1
            fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
            fake._arrivals.setdefault(url.path, threading.Event()).set()
        try:
            if url.path in fake.gate:
                fake.gate[url.path].wait(60)
            time.sleep(fake.delay.get(url.path, 0))
            reply = fake.answer(url.path, query, headers)
        finally:
            with fake._lock:
                fake.in_flight -= 1
        body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body if reply.cut is None else body[:reply.cut])
            if reply.cut is not None:
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            pass

    def log_message(self, *args) -> None:  # keep test output clean
        pass


def pull_from_card(card: dict) -> tuple[dict, list[dict]]:
    """A fake PR carrying a card's own facts: title, state, merge date, files, the key fragment as an added line.

    Only for trying the toolkit offline: the patches are synthetic, not the PR's real diff.
    """
    kf = card["key_fragment"]
    paths = list(dict.fromkeys([*(p for g in card["files"].values() for p in g or ()), kf["file"]]))
    files = []
    for path in paths:
        body = [" # context", "-old_line = 1"]
        if path == kf["file"]:
            body.append(f"+{kf['match']}")
        body.append("+new_line = 2")
        header = f"@@ -10,2 +10,{len(body) - 1} @@"
        files.append(make_file(path, "\n".join([header, *body])))
    merged_at = card.get("merged_at")
    pull = make_pull(
        card["pr"],
        card["title"],
        state=card["state"],
        merged_at=f"{merged_at}T12:00:00Z" if merged_at else None,
        files=files,
    )
    return pull, files


def serve_cards(cards_dir: Path, repo: str = "sgl-project/sglang") -> None:
    """Serve a fake PR per card in ``cards_dir`` until interrupted."""
    with FakeGitHub() as gh:
        for path in sorted(cards_dir.glob("[0-9]*.yaml")):
            gh.add(repo, *pull_from_card(yaml.safe_load(path.read_text())))
        print(f"fake GitHub API for {repo} ({len(gh.pulls)} PRs) at {gh.url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    serve_cards(Path(sys.argv[1] if len(sys.argv) > 1 else "cards"))
