"""Tasks from session 32's agent audit of the manual, answered from SKILL.md plus the one section its row links, and
the SGLang 0.5.23 source lines those answers rest on (read from the installed package's files, not imported).

What they guard: the MTP verify path said FlashInfer verifies "when decode or prefill runs FlashInfer", which reads as
"a default H200 MTP launch verifies on FlashInfer" since 0.5.19 made FlashInfer the SM90 prefill default, while
0.5.23 resolves an unset verify backend from decode alone; the upgrade block had no path for 0.5.9 -> 0.5.14, where
0.5.10 replaced the Triton decode path; the ReplaySSM block never said what the decode flag does under MTP; the
removed-flags block sent the CUDA-graph flags to server_args.py, which defines none of them in 0.5.23.
"""

from __future__ import annotations

import re

import pytest

from tests.dossier.test_manual_questions import Question, answer, assert_answered, sglang_file

VERIFY = "Where MTP / NEXTN target verify runs"
UPGRADE = "Output or speed changed after upgrading"
REPLAY = "ReplaySSM decode and MTP verify"
REMOVED = "A launch script from an older SGLang stops at startup"

QUESTIONS = [
    Question("Default H200 MTP launch on 0.5.23 (FlashInfer prefill picked by itself): which kernel verifies?", VERIFY,
             ("From 0.5.18 an unset verify backend follows decode alone", "leaves verify on Triton",
              "`--linear-attn-verify-backend flashinfer` verifies on FlashInfer when decode or prefill runs it",
              "0.5.10 to 0.5.17 verified on FlashInfer whenever decode or prefill ran FlashInfer")),
    Question("Decode speed changed after upgrading 0.5.9 -> 0.5.14 with the same flags: what moved?", UPGRADE,
             ("0.5.9 -> 0.5.14", "[#20627](pr-history.md#pr-20627)", "[#20283](pr-history.md#pr-20283)",
              "`SGLANG_USE_CUTEDSL_GDN_DECODE`", "`--linear-attn-decode-backend cutedsl`",
              "same code from 0.5.10 through 0.5.21")),
    Question("Does --enable-linear-replayssm speed up MTP (NEXTN) decoding?", REPLAY,
             ("Under MTP only the `-spec` ring serves verify", "MambaAttnBackendBase._forward_metadata")),
    Question("What happens to the conv and SSM state when a request's prefix hits the radix cache?",
             "Prefix cache hit rate",
             ("On a hit the matched node's saved conv window and SSM state are copied into the request's own slot",
              "`ScheduleBatch._collect_deferred_mamba_cow_and_clear`",
              "`MambaComponent.finalize_match_result_in_cache`")),
    Question("Old script passes --cuda-graph-max-bs: what replaces it and where is it defined in 0.5.23?", REMOVED,
             ("`--cuda-graph-max-bs-decode`", "Where: `python/sglang/srt/arg_groups/fields/exec_.py`")),
]


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)


def test_the_verify_path_no_longer_says_prefill_alone_brings_flashinfer_verify():
    _, section = answer(QUESTIONS[0])
    assert "FlashInfer verify (SM90/SM100, when decode or prefill runs FlashInfer)" not in section


def test_0_5_23_resolves_an_unset_verify_backend_from_decode_alone():
    """The sentence's source: `resolve_linear_attn_backends` (the prefill choice plays no part) and the dispatcher's
    explicit-triton branch coming first."""
    utils = sglang_file("srt/layers/attention/linear/utils.py")
    body = utils.split("def resolve_linear_attn_backends(", 1)[1].split("\ndef ", 1)[0]
    assert re.search(r'verify = decode\.value if decode\.is_flashinfer\(\) else "triton"', body)
    assert "prefill" not in body.split("verify = mamba.linear_attn_verify_backend", 1)[1].split("backends =", 1)[0]
    dispatcher = sglang_file("srt/layers/attention/linear/gdn_backend.py")
    init = dispatcher.split("class GDNKernelDispatcher", 1)[1]
    assert init.index("verify_backend is not None and verify_backend.is_triton()") < init.index(
        "decode_backend.is_flashinfer() or prefill_backend.is_flashinfer()")


def test_0_5_23_runs_the_decode_ring_on_decode_mode_steps_only():
    backend = sglang_file("srt/layers/attention/hybrid_linear_attn_backend.py")
    metadata = backend.split("def _forward_metadata(", 1)[1].split("\n    def ", 1)[0]
    gate = metadata.index("if logical_mode.is_decode_or_idle():")
    assert metadata.index("replayssm_write_pos = None") < gate < metadata.index("mamba_pool.replayssm_write_pos")


def test_the_cuda_graph_flags_live_where_the_removed_flags_block_says():
    fields = sglang_file("srt/arg_groups/fields/exec_.py")
    assert all(f"    {name}: " in fields for name in ("cuda_graph_max_bs_decode", "cuda_graph_bs_decode",
                                                     "cuda_graph_backend_prefill"))
    assert "cuda_graph_max_bs_decode" not in sglang_file("srt/server_args.py")


def test_0_5_23_copies_the_matched_state_into_the_requests_slot_on_a_hit():
    mamba = sglang_file("srt/mem_cache/unified_cache/components/mamba.py")
    body = mamba.split("class MambaComponent(", 1)[1].split("def finalize_match_result_in_cache(", 1)[1]
    body = body.split("\n    def ", 1)[0]
    assert "Copy-on-write the matched device mamba state into a per-request slot" in body
    assert "req.kv.mamba_cow_src_index = src_index" in body
