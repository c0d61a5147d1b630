"""Markdown escaping for card text placed into generated documents."""

from __future__ import annotations

import re

# what can break a line or a table cell: pipes, code-span backticks, html, emphasis and link openers;
# an underscore only at a word edge (intraword underscores are literal in CommonMark, as in fused_gdn_gating)
_INLINE_SPECIAL = re.compile(r"([\\`*\[<|]|(?<!\w)_|_(?!\w))")


def cell(text: object) -> str:
    """Text safe inside one table cell: one line, pipes and backticks escaped."""
    return _INLINE_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def inline(text: object) -> str:
    """Text safe in a heading or a list item: one line, markdown specials escaped."""
    return cell(text)


def code(text: object) -> str:
    """``text`` as an inline code span that survives any backticks or pipes inside it (also in tables)."""
    s = " ".join(str(text).split()).replace("|", "\\|")
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def prose(text: str) -> str:
    """A paragraph from a card: whitespace folded, kept as the author's markdown (backticks allowed)."""
    return " ".join(text.split())
