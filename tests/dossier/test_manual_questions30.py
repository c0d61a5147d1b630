"""Tasks from session 48's agent audit of the manual (helper B4), answered from SKILL.md plus the one section its
row links, and the SGLang 0.5.23 source lines (and release-tree facts, by what 0.5.23 still shows of them) those
answers rest on.

What they guard: the pool-sizing block named no Prometheus metric for the state pool (`sglang:mamba_usage` and the
slot counts); nothing mapped vLLM's `--mamba-ssm-cache-dtype` to `--mamba-ssm-dtype` or said that vLLM keeps
Qwen3-Next's SSM state in bf16 by default, so a port doubles it; the DP attention block said nothing of where the
vocabulary weights shard (`--enable-dp-lm-head`, its refusal without `--attn-dp-size`, the PD decode default of
`--enable-tp-lm-head-all-to-all`); the PD block never said that a prefill server skips the per-draft verify scratch
(0.5.18), that an Ascend prefill server keeps it from 0.5.21, that its budget stopped counting it only in 0.5.22, nor
which startup line shows it; Qwen3.5 was not told apart from Qwen3-Next for checkpoints without a `.weight`
(qweight); the Xeon CPU path had no row in the backend matrix; verify on XPU and CPU (and on NPU through 0.5.19)
commits the argmax whatever the temperature. Three questions were answered right and pin their facts (vLLM's
num_speculative_tokens as NEXTN steps, Qwen3.5 NVFP4's exclusion rule after 0.5.17, ROCm tree drafts verifying
greedily).
"""

from __future__ import annotations

import pytest

from tests.dossier.test_manual_questions import Question, assert_answered, sglang_file

POOL = "max_running_requests is capped by the Mamba state cache"
DTYPE = "Choosing --mamba-ssm-dtype"
MTP = "Turning on MTP (NEXTN) or NGRAM drafts"
DP = "Running with DP attention"
QUANT = "Loading FP8/NVFP4 weights"
PD = "PD disaggregation with GDN state"
OTHER = "GDN kernels on an A100"
ASCEND = "Ascend NPU: setup"

QUESTIONS = [
    Question("Grafana: which Prometheus metric tells me the Mamba state pool, not the KV cache, is what fills up?",
             POOL, ("`sglang:mamba_usage` (from 0.5.4.post3)", "`sglang:mamba_available_tokens`", "(from 0.5.12)",
                    "`sglang:token_usage` is the largest of KV and pool usage", "`--enable-metrics`")),
    Question("Moving Qwen3-Next from vLLM (default flags) to SGLang, the state pool per request doubled. What is "
             "vLLM's --mamba-ssm-cache-dtype here?", DTYPE,
             ("`vllm serve --mamba-ssm-cache-dtype` is this flag", "pull request 34489",
              "pass `--mamba-ssm-dtype bfloat16` to match vLLM")),
    Question("Our vLLM launch uses --speculative-config '{\"method\": \"mtp\", \"num_speculative_tokens\": 3}'. "
             "SGLang flags?", MTP,
             ("`--speculative-algorithm NEXTN`", "3 steps, top-k 1 and 4 draft tokens",
              "--speculative-num-steps 3 --speculative-eagle-topk 1 --speculative-num-draft-tokens 4")),
    Question("Qwen3-Next on 8x H200 with --tp-size 8 --attn-dp-size 8: where does the LM head sit, and what does "
             "--enable-dp-lm-head change?", DP,
             ("the LM head over the whole `--tp-size` group unless `--enable-dp-lm-head`", "622,329,856 bytes",
              "'AssertionError: --enable-dp-lm-head requires attention DP (--attn-dp-size).'",
              "`--enable-tp-lm-head-all-to-all`")),
    Question("Upgrading 0.5.16 -> 0.5.18, our Qwen3.5 NVFP4 export (GDN projections quantized) loads them "
             "quantized now. Expected?", QUANT,
             ("from 0.5.17 only the MTP rule stays, the checkpoint's exclusion list deciding the rest",)),
    Question("Ascend PD prefill server for Qwen3.5 with NEXTN on 0.5.23: does it still reserve the per-draft verify "
             "states?", PD, ("an Ascend NPU prefill server keeps it again from 0.5.21",
                             "its state pool allocates no per-draft verify scratch")),
    Question("After 0.5.21 -> 0.5.22 our H200 PD prefill server (NEXTN) has more state slots and KV. Why, and "
             "which log line shows it?", PD,
             ("through 0.5.21 its memory budget still set that scratch aside", "from 0.5.22 it does not",
              "no 'intermediate_ssm_state_cache size' part")),
    Question("Qwen3.5-27B AWQ (qweight): does it fail at construction like Qwen3-Next's packed loader?", QUANT,
             ("fail at construction on Qwen3-Next", "Qwen3.5 builds: its `_bind_packed_weight_loaders`")),
    Question("Qwen3.5 on a Xeon server (--device cpu): which GDN kernels run prefill, decode and verify?", OTHER,
             ("| prefill | CPU |", "`chunk_gated_delta_rule_cpu`", "`fused_sigmoid_gating_delta_rule_update_cpu`",
              "`fused_input_proj_cpu`", "no packed decode on CPU")),
    Question("Intel XPU, Qwen3.5 with NEXTN at temperature 0.8: is the draft verified by sampling?", OTHER,
             ("Verify commits the target's argmax on XPU whatever the temperature", "`_verify_uses_greedy`")),
    Question("Ascend, 0.5.19 -> 0.5.23 with MTP at temperature 0.7: outputs and accept length changed. Why?",
             ASCEND, ("up to 0.5.19 EAGLE/NEXTN verify on an NPU commits the target's argmax",
                      "from 0.5.20 an NPU takes the sampling verify path")),
    Question("MI300X, NEXTN with --speculative-eagle-topk 4 at temperature 0.7: is sampling honoured in verify?", MTP,
             ("HIP has no sampling-verify kernel, so verify would otherwise be greedy",
              "with `--speculative-use-rejection-sampling`")),
]


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)


def test_0_5_23_exports_the_state_pool_metrics():
    metrics = sglang_file("srt/observability/metrics_collector.py")
    for name in ("sglang:mamba_usage", "sglang:mamba_available_tokens", "sglang:mamba_evictable_tokens",
                 "sglang:mamba_used_tokens"):
        assert f'name="{name}"' in metrics, name
    observer = sglang_file("srt/managers/scheduler_components/pool_stats_observer.py")
    assert "stats.token_usage = round(self.get_max_pool_usage(), 2)" in observer
    assert "usage = max(usage, self.mamba_usage)" in observer


def test_0_5_23_dp_lm_head_needs_attention_dp_and_qwen3_next_shards_its_vocab_by_it():
    overrides = sglang_file("srt/arg_groups/overrides.py")
    assert '"--enable-dp-lm-head requires attention DP (--attn-dp-size)."' in overrides
    assert 'view.disaggregation_mode == "decode"\n        and view.attn_dp_size > 1' in overrides
    model = sglang_file("srt/models/qwen3_next.py")
    assert "use_attn_tp_group=is_dp_attention_enabled()" in model
    assert "use_attn_tp_group=get_parallel().enable_dp_lm_head" in model
    config = sglang_file("srt/configs/qwen3_next.py")
    assert "vocab_size=151936" in config and "hidden_size=2048" in config


def test_0_5_23_pd_prefill_skips_the_verify_scratch_off_npu_in_pool_and_budget():
    sizing = sglang_file("srt/mem_cache/kv_cache_configurator.py")
    rule = sizing.split("def _pd_prefill_skips_mamba_spec_state", 1)[1].split("\ndef ", 1)[0]
    for term in ('disagg.disaggregation_mode == "prefill"', "not disagg.enable_pd_role_switch",
                 "not get_memory().enable_unified_memory", "not _is_npu"):
        assert term in rule, term
    assert "and not _pd_prefill_skips_mamba_spec_state()" in sizing  # the budget (0.5.22 on)
    assert "intermediate_ssm_state_cache size:" in sglang_file("srt/mem_cache/memory_pool.py")


def test_0_5_23_qwen35_binds_packed_loaders_only_to_present_parameters():
    model = sglang_file("srt/models/qwen3_5.py")
    bind = model.split("def _bind_packed_weight_loaders", 1)[1].split("\n    @", 1)[0]
    assert 'param = getattr(module, attr_name, None)\n            if param is None:\n                continue' in bind
    assert "original_loader = module.weight.weight_loader" in sglang_file("srt/models/qwen3_next.py")


def test_0_5_23_cpu_binds_the_gdn_ops_to_sgl_kernel():
    triton = sglang_file("srt/layers/attention/linear/kernels/gdn_triton.py")
    assert "chunk_gated_delta_rule = chunk_gated_delta_rule_cpu" in triton
    assert "torch.ops.sgl_kernel.fused_sigmoid_gating_delta_rule_update_cpu" in triton
    assert "supports_packed_decode: bool = not is_cpu() and not is_npu()" in triton
    backend = sglang_file("srt/layers/attention/linear/gdn_backend.py")
    assert "fused_gdn_gating = torch.ops.sgl_kernel.fused_gdn_gating_cpu" in backend
    assert "torch.ops.sgl_kernel.fused_input_proj_cpu(" in sglang_file("srt/models/qwen3_5.py")
    assert "Overlap schedule is not implemented for speculative decoding on CPU." in sglang_file(
        "srt/arg_groups/speculative_hook.py")


def test_0_5_23_verify_is_greedy_on_xpu_cpu_and_hip_without_rejection_sampling_not_on_npu():
    utils = sglang_file("srt/speculative/eagle_utils.py")
    assert "return is_all_greedy or is_cpu or is_xpu or (is_hip and not use_rejection_sampling)" in utils
    hook = sglang_file("srt/arg_groups/speculative_hook.py")
    auto = hook.split("def _should_auto_enable_hip_rejection_sampling", 1)[1].split("\ndef ", 1)[0]
    assert "and eagle_topk == 1" in auto


def test_0_5_23_adjusts_draft_tokens_to_steps_plus_one_for_top_k_1():
    hook = sglang_file("srt/arg_groups/speculative_hook.py")
    assert "speculative_num_draft_tokens is adjusted to speculative_num_steps + 1 when speculative_eagle_topk == 1" \
        in hook


def test_0_5_23_qwen35_nvfp4_keeps_only_the_mtp_rule():
    assert 'quant_config.get_name() == "modelopt_fp4"' not in sglang_file("srt/models/qwen3_5.py")
    assert 'quant_config.get_name() == "modelopt_fp4"' in sglang_file("srt/models/qwen3_5_mtp.py")
