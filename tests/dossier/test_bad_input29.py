"""Bad input, round 29 (session 44): card and lanes.yaml text the manual showed as something else, with render,
`render --check` and lint all clean.

- Raw HTML got past the escapes three ways, so an HTML comment hid the rest of a rule and a tag vanished: a bare URL
  right before `<` (the URL took the backslash of the escaped `<`, leaving it bare), an even run of backslashes
  before `<` (`\\\\<think>`: only runs of 0 or 2 counted as unescaped), and `](<` outside any link.
- A line starting with `>` and no space (">1 TP rank: ...") opened a block quote, which dropped the `>` and turned
  the rule around.
- An `&#x202E;` in a checklist title became a right-to-left override in SKILL.md's routing table (md_cell left `&`
  as it was, while every other page showed the reference as written).
- A `*` between code spans (`num_v_heads`*`head_v_dim`) opened emphasis: each stretch between protected spans was
  judged alone, so the tick beside the star was not seen.

- An entry listed twice in a lanes.yaml list (a first file, a rule, an item's PR or finding, an error message) rendered
  twice, lint clean: only a lane's `answers` was held to distinct entries; every list of text or PRs now is.

Every escaped text is now also read by CommonMark: one that would still show raw HTML or emphasis is shown with all
of its markdown escaped, whatever rule missed it.
"""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from dossier.render.markdown import md_cell, prose
from tests.dossier.factories import make_card, write_project
from tests.dossier.test_render import render

_MD = MarkdownIt("commonmark")

CASES = [
    ("url-then-comment", "Watch http://localhost:30000/metrics<!-- and never merge a slower change --> after each change."),
    ("url-then-tag", "See https://docs.sglang.ai/basic_usage/qwen3.html<sup>2</sup> for the launch."),
    ("even-backslashes", "The reasoning parser strips the \\\\<think> prefix first."),
    ("bracket-paren-outside-a-link", "The x](<!-- hidden -->) y part stays."),
    ("star-between-code-spans", "The state holds `num_v_heads`*`head_v_dim` values and `num_k_heads`*`head_k_dim` keys."),
    ("stars-around-a-code-span", "the *`x`* flag"),
    ("character-reference", "Decode throughput is low or ITL &#x202E;spmuj"),
]


def _tokens(markdown: str) -> list:
    return [t for block in _MD.parse(markdown) for t in [block, *(block.children or ())]]


@pytest.mark.parametrize("text", [c[1] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("escape", [prose, md_cell], ids=["prose", "md_cell"])
def test_escaped_text_shows_no_html_and_no_emphasis(text, escape):
    tokens = _tokens(escape(text))
    assert not [t.type for t in tokens if t.type in ("html_inline", "html_block", "em_open", "strong_open")]
    shown = "".join(t.content for t in tokens if t.type == "inline")
    assert "hidden" not in text or "hidden" in _MD.renderInline(escape(text))  # the comment's words show
    assert shown  # something is shown


def test_a_character_reference_shows_as_written():
    assert "&#x202E;" in _MD.renderInline(md_cell("ITL &#x202E;spmuj")).replace("&amp;", "&")
    assert "\u202e" not in _MD.renderInline(md_cell("ITL &#x202E;spmuj"))


@pytest.mark.parametrize("text", [">2x faster at batch 1", ">1 TP rank: keep the state pool sharded", "> 2x"])
def test_a_leading_greater_than_sign_opens_no_quote(text):
    tokens = _tokens(prose(text))
    assert "blockquote_open" not in [t.type for t in tokens]
    assert _MD.render(prose(text)).startswith("<p>&gt;")


def test_the_manual_keeps_a_lanes_rule_and_a_claim_as_written(tmp_path):
    """Through render: a change rule with a URL and a comment after it, a claim starting with `>`."""
    from tests.dossier.factories import LANES

    lanes = {**LANES, "lanes": [{**LANES["lanes"][0], "change_rules": [CASES[0][1]]}, *LANES["lanes"][1:]]}
    card = make_card(100)
    card["validation"]["lanes"] = [">=2 GPUs: run the same GSM8K at tp2 before tp4"]
    docs = render(write_project(tmp_path, [card], lanes=lanes))
    playbook, history = docs["references/playbook.md"], docs["references/pr-history.md"]
    assert "never merge a slower change" in _MD.render(playbook)
    assert "&gt;=2 GPUs: run the same GSM8K" in _MD.render(history)
    for page in (playbook, history):
        assert not [t for t in _tokens(page) if t.type == "html_inline" and not t.content.startswith(("<a id=", "</a>"))]


@pytest.mark.parametrize("where", ["first_files", "change_rules", "item-prs", "item-findings", "error-messages"])
def test_an_entry_listed_twice_in_lanes_yaml_is_reported(tmp_path, where):
    """Only a lane's `answers` refused an entry twice; a duplicated file, rule, PR, finding or error message rendered
    twice (an index row twice, "Open finding: ..." twice), lint clean."""
    from tests.dossier.factories import LANES
    from tests.dossier.test_lint_rules import lint

    lane = dict(LANES["lanes"][0])
    answers: dict = {}
    item = {"check": "c", "prs": [100]}
    if where in ("first_files", "change_rules"):
        lane[where] = [*lane.get(where, []), *lane.get(where, [])[-1:]] if lane.get(where) else ["a.py", "a.py"]
    elif where == "item-prs":
        item["prs"] = [100, 100]
    elif where == "item-findings":
        item["findings"] = ["x", "x"]
    if where.startswith("item"):
        answers = {"checklists": [{"id": "x", "title": "X", "summary": "s", "items": [item]}]}
    if where == "error-messages":
        answers = {"errors": [{"id": "e", "title": "E", "summary": "s",
                               "items": [{"messages": ["boom", "boom"], "check": "'boom': why."}]}]}
    lanes = {**LANES, "lanes": [lane, *LANES["lanes"][1:]], **({"answers": answers} if answers else {})}
    found = [d for d in lint(write_project(tmp_path, [make_card(100)], lanes=lanes)) if "twice" in d.message]
    assert found and all(d.severity == "error" for d in found), found
