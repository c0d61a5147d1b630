"""Bad input from session 34's probes: card text and files that could change what the manual shows."""

from __future__ import annotations

import pytest
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


def _gfm(text: str) -> str:
    """``text`` as GitHub reads it, near enough: CommonMark with tables and strikethrough."""
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)


def test_a_title_with_brackets_dunders_tildes_or_a_closing_hash_keeps_its_link_and_its_text(tmp_path):
    """A checklist title "[MTP] ..." put in SKILL.md's routing link ended the link text at its `]`; `__init__` in a
    title showed `init` in italics (`\\__init_\\_`), `~~old~~` struck through, and a heading's closing " #" vanished."""
    from tests.dossier.factories import LANES

    title = "[MTP] Config.__init__ drops ~~old~~ drafts #"
    answers = {"checklists": [{"id": "mtp-drafts", "title": title, "summary": "s", "items": [{"check": "c"}]}]}
    card = make_card(7, title="Fix configs/__init__.py import #")
    docs = render(write_project(tmp_path, [card], lanes={**LANES, "answers": answers}))
    skill = _gfm(docs["SKILL.md"])
    shown = "[MTP] Config.__init__ drops ~~old~~ drafts #"
    assert f'<a href="references/answers.md#mtp-drafts">{shown}</a>' in skill
    assert f"<td>{shown}</td>" in skill
    assert f"<h2>{shown}</h2>" in _gfm(docs["references/answers.md"])
    history = _gfm(docs["references/pr-history.md"])
    assert "<h3>#7 Fix configs/__init__.py import #</h3>" in history
    assert "<em>" not in skill + history and "<del>" not in skill + history and "<s>" not in skill + history


def test_tildes_in_card_prose_never_strike_text_through():
    """GitHub strikes "5~8% lower, TPOT 2~3%" through between the tildes; a lone `~` stays as written."""
    from dossier.render.markdown import prose

    assert "<del>" not in _gfm(prose("TTFT 5~8% lower, TPOT 2~3% and ~~old~~ gone"))
    assert prose("about ~5% faster, `a~b~c` as code") == "about ~5% faster, `a~b~c` as code"


def test_for_version_text_shows_a_titles_control_characters_never_acts_on_them(tmp_path, monkeypatch):
    """`show` made a title's escape sequences visible; for-version printed them raw (a hyperlink, a clear-screen)."""
    from typer.testing import CliRunner

    from dossier.cli import app
    from tests.dossier.test_release_evidence import CARDS, released_project, verify

    cards = [dict(c, title="Evil \x1b]8;;http://x\x1b\\link\x1b[2J\rX") for c in CARDS.values()]
    root, cache = released_project(tmp_path, monkeypatch, cards)
    verify(root, cache, "--record")
    result = CliRunner().invoke(app, ["for-version", "0.2.0", "--cache-dir", str(cache), "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.output and "\r" not in result.output
    assert "Evil \u241b]8;;http://x\u241b\\link\u241b[2J\u240dX" in result.output


def test_new_refuses_a_cached_title_holding_a_control_character(tmp_path):
    """`new --title` refused a control character, but a title taken from the fetch cache (GitHub's text) went into
    the card as it was."""
    from typer.testing import CliRunner

    from dossier.cli import app
    from tests.dossier.evidence_support import put

    root = write_project(tmp_path / "p", [])
    put(root / ".dossier" / "cache", 600, title="Evil \x1b]0;pwned\x07 title")
    result = CliRunner().invoke(app, ["new", "600", "--lane", "gdn-projection", "--root", str(root)])
    assert result.exit_code == 2 and not (root / "cards" / "600.yaml").exists()
    assert "the title of #600 holds a control character (U+001B at position 6)" in " ".join(result.output.split())


@pytest.mark.parametrize("garbage", ["garbage: [\n", ""])
def test_drift_and_verify_say_when_their_lock_cannot_be_read(tmp_path, monkeypatch, garbage):
    """`drift` with a garbled (or emptied) drift.lock and `releases verify` with a garbled evidence.lock exited 0
    without a word: nothing was compared, and render refuses such a lock."""
    from typer.testing import CliRunner

    from dossier.cli import app
    from tests.dossier.test_bad_input18 import _drift_project
    from tests.dossier.test_release_evidence import released_project, verify

    runner = CliRunner()
    root, args = _drift_project(tmp_path / "d", "self.in_proj_qkvzba = MergedColumnParallelLinear(\n")
    assert runner.invoke(app, [*args, "--record"]).exit_code == 0
    (root / "cards" / "drift.lock").write_text(garbage)
    result = runner.invoke(app, args)
    said = " ".join(result.output.split())
    assert result.exit_code == 1 and "cards/drift.lock" in said and "`dossier drift --record` rewrites it" in said

    proj, cache = released_project(tmp_path, monkeypatch)
    verify(proj, cache, "--record")
    assert "rewrites it" not in verify(proj, cache).output  # a readable lock: compared, nothing to say of it
    lock = proj / "cards" / "evidence.lock"
    lock.write_text(lock.read_text() + "version: [\n" if garbage else "releases: 7\n")
    result = verify(proj, cache)
    said = " ".join(result.output.split())
    assert result.exit_code == 1 and "cards/evidence.lock" in said
    assert "`dossier releases verify --record` rewrites it" in said


def test_a_today_place_holding_the_prs_own_line_reads_as_a_move(tmp_path):
    """A `today` with the card's own match (the file moved to another name) read as "rewritten; the behaviour is
    at" in drift's note, "Later PRs rewrote these lines" in pr-history, lost by-file's "now in" pointer, and a
    sentence saying the line is still present was D335."""
    from typer.testing import CliRunner

    from dossier.cli import app
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project
    from tests.dossier.factories import sglang_package

    card = make_card(100)
    card["key_fragment"]["today"] = {"file": "python/sglang/kernels/ops/qkvzba.py",
                                     "match": card["key_fragment"]["match"]}
    card["implementation"] += " In SGLang 0.5.23 the key line is still present, in kernels/ops/qkvzba.py."
    root = write_project(tmp_path / "p", [card])
    tree = sglang_package(tmp_path / "s", {"version.py": '__version__ = "0.5.23"\n',  # qwen3_next.py gone
                                           "kernels/ops/qkvzba.py": card["key_fragment"]["match"] + "\n"})
    assert CliRunner().invoke(app, ["drift", "--record", "--sglang-src", str(tree), "--root", str(root)]).exit_code == 0
    from dossier.manual import render_manual

    docs = render_manual(Project.load(root))
    history = docs["references/pr-history.md"]
    assert "**SGLang 0.5.23:** moved to `python/sglang/kernels/ops/qkvzba.py` line 1." in history
    assert "**Today.**" not in history and "rewrote" not in history
    assert "now in `python/sglang/kernels/ops/qkvzba.py`" in docs["references/by-file.md"]
    found = run_lint(LintContext(Project.load(root), sglang_src=tree), select=["D335"])
    assert found == [], [d.text() for d in found]
