"""Tasks from session 44's agent audit of the manual, answered from SKILL.md plus the one section its row links, and
the SGLang 0.5.23 source lines those answers rest on (read from the installed package's files, not imported).

What they guard: a text-only Qwen3.5 checkpoint on SM100 takes the generic full-attention default (trtllm_mha, page
size 64), which the manual's own no_buffer repro step then trips over at cache start; NGRAM speculative decoding was
not covered (tree verify, 12 draft tokens, and a ReplaySSM spec refusal that runs before NGRAM fills in its top-k);
the state-cache message said a running request holds 3 slots (it holds 1 plus its tracking slots; 3 is the pool's
budget) and did not say that 0.5.23 evicts before it fails; the minimum release for split prefill/decode attention
ignored MTP; 0.5.13's pool-sizing change could not be found from the upgrade route; extra_buffer_lazy's cost was on
its card only.
"""

from __future__ import annotations

import pytest

from tests.dossier.test_manual_questions import Question, assert_answered, sglang_file

ERRORS = "An error message quoted from the log"
MTP = "Turning on MTP (NEXTN)"
MIN = "Minimum SGLang release for a feature"
UPGRADE = "Output or speed changed after upgrading"
DETERMINISTIC = "Deterministic inference"
BUFFERS = "extra_buffer and no_buffer"

QUESTIONS = [
    Question("Text-only Qwen3.5 MoE on a B200 with --mamba-radix-cache-strategy no_buffer --disable-overlap-schedule "
             "dies with 'AssertionError: MambaComponent requires page_size=1 when mamba_extra_buffer is disabled, "
             "got 64'. No DCP. Why?", ERRORS,
             ("'got 64' with no DCP: a text-only Qwen3.5 class on SM100", "add `--attention-backend triton`")),
    Question("Can I use NGRAM speculative decoding with Qwen3-Next, and what does it change?", MTP,
             ("`--speculative-algorithm NGRAM`", "`--speculative-ngram-max-bfs-breadth` (10)", "12 draft tokens",
              "Leave out `--enable-linear-replayssm-spec`", "DP attention is refused")),
    Question("Mid-run 'Not enough space for mamba cache' on 0.5.23: how many slots does a request hold, and is "
             "more memory the fix?", ERRORS,
             ("holds 1 slot plus its strategy's tracking slots", "sized at 3 slots a request",
              "`ensure_mamba_capacity`", "worth reporting with the launch flags")),
    Question("From which release do different prefill and decode attention backends work together with MTP?", MIN,
             ("with MTP/EAGLE from 0.5.14", "[#25883](pr-history.md#pr-25883)")),
    Question("After 0.5.12 -> 0.5.13 with MTP, fewer Mamba state slots and a bigger KV cache: why?", UPGRADE,
             ("0.5.13: with MTP and the radix cache on, the per-draft scratch moved inside the state share",)),
    Question("Deterministic inference with a text-only Qwen3.5 checkpoint on a B200: is the radix cache kept?",
             DETERMINISTIC, ("a text-only Qwen3.5 class gets flashinfer from this mode's own fallback, which turns the "
                             "radix cache off",)),
    Question("What do I lose with extra_buffer_lazy under memory pressure?", BUFFERS,
             ("`ScheduleBatch.mamba_lazy_prealloc_at_boundary`", "a full pool caches fewer prefixes")),
]


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)


def _function(source: str, name: str) -> str:
    return source.split(f"def {name}(", 1)[1].split("\ndef ", 1)[0]


def test_0_5_23_registers_the_sm100_attention_override_for_the_multimodal_qwen3_5_classes_only():
    override = sglang_file("srt/arg_groups/model_overrides/qwen3_5.py")
    registered = override.split("@_register_for(", 1)[1].split(")", 1)[0]
    assert '"Qwen3NextForCausalLM"' in registered and '"Qwen3_5MoeForConditionalGeneration"' in registered
    assert "Qwen3_5ForCausalLM" not in registered and "Qwen3_5MoeForCausalLM" not in registered


def test_0_5_23_checks_no_buffer_before_the_attention_default_and_sets_page_64_for_trtllm_mha():
    pipeline = sglang_file("srt/arg_groups/pipeline.py")
    assert (pipeline.index("run_hook(handle_model_specific_adjustments, server_args)")
            < pipeline.index("run_hook(handle_attention_backend_compatibility, server_args)"))
    hook = _function(sglang_file("srt/arg_groups/model_hook.py"), "handle_mamba_radix_cache")
    assert "validate_mamba_no_buffer(view, hf_config.architectures[0])" in hook
    overrides = sglang_file("srt/arg_groups/overrides.py")
    assert 'view.attention_backend == "trtllm_mha"' in overrides and "page_size = 64" in overrides
    mamba = sglang_file("srt/mem_cache/unified_cache/components/mamba.py")
    assert "MambaComponent requires page_size=1 when mamba_extra_buffer is disabled" in mamba


def test_0_5_23_checks_replayssm_spec_before_ngram_fills_in_its_top_k():
    pipeline = sglang_file("srt/arg_groups/pipeline.py")
    assert (pipeline.index("run_hook(handle_linear_attn_backend, server_args)")
            < pipeline.index("run_hook(handle_speculative_decoding, server_args)"))
    ngram = _function(sglang_file("srt/arg_groups/speculative_hook.py"), "_handle_ngram")
    assert "speculative_eagle_topk=cfg.speculative_ngram_max_bfs_breadth" in ngram
    assert "speculative_num_draft_tokens=12" in ngram and "enable_mixed_chunk=False" in ngram
    hook = _function(sglang_file("srt/arg_groups/attention_hook.py"), "handle_linear_attn_backend")
    assert "if cfg.speculative_eagle_topk not in (None, 1):" in hook.split("if cfg.enable_linear_replayssm_spec:", 1)[1]


def test_0_5_23_allocates_one_state_slot_a_request_and_evicts_before_admitting():
    pool = sglang_file("srt/mem_cache/memory_pool.py")
    assert "mid = self.mamba_allocator.alloc(1)" in pool
    allocation = _function(sglang_file("srt/mem_cache/allocation.py"), "ensure_mamba_capacity")
    assert "tree_cache.evict_for_alloc(" in allocation
    assert "MAMBA_CACHE_SIZE_MAX_RUNNING_REQUESTS_RATIO = 3" in sglang_file("srt/mem_cache/kv_cache_configurator.py")


def test_0_5_23_lazy_tracking_drops_the_checkpoint_when_no_slot_is_free():
    batch = sglang_file("srt/managers/schedule_batch.py")
    body = batch.split("def mamba_lazy_prealloc_at_boundary(", 1)[1].split("\n    def ", 1)[0]
    assert "new_slot = pool.mamba_allocator.alloc(1)" in body
    assert "req.kv.mamba_last_track_seqlen = None" in body
