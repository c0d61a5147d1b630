"""The committed manual answers the questions engineers ask, from SKILL.md plus the one section its symptom
table links: a guard for the generator and for the facts in cards/lanes.yaml (its answer blocks and lanes).

Each question names the symptom-table row an agent would pick and what the answer must contain (flags,
PRs, files, functions). The test follows the row's link into the rendered reference and looks only at
SKILL.md and that one section, as an agent reading the skill would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKILL = next((ROOT / "skills").glob("*/SKILL.md")).parent
#: the most a linked section may hold: an answer is SKILL.md plus a short read, not a whole file
SECTION_WORD_LIMIT = 1200


@dataclass(frozen=True)
class Question:
    ask: str
    row: str  # a substring of the symptom-table row an agent picks
    must: tuple[str, ...]  # strings the answer (SKILL.md + the linked section) must contain


QUESTIONS = [
    Question("Decode is slow on H100 at TP4; what do I check first?", "Decode throughput is low",
             ("--linear-attn-decode-backend", "--cuda-graph-max-bs-decode", "--cuda-graph-backend-decode",
              "--enable-linear-replayssm", "--mamba-radix-cache-strategy", "--disable-overlap-schedule",
              "python -m sglang.benchmark.one_batch_server", "#28451", "#21861", "#18622")),
    Question("The prefix cache hit rate is about 0 with --enable-mixed-chunk.", "Prefix cache hit rate",
             ("--enable-mixed-chunk", "--mamba-track-interval", "--chunked-prefill-size", "--disable-radix-cache",
              "python/sglang/srt/managers/schedule_batch.py", "#39526", "#24613")),
    Question("How do I enable extra_buffer, and what will refuse to start?", "extra_buffer and no_buffer",
             ("--mamba-radix-cache-strategy", "--mamba-track-interval", "--speculative-num-draft-tokens",
              "--page-size", "--disaggregation-mode", "--linear-attn-backend triton", "--disable-overlap-schedule",
              "python/sglang/srt/arg_groups/mamba_hook.py", "#28151", "#27118")),
    Question("Where does MTP verify live for a GDN layer?", "Where MTP / NEXTN target verify runs",
             ("python/sglang/srt/speculative/eagle_worker_common.py", "GDNKernelDispatcher.target_verify",
              "fused_sigmoid_gating_delta_rule_update", "update_mamba_state_after_mtp_verify",
              "FlashInferGDNKernel.target_verify", "#19775", "#23273", "#28695")),
    Question("An FP8 checkpoint loads garbage into the fused GDN projections.", "Loading FP8/NVFP4 weights",
             ("_make_packed_weight_loader", "_override_weight_loader", "python/sglang/srt/models/qwen3_next.py",
              "python/sglang/srt/layers/linear.py", "weight_scale_inv", "#21662", "#19321", "#29318",
              "findings.md#finding-qwen3-next-packed-per-tensor-scale")),
    Question("What happened to piecewise CUDA graph for Qwen3-Next?", "prefill CUDA graphs on a GDN model",
             ("--cuda-graph-backend-prefill", "breakable", "--enable-piecewise-cuda-graph", "#13081", "#17613",
              "#19220", "#14502")),
    Question("Which GDN decode backends exist and how do I pick one?", "Which GDN kernel runs",
             ("--linear-attn-decode-backend", "triton", "cutedsl", "flashinfer", "--mamba-ssm-dtype bfloat16",
              "--linear-attn-verify-backend", "#15631", "#19150", "#21861", "#20627")),
    Question("What must a GDN projection fusion PR validate?", "GDN input projection",
             ("packed", "split", "every TP size", "python -m sglang.test.few_shot_gsm8k",
              "test/registered/4-gpu-models/test_qwen3_next_models.py", "#19321", "#21019", "#18917",
              "reference-kernels.md#lane-gdn-projection")),
    Question("What is ReplaySSM and when can I turn it on?", "Decode throughput is low",
             ("--enable-linear-replayssm", "--linear-replayssm-cache-len", "no_buffer", "1.2-1.5x",
              "--enable-linear-replayssm-spec", "#28451", "#28695")),
    Question("SM100 refuses --linear-attn-decode-backend flashinfer at startup.", "Which GDN kernel runs",
             ("--mamba-ssm-dtype bfloat16", "SM100", "#21861", "python/sglang/srt/arg_groups/attention_hook.py")),
    Question("Which GDN kernels can run on AMD and on Ascend NPU?", "GDN kernels on an A100",
             ("AMD", "NPU", "Triton", "ascend", "#18355", "#10379")),
    Question("no_buffer will not start with overlap scheduling on.", "extra_buffer and no_buffer",
             ("no_buffer", "--disable-overlap-schedule", "page size 1", "trtllm_mha")),
    Question("MTP at TP4 hangs in an NCCL all-gather.", "Hang in an NCCL collective",
             ("--speculative-algorithm", "broadcast", "#22458", "python/sglang/srt/models/qwen3_next_mtp.py")),
    Question("Loading raises AttributeError assigning weight_loader on an FP8 parameter.", "AttributeError",
             ("read-only property", "#21662", "#21313", "python/sglang/srt/models/qwen3_next.py")),
    Question("Is the all-reduce fused with residual add and RMSNorm at TP > 1?", "cross-device reduce kernels",
             ("python/sglang/srt/layers/layer_boundary/residual/add_norm.py", "--enable-deterministic-inference")),
    Question("Garbage output with --cpu-offload-gb on Qwen3-Next.", "--cpu-offload-gb",
             ("--cpu-offload-gb", "python/sglang/srt/utils/offloader.py", "#40310", "#23474")),
    Question("Which --linear-replayssm-cache-len should I pick, and which values are refused?", "ReplaySSM decode and MTP verify",
             ("--linear-replayssm-cache-len", "below 1 is refused", "L=1 flushes every step", "--mamba-track-interval",
              "keep 16")),
    Question("GSM8K dropped 2 points after enabling MTP on Qwen3.5: is it real?", "GSM8K dropped after enabling MTP",
             ("--num-questions 1319", "200 questions", "standard error", "0.93", "avg_spec_accept_length",
              "python/sglang/test/few_shot_gsm8k.py", "--disable-radix-cache")),
    Question("What does --mamba-track-interval do with page size and MTP?", "extra_buffer and no_buffer",
             ("--mamba-track-interval", "divisible by `--page-size`", "--speculative-num-draft-tokens", "mamba_track_grid",
              "crosses", "--enable-linear-replayssm")),
    Question("Qwen3-Next-80B BF16 on H100 80GB: TP4 or TP8, how much memory per GPU?", "Choosing TP",
             ("40 GB per GPU at TP4", "20 GB at TP8", "2,146,304", "19.3 MB", "9.7 MB", "--mamba-full-memory-ratio")),
    Question("MTP on Qwen3-Next: which flags, and why do only 48 requests run?", "Turning on MTP",
             ("--speculative-algorithm NEXTN", "Qwen3NextForCausalLMMTP", "_auto_choose_speculative_params",
              "reset to 48", "--max-running-requests", "--speculative-eagle-topk 1", "trtllm_mha", "#27463")),
    Question("PD with prefill TP8 and decode TP4 on Qwen3.5: does the GDN state transfer?", "PD disaggregation",
             ("compute_mamba_state_slice_blocks", "0.5.16", "NIXL", "0.44", "#16056", "#22240", "#30997")),
    Question("Can HiCache hold Qwen3-Next's Mamba states on the host?", "Prefix cache hit rate",
             ("--enable-hierarchical-cache", "MambaPoolHost", "--hicache-ratio", "--hicache-size",
              "--enable-int8-mamba-checkpoint")),
    Question("A 0.5.9 launch script fails on 0.5.23 (--cuda-graph-max-bs, piecewise flags).", "stops at startup: flags",
             ("--cuda-graph-max-bs-decode", "--cuda-graph-backend-prefill", "--enable-prefill-cp")),
    Question("Same 0.5.9 launch on a B200 after the upgrade: the MoE kernels in the profile changed.", "after upgrading",
             ("--moe-runner-backend triton", "flashinfer_trtllm")),
    Question("ROCm 0.5.15: 'extra_buffer needs CUDA/MUSA/NPU (FLA)' at startup.", "extra_buffer and no_buffer",
             ("extra_buffer needs CUDA/MUSA/NPU (FLA)", "0.5.16", "--disable-radix-cache", "#30359")),
    Question("Deterministic inference for RL on Qwen3-Next (H200 and B200).", "Deterministic inference",
             ("fa3", "trtllm_mha", "--attention-backend triton", "--linear-attn-prefill-backend", "radix cache",
              "#24629")),
    Question("Default B200 launch of Qwen3-Next: which full-attention backend and page size?", "Which GDN kernel runs",
             ("triton with page size 1 on a default launch", "--disable-radix-cache",
              "--mamba-radix-cache-strategy extra_buffer", "--speculative-eagle-topk 1")),
    Question("Does --kv-cache-dtype fp8_e4m3 shrink the GDN state; KV bytes per token?", "Choosing TP",
             ("--kv-cache-dtype fp8_e4m3", "12,288", "SGLANG_MAMBA_CONV_DTYPE", "--mamba-ssm-dtype")),
    # manual9 (session 8): twelve more questions, checked against 0.5.23, the release trees and PR threads
    Question("--enable-linear-replayssm made decode slower at batch 1-16: why, and what does it change?",
             "ReplaySSM decode and MTP verify",
             ("7.6 vs 5.9 us at TP1 B=1", "12.3 vs 8.8 us at TP4 B=16", "the reference-kernels page says how to read it",
              "Keep it off below that size", "overlap scheduling off", "nothing between 128 (slower) and 512 was timed")),
    Question("Which PR made FlashInfer GDN prefill the default on H100/H200, and since which release?", "after upgrading",
             ("Defaulting SM90 GDN prefill backend to FlashInfer.", "0.5.18 -> 0.5.19",
              "credits the SM90 branch to [#34859](pr-history.md#pr-34859)", "#35632")),
    Question("How would I port ReplaySSM decode (and the other GDN optimizations) to vLLM?", "Porting a GDN optimization",
             ("fused_recurrent_linear_replayssm_decode", "MambaPool.copy_from",
              "one static cursor buffer per CUDA-graph batch size", "findings.md#finding-replayssm-finish-conv-depth",
              "_make_packed_weight_loader", "48792", "parent links")),
    Question("Qwen3.5 per-tensor FP8 fails on 0.5.10 ('split_with_sizes ... sum exactly to 1'); Qwen3-Next FP8 loads.",
             "Loading FP8/NVFP4 weights",
             ("split_with_sizes expects split_sizes to sum exactly to 1", "since 0.5.11", "#23062",
              "Shape mismatch: param torch.Size([4]) vs loaded torch.Size([])")),
    Question("How many bytes is one Qwen3.5 GDN state slot, and how do I budget it against the KV cache?",
             "sizing the state pool",
             ("linear_num_value_heads", "(linear_conv_kernel_dim - 1)", "full_attention_interval", "text_config",
              "Mamba Cache is allocated", "2,146,304 bytes per layer at TP1", "77,266,944 bytes")),
    Question("With --speculative-eagle-topk 4 (tree drafts), how is the GDN state rolled back, and which verify kernel runs?",
             "Where MTP / NEXTN target verify runs",
             ("retrieve_parent_token", "GDNKernelDispatcher._get_target_verify_kernel",
              "FlashInfer GDN verify kernel only supports topk=1", "Since 0.5.16 a tree verify always takes the Triton",
              "#27463", "before 0.5.13 a tree draft ran on the Spec V1 worker", "from 0.5.10 (SM90)")),
    Question("Is piecewise CUDA graph (#13081) or the #21313 loader fix still in 0.5.23?", "reverted or replaced",
             ("[#13081]", "shipped in 0.5.6, its line gone in 0.5.10", "[#21313]", "reverted; see", "[#31942]")),
    Question("What does 'deferred-write decode 1.11-1.29x SGLang's ReplaySSM' mean, and which SGLang function is compared?",
             "A number from this repository's reference kernels",
             ("neither a server's decode step nor a speed-up SGLang ships", "fused_recurrent_linear_replayssm_decode",
              "sgl_packed_us is fused_recurrent_gated_delta_rule_packed_decode", "runtime/gdn/sglang_peers.py",
              "16 key and 32 value heads")),
    Question("Which GDN kernels run on an A100 or an RTX PRO 6000 Blackwell (SM120)?", "GDN kernels on an A100",
             ("| SM80 |", "| SM120 |", "capability 10 only", "supports_target_verify", "Requires SM90+",
              "fp32 initial state", "stops at startup unless `--mamba-ssm-dtype bfloat16` is given",
              "`--linear-attn-verify-backend` first parses in 0.5.17")),
    Question("Does --enable-mamba-cache-stochastic-rounding make a 16-bit Qwen3-Next state more accurate?",
             "Choosing --mamba-ssm-dtype",
             ("--enable-mamba-cache-stochastic-rounding", "ssu_dispatch.py", "no GDN kernel does", "float16")),
    Question("Requests share a 3,000-token system prompt; the second misses the cache, later ones hit. Why?",
             "Prefix cache hit rate",
             ("mamba_branching_seqlen", "reused from the third", "no_buffer never saves at a branching point",
              "Sending the bare prefix once", "4,992", "exact model of 0.5.23's state caching")),
    Question("0.5.16 has no --enable-linear-replayssm-spec, and the spec ring will not start with extra_buffer.",
             "extra_buffer and no_buffer",
             ("--enable-gdn-replayssm-spec", "since 0.5.17", "is not yet compatible with mamba extra_buffer",
              "power-of-two")),
    # manual10 (session 9): 14 questions last session's 24 did not cover
    Question("Qwen3.5 on H100 TP8 with MTP: which flags, and what breaks with the radix cache?", "Turning on MTP",
             ("fa3 with page size 1", "flashinfer once `--speculative-eagle-topk` is above 1", "--mamba-track-interval",
              "Non-overlap (synchronous) spec v2", "extra_buffer_lazy with MTP starts")),
    Question("Decode got slower after upgrading 0.5.20 -> 0.5.23: which changes could cause it?",
             "Output or speed changed after upgrading",
             ("SGLANG_FLASHINFER_MNNVL_CUTEDSL_AR_FUSION", "--flashinfer-allreduce-fusion-backend cutedsl",
              "0.5.20 -> 0.5.23", "_init_target_verify_qkv_routing", "kernels/ops/attention/linear/", "#36410")),
    Question("How do I port Qwen3.5's fused split + conv1d decode to vLLM?", "Porting a GDN optimization",
             ("kernels/ops/attention/triton_gdn_fused_proj.py", "fused_qkvzba_causal_conv1d_update_contiguous",
              "supports_packed_verify", "SGLANG_GDN_DECODE_FUSION_VERIFY_REAL_TENSORS",
              "Falling back from fused GDN decode projection/Conv1D")),
    Question("What does --mamba-ssm-dtype change and which kernels respect it?", "Choosing --mamba-ssm-dtype",
             ("Which kernels honour `--mamba-ssm-dtype`", "compute in fp32", "_get_compiled_kernel",
              "SGLANG_MAMBA_CONV_DTYPE", "refuse to start without bfloat16")),
    Question("Memory per request for Qwen3-Next at TP4 with 8 draft tokens?", "max_running_requests is capped",
             ("150,994,944", "1,474,560", "3,538,944", "154,533,888", "about 249 MB per request", "12,288 bytes")),
    Question("Which optimizations in the manual are reverted, and which are off by default?",
             "Which GDN optimizations are on by default",
             ("--enable-linear-replayssm", "by-release.md#taken-out", "tc_piecewise", "extra_buffer_lazy",
              "packed_decode=True")),
    Question("Where is the GDN chunked prefill and the prefill conv1d in today's source?", "Where each GDN kernel lives",
             ("kernels/ops/attention/fla/chunk.py", "chunk_gated_delta_rule_fwd_kernel_h_blockdim64",
              "_causal_conv1d_fwd_kernel", "kernels/ops/mamba/causal_conv1d_triton.py", "FlashInferGDNKernel")),
    Question("Does --enable-two-batch-overlap help Qwen3-Next with DeepEP?", "Pipeline parallel, two-batch overlap",
             ("Breakable CUDA graph is incompatible with two-batch overlap", "init_new_tbo", "#16488", "#26848")),
    Question("Can I run Qwen3-Next or Qwen3.5 with --pp-size 2?", "Pipeline parallel, two-batch overlap",
             ("--pp-size", "Pipeline parallelism is incompatible with overlap schedule.", "SGLANG_ENABLE_PP_SPEC",
              "since 0.5.10", "every release from 0.5.2 to 0.5.23")),
    Question("Can I serve LoRA adapters on the GDN layers?", "Pipeline parallel, two-batch overlap",
             ("in_proj_qkvz", "since 0.5.11", "get_hidden_dim")),
    Question("Which SGLANG_* environment variables change the GDN path?", "Which GDN optimizations are on by default",
             ("SGLANG_DISABLE_FUSED_MAMBA_SLOT_OPS", "SGLANG_OPT_MAMBA_SKIP_DECODE_LOCK",
              "SGLANG_VALIDATE_MAMBA_REPLAY_STATE_INDICES", "SGLANG_GDN_QKVZ_BA_ALT_STREAM", "SGLANG_MAMBA_CONV_DTYPE")),
    Question("nsys shows these Triton kernels in a decode step: which SGLang function launches each?",
             "Where each GDN kernel lives",
             ("fused_recurrent_gated_delta_rule_packed_decode_kernel", "fused_qkvzba_split_reshape_cat_kernel",
              "_causal_conv1d_update_kernel", "layer_norm_gated_fwd_kernel", "track_mamba_states_all_layers",
              "fused_sigmoid_gating_delta_rule_update_kernel")),
    Question("Multi-turn chat misses the last reply: should I lower --mamba-track-interval, and what does it cost?",
             "Prefix cache hit rate",
             ("mamba_track_grid", "100 gives 1,600", "no_buffer keeps a finished request's state at its end",
              "--mamba-max-states-per-path", "_track_mamba_state_decode")),
    Question("Does this manual apply to Qwen3-Coder-Next?", "Model fails to load",
             ("Qwen3-Coder-Next is the Qwen3-Next architecture", "no code path of its own")),
    # manual11 (session 10): 14 questions of kinds the 38 above did not cover
    Question("TP8 decode got slower after upgrading 0.5.14 -> 0.5.20: which PR?", "Output or speed changed after upgrading",
             ("0.5.14 -> 0.5.20", "same code from 0.5.10 through 0.5.21", "#34376", "profile one decode step")),
    Question("Minimum SGLang release for Qwen3.5 with MTP and extra_buffer prefix caching?", "Minimum SGLang release",
             ("#18489", "#19415", "0.5.13 or later", "--mamba-scheduler-strategy")),
    Question("What does --enable-linear-replayssm-spec trade off, and when does it lose?", "ReplaySSM decode and MTP verify",
             ("150,994,944", "19.3 vs 13.8", "accept copy counted", "an explicit bfloat16 is kept", "#35544", "cutedsl")),
    Question("Are the fused GDN projection, prefix caching and FlashInfer GDN kernels in vLLM too?",
             "already in vLLM", ("34683", "align", "55715", "41966", "50172")),
    Question("Which card's reference kernel can I run on my A100, and how?", "Running one card's reference kernel",
             ("dossier regress 20627", "A100 (SM80)", "TRITON_INTERPRET=1", "sglang==0.5.23")),
    Question("What changed for Ascend NPUs, and what does 0.5.23 set there by itself?", "Ascend NPU: setup",
             ("`--page-size` to 128", "from 0.5.12", "#21698", "#26389", "#16164")),
    Question("Is --enable-mixed-chunk with extra_buffer safe on my 0.5.20?", "Minimum SGLang release",
             ("keeps its accuracy only in 0.5.23",)),
    Question("EP8 over DeepEP for Qwen3-Next FP8: what works and what turns off?", "Choosing TP (and EP)",
             ("--moe-a2a-backend deepep", "Cuda graph is disabled because deepep_mode", "#10622",
              "only switched on by itself with `--moe-a2a-backend none`")),
    Question("Why can a prefix hit on KV still recompute for a GDN model?", "Prefix cache hit rate",
             ("only where a Mamba state was saved",)),
    Question("I want to add my own GDN decode kernel backend: where does it plug in?", "Where each GDN kernel lives",
             ("LinearAttnKernelBase", "GDNKernelDispatcher.__init__", "add_linear_attn_kernel_backend_choices",
              "Unsupported GDN decode backend", "supports_track_state_snapshot")),
    Question("Does --cpu-offload-gb work with Qwen3.5, and since which release?", "Minimum SGLang release",
             ("--cpu-offload-gb", "from 0.5.21", "#40310", "functional_call got multiple values")),
    Question("I run 0.5.14: where are fused_recurrent.py and the CuTe DSL decode there?", "Where each GDN kernel lives",
             ("srt/layers/attention/fla/", "jit_kernel/cutedsl_gdn.py", "0.5.16 moved them")),
    Question("NVFP4 Qwen3.5-397B-A17B on B200: which flags, and what is special about loading it?",
             "Loading FP8/NVFP4 weights",
             ("modelopt_fp4", "SGLANG_DISABLE_SILU_FP4_QUANT_FUSION", "trtllm_mha", "accept length above 3.3", "#17627")),
    Question("Which SGLang tests guard MTP accuracy for Qwen3-Next and Qwen3.5?", "GSM8K dropped after enabling MTP",
             ("test_qwen3_next_models_mtp.py", "nvidia/Qwen3.5-397B-A17B-NVFP4", "above 3.3")),
    # manual12: error messages users quote from their logs, a complete launch, GB10
    Question("ValueError: Speculative decoding for Qwen3_5MoeForConditionalGeneration is not compatible with radix "
             "cache when using --mamba-scheduler-strategy no_buffer: what now?", "An error message quoted",
             ("is not compatible with radix cache when using", "0.5.13.post1", "--disable-radix-cache",
              "--mamba-radix-cache-strategy", "--disable-overlap-schedule")),
    Question("AssertionError: Page size must be 1 for MambaRadixCache v1, got 128 on an NPU", "An error message quoted",
             ("Page size must be 1 for MambaRadixCache v1", "no_buffer only supports page_size=1.", "Ascend",
              "extra_buffer")),
    Question("Mamba Radix tree sanity check failed: Incorrect LRU list, then the scheduler dies", "An error message quoted",
             ("Incorrect LRU list", "#30468", "#40313", "0.5.16", "--disable-radix-cache")),
    Question("AssertionError: no_buffer do not support overlap schedule", "An error message quoted",
             ("no_buffer do not support overlap schedule", "--disable-overlap-schedule", "extra_buffer")),
    Question("Launch flags for Qwen3-Next-80B-A3B-FP8 on 4x H100 with MTP and prefix caching", "Turning on MTP",
             ("Qwen/Qwen3-Next-80B-A3B-Instruct-FP8 --tp-size 4 --speculative-algorithm NEXTN", "fa3",
              "extra_buffer with overlap scheduling", "249 MB", "block-FP8")),
    Question("Which GDN kernels run on a DGX Spark (GB10, sm_121)?", "GDN kernels on an A100",
             ("GB10", "12.1", "major only")),
    # manual13 (session 11): launch lines as published, startup memory errors, TTFT, measuring hits, runtime/ output
    Question("Qwen's model-card line (--speculative-algo NEXTN ... --context-length 262144): does it still work on 0.5.23?",
             "Turning on MTP", ("`--speculative-algo NEXTN", "unambiguous prefix of `--speculative-algorithm`",
                                "48 running requests")),
    Question("1M-token context with YaRN on 0.5.23: is SGLANG_ALLOW_OVERWRITE_LONGER_CONTEXT_LEN still needed, and the KV?",
             "Choosing TP", ("SGLANG_ALLOW_OVERWRITE_LONGER_CONTEXT_LEN=1", "derives 262,144 tokens", "get_context_length",
                             "about 12.4 GB of KV per GPU")),
    Question("TTFT for 32K-token prompts is high on Qwen3-Next, H200 TP4: which knobs, in which order?", "Slow first token",
             ("--random-output-len 1 --max-concurrency 1", "Defaulting SM90 GDN prefill backend to FlashInfer.",
              "1 to 32768", "--chunked-prefill-size", "#cached-token", "PD disaggregation")),
    Question("Long prompts on B200: how do I get the FlashInfer GDN prefill?", "Slow first token",
             ("--chunked-prefill-size 8192 --mamba-ssm-dtype bfloat16", "CUDA 13", "chunk 16384",
              "--linear-attn-prefill-backend flashinfer")),
    Question("Which --chunked-prefill-size does 0.5.23 pick on an A100 40GB, an H200, a B200?", "Slow first token",
             ("4096 below 60 GB", "8192 below 160 GB", "16384 above", "`-1` (no chunking)")),
    Question("Does the breakable prefill CUDA graph make a 32K-token prompt faster?", "Slow first token",
             ("eager_on_graph", "not the GDN kernel time of a long prompt", "--cuda-graph-backend-prefill breakable")),
    Question("RuntimeError: Not enough GPU memory for hybrid (mamba/linear-attention) state cache, MTP on 2x H100",
             "An error message quoted", ("Not enough GPU memory for hybrid", "both from 0.5.13",
                                         "--speculative-num-draft-tokens", "--enable-linear-replayssm-spec",
                                         "--mamba-ssm-dtype bfloat16")),
    Question("ValueError: Loaded weights leave no GPU memory for the KV cache under --mem-fraction-static=0.8",
             "An error message quoted", ("Loaded weights leave no GPU memory", "from 0.5.14",
                                         "draft weights are now counted", "--mem-fraction-static")),
    Question("AssertionError: Lazy extra buffer requires overlap schedule", "An error message quoted",
             ("Lazy extra buffer requires overlap schedule", "extra_buffer_lazy needs overlap scheduling")),
    Question("'Falling back from fused GDN decode projection/Conv1D: ...' in the Qwen3.5 log: a problem?",
             "An error message quoted", ("Falling back from fused GDN decode projection/Conv1D", "is not an error")),
    Question("AssertionError: GDN fused real-tensor parity failed at layer_id=3", "An error message quoted",
             ("GDN fused real-tensor parity failed", "SGLANG_GDN_DECODE_FUSION_VERIFY_REAL_TENSORS=1",
              "SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV=0")),
    Question("MTP accept length collapses and output loops, but only under heavy load with the radix cache on",
             "GSM8K dropped after enabling MTP", ("issue 36537", "extra_buffer_lazy", "'mamba usage'",
                                                  "not confirmed by a PR")),
    Question("How do I measure the prefix cache hit rate of my server?", "Prefix cache hit rate",
             ("#cached-token", "--enable-cache-report", "usage.prompt_tokens_details.cached_tokens",
              "sglang:cache_hit_rate")),
    Question("Launch flags for Qwen3.5-397B W4A8 on Ascend NPUs with MTP", "Ascend NPU: setup",
             ("--quantization modelslim", "--speculative-draft-model-quantization unquant", "--attn-dp-size 8",
              "predates 0.5.20")),
    Question("MI300X, Qwen3-Next with MTP: is verify greedy, and what does ROCm turn on?", "Turning on MTP",
             ("ROCm, from 0.5.21", "--speculative-use-rejection-sampling")),
    Question("Porting Qwen3-Next's MTP to vLLM: does the draft layer keep a GDN state to roll back?",
             "Porting a GDN optimization", ("`full_attention_interval = 1`", "carries no GDN state",
                                            "models/qwen3_5_mtp.py")),
    Question("python -m runtime.scheduling --quick prints 'FAIL: 2 of 26' and 2 + 1 fixes: is my SGLang broken?",
             "this repository's state-caching model", ("may sum above N", "not a fault of your install", "exits 0",
                                                       "26 with --quick")),
    Question("runtime.scheduling shows hit_rate 0.514 for extra_buffer: is that what my server will get?",
             "this repository's state-caching model", ("not a server's rate", "model chunk 4, track interval 16")),
    Question("Run only the MTP verify rows of runtime.gdn.bench and keep the rows as JSON", "A number from this repository",
             ("--verify-only", "--json FILE", "needs a CUDA device")),
    Question("dossier regress 20627 on a laptop without a GPU said ok: did it measure anything?",
             "Running one card's reference kernel", ("a correctness check, no timing",)),
    Question("Qwen3-Next-80B BF16 on one H200 (141 GB): can it run at TP1?", "Choosing TP", ("about 160 GB",)),
    Question("Is the older advice 'MambaRadixCacheV1 is the default and turns overlap off' still true in 0.5.23?",
             "after upgrading", ("auto` resolves to extra_buffer with overlap scheduling", "unified radix tree")),
    # manual14 (session 12): startup refusals and bare assertions, TP/DP shapes, ITL, upgrades, porting, the CLI and runtime/
    Question("Bare AssertionError at `assert view.mamba_track_interval % view.page_size == 0` (--page-size 64 --mamba-track-interval 100)",
             "An error message quoted", ("mamba_track_interval % page_size == 0", "validate_mamba_extra_buffer",
                                         "`--page-size 64 --mamba-track-interval 100` fails")),
    Question("B200: '--linear-attn-prefill-backend flashinfer on SM100+ requires CUDA 13+, got CUDA 12.9'",
             "An error message quoted", ("requires CUDA 13+", "a CUDA 13 build")),
    Question("'--enable-linear-replayssm requires --mamba-radix-cache-strategy no_buffer (the default)' on a default launch",
             "An error message quoted", ("--enable-linear-replayssm requires --mamba-radix-cache-strategy no_buffer",
                                         "`--mamba-radix-cache-strategy no_buffer --disable-overlap-schedule`")),
    Question("'--enable-linear-replayssm-spec requires a linear draft chain' with --speculative-eagle-topk 4",
             "An error message quoted", ("requires a linear draft chain", "tree drafts or the ring, not both")),
    Question("Log: 'FlashInfer GDN mutable buffer ... falling back to Triton for this call': is FlashInfer decode running?",
             "An error message quoted", ("falling back to Triton for this call", "32-byte-aligned", "printed once",
                                         "_mutable_inputs_are_aligned")),
    Question("H100, --linear-attn-decode-backend flashinfer: 'FlashInfer GDN kernels are not available. Requires SM90+'",
             "An error message quoted", ("FlashInfer GDN kernels are not available", "failed to import",
                                         "FlashInfer GDN kernels not available:", "flashinfer_python 0.7.2")),
    Question("Can I run Qwen3-Next-80B on six GPUs (--tp-size 6) or at TP3?", "Choosing TP",
             ("1, 2, 4, 8 or 16", "`--tp-size 3` or `6` passes the argument checks", "8192 is not divisible by 3")),
    Question("Qwen3-Next TP2 on 2x H200: decode ITL jumps once concurrency passes about 256", "Decode throughput is low",
             ("256 below TP4 and 512 from TP4", "runs eagerly", "arg_groups/memory_hook.py", "--cuda-graph-max-bs-decode")),
    Question("--tp-size 8 --attn-dp-size 8 with NEXTN: throughput is tiny; how many requests run per DP group?",
             "Running with DP attention", ("runs 6 requests per group", "--max-running-requests 384",
                                           "resolve_max_num_reqs")),
    Question("Upgrading a 0.5.21 launch script (MTP + DP attention) to 0.5.23: which flags stopped parsing?",
             "stops at startup: flags", ("--speculative-skip-dp-mlp-sync", "--cuda-graph-tc-compiler", "no longer parses after 0.5.22",
                                 "no longer parses after 0.5.21")),
    Question("The cookbook sets SGLANG_ENABLE_SPEC_V2=1 for Qwen3-Next MTP: still needed on 0.5.23?", "Turning on MTP",
             ("SGLANG_ENABLE_SPEC_V2=1", "removed in 0.5.14", "#27964", "not read at all from 0.5.21")),
    Question("Is 'Qwen3-Next cannot use --page-size > 1 with the radix cache' still true in 0.5.23?",
             "extra_buffer and no_buffer", ("`--page-size` > 1 is wanted", "divisible by `--page-size`")),
    Question("Default H200 MTP launch on 0.5.23 picks FlashInfer GDN prefill: which kernel verifies?", "Turning on MTP",
             ("verify stays on Triton even then", "an unset verify backend follows decode", "resolve_linear_attn_backends")),
    Question("Port --enable-linear-replayssm-spec (the MTP verify ring) to vLLM: what moves besides the kernel?",
             "Porting a GDN optimization", ("commit_gdn_replayssm_spec", "accepted count", "per-draft SSM scratch",
                                            "49887")),
    Question("Can vLLM call SGLang's packed GDN decode kernel on its own state pool: which layout does it need?",
             "Porting a GDN optimization", ("[slots, HV, V, K] with K contiguous",)),
    Question("Compare the radix strategies on a multi-turn workload with runtime.scheduling", "this repository's state-caching model",
             ("--workload multi-turn|random|mixed-repro", "--strategies")),
    Question("Which of the manual's optimizations did my patched SGLang fork lose?", "Is a change the manual cites still in",
             ("dossier drift --sglang-src <checkout>", "a change the fork lost")),
    Question("Which of these changes does my SGLang 0.5.17 lack, as a list?", "Is a change the manual cites still in",
             ("dossier for-version <version>",)),
    Question("After upgrading to 0.5.23: No module named sglang.kernels.ops.attention.fla.fused_sigmoid_gating_recurrent",
             "Where each GDN kernel lives", ("0.5.23 moved fused_gdn_gating, fused_sigmoid_gating_recurrent, the four "
                                             "ReplaySSM kernel modules", "on to `kernels/ops/attention/linear/`")),
    Question("Qwen3.5 decode got slower after I set SGLANG_MAMBA_CONV_DTYPE=float32 for accuracy", "Decode throughput is low",
             ("`SGLANG_MAMBA_CONV_DTYPE=float32` with a bf16 model", "Falling back from fused GDN decode projection/Conv1D")),
    Question("B200: 'AssertionError: Only {...} backends are supported on Blackwell GPUs for hybrid GDN models. Got prefill=fa3'",
             "An error message quoted", ("supported on Blackwell GPUs for hybrid GDN models",
                                         "triton, trtllm_mha, fa4 or flashinfer", "`--attention-backend fa3` stops on a B200")),
    Question("Should I switch H200 decode to --linear-attn-decode-backend flashinfer for throughput?", "Decode throughput is low",
             ("gathers the batch's states", "SM100 indexes the pool in place")),
    Question("I ported the GDN decode to vLLM: how do I check it on a CPU against this repository's plain reference?",
             "A number from this repository", ("runtime.gdn.naive.recurrent_gdn", "layout='kv'", "verify_gdn")),
    Question("Decode ITL spikes whenever long prompts arrive (Qwen3-Next, H200, no MTP)", "Decode throughput is low",
             ("--prefill-decode-interval", "mix_with_running", "get_next_batch_to_run")),
    Question("Qwen3-Next decode is slow at batch 1 on H100 with MTP: what bounds it, and what changed lately?",
             "Decode throughput is low", ("At small batch the weights dominate", "below about 12 requests",
                                          "4-wide value tiles up to 64 requests from 0.5.22", "slower at small batch")),
]


def _rows(skill: str) -> list[str]:
    lines = skill.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| Symptom |"))
    return [line for line in lines[start + 2:] if line.startswith("|")] if start else []


def _section(page: str, anchor: str) -> str:
    """From the anchor to the next anchored section of the same page."""
    marker = f'<a id="{anchor}"></a>'
    assert marker in page, anchor
    rest = page.split(marker, 1)[1]
    return re.split(r'\n<a id="', rest, maxsplit=1)[0]


#: an index row of references/errors.md: the message's words (a code span) -> the section that explains it
_INDEX_ROW = re.compile(r"^\| (`+) ?(.+?) ?\1 \| \[[^\]]*\]\(#([\w-]+)\) \|$", re.M)


def index_target(index: str, ask: str) -> str:
    """The section an index (message words -> anchor) sends a quoted message to: every row whose words the
    question quotes must lead to one section, as a reader scanning the index for their message would go."""
    hits = {anchor for _, words, anchor in _INDEX_ROW.findall(index) if words.replace("\\|", "|") in ask}
    assert len(hits) == 1, f"{ask!r}: the index sends it to {sorted(hits) or 'no section'}"
    return hits.pop()


def answer(q: Question) -> tuple[str, str]:
    """(SKILL.md, the one section its row links) for a question; a row linking an index (errors.md#by-message)
    goes on to the one section the index names for the quoted message, and the index counts as read."""
    skill = (SKILL / "SKILL.md").read_text()
    rows = [r for r in _rows(skill) if q.row in r.split("|")[1]]
    assert len(rows) == 1, f"{q.ask!r}: {len(rows)} symptom rows match {q.row!r}"
    targets = re.findall(r"\]\((references/[\w.-]+\.md)#([\w-]+)\)", rows[0].rsplit(" | ", 1)[1])  # the Read cell
    assert targets, rows[0]
    # a cell linking several sections (the flags index, split by name) is read where the asked-about name is
    sections = [(t, _section((SKILL / t[0]).read_text(), t[1])) for t in targets]
    target, section = max(sections, key=lambda ts: sum(m in ts[1] for m in q.must))
    page = (SKILL / target[0]).read_text()
    if target[1] == "by-message":
        return skill + section, _section(page, index_target(section, q.ask))
    return skill, section


def test_there_are_at_least_ten_questions():
    assert len(QUESTIONS) >= 10


def assert_answered(q: Question) -> None:
    """SKILL.md plus the one section its row links holds every fact ``q`` needs, in a section of bounded length."""
    skill, section = answer(q)
    missing = [m for m in q.must if m not in skill + section]
    assert not missing, f"{q.ask!r}: the answer lacks {missing}"
    assert len(section.split()) <= SECTION_WORD_LIMIT, f"{q.ask!r}: section is {len(section.split())} words"


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)


def test_which_card_covers_a_file_and_which_release_has_a_pr_are_answered_from_skill_md():
    """A file of SGLang 0.5.23 -> its cards, and PR -> release, including cards by-release leaves out (manual12)."""
    skill = (SKILL / "SKILL.md").read_text()
    history = (SKILL / "references" / "pr-history.md").read_text()
    assert "grep -n -F \"$FILE\" references/by-file.md" in skill
    assert "**Releases**" in skill and "references/by-release.md" in skill
    rows = [line for line in (SKILL / "references" / "by-file.md").read_text().splitlines()
            if "mem_cache/registry.py" in line]  # the grep SKILL.md gives: one row, the file's cards
    assert len(rows) == 1 and "[#30468](pr-history.md#pr-30468)" in rows[0], rows
    card = history.split("### #29368 ", 1)[1].split("\n### #", 1)[0]
    assert "Removed in 0.5.15" in card and "#29368" not in (SKILL / "references" / "by-release.md").read_text()


def test_maintainer_workflow_is_in_skill_md():
    """Adding a card for a new PR, proving it, regenerating, and re-checking a new SGLang release (manual13)."""
    skill = (SKILL / "SKILL.md").read_text()
    for step in ("dossier fetch $PR && dossier new $PR", "dossier lint --record cards/$PR.yaml",
                 "dossier render && dossier render --check && dossier drift", "dossier releases sync",
                 "dossier releases verify --record", "dossier releases surface --record"):
        assert step in skill, step


def _dossier_commands(text: str) -> list[list[str]]:
    """Every `dossier ...` command written in a code span or block, as its words up to a shell separator."""
    code = re.findall(r"```[a-z]*\n(.*?)```", text, flags=re.S) + re.findall(r"`([^`\n]+)`", text)
    found = []
    for chunk in code:
        for m in re.finditer(r"\bdossier ([^&|;#`\n)]*)", chunk):
            words = m.group(1).split()
            if words:
                found.append(words)
    return found


def test_every_dossier_command_the_skill_gives_parses():
    """An agent runs the manual's `dossier` commands as written: each names a real (sub)command and real options."""
    from typer.testing import CliRunner

    from dossier.cli import app

    runner = CliRunner()
    text = "\n".join(p.read_text() for p in [SKILL / "SKILL.md", *sorted((SKILL / "references").glob("*.md"))])
    commands = _dossier_commands(text)
    assert len(commands) >= 10, commands
    checked = set()
    for words in commands:
        path = words[:2] if words[0] == "releases" else words[:1]
        options = tuple(w.split("=")[0] for w in words if w.startswith("--"))
        if (tuple(path), options) in checked:
            continue
        checked.add((tuple(path), options))
        result = runner.invoke(app, [*path, "--help"], terminal_width=200)
        assert result.exit_code == 0, (words, result.output)
        for option in options:
            assert option in result.output, (words, option)


def test_command_extraction_sees_blocks_spans_and_separators():
    text = "Run `dossier lint --record cards/1.yaml && dossier render`.\n```bash\ndossier drift   # note\n```\n"
    assert sorted(_dossier_commands(text)) == [["drift"], ["lint", "--record", "cards/1.yaml"], ["render"]]


def sglang_file(relative: str) -> str:
    """One file of the installed sglang package, read as text (not imported); the test skips without sglang."""
    import importlib.util

    spec = importlib.util.find_spec("sglang")
    if spec is None:
        pytest.skip("sglang is not installed")
    return (Path(next(iter(spec.submodule_search_locations))) / relative).read_text()
