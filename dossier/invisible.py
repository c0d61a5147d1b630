"""Characters a reader of the manual cannot see, or that change how it displays: no card, title or name holds one."""

from __future__ import annotations

import re
import unicodedata

#: characters a reader cannot see or that change how the rendered manual displays: C0/C1 controls (not tab or
#: newline), zero-width characters, bidirectional overrides and isolates, the byte-order mark; the rest of
#: Unicode's format class (a soft hyphen, U+180E, interlinear annotation marks) is read by category below, and
#: the blanks of other classes are named here: the Hangul fillers and Khmer inherent vowels (letters, blank on
#: screen), the combining grapheme joiner and the variation selectors (marks that draw nothing: "pick\u034f_norm"
#: hid a made-up name from the name checks), the braille blank (a symbol that looks like a space)
_HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
                     "\u115f\u1160\u3164\uffa0\u17b4\u17b5\u034f\u180b-\u180d\ufe00-\ufe0f\U000e0100-\U000e01ef"
                     "\u2800]")
#: categories no card needs: format characters (Cf), surrogates (Cs: a YAML escape such as "\\udcff" reads as
#: one, and no UTF-8 file can hold it, so render crashed writing it) and private-use characters (Co)
_HIDDEN_CATEGORIES = ("Cf", "Cs", "Co")



def _noncharacter(ch: str) -> bool:
    return 0xFDD0 <= ord(ch) <= 0xFDEF or ord(ch) & 0xFFFE == 0xFFFE


def first_hidden(text: str) -> int | None:
    """Where ``text`` holds its first hidden character (the named set, then a format, surrogate, private-use or
    noncharacter code point), None if nowhere."""
    if m := _HIDDEN.search(text):
        return m.start()
    if text.isascii():
        return None
    return next((i for i, ch in enumerate(text)
                 if unicodedata.category(ch) in _HIDDEN_CATEGORIES or _noncharacter(ch)), None)
