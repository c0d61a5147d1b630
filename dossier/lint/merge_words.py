"""D248: a card's prose that says its own PR merged when the card's state is not merged, or that it closed unmerged
when it merged ("The PR page shows it merged" on a closed PR)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier import prose
from dossier.lint.claims import _locate
from dossier.lint.registry import Finding, rule
from dossier.model import Card
from dossier.pr_facts import cites_another, prose_fields

_UNMERGED = r"closed (?:without (?:being )?merg\w+|unmerged)|unmerged|not merged|never merged|abandoned|never landed"
#: the PR's own outcome: "the PR page shows it merged", "GitHub lists it as closed without merging", "this PR was
#: merged", "the PR was never merged", "the PR merged on 2026-01-02" (not "the PR merged each part separately")
_OUTCOME = re.compile(rf"\b(?:(?:[Tt]he PR(?:'s)?|[Ii]ts) page|GitHub)\s+(?:shows|lists|marks|records|has)\s+(?:it|the PR)\s+"
                      rf"(?:as\s+)?(?P<said>merged|{_UNMERGED})\b|"
                      rf"\b(?:[Tt]he|[Tt]his) PR\s+(?:(?:was|got|is|has been)\s+(?P<was>merged|{_UNMERGED})\b|"
                      rf"(?P<bare>merged|{_UNMERGED})(?=\s*(?:[.,;:)]|$)|\s+(?:on|in|at|before|after|upstream)\b))")
#: right after the outcome, words that say how, where or when it landed rather than whether: "as first opened", "to
#: the v0.5.2 release branch", "into the author's fork", "upstream in the fla repository", "via #123", "elsewhere"
#: (another branch, fork or repository, or a form of the PR other than its own, is not the PR's outcome)
_LANDED = re.compile(r"\s+(?:as|to|into|onto|(?:up|down)stream\s+(?:in|into|to)|elsewhere|via|through|partly|"
                     r"partially|separately|in\s+(?:part\b|(?:\S+\s+){0,4}?(?:repo(?:sitory)?|fork|branch|tree|"
                     r"project)\b))\b", re.IGNORECASE)
#: words before it in its clause that make the outcome a condition or a hope ("if the PR merged", "until this PR is
#: merged")
_UNSURE = re.compile(r"\b(?:if|whether|unless|until|once|before|after|had|would|could|should|when|may|might)\b[^;,]*$",
                     re.IGNORECASE)


@rule("D248", "the card's prose says its own PR merged while its state is not merged, or closed unmerged while it "
              "merged", scope="card", severity="warning")
def outcome_against_state(card: Card, doc, ctx) -> Iterator[Finding]:
    """"The PR page shows it merged" on a card whose state is closed: the reader trusts the sentence and looks for
    the change in a release. The card's state is checked against GitHub's record (D414, cards/pr-facts.json); its
    prose must say the same of the PR: "merged" only for a merged PR, "closed without merging", "unmerged",
    "never merged" only for one that is not. Judged where the sentence speaks of the PR itself (its page, GitHub's
    record, "the PR", "this PR") and its clause (up to a ';') cites no other PR; not where the outcome is a
    condition or a hope ("if the PR merged", "until this PR is merged"), nor where the words after it say how,
    where or when it landed rather than whether ("was not merged as first opened", "never merged to the v0.5.2
    release branch", "merged upstream in the fla repository", "merged into the author's fork")."""
    merged = card.state == "merged"
    for path, text in prose_fields(card):
        for sentence in prose.sentences(" ".join(text.split())):
            for m in _OUTCOME.finditer(sentence):
                said = m.group("said") or m.group("was") or m.group("bare")
                end = sentence.find(";", m.end())
                clause = sentence[sentence.rfind(";", 0, m.start()) + 1:end if end >= 0 else len(sentence)]
                if cites_another(card, clause) or _UNSURE.search(sentence, 0, m.start()) or (said == "merged") == merged \
                        or _LANDED.match(sentence, m.end()):
                    continue
                yield Finding(path, f"{m.group(0)!r}: the card's state is {card.state}",
                              hint="say what the PR's page shows (the card's state, D414 checks it against GitHub)",
                              at=_locate(doc, path, m.group(0), 0))
