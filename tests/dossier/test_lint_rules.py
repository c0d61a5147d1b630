"""Every foundation rule: a card that trips it, and the valid project that does not."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from dossier.lint import RULES, LintContext, run_lint
from dossier.project import Project, is_valid
from dossier.render.markdown import link_prs
from tests.dossier.factories import LANES, PROSE, make_card, write_project

FOUNDATION = ("D1", "D2", "D4", "D5")  # evidence (D3) and claims (D6) have their own tests


def lint(root: Path, **kw):
    kw.setdefault("select", FOUNDATION)
    return run_lint(LintContext(Project.load(root)), **kw)


def codes(root: Path, **kw) -> set[str]:
    return {d.code for d in lint(root, **kw)}


def test_valid_project_is_clean(project_dir):
    assert lint(project_dir) == []


def test_every_registered_rule_has_a_test_here():
    tested = {c for c, *_ in CARD_CASES} | {c for c, *_ in RAW_CASES} | {"D503", "D506", "D507", "D510", "D511", "D512", "D513", "D514", "D515", "D522", "D526"}
    tested |= {"D100", "D111"}  # in test_bad_input.py (symlinks, misnamed files)
    tested |= {"D220", "D221", "D222", "D404", "D213", "D215", "D216"}  # tests/dossier/test_shallow_corpus.py
    tested |= {"D405"}  # tests/dossier/test_opened.py
    tested |= {"D218", "D219", "D223", "D224", "D225", "D406", "D407", "D408", "D409", "D410", "D411", "D517", "D518",
               "D519", "D226", "D412", "D520"}  # test_lint_probes.py
    tested |= {"D114", "D227", "D228", "D229", "D230", "D413", "D521"}  # test_lint_probes14.py
    tested |= {"D231", "D232", "D233", "D234", "D523"}  # test_lint_probes17.py
    tested |= {"D235", "D524"}  # test_lint_probes18.py
    tested |= {"D236"}  # test_lint_probes21.py
    tested |= {"D414"}  # test_lint_probes22.py
    tested |= {"D525"}  # test_bad_input19.py
    tested |= {"D527", "D415"}  # test_lint_probes27.py
    tested |= {"D237"}  # test_lint_probes28.py
    tested |= {"D238", "D239", "D240"}  # test_lint_probes29.py
    tested |= {"D241", "D242", "D243"}  # test_lint_probes30_L1.py
    tested |= {"D244", "D245", "D246", "D247"}  # test_lint_probes30_L2.py
    tested |= {"D248"}  # test_lint_probes32_L5.py
    foundation = {c for c in RULES if c[:2] in ("D1", "D2", "D4", "D5")}
    assert foundation <= tested, sorted(foundation - tested)


def _set(path: str, value):
    def mutate(card: dict) -> dict:
        *parents, leaf = path.split(".")
        node = card
        for p in parents:
            node = node[p]
        if value is _DELETE:
            del node[leaf]
        else:
            node[leaf] = value
        return card

    return mutate


_DELETE = object()
REPEAT = "Fuse the widget projection in layer 100 optimization follow-up bugfix refactor for the layer."

CARD_CASES = [
    ("D104", _set("motivation", _DELETE)),
    ("D104", _set("key_fragment.explain", _DELETE)),
    ("D104", _set("motivation", "  ")),
    ("D105", _set("author", "someone")),
    ("D106", _set("pr", "one hundred")),
    ("D106", _set("superseded_by", "21019")),
    ("D106", _set("merged_at", "March 2026")),
    ("D107", _set("state", "landed")),
    ("D107", _set("status", "maybe")),
    ("D109", _set("runtime", {"none": "x", "reference": "runtime.gdn"})),
    ("D110", _set("merged_at", "2025-02-30")),
    ("D110", _set("key_fragment.file", "../../../etc/passwd")),
    ("D110", _set("files.runtime", ["/etc/passwd"])),
    ("D201", _set("motivation", REPEAT)),
    ("D202", _set("implementation", "TODO: describe the implementation of this change in qwen3_next.py "
                                    "once the diff has been read and the loader understood fully.")),
    ("D204", _set("implementation", "Merges in_proj_qkvz and in_proj_ba into one MergedColumnParallelLinear in "
                                    "qwen3_next.py with a weight_loader for tuple shard ids.")),
    ("D205", _set("key_fragment.explain", "merged")),
    ("D206", _set("key_fragment.match", "from sglang.srt.layers.linear import MergedColumnParallelLinear")),
    ("D207", _set("key_fragment.match", "x=")),
    ("D208", _set("validation.claims", [])),
    ("D208", _set("validation.lanes", [])),
    ("D208", _set("validation.claims", ["none given"])),
    ("D208", _set("validation.claims", ["Transcription is 35% faster and uses 2x less memory."])),
    ("D208", _set("validation.lanes", ["run it", "check it works"])),
    ("D209", _set("motivation", "The projection code in this model was restructured: in_proj_qkvz and in_proj_ba "
                                "now live in one MergedColumnParallelLinear, and the forward pass reads the merged "
                                "output through the fused split kernel instead of two separate outputs.")),
    ("D210", _set("implementation", " ".join(["the loader reads the merged weight and the loader splits the "
                                              "merged weight so the loader"] * 6))),
    ("D211", _set("implementation", "The weight_loader of MergedColumnParallelLinear now takes tuple shard ids. "
                                    "The weight_loader of MergedColumnParallelLinear now takes tuple shard ids. "
                                    "It splits in_proj_qkvz by output_sizes and loads each piece in its slot.")),
    ("D211", _set("implementation", "the weight_loader of MergedColumnParallelLinear now takes tuple shard ids. "
                                    "the weight_loader of MergedColumnParallelLinear now takes tuple shard ids. "
                                    "it splits in_proj_qkvz by output_sizes and loads each piece in its slot.")),
    ("D211", _set("implementation", "It splits in_proj_qkvz by output_sizes and loads each piece in its slot! "
                                    "e.g. the weight_loader of MergedColumnParallelLinear takes tuple shard ids? "
                                    "e.g. the weight_loader of MergedColumnParallelLinear takes tuple shard ids?")),
    ("D212", _set("implementation", "The projection of the model was changed so that the two separate layers "
                                    "become a single merged layer, which reads the input once; the loader was "
                                    "adapted to the new layout and the forward pass splits the result again.")),
    # the card's own field names are not identifiers of the change
    ("D212", _set("implementation", "The projection of the model was changed so that two layers become one; "
                                    "merged_at is a stand-in, superseded_by names the follow-up and "
                                    "key_fragment.explain says which line of the diff carries the change.")),
    ("D217", _set("validation.claims", ["SGLang's merged projection runs 1.42x faster than the unfused pair at "
                                        "batch 64 (results/bench/projections.json)."])),
    ("D217", _set("validation.claims", ["This project's reference is 1.3x faster at batch 64 (runtime.projections.bench)."])),
    # a model's active-parameter tag is not a device
    ("D217", _set("validation.claims", ["This project's reference runs Qwen3.5-397B-A17B decode 1.3x faster at batch 64 "
                                        "(runtime.projections.bench)."])),
    ("D214", _set("key_fragment.explain", "This line is where the change happens: the two old layers become one "
                                          "new layer, and everything downstream reads from it after the PR.")),
    ("D112", _set("implementation", "Merges in_proj_qkvz and in_proj_ba into one MergedColumnParallelLinear in "
                                    "qwen3_next.py; its weight_loader takes tuple shard ids\u200b and splits pieces.")),
    ("D112", _set("title", "Fuse the projection \u202e(reversed)")),
    ("D112", _set("implementation", "Merges the two projections \x1b[31minto one MergedColumnParallelLinear\x1b[0m in "
                                    "qwen3_next.py and loads tuple shard ids through its weight_loader.")),
    ("D113", _set("title", "Fuse the qkvz and ba projections of the GDN layer " * 6)),
    ("D403", _set("merged_at", dt.date(2019, 1, 1))),
    ("D403", _set("merged_at", dt.date(2099, 5, 1))),
    ("D401", _set("merged_at", None)),
    ("D402", _set("status", "candidate")),
    ("D501", _set("lane", "no-such-lane")),
    ("D502", lambda c: {**c, "status": "superseded", "superseded_by": [999]}),
    ("D504", _set("status", "reverted")),
    ("D505", _set("superseded_by", [90])),
    ("D508", _set("runtime", {"reference": "runtime.nope.nothing", "tests": ["tests/test_x.py"], "bench": "runtime.benchkit"})),
    ("D509", _set("runtime", {"reference": "runtime.benchkit", "tests": ["tests/nope.py::test_x"],
                              "bench": "runtime.benchkit"})),
    # another PR given out as this one: bound to "this PR", two digits swapped, another repository's pull 100
    ("D516", _set("motivation", PROSE[0]["motivation"] + " This PR (#1000) is the fix.")),
    ("D516", _set("implementation", "PR https://github.com/example/repo/pull/101: " + PROSE[0]["implementation"])),
    ("D516", _set("validation.claims", ["TTFT -2.6% (tp4; this PR, https://github.com/example/repo/pull/1010, description)"])),
    ("D516", _set("key_fragment.explain", PROSE[0]["explain"] + " Diff: https://github.com/other/fork/pull/100.")),
    ("D516", _set("key_fragment.explain", PROSE[0]["explain"] + " See #1000 (this card) for the numbers.")),
]


@pytest.mark.parametrize("code,mutate", CARD_CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CARD_CASES)])
def test_rule_fires_on_broken_card(tmp_path, code, mutate):
    root = write_project(tmp_path, [make_card(90, status="superseded", superseded_by=[100])])
    (root / "cards" / "100.yaml").write_text(yaml.safe_dump(mutate(make_card(100)), sort_keys=False))
    found = lint(root)
    assert code in {d.code for d in found}, [d.text() for d in found]
    hit = next(d for d in found if d.code == code)
    assert hit.file == "cards/100.yaml"
    assert (hit.line, hit.col) != (1, 1) or code == "D104"  # points at the field, not the top


RAW_CASES = [
    ("D101", b"pr: 100\ntitle: \xff\xfe broken\n"),
    ("D102", b"pr: 100\ntitle: [unclosed\nstate: merged\n"),
    ("D103", b"- just\n- a list\n"),
    ("D103", b""),
    ("D108", None),  # built below from a valid card with a repeated key
]


@pytest.mark.parametrize("code,raw", RAW_CASES, ids=[c for c, _ in RAW_CASES])
def test_unreadable_file_is_a_finding_not_a_traceback(tmp_path, code, raw):
    root = write_project(tmp_path, [make_card(90)])
    if raw is None:
        raw = (yaml.safe_dump(make_card(100), sort_keys=False) + "pr: 100\n").encode()
    (root / "cards" / "100.yaml").write_bytes(raw)
    found = lint(root)
    assert code in {d.code for d in found}, [d.text() for d in found]


def test_positions_point_at_the_field(tmp_path):
    card = make_card(100, state="landed")
    root = write_project(tmp_path, [card])
    text = (root / "cards" / "100.yaml").read_text().splitlines()
    line = next(i for i, t in enumerate(text, 1) if t.startswith("state:"))
    d = next(d for d in lint(root) if d.code == "D107")
    assert (d.line, d.col) == (line, len("state: ") + 1)
    assert d.text().startswith(f"cards/100.yaml:{line}:8: D107")


def test_utf8_error_reports_line_and_column(tmp_path):
    root = write_project(tmp_path, [])
    (root / "cards" / "100.yaml").write_bytes(b"pr: 100\ntitle: ab\xff\n")
    d = next(d for d in lint(root) if d.code == "D101")
    assert (d.line, d.col) == (2, 10)


def test_supersession_cycle(tmp_path):
    root = write_project(tmp_path, [make_card(1, status="superseded", superseded_by=[2]),
                                    make_card(2, status="superseded", superseded_by=[1])])
    assert "D503" in codes(root)


def test_no_cycle_in_a_chain(tmp_path):
    root = write_project(tmp_path, [make_card(1, status="superseded", superseded_by=[2]),
                                    make_card(2, status="reverted", superseded_by=[3]), make_card(3)])
    assert "D503" not in codes(root)


def test_duplicate_pr_numbers(tmp_path):
    root = write_project(tmp_path, [make_card(100)])
    (root / "cards" / "copy.yaml").write_text(yaml.safe_dump(make_card(100), sort_keys=False))
    found = codes(root)
    assert "D506" in found and "D507" in found


@pytest.mark.parametrize("text", [
    "Superseded later by https://github.com/example/repo/pull/1000, which reworked the loader.",
    "The follow-up #101 (same author) fixed the scale; this PR (#100) only moved the loader.",
    "Ported from https://github.com/fla-org/flash-linear-attention/pull/512 as the PR says.",
    "The crash is issue #1000; the PR (https://github.com/example/repo/pull/100) fixes it.",
    "#90 (the PR before this one) had the same loader.",
])
def test_citing_other_prs_as_other_prs_is_not_d516(tmp_path, text):
    root = write_project(tmp_path, [make_card(90, status="superseded", superseded_by=[100])])
    card = make_card(100)
    card["motivation"] += " " + text
    (root / "cards" / "100.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    assert "D516" not in codes(root), [d.text() for d in lint(root)]


@pytest.mark.parametrize("claim", [
    "This project (NVIDIA H200, bf16, runtime.projections.bench, results/bench/projections.json): SGLang 0.5.23's "
    "kernel runs at 2.32x its byte floor at TP1 B=512.",
    "Our reference decode ran 1.26x the in-place one on an H100 (python -m runtime.gdn.bench).",
    "TTFT -2.6% at tp4 (author, PR description); runtime.projections.bench has no row for it.",  # cites, quotes no number of ours
])
def test_own_numbers_that_name_the_project_and_device_are_not_d217(tmp_path, claim):
    root = write_project(tmp_path, [make_card(100, validation={"claims": [claim], "lanes": ["pytest tests/x.py"]})])
    assert "D217" not in codes(root), [d.text() for d in lint(root)]


def test_a_pr_number_with_two_digits_swapped_is_d516_unless_that_pr_has_a_card(tmp_path):
    card = make_card(28451)
    card["implementation"] += " See https://github.com/example/repo/pull/28541 for the diff."
    root = write_project(tmp_path / "a", [card])
    found = [d for d in lint(root) if d.code == "D516"]
    assert [(d.line, "swaps two digits" in d.message) for d in found] == [(_line(root / "cards/28451.yaml", "28541"), True)]
    root = write_project(tmp_path / "b", [card, make_card(28541)])
    assert "D516" not in codes(root)


def _line(path: Path, what: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if what in line)


def test_prose_citing_unknown_pr_warns(tmp_path):
    card = make_card(100, motivation=make_card()["motivation"] + " Reverted later by #4242.")
    root = write_project(tmp_path, [card])
    found = lint(root)
    assert any(d.code == "D510" and d.severity == "warning" for d in found)
    assert any(d.code == "D510" and d.severity == "error" for d in lint(root, strict=True))
    # a URL of the project's repository cites as "#N" does; another repository's PR needs no card here
    card["motivation"] = make_card()["motivation"] + (" Reverted later by https://github.com/example/repo/pull/4343; "
                                                      "ported from https://github.com/fla-org/fla/pull/4444.")
    root = write_project(tmp_path / "url", [card])
    assert [d.message for d in lint(root) if d.code == "D510"] == ["cites #4343, which has no card"]


def test_coverage_of_required_prs(tmp_path):
    root = write_project(tmp_path, [make_card(100)], config="cover = [100, 200]\n")
    d = next(d for d in lint(root) if d.code == "D511")
    assert "#200" in d.message and "#100" not in d.message
    root2 = write_project(tmp_path / "ok", [make_card(100)], config="cover = [100]\n")
    assert "D511" not in codes(root2)


def test_lanes_file_citing_unknown_pr(tmp_path):
    lanes = {**LANES, "investigation_order": ["Start with #31337."]}
    root = write_project(tmp_path, [make_card(100)], lanes=lanes)
    assert "D511" in codes(root)


def test_pr_cited_by_word_needs_a_card(tmp_path):
    """"PR 31337" cites a PR as "#31337" does (the manual's pages cited 19 PRs that way, none carded); another
    project's PR by word, an issue, or the card's own PR needs no card."""
    lanes = {**LANES, "investigation_order": ["Fixed in 0.5.16 (PR 31337); see also PR #31338, the report of PR "
                                              "31339's author, vLLM PR 41000 and issue #41001."]}
    root = write_project(tmp_path, [make_card(100)], lanes=lanes)
    found = [d for d in lint(root) if d.code == "D511"]
    assert sorted(d.message for d in found) == [f"lanes.yaml cites #{n}, which has no card" for n in (31337, 31338, 31339)]
    assert {d.line for d in found} == {_line(root / "cards" / "lanes.yaml", "investigation_order") + 1}
    card = make_card(100, motivation=make_card()["motivation"] + " The follow-up PR 4242 reverted it; PR 100 is ours.")
    root = write_project(tmp_path / "card", [card])
    assert [d.message for d in lint(root) if d.code == "D510"] == ["cites #4242, which has no card"]


def test_a_prs_list_cites_every_number_in_it(tmp_path):
    """"PRs 31337 and 31338" read only its first number (the rest of the list passed with no card); a list's bare
    numbers cite as "#N" does, while a singular "PR N and M" goes on with prose, not PRs."""
    lanes = {**LANES, "investigation_order": ["Fixed by PRs 31337 and 31338, then PRs 31340, 31341, and #31342 or "
                                              "31343; PR 31344 and 2048 tokens later, PRs 31345 & 31346."]}
    root = write_project(tmp_path, [make_card(100)], lanes=lanes)
    found = sorted(d.message for d in lint(root) if d.code == "D511")
    assert found == [f"lanes.yaml cites #{n}, which has no card"
                     for n in (31337, 31338, 31340, 31341, 31342, 31343, 31344, 31345, 31346)]
    card = make_card(100, motivation=make_card()["motivation"] + " PRs 4242 and 4243 followed.")
    root = write_project(tmp_path / "card", [card])
    assert [d.message for d in lint(root) if d.code == "D510"] == [f"cites #{n}, which has no card" for n in (4242, 4243)]


def test_a_slash_pair_cites_both_numbers(tmp_path):
    """"the #22876/#24613 reproduction" read only #22876 (the second number's card was never asked for, nor linked);
    a path's "docs/#4243" is not a citation."""
    card = make_card(100, motivation=make_card()["motivation"] + " The #4242/#4244 reproduction (see docs/#4243).")
    root = write_project(tmp_path, [card])
    assert [d.message for d in lint(root) if d.code == "D510"] == [f"cites #{n}, which has no card" for n in (4242, 4244)]
    assert link_prs("the #4242/#4244 pair, docs/#4243", lambda n, issue=False: f"#pr-{n}") == (
        "the [#4242](#pr-4242)/[#4244](#pr-4244) pair, docs/#4243")


def test_lanes_file_is_schema_checked(tmp_path):
    lanes = {"lanes": [{"id": "x", "title": "X"}]}
    root = write_project(tmp_path, [make_card(100)], lanes=lanes)
    found = [d for d in lint(root) if d.file == "cards/lanes.yaml"]
    assert {"D104"} <= {d.code for d in found}


def test_a_document_is_schema_checked_once_and_again_when_its_data_is_replaced(tmp_path):
    """Every schema rule and every rule judging only valid documents asks for the same check; the answer is kept
    with the data it was for, so a document given other data is checked again, never judged by the old answer."""
    root = write_project(tmp_path, [make_card(100)])
    doc = Project.load(root).docs[0]
    assert is_valid(doc) and doc.problems() is doc.problems()
    doc.data = {**doc.data, "pr": "not a number"}
    assert not is_valid(doc) and [p.path for p in doc.problems()] == ["pr"]


def test_select_limits_rules(tmp_path):
    root = write_project(tmp_path, [make_card(100, lane="nope", implementation="Too short.")])
    assert codes(root) == {"D501", "D204", "D201", "D212"}
    assert codes(root, select=["D5"]) == {"D501"}


def test_strict_promotes_warnings(tmp_path):
    root = write_project(tmp_path, [make_card(100, implementation=make_card(100)["implementation"] + " See #4242.")])
    assert [d.severity for d in lint(root) if d.code == "D510"] == ["warning"]
    assert [d.severity for d in lint(root, strict=True) if d.code == "D510"] == ["error"]


def test_missing_validation_is_an_error(tmp_path):
    root = write_project(tmp_path, [make_card(100, validation={"claims": [], "lanes": []})])
    assert [d.severity for d in lint(root) if d.code == "D208"] == ["error", "error"]



def test_answer_block_citing_unknown_pr(tmp_path):
    answers = {"checklists": [{"id": "x", "title": "X", "summary": "s",
                               "items": [{"check": "c", "prs": [100, 4242]}]}]}
    root = write_project(tmp_path, [make_card(100)], lanes={**LANES, "answers": answers})
    found = [d for d in lint(root) if d.code == "D512"]
    assert len(found) == 1 and "#4242" in found[0].message and found[0].severity == "error"
    ok = write_project(tmp_path / "ok", [make_card(100), make_card(4242)], lanes={**LANES, "answers": answers})
    assert "D512" not in codes(ok)


@pytest.mark.parametrize(("check", "flagged"), [
    ("The flag was removed in 0.5.14 (#5151).", True),  # credited with a change the list leaves out
    ("The flag was removed in 0.5.14 ([#5151](pr-history.md#pr-5151)).", True),
    ("#5151's thread credits the change to a PR with no card.", False),  # context, not the change
    ("Read from [#5151](pr-history.md#pr-5151)'s account of it.", False),
    ("See the [#5151](pr-history.md#pr-5151) card.", False),
    ("The flag was removed in 0.5.14 (#4242).", False),  # listed
    ("Issue #5151 reported it.", False),  # an issue
])
def test_an_answer_item_crediting_a_pr_its_prs_list_leaves_out_is_d526(tmp_path, check, flagged):
    """An item's prs list is what the manual prints beside it and what its claims are held to: seven items credited
    a PR with a change ("removed in 0.5.14 (#27964)") that their lists left out."""
    answers = {"checklists": [{"id": "x", "title": "X", "summary": "Summary cites #5151 freely.",
                               "items": [{"check": check, "prs": [4242]}]}]}
    root = write_project(tmp_path, [make_card(4242), make_card(5151)], lanes={**LANES, "answers": answers})
    found = [d for d in lint(root) if d.code == "D526"]
    assert bool(found) is flagged, found
    assert all("#5151" in d.message and d.severity == "error" for d in found)


def test_answer_block_schema_is_checked(tmp_path):
    row = {"phase": "decode", "hardware": "SM95", "default": "t", "select": "s", "requires": "-", "prs": []}
    answers = {"gdn_backends": {"summary": "s", "source": [], "rows": [row]}}
    root = write_project(tmp_path, [make_card(100)], lanes={**LANES, "answers": answers})
    bad = [d for d in lint(root) if d.code.startswith("D1")]
    assert bad and "hardware" in bad[0].message and "SM90" in bad[0].message


def test_lane_and_answer_ids_must_be_anchors(tmp_path):
    """Ids become `#lane-<id>` links and `<a id="...">` anchors: a space ends the link, a quote breaks the tag."""
    answers = {"checklists": [{"id": 'slow"decode>', "title": "X", "summary": "s", "items": [{"check": "c"}]}]}
    lane = {**LANES["lanes"][0], "id": "gdn proj"}
    root = write_project(tmp_path, [make_card(100, lane="gdn proj")], lanes={**LANES, "answers": answers,
                                                                            "lanes": [lane]})
    found = sorted(d.message for d in lint(root) if d.code == "D110")
    assert found == ["answers.checklists[0].id must be lower-case letters and digits joined by '-' (it names an "
                     "anchor), got 'slow\"decode>'",
                     "lanes[0].id must be lower-case letters and digits joined by '-' (it names an anchor), "
                     "got 'gdn proj'"]


def test_lane_naming_an_unknown_answer_block(tmp_path):
    answers = {"checklists": [{"id": "slow-decode", "title": "X", "summary": "s", "items": [{"check": "c"}]}]}
    lane = {**LANES["lanes"][0], "answers": ["slow-decode", "gdn-backends"]}
    root = write_project(tmp_path, [make_card(100)], lanes={**LANES, "answers": answers, "lanes": [lane]})
    found = [d for d in lint(root) if d.code == "D513"]
    assert len(found) == 1 and "'gdn-backends'" in found[0].message and "slow-decode" in found[0].hint


def test_answer_item_naming_an_unknown_finding(tmp_path):
    answers = {"checklists": [{"id": "x", "title": "X", "summary": "s",
                               "items": [{"check": "c", "findings": ["no-such-finding"]}]}]}
    root = write_project(tmp_path, [make_card(100)], lanes={**LANES, "answers": answers})
    found = [d for d in lint(root) if d.code == "D514"]
    assert len(found) == 1 and "'no-such-finding'" in found[0].message


def test_error_messages_must_be_quoted_by_their_item_and_lead_to_one_item(tmp_path):
    errors = [{"id": "e", "title": "E", "summary": "s", "items": [
        {"messages": ["page size must be 1"], "check": "'page size must be 1, got 64': use extra_buffer."},
        {"messages": ["no such words"], "check": "'Out of memory': lower the batch."},
        {"messages": ["page size must be 1, got"], "check": "'page size must be 1, got 128' on an NPU."},
        {"messages": ["lower", "lower the"], "check": "lower the batch"},  # one item's own overlap is fine
    ]}]
    root = write_project(tmp_path, [make_card(100)], lanes={**LANES, "answers": {"errors": errors}})
    found = sorted(d.message for d in lint(root) if d.code == "D522")
    assert len(found) == 2, found
    assert "'no such words' is not quoted" in found[0] and "also matches 'page size must be 1'" in found[1]


@pytest.mark.parametrize("text,expected", [
    ("the loader stalls. the loader stalls. Then it recovers.",
     ["the loader stalls.", "the loader stalls.", "Then it recovers."]),
    ("It hung! why? (see #123). then 0.5.23 fixed it.", ["It hung!", "why?", "(see #123).", "then 0.5.23 fixed it."]),
    ('He wrote "done." then left.', ['He wrote "done."', "then left."]),
    # names and abbreviations are not ends: torch.compile, 0.5.23, e.g., i.e., vs., etc. before lowercase
    ("Use torch.compile, e.g. the eager path, i.e. no graph, vs. 0.5.9 and fla etc. in 0.5.23.",
     ["Use torch.compile, e.g. the eager path, i.e. no graph, vs. 0.5.9 and fla etc. in 0.5.23."]),
    ("Kernels, buffers, etc. The loader came later.", ["Kernels, buffers, etc.", "The loader came later."]),
])
def test_sentences_split_at_any_case_but_not_inside_names_or_abbreviations(text, expected):
    from dossier.prose import sentences

    assert sentences(text) == expected


@pytest.mark.parametrize("path,value,limit", [
    ("title", "Fuse the GDN projections " * 11, 256),
    ("motivation", "The decode stalls 40 us per layer because the loader reads twice. " * 80, 5000),
    ("key_fragment.explain", "The tuple shard id selects the slot of the merged weight. " * 45, 2500),
    ("validation.claims", ["TTFT -2.6% on H200 TP4 (PR description), " * 30], 1000),
    ("key_fragment.today", {"file": "python/sglang/srt/layers/linear.py", "match": "x" * 121}, 120),
    ("runtime", {"reference": "runtime.gdn", "tests": ["tests/runtime/test_x.py::test_" + "y" * 250],
                 "bench": "runtime.gdn.bench"}, 256),
])
def test_a_field_longer_than_its_kind_allows_is_d113_with_limit_and_length(tmp_path, path, value, limit):
    root = write_project(tmp_path, [make_card(90, status="superseded", superseded_by=[100])])
    (root / "cards" / "100.yaml").write_text(yaml.safe_dump(_set(path, value)(make_card(100)), sort_keys=False))
    hits = [d for d in lint(root) if d.code == "D113"]
    assert len(hits) == 1, [d.text() for d in lint(root)]
    n = re.search(r"is (\d+) characters, over the limit of (\d+) for ", hits[0].message)
    assert n and int(n.group(1)) > limit == int(n.group(2)), hits[0].message



def _runtime_project(tmp_path: Path, runtime: dict, repo_checks: list[str] | None = None,
                     raw: dict[str, bytes] | None = None) -> list:
    """A project with runtime lanes gdn and projections (reference, bench, tests; ``raw`` replaces some) and one
    card using ``runtime``."""
    for rel, text in {"runtime/__init__.py": "", "runtime/benchkit.py": "",
                      "runtime/gdn/__init__.py": "", "runtime/gdn/decode.py": "", "runtime/gdn/bench.py": "",
                      "runtime/projections/__init__.py": "", "runtime/projections/linear.py": "",
                      "runtime/projections/bench.py": "",
                      "tests/runtime/gdn/test_decode.py": "def test_decode():\n    pass\n",
                      "runtime/gdn/norm.py": "", "tests/runtime/gdn/test_norm.py":
                          "from runtime.gdn.norm import gated\ndef test_norm():\n    pass\n",
                      "tests/runtime/projections/test_linear.py": "def test_split():\n    pass\n",
                      "tests/runtime/test_compile.py": "import runtime.gdn.decode\ndef test_lowers():\n    pass\n",
                      "tests/dossier/test_cli.py": "def test_help():\n    pass\n"}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    for rel, data in (raw or {}).items():
        (tmp_path / rel).write_bytes(data)
    lanes = {**LANES, "lanes": [{**LANES["lanes"][0], **({"repo_checks": repo_checks} if repo_checks else {})}]}
    write_project(tmp_path, [make_card(100, runtime=runtime)], lanes)
    return [d for d in lint(tmp_path) if d.code in ("D515", "D508", "D509")]


GDN = {"reference": "runtime.gdn.decode", "bench": "runtime.gdn.bench",
       "tests": ["tests/runtime/gdn/test_decode.py::test_decode", "tests/runtime/test_compile.py::test_lowers"]}


def test_a_shared_runtime_test_that_is_not_utf8_is_read_not_a_crash(tmp_path):
    """'D000 rule D515 crashed: UnicodeDecodeError' for a shared test file holding a Latin-1 byte."""
    shared = {"tests/runtime/test_compile.py": b"# caf\xe9\nimport runtime.gdn.decode\ndef test_lowers():\n    pass\n"}
    projections = {**GDN, "reference": "runtime.projections.linear", "bench": "runtime.projections.bench",
                   "tests": ["tests/runtime/test_compile.py::test_lowers"]}
    found = _runtime_project(tmp_path, projections, raw=shared)
    assert [d.code for d in found] == ["D509", "D515"]  # pytest cannot import it either
    assert "encoding declaration" in found[0].message and "never names runtime.projections" in found[1].message


@pytest.mark.parametrize("runtime,repo_checks,found", [
    (GDN, None, []),
    (GDN, ["python -m pytest tests/runtime/gdn (parity)", "python -m runtime.gdn.bench"], []),
    # the card's lane runs runtime/projections only
    (GDN, ["python -m pytest tests/runtime/projections (parity)"], [("runtime.reference", "lane gdn-projection runs runtime/projections")]),
    # tests of another runtime lane, of the toolkit, or a shared test that never names the lane
    ({**GDN, "tests": ["tests/runtime/projections/test_linear.py::test_split"]}, None,
     [("runtime.tests[0]", "tests/runtime/projections/test_linear.py tests runtime/projections/")]),
    ({**GDN, "tests": ["tests/dossier/test_cli.py::test_help"]}, None,
     [("runtime.tests[0]", "tests/dossier/test_cli.py is not a runtime test")]),
    ({"reference": "runtime.projections.linear", "bench": "runtime.projections.bench",
      "tests": ["tests/runtime/test_compile.py::test_lowers"]}, None,
     [("runtime.tests[0]", "a shared runtime test that never names runtime.projections")]),
    ({**GDN, "bench": "runtime.projections.bench"}, None, [("runtime.bench", "is runtime/projections's")]),
    # the card's lane runs one test file of runtime/gdn/: the tests are among it, the reference is what it imports
    (GDN, ["python -m pytest tests/runtime/projections (parity)", "python -m pytest tests/runtime/gdn/test_norm.py (norm)"],
     [("runtime.reference", "never import runtime.gdn.decode"),
      ("runtime.tests[0]", "runs only tests/runtime/gdn/test_norm.py of runtime/gdn/"),
      ("runtime.tests[1]", "not tests/runtime/test_compile.py")]),
    ({"reference": "runtime.gdn.norm", "bench": "runtime.gdn.bench", "tests": ["tests/runtime/gdn/test_norm.py::test_norm"]},
     ["python -m pytest tests/runtime/projections (parity)", "python -m pytest tests/runtime/gdn/test_norm.py (norm)"], []),
])
def test_runtime_block_points_at_its_own_lanes_tests(tmp_path, runtime, repo_checks, found):
    diags = _runtime_project(tmp_path, runtime, repo_checks)
    assert [d.code for d in diags] == ["D515"] * len(found), [d.text() for d in diags]
    card = (tmp_path / "cards/100.yaml").read_text().splitlines()
    for d, (field, words) in zip(diags, found, strict=True):
        assert words in d.message, d.message
        assert field.split(".")[-1].split("[")[0] + ":" in card[d.line - 1] or card[d.line - 1].lstrip().startswith("- ")


@pytest.mark.parametrize("motivation, problem", [
    # a restriction with its consequence is a missing capability (K4's #36357 motivation, session 50)
    ("The automatic backend choice picks FlashInfer's GDN prefill only for compute capability majors 9 and 10, so "
     "SM120 cards prefill on Triton even where FlashInfer runs.", True),
    ("The kernel ran only on Hopper, so Blackwell fell back to the slow path.", True),
    # the same words with no restriction said and no reason: still no problem
    ("The projection code was restructured for clarity and moved into one module.", False),
])
def test_a_restriction_with_its_reason_states_a_problem(motivation, problem):
    from dossier.prose import states_problem

    assert states_problem(motivation) is problem
