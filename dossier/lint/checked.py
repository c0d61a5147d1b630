"""What each card's PR-page facts were when someone last checked them against the PR's page (cards/checked.lock):
the numbers its validation.claims give and the files it lists. No PR description, thread or file list is stored
here (a diff only once fetched), so a figure credited to the author, or a test file said to be the PR's, could not
be told from an invented one. The lock is the record of a check: D236 holds every measured figure of the claims to
it, D337 every listed file; `dossier lint --record cards/N.yaml` records a card after its claims and files were
checked (a plain `dossier lint --record` adds only the cards without an entry). A card with no entry is D338: nothing
vouches for its claims until someone checks them and records it. Recording refuses a card whose title, state, merge
day or counts contradict GitHub's record (cards/pr-facts.json, D414), and says what each re-recorded entry changed."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

from dossier import prose
from dossier.errors import DossierError
from dossier.files import record
from dossier.lint.depth import _OUR_RESULTS, _OURS
from dossier.lint.figures import _evidence_numbers, _held, _quote, figures, kind_of
from dossier.lint.gpu_names import gpu_names
from dossier.lint.registry import Finding, rule
from dossier.locks import LockError, check_keys, of_version, read_lock_file, seal_in, section_digest
from dossier.model import Card
from dossier.pr_facts import conflicts, read_facts

CHECKED_LOCK = Path("cards") / "checked.lock"
HEADER = (
    "# Written by `dossier lint --record` (a named card: re-recorded; otherwise only cards without an entry): the\n"
    "# numbers and GPUs each card's validation.claims gave and the files it listed when they were checked against the\n"
    "# PR's page (description, thread, files changed). Lint D236 and D337 hold the card to it: record a card only\n"
    "# after checking what changed.\n"
)


#: the header line carrying the sha256 of the entries `lint --record` wrote (D344 holds the entries to it)
SEAL = "# cards sha256: "


def numbers(card: Card) -> list[str]:
    """The numbers of the card's claims as the lock keeps them: "2.6 percent", "23169.69 time", "3.83"."""
    found = _evidence_numbers(" ".join(card.claims))
    return sorted({f"{n} {kind_of(unit)}" if unit else n for n, unit in found})


#: a sentence that names GPUs without giving the run to one: "no GPU is named (an H100 or an H200 are both plausible)"
_HEDGED = re.compile(r"\b(?:no GPU|not (?:named|stated|given|say)|neither|plausible|unknown|unnamed|whether|may have|"
                     r"might|could have)\b", re.IGNORECASE)


def gpus(text: str) -> list[str]:
    """The GPUs ``text`` names, as the lock keeps them (sorted, "RTX 4090" as "RTX4090", "RTX PRO 6000" as
    "RTXPRO6000")."""
    return sorted(gpu_names(text))


def _entries(data: dict) -> dict[int, dict]:
    cards = data.get("cards")
    if not of_version(data, 1) or not isinstance(cards, dict) or not all(
            isinstance(pr, int) and isinstance(e, dict) and isinstance(e.get("numbers"), list)
            and isinstance(e.get("files"), list) and isinstance(e.get("gpus", []), list) for pr, e in cards.items()):
        raise LockError(f"{CHECKED_LOCK}: expected version: 1 and cards: {{PR: {{numbers: [...], files: [...], gpus: "
                        "[...]}}}}")
    fix = "run `dossier lint --record`"
    check_keys(data, ("version", "cards"), str(CHECKED_LOCK), fix)
    for pr, entry in cards.items():
        check_keys(entry, ("numbers", "files", "gpus"), f"{CHECKED_LOCK}: the entry of #{pr}", fix)
        bad = next((n for n in entry["numbers"] if not (isinstance(n, str) and _RECORDED.fullmatch(n))), None)
        if bad is not None or not all(isinstance(f, str) for f in entry["files"] + entry.get("gpus", [])):
            what = f"the number {bad!r}" if bad is not None else "a file or GPU that is not a string"
            raise LockError(f"{CHECKED_LOCK}: the entry of #{pr} holds {what}, not one `lint --record` writes "
                            f"(\"2.6 percent\", \"3.83\"; edited by hand?); {fix}")
    return cards


#: a number as the lock keeps it: digits, a decimal part, and the kind of its unit
_RECORDED = re.compile(r"\d+(?:\.\d+)?(?: [a-z]+)?")


def read_checked(root: Path) -> dict[int, dict]:
    """The entries by PR (empty without a lock); raises LockError when the lock cannot be read."""
    data = read_lock_file(root / CHECKED_LOCK)
    return {} if data is None else _entries(data)


class RecordRefused(DossierError):
    """A card to record contradicts GitHub's record of its PR: an entry would vouch for what is known false."""


def record_checked(root: Path, cards: Iterable[Card], named: bool, report: list[str] | None = None) -> int:
    """Record ``cards`` (``named``: each, replacing its entry; else only those without one); returns how many entries
    were written, and appends to ``report`` what each replaced entry changed. Refused (RecordRefused, nothing
    written) while a card contradicts GitHub's record (cards/pr-facts.json). The old entries are read while holding
    cards/, so a concurrent recording's are kept."""
    written = 0
    facts = read_facts(root)

    def text() -> str:
        nonlocal written
        entries = read_checked(root)
        chosen = [c for c in cards if named or c.pr not in entries]
        wrong = [f"#{c.pr} {path}: {message}" for c in chosen if c.pr in facts
                 for path, message in conflicts(c, facts[c.pr])]
        if wrong:
            raise RecordRefused(f"not recording {CHECKED_LOCK}: " + "; ".join(wrong[:3]) + (
                f" (and {len(wrong) - 3} more)" if len(wrong) > 3 else "") + ": fix the card from the PR's page first")
        for card in chosen:
            new = {"numbers": numbers(card), "files": sorted(set(card.all_files)), "gpus": gpus(" ".join(card.claims))}
            if report is not None and card.pr in entries and (change := _change(entries[card.pr], new)):
                report.append(f"#{card.pr}: {change}")
            entries[card.pr] = new
            written += 1
        lines = [HEADER, f"{SEAL}{section_digest(entries)}\n", "version: 1\n", "cards:\n"]
        for pr in sorted(entries):
            lines.append(f"  {pr}:\n    numbers: {_flow(entries[pr]['numbers'])}\n"
                         f"    files: {_flow(entries[pr]['files'])}\n"
                         + (f"    gpus: {_flow(entries[pr]['gpus'])}\n" if "gpus" in entries[pr] else ""))
        return "".join(lines)

    record(root / CHECKED_LOCK, text)
    return written


def _change(old: dict, new: dict) -> str:
    """What re-recording changes in an entry: "numbers +['1.9 factor'] -['2.6 percent']" ("" when nothing)."""
    parts = []
    for key in ("numbers", "files", "gpus"):
        added = sorted(set(map(str, new.get(key, []))) - set(map(str, old.get(key, []))))
        gone = sorted(set(map(str, old.get(key, []))) - set(map(str, new.get(key, []))))
        if added or gone:
            parts.append(f"{key} " + " ".join(f"{sign}{items}" for sign, items in (("+", added), ("-", gone)) if items))
    return "; ".join(parts)


def _flow(items: list[str]) -> str:
    return "[" + ", ".join(f"'{str(i).replace(chr(39), chr(39) * 2)}'" for i in items) + "]"


def _entry(card: Card, ctx) -> dict | None:
    """The card's entry (None: no lock, no entry, or a lock that cannot be read: D311 says so)."""
    if "checked" not in ctx.memo:
        try:
            ctx.memo["checked"] = read_checked(ctx.project.root)
        except LockError:
            ctx.memo["checked"] = {}
    return ctx.memo["checked"].get(card.pr)


def vouched_files(card: Card, ctx) -> set[str]:
    """The files cards/checked.lock records for ``card``: those a check of the PR's own files changed vouched for."""
    entry = _entry(card, ctx)
    return set(map(str, entry.get("files") or [])) if entry else set()


def _recorded(entry: dict) -> list[tuple[str, str | None]]:
    return [(n.split(" ")[0], n.split(" ")[1] if " " in n else None) for n in map(str, entry["numbers"])]


@rule("D236", "a measured figure or a GPU in validation.claims that cards/checked.lock (the claims as last checked "
              "against the PR's page) does not hold", scope="card")
def unchecked_claim_figure(card: Card, doc, ctx) -> Iterator[Finding]:
    """A claim credits a figure to the PR, its author or its thread ("The author measured 1.9x faster decode on
    H200"), and nothing stored here holds the PR's words to check it. cards/checked.lock records the numbers of each
    card's claims as they stood when someone checked them against the PR's page; a measured figure (a number with a
    unit of time, ratio, size or rate, or a benchmark score) that is none of them, as written or rounded within 5%
    (D235's reading), was added or changed since: invented, or unchecked. Also held: a figure of the PR's change
    (its cached diff, or the shipping release's files); a sentence citing this project's results or runtime is
    D517's. The GPU a claim names ("H100", "GB200") is held the same way: "measured on an H20-3e" turned into
    "H100" moves the figure to another machine (an entry recorded before GPUs were is not judged for them). A card
    with no entry is not judged (`dossier lint --record` adds it); reworded claims with the same figures pass."""
    from dossier.lint.grounds import ground_texts

    entry = _entry(card, ctx)
    if entry is None:
        return
    held = _recorded(entry)
    diff: list[tuple[str, str | None]] | None = None
    for i, text in enumerate(card.claims):
        path = f"validation.claims[{i}]"
        for sentence in prose.sentences(" ".join(text.split())):
            if _OUR_RESULTS.search(sentence) or _OURS.search(sentence):
                continue
            for m, unit in figures(sentence):
                value = m.group("num").replace(",", "")
                if _held(value, unit, held):
                    continue
                if diff is None:
                    diff = [n for t in ground_texts(card, ctx) for n in _evidence_numbers(t)]
                if _held(value, unit, diff):
                    continue
                yield Finding(path, f"{m.group(0).strip()!r} in {_quote(sentence, m.start())} is not among the figures "
                                    f"recorded for #{card.pr}'s claims in {CHECKED_LOCK}: a figure no check of the PR's "
                                    "page vouches for", hint=f"check it against the PR's description and thread; then "
                                                             f"`dossier lint --record cards/{card.pr}.yaml`")
                break
            else:
                yield from _unchecked_setup(card, path, sentence, held)
        theirs = " ".join(_their_sentences(text))
        for gpu in (g for g in gpus(theirs) if "gpus" in entry and not _gpu_held(g, entry["gpus"])):
            yield Finding(path, f"{gpu} is not among the GPUs recorded for #{card.pr}'s claims in {CHECKED_LOCK} "
                                f"({', '.join(entry['gpus']) or 'none'}): a device no check of the PR's page vouches "
                                "for", hint=f"check it against the PR's description and thread; then `dossier lint "
                                            f"--record cards/{card.pr}.yaml`")


def _their_sentences(text: str) -> Iterator[str]:
    """The sentences of ``text`` that speak of the PR's own runs: not this project's results, not a hedged device."""
    return (t for t in prose.sentences(" ".join(text.split()))
            if not (_OUR_RESULTS.search(t) or _OURS.search(t) or _HEDGED.search(t)))


def _gpu_held(gpu: str, held: Iterable[str]) -> bool:
    return any(r == gpu or r.startswith(f"{gpu}-") for r in held)  # "the 141 GB H20" of an H20-3e


@rule("D345", "a GPU the card's motivation or implementation names that neither cards/checked.lock (the claims' GPUs "
              "as last checked against the PR's page) nor the claims hold", scope="card")
def unchecked_prose_gpu(card: Card, doc, ctx) -> Iterator[Finding]:
    """D236 holds the claims' GPUs to the lock; the story around them can move the PR's run to another machine
    ("failed in the MTP draft on GB300" turned into "GB200", "prefill on one B200" into "H200") with no figure
    beside it for D231 to pin. Judged only for a card whose PR page named a GPU (the lock holds one), so a card
    whose source names none may still speak of GPU classes; a sentence about this project's own runs, a hedged
    one ("no GPU is named"), or one listing three or more GPUs (a class: "SM100 (B200, GB200, GB300)") passes."""
    entry = _entry(card, ctx)
    if entry is None or not entry.get("gpus"):
        return
    held = [*map(str, entry["gpus"]), *gpus(" ".join(card.claims))]
    for name in ("motivation", "implementation"):
        for sentence in _their_sentences(getattr(card, name)):
            named = gpus(sentence)
            for gpu in (g for g in named if len(named) < 3 and not _gpu_held(g, held)):
                yield Finding(f"{name}#value", f"{gpu} in {_quote(sentence, max(0, sentence.find(gpu)))} is not among the GPUs "
                                               f"recorded for #{card.pr}'s claims in {CHECKED_LOCK} "
                                               f"({', '.join(map(str, entry['gpus']))}) nor named by its claims: a "
                                               "device no check of the PR's page vouches for",
                              hint="name the GPU the PR's page gives; if it names this one too, add it to a claim "
                                   f"and `dossier lint --record cards/{card.pr}.yaml`")


#: numbers that name, not measure: a PR (#22876), a release (0.5.13), a day (2026-07-02/03), a model (Qwen3.5-397B-A17B)
_NOT_SETUP = re.compile(r"#\d+|\bv?\d+\.\d+\.\d+(?:\.post\d+)?|\b\d{4}-\d{2}-\d{2}(?:/\d{2})?|"
                        r"\b[\w./-]*Qwen[\w./-]*", re.IGNORECASE)


def _unchecked_setup(card: Card, path: str, sentence: str, held: list[tuple[str, str | None]]) -> Iterator[Finding]:
    """A bare number of a claim's setup ("random 8000 in / 1500 out, 200 prompts", "--mem-fraction-static 0.82",
    "concurrency 16") that the lock does not hold as written: the figures beside it were measured with another
    setup. The lock records every number of the claims, so a reworded claim keeps them; one finding a sentence."""
    values = {v for v, _ in held}
    for value, unit in _evidence_numbers(_NOT_SETUP.sub(" ", sentence)):
        if unit is None and value not in values:
            yield Finding(path, f"{value} in {_quote(sentence, sentence.find(value))} is not among the numbers "
                                f"recorded for #{card.pr}'s claims in {CHECKED_LOCK}: a setup no check of the PR's page "
                                "vouches for", hint=f"check it against the PR's description and thread; then "
                                                    f"`dossier lint --record cards/{card.pr}.yaml`")
            return


@rule("D337", "a file listed under files (runtime, tests, docs) that cards/checked.lock (the files as last checked "
              "against the PR's page) does not hold", scope="card")
def unchecked_listed_file(card: Card, doc, ctx) -> Iterator[Finding]:
    """A test path that exists in SGLang but belongs to another PR (test/registered/4-gpu-models/test_qwen35_models.py
    on a Qwen3-Next loader card) passes every check of its spelling, and no wheel ships test/: offline, nothing but
    the PR's file list says which tests it touched. cards/checked.lock records the files each card listed when
    someone checked them against the PR's page; a listed file that is not among them was added since, unchecked.
    With the PR's diff cached, D306 holds the list to the diff itself. A card with no entry is not judged."""
    entry = _entry(card, ctx)
    if entry is None:
        return
    held = set(map(str, entry["files"]))
    for group in ("runtime", "tests", "docs"):
        for i, path in enumerate(card.files[group]):
            if path not in held:
                yield Finding(f"files.{group}[{i}]", f"{path} is not among the files recorded for #{card.pr} in "
                                                     f"{CHECKED_LOCK}: no check of the PR's files changed vouches "
                                                     "for it", hint="check it against the PR's files changed; then "
                                                                    f"`dossier lint --record cards/{card.pr}.yaml`")


@rule("D338", "a card with no entry in cards/checked.lock: no check of the PR's page vouches for its claims and files",
      scope="card")
def unchecked_card(card: Card, doc, ctx) -> Iterator[Finding]:
    """D236 and D337 hold a card to what someone checked against the PR's page; a card with no entry (a new card, or
    an entry deleted) is held to nothing, and an invented figure or test in it passes. Once its claims and files
    are checked against the PR's page, `dossier lint --record cards/N.yaml` records it. A project without a
    checked.lock is not judged, nor one D311 reports unreadable."""
    if _entry(card, ctx) is None and ctx.memo["checked"]:
        yield Finding("validation.claims", f"#{card.pr} has no entry in {CHECKED_LOCK}: nothing checked its claims' "
                                           "figures and listed files against the PR's page",
                      hint=f"check them against the PR's description, thread and files changed; then "
                           f"`dossier lint --record cards/{card.pr}.yaml`")


@rule("D344", "cards/checked.lock is not the one `dossier lint --record` sealed (an entry added or edited by hand)",
      scope="project")
def broken_checked_seal(ctx) -> Iterator[Finding]:
    """`dossier lint --record` writes the sha256 of the entries in the lock's header. An entry edited by hand (a file
    added to a card's record, a figure changed) makes D337 and D236 vouch for what no check of the PR's page saw; the
    seal makes the edit an error. A lock without the line (written before seals) is not judged; one that cannot be
    read is D311's."""
    from dossier.cards import YamlDoc
    from dossier.files import read_bytes

    path = ctx.project.root / CHECKED_LOCK
    try:
        text = read_bytes(path).decode(errors="replace")
        entries = read_checked(ctx.project.root)
    except (OSError, LockError):
        return
    seal, now = seal_in(text, SEAL), section_digest(entries)
    if seal is not None and seal[0] != now:
        yield Finding("cards", f"the entries are not the ones `dossier lint --record` sealed (sha256 {seal[0][:12]}, "
                               f"now {now[:12] if now else 'empty'}): an entry was added or edited by hand, and D236 and "
                               "D337 would vouch for what no check of the PR's page saw",
                      hint=f"restore the lock (git diff {CHECKED_LOCK}), or check the cards against their PR pages and "
                           "re-record them: dossier lint --record cards/N.yaml",
                      doc=YamlDoc(path), at=(seal[1], 1))
