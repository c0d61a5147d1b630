"""A tiny hybrid model (three GatedDeltaNet layers, then one attention layer) and its token-by-token oracle.

The layer pattern follows Qwen3-Next (three linear-attention layers per full-attention layer). Each GDN
layer keeps the two states SGLang caches per slot: a conv state of ``conv_dim x (kernel - 1)`` raw inputs
and an SSM state of ``HV x V x K``, the shapes SGLang gives Qwen3-Next
(``sglang/srt/configs/qwen3_next.py: Qwen3NextConfig.mamba2_cache_params`` ->
``sglang/srt/configs/mamba_utils.py: Mamba2StateShape.create``; allocated per slot by
``sglang/srt/mem_cache/memory_pool.py: MambaPool.__init__``). The gated
delta rule is ``S <- g S;  S <- S + beta (v - S k) k^T;  o = S q`` with L2-normalised q and k.

Two independent code paths compute the same function:

- :meth:`TinyHybrid.extend` is what the runner uses: vectorised projections, conv and attention over an
  extend, the recurrence stepped through it, and the per-chunk states ``h`` of a chunked kernel
  (``h[j]`` = the SSM state before chunk ``j``) plus the raw conv inputs the conv snapshot is cut from.
- :class:`Oracle` steps one token at a time from the empty prefix and memoises every prefix in a trie.

Weights are fixed by a seed, float64 on CPU, and scaled so that the recurrent states dominate the
logits: feeding a state that belongs to a different prefix changes the greedy tokens
(``tests/runtime/scheduling/test_scheduling_model.py`` checks this).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from runtime.scheduling.config import CONV_KERNEL


@dataclass(frozen=True)
class Dims:
    vocab: int = 64
    d: int = 32
    heads: int = 2  # q/k heads and v heads (HV)
    k_dim: int = 8
    v_dim: int = 8
    attn_dim: int = 16
    gdn_layers: int = 3

    @property
    def conv_dim(self) -> int:
        return 2 * self.heads * self.k_dim + self.heads * self.v_dim


@dataclass
class States:
    """All GDN layers' states: ``conv`` is ``[L, conv_dim, kernel-1]``, ``ssm`` is ``[L, HV, V, K]``."""

    conv: torch.Tensor
    ssm: torch.Tensor

    def clone(self) -> States:
        return States(self.conv.clone(), self.ssm.clone())

    def close_to(self, other: States, tol: float = 1e-9) -> bool:
        return bool(torch.allclose(self.conv, other.conv, atol=tol, rtol=0)
                    and torch.allclose(self.ssm, other.ssm, atol=tol, rtol=0))


@dataclass
class ExtendOut:
    logits: torch.Tensor  # [T, vocab]
    k: torch.Tensor  # [T, attn_dim] attention keys of the extend tokens
    v: torch.Tensor
    final: States
    h: torch.Tensor  # [ceil(T / chunk), L, HV, V, K]: SSM state before each chunk
    conv_inputs: torch.Tensor  # [T, L, conv_dim]: the raw conv inputs of each token
    decay: torch.Tensor  # [T, L, HV]: each token's scalar state decay g (what a ReplaySSM ring records)


def _rms(x: torch.Tensor) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6)


class TinyHybrid:
    """Fixed-seed weights and the batched extend used by the runner.

    State shapes as ``sglang/srt/configs/mamba_utils.py: Mamba2StateShape.create``; ``h`` as the FLA kernel's
    ``sglang/kernels/ops/attention/fla/chunk_delta_h.py: chunk_gated_delta_rule_fwd_h`` (the state before each chunk).
    """

    def __init__(self, dims: Dims = Dims(), seed: int = 0, dtype: torch.dtype = torch.float64,
                 device: str = "cpu") -> None:
        self.dims, self.dtype, self.device = dims, dtype, device
        g = torch.Generator().manual_seed(seed)
        n = dims.gdn_layers

        def rnd(*shape: int, scale: float) -> torch.Tensor:
            return (torch.randn(*shape, generator=g, dtype=torch.float64) * scale).to(device, dtype)

        d, c, hv = dims.d, dims.conv_dim, dims.heads
        self.embed = rnd(dims.vocab, d, scale=1.0)
        self.w_in = rnd(n, c, d, scale=d ** -0.5)
        self.conv_w = rnd(n, c, CONV_KERNEL, scale=0.6)
        self.w_a = rnd(n, hv, d, scale=0.3 * d ** -0.5)
        self.a_bias = torch.linspace(-4.0, -1.0, hv, dtype=torch.float64).to(device, dtype)
        self.w_b = rnd(n, hv, d, scale=d ** -0.5)
        self.w_o = rnd(n, d, hv * dims.v_dim, scale=8.0 * (hv * dims.v_dim) ** -0.5)
        self.wq = rnd(dims.attn_dim, d, scale=d ** -0.5)
        self.wk = rnd(dims.attn_dim, d, scale=d ** -0.5)
        self.wv = rnd(dims.attn_dim, d, scale=d ** -0.5)
        self.wo_attn = rnd(d, dims.attn_dim, scale=dims.attn_dim ** -0.5)
        self.w_out = rnd(dims.vocab, d, scale=3.0 * d ** -0.5)

    def empty_states(self) -> States:
        d = self.dims
        return States(
            torch.zeros(d.gdn_layers, d.conv_dim, CONV_KERNEL - 1, dtype=self.dtype, device=self.device),
            torch.zeros(d.gdn_layers, d.heads, d.v_dim, d.k_dim, dtype=self.dtype, device=self.device),
        )

    def _split_qkv(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        d = self.dims
        hk = d.heads * d.k_dim
        q = y[..., :hk].unflatten(-1, (d.heads, d.k_dim))
        k = y[..., hk:2 * hk].unflatten(-1, (d.heads, d.k_dim))
        v = y[..., 2 * hk:].unflatten(-1, (d.heads, d.v_dim))
        q = F.normalize(q, dim=-1) * d.k_dim ** -0.5
        return q, F.normalize(k, dim=-1), v

    def _gates(self, layer: int, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        decay = torch.exp(-F.softplus(x @ self.w_a[layer].T + self.a_bias))
        beta = torch.sigmoid(x @ self.w_b[layer].T)
        return decay, beta

    def extend(self, states: States, tokens: list[int], kv_k: torch.Tensor, kv_v: torch.Tensor,
               chunk: int) -> ExtendOut:
        """Run ``tokens`` after a prefix whose GDN states are ``states`` and whose attention KV is given."""
        t = len(tokens)
        hid = self.embed[torch.tensor(tokens, device=self.device)]
        final = self.empty_states()
        n_chunks = (t + chunk - 1) // chunk
        h = torch.empty(n_chunks, *states.ssm.shape, dtype=self.dtype, device=self.device)
        conv_inputs = torch.empty(t, self.dims.gdn_layers, self.dims.conv_dim, dtype=self.dtype,
                                  device=self.device)
        decays = torch.empty(t, self.dims.gdn_layers, self.dims.heads, dtype=self.dtype, device=self.device)
        for layer in range(self.dims.gdn_layers):
            x = _rms(hid)
            u = x @ self.w_in[layer].T
            conv_inputs[:, layer] = u
            window = torch.cat([states.conv[layer].T, u], 0)
            y = F.silu(window.unfold(0, CONV_KERNEL, 1).mul(self.conv_w[layer]).sum(-1))
            final.conv[layer] = window[-(CONV_KERNEL - 1):].T
            q, k, v = self._split_qkv(y)
            decay, beta = self._gates(layer, x)
            decays[:, layer] = decay
            s = states.ssm[layer].clone()
            out = torch.empty(t, self.dims.heads, self.dims.v_dim, 1, dtype=self.dtype, device=self.device)
            k_col, k_row, q_col = k.unsqueeze(-1), k.unsqueeze(-2), q.unsqueeze(-1)
            v_col, decay, beta = v.unsqueeze(-1), decay[:, :, None, None], beta[:, :, None, None]
            for i in range(t):
                if i % chunk == 0:
                    h[i // chunk, layer] = s
                s = s * decay[i]
                s = torch.baddbmm(s, (v_col[i] - s @ k_col[i]) * beta[i], k_row[i])
                torch.matmul(s, q_col[i], out=out[i])
            final.ssm[layer] = s
            hid = hid + out.flatten(1) @ self.w_o[layer].T
        x = _rms(hid)
        q, k, v = x @ self.wq.T, x @ self.wk.T, x @ self.wv.T
        keys, values = torch.cat([kv_k, k], 0), torch.cat([kv_v, v], 0)
        p = kv_k.shape[0]
        scores = (q @ keys.T) * self.dims.attn_dim ** -0.5
        pos = torch.arange(p + t, device=self.device)
        causal = pos[None, :] > pos[p:, None]
        scores = scores.masked_fill(causal, float("-inf"))
        hid = hid + (scores.softmax(-1) @ values) @ self.wo_attn.T
        return ExtendOut(_rms(hid) @ self.w_out.T, k, v, final, h, conv_inputs, decays)


@dataclass
class _Entry:
    states: States
    k: torch.Tensor | None
    v: torch.Tensor | None
    logits: torch.Tensor | None
    parent: _Entry | None
    children: dict[int, _Entry] = field(default_factory=dict)
    keys: torch.Tensor | None = None  # cached stacked KV of the whole prefix (kept on the newest entry)
    values: torch.Tensor | None = None


class Oracle:
    """Token-by-token reference: the state, KV and logits of any prefix, memoised in a trie."""

    def __init__(self, model: TinyHybrid) -> None:
        self.model = model
        d = model.dims
        empty = torch.zeros(0, d.attn_dim, dtype=model.dtype, device=model.device)
        self._root = _Entry(model.empty_states(), None, None, None, None, keys=empty, values=empty.clone())
        self._generated: dict[tuple[int, ...], tuple[int, ...]] = {}

    def _kv(self, entry: _Entry) -> tuple[torch.Tensor, torch.Tensor]:
        if entry.keys is None:
            ks, vs, e = [], [], entry
            while e.parent is not None:
                ks.append(e.k)
                vs.append(e.v)
                e = e.parent
            entry.keys, entry.values = torch.stack(ks[::-1]), torch.stack(vs[::-1])
        return entry.keys, entry.values

    def _step(self, entry: _Entry, token: int) -> _Entry:
        m, d = self.model, self.model.dims
        hid = m.embed[token]
        new = m.empty_states()
        for layer in range(d.gdn_layers):
            x = _rms(hid)
            u = m.w_in[layer] @ x
            window = torch.cat([entry.states.conv[layer], u[:, None]], 1)
            y = F.silu((window * m.conv_w[layer]).sum(-1))
            new.conv[layer] = window[:, 1:]
            q, k, v = m._split_qkv(y)
            decay, beta = m._gates(layer, x)
            s = entry.states.ssm[layer] * decay[:, None, None]
            err = beta[:, None] * (v - torch.einsum("hvk,hk->hv", s, k))
            s = s + torch.einsum("hv,hk->hvk", err, k)
            new.ssm[layer] = s
            hid = hid + m.w_o[layer] @ torch.einsum("hvk,hk->hv", s, q).flatten()
        x = _rms(hid)
        q, k, v = m.wq @ x, m.wk @ x, m.wv @ x
        keys, values = self._kv(entry)
        keys, values = torch.cat([keys, k[None]]), torch.cat([values, v[None]])
        p = torch.softmax(keys @ q * d.attn_dim ** -0.5, 0)
        hid = hid + m.wo_attn @ (p @ values)
        child = _Entry(new, k, v, m.w_out @ _rms(hid), entry, keys=keys, values=values)
        if entry.parent is not None:  # keep the stacked KV on the newest entry only
            entry.keys = entry.values = None
        entry.children[token] = child
        return child

    def _entry(self, prefix: tuple[int, ...] | list[int]) -> _Entry:
        e = self._root
        for tok in prefix:
            nxt = e.children.get(tok)
            e = nxt if nxt is not None else self._step(e, tok)
        return e

    def state(self, prefix: tuple[int, ...] | list[int]) -> States:
        """GDN states after the tokens of ``prefix``."""
        return self._entry(prefix).states

    def kv(self, prefix: tuple[int, ...] | list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Attention key and value of the last token of ``prefix``."""
        e = self._entry(prefix)
        return e.k, e.v

    def kv_path(self, prefix: tuple[int, ...] | list[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Attention keys and values of every position of ``prefix``, stacked."""
        return self._kv(self._entry(prefix))

    def logits(self, prefix: tuple[int, ...] | list[int]) -> torch.Tensor:
        return self._entry(prefix).logits

    def generate(self, prompt: tuple[int, ...] | list[int], n: int) -> tuple[int, ...]:
        """Greedy continuation of ``prompt``: ``n`` tokens."""
        prompt = tuple(prompt)
        have = self._generated.get(prompt, ())
        if len(have) < n:
            seq = list(prompt) + list(have)
            while len(seq) - len(prompt) < n:
                seq.append(int(torch.argmax(self.logits(seq))))
            have = tuple(seq[len(prompt):])
            self._generated[prompt] = have
        return have[:n]


_SHARED: dict[int, tuple[TinyHybrid, Oracle]] = {}


def shared(seed: int = 0) -> tuple[TinyHybrid, Oracle]:
    """The process-wide default model and its oracle (the oracle's memo is reused across runs)."""
    if seed not in _SHARED:
        model = TinyHybrid(seed=seed)
        _SHARED[seed] = (model, Oracle(model))
    return _SHARED[seed]


def oracle_state(prefix: tuple[int, ...] | list[int], seed: int = 0) -> States:
    """GDN states of the default model after ``prefix``, stepped token by token."""
    return shared(seed)[1].state(prefix)


def oracle_generate(prompt: tuple[int, ...] | list[int], n: int, seed: int = 0) -> tuple[int, ...]:
    """Greedy tokens of the default model after ``prompt``, stepped token by token."""
    return shared(seed)[1].generate(prompt, n)
