"""D643: a bound between two flags ("`--mamba-track-interval` must be at least `--speculative-num-draft-tokens`") that
today's SGLang does not check, while its source does compare the first flag's field with other flags' fields."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.lint.claims import _locate, surface
from dossier.lint.flag_releases import manual_texts
from dossier.lint.name_files import dated_elsewhere, sentence_before
from dossier.lint.registry import Finding, rule
from dossier.mentions import FLAG, find_mentions, is_sglang_command

#: between a flag and a later one: the words that hold the first to the second ("must be at least", "has to be
#: divisible by", "must not exceed", "and a multiple of"); a hedge ("should") or a past tense ("had to") is no bound
_RELATION = (r"(?:at least|at most|no (?:more|less|larger|smaller|greater|lower|higher) than|(?:greater|larger|smaller|"
             r"less|more|lower|higher|bigger) than(?: or equal to)?|divisible by|a (?:multiple|divisor) of|equal to|"
             r"exceed|match|below|above)")
_MUST = re.compile(r"\b(?:must|has to|have to|needs? to|is required to)\s+(?:not\s+)?(?:be\s+|stay\s+|remain\s+)?"
                   + _RELATION + r"\s+[`'\"]*$", re.IGNORECASE)
_AND = re.compile(r"^[`'\"]*,?\s+(?:and|or)\s+(?:be\s+)?" + _RELATION + r"\s+[`'\"]*$", re.IGNORECASE)
#: right before the modal, a negation: "does not have to be", "doesn't need to be", "is never required to be"
_NEGATED = re.compile(r"(?:\b(?:not|never|no longer)|n't)\s+$", re.IGNORECASE)
#: a comparison in Python source: the two operands' last names around <, <=, >, >=, ==, != or %
_COMPARE = re.compile(r"(?:\w+\.)*(\w+)\s*(?:[<>]=?|[=!]=|%)\s*(?:\w+\.)*(\w+)")


def compared_fields(tree, field: str, fields: frozenset[str]) -> dict[str, str]:
    """The flag fields (of ``fields``) that ``tree``'s source compares ``field`` with, each with the first file that
    does: compared directly on one line (``a.x < b.y``, ``x % y``), not through a local variable or across lines."""
    found: dict[str, str] = {}
    for path, text in tree.texts.items():
        if not path.endswith(".py") or field not in text:
            continue
        for line in text.splitlines():
            for a, b in _COMPARE.findall(line):
                other = b if a == field else a if b == field else None
                if other in fields and other != field:
                    found.setdefault(other, path)
    return found


def _both_on_a_line(tree, a: str, b: str) -> bool:
    pair = re.compile(rf"^.*(?:\b{a}\b.*\b{b}\b|\b{b}\b.*\b{a}\b)", re.MULTILINE)
    return any(a in text and b in text and pair.search(text) for text in tree.texts.values())


@rule("D643", "a bound between two --flags (`--a` must be at least `--b`) that today's SGLang never checks, while it "
              "checks the first flag against others", scope="project", severity="warning")
def unchecked_bound(ctx) -> Iterator[Finding]:
    """"`--mamba-track-interval` must be at least `--speculative-num-steps`" where 0.5.23 asserts the interval against
    `speculative_num_draft_tokens` and `page_size`: a reader sizes one flag by the wrong other. Judged: a flag
    followed in its clause by "must/has to/needs to (not) be" and a relation ("at least", "at most", "no more than",
    "greater than", "divisible by", "a multiple of", "equal to", "exceed"...) right before a second flag (and any
    further flag joined by "and/or" and a relation), in every text the manual is rendered from. Grounds: today's
    source compares the first flag's field (<, >, ==, %, ...) with other flag fields, never with the second's, and
    no line holds both (a comparison is seen only where the two fields are compared directly on one line, `a < b`,
    `a % b == 0`; one through a local variable or over several lines is not). Not judged: a first flag whose field
    today's source compares with no flag (the bound may be enforced another way), a hedge ("should be at least"), a
    negated modal ("does not have to be", "need not be", "is never required to be"), a sentence dated to another
    release or put in the past, a text marked historical."""
    today = surface(ctx)
    if today is None:
        return
    newest = today.tree.version
    fields = frozenset(f.field for f in today.flags.values())
    for doc, path, text, historical in manual_texts(ctx.project):
        if historical or "`--" not in text:
            continue
        flags = [m for m in find_mentions(text) if m.kind == FLAG and is_sglang_command(m.command)
                 and m.text in today.flags and not m.historical]
        for i, m in enumerate(flags):
            bounds, at, rel = [], m.start + len(m.raw), _MUST
            for other in flags[i + 1:]:
                between = text[at:other.start]
                said = rel.search(between)
                if len(between) > 60 or re.search(r"[;:]|\.\s", between) or not said \
                        or _NEGATED.search(between, 0, said.start()):
                    break
                bounds.append(other)
                at, rel = other.start + len(other.raw), _AND
            if not bounds:
                continue
            end = re.search(r"[;:]|\.(?:\s|$)|$", text[at:])
            if dated_elsewhere(sentence_before(text, at + end.start()), newest):
                continue
            a = today.flags[m.text].field
            checked = compared_fields(today.tree, a, fields)
            if not checked:
                continue
            for other in bounds:
                b = today.flags[other.text].field
                if b not in checked and not _both_on_a_line(today.tree, a, b):
                    against = ", ".join(f"--{f.replace('_', '-')}" for f in sorted(checked))
                    yield Finding(path, f"{m.text} is said to be bound by {other.text}, but SGLang {newest} compares "
                                        f"it only with {against} ({', '.join(sorted(set(checked.values())))}); no "
                                        f"line of its source names both",
                                  hint="name the flag the check reads, or say where the bound comes from", doc=doc,
                                  at=_locate(doc, path, m.raw, text.count(m.raw, 0, m.start)))
