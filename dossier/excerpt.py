"""`dossier show N --diff`: the real changed lines around a card's key fragment, from the local fetch cache, or,
where the PR is not fetched, from the release diff that shipped them (both releases synced).

The repository keeps only the match string and our explanation; whoever has fetched the PR, or synced the releases,
sees the code.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from rich.console import Console
from rich.text import Text

from dossier.evidence import NO_PATCH, PROBLEM_TEXT, Located, diff_files, find_fragment, patch_missing
from dossier.model import Card
from dossier.release_evidence import Event, unified
from dossier.show import shown
from dossier.sources import not_utf8

if TYPE_CHECKING:
    from dossier.diff import DiffFile, DiffLine
    from dossier.source_tree import SourceTree
    from dossier.sources.cache import CacheEntry

STYLE = {"+": "green", "-": "red", " ": "dim"}


def excerpt(df: DiffFile, located: Located, context: int) -> list[tuple[str, list[tuple[DiffLine, bool]]]]:
    """Per hunk holding a hit: its header and its lines within ``context`` lines of a hit (hit flag set)."""
    hit_ids = {id(h.line) for h in located.hits}
    out = []
    for index in sorted({h.hunk for h in located.hits}):
        hunk = df.hunks[index]
        at = [i for i, line in enumerate(hunk.lines) if id(line) in hit_ids]
        keep = [i for i in range(len(hunk.lines)) if any(abs(i - a) <= context for a in at)]
        out.append((hunk.header, [(hunk.lines[i], id(hunk.lines[i]) in hit_ids) for i in keep]))
    return out


def print_excerpt(card: Card, entry: CacheEntry, console: Console, context: int = 3) -> bool:
    """Print the diff lines the card's match lands on; False when it lands nowhere useful."""
    files = diff_files(entry)
    if files is None:
        console.print(
            f"the cached diff of #{card.pr} is not a unified diff: `dossier fetch --refresh {card.pr}`"
        )
        return False
    located = find_fragment(files, card.key_fragment, patch_missing(entry.meta))
    sha = (entry.provenance.get("sha256") or "")[:12]
    source = entry.provenance.get("source", "?")
    if located.file is None:
        console.print(shown(f"#{card.pr} did not change {card.key_fragment.file} ({located.hint})"))
        return False
    head = f"{located.file.path}" + (
        f" (renamed from {located.file.old_path})" if located.file.old_path else ""
    )
    console.print(shown(Text.assemble(("diff ", "bold"), (head, "cyan"), f"  sha256:{sha} ({source})")))
    if lost := not_utf8(entry.provenance).get(located.file.path):
        console.print(f"note: {lost} line(s) of this file were not UTF-8 when fetched: U+FFFD (\ufffd) stands where "
                      "their bytes were")
    return _print_located(located, console, context)


def print_release_excerpt(card: Card, event: Event, old: SourceTree, new: SourceTree, console: Console,
                          context: int = 3) -> bool:
    """Print the lines of the release diff that shipped the card's change (``event``: ``old`` -> ``new``) that its
    match lands on; False when it lands nowhere useful (the trees are not the ones the evidence recorded)."""
    files = unified(event.file, old.text(event.file), event.file, new.text(event.file))
    located = find_fragment(files, replace(card.key_fragment, file=event.file))
    console.print(shown(Text.assemble(("release diff ", "bold"), f"SGLang {old.version} -> {new.version} ",
                                      (event.file, "cyan"), "  (the releases that shipped it, not the PR's own diff)")))
    if located.file is None:
        console.print(shown(f"the releases' diff does not change {event.file}: sync the releases again"))
        return False
    return _print_located(located, console, context)


def _print_located(located: Located, console: Console, context: int) -> bool:
    """Print the hunks a located match sits in (its lines highlighted); False when it sits nowhere useful."""
    if not located.hits:
        why = (
            "has no patch text (binary, too large, or a new mode only)"
            if located.problem == NO_PATCH
            else f"holds the match {PROBLEM_TEXT[located.problem]}"
        )
        console.print(shown(f"the diff of this file {why}" + (f"; {located.hint}" if located.hint else "")))
        return False
    for header, lines in excerpt(located.file, located, context):
        console.print(shown(Text(header, style="cyan")))
        for line, hit in lines:
            old = "" if line.old_lineno is None else str(line.old_lineno)
            new = "" if line.new_lineno is None else str(line.new_lineno)
            style = STYLE[line.kind] + (" bold reverse" if hit else "")
            console.print(
                Text(f"{old:>6} {new:>6} ", style="dim") + shown(Text(f"{line.kind}{line.text}", style=style))
            )
    if located.problem:
        console.print(shown(f"note: the match is {PROBLEM_TEXT[located.problem]}; {located.hint}"))
    return located.problem is None
