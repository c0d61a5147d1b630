"""A GPU generation in key_fragment.explain that straddles the SM-major test of the matched line (D241): the line is
``use_state_pool = sm_major != 9`` and the explain says "off SM100 the kernel updates the pool in place"."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier import prose
from dossier.gpu_archs import named_majors
from dossier.lint.figures import _quote
from dossier.lint.flag_defaults import _RELEASE
from dossier.lint.registry import Finding, rule
from dossier.model import Card

#: the CUDA compute-capability majors a test can split: Volta/Turing to Blackwell (SM12x)
_MAJORS = frozenset(range(7, 13))
#: the matched line's test: "sm_major != 9", "sm_major >= 10"
_TEST = re.compile(r"\bsm_major\s*(==|!=|>=|<=|>|<)\s*(\d{1,4})\b")
_OPS = {"==": int.__eq__, "!=": int.__ne__, ">=": int.__ge__, "<=": int.__le__, ">": int.__gt__, "<": int.__lt__}
#: a generation in prose with what it takes in: "off SM90", "non-SM100", "SM100+", "SM90 and newer", "pre-SM90",
#: "Hopper", "SM10x"; "off" before "SM90a-only paths" is a verb's ("turns off"), the generation names the paths
_GENERATION = re.compile(
    r"(?P<pre>\b(?i:off|non-|except(?: on)?|other than|outside(?: of)?|all but|not on|anything but)\s*|"
    r"\b(?i:pre-|below |before |older than ))?"
    r"\b(?:SM ?(?P<sm>\d{2,3}|\d{2}x)[a-z]?|(?P<name>Hopper|Blackwell))\b"
    r"(?P<post>\+| and (?:above|newer|later|up)\b| or (?:newer|later|above)\b| onwards?\b)?(?P<adj>-(?:only|specific)\b)?")


def _majors(m: re.Match) -> frozenset[int] | None:
    """The majors a generation phrase takes in (None: not a CUDA generation)."""
    sm = m.group("sm")
    majors = named_majors(m.group("name")) if m.group("name") else frozenset({int(sm[:-1])})
    if not majors <= _MAJORS:
        return None
    pre = (m.group("pre") or "").strip().lower()
    if m.group("post"):
        return frozenset(x for x in _MAJORS if x >= min(majors))
    if pre in ("pre-", "below", "before", "older than"):
        return frozenset(x for x in _MAJORS if x < min(majors))
    if pre and not m.group("adj"):
        return _MAJORS - majors
    return majors


@rule("D241", "key_fragment.explain gives the matched line's branch a GPU generation its SM-major test splits "
              "(off SM100 for sm_major != 9)", scope="card", severity="warning")
def generation_across_the_test(card: Card, doc, ctx) -> Iterator[Finding]:
    """The line is ``use_state_pool = sm_major != 9`` and the explain says "off SM100 the kernel updates the pool in
    place": SM90 is off SM100 too, and the line sends it the other way. Judged where the matched line compares
    sm_major with a number; each generation the explain names ("off SM90", "SM100+", "pre-SM90", "Hopper", a bare
    "SM90") must fall wholly on one side of that test, the line's branch or the other. A sentence naming a release
    (the line as it was rewritten later) is not judged."""
    tests = _TEST.findall(card.key_fragment.match)
    if len(tests) != 1:
        return
    op, bound = tests[0]
    taken = frozenset(x for x in _MAJORS if _OPS[op](x, int(bound)))
    for sentence in prose.sentences(" ".join(card.key_fragment.explain.split())):
        if _RELEASE.search(sentence):
            continue
        for m in _GENERATION.finditer(sentence):
            said = _majors(m)
            if said is not None and not (said <= taken or said.isdisjoint(taken)):
                yield Finding("key_fragment.explain#value",
                              f"{m.group(0).strip()!r} in {_quote(sentence, m.start())} spans both sides of the "
                              f"matched line's sm_major {op} {bound}",
                              hint="name the generations the line's test sends each way")
