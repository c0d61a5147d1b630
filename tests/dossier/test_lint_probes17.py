"""Rules added against lint17's probes (session 15): links into the manual that go nowhere (D523), a merge day outside
the bound the prose gives (D406), more ways to hand a flag to a release (D618), promotion in place of facts (D215),
one number on two devices or on a device the source never named (D231, D225), performance numbers in a card that names
no device (D233), a number the claims say the PR never gave (D234), this project's numbers given to the PR
or SGLang (D217), a release said to lack a change it holds (D319), an explain quoting its own line with another
literal (D232), a path the prose says the PR changed that the card does not list (D320). Each bad card is a real card
mutated by hand; the real cards stay clean."""

from __future__ import annotations

import re

import pytest
import yaml

from dossier.lint import LintContext, run_lint
from dossier.project import Project
from tests.dossier.test_lint_probes15 import _append, _both, _errors
from tests.dossier.test_lint_probes16 import _claims_append, _real_project, probe_round
from tests.dossier.yaml_support import load_yaml

VERIFY = "--linear-attn-verify-backend"  # first shipped in 0.5.17


def _replace(field: str, old: str, new: str):
    def edit(card):
        assert old in card[field], (field, old)
        card[field] = card[field].replace(old, new)
    return edit


def _without(pattern: str):
    """The card with every match of ``pattern`` cut from its prose and claims (a device the author left out)."""
    def edit(card):
        for field in ("motivation", "implementation"):
            card[field] = re.sub(pattern, "", card[field])
        card["validation"]["claims"] = [re.sub(pattern, "", c) for c in card["validation"]["claims"]]
    return edit


def _explain(old: str, new: str):
    def edit(card):
        assert old in card["key_fragment"]["explain"], old
        card["key_fragment"]["explain"] = card["key_fragment"]["explain"].replace(old, new)
    return edit


# (id, card, other real cards in the project, edit of the card, the code expected)
PROBES = [
    # 1. links written into a card that lead nowhere in the rendered manual
    ("link-anchor-misspelt", 19775, (), _append("implementation", "See [the verify path](answers.md#mtp-verify) for "
                                                                  "the flags."), "D523"),
    ("link-to-another-pr", 19775, (12508,), _append("implementation", "It builds on [#12508](pr-history.md#pr-12580)."),
     "D523"),
    ("link-to-no-page", 19775, (), _append("implementation", "The kernel map is in [the kernel map](kernels.md)."),
     "D523"),
    ("link-lane-anchor", 19775, (), _append("implementation", "[The lane](playbook.md#lane-gdn-kernel) lists the "
                                                              "checks."), "D523"),
    # 2. a merge day outside the bound the prose itself gives
    ("merged-between", 32919, (), _append("implementation", "It merged between 2026-09-05 and 2026-09-10."), "D406"),
    ("merged-no-later-than", 32919, (), _append("implementation", "It was merged no later than 2026-08-25."), "D406"),
    ("merged-after", 32919, (), _append("implementation", "It was merged after 2026-09-02."), "D406"),
    ("merged-by", 32919, (), _append("implementation", "It had merged by 2026-08-20."), "D406"),
    ("merge-window", 19775, (), _append("motivation", "The merge falls in the window 2026-03-09 to 2026-03-10."),
     "D406"),
    # 3. a flag handed to a release that did not have it, in more words
    ("flag-upgrade-to", 19775, (), _append("implementation", f"Upgrade to 0.5.12 to get {VERIFY}."), "D618"),
    ("flag-first-appeared", 19775, (), _append("implementation", f"{VERIFY} first appeared in SGLang 0.5.12."), "D618"),
    ("flag-exists-since", 19775, (), _append("implementation", f"{VERIFY} exists since 0.5.12."), "D618"),
    ("flag-release-has", 19775, (), _append("implementation", f"0.5.12 has {VERIFY}."), "D618"),
    # 4. promotion in place of facts
    ("filler-step-forward", 19775, (), _append("implementation", "This is a significant step forward for efficient "
                                                                 "inference on modern hardware."), "D215"),
    ("filler-at-scale", 19775, (), _append("motivation", "Such optimizations are crucial for production deployments "
                                                         "at scale."), "D215"),
    ("filler-paves-the-way", 21019, (), _append("implementation", "It seamlessly paves the way for future fusions."),
     "D215"),
    # 5. one number, two devices (or a device the source never named)
    ("number-on-two-gpus", 12508, (), _append("motivation", "The 89 us figure was measured on B200."), "D231"),
    ("rounded-number-on-two-gpus", 22664, (), _append("implementation", "On B200 the reduce took 136 ms."), "D231"),
    ("device-the-source-never-named", 32919, (), _replace("motivation", "The author (samuellees) reports",
                                                          "The author (samuellees) reports on an H100"), "D225"),
    ("numbers-with-no-device", 17094, (), _without(r",? (?:on )?B200"), "D233"),
    ("number-the-claims-say-the-pr-never-gave", 21019, (), _append("motivation", "The author measured 12% higher "
                                                                                 "output throughput on H100 with the "
                                                                                 "new kernel."), "D234"),
    ("speed-up-in-a-pr-without-numbers", 35081, (), _append("motivation", "The author measured decode 9% faster on "
                                                                          "H100 with the fix."), "D234"),
    # 6. this project's numbers given to the PR's author or to SGLang (values of results/bench/projections.json's
    # split + conv TP1 B=512 row, as card 32919 quotes them: SGLang's time and its multiple of the byte floor)
    ("ours-as-the-authors", 32919, (), _append("motivation", "The author measured 63.9 us at TP1 B=512 on an H200."),
     "D217"),
    ("ours-as-sglangs", 32919, (), _append("implementation", "SGLang's kernel runs at 2.28x its byte floor at TP1 "
                                                             "B=512 on H200."), "D217"),
    # 7. a release said to lack the change it holds
    ("release-lacks-it", 32919, (), _append("implementation", "0.5.19 lacks the kernel."), "D319"),
    ("not-yet-in-release", 32919, (), _append("implementation", "It is not yet in 0.5.20."), "D319"),
    # 8. an explain that quotes its own line with another literal
    ("explain-flips-the-flag", 24629, (), _explain("enforce_disable_flashinfer_allreduce_fusion is set",
                                                    "enforce_disable_flashinfer_allreduce_fusion = False is set"),
     "D232"),
    ("explain-flips-keep-vars", 40310, (), _explain("state_dict(keep_vars=True)", "state_dict(keep_vars=False)"),
     "D232"),
    # 9. a path the prose says the PR changed, missing from the card's files
    ("prose-adds-unlisted-test", 19775, (), _append("implementation", "The PR adds test/registered/4-gpu-models/"
                                                                      "test_qwen3_next_models_mtp.py."), "D320"),
    ("prose-edits-unlisted-file", 19775, (), _append("implementation", "It also edits "
                                                                       "python/sglang/srt/server_args.py."), "D320"),
]

# near misses: the same shapes, true of the records (each must add no error)
NEAR = [
    ("link-that-lands", 19775, (), _append("implementation", "See [the lane](playbook.md#lane-gdn-kernels) and "
                                                             "[#19775](pr-history.md#pr-19775).")),
    ("url-link", 19775, (), _append("implementation", "The thread is [on GitHub](https://github.com/sgl-project/"
                                                      "sglang/pull/19775).")),
    ("merged-inside-its-bound", 32919, (), _append("implementation", "It merged between 2026-08-22 and 2026-09-04.")),
    ("other-pr-merged-after", 32919, (), _append("implementation", "A ROCm follow-up merged after 2026-09-10.")),
    ("flag-release-has-not", 19775, (), _append("implementation", f"0.5.12 has no {VERIFY}.")),
    ("flag-upgrade-to-its-release", 19775, (), _append("implementation", f"Upgrade to 0.5.17 to get {VERIFY}.")),
    ("same-number-same-gpu", 12508, (), _append("motivation", "The 89 us figure was measured on H100.")),
    ("two-gpus-compared", 12508, (), _append("motivation", "The 89 us are on H100, not B200.")),
    ("device-said-unstated", 17094, (), lambda c: (_without(r",? (?:on )?B200")(c), _claims_append(
        "The GPU of the serving runs is not stated in the thread excerpt (author).")(c))),
    # lint19: a figure credited to an issue is held to the card's own claims (D235), so the claims record it
    ("an-issues-number-in-a-pr-without-numbers", 19415, (), _both(
        _claims_append("Issue #9999 (its author, H100): decode 9% faster; not the PR's number."),
        _append("motivation", "Issue #9999 measured decode 9% faster on H100 (its author)."))),
    ("authors-own-number", 32919, (), _append("motivation", "The author measured 46.02 us at batch 128.")),
    ("release-lacks-it-truly", 32919, (), _append("implementation", "0.5.18 (built 2026-08-21) lacks the kernel.")),
    ("explain-quotes-its-line", 19775, (), _append("explain", "With is_kda=False the gate inputs stay raw.")),
    ("explain-names-another-value-in-words", 19775, (), _append("explain", "The KDA path (is_kda set) is not this "
                                                                           "one.")),
    ("later-pr-adds-a-file", 19775, (), _append("implementation", "A later PR adds python/sglang/srt/server_args.py.")),
    ("listed-file-added", 12508, (), _append("implementation", "It adds python/sglang/srt/layers/attention/fla/"
                                                               "fused_gdn_gating.py.")),
]


(test_the_real_cards_the_probes_start_from_lint_clean, test_a_hand_made_bad_card_is_caught,
 test_a_near_miss_stays_clean) = probe_round(PROBES, NEAR)


def _lanes_with(root, field: str, text: str) -> None:
    lanes = load_yaml((root / "cards" / "lanes.yaml").read_text())
    lanes["lanes"][0][field] = [*lanes["lanes"][0].get(field, []), text]
    (root / "cards" / "lanes.yaml").write_text(yaml.safe_dump(lanes, sort_keys=False))


@pytest.mark.parametrize("field,link,dead", [
    ("investigation", "[#19775](pr-history.md#pr-19775)", False),  # the playbook is in references/: the link lands
    ("investigation", "[#19775](references/pr-history.md#pr-19775)", True),
    ("investigation", "[#19775](pr-history.md#pr-19757)", True),
    ("symptoms", "[#19775](pr-history.md#pr-19775)", True),  # a symptom is a row of SKILL.md too, beside references/
])
def test_a_link_in_lanes_yaml_is_read_from_the_pages_it_is_rendered_on(tmp_path, no_release_cache, field, link, dead):
    root = _real_project(tmp_path, 19775, ())
    _lanes_with(root, field, f"For the verify kernel see {link}.")
    found = [d for d in run_lint(LintContext(Project.load(root)), select=["D523"])
             if d.file == "cards/lanes.yaml" and link in d.message]  # the lanes name cards this project lacks
    assert bool(found) is dead, [d.text() for d in found]


def test_a_bound_on_another_prs_merge_is_not_the_cards(tmp_path, no_release_cache):
    edit = _append("implementation", "The revert (#99999) merged after 2026-10-01.")
    assert "D406" not in _errors(_real_project(tmp_path, 32919, (), edit), 32919)


def test_a_day_in_words_bounds_the_merge_too(tmp_path, no_release_cache):
    edit = _append("implementation", "It merged after September 5, 2026.")
    assert "D406" in _errors(_real_project(tmp_path, 32919, (), edit), 32919)


def test_a_claim_of_ours_given_to_the_author_in_the_claims_is_d217(tmp_path, no_release_cache):
    edit = _claims_append("Author: 2.28x its byte floor at TP1 B=512 on an H200.")
    assert "D217" in _errors(_real_project(tmp_path, 32919, (), edit), 32919)


def _d327(root, file: str) -> list[str]:
    return [d.text() for d in run_lint(LintContext(Project.load(root)), select=["D327"]) if d.file == file]


def test_a_flag_removed_in_the_wrong_release_in_lanes_yaml_is_d327(tmp_path, no_release_cache):
    root = _real_project(tmp_path, 19775, ())
    _lanes_with(root, "investigation", "`--mamba-scheduler-strategy` (removed in 0.5.23) picked the buffer strategy.")
    assert _d327(root, "cards/lanes.yaml")
    _lanes_with(root, "investigation", "`--mamba-scheduler-strategy` (removed in 0.5.20) picked the buffer strategy.")
    assert len(_d327(root, "cards/lanes.yaml")) == 1  # 0.5.19 was its last release: only the first line is wrong


SPEC = "srt/speculative/eagle_info_v2.py"
GDN = "srt/layers/attention/linear/kernels/gdn_triton.py"


@pytest.mark.parametrize("pr,text,wrong", [
    (22458, "eagle_info_v2.py was removed in 0.5.20.", True),  # gone from 0.5.15 on
    (22458, "eagle_info_v2.py was removed in 0.5.14.", True),  # 0.5.14 still has it
    (22458, "eagle_info_v2.py was removed in 0.5.15.", False),
    (22458, "The helper in eagle_info_v2.py was removed in 0.5.20.", False),  # the helper, not the file
    (19775, "The `fused_sigmoid_gating_delta_rule_update` call was removed in 0.5.20.", True),
    (19775, "The `fused_recurrent_gated_delta_rule_update` call was removed in 0.5.20.", False),
])
def test_a_file_or_name_said_removed_is_judged_by_the_release_trees(tmp_path, monkeypatch, pr, text, wrong):
    from tests.dossier.release_support import write_release

    cache = tmp_path / "releases"
    call = "fused_sigmoid_gating_delta_rule_update(q, k, v)\n"
    write_release(cache, "0.5.14", "2026-05-01", {SPEC: "x = 1\n", GDN: call})
    write_release(cache, "0.5.15", "2026-05-20", {GDN: call})
    write_release(cache, "0.5.20", "2026-09-20", {GDN: call})
    monkeypatch.setenv("DOSSIER_RELEASES", str(cache))
    root = _real_project(tmp_path / "p", pr, (), _append("implementation", text))
    assert bool(_d327(root, f"cards/{pr}.yaml")) is wrong
