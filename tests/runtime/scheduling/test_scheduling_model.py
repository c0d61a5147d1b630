"""The runner's chunked extend equals the token-by-token oracle, and a wrong state changes the tokens."""

import random

import pytest
import torch

from runtime.scheduling.config import CONV_KERNEL
from runtime.scheduling.model import Oracle, TinyHybrid, shared

TOL = 1e-10


def _tokens(rng, n):
    return [rng.randrange(64) for _ in range(n)]


def _empty_kv(model):
    z = torch.zeros(0, model.dims.attn_dim, dtype=model.dtype)
    return z, z.clone()


@pytest.mark.parametrize("chunk", [2, 3, 4, 8])
def test_chunked_extend_equals_oracle(chunk):
    """Two extends split at a random point: states, logits, KV and every h[j] match the oracle."""
    model, oracle = shared()
    rng = random.Random(chunk)
    toks = _tokens(rng, 37)
    cut = rng.randrange(1, 36)
    first = model.extend(model.empty_states(), toks[:cut], *_empty_kv(model), chunk)
    second = model.extend(first.final, toks[cut:], first.k, first.v, chunk)
    assert second.final.close_to(oracle.state(toks), TOL)
    assert first.final.close_to(oracle.state(toks[:cut]), TOL)
    for i in range(cut, len(toks)):
        assert torch.allclose(second.logits[i - cut], oracle.logits(toks[:i + 1]), atol=TOL, rtol=0)
    keys, values = oracle.kv_path(toks)
    assert torch.allclose(torch.cat([first.k, second.k]), keys, atol=TOL, rtol=0)
    assert torch.allclose(torch.cat([first.v, second.v]), values, atol=TOL, rtol=0)
    assert second.h.shape[0] == -(-(len(toks) - cut) // chunk)
    for j in range(second.h.shape[0]):
        assert torch.allclose(second.h[j], oracle.state(toks[:cut + j * chunk]).ssm, atol=TOL, rtol=0)


def test_conv_inputs_rebuild_the_conv_state():
    """The conv state after ``a`` tokens of an extend is its last ``kernel - 1`` raw inputs."""
    model, oracle = shared()
    toks = _tokens(random.Random(5), 20)
    out = model.extend(model.empty_states(), toks, *_empty_kv(model), 4)
    for a in range(CONV_KERNEL - 1, len(toks) + 1):
        conv = out.conv_inputs[a - (CONV_KERNEL - 1):a].permute(1, 2, 0)
        assert torch.allclose(conv, oracle.state(toks[:a]).conv, atol=TOL, rtol=0)


def test_oracle_is_independent_of_memo_order():
    """A fresh oracle computing a long prefix first agrees with one that built it token by token."""
    model = TinyHybrid()
    toks = _tokens(random.Random(9), 25)
    a, b = Oracle(model), Oracle(model)
    for i in range(1, len(toks) + 1):
        a.state(toks[:i])
    assert b.state(toks).close_to(a.state(toks), 0.0)
    assert a.generate(toks, 10)[:4] == b.generate(toks, 4)


def _continue(model, oracle, state, prefix, suffix, n):
    keys, values = oracle.kv_path(prefix)
    out = model.extend(state, suffix, keys, values, 4)
    states, keys, values = out.final, torch.cat([keys, out.k]), torch.cat([values, out.v])
    toks = [int(out.logits[-1].argmax())]
    while len(toks) < n:
        out = model.extend(states, toks[-1:], keys, values, 4)
        states, keys, values = out.final, torch.cat([keys, out.k]), torch.cat([values, out.v])
        toks.append(int(out.logits[-1].argmax()))
    return tuple(toks)


def test_wrong_state_flips_tokens():
    """Restoring the state of a slightly different prefix (or a zero slot) changes the generated tokens."""
    model, oracle = shared()
    rng = random.Random(11)
    trials = changed = 0
    for _ in range(12):
        toks = _tokens(rng, 40)
        right = oracle.generate(toks, 8)
        assert _continue(model, oracle, oracle.state(toks[:24]), toks[:24], toks[24:], 8) == right
        for wrong in (oracle.state(toks[:23]), oracle.state(toks[:20]), model.empty_states()):
            trials += 1
            changed += _continue(model, oracle, wrong, toks[:24], toks[24:], 8) != right
    assert changed >= 0.9 * trials
