"""D235: a figure in a card's prose that none of its evidence holds (its claims, a cited PR's claims, its diff)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from dossier import prose
from dossier.lint.claims import _locate
from dossier.lint.depth import (
    _CHANGE_THEN_PAIR,
    _FACTOR_OF,
    _FROM_TO_THEN_CHANGE,
    _OUR_RESULTS,
    _OURS,
    _PAIR_THEN_CHANGE,
    _change_span,
    _span,
    prose_texts,
    shown_shares,
    text_location,
)
from dossier.lint.registry import Finding, rule
from dossier.model import Card

#: units by kind: a figure is matched only against a number of the same kind
_KINDS = {"time": r"ns|us|µs|μs|ms|s|sec|seconds|minutes|hours",
          "percent": r"%|pp",
          "factor": r"x|×",
          "size": r"[KMGT]i?B",
          "rate": r"tok/s|tokens/s|req/s|[GT]B/s|TFLOPS"}
_UNIT = "|".join(f"(?P<{k}>{v})" for k, v in _KINDS.items())
#: the word a rate may carry before its unit: "1470.56 output tok/s"
_RATE_WORD = r"(?:(?:output|input|total|decode|prefill|generation) (?=tok|req))?"
#: a measured figure: a number and its unit ("1.4x", "-12%", "3 GB", "89 us", "3332 tok/s"); not a count of devices
#: or a product ("2x H200", "128 x 128"), not part of a name, version, PR number or shape ("T=4", "SM100", "0.5.9")
_FIGURE = re.compile(rf"(?<![\w.#/=:^-])(?<!\d\u2013)[+\-\u2212~]?(?P<num>\d[\d,]*(?:\.\d+)?) ?{_RATE_WORD}(?:{_UNIT})"
                     r"(?![\w/])(?!\s?(?:\d|[A-Z]\w*\d|GPUs?\b|NPUs?\b|cards?\b))")
#: the ends of a range sharing one unit, "70-79%", "1.13-1.32x": _FIGURE reads neither (a `-` before a number is
#: part of a name or a shape there), and a range made up or shifted ("80-89%") passed unread
_RANGE_END = rf"[-\u2013](?P<high>\d[\d,]*(?:\.\d+)?) ?{_RATE_WORD}(?:{_UNIT})(?![\w/])"
_RANGE_LOW = re.compile(rf"(?<![\w.#/=:^-])(?P<num>\d[\d,]*(?:\.\d+)?)(?={_RANGE_END})")
_RANGE_HIGH = re.compile(rf"(?<=\d[-\u2013])(?P<num>\d[\d,]*(?:\.\d+)?) ?{_RATE_WORD}(?:{_UNIT})(?![\w/])")
#: a benchmark score without a unit: "GSM8K 0.945", "accuracy 0.9802", "accept length 3.83"
_SCORE = re.compile(r"\b(?:GSM8K|MMLU(?:-Pro)?|GPQA|AIME\w*|HumanEval|MATH|accuracy|score|accept(?:ance)? length)"
                    r"(?: of| at| is| was| to| from|:|,)? (?:about |~)?(?P<num>\d+\.\d+)(?![\w.])", re.IGNORECASE)
#: a sentence about a benchmark's scores ("GSM8K (1319 examples, 8-shot) ...: 0.977 / 0.979 at concurrency 128 / 512")
_BENCHMARK = re.compile(r"\b(?:GSM8K\w*|MMLU(?:-Pro)?|GPQA\w*|AIME\w*|HumanEval\w*|LiveCodeBench|MATH-500|accuracy)\b",
                        re.IGNORECASE)
#: a score there far from the benchmark's name: a fraction of two places or more (0.977), or a percentage-like one
#: of one or two (95.1), with no unit after it, not a setting's value ("temperature 0.6, top_p 0.95",
#: "--mem-fraction-static 0.85", "GSM8K=0.95" is the name's own), a version ("transformers 4.57") or a difference
#: ("0.31 points")
_LISTED_SCORE = re.compile(r"(?<![\w.#/=:^-])(?<!temperature )(?<!top_p )(?<!top-p )(?<!top_k )(?<!min_p )"
                           r"(?P<num>0\.\d{2,}|[1-9]\d\.\d{1,2})(?![\w%]|\.\d| ?(?:x|ms|us|s|GB|MB|tok|points?|pp)\b)")
#: a flag right before a number: its value, not a score
_FLAG_BEFORE = re.compile(r"--[\w-]+[ =]$")
#: any number in evidence text (a claim, a diff), with what follows it
_NUMBER = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)(?![\d])")
#: what joins the numbers of a list or range before their one unit: "80.58 / 80.51 us", "44.4 to 46.8 us"
_LIST_GAP = re.compile(r"\s*(?:/|to|->|\u2192|-|,|and|or|vs\.?|against)\s*[+\-]?(?:about |~)?\d[\d,]*(?:\.\d+)?")
_UNIT_AFTER = re.compile(rf"\s?{_RATE_WORD}(?:{_UNIT})(?![\w/])")
#: a sentence that shows or states its own arithmetic: "32 heads x 128 x 128 ... (our arithmetic from the config)"
_ARITHMETIC = re.compile(r"\d\s?(?:x|×|\*)\s?\d|\d\s?" + prose.EQUALS + r"\s?\d|\s=\s|"
                         r"\b(?:our arithmetic|our own arithmetic|computed from|derived from|we compute|by our count)\b",
                         re.IGNORECASE)
_CITED_PR = re.compile(r"(?<![\w&])(?<!issue )(?<!issues )#(\d{1,7})\b", re.IGNORECASE)
#: the manual a correction corrects: its figures are what the card says was wrong, not the card's own
_EARLIER = re.compile(r"\b(?:earlier|original|old|previous|prior) (?:manual|playbook|skill)\b", re.IGNORECASE)
#: a setting, not a measurement: "a default of 30 s", "capped at 256 MB", "a timeout of 5 s", "set to 90%"
_SETTING = re.compile(r"\b(?:default(?:s| value)?(?: of| is| to|:)?|set to|capped at|limit(?:ed)?(?: of| to| at)?|"
                      r"threshold(?: of)?|timeout(?: of)?|budget(?: of)?|tolerance(?: of)?|floor(?: of)?)\s?(?:a |an |the )?"
                      r"$", re.IGNORECASE)


def _kind(m: re.Match) -> str | None:
    return next((k for k in _KINDS if m.group(k)), None)


def unit_of(m: re.Match) -> str | None:
    """The unit a figure or evidence number carries, as written ("ms", "GiB", "tok/s"); None for none."""
    kind = _kind(m)
    return m.group(kind) if kind else None


#: what a unit measures and its size in that measure's base: units of one measure convert ("23.17 s" is
#: "23169.69 ms"); a GiB counts as a GB (the two are written for each other, and differ by 7% at most)
_SCALES = {**{u: ("time", Decimal(f)) for us, f in (("ns", "1e-9"), ("us µs μs", "1e-6"), ("ms", "1e-3"),
                                                    ("s sec seconds", "1"), ("minutes", "60"), ("hours", "3600"))
              for u in us.split()},
           **{p + b: ("bytes", Decimal(10) ** (3 * (i + 1))) for i, p in enumerate("KMGT") for b in ("B", "iB")},
           "GB/s": ("bytes/s", Decimal("1e9")), "TB/s": ("bytes/s", Decimal("1e12")),
           "tok/s": ("tok/s", Decimal(1)), "tokens/s": ("tok/s", Decimal(1))}


def _as_written(number: Decimal, unit: str | None, other: str | None) -> Decimal:
    """``number`` in ``other`` units converted to ``unit`` (unchanged unless both are units of one measure)."""
    mine, theirs = _SCALES.get(unit or ""), _SCALES.get(other or "")
    if mine is None or theirs is None or mine[0] != theirs[0]:
        return number
    return number * theirs[1] / mine[1]


def _evidence_numbers(text: str) -> list[tuple[str, str | None]]:
    """Every number of ``text`` with the unit it carries, or the unit its list or range ends in
    ("80.58 / 80.51 / 84.23 us": all three are in us); None where no unit follows."""
    return [(number, unit) for number, unit, _ in _placed_numbers(" ".join(text.split()))]


def _placed_numbers(flat: str) -> list[tuple[str, str | None, int]]:
    """:func:`_evidence_numbers` of a whitespace-folded text, each with where it starts."""
    out = []
    for m in _NUMBER.finditer(flat):
        end = m.end()
        while (gap := _LIST_GAP.match(flat, end)) is not None:
            end = gap.end()
        unit = _UNIT_AFTER.match(flat, m.end()) or _UNIT_AFTER.match(flat, end)
        out.append((m.group(1).replace(",", ""), unit_of(unit) if unit else None, m.start()))
    return out


def kind_of(unit: str | None) -> str | None:
    """The kind of a unit ("ms" -> "time"); a kind stands for itself (cards/checked.lock records kinds)."""
    if unit is None or unit in _KINDS:
        return unit
    return next((k for k, pattern in _KINDS.items() if re.fullmatch(pattern, unit)), None)


#: how far a rounded figure may be from the value it rounds: "9%" for 9.2% is a rounding, "3x" for 2.6x is not
_ROUNDING = Decimal("0.05")


def _held(value: str, unit: str | None, numbers: list[tuple[str, str | None]]) -> bool:
    """Whether ``value`` (as the prose writes it, in ``unit``) is one of ``numbers`` or one of them rounded to its
    places (within 5% of it), converted to ``unit`` where both units measure one thing ("23.17 s" is "23169.69 ms";
    "23.17 ms" is not "23.17 s"); a figure of under three significant digits ("3 GB", "12%") must also have a unit
    of its kind there. A number given with a kind only (cards/checked.lock) is compared as it stands."""
    try:
        want = Decimal(value)
    except InvalidOperation:
        return True
    places = Decimal(1).scaleb(want.as_tuple().exponent)
    short = len(value.replace(".", "").lstrip("0")) < 3
    kind = kind_of(unit)
    for number, other in numbers:
        if short and kind is not None and kind_of(other) != kind:
            continue
        got = _as_written(Decimal(number), unit, other)
        if got == want or (got.as_tuple().exponent < want.as_tuple().exponent
                           and got.quantize(places, rounding=ROUND_HALF_UP) == want
                           and abs(got - want) <= _ROUNDING * abs(got)):
            return True
    return False


def _claims_by_pr(ctx) -> dict[int, str]:
    """Every card's claims, joined, by PR (read once per run)."""
    memo = ctx.memo
    if "figures.claims" not in memo:
        out: dict[int, str] = {}
        for d in ctx.project.valid_docs():
            data = d.data or {}
            claims = (data.get("validation") or {}).get("claims") or []
            if isinstance(data.get("pr"), int):
                out[data["pr"]] = " ".join(c for c in claims if isinstance(c, str))
        memo["figures.claims"] = out
    return memo["figures.claims"]


#: a change in parentheses after the two values it is of, with words between: "from 3252.81 to 3453.59 output tok/s
#: (+6.2%)", "max_running_requests 24 -> 32 (+33%)"
_CHANGE_WORDS_PAIR = re.compile(r"(?<![\w.])([+\-\u2212]?)(\d+(?:\.\d+)?) ?(%|x|×)[^()\d]{0,40}?\((?:from )?(\d[\d,]*(?:\.\d+)?)"
                                r"[^()\d]{0,20}?(?:\bto\b|->|\u2192) ?(\d[\d,]*(?:\.\d+)?)")
_PAIR_WORDS_CHANGE = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)[^()\d]{0,30}?(?:\bto\b|->|\u2192) ?(?:about |~)?"
                                r"(\d[\d,]*(?:\.\d+)?)[^()\d]{0,30}?\((?:(?:an?|about|roughly|around|nearly|almost|"
                                r"up|down|increase|gain|rise|drop|decrease|fall|of|by) ){0,4}?~?([+\-\u2212]?)"
                                r"(\d+(?:\.\d+)?) ?(%|x|×)")
#: the words of a change's bracket that give its direction: "(a 6.2% drop)" for a value that rose is no reading of it
_UP = re.compile(r"\b(?:up|gain|increase|rise|higher|more|faster)\b", re.IGNORECASE)
_DOWN = re.compile(r"\b(?:down|drop|decrease|fall|lower|less|fewer|slower)\b", re.IGNORECASE)


def _exact(value: str) -> tuple[float, float]:
    """The interval a written value stands for: a count (no decimals) is exact, a decimal its rounding."""
    return _span(value) if "." in value else (float(value.replace(",", "")),) * 2


def _bracket(sentence: str, at: int) -> str:
    """The bracket of ``sentence`` around offset ``at`` (to the sentence's end when it is not closed)."""
    close = sentence.find(")", at)
    return sentence[sentence.rfind("(", 0, at) + 1:close if close >= 0 else len(sentence)]


def _same_way(a: str, b: str, bracket: str) -> bool:
    """Whether the words of a change's bracket go the way its two values do (none: any way)."""
    rose = float(b.replace(",", "")) > float(a.replace(",", ""))
    return not (_DOWN.search(bracket) if rose else _UP.search(bracket))


def _derived_spans(sentence: str) -> list[tuple[int, int]]:
    """The changes a sentence gives beside the two values they come from ("3252.81 -> 3453.59 tok/s (+6.2%)",
    "24 -> 32 (+33%)"), where those values give them (any rounding, 10% slack): they need no source of their own.
    D226 judges the changes those values do not give."""
    out = [m.span(g) for p in (_PAIR_THEN_CHANGE, _FROM_TO_THEN_CHANGE) for m in p.finditer(sentence) for g in (5,)] + \
        [m.span(3) for p in (_CHANGE_THEN_PAIR, _FACTOR_OF) for m in p.finditer(sentence)] + shown_shares(sentence)
    pairs = [(m.group(1), m.group(2), m.group(4), m.group(5), m.span(4)) for m in _PAIR_WORDS_CHANGE.finditer(sentence)
             if _same_way(m.group(1), m.group(2), _bracket(sentence, m.start(4)))]
    pairs += [(m.group(4), m.group(5), m.group(2), m.group(3), m.span(2)) for m in _CHANGE_WORDS_PAIR.finditer(sentence)]
    for a, b, size, unit, at in pairs:
        unit = "x" if unit == "×" else unit
        span = _change_span(_exact(a), _exact(b), unit)
        if span is not None:
            low, high = (min(map(abs, span)), max(map(abs, span))) if unit != "x" else span
            if 0.9 * low - 0.05 <= float(size) <= 1.1 * high + 0.05:
                out.append(at)
    return out


def figures(sentence: str) -> Iterator[tuple[re.Match, str | None]]:
    """The measured figures of a sentence with their unit (None for a score)."""
    seen = set()
    for m in _FIGURE.finditer(sentence):
        seen.add(m.start("num"))
        yield m, unit_of(m)
    for m in _RANGE_LOW.finditer(sentence):
        high = _RANGE_HIGH.match(sentence, m.end() + 1)
        if high is not None:  # the low end carries the high end's unit
            yield from ((e, unit_of(high)) for e in (m, high) if e.start("num") not in seen)
    for m in _SCORE.finditer(sentence):
        seen.add(m.start("num"))
        yield m, None
    if _BENCHMARK.search(sentence):
        yield from ((m, None) for m in _LISTED_SCORE.finditer(sentence)
                    if m.start("num") not in seen and not _FLAG_BEFORE.search(sentence, 0, m.start()))


@rule("D235", "a figure in the card's prose (1.4x, -12% TTFT, 3 GB, 89 us, GSM8K 0.95) that no validation.claims "
              "entry, no cited PR's claims and no text of the PR's change holds", scope="card")
def unheld_figure(card: Card, doc, ctx) -> Iterator[Finding]:
    """"Decode is 1.4x faster" in the motivation while the claims say 1.27x, or "saves 3 GB" that no claim gives: a
    figure drifted from its source or made up, and the reader quotes it. The claims are the card's ledger of what
    the PR and its thread measured, so every measured figure of the other texts (motivation, implementation,
    explain, lanes, corrections) is one of them: the same number, or one of them rounded ("113.9 s" for 113.899 s;
    within 5%: "3x" is no rounding of 2.6x),
    with a unit of the same kind when it has under three significant digits ("3 GB" is not the "3" of "3 draft
    tokens"). Also held: a figure in the claims of a PR the sentence cites (#N with a card; a figure credited to an
    issue or a PR without a card, "Issue #19999 reports 31% lower throughput", must be in this card's own claims,
    with its source: nothing else here holds it), in the PR's change (its
    cached diff, or the files of the release that shipped it, D213's grounds),
    a change beside the two values it comes from ("24 -> 32 (+33%)", "2x fewer launches (4 -> 2)", when they give
    it), a setting rather than a measurement ("a default of 30 s", "capped at 256 MB"), a sentence that shows or
    states its arithmetic ("32 heads x 128 x 128 ..., 2 MiB in fp32 (our arithmetic from the config)"), a sentence
    quoting the earlier manual a correction corrects ("The earlier manual credits it with 30% faster decode"). A
    sentence citing this project's results is D517's and D217's. Not figures: versions, PR numbers, dates, shapes (T=4),
    counts without a unit (36 GDN layers), device counts (2x H200)."""
    from dossier.lint.grounds import ground_texts

    claims = _evidence_numbers(" ".join(card.claims))
    diff: list[tuple[str, str | None]] | None = None
    others = _claims_by_pr(ctx)
    for path, flat, sentences in _judged_sentences(card):
        for sentence in sentences:
            derived = _derived_spans(sentence)
            cited = [n for n in map(int, _CITED_PR.findall(sentence)) if n != card.pr and n in others]
            for m, unit in figures(sentence):
                value = m.group("num").replace(",", "")
                if any(a <= m.start("num") < b for a, b in derived) or _SETTING.search(sentence[:m.start()]) \
                        or _held(value, unit, claims):
                    continue
                if any(_held(value, unit, _evidence_numbers(others[n])) for n in cited):
                    continue
                if diff is None:
                    diff = [n for t in ground_texts(card, ctx) for n in _evidence_numbers(t)]
                if _held(value, unit, diff):
                    continue
                what, base = m.group(0).strip(), flat.find(sentence)
                yield Finding(text_location(path),
                              f"{what!r} in {_quote(sentence, m.start())} is in no validation.claims "
                              "entry (nor a cited PR's claims, nor the PR's change): a figure the card's evidence does "
                              "not hold", hint="record it in validation.claims with its setup and source, or write "
                                               "the figure the source gives",
                              at=_locate(doc, path, what, flat.count(what, 0, base + m.start())) if base >= 0 else None)
                break


def _judged_sentences(card: Card) -> Iterator[tuple[str, str, list[str]]]:
    """(field path, whitespace-folded text, its sentences whose figures are judged) of the card's prose: not the claims
    (the ledger itself), nor a sentence citing this project's results, showing its arithmetic or quoting the earlier
    manual."""
    for path, flat in prose_texts(card):
        yield path, flat, [s for s in prose.sentences(flat) if not (
            _OUR_RESULTS.search(s) or _OURS.search(s) or _ARITHMETIC.search(s) or _EARLIER.search(s))]


def _quote(sentence: str, at: int, reach: int = 40) -> str:
    start, end = max(0, at - reach), min(len(sentence), at + reach)
    return repr(("..." if start else "") + sentence[start:end] + ("..." if end < len(sentence) else ""))


#: what bounds the words that qualify one figure: a clause break, a parenthesis, a second figure's "and"/"against"
_SEGMENT = re.compile(r"[;,]\s|\.\s|[()]| and | against | vs\.? ")
#: the metrics a serving or kernel figure is of (scores are D235's: "GSM8K 0.945 ... in 113.9 s" times the run)
_METRIC = re.compile(r"\b(?:TTFT|TPOT|ITL|E2E|throughput|latency|decode|prefill|extend|verify|kernel|step|copy)",
                     re.IGNORECASE)  # not a benchmark's name: a run's time or rate beside its score is not the score
#: the row of a table a figure is read from: "B=64", "batch 64", "concurrency 128", "at 128" (not "at 3 GB")
_ROW = re.compile(r"(?:\bB=|\bbatch(?: size)?(?: of)? ?(?:>= ?)?|\bconcurrency ?|\bbs ?|\bat )(\d+)\b"
                  rf"(?![-\u2013][\d.,]+\s?(?:{'|'.join(_KINDS.values())}))(?!\s?(?:{_UNIT}|\.\d))", re.IGNORECASE)


def _qualifiers(flat: str, at: int) -> tuple[set[str], set[str], set[str]]:
    """The metrics, code names and table rows the clause segment around the number at ``at`` names, up to the
    figures beside it ("30 us of a 353 us decode step": "decode step" is the 353's)."""
    bounds = [m.start() for m in _SEGMENT.finditer(flat)] + [m.end() for m in _SEGMENT.finditer(flat)]
    figures_near = [(m.start("num"), m.end()) for m in _FIGURE.finditer(flat) if not m.start("num") <= at < m.end()]
    start = max([0] + [b for b in bounds if b <= at] + [e for _, e in figures_near if e <= at])
    end = min([len(flat)] + [b for b in bounds if b > at] + [s for s, _ in figures_near if s > at])
    segment = flat[start:end]
    return ({m.group(0).lower() for m in _METRIC.finditer(segment)}, set(re.findall(r"\b[a-z]+_[a-z0-9_]+\b", segment)),
            {m.group(1) for m in _ROW.finditer(segment)})


@rule("D237", "a figure the card's claims hold only for another metric or table row than the prose gives it to (the "
              "B=64 number given for B=256, a kernel time given as a serving latency)", scope="card")
def figure_of_another_row(card: Card, doc, ctx) -> Iterator[Finding]:
    """"+1.94% output throughput at 128" where the claims give +1.94% at concurrency 64 and +1.06% at 128: the
    figure is in the claims (D235 passes it) but belongs to another row, or to another metric ("57.7 ms for
    cross_device_reduce_2stage" where 57.7 ms is the fused kernel's). Judged where both sides name one: every place
    the claims hold the figure names a metric (TTFT, throughput, decode, a code name, ...) or a row (B=, batch,
    concurrency, "at N") in its clause segment, and none of them is one the prose's segment names (a metric word
    against metric words, a code name against code names). Sentences
    skipped by D235 (this project's results, shown arithmetic, the earlier manual) are skipped here too."""
    held = []
    for claim in card.claims:
        flat = " ".join(claim.split())
        held += [(number, unit, *_qualifiers(flat, at)) for number, unit, at in _placed_numbers(flat)]
    for path, _, sentences in _judged_sentences(card):
        for sentence in sentences:
            for m, unit in figures(sentence):
                value = m.group("num").replace(",", "")
                hits = [h for h in held if _held(value, unit, [h[:2]])]
                if not hits:
                    continue
                qualifiers = _qualifiers(sentence, m.start("num"))
                theirs = [(kind, mine, set().union(*(h[i] for h in hits))) for kind, mine, i in
                          zip(("metric", "code name", "row"), qualifiers, (2, 3, 4), strict=True)
                          if mine and all(h[i] for h in hits)]
                for kind, mine, claimed in theirs:
                    if not mine & claimed:
                        yield Finding(text_location(path),
                                      f"{m.group(0).strip()!r} in {_quote(sentence, m.start())} is given to "
                                      f"{kind} {', '.join(sorted(mine))}, but the claims hold it for "
                                      f"{', '.join(sorted(claimed))}",
                                      hint=f"quote the figure of that {kind} from the claims, or name the {kind} "
                                           "the claims give it")
                        break
