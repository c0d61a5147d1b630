"""FP8 loading of the GDN input projections and the read-only ``weight_loader`` property.

History modelled here: quantized parameters expose ``weight_loader`` as a property with no setter, so
``param.weight_loader = new_loader`` raises (#21313 fixed that for Qwen3-Next, #21496 reverted the fix,
#21662 fixed it again by writing the property's backing field).
"""

import types

import pytest
import torch

from runtime.projections import fp8, naive, sglang_peer
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


def _per_tensor_layer(tp, r, checkpoint, split, *, model, packed_ba, scheme=Fp8Scheme("tensor")):
    layer = GDNInputProjection(SMALL, tp=tp, rank=r, qkvz_fp8=scheme, device=DEVICE, model=model)
    layer.load_checkpoint(checkpoint)
    _unquantized_ba(layer, split, packed_ba)
    return layer


def _check_outputs(layer, x, model, tp, r):
    for got, ref in zip(layer(x), naive.reference_rank_outputs(x, model, SMALL, tp, r), strict=True):
        assert _rel(got, ref) < 1e-5


@pytest.mark.parametrize("model", ["qwen3-next", "qwen3.5"])
@pytest.mark.parametrize("tp", [1, 4])
def test_fp8_per_tensor_scales_split_checkpoint(model, tp):
    """A split checkpoint loads the same under both models: in_proj_qkv's scalar fills slots 0-2 (tuple shard
    id), in_proj_z's slot 3 (qwen3_5.py's wrapper broadcasts a one-element scale over a tuple's shards)."""
    split, x = _model(seed=30 + tp)
    qkv_q, qkv_s = fp8.quantize_per_tensor(torch.cat([split["q"], split["k"], split["v"]]))
    z_q, z_s = fp8.quantize_per_tensor(split["z"])
    deq = dict(zip("qkv", (qkv_q.float() * qkv_s).split(SMALL.qkvz_sizes[:3]), strict=True))
    want = deq | {"z": z_q.float() * z_s, "b": split["b"], "a": split["a"]}
    ckpt = {"in_proj_qkv.weight": qkv_q, "in_proj_qkv.weight_scale": qkv_s,
            "in_proj_z.weight": z_q, "in_proj_z.weight_scale": z_s}
    for r in range(tp):
        layer = _per_tensor_layer(tp, r, ckpt, split, model=model, packed_ba=False)
        assert torch.equal(layer.in_proj_qkvz.weight_scale.data, torch.stack([qkv_s] * 3 + [z_s]))
        _check_outputs(layer, x, want, tp, r)


@pytest.mark.parametrize("tp", [1, 4])
def test_fp8_per_tensor_fused_on_disk_qwen35(tp):
    """Qwen3.5 with in_proj_qkvz fused on disk ([q|k|v|z], shard id None) and one scalar scale: the generic
    loader splits the rows by output size and the scalar fills every slot (weight_loader_v2's rule)."""
    split, x = _model(seed=40 + tp)
    q, s = fp8.quantize_per_tensor(torch.cat([split[n] for n in "qkvz"]))
    want = dict(zip("qkvz", (q.float() * s).split(SMALL.qkvz_sizes), strict=True)) | {"b": split["b"], "a": split["a"]}
    for r in range(tp):
        layer = _per_tensor_layer(
            tp, r, {"in_proj_qkvz.weight": q, "in_proj_qkvz.weight_scale": s}, split, model="qwen3.5", packed_ba=False
        )
        assert layer.layout == "contiguous"
        assert torch.equal(layer.in_proj_qkvz.weight_scale.data, s.expand(4))
        _check_outputs(layer, x, want, tp, r)


@pytest.mark.parametrize("tp", [1, 4])
def test_fp8_per_tensor_packed_qwen3_next_fills_every_slot(tp):
    """Qwen3-Next packed in_proj_qkvz with one scalar scale: ours fills all four slots, as SGLang's generic
    loader does for any tensor fused on disk. SGLang 0.5.23's Qwen3-Next loader raises here instead
    (test_sglang_qwen3_next_loader_rejects_a_packed_scalar_scale): a divergence, not parity."""
    split, x = _model(seed=50 + tp)
    q, s = fp8.quantize_per_tensor(naive.packed_checkpoint(split, SMALL)["in_proj_qkvz.weight"])
    unpacked = (q.float() * s)[naive.group_permutation(SMALL, 1, 0)].split(SMALL.qkvz_sizes)
    want = dict(zip("qkvz", unpacked, strict=True)) | {"b": split["b"], "a": split["a"]}
    for r in range(tp):
        layer = _per_tensor_layer(
            tp, r, {"in_proj_qkvz.weight": q, "in_proj_qkvz.weight_scale": s}, split, model="qwen3-next", packed_ba=True
        )
        assert layer.layout == "interleaved"
        assert torch.equal(layer.in_proj_qkvz.weight_scale.data, s.expand(4))
        _check_outputs(layer, x, want, tp, r)


@pytest.mark.skipif(sglang_peer.qwen3_next_packed_loader() is None, reason="SGLang is not installed")
def test_sglang_qwen3_next_loader_rejects_a_packed_scalar_scale():
    """Reproduction against the installed SGLang 0.5.23 code: ``_make_packed_weight_loader`` from
    ``qwen3_next.py`` compares a packed tensor's shape with the parameter's for every shard-id-None load,
    scales included, so the four-slot per-tensor ``weight_scale`` rejects the checkpoint's scalar, at TP1 and
    TP4 alike. Its weight path takes the same rows as ours."""
    make = sglang_peer.qwen3_next_packed_loader()
    split, _ = _model(seed=60)
    q, s = fp8.quantize_per_tensor(naive.packed_checkpoint(split, SMALL)["in_proj_qkvz.weight"])
    for tp, rank in ((1, 0), (4, 2)):
        ours = MergedColumnParallelLinear(SMALL.hidden, SMALL.qkvz_sizes, tp=tp, rank=rank, fp8=Fp8Scheme("tensor"),
                                          device=DEVICE)
        module = types.SimpleNamespace(
            weight=ours.weight, tp_group=types.SimpleNamespace(world_size=tp, rank_in_group=rank)
        )
        theirs = make(module)
        theirs(ours.weight, q)  # the weight: a plain TP slice, as ours
        assert torch.equal(ours.weight.view(torch.uint8), naive.packed_tp_slice(q, tp, rank).view(torch.uint8))
        with pytest.raises(AssertionError, match=r"Shape mismatch: param torch.Size\(\[4\]\) vs loaded torch.Size\(\[\]\)"):
            theirs(ours.weight_scale, s)
        ba = MergedColumnParallelLinear(
            SMALL.hidden, SMALL.ba_sizes, tp=tp, rank=rank, fp8=Fp8Scheme("tensor", static_input=True), device=DEVICE
        )
        theirs_ba = make(types.SimpleNamespace(weight=ba.weight, tp_group=module.tp_group))
        for scale in (ba.weight_scale, ba.input_scale):  # in_proj_ba's two slots, and the static input scale
            with pytest.raises(AssertionError, match=r"torch.Size\(\[2\]\) vs loaded torch.Size\(\[\]\)"):
                theirs_ba(scale, torch.tensor(0.01, device=DEVICE))


@pytest.mark.parametrize("model", ["qwen3-next", "qwen3.5"])
def test_fp8_static_input_scale(model):
    """``input_scale`` loads like ``weight_scale`` (split: per shard; fused on disk: one scalar for all) and the
    layer quantizes its input with the slots' maximum."""
    split, x = _model(seed=70)
    scheme = Fp8Scheme("tensor", static_input=True)
    q, s = fp8.quantize_per_tensor(torch.cat([split[n] for n in "qkvz"]))
    ckpt = {"in_proj_qkv.weight": q[: sum(SMALL.qkvz_sizes[:3])], "in_proj_qkv.weight_scale": s,
            "in_proj_z.weight": q[sum(SMALL.qkvz_sizes[:3]) :], "in_proj_z.weight_scale": s,
            "in_proj_qkv.input_scale": torch.tensor(0.02), "in_proj_z.input_scale": torch.tensor(0.03)}
    layer = _per_tensor_layer(2, 1, ckpt, split, model=model, packed_ba=False, scheme=scheme)
    assert layer.in_proj_qkvz.input_scale.data.tolist() == pytest.approx([0.02, 0.02, 0.02, 0.03])
    assert layer.in_proj_qkvz.activation_scale().item() == pytest.approx(0.03)
    xq = (x / 0.03).clamp(-fp8.FP8_MAX, fp8.FP8_MAX).to(fp8.FP8).float() * torch.tensor(0.03)
    want = dict(zip("qkvz", (q.float() * s).split(SMALL.qkvz_sizes), strict=True)) | {"b": split["b"], "a": split["a"]}
    ref = naive.reference_rank_outputs(xq, want, SMALL, 2, 1)
    got = layer(x)
    assert _rel(got[0], ref[0]) < 1e-5 and _rel(got[1], ref[1]) < 1e-5
    assert _rel(got[0], naive.reference_rank_outputs(x, want, SMALL, 2, 1)[0]) > 1e-4  # quantizing x mattered
    fused = GDNInputProjection(SMALL, tp=2, rank=1, qkvz_fp8=scheme, model=model)
    fused.load("in_proj_qkvz.input_scale", torch.tensor(0.05))
    assert fused.in_proj_qkvz.input_scale.data.tolist() == pytest.approx([0.05] * 4)
    with pytest.raises(ValueError, match="input_scale not loaded"):
        GDNInputProjection(SMALL, qkvz_fp8=scheme, model=model).in_proj_qkvz.activation_scale()
    with pytest.raises(ValueError, match="one scalar scale"):
        fused.load("in_proj_qkvz.input_scale", torch.ones(4))


def test_static_input_scale_needs_per_tensor_weights():
    with pytest.raises(NotImplementedError, match="per-tensor"):
        Fp8Scheme("block", static_input=True)


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
