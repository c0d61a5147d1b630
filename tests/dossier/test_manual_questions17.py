"""Twenty more questions an inference engineer's coding agent asks about the Qwen3-Next family in SGLang
(cards17, session 14), each answered from SKILL.md plus the one section its symptom table links: flags and
environment variables by release, minimum releases (tree drafts, NIXL PD, DFLASH, extra_buffer_lazy with MTP,
HiCache on the unified tree, FP8 and W8A8 loading), kernel choices (SM100 decode, Ascend attention prep),
breakable prefill graphs, TP layouts on GPUs and Xeon CPUs, deterministic all-reduce, and error messages from
adaptive drafts and decode context parallelism. Each was checked against SGLang 0.5.23's source, the release
trees and the cards' PR threads. Seven (the first six and the --enable-breakable-cuda-graph row) were not
answered on the routed path before; the other thirteen guard answers already there.
"""

from __future__ import annotations

import pytest

from tests.dossier.test_manual_questions import Question, assert_answered

MIN = "Minimum SGLang release"
ERROR = "An error message quoted"
FLAGS = "Which SGLang release first (or last) accepts a flag"
ENV = "reads an SGLANG_* environment variable"

QUESTIONS = [
    # gaps this session closed (the manual had no answer on the routed path)
    Question("A Qwen3.6 checkpoint sets output_gate_type: sigmoid in its config; on 0.5.12 its answers are wrong", MIN,
             ("`output_gate_type`", "honoured from 0.5.13", "#25401", "default swish")),
    Question("Qwen3_5MoeForCausalLM with DCP 2 on 0.5.18: 'MambaComponent requires page_size=1 when mamba_extra_buffer "
             "is disabled, got 2'", ERROR,
             ("MambaComponent requires page_size=1 when mamba_extra_buffer is disabled", "times the DCP degree",
              "Qwen3_5MoeForCausalLM", "until 0.5.19", "#35297")),
    Question("--speculative-adaptive with Qwen3.5 MTP on 0.5.12: AttributeError: 'RadixLinearAttention' object has no "
             "attribute 'is_cross_attention'", ERROR,
             ("'RadixLinearAttention' object has no attribute 'is_cross_attention'", "Both fixed in 0.5.13", "#23331",
              "drop `--speculative-adaptive`")),
    Question("Qwen3-Next-80B on a dual-socket Xeon server: can I use --tp-size 6 there?", "Choosing TP",
             ("Xeon CPUs (`--device cpu`) are the exception", "adjust_config_with_unaligned_cpu_tp", "#12525",
              "TP3 or TP6")),
    Question("Qwen3.5 with --enable-breakable-cuda-graph on 0.5.12: GSM8K collapses, no error", "wrong output with prefill CUDA",
             ("eager_on_graph", "from 0.5.13", "#25110", "--enable-breakable-cuda-graph")),
    Question("HiCache with Qwen3.5 on 0.5.12: can the unified tree back the Mamba states up to host memory?", MIN,
             ("SGLANG_ENABLE_UNIFIED_RADIX_TREE=1", "#23316", "by default from 0.5.13", "#27759")),
    # flags and environment variables by release
    Question("Does 0.5.20 still take --mamba-scheduler-strategy, and since when is --mamba-radix-cache-strategy there?",
             FLAGS, ("| `--mamba-scheduler-strategy` | 0.5.7 | 0.5.19: gone from the next |",
                     "| `--mamba-radix-cache-strategy` | 0.5.14 |")),
    Question("Is --enable-breakable-cuda-graph accepted by 0.5.10?", FLAGS,
             ("| `--enable-breakable-cuda-graph` | 0.5.11 |",)),
    Question("Does SGLANG_ENABLE_UNIFIED_RADIX_TREE=1 still change anything on 0.5.23?", ENV,
             ("| `SGLANG_ENABLE_UNIFIED_RADIX_TREE` | 0.5.11 | 0.5.20: not read from the next (0.5.21 to 0.5.22 only warn that it is set) |",)),
    # minimum releases
    Question("From which release can Qwen3-Next run EAGLE tree drafts (--speculative-eagle-topk 2)?", MIN,
             ("tree drafts (`--speculative-eagle-topk` above 1) on the Spec V1 worker with overlap scheduling off from "
              "0.5.4.post3", "on the overlap (Spec V2) worker from 0.5.13", "#27463")),
    Question("PD over NIXL, Qwen3.5 prefill TP8 into decode TP4: which SGLang at least?", MIN,
             ("NIXL from 0.5.11", "#22240", "only from 0.5.16", "#30997")),
    Question("DFLASH drafts for a text-only Qwen3.5 checkpoint (Qwen3_5MoeForCausalLM): which release?", MIN,
             ("DFLASH on a text-only Qwen3.5 checkpoint from 0.5.18", "#34771")),
    Question("Can I use extra_buffer_lazy together with MTP on 0.5.16?", MIN,
             ("extra_buffer_lazy from 0.5.13", "with speculative decoding from 0.5.17", "#30437")),
    Question("Qwen3-Coder-Next-FP8 with the fused GDN projections: oldest release that loads it?", MIN,
             ("FP8 Qwen3-Next with the fused projections from 0.5.10", "#21662")),
    # kernel choices by hardware
    Question("GB200, Qwen3.5-397B NVFP4: the log says decode=triton though I left the decode backend unset", "Which GDN kernel runs",
             ("FlashInfer when `--mamba-ssm-dtype bfloat16` and no decode backend is set; otherwise Triton",
              "Follows decode: FlashInfer with a bf16 state")),
    Question("Ascend: does Qwen3-Next's gated attention run split, q/k norm and rope as one kernel, in which phases?",
             "Ascend NPU: setup", ("split, q/k norms and rope as one sgl_kernel_npu call", "from 0.5.13",
                                   "decode and verify", "#23925")),
    Question("W8A8 Qwen3-Next on Ascend gives wrong answers on 0.5.10 but loaded fine on 0.5.9", "Ascend NPU: setup",
             ("weight_scale and weight_offset in the wrong layout", "until 0.5.11", "#21698")),
    # TP layouts, all-reduce, DP attention
    Question("Qwen3-Next TP4 on H100: how do I turn off the all-reduce fusion SGLang turns on by itself, to compare?",
             "cross-device reduce kernels",
             ("--enforce-disable-flashinfer-allreduce-fusion", "auto-enable line", "#22664")),
    Question("Under --enable-deterministic-inference at TP4, does the FlashInfer all-reduce fusion stay on?",
             "Deterministic inference", ("FlashInfer and AITER all-reduce fusion are off", "fixed channel count", "#24629")),
    Question("Qwen3-Next MTP with DP attention (TP4, DP2) does not launch on 0.5.2", "Running with DP attention",
             ("MTP together with DP attention could not launch", "#10392")),
]


def test_there_are_twenty_questions():
    assert len(QUESTIONS) == 20 and len({q.ask for q in QUESTIONS}) == 20


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)
