"""Measured pairs and written-out arithmetic in a card's prose, checked against the card's own numbers: a before ->
after pair that runs the other way than the claims give it (D238), and arithmetic that does not come out as written
(D239)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from dossier import prose
from dossier.lint.claims import _locate
from dossier.lint.depth import one_measure, prose_texts, text_location
from dossier.lint.figures import _quote
from dossier.lint.registry import Finding, rule
from dossier.model import Card

_NUM = r"\d[\d,]*(?:\.\d+)?"
_UNIT = r"(?: ?(?:ns|us|µs|ms|s|GB|GiB|MB|MiB|KB|%|x|tok/s|req/s|tokens/s))?"
#: where a pair's second value ends: not inside a word or a longer number, but at a sentence's end ("-> 1,024.")
PAIR_END = r"(?!\w|[.,]\d)"
#: "531 -> 446 ms", "531 ms → 446 ms", "from 531 to 446 ms": the two values of one change, in the order written
_PAIR = re.compile(rf"(?<![\w.#/=:^-])(?P<a>{_NUM}){_UNIT} ?(?:->|\u2192) ?(?:about |~)?(?P<b>{_NUM}){_UNIT}{PAIR_END}"
                   rf"|\bfrom (?:about |~)?(?P<c>{_NUM}){_UNIT} to (?:about |~)?(?P<d>{_NUM}){_UNIT}{PAIR_END}")


def measured_pairs(text: str) -> Iterator[tuple[str, str, int, int]]:
    """(before, after, start, end) of every two-value change a text writes."""
    for m in _PAIR.finditer(text):
        a, b = (m.group("a"), m.group("b")) if m.group("a") else (m.group("c"), m.group("d"))
        yield a.replace(",", ""), b.replace(",", ""), m.start(), m.end()


@rule("D238", "a change given with its two values (A -> B, from A to B) runs the other way in the card's "
              "validation.claims (B -> A) and never this way", scope="card")
def reversed_measured_pair(card: Card, doc, ctx) -> Iterator[Finding]:
    """"TTFT 446 -> 531 ms" where the claims give 531 -> 446 ms: the figures are the claims' (D235 passes them), but
    the change reads as a regression where the author measured a gain. Judged where both values are one claims pair
    in reverse order (as written or rounded) and no claims pair runs the prose's way; a pair the claims hold both
    ways (a round trip, two rows) passes."""
    pairs = [(a, b) for claim in card.claims for a, b, *_ in measured_pairs(" ".join(claim.split()))]
    for path, flat in prose_texts(card):
        for a, b, start, end in measured_pairs(flat):
            if one_measure(a, b):
                continue
            forward = any(one_measure(a, x) and one_measure(b, y) for x, y in pairs)
            backward = any(one_measure(a, y) and one_measure(b, x) for x, y in pairs)
            if backward and not forward:
                what = flat[start:end]
                yield Finding(text_location(path), f"{what!r} in {_quote(flat, start)} runs the other way in "
                                                   f"validation.claims ({b} -> {a})",
                              hint="write the change in the order the claims measured it: before, then after",
                              at=_locate(doc, path, what, flat.count(what, 0, start)))


_TERM = rf"{_NUM}(?: ?(?:ns|us|ms|s|GB|GiB|MB|MiB|KB|KiB|B|bytes|%))?"
#: arithmetic written out: "3.8 + 4.0 + 4.8 + 4.4 = 17.0 us", "36 x 8 x 128 x 128 x 4 = 18,874,368 bytes", a ratio
#: as a multiple ("531 / 446 = 1.19x"), and "≈" or "~=" for "=" (the result's rounding, as written, is allowed either way)
_SUM = re.compile(rf"(?<![\w.=/-])(?P<lhs>{_TERM}(?: ?[-+x\u00d7*/] ?{_TERM})+) ?{prose.EQUALS} ?(?P<rhs>{_NUM})"
                  rf"(?:x|\u00d7)?(?![\d.]\d|[\w-])")
_OPERATOR = re.compile(r" ?([-+x\u00d7*/]) ?(?=\d)")


def _evaluate(lhs: str) -> tuple[Decimal, Decimal] | None:
    """The value of a written sum or product and the rounding its operands carry (None: not plain arithmetic)."""
    parts = _OPERATOR.split(re.sub(r" ?(?:ns|us|ms|s|GB|GiB|MB|MiB|KB|KiB|B|bytes|%)\b", "", lhs))
    numbers, operators = parts[::2], parts[1::2]
    try:
        values = [Decimal(n.replace(",", "").strip()) for n in numbers]
    except InvalidOperation:
        return None
    slack = sum((Decimal(5).scaleb(-len(n.partition(".")[2]) - 1) for n in numbers if "." in n), Decimal(0))
    terms, sign = [values[0]], []
    for op, value in zip(operators, values[1:], strict=True):
        if op in "x\u00d7*":
            terms[-1] *= value
        elif op == "/":
            if value == 0:
                return None
            terms[-1] /= value
        else:
            terms.append(value)
            sign.append(op)
    total = terms[0]
    for op, term in zip(sign, terms[1:], strict=True):
        total = total + term if op == "+" else total - term
    products = any(op in "x\u00d7*/" for op in operators)
    return total, slack * (abs(total) if products else 1) + (abs(total) * Decimal("0.005") if products else 0)


def _shown(value: Decimal, rounding: Decimal) -> str:
    """``value`` to two digits past the written result's precision (half its last digit: ``rounding``), never 28."""
    finer = rounding / 50
    return f"{(value.quantize(finer) if value.as_tuple().exponent < finer.as_tuple().exponent else value).normalize():f}"


@rule("D239", "arithmetic written out in the card (a + b = c, a x b = c) does not come to the result it states",
      scope="card")
def wrong_written_arithmetic(card: Card, doc, ctx) -> Iterator[Finding]:
    """"3.8 + 4.0 + 4.8 + 4.4 = 18.0 us" (the terms make 17.0): a sentence that shows its arithmetic is exempt from
    D235's source check, so the sum itself must hold. Judged for sums, differences and products of plain numbers
    (units after them allowed), with the rounding of decimal operands and of the result as written; a sentence
    with anything else around the "=" (B=64, an assignment in code) is not arithmetic."""
    for path, flat in prose_texts(card):
        for sentence in prose.sentences(flat):
            for m in _SUM.finditer(sentence):
                got = _evaluate(m.group("lhs"))
                if got is None:
                    continue
                value, slack = got
                rhs = m.group("rhs").replace(",", "")
                written = Decimal(rhs)
                rounding = Decimal(5).scaleb(-len(rhs.partition(".")[2]) - 1)
                if abs(value - written) > rounding + slack:
                    what = m.group(0)
                    yield Finding(text_location(path), f"{what!r} in {_quote(sentence, m.start())}: the left side "
                                                       f"comes to {_shown(value, rounding)}",
                                  hint="recompute it, or quote the operands the source gives",
                                  at=_locate(doc, path, what, flat.count(what, 0, max(flat.find(sentence), 0)
                                                                         + m.start())))
