"""D346: a value change written backwards (or with neither end the added line's), judged against the line the change
added."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.lint.figures import _UNIT_AFTER
from dossier.lint.registry import Finding, rule
from dossier.lint.releases import release_verdict
from dossier.model import Card

#: a number standing alone: not part of a version (0.5.13.post1), a date (2026-02-19) or a name (fp8, sm_90)
_NUMBER = r"(?<![\w.-])\d+(?:\.\d+)?(?![\w-]|\.\d)"
#: a value's two ends: "goes from 8 to 32", "default 0.2 -> 0.9", "(4 GEMMs to 2)" is not read (no verb, no arrow)
_CHANGE = re.compile(rf"\b(?:go(?:es)?|went|chang\w*|rais\w*|lower\w*|increas\w*|reduc\w*|cut|cuts|drop\w*|bump\w*|"
                     rf"grow\w*|grew|shrink\w*|shrank|cap\w*|mov\w*|sets?|default\w*)\b(?: [\w.`]+){{0,4}}? from "
                     rf"(?P<a>{_NUMBER})(?: [a-zA-Z]+)? to (?P<b>{_NUMBER})"
                     rf"|(?P<a2>{_NUMBER})(?: [a-zA-Z]+)? ?(?:->|→) ?(?P<b2>{_NUMBER})")
#: what a setting is called: the change must be of one ("the value-tile cap goes from 8 to 32"), not a count that
#: moves as a run goes ("a chunk count grows from 32 to 33", "as TP goes from 1 to 8")
_SETTING = re.compile(r"\b(?:default|cap|tile|constant|threshold|limit|size|ratio|interval|width|block|BV|warps?|"
                      r"stages?|value)s?\b", re.IGNORECASE)


@rule("D346", "prose gives a value change backwards (\"from 32 to 8\"): the line the PR added, its key fragment, holds "
              "the first value and not the second (or, a line setting one named value, neither)", scope="card")
def change_written_backwards(card: Card, doc, ctx) -> Iterator[Finding]:
    """"The launcher's value-tile cap goes from 32 to 8" on a card whose key fragment, the line the PR added (as
    the release that shipped it shows), reads `min(triton.next_power_of_2(V), 32)`: the added line holds the
    value the prose says was left, not the one it says was reached. Judged only where the match holds exactly one
    of the two numbers and the sentence names a setting (a default, cap, tile, threshold, ..., or a name the match
    holds) before the change, whose first value is not 0 or 1 and whose ends are not neighbours (a count crossing a
    bound: "a chunk count grows from 32 to 33", "pins drop from 1 to 0"). Where the line sets one value and the
    change names the line's own name ("mamba_full_memory_ratio ... its default goes from 0.2 to 0.8" against
    `mamba_full_memory_ratio: float = 0.9`), a change with neither end that value is wrong too. A card whose change
    is a removal (its quoted line is the old one) is not judged, nor the author's claims (measured numbers, not
    code)."""
    from dossier.lint.depth import prose_texts, text_location

    v = release_verdict(card, ctx)
    if v is None or v.shipped is None or v.shipped.change != "added":
        return
    written = re.findall(_NUMBER, card.key_fragment.match)
    held = {float(n) for n in written}  # 0.90 is 0.9
    names = {w for w in re.findall(r"[A-Za-z_]\w{2,}", card.key_fragment.match)}
    if not held:
        return
    for path, flat in prose_texts(card):
        for m in _CHANGE.finditer(flat):
            before, after = m.group("a") or m.group("a2"), m.group("b") or m.group("b2")
            lead = flat[max(0, m.start() - 120):m.end()]
            named = {n for n in names if re.search(rf"\b{re.escape(n)}\b", lead)}
            if before in ("0", "1") or abs(float(before) - float(after)) == 1 or not (_SETTING.search(lead) or named):
                continue  # a flag or a count that steps over a bound, or no setting named: not a setting's change
            if float(before) in held and float(after) not in held:
                yield Finding(text_location(path),
                              f"{m.group(0)!r} reads backwards: the line the PR added ({card.key_fragment.match!r}) "
                              f"holds {before}, not {after}",
                              hint="write the change from the old value to the new one")
            elif len(held) == 1 and not {float(before), float(after)} & held and _of_the_line(names, lead) \
                    and not _UNIT_AFTER.match(flat, m.end()):  # "(121 -> 76 us a call)": a timing, not the setting
                yield Finding(text_location(path),
                              f"{m.group(0)!r}: the line the PR added ({card.key_fragment.match!r}) sets it to "
                              f"{written[0]}, neither end of the change the prose gives",
                              hint="take the new value from the line the PR added, the old one from the line it "
                                   "replaced")


def _of_the_line(names: set[str], lead: str) -> bool:
    """Whether the change at ``lead``'s end is of the setting the added line sets: its clause (after the last comma
    or semicolon) names the line's snake_case name, or that name as a flag ("mamba_full_memory_ratio ...: its
    default goes from", "the --mamba-full-memory-ratio default goes from"); a change after "Raising X," is of
    something else."""
    clause = re.split(r"[,;]\s|\.\s", lead)[-1]
    return any(re.search(rf"(?<![\w-]){re.escape(spelled)}(?![\w-])", clause)
               for n in names if "_" in n for spelled in (n, "--" + n.replace("_", "-")))
