"""Which TP/batch row of a results file each number of a sentence belongs to, where the sentence's shape says so.

A row is written ``TPn B=m`` (``TP4, B=512`` too). A number is bound to a row only where no other reading is
natural; everything else stays unbound (D517 then checks it against the whole file):

* a clause (``;`` ends one) naming one TP and one B, as a row outside parentheses: every number in it is that
  row's ("1.27x to 1.94x faster (1.20x its floor at TP1 B=512)" gives only 1.20 to the row);
* a parenthesis naming one row and nothing else of TP/B: the numbers inside, and, when it opens with the row
  (``2.32x (TP1 B=512: ...)``), the number written just before it;
* a clause listing its k >= 2 rows and k numbers in one of the orders ``R R V V`` (rows and numbers each a list
  joined by commas/and/or, "respectively") or ``R V R V`` / ``V R V R`` (each row next to its number).

A range (``1.27x to 1.94x``), a row list of a different length than the numbers, a lone ``TP8``, or numbers
between rows in any other order bind nothing.
"""

from __future__ import annotations

import itertools
import re

#: a number as D517 reads it (a version such as 0.5.23 is none)
DECIMAL = re.compile(r"(?<![\w.])(\d+\.\d+)(?![\d.]*\d)(?!\.\d)")
#: one TP or batch mention
SHAPE = re.compile(r"\b(TP|B\s?=\s?)(\d+)\b")
#: a row: a TP and a batch side by side
ROW = re.compile(r"\bTP(\d+),?\s*B\s?=\s?(\d+)\b")
_UNIT = r"\s*[A-Za-z\u00b5%/]{0,6}\s*"
#: what joins two items of one list: a comma and/or "and"/"or" (never "to", a range)
_LIST_GAP = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|and\s+|or\s+)$")
_VALUE_LIST_GAP = re.compile(_UNIT + r"(?:,\s*(?:and\s+|or\s+)?|and\s+|or\s+)$")
#: a parenthesis that holds one number and its unit only, read as part of the text around it: "TP1 B=64 (1.15x)"
_BARE_VALUE = re.compile(r"\(\s*[~\u2248]?\d+\.\d+" + _UNIT + r"\)")


def bindings(sentence: str) -> dict[int, tuple[int, int]]:
    """The row (tp, batch) of each number the sentence's shape pairs with one, by the number's start offset."""
    groups = _parentheses(sentence)
    bound: dict[int, tuple[int, int]] = {}
    for start, end in groups:
        inner = sentence[start + 1:end]
        rows = list(ROW.finditer(inner))
        if len(rows) != 1 or len(SHAPE.findall(inner)) != 2:
            continue
        row = _row(rows[0])
        for m in DECIMAL.finditer(inner):
            bound[start + 1 + m.start()] = row
        if not inner[:rows[0].start()].strip():
            before = list(DECIMAL.finditer(sentence[:start]))
            if before and re.fullmatch(_UNIT, sentence[before[-1].end():start]):
                bound.setdefault(before[-1].start(), row)
    for lo, hi in _clauses(sentence, groups):
        rows = [m for m in ROW.finditer(sentence, lo, hi) if not _inside(m.start(), groups)]
        if len(rows) == 1 and len(SHAPE.findall(sentence, lo, hi)) == 2:
            values = [m.start() for m in DECIMAL.finditer(sentence, lo, hi) if m.start() not in bound]
            bound.update(dict.fromkeys(values, _row(rows[0])))
        else:
            _pair_lists(sentence, lo, hi, groups, bound)
    return bound


def _inside(i: int, groups: list[tuple[int, int]]) -> bool:
    return any(s <= i < e for s, e in groups)


def _pair_lists(sentence: str, lo: int, hi: int, groups: list[tuple[int, int]], bound: dict) -> None:
    """Bind the numbers of a clause listing k rows and k numbers in a shape that pairs them (see the module)."""
    def outside(i: int) -> bool:
        return not any(s <= i < e for s, e in groups if not _BARE_VALUE.fullmatch(sentence[s:e + 1]))

    shapes = [m for m in SHAPE.finditer(sentence, lo, hi) if outside(m.start())]
    rows = [m for m in ROW.finditer(sentence, lo, hi) if outside(m.start())]
    if len(rows) < 2 or len(shapes) != 2 * len(rows):
        return
    values = [m for m in DECIMAL.finditer(sentence, lo, hi) if outside(m.start()) and m.start() not in bound]
    if len(values) != len(rows):
        return
    items = sorted([("R", m) for m in rows] + [("V", m) for m in values], key=lambda it: it[1].start())
    kinds = "".join(k for k, _ in items)
    k = len(rows)
    if kinds in ("R" * k + "V" * k, "V" * k + "R" * k):
        for group, gap in ((rows, _LIST_GAP), (values, _VALUE_LIST_GAP)):
            for a, b in itertools.pairwise(group):
                if not gap.match(_unparen(sentence[a.end():b.start()])):
                    return
        pairs = zip(rows, values, strict=True)
    elif kinds in ("RV" * k, "VR" * k):
        pairs = zip(rows, values, strict=True)
    else:
        return
    for r, v in pairs:
        bound[v.start()] = _row(r)


def _unparen(gap: str) -> str:
    """A gap between two list items with a bare-value parenthesis dropped: "1.15x (x) and" reads "1.15x and"."""
    return re.sub(r"\([^()]*\)", "", gap)


def _row(m: re.Match) -> tuple[int, int]:
    return int(m.group(1)), int(m.group(2))


def _parentheses(text: str) -> list[tuple[int, int]]:
    """(open, close) offsets of each outermost parenthesis of ``text``; an unclosed one runs to the end."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if depth == 0:
                out.append((start, i))
    if depth:
        out.append((start, len(text)))
    return out


def _clauses(text: str, groups: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(start, end) of each clause: the text between semicolons outside parentheses."""
    cuts = [i for i, ch in enumerate(text) if ch == ";" and not any(s < i < e for s, e in groups)]
    bounds = [0, *(c + 1 for c in cuts), len(text) + 1]
    return [(a, b - 1) for a, b in itertools.pairwise(bounds)]
