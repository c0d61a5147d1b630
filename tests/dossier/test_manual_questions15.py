"""Twenty-five more questions the manual must answer from SKILL.md plus the one section its symptom table links
(manual15, session 13): AMD GPUs, what the CUDA graphs capture, which release first accepts a flag or reads an
environment variable, whether a PR's change is in the installed SGLang, what this repository's runtime tests show,
and minimum releases for HiCache, EAGLE3 and MTP with EPLB. Each was checked against SGLang 0.5.23's source, the
release trees (cards/surface.lock) and the cards; none was answered on the routed path of the manual before, and
one answer was wrong (WRONG).
"""

from __future__ import annotations

import pytest

from dossier.surface_history import read_history
from tests.dossier.test_manual_questions import ROOT, SKILL, Question, answer, assert_answered

AMD = "AMD GPUs (ROCm"
GRAPHS = "CUDA graphs turned off automatically"
FLAGS = "Which SGLang release first (or last) accepts a flag"
ENV = "reads an SGLANG_* environment variable"
IN_SGLANG = "Is a change the manual cites still in"
RUNTIME = "Running one card's reference kernel"
MIN = "Minimum SGLang release"

QUESTIONS = [
    # AMD GPUs: no answer block covered them; the symptom rows led to a list of PR links
    Question("MI355X, Qwen3.5: which GDN kernels run, and which CUDA optimizations are off on ROCm?", AMD,
             ("every GDN phase (prefill, decode, MTP verify) on the Triton kernels",
              "`SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV` is not applied", "--cuda-graph-backend-prefill breakable",
              "created only on CUDA")),
    Question("0.5.20 on MI355X: --enable-linear-replayssm-spec fails while compiling its kernel", AMD,
             ("#38184", "tf32 dot precision", "0.5.21")),
    Question("amd/Qwen3.5-397B-A17B-MXFP4 with MTP: the draft experts stay BF16; can SGLang quantize them?", AMD,
             ("--speculative-draft-model-quantization quark_mxfp4", "from 0.5.20", "#38748")),
    Question("Qwen3-Next on MI300X: AttributeError: 'NoneType' object has no attribute 'wait_stream'", AMD,
             ("'NoneType' object has no attribute 'wait_stream'", "until 0.5.8", "#17016")),
    Question("What does SGLANG_USE_AITER=1 change for Qwen3.5's GDN layers?", AMD,
             ("finalize_fused_in_proj", "SGLANG_QWEN35_PACKED_IN_PROJ=0", "8 value heads per key head", "#34421")),
    # what the CUDA graphs capture
    Question("With NEXTN (4 draft tokens), what do the decode CUDA graphs capture, and up to which batch?", GRAPHS,
             ("TARGET_VERIFY", "captured_req_width", "48 requests, 192 verify tokens")),
    Question("Which decode batch sizes are captured without speculation, and what runs between two of them?", GRAPHS,
             ("1, 2, 4, 8, 12", "smallest captured size at or above", "--disable-cuda-graph-padding")),
    Question("How many tokens does the breakable prefill graph capture, and what happens above that?", GRAPHS,
             ("--cuda-graph-max-bs-prefill", "defaults to `--chunked-prefill-size`", "runs eagerly")),
    Question("Raising --cuda-graph-max-bs-decode to 1024: where does the graph memory come from?", GRAPHS,
             ("2 MB per unit of `--cuda-graph-max-bs-decode`", "at least 10 GB on GPUs above 60 GB", "reserve_for_graph_mb",
              "An explicit `--mem-fraction-static` is used as given")),
    # which release first (or last) has a flag or an environment variable
    Question("Does 0.5.13 accept --enable-int8-mamba-checkpoint?", FLAGS,
             ("| `--enable-int8-mamba-checkpoint` | 0.5.14 |",)),
    Question("Can I cap states per prefix path (--mamba-max-states-per-path) on 0.5.16?", FLAGS,
             ("| `--mamba-max-states-per-path` | 0.5.17 |",)),
    Question("My 0.5.13 launch rejects --cuda-graph-max-bs-decode; my 0.5.20 one rejects --cuda-graph-max-bs", FLAGS,
             ("| `--cuda-graph-max-bs-decode` | 0.5.14 |", "| `--cuda-graph-max-bs` | 0.5.1 | 0.5.19: gone from the next |")),
    Question("Is SGLANG_MAMBA_CONV_DTYPE read by 0.5.8?", ENV, ("| `SGLANG_MAMBA_CONV_DTYPE` | 0.5.9 |",)),
    Question("Does SGLANG_OPT_MAMBA_SKIP_DECODE_LOCK do anything on 0.5.16?", ENV,
             ("| `SGLANG_OPT_MAMBA_SKIP_DECODE_LOCK` | 0.5.17 |",)),
    Question("Is --mamba-full-memory-ratio accepted by 0.5.3?", FLAGS, ("| `--mamba-full-memory-ratio` | 0.5.3.post2 |",)),
    Question("SGLANG_QWEN35_PACKED_IN_PROJ=0 changes nothing on my 0.5.20 ROCm server", ENV,
             ("| `SGLANG_QWEN35_PACKED_IN_PROJ` | 0.5.21 |",)),
    Question("PD decode server on 0.5.10: --disaggregation-decode-enable-radix-cache is unknown", FLAGS,
             ("| `--disaggregation-decode-enable-radix-cache` | 0.5.11 |",)),
    # is a PR's change in the SGLang installed here
    Question("Is #28451's change in the SGLang installed on this machine?", IN_SGLANG,
             ("dossier drift | grep '^#N '", "missing that it is not")),
    Question("Show me the changed lines of PR #20627 that its card relies on", IN_SGLANG,
             ("dossier show N --diff", "after `dossier fetch N`")),
    # what this repository's runtime/ tests show
    Question("pytest tests/runtime passes on my box: are SGLang's GDN kernels right on my GPU?", RUNTIME,
             ("says nothing about SGLang's kernels", "tests/runtime/projections/test_proj_sglang_parity.py",
              "None of\nthem runs a server")),
    Question("Can I switch SGLang to this repository's deferred-write decode?", RUNTIME,
             ("Nothing in `runtime/` can be switched on in SGLang", "ships as its own ReplaySSM decode")),
    # a wrong fix: 0.5.12 and 0.5.13 do not parse --mamba-radix-cache-strategy (WRONG below)
    Question("Ascend NPU on 0.5.12: 'Page size must be 1 for MambaRadixCache v1, got 128'", "An error message quoted",
             ("the then flag `--mamba-scheduler-strategy extra_buffer` before (NPU from 0.5.12)",)),
    # minimum releases
    Question("Minimum SGLang release for --enable-hierarchical-cache with Qwen3-Next", MIN,
             ("HiRadixCache only supports MHA and MLA yet", "from 0.5.10", "#19663", "#27759")),
    Question("From which release can I serve an EAGLE3 draft for Qwen3-Next?", MIN,
             ("`--speculative-algorithm EAGLE3`", "Qwen3-Next from 0.5.9 ([#14607]")),
    Question("Qwen3.5 MTP with --enable-eplb: accept length drops after a rebalance", MIN,
             ("--enable-eplb", "fixed in 0.5.10 ([#19767]")),
]


#: (symptom row, text) the old manual gave as an answer and SGLang's releases contradict
WRONG = [  # (question, row, the wrong text): the row's answer to that question must not hold it
    ("Ascend NPU on 0.5.12: 'Page size must be 1 for MambaRadixCache v1, got 128'", "An error message quoted",
     "Fix: `--mamba-radix-cache-strategy extra_buffer` (NPU from 0.5.12"),
]


def test_there_are_twenty_five_questions():
    assert len(QUESTIONS) == 25 and len({q.ask for q in QUESTIONS}) == 25


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)


@pytest.mark.parametrize("ask, row, wrong", WRONG)
def test_wrong_answers_are_gone(ask, row, wrong):
    skill, section = answer(Question(ask, row, ()))
    assert wrong not in skill + section


def test_flag_releases_match_the_surface_lock():
    """Every row of references/flags.md is the lock's span of that name (the page is data, not prose)."""
    history = read_history(ROOT)
    page = (SKILL / "references" / "flags.md").read_text()
    rows = [line.split(" | ") for line in page.splitlines() if line.startswith("| `")]
    assert len(rows) >= 100, len(rows)
    for name, first, last, default, _explained in rows:
        name = name.strip("| `")
        span = history.span("flags" if name.startswith("--") else "env", name)
        assert span is not None and (span.first, span.last) == (first, last.split(":")[0].strip(" |")), name
        declared = history.defaults.get(name) if span.last == history.newest else None
        assert default == (f"`{declared}`" if declared is not None else "-"), (name, default)
