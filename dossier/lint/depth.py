"""D2xx: does the prose say something a reader could not get from the title?"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.diff import IMPORT_LINE
from dossier.lint.registry import Finding, rule
from dossier.model import Card

MIN_PROSE = 120
MIN_EXPLAIN = 40
MAX_MATCH = 120
PROSE_FIELDS = ("motivation", "implementation")

SHALLOW = {"follow-up", "followup", "bugfix", "bug", "fix", "fixes", "optimization", "optimize", "refactor",
           "cleanup", "clean", "up", "improve", "improvement", "update", "misc", "support", "perf", "performance"}
STOP = {"a", "an", "the", "of", "for", "to", "in", "on", "and", "or", "with", "this", "that", "it", "is", "was",
        "be", "by", "as", "at", "pr", "from", "into", "its", "are", "which", "so", "also", "when"}
PLACEHOLDER = re.compile(r"\b(TODO|TBD|FIXME|XXX|lorem ipsum|fill (?:me|in)|to be written|placeholder)\b"
                         r"|^\s*(\.\.\.|-|n/?a|none|pending)\s*\.?\s*$", re.IGNORECASE)
#: things a reader can look up: paths, identifiers, flags, numbers
CONCRETE = re.compile(
    r"[\w.-]+/[\w./-]+"            # a path
    r"|\b\w+\.(?:py|cu|cuh|cpp|yaml|md)\b"
    r"|\b[a-z]+_[a-z0-9_]+\b"       # snake_case identifier
    r"|\b[A-Z][a-z0-9]+[A-Z]\w*\b"  # CamelCase
    r"|\w+\(\)"                    # call
    r"|(?<!\w)--[a-z][\w-]+"        # flag
    r"|\b[A-Z][A-Z0-9_]{3,}\b"      # ENV_VAR / CONSTANT
    r"|\d"                          # any number
)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9][a-z0-9_.+-]*", text.lower())


def adds_to_title(text: str, title: str, needed: int = 6) -> bool:
    """True when ``text`` has at least ``needed`` distinct content words that the title lacks."""
    title_words = set(words(title))
    new = {w for w in words(text) if w not in title_words and w not in STOP and w not in SHALLOW}
    return len(new) >= needed


@rule("D201", "motivation or implementation only repeats the PR title", scope="card")
def repeats_title(card: Card, doc, ctx) -> Iterator[Finding]:
    for name in PROSE_FIELDS:
        if not adds_to_title(getattr(card, name), card.title):
            yield Finding(f"{name}#value", f"{name} repeats the PR title without adding the concrete problem",
                          hint="say what broke or was slow, with numbers, and where")


@rule("D202", "prose is a placeholder", scope="card")
def placeholder(card: Card, doc, ctx) -> Iterator[Finding]:
    texts = {name: getattr(card, name) for name in PROSE_FIELDS}
    texts["key_fragment.explain"] = card.key_fragment.explain
    for name, text in texts.items():
        m = PLACEHOLDER.search(text)
        if m:
            yield Finding(f"{name}#value", f"{name} is a placeholder ({m.group(0).strip()!r})")


@rule("D203", "prose names no concrete file, function, flag or number", scope="card")
def shallow(card: Card, doc, ctx) -> Iterator[Finding]:
    for name in PROSE_FIELDS:
        text = getattr(card, name)
        if not CONCRETE.search(text):
            found = sorted(set(words(text)) & SHALLOW)
            said = f" (only {', '.join(found)})" if found else ""
            yield Finding(f"{name}#value", f"{name} names no concrete file, function, flag or number{said}",
                          hint="name the file/function changed, the flag, or the measured number")


@rule("D204", "prose is shorter than a useful minimum", scope="card")
def too_short(card: Card, doc, ctx) -> Iterator[Finding]:
    for name in PROSE_FIELDS:
        n = len(getattr(card, name))
        if n < MIN_PROSE:
            yield Finding(f"{name}#value", f"{name} is {n} characters; write at least {MIN_PROSE}")


@rule("D205", "key_fragment.explain is missing substance", scope="card")
def thin_explain(card: Card, doc, ctx) -> Iterator[Finding]:
    kf = card.key_fragment
    if len(kf.explain) < MIN_EXPLAIN or kf.explain.strip("` ") == kf.match.strip():
        yield Finding("key_fragment.explain#value",
                      f"explain must say what the changed lines do in >= {MIN_EXPLAIN} characters, "
                      "not repeat the match")


@rule("D206", "key_fragment.match quotes an import line", scope="card")
def import_match(card: Card, doc, ctx) -> Iterator[Finding]:
    if IMPORT_LINE.match(card.key_fragment.match):
        yield Finding("key_fragment.match#value", "key fragment is an import line; an import carries no change",
                      hint="match the line that uses the imported name")


@rule("D207", "key_fragment.match is too short or too long to identify a changed line", scope="card")
def match_size(card: Card, doc, ctx) -> Iterator[Finding]:
    n = len(card.key_fragment.match.strip())
    if n < 4 or n > MAX_MATCH:
        yield Finding("key_fragment.match#value",
                      f"match is {n} characters; use 4..{MAX_MATCH} (a distinctive piece of one changed line)")


@rule("D208", "no validation evidence or note recorded", scope="card", severity="warning")
def no_claims(card: Card, doc, ctx) -> Iterator[Finding]:
    if not card.claims:
        yield Finding("validation.claims", "no validation claims; record the PR's numbers or say none were given")
