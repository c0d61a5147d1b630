"""Plain PyTorch fp32 references for the Gated DeltaNet (GDN) layer of Qwen3-Next.

Everything here is written for clarity, token by token where the math is sequential, and is the
ground truth the Triton kernels beside it are tested against. Conventions (SGLang's, token-major):

- ``q, k``: ``[B, T, H, K]``; ``v``: ``[B, T, HV, V]``; ``g, beta``: ``[B, T, HV]``; v-head ``h`` reads
  k-head ``h // (HV // H)``.
- A state pool is ``[slots, HV, V, K]`` (``layout="vk"``, SGLang's; K contiguous) or ``[slots, HV, K, V]``
  (``layout="kv"``, fla's default), indexed by per-request slot indices; ``-1`` marks padding: zero output,
  state untouched.
- A deferred-write pool keeps beside each slot a ring of the last ``L`` steps' ``(d, k, g)``: ring ``d
  [slots, HV, L, V]`` (the delta-rule update ``u``), ``k [slots, H, L, K]`` (the L2-normalised key),
  ``g [slots, HV, L]``; ``fill[row]`` entries of a slot's ring are live and its state is the checkpoint in
  the pool advanced through them in order.
- Per token: ``S' = exp(g) S``; ``u = beta (v - S'^T k)``; ``S = S' + k u^T``; ``o = S^T (q K^-1/2)``
  (written here for the ``[V, K]`` state ``M = S^T``: ``M' = exp(g) M``, ``u = beta (v - M' k)``,
  ``M = M' + u k^T``, ``o = M q``).

Where the HF model rounds (``sigmoid(b)`` in the activation dtype, the normalised row back to bf16 before
the norm weight), these references and the kernels beside them stay in fp32; SGLang's packed decode keeps
HF's bf16 rounding of ``beta``, a difference of at most one bf16 ulp in ``beta``
(``sglang/kernels/ops/attention/fla/fused_recurrent.py: fused_recurrent_gated_delta_rule_packed_decode``; so does ``sglang/kernels/ops/attention/linear/fused_gdn_gating.py: fused_gdn_gating``).
The pool layout is SGLang's ``temporal`` state (``sglang/srt/mem_cache/memory_pool.py: MambaPool.State.temporal``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

L2_EPS = 1e-6
NORM_EPS = 1e-6
SOFTPLUS_THRESHOLD = 20.0


def softplus(x: torch.Tensor, threshold: float = SOFTPLUS_THRESHOLD) -> torch.Tensor:
    """``log(1 + exp(x))``, linear above ``threshold`` (torch / HF semantics)."""
    return torch.where(x > threshold, x, torch.log1p(torch.exp(torch.clamp(x, max=threshold))))


def gdn_gating(
    a: torch.Tensor, b: torch.Tensor, A_log: torch.Tensor, dt_bias: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-space decay ``g = -exp(A_log) softplus(a + dt_bias)`` and ``beta = sigmoid(b)``, both fp32."""
    g = -torch.exp(A_log.float()) * softplus(a.float() + dt_bias.float())
    return g, torch.sigmoid(b.float())


def l2norm(x: torch.Tensor, eps: float = L2_EPS) -> torch.Tensor:
    """``x / sqrt(sum(x^2) + eps)`` over the last dim: the epsilon sits inside the root (#10466)."""
    x = x.float()
    return x * torch.rsqrt((x * x).sum(-1, keepdim=True) + eps)


def gated_rmsnorm(
    x: torch.Tensor, z: torch.Tensor, weight: torch.Tensor, eps: float = NORM_EPS
) -> torch.Tensor:
    """``x * rsqrt(mean(x^2) + eps) * weight * silu(z)`` over the last dim, in fp32."""
    x, z = x.float(), z.float()
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * weight.float() * F.silu(z)


def split_qkv(
    mixed_qkv: torch.Tensor, num_k_heads: int, head_k_dim: int, num_v_heads: int, head_v_dim: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Split the conv output ``[..., 2 H K + HV V]`` into ``q, k: [..., H, K]`` and ``v: [..., HV, V]``."""
    hk = num_k_heads * head_k_dim
    q, k, v = torch.split(mixed_qkv, [hk, hk, num_v_heads * head_v_dim], dim=-1)
    lead = mixed_qkv.shape[:-1]
    return (
        q.reshape(*lead, num_k_heads, head_k_dim),
        k.reshape(*lead, num_k_heads, head_k_dim),
        v.reshape(*lead, num_v_heads, head_v_dim),
    )


def expand_heads(x: torch.Tensor, num_v_heads: int) -> torch.Tensor:
    """Repeat k-heads so v-head ``h`` sees k-head ``h // (HV // H)``."""
    return x.repeat_interleave(num_v_heads // x.shape[-2], dim=-2)


def delta_rule_step(
    M: torch.Tensor, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, g: torch.Tensor, beta: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """One token for fp32 ``[..., HV, V, K]`` states ``M`` (q already scaled, heads expanded): (new M, o)."""
    M = M * torch.exp(g)[..., None, None]
    u = beta[..., None] * (v - torch.einsum("...vk,...k->...v", M, k))
    M = M + u[..., :, None] * k[..., None, :]
    return M, torch.einsum("...vk,...k->...v", M, q)


def _load_states(pool: torch.Tensor, slots: torch.Tensor, layout: str) -> torch.Tensor:
    states = pool[slots].float()
    return states if layout == "vk" else states.transpose(-1, -2)


def _store_states(pool: torch.Tensor, slots: torch.Tensor, states: torch.Tensor, layout: str) -> None:
    pool[slots] = (states if layout == "vk" else states.transpose(-1, -2)).to(pool.dtype)


def recurrent_gdn(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    pool: torch.Tensor,
    slot_indices: torch.Tensor,
    *,
    scale: float | None = None,
    layout: str = "vk",
) -> torch.Tensor:
    """Token-by-token recurrence over ``T`` steps, updating ``pool`` in place; returns ``o [B, T, HV, V]``.

    ``q`` and ``k`` are used as given (normalise them first); ``q`` is multiplied by ``scale``
    (default ``K^-1/2``). Rows whose slot index is negative produce zeros and touch no state.
    """
    B, T, HV = v.shape[:3]
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    q = expand_heads(q.float(), HV) * scale
    k = expand_heads(k.float(), HV)
    v, g, beta = v.float(), g.float(), beta.float()
    o = torch.zeros(B, T, HV, v.shape[-1], dtype=torch.float32, device=v.device)
    rows = torch.nonzero(slot_indices >= 0).flatten()
    if rows.numel() == 0:
        return o
    slots = slot_indices[rows].long()
    M = _load_states(pool, slots, layout)
    for t in range(T):
        M, o[rows, t] = delta_rule_step(M, q[rows, t], k[rows, t], v[rows, t], g[rows, t], beta[rows, t])
    _store_states(pool, slots, M, layout)
    return o


def verify_gdn(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    pool: torch.Tensor,
    slot_indices: torch.Tensor,
    *,
    scale: float | None = None,
    layout: str = "vk",
) -> tuple[torch.Tensor, torch.Tensor]:
    """MTP verify: run ``T`` draft tokens from each request's pool state without writing the pool.

    Returns ``o [B, T, HV, V]`` and the state after every step, ``[B, T, HV, V, K]`` (``vk`` order,
    whatever the pool's layout; zeros for padding rows).
    """
    B, T, HV = v.shape[:3]
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    q = expand_heads(q.float(), HV) * scale
    k = expand_heads(k.float(), HV)
    v, g, beta = v.float(), g.float(), beta.float()
    o = torch.zeros(B, T, HV, v.shape[-1], dtype=torch.float32, device=v.device)
    states = torch.zeros(B, T, HV, v.shape[-1], k.shape[-1], dtype=torch.float32, device=v.device)
    rows = torch.nonzero(slot_indices >= 0).flatten()
    if rows.numel() == 0:
        return o, states
    M = _load_states(pool, slot_indices[rows].long(), layout)
    for t in range(T):
        M, o[rows, t] = delta_rule_step(M, q[rows, t], k[rows, t], v[rows, t], g[rows, t], beta[rows, t])
        states[rows, t] = M
    return o, states


def chunk_gdn(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    g: torch.Tensor,
    beta: torch.Tensor,
    initial_state: torch.Tensor,
    *,
    scale: float | None = None,
    chunk_size: int = 64,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Chunked (WY) form of :func:`recurrent_gdn` for equal-length sequences and ``[B, HV, V, K]`` states.

    Inside a chunk with inclusive cumulative decay ``G_t = sum_{s<=t} g_s`` and chunk-start state ``M0``:
    ``(I + A) U = beta (V - e^G (K M0^T))`` with ``A[t, s] = beta_t e^(G_t - G_s) k_t.k_s`` (s < t);
    ``O = e^G (Q M0^T) + (L o e^(G_t - G_s) Q K^T) U`` (L: s <= t);
    ``M_end = e^G_C M0 + U^T (e^(G_C - G) K)``.
    Returns ``o [B, T, HV, V]`` and the final states ``[B, HV, V, K]`` (fp32).
    """
    T, HV = v.shape[1:3]
    scale = q.shape[-1] ** -0.5 if scale is None else scale
    # [B, HV, T, .] head-major for batched matmuls
    q = (expand_heads(q.float(), HV) * scale).transpose(1, 2)
    k = expand_heads(k.float(), HV).transpose(1, 2)
    v, g, beta = v.float().transpose(1, 2), g.float().transpose(1, 2), beta.float().transpose(1, 2)
    M = initial_state.float().clone()
    o = torch.empty_like(v)
    for c0 in range(0, T, chunk_size):
        sl = slice(c0, min(c0 + chunk_size, T))
        qc, kc, vc, bc = q[:, :, sl], k[:, :, sl], v[:, :, sl], beta[:, :, sl]
        G = torch.cumsum(g[:, :, sl], dim=-1)
        C = G.shape[-1]
        diff = G[..., :, None] - G[..., None, :]
        incl = torch.ones(C, C, dtype=torch.bool, device=v.device).tril()
        decay = torch.exp(diff.masked_fill(~incl, float("-inf")))
        strict = decay.masked_fill(torch.eye(C, dtype=torch.bool, device=v.device), 0.0)
        A = bc[..., None] * strict * (kc @ kc.transpose(-1, -2))
        eye = torch.eye(C, dtype=torch.float32, device=v.device)
        rhs = bc[..., None] * (vc - torch.exp(G)[..., None] * (kc @ M.transpose(-1, -2)))
        U = torch.linalg.solve_triangular(eye + A, rhs, upper=False, unitriangular=True)
        o[:, :, sl] = (
            torch.exp(G)[..., None] * (qc @ M.transpose(-1, -2)) + (decay * (qc @ kc.transpose(-1, -2))) @ U
        )
        tail = torch.exp(G[..., -1:] - G)[..., None] * kc
        M = torch.exp(G[..., -1])[..., None, None] * M + U.transpose(-1, -2) @ tail
    return o.transpose(1, 2), M


def gdn_decode_step(
    mixed_qkv: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    A_log: torch.Tensor,
    dt_bias: torch.Tensor,
    pool: torch.Tensor,
    slot_indices: torch.Tensor,
    *,
    num_k_heads: int,
    z: torch.Tensor | None = None,
    norm_weight: torch.Tensor | None = None,
    layout: str = "vk",
) -> torch.Tensor:
    """One decode token of the HF GDN layer after the conv: split, gate, L2-normalise, recur, (norm).

    ``mixed_qkv: [B, 2 H K + HV V]``, ``a, b: [B, HV]``; the pool is updated in place. Returns the
    recurrence output ``[B, HV, V]``, or ``gated_rmsnorm(o, z, norm_weight)`` when ``z`` is given
    (``z: [B, HV, V]``).
    """
    HV = a.shape[-1]
    V, K = (pool.shape[-2], pool.shape[-1]) if layout == "vk" else (pool.shape[-1], pool.shape[-2])
    q, k, v = split_qkv(mixed_qkv, num_k_heads, K, HV, V)
    g, beta = gdn_gating(a, b, A_log, dt_bias)
    o = recurrent_gdn(
        l2norm(q)[:, None],
        l2norm(k)[:, None],
        v[:, None],
        g[:, None],
        beta[:, None],
        pool,
        slot_indices,
        layout=layout,
    )[:, 0]
    return o if z is None else gated_rmsnorm(o, z, norm_weight)


def replay_ring(
    checkpoint: torch.Tensor, d: torch.Tensor, k: torch.Tensor, g: torch.Tensor, fill: torch.Tensor
) -> torch.Tensor:
    """States ``[R, HV, V, K]`` of ``R`` slots: each checkpoint advanced through its ring's first ``fill[r]``
    entries one step at a time (``M = exp(g_j) M + d_j k_j^T``); ring tensors are the slots' own rows."""
    M = checkpoint.float().clone()
    HV = M.shape[1]
    for j in range(d.shape[2]):
        live = fill > j
        if not live.any():
            break
        kj = expand_heads(k[live, :, j].float(), HV)
        M[live] = M[live] * torch.exp(g[live, :, j].float())[..., None, None] + d[live, :, j, :, None] * kj[..., None, :]
    return M


def deferred_decode_step(
    mixed_qkv: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    A_log: torch.Tensor,
    dt_bias: torch.Tensor,
    pool: torch.Tensor,
    ring_d: torch.Tensor,
    ring_k: torch.Tensor,
    ring_g: torch.Tensor,
    slot_indices: torch.Tensor,
    fill: torch.Tensor,
    flush: torch.Tensor | None = None,
    *,
    num_k_heads: int,
) -> torch.Tensor:
    """One deferred-write decode token; returns ``o [B, HV, V]`` and updates pool and ring in place.

    Each row's state is its checkpoint replayed through ``fill[row]`` ring entries (:func:`replay_ring`),
    then one delta-rule step. A row whose ring is full (``fill == L - 1``) or whose ``flush`` is set writes
    the new state to the pool (its ring is then empty); every other row appends ``(u, k, g)`` at position
    ``fill`` and leaves the pool alone. Padding rows (negative slot) give zeros and touch nothing.
    """
    HV, V, K = pool.shape[1:]
    H, L = num_k_heads, ring_d.shape[2]
    q, k, v = split_qkv(mixed_qkv, H, K, HV, V)
    g, beta = gdn_gating(a, b, A_log, dt_bias)
    q, k = l2norm(q) * K**-0.5, l2norm(k)
    o = torch.zeros(mixed_qkv.shape[0], HV, V, dtype=torch.float32, device=pool.device)
    rows = torch.nonzero(slot_indices >= 0).flatten()
    if rows.numel() == 0:
        return o
    slots, n = slot_indices[rows].long(), fill[rows].long()
    M = replay_ring(pool[slots], ring_d[slots], ring_k[slots], ring_g[slots], n)
    M = M * torch.exp(g[rows])[..., None, None]
    ke = expand_heads(k[rows], HV)
    u = beta[rows][..., None] * (v[rows].float() - torch.einsum("rhvk,rhk->rhv", M, ke))
    M = M + u[..., None] * ke[..., None, :]
    o[rows] = torch.einsum("rhvk,rhk->rhv", M, expand_heads(q[rows], HV))
    full = n >= L - 1
    if flush is not None:
        full |= flush[rows] != 0
    pool[slots[full]] = M[full].to(pool.dtype)
    keep, at = slots[~full], n[~full]
    ring_d[keep, :, at] = u[~full]
    ring_k[keep, :, at] = k[rows][~full]
    ring_g[keep, :, at] = g[rows][~full]
    return o
