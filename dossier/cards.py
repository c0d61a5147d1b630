"""Load cards and lanes from YAML, keeping the line and column of every field for diagnostics."""

from __future__ import annotations

import functools
import os
import pickle
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from dossier.errors import DossierError
from dossier.files import MAX_FILE_BYTES, read_bytes, wide_encoding

LANES_FILE = "lanes.yaml"
#: the folder of cards/ that holds findings (upstream bugs without a PR), not PR cards
FINDINGS_DIR = "findings"
#: files in cards/ that are not cards
NOT_CARDS = {LANES_FILE}
#: deeper [ { nesting is refused before parsing: PyYAML's pure-Python scanner is quadratic in it
MAX_FLOW_DEPTH = 64
#: aliases may not expand a document beyond this many nodes (a "billion laughs" file stays small on disk)
MAX_NODES = 100_000
#: the largest file read as a card or finding, and as cards/lanes.yaml (the largest real card is under 10 KB and
#: lanes.yaml about 60 KB; D113 caps every text field): beyond these, a file is not parsed but reported (D100)
MAX_CARD_BYTES = 256 * 1024
MAX_LANES_BYTES = 1024 * 1024
#: suffixes a misnamed card file carries (a card is exactly cards/<pr>.yaml)
YAML_SUFFIXES = (".yaml", ".yml")


#: how a number is written to be read as the author reads it: YAML 1.1 takes 0144 as octal, 0x64 as hexadecimal,
#: 1:40 as base 60 and drops `_`
PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")


class TagChecked:
    """A loader mixin: a tagged scalar its type's constructor cannot read (`!!int x`, an empty `!!bool`) is a YAML
    error at its own place, never the IndexError, KeyError or AttributeError some of PyYAML's constructors raise."""

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep)
        except (ValueError, TypeError, OverflowError, LookupError, AttributeError):
            if not isinstance(node, yaml.ScalarNode):
                raise
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            value = node.value if len(node.value) <= 60 else f"{node.value[:40]}... ({len(node.value)} characters)"
            raise yaml.constructor.ConstructorError(None, None, f"{value!r} is no {tag} value",
                                                    node.start_mark) from None


class _AsWritten(TagChecked):
    """SafeLoader constructors that keep, as the text written, a date-shaped scalar which is no real date
    (2025-02-30) and a number not written in plain decimal digits (`superseded_by: [0144]` is #100 to YAML 1.1): the
    schema reports each at its position instead of the parser raising, or the card silently naming another PR."""

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)

    def construct_yaml_int(self, node):
        value = super().construct_yaml_int(node)  # `!!int x` raises: malformed (D102)
        return value if PLAIN_INT.fullmatch(node.value) else self.construct_scalar(node)


class _Loader(_AsWritten, yaml.SafeLoader):
    """The pure-Python parser: its messages and positions are the ones a D102 finding quotes."""


class _FastLoader(_AsWritten, getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """libyaml's parser where PyYAML has it, about ten times faster: every lint of the manual parses ~200 files."""


for _loader in (_Loader, _FastLoader):
    _loader.add_constructor("tag:yaml.org,2002:timestamp", _loader.construct_yaml_timestamp)
    _loader.add_constructor("tag:yaml.org,2002:int", _loader.construct_yaml_int)


@dataclass
class YamlDoc:
    """A parsed YAML file: its data, where each dotted path sits, and what went wrong reading it."""

    path: Path
    data: Any = None
    positions: dict[str, tuple[int, int]] = field(default_factory=dict)
    # (code, message, line, col) for problems found while reading: D100 unreadable, D101 encoding, D102 syntax,
    # D108 duplicate keys
    read_errors: list[tuple[str, str, int, int]] = field(default_factory=list)
    spec: Any = None  # the Spec this document must satisfy (set by the project loader)
    _checked: Any = field(default=None, repr=False, compare=False)

    def problems(self) -> list:
        """What ``spec`` finds wrong with the data, checked once for this spec and data (lint asks for every schema
        rule and every rule that judges only valid documents; nothing edits a document once it is read)."""
        if self._checked is None or self._checked[0] is not self.spec or self._checked[1] is not self.data:
            self._checked = (self.spec, self.data, list(self.spec.check(self.data)))
        return self._checked[2]

    def where(self, dotted: str) -> tuple[int, int]:
        """Line and column of ``dotted`` (or of its nearest ancestor that exists)."""
        if dotted in self.positions:
            return self.positions[dotted]
        key = dotted.removesuffix("#value")
        while key:
            if key in self.positions:
                return self.positions[key]
            key = key.rsplit("[", 1)[0] if key.endswith("]") else (key.rsplit(".", 1)[0] if "." in key else "")
        return self.positions.get("", (1, 1))


def read_yaml(path: Path, max_bytes: int = MAX_FILE_BYTES) -> YamlDoc:
    """Parse one YAML file; never raises for bad content (problems land in ``read_errors``). A file over
    ``max_bytes`` is not parsed (a D100 finding): the prose rules would take minutes over megabytes. What is
    not a regular file (a pipe, a device) is not read at all (D100): it could block forever."""
    doc = YamlDoc(path=path)
    try:
        if (size := path.stat().st_size if path.exists() else 0) > max_bytes:  # a dangling link: read_bytes says so
            doc.read_errors.append(("D100", f"file is {size:,} bytes, over the {max_bytes:,} this kind of file may "
                                    "hold (the largest real one is a small fraction of that)", 1, 1))
            return doc
        raw = read_bytes(path, max_bytes)
    except OSError as exc:  # a dangling or looping symlink, a directory, no permission, a pipe
        doc.read_errors.append(("D100", f"cannot read the file: {exc.strerror or exc}", 1, 1))
        return doc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        wide = wide_encoding(raw)
        doc.read_errors.append(("D101", f"file is {wide} (it starts with that byte-order mark), not UTF-8: save it as "
                                        "UTF-8" if wide else f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                                line, col))
        return doc
    parsed = _parsed(text)
    doc.data = pickle.loads(parsed.data)
    doc.positions = dict(parsed.positions)
    doc.read_errors.extend(parsed.read_errors)
    return doc


class _Parsed(NamedTuple):
    """What one text reads as: its data (pickled, so each reader gets its own copy), positions and read errors."""

    data: bytes
    positions: dict[str, tuple[int, int]]
    read_errors: tuple[tuple[str, str, int, int], ...]


@functools.lru_cache(maxsize=512)
def _parsed(text: str) -> _Parsed:
    """Parse ``text`` once a process (a test suite, or lint and render in one run, read the same cards and locks
    many times; the parse is what costs)."""
    doc = YamlDoc(path=Path())
    cut = ends_mid_line(text)
    if cut:
        doc.read_errors.append(("D100", cut + "; restore the file, or end it with a line break if it is whole",
                                text.count("\n") + 1, len(text) - text.rfind("\n")))
    breaks = _YAML_ONLY_BREAK.search(text)
    if breaks:  # YAML reads it as a line break: the text splits there and every later position shifts
        before = text[: breaks.start()]
        doc.read_errors.append(("D102", f"U+{ord(breaks[0]):04X} {unicodedata.name(breaks[0], 'NEXT LINE')}: YAML reads "
                                        "it as a line break (the text splits there, every later line number shifts); "
                                        "delete it", before.count("\n") + 1, breaks.start() - before.rfind("\n")))
        return _kept(doc)
    deep = too_deep(text)
    if deep:
        doc.read_errors.append(("D102", f"malformed YAML: [ and {{ nested more than {MAX_FLOW_DEPTH} deep", *deep))
        return _kept(doc)
    loader = None
    try:
        loader, node = _composed(text)  # the reader rejects control characters here already
        if node is None:
            doc.positions[""] = (1, 1)
            return _kept(doc)
        problem = _alias_problem(node)
        if problem:
            doc.read_errors.append(("D102", f"malformed YAML: {problem[0]}", *problem[1]))
            return _kept(doc)
        _record_positions(node, "", doc, set(), text.splitlines())
        if not cut and (cut_text := _ends_mid_sentence(node)):
            doc.read_errors.append(("D100", cut_text[0], *cut_text[1]))
        doc.data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        doc.read_errors.append(("D102", f"malformed YAML: {_special(exc.problem) or exc.problem or exc.context}"
                                        + _slip(text.splitlines(), line), line, col))
        doc.data = None
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line, col = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        what = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        doc.read_errors.append(("D102", f"malformed YAML: control character {what} is not allowed", line, col))
        doc.data = None
    except yaml.YAMLError as exc:  # any other parser complaint without a mark
        doc.read_errors.append(("D102", f"malformed YAML: {str(exc).splitlines()[0] if str(exc) else exc!r}", 1, 1))
        doc.data = None
    except RecursionError:
        doc.read_errors.append(("D102", "malformed YAML: nested too deeply", 1, 1))
        doc.data = None
    except (ValueError, TypeError, OverflowError, LookupError, AttributeError) as exc:  # a collection's constructor
        doc.read_errors.append(("D102", f"malformed YAML: {exc}", 1, 1))
        doc.data = None
    finally:
        if loader is not None:
            loader.dispose()
    return _kept(doc)


def _kept(doc: YamlDoc) -> _Parsed:
    try:
        data = pickle.dumps(doc.data)
    except RecursionError:  # as construct_document's own: the data is nested too deeply to be walked
        data, doc.read_errors = pickle.dumps(None), [*doc.read_errors, ("D102", "malformed YAML: nested too deeply", 1, 1)]
    return _Parsed(data, doc.positions, tuple(doc.read_errors))


#: a key whose value starts as a flow list or mapping and goes on after its closing bracket (`title: [Qwen3-Next] Fuse
#: ...`): text after the bracket is no YAML
_FLOW_START = re.compile(r"^\s*(?:- )?[\w.-]+:\s*[\[{][^\]}\n]*[\]}]\s*[^\s#,\]}]")
#: a `#` after a space inside a flow list (`[ #14607 ]`): YAML reads the rest of the line, the `]` too, as a comment
_COMMENT_IN_FLOW = re.compile(r"\[[^\]\n]*\s#")


def _slip(lines: list[str], line: int) -> str:
    """What the author most likely meant, for a parse error at ``line`` (1-based) whose wording names only the parser's
    state: the usual slips of a PR title or a PR number written as YAML would read them."""
    near = lines[max(0, line - 2):line]
    if any(_COMMENT_IN_FLOW.search(t) for t in near):
        return " (a `#` after a space starts a YAML comment, inside [ ] too, so the `]` is never read: write the PR " \
               "number without `#`, or quote it: '#14607')"
    if near and _FLOW_START.match(near[-1]):
        return " (a value that starts with [ or { is a YAML list or mapping, not text: put the whole value in " \
               "quotes, as a PR title such as \"[Qwen3-Next] ...\" needs)"
    return ""


#: YAML 1.1's special plain scalars that no constructor of the safe loader reads: written bare, they stop the parse
_SPECIAL = {"tag:yaml.org,2002:value": "=", "tag:yaml.org,2002:merge": "<<"}


def _special(problem: str | None) -> str | None:
    """What to tell an author whose bare `=` or `<<` YAML read as a special key ("could not determine a constructor
    for the tag 'tag:yaml.org,2002:value'" says nothing of the character written)."""
    for tag, written in _SPECIAL.items():
        if problem and tag in problem:
            return f"a bare {written} is YAML 1.1's {tag.rsplit(':', 1)[1]} key, not text: put it in quotes ('{written}')"
    return None


#: valid text libyaml reads otherwise than the pure-Python parser: a comment glued to a block header (`>-#`), a
#: tag (`[!!int]`: libyaml ends it at the bracket)
_GLUED_COMMENT = re.compile(r"[|>][-+0-9]*#")
_TAG = re.compile(r"(?:^|[ \[{,])!", re.MULTILINE)


def _libyaml_reads_alike(text: str) -> bool:
    """Whether libyaml reads ``text`` as the pure-Python parser does, as far as the text alone shows: it takes tabs,
    a glued comment (which drops the text's first line) and a tag ended by a bracket where that parser rejects
    them, and counts a U+FEFF in a column where that parser counts none (a `?` in a flow collection:
    :func:`_question_in_flow`, once composed)."""
    return not ("\t" in text or "\ufeff" in text or _GLUED_COMMENT.search(text) or ("!" in text and _TAG.search(text)))


def _question_in_flow(node: yaml.Node | None, text: str) -> bool:
    """Whether a flow collection (``[...]``, ``{...}``) of the document holds a `?` (a question in a quoted
    string too): libyaml reads `[20? 8]` as one value where the pure-Python parser stops at the `?`. Only the
    collections' own text is looked at, so a `?` in prose beside a bracket in a link keeps libyaml's speed."""
    if node is None or "?" not in text:
        return False
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    seen, stack = set(), [node]
    while stack:
        n = stack.pop()
        if id(n) in seen or isinstance(n, yaml.ScalarNode):
            continue
        seen.add(id(n))  # an alias shares its anchor's node: each is read once
        start, end = (starts[m.line] + m.column for m in (n.start_mark, n.end_mark))
        if n.flow_style and "?" in text[start:end]:
            return True
        stack.extend(n.value if isinstance(n, yaml.SequenceNode) else (x for pair in n.value for x in pair))
    return False


def _composed(text: str) -> tuple[yaml.SafeLoader, yaml.Node | None]:
    """A loader over ``text`` and its document's root node. libyaml composes it, about ten times faster, where it
    reads the text alike; a document it rejects, or reads otherwise, is composed again by the pure-Python parser,
    which raises the error the finding words (the two word and place errors differently)."""
    if yaml.__with_libyaml__ and _libyaml_reads_alike(text):
        fast = _FastLoader(text)
        try:
            node = fast.get_single_node()
            if not _question_in_flow(node, text):
                return fast, node
        except yaml.YAMLError:
            pass
        fast.dispose()
    loader = _Loader(text)
    return loader, loader.get_single_node()


#: characters YAML takes for line breaks that no editor shows as one (U+0085 NEXT LINE, U+2028, U+2029)
_YAML_ONLY_BREAK = re.compile("[\x85\u2028\u2029]")


def ends_mid_line(text: str) -> str:
    """Why ``text`` reads as cut short ("" when it is not): every file written whole, by an editor or by dossier,
    ends with a line break; a copy or a download that stopped mid-line is still YAML, its last value shortened (a
    sentence of the manual ending in "there is no new") with nothing said."""
    if not text or text.endswith(("\n", "\r")):
        return ""
    return (f"file ends mid-line, after {text.splitlines()[-1][-30:]!r}: a copy cut short ends so, and the rest of "
            "its last value would be lost")


#: how a whole text block ends: a full stop, question or exclamation mark, or a colon before what follows it,
#: then any closing quotes, brackets or backticks
SENTENCE_END = re.compile(r"[.!?:][\"')\]`*_]*\Z")


def _ends_mid_sentence(root: yaml.Node) -> tuple[str, tuple[int, int]] | None:
    """Why the document reads as cut at a line end, and where: its last value is a block text (``>-``, ``|``) whose
    last line stops mid-sentence. A copy cut after a whole line is still YAML and ends there; the text shortened
    to its first lines ("there is no single kernel to") reached the manual with nothing said."""
    node = root
    while isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.value:
        node = node.value[-1][1] if isinstance(node, yaml.MappingNode) else node.value[-1]
    if not (isinstance(node, yaml.ScalarNode) and node.style in (">", "|")):
        return None
    text = node.value.rstrip()
    if not text or SENTENCE_END.search(text):
        return None
    end = node.end_mark
    line = end.line if end.column == 0 else end.line + 1
    return (f"file ends mid-sentence, after {text.splitlines()[-1][-30:]!r} (the last line of its last text block): "
            "a copy cut at a line end ends so, and the rest of that text would be lost; restore the file, or end "
            "the text with a full stop if it is whole"), (line, 1)


def _cut_by_comment(node: yaml.ScalarNode, lines: list[str]) -> tuple[str, int, int] | None:
    """Why and where unquoted text of several words is cut by a comment: in a plain scalar `` #`` starts a YAML
    comment, so "the same score #10466 reported" reads as "the same score" and the rest never reaches the manual.
    A comment after one word (``lane: gdn-kernels  # ...``) or after quoted text is a comment as meant."""
    if node.style not in (None, "") or " " not in node.value.strip():
        return None
    end = node.end_mark
    rest = lines[end.line][end.column:] if end.line < len(lines) else ""
    if not (m := re.match(r"[ \t]+#", rest)):
        return None
    return (f"unquoted text is cut by a comment: YAML reads ' #' as its start, so {rest[m.end() - 1:].strip()[:40]!r} "
            "is dropped from the text; quote the whole text (\"...\"), or put a comment on a line of its own",
            end.line + 1, end.column + m.end())


def _value_read_as_comment(key: yaml.Node, value: yaml.Node, lines: list[str]) -> str | None:
    """The text after ``key:`` that YAML read as a comment, leaving the value empty (``pr: #19321``, ``lane:
    #gdn-projection``), else None. A comment as meant has a space after its ``#`` (``superseded_by:  # none``)."""
    if not (isinstance(value, yaml.ScalarNode) and value.tag == "tag:yaml.org,2002:null" and value.value == ""):
        return None
    rest = lines[key.end_mark.line][key.end_mark.column:] if key.end_mark.line < len(lines) else ""
    m = re.match(r"\s*:\s+(#\S.*?)\s*$", rest)
    return m.group(1) if m else None


def _alias_problem(root: yaml.Node) -> tuple[str, tuple[int, int]] | None:
    """Why the document's aliases make it unusable (a value containing itself, or too many nodes once
    expanded) and where, else None. Every reader of card data may then walk it without a guard."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        if id(node) in sizes:
            return sizes[id(node)]
        if id(node) in active:
            raise _Cycle(node)
        active.add(id(node))
        children = ([n for pair in node.value for n in pair] if isinstance(node, yaml.MappingNode)
                    else node.value if isinstance(node, yaml.SequenceNode) else [])
        total = 1 + sum(size(c) for c in children)
        active.discard(id(node))
        sizes[id(node)] = min(total, MAX_NODES + 1)
        return sizes[id(node)]

    try:
        if size(root) > MAX_NODES:
            return f"aliases expand the document beyond {MAX_NODES} values", (1, 1)
    except _Cycle as cycle:
        mark = cycle.node.start_mark
        return "an alias makes a value contain itself", (mark.line + 1, mark.column + 1)
    return None


class _Cycle(Exception):
    def __init__(self, node: yaml.Node):
        self.node = node


#: the characters too_deep reads: line breaks, quotes and flow brackets
_FLOW_MARK = re.compile(r"[\n'\"\[\]{}]")


def too_deep(text: str) -> tuple[int, int] | None:
    """Where flow collections first nest deeper than MAX_FLOW_DEPTH (quotes roughly skipped)."""
    depth, quote, line, line_start = 0, "", 1, 0
    for mark in _FLOW_MARK.finditer(text):
        ch = mark[0]
        if ch == "\n":
            line, line_start, quote = line + 1, mark.end(), ""
        elif quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"" and depth:
            quote = ch
        elif ch in "[{":
            depth += 1
            if depth > MAX_FLOW_DEPTH:
                return line, mark.start() - line_start + 1
        elif ch in "]}":
            depth = max(0, depth - 1)
    return None


#: the tags of plain scalars YAML reads as no text
_NOT_TEXT = {f"tag:yaml.org,2002:{t}" for t in ("bool", "null", "int", "float")}


def _record_positions(node: yaml.Node, path: str, doc: YamlDoc, seen_nodes: set[int], lines: list[str]) -> None:
    """Each value's position in ``doc``, and what YAML reads otherwise than the file shows (a duplicate key, a merge
    key, text a comment cuts: ``lines`` are the file's) as read errors."""
    doc.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if id(node) in seen_nodes:  # an alias: its positions are those of the anchor (also stops alias loops)
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.ScalarNode) and (cut := _cut_by_comment(node, lines)) is not None:
        doc.read_errors.append(("D102", *cut))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)[:80]
            child = f"{path}.{key}" if path else key
            if key_node.tag == "tag:yaml.org,2002:merge":
                line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                doc.read_errors.append(("D108", "merge key '<<': it names fields a second time, and a field written "
                                        "out as well keeps its own value, dropping the merged one without a word; "
                                        "write each field once, in full", line, col))
            elif key in seen:
                line, col = key_node.start_mark.line + 1, key_node.start_mark.column + 1
                doc.read_errors.append(("D108", f"duplicate key {key!r}: name each field once (the file is "
                                        "not used until it does)", line, col))
            seen.add(key)
            if (hidden := _value_read_as_comment(key_node, value_node, lines)) is not None:
                doc.read_errors.append(("D102", f"{key}: YAML reads {hidden!r} as a comment, so the value is empty: "
                                        f"put it in quotes ('{hidden}'), or drop the `#` where a number is meant",
                                        value_node.start_mark.line + 1,
                                        value_node.start_mark.column + 1))
            _record_positions(value_node, child, doc, seen_nodes, lines)
            # a diagnostic about a key points at the key, not at its value; a key YAML reads as no text (`on:` is
            # True, `~:` None) is named by what it reads as, so it is placed under that name too
            read = [child]
            if key_node.tag in _NOT_TEXT and isinstance(key_node, yaml.ScalarNode):
                as_read = str(yaml.safe_load(key_node.value))[:80]
                read.append(f"{path}.{as_read}" if path else as_read)
            for name in read:
                doc.positions[name] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                doc.positions[name + "#value"] = (value_node.start_mark.line + 1, value_node.start_mark.column + 1)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _record_positions(item, f"{path}[{i}]", doc, seen_nodes, lines)


def strings(data: object, path: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, text) of every string in a document's data, as lint positions name them."""
    if isinstance(data, str):
        yield path, data
    elif isinstance(data, dict):
        for k, v in data.items():
            yield from strings(v, f"{path}.{k}" if path else str(k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from strings(v, f"{path}[{i}]")


class UnreadableDirectory(DossierError):
    """A folder of cards or findings that cannot be listed: nothing in it would be read (exit 2)."""


def yaml_files(folder: Path) -> list[Path]:
    """The ``*.yaml`` files directly in ``folder``, hidden ones aside (see :func:`hidden`); raises
    UnreadableDirectory when it cannot be listed (a glob would silently find nothing, and every card or finding
    in it would drop out of lint and the manual)."""
    try:
        names = os.listdir(folder)
    except OSError as exc:
        raise UnreadableDirectory(f"cannot read {folder}/: {exc.strerror or exc}") from None
    return [folder / n for n in names if n.endswith(".yaml") and not hidden(n)]


def hidden(name: str) -> bool:
    """A hidden name is never a card, finding or lanes file: what editors and systems put beside the file being
    edited (Emacs's lock `.#100.yaml`, a dangling link while the card is open; macOS's `._100.yaml`), and
    dossier's own temp files. Reading one would stop render while a card is merely open in an editor."""
    return name.startswith(".")


def named_file(path: Path) -> bool:
    """Whether ``path``, named on the command line, stands for a file: anything there but a folder (a pipe such as
    `<(cat card)` too, which read_yaml refuses without blocking: D100)."""
    return path.exists() and not path.is_dir()


def card_paths(paths: Iterable[Path]) -> list[Path]:
    """Expand files and directories into card files (sorted, lanes.yaml and findings excluded)."""
    out: set[Path] = set()
    for p in paths:
        if p.is_dir() and p.name != FINDINGS_DIR:
            out.update(f for f in yaml_files(p) if f.name not in NOT_CARDS)
        elif named_file(p) and p.name not in NOT_CARDS and p.parent.name != FINDINGS_DIR:
            out.add(p)
    return sorted(out, key=lambda f: (len(f.stem), f.stem, str(f)))


def finding_paths(paths: Iterable[Path]) -> list[Path]:
    """Finding files among ``paths``: those in a findings folder, and the findings folder of a cards dir."""
    out: set[Path] = set()
    for p in paths:
        if p.is_dir():
            folder = p if p.name == FINDINGS_DIR else p / FINDINGS_DIR
            if folder.exists() or folder.is_symlink():
                out.update(yaml_files(folder))
        elif p.parent.name == FINDINGS_DIR:
            out.add(p)
    return sorted(out)


def stray_files(cards_dir: Path) -> list[Path]:
    """YAML files under ``cards_dir`` that are never read: a .yml or upper-case suffix, or another subdirectory
    (a card is exactly cards/<pr>.yaml, a finding cards/findings/<slug>.yaml)."""
    out = []

    def unreadable(exc: OSError) -> None:
        raise UnreadableDirectory(f"cannot read {exc.filename}/: {exc.strerror or exc}")

    for dirpath, dirnames, filenames in os.walk(cards_dir, onerror=unreadable):
        dirnames[:] = sorted(d for d in dirnames if not hidden(d))
        filenames = [n for n in filenames if not hidden(n)]
        # cards sit directly in cards/, findings directly in cards/findings/
        read = Path(dirpath) in (cards_dir, cards_dir / FINDINGS_DIR)
        for name in sorted(filenames):
            suffix = Path(name).suffix
            if suffix.lower() in YAML_SUFFIXES and not (read and suffix == ".yaml"):
                out.append(Path(dirpath) / name)
    return out
