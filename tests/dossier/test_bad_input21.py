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


@pytest.mark.parametrize("title", ["Fix 🚀 thing", "Support 𝕏 in the title", "plain: a # b"])
def test_new_writes_a_title_past_u_ffff_as_itself_so_its_own_card_lints(project_dir, title):
    """JSON's ASCII form wrote an emoji as two escaped surrogates, which YAML reads back as two lone ones: the card
    `dossier new` had just written failed lint (D112, a character the author never typed)."""
    import yaml
    from typer.testing import CliRunner

    from dossier.cli import app

    runner = CliRunner()
    made = runner.invoke(app, ["new", "557", "--title", title, "--state", "open", "--lane", "gdn-projection",
                               "--root", str(project_dir)])
    assert made.exit_code == 0, made.output
    card = project_dir / "cards" / "557.yaml"
    assert yaml.safe_load(card.read_text(encoding="utf-8"))["title"] == title
    lint = runner.invoke(app, ["lint", "cards/557.yaml", "--root", str(project_dir), "--select", "D112"])
    assert "D112" not in lint.output, lint.output


def test_yaml_list_round_trips_any_file_name():
    import yaml

    from dossier.yaml_scalar import yaml_list

    names = ["python/sglang/emoji🚀.py", "a: b #c.py", "x\u0085y.py"]
    assert yaml.safe_load(f"files: {yaml_list(names)}")["files"] == names
