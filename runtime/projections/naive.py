"""Plain PyTorch reference for the GDN input projections and the two checkpoint layouts.

Qwen3-Next stores ``in_proj_qkvz`` / ``in_proj_ba`` *packed*: grouped per key head ``g`` as
``[q_g | k_g | v(g*R..g*R+R-1) | z(same)]`` and ``[b(g*R..) | a(g*R..)]`` with ``R = HV / HK``.
Qwen3.5 stores ``in_proj_qkv``, ``in_proj_z``, ``in_proj_b``, ``in_proj_a`` separately; merged they give
the *contiguous* layout ``[q_all | k_all | v_all | z_all]``, ``[b_all | a_all]`` (PR #19321, #21019).

SGLang 0.5.23 undoes the packed layout per group in
``sglang/srt/models/qwen3_next.py: Qwen3GatedDeltaNet.fix_query_key_value_ordering`` (its PyTorch fallback) and
builds the merged linears with ``output_sizes`` ``[key, key, value, value]``
(``sglang/srt/models/qwen3_next.py: Qwen3GatedDeltaNet.create_qkvz_proj``).

Everything here is index arithmetic or fp32 math with no fused kernels, so the Triton kernels and
loaders are checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

PARTS = ("q", "k", "v", "z")


@dataclass(frozen=True)
class GDNShape:
    """Head geometry of one GDN layer (defaults: Qwen3-Next-80B; conv kernel 4 is not used here)."""

    hidden: int = 2048
    num_k_heads: int = 16
    num_v_heads: int = 32
    head_k: int = 128
    head_v: int = 128

    def __post_init__(self) -> None:
        if self.num_v_heads % self.num_k_heads:
            raise ValueError("num_v_heads must be a multiple of num_k_heads")

    @property
    def ratio(self) -> int:
        """Value heads per key head (R)."""
        return self.num_v_heads // self.num_k_heads

    @property
    def key_dim(self) -> int:
        return self.num_k_heads * self.head_k

    @property
    def value_dim(self) -> int:
        return self.num_v_heads * self.head_v

    @property
    def qkv_width(self) -> int:
        return 2 * self.key_dim + self.value_dim

    @property
    def qkvz_width(self) -> int:
        return 2 * self.key_dim + 2 * self.value_dim

    @property
    def ba_width(self) -> int:
        return 2 * self.num_v_heads

    @property
    def group_width(self) -> int:
        """Packed qkvz columns per key-head group."""
        return 2 * self.head_k + 2 * self.ratio * self.head_v

    @property
    def qkvz_sizes(self) -> list[int]:
        """``output_sizes`` of the merged qkvz linear: q, k, v, z."""
        return [self.key_dim, self.key_dim, self.value_dim, self.value_dim]

    @property
    def ba_sizes(self) -> list[int]:
        return [self.num_v_heads, self.num_v_heads]

    def per_rank(self, tp: int) -> GDNShape:
        """The shape one rank sees (whole key-head groups per rank). ``tp`` is SGLang's attention-TP size
        (``attn_tp_size``, the group the GDN projections are built on, ``parallel_group="attn_tp"``): TP size
        // attention-DP size (``--attn-dp-size``) // attention-CP size
        (``sglang/srt/runtime_context.py: derive_attn_tp_size``), so ``--tp``
        only without DP or CP attention."""
        if self.num_k_heads % tp:
            raise ValueError(f"tp={tp} must divide num_k_heads={self.num_k_heads}")
        return GDNShape(self.hidden, self.num_k_heads // tp, self.num_v_heads // tp, self.head_k, self.head_v)


QWEN3_NEXT_80B = GDNShape()
# Qwen3.5-397B-A17B's GDN layers (contiguous checkpoint layout, head ratio 4, conv kernel 4)
QWEN3_5_397B = GDNShape(hidden=4096, num_k_heads=16, num_v_heads=64, head_k=128, head_v=128)
CONV_WIDTH = 4


# ----------------------------------------------------------------------------- layout index helpers
def _packed_qkvz_row(shape: GDNShape, part: str, head: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
    gw, dk, dv, r = shape.group_width, shape.head_k, shape.head_v, shape.ratio
    if part in ("q", "k"):
        return head * gw + (dk if part == "k" else 0) + d
    g, j = head // r, head % r
    return g * gw + 2 * dk + (r * dv if part == "z" else 0) + j * dv + d


def group_permutation(shape: GDNShape, tp: int, rank: int) -> torch.Tensor:
    """Rows of the full *packed* qkvz weight that form rank ``rank``'s *contiguous* weight.

    ``packed[group_permutation(shape, tp, r)] == cat(q_r, k_r, v_r, z_r)`` where ``x_r`` is the
    rank's contiguous TP slice of the split tensor ``x``.
    """
    rs = shape.per_rank(tp)
    out = []
    for part in PARTS:
        nh, hd = (rs.num_k_heads, shape.head_k) if part in ("q", "k") else (rs.num_v_heads, shape.head_v)
        heads = torch.arange(rank * nh, (rank + 1) * nh).repeat_interleave(hd)
        d = torch.arange(hd).repeat(nh)
        out.append(_packed_qkvz_row(shape, part, heads, d))
    return torch.cat(out)


def ba_permutation(shape: GDNShape, tp: int, rank: int) -> torch.Tensor:
    """Rows of the full packed ba weight that form rank ``rank``'s contiguous ``[b_r | a_r]``."""
    nv, r = shape.per_rank(tp).num_v_heads, shape.ratio
    vh = torch.arange(rank * nv, (rank + 1) * nv)
    b_rows = (vh // r) * 2 * r + vh % r
    return torch.cat([b_rows, b_rows + r])


def packed_tp_slice(weight: torch.Tensor, tp: int, rank: int) -> torch.Tensor:
    """Contiguous TP slice along the output dim (keeps whole groups for a packed weight)."""
    n = weight.shape[0]
    if n % tp:
        raise ValueError(f"{n} rows do not split over tp={tp}")
    return weight.narrow(0, rank * (n // tp), n // tp)


def split_shard_slice(shard: torch.Tensor, tp: int, rank: int) -> torch.Tensor:
    """Rank slice of one logical shard (q, k, v, z, b or a) of a split checkpoint."""
    return packed_tp_slice(shard, tp, rank)


def pack_qkvz(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, z: torch.Tensor, shape: GDNShape
) -> torch.Tensor:
    """Build the packed (Qwen3-Next) ``in_proj_qkvz`` tensor from split q, k, v, z tensors."""
    contiguous = torch.cat([q, k, v, z])
    packed = torch.empty_like(contiguous)
    packed[group_permutation(shape, 1, 0)] = contiguous
    return packed


def pack_ba(b: torch.Tensor, a: torch.Tensor, shape: GDNShape) -> torch.Tensor:
    """Build the packed ``in_proj_ba`` tensor from split b, a tensors."""
    contiguous = torch.cat([b, a])
    packed = torch.empty_like(contiguous)
    packed[ba_permutation(shape, 1, 0)] = contiguous
    return packed


# ----------------------------------------------------------------------------- projections and splits
def project(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``x @ weight.T`` in fp32."""
    return x.float() @ weight.float().t()


def split_interleaved(qkvz: torch.Tensor, ba: torch.Tensor, shape: GDNShape):
    """Packed projection outputs -> ``mixed_qkv [T, q|k|v]``, ``z [T, HV, V]``, ``b``, ``a [T, HV]``.

    The multi-op PyTorch sequence the fused kernel replaces (#18917): view per group, split,
    reshape (copies), cat.
    """
    t, nk, r = qkvz.shape[0], shape.num_k_heads, shape.ratio
    dk, dv = shape.head_k, shape.head_v
    grouped = qkvz.view(t, nk, shape.group_width)
    q, k, v, z = torch.split(grouped, [dk, dk, r * dv, r * dv], dim=2)
    b, a = torch.split(ba.view(t, nk, 2 * r), [r, r], dim=2)
    v = v.reshape(t, -1, dv)
    z = z.reshape(t, -1, dv)
    mixed_qkv = torch.cat([q.reshape(t, -1), k.reshape(t, -1), v.reshape(t, -1)], dim=-1)
    return mixed_qkv, z, b.reshape(t, -1), a.reshape(t, -1)


def split_contiguous(qkvz: torch.Tensor, ba: torch.Tensor, shape: GDNShape):
    """Contiguous projection outputs -> the same four tensors as :func:`split_interleaved` (#21019)."""
    t = qkvz.shape[0]
    q, k, v, z = qkvz.split(shape.qkvz_sizes, dim=-1)
    b, a = ba.split(shape.ba_sizes, dim=-1)
    mixed_qkv = torch.cat([q, k, v], dim=-1)
    return mixed_qkv, z.reshape(t, -1, shape.head_v), b.contiguous(), a.contiguous()


def reference_rank_outputs(
    x: torch.Tensor, split: dict[str, torch.Tensor], shape: GDNShape, tp: int, rank: int
):
    """What rank ``rank`` must produce, head by head in fp32, from split tensors ``q k v z b a``.

    Independent of either layout: each head's rows are picked by head index and projected.
    """
    rs = shape.per_rank(tp)
    k_heads = range(rank * rs.num_k_heads, (rank + 1) * rs.num_k_heads)
    v_heads = range(rank * rs.num_v_heads, (rank + 1) * rs.num_v_heads)
    dk, dv = shape.head_k, shape.head_v

    def heads(w: torch.Tensor, hs: range, hd: int) -> list[torch.Tensor]:
        return [project(x, w[h * hd : (h + 1) * hd]) for h in hs]

    mixed_qkv = torch.cat(
        heads(split["q"], k_heads, dk) + heads(split["k"], k_heads, dk) + heads(split["v"], v_heads, dv),
        dim=-1,
    )
    z = torch.stack(heads(split["z"], v_heads, dv), dim=1)
    b = torch.cat(heads(split["b"], v_heads, 1), dim=-1)
    a = torch.cat(heads(split["a"], v_heads, 1), dim=-1)
    return mixed_qkv, z, b, a


def random_split_checkpoint(
    shape: GDNShape, generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> dict[str, torch.Tensor]:
    """Fresh random split tensors ``q k v z b a`` (each ``[rows, hidden]``)."""
    rows = dict(zip("qkvz", shape.qkvz_sizes, strict=True)) | dict(zip("ba", shape.ba_sizes, strict=True))
    scale = shape.hidden**-0.5
    return {n: (torch.randn(r, shape.hidden, generator=generator) * scale).to(dtype) for n, r in rows.items()}


def split_checkpoint(split: dict[str, torch.Tensor], suffix: str = "weight") -> dict[str, torch.Tensor]:
    """Qwen3.5-style checkpoint tensors (``in_proj_qkv``, ``in_proj_z``, ``in_proj_b``, ``in_proj_a``)."""
    return {
        f"in_proj_qkv.{suffix}": torch.cat([split["q"], split["k"], split["v"]]),
        f"in_proj_z.{suffix}": split["z"],
        f"in_proj_b.{suffix}": split["b"],
        f"in_proj_a.{suffix}": split["a"],
    }


def packed_checkpoint(split: dict[str, torch.Tensor], shape: GDNShape) -> dict[str, torch.Tensor]:
    """Qwen3-Next-style checkpoint tensors (``in_proj_qkvz``, ``in_proj_ba``) of the same model."""
    return {
        "in_proj_qkvz.weight": pack_qkvz(split["q"], split["k"], split["v"], split["z"], shape),
        "in_proj_ba.weight": pack_ba(split["b"], split["a"], shape),
    }
