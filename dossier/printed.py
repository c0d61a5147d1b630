"""What an SGLang tree prints: the files whose code writes a given log line or error message.

A message a reader quotes is often not in a Python file as written: SGLang splits long messages over implicitly
joined literals (``"... only supports the built-in mamba " "radix cache"``). A file prints a message when its code
holds the message as written (an assert's test too, which a bare AssertionError's traceback shows), or, in Python,
when one of its string expressions, read as Python joins it, holds the message between two f-string values: a
message is the fixed words of a log line, never a value put in. Comments and docstrings print nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from dossier.code_lines import code_only
from dossier.source_tree import lines_with
from dossier.span_lock import read_spans, spans_of_releases, write_spans
from dossier.tree_cache import remembered

#: a value put in at run time, inside a template
FIELD = "\x00"
_PYTHON = (".py", ".pyi")


#: a Python comment or string literal (prefix, quotes, body), in source order: comments are consumed so that a quote in
#: one starts no string, and a string's own # starts no comment
_TOKEN = re.compile(r"""#[^\n]*|(?P<prefix>\b[rRbBuUfF]{1,2})?(?P<body>'\'\'(?:\\.|[^\\])*?\'\'\'|\"\"\"(?:\\.|[^\\])*?\"\"\"|"""
                    r"""'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")""")
#: what may stand between two literals Python joins: space, line breaks (inside brackets), comments
_JOINS = re.compile(r"(?:\s|#[^\n]*(?![^\n]))*")  # a comment runs to its line's end: no backtracking into it
#: what stands before a docstring: the file's start or a `def`/`class` line's colon, then only space
_DOCSTRING = re.compile(r"(?:\A|:)\s*\Z")
_ESCAPES = {"n": "\n", "t": "\t", "'": "'", '"': '"', "\\": "\\"}
_FIELD_IN_F = re.compile(r"\{\{|\}\}|\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")


def templates(source: str) -> list[str]:
    """The string expressions of a Python source, each as one text with :data:`FIELD` where an f-string puts a value:
    literals Python joins (adjacent, across lines and comments) read as one (a plain literal as written: its braces
    and % places may be its own words, "{None, 1}", and a message never spans a value anyway).
    Docstrings are left out. Read from the literals' text (no parse: a whole release's files are read in seconds)."""
    found: list[str] = []
    run: list[str] = []
    end = -1
    for m in _TOKEN.finditer(source):
        if m.group("body") is None:
            continue
        joined = bool(run) and _JOINS.fullmatch(source, end, m.start())
        if run and not joined:
            found.append("".join(run))
            run = []
        end = m.end()
        if not joined and m.group("body")[:3] in ("\'\'\'", '"""') and _DOCSTRING.search(
                source, max(0, m.start() - 200), m.start()):
            continue  # a docstring prints nothing
        run.append(_literal(m.group("prefix") or "", m.group("body")))
    return found + ["".join(run)] if run else found


def _literal(prefix: str, body: str) -> str:
    quote = 3 if body[:3] in ("\'\'\'", '"""') else 1
    text = body[quote:-quote]
    if "f" in prefix.lower():
        text = _FIELD_IN_F.sub(lambda m: m.group(0)[0] if m.group(0) in ("{{", "}}") else FIELD, text)
    if "r" in prefix.lower():
        return text
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), text)


def prints(template: str, message: str) -> bool:
    """Whether ``template`` prints ``message`` as its own words: the message lies within one stretch of the
    template's text between two values (a message's words are the fixed words of a log line; a value is never one
    of them)."""
    return any(message in run for run in template.split(FIELD))


def printing(tree, messages: Iterable[str]) -> dict[str, list[str]]:
    """Each of ``messages`` -> the files of ``tree`` that print it (read once per tree and message set, and kept on
    disk between runs: :mod:`dossier.tree_cache`). A Python file's strings are read for a message only when the file
    holds all the message's words (a message split over joined literals is not in the file as written, its words
    are)."""
    messages = tuple(sorted(set(messages)))
    digest = hashlib.sha256("\0".join(messages).encode()).hexdigest()
    return remembered(tree, f"printing {digest}", lambda: _printing(tree, messages))


def _printing(tree, messages: tuple[str, ...]) -> dict[str, list[str]]:
    wanted = {m: set(re.findall(r"\w+", m)) for m in messages}
    found: dict[str, list[str]] = {m: [] for m in messages}
    for path, text in tree.texts.items() if wanted else ():
        held = words_of(tree, path) if path.endswith(_PYTHON) else None
        for m, words in wanted.items():
            if held is None:
                if m in text and lines_with(text, m, path):
                    found[m].append(path)
                continue
            if m in text and m in code_only(text, path):  # as written: an assert's test, a one-literal message
                found[m].append(path)
                continue
            if words <= held and any(prints(t, m) for t in templates_of(tree, path)):
                found[m].append(path)
    return found


def _read(tree, what: str, path: str, read):
    """``read`` of one file's text of ``tree``, once while the tree holds its texts (another message set asks again)."""
    key = (what, path)
    if key not in tree.memo:
        tree.memo[key] = read(tree.texts[path])
    return tree.memo[key]


def words_of(tree, path: str) -> frozenset[str]:
    """The words of one Python file of ``tree`` (read once while the tree holds its texts)."""
    return _read(tree, "words", path, lambda t: frozenset(re.findall(r"\w+", t)))


def templates_of(tree, path: str) -> list[str]:
    """The string expressions of one Python file of ``tree`` (:func:`templates`, read once)."""
    return _read(tree, "templates", path, templates)


MESSAGES_LOCK = Path("cards") / "messages.lock"
MESSAGES_HEADER = (
    "# Written by `dossier releases surface --record`: each message of the error page (cards/lanes.yaml's\n"
    "# answers.errors) or dated quote or metric (`sglang:name`) of cards/lanes.yaml that an SGLang release prints,\n"
    "# with the first and last release that printed it (lint D626, D627, D637 and D638 read it; CI has no release\n"
    "# cache).\n"
)


def messages_of_releases(messages: Iterable[str], trees: Iterable) -> dict[str, str]:
    """Each of ``messages`` that a tree of ``trees`` (release order) prints, with the first and last that did."""
    messages = list(messages)
    found: dict[str, list[str]] = {}
    for tree in trees:
        for m, files in printing(tree, messages).items():
            if files:
                found.setdefault(m, []).append(tree.version)
        tree.unload()
    return spans_of_releases(found)


def read_messages(root: Path) -> dict[str, str]:
    """cards/messages.lock: message -> the releases that print it (empty without one); raises LockError when it
    cannot be read."""
    return read_spans(root, MESSAGES_LOCK, "messages", "run `dossier releases surface --record`")


def write_messages(root: Path, entries: dict[str, str]) -> None:
    write_spans(root, MESSAGES_LOCK, MESSAGES_HEADER, "messages", entries)
