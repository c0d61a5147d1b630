"""The state-slot bytes the manual quotes (pool-sizing answer) are what the installed SGLang's own shape
function gives for Qwen3-Next-80B's sizes, not numbers worked out by hand."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from runtime import sglang_files

ROOT = Path(__file__).resolve().parents[2]
ANSWERS = next((ROOT / "skills").glob("*/references/answers.md"))

#: Qwen3-Next-80B-A3B: key heads, value heads, head dims, conv kernel, layers, full-attention interval
SIZES = {"hk": 16, "hv": 32, "dk": 128, "dv": 128, "conv": 4, "layers": 48, "interval": 4}


def _divide(a: int, b: int) -> int:
    assert a % b == 0, (a, b)
    return a // b


class _Unset:
    def get(self):
        return None


def _shape_module():
    stand_ins = {
        "sglang.srt.distributed.utils": {"divide": _divide},
        "sglang.srt.environ": {"envs": type("Envs", (), {"__getattr__": lambda self, name: _Unset()})()},
    }
    module = sglang_files.load("srt/configs/mamba_utils.py", stand_ins)
    if module is None or not hasattr(module, "Mamba2StateShape"):
        pytest.skip("SGLang's srt/configs/mamba_utils.py is not installed")
    return module


def _slot_bytes(tp: int, ssm_bytes: int) -> tuple[int, int]:
    """(bytes per GDN layer, bytes per slot) at attention-TP ``tp``, bf16 conv state."""
    s = SIZES
    shape = _shape_module().Mamba2StateShape.create(
        tp_world_size=tp, intermediate_size=s["dv"] * s["hv"], n_groups=s["hk"], num_heads=s["hv"],
        head_dim=s["dv"], state_size=s["dk"], conv_kernel=s["conv"],
        conv_shard_groups=[s["dk"] * s["hk"], s["dk"] * s["hk"], s["dv"] * s["hv"]],
    )
    per_layer = math.prod(shape.conv[0]) * 2 + math.prod(shape.temporal) * ssm_bytes
    gdn_layers = sum(1 for i in range(s["layers"]) if (i + 1) % s["interval"])
    return per_layer, per_layer * gdn_layers


@pytest.mark.parametrize(("tp", "ssm_bytes"), [(1, 4), (4, 4), (1, 2), (4, 2)])
def test_quoted_slot_bytes_match_sglangs_shape(tp, ssm_bytes):
    text = ANSWERS.read_text(encoding="utf-8")
    per_layer, slot = _slot_bytes(tp, ssm_bytes)
    if tp == 1 and ssm_bytes == 4:
        assert f"{per_layer:,} bytes per layer at TP1" in text
    assert f"{slot:,}" in text, (tp, ssm_bytes, slot)


def test_quoted_speculative_scratch_matches_sglangs_shape():
    """Pool-sizing item 3: Qwen3-Next at TP4 with 8 draft tokens, fp32 state. Per request: one SSM state per
    draft token; conv windows deduplicated (top-k 1: draft tokens + window - 1 columns) or one window per draft
    token (tree drafts); the budget reserves a whole slot per draft token."""
    s, tp, draft = SIZES, 4, 8
    shape = _shape_module().Mamba2StateShape.create(
        tp_world_size=tp, intermediate_size=s["dv"] * s["hv"], n_groups=s["hk"], num_heads=s["hv"],
        head_dim=s["dv"], state_size=s["dk"], conv_kernel=s["conv"],
        conv_shard_groups=[s["dk"] * s["hk"], s["dk"] * s["hk"], s["dv"] * s["hv"]],
    )
    layers = sum(1 for i in range(s["layers"]) if (i + 1) % s["interval"])
    channels, window = shape.conv[0]
    ssm = math.prod(shape.temporal) * 4 * draft * layers
    tree_conv = channels * window * 2 * draft * layers
    chain_conv = channels * (draft + window - 1) * 2 * layers
    slot = _slot_bytes(tp, 4)[1]
    text = ANSWERS.read_text(encoding="utf-8")
    for value in (ssm, chain_conv, tree_conv, slot * draft, 5 * slot):
        assert f"{value:,}" in text, value
    assert f"about {round((5 * slot + ssm + chain_conv) / 1e6)} MB per request" in text
