"""Tasks from session 44's agent audit of the manual, answered from SKILL.md plus the one section its row links, and
the SGLang 0.5.23 source lines those answers rest on (read from the installed package's files, not imported).

What they guard: a text-only Qwen3.5 checkpoint on SM100 takes the generic full-attention default (trtllm_mha, page
size 64), which the manual's own no_buffer repro step then trips over at cache start; NGRAM speculative decoding was
not covered (tree verify, 12 draft tokens, and a ReplaySSM spec refusal that runs before NGRAM fills in its top-k);
the state-cache message said a running request holds 3 slots (it holds 1 plus its tracking slots; 3 is the pool's
budget) and did not say that 0.5.23 evicts before it fails; the minimum release for split prefill/decode attention
ignored MTP; 0.5.13's pool-sizing change could not be found from the upgrade route; extra_buffer_lazy's cost was on
its card only. From the second audit: raising the prefill chunk also raises the memory 0.5.23 sets aside (1.5 MB a
token), which the prefill block did not say; DP attention leaves the MoE sharded over the full TP; the draft model's
own CUDA graphs; #17627 said NVIDIA's NVFP4 export keeps the GDN projections in FP4 (its evidence says nothing of
them, and a scalar input_scale on the packed projections meets the FP8 finding's shape check); a PD decode server
with MTP allocates verify scratch for its pre-allocated slots, which the budget does not count.
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
PREFILL = "Slow first token (TTFT)"
DP = "Running with DP attention"
GRAPHS = "CUDA graphs turned off automatically"
PD = "PD disaggregation with GDN state"

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
    Question("128K-token prompts on H100 TP4: should I raise --chunked-prefill-size to 32768?", PREFILL,
             ("0.5.23 sets aside 1.5 MB a chunk token before the weights", "so give the fraction when raising it")),
    Question("Qwen3-Next FP8 on 8x H100: does --tp-size 8 --attn-dp-size 8 avoid the block_n = 128 MoE error?", DP,
             ("The MoE is not: it stays sharded over `--tp-size` / `--ep-size`",)),
    Question("With NEXTN, which CUDA graphs does the draft model capture, and is their memory reserved?", GRAPHS,
             ("draft decode when `--speculative-num-steps` is above 1", "`SGLANG_DISABLE_DRAFT_EXTEND_CUDA_GRAPH`",
              "has no term for either")),
    Question("My own NVFP4 export quantizes in_proj_qkvz and stops with 'Shape mismatch: param torch.Size([4]) vs "
             "loaded torch.Size([])'. Why?", ERRORS,
             ("meets the same check through its scalar input_scale",)),
    Question("PD decode server with MTP and --max-running-requests 16: GPU memory is short of what the budget said. "
             "Why?", PD, ("about three times the scratch it budgeted", "`--disaggregation-decode-extra-slots`")),
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


def test_0_5_23_reserves_memory_per_chunk_token_and_shards_the_moe_over_the_full_tp():
    hook = sglang_file("srt/arg_groups/memory_hook.py")
    assert "activation_tokens = max(cfg.chunked_prefill_size, 2048)" in hook
    assert "reserved_mem += activation_tokens * 1.5" in hook
    assert '"moe_tp_size": tp_size // moe_ep_size // moe_dp_size' in sglang_file("srt/runtime_context.py")


def test_0_5_23_gives_a_packed_nvfp4_projection_a_per_slot_input_scale_the_packed_loader_cannot_fill():
    modelopt = sglang_file("srt/layers/quantization/modelopt_quant.py")
    assert "(len(output_partition_sizes),)" in modelopt.split('layer.register_parameter("input_scale"', 1)[0][-400:]
    model = sglang_file("srt/models/qwen3_next.py")
    rebound = model.split("def _override_weight_loader(", 1)[1].split("\n    def ", 1)[0]
    assert '"input_scale",' in rebound
    assert 'f"Shape mismatch: param {param.data.shape} vs "' in model


def test_a_project_named_before_a_short_number_is_not_linked_as_an_sglang_pr():
    from tests.dossier.test_manual_questions import SKILL

    history = (SKILL / "references/pr-history.md").read_text()
    assert "NVIDIA/Model-Optimizer#681" in history and "pull/681)" not in history


def test_0_5_23_gives_a_pd_decode_servers_preallocated_slots_verify_scratch_too():
    decode = sglang_file("srt/disaggregation/decode.py")
    assert "mamba_spec_state_size=size + pre_alloc_size," in decode
    hook = sglang_file("srt/arg_groups/pd_disaggregation_hook.py")
    assert "if per_worker <= 32:" in hook and "extra_slots = per_worker * 2" in hook
