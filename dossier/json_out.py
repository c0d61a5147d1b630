"""JSON that a strict reader takes, also for names that are not UTF-8.

Python reads a file name whose bytes are not UTF-8 (``caf\\xe9.yaml``, from a Latin-1 system) with a lone
surrogate per byte (``caf\\udce9.yaml``), and json.dumps writes that as the escape ``\\udce9``, which strict
readers (serde_json, I-JSON, JSON Schema validators) refuse. :func:`dumps` writes such a text, wherever it sits,
as UTF-8 with U+FFFD in place of each of those bytes (a reader shows it as Python's own replacement does); one
that is a value of an object also gets the exact bytes beside it, base64, under its key + ``_bytes`` (``"file":
"cards/caf\\ufffd.yaml", "file_bytes": "Y2FyZHMvY2Fm6S55YW1s"``), so the name round-trips
(``os.fsdecode(base64.b64decode(doc["file_bytes"]))``). Text that is valid Unicode is written as before.
"""

from __future__ import annotations

import base64
import json
import re

#: a surrogate code point: never in text decoded strictly; a byte that was not UTF-8 (U+DC80..U+DCFF) otherwise
_SURROGATE = re.compile("[\ud800-\udfff]")


def dumps(data, **kwargs) -> str:
    """``json.dumps(data, **kwargs)`` of ``data`` with every text holding a surrogate written as said above."""
    return json.dumps(_valid(data), **kwargs)


def _raw(text: str) -> bytes:
    """The bytes ``text`` was read from (surrogateescape), or its code points as UTF-8 would spell them."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no undecodable byte gives (a "\ud800" escape in JSON read earlier)
        return text.encode("utf-8", "surrogatepass")


def _valid(value):
    if isinstance(value, str):
        return _raw(value).decode("utf-8", "replace") if _SURROGATE.search(value) else value
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            key = _valid(key)  # a key has no place for its bytes: a name is a value in every document we write
            out[key] = _valid(item)
            if isinstance(item, str) and _SURROGATE.search(item):
                out[f"{key}_bytes"] = base64.b64encode(_raw(item)).decode()
        return out
    if isinstance(value, list | tuple):
        return [_valid(item) for item in value]
    return value
