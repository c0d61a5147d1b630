"""Rules added against lint23's probes (session 42): a clause saying a flag, env var, file, function or class is gone
from today's SGLang while today's tree has it (D631), in the phrasings D327's "removed in <release>" does not read;
"X lives in <file>" where the file names X only in a comment (D615); "it first shipped in 0.5.10" of a change no
release holds (D319); with a release cache, a sibling class's method given to the class the release changed (D622).
Each bad card is a real card mutated the way a careless author gets it wrong; each near miss is the nearest true
text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.dossier.test_lint_probes15 import _append, _errors
from tests.dossier.test_lint_probes16 import _real_project, probe_round
from tests.dossier.test_lint_probes21 import _checked_project
from tests.dossier.yaml_support import load_yaml

OLD_PROJ = "python/sglang/jit_kernel/triton/gdn_fused_proj.py"  # #21019's file; moved before 0.5.23
NEW_GATING = "python/sglang/kernels/ops/attention/linear/fused_gdn_gating.py"

PROBES = [
    ("function-not-in-today", 23619, (), _append(
        "implementation", "flashinfer_ar_fusion_applies is not in 0.5.23."), "D631"),
    ("release-no-longer-has-method", 19321, (), _append(
        "implementation", "0.5.23 no longer has create_qkvz_proj."), "D631"),
    ("release-has-no-function", 30359, (), _append(
        "implementation", "SGLang 0.5.23 has no _platform_supports_mamba_cache_extra_buffer."), "D631"),
    ("function-is-gone-today", 14792, (), _append(
        "implementation", "In 0.5.23 _gather_mamba_track_indices is gone."), "D631"),
    ("file-does-not-exist-today", 12508, (), _append(
        "implementation", f"{NEW_GATING} does not exist in 0.5.23."), "D631"),
    ("file-no-longer-exists-today", 22458, (), _append(
        "implementation", "eagle_info.py no longer exists in 0.5.23."), "D631"),
    ("flag-no-longer-exists-today", 28151, (), _append(
        "implementation", "--mamba-radix-cache-strategy no longer exists in 0.5.23."), "D631"),
    ("release-dropped-the-flag", 28151, (), _append(
        "implementation", "SGLang 0.5.23 dropped --mamba-radix-cache-strategy."), "D631"),
    # D319: a change no release holds (merged, reverted before the next build) said to have shipped
    ("never-shipped-said-first-shipped", 21313, (21496, 21662), _append(
        "implementation", "It first shipped in 0.5.10, and its revert in 0.5.10.post1."), "D319"),
    # D615: a file that names the function only in a comment does not hold it (eagle_utils.py defines it)
    ("lives-in-a-file-that-only-mentions-it", 22458, (), _append(
        "implementation", "In 0.5.23 eagle_sample lives in python/sglang/srt/speculative/eagle_worker_v2.py."), "D615"),
    ("env-var-not-in-today", 19321, (), _append(
        "implementation", "SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV is not in SGLang 0.5.23."), "D631"),
]

NEAR = [
    ("moved-file-is-gone", 21019, (), _append("implementation", f"In 0.5.23 {OLD_PROJ} no longer exists.")),
    ("old-file-not-in-today", 22458, (), _append("implementation", "0.5.23 has no eagle_info_v2.py.")),
    ("gone-then-what-replaced-it", 19321, (), _append(
        "implementation", "0.5.23 no longer has the eager split: create_qkvz_proj feeds the split kernel.")),
    ("gone-and-where-the-rest-is", 12508, (), _append(
        "implementation", f"In 0.5.23 the fla/ copy is gone, and fused_gdn_gating lives in {NEW_GATING}.")),
    ("not-gone", 19321, (), _append("implementation", "create_qkvz_proj is not gone in 0.5.23.")),
    ("a-condition", 19321, (), _append(
        "implementation", "If create_qkvz_proj were not in 0.5.23, the loader would fail.")),
    ("runtime-drop-of-work", 21404, (), _append(
        "implementation", "0.5.23 dropped work that _gather_mamba_track_indices staged.")),
    ("missing-from-a-file-today", 19321, (), _append(
        "implementation", "0.5.23 has no tuple branch in python/sglang/srt/layers/linear.py.")),
    ("never-shipped-said-so", 21313, (21496, 21662), _append(
        "implementation", "It shipped in no release: its revert landed before the 0.5.10 build.")),
    ("lives-in-its-file", 22458, (), _append(
        "implementation", "In 0.5.23 eagle_sample lives in python/sglang/srt/speculative/eagle_utils.py.")),
    # D601: "the last release that accepts" marks the flag as history, as "was removed" does
    ("last-release-that-accepts", 28151, (), _append(
        "implementation", "0.5.19 is the last release that accepts --mamba-scheduler-strategy.")),
    ("removed-in-another-release", 28151, (), _append(
        "implementation", "The scheduler alias has been removed since 0.5.21.")),
]



def test_a_gone_claim_in_lanes_yaml_is_judged_too(tmp_path, no_release_cache):
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project

    root = _real_project(tmp_path, 19321, ())
    lanes = root / "cards" / "lanes.yaml"
    data = load_yaml(lanes.read_text())
    data["investigation_order"].append("In SGLang 0.5.23 create_qkvz_proj is gone.")
    lanes.write_text(yaml.safe_dump(data, sort_keys=False))
    found = run_lint(LintContext(Project.load(root)), select=["D631"])
    assert [(d.file, d.message) for d in found] == [
        ("cards/lanes.yaml", "says create_qkvz_proj is gone from SGLang 0.5.23, which defines create_qkvz_proj")]


# ---- D236: a claim's setup numbers against cards/checked.lock ---------------------------------------------------------


def _claim_edit(old: str, new: str):
    def edit(card):
        claims = card["validation"]["claims"]
        i = next(i for i, c in enumerate(claims) if old in c)
        claims[i] = claims[i].replace(old, new)
    return edit


SETUP = [
    ("bench-input-and-prompts-changed", 19321, (), _claim_edit("8000 in / 1500 out, 200 prompts",
                                                               "4000 in / 1500 out, 500 prompts"), "D236"),
    ("mem-fraction-changed", 23619, (), _claim_edit("--mem-fraction-static 0.82", "--mem-fraction-static 0.88"), "D236"),
]
SETUP_NEAR = [
    ("reworded-same-numbers", 19321, (), _claim_edit("bench_serving random 8000 in / 1500 out, 200 prompts",
                                                     "200 prompts of bench_serving random, 8000 in and 1500 out")),
    ("release-and-day-named", 23619, (), _claim_edit("The measured rows were cut off",
                                                     "Checked against 0.5.11 on 2026-04-20: the measured rows were cut off")),
]


@pytest.mark.parametrize("name,pr,others,edit,code", SETUP, ids=[p[0] for p in SETUP])
def test_a_setup_number_the_check_did_not_see_is_caught(tmp_path, no_release_cache, name, pr, others, edit, code):
    assert code in _errors(_checked_project(tmp_path, pr, others, edit), pr, select=[code])


@pytest.mark.parametrize("name,pr,others,edit", SETUP_NEAR, ids=[p[0] for p in SETUP_NEAR])
def test_a_setup_as_checked_stays_clean(tmp_path, no_release_cache, name, pr, others, edit):
    assert _errors(_checked_project(tmp_path, pr, others, edit), pr) == set()


# ---- with a release cache: the release that shipped #19321, whose linear.py also holds a sibling class --------------

LINEAR = "python/sglang/srt/layers/linear.py"
_SIBLING = "class QKVParallelLinear:\n    def _load_qkv_block_scale(self, param):\n        return param\n\n\n"
_MERGED = ("class MergedColumnParallelLinear:\n    def weight_loader(self, param, loaded_weight, loaded_shard_id):\n"
           "        output_sizes = self.output_sizes\n        return output_sizes\n")
_TUPLE = ("        if isinstance(loaded_shard_id, tuple):\n"
          "            return self.weight_loader_v2(param, loaded_weight, loaded_shard_id)\n")


@pytest.fixture
def sibling_release_cache(tmp_path: Path, monkeypatch) -> Path:
    cache = tmp_path / "releases"
    new = _SIBLING + _MERGED.replace("        return output_sizes\n", _TUPLE + "        return output_sizes\n")
    for version, built, text in (("0.5.9", "2026-02-23", _SIBLING + _MERGED), ("0.5.10", "2026-04-05", new)):
        (cache / version / LINEAR).parent.mkdir(parents=True)
        (cache / version / "release.json").write_text(json.dumps({"version": version, "built": built}))
        (cache / version / LINEAR).write_text(text)
    monkeypatch.setenv("DOSSIER_RELEASES", str(cache))
    return cache


def _d622(root: Path) -> list[str]:
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project

    ctx = LintContext(Project.load(root, [root / "cards" / "19321.yaml"]))
    return [d.message for d in run_lint(ctx, select=["D622"]) if d.file == "cards/19321.yaml"]


def test_a_sibling_classs_method_given_to_the_class_is_caught_with_the_release_cache_too(tmp_path, sibling_release_cache):
    """The release that shipped the change was the whole of its files to D622: any name in linear.py counted as the
    PR's change, so the sibling's method passed as MergedColumnParallelLinear's once the releases were synced."""
    root = _real_project(tmp_path / "p", 19321, (), _append(
        "implementation", "In 0.5.23, MergedColumnParallelLinear._load_qkv_block_scale loads the block scales."))
    assert any("MergedColumnParallelLinear has no _load_qkv_block_scale" in m for m in _d622(root)), _d622(root)


def test_the_function_a_release_changed_inside_is_part_of_its_change(tmp_path, sibling_release_cache):
    from dossier.lint import LintContext
    from dossier.lint.grounds import shipping_release
    from dossier.project import Project

    root = _real_project(tmp_path / "p", 19321, ())
    project = Project.load(root)
    texts = "\n".join(shipping_release(project.card(19321), LintContext(project), False) or [])
    assert "def weight_loader" in texts and "isinstance(loaded_shard_id, tuple)" in texts
    assert "_load_qkv_block_scale" not in texts and "QKVParallelLinear" not in texts


(test_the_real_cards_the_probes_start_from_lint_clean, test_a_hand_made_bad_card_is_caught,
 test_a_near_miss_stays_clean) = probe_round(PROBES, NEAR)
