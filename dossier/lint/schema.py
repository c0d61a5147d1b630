"""D1xx: is the file a well-formed card (or lanes file) at all?"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterator

from dossier.cards import LANES_FILE as LANES_NAME
from dossier.cards import YamlDoc, strings
from dossier.invisible import first_hidden
from dossier.lint.registry import Finding, rule
from dossier.model import FINDING, LANES_FILE
from dossier.render.markdown import CODE_SPAN


def _read_errors(doc: YamlDoc, code: str) -> Iterator[Finding]:
    for c, message, line, col in doc.read_errors:
        if c == code:
            yield Finding("", message, at=(line, col))


def _problems(doc: YamlDoc, kind: str) -> Iterator[Finding]:
    if doc.read_errors or doc.data is None or not isinstance(doc.data, dict):
        return
    for p in doc.problems():
        if p.kind == kind:
            yield Finding(p.path, p.message)


@rule("D100", "file cannot be read (a dangling or looping symlink, a directory, no permission, too large, or cut "
              "short: it ends mid-line)",
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


#: an HTML character reference (&#8203;, &#x202E;, &nbsp;): markdown decodes it, so the manual would show the
#: character it names, hidden ones too, where the card shows the reference
_CHARACTER_REFERENCE = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


#: fields the manual shows as written (a code span, or a title escaped for its table cell or heading): a reference
#: there is text, not a character
_SHOWN_AS_WRITTEN = ("title", "match", "file")
#: a code span of prose, where markdown decodes no reference: the renderer's own pattern, across line breaks (a
#: lookbehind keeps a run from being tried at each of its ticks, which took minutes on a card of backtick runs)
_CODE_SPAN = re.compile(CODE_SPAN.pattern, re.S)


def _decoded_reference(path: str, text: str) -> re.Match | None:
    """The first HTML character reference markdown would decode in ``text``: outside its code spans, in a field the
    manual renders as prose."""
    if path.rsplit(".", 1)[-1] in _SHOWN_AS_WRITTEN:
        return None
    ref = _CHARACTER_REFERENCE.search(_CODE_SPAN.sub(lambda m: " " * len(m[0]), text))
    return ref if ref is not None and html.unescape(ref[0]) != ref[0] else None


@rule("D112", "text holds an invisible or control character (zero-width, bidi override, terminal escape, a "
              "surrogate, private-use or noncharacter code point), or U+FFFD where bytes were lost", scope="doc")
def hidden_characters(doc: YamlDoc, ctx) -> Iterator[Finding]:
    if doc.read_errors or not isinstance(doc.data, dict):
        return
    for path, text in strings(doc.data):
        if (at := first_hidden(text)) is not None:
            yield Finding(path, f"U+{ord(text[at]):04X} at character {at + 1} of the value: it hides text from a "
                                "reader, defeats the copy and claim checks, or garbles the rendered manual",
                          hint="delete it (a card is plain text)", at=_position(doc, path, text, at, 1))
        elif (ref := _decoded_reference(path, text)) is not None:
            yield Finding(path, f"{ref[0]} at character {ref.start() + 1} of the value is an HTML character reference: "
                                f"the rendered manual shows U+{ord(html.unescape(ref[0])[0]):04X} there, not what the "
                                "card shows", hint="write the character itself, or say it in words",
                          at=_position(doc, path, text, ref.start(), len(ref[0])))
        elif (at := text.find("\ufffd")) >= 0:  # copied from a diff cached from a file that is not UTF-8
            yield Finding(path, f"U+FFFD at character {at + 1} of the value: the replacement character, where a "
                                "decoder lost bytes it could not read; the source has other characters there",
                          hint="write the characters the source has (`dossier fetch` names the files it cached so)",
                          at=_position(doc, path, text, at, 1))


def _position(doc: YamlDoc, path: str, text: str, at: int, length: int) -> tuple[int, int] | None:
    """The file's line and column of ``text[at:at + length]`` (the value at ``path``) where the file writes it as is,
    else the value's own (YAML wrote it otherwise: an escape such as ``\\u200b``)."""
    from dossier.lint.claims import _locate

    what = text[at:at + length]
    return _locate(doc, path, what, text.count(what, 0, at)) if doc.path.is_file() else None


#: scripts whose letters pass for Latin ones (Cyrillic а/е/о/р/с, Greek Ο/ν, Armenian օ, Cherokee Ꭺ) and
#: styled copies of Latin letters and digits (mathematical alphanumerics, fullwidth forms)
_LOOKALIKE_SCRIPTS = ("CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC", "MATHEMATICAL", "FULLWIDTH")
_WORD = re.compile(r"\w+")
#: a unit with a Greek mu ("12 \u03bcs"), which prose writes as often as "us"
_UNIT = re.compile("\u03bc(?:s|m|g|W|V|A|F|l|L)")


def lookalike(text: str) -> str | None:
    """Why ``text`` holds a character that passes for another, or None.

    A space other than U+0020 (a no-break or thin space: it joins or splits what looks like one name), a digit
    that is not 0-9 (a fullwidth #２１０１９ is no PR number to a machine), a fullwidth letter, or a word that
    mixes ASCII letters or digits with a letter of a look-alike script ("Lin\u0435ar", "#3\u039f437"). A word
    wholly in another script (a Greek β, a Chinese bracket) is not judged."""
    if text.isascii():
        return None
    for i, ch in enumerate(text):
        if ch.isspace() and ch not in " \t\n\r":
            return f"U+{ord(ch):04X} {unicodedata.name(ch, 'SPACE')} at character {i + 1} (a space that is not one)"
        if not ch.isascii() and (ch.isdigit() or unicodedata.name(ch, "").startswith("FULLWIDTH")):
            return f"U+{ord(ch):04X} {unicodedata.name(ch, '?')} at character {i + 1}"
    for m in _WORD.finditer(text):
        word = m.group()
        if word.isascii() or not any(c.isascii() and c.isalnum() for c in word) or _UNIT.fullmatch(word):
            continue
        for j, ch in enumerate(word):
            if not ch.isascii() and unicodedata.name(ch, "").startswith(_LOOKALIKE_SCRIPTS):
                return (f"'{word}' mixes Latin with U+{ord(ch):04X} {unicodedata.name(ch)} at character "
                        f"{m.start() + j + 1}")
    return None


@rule("D114", "text holds a look-alike character: a letter of another script inside a Latin word, a non-ASCII "
              "digit or fullwidth form, a space that is not U+0020", scope="doc")
def lookalike_characters(doc: YamlDoc, ctx) -> Iterator[Finding]:
    """A name, flag or PR number that looks right and is not: "MergedColumnParallelLin\u0435ar" (a Cyrillic е)
    names nothing in SGLang, "#３４７６３" cites no PR, "--dfl\u0430sh" is no flag, and a no-break space inside
    a key match keeps it from matching any source. Every check that reads names (D213, D601, D613, D519) sees
    another string than the reader does. Real cards are ASCII but for two CJK brackets."""
    if doc.read_errors or not isinstance(doc.data, dict):
        return
    for path, text in strings(doc.data):
        if why := lookalike(text):
            yield Finding(path, f"{why}: it reads as a name, number or flag it is not, to a reader and to the checks",
                          hint="retype it in plain ASCII (a card is plain text)")
