"""Where a card's change is on record, as text the depth rules can look identifiers up in.

A *ground* is a function ``(card, ctx, hunk_of_match) -> list[str] | None``: the texts of the change
(``hunk_of_match``: only the hunk(s) the key fragment matched), or None when its source has nothing for the
card. The cached PR diff is one; another source (the named files of the release that shipped the change)
registers itself with :func:`ground` and every depth rule that asks :func:`ground_texts` sees it.
"""

from __future__ import annotations

from collections.abc import Callable

from dossier.model import Card

Ground = Callable[[Card, object, bool], "list[str] | None"]
GROUNDS: list[Ground] = []


def ground(fn: Ground) -> Ground:
    """Register a source of change text."""
    GROUNDS.append(fn)
    return fn


def ground_texts(card: Card, ctx, hunk_of_match: bool = False) -> list[str]:
    """Texts of the card's change from every source that has it (computed once per card and run)."""
    memo = ctx.memo.setdefault("grounds", {})
    key = (card.pr, hunk_of_match)
    if key not in memo:
        texts: list[str] = []
        for fn in GROUNDS:
            texts += fn(card, ctx, hunk_of_match) or []
        memo[key] = texts
    return memo[key]


@ground
def diff_hunks(card: Card, ctx, hunk_of_match: bool) -> list[str] | None:
    """The hunks of the cached PR diff (their lines, without the @@ headers)."""
    from dossier.lint.evidence import evidence

    ev = evidence(card, ctx)
    if ev.files is None:
        return None
    if hunk_of_match:
        located = ev.located
        if located is None or located.file is None or not located.hits:
            return None
        hunks = [located.file.hunks[i] for i in sorted({h.hunk for h in located.hits})]
    else:
        hunks = [h for f in ev.files for h in f.hunks]
    # the lines only: a name that is only in a hunk header (the enclosing def) is not what changed
    return ["\n".join(ln.text for ln in h.lines) for h in hunks]
