"""The fp32 references agree with each other and with the formulas the kernels are held to."""

import pytest
import torch
import torch.nn.functional as F

from runtime.gdn import naive

from ._gdn_cases import DEVICE, SMALL, gen, pool, randn, rel_err, slot_indices, step_inputs


def _sequence(s, B, T, g0):
    q = naive.l2norm(randn(B, T, s.H, s.K, gen=g0))
    k = naive.l2norm(randn(B, T, s.H, s.K, gen=g0))
    v = randn(B, T, s.HV, s.V, gen=g0)
    g, beta = naive.gdn_gating(
        randn(B, T, s.HV, gen=g0) - 1.0,
        randn(B, T, s.HV, gen=g0),
        torch.log(1 + 3 * torch.rand(s.HV, generator=g0, device=DEVICE)),
        randn(s.HV, gen=g0),
    )
    return q, k, v, g, beta


@pytest.mark.parametrize("chunk_size", [16, 64])
def test_chunk_form_equals_recurrence(chunk_size):
    """Chunked WY form == token-by-token recurrence (outputs and final state), T not a chunk multiple."""
    g0 = gen(1)
    B, T = 2, 150
    q, k, v, g, beta = _sequence(SMALL, B, T, g0)
    states = pool(SMALL, 5, g0)
    idx = torch.tensor([3, 1], device=DEVICE)
    h0 = states[idx].clone()
    o_ref = naive.recurrent_gdn(q, k, v, g, beta, states, idx)
    o, final = naive.chunk_gdn(q, k, v, g, beta, h0, chunk_size=chunk_size)
    assert rel_err(o, o_ref) < 1e-5
    assert rel_err(final, states[idx]) < 1e-5


def test_state_layouts_agree():
    """The [V, K] (SGLang) and [K, V] (fla default) pool layouts agree to fp32 rounding (1e-6)."""
    g0 = gen(2)
    q, k, v, g, beta = _sequence(SMALL, 3, 7, g0)
    vk = pool(SMALL, 6, g0)
    kv = vk.transpose(-1, -2).contiguous()
    idx = torch.tensor([4, -1, 0], device=DEVICE)
    o_vk = naive.recurrent_gdn(q, k, v, g, beta, vk, idx, layout="vk")
    o_kv = naive.recurrent_gdn(q, k, v, g, beta, kv, idx, layout="kv")
    torch.testing.assert_close(o_vk, o_kv, rtol=1e-6, atol=1e-6)  # same math, reduction order may differ
    torch.testing.assert_close(vk, kv.transpose(-1, -2), rtol=1e-6, atol=1e-6)


def test_padding_rows_are_zero_and_leave_state():
    g0 = gen(3)
    q, k, v, g, beta = _sequence(SMALL, 3, 4, g0)
    states = pool(SMALL, 4, g0)
    before = states.clone()
    idx = torch.tensor([2, -1, 0], device=DEVICE)
    o = naive.recurrent_gdn(q, k, v, g, beta, states, idx)
    assert torch.equal(o[1], torch.zeros_like(o[1])) and o[0].abs().sum() > 0
    assert torch.equal(states[[1, 3]], before[[1, 3]])
    assert not torch.equal(states[2], before[2])


def test_verify_reference_matches_recurrence():
    """verify_gdn's outputs and per-step states equal running recurrent_gdn one token at a time."""
    g0 = gen(4)
    q, k, v, g, beta = _sequence(SMALL, 2, 5, g0)
    states = pool(SMALL, 3, g0)
    idx = torch.tensor([2, 0], device=DEVICE)
    frozen = states.clone()
    o, inter = naive.verify_gdn(q, k, v, g, beta, states, idx)
    assert torch.equal(states, frozen)
    for t in range(5):
        o_t = naive.recurrent_gdn(
            q[:, t : t + 1],
            k[:, t : t + 1],
            v[:, t : t + 1],
            g[:, t : t + 1],
            beta[:, t : t + 1],
            states,
            idx,
        )
        torch.testing.assert_close(o[:, t], o_t[:, 0], rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(inter[:, t], states[idx], rtol=1e-6, atol=1e-6)


def test_l2norm_epsilon_inside_root():
    """#10466: eps sits inside the root; on tiny vectors this differs from F.normalize's max(norm, eps)."""
    x = randn(64, 128, gen=gen(5), scale=1e-5)
    expected = x / torch.sqrt((x * x).sum(-1, keepdim=True) + 1e-6)
    torch.testing.assert_close(naive.l2norm(x), expected, rtol=1e-6, atol=0)
    assert rel_err(F.normalize(x, dim=-1, eps=1e-6), naive.l2norm(x)) > 5.0


def test_gating_matches_torch_softplus():
    """g = -exp(A_log) softplus(a + dt_bias) with torch's threshold-20 softplus, over a wide range of a."""
    g0 = gen(6)
    a = randn(512, 8, gen=g0, scale=15.0)
    b = randn(512, 8, gen=g0, scale=4.0)
    A_log, dt_bias = randn(8, gen=g0), randn(8, gen=g0)
    g, beta = naive.gdn_gating(a, b, A_log, dt_bias)
    torch.testing.assert_close(g, -A_log.exp() * F.softplus(a + dt_bias, beta=1.0, threshold=20.0))
    torch.testing.assert_close(beta, torch.sigmoid(b))


def test_decode_step_with_norm_composes():
    """gdn_decode_step(z=...) == gated_rmsnorm(gdn_decode_step(...)) and the norm matches its formula."""
    g0 = gen(7)
    qkv, a, b = step_inputs(SMALL, 3, g0)
    A_log, dt_bias = randn(SMALL.HV, gen=g0), randn(SMALL.HV, gen=g0)
    z = randn(3, SMALL.HV, SMALL.V, gen=g0)
    w = randn(SMALL.V, gen=g0)
    p1 = pool(SMALL, 5, g0)
    p2 = p1.clone()
    idx = slot_indices(3, 5, g0)
    normed = naive.gdn_decode_step(
        qkv, a, b, A_log, dt_bias, p1, idx, num_k_heads=SMALL.H, z=z, norm_weight=w
    )
    o = naive.gdn_decode_step(qkv, a, b, A_log, dt_bias, p2, idx, num_k_heads=SMALL.H)
    rms = torch.sqrt((o * o).mean(-1, keepdim=True) + 1e-6)
    torch.testing.assert_close(normed, o / rms * w * z * torch.sigmoid(z), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(p1, p2, rtol=0, atol=0)
