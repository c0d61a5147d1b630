"""Checkpoint loading for the GDN input projections (split and packed checkpoints).

* Packed checkpoint (Qwen3-Next): ``in_proj_qkvz`` / ``in_proj_ba`` arrive with shard id ``None``. The
  packed-aware loader (bound for ``model="qwen3-next"`` only) takes a plain contiguous TP slice, which keeps
  whole key-head groups per rank. For Qwen3.5 a ``None`` tensor is ``[q|k|v|z]`` and the generic loader
  splits it by output sizes, as SGLang 0.5.23 does.
* Split checkpoint (Qwen3.5): ``in_proj_qkv`` -> shards ``(0, 1, 2)`` of qkvz, ``in_proj_z`` -> shard 3,
  ``in_proj_b`` / ``in_proj_a`` -> shards 0 / 1 of ba; these go to the generic merged-column loader
  (#19321, #21019). For Qwen3-Next that is Qwen3.5's rule, not 0.5.23's: its wrapper hands the tuple to a
  loader that refuses it unquantized and misreads block scales (finding qwen3-next-split-tuple-shard,
  ``tests/runtime/projections/test_proj_sglang_split_loader.py``).

Scales follow their weights: ``weight_scale_inv`` (block) is sliced in block rows, ``weight_scale`` and
``input_scale`` (per tensor) fill one slot per logical shard. A packed tensor's one scalar scale fills all
four slots; SGLang 0.5.23's Qwen3-Next loader rejects it instead (its shape check runs for scales too,
``sglang/srt/models/qwen3_next.py: Qwen3GatedDeltaNet._make_packed_weight_loader``), a likely upstream bug
reproduced in ``test_proj_fp8.py``.
"""

from __future__ import annotations

import torch

from .linear import MergedColumnParallelLinear, ShardId
from .naive import packed_tp_slice
from .params import Loader, PerTensorScaleParameter, bind_weight_loader

# checkpoint module name -> (merged module, shard id)
CHECKPOINT_MAPPING: dict[str, tuple[str, ShardId]] = {
    "in_proj_qkvz": ("in_proj_qkvz", None),
    "in_proj_ba": ("in_proj_ba", None),
    "in_proj_qkv": ("in_proj_qkvz", (0, 1, 2)),
    "in_proj_z": ("in_proj_qkvz", 3),
    "in_proj_b": ("in_proj_ba", 0),
    "in_proj_a": ("in_proj_ba", 1),
}


def packed_aware_loader(layer: MergedColumnParallelLinear, original: Loader) -> Loader:
    """Wrap ``original`` so a ``None`` shard id (packed, fused in the checkpoint) is a plain TP slice."""

    def load(param: torch.nn.Parameter, loaded: torch.Tensor, shard_id: ShardId = None) -> None:
        if shard_id is not None or isinstance(param, PerTensorScaleParameter):
            original(param, loaded, shard_id)
            return
        local = packed_tp_slice(loaded, layer.tp, layer.rank)
        if local.shape != param.data.shape:
            raise ValueError(
                f"{layer.name}: packed slice {tuple(local.shape)} vs parameter {tuple(param.data.shape)}"
            )
        param.data.copy_(local)
        if param is layer.weight:
            layer.note_layout("packed")

    return load


def bind_packed_aware_loaders(layer: MergedColumnParallelLinear) -> None:
    """Install :func:`packed_aware_loader` on every parameter of ``layer`` (weight and scales)."""
    for param in layer.params().values():
        bind_weight_loader(param, packed_aware_loader(layer, param.weight_loader))


def load_tensor(modules: dict[str, MergedColumnParallelLinear], name: str, tensor: torch.Tensor) -> None:
    """Load one checkpoint tensor ``<module>.<suffix>`` through its parameter's bound ``weight_loader``."""
    module_name, _, suffix = name.rpartition(".")
    if module_name not in CHECKPOINT_MAPPING:
        raise KeyError(f"not a GDN input projection tensor: {name}")
    target, shard_id = CHECKPOINT_MAPPING[module_name]
    params = modules[target].params()
    if suffix not in params:
        raise KeyError(f"{target} has no parameter {suffix!r} (has {sorted(params)})")
    param = params[suffix]
    param.weight_loader(param, tensor, shard_id)
