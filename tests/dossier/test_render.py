"""Render: deterministic output, escaping that keeps tables intact, --check, and a valid skill file."""

from __future__ import annotations

import json
import os
import re

import pytest
import yaml
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from dossier.cli import app
from dossier.project import Project
from dossier.render import (
    RenderInput,
    render_documents,
    skill_dir,
    stale_documents,
    unexpected_files,
    write_documents,
)
from dossier.render.markdown import plain_pr_mentions
from tests.dossier.factories import DEAD_PID, LANES, make_card, write_project

runner = CliRunner()


def render(root):
    return render_documents(RenderInput(Project.load(root)))


def test_same_input_same_bytes(project_dir):
    assert render(project_dir) == render(project_dir)


def test_card_order_on_disk_does_not_matter(tmp_path):
    a = write_project(tmp_path / "a", [make_card(1), make_card(2), make_card(3)])
    b = write_project(tmp_path / "b", [make_card(3), make_card(1), make_card(2)])
    assert render(a) == render(b)


def _table_rows(text: str, header: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def _cells(row: str) -> int:
    return len(re.split(r"(?<!\\)\|", row.strip().strip("|")))


def test_pipe_and_backtick_in_title_do_not_break_tables(tmp_path):
    root = write_project(tmp_path, [make_card(7, title="Fix `a|b` and c | d `unbalanced")])
    history = render(root)["references/pr-history.md"]
    rows = _table_rows(history, "| Merged | PR |")
    assert len(rows) == 1 and _cells(rows[0]) == 5, rows
    assert r"\|" in rows[0] and r"\`" in rows[0]


def test_angle_brackets_in_card_text_stay_text(tmp_path):
    """A placeholder like `<Qwen3-Next FP8>` or `<name>` parses as an HTML tag (GitHub drops it) and `<!--` hides the
    rest of the page: card text shows them as written; code spans, autolinks and `<=` are left alone."""
    card = make_card(7)
    card["validation"]["lanes"].append("Serve with --model-path <Qwen3-Next FP8> --tp 4")
    card["implementation"] += (" It builds prefix=add_prefix(<name>, prefix) as `<tensor>` <!-- more </div>; see "
                               "<https://example.com/x> when a <= b.")
    html = MarkdownIt("commonmark").render(render(write_project(tmp_path, [card]))["references/pr-history.md"])
    assert "--model-path &lt;Qwen3-Next FP8&gt; --tp 4" in html
    assert ("add_prefix(&lt;name&gt;, prefix) as <code>&lt;tensor&gt;</code> &lt;!-- more &lt;/div&gt;; see "
            '<a href="https://example.com/x">https://example.com/x</a> when a &lt;= b.') in html


def test_a_claim_that_opens_like_markdown_block_syntax_stays_one_item(tmp_path):
    """Claims and checks are list items: `# of requests`, `1. warm up`, `> 2x` or `---` at their start would turn
    into a heading, a nested list (its number lost), a quote or a rule."""
    claims = ["# of requests: 512 (PR description)", "1. warm up 2. measure (PR description)",
              "> 2x decode (PR description)", "- 3% TTFT (PR description)", "---", "```", "TTFT -2.6% (PR description)"]
    card = make_card(7)
    card["validation"]["claims"] = claims
    html = MarkdownIt("commonmark").render(render(write_project(tmp_path, [card]))["references/pr-history.md"])
    items = re.findall(r"<li>(.*?)</li>", html, re.S)
    assert [i for i in items if i in [c.replace(">", "&gt;") for c in claims]] == [c.replace(">", "&gt;") for c in claims]


def test_a_claim_shaped_like_a_link_reference_definition_is_shown_not_swallowed(tmp_path):
    """`[bench]: benchmark/x.py` at the start of a list item (a claim, a check, a playbook step) is a link
    reference definition in markdown: the item rendered empty, and every `[bench]` elsewhere in the page
    became a link to it."""
    claims = ["[bench]: benchmark/gsm8k/bench_sglang.py", "[1]: https://example.com/run"]
    card = make_card(7)
    card["validation"]["claims"] = claims
    card["motivation"] += " The [bench] numbers come from the PR description."
    html = MarkdownIt("commonmark").render(render(write_project(tmp_path, [card]))["references/pr-history.md"])
    items = [re.sub(r"<[^>]+>", "", i) for i in re.findall(r"<li>(.*?)</li>", html, re.S)]  # the URL is a link
    assert [i for i in items if i in claims] == claims
    assert "The [bench] numbers" in html


def test_a_pipe_in_an_answer_row_stays_in_its_cell(tmp_path):
    row = {"phase": "decode", "hardware": "SM90", "default": "triton | cutedsl", "prs": [7],
           "select": "`--linear-attn-decode-backend triton|flashinfer`", "requires": "-"}
    answers = {"gdn_backends": {"summary": "s", "source": ["python/sglang/srt/x.py"], "rows": [row]}}
    root = write_project(tmp_path, [make_card(7)], lanes={**LANES, "answers": answers})
    rows = _table_rows(render(root)["references/answers.md"], "| Phase |")
    assert len(rows) == 1 and _cells(rows[0]) == 6, rows


def test_sections_follow_lane_order_and_link_supersession(project_dir):
    history = render(project_dir)["references/pr-history.md"]
    assert '<a id="pr-90"></a>' in history and '<a id="pr-100"></a>' in history
    assert "superseded by [#100](#pr-100)" in history
    assert "replaces [#90](#pr-90)" in history


def test_lane_lists_its_trail_once_current_first(project_dir):
    playbook = render(project_dir)["references/playbook.md"]
    trail = next(line for line in playbook.splitlines() if line.startswith("**PRs.**"))
    assert trail.index("#100") < trail.index("#90") and "; superseded: [#90]" in trail
    assert playbook.count("pr-history.md#pr-100") == 1  # one source per fact: the trail, once
    assert "python/sglang/srt/models/qwen3_next.py" in playbook and playbook.count("qwen3_next.py`") == 1


def test_a_trail_groups_prs_by_status_current_first(tmp_path):
    """One label per status group, not one per PR (the playbook's word budget grew by two words for every card
    that was not current); a lane with no current card starts with its first group."""
    cards = [make_card(90, status="superseded", superseded_by=[100]), make_card(100), make_card(91, status="adjacent"),
             make_card(92, status="superseded", superseded_by=[100]), make_card(101)]
    playbook = render(write_project(tmp_path / "a", cards))["references/playbook.md"]
    trail = next(line for line in playbook.splitlines() if line.startswith("**PRs.**"))
    assert re.sub(r"\]\([^)]*\)|\[", "", trail) in ("**PRs.** #100, #101; superseded: #90, #92; adjacent: #91.",
                                                  "**PRs.** #100, #101; adjacent: #91; superseded: #90, #92.")
    only_old = render(write_project(tmp_path / "b", [make_card(90, status="adjacent")]))["references/playbook.md"]
    assert re.sub(r"\]\([^)]*\)|\[", "", only_old).count("**PRs.** adjacent: #90.") == 1


def test_skill_routes_each_symptom_to_an_anchor_that_exists(project_dir):
    docs = render(project_dir)
    rows = _table_rows(docs["SKILL.md"], "| Symptom |")
    assert any("GDN projection overhead in decode" in r for r in rows)
    for target in re.findall(r"\]\((references/[\w.-]+\.md)#([\w-]+)\)", "\n".join(rows)):
        page, anchor = target
        assert f'<a id="{anchor}"></a>' in docs[page], target


def test_corrections_leave_the_reading_path(tmp_path):
    root = write_project(tmp_path, [make_card(5, corrections=["The earlier manual called this merged."])])
    docs = render(root)
    assert "The earlier manual called this merged." in docs["references/corrections.md"]
    assert not any("The earlier manual called this merged." in docs[k] for k in docs if k != "references/corrections.md")


def test_every_pr_mention_links_to_its_card_or_github(tmp_path):
    card = make_card(5, motivation=make_card(5)["motivation"] + " Follows #90, unlike #4242 (`#77` is code); "
                                                                 "NVIDIA Model-Optimizer #681 skips QKV.")
    root = write_project(tmp_path, [card, make_card(90)])
    docs = render(root)
    for name, text in docs.items():
        assert plain_pr_mentions(text) == [], name
    history = docs["references/pr-history.md"]
    assert "Follows [#90](#pr-90), unlike [#4242](https://github.com/example/repo/pull/4242)" in history
    # a short number with no card is another project's: it linked to the repository's PR 681, an unrelated one
    assert "NVIDIA Model-Optimizer #681 skips QKV" in history
    assert "`#77`" in history and "### #5 " in history  # code stays code; the heading stays greppable
    assert "[#5](references/pr-history.md#pr-5)" in docs["SKILL.md"] or "#5" not in docs["SKILL.md"]
    assert "[#90](pr-history.md#pr-90)" in docs["references/playbook.md"]


def test_unverified_evidence_and_gpu_results_stay_out_of_card_sections(tmp_path):
    ref = {"reference": "runtime.gdn", "tests": ["t.py"], "bench": "runtime.gdn.bench"}
    root = write_project(tmp_path, [make_card(5, runtime=ref)])
    from dossier.manual import render_manual

    docs = render_manual(Project.load(root))
    assert "Unverified" not in docs["references/pr-history.md"]
    assert "GPU" not in docs["references/pr-history.md"]
    kernels = docs["references/reference-kernels.md"]
    assert "not SGLang's" in kernels and "`runtime.gdn`" in kernels and "No GPU result committed yet." in kernels


def test_bench_summary_ends_with_one_period(tmp_path):
    ref = {"reference": "runtime.gdn", "tests": ["t.py"], "bench": "runtime.gdn.bench"}
    root = write_project(tmp_path, [make_card(5, runtime=ref)])
    (root / "results" / "cuda").mkdir(parents=True)
    (root / "results" / "cuda" / "5.json").write_text(json.dumps({
        "pr": 5, "ok": True, "device": {"name": "NVIDIA H200"}, "date": "2026-11-30", "passed": 1, "failed": 0,
        "parity": {}, "bench": {"module": "runtime.gdn.bench",
                                "summary": ["decode at 95% of copy", "PASS: all 54 combinations keep every invariant."]}}))
    from dossier.manual import render_manual

    kernels = render_manual(Project.load(root))["references/reference-kernels.md"]
    assert "decode at 95% of copy; PASS: all 54 combinations keep every invariant.\n" in kernels
    assert ".." not in kernels


def test_skill_frontmatter_follows_the_spec(project_dir):
    skill = render(project_dir)["SKILL.md"]
    assert skill.startswith("---\n")
    front = yaml.safe_load(skill.split("---\n")[1])
    assert set(front) == {"name", "description"}
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", front["name"]) and len(front["name"]) <= 64
    assert 0 < len(front["description"]) <= 1024
    assert len(skill.splitlines()) < 500


def test_check_names_stale_files_and_write_fixes_them(project_dir):
    docs = render(project_dir)
    folder = skill_dir(Project.load(project_dir))
    assert folder == project_dir / "skills" / "sglang-qwen3-next-optimization"
    assert stale_documents(docs, folder) == list(docs)
    result = runner.invoke(app, ["render", "--check", "--root", str(project_dir)])
    assert result.exit_code == 1 and "stale: skills/sglang-qwen3-next-optimization/SKILL.md" in result.output
    assert runner.invoke(app, ["render", "--root", str(project_dir)]).exit_code == 0
    result = runner.invoke(app, ["render", "--check", "--root", str(project_dir)])
    assert result.exit_code == 0, result.output
    (folder / "references" / "playbook.md").write_text("edited by hand\n")
    result = runner.invoke(app, ["render", "--check", "--root", str(project_dir)])
    assert result.exit_code == 1 and "stale: skills/sglang-qwen3-next-optimization/references/playbook.md" in result.output
    assert "SKILL.md" not in result.output


def test_check_fails_on_a_file_render_does_not_write(project_dir):
    """Whatever sits in the skill folder ships with an install: a stray file fails the check and is named."""
    assert runner.invoke(app, ["render", "--root", str(project_dir)]).exit_code == 0
    folder = skill_dir(Project.load(project_dir))
    (folder / "references" / "old-playbook.md").write_text("left over\n")
    result = runner.invoke(app, ["render", "--check", "--root", str(project_dir)])
    assert result.exit_code == 1 and "not rendered: skills/sglang-qwen3-next-optimization/references/old-playbook.md" in result.output
    # render leaves it where it is: the advice is to remove it, not to render again
    assert result.output.splitlines()[-1] == "remove what render does not write from the skill folder"
    result = runner.invoke(app, ["render", "--root", str(project_dir)])
    assert "old-playbook.md is not rendered; remove it" in result.output


def test_check_skips_a_running_renders_temp_file_and_names_a_dead_ones(project_dir):
    """A render in progress beside `render --check` stages hidden temp files: not strays while their writer
    runs; a killed render's leftover is one (an install would carry it), and the next render removes it."""
    assert runner.invoke(app, ["render", "--root", str(project_dir)]).exit_code == 0
    folder = skill_dir(Project.load(project_dir))
    live = folder / f".SKILL.md.{os.getpid()}.abc123.tmp"
    live.write_text("half a manual\n")
    result = runner.invoke(app, ["render", "--check", "--root", str(project_dir)])
    assert result.exit_code == 0, result.output
    live.unlink()
    dead = folder / f".SKILL.md.{DEAD_PID}.abc123.tmp"
    dead.write_text("half a manual\n")
    result = runner.invoke(app, ["render", "--check", "--root", str(project_dir)])
    assert result.exit_code == 1 and f"not rendered: skills/sglang-qwen3-next-optimization/{dead.name}" in result.output
    result = runner.invoke(app, ["render", "--root", str(project_dir)])
    assert result.exit_code == 0 and not dead.exists() and "not rendered" not in result.output


def test_write_is_idempotent(project_dir):
    docs = render(project_dir)
    assert write_documents(docs, project_dir / "skill") == list(docs)
    assert write_documents(docs, project_dir / "skill") == []


def test_committed_manual_is_current():
    """The repository's own rendered files match its cards (the CI guard for `dossier render --check`)."""
    from pathlib import Path

    from dossier.manual import render_manual

    root = Path(__file__).resolve().parents[2]
    project = Project.load(root)
    docs = render_manual(project)
    assert stale_documents(docs, skill_dir(project)) == []
    assert unexpected_files(docs, skill_dir(project)) == []


def test_a_check_several_cards_cite_is_listed_once(tmp_path):
    shared = "python -m pytest test/registered/4-gpu-models/test_qwen3_next_models.py"
    cards = [make_card(n, validation={"claims": ["x"], "lanes": [shared, f"own check {n}"]}) for n in (1, 2, 3)]
    history = render(write_project(tmp_path, cards))["references/pr-history.md"]
    assert history.count(shared) == 1 and "## Checks several cards cite" in history
    assert all(f"own check {n}" in history for n in (1, 2, 3))
    two = render(write_project(tmp_path / "two", cards[:2]))["references/pr-history.md"]
    assert two.count(shared) == 2 and "## Checks several cards cite" not in two


def test_card_validation_puts_sglang_commands_first_and_labels_repository_ones(tmp_path):
    lanes = ["python -m pytest tests/runtime/gdn (parity)", "python -m sglang.test.few_shot_gsm8k --port 30000"]
    history = render(write_project(tmp_path, [make_card(5, validation={"claims": ["x"], "lanes": lanes})]))[
        "references/pr-history.md"]
    native = history.index("- python -m sglang.test.few_shot_gsm8k")
    repo = history.index("- Dossier repository only ([reference kernels](reference-kernels.md)): python -m pytest tests/runtime/gdn")
    assert native < repo


def test_a_pointer_fragment_is_not_called_a_changed_line(tmp_path):
    pointer = make_card(6, state="closed", merged_at=None, status="candidate")
    pointer["key_fragment"] = {**pointer["key_fragment"],
                               "explain": "Unverified: no source holds the PR's lines; this names the code it targeted."}
    root = write_project(tmp_path, [make_card(5), pointer])
    history = render(root)["references/pr-history.md"]
    sections = {part.split(" ", 1)[0]: part for part in history.split("### #")[1:]}
    five, six = sections["5"], sections["6"]
    assert "the changed line matching" in five and "the code the PR targeted" not in five
    assert "the code the PR targeted, matching" in six and "the changed line matching" not in six


def test_flags_page_dates_what_the_routing_pages_name(tmp_path):
    """references/flags.md lists the SGLang flags and env vars SKILL.md, the answers and the playbook name, each with
    its first and last release; a flag given to another program and a name no release had stay out (manual15)."""
    from dossier.surface_history import Span, SurfaceHistory

    check = ("Set `--mamba-ssm-dtype bfloat16` (old: `--mamba-scheduler-strategy`), `SGLANG_MAMBA_CONV_DTYPE`; "
             "`python -m runtime.gdn.bench --json FILE`; `--made-up-flag`.")
    answers = {"checklists": [{"id": "c", "title": "T", "summary": "s", "items": [{"check": check}]}]}
    root = write_project(tmp_path, [make_card(7)], lanes={**LANES, "answers": answers})
    surface = SurfaceHistory(["0.5.1", "0.5.2", "0.5.9"],
                             flags={"--mamba-ssm-dtype": Span("0.5.2", "0.5.9"), "--json": Span("0.5.1", "0.5.9"),
                                    "--mamba-scheduler-strategy": Span("0.5.1", "0.5.2")},
                             env={"SGLANG_MAMBA_CONV_DTYPE": Span("0.5.9", "0.5.9")})
    docs = render_documents(RenderInput(Project.load(root), surface=surface))
    page = docs["references/flags.md"]
    assert "| `--mamba-ssm-dtype` | 0.5.2 | 0.5.9 |" in page
    assert "| `--mamba-scheduler-strategy` | 0.5.1 | 0.5.2: gone from the next |" in page
    assert "| `SGLANG_MAMBA_CONV_DTYPE` | 0.5.9 | 0.5.9 |" in page
    assert "`--json`" not in page and "--made-up-flag" not in page
    assert "(references/flags.md#flags)" in docs["SKILL.md"] and "(references/flags.md#env)" in docs["SKILL.md"]
    bare = render(root)
    assert "No surface lock recorded" in bare["references/flags.md"] and "references/flags.md#" not in bare["SKILL.md"]


def test_a_lanes_pr_trail_marks_the_fixes(tmp_path):
    """The playbook's PR trail says which PRs fix a bug (title), so a reader triaging a regression opens those first;
    the answer pages' PR lists stay unmarked."""
    from typer.testing import CliRunner

    from dossier.cli import app
    from dossier.project import Project
    from dossier.render.documents import skill_dir
    from tests.dossier.factories import make_card, write_project

    root = write_project(tmp_path / "p", [make_card(100, title="Fix a wrong gate value in the widget"),
                                          make_card(101)])
    assert CliRunner().invoke(app, ["render", "--root", str(root)]).exit_code == 0
    playbook = (skill_dir(Project.load(root)) / "references/playbook.md").read_text()
    trail = next(line for line in playbook.splitlines() if line.startswith("**PRs.** "))
    assert "[#100](pr-history.md#pr-100) (fix)" in trail and "[#101](pr-history.md#pr-101)." in trail


def test_a_character_reference_in_a_title_shows_as_written():
    """`&amp;` in a card title showed as `&` in every table and heading; a bare `&` stays as it is."""
    from dossier.render.markdown import cell, inline

    assert cell("A &amp; B & C &#38; D") == "A \\&amp; B & C \\&#38; D"
    assert inline("x &lt;y&gt;") == "x \\&lt;y\\&gt;"


def test_a_stand_in_merge_day_is_marked_where_the_manual_dates_the_merge(tmp_path):
    """A merge day the card calls a stand-in read in the timeline like GitHub's record."""
    hedged = make_card(801)
    hedged["implementation"] += " Merge day unknown: merged_at is the opening day as a stand-in inside 2026-03-20 .. 2026-04-05."
    other = make_card(901)
    other["implementation"] += " The merged tree of #801 is an upper bound on what it touched."  # another PR's words
    history = render(write_project(tmp_path, [hedged, other]))["references/pr-history.md"]
    assert "| ~2026-03-20 | [#801](#pr-801) |" in history and "| 2026-03-20 | [#901](#pr-901) |" in history
    assert "· merged ~2026-03-20 ·" in history and "· merged 2026-03-20 ·" in history


@pytest.mark.parametrize(("sentence", "hedged"), [
    ("Its opening day serves as merged_at, which lies between 2026-02-13 and 2026-02-23.", True),
    ("The merge lies between opening (2026-08-26) and the 0.5.22 build.", True),
    ("The opening day stands in for the merge day.", True),
    ("merged_at is a lower bound: the window runs to the next release's build.", True),  # the #24629 card's words
    ("It merged no earlier than 2026-05-07, the opening day.", True),
    ("The merge day is the 0.5.12 build at the latest.", True),
    ("merged_at is GitHub's record of the merge.", False),
    ("The merged tree serves a second model.", False),  # a merge word, but no hedge
])
def test_which_prose_calls_the_merge_day_a_stand_in(sentence, hedged):
    """A stand-in merge day said without the word "stand-in" ("serves as merged_at", "lies between") read in the
    manual as GitHub's record."""
    from types import SimpleNamespace

    from dossier.pr_facts import merge_day_hedged

    card = SimpleNamespace(pr=801, state="merged", merged_at="2026-02-13", motivation="Why.",
                           implementation=sentence, claims=[], corrections=[])
    assert merge_day_hedged(card) is hedged


@pytest.mark.parametrize(("sentence", "inferred"), [
    ("The merge is inferred: the stored thread shows the PR open.", True),
    ("State merged is inferred from the release trees.", True),
    ("That it came through this PR is inferred from the title, and #99 is credited elsewhere.", True),
    ("This PR's own merge is unconfirmed.", True),
    ("The PR's merge is inferred from the release trees.", True),
    ("Its merge is itself inferred.", True),
    ("The merge is not recorded: the thread shows it open.", True),
    ("The merge is not inferred: GitHub records it.", False),
    ("merged_at is an inferred date inside 03-11..27.", False),  # the day, not the merge
    ("The merge of #99 is inferred from its release.", False),  # another PR's
])
def test_which_prose_doubts_the_merge_itself(sentence, inferred):
    from types import SimpleNamespace

    from dossier.pr_facts import merge_inferred

    card = SimpleNamespace(pr=801, state="merged", motivation="Why.", implementation=sentence, claims=[],
                           corrections=[])
    assert merge_inferred(card) is inferred


def test_a_run_of_releases_that_changed_a_file_is_written_as_a_range():
    from dossier.render.documents import _runs

    order = ["0.5.1", "0.5.1.post1", "0.5.2", "0.5.3", "0.5.4", "0.5.5"]
    assert _runs(["0.5.1.post1", "0.5.2", "0.5.3", "0.5.5"], order) == ["0.5.1.post1..0.5.3", "0.5.5"]
    assert _runs(["0.5.2", "0.5.3", "0.5.5"], order) == ["0.5.2", "0.5.3", "0.5.5"]  # two in a row stay two
    assert _runs(["0.5.1", "0.5.2", "0.5.3"], order) == ["0.5.1", "0.5.2", "0.5.3"]  # 0.5.1.post1 between


def test_a_number_the_text_calls_an_issue_links_to_the_issue(tmp_path):
    """pr-history linked "issue #18300" to /pull/18300: GitHub numbers issues and PRs together, so the text's word
    decides which page the number is; a card's number stays the card's section."""
    card = make_card(801)
    card["motivation"] += (" Issue #23150 and issues #22025, #22276 and #27418 reported it; the fix #18300 came"
                           " later, after issue #801's thread.")
    history = render(write_project(tmp_path, [card]))["references/pr-history.md"]
    for n in (23150, 22025, 22276, 27418):
        assert f"[#{n}](https://github.com/example/repo/issues/{n})" in history
    assert "[#18300](https://github.com/example/repo/pull/18300)" in history
    assert "issue [#801](#pr-801)" in history


def _today_card(pr: int) -> dict:
    card = make_card(pr)
    card["key_fragment"]["today"] = {"file": "python/sglang/srt/models/qwen3_next.py", "match": "def forward("}
    return card


def test_the_today_line_is_a_paragraph_of_its_own(tmp_path):
    """Jinja's trim_blocks ate the newline after the Today line's inline endif, so it ran into the next note (the
    release evidence, or Files) as one paragraph."""
    root = write_project(tmp_path, [_today_card(801)])
    inp = RenderInput(Project.load(root), annotators=[lambda c: ["**Evidence.** A note."]])
    history = render_documents(inp)["references/pr-history.md"]
    assert "`def forward(`.\n\n**Evidence.** A note." in history
    history = render(root)["references/pr-history.md"]
    assert "`def forward(`.\n\n**Files.**" in history


def test_a_pr_that_removed_its_quoted_line_is_not_said_to_be_rewritten_by_later_prs(tmp_path):
    """#29368 removed a gate (its release diff shows the quoted line on removed lines); the manual said "Later PRs
    rewrote these lines" of it, crediting later PRs with its own change."""
    from types import SimpleNamespace

    root = write_project(tmp_path, [_today_card(801), _today_card(802)])
    releases = SimpleNamespace(groups=[], reverted=[], unplaced=[], built={}, removals={801})
    history = render_documents(RenderInput(Project.load(root), releases=releases))["references/pr-history.md"]
    removed, rewritten = history.split('<a id="pr-802">')
    assert "**Today.** This PR removed the quoted line; the code that stays in its place is in" in removed
    assert "Later PRs rewrote" not in removed
    assert "**Today.** Later PRs rewrote these lines; the behaviour lives in" in rewritten


def test_a_reverted_card_points_to_its_later_prs_without_calling_each_its_revert(tmp_path):
    """#21313 (reverted by #21496, then fixed anew by #21662) rendered "reverted by #21496, #21662": every PR of
    superseded_by was named a revert, though only the first one reverted it (session 46's audit)."""
    cards = [make_card(90, status="reverted", superseded_by=[95, 96]), make_card(95, status="superseded",
                                                                                superseded_by=[96]), make_card(96)]
    history = render(write_project(tmp_path, cards))["references/pr-history.md"]
    assert "· reverted; see [#95](#pr-95), [#96](#pr-96)" in history and "reverted by" not in history
    assert "· superseded by [#96](#pr-96)" in history
