"""One rank's GDN input projection: merged qkvz and ba linears, checkpoint loading, split.

The split kernel is chosen by how the weights were loaded: a packed checkpoint leaves the GEMM output
interleaved per key-head group, a split checkpoint leaves it contiguous (#21019).

``model`` decides what a tensor fused on disk (shard id ``None``) means, as SGLang 0.5.23 does: for
``"qwen3-next"`` it is packed per key-head group and takes a plain TP slice
(``sglang/srt/models/qwen3_next.py: Qwen3GatedDeltaNet._make_packed_weight_loader``); for ``"qwen3.5"`` it is
``[q|k|v|z]`` and is split by output sizes (the generic merged-column loader; the Qwen3.5 wrapper,
``sglang/srt/models/qwen3_5.py: Qwen3_5GatedDeltaNet._make_packed_weight_loader``, only intercepts tuple shard ids).
"""

from __future__ import annotations

from typing import Literal

import torch

from .linear import Fp8Scheme, MergedColumnParallelLinear
from .loader import bind_packed_aware_loaders, load_tensor
from .naive import GDNShape
from .split_kernel import split_qkvzba

Model = Literal["qwen3-next", "qwen3.5"]
MODELS = ("qwen3-next", "qwen3.5")


class GDNInputProjection(torch.nn.Module):
    """``in_proj_qkvz`` + ``in_proj_ba`` of rank ``rank`` of ``tp``.

    ``model="qwen3.5"`` keeps the generic merged-column loader for fused tensors; loading a packed Qwen3-Next
    tensor into it shows that loader's scramble (the bug class the packed-aware loader avoids).
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
        model: Model = "qwen3-next",
    ) -> None:
        super().__init__()
        if model not in MODELS:
            raise ValueError(f"model must be one of {MODELS}, got {model!r}")
        self.model = model
        self.shape, self.tp, self.rank = shape, tp, rank
        self.rank_shape = shape.per_rank(tp)
        common = {"tp": tp, "rank": rank, "dtype": dtype, "device": device}
        self.in_proj_qkvz = MergedColumnParallelLinear(
            shape.hidden, shape.qkvz_sizes, fp8=qkvz_fp8, name="in_proj_qkvz", **common
        )
        self.in_proj_ba = MergedColumnParallelLinear(
            shape.hidden, shape.ba_sizes, fp8=ba_fp8, name="in_proj_ba", **common
        )
        if model == "qwen3-next":
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
