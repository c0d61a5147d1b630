"""Rules added against realistic defects (lint9): each case is a valid card with one defect, and a near miss
that a real card writes and must pass."""

from __future__ import annotations

import copy
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml

from dossier import prose
from dossier.evidence import key_sha
from dossier.lint import LintContext, run_lint
from dossier.model import Card
from dossier.project import Project, read_config
from dossier.render import skill_dir
from tests.dossier.factories import LANES, PROSE, make_card, sglang_package, write_project

NEW = ("D215", "D218", "D223", "D319", "D320", "D406", "D517")  # D615 reads an SGLang tree: its own test


def _lint(root: Path, sglang_src: Path | None = None, select=NEW):
    return run_lint(LintContext(Project.load(root), sglang_src=sglang_src), select=select)


def _codes(root: Path, **kw) -> list[str]:
    return [d.code for d in _lint(root, **kw) if d.file == "cards/100.yaml"]


def _project(tmp_path: Path, edit, others=()) -> Path:
    card = make_card(100)
    edit(card)
    return write_project(tmp_path, [card, *others])


def _append(field: str, text: str):
    def edit(card):
        if field == "explain":
            card["key_fragment"]["explain"] += " " + text
        else:
            card[field] += " " + text
    return edit


# (code, defect, near miss a real card writes)
PROSE_CASES = [
    # a sentence of stock phrases; the near miss gives the same verb its number and setup
    ("D215", _append("motivation", "This PR improves performance and makes the code cleaner and easier to maintain."),
     _append("motivation", "The author measured TTFT -2.6% at TP4 (PR description).")),
    ("D215", _append("implementation", "Overall the change improves performance and code quality."),
     _append("implementation", "in_proj_ba keeps its two num_v_heads slots.")),
    # a measured number with no setup or source; the near miss names the device and who measured
    ("D218", _append("motivation", "The merged layers cut the projection time by 18%."),
     _append("motivation", "On H200 the author saw the projection time drop by 18%.")),
    # own merge date against the card's merged_at
    ("D406", _append("implementation", "Merged 2026-03-02 after review."),
     _append("implementation", "Merged 2026-03-20 after review.")),
    # ... and as the day of its squash commit; the near miss gives another PR's commit its own day
    ("D406", _append("implementation", "Its squash commit 1a2b3c4d landed on main 2026-03-02."),
     _append("implementation", "Its squash commit 1a2b3c4d landed on main 2026-03-20.")),
    ("D406", _append("implementation", "A daily digest lists the squash commit 1a2b3c4d at 2026-03-18 23:05 UTC."),
     _append("implementation", "A daily digest lists #4242's squash commit 1a2b3c4d at 2026-03-18 23:05 UTC.")),
]


@pytest.mark.parametrize("code,defect,near", PROSE_CASES, ids=[f"{c}-{i}" for i, (c, *_) in enumerate(PROSE_CASES)])
def test_prose_defect_fires_and_near_miss_passes(tmp_path, code, defect, near):
    assert code in _codes(_project(tmp_path / "bad", defect))
    assert _codes(_project(tmp_path / "ok", near)) == []


def test_a_cited_cards_merge_date_must_agree_with_that_card_d406(tmp_path):
    other = make_card(90, merged_at=dt.date(2026, 3, 26), status="superseded", superseded_by=[100])
    closed = make_card(91, state="closed", merged_at=None, status="adjacent")
    bad = _project(tmp_path / "bad", _append("implementation", "It replaces #90 (merged 2026-02-11)."), [other, closed])
    assert _codes(bad) == ["D406"]
    never = _project(tmp_path / "never", _append("implementation", "#91, merged 2026-03-01, had the same fix."),
                     [other, closed])
    assert _codes(never) == ["D406"]
    ok = _project(tmp_path / "ok", _append("implementation", "It replaces #90 (merged 2026-03-26); #4242 (merged "
                                                             "2025-01-01) has no card."), [other, closed])
    assert _codes(ok) == []


def test_a_sentence_pasted_into_another_field_or_card_is_d223(tmp_path):
    sentence = ("In MergedColumnParallelLinear the loader now asks whether loaded_shard_id is a tuple of slot indices "
                "before it splits the tensor.")

    def into_claim(card):
        card["key_fragment"]["explain"] += " " + sentence
        card["validation"]["claims"].append(sentence)
    assert "D223" in _codes(_project(tmp_path / "self", into_claim))
    # a sentence of card #99's motivation pasted into #100's implementation (the later card is the copy)
    donor = make_card(99)
    donor["motivation"] += " " + sentence
    assert "D223" in _codes(_project(tmp_path / "cross", _append("implementation", sentence), [donor]))
    # near misses: a short stock sentence shared by two cards, and the same validation lane on two cards
    stock = "Unverified: no source we hold shows a line of this PR."
    donor = make_card(99)
    donor["key_fragment"]["explain"] += " " + stock
    lane = "Start the server with --enable-mixed-chunk and check the answers against a run without it on GSM8K."

    def near(card):
        card["key_fragment"]["explain"] += " " + stock
        card["validation"]["lanes"].append(lane)
    donor["validation"]["lanes"].append(lane)
    assert _codes(_project(tmp_path / "ok", near, [donor])) == []


REAL = Path(__file__).resolve().parents[2]
#: the start of a sentence of each real card's motivation: #22458's root cause, #13081's opening (an issue link)
ROOT_CAUSE = "Root cause, per the code comment carrying the fix in 0.5.23: TP ranks sampled"
OPENING = "Piecewise CUDA graph (then --enable-piecewise-cuda-graph"


def _pasted_pair(root: Path, into: int, start: str, rendered: bool = True) -> Path:
    """Real cards #13081 and #22458, the other card's motivation sentence beginning ``start`` pasted at the end of
    #``into``'s motivation, with this repository's rendered pr-history.md (the cards as committed) or none."""
    cards = {pr: yaml.safe_load((REAL / "cards" / f"{pr}.yaml").read_text()) for pr in (13081, 22458)}
    donor = cards[22458 if into == 13081 else 13081]["motivation"]
    cards[into]["motivation"] += " " + next(s for s in prose.sentences(donor) if s.startswith(start))
    write_project(root, list(cards.values()))
    if rendered:
        page = skill_dir(Project.load(root)) / "references" / "pr-history.md"
        page.parent.mkdir(parents=True)
        shutil.copy(skill_dir(Project(root=REAL, config=read_config(REAL))) / "references" / "pr-history.md", page)
    return root


def _d223(root: Path, *named: str) -> list[tuple[str, str]]:
    project = Project.load(root, [root / n for n in named] or None)
    return [(d.file, d.message) for d in run_lint(LintContext(project), select=("D223",))]


def test_the_card_the_rendered_manual_shows_with_a_shared_sentence_is_its_original_d223(tmp_path):
    # #22458's sentence pasted into the lower-numbered #13081: the manual shows it under #22458 only
    root = _pasted_pair(tmp_path / "lower", 13081, ROOT_CAUSE)
    [(file, message)] = _d223(root)
    assert file == "cards/13081.yaml" and message.startswith("motivation has a sentence of #22458's card"), message
    assert _d223(root, "cards/22458.yaml") == []  # the original judged alone
    assert [f for f, _ in _d223(root, "cards/13081.yaml")] == ["cards/13081.yaml"]
    # the reverse: #13081's sentence (its issue link rendered as markdown) pasted into #22458
    [(file, message)] = _d223(_pasted_pair(tmp_path / "higher", 22458, OPENING))
    assert file == "cards/22458.yaml" and message.startswith("motivation has a sentence of #13081's card"), message


def test_with_no_rendered_manual_the_higher_numbered_card_shares_the_sentence_d223(tmp_path):
    root = _pasted_pair(tmp_path, 13081, ROOT_CAUSE, rendered=False)
    [(file, message)] = _d223(root)
    assert file == "cards/22458.yaml" and message.startswith("motivation shares a sentence with #13081's card"), message
    [(file, message)] = _d223(root, "cards/13081.yaml")  # the lower card judged alone
    assert file == "cards/13081.yaml" and message.startswith("motivation shares a sentence with #22458's card"), message


def test_key_fragment_file_and_a_path_with_line_counts_are_listed_d320(tmp_path):
    def unlisted(card):
        card["files"]["runtime"] = ["python/sglang/srt/layers/linear.py"]
    assert _codes(_project(tmp_path / "kf", unlisted)) == ["D320"]
    stat = _project(tmp_path / "stat", _append("implementation", "python/sglang/srt/layers/attention/backend.py (+42) "
                                                                 "gains a tuple path."))
    assert _codes(stat) == ["D320"]
    # near misses: the listed file by its name alone, and a pointer card naming code the PR did not change
    assert _codes(_project(tmp_path / "ok", _append("implementation", "qwen3_next.py (+42/-3) gains a tuple path."))) == []

    def pointer(card):
        card.update(state="closed", merged_at=None, status="adjacent")
        card["files"]["runtime"] = ["python/sglang/srt/layers/linear.py"]
        card["key_fragment"]["explain"] = "Unverified: no source we hold shows a line of this PR. " + PROSE[0]["explain"]
    assert _codes(_project(tmp_path / "pointer", pointer)) == []


def _results_project(tmp_path: Path, sentence: str) -> Path:
    root = _project(tmp_path, lambda c: c["validation"]["claims"].append(sentence))
    (root / "results" / "bench").mkdir(parents=True)
    rows = [{"tp": tp, "tokens": b, "ours_us": 65.61 * tp / b * 512, "floor_us": 28.27}  # no TP4 B=64 row
            for tp, b in ((1, 64), (1, 512), (4, 512))]
    (root / "results" / "bench" / "proj.json").write_text(json.dumps({"device": {"name": "NVIDIA H200"}, "rows": rows}))
    return root


@pytest.mark.parametrize("sentence,ok", [
    ("This project (NVIDIA H200, results/bench/proj.json): 65.6 us against a 28.3 us floor at TP1 B=512.", True),
    ("This project (NVIDIA H200, results/bench/proj.json): 56.6 us against a 28.3 us floor at TP1 B=512.", False),
    ("This project (NVIDIA H200, results/bench/proj.json): 65.6 us against a 28.3 us floor at TP2 B=512.", False),
    ("This project (NVIDIA H200, results/bench/proj.json): 65.6 us against a 28.3 us floor at TP1 B=256.", False),
    # one row named: its values must come from that row (262.4 is TP4 B=512's), not from anywhere in the file
    ("This project (NVIDIA H200, results/bench/proj.json): 262.4 us against a 28.3 us floor at TP1 B=512.", False),
    ("This project (NVIDIA H200, results/bench/proj.json): 262.4 us at TP4, B=512, against a 28.3 us floor.", True),
    ("This project (NVIDIA H200, results/bench/proj.json): 65.6 us (TP1 B=512) to 262.4 us (TP4 B=512).", True),
    # a version is no value; a sentence citing no results file is not judged
    ("This project (NVIDIA H200, results/bench/proj.json) on SGLang 0.5.23: 65.6 us at TP4 B=2048 is not judged.", False),
    ("The author measured 56.6 us at TP2 B=256 on H200 (PR description).", True),
    # TP4 and B=64 are both in the file, but no row holds the pair
    ("This project (NVIDIA H200, results/bench/proj.json): 65.6 us at TP1 B=512, 28.3 us at TP4 B=64.", False),
])
def test_a_value_quoted_from_a_results_file_is_in_it_d517(tmp_path, sentence, ok):
    assert (_codes(_results_project(tmp_path, sentence)) == []) is ok


_CITE = "This project (NVIDIA H200, results/bench/proj.json): "


@pytest.mark.parametrize("sentence,ok", [
    # rows and numbers as two lists of one length ("respectively"), either order
    ("TP1 B=512 and TP4 B=512 take 65.6 us and 262.4 us.", True),
    ("TP1 B=512 and TP4 B=512 take 262.4 us and 65.6 us.", False),
    ("65.6 us and 262.4 us at TP1 B=512 and TP4 B=512 respectively.", True),
    ("262.4 us and 65.6 us at TP1 B=512 and TP4 B=512 respectively.", False),
    # each row beside its number, in parentheses or not
    ("65.6 us (TP1 B=512) to 262.4 us (TP4 B=512).", True),
    ("262.4 us (TP1 B=512) to 65.6 us (TP4 B=512).", False),
    ("262.4 us for TP1 B=512, 65.6 us for TP4 B=512.", False),
    ("TP1 B=512 (262.4 us) and TP4 B=512 (65.6 us).", False),
    ("TP1 B=512 takes 65.6 us; TP4 B=512 takes 262.4 us.", True),
    ("TP1 B=512 takes 262.4 us; TP4 B=512 takes 65.6 us.", False),
    ("Ours (TP1 B=512: 262.4 us against a 28.3 us floor).", False),
    # shapes that pair nothing: a range, lists of other lengths, a row in parentheses after a range
    ("From 262.4 us to 65.6 us across TP1 B=512 and TP4 B=512.", True),
    ("TP1 B=512, TP4 B=512 and TP1 B=64 take 262.4 us and 65.6 us.", True),
    ("The kernel takes 262.4 us to 524.9 us (65.6 us at TP1 B=512).", True),
])
def test_numbers_are_judged_row_by_row_where_the_sentence_pairs_them_d517(tmp_path, sentence, ok):
    found = _lint(_results_project(tmp_path, _CITE + sentence), select=["D517"])
    assert (found == []) is ok, [d.text() for d in found]


@pytest.mark.parametrize("text,stale", [
    ("In SGLang 9.9.9 MambaPool, HybridLinearKVPool and MambaStateUpdateCudaGraphRunner all still exist.", True),
    ("create_qkvz_proj and fused_qkvz_loader are still in today's SGLang.", True),
    # near misses: code that is there, a clause that says what left, a sentence not about today
    ("In SGLang 9.9.9 MambaPool and HybridLinearKVPool all still exist; MambaStateUpdateCudaGraphRunner is gone.", False),
    ("MambaStateUpdateCudaGraphRunner was renamed, and HybridLinearKVPool is still in 9.9.9.", False),
    ("At the time MambaStateUpdateCudaGraphRunner still committed the state after verify.", False),
])
def test_code_said_to_be_still_there_today_is_in_the_tree_d615(tmp_path, text, stale):
    tree = sglang_package(tmp_path / "site", {"srt/mem_cache/memory_pool.py": "class MambaPool:\n    pass\n"
                                     "class HybridLinearKVPool:\n    pass\n",
                                     "srt/models/qwen3_next.py": "def create_qkvz_proj():\n    pass\n"})
    root = _project(tmp_path / "p", _append("implementation", text))
    found = [d for d in _lint(root, sglang_src=tree, select=["D615"]) if d.file == "cards/100.yaml"]
    assert bool(found) is stale, [d.text() for d in found]


BUILT = [("0.1.0", "2026-01-05"), ("0.2.0", "2026-02-20"), ("0.3.0", "2026-04-01")]


def _released(tmp_path: Path, text: str, state: str = "merged") -> Path:
    """#100 merged 2026-01-10, its line first shipped in 0.2.0 (release evidence in cards/evidence.lock)."""
    card = make_card(100, merged_at=dt.date(2026, 1, 10))
    if state != "merged":
        card.update(state=state, merged_at=None, status="adjacent")
    card["implementation"] += " " + text
    root = write_project(tmp_path, [card, make_card(101, merged_at=dt.date(2026, 3, 1))])
    entry = {"kind": "release-diff", "key_fragment": key_sha(Card.from_data(card).key_fragment), "first": "0.1.0",
             "last": "0.3.0", "present": [["0.2.0", "0.3.0"]], "recorded": "2026-11-30",
             "events": [{"change": "added", "file": card["key_fragment"]["file"], "lines": [3],
                         "old": {"version": "0.1.0", "built": "2026-01-05", "sha256": None},
                         "new": {"version": "0.2.0", "built": "2026-02-20", "sha256": "0" * 64}}]}
    lock = {"version": 1, "cards": {}, "releases": {"built": [list(b) for b in BUILT], "cards": {100: entry}}}
    (root / "cards" / "evidence.lock").write_text(yaml.safe_dump(lock, sort_keys=False))
    return root


@pytest.mark.parametrize("text,state,wrong", [
    ("The change first shipped in 0.1.0.", "merged", True),
    ("The change shipped in 0.1.0.", "merged", True),
    ("The change first shipped in 0.2.0 and is still in 0.3.0.", "merged", False),
    # "shipped in" without "first" is the release it went out in (lint22, D319); "also"/"still" a release holding it
    ("The change shipped in 0.3.0.", "merged", True),
    ("The change also shipped in 0.3.0.", "merged", False),
    ("This fix shipped in 0.2.0.", "closed", True),
    # whose release it is: another PR's (without evidence: not judged), or not for a pattern to decide
    ("Its successor #101, first shipped in 0.1.0, kept the idea.", "closed", False),
    ("The idea shipped in 0.2.0 through #101 instead.", "closed", False),
    # lint12: other words for the first release (probes first-release-to-carry, shipped-with-version on #20627)
    ("It went out with 0.1.0, the first release to carry it.", "merged", True),
    ("It shipped with SGLang v0.1.0.", "merged", True),
    ("0.1.0 was the first release with this fix.", "merged", True),
    ("The first release to ship it was 0.1.0.", "merged", True),
    ("0.2.0 was the first release with this fix; it shipped with v0.3.0 too.", "merged", False),
    ("The first release to ship it was 0.2.0.", "merged", False),
    ("In the 0.1.0 wheel, the first release with the module, the helper was new.", "merged", False),
    # session 35's mutation probe: "the first release with this code" named a release the evidence contradicts
    ("The flags parse in 0.1.0, the first release with this code.", "merged", True),
    ("0.1.0 was the first wheel to hold the line.", "merged", True),
    ("0.2.0, the first release with this code, parses the new flag.", "merged", False),
    # session 36: a PR paired with a release names the release it went out in ("(#100, from 0.1.0)")
    ("Users get it from 0.1.0 (#100).", "merged", True),
    ("Users get it (#100, from 0.1.0).", "merged", True),
    ("Users get it from 0.2.0 ([#100](pr-history.md#pr-100)).", "merged", False),
    ("A crash fixed in 0.3.0 by #100.", "merged", True),
    ("A crash fixed in 0.2.0 by #100.", "merged", False),
    ("Users get it (#100, from 0.1.0).", "closed", True),
    ("A crash fixed in 0.1.0, #100, on NPU.", "merged", True),
    ("The fix merged in 0.1.0 ([#100](pr-history.md#pr-100)).", "merged", True),
    ("This form first ships in 0.3.0.", "merged", True),  # the probe's present tense
    ("Its first form ships in 0.2.0.", "merged", False),
    ("The call's old line last ships in 0.3.0, then moves.", "merged", False),
])
def test_a_release_the_prose_says_a_pr_shipped_in_agrees_with_the_evidence_d319(tmp_path, text, state, wrong):
    found = [d for d in _lint(_released(tmp_path, text, state), select=["D319"]) if d.file == "cards/100.yaml"]
    assert bool(found) is wrong, [d.text() for d in found]


def _unshipped(tmp_path: Path, merged: dt.date, status: str = "current", today: list | None = None) -> Path:
    """#100's line is in no release scanned (0.1.0 .. 0.3.0, the last built 2026-04-01)."""
    card = make_card(100, merged_at=merged, status=status)
    if status != "current":
        card["superseded_by"] = [101]
    root = write_project(tmp_path, [card, make_card(101, merged_at=dt.date(2026, 3, 1))])
    entry = {"kind": "release-scan", "key_fragment": key_sha(Card.from_data(card).key_fragment), "first": "0.1.0",
             "last": "0.3.0", "present": [], "recorded": "2026-11-30", "events": []}
    if today is not None:
        entry.update(today=today, today_key="0" * 64)
    lock = {"version": 1, "cards": {}, "releases": {"built": [list(b) for b in BUILT], "cards": {100: entry}}}
    (root / "cards" / "evidence.lock").write_text(yaml.safe_dump(lock, sort_keys=False))
    return root


def test_a_current_card_whose_line_no_release_holds_is_d321(tmp_path):
    def found(root):
        return [d.code for d in _lint(root, select=["D321"]) if d.file == "cards/100.yaml"]
    assert found(_unshipped(tmp_path / "bad", dt.date(2026, 1, 10))) == ["D321"]
    # near misses: merged days before the last release, replaced (not current), or alive where `today` says
    assert found(_unshipped(tmp_path / "late", dt.date(2026, 3, 25))) == []
    assert found(_unshipped(tmp_path / "replaced", dt.date(2026, 1, 10), status="superseded")) == []
    assert found(_unshipped(tmp_path / "today", dt.date(2026, 1, 10), today=[["0.2.0", "0.3.0"]])) == []


@pytest.mark.parametrize("state,status,wrong", [("merged", "current", True), ("merged", "reverted", False),
                                                ("closed", "adjacent", False)])
def test_a_pointer_on_a_merged_current_card_is_d407(tmp_path, state, status, wrong):
    def pointer(card):
        card.update(state=state, status=status, merged_at=card["merged_at"] if state == "merged" else None)
        card["superseded_by"] = [90] if status == "reverted" else []
        card["key_fragment"]["explain"] = "Unverified: no source we hold shows a line of this PR. " + PROSE[0]["explain"]
    root = _project(tmp_path, pointer, [make_card(90)])
    assert ([d.code for d in _lint(root, select=["D407"])] == ["D407"]) is wrong


def test_a_title_copied_from_another_card_is_d518(tmp_path):
    donor = make_card(99, title="[Qwen3.5] Fuse split/reshape/cat ops in GDN projection with Triton kernel")
    copied = _project(tmp_path / "bad", lambda c: c.update(title=donor["title"]), [donor])
    assert _codes(copied, select=["D518"]) == ["D518"]
    # near miss: a closed PR reopened under the same title, linked to its successor
    reopened = make_card(99, title=donor["title"], state="closed", merged_at=None, status="superseded",
                         superseded_by=[100])
    assert _codes(_project(tmp_path / "ok", lambda c: c.update(title=donor["title"]), [reopened]),
                  select=["D518"]) == []


# lint10: rules added against the session-9 probes (a real card with one defect each)

@pytest.mark.parametrize("field,text,code", [
    # PR-template markup pasted from the description: a heading, a checkbox
    ("motivation", "## Checklist - [x] Format your code according to the Code Formatting with Pre-Commit.", "D211"),
    ("implementation", "- [x] Add unit tests for chunk_fwd.py.", "D211"),
    ("implementation", "In this PR I added chunk_fwd.py and tested it on H200. PTAL @reviewer.", "D211"),
    # whose code: SGLang's path given to this project, and this project's module given to SGLang
    ("implementation", "Our reference kernel, python/sglang/jit_kernel/cutedsl_gdn.py, is what the tests run.", "D219"),
    ("implementation", "SGLang's own reference, runtime.gdn.replayssm, checks the ring.", "D219"),
    # a merge day written in words
    ("implementation", "Merged on March 2, 2026 after review.", "D406"),
    # the card's own change said to be reverted, and said to be gone, while the card calls it current
    ("implementation", "Reverted by #90 two days after merge.", "D408"),
    ("implementation", "SGLang 0.5.23 no longer has this kernel (removed in 0.5.15).", "D409"),
])
def test_round10_prose_defects_fire(tmp_path, field, text, code):
    root = _project(tmp_path, _append(field, text), [make_card(90, merged_at=dt.date(2026, 3, 26))])
    assert code in _codes(root, select=[code])


@pytest.mark.parametrize("field,text", [
    ("motivation", "#21404 fixed the leak; x[0] is the slot and a # comment marks it."),
    ("motivation", 'The author wrote "I added a guard" after the GPU I/O stalls at TP 4.'),
    ("implementation", "Our runtime.gdn.decode mirrors python/sglang/srt/layers/attention/fla/fused_recurrent.py."),
    ("implementation", "SGLang 0.5.23's kernel runs at 2.32x; the runtime's kernel, runtime.projections.split_conv, at 1.2x."),
    ("implementation", "Our test covers code in python/sglang/srt/models/qwen3_next.py."),
    ("implementation", "Merged on March 20, 2026 after review."),
    ("implementation", "#91 was reverted by #90 the next day (#92's description says so)."),
    ("implementation", "The old helper this kernel replaced was removed in 0.5.15."),
])
def test_round10_prose_near_misses_pass(tmp_path, field, text):
    others = [make_card(90, merged_at=dt.date(2026, 3, 26)),
              make_card(91, status="reverted", superseded_by=[90], merged_at=dt.date(2026, 3, 1))]
    root = _project(tmp_path, _append(field, text), others)
    assert _codes(root, select=["D211", "D219", "D406", "D408", "D409"]) == []


def test_own_change_said_gone_is_judged_only_on_a_current_card_without_today_d409(tmp_path):
    gone = "SGLang 0.5.23 no longer has this kernel."

    def superseded(card):
        card.update(status="superseded", superseded_by=[90])
        card["implementation"] += " " + gone + " #90 replaced it."

    def rewritten(card):
        card["implementation"] += " " + gone
        card["key_fragment"]["today"] = {"file": "python/sglang/srt/models/qwen3_next.py", "match": "def forward("}
    for name, edit in (("superseded", superseded), ("today", rewritten)):
        root = _project(tmp_path / name, edit, [make_card(90, merged_at=dt.date(2026, 3, 26))])
        assert _codes(root, select=["D409"]) == []


def test_a_successor_the_card_never_mentions_is_d519(tmp_path):
    def superseded(mention: str):
        def edit(card):
            card.update(status="superseded", superseded_by=[90])
            card["implementation"] += mention
        return edit
    others = [make_card(90, merged_at=dt.date(2026, 3, 26))]
    assert _codes(_project(tmp_path / "bad", superseded(""), others), select=["D519"]) == ["D519"]
    ok = _project(tmp_path / "ok", superseded(" https://github.com/example/repo/pull/90 replaced it."), others)
    assert _codes(ok, select=["D519"]) == []


@pytest.mark.parametrize("text,code", [
    ("It was backported to SGLang 0.2.0.post4.", "D322"),
    ("Fixed again in SGLang 0.4.0 and in v0.3.1.", "D322"),
    ("It is available since SGLang v0.1.0.", "D319"),
    ("It landed in 0.1.0.", "D319"),
    # near misses: a release that exists, another package's version, one older than the releases listed
    ("It is available since SGLang v0.2.0 and needs FlashInfer v0.2.5; SGLang 0.0.9 predates it.", None),
])
def test_a_release_named_exists_and_agrees_with_the_evidence_d322_d319(tmp_path, text, code):
    found = [d.code for d in _lint(_released(tmp_path, text), select=["D319", "D322"]) if d.file == "cards/100.yaml"]
    assert set(found) == ({code} if code else set()), found


def test_a_sized_model_takes_only_its_known_active_sizes_d614(tmp_path):
    tree = sglang_package(tmp_path / "site", {"srt/configs/names.py": 'NAMES = ["Qwen3.5-35B", "Qwen3.5-27B"]\n'})

    def found(text: str) -> list[str]:
        root = _project(tmp_path / str(abs(hash(text))), _append("implementation", text))
        (root / "pyproject.toml").write_text('[tool.dossier]\nrepo = "example/repo"\nmodels = ["Qwen/Qwen3.5-35B-A3B"]\n')
        return [d.code for d in _lint(root, sglang_src=tree, select=["D614"]) if d.file == "cards/100.yaml"]
    assert found("Measured on Qwen/Qwen3.5-35B-A5B.") == ["D614"]
    assert found("Measured on Qwen/Qwen3.5-35B-A3B and Qwen3.5-27B-A3B.") == []  # 27B: only the bare size known


def test_a_listed_file_one_keystroke_off_a_real_one_is_d616(tmp_path):
    tree = sglang_package(tmp_path / "site", {"srt/layers/attention/linear/gdn_backend.py": "X = 1\n",
                                              "srt/models/qwen3_next.py": "Y = 2\n"})

    def listed(path: str):
        def edit(card):
            card["files"]["runtime"].append(path)
        return edit

    def found(name: str, path: str) -> list[str]:
        root = _project(tmp_path / name, listed(path))
        return [d.code for d in _lint(root, sglang_src=tree, select=["D616"]) if d.file == "cards/100.yaml"]
    assert found("typo", "python/sglang/srt/layers/attention/linear/gdn_backends.py") == ["D616"]
    assert found("swap", "python/sglang/srt/layers/attention/linear/gdn_bakcend.py") == ["D616"]
    # near misses: a file that left (no neighbour one edit away), the real file
    assert found("gone", "python/sglang/srt/layers/attention/linear/kda_backend.py") == []
    assert found("real", "python/sglang/srt/layers/attention/linear/gdn_backend.py") == []


@pytest.mark.parametrize("text,wrong", [
    ("In SGLang 9.9.9 MambaPool is still in python/sglang/srt/models/qwen3_next.py.", True),
    ("In SGLang 9.9.9 MambaPool is still in srt/mem_cache/memory_pool.py.", False),
    ("In SGLang 9.9.9 create_qkvz_proj still lives in models/qwen3_next.py.", False),
])
def test_code_said_to_be_still_in_a_file_is_in_that_file_d615(tmp_path, text, wrong):
    tree = sglang_package(tmp_path / "site", {"srt/mem_cache/memory_pool.py": "class MambaPool:\n    pass\n",
                                              "srt/models/qwen3_next.py": "def create_qkvz_proj():\n    pass\n"})
    root = _project(tmp_path / "p", _append("implementation", text))
    found = [d for d in _lint(root, sglang_src=tree, select=["D615"]) if d.file == "cards/100.yaml"]
    assert bool(found) is wrong, [d.text() for d in found]


def test_a_removal_pr_may_say_its_code_is_gone_d409(tmp_path):
    def removal(card):
        card["title"] = "Remove the widget projection kernel"
        card["implementation"] += " SGLang 0.5.23 no longer has this kernel."
    assert _codes(_project(tmp_path, removal), select=["D409"]) == []


# lint11: rules added against the session-10 probes (a real card with one defect each)

@pytest.mark.parametrize("text,wrong", [
    ("Present from 0.5.13.post1 through 0.5.10 in the wheels.", True),
    ("0.5.19-0.5.14 still accepted the old flag.", True),
    ("Between SGLang 0.5.11 and 0.5.10.post1 the comment went away.", True),
    # near misses: spans in order, a move written as one, another package's change
    ("Present from 0.5.10 through 0.5.13.post1; 0.5.14-0.5.19 accepted the alias.", False),
    ("Downgrading from 0.5.23 to 0.5.19 brings the old path back.", False),
    ("The revert pinned flashinfer from 0.6.7 to 0.6.3.", False),
])
def test_a_span_of_releases_runs_forwards_d323(tmp_path, text, wrong):
    assert (_codes(_project(tmp_path, _append("implementation", text)), select=["D323"]) == ["D323"]) is wrong


def _states() -> list[dict]:
    return [make_card(90, merged_at=dt.date(2026, 3, 1)),
            make_card(91, state="closed", merged_at=None, status="adjacent"),
            make_card(92, state="open", merged_at=None, status="candidate"),
            make_card(93, state="closed", merged_at=None, status="adjacent")]


@pytest.mark.parametrize("text,wrong", [
    ("#90 (closed without merging) had wrapped the layer.", True),
    ("This PR is still open and awaiting review.", True),
    ("#91 and #90 were both closed without merging.", True),
    ("#92 never merged, and #91 is still open.", True),
    # near misses: states the cards agree with, plural after another PR's parenthesis, words bound to no PR
    ("#91 was closed without merging; #92 is still open and #93 never merged.", False),
    ("#92 (opened 2026-03-01, still open in its thread): #91 and #93 were both closed unmerged.", False),
    ("Whether the padding rows matter is still open.", False),
    ("#4242 was closed without merging.", False),
])
def test_a_prs_state_in_prose_agrees_with_its_card_d410(tmp_path, text, wrong):
    root = _project(tmp_path, _append("implementation", text), _states())
    assert (_codes(root, select=["D410"]) == ["D410"]) is wrong


def _opened(tmp_path: Path, text: str) -> Path:
    """#100 merged 2026-03-20; cards/opened.lock says #95 opened 2026-02-10 (so #100 opened no earlier)."""
    root = _project(tmp_path, _append("implementation", text))
    (root / "cards" / "opened.lock").write_text(
        "version: 1\nopened:\n  95: {opened: 2026-02-10, source: https://github.com/example/repo/pull/95}\nanchors: 1\n")
    return root


@pytest.mark.parametrize("text,wrong", [
    ("A reviewer (comment of 2026-01-19) asked for a test.", True),
    ("A reviewer (comment of 2099-03-19) asked for a test.", True),
    ("The PR was opened 2026-04-01 and merged soon after.", True),
    ("#96 (review on 2026-02-01) asked for the same.", True),
    # near misses: days after the floor, another repository's thread, a PR below every anchor, a ';' in between
    ("A reviewer (comment of 2026-03-18) asked for a test; the PR opened 2026-02-11.", False),
    ("It needs flashinfer-ai/flashinfer#2726 (opened 2025-01-02).", False),
    ("#50 (opened 2025-12-01) tried it first.", False),
    ("#96 (merged; opened 2026-02-12) fixed the offsets.", False),
    ("#96 (merged; opened 2026-01-12) fixed the offsets.", True),
    ("#4000 came first; this PR (opened 2026-03-01) followed it.", False),  # #4000: no anchor at or below it
    ("#96 replaced it; the PR (opened 2026-01-05) had stalled.", True),  # the card's own, opened after #95
    # "PR N" names another thread as "#N" does (cards write it for a PR without a card): not the card's own opening
    ("PR 96 was opened on 2026-03-25, after this one merged.", False),
    ("A pull request 96 was opened 2026-03-25 for the rest.", False),
    ("PR 96 was opened on 2026-01-25.", True),  # before #95's anchor
])
def test_a_day_in_prose_is_possible_for_its_thread_d411(tmp_path, text, wrong):
    assert (_codes(_opened(tmp_path, text), select=["D411"]) == ["D411"]) is wrong


@pytest.mark.parametrize("field,text,wrong", [
    ("motivation", "The author reported about 2.6x better TTFT.", True),  # the claim says -2.6%
    ("motivation", "On A100 tp4 median TTFT was 965.52 ms (author); the rerun took 965.52 s.", True),
    ("implementation", "The dump is 1.50 GB on H200; the author measured 1.50 GiB.", True),
    # near misses: the same unit, units of other kinds, small integers
    ("motivation", "The author reported about 2.6% better TTFT at tp4.", False),
    ("motivation", "On H200 the 128 x 128 tile runs 128 us per layer (author) and writes 1.50 GB.", False),
    ("motivation", "On H200 it took 4 ms per step against 4 s to warm up (author).", False),
])
def test_one_number_keeps_one_unit_d224(tmp_path, field, text, wrong):
    assert (_codes(_project(tmp_path, _append(field, text)), select=["D224"]) == ["D224"]) is wrong


@pytest.mark.parametrize("field,text,wrong", [
    # lint12 probe device-contradicts-claim (#19321): the claim says the GPU was not stated
    ("motivation", "The author reported 2.61% better TTFT on H100. The claim: 2.61% (author, GPU type not stated).", True),
    ("implementation", "It ran 123.4 us on B200 (author). Earlier runs gave 123.4 us, device not stated.", True),
    # near misses: another number, another unit, the same sentence saying both, no device named
    ("motivation", "The author reported 2.61% better TTFT on H100. The claim: 2.71% (author, GPU type not stated).", False),
    ("motivation", "The author reported 2.61x better TTFT on H100. The claim: 2.61% (author, GPU type not stated).", False),
    ("motivation", "On H100 a rerun gave 2.61% where the author's 2.61% (GPU not named) came from.", False),
    ("motivation", "The author reported 2.61% better TTFT at tp4. The claim: 2.61% (author, GPU type not stated).", False),
    # the device of another run named in the same sentence (session 46's round six: a false finding)
    ("motivation", "The GSM8K run took 113.9 us, while the serving table's first row (H100, --tp 4) reads 42.0 us. "
                   "The claim: 113.9 us (author, GPU type not stated).", False),
    ("motivation", "The GSM8K run took 113.9 us on H100; the serving table reads 42.0 us. "
                   "The claim: 113.9 us (author, GPU type not stated).", True),
])
def test_a_number_without_a_stated_device_gets_none_elsewhere_d225(tmp_path, field, text, wrong):
    assert (_codes(_project(tmp_path, _append(field, text)), select=["D225"]) == ["D225"]) is wrong


@pytest.mark.parametrize("field,text,wrong", [
    ("explain", "The small-batch kernel cuts decode latency by 30% against Triton.", True),
    ("explain", "On H200 the author saw the small-batch kernel cut decode latency by 30%.", False),
    ("explain", "It is loaded lazily on SM10x only.", False),
    ("explain", "It uses the batch-invariant path, 4.2x slower than the default on H200.", False),
])
def test_a_measured_number_in_any_prose_names_its_setup_d218(tmp_path, field, text, wrong):
    assert (_codes(_project(tmp_path, _append(field, text)), select=["D218"]) == ["D218"]) is wrong


@pytest.mark.parametrize("text,wrong", [
    ("**Modifications** Removed the contiguous copies.", True),
    ("The copies are gone. Accuracy Tests: GSM8K unchanged on H200.", True),
    ("**Summary** The copies are gone.", True),
    # near misses: the words in a sentence, a label of the card's own
    ("The accuracy tests in the PR description show GSM8K unchanged on H200.", False),
    ("Summary: the copies are gone, per the motivation: fewer launches.", False),
])
def test_pasted_pr_template_sections_are_d211(tmp_path, text, wrong):
    assert (_codes(_project(tmp_path, _append("implementation", text)), select=["D211"]) == ["D211"]) is wrong


@pytest.mark.parametrize("sentence,ok", [
    ("This project (NVIDIA H100, results/bench/proj.json): 65.6 us at TP1 B=512.", False),
    ("This project (NVIDIA H200, results/bench/proj.json): 65.6 us at TP1 B=512, where the author's B200 run gave "
     "no number.", True),
    ("This project (results/bench/proj.json): 65.6 us at TP1 B=512.", True),
])
def test_a_results_file_is_quoted_with_its_own_gpu_d517(tmp_path, sentence, ok):
    assert (_lint(_results_project(tmp_path, sentence), select=["D517"]) == []) is ok


@pytest.mark.parametrize("check,wrong", [
    ("python -m pytest tests/runtime/x/test_a.py::test_missing", True),
    ("python -m pytest tests/runtime/x/test_a.py::TestK::test_gone", True),
    ("python -m pytest tests/runtime/x/test_a.py::test_real (parity)", False),
    ("python -m pytest tests/runtime/x/test_a.py::TestK::test_m[bf16]", False),
    ("python -m pytest tests/runtime/x/test_a.py::TestK::test_m[fp4]", True),  # an id its parametrize lacks (lint15)
])
def test_a_test_node_named_in_lanes_exists_d604(tmp_path, check, wrong):
    tree = sglang_package(tmp_path / "site", {"srt/models/qwen3_next.py": "X = 1\n"})
    lanes = copy.deepcopy(LANES)
    lanes["lanes"][0]["validation"] = [check]
    root = write_project(tmp_path / "p", [make_card(100)], lanes=lanes)
    (root / "tests" / "runtime" / "x").mkdir(parents=True)
    (root / "tests" / "runtime" / "x" / "test_a.py").write_text(
        "import pytest\n\n\ndef test_real():\n    pass\n\n\nclass TestK:\n"
        "    @pytest.mark.parametrize('m', ['bf16', 'fp8'])\n    def test_m(self, m):\n        pass\n")
    found = [d for d in _lint(root, sglang_src=tree, select=["D604"]) if d.file == "cards/lanes.yaml"]
    assert bool(found) is wrong, [d.text() for d in found]


@pytest.mark.parametrize("text,wrong", [
    ("It only runs when server_args." + "enable_" + "gdn_fused_split is set.", True),  # built so no source holds it
    ("It only runs when server_args.enable_mixed_chunk is set (server_args.py).", False),
])
def test_a_server_argument_named_as_code_exists_d613(tmp_path, text, wrong):
    tree = sglang_package(tmp_path / "site", {"srt/server_args.py": "class ServerArgs:\n    enable_mixed_chunk = False\n"})
    root = _project(tmp_path / "p", _append("implementation", text))
    found = [d for d in _lint(root, sglang_src=tree, select=["D613"]) if d.file == "cards/100.yaml"]
    assert bool(found) is wrong, [d.text() for d in found]


@pytest.mark.parametrize("text,code", [
    ("It has been in SGLang since v0.1.0.", "D319"),
    ("The 0.2.0 wheel (released 2026-01-01) first held it.", "D324"),
    ("0.2.0 (built 2026-04-01) first held it.", "D324"),
    # near misses: a span, a release day within two of the build, a list paired one to one, another package's
    # release; "built" is the lock's own day, with no slack (session 36's probe: a build day one off passed)
    ("Present from 0.2.0 through 0.3.0; 0.2.0 (released 2026-02-21) first held it.", None),
    ("Present from 0.2.0 through 0.3.0; 0.2.0 (built 2026-02-21) first held it.", "D324"),
    ("It was present from 0.3.0 through 0.3.0.post1 as well.", None),  # a span, not a first release
    ("0.1.0 and 0.2.0 (built 2026-01-05 and 2026-02-20) bracket it; flashinfer 0.2.0 (released 2025-01-01).", None),
])
def test_a_release_and_its_day_agree_with_the_evidence_d319_d324(tmp_path, text, code):
    found = [d.code for d in _lint(_released(tmp_path, text), select=["D319", "D324"]) if d.file == "cards/100.yaml"]
    assert set(found) == ({code} if code else set()), found


def test_a_current_card_saying_sglang_dropped_its_code_is_d409(tmp_path):
    bad = _project(tmp_path / "bad", _append("implementation", "SGLang 0.5.23 dropped the kernel this PR added."))
    assert _codes(bad, select=["D409"]) == ["D409"]
    ok = _project(tmp_path / "ok", _append("implementation", "SGLang 0.5.23 dropped the helper this kernel replaced."))
    assert _codes(ok, select=["D409"]) == []


# lint13: probes of session 11 (harness /tmp/probes13), one defect each and near misses real cards write
@pytest.mark.parametrize("text,wrong", [
    ("On A100 tp4 (author): median TTFT -19.2% (965.52 -> 876.80 ms).", True),  # probe pct-arith-wrong (#19321)
    ("On A100 tp4 (author): median TTFT +9.2% (965.52 -> 876.80 ms).", True),  # the sign
    ("On 4x H100 (author): gating 89 us -> 79 us (1.6x).", True),  # probe ratio-arith-wrong (#12508)
    ("On H200 (author): 2.84x (TP1 B=512: 63.9 us against a 28.5 us floor).", True),  # probe ratio-against-floor
    ("On B200 (author): decode step 353 -> 316 us (-20%).", True),
    # near misses: real cards' changes (rounded values, 'about', points, a factor either way round)
    ("On A100 tp4 (author): median TTFT -9.2% (965.52 -> 876.80 ms), +1.2% (3221.55 -> 3260.17 tok/s).", False),
    ("On B200 (author): decode step 353 -> 316 us (-10%), GDN kernel 30 -> 16 us (-47%).", False),
    ("On B200 (author): 2967.035 -> 3266.447 tok/s (about +10%).", False),
    ("On H200 (author): MMLU 0.8746 -> 0.8715 (-0.31 pp), GSM8K 0.9627 -> 0.9688 (+0.61 pp).", False),
    ("On H200 (author): 11.5 GB -> 1.8 GB, 6.4x less memory.", False),
    ("On H200 (author): 2.24x (TP1 B=512: 63.9 us against a 28.5 us floor).", False),
    ("On H200 (author): 3.5 us -> 1.4 us (-60%), TP 2 -> 4 (2x more ranks).", False),
    ("On H200 (author): GSM8K 0.44 -> 0.99 (45% of the gap closed by the first fix).", False),  # not the change
])
def test_a_change_agrees_with_its_two_values_d226(tmp_path, text, wrong):
    assert (_codes(_project(tmp_path, _append("implementation", text)), select=["D226"]) == ["D226"]) is wrong


def _history(tmp_path: Path, text: str) -> Path:
    """#90 merged, reverted by #95 (a revert by its title) and later replaced by #96; #97 merged, current."""
    revert = make_card(95, title='Revert "Fuse the widget projection in layer 90"', merged_at=dt.date(2026, 3, 21),
                       status="superseded", superseded_by=[96])
    cards = [make_card(90, merged_at=dt.date(2026, 3, 1), status="reverted", superseded_by=[95, 96]), revert,
             make_card(96, merged_at=dt.date(2026, 3, 22)), make_card(97, merged_at=dt.date(2026, 3, 23))]
    return _project(tmp_path, _append("implementation", text), cards)


@pytest.mark.parametrize("text,wrong", [
    ("#90 (reverted by #96) had wrapped the loader.", True),  # probe reverted-by-wrong-pr: #96 came after the revert
    ("#90 (reverted by #97) had wrapped the loader.", True),  # probe reverted-by-unlisted-pr
    ("#90 was superseded by #97.", True),  # probe superseded-by-wrong-pr
    ("This PR was later superseded by #96, which replaced these loaders.", True),  # probe current-says-superseded
    ("It fixed the loader; so this card is superseded by #97.", True),
    # near misses: the history the cards give, a PR without a card, a source's possessive
    ("#90 (reverted by #95) had wrapped the loader; #96 replaced it.", False),
    ("#90 was superseded by #95 and #96.", False),
    ("#4242 (reverted by #97) tried the same.", False),
    ("#90 was merged and reverted by #18910, which no source holds.", False),
])
def test_who_reverted_or_superseded_a_pr_agrees_with_its_card_d412(tmp_path, text, wrong):
    assert (_codes(_history(tmp_path, text), select=["D412"]) == ["D412"]) is wrong


def test_a_merged_pr_is_superseded_only_by_a_merged_one_d404(tmp_path):
    def superseded_by(n):
        return lambda card: card.update(status="superseded", superseded_by=[n],
                                        implementation=card["implementation"] + f" #{n} replaced it.")
    others = [make_card(91, state="closed", merged_at=None, status="adjacent"),
              make_card(92, state="open", merged_at=None, status="candidate"),
              make_card(93, merged_at=dt.date(2026, 4, 1))]
    assert _codes(_project(tmp_path / "closed", superseded_by(91), others), select=["D404"]) == ["D404"]
    assert _codes(_project(tmp_path / "open", superseded_by(92), others), select=["D404"]) == ["D404"]
    assert _codes(_project(tmp_path / "merged", superseded_by(93), others), select=["D404"]) == []
    # an unmerged PR may supersede another unmerged one (#39526, open, supersedes three closed attempts)
    closed = make_card(100, state="closed", merged_at=None, status="superseded", superseded_by=[92])
    closed["implementation"] += " #92 re-proposed it."
    assert [d.code for d in _lint(write_project(tmp_path / "unmerged", [closed, *others]), select=["D404"])] == []


@pytest.mark.parametrize("mention,wrong", [
    ("", True),  # probe successor-omits-predecessor (#22097 without #21422)
    (" It replaced #90.", False),
    (" Reproduced as in #22876/#90.", False),  # a '/'-joined pair of this repository's PRs
    (" See https://github.com/example/repo/pull/90 for the first try.", False),
    (" It folds in PR 90's sigmoid.", False),  # "PR N" names a PR as "#N" does (D510 read it so; D520 did not)
])
def test_a_successor_names_the_pr_it_replaced_d520(tmp_path, mention, wrong):
    root = _project(tmp_path, _append("implementation", mention) if mention else (lambda card: None),
                    [make_card(90, merged_at=dt.date(2026, 3, 1), status="superseded", superseded_by=[100])])
    found = [d for d in _lint(root, select=["D520"]) if d.file == "cards/90.yaml"]
    assert bool(found) is wrong, [d.text() for d in found]


@pytest.mark.parametrize("path,text,wrong", [
    ("validation.claims", "TBD", True),  # probe tbd-claim (#36267)
    ("validation.lanes", "TODO: add the GPU lane", True),
    ("implementation", "See {{ pr_url }} for the benchmark table.", True),  # probe jinja-left (#20627)
    ("motivation", "The packed path cuts decode step time by N% on H200 at batch 64.", True),  # placeholder-number
    ("implementation", "Merged as commit XXXXXXXXXX (daily commit digest).", True),  # probe xxx-commit (#21422)
    ("corrections", "The earlier manual says {% if merged %}merged{% endif %}.", True),
    # near misses: a grid written Nx1, a set in braces, N as a size
    ("implementation", "The grid is Nx1 over {q, k, v}, with N = 4 draft tokens per request.", False),
    ("validation.lanes", "Parity at N = 1, 4 and 16 tokens on H200 (python -m pytest tests/runtime/gdn)", False),
])
def test_a_placeholder_in_any_text_of_the_card_is_d202(tmp_path, path, text, wrong):
    def edit(card):
        if path in ("motivation", "implementation"):
            card[path] += " " + text
        elif path == "corrections":
            card["corrections"] = [text]
        else:
            card["validation"][path.split(".")[1]].append(text)
    assert (_codes(_project(tmp_path, edit), select=["D202"]) == ["D202"]) is wrong


@pytest.mark.parametrize("text,wrong", [
    ("Sure! Here is the card for this PR, written from the description.", True),  # probe agent-chatter (#20627)
    ("As an AI model I could not open the diff, so this is my best guess.", True),  # probe agent-cannot-access
    ("I could not open the diff, so the hunk is inferred.", True),
    ("Here's the updated card: the loader now takes a tuple.", True),
    ("In this PR, we add a packed decode kernel, please review.", True),  # probe in-this-pr-we (#20627)
    ("| bs | triton | cutedsl | | 128 | 1.00 | 1.05 |", True),  # probe pasted-table (#15631)
    # near misses: the author quoted, a vision-language model, 'we' of this project
    ("The author wrote \"I could not reproduce it on H100\" in the thread.", False),
    ("Qwen3.5 is a vision-language model; the parts of the thread we could read give no numbers.", False),
    ("The layout is [all q | all k | all v | all z]; conv_state is cat([q | k | v]); the module is new in this PR.",
     False),
])
def test_a_chat_assistants_voice_or_pasted_pr_text_is_d211(tmp_path, text, wrong):
    assert (_codes(_project(tmp_path, _append("implementation", text)), select=["D211"]) == ["D211"]) is wrong


@pytest.mark.parametrize("text,code", [
    ("Every wheel since 0.1.0 carries it.", "D319"),  # probe since-release-wrong (#20627)
    ("0.2.0 was the last release to carry it.", "D319"),  # the releases hold it through 0.3.0
    ("The last release with this change was 0.2.0.", "D319"),
    ("It shipped in 0.2.0 and was tuned again for 0.3.5.", "D322"),  # probe release-nonexistent: a bare version
    # near misses: the evidence's first and last releases, another package's bare version
    ("Every wheel since 0.2.0 carries it; the last release with this change was 0.3.0.", None),
    ("It needs flashinfer-python 0.3.5 or newer.", None),
])
def test_first_and_last_releases_and_bare_versions_d319_d322(tmp_path, text, code):
    found = [d.code for d in _lint(_released(tmp_path, text), select=["D319", "D322"]) if d.file == "cards/100.yaml"]
    assert set(found) == ({code} if code else set()), found


@pytest.mark.parametrize("text,wrong", [
    ("The revert was opened on 2026-03-19, the day #90 merged.", True),  # probe revert-opened-before-merge (#21496)
    ("The revert was opened on 2026-03-26, the day #90 merged.", False),
])
def test_a_day_given_as_another_prs_merge_day_agrees_with_its_card_d406(tmp_path, text, wrong):
    root = _project(tmp_path, _append("implementation", text), [make_card(90, merged_at=dt.date(2026, 3, 26))])
    assert (_codes(root, select=["D406"]) == ["D406"]) is wrong


@pytest.mark.parametrize("shared,extra,wrong", [
    (3, [], True),  # probe lanes-copied: #19321's lanes pasted into #21019
    (2, [], True),  # the same list of two
    (2, ["Parity of this PR's own kernel on H200"], False),  # real cards of one lane share one or two checks
    (1, [], False),
])
def test_validation_lanes_taken_over_from_another_card_are_d221(tmp_path, shared, extra, wrong):
    checks = [f"python -m pytest test/registered/models/test_model_{i}.py (the lane's model test {i})" for i in range(3)]
    other = make_card(90, merged_at=dt.date(2026, 3, 1))
    other["validation"]["lanes"] = checks[:shared]
    root = _project(tmp_path, lambda card: card["validation"].update(lanes=checks[:shared] + extra), [other])
    found = [d for d in _lint(root, select=["D221"]) if d.file == "cards/100.yaml" and "lanes" in d.message]
    assert bool(found) is wrong, [d.text() for d in found]
