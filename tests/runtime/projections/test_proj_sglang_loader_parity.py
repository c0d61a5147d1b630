"""Unquantized checkpoints through SGLang 0.5.23's own loaders, compiled from the installed files, next to ours: the
weights each rank holds agree bit for bit.

SGLang's side is its generic merged-column ``weight_loader`` (``linear.py``) behind each model's wrapper: Qwen3-Next's
``Qwen3GatedDeltaNet._make_packed_weight_loader`` (a ``None`` shard id: plain TP slice) and Qwen3.5's
``Qwen3_5GatedDeltaNet._make_packed_weight_loader`` (a tuple split per shard; ``None`` and ints passed on), with the
shard ids ``Qwen3_5ForCausalLM.load_weights`` maps the split tensors to. The parameters are ``nn.Parameter`` with
``output_dim = 0``, as SGLang's unquantized linear method makes them.
"""

import pytest
import torch

from runtime.projections import naive, sglang_peer
from runtime.projections.layer import GDNInputProjection
from tests.runtime import _sglang_source

from .test_proj_sglang_split_loader import SMALL, _sglang_qkvz, _wrapped

pytestmark = pytest.mark.skipif(sglang_peer.qwen3_next_packed_loader() is None, reason="SGLang is not installed")

QWEN3_5 = "srt/models/qwen3_5.py"
SHARDS_3_5 = {"in_proj_qkv": ("in_proj_qkvz", (0, 1, 2)), "in_proj_z": ("in_proj_qkvz", 3),
              "in_proj_b": ("in_proj_ba", 0), "in_proj_a": ("in_proj_ba", 1)}  # Qwen3_5ForCausalLM.load_weights'
CASES = [(1, 0), (2, 1), (4, 2)]


class _Qwen35:
    """``Qwen3_5GatedDeltaNet``'s two loader helpers, compiled from the installed ``qwen3_5.py``."""

    glob = {"_is_cpu": False, "BlockQuantScaleParameter": type("BlockQuantScaleParameter", (), {}),
            "PerTensorScaleParameter": type("PerTensorScaleParameter", (), {})}
    _get_split_sizes_for_param = staticmethod(
        _sglang_source.function(QWEN3_5, "Qwen3_5GatedDeltaNet._get_split_sizes_for_param", glob))
    make = _sglang_source.function(QWEN3_5, "Qwen3_5GatedDeltaNet._make_packed_weight_loader", glob)


def _sglang_modules(tp, rank):
    """``{name: (layer, weight parameter)}`` for in_proj_qkvz and in_proj_ba of rank ``rank`` of ``tp``."""
    out = {}
    for name, sizes in (("in_proj_qkvz", SMALL.qkvz_sizes), ("in_proj_ba", SMALL.ba_sizes)):
        layer = _sglang_qkvz(tp, rank, sizes)
        weight = torch.nn.Parameter(torch.full((sum(sizes) // tp, SMALL.hidden), torch.nan), requires_grad=False)
        weight.output_dim = 0
        out[name] = (layer, weight)
    return out


def _ours(tp, rank, model, tensors):
    ours = GDNInputProjection(SMALL, tp=tp, rank=rank, model=model)
    ours.load_checkpoint(tensors)
    return {"in_proj_qkvz": ours.in_proj_qkvz.weight.data, "in_proj_ba": ours.in_proj_ba.weight.data}


@pytest.mark.parametrize("tp,rank", CASES)
def test_qwen3_next_packed_checkpoint_loads_as_sglangs(tp, rank):
    """``in_proj_qkvz`` / ``in_proj_ba`` packed on disk (shard id ``None``) through SGLang's Qwen3-Next wrapper."""
    tensors = naive.packed_checkpoint(naive.random_split_checkpoint(SMALL, torch.Generator().manual_seed(tp)), SMALL)
    theirs = _sglang_modules(tp, rank)
    for name, tensor in tensors.items():
        layer, weight = theirs[name.split(".")[0]]
        _wrapped(layer, weight, layer.weight_loader)(weight, tensor, None)
    for name, got in _ours(tp, rank, "qwen3-next", tensors).items():
        assert not got.isnan().any() and torch.equal(got, theirs[name][1].data), name


@pytest.mark.parametrize("tp,rank", CASES)
def test_qwen3_5_split_checkpoint_loads_as_sglangs(tp, rank):
    """``in_proj_qkv`` (shards 0-2), ``in_proj_z`` (3), ``in_proj_b`` / ``in_proj_a`` (0 / 1) through SGLang's
    Qwen3.5 wrapper over its generic loader: q, k, v, z and b, a land in their shard regions as rank slices."""
    split = naive.random_split_checkpoint(SMALL, torch.Generator().manual_seed(10 + tp))
    tensors = naive.split_checkpoint(split)
    theirs = _sglang_modules(tp, rank)
    for name, tensor in tensors.items():
        module, shard = SHARDS_3_5[name.split(".")[0]]
        layer, weight = theirs[module]
        _Qwen35.make(_Qwen35, layer, layer.weight_loader)(weight, tensor, shard)
    for name, got in _ours(tp, rank, "qwen3.5", tensors).items():
        assert not got.isnan().any() and torch.equal(got, theirs[name][1].data), name


@pytest.mark.parametrize("tp,rank", CASES)
def test_qwen3_5_fused_on_disk_loads_as_sglangs(tp, rank):
    """A Qwen3.5 ``in_proj_qkvz`` / ``in_proj_ba`` fused on disk as ``[q | k | v | z]`` / ``[b | a]`` (shard id
    ``None``): SGLang's Qwen3.5 wrapper passes it on and the generic loader splits it by ``output_sizes``; so does ours
    for ``model="qwen3.5"`` (and the result is the split checkpoint's)."""
    split = naive.random_split_checkpoint(SMALL, torch.Generator().manual_seed(20 + tp))
    tensors = {"in_proj_qkvz.weight": torch.cat([split[n] for n in "qkvz"]),
               "in_proj_ba.weight": torch.cat([split["b"], split["a"]])}
    theirs = _sglang_modules(tp, rank)
    for name, tensor in tensors.items():
        layer, weight = theirs[name.split(".")[0]]
        _Qwen35.make(_Qwen35, layer, layer.weight_loader)(weight, tensor, None)
    ours = _ours(tp, rank, "qwen3.5", tensors)
    assert all(torch.equal(got, theirs[name][1].data) for name, got in ours.items())
    from_split = _ours(tp, rank, "qwen3.5", naive.split_checkpoint(split))
    assert all(torch.equal(got, from_split[name]) for name, got in ours.items())
