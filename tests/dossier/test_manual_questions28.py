"""Tasks from session 46's agent audit of the manual, answered from SKILL.md plus the one section its row links, and
the SGLang 0.5.23 source lines (and release-tree facts, by what 0.5.23 still shows of them) those answers rest on.

What they guard: the graph-memory item offered `--language-model-only` for a text-only Qwen3.5 server, which every
release refuses for Qwen3.5 ('--language-model-only does not support [...]'); the upgrade block never dated the
prefill CUDA graph that 0.5.15 (Qwen3-Next) and 0.5.16 (Qwen3.5's multimodal classes) turn on by default, and dated
the SM100 FlashInfer decode default to 0.5.11 for MTP launches too (0.5.13 there); the spec ring was said to write
the state back only when it fills, while a state other than float32 is written back at every accepted window; the
verify rows named FlashInfer or Triton where `--enable-linear-replayssm-spec` runs the ring's own kernel; two messages
a user meets were not indexed (the HiCache load-back's 'Cannot alloc mamba for load_back', the spec ring's refusal of
CuTe DSL decode); nothing said that MTP under PD needs the speculative flags on the prefill server too, nor that NEXTN
sizes each token's KV cell for the draft layer; Ascend's MTP with extra_buffer before 0.5.14 was blamed on graph mode
alone, the serving benchmark was named by its 0.5.15 module only, ROCm's 0.85 cut of the memory fraction (aiter, long
context) was unsaid, and by-release.md had no line for the prefill graph default 0.5.15 and 0.5.16 turned on.
"""

from __future__ import annotations

import pytest

from tests.dossier.test_manual_questions import Question, assert_answered, sglang_file

BACKENDS = "Which GDN kernel runs prefill / decode / verify on my GPU"
GRAPHS = "CUDA graphs turned off automatically"
UPGRADE = "Output or speed changed after upgrading"
REPLAYSSM = "ReplaySSM decode and MTP verify"
ERRORS = "An error message quoted from the log"
PD = "PD disaggregation with GDN state"
TP = "Choosing TP"
AMD = "AMD GPUs (ROCm"
ASCEND = "Ascend NPU: setup"
TTFT = "Slow first token (TTFT)"

QUESTIONS = [
    Question("Text-only Qwen3.5-35B-A3B (ConditionalGeneration) on one H200: can I skip the vision tower's memory "
             "cut with --language-model-only?", GRAPHS,
             ("`LANGUAGE_MODEL_ONLY_ARCHITECTURES`", "'--language-model-only does not support [...]'",
              "set `--mem-fraction-static` yourself")),
    Question("After upgrading 0.5.14 -> 0.5.16 prefill is captured in CUDA graphs and memory is tighter: since when, "
             "and how do I go back?", UPGRADE,
             ("0.5.15: Qwen3-Next prefill runs in the breakable CUDA graph by default", "from 0.5.16 (allow-listed)",
              "`--cuda-graph-backend-prefill disabled` restores eager prefill")),
    Question("B200, MTP, --mamba-ssm-dtype bfloat16: at which release did decode and verify move to FlashInfer?",
             UPGRADE, ("with a `--speculative-algorithm` set, from 0.5.13",)),
    Question("B200 with a bf16 state and --enable-linear-replayssm-spec: does the ring still save state writes?",
             REPLAYSSM, ("a state other than float32 is written back at every accepted window",
                         "only the per-draft scratch is saved")),
    Question("The startup line says verify=flashinfer, but I run --enable-linear-replayssm-spec: which kernel "
             "verifies?", BACKENDS,
             ("with `--enable-linear-replayssm-spec` the spec ring's own kernel verifies, whatever the startup line "
              "names",)),
    Question("Heavy load with --enable-hierarchical-cache: 'AssertionError: Cannot alloc mamba for load_back'. What ran "
             "out?", ERRORS, ("'AssertionError: Cannot alloc mamba for load_back' (from 0.5.12",
                              "the load-back budget counts KV tokens, not state slots")),
    Question("H200, NEXTN, --linear-attn-decode-backend cutedsl --enable-linear-replayssm-spec stops at startup: "
             "'--enable-linear-replayssm-spec requires the triton or flashinfer linear-attn decode backend'. Now what?",
             ERRORS, ("the spec ring refuses CuTe DSL decode", "keep cutedsl and drop the ring")),
    Question("PD with MTP on the decode server: which speculative flags go on the prefill server?", PD,
             ("pass the same speculative flags", "the prefill server runs the draft and sends its hidden states")),
    Question("With NEXTN on, how many KV bytes per token does Qwen3-Next-80B take at TP4?", TP,
             ("13,312 bytes at TP >= 2",)),
    Question("Ascend, 0.5.13, Qwen3-Next MTP with extra_buffer loops even with graphs off. Workaround there?", ASCEND,
             ("in any mode the post-verify update never copied the verified state into extra_buffer's track slots",
              "run NPU MTP with `--disable-radix-cache`")),
    Question("On 0.5.12, how do I measure TTFT alone for a 32K prompt?", TTFT,
             ("(`sglang.bench_serving` before 0.5.15)",)),
    Question("8x MI300X, default launch: why is there less KV cache than the CUDA sizing says?", AMD,
             ("`--mem-fraction-static` is multiplied by 0.85", "`SGLANG_AITER_HONOR_EXPLICIT_MEM_FRACTION=1`")),
]


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)


def test_0_5_23_sizes_the_kv_cell_for_the_draft_layers_and_ships_draft_states_from_prefill():
    sizing = sglang_file("srt/model_executor/pool_configurator.py")
    assert "self._cell_size * draft_num_layers / int(num_layers)" in sizing
    assert "draft_hidden_states_cpu = draft_input.hidden_states.to(" in sglang_file("srt/disaggregation/prefill.py")
    assert '"Cannot alloc mamba for load_back"' in sglang_file("srt/mem_cache/unified_cache/components/mamba.py")


def test_by_release_gives_the_prefill_graph_default_its_releases():
    from tests.dossier.test_manual_questions import SKILL

    page = (SKILL / "references" / "by-release.md").read_text()
    section = page.split('<a id="release-0-5-15"></a>', 1)[1].split('<a id="release-', 1)[0]
    assert "Qwen3-Next prefill runs in the breakable CUDA graph by default" in section


def test_0_5_23_cuts_the_memory_fraction_for_aiter_at_long_context():
    hook = sglang_file("srt/arg_groups/attention_hook.py")
    assert "mem_fraction_static=cfg.mem_fraction_static * 0.85" in hook and "SGLANG_AITER_HONOR_EXPLICIT_MEM_FRACTION" in hook


def test_0_5_23_accepts_language_model_only_for_no_qwen_class():
    args = sglang_file("srt/server_args.py")
    allowed = args.split("LANGUAGE_MODEL_ONLY_ARCHITECTURES = (", 1)[1].split(")", 1)[0]
    assert "Qwen" not in allowed and "Cosmos3ForConditionalGeneration" in allowed
    assert "--language-model-only does not support" in sglang_file("srt/arg_groups/model_hook.py")


def test_0_5_23_prefill_graph_default_is_breakable_and_qwen35_is_allow_listed():
    config = sglang_file("srt/configs/model_config.py")
    allowed = config.split("multimodal_breakable_cuda_graph_supported_model_archs = [", 1)[1].split("]", 1)[0]
    assert '"Qwen3_5ForConditionalGeneration"' in allowed and '"Qwen3_5MoeForConditionalGeneration"' in allowed


def test_0_5_23_spec_ring_folds_every_commit_off_fp32_and_verifies_on_its_own_kernel():
    assert "fold_every_commit=spec_state.temporal.dtype != torch.float32" in sglang_file("srt/speculative/spec_utils.py")
    backend = sglang_file("srt/layers/attention/linear/gdn_backend.py")
    assert "elif use_replayssm_spec:\n                core_attn_out = self._replayssm_target_verify(" in backend
