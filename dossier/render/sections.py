"""Anchored sections of a rendered page kept to one short read: a long list section is cut into continued parts."""

from __future__ import annotations

import re

#: the most words a section a link or a grep leads to may hold (tests/dossier/test_manual_shape.py holds every
#: linked page to it)
SECTION_WORDS = 1100

_ANCHOR = re.compile(r'^<a id="([\w-]+)"></a>$', re.M)
_HEADING = re.compile(r"^(#{1,6} .*?)$", re.M)
_ITEM = re.compile(r"\n(?=- )")


def continued(page: str, limit: int = SECTION_WORDS) -> str:
    """``page`` with each ``<a id>`` section of more than ``limit`` words cut between its list items into parts of
    at most ``limit`` words (an item is never cut): every part after the first under its own anchor, ``<id>-part-2``
    and on, and its heading marked "(continued)". Sections within the limit, and text before the first anchor, are
    unchanged."""
    parts = _ANCHOR.split(page)
    out = [parts[0]]
    for anchor, body in zip(parts[1::2], parts[2::2], strict=True):
        chunks = _chunks(body, limit)
        out.append(f'<a id="{anchor}"></a>{chunks[0]}')
        heading = _HEADING.search(chunks[0])
        for n, chunk in enumerate(chunks[1:], 2):
            title = f"\n{heading[1]} (continued)\n\n" if heading else "\n"
            out.append(f'<a id="{anchor}-part-{n}"></a>{title}{chunk}')
    return "".join(out)


def _chunks(body: str, limit: int) -> list[str]:
    """``body`` (a section after its anchor line) as runs of whole items of at most ``limit`` words: the first run
    after the head (heading and any text before the first item), each later one counted with the heading it
    repeats. Every run but the last ends in a blank line, so the next anchor opens a block of its own."""
    if len(body.split()) <= limit:
        return [body]
    head, *items = _ITEM.split(body)
    heading = _HEADING.search(head)
    again = len(heading[1].split()) + 1 if heading else 0  # a continued part repeats the heading, "(continued)" added
    runs, words = [[head]], len(head.split())
    for item in items:
        n = len(item.split())
        if words + n > limit and len(runs[-1]) > (len(runs) == 1):  # the run holds an item already
            runs.append([])
            words = again
        runs[-1].append(item)
        words += n
    texts = ["\n".join(run) for run in runs]
    return [t.rstrip("\n") + "\n\n" for t in texts[:-1]] + texts[-1:]
