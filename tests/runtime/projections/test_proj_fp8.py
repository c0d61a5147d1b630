"""FP8 loading of the GDN input projections and the read-only ``weight_loader`` property.

History modelled here: quantized parameters expose ``weight_loader`` as a property with no setter, so
``param.weight_loader = new_loader`` raises (#21313 fixed that for Qwen3-Next, #21496 reverted the fix,
#21662 fixed it again by writing the property's backing field).
"""

import pytest
import torch

from runtime.projections import fp8, naive
from runtime.projections.layer import GDNInputProjection
from runtime.projections.linear import Fp8Scheme, MergedColumnParallelLinear
from runtime.projections.params import bind_weight_loader, has_property_loader

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
SMALL = naive.GDNShape(hidden=64, num_k_heads=8, num_v_heads=16, head_k=16, head_v=16)
BLOCK = (16, 16)  # per-rank q/k shards are 16 rows at tp=8, so 16-row blocks keep whole shards


def _model(seed: int):
    g = torch.Generator().manual_seed(seed)
    split = {n: w.to(DEVICE) for n, w in naive.random_split_checkpoint(SMALL, g).items()}
    return split, torch.randn(5, SMALL.hidden, generator=g).to(DEVICE)


def _rel(got, want) -> float:
    return ((got.float() - want).norm() / want.norm()).item()


def _unquantized_ba(layer: GDNInputProjection, split, packed: bool) -> None:
    """bf16-style b/a in the same checkpoint format as the layer's qkvz."""
    if packed:
        layer.load("in_proj_ba.weight", naive.pack_ba(split["b"], split["a"], SMALL))
    else:
        layer.load("in_proj_b.weight", split["b"])
        layer.load("in_proj_a.weight", split["a"])


def test_fp8_weight_loader_is_read_only_property():
    """Plain assignment on a quantized parameter fails: the bug behind #21313 (and again after #21496)."""
    layer = MergedColumnParallelLinear(32, [32, 32], fp8=Fp8Scheme("block", (16, 16)))
    for name, param in layer.params().items():
        assert has_property_loader(param), name
        with pytest.raises(AttributeError):
            param.weight_loader = lambda *a: None


def test_bind_weight_loader_writes_backing_field_21662():
    quant = MergedColumnParallelLinear(32, [32, 32], fp8=Fp8Scheme("tensor"))
    plain = MergedColumnParallelLinear(32, [32, 32])
    assert not has_property_loader(plain.weight)
    for param in [*quant.params().values(), plain.weight]:

        def marker(*args):
            return None

        bind_weight_loader(param, marker)
        assert param.weight_loader is marker
    assert quant.weight._weight_loader is not None and "weight_loader" not in vars(quant.weight)


def test_fp8_layers_get_packed_aware_loaders():
    """The GDN layer binds the packed-aware loader on FP8 weight and scale parameters without assigning."""
    layer = GDNInputProjection(SMALL, tp=2, rank=1, qkvz_fp8=Fp8Scheme("block", BLOCK))
    for param in layer.in_proj_qkvz.params().values():
        assert param.weight_loader.__qualname__.startswith("packed_aware_loader")
        assert param._weight_loader is param.weight_loader


@pytest.mark.parametrize("tp", [1, 2, 4, 8])
def test_fp8_block_scales_split_and_packed_match(tp):
    """Block-scaled FP8 qkvz: split and packed checkpoints give the same per-rank weights, scales and
    outputs, equal to the fp32 reference of the dequantized model."""
    split, x = _model(seed=20 + tp)
    split_fp8, packed_fp8, deq = fp8.block_checkpoints(split, SMALL, BLOCK)
    model = deq | {"b": split["b"], "a": split["a"]}
    rs = SMALL.per_rank(tp)
    scheme = Fp8Scheme("block", BLOCK)
    for r in range(tp):
        from_split = GDNInputProjection(SMALL, tp=tp, rank=r, qkvz_fp8=scheme, device=DEVICE)
        from_split.load_checkpoint(split_fp8)
        from_packed = GDNInputProjection(SMALL, tp=tp, rank=r, qkvz_fp8=scheme, device=DEVICE)
        from_packed.load_checkpoint(packed_fp8)
        _unquantized_ba(from_split, split, packed=False)
        _unquantized_ba(from_packed, split, packed=True)
        perm = naive.group_permutation(rs, 1, 0)
        assert torch.equal(
            from_packed.in_proj_qkvz.weight.view(torch.uint8)[perm],
            from_split.in_proj_qkvz.weight.view(torch.uint8),
        )
        assert torch.equal(
            fp8.permute_block_rows(from_packed.in_proj_qkvz.weight_scale_inv, perm, BLOCK[0]),
            from_split.in_proj_qkvz.weight_scale_inv,
        )
        want = naive.reference_rank_outputs(x, model, SMALL, tp, r)
        for layer in (from_split, from_packed):
            for got, ref in zip(layer(x), want, strict=True):
                assert _rel(got, ref) < 1e-5


@pytest.mark.parametrize("tp", [1, 4])
def test_fp8_per_tensor_scales_split_and_packed_match(tp):
    """Per-tensor scales: in_proj_qkv's scalar fills slots 0-2 (tuple shard id), in_proj_z's slot 3; a
    packed checkpoint's single scalar fills all four."""
    split, x = _model(seed=30 + tp)
    qkv_q, qkv_s = fp8.quantize_per_tensor(torch.cat([split["q"], split["k"], split["v"]]))
    z_q, z_s = fp8.quantize_per_tensor(split["z"])
    packed_q, packed_s = fp8.quantize_per_tensor(naive.packed_checkpoint(split, SMALL)["in_proj_qkvz.weight"])
    qkv_deq = (qkv_q.float() * qkv_s).split(SMALL.qkvz_sizes[:3])
    split_model = dict(zip("qkv", qkv_deq, strict=True)) | {
        "z": z_q.float() * z_s,
        "b": split["b"],
        "a": split["a"],
    }
    # the packed model is a different quantization (one scale): unpack it for its own reference
    contiguous = (packed_q.float() * packed_s)[naive.group_permutation(SMALL, 1, 0)].split(SMALL.qkvz_sizes)
    packed_model = dict(zip("qkvz", contiguous, strict=True)) | {"b": split["b"], "a": split["a"]}
    scheme = Fp8Scheme("tensor")
    for r in range(tp):
        s_layer = GDNInputProjection(SMALL, tp=tp, rank=r, qkvz_fp8=scheme, device=DEVICE)
        s_layer.load_checkpoint(
            {
                "in_proj_qkv.weight": qkv_q,
                "in_proj_qkv.weight_scale": qkv_s,
                "in_proj_z.weight": z_q,
                "in_proj_z.weight_scale": z_s,
            }
        )
        assert torch.equal(s_layer.in_proj_qkvz.weight_scale.data, torch.stack([qkv_s] * 3 + [z_s]))
        p_layer = GDNInputProjection(SMALL, tp=tp, rank=r, qkvz_fp8=scheme, device=DEVICE)
        p_layer.load_checkpoint({"in_proj_qkvz.weight": packed_q, "in_proj_qkvz.weight_scale": packed_s})
        assert torch.equal(p_layer.in_proj_qkvz.weight_scale.data, packed_s.expand(4))
        for layer, model, packed in ((s_layer, split_model, False), (p_layer, packed_model, True)):
            _unquantized_ba(layer, split, packed)
            for got, ref in zip(layer(x), naive.reference_rank_outputs(x, model, SMALL, tp, r), strict=True):
                assert _rel(got, ref) < 1e-5


def test_fp8_block_scales_for_ba_are_rejected():
    """b/a shards (num_v_heads / tp rows) are smaller than a 128-row scale block: refused, not guessed."""
    with pytest.raises(NotImplementedError, match="block_n=128"):
        GDNInputProjection(naive.QWEN3_NEXT_80B, tp=2, rank=0, ba_fp8=Fp8Scheme("block"))
    with pytest.raises(NotImplementedError, match="scale scheme 'channel'"):
        Fp8Scheme("channel")


def test_fp8_real_shape_block_layout_is_supported_for_qkvz():
    """Qwen3-Next qkvz with 128x128 blocks at every tp: per-rank shards are whole blocks."""
    for tp in (1, 2, 4, 8):
        layer = MergedColumnParallelLinear(
            2048, naive.QWEN3_NEXT_80B.qkvz_sizes, tp=tp, fp8=Fp8Scheme("block")
        )
        assert tuple(layer.weight_scale_inv.shape) == (12288 // tp // 128, 16)
