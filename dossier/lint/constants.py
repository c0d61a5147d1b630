"""A module constant of today's SGLang said to hold a number its definition does not give (D633)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier import prose
from dossier.lint.claims import _from_tree, surface
from dossier.lint.figures import _quote
from dossier.lint.flag_defaults import _RELEASE
from dossier.lint.flag_releases import current_texts
from dossier.lint.registry import Finding, rule

#: a module-level constant bound to a plain number: "MAX_FUSED_QKV_SPLIT_DIM = 8192", "_BLOCK: int = 64"
_DEFINED = re.compile(r"^([A-Z_][A-Z0-9_]{3,})\s*(?::\s*[\w\[\], .]+)?\s*=\s*(-?\d[\d_]*(?:\.\d+)?)\s*(?:#.*)?$",
                      re.MULTILINE)
#: a constant given a value in prose: "`MAX_FUSED_QKV_SPLIT_DIM` (8192)", "(default 8192)", "= 8192", "is 8192", "is set
#: to 8192", "equals 8192", "holds 8192"
_SAID = re.compile(r"`?\b(?P<name>[A-Z][A-Z0-9]*_[A-Z0-9_]+)\b`?\s*(?:\(\s*(?:default\s+|=\s*)?|=\s*|"
                   r"(?:is(?: set to| defined as| bound to)?|equals|holds|stays at)\s+)"
                   r"(?P<value>-?\d[\d,_]*(?:\.\d+)?)(?!\w|\.\d)")


def _constants(tree) -> dict[str, frozenset[float]]:
    """Every module-level UPPER_CASE constant bound to a number in ``tree``, with the values its definitions give."""
    found: dict[str, set[float]] = {}
    for text in tree.texts.values():
        for m in _DEFINED.finditer(text):
            found.setdefault(m.group(1), set()).add(float(m.group(2).replace("_", "")))
    return {name: frozenset(values) for name, values in found.items()}


@rule("D633", "a module constant of today's SGLang (MAX_FUSED_QKV_SPLIT_DIM (16384)) said to hold a number none of its "
              "definitions gives", scope="project")
def wrong_constant(ctx) -> Iterator[Finding]:
    """"`MAX_FUSED_QKV_SPLIT_DIM` (16384)" where 0.5.23 defines it as 8192: a number read off the code and written
    wrong, which no figure check sees (it is no measurement). Judged where the prose gives an UPPER_CASE name a
    number right after it ("(N)", "(default N)", "= N", "is N") and today's SGLang binds that name to numbers at
    module level; not where the sentence names another release than today's (the value then may be that
    release's), nor for SGLANG_*/SGL_* environment variables (D623's). Read in every card, cards/lanes.yaml and the
    findings."""
    s = surface(ctx)
    if s is None:
        return
    defined = _from_tree("constants", s.tree, _constants)
    for doc, where, flat in current_texts(ctx.project):
        yield from _judged(doc, where, flat, defined, s.tree.version)


def _judged(doc, where: str, flat: str, defined: dict[str, frozenset[float]], version: str) -> Iterator[Finding]:
    for sentence in prose.sentences(flat):
        if any(r != version for r in _RELEASE.findall(sentence)):
            continue
        for m in _SAID.finditer(sentence):
            name = m.group("name")
            values = defined.get(name)
            if values is None or name.startswith(("SGLANG_", "SGL_")):
                continue
            said = float(m.group("value").replace(",", "").replace("_", ""))
            if said not in values:
                shown = ", ".join(f"{v:g}" for v in sorted(values))
                yield Finding(where, f"{name} is given {m.group('value')} in {_quote(sentence, m.start())}, but SGLang "
                                     f"{version} defines it as {shown}",
                              hint="write the value today's definition gives, or name the release the value is from",
                              doc=doc)
