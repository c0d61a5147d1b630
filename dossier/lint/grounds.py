"""Where a card's change is on record, as text the depth rules can look identifiers up in.

A *ground* is a function ``(card, ctx, hunk_of_match) -> list[str] | None``: the texts of the change
(``hunk_of_match``: only the hunk(s) the key fragment matched), or None when its source has nothing for the
card. The cached PR diff is one; another source (the named files of the release that shipped the change)
registers itself with :func:`ground` and every depth rule that asks :func:`ground_texts` sees it.
"""

from __future__ import annotations

from collections.abc import Callable

from dossier.model import Card
from dossier.python_defs import enclosing_defs

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


@ground
def shipping_release(card: Card, ctx, hunk_of_match: bool) -> list[str] | None:
    """The release that shipped the change (the ``added`` event of cards/evidence.lock that the release rules
    take as the card's proof, for its current key fragment and merge date), read from the synced release cache: the
    hunks of that release diff that carry the match, or, for the whole change, the hunks of that release diff in the
    card's named files. Never the files whole: a name anywhere in them (a sibling class's method) would pass for
    the PR's change, so a synced cache made the rules that ask weaker than none."""
    from dossier.release_evidence import unified

    event = _shipping_event(card, ctx)
    trees = _release_trees(ctx)
    if event is None or event.new.version not in trees or event.old.version not in trees:
        return None
    old, new = trees[event.old.version], trees[event.new.version]
    paths = [event.file] if hunk_of_match else dict.fromkeys((*card.all_files, card.key_fragment.file, event.file))
    texts = []
    for p in paths:
        hunks = [h for f in unified(p, old.text(p), p, new.text(p)) for h in f.hunks
                 if not hunk_of_match or any(ln.new_lineno in event.lines for ln in h.lines if ln.new_lineno is not None)]
        texts += ["\n".join(ln.text for ln in h.lines) for h in hunks]
        if not hunk_of_match and hunks:  # a change inside a function changed that function, whose def the hunk lacks
            changed = {ln.new_lineno for h in hunks for ln in h.lines if ln.kind == "+" and ln.new_lineno is not None}
            texts += [f"def {name}" for name in enclosing_defs(new.text(p) or "", changed)]
    return texts or None


def _shipping_event(card: Card, ctx):
    """The release-diff event that proves the card's change, as the release rules judge it against the
    card's state and merge date (None for an unmerged PR, or a line already shipped before the merge)."""
    from dossier.lint.releases import release_verdict
    from dossier.release_evidence import ADDED

    verdict = release_verdict(card, ctx)  # an unreadable lock is D311's/D316's finding, not a crash per card
    event = verdict.evidence if verdict is not None else None
    return event if event is not None and event.change == ADDED else None


def _release_trees(ctx) -> dict:
    """The synced releases by version ($DOSSIER_RELEASES, else <root>/.dossier/releases); {} when none."""
    from dossier.releases import cache_dir, synced
    from dossier.source_tree import SourceTree

    if "release-trees" not in ctx.memo:
        ctx.memo["release-trees"] = {r.version: SourceTree.release(r) for r in synced(cache_dir(ctx.project.root))}
    return ctx.memo["release-trees"]
