"""D414: what a card says of its PR that GitHub's record (cards/pr-facts.json, the stored PR facts snapshot)
contradicts: the title, a merged PR given another state, a merge day inside the right month but on the wrong day,
prose that calls a merge day GitHub records a stand-in or inferred, and the files and lines the PR changed, in total
or for one of its main files, as the prose gives them."""

from __future__ import annotations

from collections.abc import Iterator

from dossier.lint.registry import Finding, rule
from dossier.locks import LockError
from dossier.model import Card
from dossier.pr_facts import PR_FACTS, conflicts, read_facts


def facts(ctx) -> dict:
    """The snapshot's PRs for this run (empty: none stored, or unreadable: D311 says so)."""
    if "pr-facts" not in ctx.memo:
        try:
            ctx.memo["pr-facts"] = read_facts(ctx.project.root)
        except LockError:
            ctx.memo["pr-facts"] = {}
    return ctx.memo["pr-facts"]


@rule("D414", f"the card's title, state or merge day, or the files and lines its prose says the PR changed, "
              f"contradict GitHub's record of the PR ({PR_FACTS})", scope="card")
def contradicts_github(card: Card, doc, ctx) -> Iterator[Finding]:
    """A merge day one day off inside the right month, a title reworded, "19 files (+3224/-8)" with one digit
    changed, "qwen3_next.py (+62/-1)" or "deleted from qwen3_next.py (54 lines)" for a file the PR changed by other counts
    (a count in words is the side its verb names, else either side or both together): each reads as true, and no rule that
    compares a card with itself or with the releases can tell. Where the stored PR facts snapshot has the PR, its
    title (leading [Tag]s, case and spacing aside), state (merged is final: a card may close an open PR the snapshot
    saw), merge day and counts are GitHub's. A count in quotation marks, "per the description" or "per an earlier
    snapshot", or in a sentence citing another PR, is not judged; a PR the snapshot lacks is not judged. Prose that
    hedges the merge ("merged_at is a stand-in", "the merge is inferred") where GitHub records the day undersells
    what is known."""
    known = facts(ctx).get(card.pr)
    if known is None:
        return
    for path, message in conflicts(card, known):
        yield Finding(path, message, hint=f"take it from the PR's page ({PR_FACTS} holds GitHub's record)")
