"""GitHub source: PR metadata, every page of its file list, and the diff assembled from the per-file patches.

Talks to $GITHUB_API_URL (default api.github.com) through PyGithub with $GITHUB_TOKEN when set. Errors
become one-line :class:`SourceError` messages; the token is only ever handed to PyGithub's auth.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import logging
import math
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlsplit

import requests
from github import Auth, BadAttributeException, Consts, Github, GithubException
from github.File import File
from urllib3.util import Retry

from dossier.diff import STATUSES, DiffError, file_patch_to_diff, parse_diff
from dossier.errors import redact_url, url_host
from dossier.sources import (
    DEFAULT_API_URL,
    NOT_UTF8,
    NOT_UTF8_META,
    Fetched,
    SourceError,
    Unreachable,
    repeated,
    utc_stamp,
)
from dossier.sources.waits import ENV as WAIT_ENV
from dossier.sources.waits import Cancelled, NotWaited, Waits

#: the pull fields a cache entry needs, with the check each must pass (a 200 without them is no answer)
REQUIRED_META = {
    "title": lambda v: isinstance(v, str) and v.strip() != "",
    "state": lambda v: v in ("open", "closed", "merged"),
    "additions": lambda v: type(v) is int and v >= 0,
    "deletions": lambda v: type(v) is int and v >= 0,
    "changed_files": lambda v: type(v) is int and v >= 0,
}
#: what a byte that was not UTF-8 reads as (requests decodes a body so; GitHub sends a file that is not UTF-8 so)
REPLACEMENT = "\ufffd"
# GitHub file statuses outside the four a diff knows
STATUS_MAP = {"copied": "added", "changed": "modified", "unchanged": "modified"}
#: GitHub's statuses of a file whose lines did not change: its type or mode did ("changed"), or nothing did
NO_LINES_CHANGED = ("changed", "unchanged")
RETRY_STATUSES = (500, 502, 503, 504)
#: the most files GitHub's API lists for one PR
MAX_LISTED_FILES = 3000

# PyGithub attaches an INFO stream handler to its logger at import; keep the CLI output ours.
logging.getLogger("github").setLevel(logging.WARNING)


@dataclass(frozen=True)
class HttpSettings:
    """Retry/backoff/timeout knobs; tests set backoff and throttle to 0 so nothing sleeps."""

    retries: int = 3  # extra attempts after a 5xx, a timeout or a refused connection
    backoff: float = 1.0  # urllib3 backoff factor: sleeps 0, 2x, 4x ... between attempts
    timeout: int = 30  # seconds per request
    throttle: float = 0.25  # minimum seconds between two requests of one client
    per_page: int = 100  # files per page (GitHub's maximum)
    #: seconds a run may spend waiting on GitHub in all, for 202 answers and rate limits alike (0: never wait)
    wait: float = 300

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> HttpSettings:
        """Overrides from DOSSIER_HTTP_{RETRIES,BACKOFF,TIMEOUT,THROTTLE,PER_PAGE,WAIT}, each within :data:`KNOBS`."""
        env = os.environ if env is None else env
        retired = next((var for var in RETIRED if env.get(var)), None)
        if retired is not None:  # ignoring it would wait as long as the user meant to prevent
            raise SourceError(f"{retired} is gone: {WAIT_ENV}=SECONDS bounds a run's waiting, for 202 answers and "
                              "rate limits alike")
        kw = {}
        for name, (kind, low, high) in KNOBS.items():
            var = f"DOSSIER_HTTP_{name.upper()}"
            raw = env.get(var)
            if not raw:
                continue
            try:
                value = kind(raw)
            except ValueError:
                value = None
            if value is None or not low <= value <= high:  # NaN too
                what = "a whole number" if kind is int else "a number"
                raise SourceError(f"{var} must be {what} from {low:g} to {high:g}, got {raw!r}")
            kw[name] = value
        return cls(**kw)


#: each HTTP knob's type and range (a zero timeout or page size, a negative throttle: PyGithub cannot use them)
KNOBS = {"retries": (int, 0, 20), "backoff": (float, 0, 60), "timeout": (int, 1, 3600), "throttle": (float, 0, 60),
         "per_page": (int, 1, 100), "wait": (float, 0, 86400)}
#: the two budgets DOSSIER_HTTP_WAIT replaced (a 202's per PR, rate limits' per run)
RETIRED = ("DOSSIER_HTTP_WAIT_202", "DOSSIER_HTTP_WAIT_RATE_LIMIT")
#: seconds to wait out a secondary rate limit GitHub gives no Retry-After for ("wait at least one minute", its docs)
SECONDARY_WAIT = 60


class StillComputing(Exception):
    """GitHub kept answering 202 ("accepted, still computing") for longer than the run's waiting allows: PyGithub
    itself would ask again every few seconds, forever."""

    def __init__(self, replies: int, waited: float, by_deadline: bool):
        super().__init__(replies, waited, by_deadline)
        self.replies, self.waited, self.by_deadline = replies, waited, by_deadline


class Redirected(Exception):
    """A redirect PyGithub cannot end on: one it does not follow (any 3xx but 301: it reads the empty body as the
    answer, a TypeError deep inside it), or 301s past :data:`MAX_REDIRECTS` (it follows them with no limit, until
    Python's recursion limit)."""

    def __init__(self, status: int, count: int):
        super().__init__(status, count)
        self.status, self.count = status, count


#: the most 301s one PR's requests follow (GitHub moves a renamed repository with one)
MAX_REDIRECTS = 5


class BackoffCut(Exception):
    """urllib3 was about to sleep its backoff before asking again (after a 5xx or a failed connection), and the
    fetch deadline would pass first: the request ends now, naming what failed, rather than sleep past it."""

    def __init__(self, last: object, attempts: int, pause: float):
        super().__init__(last, attempts, pause)
        self.last, self.attempts, self.pause = last, attempts, pause


class CutShort(Exception):
    """An answer that ended before its end (the connection dropped mid-body, a chunk or a gzip stream broken, JSON
    that stops mid-value): worth asking again. ``part`` names what was being read."""

    def __init__(self, part: str):
        super().__init__(part)
        self.part = part


class RateLimited(Exception):
    """GitHub's hourly or secondary rate limit: ``what`` names it (and how its wait was read), ``advice`` says what
    to do (it follows ``what`` in the one-line report), ``wait`` is how many seconds to wait before asking again."""

    def __init__(self, what: str, advice: str, wait: float):
        super().__init__(what, advice, wait)
        self.what, self.advice, self.wait = what, advice, wait


def retry_after(value: str, now: dt.datetime) -> float | None:
    """The seconds a Retry-After header asks to wait: delay-seconds or an HTTP date (RFC 9110 10.2.3; a date in
    the past: 0, ask now); None when it is neither."""
    value = value.strip()
    if value.isdigit() and value.isascii():
        return float(min(int(value[:12]), 10**11))  # past any budget, without a 400-digit int's cost
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": UTC with no zone named
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass
class _Listing:
    """How far one PR's file list was read: a rate limit's wait keeps it, so the next attempt asks only for the
    pages not read yet, while the PR's head is the commit they were listed at."""

    head: str | None = None
    files: list[dict] = field(default_factory=list)
    pages: int = 0
    next_url: str | None = None  # the page after the last one read (GitHub's Link header); None: no more
    first_page: int = 0  # how many files the first page held (a server that caps the page size: its size)

    def at(self, head: str | None) -> None:
        """Start the list again unless it was read at ``head``."""
        if head != self.head:
            self.head, self.files, self.pages, self.next_url, self.first_page = head, [], 0, None, 0


class _WatchedRetry(Retry):
    """urllib3's Retry that also shows every reply's status to ``on_status`` (which may raise to end the request):
    the one hook that sees the 202 replies PyGithub answers by sleeping and asking again."""

    def __init__(self, *args, on_status: Callable[[int], None] | None = None, deadline: float | None = None, **kw):
        super().__init__(*args, **kw)
        self.on_status, self.deadline = on_status, deadline

    def new(self, **kw) -> _WatchedRetry:
        fresh = super().new(**kw)
        fresh.on_status, fresh.deadline = self.on_status, self.deadline
        return fresh

    def sleep(self, response=None) -> None:
        """The backoff before asking again, or BackoffCut when the fetch deadline (time.monotonic()) would pass
        first: the sleep ran past it, and the run could only say the PR 'did not finish within the deadline'."""
        pause = self.get_backoff_time()
        if self.deadline is not None and time.monotonic() + pause >= self.deadline:
            last = self.history[-1] if self.history else None
            raise BackoffCut(last.status or last.error if last else None, len(self.history), pause)
        super().sleep(response)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if self.on_status is not None:
            self.on_status(status_code)
        return super().is_retry(method, status_code, has_retry_after)


def _unusable(url: str) -> str | None:
    """Why an http(s) ``url`` cannot be an API's base address (PyGithub puts each request's path after it), or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (read for its check: a port out of range or not a number raises)
    except ValueError as exc:
        return str(exc)
    if not parts.hostname:
        return "it names no host"
    if re.search(r"\s", url):
        return "it holds a space or another blank (a stray one at its end?)"
    if ":" in parts.hostname:  # PyGithub rebuilds each request's URL without the brackets: 'Failed to parse'
        return "an IPv6 address, which the GitHub client cannot use (it drops the brackets): name the host instead"
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        return "a ?query or #fragment would come before every request's path"
    return None


def _server(url: str) -> tuple[str | None, int | None]:
    """The host and port a request to ``url`` goes to, as PyGithub compares them."""
    parts = urlsplit(url)
    return parts.hostname, parts.port


def _base_repo(pull: dict) -> dict:
    """The repository a PR is in, as its ``base.repo`` gives it ({} where it does not)."""
    base = pull.get("base")
    repo = base.get("repo") if isinstance(base, dict) else None
    return repo if isinstance(repo, dict) else {}


def _repo_id(pull: dict) -> int | None:
    """The id of the repository a PR is in (its ``base.repo.id``), or None."""
    found = _base_repo(pull).get("id")
    return found if type(found) is int and found > 0 else None


def _repo_name(pull: dict) -> str | None:
    """The ``owner/name`` of the repository a PR is in (its ``base.repo.full_name``), or None."""
    name = _base_repo(pull).get("full_name")
    return name if isinstance(name, str) and name else None


def _iso(value: dt.datetime | None) -> str | None:
    return utc_stamp(value) if value is not None else None


def _scrubbed(text: str) -> str:
    """An exception's text with any URL's user:password left out (``//***@host``): it may quote the API URL."""
    return re.sub(r"//[^/\s@]+@", "//***@", text)


def _type_name(expected) -> str:
    return getattr(expected, "__name__", None) or str(expected)


def _part(part) -> dict | None:
    return {"ref": part.ref, "sha": part.sha} if part is not None else None


def _replaced(meta: dict, files: list[dict]) -> dict:
    """Provenance naming what the answer holds U+FFFD in, as a git source's does for bytes that are not UTF-8: the
    patch lines by file, and title or author. A body that is not UTF-8 is read with U+FFFD for each such byte
    (requests), and GitHub itself sends a file that is not UTF-8 so: either way the text is not the source's bytes,
    and the cache must not hold it as if it were (the fetch warns; D303's hint names the lines)."""
    lines = {f["filename"]: n for f in files if isinstance(f["patch"], str)
             and (n := sum(REPLACEMENT in line for line in f["patch"].split("\n")))}
    fields = [name for name in ("title", "author") if REPLACEMENT in (meta[name] or "")]
    return {**({NOT_UTF8: lines} if lines else {}), **({NOT_UTF8_META: fields} if fields else {})}


class GithubSource:
    name = "github"

    def __init__(self, repo: str, *, api_url: str | None = None, token: str | None = None,
                 settings: HttpSettings | None = None):
        self.repo = repo
        self.api_url = (api_url or DEFAULT_API_URL).rstrip("/")  # may hold user:password: only the client sees it
        #: what may be shown or stored: the URL without credentials, and its host
        self.public_url, self.host = redact_url(self.api_url), url_host(self.api_url)
        if not re.match(r"(?i)https?://[^/?#\s]+", self.api_url):  # a scheme in any case (RFC 3986 3.1)
            raise SourceError(f"GITHUB_API_URL must be an http(s) URL, got {self.public_url!r}")
        why = _unusable(self.api_url)
        if why is not None:  # PyGithub would fail each PR alone, or send every request somewhere else
            raise SourceError(f"GITHUB_API_URL is not the address of an API ({why}), got {self.public_url!r}")
        token = (token or "").strip()  # a pasted or file-read token often ends in a line break
        odd = next((i for i, ch in enumerate(token) if not "!" <= ch <= "~"), None)
        if odd is not None:  # an HTTP header cannot carry it; say where, never what the token is
            raise SourceError(f"GITHUB_TOKEN holds a character no GitHub token has (at position {odd + 1}: "
                              f"U+{ord(token[odd]):04X}); check how it was set")
        self._token = token or None
        self.settings = settings or HttpSettings()
        #: time.monotonic() by which the whole fetch must end (set by the caller): caps each request's timeout
        self.deadline: float | None = None
        #: told one line when a rate limit is being waited out (set by the caller to show it)
        self.on_wait: Callable[[str], None] = lambda line: None
        # rate limits are the client's (token or address), not a PR's: every thread holds until one's pause ends,
        # and every wait of the run, a 202's too, draws on one budget (settings.wait)
        self._waits = Waits(self.settings.wait)

    @classmethod
    def from_env(cls, repo: str, configured: str | None = None) -> GithubSource:
        """Token from $GITHUB_TOKEN, base URL from $GITHUB_API_URL, else ``configured`` (the project's [tool.dossier]
        api_url: a GitHub Enterprise project's own API), HTTP knobs from DOSSIER_HTTP_*."""
        return cls(repo, api_url=os.environ.get("GITHUB_API_URL") or configured, token=os.environ.get("GITHUB_TOKEN"),
                   settings=HttpSettings.from_env())

    def _client(self) -> Github:
        s = self.settings
        timeout = s.timeout
        if self.deadline is not None:
            timeout = max(1, min(timeout, math.ceil(self.deadline - time.monotonic())))
        retry = _WatchedRetry(total=s.retries, backoff_factor=s.backoff, status_forcelist=RETRY_STATUSES,
                              allowed_methods=("GET",), raise_on_status=False, respect_retry_after_header=False,
                              on_status=self._watch_status(), deadline=self.deadline)
        return Github(base_url=self.api_url, auth=Auth.Token(self._token) if self._token else None,
                      timeout=timeout, per_page=s.per_page, retry=retry,
                      seconds_between_requests=s.throttle or None, seconds_between_writes=None, lazy=True)

    def _watch_status(self) -> Callable[[int], None]:
        """A status watcher for one PR's client: it raises StillComputing at the 202 whose wait (PyGithub asks
        again after it) the run's wait budget cannot cover or the fetch deadline would cut, and Redirected at a
        redirect PyGithub would not end on."""
        first: float | None = None
        replies = redirects = 0

        def on_status(status: int) -> None:
            nonlocal first, replies, redirects
            if 300 <= status < 400:
                redirects += 1
                if status != 301 or redirects > MAX_REDIRECTS:
                    raise Redirected(status, redirects)
            if status != 202:
                return
            now = time.monotonic()
            first = now if first is None else first
            replies += 1
            by_deadline = self.deadline is not None and now + Consts.PROCESSING_202_WAIT_TIME >= self.deadline
            try:
                if not by_deadline:
                    self._waits.computing(Consts.PROCESSING_202_WAIT_TIME)
                    return
            except NotWaited:
                pass
            raise StillComputing(replies, now - first, by_deadline)

        return on_status

    def cancel(self) -> None:
        """End every wait now (Ctrl-C): a thread asleep in one would keep the process alive until it was over."""
        self._waits.cancel()

    def fetch(self, pr: int) -> Fetched:
        """The PR's metadata and diff; a rate limit is waited out as GitHub asks, within the run's budget, and the
        file list goes on from the page it stopped at."""
        listing = _Listing()
        cut = 0
        while True:
            try:
                self._waits.hold()
            except Cancelled:
                raise SourceError("interrupted while waiting out GitHub's rate limit: not cached") from None
            try:
                return self._fetch_once(pr, listing)
            except RateLimited as limit:
                self._wait_out(pr, limit)
            except CutShort as short:
                cut += 1
                self._ask_again(pr, short, cut)

    def _ask_again(self, pr: int, short: CutShort, cut: int) -> None:
        """Sleep before asking again for an answer that came cut short (urllib3's backoff: none, then 2x, 4x ...
        the factor), or raise SourceError once the retries are spent or the fetch deadline would pass first."""
        said = (f"{self.host} cut its answer short while sending {short.part} of #{pr} (the connection dropped or the "
                f"body ended mid-way, {cut} time(s)): not cached; ")
        again = f"run `dossier fetch {pr}` again"
        if cut > self.settings.retries:
            raise SourceError(said + again + " (a proxy or a flaky network? DOSSIER_HTTP_RETRIES asks more times)")
        pause = 0.0 if cut == 1 else self.settings.backoff * 2 ** (cut - 1)
        if self.deadline is not None and time.monotonic() + pause >= self.deadline:
            raise SourceError(said + "the fetch deadline (--deadline) left no time to ask again: " + again)
        try:
            self._waits.sleep(pause)
        except Cancelled:
            raise SourceError(said + "interrupted before asking again") from None

    def _wait_out(self, pr: int, limit: RateLimited) -> None:
        """Pause every PR as ``limit`` asks, saying so in a line when the pause begins (or moves later), or raise
        SourceError when the budget left or the fetch deadline is shorter."""
        said = limit.what + limit.advice
        if math.isinf(limit.wait):  # GitHub did not say when
            raise SourceError(said)
        try:
            wait = self._waits.pause(limit.wait, self.deadline)
        except NotWaited as why:
            raise SourceError(f"{said}; not waited out: {why}") from None
        if wait is not None:
            at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=wait)
            self.on_wait(f"#{pr}: {limit.what}: waiting {wait:.0f}s, until {at:%H:%M:%S} UTC, then asking again "
                         f"({self._waits.spent:.0f}s of at most {self._waits.budget:g}s of waiting a run, {WAIT_ENV})")

    def _list_files(self, pr: int, gh: Github, repo_id: int | None, listing: _Listing) -> None:
        """Read the rest of the PR's file list into ``listing``, a page at a time (GitHub's Link header names the
        next); a page lands in ``listing`` whole, so an attempt cut by a rate limit resumes at the page it was at.
        The list is asked for at the PR's own address (never where an answer points), and a Link is followed only
        to the next page of that list (:meth:`_not_next_page`)."""
        own, base = f"/repos/{self.repo}/pulls/{pr}/files", urlsplit(self.api_url).path  # PyGithub puts base first
        # GitHub's Link headers name the repository by its id (base.repo.id)
        paths = {base + own, *([f"{base}/repositories/{repo_id}/pulls/{pr}/files"] if repo_id else [])}
        url, params = listing.next_url, None
        if not listing.pages:
            url, params = own, {"per_page": self.settings.per_page}
        while url is not None:
            headers, data = gh.requester.requestJsonAndCheck("GET", url, parameters=params)
            if not isinstance(data or [], list):
                raise TypeError("a page of the file list is not a list")
            page = [gh.create_from_raw_data(File, item, headers) for item in data or [] if item is not None]
            # every attribute read here: PyGithub checks a field's type only when it is read
            rows = [{"filename": f.filename, "status": f.status, "patch": f.patch, "additions": f.additions,
                     "deletions": f.deletions, "previous_filename": f.previous_filename} for f in page]
            links = requests.utils.parse_header_links(str(headers.get("link", ""))) if rows else []
            url, params = next((ln.get("url") for ln in links if ln.get("rel") == "next"), None), None
            if not listing.pages:
                listing.first_page = len(rows)
            why = None if url is None else self._not_next_page(url, paths, listing.pages + 2, listing.first_page)
            if why is not None:
                raise SourceError(f"{self.host} answered #{pr} with a next page of its file list {why} "
                                  f"({redact_url(url)[:100]!r}): not cached")
            listing.files, listing.pages, listing.next_url = listing.files + rows, listing.pages + 1, url

    def _not_next_page(self, url: str, paths: set[str], page: int, first_page: int) -> str | None:
        """Why a Link's ``url`` is not page ``page`` of the file list at one of ``paths`` (as first asked: same
        server, path and per_page, or the smaller page size the first page held, ``first_page`` files, where a server
        caps it), or None. PyGithub asserts the host uncaught and follows any path on it: another PR's files, another
        endpoint, or the same page again, forever."""
        parts = urlsplit(url)
        if _server(url) != _server(self.api_url):
            return "on another address"
        if parts.path not in paths:
            return "at another path"
        query = parse_qsl(parts.query, keep_blank_values=True)
        pages = [v for k, v in query if k == "page"]
        if pages != [str(page)]:
            return f"that is not page {page}"
        # a server that caps the page size (a GitHub Enterprise setting) names its own, the size its first page held
        sizes = {str(self.settings.per_page), str(first_page)}
        if [(k, v in sizes) for k, v in query if k != "page"] != [("per_page", True)]:
            return "with another query"
        return None

    def _fetch_once(self, pr: int, listing: _Listing) -> Fetched:
        gh = self._client()  # one client per PR: PyGithub's connection is not shared across threads
        part = "the metadata"
        try:
            pull = gh.get_repo(self.repo).get_pull(pr)
            if isinstance(body := pull.raw_data.get("data"), str) and "number" not in pull.raw_data:
                raise self._malformed(pr, f"not JSON: the answer's body starts {body.strip()[:40]!r}")  # PyGithub's wrap
            meta = {
                "number": pull.number,
                "title": pull.title,
                "state": "merged" if pull.merged else pull.state,
                "merged": bool(pull.merged),
                "merged_at": _iso(pull.merged_at),
                "created_at": _iso(pull.created_at),
                "author": pull.user.login if pull.user else None,
                "additions": pull.additions,
                "deletions": pull.deletions,
                "changed_files": pull.changed_files,
                "merge_commit_sha": pull.merge_commit_sha,
                "base": _part(pull.base),
                "head": _part(pull.head),
            }
            listing.at((meta["head"] or {}).get("sha"))
            part = "the file list"
            self._list_files(pr, gh, _repo_id(pull.raw_data), listing)
            files = listing.files
            if pull.number != pr:
                raise SourceError(f"{self.host} answered #{pr} with PR number {pull.number!r}: not cached")
            if (other := _repo_name(pull.raw_data)) is not None and other.lower() != self.repo.lower():
                raise SourceError(f"{self.host} answered #{pr} with a PR of {other}, not of {self.repo} (a redirect "
                                  f"to another repository; renamed? set repo in pyproject.toml's [tool.dossier]): "
                                  "not cached")
        except StillComputing as exc:
            raise SourceError(self._still_computing(pr, exc)) from None
        except Redirected as exc:
            said = (f"HTTP {exc.status}, a redirect the GitHub client does not follow" if exc.status != 301 else
                    f"{exc.count} redirects in a row (a loop?)")
            raise SourceError(f"{self.public_url} answered #{pr} with {said}: set GITHUB_API_URL to the API's own "
                              f"address (GitHub's is {DEFAULT_API_URL})") from None
        except BackoffCut as exc:  # a host that could not be reached counts toward the run's breaker
            raise (SourceError if isinstance(exc.last, int) else Unreachable)(self._backoff_cut(pr, exc)) from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            raise CutShort(part) from None
        except json.JSONDecodeError as exc:
            # JSON that stops mid-value or mid-string was cut; wrong before its end, it is a body no one can read
            if exc.pos < len(exc.doc.rstrip()) and not exc.msg.startswith("Unterminated string"):
                raise self._malformed(pr, f"not JSON: {exc.msg}") from None
            raise CutShort(part) from None
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise Unreachable(self.describe(exc, pr)) from None
        except requests.RequestException as exc:
            raise SourceError(self.describe(exc, pr)) from None
        except GithubException as exc:
            limit = self._rate_limit(exc)
            if limit is not None:
                raise limit from None
            raise SourceError(self.describe(exc, pr)) from None
        except BadAttributeException as exc:  # a field of another type than GitHub's (a string for a number)
            value, why = str(exc.actual_value)[:60], exc.transformation_exception
            raise self._malformed(pr, f"{value!r}: {str(why)[:80]}" if why is not None else
                                  f"{value!r} where {_type_name(exc.expected_type)} was expected") from None
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # a body PyGithub cannot read
            raise self._malformed(pr, f"{type(exc).__name__}: {_scrubbed(str(exc))[:100]}") from None
        except RecursionError:  # JSON nested deeper than Python parses: 'unexpected RecursionError'
            raise self._malformed(pr, "JSON nested too deep") from None
        except RuntimeError as exc:  # PyGithub refuses a redirect to another scheme or host, or to the same URL
            if "redirect" not in str(exc):
                raise
            why = re.split(r", (?:please|you may need)", str(exc))[0]
            raise SourceError(f"{self.public_url} answers with a redirect ({why}): set GITHUB_API_URL to the API's "
                              f"own address (GitHub's is {DEFAULT_API_URL})") from None
        finally:
            gh.close()
        bad = [name for name, ok in REQUIRED_META.items() if not ok(meta[name])]
        if meta["merged"] and not meta["merged_at"]:
            bad.append("merged_at")
        if bad:
            raise SourceError(f"{self.host} answered #{pr} without a valid {', '.join(bad)}: not cached")
        if any(not isinstance(f["filename"], str) or not f["filename"] for f in files):
            raise SourceError(f"{self.host} answered #{pr} with a file entry without a filename: not cached")
        odd = next((name for f in files for name in (f["filename"], f["previous_filename"])
                    if isinstance(name, str) and ("\n" in name or "\r" in name)), None)
        if odd is not None:  # its diff header would end mid-name: 'GitHub sent a patch that is not a valid diff'
            raise SourceError(f"{self.host} answered #{pr} with the file name {odd!r}, which holds a line break no "
                              "diff header can carry unquoted: not cached")
        self._check_listing(pr, [f["filename"] for f in files], meta["changed_files"])
        entries, sections = [], []
        for f in files:
            patch = f["patch"]
            if patch is not None and not patch.strip():  # "\n" as "": a file with no lines shown
                patch = ""
            if patch and not patch.lstrip().startswith("@@"):
                raise SourceError(f"{self.host} answered #{pr} with a patch for {f['filename']} that is not a unified "
                                  "diff (it does not start with a hunk header '@@'): not cached")
            status = STATUS_MAP.get(f["status"], f["status"])
            if status not in STATUSES:
                raise self._malformed(pr, f"{f['filename']}: unknown status {str(status)[:40]!r}")
            old = f["previous_filename"] if status == "renamed" else None
            # GitHub sends no patch for binary files (no line counts), for very large text files (lines counted),
            # and for a file whose lines did not change: a pure rename, or a new mode or type (a header only)
            counted = bool(f["additions"] or f["deletions"])
            binary = patch is None and not counted and status != "renamed" and f["status"] not in NO_LINES_CHANGED
            missing = not patch and not binary and counted  # lines counted, none sent
            entries.append({"filename": f["filename"], "previous_filename": old, "status": status,
                            "additions": f["additions"], "deletions": f["deletions"],
                            "patch_missing": missing, "binary": binary})
            sections.append(file_patch_to_diff(f["filename"], patch, status=status, old_path=old, binary=binary))
        for f, section in zip(files, sections, strict=True):  # each alone: the error names the file and its line
            try:
                parse_diff(section)
            except DiffError as exc:
                raise SourceError(f"{self.host} answered #{pr} with a patch for {f['filename']} that is not a valid "
                                  f"diff (its section's {exc}): not cached") from None
        diff_text = "".join(sections)
        meta["files"] = entries
        provenance = {"source": "github", "repo": self.repo, "api_url": self.public_url, "api_host": self.host,
                      "merge_commit_sha": meta["merge_commit_sha"],
                      "base_sha": (meta["base"] or {}).get("sha"), "head_sha": (meta["head"] or {}).get("sha"),
                      **_replaced(meta, files)}
        return Fetched(meta, diff_text, provenance)

    def _still_computing(self, pr: int, exc: StillComputing) -> str:
        said = (f"{self.host} answered #{pr} with HTTP 202 (accepted, still computing) {exc.replies} time(s) "
                f"over {exc.waited:.0f}s: not cached; ")
        if exc.by_deadline:
            return said + f"the fetch deadline (--deadline) left no time to wait: run `dossier fetch {pr}` again later"
        return said + (f"run `dossier fetch {pr}` again in a few minutes, or allow a run more waiting with {WAIT_ENV}="
                       f"SECONDS (now {self._waits.budget:g}, {self._waits.left():.0f}s of it left)")

    def _backoff_cut(self, pr: int, exc: BackoffCut) -> str:
        answered = isinstance(exc.last, int)
        what = f"answered HTTP {exc.last}" if answered else f"could not be reached ({type(exc.last).__name__})"
        return (f"{self.host} {what} ({exc.attempts} attempt(s)); the next attempt, after a backoff of {exc.pause:g}s "
                f"(DOSSIER_HTTP_BACKOFF={self.settings.backoff:g}), would start past the fetch deadline (--deadline): "
                f"not cached; run `dossier fetch {pr}` again " + ("later, with a longer --deadline" if answered else
                                                                  "once the host answers (check GITHUB_API_URL)"))

    def _malformed(self, pr: int, detail: str) -> SourceError:
        return SourceError(f"{self.host} answered #{pr} with malformed data ({detail}): not cached")

    def _check_listing(self, pr: int, names: list[str], changed: int) -> None:
        """Refuse a file list that repeats a file or holds fewer than ``changed`` files: a diff missing files
        would read as proof that the PR never changed them."""
        twice = repeated(names)
        if twice is not None:
            raise SourceError(f"{self.host}'s file list of #{pr} listed {twice} twice (a page served again?): "
                              "not cached")
        if len(names) < changed:
            why = (f"GitHub lists at most {MAX_LISTED_FILES}: fetch it with --source git or --import a saved diff"
                   if len(names) >= MAX_LISTED_FILES else "a page of the list went missing; try again")
            raise SourceError(f"{self.host} answered #{pr} with {len(names)} of its {changed} changed files ({why}): "
                              "not cached")

    def describe(self, exc: Exception, pr: int) -> str:
        """One line for the user; never includes the token (only status, message, host and counts)."""
        host = self.host
        tries = self.settings.retries + 1
        if isinstance(exc, GithubException):
            status = exc.status
            message = exc.message or (exc.data.get("message") if isinstance(exc.data, dict) else None) or ""
            if status == 404:  # GitHub's answer for an issue's number too (issues and PRs share numbers)
                return (f"no pull request #{pr} in {self.repo} (HTTP 404): an issue's number, a PR of another "
                        "repository (--repo), or a private repository (GITHUB_TOKEN)?")
            if status == 401 and not self._token:
                return (f"{host} asks for authentication (HTTP 401{f': {message}' if message else ''}): set "
                        f"GITHUB_TOKEN to a token that can read {self.repo}")
            if status == 401:
                return "GitHub rejected the token in GITHUB_TOKEN (HTTP 401): check it, or unset it to go anonymous"
            if status >= 500:
                return f"{host} answered HTTP {status} {tries} time(s); try again later"
            return f"GitHub API error HTTP {status}: {message or 'no message'}"
        text = str(exc)
        if isinstance(exc, requests.Timeout) or "timed out" in text.lower():
            return f"{host} did not answer within {self.settings.timeout}s ({tries} attempt(s))"
        if isinstance(exc, requests.exceptions.RetryError):
            return f"{host} kept failing; gave up after {tries} attempt(s)"
        if isinstance(exc, requests.ConnectionError):
            return f"cannot reach {self.public_url} ({tries} attempt(s)); check the host and GITHUB_API_URL"
        return f"request to {host} failed: {type(exc).__name__}: {_scrubbed(text)[:160]}"

    def _rate_limit(self, exc: GithubException) -> RateLimited | None:
        """The hourly limit (no requests left: its reset is when to ask again; a token raises it), or the secondary
        one (too many at once, requests left: Retry-After in seconds or as a date, else a minute; the hourly reset
        and a token do not matter, fewer at once does). None for any other error."""
        headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
        message = exc.message or (exc.data.get("message") if isinstance(exc.data, dict) else None) or ""
        remaining, after = headers.get("x-ratelimit-remaining"), headers.get("retry-after")
        # 429 is Too Many Requests whatever its text (a proxy's 'slow down' failed the PR with no wait); a 403 is a
        # limit when it says so, has no requests left, or names a Retry-After
        if exc.status != 429 and not (exc.status == 403 and (remaining == "0" or "rate limit" in message.lower()
                                                              or after is not None)):
            return None
        asked = None if after is None else retry_after(str(after), dt.datetime.now(dt.UTC))
        hourly = remaining == "0" or (remaining is None and after is None and exc.status == 403)
        if "secondary" in message.lower() or not hourly:
            what = "GitHub's secondary rate limit (too many requests at once or in a short time)"
            if after is not None and asked is None:
                what = (f"{what[:-1]}; its Retry-After {str(after)[:40]!r} is neither seconds nor an HTTP date, so a "
                        "minute as GitHub advises)")
            return RateLimited(what, (f": retry after {asked:.0f}s" if asked is not None else ": wait a minute or more")
                               + ", with fewer at once (--jobs 1, DOSSIER_HTTP_THROTTLE=1)",
                               SECONDARY_WAIT if asked is None else asked)
        reset = headers.get("x-ratelimit-reset", "")
        when, wait = "", float("inf")  # no reset said: not waited out
        if reset.isdigit():
            at = dt.datetime.fromtimestamp(min(int(reset), 2**33), dt.UTC)
            wait = max(0.0, at.timestamp() - time.time())
            when = (f"; it resets at {at:%H:%M} UTC (in {round(wait / 60)} min)" if 0 < wait <= 86400 else
                    f"; it resets at {at:%Y-%m-%d %H:%M} UTC, {wait / 86400:,.0f} days away (a clock or a header that "
                    "is wrong?)" if wait else
                    f"; its reset time, {at:%Y-%m-%d %H:%M} UTC, has passed (this clock ahead of GitHub's?)")
        elif asked is not None:
            when, wait = f"; retry after {asked:.0f}s", asked
        hint = ("wait for the reset or use another token" if self._token else
                "set GITHUB_TOKEN to a personal access token for 5,000 requests/hour instead of 60")
        return RateLimited("GitHub API rate limit exhausted", f"{when}: {hint}", wait)
