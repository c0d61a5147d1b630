"""Packed decode kernel on a [slots, HV, V, K] pool (#15631, #17981) against the fp32 reference."""

import pytest
import torch
import torch.nn.functional as F

from runtime.gdn import naive
from runtime.gdn.decode import DecodeConfig, packed_decode
from runtime.gdn.gated_norm import gated_rmsnorm

from ._gdn_cases import (
    DEVICE,
    SHAPES,
    SMALL,
    TINY,
    TP1,
    load_fla_module,
    nan_like,
    params,
    pool,
    randn,
    rel_err,
    slot_indices,
    step_inputs,
    strided_pool,
)
from ._gdn_cases import gen as make_gen


def _batch(s):
    return 64 if s.K == 128 else 5


@pytest.mark.parametrize("strided", [False, True], ids=["pool", "strided-pool"])
@pytest.mark.parametrize("s", SHAPES)
def test_packed_decode_matches_reference(s, strided, parity):
    """One step: out (fp32, poisoned) and touched states within 1e-5 relative of naive.gdn_decode_step.

    Random non-contiguous slots in a pool three times the batch, two padding rows (-1): their outputs
    are exactly zero and every slot not named in the batch is bit-for-bit unchanged.
    """
    g0 = make_gen(100 + s.K)
    B = _batch(s)
    qkv, a, b = step_inputs(s, B, g0)
    A_log, dt_bias = params(s, g0)
    states = (strided_pool if strided else pool)(s, 3 * B, g0)
    before = states.clone()
    idx = slot_indices(B, 3 * B, g0, padding=2)
    out = packed_decode(qkv, a, b, A_log, dt_bias, states, idx, num_k_heads=s.H, out=nan_like((B, s.HV, s.V)))
    ref_pool = before.clone()
    ref = naive.gdn_decode_step(qkv, a, b, A_log, dt_bias, ref_pool, idx, num_k_heads=s.H)
    parity("decode output", out, ref, 1e-5)
    pad = idx < 0
    assert torch.equal(out[pad], torch.zeros_like(out[pad]))
    used = idx[~pad].long()
    parity("decode state", states[used], ref_pool[used], 1e-5)
    untouched = torch.ones(states.shape[0], dtype=torch.bool, device=DEVICE)
    untouched[used] = False
    assert torch.equal(states[untouched], before[untouched])


@pytest.mark.parametrize(
    "cfg",
    [DecodeConfig(), DecodeConfig(2, 1), DecodeConfig(8, 1), DecodeConfig(16, 2), DecodeConfig(32, 4), DecodeConfig(64, 4)],
    ids=str,
)
def test_packed_decode_tilings_agree(cfg):
    """Every tiling of the [V, K] state (rows per program, warps) gives the same step, partial tiles too."""
    g0 = make_gen(101)
    s = SMALL
    qkv, a, b = step_inputs(s, 6, g0)
    A_log, dt_bias = params(s, g0)
    states = pool(s, 9, g0)
    idx = slot_indices(6, 9, g0, padding=1)
    ref_pool = states.clone()
    ref = naive.gdn_decode_step(qkv, a, b, A_log, dt_bias, ref_pool, idx, num_k_heads=s.H)
    out = packed_decode(
        qkv, a, b, A_log, dt_bias, states, idx, num_k_heads=s.H, out=nan_like((6, s.HV, s.V)), config=cfg
    )
    assert rel_err(out, ref) < 1e-5
    assert rel_err(states, ref_pool) < 1e-5


@pytest.mark.parametrize(
    "s", [pytest.param(TINY, id="tiny"), pytest.param(TP1, id="tp1", marks=pytest.mark.gpu)]
)
def test_256_decode_steps_track_reference(s):
    """256 consecutive steps on fresh tokens: every step's output and the final states within 1e-4 relative.

    The same slots are reused each step (one stays padding), so errors would compound if the in-place
    update were wrong anywhere.
    """
    g0 = make_gen(102)
    B = 16 if s is TP1 else 2
    cfg = None if s is TP1 else DecodeConfig(block_v=s.V, num_warps=1)  # one program per head (interpreter)
    A_log, dt_bias = params(s, g0)
    states = pool(s, 2 * B, g0)
    ref_pool = states.clone()
    idx = slot_indices(B, 2 * B, g0, padding=1)
    worst = 0.0
    for _ in range(256):
        qkv, a, b = step_inputs(s, B, g0)
        out = packed_decode(
            qkv, a, b, A_log, dt_bias, states, idx, num_k_heads=s.H, out=nan_like((B, s.HV, s.V)), config=cfg
        )
        ref = naive.gdn_decode_step(qkv, a, b, A_log, dt_bias, ref_pool, idx, num_k_heads=s.H)
        worst = max(worst, rel_err(out[idx >= 0], ref[idx >= 0]))
    assert worst < 1e-4
    assert rel_err(states, ref_pool) < 1e-4


@pytest.mark.parametrize("s", SHAPES)
def test_decode_then_gated_norm_equals_hf_step(s):
    """packed_decode (bf16 out, as served) + gated_rmsnorm == the HF-equivalent composed step, rel < 8e-3."""
    g0 = make_gen(103)
    B = _batch(s)
    qkv, a, b = step_inputs(s, B, g0)
    A_log, dt_bias = params(s, g0)
    z = randn(B, s.HV, s.V, gen=g0, dtype=torch.bfloat16)
    w = randn(s.V, gen=g0)
    states = pool(s, 2 * B, g0)
    ref_pool = states.clone()
    idx = slot_indices(B, 2 * B, g0)
    y = gated_rmsnorm(packed_decode(qkv, a, b, A_log, dt_bias, states, idx, num_k_heads=s.H), z, w)
    ref = naive.gdn_decode_step(qkv, a, b, A_log, dt_bias, ref_pool, idx, num_k_heads=s.H, z=z, norm_weight=w)
    assert y.dtype == torch.bfloat16
    assert rel_err(y, ref) < 8e-3
    assert rel_err(states, ref_pool) < 1e-5


@pytest.mark.parametrize("s", SHAPES)
def test_l2norm_epsilon_placement_in_kernel(s):
    """#10466: q/k with norms near sqrt(eps) follow x / sqrt(sum x^2 + 1e-6), not F.normalize."""
    g0 = make_gen(104)
    B = _batch(s)
    qkv, a, b = step_inputs(s, B, g0, dtype=torch.float32)
    qkv[:, : 2 * s.H * s.K] *= 1e-4  # |q|, |k| ~ 1e-3: the epsilon placement decides the result
    A_log, dt_bias = params(s, g0)
    states = pool(s, B, g0)
    idx = slot_indices(B, B, g0)
    ref_pool, alt_pool = states.clone(), states.clone()
    out = packed_decode(qkv, a, b, A_log, dt_bias, states, idx, num_k_heads=s.H, out=nan_like((B, s.HV, s.V)))
    ref = naive.gdn_decode_step(qkv, a, b, A_log, dt_bias, ref_pool, idx, num_k_heads=s.H)
    q, k, v = naive.split_qkv(qkv, s.H, s.K, s.HV, s.V)
    g, beta = naive.gdn_gating(a, b, A_log, dt_bias)
    qn, kn = (F.normalize(x, dim=-1, eps=1e-6)[:, None] for x in (q, k))
    alt = naive.recurrent_gdn(qn, kn, v[:, None], g[:, None], beta[:, None], alt_pool, idx)[:, 0]
    assert rel_err(out, ref) < 1e-5
    assert rel_err(states, ref_pool) < 1e-5
    assert rel_err(out, alt) > 0.1


@pytest.mark.parametrize("s", SHAPES)
def test_packed_decode_matches_fla_fused_recurrent(s):
    """Same step as fla-core's fused_recurrent_gated_delta_rule (state_v_first, in-kernel gate/sigmoid/L2),
    fp32 activations: outputs and states within 1e-5 relative. Skipped when fla-core is absent."""
    fla_gdn = load_fla_module("fla.ops.gated_delta_rule")
    g0 = make_gen(105)
    B = _batch(s)
    qkv, a, b = step_inputs(s, B, g0, dtype=torch.float32)
    A_log, dt_bias = params(s, g0)
    states = pool(s, 2 * B, g0)
    idx = slot_indices(B, 2 * B, g0)
    h0 = states[idx.long()].clone()
    out = packed_decode(qkv, a, b, A_log, dt_bias, states, idx, num_k_heads=s.H, out=nan_like((B, s.HV, s.V)))
    q, k, v = naive.split_qkv(qkv, s.H, s.K, s.HV, s.V)
    o_fla, h_fla = fla_gdn.fused_recurrent_gated_delta_rule(
        q[:, None].contiguous(),
        k[:, None].contiguous(),
        v[:, None].contiguous(),
        g=a[:, None].contiguous(),
        beta=b[:, None].contiguous(),
        initial_state=h0,
        output_final_state=True,
        use_qk_l2norm_in_kernel=True,
        use_gate_in_kernel=True,
        A_log=A_log,
        dt_bias=dt_bias,
        use_beta_sigmoid_in_kernel=True,
        state_v_first=True,
    )
    assert rel_err(out, o_fla[:, 0]) < 1e-5
    assert rel_err(states[idx.long()], h_fla) < 1e-5
