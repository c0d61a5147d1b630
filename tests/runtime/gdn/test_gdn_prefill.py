"""Chunked prefill (delegated to fla-core) and prefill-then-decode against the token-by-token recurrence."""

import pytest
import torch

from runtime.gdn import naive
from runtime.gdn.decode import packed_decode
from runtime.gdn.gating import fused_gating
from runtime.gdn.prefill import chunk_prefill, initial_states, write_back

from ._gdn_cases import DEVICE, ODD, SMALL, TP1, load_fla_module, params, pool, rel_err, step_inputs
from ._gdn_cases import gen as make_gen

PREFILLS = [
    pytest.param("naive", SMALL, id="naive-small"),
    pytest.param("naive", ODD, id="naive-odd"),
    pytest.param("fla", SMALL, id="fla-small"),
    pytest.param("fla", TP1, id="fla-tp1", marks=pytest.mark.gpu),
]


def _lengths(s):
    return [1, 63, 64, 65, 700, 2065] if s.K == 128 else [37, 70]


def _sequences(s, lengths, extra, g0):
    """Per sequence: mixed_qkv, a, b for ``length + extra`` tokens (prefill then ``extra`` decode steps)."""
    return [step_inputs(s, n + extra, g0) for n in lengths]


def _split(s, qkv):
    q, k, v = naive.split_qkv(qkv, s.H, s.K, s.HV, s.V)
    return q.contiguous(), k.contiguous(), v.contiguous()


def _naive_prefill(s, seqs, lengths, A_log, dt_bias, states, slots):
    """naive.chunk_gdn per sequence from its pool state, composed with gating and L2 norm; writes states back
    and returns the packed outputs ``[sum(lengths), HV, V]``."""
    outs = []
    for (qkv, a, b), n, slot in zip(seqs, lengths, slots.tolist(), strict=True):
        q, k, v = naive.split_qkv(qkv[:n], s.H, s.K, s.HV, s.V)
        g, beta = naive.gdn_gating(a[:n], b[:n], A_log, dt_bias)
        o, final = naive.chunk_gdn(
            naive.l2norm(q)[None],
            naive.l2norm(k)[None],
            v[None],
            g[None],
            beta[None],
            states[slot][None].clone(),
            chunk_size=16,
        )
        states[slot] = final[0]
        outs.append(o[0])
    return torch.cat(outs)


def _fla_prefill(s, seqs, lengths, A_log, dt_bias, states, slots):
    cu = torch.tensor([0, *lengths], device=DEVICE).cumsum(0)
    qkv = torch.cat([q[:n] for (q, _, _), n in zip(seqs, lengths, strict=True)])
    a = torch.cat([x[:n] for (_, x, _), n in zip(seqs, lengths, strict=True)])
    b = torch.cat([x[:n] for (_, _, x), n in zip(seqs, lengths, strict=True)])
    return chunk_prefill(*_split(s, qkv), a, b, A_log, dt_bias, states, slots, cu)


def _reference(s, seqs, A_log, dt_bias, states, slots):
    """Token-by-token recurrence over each whole sequence; returns per-sequence outputs, updates states."""
    outs = []
    for (qkv, a, b), slot in zip(seqs, slots.tolist(), strict=True):
        q, k, v = naive.split_qkv(qkv, s.H, s.K, s.HV, s.V)
        g, beta = naive.gdn_gating(a, b, A_log, dt_bias)
        idx = torch.tensor([slot], device=DEVICE)
        outs.append(
            naive.recurrent_gdn(
                naive.l2norm(q)[None], naive.l2norm(k)[None], v[None], g[None], beta[None], states, idx
            )[0]
        )
    return outs


@pytest.mark.parametrize("kind,s", PREFILLS)
def test_prefill_then_decode_equals_full_recurrence(kind, s):
    """Prefill each sequence (lengths around the 64-token chunk edge), then 8 packed_decode steps: prefill
    outputs, decode outputs and final states within 1e-5 (naive chunked, fp32) or 2e-2 (fla: its chunk
    kernel multiplies bf16 activations in bf16) relative of the token-by-token recurrence over the whole
    sequence. fla variants skip without fla-core."""
    if kind == "fla":
        load_fla_module("fla.ops.gated_delta_rule")
    tol = 1e-5 if kind == "naive" else 2e-2
    g0 = make_gen(300 + s.K)
    lengths, steps = _lengths(s), 8
    seqs = _sequences(s, lengths, steps, g0)
    A_log, dt_bias = params(s, g0)
    states = pool(s, 2 * len(lengths), g0)
    slots = torch.randperm(states.shape[0], generator=g0, device=DEVICE)[: len(lengths)].to(torch.int32)
    ref_states = states.clone()
    ref = _reference(s, seqs, A_log, dt_bias, ref_states, slots)
    o = (_naive_prefill if kind == "naive" else _fla_prefill)(s, seqs, lengths, A_log, dt_bias, states, slots)
    assert rel_err(o, torch.cat([r[:n] for r, n in zip(ref, lengths, strict=True)])) < tol
    for t in range(steps):
        qkv = torch.stack([q[n + t] for (q, _, _), n in zip(seqs, lengths, strict=True)])
        a = torch.stack([x[n + t] for (_, x, _), n in zip(seqs, lengths, strict=True)])
        b = torch.stack([x[n + t] for (_, _, x), n in zip(seqs, lengths, strict=True)])
        out = packed_decode(
            qkv,
            a,
            b,
            A_log,
            dt_bias,
            states,
            slots,
            num_k_heads=s.H,
            out=torch.full((len(lengths), s.HV, s.V), float("nan"), device=DEVICE),
        )
        expect = torch.stack([o[n + t] for o, n in zip(ref, lengths, strict=True)])
        assert rel_err(out, expect) < tol
    assert rel_err(states[slots.long()], ref_states[slots.long()]) < tol


@pytest.mark.parametrize(
    "s", [pytest.param(SMALL, id="small"), pytest.param(TP1, id="tp1", marks=pytest.mark.gpu)]
)
def test_chunk_prefill_is_fla_bit_for_bit(s):
    """The delegating wrapper == a direct fla chunk_gated_delta_rule call on the same gates and pool states:
    outputs and written-back states bit-for-bit, other slots untouched. Skips without fla-core."""
    fla_gdn = load_fla_module("fla.ops.gated_delta_rule")
    g0 = make_gen(310 + s.K)
    lengths = _lengths(s)
    seqs = _sequences(s, lengths, 0, g0)
    A_log, dt_bias = params(s, g0)
    states = pool(s, 2 * len(lengths), g0)
    slots = torch.randperm(states.shape[0], generator=g0, device=DEVICE)[: len(lengths)].to(torch.int32)
    before = states.clone()
    o = _fla_prefill(s, seqs, lengths, A_log, dt_bias, states, slots)
    cu = torch.tensor([0, *lengths], device=DEVICE).cumsum(0)
    q, k, v = _split(s, torch.cat([x[0] for x in seqs]))
    g, beta = fused_gating(torch.cat([x[1] for x in seqs]), torch.cat([x[2] for x in seqs]), A_log, dt_bias)
    o_fla, h_fla = fla_gdn.chunk_gated_delta_rule(
        q[None],
        k[None],
        v[None],
        g[None],
        beta[None],
        initial_state=before[slots.long()],
        output_final_state=True,
        use_qk_l2norm_in_kernel=True,
        state_v_first=True,
        cu_seqlens=cu,
    )
    assert torch.equal(o, o_fla[0])
    assert torch.equal(states[slots.long()], h_fla)
    others = torch.ones(states.shape[0], dtype=torch.bool, device=DEVICE)
    others[slots.long()] = False
    assert torch.equal(states[others], before[others])


def test_a_padding_slot_starts_from_zero_and_writes_nothing():
    """SGLang's chunked prefill treats a slot below 0 as padding (chunk_delta_h.py: a zero initial state, no
    write-back); the gather and the write-back around the delegated kernel do the same, and every other slot's
    state is its own."""
    g0 = make_gen(320)
    states = torch.randn(5, 2, 3, 4, generator=g0, device=DEVICE)
    slots = torch.tensor([3, -1, 0], device=DEVICE)
    start = initial_states(states, slots)
    assert torch.equal(start[0], states[3]) and torch.equal(start[2], states[0])
    assert torch.equal(start[1], torch.zeros_like(states[0]))
    before, final = states.clone(), torch.randn(3, 2, 3, 4, generator=g0, device=DEVICE)
    write_back(states, slots, final)
    assert torch.equal(states[3], final[0]) and torch.equal(states[0], final[2])
    assert torch.equal(states[[1, 2, 4]], before[[1, 2, 4]])


@pytest.mark.parametrize(
    "s", [pytest.param(SMALL, id="small"), pytest.param(TP1, id="tp1", marks=pytest.mark.gpu)]
)
def test_chunk_prefill_pads_like_sglang(s):
    """A padding sequence among real ones: its output is the prefill from a zero state, the real sequences' outputs
    and states are what they are without it, and no pool slot but theirs changes. Skips without fla-core."""
    load_fla_module("fla.ops.gated_delta_rule")
    g0 = make_gen(330 + s.K)
    lengths = (_lengths(s) * 2)[:3]
    seqs = _sequences(s, lengths, 0, g0)
    A_log, dt_bias = params(s, g0)
    states = pool(s, 2 * len(lengths), g0)
    slots = torch.randperm(states.shape[0], generator=g0, device=DEVICE)[: len(lengths)].to(torch.int32)
    padded = slots.clone()
    padded[1] = -1
    zero = torch.zeros_like(states[:1])
    expect, expect_states = states.clone(), states.clone()
    o_ref = _fla_prefill(s, seqs, lengths, A_log, dt_bias, expect_states, slots)
    o_pad_ref = _fla_prefill(s, seqs[1:2], lengths[1:2], A_log, dt_bias, zero, torch.zeros(1, dtype=torch.int32,
                                                                                         device=DEVICE))
    o = _fla_prefill(s, seqs, lengths, A_log, dt_bias, expect, padded)
    cut = [0, *torch.tensor(lengths).cumsum(0).tolist()]
    for i in (0, 2):
        assert torch.allclose(o[cut[i]:cut[i + 1]], o_ref[cut[i]:cut[i + 1]], rtol=1e-3, atol=1e-3)
        assert torch.allclose(expect[slots[i].long()], expect_states[slots[i].long()], rtol=1e-3, atol=1e-3)
    assert torch.allclose(o[cut[1]:cut[2]], o_pad_ref, rtol=1e-3, atol=1e-3)
    untouched = torch.ones(states.shape[0], dtype=torch.bool, device=DEVICE)
    untouched[slots[[0, 2]].long()] = False
    assert torch.equal(expect[untouched], states[untouched])
