"""A split checkpoint (``in_proj_qkv`` -> shards ``(0, 1, 2)``) through SGLang 0.5.23's Qwen3-Next loader, run
from the installed files, next to the runtime's loader (finding ``qwen3-next-split-tuple-shard``).

``qwen3_next.py``'s ``load_weights`` maps ``in_proj_qkv`` to the tuple shard id ``(0, 1, 2)``; its packed-aware
wrapper hands every non-``None`` shard id to the merged-column loader, whose tuple path loads the FP8 weight and a
scalar per-tensor scale but refuses an unquantized weight, reads a block-scale tensor as if it held all four
shards, and refuses one per-tensor scale per shard. The runtime's ``model="qwen3-next"`` loader splits a tuple
the way ``qwen3_5.py``'s wrapper does and loads all three. Parameters are stand-ins shaped as SGLang's (the
parameter module imports the serving stack); the code that dispatches and slices is SGLang's own.
"""

from types import SimpleNamespace

import pytest
import torch

from runtime import sglang_files
from runtime.projections import fp8, naive, sglang_peer
from runtime.projections.layer import GDNInputProjection
from runtime.projections.linear import Fp8Scheme
from tests.runtime import _sglang_source

SMALL = naive.GDNShape(hidden=64, num_k_heads=8, num_v_heads=16, head_k=16, head_v=16)
BLOCK = (16, 16)
LINEAR = "srt/layers/linear.py"

pytestmark = pytest.mark.skipif(sglang_peer.qwen3_next_packed_loader() is None, reason="SGLang is not installed")


class _Param:
    """A stand-in for SGLang's column parameters: records what the merged-column loader writes."""

    def __init__(self, data: torch.Tensor) -> None:
        self.data, self.output_dim, self.loads = data, 0, []

    def load_merged_column_weight(self, loaded_weight, **kw):
        self.loads.append((kw.get("shard_id"), kw.get("shard_offset"), tuple(loaded_weight.shape)))


class PerTensorScaleParameter(_Param):
    pass


class BlockQuantScaleParameter(_Param):
    pass


class ModelWeightParameter(_Param):
    pass


def _sglang_qkvz(tp: int, rank: int, sizes: tuple[int, ...] = SMALL.qkvz_sizes):
    """SGLang's merged-column ``in_proj_qkvz`` loader methods (``weight_loader``, ``weight_loader_v2`` and the two
    helpers it calls), compiled from the installed ``linear.py``, on a layer of ``sizes`` (SMALL's qkvz)."""
    glob = {"get_group_rank_size": lambda group: (group.rank_in_group, group.world_size), "_is_cpu": False,
            "envs": SimpleNamespace(SGLANG_NPU_W4A4_NEW_PACKING=sglang_files.Flag(False)),
            "PerTensorScaleParameter": PerTensorScaleParameter, "BlockQuantScaleParameter": BlockQuantScaleParameter,
            "RowvLLMParameter": type("RowvLLMParameter", (), {}), "BasevLLMParameter": type("BasevLLMParameter", (), {}),
            "PackedColumnParameter": type("PackedColumnParameter", (), {}),
            "PackedvLLMParameter": type("PackedvLLMParameter", (), {})}
    names = ("weight_loader", "weight_loader_v2", "_load_merged_block_scale", "_load_fused_module_from_checkpoint")
    methods = {n: _sglang_source.function(LINEAR, f"MergedColumnParallelLinear.{n}", glob) for n in names}
    layer = type("MergedColumnParallelLinear", (), methods)()
    layer.output_sizes, layer.use_presharded_weights = list(sizes), False
    layer.tp_group = type("Group", (), {"rank_in_group": rank, "world_size": tp})()
    layer.quant_method = type("Fp8", (), {"quant_config": type("Cfg", (), {"weight_block_size": list(BLOCK)})()})()
    return layer


def _wrapped(layer, weight, loader):
    """``Qwen3GatedDeltaNet._make_packed_weight_loader`` (installed) over ``loader``, as qwen3_next.py binds it."""
    weight.weight_loader = loader
    layer.weight = weight
    return sglang_peer.qwen3_next_packed_loader()(layer)


def _qkv(seed: int) -> torch.Tensor:
    split = naive.random_split_checkpoint(SMALL, torch.Generator().manual_seed(seed))
    return torch.cat([split["q"], split["k"], split["v"]])


@pytest.mark.parametrize("tp,rank", [(1, 0), (2, 1)])
def test_sglang_refuses_an_unquantized_split_qkv_that_ours_loads(tp, rank):
    layer = _sglang_qkvz(tp, rank)
    weight = torch.nn.Parameter(torch.zeros(sum(SMALL.qkvz_sizes) // tp, SMALL.hidden), requires_grad=False)
    load = _wrapped(layer, weight, layer.weight_loader)
    qkv = _qkv(seed=90)
    with pytest.raises(NotImplementedError, match="Shard id with multiple indices"):
        load(weight, qkv, (0, 1, 2))
    ours = GDNInputProjection(SMALL, tp=tp, rank=rank, model="qwen3-next")
    ours.load("in_proj_qkv.weight", qkv)
    rows = sum(s // tp for s in SMALL.qkvz_sizes[:3])
    assert not ours.in_proj_qkvz.weight[:rows].isnan().any()  # loaded, where 0.5.23 stops


@pytest.mark.parametrize("tp,rank", [(1, 0), (2, 1)])
def test_sglang_reads_a_split_block_scale_as_all_four_shards(tp, rank):
    """The tuple shard id is dropped on the block-scale path: shards 0-2 take the first rows of in_proj_qkv's
    scale tensor and shard 3 (z) runs past its end; ours loads q, k, v's blocks into slots 0-2."""
    layer = _sglang_qkvz(tp, rank)
    q, s = fp8.quantize_block(_qkv(seed=91), BLOCK)
    weight = ModelWeightParameter(torch.zeros(sum(SMALL.qkvz_sizes) // tp, SMALL.hidden))
    load = _wrapped(layer, weight, layer.weight_loader_v2)
    load(weight, q, (0, 1, 2))  # the FP8 weight itself loads shard by shard
    assert [(sid, rows) for sid, _, (rows, _) in weight.loads] == list(zip((0, 1, 2), SMALL.qkvz_sizes[:3], strict=True))
    scale = BlockQuantScaleParameter(torch.zeros(sum(SMALL.qkvz_sizes) // BLOCK[0] // tp, SMALL.hidden // BLOCK[1]))
    with pytest.raises(RuntimeError, match="exceeds dimension size"):
        load(scale, s, (0, 1, 2))
    assert [sid for sid, _, _ in scale.loads] == [0, 1, 2]  # z's narrow is what fails
    ours = GDNInputProjection(SMALL, tp=tp, rank=rank, qkvz_fp8=Fp8Scheme("block", BLOCK), model="qwen3-next")
    ours.load("in_proj_qkv.weight_scale_inv", s)
    blocks = sum(n // tp // BLOCK[0] for n in SMALL.qkvz_sizes[:3])
    assert not ours.in_proj_qkvz.weight_scale_inv[:blocks].isnan().any()


def test_sglang_takes_only_a_scalar_per_tensor_scale_for_a_split_qkv():
    layer = _sglang_qkvz(1, 0)
    scale = PerTensorScaleParameter(torch.zeros(4))
    load = _wrapped(layer, ModelWeightParameter(torch.zeros(1)), layer.weight_loader_v2)
    load(scale, torch.tensor(0.5), (0, 1, 2))
    assert [sid for sid, _, _ in scale.loads] == [0, 1, 2]  # a scalar fills q, k and v, as ours
    with pytest.raises(ValueError, match="Expected scalar scale"):
        load(scale, torch.tensor([0.1, 0.2, 0.3]), (0, 1, 2))
    ours = GDNInputProjection(SMALL, qkvz_fp8=Fp8Scheme("tensor"), model="qwen3-next")
    ours.load("in_proj_qkv.weight_scale", torch.tensor([0.1, 0.2, 0.3]))
    assert ours.in_proj_qkvz.weight_scale.data[:3].tolist() == pytest.approx([0.1, 0.2, 0.3])
