"""Text bound for a terminal: control characters from cards, diffs or answers are shown, never acted on."""

from __future__ import annotations

#: C0 controls but tab and line feed -> their Control Pictures (ESC -> U+241B), DEL -> U+2421, C1 -> U+FFFD: one
#: character each, so a Text's styled spans stay where they were
_PICTURES = str.maketrans({**{c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A)}, 0x7F: 0x2421,
                           **{c: 0xFFFD for c in range(0x80, 0xA0)},
                           # bidirectional marks, embeddings, overrides and isolates: a terminal that honours them
                           # shows the rest of the line reversed (U+202E in a title)
                           **{c: 0xFFFD for c in (0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F),
                                                  *range(0x2066, 0x206A))}})


def visible(text: str) -> str:
    """``text`` with every control character a terminal would act on (an ESC sequence clears the screen, sets the
    window title or hides what follows; a bidirectional override reverses the line) replaced by a visible stand-in
    of the same length."""
    return text.translate(_PICTURES)


def one_line(text: str) -> str:
    """``text`` as one line a terminal only shows: :func:`visible`, and a line break as U+240A (a path given with
    one split an `error:` line in two)."""
    return visible(text).replace("\n", "\u240a")


def first_control(text: str) -> int | None:
    """Where ``text`` holds its first control character (C0, DEL or C1; tab and line feed included), None if nowhere:
    never part of a title, code, name or address."""
    return next((i for i, ch in enumerate(text) if ch < " " or "\x7f" <= ch <= "\x9f"), None)
