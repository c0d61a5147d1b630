"""`dossier fetch` orchestration: cache hits first (zero requests), the rest concurrently, then a summary.

A failed PR never stops the others: each lands in the cache on its own, and the caller exits 1 if any failed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from dossier.project import Project
from dossier.sources import Source, SourceError
from dossier.sources.cache import Cache, CacheEntry


@dataclass(frozen=True)
class Outcome:
    pr: int
    result: str  # "cached" | "fetched" | "failed"
    entry: CacheEntry | None = None
    error: str | None = None  # one line, without the "#N: " that the CLI puts in front


def cited_prs(project: Project) -> list[int]:
    """Every PR a card cites: its own number and those in superseded_by (cards failing the schema included)."""
    found: set[int] = set()
    for doc in project.docs:
        data = doc.data if isinstance(doc.data, dict) else {}
        later = data.get("superseded_by")
        nums = [data.get("pr"), *(later if isinstance(later, list) else [])]
        found.update(n for n in nums if isinstance(n, int) and not isinstance(n, bool) and n > 0)
    return sorted(found)


def _fetch_one(pr: int, source: Source, cache: Cache) -> Outcome:
    try:
        got = source.fetch(pr)
        return Outcome(pr, "fetched", entry=cache.put(pr, got.meta, got.diff_text, got.provenance))
    except SourceError as exc:
        return Outcome(pr, "failed", error=str(exc))
    except OSError as exc:
        return Outcome(pr, "failed", error=f"cannot write the cache entry in {cache.path(pr)}: {exc.strerror}")
    except Exception as exc:  # noqa: BLE001 (a bug or unforeseen library error: report it, keep the others going)
        return Outcome(pr, "failed", error=f"unexpected {type(exc).__name__}: {exc}")


def fetch_many(prs: Iterable[int], source: Source, cache: Cache, *, refresh: bool = False, jobs: int = 4,
               on_done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Fetch ``prs`` (deduplicated) into ``cache``; outcomes come back in the order asked.

    A PR already cached for the same repo is a hit and costs no request unless ``refresh``.
    """
    order = list(dict.fromkeys(prs))
    done: dict[int, Outcome] = {}
    todo = []
    for pr in order:
        entry = None if refresh else cache.get(pr)
        if entry is not None and entry.provenance.get("repo") == source.repo:
            done[pr] = Outcome(pr, "cached", entry=entry)
            if on_done:
                on_done(done[pr])
        else:
            todo.append(pr)
    if todo:
        with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(todo)))) as pool:
            futures = {pool.submit(_fetch_one, pr, source, cache): pr for pr in todo}
            try:
                for fut in as_completed(futures):
                    done[futures[fut]] = fut.result()
                    if on_done:
                        on_done(done[futures[fut]])
            except BaseException:  # Ctrl-C: drop what has not started; running writes stay atomic
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    return [done[pr] for pr in order]


def fetch_with_progress(prs: list[int], source: Source, cache: Cache, console: Console, *,
                        refresh: bool = False, jobs: int = 4) -> list[Outcome]:
    """:func:`fetch_many` behind a rich progress bar (drawn on ``console``, cleared at the end)."""
    columns = (TextColumn("fetching"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress:
        task = progress.add_task("", total=len(set(prs)))

        def tick(outcome: Outcome) -> None:
            progress.update(task, advance=1, description=f"#{outcome.pr} {outcome.result}")

        return fetch_many(prs, source, cache, refresh=refresh, jobs=jobs, on_done=tick)


def summary_table(outcomes: list[Outcome]) -> Table:
    table = Table(title=None, show_edge=False, pad_edge=False)
    for name, justify in (("PR", "right"), ("state", "left"), ("files", "right"), ("+/-", "right"),
                          ("source", "left"), ("result", "left")):
        table.add_column(name, justify=justify)
    for o in outcomes:
        if o.entry is None:
            table.add_row(f"#{o.pr}", "-", "-", "-", "-", Text("failed", style="red"))
            continue
        meta = o.entry.meta
        table.add_row(
            f"#{o.pr}", meta.get("state") or "?", str(len(meta.get("files", []))),
            f"+{meta.get('additions', 0)}/-{meta.get('deletions', 0)}", o.entry.provenance.get("source", "?"),
            o.result,
        )
    return table
