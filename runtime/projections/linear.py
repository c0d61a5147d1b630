"""A merged column-parallel linear with tensor parallelism emulated on one device (rank ``r`` of ``tp``).

Its own ``weight_loader`` is the *generic* merged-column loader: an int shard id loads that shard's
rank slice into its region, a tuple splits the tensor by those shards' sizes, and ``None`` (a tensor
fused in the checkpoint) splits by ``output_sizes``. SGLang's splits a tuple only for vLLM-style parameters
(``weight_loader_v2``) and raises ``NotImplementedError`` for a plain one; Qwen3.5's wrapper splits its own tuples
first (FIDELITY.md, departures). That last rule is right for a contiguous
``[q|k|v|z]`` tensor and scrambles a packed Qwen3-Next tensor; :mod:`.loader` wraps it (#19321).

Supported FP8 schemes (:class:`Fp8Scheme`): block-wise ``weight_scale_inv`` when every per-rank
shard is a whole number of blocks, and per-tensor ``weight_scale`` with an optional static activation scale
``input_scale`` (one slot per shard, like ``weight_scale``; the layer quantizes its input with their maximum,
as SGLang's FP8 method does after loading,
``sglang/srt/layers/quantization/fp8.py: Fp8LinearMethod.process_weights_after_loading``). Anything else raises.

Per-tensor scales and shard ids: an int fills its slot; a tuple (a tensor holding several shards) takes one
scale per shard or one scalar for all of them; ``None`` (the whole merged tensor fused on disk) takes one
scalar for every slot (``sglang/srt/layers/linear.py: MergedColumnParallelLinear.weight_loader_v2``); the tuple
rule is Qwen3.5's wrapper's (``sglang/srt/models/qwen3_5.py: Qwen3_5GatedDeltaNet._get_split_sizes_for_param``).
The generic loader is ``sglang/srt/layers/linear.py: MergedColumnParallelLinear.weight_loader``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F

from .fp8 import FP8, FP8_MAX, dequantize_block
from .params import BlockScaleParameter, Fp8WeightParameter, PerTensorScaleParameter, plain_parameter

Layout = Literal["packed", "contiguous"]
ShardId = int | tuple[int, ...] | None


@dataclass(frozen=True)
class Fp8Scheme:
    """FP8 weights with ``scales="block"`` (``block=(block_n, block_k)``) or ``scales="tensor"``; ``static_input``
    adds a per-tensor activation scale (``input_scale``, per-tensor scheme only)."""

    scales: Literal["block", "tensor"]
    block: tuple[int, int] = (128, 128)
    static_input: bool = False

    def __post_init__(self) -> None:
        if self.scales not in ("block", "tensor"):
            raise NotImplementedError(f"FP8 scale scheme {self.scales!r} is not supported (block, tensor)")
        if self.static_input and self.scales != "tensor":
            raise NotImplementedError("a static input_scale is supported with per-tensor weight scales only")


class MergedColumnParallelLinear(torch.nn.Module):
    """``output_sizes`` stacked along the output dim; rank ``rank`` holds ``size / tp`` rows of each."""

    def __init__(
        self,
        input_size: int,
        output_sizes: list[int],
        *,
        tp: int = 1,
        rank: int = 0,
        dtype: torch.dtype = torch.float32,
        fp8: Fp8Scheme | None = None,
        device: torch.device | str | None = None,
        name: str = "linear",
    ) -> None:
        super().__init__()
        if not 0 <= rank < tp:
            raise ValueError(f"rank {rank} outside tp={tp}")
        if any(s % tp for s in output_sizes):
            raise ValueError(f"{name}: output sizes {output_sizes} do not split over tp={tp}")
        self.name, self.input_size, self.output_sizes = name, input_size, list(output_sizes)
        self.tp, self.rank, self.fp8 = tp, rank, fp8
        self.local_sizes = [s // tp for s in output_sizes]
        self.layout: Layout | None = None
        rows = sum(self.local_sizes)
        # NaN poison: a row no loader wrote stays NaN and shows up in every output it touches.
        if fp8 is None:
            self.weight = plain_parameter(
                torch.full((rows, input_size), float("nan"), dtype=dtype, device=device), self.weight_loader
            )
            return
        self.weight = Fp8WeightParameter(
            torch.full((rows, input_size), float("nan"), device=device).to(FP8), self.weight_loader
        )
        if fp8.scales == "tensor":
            self.weight_scale = PerTensorScaleParameter(
                torch.full((len(output_sizes),), float("nan"), device=device), self.weight_loader
            )
            if fp8.static_input:
                self.input_scale = PerTensorScaleParameter(
                    torch.full((len(output_sizes),), float("nan"), device=device), self.weight_loader
                )
            return
        bn, bk = fp8.block
        if any(s % bn for s in self.local_sizes) or input_size % bk:
            raise NotImplementedError(
                f"{name}: block-wise FP8 scales need every per-rank shard {self.local_sizes} to be a "
                f"multiple of block_n={bn} and input {input_size} a multiple of block_k={bk}; a scale block "
                "would straddle shards or ranks. Keep this projection unquantized or use per-tensor scales."
            )
        self.weight_scale_inv = BlockScaleParameter(
            torch.full((rows // bn, input_size // bk), float("nan"), device=device),
            self.weight_loader,
            block=fp8.block,
        )

    def params(self) -> dict[str, torch.nn.Parameter]:
        """Checkpoint suffix -> parameter."""
        return {
            n: p
            for n, p in (
                ("weight", self.weight),
                ("weight_scale", getattr(self, "weight_scale", None)),
                ("weight_scale_inv", getattr(self, "weight_scale_inv", None)),
                ("input_scale", getattr(self, "input_scale", None)),
            )
            if p is not None
        }

    def note_layout(self, layout: Layout) -> None:
        """Record which row order the loaded weight has; a checkpoint must not mix the two."""
        if self.layout not in (None, layout):
            raise ValueError(f"{self.name}: {layout} tensor loaded into a {self.layout} weight")
        self.layout = layout

    def _unit(self, param: torch.nn.Parameter) -> int:
        return param.block[0] if isinstance(param, BlockScaleParameter) else 1

    def weight_loader(
        self, param: torch.nn.Parameter, loaded: torch.Tensor, shard_id: ShardId = None
    ) -> None:
        """Generic merged-column loader (see module docstring)."""
        if isinstance(param, PerTensorScaleParameter):
            self._load_tensor_scale(param, loaded, shard_id)
            return
        if shard_id is None:  # fused in the checkpoint: assume [shard0 | shard1 | ...]
            shard_id = tuple(range(len(self.output_sizes)))
        unit = self._unit(param)
        if isinstance(shard_id, tuple):
            sizes = [self.output_sizes[i] // unit for i in shard_id]
            if loaded.shape[0] != sum(sizes):
                raise ValueError(
                    f"{self.name}: {loaded.shape[0]} rows for shards {shard_id} of sizes {sizes}"
                )
            for i, chunk in zip(shard_id, loaded.split(sizes), strict=True):
                self._load_shard(param, chunk, i, unit)
            return
        self._load_shard(param, loaded, shard_id, unit)

    def _load_shard(self, param: torch.nn.Parameter, loaded: torch.Tensor, shard: int, unit: int) -> None:
        if not 0 <= shard < len(self.output_sizes):
            raise ValueError(f"{self.name}: no shard {shard}")
        if loaded.shape[0] != self.output_sizes[shard] // unit:
            raise ValueError(
                f"{self.name}: shard {shard} has {loaded.shape[0]} rows, "
                f"expected {self.output_sizes[shard] // unit}"
            )
        size = self.local_sizes[shard] // unit
        offset = sum(self.local_sizes[:shard]) // unit
        param.data.narrow(0, offset, size).copy_(loaded.narrow(0, self.rank * size, size))
        if param is self.weight:
            self.note_layout("contiguous")

    def _load_tensor_scale(
        self, param: PerTensorScaleParameter, loaded: torch.Tensor, shard_id: ShardId
    ) -> None:
        shards = (
            range(len(self.output_sizes))
            if shard_id is None
            else (shard_id if isinstance(shard_id, tuple) else (shard_id,))
        )
        values = loaded.reshape(-1)
        if shard_id is None and values.numel() != 1:
            raise ValueError(f"{self.name}: a tensor fused on disk takes one scalar scale, got {tuple(loaded.shape)}")
        if values.numel() == 1:
            values = values.expand(len(shards))
        if values.numel() != len(shards):
            raise ValueError(f"{self.name}: {values.numel()} per-tensor scales for shards {tuple(shards)}")
        for i, s in zip(shards, values, strict=True):
            param.data[i] = s

    def dequantized_weight(self) -> torch.Tensor:
        """The weight this rank multiplies by, in fp32."""
        if self.fp8 is None:
            return self.weight.float()
        if self.fp8.scales == "block":
            return dequantize_block(self.weight, self.weight_scale_inv, self.fp8.block)
        scales = self.weight_scale.data
        if self.layout == "packed":
            if not torch.equal(scales, scales[:1].expand_as(scales)):
                raise ValueError(f"{self.name}: packed rows need one shared per-tensor scale")
            return self.weight.float() * scales[0]
        rows = torch.repeat_interleave(scales, torch.tensor(self.local_sizes, device=scales.device))
        return self.weight.float() * rows[:, None]

    def activation_scale(self) -> torch.Tensor | None:
        """The static input scale the layer quantizes with: the maximum over its slots (``None`` without one)."""
        scale = getattr(self, "input_scale", None)
        if scale is None:
            return None
        if scale.data.isnan().any():
            raise ValueError(f"{self.name}: input_scale not loaded for every shard")
        return scale.data.max()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fp8 is None:
            return F.linear(x, self.weight)
        x = x.float()
        scale = self.activation_scale()
        if scale is not None:  # static FP8 activations: quantize, then compute on the dequantized values
            x = (x / scale).clamp(-FP8_MAX, FP8_MAX).to(FP8).float() * scale
        return F.linear(x, self.dequantized_weight())
