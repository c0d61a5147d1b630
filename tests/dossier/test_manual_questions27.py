"""Tasks from session 45's agent audit of the manual, answered from SKILL.md plus the one section its row links, and
the SGLang 0.5.23 source lines those answers rest on (read from the installed package's files, not imported).

What they guard: the SM100 prefill row offered `cutedsl` with no word that its kernel returns no per-chunk states,
which extra_buffer's tracking (the auto strategy's pick) asserts on; nothing said a PD pair needs the same state dtypes
on both sides (the per-GPU dtype advice builds a mismatched pair, which Mooncake refuses at equal TP only);
`--enable-mixed-chunk` with NEXTN was unanswered (kept from 0.5.19, risky beside the ReplaySSM spec ring); two
messages a user meets were not indexed ('Can not alloc mamba cache', SM120's trtllm_mha FP8 prefill refusal); the
reference-kernels page called the H200 run "the last committed run" and left out the H100 miss; nothing said how
to give the KV cache more of the memory at long context.
"""

from __future__ import annotations

import pytest

from tests.dossier.test_manual_questions import Question, assert_answered, sglang_file

ERRORS = "An error message quoted from the log"
BACKENDS = "Which GDN kernel runs prefill / decode / verify on my GPU"
PD = "PD disaggregation with GDN state"
MTP = "Turning on MTP (NEXTN)"
OURS_GDN = "A number from this repository's reference kernels"

QUESTIONS = [
    Question("B200, default prefix caching: should I pass --linear-attn-prefill-backend cutedsl?", BACKENDS,
             ("it returns no per-chunk states", "`assert h is not None`", "pair it with no_buffer or the radix cache "
                                                                           "off")),
    Question("H200 prefill server with an fp32 state, B200 decode server with --mamba-ssm-dtype bfloat16: OK?", PD,
             ("Run both sides with the same state dtypes", "Prefill/Decode Mamba slot size mismatch",
              "NIXL check no sizes")),
    Question("Does --enable-mixed-chunk stay on with NEXTN, and is it safe with the ReplaySSM spec ring?", MTP,
             ("kept from 0.5.19", "`SpeculativeAlgorithm.supports_mixed_chunk`",
              "Keep it off with `--enable-linear-replayssm-spec`")),
    Question("Under load: 'AssertionError: Can not alloc mamba cache'. What ran out?", ERRORS,
             ("'AssertionError: Can not alloc mamba cache' (from 0.5.3.post2", "evicting cached states freed none")),
    Question("RTX PRO 6000 with --attention-backend trtllm_mha --kv-cache-dtype fp8_e4m3 stops: 'TRTLLM FMHAv2 "
             "prefill on SM120 does not support fp8_e4m3 KV cache'. Fix?", ERRORS,
             ("`--prefill-attention-backend flashinfer`", "trtllm_mha with a bf16 KV cache")),
    Question("128K-token prompts: the KV cache fills long before the Mamba state pool. Which knob moves memory to "
             "KV?", "max_running_requests is capped by the Mamba state cache",
             ("`--mamba-full-memory-ratio`", "a lower ratio gives it more (0.5 leaves the state pool a third)")),
    Question("Is the deferred decode's 1.1x over SGLang's ReplaySSM still met, on which GPU, and with SGLang's "
             "force-flush mask?", OURS_GDN,
             ("before SGLang's kernel got the force-flush mask", "results/bench/gdn-s44-h100.json", "(1.088x)")),
]


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)


def test_0_5_23_cutedsl_prefill_returns_no_chunk_states_and_the_tracking_asserts_on_them():
    cutedsl = sglang_file("srt/layers/attention/linear/kernels/gdn_cutedsl.py")
    assert "return output, None, None" in cutedsl and "supports_track_state_snapshot" not in cutedsl
    backend = sglang_file("srt/layers/attention/hybrid_linear_attn_backend.py")
    assert "assert h is not None" in backend.split("def _track_mamba_state_extend(", 1)[1].split("\n    def ", 1)[0]


def test_0_5_23_mooncake_checks_slot_sizes_only_on_the_equal_tp_path():
    conn = sglang_file("srt/disaggregation/mooncake/conn.py")
    assert "Prefill/Decode Mamba slot size mismatch" in conn
    assert "ssm_dtype" not in sglang_file("srt/disaggregation/utils.py")


def test_0_5_23_keeps_mixed_chunk_for_eagle_and_skips_the_fp32_spec_fold():
    spec = sglang_file("srt/speculative/spec_info.py")
    kept = spec.split("def supports_mixed_chunk(", 1)[1].split("\n    def ", 1)[0]
    assert "SpeculativeAlgorithm.EAGLE," in kept and "NGRAM" not in kept.split('"""', 2)[2]
    assert "fold_every_commit=spec_state.temporal.dtype != torch.float32" in sglang_file("srt/speculative/spec_utils.py")


def test_0_5_23_raises_the_two_newly_indexed_messages():
    assert 'assert slot is not None, "Can not alloc mamba cache"' in sglang_file(
        "srt/mem_cache/unified_cache/components/mamba.py")
    hook = sglang_file("srt/arg_groups/attention_hook.py")
    assert '"TRTLLM FMHAv2 prefill on SM120 does not support "' in hook and 'cfg.kv_cache_dtype == "fp8_e4m3"' in hook
