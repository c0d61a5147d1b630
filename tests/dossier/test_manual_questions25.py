"""Tasks from session 33's agent audit of the manual, answered from SKILL.md plus the one section its row links, and
the SGLang 0.5.23 source lines those answers rest on (read from the installed package's files, not imported).

What they guard: the extra_buffer refusal 'extra_buffer is not supported for <arch>' was explained as "the model has
none", while 0.5.23 also refuses it for a non-triton `--linear-attn-backend` and on XPU; the backends block said the
base flag "sets all three" phases without saying it also decides prefix caching's auto strategy; the decode block's
auto rule left out the overlap-or-paging condition; by-release said #11214's class line was absent from 0.5.12 to 0.5.18
(its quoted line had gained a mixin base class there), which also made `for-version` place the change outside them.
"""

from __future__ import annotations

import pytest

from tests.dossier.test_manual_questions import Question, assert_answered, sglang_file

ERRORS = "An error message quoted from the log"
BACKENDS = "Which GDN kernel runs prefill / decode / verify on my GPU"
DECODE = "Decode throughput is low or ITL jumps"

QUESTIONS = [
    Question("Qwen3-Next with --linear-attn-backend flashinfer and --mamba-radix-cache-strategy extra_buffer stops "
             "with 'extra_buffer is not supported for Qwen3NextForCausalLM; use no_buffer.' Why?", ERRORS,
             ("or `--linear-attn-backend` is not triton (from 0.5.14; use the per-phase flags)",
              "or the platform is XPU (from 0.5.20)")),
    Question("Does --linear-attn-backend flashinfer on an H100 change anything besides the kernels?", BACKENDS,
             ("any other base value also makes prefix caching's auto strategy no_buffer with overlap scheduling off",)),
    Question("I launch with --disable-overlap-schedule at page size 1: which prefix-caching strategy does auto pick?",
             DECODE, ("`--disable-overlap-schedule` at page size 1 also gives no_buffer",)),
]


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)


def test_11214s_class_line_is_not_called_absent_while_a_base_class_was_added():
    from tests.dossier.test_manual_questions import SKILL

    by_release = (SKILL / "references/by-release.md").read_text()
    line = next(x for x in by_release.splitlines() if x.startswith("- [#11214]"))
    assert "shipped in 0.5.3.post2, its line gone in 0.5.21" in line and "absent" not in line


def test_0_5_23_refuses_extra_buffer_for_a_non_triton_base_backend_and_on_xpu():
    overrides = sglang_file("srt/arg_groups/overrides.py")
    supports = overrides.split("def supports_mamba_cache_extra_buffer(", 1)[1].split("\ndef ", 1)[0]
    assert "if get_platform().is_xpu:\n        return False" in supports
    assert 'return view.linear_attn_backend == "triton"' in supports
    hook = sglang_file("srt/arg_groups/mamba_hook.py")
    validate = hook.split("def validate_mamba_extra_buffer(", 1)[1].split("\ndef ", 1)[0]
    assert "assert supports_mamba_cache_extra_buffer(view, hf_config)" in validate
    assert "is not supported for" in validate


def test_0_5_23_auto_needs_overlap_or_paging_for_extra_buffer():
    overrides = sglang_file("srt/arg_groups/overrides.py")
    body = overrides.split("def _mamba_radix_cache_resolution(", 1)[1].split("\ndef ", 1)[0]
    assert "if (wants_overlap or wants_paging) and supports_mamba_cache_extra_buffer(" in body
    assert 'declared["disable_overlap_schedule"] = True' in body


def test_0_5_23_resets_draft_tokens_to_steps_plus_one_at_top_k_1():
    """The memory error's fix said "lower --speculative-num-draft-tokens", which top-k 1 (NEXTN's default) resets."""
    hook = sglang_file("srt/arg_groups/speculative_hook.py")
    assert "speculative_num_draft_tokens=cfg.speculative_num_steps + 1" in hook
    from tests.dossier.test_manual_questions import SKILL

    errors = (SKILL / "references/errors.md").read_text()
    assert "lower `--speculative-num-steps` (at top-k 1 the draft tokens follow as steps + 1" in errors
    assert "lower `--speculative-num-draft-tokens`" not in errors


def test_0_5_23_cuts_a_multimodal_checkpoints_memory_fraction_unless_language_only():
    hook = sglang_file("srt/arg_groups/memory_hook.py")
    vlm = hook.split("is_vlm = (", 1)[1].split(")", 1)[0]
    assert "not cfg.language_only" in vlm and "not cfg.language_model_only" in vlm
    assert "base_mem_fraction_reduction_ratio = 0.95" in hook and "max(0.8, min(1.05," in hook
    assert "activation_tokens = max(running_requests * draft_tokens, 2048)" in hook
