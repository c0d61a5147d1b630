"""A count of a named thing in the card's prose ("4 draft tokens", "32 are GDN layers") that its validation.claims
give as another number and never as this one (D243)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier import prose
from dossier.lint.depth import prose_texts, text_location
from dossier.lint.figures import _quote
from dossier.lint.registry import Finding, rule
from dossier.model import Card

#: a whole number (in words too) and the thing it counts, a qualifier and a plural noun: "3 draft tokens", "24 split
#: launches", "36 are GDN layers", "four draft tokens"; not one of a list or range ("1, 2 or 4 draft tokens", "2-4
#: heads"), a setting ("T=4 draft tokens") nor a rate ("tokens/s")
_COUNT = re.compile(r"(?<![\w.#/=:^,+-])(?<!or )(?<!and )(?<!to )(?P<n>\d+|(?i:"
                    + "|".join(w for w, n in prose.NUMBER_WORDS.items() if n > 1) + r")) (?P<are>are )?"
                    r"(?P<thing>(?!(?:of|and|or|to|per|more|fewer|less|other|such|the|us|ms|ns|s)\b)[A-Za-z][\w-]* "
                    r"(?!(?:is|was|has|does|pass|us|ms|this|as)\b)[a-z][\w-]*s)\b(?![/\w-])")
#: a count given as approximate or as a bound
_HEDGED = re.compile(r"\b(?:about|around|roughly|approximately|nearly|almost|some|over|under|up to|at most|at least|"
                     r"more than|fewer than|less than)\s+$|~$", re.IGNORECASE)
#: a whole number the claims write, one ending a sentence ("the 27B checkpoint has 36.") too
_INTEGER = re.compile(r"(?<![\w.])\d+(?!\w|\.\d)")


def _number(written: str) -> str:
    """A count as digits ("four" -> "4")."""
    return str(prose.NUMBER_WORDS.get(written.lower(), written))


@rule("D243", "a count of a named thing in the card's prose (4 draft tokens, 32 GDN layers) that its "
              "validation.claims give as another number and never as this one", scope="card", severity="warning")
def count_unlike_claims(card: Card, doc, ctx) -> Iterator[Finding]:
    """"NEXTN (4 draft tokens)" where the claims record the run with 3 draft tokens, "so 32 are GDN layers" where
    they say the model has 36: a setup count no figure check reads. Judged in the motivation, implementation and
    explain, for a number followed by a qualifier and a plural noun (draft tokens, GDN layers, split launches, value
    heads) that the claims count with the same two words; the prose's number must be one the claims give it, or any
    whole number the claims write (the claims may give it in other words: "the model has 36"). Approximate counts
    and bounds ("about 40", "up to 8"), and sentences citing another PR, are not judged."""
    claims = " ".join(" ".join(claim.split()) for claim in card.claims)
    counted: dict[str, set[str]] = {}
    for m in _COUNT.finditer(claims):
        if not m.group("are"):
            counted.setdefault(m.group("thing").lower(), set()).add(_number(m.group("n")))
    if not counted:
        return
    written = set(_INTEGER.findall(claims))
    for path, flat in prose_texts(card):
        if path not in ("motivation", "implementation", "key_fragment.explain"):
            continue
        for sentence in prose.sentences(flat):
            if re.search(rf"#(?!{card.pr}\b)\d+", sentence):
                continue
            for m in _COUNT.finditer(sentence):
                given = counted.get(m.group("thing").lower())
                if given and _number(m.group("n")) not in given | written and not _HEDGED.search(sentence[:m.start()]):
                    yield Finding(text_location(path),
                                  f"{m.group('n')} {m.group('thing')} in {_quote(sentence, m.start())}: the claims "
                                  f"give {' or '.join(sorted(given, key=int))} {m.group('thing')}",
                                  hint="give the count the claims record, or say whose other count it is")
