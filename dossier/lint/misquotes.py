"""D637: a quoted SGLang message or a metric name that no release prints, one word (or one character of a metric's
name) off one that a release prints: a misquote a reader's grep of their log does not find."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from difflib import SequenceMatcher

from dossier.lint.claims import _from_tree, _locate, surface
from dossier.lint.code_texts import flat_texts, nth
from dossier.lint.error_sources import METRIC, error_messages, quoted, recorded_messages
from dossier.lint.paths import one_edit
from dossier.lint.registry import Finding, rule
from dossier.printed import FIELD, MESSAGES_LOCK, printing, templates_of, words_of

#: the words before a quote that deny it or set it aside: "not '...'", "no longer prints '...'", "instead of '...'"
_DENIED = re.compile(r"\b(?:not|never|no longer|instead of|rather than)\s+(?:\w+\s+)?['\"`(]*$", re.IGNORECASE)
#: a word of a log line that stands for a value: a %-place, a brace, a value an f-string put in
_VALUE = re.compile(rf"%|[{{}}]|{FIELD}")


def _words(token: str) -> list[str]:
    return re.findall(r"\w+", token.lower())


def _edits(tokens: list[str]) -> Iterator[tuple[list[str], list[str], list[str]]]:
    """(before, changed, after) for each run of at most two words after the quote's first that a misquote may have
    changed, leaving at least three words as they are."""
    for i in range(1, len(tokens) + 1):
        for k in (0, 1, 2) if i < len(tokens) else (1, 2):  # nothing added at the end: _one_off never takes it
            if i + k <= len(tokens) and len(tokens) - k >= 3:
                yield tokens[:i], tokens[i:i + k], tokens[i + k:]


def _one_off(ours: list[str], theirs: list[str], inside: bool) -> bool:
    """Whether ``theirs`` is ``ours`` with one word changed (not only its case or punctuation), two neighbours swapped,
    or, inside the quote, one word added or dropped."""
    if len(ours) == len(theirs) == 1:
        return _words(ours[0]) != _words(theirs[0])
    if len(ours) == len(theirs) == 2:
        return ours == theirs[::-1]
    return inside and len(ours) + len(theirs) == 1


#: how many words a misquote may have where the quote has 0, 1 or 2 (inside the quote; at its end only as many)
_THEIRS = {0: (1,), 1: (1, 0), 2: (2,)}


def _patterns(edit: tuple[list[str], list[str], list[str]]) -> list[tuple[list[str], bool, re.Pattern]]:
    """(the quote's changed words, whether words follow them, a pattern) for each word count a misquote may have in
    place of ``edit``'s changed words (one of :func:`_edits`), compiled once a quote: a quote is searched for in
    every file's strings."""
    before, ours, after = edit
    return [(ours, bool(after), re.compile(r"(?<!\w)" + re.escape(" ".join(before)) + r"\s+([^\s\x00]+)" * n
                                           + (r"\s+" + re.escape(" ".join(after)) if after else r"(?![^\s\x00])")))
            for n in (_THEIRS[len(ours)] if after else (len(ours),))]


@functools.lru_cache(maxsize=4096)
def _quote_edits(quote: str) -> tuple:
    """(edit, its patterns) for each edit of ``quote`` (:func:`_edits`, :func:`_patterns`): compiled once a process,
    as every lint run reads the same quotes."""
    return tuple((e, _patterns(e)) for e in _edits(quote.split()))


def _twin(texts: Iterable[str], patterns) -> str | None:
    """The text one of ``texts`` prints that is the quote one word off (:func:`_one_off`; ``patterns`` from
    :func:`_patterns`), not counting words that stand for values or touch one."""
    for ours, after, pattern in patterns:
        for text in texts:
            runs = text.split(FIELD)
            for i, run in enumerate(runs):
                for m in pattern.finditer(run):
                    theirs = list(m.groups())
                    valued = not after and m.end() == len(run) and i < len(runs) - 1
                    if not valued and not any(_VALUE.search(w) for w in theirs) and _one_off(ours, theirs, after):
                        return m.group(0)
    return None


def _message_twin(tree, quote: str, recorded: Iterable[str]) -> tuple[str, str] | None:
    """(the text, where it is printed) one word off ``quote``: a message cards/messages.lock records, or a string of
    a file of ``tree`` that holds all the quote's words but those a misquote changed (searched once per tree, and
    kept on disk between runs)."""
    edits = _quote_edits(quote)
    if not edits:
        return None
    if twin := _twin(recorded, [p for _, patterns in edits for p in patterns]):
        return twin, str(MESSAGES_LOCK)
    return _from_tree(f"message-twin {quote}", tree, lambda t: _tree_twin(t, quote, edits))


def _tree_twin(tree, quote: str, edits) -> tuple[str, str] | None:
    """(the string, its file) of ``tree`` one word off ``quote`` (``edits``: :func:`_quote_edits`)."""
    said = set(re.findall(r"\w+", quote))
    # the words each edit may change
    changed = [(patterns, set(re.findall(r"\w+", " ".join(e[1])))) for e, patterns in edits]
    most = max(len(words) for _, words in changed)
    for path in tree.texts:
        if path.endswith(".py"):
            missing = said - words_of(tree, path)
            if len(missing) > most:  # no edit changes so many words
                continue
            fitting = [p for patterns, words in changed if missing <= words for p in patterns]
            if fitting and (twin := _twin(templates_of(tree, path), fitting)):
                return twin, path
    return None


def _suffixes(run: str) -> str:
    """A pattern for any tail of ``run`` (the empty one too)."""
    pattern = ""
    for ch in run:
        pattern = f"(?:{pattern}{re.escape(ch)})" if not pattern else f"(?:{pattern})?{re.escape(ch)}"
    return f"(?:{pattern})?" if pattern else ""


def _prefixes(run: str) -> str:
    """A pattern for any head of ``run`` (the empty one too)."""
    pattern = ""
    for ch in reversed(run):
        pattern = f"{re.escape(ch)}(?:{pattern})?" if pattern else re.escape(ch)
    return f"(?:{pattern})?" if pattern else ""


def _with_values(template: str, quote: str) -> bool:
    """Whether ``quote`` is text ``template`` prints with some values put in: it runs across at least one of the
    template's value fields, each read as any one word (a name, a number: "Host-pool retraction" is not the value of
    f"{x} does not support {y} models."), and at least three of its words (ten characters) are the template's own ("Unsupported KV cache type HybridLinearKVPool" of f"Unsupported KV cache type {name}: ...")."""
    runs = template.split(FIELD)
    for i in range(len(runs) - 1):
        for j in range(i + 1, len(runs)):
            middle = "".join(rf"(?P<v{k}>\S+?)" + re.escape(runs[k]) for k in range(i + 1, j))
            m = re.fullmatch(_suffixes(runs[i][-len(quote):]) + middle + rf"(?P<v{j}>\S+?)"
                             + _prefixes(runs[j][:len(quote)]), quote, re.DOTALL)
            if m is None:
                continue
            fixed = list(quote)
            for k in range(i + 1, j + 1):
                fixed[m.start(f"v{k}"):m.end(f"v{k}")] = [" "] * (m.end(f"v{k}") - m.start(f"v{k}"))
            own = "".join(fixed)
            if len(re.findall(r"\w+", own)) >= 3 and len(own.replace(" ", "")) >= 10:
                return True
    return False


def printed_with_values(tree, quote: str) -> bool:
    """Whether a Python file of ``tree`` prints ``quote`` with values put in (:func:`_with_values`; read once per tree
    and quote, and kept on disk between runs; only files holding three of the quote's words are read)."""
    said = set(re.findall(r"\w+", quote))
    return _from_tree(f"printed-with-values {quote}", tree, lambda t: len(said) >= 3 and any(
        _with_values(tpl, quote) for path in t.texts if path.endswith(".py")
        and len(said & words_of(t, path)) >= 3 for tpl in templates_of(t, path)
        if FIELD in tpl and len(said & set(re.findall(r"\w+", tpl))) >= 3))


def _metrics(tree) -> frozenset[str]:
    """Every metric name a Python file of ``tree`` holds."""
    return _from_tree("metrics", tree, lambda t: frozenset(m for path, text in t.texts.items() if path.endswith(".py")
                                                           and "sglang:" in text for m in METRIC.findall(text)))


def _metric_twin(name: str, known: Iterable[str]) -> str | None:
    """The known metric one character, or one word between underscores, off ``name`` (the likest, if several are)."""
    ours = name.split("_")
    near = [other for other in sorted(known) if one_edit(name, other) or len(ours) == len(other.split("_"))
            and sum(map(str.__ne__, ours, other.split("_"))) == 1]
    return max(near, key=lambda other: SequenceMatcher(None, name, other).ratio(), default=None)


@rule("D637", "a quoted SGLang message or metric name that no release prints (today's SGLang, cards/messages.lock), "
              "one word or character off one that a release prints", scope="project", severity="warning")
def misquoted_message(ctx) -> Iterator[Finding]:
    """"'Host-pool retraction does not support hybrid models.'" where SGLang raises "... does not support Mamba
    models.": a reader greps their log for the manual's words and finds nothing, or trusts a number ("topk=2") the
    code never checks. A quote (single-quoted, its fixed words: :func:`~dossier.lint.error_sources.fixed_words`) in a
    card's prose, cards/lanes.yaml or a finding is judged when no file of today's SGLang prints it
    (:mod:`dossier.printed`) and cards/messages.lock records no release that did, while a message the lock records,
    or a string of today's tree, reads the same with one word after the first changed (not only in case or
    punctuation), two neighbours swapped, or one word inside the quote added or dropped; words that stand for
    values (a %-place, a brace, an f-string's value, a word right before one) are not compared. A metric
    (`sglang:name`) is judged the same way against the metrics today's tree names and the lock records: one
    character, or one word between underscores, off. A warning: the lock holds only the messages the error page
    gives and those cards/lanes.yaml dates, so an older release's wording quoted without its releases reads here
    like a misquote (date it, and record the lock). Not judged: an error-page message (D626's), a quote the words
    before it deny ("not '...'", "no longer prints '...'", "instead of '...'"), a quote some string of today's tree
    prints with values put in (each value field read as any one word, at least three of the quote's words the
    string's own: "'Unsupported KV cache type HybridLinearKVPool'" of f"Unsupported KV cache type {name}: ..."), a
    text marked historical (it may quote an older release's wording), a project without an SGLang tree (D600)."""
    s = surface(ctx)
    if s is None:
        return
    recorded = recorded_messages(ctx)
    if recorded is None:
        return
    given = set(error_messages(ctx.project))
    known_metrics = _metrics(s.tree) | {m for m in recorded if METRIC.fullmatch(m)}
    suspects: dict[str, tuple[str, str]] = {}
    found = []
    for doc, where, path, flat in flat_texts(ctx, historical=False):
        for quote, words, start in quoted(flat):
            if words in recorded or words in given or _DENIED.search(flat, max(0, start - 30), start):
                continue
            if METRIC.fullmatch(words):
                twin = None if words in known_metrics else _metric_twin(words, known_metrics)
                twin = twin and (twin, "today's SGLang" if twin in _metrics(s.tree) else str(MESSAGES_LOCK))
            else:
                if words not in suspects:
                    suspects[words] = _message_twin(s.tree, words, recorded)
                twin = suspects[words]
            if twin:
                found.append((doc, where, path, flat, quote, words, start, twin))
    printed = printing(s.tree, [f[5] for f in found if not METRIC.fullmatch(f[5])])
    for doc, where, path, flat, quote, words, start, (twin, place) in found:
        if printed.get(words) or not METRIC.fullmatch(words) and printed_with_values(s.tree, words):
            continue
        yield Finding(where, f"'{words}' is printed by no SGLang release (not {s.tree.version}, nor one "
                             f"{MESSAGES_LOCK} records), while {place} prints '{twin}': a misquote?",
                      hint="quote the text as SGLang prints it; an older release's wording needs its releases named "
                           "and `dossier releases surface --record`", doc=doc,
                      at=_locate(doc, path, quote, nth(flat, flat, quote, start)))
