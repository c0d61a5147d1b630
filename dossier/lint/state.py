"""D4xx: do state (GitHub's) and status (ours) tell one consistent story?"""

from __future__ import annotations

from collections.abc import Iterator

from dossier.lint.registry import Finding, rule
from dossier.model import Card

#: the GitHub states each status allows
STATUS_STATES = {
    "current": {"merged"},
    "reverted": {"merged"},
    "superseded": {"merged", "closed", "open"},
    "candidate": {"open"},
    "adjacent": {"merged", "open", "closed"},
}


@rule("D401", "merged_at disagrees with state", scope="card")
def merged_at_vs_state(card: Card, doc, ctx) -> Iterator[Finding]:
    if card.state == "merged" and card.merged_at is None:
        yield Finding("merged_at#value", "state is merged but merged_at is empty")
    if card.state != "merged" and card.merged_at is not None:
        yield Finding("merged_at#value", f"merged_at is set but state is {card.state}")


@rule("D402", "status is impossible for the PR's state", scope="card")
def status_vs_state(card: Card, doc, ctx) -> Iterator[Finding]:
    allowed = STATUS_STATES[card.status]
    if card.state not in allowed:
        hint = {
            "candidate": "a closed PR is no candidate: mark it superseded (by what landed) or adjacent",
            "current": "only merged behaviour can be current; an open PR is a candidate",
            "reverted": "only a merged PR can be reverted",
        }.get(card.status)
        yield Finding("status#value", f"status {card.status} needs state {' or '.join(sorted(allowed))}, "
                      f"but the PR is {card.state}", hint=hint)
