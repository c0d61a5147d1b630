"""What GitHub recorded of a PR, as the project's stored snapshot has it (cards/pr-facts.json): its title, state,
merge day (or opening day, if unmerged), how many files it changed and how many lines it added and removed, and its
main files with the names each defines or touches. A copy of the shared PR facts snapshot; lint (D414) holds a card's
title, state, merged_at and the PR's totals its prose gives to it, and `dossier lint --record` refuses to record a
card in cards/checked.lock while they conflict. The snapshot covers some PRs only; a PR it lacks is not judged."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dossier import prose
from dossier.files import read_bytes
from dossier.locks import LockError
from dossier.model import MAX_PR, STATES
from dossier.spec import REL_PATH

PR_FACTS = Path("cards") / "pr-facts.json"
#: words that count one file: "a single file", "the PR's only file"
_ONE_FILE = {"a single": 1, "only": 1}


@dataclass(frozen=True)
class PrFacts:
    number: int
    title: str
    state: str  # merged, open or closed
    date: dt.date  # the merge day of a merged PR
    changed_files: int
    additions: int
    deletions: int
    #: repository path of a main file -> (lines added, lines removed, the names the PR's hunks define or touch)
    files: dict[str, tuple[int, int, tuple[str, ...]]]

    @property
    def symbols(self) -> set[str]:
        return {name for _, _, names in self.files.values() for name in names}


def read_facts(root: Path) -> dict[int, PrFacts]:
    """The snapshot's PRs by number (empty without a snapshot); raises LockError when it cannot be read: not a
    regular file (a pipe is never opened to wait on), not JSON, a field given twice in one object (JSON keeps the
    last), a field the snapshot does not write (`main_file` for `main_files`: the files were dropped unseen), a field
    of another type than the snapshot writes, a PR given twice, a number no PR has, a main file outside the
    repository, or no entry at all (an emptied snapshot judges no card)."""
    path = root / PR_FACTS
    if not os.path.lexists(path):  # a link that leads nowhere is a snapshot that cannot be read, not no snapshot
        return {}
    fix = f"take the committed copy (git checkout -- {PR_FACTS})"
    try:
        data = json.loads(read_bytes(path).decode("utf-8"), object_pairs_hook=_once_each)
    except OSError as exc:
        raise LockError(f"{PR_FACTS}: cannot read the file: {exc.strerror or exc}; {fix}") from None
    except _GivenTwice as exc:
        raise LockError(f"{PR_FACTS}: not a PR facts snapshot: {exc}; {fix}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        why = "nested too deep" if isinstance(exc, RecursionError) else f"{type(exc).__name__}: {exc}"
        raise LockError(f"{PR_FACTS}: not a PR facts snapshot: not valid JSON in UTF-8 ({why}); {fix}") from None
    if not isinstance(data, list):
        raise LockError(f"{PR_FACTS}: not a PR facts snapshot: {_JSON.get(type(data), type(data).__name__)}, not "
                        f"a list of PR entries; {fix}")
    if not data:  # an emptied snapshot: D414 would judge no card against GitHub's record, silently
        raise LockError(f"{PR_FACTS}: not a PR facts snapshot: it holds no PR entry; {fix}")
    out: dict[int, PrFacts] = {}
    for i, e in enumerate(data, 1):
        try:
            facts = _entry(e)
        except (ValueError, TypeError, KeyError) as exc:
            why = f"no {exc.args[0]!r} field" if isinstance(exc, KeyError) else str(exc)
            raise LockError(f"{PR_FACTS}: not a PR facts snapshot: entry {i}: {why} (an entry is {{number, title, "
                            "state, date, changed_files, additions, deletions, main_files: [{path, status, "
                            f"additions, deletions, symbols}}]}}); {fix}") from None
        if facts.number in out:
            raise LockError(f"{PR_FACTS}: entry {i}: PR {facts.number} is given twice, and one of the two would be lost; "
                            f"{fix}")
        out[facts.number] = facts
    return out


#: the fields of an entry and of one of its main files, as the snapshot writes them
ENTRY_FIELDS = ("number", "title", "state", "date", "changed_files", "additions", "deletions", "main_files")
FILE_FIELDS = ("path", "status", "additions", "deletions", "symbols")


class _GivenTwice(ValueError):
    """A field given twice in one JSON object."""


def _once_each(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object whose fields are each given once (_GivenTwice naming one given twice: JSON keeps the last, and
    a field a merge left twice read as either side's)."""
    out = dict(pairs)
    if len(out) < len(pairs):
        seen = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise _GivenTwice(f"field {twice[:40]!r} is given twice in one object, and one of the two would be lost")
    return out


def _known_fields(obj: dict, fields: tuple[str, ...], what: str) -> None:
    """ValueError naming a field of ``obj`` that the snapshot does not write."""
    unknown = [k for k in obj if k not in fields]
    if unknown:
        raise ValueError(f"{what} has a field the snapshot does not write, {unknown[0][:40]!r} (what it holds would "
                         f"be skipped)")


_JSON = {dict: "an object", list: "a list", str: "a string", int: "a whole number", float: "a fraction",
         bool: "true or false", type(None): "null"}


def _entry(e: object) -> PrFacts:
    """One PR of the snapshot, each field of the type the snapshot writes (TypeError, KeyError otherwise): a
    string's letters are no list of names, true is no PR number."""
    def typed(value, kind, what):
        if not isinstance(value, kind) or isinstance(value, bool):
            raise TypeError(f"{what} is {_JSON.get(type(value), type(value).__name__)}, not {_JSON[kind]}")
        return value

    typed(e, dict, "the entry")
    _known_fields(e, ENTRY_FIELDS, "the entry")
    number = typed(e["number"], int, "number")
    if not 1 <= number <= MAX_PR:  # no card has such a number: the entry's record would judge no card
        raise ValueError(f"number is {number}, not a PR number (1 to {MAX_PR:,})")
    files = {}
    for f in typed(e.get("main_files") or [], list, "main_files"):
        typed(f, dict, "a main file")
        _known_fields(f, FILE_FIELDS, f"main file {str(f.get('path'))[:80]!r}")
        symbols = typed(f.get("symbols") or [], list, f"the symbols of {f.get('path')!r}")
        # a path given twice: the last entry stood for the file unseen, and D414 held the card's lines to it alone
        if not re.match(REL_PATH, typed(f["path"], str, "a main file's path")):
            raise ValueError(f"main file {f['path'][:80]!r} is not a path inside the repository")
        if f["path"] in files:
            raise ValueError(f"main file {f['path'][:80]!r} is given twice, and one of the two would be lost")
        files[f["path"]] = (
            typed(f["additions"], int, "a main file's additions"), typed(f["deletions"], int, "a main file's deletions"),
            tuple(typed(n, str, f"a symbol of {f['path']!r}") for n in symbols))
    state = typed(e["state"], str, "state")
    if state not in STATES:  # GraphQL's "MERGED" or a typo: D414 judged the state and merge day of none of them
        raise ValueError(f"state is {state[:40]!r}, not one of {', '.join(STATES)}")
    counts = {k: typed(e[k], int, k) for k in ("changed_files", "additions", "deletions")}
    for where, n in [*counts.items(), *((f"{p!r}'s {k}", v) for p, (a, d, _) in files.items()
                                        for k, v in (("additions", a), ("deletions", d)))]:
        if n < 0:
            raise ValueError(f"{where} is {n}, below 0")
    return PrFacts(number, typed(e["title"], str, "title"), state,
                   dt.date.fromisoformat(typed(e["date"], str, "date")), counts["changed_files"],
                   counts["additions"], counts["deletions"], files)


def _bare_title(title: str) -> str:
    """A title without its leading [Tag]s, case and spacing: '[codex] Enable X' and 'Enable  x' are one title."""
    return " ".join(re.sub(r"^(?:\s*\[[^\]]*\])+", "", title).split()).casefold()


_COUNT_WORDS = prose.NUMBER_WORDS | _ONE_FILE


def _count(word: str) -> int:
    return _COUNT_WORDS[word.lower()] if word.lower() in _COUNT_WORDS else int(word.replace(",", ""))


_N = r"(?P<{}>\d[\d,]*|" + "|".join(prose.NUMBER_WORDS) + r")"
#: "+62/-1" (or "+62 / −1", "+62, -1", "+62 -1", a typeset minus or an en dash), its groups named as given
_LINES_AS = r"\+\s?(?P<{}>\d[\d,]*)(?:\s*[/,]\s*|\s+)[-\u2212\u2013]\s?(?P<{}>\d[\d,]*)"
_LINES = _LINES_AS.format("add", "del")
#: the PR's totals as a card gives them: "19 files (+3224/-8)", "Four files, +29/-18", "+79/-26 (lines) over 10
#: files", "13 files changed", "three files are changed by the PR", "the PR touches 19 files", "a single file", "the
#: PR's only file", "the PR adds 170 lines and removes 17", "170 additions and 17 deletions"; a figure after a path is
#: that file's, not the PR's, and lines added "to x.py" are x.py's
_NOT_A_FILE = r"(?!\s+(?:to|in|into|from|of)\b)"
#: "... across 19 files" after lines
_ACROSS = r"\s+(?:over|across|in)\s+" + _N.format("files") + r"\s+files\b"
TOTALS = [
    re.compile(r"(?<![\w.+/-])(?P<files>\d[\d,]*|" + "|".join(prose.NUMBER_WORDS) + r"|a single|(?<=PR's )only)"
               r"\s+(?:changed\s+)?files?(?:\s+changed|\s+(?:are|were)\s+(?:changed|touched|modified|edited)\s+"
               r"(?:by|in)\s+(?:the|this)\s+(?:PR|change|diff|patch))?\s*[,;(:]?\s*(?:" + _LINES + r")?",
               re.IGNORECASE),
    re.compile(r"(?<![\w/])" + _LINES + r"(?:\s+lines)?\)?" + _ACROSS, re.IGNORECASE),
    re.compile(r"\b(?:the PR|this PR|the diff|the change|the patch)\s+(?:adds|added)\s+(?P<add>\d[\d,]*)\s+"
               r"(?:new\s+)?lines?(?:\s+and\s+(?:removes|removed|deletes|deleted|drops|dropped)\s+(?P<del>\d[\d,]*)"
               r"(?:\s+lines?)?)?" + _NOT_A_FILE + f"(?:{_ACROSS})?", re.IGNORECASE),
    re.compile(r"(?<![\w.+/-])(?P<add>\d[\d,]*)\s+additions?(?:\s+and\s+(?P<del>\d[\d,]*)\s+deletions?)?" + _NOT_A_FILE
               + f"(?:{_ACROSS})?", re.IGNORECASE),
]
#: what makes "N files" the PR's count: a verb of the PR's change (an "only" or "just" may follow it), "changed",
#: the PR, or the lines beside it
_PR_COUNT = re.compile(r"(?:\b(?:touch(?:es|ed)?|chang(?:es|ed)|modif(?:ies|ied)|spans?|edits?|covers?|rewrites?|"
                       r"PR metadata|the PR)(?:\s+(?:only|just|exactly))?|\bPR's)\W*$", re.IGNORECASE)
#: a count of files beside one the sentence sets apart: "one file besides linear.py", "Apart from x.py, ..."
_SET_APART = re.compile(r"\b(?:besides?|apart from|aside from|other than|except|in addition to)\b", re.IGNORECASE)


#: one file's lines: "python/sglang/srt/models/qwen3_next.py (+62/-1)", "fused_recurrent.py, +2/-2)", "x.py gets
#: +83/-11", and before it, "a 4-line change (+2/-2) in qwen3_next.py", "a +4/-4 line change in x.py", "(+4 / -4
#: lines) in x.py", "+4/-4 lands in x.py", "+2/-6 (x.py)", "(+2/-6, x.py)"
FILE_LINES = re.compile(r"(?<![\w./-])(?P<path>[\w./-]+\.\w+)\)?\s*(?:\(|,|:)?\s*(?:changed\s*\(?\s*)?"
                        r"(?:(?:is|gets|got|takes|took|sees|saw|accounts for)\s+)?" + _LINES + "|"
                        r"(?<![\w/])" + _LINES_AS.format("add2", "del2")
                        + r"(?:\s+lines?)?\)?(?:\s+lines?(?:\s+(?:change|edit|diff))?)?(?:\s+(?:lands?|landed|goes|went))?"
                        r"\s+(?:in|to)\s+(?:the\s+)?`?(?P<path2>[\w./-]+\.\w+)\b`?(?!\s+(?:and|plus|with|together)\b)|"
                        r"(?<![\w/])" + _LINES_AS.format("add3", "del3") + r"\s*(?:,\s*|\(\s*)`?(?P<path3>[\w./-]+\.\w+)`?\)")
#: one file's line count in words: "qwen3_next.py (45 lines)", "gdn_backend.py: small dispatcher update (3 lines)",
#: "qwen3_next.py (1 line added, 7 removed)", "(gdn_cutedsl.py, 47 lines)", "test_x.py drops 6 lines", "x.py (-54
#: lines)"; a count after other words ("x.py now has 900 lines") is the file's length, not the change
FILE_COUNT = re.compile(r"(?<![\w./-])(?P<path>[\w./-]+\.\w+)(?P<sep>\s*\(|:(?: [a-z][\w-]*){1,4} \(|, |"
                        r" (?P<verb>adds|gains|drops|loses|removes|deletes|sheds) )(?P<about>about |~)?"
                        r"(?P<sign>[+\-\u2212])?(?P<n>\d[\d,]*) lines?"
                        r"(?: (?P<how>added|removed|deleted))?(?:, (?P<m>\d[\d,]*) (?:removed|deleted))?(?![\w/-])",
                        re.IGNORECASE)
#: ... and before the path: "adds 21 lines to x.py", "deletes 54 lines from x.py"
COUNT_TO_FILE = re.compile(r"\b(?P<verb>adds|added|deletes|deleted|removes|removed|drops|dropped|cuts) (?P<about>about |~)?"
                           r"(?P<n>\d[\d,]*) (?:new )?lines? (?:to|from|in|into|of) (?:the )?`?(?P<path>[\w./-]+\.\w+)",
                           re.IGNORECASE)
#: a verb of lines removed, or added: which side of a file's change a count is
_REMOVING = ("drop", "los", "remov", "delet", "shed", "cut")
_ADDING = ("add", "gain")
#: the verb of the clause before a path that says which side its count is: "deleted from x.py (45 lines)"
_REMOVED_FROM = re.compile(r"\b(?:delet|remov|dropp|cut)\w* from (?:the )?$", re.IGNORECASE)
#: a word of the PR's change in the clause before a path (or in the words after its colon): what makes a bare
#: "x.py (45 lines)" the change's count, not the file's length ("the model file x.py (about 1,100 lines) keeps ...")
_CHANGE_WORD = re.compile(r"\b(?:touch|chang|modif|edit|add(?:s|ed|ing)?\b|delet|remov|dropp?|cut\b|mov(?:e|es|ed|ing)\b|"
                          r"updat|rewr|patch|fix|refactor|new\b|the PR\b|diff)", re.IGNORECASE)
#: where a clause starts: the sentence, a colon, or where :data:`prose.CLAUSE` starts one
_CLAUSE_START = re.compile(rf"{prose.CLAUSE.pattern}|:")
#: a count credited to the description before the path: "Per the description, x.py (10 lines) changes"
_CREDITED = re.compile(r"\b(?:per|according to)\s+(?:the\s+)?(?:PR\s+)?(?:description|an earlier|the older|the author)\b",
                       re.IGNORECASE)
_NOT_GITHUB = re.compile(r"\s*[;,]?\s*(?:per|in|from|according to)\s+(?:the\s+)?(?:description|an earlier|the older|"
                         r"the author)", re.IGNORECASE)


def totals(text: str) -> Iterator[tuple[re.Match, int | None, int | None, int | None]]:
    """(match, files, additions, deletions) for each total of a PR's change in ``text`` (None: not given). A
    figure in quotation marks ("the description's '2 files, ~15 lines'") or credited to the description is the
    author's summary, not GitHub's count, and is skipped; so is a count of files in a sentence that sets a file apart
    ("one file besides linear.py")."""
    for pattern in TOTALS:
        for m in pattern.finditer(text):
            files = m.group("files") if not _SET_APART.search(text) else None  # "one file besides linear.py"
            add, dele = m.group("add"), m.group("del")
            before = text[max(0, m.start() - 40):m.start()]
            if add is None and (files is None or ("changed" not in m.group(0).lower() and not _PR_COUNT.search(before))):
                continue  # "the 4 files listed above": a count of the card's own, not the PR's
            if _not_githubs(text, m):
                continue
            yield m, _count(files) if files else None, \
                int(add.replace(",", "")) if add else None, int(dele.replace(",", "")) if dele else None


#: prose that calls the merge or its day unknown: "merged_at is a stand-in", "the merge is inferred", "merged_at is
#: an upper bound" (or a lower one, "no earlier than", "at the latest"), "the day is a stand-in inside 2025-10-04 and 2025-10-09", "no dated public source gives the merge",
#: "its opening day serves as merged_at, which lies between 2026-02-13 and 2026-02-23": a word for the merge and a
#: word for a hedge in one sentence
_MERGE_WORD = re.compile(r"\b(?:merged?(?:_at)?|merge (?:day|date)|the day)\b", re.IGNORECASE)
_HEDGE_WORD = re.compile(r"\b(?:stand-in|(?:upper|lower) bound|inferred|unconfirmed|not (?:a )?known(?: date)?|bounded|"
                         r"no (?:earlier|later) than|at the (?:earliest|latest))\b"
                         r"|\bno dated (?:public )?source\b|\b(?:serves?|stands?) (?:in )?(?:as|for)\b|\blies between\b",
                         re.IGNORECASE)


def _merge_hedge(sentence: str) -> re.Match | None:
    """The hedge word's match when the sentence also names the merge (None otherwise)."""
    hedge = _HEDGE_WORD.search(sentence)
    return hedge if hedge is not None and _MERGE_WORD.search(sentence) else None


def prose_fields(card) -> Iterator[tuple[str, str]]:
    """(field path, text) of each prose field of ``card`` that can speak of its PR's merge and totals."""
    yield from (("motivation", card.motivation), ("implementation", card.implementation),
                *((f"validation.claims[{i}]", t) for i, t in enumerate(card.claims)),
                *((f"corrections[{i}]", t) for i, t in enumerate(card.corrections)))


#: prose that doubts the merge itself, not its day: "the merge is inferred", "this PR's own merge is unconfirmed",
#: "the PR's merge is not recorded", "state merged is inferred from the release trees", "that it came through this PR
#: is inferred"
_MERGE_ITSELF = re.compile(r"\b(?:(?:the|its|this)\s+(?:PR's\s+)?(?:own\s+)?merge|state merged|"
                           r"that it came through this PR)\s+(?:is|was|stays|remains)\s+"
                           r"(?:(?:itself|only|also|thus|so)\s+)?(?:inferred|unconfirmed|not (?:confirmed|recorded))\b",
                           re.IGNORECASE)


def merge_inferred(card) -> bool:
    """Whether the card's prose says its PR's merge (or that the change came through this PR) is inferred, not
    recorded: the routing pages then say so beside the release that shipped the change."""
    return card.state == "merged" and any(
        _MERGE_ITSELF.search(sentence) and ("this PR" in sentence or not cites_another(card, sentence))
        for _, text in prose_fields(card) for sentence in prose.sentences(" ".join(text.split())))


def merge_day_hedged(card) -> bool:
    """Whether the card's prose calls its own merge day a stand-in, a bound or inferred (the manual then marks the
    day, which otherwise reads as GitHub's record)."""
    if card.merged_at is None:
        return False
    return any(_merge_hedge(sentence) and ("merged_at" in sentence or not cites_another(card, sentence))
               for _, text in prose_fields(card) for sentence in prose.sentences(" ".join(text.split())))


#: a PR cited by number
_CITED = re.compile(r"#(\d{3,6})\b")


def cites_another(card, sentence: str) -> bool:
    """A sentence citing another PR may give that PR's merge or totals, not this card's."""
    return any(n != str(card.pr) for n in _CITED.findall(sentence))


def _own_part(card, sentence: str) -> str | None:
    """The part of a sentence that speaks of the card's PR: all of it where it cites no other PR, what follows "this
    PR" after the last other citation ("Unlike #19775, this PR touches 4 files"), else None."""
    others = [m for m in _CITED.finditer(sentence) if m.group(1) != str(card.pr)]
    if not others:
        return sentence
    own = re.search(r"\bthis PR\b", sentence[others[-1].end():])
    return sentence[others[-1].end() + own.start():] if own else None


def conflicts(card, facts: PrFacts) -> Iterator[tuple[str, str]]:
    """(field path, message) for each fact of ``card`` that GitHub's recorded ``facts`` contradict."""
    if _bare_title(card.title) != _bare_title(facts.title):
        yield "title", f"the title is not #{facts.number}'s: GitHub's record has {facts.title!r}"
    if facts.state == "merged" and card.state != "merged":
        yield "state", f"#{facts.number} is recorded merged on {facts.date}, not {card.state}"
    elif facts.state == "merged" and card.merged_at is not None and card.merged_at != facts.date:
        yield "merged_at", f"merged_at {card.merged_at} is not the day GitHub records #{facts.number} merged, " \
                           f"{facts.date}"
    for path, text in prose_fields(card):
        for sentence in prose.sentences(" ".join(text.split())):
            if (sentence := _own_part(card, sentence)) is None:
                continue
            if facts.state == "merged" and card.merged_at == facts.date and (m := _merge_hedge(sentence)):
                yield path, f"{m.group(0)!r} hedges #{facts.number}'s merge, but GitHub records its merge day, " \
                            f"{facts.date}: say so"
            for m, files, add, dele in totals(sentence):
                wrong = [f"{what} {given}" for what, given, real in (
                    ("files", files, facts.changed_files), ("+", add, facts.additions), ("-", dele, facts.deletions))
                    if given is not None and given != real]
                if wrong:
                    yield path, f"{m.group(0).strip()!r} is not #{facts.number}'s change: GitHub records " \
                                f"{facts.changed_files} files, +{facts.additions}/-{facts.deletions}"
            for m in FILE_LINES.finditer(sentence):
                where = m.group("path") or m.group("path2") or m.group("path3")
                named = [f for f in facts.files if f == where or f.endswith("/" + where)]
                if len(named) != 1 or _not_githubs(sentence, m):
                    continue
                real = facts.files[named[0]]
                add, dele = (m.group("add") or m.group("add2") or m.group("add3"),
                             m.group("del") or m.group("del2") or m.group("del3"))
                if (int(add.replace(",", "")), int(dele.replace(",", ""))) != real[:2]:
                    yield path, f"{m.group(0).strip()!r}: GitHub records {named[0]} in #{facts.number} at " \
                                f"+{real[0]}/-{real[1]}"
            for m in (*FILE_COUNT.finditer(sentence), *COUNT_TO_FILE.finditer(sentence)):
                named = [f for f in facts.files if f == m.group("path") or f.endswith("/" + m.group("path"))]
                if len(named) == 1 and _the_change(m, sentence) \
                        and not _count_holds(m, sentence[:m.start()], *facts.files[named[0]][:2]):
                    add, dele = facts.files[named[0]][:2]
                    yield path, f"{m.group(0).strip()!r}: GitHub records {named[0]} in #{facts.number} at +{add}/-{dele}"


def _not_githubs(text: str, m: re.Match) -> bool:
    """Whether a count is the author's, not GitHub's: inside quotation marks ('the description says "x.py (10
    lines)"'), or credited to the description after it ("(10 lines) per the description") or before it ("Per the
    description, x.py (10 lines) changes")."""
    return bool(text.count('"', 0, m.start()) % 2 or _NOT_GITHUB.match(text, m.end())
                or _CREDITED.search(text, 0, m.start()))


def _the_change(m: re.Match, sentence: str) -> bool:
    """Whether a :data:`FILE_COUNT` match counts the PR's change to the file, not its length or something else: not
    the author's words (:func:`_not_githubs`); ", N lines" only inside brackets ("(gdn_cutedsl.py, 47 lines)", not
    "x.py, 2 lines of the import block being new"); a bare "(N lines)" or "x.py: some words (N lines)" only where
    a word of the change stands in the clause before the path or in those words ("deleted from x.py (45 lines)",
    "x.py: small dispatcher update (3 lines)"; not "the model file x.py (about 1,100 lines) keeps its structure")."""
    if _not_githubs(sentence, m):
        return False
    clause = sentence[max((c.end() for c in _CLAUSE_START.finditer(sentence, 0, m.start())), default=0):m.start()]
    if prose.RELEASE.search(clause):
        return False  # "In 0.5.23 the kernel moved to x.py (75 lines)": that release's file
    got = m.groupdict()
    sep = got.get("sep") or ""
    if sep == ", ":
        return sentence[:m.start()].rstrip().endswith("(")
    if got["verb"] or got.get("how") or got.get("m") or got.get("sign"):
        return True
    return bool(_CHANGE_WORD.search(clause) or _CHANGE_WORD.search(sep))


def _count_holds(m: re.Match, before: str, add: int, dele: int) -> bool:
    """Whether a file's line count in words (a :data:`FILE_COUNT` match) is one GitHub's record gives: the lines
    removed where a verb says so ("deleted from x.py (45 lines)", "x.py drops 6 lines", "7 removed"), those added
    where one says that, else either side or both together; "about" allows a tenth either way."""
    got = m.groupdict()
    n = int(got["n"].replace(",", ""))
    verb, how, sign = (got["verb"] or "").lower(), (got.get("how") or "").lower(), got.get("sign") or ""
    if got.get("m"):
        return (n, int(got["m"].replace(",", ""))) == (add, dele)
    if how in ("removed", "deleted") or verb.startswith(_REMOVING) or sign in ("-", "\u2212") \
            or _REMOVED_FROM.search(before):
        real = {dele}
    elif how == "added" or verb.startswith(_ADDING) or sign == "+":
        real = {add}
    else:
        real = {add, dele, add + dele}
    slack = max(2, n // 10) if m.group("about") else 0
    return any(abs(n - r) <= slack for r in real)
