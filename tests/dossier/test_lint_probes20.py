"""Rules added against lint20's probes (session 18): what a card says about where its code is today against
cards/drift.lock (D335, D331, D615), a flag handed to a release in more phrasings (D618), figures given to this
project's bench by module (D517), and, with a release cache, files and names the release that shipped the PR does not
show it changing (D336, D334). Each bad card is a real card mutated the way a careless author gets it wrong; each
near miss is the nearest true text and must stay clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.dossier.test_lint_probes15 import _append, _both, _set
from tests.dossier.test_lint_probes16 import _claims_append, _real_project, _tests_append, probe_round

VERIFY = "--linear-attn-verify-backend"  # 0.5.17 .. 0.5.23
OLD_PROJ = "python/sglang/jit_kernel/triton/gdn_fused_proj.py"  # #21019's file; moved before 0.5.23
NEW_PROJ = "python/sglang/kernels/ops/attention/triton_gdn_fused_proj.py"
#: a kernel name no source holds (spelt in two parts: D613 reads this project's tests/ too)
MADE_UP = "fused_qkvz" + "_split_kernel"


def _runtime_append(path: str):
    def edit(card):
        card["files"]["runtime"].append(path)
    return edit


# (id, card, other real cards in the project, edit of the card, the code expected)
PROBES = [
    # 1. the card's line said to hold today where drift.lock records it moved, rewritten or gone
    ("still-holds-though-missing", 10657, (14607,), _append(
        "implementation", "The key fragment still holds in SGLang 0.5.23."), "D335"),
    ("unchanged-though-rewritten", 19220, (), _append(
        "implementation", "In 0.5.23 the matched line is unchanged."), "D335"),
    ("in-place-though-relocated", 21019, (), _append(
        "implementation", "Drift: the key line is still in place in 0.5.23."), "D335"),
    ("where-the-pr-put-it-though-relocated", 12508, (), _append(
        "implementation", "Today the key fragment sits in place where the PR put it."), "D335"),
    ("explain-in-place-though-relocated", 21019, (), _append(
        "explain", "The matched line is still in its original file today."), "D335"),
    ("still-runs-this-exact-line-though-rewritten", 19220, (), _append(
        "implementation", "SGLang 0.5.23 still runs this exact line."), "D335"),
    # 2. a line number for today's release that drift.lock puts elsewhere
    ("today-line-wrong", 19321, (), _append("implementation", "In 0.5.23 the check is at linear.py line 300."), "D331"),
    ("today-line-of-the-moved-file-wrong", 21019, (), _append(
        "implementation", "In 0.5.23 the line is at triton_gdn_fused_proj.py:250."), "D331"),
    ("today-lines-list-wrong", 19321, (), _append(
        "implementation", "SGLang 0.5.23 has the tuple check at linear.py lines 640 and 900."), "D331"),
    # 3. a file of today's SGLang that moved before today
    ("old-path-said-to-hold-today", 21019, (), _append(
        "implementation", f"In 0.5.23 both kernels still sit in {OLD_PROJ}."), "D615"),
    ("old-path-lives-today", 12508, (), _append(
        "implementation", "As of 0.5.23 fused_gdn_gating lives in "
                          "python/sglang/srt/layers/attention/fla/fused_gdn_gating.py."), "D615"),
    ("name-in-the-wrong-file-today", 19321, (), _append(
        "implementation", "In 0.5.23 create_qkvz_proj is in python/sglang/srt/layers/linear.py."), "D615"),
    ("made-up-path-today", 19321, (), _append(
        "implementation", "Today the tuple branch lives in python/sglang/srt/layers/linear_loader.py."), "D604"),
    # 4. a flag handed to a release that did not have it, in more phrasings
    ("flag-since-without-comma", 19775, (), _append(
        "implementation", f"Since SGLang 0.5.15 the verify kernel is picked with {VERIFY}."), "D618"),
    ("flag-wheel-already-takes", 19775, (), _append(
        "implementation", f"The 0.5.16 wheel already takes {VERIFY} triton."), "D618"),
    ("flag-release-now-accepts", 19775, (), _append("implementation", f"0.5.14 now accepts {VERIFY} triton."), "D618"),
    ("flag-since-pass", 28451, (), _append(
        "implementation", "Since 0.5.12 pass --enable-linear-replayssm to get the ring."), "D618"),
    # 5. figures given to this project's bench that its results do not hold
    ("claim-our-bench-invented", 19321, (), _claims_append(
        "This project (NVIDIA H200, runtime.projections.bench): the fused split runs 12.85x faster than two GEMMs at "
        "TP1 B=64."), "D517"),
    ("prose-our-bench-invented", 19321, (), _append(
        "motivation", "Our runtime.projections.bench measured the fused path at 7.31x on H200."), "D517"),
    ("our-bench-on-another-gpu", 19321, (), _append(
        "implementation", "This project's runtime.projections.bench ran it on a B200."), "D517"),
    # 6. what the existing rules hold, kept caught
    ("speedup-with-no-setup", 19321, (), _append("motivation", "The fused path decodes 1.4x faster."), "D218"),
    ("claim-speedup-with-no-device", 19321, (), _claims_append("Decode 1.3x faster (author)."), "D233"),
    ("made-up-kernel-name-ticked", 19321, (), _append(
        "implementation", f"The PR adds the Triton kernel `{MADE_UP}`."), "D613"),
    ("span-from-a-release-without-it", 19321, (), _append(
        "implementation", "Every release from 0.5.9 to 0.5.23 carries this line."), "D319"),
    ("stale-flag-for-today", 22458, (), _append(
        "implementation", "On 0.5.23 pass --mamba-scheduler-strategy extra_buffer."), "D601"),
    ("release-line-outside-the-hunk", 19321, (), _append(
        "implementation", "The added check is line 612 of linear.py in 0.5.10."), "D331"),
    ("state-open-though-shipped", 19321, (), _both(_set("state", "open"), _set("merged_at", None),
                                                   _set("status", "candidate")), "D315"),
    ("opened-after-merge", 19321, (), _append("implementation", "The PR was opened on 2026-03-25."), "D411"),
    ("template-with-names", 19321, (), _set(
        "implementation", "This PR changes `weight_loader` in `python/sglang/srt/layers/linear.py` to improve the "
                          "performance of Qwen3-Next. The change updates `create_qkvz_proj` and "
                          "`MergedColumnParallelLinear` so that the model runs faster and uses less memory, which "
                          "makes serving better for users of the model on GPUs."), "D215"),
    ("key-file-of-another-listed-file", 19321, (), _set("key_fragment.file", "python/sglang/srt/models/qwen3_next.py"),
     "D318"),
    ("merged-day-in-prose-wrong", 19321, (), _append("implementation", "It was merged on 2026-03-02."), "D406"),
    ("removed-in-a-release-that-has-it", 19775, (), _append("implementation", "It was removed in 0.5.21."), "D327"),
]

# near misses: the same shapes, true of the records (each must add no error)
NEAR = [
    ("in-place-and-it-is", 19321, (), _append("implementation", "The key fragment is still in place in SGLang 0.5.23.")),
    ("unchanged-though-moved", 21019, (), _append(
        "implementation", f"The key line is unchanged in 0.5.23, though it moved to {NEW_PROJ}.")),
    ("present-in-the-new-file", 21019, (), _append(
        "implementation", f"In 0.5.23 the matched line is still present, in {NEW_PROJ}.")),
    ("gone-and-it-is", 10657, (14607,), _append("implementation", "The key line is no longer in SGLang 0.5.23.")),
    ("in-place-update-words", 19220, (), _append(
        "implementation", "In 0.5.23 the conv state is still updated in place by the kernel.")),
    ("today-line-right", 19321, (), _append("implementation", "In 0.5.23 the check is at linear.py line 716.")),
    ("today-line-of-the-moved-file-right", 21019, (), _append(
        "implementation", "In 0.5.23 the line is at triton_gdn_fused_proj.py:168.")),
    ("today-line-of-another-file", 19321, (), _append(
        "implementation", "In 0.5.23 qwen3_next.py line 300 builds the layer.")),
    ("new-path-today", 21019, (), _append("implementation", f"In 0.5.23 both kernels sit in {NEW_PROJ}.")),
    ("old-path-in-the-past", 21019, (), _append(
        "implementation", f"Before 0.5.23 both kernels were in {OLD_PROJ}.")),
    ("name-in-its-file-today", 19321, (), _append(
        "implementation", "In 0.5.23 create_qkvz_proj is in python/sglang/srt/models/qwen3_next.py.")),
    ("flag-since-its-release", 19775, (), _append(
        "implementation", f"Since SGLang 0.5.17 the verify kernel is picked with {VERIFY}.")),
    ("flag-wheel-of-its-release", 19775, (), _append("implementation", f"The 0.5.17 wheel already takes {VERIFY} triton.")),
    ("since-a-release-without-a-flag", 19775, (), _append(
        "implementation", "Since 0.5.12 the fast path is the default on Hopper.")),
    ("our-bench-quoted-right", 19321, (), _append(
        "implementation", "This project (NVIDIA H200, runtime.projections.bench) times kernels, not serving.")),
    ("authors-figure-beside-our-bench", 19321, (), _append(
        "motivation", "The author's 2.6% TTFT gain is not something runtime.projections.bench measures.")),
    ("claim-our-bench-no-figure", 19321, (), _claims_append(
        "This project (NVIDIA H200, runtime.projections.bench): the fused split is checked against two GEMMs at every "
        "TP and batch it runs.")),
    ("span-from-its-release", 19321, (), _append(
        "implementation", "Every release from 0.5.10 to 0.5.23 carries this line.")),
    ("release-line-right", 19321, (), _append("implementation", "The added check is line 544 of linear.py in 0.5.10.")),
    ("opened-before-merge", 19321, (), _append("implementation", "The PR was opened on 2026-02-25.")),
    ("removed-where-it-was", 24595, (28267,), _append("implementation", "The line left the Ascend backend in 0.5.18.")),
    ("held-test-path", 19321, (), _tests_append("test/registered/4-gpu-models/test_qwen3_next_models.py")),
]


(test_the_real_cards_the_probes_start_from_lint_clean, test_a_hand_made_bad_card_is_caught,
 test_a_near_miss_stays_clean) = probe_round(PROBES, NEAR)


def test_the_probe_round_has_thirty_cards_and_twenty_near_misses():
    assert len(PROBES) + len(CACHED) >= 30 and len(NEAR) + len(CACHED_NEAR) >= 20
    names = [p[0] for p in PROBES + NEAR + CACHED + CACHED_NEAR]
    assert len(set(names)) == len(names)


# ---- with a release cache: the release diff that shipped #19321 (0.5.9 -> 0.5.10), made small ----------------------

LINEAR = "python/sglang/srt/layers/linear.py"
MODEL = "python/sglang/srt/models/qwen3_next.py"
UNTOUCHED = "python/sglang/test/test_activation.py"

_OLD = {
    LINEAR: "class ReplicatedLinear:\n    pass\n\n\ndef adjust_shard_offsets(offsets):\n    return offsets\n\n\n"
            "class MergedColumnParallelLinear:\n    def weight_loader(self, param, loaded_weight, loaded_shard_id):\n"
            "        output_sizes = self.output_sizes\n        return output_sizes\n",
    MODEL: "class Qwen3GatedDeltaNet:\n    def __init__(self):\n        self.in_proj_qkvz = None\n",
    UNTOUCHED: "def test_silu():\n    assert True\n",
}
_NEW = {
    LINEAR: _OLD[LINEAR].replace("        output_sizes = self.output_sizes\n",
                                 "        output_sizes = self.output_sizes\n"
                                 "        if isinstance(loaded_shard_id, tuple):\n"
                                 "            return self.weight_loader_v2(param, loaded_weight, loaded_shard_id)\n"),
    MODEL: _OLD[MODEL].replace("        self.in_proj_qkvz = None\n", "        self.in_proj_qkvz = self.create_qkvz_proj()\n\n"
                               "    def create_qkvz_proj(self):\n        return _make_packed_weight_loader()\n"),
    UNTOUCHED: _OLD[UNTOUCHED],
}

# (id, edit of #19321's card, the code expected)
CACHED = [
    ("listed-test-of-another-pr", _tests_append(UNTOUCHED), "D336"),
    ("listed-file-in-neither-release", _runtime_append("python/sglang/srt/layers/linear_tuple.py"), "D336"),
    ("said-added-but-there-before", _append("implementation", "The PR adds a new helper adjust_shard_offsets to "
                                                              "linear.py."), "D334"),
    ("said-added-but-made-up", _append("implementation", f"The PR adds a new kernel {MADE_UP} for the split."), "D334"),
    ("said-added-class-there-before", _append("implementation", "It introduced the class ReplicatedLinear."), "D334"),
]
CACHED_NEAR = [
    ("listed-files-as-they-are", lambda card: None),
    ("said-added-and-added", _append("implementation", "The PR adds create_qkvz_proj to the model.")),
    ("said-added-helper-and-added", _append("implementation", "It also adds a new helper _make_packed_weight_loader.")),
    ("said-used-not-added", _append("implementation", "The PR uses adjust_shard_offsets as before.")),
    ("another-prs-new-name", _append("implementation", "A later PR brought a new helper split_tuple_shard.")),
]


@pytest.fixture
def small_release_cache(tmp_path: Path, monkeypatch) -> Path:
    cache = tmp_path / "releases"
    for version, built, files in (("0.5.9", "2026-02-23", _OLD), ("0.5.10", "2026-04-05", _NEW)):
        (cache / version).mkdir(parents=True)
        (cache / version / "release.json").write_text(json.dumps({"version": version, "built": built}))
        for path, text in files.items():
            (cache / version / path).parent.mkdir(parents=True, exist_ok=True)
            (cache / version / path).write_text(text)
    monkeypatch.setenv("DOSSIER_RELEASES", str(cache))
    return cache


def _cached_codes(root: Path) -> set[str]:
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project

    ctx = LintContext(Project.load(root, [root / "cards" / "19321.yaml"]))
    return {d.code for d in run_lint(ctx, select=["D334", "D336"]) if d.file == "cards/19321.yaml"}


@pytest.mark.parametrize("name,edit,code", CACHED, ids=[p[0] for p in CACHED])
def test_with_the_release_cache_a_file_or_name_the_shipping_release_does_not_change_is_caught(
        tmp_path, small_release_cache, name, edit, code):
    assert code in _cached_codes(_real_project(tmp_path / "p", 19321, (), edit))


@pytest.mark.parametrize("name,edit", CACHED_NEAR, ids=[p[0] for p in CACHED_NEAR])
def test_with_the_release_cache_the_near_misses_pass(tmp_path, small_release_cache, name, edit):
    assert _cached_codes(_real_project(tmp_path / "p", 19321, (), edit)) == set()


def test_without_the_release_cache_d334_and_d336_judge_nothing(tmp_path, no_release_cache):
    root = _real_project(tmp_path / "p", 19321, (), _both(*(edit for _, edit, _ in CACHED)))
    assert _cached_codes(root) == set()


def test_a_file_neither_release_has_that_checked_lock_vouches_for_is_left_alone(tmp_path, small_release_cache):
    """#10233 lists eagle_target_verify_cuda_graph_runner.py and #27630 its test_sigmoid_gate_mul.py, both on the
    PRs' own file lists (checked.lock) and in no wheel (deleted before the release; tests left out of wheels): D336
    called them 'not a file this PR changed' whenever the release cache was synced."""
    gone = "python/sglang/srt/layers/linear_tuple.py"
    root = _real_project(tmp_path / "p", 19321, (), _runtime_append(gone))
    assert _cached_codes(root) == {"D336"}
    card = yaml.safe_load((root / "cards" / "19321.yaml").read_text())
    files = [p for group in card["files"].values() for p in group]
    (root / "cards" / "checked.lock").write_text(yaml.safe_dump(
        {"version": 1, "cards": {19321: {"numbers": [], "files": files}}}))
    assert _cached_codes(root) == set()
