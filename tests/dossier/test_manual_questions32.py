"""Session 49's known gaps of the manual (helper M1), answered from SKILL.md plus the one section its row links, and
the SGLang 0.5.23 source lines (read from the installed package's files, not imported) and the release spans of
cards/surface.lock (`dossier releases surface --record` over the 42 release trees) those answers rest on.

What they guard: structured output (grammars) with MTP had no answer (it works, with no GDN-specific guard; the
Spec V2 worker applies grammars from 0.5.6 and overlaps them with verify from 0.5.17; with extra_buffer 0.5.13 to
0.5.15.post1 crash in `set_mamba_track_indices_from_reqs`, 0.5.16's slot-0 fallback can overwrite a reused slot,
0.5.22 skips freed rows; mixed chunk still aborts grammar requests in 0.5.23); prefill context parallelism was not
said to have no path for Qwen3-Next or Qwen3.5 (only Glm5Next and Qwen4Exp take the hybrid CP-TP group sharing);
per-channel FP8 on the GDN input projections had no section (loaders cut the scale like the weight; ROCm's AITER
pre-shuffled GEMM refuses widths that are no multiple of 64 up to 0.5.19; 0.5.21 packs Quark per-channel FP8 into
one GEMM); the text-only Qwen3.5 classes were placed in three architecture lists only, without the ones that do
name them or their releases; two playbook lanes named `--attn-dp-size` and SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV
without their first release.
"""

from __future__ import annotations

import ast
import re

import pytest

from tests.dossier.test_manual_questions import ROOT, Question, assert_answered, sglang_file

MTP = "structured (json_schema) output with MTP"
PARALLEL = "Pipeline parallel, two-batch overlap, context parallel"
FP8 = "Per-channel FP8 on in_proj_qkvz and in_proj_ba"
FAMILY = "Qwen3.5 vs Qwen3-Next in SGLang"
PROJECTION_LANE = "GDN input projection (in_proj_qkvz + in_proj_ba) visible"
ARCH_LANE = "Model fails to load, or a config/architecture mismatch"

QUESTIONS = [
    Question("Qwen3.5-35B-A3B with NEXTN and response_format json_schema: does it work, and from which release "
             "without crashes?", MTP,
             ("nothing GDN-specific guards it", "`build_grammar_vocab_mask`", "since 0.5.6",
              "[#13425](pr-history.md#pr-13425)", "[#31488](pr-history.md#pr-31488)",
              "0.5.13 to 0.5.15.post1", "`set_mamba_track_indices_from_reqs`", "0.5.22 marks the row -1",
              "'Grammar accept_token failed'", "keep `--enable-mixed-chunk` off")),
    Question("Can I use --enable-prefill-cp --attn-cp-size 4 to cut TTFT of 256K prompts on Qwen3.5-397B?", PARALLEL,
             ("has no path for Qwen3-Next or Qwen3.5 in any release up to 0.5.23", "On CUDA nothing at startup refuses it",
              "Qwen4ExpForConditionalGeneration", "`--attn-cp-size` equal to `--tp-size`", "`--dcp-size`")),
    Question("A compressed-tensors per-channel FP8 Qwen3.5 checkpoint: are in_proj_qkvz and in_proj_ba covered, and "
             "what differs on MI355X?", FP8,
             ("`--quantization w8a8_fp8`", "`_get_split_sizes_for_param`", "multiples of 64",
              "[#37564](pr-history.md#pr-37564)",
              "[#39902](pr-history.md#pr-39902)", "`SGLANG_QWEN35_PACKED_IN_PROJ=0`", "block FP8 keeps two GEMMs")),
    Question("Text-only Qwen3.5 checkpoint (Qwen3_5MoeForCausalLM) on B200: which architecture-gated defaults does it "
             "miss, and from which release is it in the radix-cache lists?", FAMILY,
             ("`_MAMBA_EXTRA_BUFFER_ARCHS`", "from 0.5.19", "from 0.5.17", "`MEGA_MOE_NO_FALLBACK_ARCHS`",
              "`_qwen3_5_hybrid_overrides`", "`_qwen3_moe_family_overrides`", "`_FLASHINFER_ALLREDUCE_FUSION_ARCHS`",
              "`--flashinfer-allreduce-fusion-backend`")),
    Question("The projection lane says to record SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV: my server runs 0.5.18, "
             "does it apply?", PROJECTION_LANE,
             ("SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV (from 0.5.19", "`--attn-dp-size`, from 0.5.22")),
    Question("The architecture lane says to record --attn-dp-size: my 0.5.20 launch rejects it", ARCH_LANE,
             ("`--attn-dp-size` (from 0.5.22)",)),
]


def test_there_are_six_tasks():
    """One per gap of the brief, the last gap (two lanes' dates) asked twice, once per lane."""
    assert len(QUESTIONS) == 6 and len({q.ask for q in QUESTIONS}) == len(QUESTIONS)


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)


def _spans() -> dict[str, str]:
    """name -> 'first..last' release of cards/surface.lock's flag and environment-variable tables."""
    text = (ROOT / "cards" / "surface.lock").read_text()
    tables = text.split("\nflags:\n", 1)[1].split("\nwarned:\n", 1)[0]  # the flags, then the env variables
    return dict(re.findall(r"^  ([-\w]+): (\d[\w.]*\.\.\d[\w.]*)$", tables, re.M))


def test_release_spans_the_answers_give_are_those_the_release_trees_record():
    spans = _spans()
    assert spans["--attn-dp-size"] == "0.5.22..0.5.23"
    assert spans["SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV"] == "0.5.19..0.5.23"
    assert spans["--enable-prefill-cp"] == "0.5.14..0.5.23"
    assert spans["--enable-prefill-context-parallel"] == "0.5.10..0.5.19"
    assert spans["SGLANG_QWEN35_PACKED_IN_PROJ"] == "0.5.21..0.5.23"
    assert spans["SGLANG_FLASHINFER_MNNVL_CUTEDSL_AR_FUSION"] == "0.5.19..0.5.20"


def test_0_5_23_masks_the_draft_by_grammar_and_skips_freed_rows_but_not_mixed_batches():
    worker = sglang_file("srt/speculative/eagle_worker_common.py")
    assert "grammar_mask = build_grammar_vocab_mask(" in worker
    assert "return self.is_eagle() or self.is_standalone() or self.is_dflash_family()" in sglang_file(
        "srt/speculative/spec_info.py")
    batch = sglang_file("srt/managers/schedule_batch.py")
    assert "batch.mamba_track_indices[freed_rows] = -1" in batch
    scheduler = sglang_file("srt/managers/scheduler.py")
    sync = scheduler.split("need_grammar_sync = (", 1)[1].split("\n        )\n", 1)[0]
    assert "batch.forward_mode.is_decode()" in sync and "is_mixed" not in sync
    assert 'f"Grammar accept_token failed for req {req.rid}' in sglang_file(
        "srt/managers/scheduler_components/batch_result_processor.py")


def test_0_5_23_prefill_cp_is_ported_to_glm5next_and_qwen4exp_only():
    hook = sglang_file("srt/arg_groups/cp_tp_group_sharing_hook.py")
    registered = hook.split("_SUPPORTED_MODELS: set[str] = {", 1)[1].split("}", 1)[0]
    assert set(re.findall(r'"(\w+)"', registered)) == {"Glm5NextForConditionalGeneration",
                                                      "Qwen4ExpForConditionalGeneration"}
    assert "CP-TP group sharing requires --attn-cp-size == --tp-size" in hook
    for model in ("srt/models/qwen3_next.py", "srt/models/qwen3_5.py"):
        source = sglang_file(model)
        assert "cp_split_before_forward" not in source and "cp_shard_hidden_states" not in source
    assert "Qwen3" not in sglang_file("srt/arg_groups/parallel_hook.py").split("def handle_context_parallelism")[0]


def test_0_5_23_per_channel_scales_split_like_weights_and_aiter_needs_64_wide_outputs():
    model = sglang_file("srt/models/qwen3_5.py")
    split = model.split("def _get_split_sizes_for_param", 1)[1].split("    @classmethod", 1)[0]
    assert "BlockQuantScaleParameter" in split and "PerTensorScaleParameter" in split
    assert split.rstrip().endswith("return [module.output_sizes[idx] for idx in loaded_shard_id]")
    fused = model.split("def _finalize_fused_fp8_in_proj", 1)[1].split("\n    def ", 1)[0]
    assert 'proj.scheme.weight_qscheme == "per_channel"' in fused and "get_parallel().pp_size != 1" in fused
    assert "Online weight updates are not supported with packed FP8 GDN input" in fused
    assert "return _use_aiter and output_size % 64 == 0" in sglang_file("srt/layers/quantization/fp8_utils.py")


def _frozenset(source: str, name: str) -> set[str]:
    """The string members of a module-level ``NAME = frozenset({...})``."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return {c.value for c in ast.walk(node.value) if isinstance(c, ast.Constant) and isinstance(c.value, str)}
    raise AssertionError(f"{name} not found")


def _registered(source: str, function: str) -> str:
    return source.split("@_register_for(", 1)[1].split(f"def {function}", 1)[0]


def test_0_5_23_architecture_lists_name_the_text_only_classes_where_the_manual_says():
    text_only = {"Qwen3_5ForCausalLM", "Qwen3_5MoeForCausalLM"}
    overrides = sglang_file("srt/arg_groups/overrides.py")
    assert text_only <= _frozenset(overrides, "_MAMBA_RADIX_CACHE_ARCHS")
    assert text_only <= _frozenset(overrides, "_MAMBA_EXTRA_BUFFER_ARCHS")
    fusion = _frozenset(overrides, "_FLASHINFER_ALLREDUCE_FUSION_ARCHS")
    assert not text_only & fusion and "Qwen3_5MoeForConditionalGeneration" in fusion
    mega = _frozenset(sglang_file("srt/arg_groups/mega_moe_hook.py"), "MEGA_MOE_NO_FALLBACK_ARCHS")
    assert "Qwen3_5MoeForCausalLM" in mega
    for path, function in (("srt/arg_groups/model_overrides/qwen3_5.py", "_qwen3_5_hybrid_overrides"),
                           ("srt/arg_groups/model_overrides/qwen3_moe.py", "_qwen3_moe_family_overrides")):
        registered = _registered(sglang_file(path), function)
        assert '"Qwen3_5ForConditionalGeneration"' in registered
        assert not any(f'"{name}"' in registered for name in text_only)
    is_qwen3_5 = sglang_file("srt/configs/model_config.py").split("def is_qwen3_5(config)", 1)[1][:300]
    assert all(f'"{name}"' in is_qwen3_5 for name in text_only)
    assert "EntryClass = [Qwen3_5MoeForCausalLM, Qwen3_5ForCausalLM]" in sglang_file("srt/models/qwen3_5_text.py")
