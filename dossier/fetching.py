"""`dossier fetch` orchestration: cache hits first (zero requests), the rest concurrently, then a summary.

A failed PR never stops the others: each lands in the cache on its own, and the caller exits 1 if any failed.
Two things stop a run early instead of letting it hang: a per-host breaker (after BREAKER_LIMIT consecutive
connection failures to a host, its remaining PRs fail at once) and an optional total deadline.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from dossier.diff import DiffError
from dossier.evidence import patch_missing
from dossier.files import write_failure
from dossier.model import MAX_PR
from dossier.project import Project
from dossier.sources import SAVED_CRLF, Source, SourceError, Unreachable
from dossier.sources.cache import Cache, CacheEntry

NOT_TRIED_DEADLINE = "not tried: the fetch deadline passed"


@dataclass(frozen=True)
class Outcome:
    pr: int
    result: str  # "cached" | "fetched" | "failed" | "interrupted"
    entry: CacheEntry | None = None
    error: str | None = None  # one line, without the "#N: " that the CLI puts in front
    #: not tried at all (the breaker was open or the deadline had passed): reported once, as a group
    skipped: bool = False
    note: str | None = None  # one line on what was done to the cached entry


#: the result of a PR that had not finished when the run was interrupted
INTERRUPTED = "interrupted"


class FetchInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) during a fetch, carrying every PR's outcome so far (unfinished ones: INTERRUPTED) and
    the interrupt itself."""

    def __init__(self, outcomes: list[Outcome], cause: KeyboardInterrupt | None = None):
        super().__init__()
        self.outcomes, self.cause = outcomes, cause or KeyboardInterrupt()


#: consecutive connection failures to one host after which its remaining PRs are not tried
BREAKER_LIMIT = 3
#: the most PRs fetched at once (--jobs): a thread and a client each; GitHub asks for few concurrent requests
MAX_JOBS = 32


@dataclass
class Breaker:
    """Counts consecutive connection failures per host; open once a host reaches ``limit``."""

    limit: int = BREAKER_LIMIT
    failures: dict[str, int] = field(default_factory=dict)
    last_error: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def is_open(self, host: str) -> bool:
        with self._lock:
            return self.failures.get(host, 0) >= self.limit

    def record(self, host: str, error: str | None) -> None:
        """``error`` is the connection failure's message, None for any answer from the host."""
        with self._lock:
            if error is None:
                self.failures[host] = 0
            else:
                self.failures[host] = self.failures.get(host, 0) + 1
                self.last_error[host] = error

    def why(self, host: str) -> str:
        return (f"{host} failed {self.failures.get(host, 0)} time(s) in a row, so the rest were not tried "
                f"(last: {self.last_error.get(host, '?')})")


def cited_prs(project: Project) -> tuple[list[int], list[str]]:
    """Every card's own PR and those its superseded_by names (cards failing the schema included), and what was left
    out: a card that cannot be read as a mapping, a value that is not a PR number (lint names each error)."""
    found: set[int] = set()
    left: list[str] = []
    for doc in project.docs:
        if not isinstance(doc.data, dict):
            left.append(f"{project.rel(doc.path)} (not readable as a card)")
            continue
        later = doc.data.get("superseded_by")
        named = [("pr", doc.data.get("pr")), *(("superseded_by", n) for n in (later if isinstance(later, list) else []))]
        for key, n in named:
            if isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_PR:
                found.add(n)
            elif n is not None:
                left.append(f"{project.rel(doc.path)}'s {key} {str(n)[:20]!r}")
    return sorted(found), left


def source_host(source: Source) -> str:
    """What the breaker keys on: the source's host when it has one (GitHub), else its name."""
    return getattr(source, "host", None) or source.name


def _fetch_one(pr: int, source: Source, cache: Cache, breaker: Breaker, deadline: float | None) -> Outcome:
    host = source_host(source)
    if breaker.is_open(host):
        return Outcome(pr, "failed", error=breaker.why(host), skipped=True)
    if deadline is not None and time.monotonic() >= deadline:
        return Outcome(pr, "failed", error=NOT_TRIED_DEADLINE, skipped=True)
    try:
        got = source.fetch(pr)
        breaker.record(host, None)
        held, lost = _changed_lines_lost(cache, pr, got.meta, source.repo)
        if lost:
            return Outcome(pr, "failed", error=(
                f"{source.name} sent no changed lines for {', '.join(lost[:3])}{' ...' if len(lost) > 3 else ''} "
                f"(a file too large for its API), which the cached entry (from {held.provenance.get('source')}) holds: "
                "kept the cached entry, whose diff proves the card; refresh it with --source git"))
        unsent = sorted(patch_missing(got.meta))
        note = (f"{source.name} sent no lines for {', '.join(unsent[:3])}{' ...' if len(unsent) > 3 else ''} (a file "
                "too large for its API): a key fragment there stays unverified (D301); `dossier fetch --source git "
                "--refresh` fetches them" if unsent else None)
        return Outcome(pr, "fetched", entry=cache.put(pr, got.meta, got.diff_text, got.provenance), note=note)
    except Unreachable as exc:
        breaker.record(host, str(exc))
        return Outcome(pr, "failed", error=str(exc))
    except SourceError as exc:
        breaker.record(host, None)
        return Outcome(pr, "failed", error=str(exc))
    except OSError as exc:
        return Outcome(pr, "failed", error=f"cannot write the cache entry: {write_failure(exc)}")
    except Exception as exc:  # noqa: BLE001 (a bug or unforeseen library error: report it, keep the others going)
        return Outcome(pr, "failed", error=f"unexpected {type(exc).__name__}: {exc}")


def _changed_lines_lost(cache: Cache, pr: int, meta: dict, repo: str) -> tuple[CacheEntry | None, list[str]]:
    """(the cached entry, the files whose changed lines it holds and a fresh fetch, ``meta``, does not): GitHub sends
    no patch for a very large file, and replacing the entry would drop its card's proof. The cache is read only for
    a fetch that lacks some patch text."""
    missing = patch_missing(meta)
    held = cache.get(pr) if missing else None
    if held is None or held.provenance.get("repo") != repo:
        return held, []
    try:
        files = held.files()
    except DiffError:  # a damaged entry proves nothing: the fetch replaces it
        return held, []
    return held, sorted(f.path for f in files if f.path in missing and f.hunks)


def fetch_many(prs: Iterable[int], source: Source, cache: Cache, *, refresh: bool = False, jobs: int = 4,
               on_done: Callable[[Outcome], None] | None = None, deadline: float | None = None,
               breaker: Breaker | None = None) -> list[Outcome]:
    """Fetch ``prs`` (deduplicated) into ``cache``; outcomes come back in the order asked.

    A PR already cached for the same repo is a hit and costs no request unless ``refresh``. ``deadline``
    (seconds for the whole run) fails what has not finished by then; requests still running are abandoned.
    """
    breaker = breaker or Breaker()
    until = time.monotonic() + deadline if deadline is not None else None
    order = list(dict.fromkeys(prs))
    done: dict[int, Outcome] = {}
    todo = []
    for pr in order:
        entry, note = (None, None) if refresh else (cache.get(pr), None)
        if entry is None and not refresh and (entry := _mended(cache, pr)) is not None:
            note = (f"the cached diff, which an older `fetch --import` kept with the CRLF line ends of its save, was "
                    f"converted to LF, as an import does today ({entry.provenance[SAVED_CRLF]} lines; provenance: "
                    f"{SAVED_CRLF})")
        if entry is not None and entry.provenance.get("repo") == source.repo:
            done[pr] = Outcome(pr, "cached", entry=entry, note=note)
            if on_done:
                on_done(done[pr])
        else:
            todo.append(pr)
    if todo:
        pending: queue.SimpleQueue[int] = queue.SimpleQueue()
        for pr in todo:
            pending.put(pr)
        finished: queue.SimpleQueue[Outcome | BaseException] = queue.SimpleQueue()
        ended = threading.Event()  # the run is over: no PR starts after it
        started: set[int] = set()

        def work() -> None:
            while not ended.is_set():
                try:
                    pr = pending.get_nowait()
                except queue.Empty:
                    return
                started.add(pr)
                try:
                    finished.put(_fetch_one(pr, source, cache, breaker, until))
                except BaseException as exc:  # raised where the run waits, as a pool's future would
                    finished.put(exc)
                    return

        # daemon threads: a request in flight when the run ends (Ctrl-C, SIGTERM, the deadline) is abandoned, not
        # waited for at exit as a thread pool's are (up to DOSSIER_HTTP_TIMEOUT for each of its attempts)
        for _ in range(max(1, min(jobs, len(todo)))):
            threading.Thread(target=work, name="fetch", daemon=True).start()
        try:
            while len(done) < len(order):
                outcome = _next(finished, until)
                if outcome is None:  # the deadline: what is still running is abandoned, never half-written
                    _cancel(source)
                    for pr in todo:
                        if pr not in done:
                            done[pr] = (Outcome(pr, "failed", error=f"did not finish within the fetch deadline "
                                                                    f"({deadline:g}s)") if pr in started else
                                        Outcome(pr, "failed", error=NOT_TRIED_DEADLINE, skipped=True))
                            if on_done:
                                on_done(done[pr])
                    break
                if isinstance(outcome, BaseException):
                    raise outcome
                done[outcome.pr] = outcome
                if on_done:
                    on_done(outcome)
        except KeyboardInterrupt as stop:  # Ctrl-C: drop what has not started; running writes stay atomic
            _cancel(source)
            for pr in order:
                done.setdefault(pr, Outcome(pr, INTERRUPTED, error="interrupted before it finished (a cache "
                                            "entry being written lands whole or not at all)", skipped=True))
            raise FetchInterrupted([done[pr] for pr in order], stop) from None
        except BaseException:
            _cancel(source)
            raise
        finally:
            ended.set()
    return [done[pr] for pr in order]


def _mended(cache: Cache, pr: int) -> CacheEntry | None:
    """The entry of ``pr`` once :meth:`Cache.mend` has converted an older import's CRLF save; None when it is no such
    entry or cannot be rewritten (it is then fetched again)."""
    try:
        return cache.mend(pr)
    except OSError:
        return None


#: the longest the main thread sleeps in one wait for a PR to end
WAKE_EVERY = 0.25


def _next(finished: queue.SimpleQueue, until: float | None):
    """The next PR's outcome (or exception), or None once ``until`` (clock time) has passed. The main thread sleeps
    at most :data:`WAKE_EVERY` at a time: a Ctrl-C that lands just before it sleeps, or on a worker thread, is acted
    on only when it wakes, and a wait for a rate limit kept it asleep for minutes (about one fetch in forty ignored
    Ctrl-C under load)."""
    while True:
        left = None if until is None else max(0.0, until - time.monotonic())
        try:
            return finished.get(timeout=WAKE_EVERY if left is None else min(left, WAKE_EVERY))
        except queue.Empty:
            if until is not None and time.monotonic() >= until:
                return None


def _cancel(source: Source) -> None:
    """End the source's waits (a rate limit's): a thread asleep in one would go on to ask again after it."""
    cancel = getattr(source, "cancel", None)
    if cancel is not None:
        cancel()


def fetch_with_progress(prs: list[int], source: Source, cache: Cache, console: Console, *,
                        refresh: bool = False, jobs: int = 4, deadline: float | None = None) -> list[Outcome]:
    """:func:`fetch_many` behind a rich progress bar on a terminal (cleared at the end), else one line per PR;
    a source's waits (a rate limit's) are said in a line either way."""
    if hasattr(source, "on_wait"):
        source.on_wait = lambda line: console.print(line, markup=False, highlight=False, soft_wrap=True)
    total = len(set(prs))
    columns = (TextColumn("fetching"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("", total=total)
        count = 0

        def tick(outcome: Outcome) -> None:
            nonlocal count
            count += 1
            progress.update(task, advance=1, description=f"#{outcome.pr} {outcome.result}")
            if not console.is_terminal and not outcome.skipped:  # logs and CI get a line per PR as it ends
                console.print(f"[{count}/{total}] #{outcome.pr} {outcome.result}")

        return fetch_many(prs, source, cache, refresh=refresh, jobs=jobs, on_done=tick, deadline=deadline)


def summary_table(outcomes: list[Outcome]) -> Table:
    table = Table(title=None, show_edge=False, pad_edge=False)
    for name, justify in (("PR", "right"), ("state", "left"), ("files", "right"), ("+/-", "right"),
                          ("source", "left"), ("result", "left")):
        table.add_column(name, justify=justify)
    for o in outcomes:
        if o.entry is None:
            table.add_row(f"#{o.pr}", "-", "-", "-", "-", Text(o.result, style="red"))
            continue
        meta = o.entry.meta
        table.add_row(
            f"#{o.pr}", meta.get("state") or "?", str(len(meta.get("files", []))),
            f"+{meta.get('additions', 0)}/-{meta.get('deletions', 0)}", o.entry.provenance.get("source", "?"),
            o.result,
        )
    return table
