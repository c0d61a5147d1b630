"""A tiny declarative schema language: one spec drives validation (lint D1xx) and JSON Schema export.

Hand-written rather than jsonschema-based so that every problem carries the YAML path it concerns,
which the loader maps to a line and column.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

_JSON_TYPES = {"int": "integer", "str": "string", "bool": "boolean"}
_DATE_SHAPE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
#: what ends a line, in YAML's reading or a renderer's ("\n" in a quoted id still ends the anchor it names)
_LINE_BREAK = re.compile(r"[\n\r\v\f\x85\u2028\u2029]")
#: a repository-relative POSIX path: no leading slash or drive, no backslash, no "." or ".." part
REL_PATH = r"^(?![A-Za-z]:)(?!/)(?!.*\\)(?!(?:.*/)?\.\.?(?:/|$))\S(?:.*\S)?$"
#: an id that names an anchor (`#lane-<id>`, `<a id="<id>">`): lower-case words joined by "-"
SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


#: how the schema's messages name a value of each kind, alone and several
_WORDS = {"int": ("an integer", "integers"), "str": ("text", "texts"),
          "date": ("a date YYYY-MM-DD", "dates YYYY-MM-DD"),
          "map": ("a mapping", "mappings"), "bool": ("true or false", "true or false values")}

@dataclass(frozen=True)
class Problem:
    """One schema violation: which rule family member, where (dotted path) and what."""

    kind: str  # missing | empty | unknown | type | enum | choice | format | length | duplicate
    path: str
    message: str


@dataclass(frozen=True)
class Spec:
    """The expected shape of one YAML value."""

    kind: str  # int | str | bool | date | list | map | enum
    doc: str = ""
    required: bool = True
    nullable: bool = False
    items: Spec | None = None  # for list
    fields: dict[str, Spec] = field(default_factory=dict)  # for map
    choices: tuple[str, ...] = ()  # for enum
    one_of_keys: tuple[frozenset[str], ...] = ()  # for map: the allowed key sets (exclusive variants)
    min_value: int | None = None
    max_value: int | None = None
    relpath: bool = False  # for str: a path relative to the repository root (see REL_PATH)
    slug: bool = False  # for str: an id that names an anchor (see SLUG)
    one_line: bool = False  # for str: a name, path or title (a link, table cell or code span): no line break
    min_items: int = 0  # for list: the fewest items it may hold
    unique: str = ""  # for a list of maps: the field no two items may share (an id that names an anchor)
    taken: tuple[str, ...] = ()  # for a list with ``unique``: the values the page's own anchors already hold
    distinct: bool = False  # for a list of values or mappings: no entry twice (the manual would show it twice)
    row_key: tuple[str, ...] = ()  # for a list of maps: fields no two items may share all at once (a table's cell)
    max_len: int | None = None  # for str: the most characters the field may hold ...
    max_len_of: str = ""  # ... and the kind of text that limit is for ("a title", "prose")

    def check(self, value: Any, path: str = "") -> Iterator[Problem]:
        """Yield every way ``value`` departs from this spec."""
        if value is None:
            if not self.nullable:
                yield Problem("type", path, f"{_name(path)} must not be empty (expected {self.describe()})")
            return
        if self.kind == "int":
            if isinstance(value, str) and (reads := _yaml11_int(value)):
                yield Problem("type", path, f"{_name(path)} is written {value}, which YAML 1.1 reads as {reads}: "
                              "write the number in plain decimal digits"[:200])
            elif isinstance(value, bool) or not isinstance(value, int):
                yield _type(path, self, value)
            elif self.min_value is not None and value < self.min_value:
                yield Problem("type", path, f"{_name(path)} must be >= {self.min_value}, got {value}")
            elif self.max_value is not None and value > self.max_value:
                yield Problem("type", path, f"{_name(path)} must be <= {self.max_value}, got {value}"[:200])
        elif self.kind == "str":
            if not isinstance(value, str):
                yield _type(path, self, value)
            elif not value.strip():  # the manual would show nothing there: an empty bullet, cell or label
                yield Problem("empty", path, f"{_name(path)} is empty")
            elif (self.one_line or self.relpath or self.slug) and _LINE_BREAK.search(value):
                yield Problem("format", path, f"{_name(path)} holds a line break, {value!r}: it is one line of the "
                              "manual (a name, a path, a link or a table cell)"[:200])
            elif self.relpath and not re.fullmatch(REL_PATH, value):
                yield Problem("format", path, f"{_name(path)} must be a path relative to the repository root "
                              f"(no leading /, no . or .. parts), got {value!r}"[:200])
            elif self.slug and not re.fullmatch(SLUG, value):
                yield Problem("format", path, f"{_name(path)} must be lower-case letters and digits joined by '-' "
                              f"(it names an anchor), got {value!r}"[:200])
            elif self.max_len is not None and len(value) > self.max_len:
                yield Problem("length", path, f"{_name(path)} is {len(value)} characters, over the limit of "
                              f"{self.max_len} for {self.max_len_of or 'this field'}")
        elif self.kind == "bool":
            if not isinstance(value, bool):
                yield _type(path, self, value)
        elif self.kind == "date":
            if isinstance(value, str) and _DATE_SHAPE.fullmatch(value):
                if not _is_date(value):
                    yield Problem("format", path, f"{_name(path)} is {value}, which is not a real date")
                elif not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):  # YAML reads a date only with two-digit parts
                    y, m, d = (int(x) for x in value.split("-"))
                    yield Problem("format", path, f"{_name(path)} is {value!r}, which YAML reads as text: write the "
                                  f"month and day in two digits, {y:04d}-{m:02d}-{d:02d}")
                else:  # quoted in YAML: exactly the asked-for shape, so say what is wrong with it
                    yield Problem("type", path, f"{_name(path)} is the text {value!r}, not a date: write it "
                                  "without quotes")
            elif isinstance(value, dt.datetime):
                yield Problem("type", path, f"{_name(path)} is {value}, a date with a time: write the day only, "
                              f"{value.date()}")
            elif not isinstance(value, dt.date):
                yield _type(path, self, value)
        elif self.kind == "enum":
            if not isinstance(value, str) or value not in self.choices:
                # `status: yes` is read as True, `status: null` as None: say so, or the value the author wrote is
                # not the one the message names
                read = (f" (YAML read the word as {value!r}; put it in quotes if it is meant as text)"
                        if isinstance(value, bool) or value is None else "")
                yield Problem(
                    "enum", path, f"{_name(path)} is {value!r}{read}; expected one of: {', '.join(self.choices)}"
                )
        elif self.kind == "list":
            if not isinstance(value, list):
                yield _type(path, self, value)
                return
            if len(value) < self.min_items:
                yield Problem("empty", path, f"{_name(path)} is empty" if not value else
                              f"{_name(path)} holds {len(value)} item(s), fewer than {self.min_items}")
            first: dict[str, int] = {}
            for i, item in enumerate(value):
                yield from self.items.check(item, f"{path}[{i}]")
                key = item.get(self.unique) if self.unique and isinstance(item, dict) else None
                if isinstance(key, str) and first.setdefault(key, i) != i:
                    yield Problem("duplicate", f"{path}[{i}].{self.unique}", f"{path}[{i}].{self.unique} {key!r} is "
                                  f"also {path}[{first[key]}]'s: one would take the other's anchor and place")
                elif key in self.taken:
                    yield Problem("duplicate", f"{path}[{i}].{self.unique}", f"{path}[{i}].{self.unique} {key!r} is "
                                  "an anchor the page already has (a block of its own): links to it would reach "
                                  "either; pick another id")
            if self.row_key:
                rows: dict[tuple, int] = {}
                for i, item in enumerate(value):
                    key = tuple(item.get(k) for k in self.row_key) if isinstance(item, dict) else None
                    if key and all(isinstance(k, str) for k in key) and rows.setdefault(key, i) != i:
                        said = ", ".join(f"{k} {v}" for k, v in zip(self.row_key, key, strict=True))
                        yield Problem("duplicate", f"{path}[{i}]", f"{path}[{i}] ({said}) is also {path}[{rows[key]}]'s: "
                                      "the table would give two answers for one cell")
            if self.distinct:
                seen: dict[object, int] = {}
                for i, item in enumerate(value):
                    key = _as_shown(item) if isinstance(item, str) else _map_as_shown(item) if isinstance(item, dict) \
                        else item
                    if isinstance(item, str | int | dict) and seen.setdefault(key, i) != i:
                        what = "" if isinstance(item, dict) else f" {item!r}"
                        yield Problem("duplicate", f"{path}[{i}]", f"{path}[{i}]{what} is also {path}[{seen[key]}]"
                                      f"{'' if value[seen[key]] == item else ' as the manual shows it'}: the manual "
                                      "would show it twice")
        elif self.kind == "map":
            yield from self._check_map(value, path)

    def _check_map(self, value: Any, path: str) -> Iterator[Problem]:
        if not isinstance(value, dict):
            yield _type(path, self, value)
            return
        prefix = f"{path}." if path else ""
        for key in value:
            if key not in self.fields:
                known = ", ".join(self.fields)
                read = "" if isinstance(key, str) else " (YAML read the key as no text: put it in quotes)"
                yield Problem("unknown", f"{prefix}{key}", f"unknown field {key!r}{read} (known: {known})")
        if self.one_of_keys:
            present = frozenset(k for k in value if k in self.fields)
            if present not in self.one_of_keys:
                variants = " or ".join("{" + ", ".join(sorted(v)) + "}" for v in self.one_of_keys)
                yield Problem("choice", path, f"{_name(path)} must have exactly the keys {variants}")
            for key in present:
                yield from self.fields[key].check(value[key], f"{prefix}{key}")
            return
        for key, spec in self.fields.items():
            if key not in value:
                if spec.required:
                    yield Problem("missing", path, f"missing required field {prefix}{key!s}")
                continue
            yield from spec.check(value[key], f"{prefix}{key}")

    def field_names(self) -> frozenset[str]:
        """Every field name of this map, its maps' fields included (a card's: merged_at, key_fragment, explain...)."""
        return frozenset(name for key, spec in self.fields.items() for name in (key, *spec.field_names()))

    def describe(self, plural: bool = False) -> str:
        """What a value of this spec is ("an integer"), or several of them (``plural``: "integers")."""
        if self.kind == "list":
            return ("lists of " if plural else "a list of ") + self.items.describe(plural=True)
        if self.kind == "enum":
            return ("values among " if plural else "one of ") + "|".join(self.choices)
        return _WORDS[self.kind][plural]

    def json_schema(self) -> dict:
        """This spec as a JSON Schema (draft 2020-12) fragment."""
        if self.kind in _JSON_TYPES:
            out: dict[str, Any] = {"type": _JSON_TYPES[self.kind]}
            if self.min_value is not None:
                out["minimum"] = self.min_value
            if self.max_value is not None:
                out["maximum"] = self.max_value
            if self.kind == "str":
                out["pattern"] = r"\S"
            if self.relpath:
                out["pattern"] = REL_PATH
            if self.slug:
                out["pattern"] = SLUG
            if self.max_len is not None:
                out["maxLength"] = self.max_len
        elif self.kind == "date":
            out = {"type": "string", "format": "date"}
        elif self.kind == "enum":
            out = {"enum": list(self.choices)}
        elif self.kind == "list":
            out = {"type": "array", "items": self.items.json_schema()}
            if self.min_items:
                out["minItems"] = self.min_items
        else:
            props = {k: s.json_schema() for k, s in self.fields.items()}
            out = {"type": "object", "properties": props, "additionalProperties": False}
            if self.one_of_keys:
                out["oneOf"] = [{"required": sorted(v), "maxProperties": len(v)} for v in self.one_of_keys]
            else:
                required = [k for k, s in self.fields.items() if s.required]
                if required:
                    out["required"] = required
        if self.nullable:
            out = {"anyOf": [out, {"type": "null"}]}
        if self.doc:
            out["description"] = self.doc
        return out


#: YAML 1.1's reading of a plain scalar's type
_RESOLVER = yaml.resolver.Resolver()


def _yaml11_int(text: str) -> str:
    """What YAML 1.1 makes of ``text`` when it reads it as a number other than its plain decimal digits (the card
    loader keeps such a scalar as text), else ""."""
    if len(text) >= 40 or _RESOLVER.resolve(yaml.ScalarNode, text, (True, False)) != "tag:yaml.org,2002:int":
        return ""  # not a number to YAML 1.1 (a tag written as text, "!!bool", would crash PyYAML's reading of it)
    try:
        value = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError):  # "0b_": YAML 1.1's pattern for a number, with no digit in it
        return ""
    if not isinstance(value, int) or isinstance(value, bool) or str(value) == text:
        return ""
    digits = text.lstrip("+-").replace("_", "")
    base = ("hexadecimal " if digits[:2] in ("0x", "0X") else "binary " if digits[:2] == "0b" else
            "base-60 " if ":" in digits else "octal " if digits[:1] == "0" and len(digits) > 1 else "")
    return f"the {base}number {value}"


def is_day(text: object) -> bool:
    """Whether ``text`` is a real day written YYYY-MM-DD (what the locks and results record)."""
    return isinstance(text, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) is not None and _is_date(text)


def _is_date(text: str) -> bool:
    y, m, d = (int(x) for x in text.split("-"))
    try:
        dt.date(y, m, d)
    except ValueError:
        return False
    return True


def _name(path: str) -> str:
    return path or "document"


def _type(path: str, spec: Spec, value: Any) -> Problem:
    got = type(value).__name__
    said = f"{_name(path)} must be {spec.describe()}, got {got} {value!r}"[:160]
    if spec.kind == "str":  # the author wrote text that YAML 1.1 reads as something else
        if isinstance(value, bool):
            said += ": YAML 1.1 reads yes, no, on and off as true or false; put the text in quotes"
        elif isinstance(value, dt.date | int | float):
            said += f": YAML read it as a {'date' if isinstance(value, dt.date) else 'number'}; put the text in quotes"
    return Problem("type", path, said)


def _map_as_shown(item: dict) -> tuple:
    """A list entry that is a mapping, as the manual shows it: each field's text folded as :func:`_as_shown` folds it
    (a step copied below itself is one step twice)."""
    return tuple(sorted((str(k), _as_shown(v) if isinstance(v, str) else repr(v)) for k, v in item.items()))


def _as_shown(text: str) -> str:
    """``text`` as the manual shows it: whitespace runs as one space, composed characters (NFC)."""
    return unicodedata.normalize("NFC", " ".join(text.split()))
