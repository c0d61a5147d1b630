"""Twenty-five more questions an inference engineer or a coding agent asks about the Qwen3-Next family in SGLang
(manual18, session 15), each answered from SKILL.md plus the one section its symptom table links (for an error
message: the errors page's index, then the one section it names). They cover what earlier rounds did not: errors
from PD disaggregation, tree drafts, FP8/CPU-offload/HiCache launches, the ReplaySSM and state-cache switches and
a guard 0.5.10 alone had; the decode server's prefix cache; dense Qwen3.5 at TP > 1; FP8 module exclusions; and
flags for a given release and GPU, regressions after an upgrade, PD with DP attention, tree drafts and quantized
checkpoints. Each was checked against SGLang's release trees (0.5.2 to 0.5.23) and the cards. The first
seventeen were not answered on the routed path of main's manual before this session; the other eight guard
answers already there.
"""

from __future__ import annotations

import pytest

from tests.dossier.test_manual_questions import Question, assert_answered

ERROR = "An error message quoted"
MIN = "Minimum SGLang release"
UPGRADE = "Output or speed changed after upgrading"

QUESTIONS = [
    # error messages the errors page did not index (gaps this session closed)
    Question("PD decode server with --disaggregation-decode-enable-radix-cache: 'AssertionError: extra_buffer_lazy "
             "unsupported under PD disaggregation; use --mamba-radix-cache-strategy extra_buffer.'", ERROR,
             ("extra_buffer_lazy unsupported under PD disaggregation", "--disaggregation-decode-enable-radix-cache",
              "from 0.5.17", "#27118")),
    Question("Decode server of a PD pair: 'ValueError: --enable-linear-replayssm is not supported under PD "
             "disaggregation yet (follow-up)'", ERROR,
             ("--enable-linear-replayssm is not supported under PD disaggregation", "from 0.5.15",
              "`--enable-linear-replayssm-spec` is allowed on the decode server")),
    Question("Prefill server of a PD pair with MTP: '--enable-linear-replayssm-spec is not supported on a PD prefill "
             "server'", ERROR,
             ("is not supported on a PD prefill server", "never runs spec verify", "decode server")),
    Question("H200 on 0.5.14, --linear-attn-decode-backend flashinfer with --speculative-eagle-topk 4: 'FlashInfer GDN "
             "verify kernel only supports topk=1'", ERROR,
             ("FlashInfer GDN verify kernel only supports topk=1", "0.5.16", "--linear-attn-decode-backend triton",
              "#27463")),
    Question("Qwen3-Next-80B-FP8 on 4x B200 from a late-April main build: 'Weight output_partition_size = 8 is not "
             "divisible by weight quantization block_n = 128'", ERROR,
             ("is not divisible by weight quantization block_n", "in_proj_ba", "#23973", "#23467",
              "no published release")),
    Question("Qwen3.5-35B-A3B per-tensor FP8 on 0.5.10: 'RuntimeError: split_with_sizes expects split_sizes to sum "
             "exactly to 1, but got 3'", ERROR,
             ("split_with_sizes expects split_sizes to sum exactly to 1", "from 0.5.11", "#23062")),
    Question("Qwen3.5 with --cpu-offload-gb 32 on 0.5.18: 'functional_call got multiple values for keys ... which are "
             "tied'", ERROR, ("functional_call got multiple values", "from 0.5.21", "#40310", "A_log")),
    Question("--enable-hierarchical-cache with Qwen3-Next on 0.5.9: 'HiRadixCache only supports MHA and MLA yet'",
             ERROR, ("HiRadixCache only supports MHA and MLA yet", "0.5.10", "#19663", "#27759")),
    Question("B200, --mamba-ssm-dtype bfloat16 --enable-linear-replayssm: '--enable-linear-replayssm requires Triton, "
             "or Helion for KDA, as the linear-attn decode backend; got --linear-attn-decode-backend='flashinfer''",
             ERROR, ("requires Triton, or Helion for KDA", "--linear-attn-decode-backend triton",
                     "requires the Triton linear-attn decode backend")),
    Question("Qwen3-Next with --enable-mamba-cache-stochastic-rounding: 'Stochastic rounding for the Mamba SSM cache "
             "requires --mamba-ssm-dtype float16, got None'", ERROR,
             ("Stochastic rounding for the Mamba SSM cache requires", "no GDN kernel", "--mamba-ssm-dtype float16")),
    Question("'ValueError: --enable-int8-mamba-checkpoint is not supported together with --enable-hierarchical-cache'",
             ERROR, ("--enable-int8-mamba-checkpoint is not supported together with", "--enable-lmcache",
                     "--radix-cache-backend", "from 0.5.14")),
    Question("'--enable-linear-replayssm-spec and --enable-linear-replayssm are mutually exclusive' with MTP on H200",
             ERROR, ("are mutually exclusive", "share the ring storage", "with MTP keep `--enable-linear-replayssm-spec`")),
    Question("B200 on 0.5.10: 'FlashInfer GDN decode (--linear-attn-decode-backend flashinfer) is not compatible with "
             "--mamba-scheduler-strategy no_buffer': is that still true today?", ERROR,
             ("is not compatible with' no_buffer", "0.5.10 and 0.5.10.post1", "#21861",
              "no longer")),
    # routed answers the manual lacked
    Question("PD pair: the decode server's log always shows #cached-token 0, so is prefix caching broken?",
             "Prefix cache hit rate", ("Radix cache is disabled for decode server",
                                       "--disaggregation-decode-enable-radix-cache", "the prefill server's")),
    Question("Qwen3.5-27B (dense) at TP2 on 0.5.9 gives wrong answers from the first token; TP1 is fine",
             "Wrong outputs from the first token", ("Qwen3.5 dense", "TP above 1", "0.5.10", "#19070")),
    Question("Qwen3.6-FP8 lists mlp.gate in modules_to_not_convert: on 0.5.10 are the dense gate_up_proj layers "
             "left unquantized?", "Loading FP8/NVFP4 weights",
             ("modules_to_not_convert", "mlp.gate_up_proj", "from 0.5.11", "#23467")),
    Question("Is 'FlashInfer GDN decode cannot be used with no_buffer' still true on 0.5.23 (B200, bf16 state)?", MIN,
             ("with no_buffer from 0.5.11", "#21861")),
    # guards: answers already on the routed path
    Question("B200 on 0.5.16 with prefix caching (extra_buffer), --chunked-prefill-size 8192 --mamba-ssm-dtype "
             "bfloat16: is FlashInfer GDN prefill picked?", MIN,
             ("prefill picked by itself from 0.5.16", "with extra_buffer from 0.5.17", "#29735")),
    Question("H200 32K-token prompts: TTFT changed after upgrading 0.5.18 -> 0.5.19, same flags", UPGRADE,
             ("Defaulting SM90 GDN prefill backend to FlashInfer.", "--linear-attn-prefill-backend triton",
              "chunked prefill <= 32768")),
    Question("What changed for the Mamba state and the GDN kernels between 0.5.15 and 0.5.16?", UPGRADE,
             ("0.5.16 also moved hybrid models to the unified radix tree", "at 0.5.16 every GDN kernel file moved",
              "SM100 prefill picks FlashInfer by itself")),
    Question("Qwen3.5 PD on 0.5.15: prefill TP4, decode --tp-size 4 --attn-dp-size 4 (DEP4). Safe?", "PD disaggregation",
             ("before 0.5.16", "0.44", "keep both sides at one attention TP", "#30997")),
    Question("Qwen3-Next GPTQ/AWQ (weight_packed, qweight) checkpoint fails while building the fused projections",
             "Loading FP8/NVFP4 weights", ("weight_packed", "module.weight.weight_loader", "#29318")),
    Question("MI355X, 0.5.23, Qwen3.5 MXFP4 with MTP: which GDN kernels run, and is verify greedy?", "AMD GPUs",
             ("every GDN phase (prefill, decode, MTP verify) on the Triton kernels",
              "--speculative-use-rejection-sampling", "gfx950")),
    Question("EAGLE tree drafts (--speculative-eagle-topk 4) on Qwen3.5: how is the GDN state of rejected branches "
             "kept out of the slot?", "Where MTP / NEXTN target verify runs",
             ("retrieve_parent_token", "the rejected branches are never written to the slot", "#27463")),
    Question("Qwen3-Next on 8x H200 with --tp-size 8 --attn-dp-size 2 and NEXTN: how many requests per group by "
             "default?", "Running with DP attention",
             ("resolve_max_num_reqs", "divided by N", "--max-running-requests")),
]


def test_there_are_twenty_five_questions():
    assert len(QUESTIONS) == 25 and len({q.ask for q in QUESTIONS}) == 25


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)
