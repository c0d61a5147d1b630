"""Tasks from session 49's agent audit of the manual (round 6 of the month), answered from SKILL.md plus the one
section its row links, and the SGLang 0.5.23 source lines (and release-tree facts, by what 0.5.23 still shows of
them) those answers rest on.

What they guard: the no_buffer assertion's fix offered extra_buffer for paging where auto cannot pick it (Intel XPU,
a base `--linear-attn-backend` other than triton), so a paged launch there was sent round in a circle; the
track-interval assertion never said an Ascend NPU's page size is 128 by itself, so `--mamba-track-interval 64` there
looked valid; Mooncake's refusal of a PD pair whose state pools are laid out differently ('Mamba state layouts differ
between prefill and decode', `--enable-unified-memory` on one side) and its slot-size check were not indexed; the PD
block named Mooncake, NIXL and MORI as the state-slicing backends but not Ascend's, which reuses Mooncake's manager;
and `--enable-eplb` on a Qwen3.5 MoE launch without expert parallelism stops at a bare assertion nothing explained.
The other questions (the ROCm memory cut under triton attention, int8 checkpoints against the KV budget, a 0.5.15
launch script on 0.5.23, the ratio under unified memory, the DeepEP prefill graph, porting the split + conv
reference kernel, the HiCache layout for hybrid models) were answered right and guard those answers.
"""

from __future__ import annotations

import pytest

from tests.dossier.test_manual_questions import Question, assert_answered, sglang_file

ERRORS = "An error message quoted from the log"
PD = "PD disaggregation with GDN state"
TP = "Choosing TP"
AMD = "AMD GPUs (ROCm"
POOL = "max_running_requests is capped"
REMOVED = "A launch script from an older SGLang stops"
GRAPHS = "CUDA graphs turned off automatically"
PROJ = "Our fused GDN projection kernels"
PREFIX = "Prefix cache hit rate is near zero"

QUESTIONS = [
    Question("Intel XPU, Qwen3-Next default launch with --page-size 64: 'AssertionError: no_buffer only supports "
             "page_size=1.' I never asked for no_buffer. Why, and can I page with extra_buffer?", ERRORS,
             ("on Intel XPU, or with a base `--linear-attn-backend` other than triton, auto falls back to no_buffer",
              "use page size 1")),
    Question("Ascend NPU, Qwen3.5 with extra_buffer and --mamba-track-interval 64: bare AssertionError at "
             "`assert view.mamba_track_interval % view.page_size == 0`. I never set a page size.", ERRORS,
             ("an Ascend NPU's default is 128, so 64 fails",)),
    Question("PD over Mooncake, prefill with --enable-unified-memory, decode without: 'RuntimeError: Mamba state "
             "layouts differ between prefill and decode (src item_lens=...)'. Fix?", ERRORS,
             ("`--enable-unified-memory` is on one side only", "Set it on both servers or neither, at one attention TP")),
    Question("Ascend NPUs, Qwen3.5 PD with --disaggregation-transfer-backend ascend, prefill TP8 into decode TP4: is "
             "the GDN state sliced and sent?", PD,
             ("Ascend's backend (`--disaggregation-transfer-backend ascend`) subclasses Mooncake's manager",)),
    Question("Qwen3.5-397B-A17B on 8x H200, --tp-size 8 --enable-eplb: startup stops at a bare AssertionError. "
             "What does EPLB need here?", TP,
             ("`--enable-eplb` needs expert parallelism", "`handle_eplb_and_dispatch`",
              "`--ep-dispatch-algorithm dynamic`")),
    Question("MI300X, Qwen3.5 with --attention-backend triton: is the 0.85 cut of --mem-fraction-static still "
             "applied?", AMD,
             ("with aiter attention and a context above 8,192 tokens", "`--mem-fraction-static` is multiplied by 0.85")),
    Question("B200, Qwen3.5 with --enable-int8-mamba-checkpoint: does the KV-cache budget account for the checkpoint "
             "pool, and how big is it by default?", POOL,
             ("default twice the state pool", "outside the KV budget")),
    Question("A 0.5.15 Qwen3.5 MTP script (--enable-dp-attention --dp-size 4 --speculative-skip-dp-mlp-sync "
             "--enable-breakable-cuda-graph) on 0.5.23: which flags stop it?", REMOVED,
             ("`--speculative-skip-dp-mlp-sync` (EAGLE with DP attention) no longer parses after 0.5.22",
              "no longer parses from 0.5.20", "becomes `--attn-dp-size N`")),
    Question("With --enable-unified-memory, does --mamba-full-memory-ratio still fix how many Mamba state slots I "
             "get?", POOL, ("replaces the fixed split with one byte buffer both pools grow into",)),
    Question("Qwen3.5-397B with --moe-a2a-backend deepep: does the breakable prefill CUDA graph stay on?", GRAPHS,
             ("a `--moe-a2a-backend` other than none, deepep, megamoe or flashinfer",)),
    Question("I want vLLM's Qwen3.5 decode to use this repository's split + conv1d kernel: which module, and how do "
             "I time it against SGLang on my H100?", PROJ,
             ("runtime.projections.split_conv_kernel", "python -m runtime.projections.bench")),
    Question("Qwen3.5 with --enable-hierarchical-cache and our usual --hicache-mem-layout layer_first: will the "
             "Mamba host pool take it?", PREFIX,
             ("`MambaPoolHost`, `--hicache-mem-layout` page_first by default or page_first_direct, no other",)),
]


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)


def test_0_5_23_auto_falls_back_to_no_buffer_off_triton_and_on_xpu():
    overrides = sglang_file("srt/arg_groups/overrides.py")
    support = overrides.split("def supports_mamba_cache_extra_buffer(", 1)[1].split("\ndef ", 1)[0]
    assert "if get_platform().is_xpu:\n        return False" in support
    assert 'return view.linear_attn_backend == "triton"' in support
    assert 'declared["mamba_radix_cache_strategy"] = "no_buffer"' in overrides
    hook = sglang_file("srt/arg_groups/mamba_hook.py")
    assert 'assert view.page_size in (1, None), "no_buffer only supports page_size=1."' in hook
    assert "assert view.mamba_track_interval % view.page_size == 0" in hook


def test_0_5_23_npu_defaults_page_size_to_128():
    npu = sglang_file("srt/hardware_backend/npu/utils.py")
    assert "page_size=128," in npu.split("def set_default_server_args", 1)[1]


def test_0_5_23_mooncake_refuses_mismatched_state_layouts_and_ascend_reuses_it():
    conn = sglang_file("srt/disaggregation/mooncake/conn.py")
    assert '"Mamba state layouts differ between prefill and decode "' in conn
    assert '"Prefill/Decode Mamba slot size mismatch "' in conn
    unified = sglang_file("srt/mem_cache/unified_memory_pool.py")
    assert "def get_state_dim_per_tensor(self):\n        return []" in unified
    ascend = sglang_file("srt/disaggregation/ascend/conn.py")
    assert "class AscendKVManager(MooncakeKVManager):" in ascend


def test_0_5_23_eplb_needs_expert_parallelism():
    hook = sglang_file("srt/arg_groups/parallel_hook.py")
    body = hook.split("def handle_eplb_and_dispatch(", 1)[1].split("\ndef ", 1)[0]
    assert "assert resolved_view(server_args).ep_size > 1" in body
    assert 'expert_distribution_recorder_mode="stat"' in body
    assert '"dynamic" if needs_rank_invariant_dispatch else "static"' in body


def test_0_5_23_aiter_cut_and_hybrid_host_pool_layouts():
    attention = sglang_file("srt/arg_groups/attention_hook.py")
    assert 'if resolved_view(server_args).attention_backend == "aiter":\n        if model_config.context_len > 8192:' \
        in attention
    host = sglang_file("srt/mem_cache/pool_host/mamba.py")
    assert 'assert layout in [\n            "page_first",\n            "page_first_direct",\n        ]' in host
    assert "(\"none\", \"deepep\", \"megamoe\", \"flashinfer\")" in sglang_file("srt/arg_groups/cuda_graph_hook.py")


def test_0_5_23_int8_checkpoint_pool_is_outside_the_kv_budget():
    pool = sglang_file("srt/mem_cache/mamba_checkpoint_pool.py")
    assert "ckpt_size = mamba.int8_mamba_ckpt_size or (2 * mamba_size)" in pool
    assert "is not reflected in " in pool
    unified = sglang_file("srt/mem_cache/unified_memory_pool.py")
    assert "governs the total budget only, " in unified
