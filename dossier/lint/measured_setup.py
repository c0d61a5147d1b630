"""The PR's measurement given another tensor-parallel size or GPU count in the card's prose than its validation.claims
give it (D242): "profiled at TP8 on H100" where the claims hold the author's run at TP4."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier import prose
from dossier.lint.depth import prose_texts, text_location
from dossier.lint.figures import _quote
from dossier.lint.gpu_names import GPU
from dossier.lint.registry import Finding, rule
from dossier.model import Card

#: tensor-parallel sizes: "TP4", "tp4", "TP 8", "TP=2", "TP-4", "--tp 4", "--tp-size 4", "TP 1/2/4", "a tensor-parallel
#: size of 4"; not rank 0 ("TP0 sat in ...")
_TP = re.compile(r"(?<![\w-])(?:(?i:TP) ?[=-]? ?|--tp(?:-size)?[ =]|(?i:tensor[- ]parallel(?: size| degree)?(?: of| =)? ))"
                 r"(?P<n>[1-9]\d{0,5}(?:/[1-9]\d{0,5})*)\b")
#: a count of GPUs in words ("four H100s", "a single B200", "an eight-GPU node")
_WORDS = {**{w: n for w, n in prose.NUMBER_WORDS.items() if n}, "a single": 1, "single": 1}
_N_WORD = "(?i:" + "|".join(sorted(_WORDS, key=len, reverse=True)) + ")"
_HOLDERS = r"(?!\s+(?:nodes?|trays?|racks?|superchips?|systems?)\b)"
#: GPUs counted: "4x B200", "8 x H200", "one NVIDIA B200", "two H100s", "B200 x4", "H100x8" (not "B200s" alone, nor "a
#: B200", nor a count of machines that hold them: "2 GB200 trays", "72 GB200 superchips"); GPUs of no named kind: "an
#: 8-GPU node", "4 GPUs" (key "GPU": judged against every kind's counts)
_COUNTED = re.compile(rf"(?<![\w.,/-])(?P<n>[1-9]\d?|{_N_WORD}) ?[x\u00d7]? ?"
                      rf"(?:NVIDIA |AMD )?(?P<gpu>{GPU.pattern})s?\b{_HOLDERS}"
                      rf"|(?<![\w.,/-])(?:NVIDIA |AMD )?(?P<gpu2>{GPU.pattern}) ?[x\u00d7] ?(?P<n2>[1-9]\d?)\b{_HOLDERS}"
                      rf"|(?<![\w.,/-])(?P<n3>[1-9]\d?|{_N_WORD})[- ](?P<gpu3>GPU)s?\b"
                      r"(?!\s+(?:kernels?|programs?|threads?|launch(?:es)?)\b)")
#: a clause that reports a run: a verb of measuring, or whose run ("On the author's H100 TP4 run"); not a run as a
#: noun alone ("TP=1 runs skip the fusion" is the code's rule), nor "the author" alone ("As the author saw, TP=1
#: needs no all-reduce" is the code's rule)
_RUN = re.compile(r"\b(?:profil(?:ed|ing)|measur(?:ed|ing)|benchmark(?:ed|ing)|trac(?:ed|ing)|swept|ran|saw|"
                  r"reports?|reported|author's|reviewer's)\b", re.IGNORECASE)
#: where a clause starts: a semicolon, a comma before a conjunction, the comma closing "As the author saw,"
_CLAUSE = re.compile(rf"{prose.CLAUSE.pattern}|^As [^,;]{{0,40}}\b(?:saw|noted|said|found),")
#: a run that is not the PR's: another PR's or issue's, ours
_OTHER_RUN = re.compile(r"#\d+|\bissue\b|\bthis project\b|\bour\b|\bwe\b", re.IGNORECASE)


def _count(word: str) -> int:
    return _WORDS.get(word.lower()) or int(word)


def _counted(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[re.Match, str, int]]:
    """(match, GPU, count) of every count of GPUs in ``text[start:end]``."""
    for m in _COUNTED.finditer(text, start, len(text) if end is None else end):
        i = next(i for i in ("", "2", "3") if m.group("gpu" + i))
        yield m, m.group("gpu" + i), _count(m.group("n" + i))


def _setup(texts: Iterator[str]) -> tuple[set[int], dict[str, set[int]]]:
    """The TP sizes and the counts of each GPU that ``texts`` give."""
    sizes, counts = set(), {}
    for text in texts:
        sizes |= {int(n) for m in _TP.finditer(text) for n in m.group("n").split("/")}
        for _, gpu, n in _counted(text):
            counts.setdefault(gpu, set()).add(n)
    return sizes, counts


@rule("D242", "a run of the PR given another TP size or GPU count in the card's prose than its validation.claims "
              "give that run (TP8 for the claims' TP4, 4x B200 for one B200)", scope="card", severity="warning")
def setup_unlike_claims(card: Card, doc, ctx) -> Iterator[Finding]:
    """"The author profiled Qwen3-Coder-Next at TP8 on H100" where the claims hold the author's run at TP4 (or
    "on 4x B200" where they say one B200): the figures are the claims', so no figure check sees the setup change.
    Judged in a clause of the motivation, implementation or explain that reports a run (profiled, measured, ran,
    saw, the author's ...), in a sentence that names no other PR, issue or our own run; each TP size must be one the
    claims give, when they give one, and each count of a GPU one they give that GPU (not of the trays, nodes or racks
    holding them)."""
    sizes, counts = _setup(" ".join(claim.split()) for claim in card.claims)
    if not sizes and not counts:
        return
    for path, flat in prose_texts(card):
        if path not in ("motivation", "implementation", "key_fragment.explain"):
            continue
        for sentence in prose.sentences(flat):
            if _OTHER_RUN.search(re.sub(rf"#{card.pr}\b", "", sentence)):
                continue
            cuts = [0, *(c.end() for c in _CLAUSE.finditer(sentence)), len(sentence)]
            for start, end in zip(cuts, cuts[1:], strict=False):
                if _RUN.search(sentence, start, end):
                    yield from _judged(path, sentence, start, end, sizes, counts)


def _judged(path: str, sentence: str, start: int, end: int, sizes, counts) -> Iterator[Finding]:
    """D242's findings in one clause (``sentence[start:end]``) that reports a run."""
    for m in _TP.finditer(sentence, start, end):
        if sizes and not {int(n) for n in m.group("n").split("/")} <= sizes:
            yield _finding(path, sentence, m, f"the claims give TP {', '.join(map(str, sorted(sizes)))}")
    for m, gpu, n in _counted(sentence, start, end):
        given = counts.get(gpu) if gpu != "GPU" else set().union(*counts.values())
        if given and n not in given:
            yield _finding(path, sentence, m, f"the claims give {' or '.join(map(str, sorted(given)))} x {gpu}")


def _finding(path: str, sentence: str, m: re.Match, why: str) -> Finding:
    return Finding(text_location(path), f"{m.group(0).strip()!r} in {_quote(sentence, m.start())}: {why}",
                   hint="give the run the setup its claims record, or say which other run it was")
