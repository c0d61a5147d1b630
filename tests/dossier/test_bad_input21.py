"""Bad input, round 21: what probes of session 35 found."""
import re

import pytest
from markdown_it import MarkdownIt

from dossier.render.markdown import _unpaired_ticks_escaped, link_prs, prose

_MD = MarkdownIt("commonmark")


def _code_spans(markdown: str) -> list[str]:
    return re.findall(r"<code>(.*?)</code>", _MD.renderInline(markdown))


@pytest.mark.parametrize("text", [
    "a folder C:\\\\`x_y` and #123 then `a*b`",  # an escaped backslash, then a span: the tick opens it
    "an escaped \\` tick, then `code` and #4567",  # an escaped tick opens nothing
    "three \\\\\\` then #4567 and `a` b",  # an escaped backslash and an escaped tick
    "a span `a\\` ends at its tick, then #4567 `b`",  # a backslash inside a span is text: the tick closes it
    "a lone escaped tick \\` and #4567",
])
def test_a_backslash_before_a_backtick_is_read_as_commonmark_reads_it(text):
    """`C:\\\\` then a code span: the span's tick was taken for an escaped one, the span's closing tick opened one
    that ran to the next, and the PR mention between lost its link; escaping an already escaped tick (`\\\\` then a
    tick) made it open a span."""
    shown = link_prs(prose(text), lambda n: f"pr-history.md#pr-{n}")
    assert _code_spans(shown) == _code_spans(text)
    html = _MD.renderInline(shown)
    assert re.findall(r'<a href="pr-history.md#pr-(\d+)">#\1</a>', html) == re.findall(
        r"#(\d+)", re.sub(r"<code>.*?</code>", "", _MD.renderInline(text)))


def test_an_escaped_tick_is_not_escaped_again():
    assert _unpaired_ticks_escaped("a \\` b") == "a \\` b"
    assert _unpaired_ticks_escaped("C:\\\\` b") == "C:\\\\\\` b"  # an escaped backslash: the tick is a stray one
