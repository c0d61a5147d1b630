"""Tasks from session 48's agent audit of the manual (helper B3), answered from SKILL.md plus the one section its
row links, and the SGLang 0.5.23 source lines (and release-tree facts, by what 0.5.23 still shows of them) those
answers rest on.

What they guard: nothing said that `--mamba-backend` (Mamba2's selective-state-update kernel) changes no GDN kernel,
nor that `--linear-attn-verify-backend cutedsl` / `nv_cutedsl` parse for GDN while verify then runs FlashInfer
wherever decode or prefill does (an SM90 default prefill from 0.5.19), else Triton; multi-item scoring
(`--enable-mis`) on Qwen3.5 had no answer: GDN items isolated only from 0.5.20, FlashInfer full attention asserted,
an explicit FlashInfer GDN prefill refused; LMCache was named only as HiCache's refusal, not as a Mamba-aware tree
from 0.5.21 that refuses speculative decoding. The other eight questions were answered right and pin the facts
their answers rest on (the spec ring's power-of-two assertion, the state-cache and int8-pool startup checks, the
Ascend prefill op of 0.5.21, the gate's copies, the decode server's cache log line, ROCm's eager draft extend,
SM100's CUDA-13 prefill rule).
"""

from __future__ import annotations

import pytest

from tests.dossier.test_manual_questions import Question, assert_answered, sglang_file

BACKENDS = "Which GDN kernel runs prefill / decode / verify on my GPU"
PARALLEL = "Pipeline parallel, two-batch overlap"
PREFIX = "Prefix cache hit rate"
ERRORS = "An error message quoted from the log"
GATE = "Where the GDN gate math lives"
ASCEND = "Ascend NPU: setup"
GRAPHS = "CUDA graphs turned off automatically"

QUESTIONS = [
    Question("H100, Qwen3-Next: will --mamba-backend flashinfer put the GDN decode on FlashInfer?", BACKENDS,
             ("`--mamba-backend` (from 0.5.9) picks Mamba2's selective-state-update kernel", "changes no GDN kernel",
              "`--linear-attn-decode-backend`")),
    Question("H200, NEXTN on 0.5.23: I pass --linear-attn-verify-backend cutedsl for a CuTe DSL verify. Which kernel "
             "verifies?", BACKENDS,
             ("Verify has no CuTe DSL kernel", "verify runs FlashInfer when decode or prefill does",
              "an SM90 default prefill from 0.5.19", "'GDN kernel dispatcher:'")),
    Question("Qwen3.5 as a scorer on an H200 (/v1/score with --enable-mis): since which release, and which flags?",
             PARALLEL, ("from 0.5.20", "0.5.19 and older carry the state across items",
                        "pass `--attention-backend flashinfer`",
                        "GDN multi-item scoring requires the Triton linear-attention prefill backend",
                        "the automatic FlashInfer prefill never applies")),
    Question("Qwen3.5-27B with MTP: can LMCache (--enable-lmcache) hold the prefix states instead of HiCache?",
             PREFIX, ("keeps the Mamba states with the KV from 0.5.21",
                      "'LMCacheUnifiedRadixCache does not yet support speculative decoding'", "with MTP use HiCache",
                      "`LMCRadixCache` (removed in 0.5.21), a KV-only tree")),
    Question("0.5.20, --enable-linear-replayssm-spec --linear-replayssm-cache-len 24 starts, then 'AssertionError: "
             "circular cache requires power-of-two max_cache_len'", ERRORS,
             ("`--linear-replayssm-cache-len` is not a power of two", "Startup does not check it with the spec flag",
              "Use 16, 32 or 64")),
    Question("One H100, Qwen3.5-35B-A3B with NEXTN: 'RuntimeError: Hybrid (mamba/linear-attention) state cache is too "
             "small to serve any requests'", ERRORS,
             ("(both from 0.5.13", "each request also reserves one state per draft token",
              "lower `--speculative-num-steps`", "`--mamba-ssm-dtype bfloat16`")),
    Question("--enable-int8-mamba-checkpoint: 'RuntimeError: int8 mamba checkpoint pool needs ~9.10GB but only "
             "6.20GB HBM is free'", ERRORS,
             ("default twice the state pool", "does not take it off the KV budget",
              "lower `--int8-mamba-ckpt-size` or `--mem-fraction-static`")),
    Question("Ascend, upgrading 0.5.20 -> 0.5.21: GDN prefill numbers moved slightly. Which prefill kernel changed?",
             ASCEND, ("GDN prefill through the CANN op torch.ops.npu.chunk_gated_delta_rule from 0.5.21",)),
    Question("Porting the GDN gates to vLLM: where does SGLang compute g and beta, and how many copies must match?",
             GATE, ("g = -exp(A_log) * softplus(a + dt_bias)", "`fused_gdn_gating`", "_forward_mis_segments",
                    "a change to the math there is a FlashInfer change")),
    Question("Our 0.5.21 PD decode server logged 'KV cache is forced as chunk cache for decode server'; 0.5.23 does "
             "not. Did its cache behaviour change?", ERRORS,
             ("'Radix cache is disabled for decode server' (from 0.5.22", "`--disaggregation-decode-enable-radix-cache`")),
    Question("MI300X, NEXTN with --attention-backend triton: are the draft's extend steps captured in CUDA graphs?",
             GRAPHS, ("on ROCm only aiter's multi-step draft backend",
                      "with `--attention-backend triton` there it runs eagerly")),
    Question("B200 with CUDA 12.9, --mamba-ssm-dtype bfloat16 --chunked-prefill-size 8192: does GDN prefill move to "
             "FlashInfer by itself?", BACKENDS,
             ("FlashInfer when CUDA is 13 or newer", "FlashInfer on SM100+: CUDA 13+ (refused otherwise)")),
]


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)


def test_0_5_23_mamba_backend_is_mamba2_only_and_gdn_verify_has_no_cutedsl_kernel():
    assert 'requested = server_args.mamba_backend or "triton"' in sglang_file(
        "kernels/ops/mamba/triton_ops/ssu_dispatch.py")
    assert "FlashInfer mamba module not available, please check the" in sglang_file("srt/arg_groups/mamba_hook.py")
    backend = sglang_file("srt/layers/attention/linear/gdn_backend.py")
    assert "mamba_backend" not in backend
    verify = backend.split("# Verify kernel.", 1)[1].split("self.supports_packed_decode", 1)[0]
    assert "verify_backend.is_triton()" in verify and "is_cutedsl" not in verify
    assert "decode_backend.is_flashinfer() or prefill_backend.is_flashinfer()" in verify
    assert 'choices=LINEAR_ATTN_KERNEL_BACKEND_CHOICES + ["nv_cutedsl"]' in sglang_file("srt/arg_groups/fields/exec_.py")


def test_0_5_23_multi_item_scoring_isolates_gdn_items_and_drops_chunked_prefill():
    backend = sglang_file("srt/layers/attention/linear/gdn_backend.py")
    assert "supports_mis: bool = True" in backend
    assert "GDN multi-item scoring requires the Triton linear-attention prefill" in backend
    default = backend.split("def flashinfer_gdn_prefill_default", 1)[1].split("\ndef ", 1)[0]
    assert "not 1 <= chunk_size <= max_chunk" in default  # -1 under --enable-mis: no automatic FlashInfer
    hook = sglang_file("srt/arg_groups/attention_hook.py")
    assert "Chunked prefill is disabled because --enable-mis is set." in hook
    assert "Multi-item scoring requires flashinfer attention backend" in hook


def test_0_5_23_lmcache_tree_carries_mamba_and_refuses_speculative_decoding():
    registry = sglang_file("srt/mem_cache/registry.py")
    lmcache = registry.split("if get_memory().enable_lmcache:", 1)[1].split("return LMCacheUnifiedRadixCache(", 1)[0]
    assert "tree_components.append(ComponentType.MAMBA)" in lmcache
    assert "LMCacheUnifiedRadixCache does not yet support speculative decoding" in sglang_file(
        "srt/arg_groups/kv_cache_hook.py")


def test_0_5_23_startup_checks_the_answers_rest_on():
    assert "circular cache requires power-of-two max_cache_len" in sglang_file(
        "kernels/ops/attention/linear/gdn_replayssm_spec_decode.py")
    assert "state cache is too small to serve " in sglang_file("srt/mem_cache/kv_cache_configurator.py")
    pool = sglang_file("srt/mem_cache/mamba_checkpoint_pool.py")
    assert "ckpt_size = mamba.int8_mamba_ckpt_size or (2 * mamba_size)" in pool
    assert "int8 mamba checkpoint pool needs" in pool
    assert "torch.ops.npu.chunk_gated_delta_rule" in sglang_file(
        "srt/hardware_backend/npu/attention/ascend_gdn_backend.py")
    assert "Radix cache is disabled for decode server" in sglang_file("srt/arg_groups/pd_disaggregation_hook.py")
    worker = sglang_file("srt/speculative/eagle_worker_v2.py")
    assert "isinstance(self.draft_attn_backend, AiterMultiStepDraftBackend)" in worker
