"""A GPU generation (Hopper, Blackwell, SM90, SM100, gfx942, gfx950) given to the PR's default or measurement where
the PR's record names only other generations (D246)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier import prose
from dossier.gpu_archs import GENERATION as _GENERATION
from dossier.gpu_archs import covers as _covers
from dossier.lint.checked import _entry
from dossier.lint.claims import _locate
from dossier.lint.code_texts import nth
from dossier.lint.depth import ALL_FIELDS, prose_texts, text_location
from dossier.lint.figures import _quote
from dossier.lint.gpu_names import gpu_names
from dossier.lint.registry import Finding, rule
from dossier.model import Card

#: the architecture of each GPU model :mod:`gpu_names` reads
_ARCH = (("GH200 H20 H100 H200 H800", "sm90"), ("GB200 GB300 B200 B300", "sm100"),
         ("A10 A10G A30 A40 A100 A800 A4000 A5000 A6000", "sm80"), ("RTX5090 RTXPRO6000", "sm120"),
         ("MI300 MI300X MI308X MI325X", "gfx942"), ("MI350X MI355X", "gfx950"))
#: the PR's own default or measurement put on a generation: "made FlashInfer the default decode on SM100+", "default
#: Blackwell deployments", "on Hopper by default", "swept gfx950 launch shapes", "found that on gfx942", "On Hopper the
#: decode ran 1.3x slower", "ran 1.3x slower on Hopper", "took 30 us on Hopper" (a timing: "took the Triton path" is
#: no run)
#: a run's verb, before its number: "ran 1.3x slower", "took 30 us"
_TIMED = r"\b(?:ran|took)\b"
#: ... and its number, one standing alone ("30 us", "1.3x"; the 100 of "SM100" is none)
_FIGURE = r"(?<![\w.])\d"
_OWN = re.compile(rf"\bdefault\b[^.;,()]{{0,40}}?\b(?:on|for)\s+(?:the\s+)?(?P<a>{_GENERATION})|\bdefault\s+"
                  rf"(?P<b>{_GENERATION})|(?P<c>{_GENERATION})[^.;,()]{{0,20}}\bby default|\b(?:measured|profiled|"
                  rf"swept|benchmarked|tuned|validated|found|saw|observed|timed)\b[^.;,()]{{0,40}}?\b"
                  rf"(?P<d>{_GENERATION})"
                  rf"|\b[Oo]n\s+(?:the\s+)?(?P<e>{_GENERATION})\b[^.;()]{{0,40}}?{_TIMED}[^.;()]{{0,30}}?{_FIGURE}"
                  rf"|{_TIMED}[^.;()]{{0,40}}?{_FIGURE}[^;()]{{0,40}}?\bon\s+(?:the\s+)?(?P<f>{_GENERATION})\b")
#: a clause about this project's runs, or dated to a release (a later release's default is not the PR's)
_NOT_THE_PR = re.compile(r"\bthis project\b|\bour\b|\bv?\d+\.\d+\.\d+\b")
_CLAUSE = prose.CLAUSE
#: a clause that says what the PR did not do or left as it was: "the default for Hopper is unchanged", "Hopper keeps
#: Triton by default", "it was not validated on Hopper", "Nobody measured Hopper"
_CONTRAST = re.compile(r"\b(?:not|never|nobody|no|unchanged|still|stays?|keeps?|kept|remains?|untouched)\b|n't\b",
                       re.IGNORECASE)


def _record(card: Card, ctx) -> set[str]:
    """The architectures the PR's record names: the title's and claims' generation words and GPUs, and the GPUs
    cards/checked.lock holds for it."""
    text = " ".join([card.title, *card.claims])
    entry = _entry(card, ctx) or {}
    models = gpu_names(text) | {str(g) for g in entry.get("gpus") or []}
    return {arch for names, arch in _ARCH for m in models if m in names.split()} \
        | {a for m in re.finditer(_GENERATION, text) for a in _covers(m.group(0))}


@rule("D246", "a GPU generation (Hopper, SM90, Blackwell, SM100, gfx942, gfx950) given to the PR's default or "
              "measurement where its title, claims and checked GPUs name only other generations", scope="card",
      severity="warning")
def generation_off_record(card: Card, doc, ctx) -> Iterator[Finding]:
    """"made FlashInfer the default decode on Hopper" for a PR titled "... default to FlashInfer on SM100+", "swept
    gfx942 launch shapes" for a PR measured on MI355X (gfx950): the generation tells a reader whether the change
    reaches their GPU, and a wrong one sends them after a default their machine never gets. Judged where the
    motivation, implementation or explain puts a generation word in the PR's own default ("the default ... on X",
    "default X deployments", "X ... by default") or measurement ("measured / profiled / swept / benchmarked / tuned /
    validated / found / saw / observed / timed ... X", "on X ... ran 1.3x", "ran 1.3x ... on X"), against the architectures the PR's
    record names: generation words and GPU models (H100 is SM90, MI355X gfx950) of its title and claims, and the
    GPUs cards/checked.lock holds for it. A card whose record names no generation, a clause about this project's
    runs or dated to a release, and one that says what the PR did not do or left as it was ("Hopper keeps Triton by
    default", "not validated on Hopper") are not judged."""
    record = _record(card, ctx)
    if not record:
        return
    for path, flat in prose_texts(card):
        if path not in ALL_FIELDS:
            continue
        for sentence in prose.sentences(flat):
            for m in _OWN.finditer(sentence):
                word = next(w for w in m.group("a", "b", "c", "d", "e", "f") if w)
                starts = [c.end() for c in _CLAUSE.finditer(sentence, 0, m.start())]
                end = next((c.start() for c in _CLAUSE.finditer(sentence, m.end())), len(sentence))
                clause = sentence[max(starts, default=0):end]
                if _covers(word) & record or _NOT_THE_PR.search(clause) or _CONTRAST.search(clause):
                    continue
                said = m.group(0)
                yield Finding(text_location(path), f"{word} in {_quote(sentence, m.start())}: the PR's title, claims "
                                                   f"and checked GPUs name {', '.join(sorted(a.upper() if a.startswith('sm') else a for a in record))}",
                              hint="give the generation the PR's record names, or say where the other one comes from",
                              at=_locate(doc, path, said, nth(flat, sentence, said, m.start())))
