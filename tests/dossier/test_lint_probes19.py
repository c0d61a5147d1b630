"""Rules added against lint19's probes (session 17): the red-team round, a real card mutated the ways a careless or
dishonest author gets one wrong (another PR's card renumbered, prose against its own key fragment, a current card
for code 0.5.23 removed, SGLang's code and ours swapped in new phrasings, template filler, a figure credited to an
uncarded PR or an issue, a date against the release that first shipped the line, a made-up test path), each caught by
the rule named. Each near miss is the nearest honest text and must stay clean."""

from __future__ import annotations

import datetime as dt

import yaml

from tests.dossier.test_lint_probes15 import REAL, _append, _both, _set
from tests.dossier.test_lint_probes16 import _claims_append, _tests_append, probe_round

PULL = "https://github.com/sgl-project/sglang/pull/"


def _renumbered(donor: int, field: str):
    """Another card's field with its PR number (and bare mentions of it) swapped for this card's own."""
    def edit(card):
        node = yaml.safe_load((REAL / "cards" / f"{donor}.yaml").read_text())
        value = node[field] if "." not in field else node[field.split(".")[0]][field.split(".")[1]]
        text = yaml.safe_dump(value).replace(str(donor), str(card["pr"]))
        value = yaml.safe_load(text)
        if "." in field:
            card[field.split(".")[0]][field.split(".")[1]] = value
        else:
            card[field] = value
    return edit


def _explain_append(text: str):
    return _append("explain", text)


# (id, card, other real cards in the project, edit of the card, the code expected)
PROBES = [
    # 1. another PR's card, renumbered
    ("copy-implementation-renumbered", 19321, (21019,), _renumbered(21019, "implementation"), "D221"),
    ("copy-explain-renumbered", 19321, (21019,), _renumbered(21019, "key_fragment.explain"), "D221"),
    ("copy-claims-renumbered", 36267, (32919,), _renumbered(32919, "validation.claims"), "D221"),
    # 2. prose against the key fragment's own diff
    ("explain-says-the-line-was-removed", 19321, (), _explain_append(
        "The PR deletes the isinstance(loaded_shard_id, tuple) check from linear.py."), "D333"),
    ("implementation-says-the-match-is-gone", 19321, (), _append(
        "implementation", "#19321 removed isinstance(loaded_shard_id, tuple) from MergedColumnParallelLinear."), "D333"),
    # 3. a current card for code 0.5.23 removed
    ("current-for-removed-npu-line", 24595, (28267,), _both(_set("status", "current"), _set("superseded_by", [])),
     "D317"),
    ("still-in-today-for-removed-line", 24595, (28267,), _append(
        "implementation", "This change is still in SGLang 0.5.23."), "D319"),
    ("still-shipping-for-removed-line", 19369, (), _append(
        "implementation", "Every release from 0.5.10 through 0.5.23 carries this line."), "D319"),
    # 4. SGLang's code as ours, ours as SGLang's, in new phrasings
    ("we-wrote-sglang-code", 19321, (), _append(
        "implementation", "We implemented the tuple branch in python/sglang/srt/layers/linear.py."), "D219"),
    ("our-name-in-sglang-path", 19321, (), _append(
        "implementation", "Our MergedColumnParallelLinear.weight_loader in python/sglang/srt/layers/linear.py takes "
                          "the tuple."), "D219"),
    ("sglang-ships-our-module", 19321, (), _append(
        "implementation", "SGLang 0.5.23 ships runtime.projections.linear as its loader."), "D219"),
    ("pr-added-our-file", 19321, (), _append(
        "implementation", "The PR also added runtime/projections/linear.py for the split checkpoints."), "D219"),
    ("sglang-kernel-our-path", 19321, (), _append(
        "implementation", "SGLang's loader (runtime/projections/linear.py) splits the tuple."), "D219"),
    ("our-test-as-sglang-ci", 19321, (), _append(
        "implementation", "SGLang's CI runs tests/runtime/projections/test_proj_loader.py on every PR."), "D219"),
    # 5. figures credited to an uncarded PR or an issue
    ("figure-of-an-uncarded-pr", 19321, (), _append(
        "motivation", "#20001's author measured 1.8x faster decode on H100."), "D235"),
    ("figure-of-an-issue", 19321, (), _append(
        "motivation", "Issue #19999 reports 31% lower output throughput on H200 before the change."), "D235"),
    ("figure-of-an-uncarded-pr-url", 19321, (), _append(
        "motivation", f"A later PR ({PULL}20002) measured 4.4 ms lower TPOT on B200."), "D235"),
    # 6. dates against the release that first shipped the line
    ("merged-month-in-words", 19321, (), _append("implementation", "It merged in February 2026."), "D406"),
    ("merged-after-it-shipped", 19321, (), _set("merged_at", dt.date(2026, 4, 9)), "D314"),
    ("shipped-before-merged-prose", 19321, (), _append(
        "implementation", "It first shipped in 0.5.9 (built 2026-02-23)."), "D319"),
    ("release-day-in-words", 19321, (), _append(
        "implementation", "The first release with it, 0.5.10, came out on March 1, 2026."), "D324"),
    # 7. template filler phrased to dodge the depth rules
    ("filler-motivation", 19321, (), _set("motivation",
        "This pull request is an important change for Qwen3-Next in SGLang, and it touches "
        "python/sglang/srt/layers/linear.py together with python/sglang/srt/models/qwen3_next.py. Anyone who serves "
        "Qwen3-Next-80B-A3B on H100 or H200 GPUs should know about it, because the code path matters for loading "
        "and for serving, and because later pull requests build on what it does in MergedColumnParallelLinear."), "D209"),
    ("filler-implementation", 19321, (), _set("implementation",
        "The change modifies weight_loader, weight_loader_v2 and create_qkvz_proj in the files listed above, "
        "adjusting their logic where it was needed so that the new behaviour applies to Qwen3-Next checkpoints; "
        "the remaining code stays as it was before, and the existing tests cover the paths that were touched, as "
        "the review confirmed."), "D215"),
    ("filler-explain", 19321, (), _set("key_fragment.explain",
        "This line in MergedColumnParallelLinear is the heart of the PR: the new behaviour enters here, and the "
        "rest of the diff follows from it."), "D215"),
    # 9. claims against themselves
    ("claim-change-not-its-pair", 19321, (), _claims_append(
        "Author (H100, TP4): mean TPOT 12.1 -> 11.0 ms (-18%)."), "D226"),
    ("claim-one-number-two-devices", 19321, (), _claims_append(
        "Median TTFT -9.2% on H200 in the author's rerun (965.52 -> 876.80 ms)."), "D231"),
    # 10. states against records
    ("reverted-by-uncarded", 19321, (), _append("implementation", "It was reverted by #20003."), "D408"),
    ("superseded-said-of-current", 19321, (21019,), _append("implementation", "#19321 was superseded by #21019."),
     "D412"),
    # 11. more of the same shapes, in other fields and cards
    ("upstream-runs-our-module-in-explain", 19321, (), _explain_append(
        "Upstream runs runtime.projections.fused on the decode path."), "D219"),
    ("we-fixed-sglang-module", 19321, (), _append(
        "implementation", "This project fixed sglang.srt.layers.linear for split BF16 checkpoints."), "D219"),
    ("figure-of-an-issue-in-explain", 19321, (), _explain_append("Issue #19998 measured 12.5 us per call on B200."),
     "D235"),
    ("copy-motivation-renumbered", 21496, (21662,), _renumbered(21662, "motivation"), "D221"),
    ("still-in-today-said-of-a-cited-pr", 28267, (24595,), _append(
        "implementation", "As for #24595's change, it is still in SGLang 0.5.23."), "D319"),
    ("release-day-day-first", 19321, (), _append("implementation", "0.5.10 was released on 2 March 2026."), "D324"),
    ("release-day-after-the-verb", 19321, (), _append("implementation", "It shipped on 2026-03-28 with 0.5.10."),
     "D324"),
    ("explain-places-the-line-in-another-files-class", 19321, (), _explain_append(
        "The line sits in Qwen3GatedDeltaNet.forward and runs once per decode step."), "D230"),
    ("our-name-only-sglang-has", 19321, (), _append(
        "implementation", "Our _load_fused_module_from_checkpoint splits the tuple by the slots' sizes."), "D219"),
    ("sglangs-name-only-ours-has", 19321, (), _append(
        "implementation", "SGLang's split_conv_rows sizes the rows of the split."), "D219"),
]

# near misses: the same shapes, true of the records (each must add no error)
NEAR = [
    ("explain-names-removed-lines-of-another-file", 21019, (), _append(
        "implementation", "The PR removed the old fused_qkvzba_split_reshape_cat kernel body from qwen3_next.py.")),
    ("we-read-sglang-code", 19321, (), _append(
        "implementation", "We read the tuple branch in python/sglang/srt/layers/linear.py of 0.5.23.")),
    ("our-model-of-sglang-path", 19321, (), _append(
        "implementation", "Our runtime.projections.linear models python/sglang/srt/layers/linear.py's loader.")),
    ("sglang-path-and-our-path", 19321, (), _append(
        "implementation", "SGLang's loader is python/sglang/srt/layers/linear.py; ours, runtime/projections/linear.py, "
                          "follows it.")),
    ("our-tests-run-ours", 19321, (), _append(
        "implementation", "This project's tests/runtime/projections/test_proj_loader.py checks our loader.")),
    ("figure-of-an-issue-in-claims", 19321, (), _both(_claims_append(
        "Issue #19999 (reporter, H200): output throughput 31% lower before the change; not rerun here."), _append(
        "motivation", "Issue #19999 reports 31% lower output throughput on H200 before the change."))),
    ("issue-without-figure", 19321, (), _append("motivation", "Issue #19999 reports the same loader error.")),
    ("uncarded-pr-without-figure", 19321, (), _append("motivation", "#20001 ports the same tuple to Qwen3.5 MTP.")),
    ("merged-month-right", 19321, (), _append("implementation", "It merged in March 2026.")),
    ("first-shipped-right", 19321, (), _append("implementation", "It first shipped in 0.5.10 (built 2026-04-05).")),
    ("removed-when-it-was", 24595, (28267,), _append("implementation", "The line left the Ascend backend in 0.5.18.")),
    ("still-in-today-right", 19321, (), _append("implementation", "This change is still in SGLang 0.5.23.")),
    ("held-test-path", 19321, (), _tests_append("test/registered/4-gpu-models/test_qwen3_next_models.py")),
    ("claim-change-its-pair", 19321, (), _claims_append("Author (H100, TP4): mean TPOT 12.1 -> 11.0 ms (-9.1%).")),
    ("claim-same-number-same-device", 19321, (), _claims_append(
        "Median TTFT -9.2% again on A100 in the contributor's rerun (965.52 -> 876.80 ms).")),
    ("superseded-named-right", 21313, (21496, 21662), _append("implementation", "#21313 was reverted by #21496.")),
    ("added-line-said-added", 19321, (), _explain_append(
        "The PR adds the isinstance(loaded_shard_id, tuple) check to linear.py.")),
    ("line-moved-not-removed", 19321, (), _append(
        "implementation", "The PR removes isinstance(loaded_shard_id, tuple) from an old helper and adds it to "
                          "MergedColumnParallelLinear.weight_loader.")),
    ("removed-other-code", 19321, (), _append(
        "implementation", "The PR removed the old int-only assertion on loaded_shard_id in weight_loader_v2.")),
    ("merged-day-right", 19321, (), _append("implementation", "It merged on March 20, 2026.")),
    ("release-day-right", 19321, (), _append("implementation", "0.5.10, the first release with it, was built on "
                                                               "2026-04-05.")),
    ("pr-added-then-our-model", 19321, (), _append(
        "implementation", "#19321 added the tuple branch, which our runtime.projections.linear models.")),
    ("sglang-has-no-our-module", 19321, (), _append(
        "implementation", "SGLang has no runtime.projections module; that is this project's.")),
    ("our-name-ours-has", 19321, (), _append("implementation", "Our projection_rows sizes the rows of the split.")),
    ("sglangs-name-sglang-has", 19321, (), _append("implementation", "SGLang's weight_loader_v2 takes the tuple.")),
    ("sglang-has-the-same-layout-as-ours", 19321, (), _append(
        "implementation", "SGLang 0.5.23 has the same slot layout as runtime.projections.linear.")),
    ("we-implemented-the-same-check-as-sglang", 19321, (), _append(
        "implementation", "We implemented the same tuple check as python/sglang/srt/layers/linear.py in our loader.")),
    ("release-day-after-the-verb-right", 19321, (), _append("implementation", "It shipped on 2026-04-05 with "
                                                                              "0.5.10.")),
    ("explain-places-the-line-in-its-class", 19321, (), _explain_append(
        "The line sits in MergedColumnParallelLinear.weight_loader.")),
    ("explain-names-a-call-of-another-file", 19321, (), _explain_append(
        "The same tuple is in the create_qkvz_proj call path of the model.")),
    ("we-ran-sglang", 19321, (), _append("implementation", "We ran python -m sglang.launch_server with the packed "
                                                           "checkpoint.")),
    ("figure-of-an-uncarded-pr-in-claims", 19321, (), _both(_claims_append(
        "#20001 (its author, H100): decode 1.7x faster; not rerun here."), _append(
        "motivation", "#20001's author measured 1.7x faster decode on H100."))),
]


#: shapes this round could not close offline (kept here so that closing one moves it into PROBES): a made-up test
#: path of real words ("tuple", "shard", "merged", "loader" are all words SGLang spells); SGLang's test/ tree ships in
#: no wheel, and without the PR's cached diff nothing records which tests exist or which the PR changed
OPEN = [  # a made-up test path under files.tests: D337 against cards/checked.lock (test_lint_probes21.py)
    ("lane-test-path-made-up-real-words", 19321, (), _append(
        "lanes", "python -m pytest test/registered/4-gpu-models/test_qwen3_next_merged_loader.py")),
]


(test_the_real_cards_the_probes_start_from_lint_clean, test_a_hand_made_bad_card_is_caught,
 test_a_near_miss_stays_clean) = probe_round(PROBES, NEAR)


def test_the_probe_round_has_thirty_cards_and_twenty_near_misses():
    assert len(PROBES) >= 30 and len(NEAR) >= 20
    assert len({p[0] for p in PROBES + NEAR}) == len(PROBES) + len(NEAR)


def test_the_open_shapes_still_pass_lint(tmp_path, no_release_cache):
    """What OPEN says is not caught yet: when a rule closes one, move it into PROBES."""
    from tests.dossier.test_lint_probes15 import _errors
    from tests.dossier.test_lint_probes16 import _real_project

    for i, (name, pr, others, edit) in enumerate(OPEN):
        assert _errors(_real_project(tmp_path / str(i), pr, others, edit), pr) == set(), name


def _d524(root) -> list[str]:
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project

    return [f"{d.file}:{d.line}" for d in run_lint(LintContext(Project.load(root)), select=["D524"])]


def _with_lane_symptom(root, text: str) -> None:
    path = root / "cards" / "lanes.yaml"
    lanes = yaml.safe_load(path.read_text())
    lanes["lanes"][0]["symptoms"].append(text)
    path.write_text(yaml.safe_dump(lanes, sort_keys=False))


def test_d524_reads_lanes_yaml(tmp_path, no_release_cache):
    """A pull URL in the playbook that the file cites nowhere and no card holds, or whose link text names another PR,
    leads a reader elsewhere, as in a card; a cited or carded PR passes."""
    from tests.dossier.test_lint_probes16 import _real_project

    root = _real_project(tmp_path, 19321, (21019,))
    _with_lane_symptom(root, f"Split Qwen3.5 checkpoints load through [#21019]({PULL}21019).")
    assert _d524(root) == []
    _with_lane_symptom(root, f"Split Qwen3.5 checkpoints load through [#21019]({PULL}21091).")
    assert [f for f in _d524(root) if f.startswith("cards/lanes.yaml:")], _d524(root)


def test_d524_reads_the_findings(tmp_path, no_release_cache):
    from tests.dossier.test_lint_probes16 import _real_project

    root = _real_project(tmp_path, 19321, ())
    real = REAL / "cards" / "findings" / "qwen3-next-split-tuple-shard.yaml"
    (root / "cards" / "findings").mkdir()
    finding = yaml.safe_load(real.read_text())
    finding["symptom"] += f" The loader is {PULL}19321's."
    (root / "cards" / "findings" / real.name).write_text(yaml.safe_dump(finding, sort_keys=False))
    assert _d524(root) == []
    finding["symptom"] += f" A fix was tried in {PULL}19312."
    (root / "cards" / "findings" / real.name).write_text(yaml.safe_dump(finding, sort_keys=False))
    assert [f for f in _d524(root) if f.startswith("cards/findings/")], _d524(root)


ADDED_BAD = [
    "The PR adds output_sizes to MergedColumnParallelLinear.",  # only on unchanged lines of the diff
    "It introduces a new helper gating_kernel for the gate.",
    "#100 added split_qkvz to the layers.",  # only on lines the diff removed
    "The loader calls a new `RMSNorm` before the split.",
]
ADDED_NEAR = [
    "The PR adds fused_gdn_gating, the renamed gate.",  # on an added line
    "It adds a tuple branch that reads output_sizes.",  # what is added is no code name
    "#101 added output_sizes long before.",  # another PR's
    "The PR adds MergedColumnParallelLinear to the imports.",  # on an added import line (and a removed one)
    "The PR keeps output_sizes and calls split_qkvz nowhere now.",  # no adding verb
]


def _d334(tmp_path, text: str) -> list[str]:
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project
    from tests.dossier import evidence_support as ev
    from tests.dossier.factories import make_card, write_project

    cache = tmp_path / "cache"
    if not cache.exists():
        ev.put(cache, 100)
    card = make_card(100)
    card["implementation"] += " " + text
    root = write_project(tmp_path / "p", [card])
    return [d.message for d in run_lint(LintContext(Project.load(root), cache_dir=cache), select=["D334"])]


def test_a_name_said_added_that_the_diff_only_keeps_or_removes_is_d334(tmp_path):
    """With the PR's diff cached, "the PR adds X" must have X on an added line; the fixture diff (tests/dossier/
    fixtures/evidence/pr100.diff) keeps output_sizes, gating_kernel and RMSNorm as context and removes split_qkvz."""
    for i, text in enumerate(ADDED_BAD):
        assert len(_d334(tmp_path / f"bad{i}", text)) == 1, text
    for i, text in enumerate(ADDED_NEAR):
        assert _d334(tmp_path / f"near{i}", text) == [], text


def test_d334_needs_the_diff(tmp_path):
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project
    from tests.dossier.factories import make_card, write_project

    card = make_card(100)
    card["implementation"] += " " + ADDED_BAD[0]
    root = write_project(tmp_path / "p", [card])
    assert run_lint(LintContext(Project.load(root), cache_dir=tmp_path / "none"), select=["D334"]) == []
