"""One rank's GDN input projection: merged qkvz and ba linears, checkpoint loading, split.

The split kernel is chosen by how the weights were loaded: a packed checkpoint leaves the GEMM output
interleaved per key-head group, a split checkpoint leaves it contiguous (#21019).
"""

from __future__ import annotations

import torch

from .linear import Fp8Scheme, MergedColumnParallelLinear
from .loader import bind_packed_aware_loaders, load_tensor
from .naive import GDNShape
from .split_kernel import split_qkvzba


class GDNInputProjection(torch.nn.Module):
    """``in_proj_qkvz`` + ``in_proj_ba`` of rank ``rank`` of ``tp``.

    ``packed_aware=False`` keeps the generic merged-column loader for packed tensors too; it exists to
    show that loader's scramble (the bug class the packed-aware loader avoids).
    """

    def __init__(
        self,
        shape: GDNShape,
        *,
        tp: int = 1,
        rank: int = 0,
        dtype: torch.dtype = torch.float32,
        qkvz_fp8: Fp8Scheme | None = None,
        ba_fp8: Fp8Scheme | None = None,
        device: torch.device | str | None = None,
        packed_aware: bool = True,
    ) -> None:
        super().__init__()
        self.shape, self.tp, self.rank = shape, tp, rank
        self.rank_shape = shape.per_rank(tp)
        common = {"tp": tp, "rank": rank, "dtype": dtype, "device": device}
        self.in_proj_qkvz = MergedColumnParallelLinear(
            shape.hidden, shape.qkvz_sizes, fp8=qkvz_fp8, name="in_proj_qkvz", **common
        )
        self.in_proj_ba = MergedColumnParallelLinear(
            shape.hidden, shape.ba_sizes, fp8=ba_fp8, name="in_proj_ba", **common
        )
        if packed_aware:
            bind_packed_aware_loaders(self.in_proj_qkvz)
            bind_packed_aware_loaders(self.in_proj_ba)

    def load(self, name: str, tensor: torch.Tensor) -> None:
        """Load one checkpoint tensor, e.g. ``in_proj_qkv.weight`` or ``in_proj_qkvz.weight_scale_inv``."""
        load_tensor({"in_proj_qkvz": self.in_proj_qkvz, "in_proj_ba": self.in_proj_ba}, name, tensor)

    def load_checkpoint(self, tensors: dict[str, torch.Tensor]) -> None:
        for name, tensor in tensors.items():
            self.load(name, tensor)

    @property
    def layout(self) -> str:
        """``"interleaved"`` (packed checkpoint) or ``"contiguous"`` (split checkpoint)."""
        qkvz, ba = self.in_proj_qkvz.layout, self.in_proj_ba.layout
        if qkvz is None or ba is None:
            raise RuntimeError("weights not loaded")
        if qkvz != ba:
            raise ValueError(f"in_proj_qkvz is {qkvz} but in_proj_ba is {ba}")
        return "interleaved" if qkvz == "packed" else "contiguous"

    def forward(self, x: torch.Tensor):
        """``x [T, hidden]`` -> ``mixed_qkv``, ``z``, ``b``, ``a`` for this rank."""
        return split_qkvzba(self.in_proj_qkvz(x), self.in_proj_ba(x), self.rank_shape, self.layout)
