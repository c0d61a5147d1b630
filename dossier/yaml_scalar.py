"""Text as YAML double-quoted scalars, for the files written from templates (a card skeleton, SKILL.md's front
matter)."""

from __future__ import annotations

import json
import re

#: what a YAML reader refuses in a document (DEL, C1 controls, lone surrogates, U+FFFE/U+FFFF) or reads as a line
#: break inside a quoted scalar (NEL, the Unicode line and paragraph separators), and the byte-order mark: escaped
_NOT_YAML_PRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


def yaml_string(text: object) -> str:
    """``text`` as one YAML double-quoted scalar (JSON's string form is one), every character as itself but those
    YAML refuses or reads as a break: a `: `, a ` #` or a new line would otherwise end it, start a comment or add a
    key, and JSON's ASCII form writes a character past U+FFFF as two escaped surrogates, which YAML reads back as
    two lone ones."""
    return _NOT_YAML_PRINTABLE.sub(lambda m: f"\\u{ord(m[0]):04x}", json.dumps(str(text), ensure_ascii=False))


def yaml_list(items: list) -> str:
    """``items`` as a YAML flow sequence of :func:`yaml_string` scalars."""
    return "[" + ", ".join(map(yaml_string, items)) + "]"
