"""Tasks from session 48's agent audit of the manual (helper B5), answered from SKILL.md plus the one section its
row links, and the SGLang 0.5.23 source lines (and release-tree facts, by what 0.5.23 still shows of them) those
answers rest on.

What they guard: LoRA with MTP had no release boundary (NGRAM only up to 0.5.18; NEXTN, EAGLE3 and DFLASH from
0.5.19, adapters on the target only, `--speculative-adaptive` refused); no section named the chat parsers of these
models (`--tool-call-parser qwen3_coder`, `--reasoning-parser qwen3`, `auto` from 0.5.16 reading the chat
template); the GDN bench was called CUDA only with a message a ROCm torch never prints; ROCm's packed Qwen3.5
projection was not said to stay out of decode graphs that torch.compile compiles. The other seven were answered
right and pin their facts: the state-caching model's exit status, the copy-free verify reference, the H100 decode
rows, `dossier regress`, all-reduce fusion across nodes on SM100, dynamic chunking turning the FlashInfer prefill
off, the streaming-session state leak fixed in 0.5.11. Structured output (grammar) with MTP has no answer and was
left so: 0.5.23 applies the grammar mask in verify with nothing GDN-specific.
"""

from __future__ import annotations

import json

import pytest

from tests.dossier.test_manual_questions import ROOT, Question, assert_answered, sglang_file

PARALLEL = "Pipeline parallel, two-batch overlap"
QWEN35 = "Qwen3.5 vs Qwen3-Next in SGLang"
KERNELS = "A number from this repository's reference kernels"
SCHED = "A verdict or column of this repository's state-caching model"
RUNNING = "Running one card's reference kernel"
ALLREDUCE = "cross-device reduce kernels"
TTFT = "Slow first token (TTFT)"
ERRORS = "An error message quoted from the log"
AMD = "AMD GPUs (ROCm"

QUESTIONS = [
    Question("Several LoRA adapters on Qwen3.5-35B-A3B with NEXTN: which release lets them run together?", PARALLEL,
             ("up to 0.5.18 LoRA takes only NGRAM drafts", "from 0.5.19 NEXTN (resolved to EAGLE)",
              "the adapters apply to the target only", "`--speculative-adaptive` is refused with LoRA")),
    Question("Tool calls from Qwen3.5 come back as plain text: which --tool-call-parser and --reasoning-parser?", QWEN35,
             ("`--tool-call-parser qwen3_coder`", "`--reasoning-parser qwen3`", "From 0.5.16 `auto`")),
    Question("Can I run python -m runtime.gdn.bench on an MI300X?", KERNELS,
             ("a ROCm torch passes that check though nothing here has run on AMD",)),
    Question("CI runs python -m runtime.scheduling --quick on a CPU runner and prints 'FAIL: 7 of 52': does the job "
             "fail?", SCHED, ("no part of it runs on the GPU", "exits 0 (1 only for a failure no finding explains)")),
    Question("Which reference kernel should I port so MTP verify leaves out the accept copy?", KERNELS,
             ("verify.accepted_slots", "1.49-1.58x faster than SGLang's verify + copy", "#12892")),
    Question("Is this repository's GDN decode faster than SGLang's packed decode on my H100?", KERNELS,
             ("in-place decode is level at large batches", "TP4 B=1 2.45 against 5.19")),
    Question("How do I reproduce card #28451's numbers on my H100?", RUNNING,
             ("`dossier regress <PR>`", "`pip install --no-deps sglang==0.5.23` first")),
    Question("GB200 NVL72, Qwen3-Next over two trays (--nnodes 2, TP8): does the all-reduce fusion still turn on?",
             ALLREDUCE, ("one node unless on SM100",)),
    Question("256K-token prompts on H200: does --enable-dynamic-chunking keep the FlashInfer GDN prefill?", TTFT,
             ("no `--enable-dynamic-chunking`",)),
    Question("Qwen3.5 on 0.5.10 with --enable-streaming-session: after sessions close the idle check stops with "
             "'memory leak detected!' naming the mamba pool", ERRORS, ("from 0.5.11 a closed streaming session",)),
    Question("MI355X, Qwen3.5 with --enable-torch-compile: does decode still run the packed input-projection GEMM?", AMD,
             ("never in a decode graph `--enable-torch-compile` compiles", "`--torch-compile-max-bs`")),
]


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)


def test_0_5_23_takes_lora_with_eagle_family_drafts_only_on_the_target():
    hook = sglang_file("srt/arg_groups/lora_hook.py")
    assert 'lora_spec_algorithms = ("EAGLE", "EAGLE3", "DFLASH", "DSPARK")' in hook
    assert "Adapters apply to the target only; a shared draft runs unadapted." in hook
    assert "does not support --speculative-adaptive" in hook


def test_0_5_23_auto_parsers_read_the_template_for_qwen():
    detect = sglang_file("srt/parser/template_detection.py")
    assert 'return ctx.has_text("<function=") and ctx.has_text("<parameter=")' in detect
    assert 'DetectionRule(name="qwen3_coder", value="qwen3_coder", predicate=_is_qwen3_coder)' in detect
    assert '"qwen3_coder": Qwen3CoderDetector' in sglang_file("srt/function_call/function_call_parser.py")


def test_0_5_23_fusion_crosses_nodes_only_on_sm100_and_dynamic_chunking_keeps_triton_prefill():
    overrides = sglang_file("srt/arg_groups/overrides.py")
    assert "and (view.nnodes == 1 or get_platform().is_sm100)" in overrides
    backend = sglang_file("srt/layers/attention/linear/gdn_backend.py")
    assert "get_schedule().enable_dynamic_chunking\n        or chunk_size is None" in backend


def test_0_5_23_qwen35_packed_rocm_projection_skips_compiled_and_large_batches():
    model = sglang_file("srt/models/qwen3_5.py")
    assert "and 0 < x.shape[0] <= 64\n                and not torch.compiler.is_compiling()" in model
    runner = sglang_file("srt/model_executor/runner/base_cuda_graph_runner.py")
    assert "[bs for bs in capture_bs if bs <= get_exec().graph.torch_compile_max_bs]" in runner


def test_0_5_23_streaming_session_frees_its_mamba_slots():
    assert "def _free_slot_mamba(self, slot: SessionSlot) -> None:" in sglang_file("srt/session/streaming_session.py")


def test_repository_facts_the_runtime_answers_rest_on():
    main = (ROOT / "runtime" / "scheduling" / "__main__.py").read_text()
    assert "return 0 if ok else 1" in main
    assert "return rows, not unexplained, text" in (ROOT / "runtime" / "scheduling" / "report.py").read_text()
    assert "def accepted_slots(" in (ROOT / "runtime" / "gdn" / "verify.py").read_text()
    assert 'raise SystemExit("runtime.gdn.bench needs a CUDA device")' in (ROOT / "runtime" / "gdn" / "bench.py").read_text()
    rows = json.loads((ROOT / "results" / "bench" / "gdn-s44-h100.json").read_text())["rows"]
    tp4_b1 = next(r for r in rows if r.get("kernel") == "dispatch" and r["shape"] == "TP4 B=1 L=16")
    assert round(tp4_b1["in_place_us"], 2) == 2.45 and round(tp4_b1["sgl_packed_us"], 2) == 5.19
