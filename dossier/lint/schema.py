"""D1xx: is the file a well-formed card (or lanes file) at all?"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.cards import LANES_FILE as LANES_NAME
from dossier.cards import YamlDoc, strings
from dossier.lint.registry import Finding, rule
from dossier.model import FINDING, LANES_FILE


def _read_errors(doc: YamlDoc, code: str) -> Iterator[Finding]:
    for c, message, line, col in doc.read_errors:
        if c == code:
            yield Finding("", message, at=(line, col))


def _problems(doc: YamlDoc, kind: str) -> Iterator[Finding]:
    if doc.read_errors or doc.data is None or not isinstance(doc.data, dict):
        return
    for p in doc.spec.check(doc.data):
        if p.kind == kind:
            yield Finding(p.path, p.message)


@rule("D100", "file cannot be read (a dangling or looping symlink, a directory, no permission, too large)",
      scope="doc")
def unreadable(doc: YamlDoc, ctx) -> Iterator[Finding]:
    yield from _read_errors(doc, "D100")


@rule("D101", "file is not valid UTF-8", scope="doc")
def not_utf8(doc: YamlDoc, ctx) -> Iterator[Finding]:
    yield from _read_errors(doc, "D101")


@rule("D102", "malformed YAML", scope="doc")
def malformed_yaml(doc: YamlDoc, ctx) -> Iterator[Finding]:
    yield from _read_errors(doc, "D102")


def _empty_hint(doc: YamlDoc) -> str:
    """What to do about an empty file, by the kind of document it was read as."""
    if doc.spec is FINDING:
        return "a finding's fields: `dossier findings NAME` prints one to start from"
    if doc.spec is LANES_FILE:
        return f"it lists the lanes every card names: restore it (git checkout cards/{LANES_NAME})"
    return "start from `dossier new PR`"


@rule("D103", "document is empty or not a mapping", scope="doc")
def not_a_mapping(doc: YamlDoc, ctx) -> Iterator[Finding]:
    if doc.read_errors:
        return
    if doc.data is None:
        yield Finding("", "file is empty", hint=_empty_hint(doc))
    elif not isinstance(doc.data, dict):
        yield Finding("", f"top level must be a mapping of fields, got {type(doc.data).__name__}")


@rule("D104", "required field is missing or empty", scope="doc")
def missing_field(doc: YamlDoc, ctx) -> Iterator[Finding]:
    yield from _problems(doc, "missing")
    for f in _problems(doc, "empty"):
        yield f._replace(path=f.path + "#value", hint="write it in your own words, citing the PR")


@rule("D105", "unknown field", scope="doc")
def unknown_field(doc: YamlDoc, ctx) -> Iterator[Finding]:
    yield from _problems(doc, "unknown")


@rule("D106", "field has the wrong type", scope="doc")
def wrong_type(doc: YamlDoc, ctx) -> Iterator[Finding]:
    for f in _problems(doc, "type"):
        yield f._replace(path=f.path + "#value")


@rule("D107", "value is not one of the allowed values", scope="doc")
def bad_enum(doc: YamlDoc, ctx) -> Iterator[Finding]:
    for f in _problems(doc, "enum"):
        yield f._replace(path=f.path + "#value")


@rule("D108", "duplicate key in a mapping (the file is not used until each key is named once), or an id two "
              "items of a list share (two lanes or checklists with one anchor)", scope="doc")
def duplicate_key(doc: YamlDoc, ctx) -> Iterator[Finding]:
    yield from _read_errors(doc, "D108")
    for f in _problems(doc, "duplicate"):
        yield f._replace(path=f.path + "#value")


@rule("D109", "runtime is neither {reference, tests, bench} nor {none}", scope="doc")
def runtime_variant(doc: YamlDoc, ctx) -> Iterator[Finding]:
    yield from _problems(doc, "choice")


@rule("D110", "value is malformed: a date that does not exist, a path outside the repository, an id that cannot "
              "be an anchor", scope="doc")
def malformed_value(doc: YamlDoc, ctx) -> Iterator[Finding]:
    for f in _problems(doc, "format"):
        yield f._replace(path=f.path + "#value")


@rule("D113", "text is longer than its field allows (a title, a name, a path, a match, a claim, prose)",
      scope="doc")
def too_long(doc: YamlDoc, ctx) -> Iterator[Finding]:
    for f in _problems(doc, "length"):
        yield f._replace(path=f.path + "#value", hint="say it in fewer words: the manual prints every card in full")


@rule("D111", "YAML file under cards/ that is never read as a card", scope="project")
def stray_file(ctx) -> Iterator[Finding]:
    for path in ctx.project.strays:
        yield Finding("", "not read: a card must be cards/<pr>.yaml, a finding cards/findings/<slug>.yaml",
                      doc=YamlDoc(path=path), hint="rename or move it, or delete it if it is not a card")


#: characters a reader cannot see or that change how the rendered manual displays: C0/C1 controls (not tab or
#: newline), zero-width characters, bidirectional overrides and isolates, the byte-order mark
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


@rule("D112", "text holds an invisible or control character (zero-width, bidi override, terminal escape)",
      scope="doc")
def hidden_characters(doc: YamlDoc, ctx) -> Iterator[Finding]:
    if doc.read_errors or not isinstance(doc.data, dict):
        return
    for path, text in strings(doc.data):
        if m := _HIDDEN.search(text):
            yield Finding(path, f"U+{ord(m.group()):04X} at character {m.start() + 1}: it hides text from a "
                                "reader, defeats the copy and claim checks, or garbles the rendered manual",
                          hint="delete it (a card is plain text)")
