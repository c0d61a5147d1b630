"""A multiple written in words ("twice as fast", "three times the requests", "halves the launches") against the figures
it is of: the two values in its own sentence, or the card's validation.claims for the metric it names (D240)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier import prose
from dossier.lint.claims import _locate
from dossier.lint.depth import prose_texts, text_location
from dossier.lint.figures import _quote
from dossier.lint.measured_pairs import _NUM, _UNIT, PAIR_END, measured_pairs
from dossier.lint.registry import Finding, rule
from dossier.model import Card

_HEDGE = (r"(?P<hedge>(?:nearly|almost|close to|just under|about|roughly|around|some|approximately|more than|over|"
          r"at least|less than|under|well over) )?")
#: a multiple said as a comparison ("twice as fast", "three times the requests", "four times TP4's", "doubled", "half
#: the time"), not a setting's rule ("default twice the state pool") nor a count ("runs twice per step")
_MULTIPLE = re.compile(
    rf"\b{_HEDGE}(?:(?P<times>twice|two times|three times|four times|five times|eight times|ten times|threefold|"
    r"fourfold|tenfold)(?= as (?:fast|slow|much|many|long|large|wide|high|low)\b| (?:the|its|their) (?!same)"
    r"| \S+'s\b| (?:higher|lower|faster|slower|more|less|fewer|larger|smaller)\b)"
    r"|(?P<verb>halv(?:e[sd]?|ing)|doubl(?:e[sd]|ing)|tripl(?:e[sd]|ing)|quadrupl(?:e[sd]|ing))\b"
    r"|(?P<part>by a third|to a third|by half|to half|(?<=takes )a third of|(?<=took )a third of|"
    r"(?<=takes )half of|(?<=took )half of|half (?:the|its|their) (?:time|latency|memory|bytes|launches|kernels|steps|"
    r"TTFT|TPOT|ITL))(?![-\w]))", re.IGNORECASE)
_FACTORS = [("two times", 2), ("twice", 2), ("doubl", 2), ("halv", 2), ("half", 2), ("by a third", 1.5),
            ("a third", 3), ("three times", 3), ("tripl", 3), ("threefold", 3), ("four times", 4), ("quadrupl", 4),
            ("fourfold", 4), ("five times", 5), ("eight times", 8), ("ten times", 10), ("tenfold", 10)]
#: what a multiple or a pair is of: words that name one serving or kernel metric (synonyms folded)
_METRIC = re.compile(r"\b(?:requests per second|request throughput|tokens per second|output throughput|TTFT|TPOT|ITL|"
                     r"E2E|throughput|latency|req/s|tok/s|kernels?|time|fast|faster|slower|speed|launch(?:es)?|memory|"
                     r"bytes|step|span|decode|prefill|verify|extend)\b", re.IGNORECASE)
_SYNONYMS = {"requests per second": "req/s", "request throughput": "req/s", "tokens per second": "tok/s",
             "output throughput": "tok/s", "throughput": "tok/s", "ttft": "prefill", "kernel": "kernels",
             "launch": "launches", "faster": "fast", "slower": "fast", "speed": "fast", "time": "fast",
             "latency": "fast"}
#: "is not twice as fast": a multiple the sentence denies
_DENIED = re.compile(r"\b(?:not|never|nowhere near|far from)\s+$", re.IGNORECASE)
_SETTING = re.compile(r"\b(?:default|by default|our arithmetic|rule|sized)\b[^.;]{0,30}$", re.IGNORECASE)


def _factor(said: str) -> float:
    said = said.lower()
    return next(f for word, f in _FACTORS if word in said)


def _metrics(text: str) -> set[str]:
    return {_SYNONYMS.get(w.lower(), w.lower()) for w in _METRIC.findall(text)}


#: two values set side by side: "139 us against 17 us", "7.6 vs 5.9 us", "4 programs instead of 16"
_COMPARED = re.compile(rf"(?<![\w.#/=:^-])(?P<a>{_NUM})(?P<u>{_UNIT})(?P<between>(?: [A-Za-z]+){{0,4}}) (?:against|vs\.?|"
                       rf"versus|instead of|rather than|compared (?:with|to)) (?:an? |about |~)?(?P<b>{_NUM})(?P<v>{_UNIT})"
                       rf"{PAIR_END}")
#: the metric a unit measures: "139 us against 17 us" is a time whatever its clause calls it
_UNIT_METRIC = {"ns": "fast", "us": "fast", "µs": "fast", "ms": "fast", "s": "fast", "GB": "memory", "GiB": "memory",
                "MB": "memory", "MiB": "memory", "KB": "memory", "tok/s": "tok/s", "tokens/s": "tok/s",
                "req/s": "req/s"}


def _unit_metrics(*units: str | None) -> set[str]:
    return {_UNIT_METRIC[u.strip()] for u in units if u and u.strip() in _UNIT_METRIC}


def _pairs(text: str) -> Iterator[tuple[str, str, set[str]]]:
    """(a, b, metrics) of every before -> after pair (the metrics of its clause and units) and every two values set
    side by side (against, vs, instead of: the metrics of their units and the words between them alone, so "64
    requests against 8" is of no metric, where its clause's "throughput" is another count's)."""
    for a, b, start, end in measured_pairs(text):
        clause = text[max(0, *(text.rfind(c, 0, start) for c in ";:,")):end]
        yield a, b, _metrics(clause) | _unit_metrics(*re.findall(r"[a-zA-Zµ/%]+", text[start:end]))
    for m in _COMPARED.finditer(text):
        yield (m.group("a").replace(",", ""), m.group("b").replace(",", ""),
               _metrics(m.group("between")) | _unit_metrics(m.group("u"), m.group("v")))


def _ratios(text: str) -> list[tuple[float, set[str]]]:
    """(ratio, metrics) of every pair (:func:`_pairs`) and every "1.59x" a text gives."""
    out = []
    for a, b, metrics in _pairs(text):
        x, y = float(a), float(b)
        if x > 0 and y > 0:
            out.append((max(x / y, y / x), metrics))
    for m in re.finditer(r"(?<![\w.])(\d+(?:\.\d+)?)x\b(?! ?[A-Z])", text):
        clause = text[max(0, *(text.rfind(c, 0, m.start()) for c in ";:")):m.end() + 40]
        out.append((float(m.group(1)), _metrics(clause)))
    return out


_NUMBER = re.compile(rf"(?<![\w.#/=:^-]){_NUM}(?![\w.]\w|\.\d)")


#: a multiple's base, right after it: "four times TP4's 19,316,736", "twice the 512" (not "twice as high at 64
#: requests against 8": 64 is a setting of the run, not what is doubled)
_BASE = re.compile(rf"\s+(?:(?:the|its|their|an?|[\w.-]+['\u2019]s)\s+){{0,2}}({_NUMBER.pattern})")


def _against_base(sentence: str, end: int) -> list[float]:
    """A multiple of a number written right after it ("four times TP4's 19,316,736"): that number against each other
    number of the sentence, the ratios the word may stand for ([] when no number follows it)."""
    base = _BASE.match(sentence, end)
    if base is None or not float(base.group(1).replace(",", "")):
        return []
    value = float(base.group(1).replace(",", ""))
    return [max(v, value) / min(v, value) for n in _NUMBER.finditer(sentence) if n.start() != base.start(1)
            and (v := float(n.group(0).replace(",", ""))) > 0]


def _fits(factor: float, hedge: str | None, ratio: float) -> bool:
    """Whether a multiple said with ``hedge`` stands for ``ratio`` (a plain word for its value within about 15%)."""
    hedge = (hedge or "").strip().lower()
    if hedge in ("more than", "over", "at least", "well over"):
        return ratio >= 0.97 * factor
    if hedge in ("less than", "under", "just under"):
        return ratio <= 1.03 * factor
    if hedge in ("nearly", "almost", "close to"):
        return 0.78 * factor <= ratio <= 1.03 * factor
    return (0.78 if hedge else 0.85) * factor <= ratio <= (1.25 if hedge else 1.18) * factor


@rule("D240", "a multiple said in words (twice as fast, three times the requests, halves the launches) that the figures "
              "it is of do not give", scope="project")
def unheld_multiple(ctx) -> Iterator[Finding]:
    """"The wider tile made the kernel twice as fast" where the claims give 121 -> 76 us (1.59x): the word rounds a
    measurement past what it was. Judged against the pairs ("A -> B", "from A to B", "A against B", "A vs B", "A
    instead of B") and factors of the multiple's own sentence whose clause or units ("139 us against 17 us" is a
    time) name a metric the multiple's words name, else, in a card, against its claims' pairs and
    "1.59x" factors for such a metric; a hedge ("nearly", "more than") widens or bounds the word. Read in every card,
    cards/lanes.yaml and the findings (which have no claims: only their own sentence is evidence). A multiple with
    no figure of its metric, or one that states a setting's rule ("default twice the state pool"), is not judged."""
    from dossier.lint.flag_releases import lanes_and_finding_texts

    for doc in ctx.project.valid_docs():
        card = Card.from_data(doc.data, doc.path)
        evidence = _ratios(" ".join(" ".join(c.split()) for c in card.claims))
        for path, flat in prose_texts(card):
            yield from _judged(doc, text_location(path), path, flat, evidence)
    for doc, path, text, _ in lanes_and_finding_texts(ctx.project):
        yield from _judged(doc, path, path, " ".join(text.split()), [])


def _judged(doc, where: str, path: str, flat: str, evidence: list[tuple[float, set[str]]]) -> Iterator[Finding]:
    """D240's findings in one text (``evidence``: its card's claims' ratios)."""
    for sentence in prose.sentences(flat):
        for m in _MULTIPLE.finditer(sentence):
            if _SETTING.search(sentence[max(0, m.start() - 40):m.start()]) or _DENIED.search(sentence, 0, m.start()):
                continue
            near = " ".join(re.split(r"[;:(]", sentence[:m.start()])[-1].split()[-5:] + [m.group(0)]
                            + re.split(r"[;:.),]", sentence[m.end():])[0].split()[:5])
            mine = _metrics(near)
            if not mine:
                continue
            factor = _factor(m.group("times") or m.group("verb") or m.group("part"))
            local = [r for r, metrics in _ratios(sentence) if metrics & mine] or _against_base(sentence, m.end())
            candidates = local or [r for r, metrics in evidence if metrics & mine]
            if not candidates or any(_fits(factor, m.group("hedge"), r) for r in candidates):
                continue
            said = m.group(0).strip()
            shown = ", ".join(f"{r:.2f}x" for r in sorted(set(candidates)))
            yield Finding(where, f"{said!r} in {_quote(sentence, m.start())} says {factor:g}x, but "
                                 f"{'the sentence' if local else 'validation.claims'} give(s) {shown} for "
                                 f"{', '.join(sorted(mine))}",
                          hint="give the measured factor, or a word that fits it", doc=doc,
                          at=_locate(doc, path, said, flat.count(said, 0, max(flat.find(sentence), 0) + m.start())))
