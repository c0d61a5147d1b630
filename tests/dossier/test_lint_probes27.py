"""Rules widened in session 45 from a helper's fourth false-negative round (66 planted edits, 35 missed), where the
missed kind had a general reading with no false alarm on the 198 real cards.

D324: a release's build day written as a noun ("the 0.5.14 build (2026-06-19)") or bare ("0.5.22 (2026-10-01)
ships") was never read: only "built/released/... on" were. D406: the card's own merge commit with its day ("the merge
is commit 9fdb71732a on 2026-09-25", "(commit 7c9257529f, 2026-07-21") was read only after "Merge:" or "squash". D411:
"(opened 2026-06-12)" for a PR cards/opened.lock records opened 2026-06-09 passed, the lock serving only as a floor.
D623: a default in brackets ("`SGLANG_GDN_CHUNK_H_NUM_WARPS` [8]", as the switches list writes them) was not read.
D410: "[#20397](...), merged in 0.5.10" for a closed PR passed; only "#N (merged" and "#N was merged" were read.
D615 named a file whose only mention of the class is a comment as where today's SGLang holds it. D632 (new): a name
only older releases had (cards/names.lock) written as today's ("(0.5.23: _sglang_needs_allreduce_fusion)") passed
D621, which takes names.lock's names as existing code; nor did D621 judge a private name written as a plural
("_send_mamba_state_slices"), which it took for the plural of a known one.
"""

from __future__ import annotations

import yaml

from tests.dossier.test_lint_probes15 import _append
from tests.dossier.test_lint_probes16 import _real_project, probe_round
from tests.dossier.test_lint_probes17 import _replace
from tests.dossier.yaml_support import load_yaml

PROBES = [
    ("build-day-as-a-noun", 27636, (), _replace(
        "implementation", "the 0.5.14 build (2026-06-26)", "the 0.5.14 build (2026-06-19)"), "D324"),
    ("build-day-bare", 36187, (), _append(
        "implementation", "The call first ran in 0.5.21 (2026-09-25), four days after the merge."), "D324"),
    ("merge-commit-day-as-a-predicate", 33778, (), _replace(
        "implementation", "merge is commit 9fdb71732a on 2026-09-22", "merge is commit 9fdb71732a on 2026-09-25"),
     "D406"),
    ("merge-commit-day-in-brackets", 30437, (), _replace(
        "motivation", "(commit 7c9257529f, 2026-07-21", "(commit 7c9257529f, 2026-07-12"), "D406"),
    ("opening-day-the-lock-records-otherwise", 27636, (), _replace(
        "motivation", "(opened 2026-06-09)", "(opened 2026-06-12)"), "D411"),
]

NEAR = [
    ("build-day-as-a-noun-right", 27636, (), _replace(
        "implementation", "the 0.5.14 build (2026-06-26)", "the 0.5.14 wheel build of 2026-06-26")),
    ("build-day-bare-right", 36187, (), _append("implementation", "So 0.5.21 (2026-10-01) is the first with it.")),
    ("another-packages-release-day", 36187, (), _append(
        "implementation", "It needs flashinfer 0.6.7 (2026-03-30) or newer.")),
    ("an-earlier-commit-of-the-author", 30437, (), _append(
        "motivation", "The author's first commit 1234abcd on 2026-07-02 tried another layout.")),
    ("opening-day-a-day-off", 27636, (), _replace("motivation", "(opened 2026-06-09)", "(opened 2026-06-10)")),
]

(test_the_real_cards_the_probes_start_from_lint_clean, test_a_hand_made_bad_card_is_caught,
 test_a_near_miss_stays_clean) = probe_round(PROBES, NEAR)


def _lanes_findings(tmp_path, text: str, code: str, pr: int = 20397) -> list[str]:
    """``code``'s findings on cards/lanes.yaml once ``text`` is added to its investigation order, in a project of
    the real card ``pr``."""
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project

    root = _real_project(tmp_path, pr, ())
    lanes = root / "cards" / "lanes.yaml"
    data = load_yaml(lanes.read_text())
    data["investigation_order"].append(text)
    lanes.write_text(yaml.safe_dump(data, sort_keys=False))
    return [d.message for d in run_lint(LintContext(Project.load(root)), select=[code]) if d.file == "cards/lanes.yaml"]


def test_a_bracketed_default_is_read(tmp_path, no_release_cache):
    said = "Switches, default in brackets: `SGLANG_GDN_CHUNK_H_NUM_WARPS` [{}] the chunk-state kernel's warps."
    assert _lanes_findings(tmp_path / "a", said.format(8), "D623") == [
        "SGLANG_GDN_CHUNK_H_NUM_WARPS is said to default to 8, but SGLang 0.5.23 defaults it to 4 (cards/surface.lock)"]
    assert _lanes_findings(tmp_path / "b", said.format(4), "D623") == []
    linked = "Tune `SGLANG_GDN_CHUNK_H_NUM_WARPS` [8](playbook.md#lane-gdn-kernels) only after profiling."
    assert _lanes_findings(tmp_path / "c", linked, "D623") == []  # a Markdown link, not a default


def test_a_closed_pr_said_to_have_merged_after_a_comma(tmp_path, no_release_cache):
    merged = "NPU fixes: [#20397](pr-history.md#pr-20397), merged in 0.5.10, added the draft step to the conv layout."
    assert _lanes_findings(tmp_path / "a", merged, "D410") == [
        "says '[#20397](pr-history.md#pr-20397), merged', but #20397's card has its state as closed, never merged"]
    closed = "NPU fixes: [#20397](pr-history.md#pr-20397), closed unmerged, proposed the draft step."
    assert _lanes_findings(tmp_path / "b", closed, "D410") == []


def test_a_name_said_to_be_in_the_wrong_file_points_at_the_file_that_defines_it(tmp_path, no_release_cache):
    """D615 named attention_hook.py, whose only mention of the class is a comment, as where 0.5.23 holds it."""
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project

    root = _real_project(tmp_path, 10912, (), _replace(
        "implementation", "still in sglang/srt/disaggregation/decode.py", "still in sglang/srt/disaggregation/prefill.py"))
    found = [d.message for d in run_lint(LintContext(Project.load(root)), select=["D615"])]
    assert found and found[0].startswith("says HybridMambaDecodeReqToTokenPool is still in "
                                         "sglang/srt/disaggregation/prefill.py, but SGLang 0.5.23 has it in "
                                         "python/sglang/srt/disaggregation/decode.py"), found


# D632: a name only older releases had, given as today's (names.lock has _sglang_needs_allreduce_fusion to 0.5.20)
RETIRED_PROBES = [
    # D621: a private helper's plural passed as the plural of a known name
    ("private-name-plural", 10912, (), _replace(
        "implementation", "(_send_mamba_state_slice)", "(_send_mamba_state_slices)"), "D621"),
    ("retired-name-as-today", 22664, (), _replace(
        "implementation", "(0.5.23: _deterministic_allreduce_fusion_disable)",
        "(0.5.23: _sglang_needs_allreduce_fusion)"), "D632"),
]

RETIRED_NEAR = [
    ("retired-name-as-the-past", 22664, (), _append(
        "implementation", "In 0.5.23 the mark _sglang_needs_allreduce_fusion is gone.")),
    ("retired-name-in-its-release", 22664, (), _append(
        "implementation", "In 0.5.20 _sglang_needs_allreduce_fusion still marked the layer.")),
]

(test_the_real_cards_the_retired_probes_start_from_lint_clean, test_a_retired_name_given_as_today_is_caught,
 test_a_retired_name_in_the_past_stays_clean) = probe_round(RETIRED_PROBES, RETIRED_NEAR)


def test_a_reverted_pr_cited_as_if_it_held_is_reported(tmp_path, no_release_cache):
    """D527 (new): "([#31369](...), [#29792](...))" credited a change SGLang took back (a helper's W66, lint clean)."""
    cited = "Bisect the fused path ([#31369](pr-history.md#pr-31369), [#29792](pr-history.md#pr-29792))."
    assert _lanes_findings(tmp_path / "a", cited, "D527", 31369) == [
        "cites #31369, which was reverted, with no word of it: '[#31369], [#29792]'"]
    told = "Bisect the fused path ([#29792](pr-history.md#pr-29792); [#31369](pr-history.md#pr-31369) reverted)."
    assert _lanes_findings(tmp_path / "b", told, "D527", 31369) == []


def test_an_answer_item_listing_a_reverted_pr_says_so(tmp_path, no_release_cache):
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project

    root = _real_project(tmp_path, 31369, ())
    lanes = root / "cards" / "lanes.yaml"
    data = load_yaml(lanes.read_text())

    def d527(check: str) -> list[str]:
        data["answers"] = {"checklists": [{"id": "x", "title": "X", "summary": "s",
                                           "items": [{"check": check, "prs": [31369]}]}]}
        lanes.write_text(yaml.safe_dump(data, sort_keys=False))
        return [d.message for d in run_lint(LintContext(Project.load(root)), select=["D527"])]

    assert d527("The fused MoE path runs the new kernel.") == [
        "lists #31369, which was reverted, and its text never says so"]
    assert d527("The fused MoE path ran the new kernel until #31369 was reverted the next day.") == []


def test_a_merge_day_lanes_yaml_gives_a_pr_is_held_to_its_card(tmp_path, no_release_cache):
    """D415 (new): "[#23973](...) (2026-04-27)" in the playbook, where #23973's card has 2026-04-29, passed: D406 reads
    cards only (a helper's W35)."""
    wrong = "Quantized loading: the fallback entries went with [#23973](pr-history.md#pr-23973) (2026-04-27)."
    assert _lanes_findings(tmp_path / "a", wrong, "D415", 23973) == [
        "gives #23973 the merge day 2026-04-27, but #23973's card has 2026-04-29"]
    said = "Quantized loading: #23973 (merged April 27, 2026) removed the fallback entries."
    assert _lanes_findings(tmp_path / "b", said, "D415", 23973) == [
        "gives #23973 the merge day April 27, 2026, but #23973's card has 2026-04-29"]
    right = "Quantized loading: the fallback entries went with [#23973](pr-history.md#pr-23973) (2026-04-29)."
    assert _lanes_findings(tmp_path / "c", right, "D415", 23973) == []


def test_a_release_and_its_pr_in_one_bracket_are_read_as_its_first_release(tmp_path, no_release_cache):
    """D343 read "from 0.5.19 ([#32919](...))" but not "(0.5.19, [#32919](...))", so "(0.5.18, ...)" passed (W33)."""
    wrong = "The fused projection + conv decode (0.5.18, [#32919](pr-history.md#pr-32919)) is the Qwen3.5 default."
    found = _lanes_findings(tmp_path / "a", wrong, "D343", 32919)
    assert found and all("#32919" in m and "0.5.18" in m for m in found), found
    right = "The fused projection + conv decode (0.5.19, [#32919](pr-history.md#pr-32919)) is the Qwen3.5 default."
    assert _lanes_findings(tmp_path / "b", right, "D343", 32919) == []


def test_an_unknown_name_says_no_release_cache_was_read(tmp_path, no_release_cache):
    """D621 said a name was in no release when no release cache had been read (a helper's card named two classes only
    older releases had; the fix was to record names.lock, which the message did not say)."""
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project

    root = _real_project(tmp_path, 12508, (), _append("implementation", "It also feeds split_tuple_shard_idz."))
    found = [d for d in run_lint(LintContext(Project.load(root)), select=["D621"]) if d.file == "cards/12508.yaml"]
    assert found and "cards/names.lock (no release cache was read)" in found[0].message, found
    assert "dossier releases surface --record" in (found[0].hint or "")
