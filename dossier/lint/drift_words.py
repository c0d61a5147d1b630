"""D335: prose says the card's line still holds where the PR put it while cards/drift.lock records it moved,
rewritten or gone."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier import prose
from dossier.lint.depth import card_texts, text_location
from dossier.lint.registry import Finding, rule
from dossier.lint.release_lines import current_drift_entry
from dossier.model import Card

#: the line is where the PR wrote it: its file, its place
_PLACE = re.compile(r"\b(?:(?:is|are|stays?|remains?|sits?|still) (?:still )?in place|has(?:n't| not) moved|never moved|"
                    r"where (?:the PR|this PR|#\d+) (?:put|left|wrote|added) (?:it|them)|"
                    r"(?:in|at) (?:its (?:same |original |own )*|the (?:same |original )+)(?:file|place|spot))\b",
                    re.IGNORECASE)
#: the line is there as written, wherever it is
_PRESENT = re.compile(r"\b(?:still (?:holds|matches|present|there|exists|ships|runs|carries|has|contains)|"
                      r"(?:is|are|stays?|remains?) (?:still )?(?:unchanged|untouched|intact|verbatim)|"
                      r"(?:is|are) still (?:present|there|found))\b", re.IGNORECASE)
#: what the clause is about: the card's own line (its match is added per card)
_SUBJECT = (r"\b(?:key[ _]fragment(?:'s (?:line|match))?|key line|matched line|the match\b|matched code|quoted line|"
            r"this card's line|the (?:PR's|added) (?:line|lines|code)\b|(?:this|the) exact line\b|"
            r"drift(?: verdict)?\b|verdict\b)")
#: a clause that says the line left or changed, or speaks of the past, or of its count ("the same line count")
_TURNS = re.compile(r"\b(?:not|no|nor|no longer|never|gone|moved|relocated|rewritten|renamed|removed|until|was|were|"
                    r"before|earlier|if|whether|rework\w*|refactor\w*|reword\w*|rewrote|split|inlined|folded|"
                    r"count|number|length)\b|n't\b", re.IGNORECASE)
_CLAUSE = re.compile(r";|, (?:while|but|whereas) ")
_CONTRADICTS = {"place": ("relocated", "rewritten", "missing"), "present": ("rewritten", "missing")}


@rule("D335", "prose says the card's line still holds (in place, unchanged) in today's SGLang while cards/drift.lock "
              "records it moved, rewritten or gone", scope="card")
def still_holds_against_drift(card: Card, doc, ctx) -> Iterator[Finding]:
    """"The key fragment is still in place in 0.5.23" on a card whose line drift found in another file
    (relocated), or "the matched line is unchanged today" where drift found only the card's `today` match
    (rewritten) or nothing (missing): a reader trusts the card's word and opens the wrong file. Judged where the
    clause is about the card's own line (its match quoted, "the key line", "the key fragment", "the matched line",
    "the PR's line", "drift") and about now (drift.lock's SGLang version, "today", "still", "current"); a clause
    saying the line moved, was rewritten or is gone, or speaking of the past, is not judged. A place ("in place",
    "has not moved", "where the PR put it") contradicts relocated, rewritten and missing; presence ("still holds",
    "unchanged") only rewritten and missing. Only the verdict recorded for the card's current key fragment counts."""
    version, entry = current_drift_entry(card, ctx)
    verdict = (entry or {}).get("verdict")
    if verdict not in _CONTRADICTS["place"]:
        return
    match = re.escape(card.key_fragment.match.strip())
    subject = re.compile(rf"{_SUBJECT}|{match}", re.IGNORECASE)
    now = re.compile(rf"{prose.release_named(version)}|\b(?:today|still|current(?:ly)?|now)\b",
                     re.IGNORECASE)
    where = ", ".join(w.get("file", "?") for w in entry.get("found") or [] if isinstance(w, dict)) or "no file"
    for path, text in card_texts(card):
        for sentence in prose.sentences(" ".join(text.split())):
            if not now.search(sentence):
                continue
            for clause in _CLAUSE.split(sentence):
                said = [kind for kind, pattern in (("place", _PLACE), ("present", _PRESENT)) if pattern.search(clause)]
                said = [k for k in said if verdict in _CONTRADICTS[k]]
                if not said or not subject.search(clause):
                    continue
                rest = _PRESENT.sub(" ", _PLACE.sub(" ", clause))
                if _TURNS.search(rest):
                    continue
                yield Finding(text_location(path),
                              f"says the card's line {'is in place' if said[0] == 'place' else 'still holds'} in "
                              f"SGLang {version or 'today'}, but cards/drift.lock records it {verdict} ({where})",
                              hint="say where today's SGLang has it (`dossier drift`), or that it moved or was "
                                   "rewritten")
                break
