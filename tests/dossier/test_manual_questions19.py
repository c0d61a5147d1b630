"""Thirty-seven more tasks an inference engineer or a coding agent brings to the manual (manual19, session 16),
each answered by following links from SKILL.md: a symptom row and the one section it links (for an error message,
the errors page's index, then the section it names), or a release link and that release's section of
by-release.md. Each was checked against SGLang 0.5.23's source, the release trees and the cards.

Twenty-five were not answered on the path an agent took through main's manual before this session (judged with
the row it would have picked then): the six release tasks (what one release added or dropped: cards, flags, variables), --mamba-ssm-dtype
by GPU, the flags and variables older scripts pass that 0.5.23 no longer parses or reads and what replaced them,
the ReplaySSM ring's memory, three startup errors (ring length, per-path state cap, a mismatched --quantization),
--quantization for a pre-quantized checkpoint, what each radix strategy keeps, chunked prefill against the Mamba
chunk, Qwen3.5 against Qwen3-Next (three), and the three "which release fixed it" rows. The rest guard answers that
moved into the blocks this session split out (ReplaySSM launch and exclusivity, SM80/XPU kernels, vLLM's status,
old flag names, which kernels honour the dtype, the pointers from slow decode and porting) or were already there
(CUDA-graph sizes under MTP).
"""

from __future__ import annotations

import re

import pytest

from tests.dossier.test_manual_questions import SECTION_WORD_LIMIT, SKILL, Question, _section, assert_answered

ERROR = "An error message quoted"
DTYPE = "Choosing --mamba-ssm-dtype"
FLAGS_GONE = "stops at startup: flags"
REPLAY = "ReplaySSM decode and MTP verify"
BUFFER = "extra_buffer and no_buffer"
OTHER_GPUS = "GDN kernels on an A100"
VLLM = "already in vLLM"
FAMILY = "Qwen3.5 vs Qwen3-Next"

QUESTIONS = [
    Question("B200, Qwen3.5-397B: should I launch with --mamba-ssm-dtype bfloat16, and what does it change?", DTYPE,
             ("is what makes FlashInfer the decode default", "CUDA 13+", "compare GSM8K",
              "9,879,552")),
    Question("H200 TP4 Qwen3-Next: is --mamba-ssm-dtype bfloat16 a free memory win?", DTYPE,
             ("keep float32, the default", "need an fp32 pool", "bfloat16 keeps every phase on Triton")),
    Question("An old launch script passes --disable-cuda-graph: what is the 0.5.23 spelling?", FLAGS_GONE,
             ("--cuda-graph-backend-decode disabled --cuda-graph-backend-prefill disabled", "still parses")),
    Question("'--dp-size 4 --enable-dp-attention' prints a deprecation warning on 0.5.23: what replaces it?",
             FLAGS_GONE, ("`--attn-dp-size N`", "2026-12-31")),
    Question("A guide sets SGLANG_ENABLE_UNIFIED_RADIX_TREE=1 and SGLANG_ENABLE_SPEC_V2=1: do they still do anything?",
             FLAGS_GONE, ("last acted on by 0.5.20", "always runs the V2 worker", "ignored without a word")),
    Question("--enable-piecewise-cuda-graph --piecewise-cuda-graph-max-tokens 4096 fail to parse: what replaced them?",
             FLAGS_GONE, ("last in 0.5.13.post1", "--cuda-graph-backend-prefill", "--cuda-graph-max-bs-prefill")),
    Question("How much memory does the --enable-linear-replayssm ring add per state slot, and is it budgeted?", REPLAY,
             ("395,264", "about 18%", "outside the pool budget", "--max-mamba-cache-size")),
    Question("H200 TP1, batch 256 decode: should I turn on ReplaySSM, and with which exact flags?", REPLAY,
             ("--enable-linear-replayssm --mamba-radix-cache-strategy no_buffer --disable-overlap-schedule",
              "TP1 B=256 191 vs 272", "#28451")),
    Question("Can I run --enable-linear-replayssm together with MTP's --enable-linear-replayssm-spec?", REPLAY,
             ("cannot be combined", "share the ring storage", "#28695")),
    Question("Startup: '--linear-replayssm-cache-len must be >= 1, got 0.'", ERROR,
             ("--linear-replayssm-cache-len must be >= 1", "from 0.5.15", "Keep the default 16")),
    Question("Startup: '--mamba-max-states-per-path must be -1 (unlimited) or a positive integer, got 0.'", ERROR,
             ("0 does not mean off", "--disable-radix-cache", "from 0.5.17")),
    Question("Qwen3-Next-80B-A3B-Instruct-FP8 with --quantization awq: 'Quantization method specified in the model "
             "config (fp8) does not match the quantization method specified in the `quantization` argument (awq)'",
             ERROR, ("does not match the quantization method specified in the", "Drop `--quantization`")),
    Question("Qwen3-Next-80B-A3B-Instruct-FP8: do I pass --quantization fp8?", "Loading FP8/NVFP4",
             ("none for a pre-quantized checkpoint", "_verify_quantization", "quant_method")),
    Question("What does extra_buffer actually keep for the radix cache with a hybrid model, against no_buffer and "
             "extra_buffer_lazy?", BUFFER,
             ("ping-pong track slots", "copies the request's working state into a new slot", "without a copy",
              "takes the second on demand", "unified_cache/components/mamba.py")),
    Question("extra_buffer with --chunked-prefill-size 32 for low TTFT: prefixes of long prompts stop being cached",
             BUFFER, ("64 for these models", "skip their state checkpoints", "--chunked-prefill-size")),
    Question("Qwen3-Next on an L40S (Ada): which GDN kernels run, and can I use FlashInfer GDN?", OTHER_GPUS,
             ("A100, L40S", "Requires SM90+", "| SM80 |")),
    Question("Intel Data Center GPU (XPU): which GDN kernels, and how do I get the fused SYCL one?", OTHER_GPUS,
             ("--linear-attn-backend intel_xpu", "gdn_attention", "skips target verify")),
    Question("Does vLLM's --enable-prefix-caching for Qwen3.5 do what SGLang's extra_buffer does?", VLLM,
             ("--enable-prefix-caching", "align", "46778", "51250", "on by default since 0.5.14")),
    Question("Has vLLM got ReplaySSM yet, and in which pull requests?", VLLM, ("48018", "48792", "49887")),
    Question("Porting Qwen3.5 loading to another engine: how do its GDN projection tensors differ from Qwen3-Next's?",
             FAMILY, ("in_proj_qkv, in_proj_z, in_proj_b, in_proj_a", "keeps whole groups", "Qwen3_5TextConfig",
                      "models/qwen3_5_text.py")),
    Question("Same SGLang, Qwen3.5 and Qwen3-Next: why do their decode profiles differ, and do their MTP heads?",
             FAMILY, ("SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV", "never reads that variable", "#36267",
                      "Qwen3_5ForCausalLMMTP")),
    Question("A Qwen3.5 checkpoint fails to load where Qwen3-Next loads: where do the two families differ?",
             "Model fails to load", ("answers.md#qwen35-vs-qwen3-next", "models/qwen3_5.py")),
    Question("MTP at TP4 hangs in an NCCL all-gather on 0.5.10: which release has the fix?", "Hang in an NCCL collective",
             ("#22458", "fixed in 0.5.11", "broadcast")),
    Question("--cpu-offload-gb crashes Qwen3.5 on 0.5.19: which release fixes it?", "--cpu-offload-gb",
             ("fixed in 0.5.21", "#40310")),
    # no release shipped the bug: 0.5.9 lacks the packed loader that raised it, 0.5.10 ships it with the fix
    Question("Loading Qwen3-Next FP8 from a main build: AttributeError assigning weight_loader; which release fixes it?",
             "AttributeError when a loader", ("main only, before", "#21662", "read-only property")),
    Question("Decode at TP4 with MTP is slow: does the verify kernel follow my decode backend choice?",
             "Decode throughput is low", ("follows decode unless set", "[ReplaySSM block](#replayssm)")),
    Question("Porting ReplaySSM decode to vLLM: what moves, and does vLLM have it already?", "Porting a GDN optimization",
             ("MambaPool.copy_from", "48792", "[vLLM status block](#vllm-status)")),
    # guards: answers already on the routed path
    Question("With NEXTN, which decode batch sizes are captured, and why does a batch of 60 replay as 64?",
             "CUDA graphs turned off automatically",
             ("1 to 8, every 2 up to 32, every 4 from 40 to 64", "smallest captured size at or above",
              "captures up to 48 requests")),
    Question("Does 0.5.19 still accept --enable-gdn-replayssm-spec?", FLAGS_GONE,
             ("--enable-gdn-replayssm-spec", "a deprecated alias from 0.5.17 to 0.5.19", "no longer parses from 0.5.20")),
    Question("A 0.5.13 script with --mamba-scheduler-strategy extra_buffer fails on 0.5.20", FLAGS_GONE,
             ("no longer parses from 0.5.20", "--mamba-radix-cache-strategy", "in 0.5.14")),
    Question("Which kernels honour --mamba-ssm-dtype, and does CuTe DSL decode take a bf16 pool?", DTYPE,
             ("compute in fp32", "_get_compiled_kernel", "keep fp32 with `cutedsl`")),
]


def test_there_are_thirty_seven_tasks():
    assert len(QUESTIONS) + len(RELEASE_TASKS) + 1 == 37 and len({q.ask for q in QUESTIONS}) == len(QUESTIONS)


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)


def release_section(link_text: str, page_text: str, page_dir: str = "references/") -> str:
    """The section of by-release.md a link labelled ``link_text`` (or any by-release link, when ``link_text`` is None)
    in ``page_text`` leads to: one link, one section."""
    targets = re.findall(rf"\[{re.escape(link_text)}\]\((?:{page_dir})?by-release\.md#(release-[\w-]+)\)", page_text)
    assert len(set(targets)) == 1, (link_text, targets)
    section = _section((SKILL / "references/by-release.md").read_text(), targets[0])
    assert len(section.split()) <= SECTION_WORD_LIMIT
    return section


#: 'what changed in release V': SKILL.md's link labelled V, then that release's section, which must hold these
RELEASE_TASKS = [
    ("What changed for Qwen3-Next and Qwen3.5 in SGLang 0.5.21?", "0.5.21", ("#40310", "#33778", "#40313")),
    ("I run 0.5.18: what would 0.5.19 add, and which of it are fixes?", "0.5.19", ("#32919", "#35632", "**fix**")),
    ("Which changes the manual cites did 0.5.18 take out?", "0.5.18", ("Gone here", "#19663", "#31942")),
    ("My 0.5.19 launch script breaks on 0.5.20: which flags stopped parsing there?", "0.5.20",
     ("no longer parsed from here", "`--mamba-scheduler-strategy`", "`--enable-gdn-replayssm-spec`")),
    ("Which GDN environment switches did 0.5.19 add?", "0.5.19",
     ("first read here", "`SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV`")),
]


@pytest.mark.parametrize("ask,version,must", RELEASE_TASKS, ids=[t[1] for t in RELEASE_TASKS])
def test_what_one_release_changed_is_one_link_from_skill_md(ask, version, must):
    section = release_section(version, (SKILL / "SKILL.md").read_text())
    assert f"## SGLang {version} " in section, ask
    missing = [m for m in must if m not in section]
    assert not missing, f"{ask!r}: the release section lacks {missing}"


def test_a_cards_release_links_to_what_else_shipped_with_it():
    """'#40310 first shipped in 0.5.21: what else came with it?': the grep SKILL.md teaches finds the card, whose
    Evidence line links the release that shipped it; that section lists the card and its neighbours."""
    skill = (SKILL / "SKILL.md").read_text()
    assert "grep -n '^### #19321' references/pr-history.md" in skill
    history = (SKILL / "references/pr-history.md").read_text()
    card = history.split("### #40310 ", 1)[1].split("\n### #", 1)[0]
    evidence = next(line for line in card.splitlines() if line.startswith("**Evidence"))
    section = release_section("built 2026-10-01", evidence, page_dir="")
    assert "[#40310]" in section and "[#40313]" in section
