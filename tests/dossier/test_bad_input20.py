"""Bad input from session 34's probes: card text and files that could change what the manual shows."""

from __future__ import annotations

from markdown_it import MarkdownIt

from tests.dossier.factories import make_card, write_project
from tests.dossier.test_render import render


def test_a_bare_url_in_card_prose_is_a_link_and_never_emphasis(tmp_path):
    """Only GitHub links a bare URL: a strict CommonMark reader showed `.../models/__init__.py` with a bold `init`.
    A bare URL becomes an autolink, its trailing punctuation and an unbalanced `)` left outside as GitHub does."""
    card = make_card(7)
    card["implementation"] += (" See https://example.com/srt/models/__init__.py. Also (https://example.com/a_(b)_c),"
                               " `https://example.com/__code__` and [x](https://example.com/__l__).")
    html = MarkdownIt("commonmark").render(render(write_project(tmp_path, [card]))["references/pr-history.md"])
    paragraph = next(p for p in html.split("<p>") if p.startswith("<strong>Implementation.</strong>"))
    assert "<em>" not in paragraph and paragraph.count("<strong>") == 1
    assert ('See <a href="https://example.com/srt/models/__init__.py">https://example.com/srt/models/__init__.py</a>. '
            'Also (<a href="https://example.com/a_(b)_c">https://example.com/a_(b)_c</a>), '
            '<code>https://example.com/__code__</code> and <a href="https://example.com/__l__">x</a>.') in paragraph
