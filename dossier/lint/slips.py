"""D227-D234: slips a reader trips on: prose cut off mid-sentence, a fall of more than 100%, one change given as a
gain and a loss, an explain of another file than the key fragment's, one number on two devices, an explain that
misquotes its own line, performance numbers with no device anywhere, a number
the claims say the PR never gave."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.lint.depth import ALL_FIELDS, card_texts, text_location, text_of
from dossier.lint.registry import Finding, rule
from dossier.model import Card

#: what a finished sentence (or a closing quotation, parenthesis or code span after one) ends with
_END = re.compile(r"[.!?)\]\"'`:;]\s*$")


@rule("D227", "motivation, implementation or explain stops mid-sentence (no closing punctuation): text was cut off",
      scope="card")
def cut_off(card: Card, doc, ctx) -> Iterator[Finding]:
    """An agent's reply truncated at its output limit, or a paste that lost its tail, ends on a word ("... so the
    second grid dimension is batch x local value"): the reader gets half a claim and takes it as the whole.
    Every real card's three prose fields end with a full stop or a closing parenthesis."""
    for name in ALL_FIELDS:
        text = text_of(card, name).rstrip()
        if text and not _END.search(text):
            yield Finding(f"{name}#value", f"{name} ends mid-sentence ({text[-40:]!r}): the rest was cut off",
                          hint="finish the sentence (or drop it) and end the field with a full stop")


_PCT = r"(\d+(?:\.\d+)?) ?%"
#: a fall given as more than all of a quantity: "-140%", "140% shorter", "cut ... by 140%"
#: "falls by 140%", "went down 140%", "a reduction of 140%", "a 140% kernel time reduction"
_FALL = re.compile(rf"(?<![\w.])[-\u2212]{_PCT}|(?<![\w.]){_PCT} (?:[\w-]+ ){{0,3}}?(?:shorter|less|lower|fewer|smaller|"
                   rf"cheaper|reduction|decrease|drop|saving|cut)\b|\b(?:cut|cuts|reduced?|reduces|lowers?|lowered|"
                   rf"shortens?|shortened|decreased?|decreases|drops?|dropped|saves?|saved|shrinks?|shrank|falls?|fell|"
                   rf"declined?|declines|trims?|trimmed|went down|goes down)\b[^.;%]{{0,60}}? (?:by )?"
                   rf"(?:about |~|roughly |nearly )?{_PCT}|\b(?:reduction|decrease|drop|cut|saving) of "
                   rf"(?:about |~|roughly |nearly )?{_PCT}", re.IGNORECASE)


@rule("D228", "a quantity said to fall by more than 100% (a time, memory or count cannot go below zero)",
      scope="card")
def impossible_fall(card: Card, doc, ctx) -> Iterator[Finding]:
    """"Cuts decode latency by 140%" or "TTFT -120%": no time, size or count falls by more than all of it. The
    writer meant a factor (2.4x faster), or computed the change against the new value; either way the number is
    not the PR's. A rise ("+140% throughput", "140% faster") is not judged."""
    for path, text in card_texts(card):
        flat = " ".join(text.split())
        for m in _FALL.finditer(flat):
            value = float(next(g for g in m.groups() if g))
            if value > 100:
                yield Finding(text_location(path),
                              f"{path} gives a fall of {value:g}% ({m.group(0)!r}): nothing falls by more than all "
                              "of itself",
                              hint="give the two values, or the factor ('2.4x shorter' is 'down to 42%' of it)")


#: serving metrics by the direction that is good: lower (times, memory) or higher (rates, accuracy)
_LOWER_BETTER = ("ttft", "tpot", "itl", "latency", "e2e", "time", "memory")
_METRIC = r"(TTFT|TPOT|ITL|latency|E2E|time|memory|throughput|accuracy)"
_UP, _DOWN = ("higher", "more", "rose", "increased", "grew", "+"), ("lower", "less", "fewer", "shorter", "dropped",
                                                                     "fell", "decreased", "-", "\u2212")
_GOOD, _BAD = ("better", "faster", "improved"), ("worse", "slower", "regressed", "longer")
#: "2.6% better TTFT", "2.6% worse TTFT and throughput"; "TTFT about -2.6%", "median TTFT -9.2%"
_WORD_FIRST = re.compile(rf"(?<![\w.])(\d+(?:\.\d+)?)% (better|worse|faster|slower|higher|lower|shorter|longer|more|less|"
                         rf"fewer) (?:[\w/-]+ ){{0,2}}?{_METRIC}\b", re.IGNORECASE)
_METRIC_FIRST = re.compile(rf"\b{_METRIC}(?: (?:about|median|mean|p50|p90|p99|roughly|~))? ?([+\-\u2212])(\d+(?:\.\d+)?)%",
                           re.IGNORECASE)


def _verdicts(text: str) -> Iterator[tuple[str, str, bool, str]]:
    """(value, metric, good?, words) for each change of a serving metric with a direction in ``text``."""
    for m in _WORD_FIRST.finditer(text):
        value, word, metric = m.group(1), m.group(2).lower(), m.group(3).lower()
        yield value, metric, _good(word, metric), m.group(0)
    for m in _METRIC_FIRST.finditer(text):
        metric, sign, value = m.group(1).lower(), m.group(2), m.group(3)
        yield value, metric, _good(sign, metric), m.group(0)


def _good(word: str, metric: str) -> bool:
    if word in _GOOD or word in _BAD:
        return word in _GOOD
    return (word in _DOWN) is (metric in _LOWER_BETTER)


@rule("D229", "one change of a serving metric is a gain in one place of the card and a loss in another", scope="card")
def direction_flip(card: Card, doc, ctx) -> Iterator[Finding]:
    """"About 2.6% worse TTFT" in the motivation while the claims give "TTFT about -2.6%" (TTFT falls, which is
    better): the reader cannot tell whether the PR helped. A lower TTFT, TPOT, ITL, latency, E2E time or memory is
    better, a higher throughput or accuracy; one value of one metric must point one way throughout the card."""
    seen: dict[tuple[str, str], tuple[bool, str, str]] = {}
    for path, text in card_texts(card):
        for value, metric, good, words in _verdicts(" ".join(text.split())):
            key = (str(float(value)), metric)
            if key in seen and seen[key][0] != good:
                was, where = seen[key][1], seen[key][2]
                yield Finding(text_location(path),
                              f"{words!r} makes {value}% of {metric.upper() if len(metric) <= 4 else metric} a "
                              f"{'gain' if good else 'loss'}, but {where} has {was!r}, a {'loss' if good else 'gain'}",
                              hint="take the direction from the PR's numbers (before -> after) and say it once")
            seen.setdefault(key, (good, words, path))


#: a code name in prose: snake_case with an underscore, a leading underscore, or camelCase / CamelCase with a hump
_CODE_NAME = re.compile(r"\b(?:[A-Za-z]+_[A-Za-z0-9_]+|_[A-Za-z0-9_]+|[a-z]+[A-Z]\w*|[A-Z][a-z0-9]+[A-Z]\w*)\b")
MIN_ELSEWHERE = 4  # real explains name at most 2 names that only another listed file holds


#: the explain placing its line: "The line sits in Qwen3GatedDeltaNet.forward", "is inside `weight_loader_v2`" (not
#: "is in the fused_gdn_gating call": a call names code defined anywhere)
_PLACED_IN = re.compile(r"\b(?:sits|is|lives|appears|stands|lies)(?: \w+ly)? (?:in|inside|within) (?:the )?`?"
                        r"([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)`?(?:\(\))?(?! ?(?:calls?|invocation|import|argument|"
                        r"call site|branch|check|result|output|path|call\b))")


def _defines(text: str, name: str) -> bool:
    return re.search(rf"^\s*(?:async\s+)?(?:class|def)\s+{re.escape(name)}\b", text, re.MULTILINE) is not None


@rule("D230", "key_fragment.explain describes another listed file: most of its code names are in that file, not in "
              "key_fragment.file", scope="card")
def explains_another_file(card: Card, doc, ctx) -> Iterator[Finding]:
    """An explain written for the PR's other file ("create_qkvz_proj builds in_proj_qkvz ...", qwen3_next.py) under a
    key fragment in linear.py passes D214 on one shared name (output_sizes) and tells the reader the wrong lines.
    Read in today's SGLang: the names of the explain that the key file lacks and another file of files.runtime
    holds must be fewer than 4 and at most twice those the key file holds (real explains: at most 2). An explain
    that places its line in a class or function ("The line sits in Qwen3GatedDeltaNet.forward") that the key file
    does not define and another listed file does is the same slip, said in one name."""
    from dossier.lint.claims import surface

    s = surface(ctx)
    kf = card.key_fragment
    key = s.tree.text(kf.file) if s is not None else None
    if not key:
        return
    others = [t for t in (s.tree.text(f) for f in card.files["runtime"] if f != kf.file) if t]
    for m in _PLACED_IN.finditer(" ".join(kf.explain.split())):
        owner = m.group(1).split(".")[0]
        if not _defines(key, owner) and any(_defines(t, owner) for t in others):
            yield Finding("key_fragment.explain#value",
                          f"explain places the line in {m.group(1)}, but {kf.file} defines no {owner} in SGLang "
                          f"{s.tree.version} and another listed file does: it explains another file's lines",
                          hint="say where the matched line sits in key_fragment.file")
            return
    names = set(_CODE_NAME.findall(kf.explain))
    if not others or len(names) < MIN_ELSEWHERE:
        return

    def holds(text: str, name: str) -> bool:
        return re.search(rf"\b{re.escape(name)}\b", text) is not None

    in_key = {n for n in names if holds(key, n)}
    elsewhere = sorted(n for n in names - in_key if any(holds(t, n) for t in others))
    if len(elsewhere) >= MIN_ELSEWHERE and len(elsewhere) > 2 * len(in_key):
        yield Finding("key_fragment.explain#value",
                      f"explain names {', '.join(elsewhere[:5])}{' ...' if len(elsewhere) > 5 else ''}, which "
                      f"{kf.file} lacks in SGLang {s.tree.version} and another listed file holds ({len(in_key)} of "
                      "its names are in the key file): it explains another file's lines",
                      hint="explain the matched line in key_fragment.file, or move the key fragment to the file "
                           "the explain describes")


#: a timed number: "89 us", "3.5 us", "136.2 ms" (two digits are enough for a time; ratios and sizes need D224's)
_TIMED = re.compile(r"(?<![\w.])(\d{2,}(?:\.\d+)?|\d\.\d+)\s?(ns|us|µs|μs|ms|microseconds?|milliseconds?|nanoseconds?)\b")


@rule("D231", "one measured number is given on two different devices in a card (89 us on H100 here, on B200 there)",
      scope="card")
def two_devices(card: Card, doc, ctx) -> Iterator[Finding]:
    """A claim has "89 us ... on 4x H100" and the motivation "89 us ... on B200": the number was measured once, on one
    GPU, so one of the two sentences sends the reader to the wrong hardware. Judged on times (89 us) and on the
    numbers of D224 (a decimal or three digits with a unit of time, ratio or size), a rounding counting as the same
    number (44.4 us, 44.42 us), in sentences that name exactly one device (a sentence comparing two GPUs pairs no
    number with either); a claim that continues the one before ("Accuracy, same setup: ...") ran on its device."""
    from dossier import prose
    from dossier.lint.depth import _CANON, DEVICE, measured_numbers, one_measure

    seen: list[tuple[str, str, str, str]] = []  # (number, unit, device, where)
    claim_device = None  # the one device the claim before names: "Accuracy, same setup: ..." ran there too
    for path, text in card_texts(card):
        named = None
        for s in prose.sentences(" ".join(text.split())):
            devices = {re.sub(r"\s", "", m.group(0)).upper() for m in DEVICE.finditer(s)}
            if not devices and claim_device and path.startswith("validation.claims") and _SAME_SETUP.search(text):
                devices = {claim_device}
            if len(devices) != 1:
                continue
            device = named = devices.pop()
            numbers = {(n, u) for n, u, _ in measured_numbers(s)} \
                | {(m.group(1), _CANON.get(m.group(2), m.group(2))) for m in _TIMED.finditer(s)}
            clash = next(((n, u, o) for n, u in sorted(numbers) for o in seen
                          if o[1] == u and o[2] != device and one_measure(n, o[0])), None)
            if clash:
                n, u, (_, _, other, where) = clash
                yield Finding(text_location(path), f"gives {n}{u} on {device}, but {where} gives the same number on "
                                                   f"{other}: one of the two devices is wrong",
                              hint="take the device from the source (PR description, benchmark log) and use it "
                                   "everywhere the number appears")
            seen += [(n, u, device, path) for n, u in numbers]
        if path.startswith("validation.claims"):
            claim_device = named


#: a name given a literal in code: "is_kda=False", "BV = 32", "mode == 'decode'" (keyword, assignment, comparison)
_LITERAL_SET = re.compile(r"\b([A-Za-z_]\w*)\s*(==|!=|=)\s*(True|False|None|-?\d+(?:\.\d+)?|'[^']*'|\"[^\"]*\")(?![\w.])")


@rule("D232", "key_fragment.explain quotes a name of the matched line with another literal than the line gives it "
              "(is_kda=True for is_kda=False)", scope="card")
def explain_misquotes_match(card: Card, doc, ctx) -> Iterator[Finding]:
    """The match is "is_kda=False" and the explain says "is_kda=True marks the GDN call": the reader is told the
    opposite of the line the card quotes. Judged where the match gives a name a literal (True, False, None, a
    number, a quoted string) and the explain writes the same name with the same operator (=, ==, !=) and another
    literal; names the explain gives other values in prose ("block size 64") are not read."""
    kf = card.key_fragment
    given = {(name, op): value for name, op, value in _LITERAL_SET.findall(kf.match)}
    for name, op, value in _LITERAL_SET.findall(" ".join(kf.explain.split())):
        line = given.get((name, op))
        if line is not None and value.strip("'\"") != line.strip("'\""):
            yield Finding("key_fragment.explain#value", f"explain says {name}{op}{value}, but the matched line has "
                                                        f"{name}{op}{line}",
                          hint="quote the line as the diff has it (or match the line the explain describes)")
            return


#: a performance number: a time, a rate or a speed-up ("89 us", "3332 tok/s", "-11% TTFT", "1.8x")
_PERF = re.compile(r"(?<![\w.])\d[\d.,]*\s*(?:%|x\b(?!\s*[(\d])|×|ns\b|us\b|µs\b|ms\b|tok/s|tokens/s|req/s|GB/s|TB/s|TFLOPS)",
                   re.IGNORECASE)
#: an accuracy score given as a percentage ("GSM8K 95.2%", "accuracy of 93.1%", "pass@1 90.00%"): a model's quality,
#: not the speed of the device it ran on
_SCORE_PERCENT = re.compile(r"\b(?:GSM8K|MMLU\w*|GPQA\w*|AIME\w*|HumanEval|MATH\w*|accuracy|score|pass@\d+|acceptance rate)"
                            r"[^;.%]{0,25}?\d[\d.]*\s?%", re.IGNORECASE)
#: hardware named in words: a GPU or accelerator family, a platform, an architecture
_HARDWARE = re.compile(r"\b(?:GPUs?|NPUs?|Ascend|ROCm|Hopper|Blackwell|Ampere|SM\d+\w*|XPU|MUSA|Gaudi|TPU)\b")
#: a claim that continues the one before it: "Accuracy, same setup: ...", "on the same run", "as above"
_SAME_SETUP = re.compile(r"\b(?:same (?:setup|run|runs|machine|hardware|GPUs?|node|cluster|benchmark|configuration|"
                         r"config|server|deployment)|as above|the above (?:setup|run))\b", re.IGNORECASE)
#: a sentence saying where all of the card's numbers ran: "All numbers are from 8x H200", "every run used B200"
_ALL_NUMBERS = re.compile(r"\b(?:all|every|each) (?:of the |the )?(?:numbers?|figures?|runs?|measurements?|results?|"
                          r"benchmarks?|claims?|timings?)\b|\bthroughout\b", re.IGNORECASE)
#: the figures of a claim that D231/D225 compare: a decimal or three digits, with a unit
_FIGURE = re.compile(r"(?<![\w.])(\d+\.\d+|\d{3,})\s?(?:%|×|x\b|ms\b|us\b|µs\b|s\b|tok/s|req/s)")


def _says_where(text: str) -> bool:
    """Whether a text names a device or platform, or says its source named none ("GPU not stated")."""
    from dossier.lint.depth import DEVICE, NO_DEVICE

    return bool(DEVICE.search(text) or _HARDWARE.search(text) or NO_DEVICE.search(text))


@rule("D233", "a validation.claims entry with performance numbers says nowhere where they ran (in it, in the claim it "
              "continues, beside its numbers, for all numbers) nor that the source named no device", scope="card")
def numbers_without_hardware(card: Card, doc, ctx) -> Iterator[Finding]:
    """"+12% decode throughput at batch 32 (author)": a time or a speed-up means nothing without the GPU it ran on,
    and a reader assumes theirs, or the one another claim of the card names. Each claim with a time, rate,
    percentage or factor says where it ran: it names a device (H100, 4x B200, CPU) or platform (ROCm, Ascend, SM100)
    or says the source named none ("GPU not stated"), or it continues the claim before it ("Accuracy, same setup:
    ...") and that one says, or another sentence of the card gives one of its figures (a decimal or three digits
    with a unit) and says where, or a sentence of the card says where all of its numbers ran ("all numbers are from
    8x H200 (author)") or, giving no number itself, that the source named no device ("The GPU of the serving runs is
    not stated in the thread excerpt."). A device named only for another claim's numbers does not carry over. An
    accuracy given as a percentage ("GSM8K 95.2%") is a model's score, not a speed, and needs no device."""
    from dossier import prose
    from dossier.lint.depth import NO_DEVICE, one_measure

    said = [s for _, text in card_texts(card) for s in prose.sentences(" ".join(text.split()))]
    # the card's word for all its numbers: "all numbers are from 8x H200", or a sentence of its own saying the
    # source named no device ("The GPU of the serving runs is not stated in the thread excerpt.")
    if any(_ALL_NUMBERS.search(s) and _says_where(s) or NO_DEVICE.search(s) and not _PERF.search(s) for s in said):
        return
    placed = [(s, [m.group(1) for m in _FIGURE.finditer(s)]) for s in said if _says_where(s)]
    ok_before = False
    for i, claim in enumerate(card.claims):
        number = _PERF.search(_SCORE_PERCENT.sub(" ", claim))
        ok = _says_where(claim) or (ok_before and bool(_SAME_SETUP.search(claim)))
        if not ok and number:
            mine = [m.group(1) for m in _FIGURE.finditer(claim)]
            ok = any(one_measure(a, b) for s, theirs in placed if s not in claim for a in mine for b in theirs)
        if number and not ok:
            yield Finding(f"validation.claims[{i}]",
                          f"{number.group(0).strip()!r}: this claim gives performance numbers but says nowhere where "
                          "they ran (no device or platform in it, in the claim it continues, or beside its numbers "
                          "elsewhere), nor that the source named none",
                          hint="name the GPU the numbers came from (e.g. '4x H100, author'), or say 'GPU not stated'")
        ok_before = ok


#: a claim saying the PR's own text gave no numbers ("No numbers: the description only states ...", "the description
#: quotes no numbers", "so no speed-up figure is recorded here")
_NO_NUMBERS = re.compile(r"\b(?:no (?:performance |benchmark |speed-?up |timing |measured )?(?:numbers?|figures?)|"
                         r"(?:reports?|quotes?|gives?|gave|shows?) no (?:[\w-]+,? (?:or |and )?){0,3}?(?:numbers|results|"
                         r"measurements?|benchmarks?|speed|timing|performance)\w*|gave none)\b", re.IGNORECASE)
#: a sentence giving a number to the PR's author or description
_FROM_THE_PR = re.compile(r"\b(?:the author|author's|authors?|PR description|the description|the PR (?:reports?|"
                          r"measured|shows)|per the (?:PR|description)|measured by)\b", re.IGNORECASE)
_MEASURED_NUMBER = re.compile(r"(?<![\w.])[+\-]?\d+(?:\.\d+)?\s?(?:%|x\b|×|ns\b|us\b|µs\b|ms\b|tok/s|tokens/s)",
                              re.IGNORECASE)
#: the number is someone else's: this project's, an issue's, another PR's
_NOT_THE_PR = re.compile(r"\bthis project\b|\bour\b|\bruntime\.|\bissue\b|#\d+", re.IGNORECASE)


@rule("D234", "validation.claims say the PR gave no numbers, yet the prose quotes a measured number from its author or "
              "description", scope="card")
def numbers_from_nowhere(card: Card, doc, ctx) -> Iterator[Finding]:
    """A claim says "No numbers: the description only states ..." and the motivation says "the author measured 12%
    higher throughput": either the claim hides the PR's evidence or the prose made a number up; a reader trusts the
    number. Judged in motivation and implementation, on sentences that give a time, rate, percentage or factor to
    the PR's author or description and name no other source (this project, an issue, another #N)."""
    from dossier import prose

    said = next((c for c in card.claims if _NO_NUMBERS.search(c)), None)
    if said is None:
        return
    for name in ("motivation", "implementation"):
        for s in prose.sentences(" ".join(getattr(card, name).split())):
            number = _MEASURED_NUMBER.search(s)
            if number and _FROM_THE_PR.search(s) and not _NOT_THE_PR.search(s.replace(f"#{card.pr}", "")):
                yield Finding(f"{name}#value", f"gives {number.group(0).strip()!r} to the PR ({s[:70]!r}...), but a "
                                               f"claim says it gave no numbers ({said[:60]!r}...)",
                              hint="record the number with its setup in validation.claims, or drop it from the prose")
                return
