"""Forty-seven more tasks an inference engineer or a coding agent brings to the manual (manual20, session 17), each
answered by following links from SKILL.md only: a symptom row and the one section it links (for a quoted message,
the errors page's index, then the one section it names), or a release link and that release's section. They were
checked against SGLang 0.5.23's source, the release trees (0.5.1 to 0.5.23), the cards and results/bench/*.json.

They cover deployment (DP attention with MTP, state bytes with a bf16 pool, chunked prefill under extra_buffer, PD
strategies, block-FP8 at TP8), messages quoted from a log that the errors index did not send anywhere (trtllm_mha
tree drafts, tree drafts with pages, CuTe DSL/FlashInfer off CUDA, Helion, NVFP4 scales) and lines of a normal start
quoted as if they were errors (the capped and reset running-request lines, the PD decode cache, the FlashInfer prefill
default, the breakable graph turned off, requantization), what the 0.5.21-0.5.23 release sections left out when no
card covers a change, what this repository's kernels measured (the latest committed H200 run, ours and SGLang's kept
apart), and questions whose right answer is that nothing here measured or covers it. Thirty-two of the first
forty-seven failed on main's manual at the start of the session that wrote them (judged with the row an agent would
pick then); the rest guard answers already on the routed path. The forty-eighth (session 27) asks about the state copy
after an MTP verify, a lanes note added with its measurement.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.dossier.test_manual_questions import ROOT, SKILL, Question, answer, assert_answered
from tests.dossier.test_manual_questions19 import release_section

ERROR = "An error message quoted"
REPLAY = "ReplaySSM decode and MTP verify"
OURS_GDN = "A number from this repository's reference kernels"
OURS_PROJ = "Our fused GDN projection kernels"
RUN = "Running one card's reference kernel"
POOL = "max_running_requests is capped"
HIT = "Prefix cache hit rate"
SLOW = "Decode throughput is low"

QUESTIONS = [
    # deployment
    Question("--tp-size 8 --attn-dp-size 2 with NEXTN on Qwen3-Next: requests per DP group by default, GDN widths?",
             "Running with DP attention", ("attention-TP group (`--tp-size` / N", "resolve_max_num_reqs",
                                           "give the total")),
    Question("Qwen3-Next TP4, --mamba-ssm-dtype bfloat16, default extra_buffer: state bytes per running request?", POOL,
             ("9,879,552", "49,397,760")),
    Question("A 10,000-token prompt with --chunked-prefill-size 4096 under extra_buffer: where are states saved?", HIT,
             ("4,096, 8,192 and 9,984", "one state per prefill chunk")),
    Question("PD decode server with --disaggregation-decode-enable-radix-cache: which radix strategy may I use?",
             "PD disaggregation", ("(use extra_buffer)", "--disaggregation-decode-enable-radix-cache")),
    Question("Qwen3-Next-80B-A3B-Instruct-FP8 at --tp-size 8: 'The output_size of gate's and up's weight = 64 is not "
             "divisible by weight quantization block_n = 128.'", ERROR,
             ("= 64", "--tp-size 4", "--ep-size 8", "[Choosing TP (and EP)](answers.md#tp-choice)")),
    Question("MTP on a default B200 launch with 3/1/4: how many verify tokens do the decode CUDA graphs hold?",
             "CUDA graphs turned off automatically", ("captured_req_width", "192 verify tokens")),
    # messages quoted from a log
    Question("B200, --attention-backend trtllm_mha --speculative-eagle-topk 4: 'ValueError: trtllm_mha backend only "
             "supports topk = 1 for speculative decoding.'", ERROR,
             ("trtllm_mha backend only supports topk = 1", "--speculative-eagle-topk 1", "--attention-backend triton")),
    Question("Tree drafts with --page-size 64: \"speculative_eagle_topk > 1 with page_size > 1 is only supported on "
             "('flashinfer', 'fa3', 'triton')\"", ERROR,
             ("with page_size > 1 is only supported on", "from 0.5.13", "--page-size 1")),
    Question("MI300X, --linear-attn-decode-backend cutedsl: 'ValueError: GDN CuTe DSL backend requires CUDA'", ERROR,
             ("GDN CuTe DSL backend requires CUDA", "FlashInfer GDN backend requires CUDA", "from 0.5.10",
              "Drop the flag")),
    Question("Qwen3.5 with --linear-attn-backend helion: 'The Helion linear-attention backend supports KDA only, not "
             "GDN.'", ERROR, ("supports KDA only, not GDN", "from 0.5.18", "triton")),
    Question("My own NVFP4 export of Qwen3-Next: 'AssertionError: Expected 1.0, got 0.0123 in skipped "
             "model.layers.3.self_attn.qkv_proj.input_scale'", ERROR,
             ("in skipped", "from 0.5.10", "[#17627]", "exclusion list")),
    Question("Log: 'max_running_requests is capped to 37 by the mamba state cache (max_mamba_cache_size=185, 5 state "
             "slots per request)': how do I run more?", ERROR,
             ("is capped to", "from 0.5.17", "--max-mamba-cache-size", "--mamba-full-memory-ratio",
              "[pool-sizing block](answers.md#mamba-pool-sizing)")),
    Question("Log: 'Max running requests is reset to 48 for speculative decoding': I asked for nothing, why 48?", ERROR,
             ("reset to 48", "--max-running-requests", "--attn-dp-size", "[MTP setup block](answers.md#mtp-setup)")),
    # lines of a normal start that users quote as if they were errors (the index sent none of them anywhere)
    Question("PD decode node logs 'Radix cache is disabled for decode server': is its prefix cache broken?", ERROR,
             ("Radix cache is disabled for decode server", "--disaggregation-decode-enable-radix-cache", "from 0.5.22")),
    Question("After upgrading to 0.5.19 the H200 log says 'Defaulting SM90 GDN prefill backend to FlashInfer.'", ERROR,
             ("GDN prefill backend to FlashInfer", "SM90 from 0.5.19", "--linear-attn-prefill-backend triton")),
    Question("B200 log: 'SM100+ detected with mamba-ssm-dtype=bfloat16, defaulting --linear-attn-decode-backend to "
             "flashinfer.' Can I keep Triton decode?", ERROR,
             ("SM100+ detected with mamba-ssm-dtype=bfloat16", "from 0.5.11", "--linear-attn-decode-backend triton")),
    Question("'Breakable CUDA graph is incompatible with two-batch overlap; disabling prefill CUDA graph.'", ERROR,
             ("Breakable CUDA graph is incompatible with", "from 0.5.14", "[CUDA-graph block]")),
    Question("FP8 checkpoint, --quantization w8a8_fp8: \"Requantizing from quant_method='fp8' to the requested online "
             "quantization='w8a8_fp8'\"", ERROR, ("Requantizing from quant_method", "drop `--quantization`")),
    Question("PD decode server: 'mamba_size (200) is less than decode side's max_slots_needed (640 = 128 reqs * 5 "
             "slots/req)'", ERROR, ("is less than decode side's max_slots_needed", "from 0.5.11")),
    Question("MTP with no_buffer: 'Non-overlap (synchronous) spec v2 is used for eagle/eagle3/standalone': a problem?",
             ERROR, ("Non-overlap (synchronous) spec v2 is used", "expected, not an error")),
    # debugging
    Question("Accuracy loss with --enable-mixed-chunk and extra_buffer on 0.5.22: which PR fixed it in 0.5.23?",
             "extra_buffer and no_buffer", ("which PR shipped it in 0.5.23 is not identified", "#39526")),
    Question("Qwen3.6 checkpoint (output_gate_type sigmoid) on 0.5.12 answers worse than on vLLM: why?",
             "Qwen3.5 vs Qwen3-Next", ("output_gate_type", "from 0.5.13", "#25401")),
    Question("B200, default fp32 state, batch 512: which decode kernel runs, and how do I get FlashInfer?", SLOW,
             ("`--mamba-ssm-dtype bfloat16` makes FlashInfer the decode (and verify) default",)),
    Question("Has anyone timed SGLang's FlashInfer GDN decode against its Triton decode on an H200?", SLOW,
             ("expect it to lose as the batch grows; not timed here",)),
    Question("Which release and PR first have --enable-linear-replayssm, and its spec flag?", REPLAY,
             ("#28451", "from 0.5.15", "from 0.5.16, whose flag was `--enable-gdn-replayssm-spec`")),
    Question("ReplaySSM decode with --enable-mixed-chunk and the radix cache on: any known problems?", REPLAY,
             ("findings.md#finding-replayssm-mixed-chunk-stale-state", "findings.md#finding-replayssm-finish-conv-depth",
              "keep `--enable-mixed-chunk` off with it")),
    Question("H200, Qwen3-Next without MTP: which full-attention backend and page size run by default?",
             "Which GDN kernel runs", ("fa3 with page size 1",)),
    # porting to vLLM
    Question("Porting extra_buffer prefix caching to vLLM: what does the state pool need per request?",
             "Porting a GDN optimization", ("two ping-pong track slots per running request", "5 slots per request",
                                            "[vLLM status block](#vllm-status)")),
    Question("Is FlashInfer's GDN decode already a vLLM backend?", "already in vLLM", ("41966",)),
    # upgrade paths
    Question("Upgrading 0.5.13 -> 0.5.14 cut my running requests: why?", "Output or speed changed after upgrading",
             ("5 state slots per request instead of 3", "--mamba-radix-cache-strategy no_buffer --disable-overlap-schedule")),
    Question("0.5.18 -> 0.5.19 on H200 changed TTFT: which startup line tells me what moved?",
             "Output or speed changed after upgrading",
             ("Defaulting SM90 GDN prefill backend to FlashInfer.", "--linear-attn-prefill-backend triton")),
    Question("Does 0.5.18 parse --prefill-decode-interval?", "first (or last) accepts a flag",
             ("| `--prefill-decode-interval` | 0.5.19 | 0.5.23 |",)),
    # what this repository's runtime measured (ours vs SGLang kept apart, device named, latest committed run)
    Question("Our deferred-write decode against SGLang's ReplaySSM: how much faster, on which GPU, which run?", OURS_GDN,
             ("1.13-1.30x SGLang 0.5.23's ReplaySSM kernel at L=16 for B>=64", "NVIDIA H200", "2026-12-03",
              "not SGLang's")),
    Question("Is this repository's ring verify + commit faster than SGLang's --enable-linear-replayssm-spec kernels?",
             OURS_GDN, ("1.14-1.27x SGLang 0.5.23's ReplaySSM spec verify + commit", "NVIDIA H200", "2026-12-03")),
    Question("After an MTP verify, does SGLang copy the accepted GDN state, and what would skipping the copy buy?",
             OURS_GDN, ("fused_mamba_state_scatter_with_mask", "vLLM avoids the copy", "1.49-1.58x faster",
                        "NVIDIA H200", "not SGLang's")),
    Question("SGLang's own ReplaySSM against its packed decode at TP1 B=1 and B=256: the numbers and the device?",
             REPLAY, ("7.6 vs 5.9 us at TP1 B=1", "TP1 B=256 191 vs 272", "NVIDIA H200", "2026-12-03")),
    Question("This repository's fused GDN projection against SGLang's decode path at TP4: how much, on which GPU?",
             OURS_PROJ, ("1.17x to 1.92x at TP4", "NVIDIA H200", "2026-12-03", "not SGLang's")),
    Question("How close to the H200's memory bandwidth does this repository's GDN decode get, and what copy rate?",
             OURS_GDN, ("94-95% of the copy rate at TP1", "4,184 GB/s", "NVIDIA H200")),
    Question("Can I switch SGLang to this repository's deferred-write decode with a flag?", RUN,
             ("Nothing in `runtime/` can be switched on in SGLang", "ReplaySSM decode")),
    Question("Have this repository's kernels been run on a B200 or an A100?", RUN,
             ("nothing here has run on an A100 (SM80)", "trust a kernel only after `dossier regress` passes on that GPU")),
    Question("python -m runtime.scheduling prints 'FAIL: 7 of 52 combinations break': is my server broken?",
             "state-caching model", ("not a fault of your install",)),
    # the right answer is "not covered / no evidence here"
    Question("What decode throughput (tokens/s) does Qwen3-Next-80B reach on 4x H200 with MTP?", SLOW,
             ("Nothing here ran a server", "the only end-to-end figures are those PR authors quote in the cards")),
    Question("What MTP accept length should I expect for Qwen3-Next-80B with 3 steps, top-k 1, 4 draft tokens?",
             "GSM8K dropped after enabling MTP", ("asserts no accept length for Qwen3-Next",)),
    Question("Is ReplaySSM decode faster on a B200? Has anything here timed it there?", REPLAY,
             ("nothing was timed on a B200",)),
    Question("Qwen3-Next on Intel Gaudi (HPU) or a TPU: which GDN kernels run?", "GDN kernels on an A100",
             ("are not covered here",)),
]


def test_there_are_forty_eight_tasks():
    assert len(QUESTIONS) + len(RELEASE_TASKS) == 48 and len({q.ask for q in QUESTIONS}) == len(QUESTIONS)


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)


#: 'what changed in release V': the link labelled V in SKILL.md, then that release's section, which must also name
#: what moved there without a card (the upgrade block has it; the release section said nothing of it)
RELEASE_TASKS = [
    ("I upgrade to 0.5.23: what changed on the GDN path there?", "0.5.23",
     ("kernels/ops/attention/linear/", "`--speculative-skip-dp-mlp-sync`", "answers.md#upgrade-defaults")),
    ("What did 0.5.22 change in the GDN kernels?", "0.5.22", ("8-wide value tiles", "conv block table", "#36410")),
    ("0.5.21: what changed for MTP verify and the all-reduce fusion switches?", "0.5.21",
     ("#33778", "SGLANG_FLASHINFER_MNNVL_CUTEDSL_AR_FUSION", "--flashinfer-allreduce-fusion-backend cutedsl")),
]


@pytest.mark.parametrize("ask,version,must", RELEASE_TASKS, ids=[t[1] for t in RELEASE_TASKS])
def test_what_one_release_changed_is_one_link_from_skill_md(ask, version, must):
    section = release_section(version, (SKILL / "SKILL.md").read_text())
    missing = [m for m in must if m not in section]
    assert not missing, f"{ask!r}: the release section lacks {missing}"


def _us(value: float) -> str:
    """A time as the manual quotes it: one decimal below 100 us, whole microseconds above."""
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


def test_the_replayssm_block_quotes_the_latest_committed_h200_run():
    """The SGLang-kernel timings of the ReplaySSM block are those of results/bench/gdn.json (the last committed
    run), with its device and date: a re-run that moves them must move the manual too."""
    bench = json.loads((ROOT / "results/bench/gdn.json").read_text())
    rows = {(r["kernel"], r["shape"]): r for r in bench["rows"]}
    _, section = answer(Question("", REPLAY, ()))
    assert f"on an {bench['device']['name']}" in section and bench["date"] in section
    pairs = re.findall(r"(\d+(?:\.\d+)?) vs (\d+(?:\.\d+)?)(?: us)? at (TP\d B=\d+)|(TP\d B=\d+) (\d+(?:\.\d+)?) vs "
                       r"(\d+(?:\.\d+)?)", section.split("2. Spec verify")[0])
    assert len(pairs) >= 6, pairs
    for a, b, shape, shape2, a2, b2 in pairs:
        shape, a, b = (shape, a, b) if shape else (shape2, a2, b2)
        replay = rows[("deferred", f"{shape} L=16")]["sgl_replayssm_us"]
        packed = rows[("dispatch", f"{shape} L=16")]["sgl_packed_us"]
        assert (a, b) == (_us(replay), _us(packed)), (shape, a, b, _us(replay), _us(packed), "update the replayssm "
                                                      "block of cards/lanes.yaml from results/bench/gdn.json")


def test_the_replayssm_spec_timings_are_the_latest_committed_h200_run():
    """Item 2's verify + commit against target_verify, per shape, are the ring_verify rows' SGLang columns of
    results/bench/gdn.json, and so are target_verify's times with its accept copy."""
    bench = json.loads((ROOT / "results/bench/gdn.json").read_text())
    rows = {r["shape"]: r for r in bench["rows"] if r["kernel"] == "ring_verify"}
    _, section = answer(Question("", REPLAY, ()))
    spec = section.split("2. Spec verify")[1].split("\n3. ")[0]
    assert bench["date"] in spec
    pairs = re.findall(r"(\d+(?:\.\d+)?) vs (\d+(?:\.\d+)?)(?: us)? for (TP\d B=\d+)", spec)
    assert len(pairs) == 6, pairs
    for a, b, shape in pairs:
        row = rows[f"{shape} T=4 L=16"]
        assert (a, b) == (_us(row["sgl_spec_us"]), _us(row["sgl_target_verify_us"])), (shape, a, b)
    counted = re.findall(r"(?<![=P\d.])\d+(?:\.\d+)?", spec.split("accept copy counted")[1].split(")")[0])
    order = ["TP1 B=16", "TP1 B=64", "TP1 B=256", "TP4 B=64", "TP4 B=256", "TP4 B=16"]
    assert counted == [_us(rows[f"{s} T=4 L=16"]["sgl_target_step_us"]) for s in order], counted


def test_our_ratios_against_sglang_are_those_of_the_latest_committed_run():
    """The reference-kernels lanes quote this repository's ratios against SGLang's kernels from the summaries of
    results/bench/gdn.json and projections.json, with their device and date: a new committed run that moves a ratio
    must move the manual."""
    gdn = json.loads((ROOT / "results/bench/gdn.json").read_text())
    proj = json.loads((ROOT / "results/bench/projections.json").read_text())
    _, gdn_lane = answer(Question("", OURS_GDN, ()))
    _, proj_lane = answer(Question("", OURS_PROJ, ()))
    ranges = {}
    for line in gdn["summary"] + proj["summary"]:
        for m in re.finditer(r"(\d+\.\d+)-(\d+\.\d+)x (SGLang's ReplaySSM(?: spec verify \+ commit| at L=16)|SGLang "
                             r"0\.5\.23's decode path at TP\d)", line):
            ranges[m[3]] = (m[1], m[2])
    # a TP whose SGLang path lost its second-stream overlap in that run is not summarized (bench.overlap_lost)
    unsummarized = {m for line in proj["summary"] for m in re.findall(r"Qwen3-Next at (TP\d): not summarized", line)}
    assert len(ranges) + len(unsummarized) == 4, (ranges, unsummarized)
    stale = "a new committed bench run: update the lane's repo_notes in cards/lanes.yaml from its summary"
    replay, spec = ranges["SGLang's ReplaySSM at L=16"], ranges["SGLang's ReplaySSM spec verify + commit"]
    assert f"{replay[0]}-{replay[1]}x SGLang 0.5.23's ReplaySSM kernel at L=16" in gdn_lane, stale
    assert f"{spec[0]}-{spec[1]}x SGLang 0.5.23's ReplaySSM spec verify + commit" in gdn_lane, stale
    for tp in ("TP1", "TP4"):
        if tp in unsummarized:
            assert f"{tp} is not summarized from that run" in proj_lane, (tp, stale)
            continue
        low, high = ranges[f"SGLang 0.5.23's decode path at {tp}"]
        assert f"{low}x to {high}x at {tp}" in proj_lane, (tp, stale)
    for bench, lane in ((gdn, gdn_lane), (proj, proj_lane)):
        assert bench["device"]["name"] in lane and bench["date"] in lane, stale
