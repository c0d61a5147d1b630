"""Merged column-parallel loading of split (Qwen3.5) and packed (Qwen3-Next) checkpoints under emulated TP."""

import pytest
import torch

from runtime.projections import naive
from runtime.projections.layer import GDNInputProjection
from runtime.projections.naive import GDNShape

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
SMALL = GDNShape(hidden=64, num_k_heads=8, num_v_heads=16, head_k=16, head_v=16)
RATIO3 = GDNShape(hidden=32, num_k_heads=8, num_v_heads=24, head_k=8, head_v=16)


def _model(shape: GDNShape, seed: int):
    g = torch.Generator().manual_seed(seed)
    split = {n: w.to(DEVICE) for n, w in naive.random_split_checkpoint(shape, g).items()}
    return split, torch.randn(6, shape.hidden, generator=g).to(DEVICE)


def _rel(got: torch.Tensor, want: torch.Tensor) -> float:
    return ((got.float() - want).norm() / want.norm()).item()


def _layer(shape, tp, rank, checkpoint, **kw) -> GDNInputProjection:
    layer = GDNInputProjection(shape, tp=tp, rank=rank, device=DEVICE, **kw)
    layer.load_checkpoint(checkpoint)
    return layer


@pytest.mark.parametrize("shape", [SMALL, RATIO3], ids=["ratio2", "ratio3"])
@pytest.mark.parametrize("tp", [1, 2, 4, 8])
def test_split_and_packed_checkpoints_match_per_rank(shape, tp, parity):
    """Same model, both checkpoint formats, every rank: same weights (up to the group permutation) and the
    same mixed_qkv/z/b/a as the head-by-head fp32 reference (#19321, #21019)."""
    split, x = _model(shape, seed=tp)
    split_ckpt, packed_ckpt = naive.split_checkpoint(split), naive.packed_checkpoint(split, shape)
    rs = shape.per_rank(tp)
    for r in range(tp):
        from_split = _layer(shape, tp, r, split_ckpt)
        from_packed = _layer(shape, tp, r, packed_ckpt)
        assert (from_split.layout, from_packed.layout) == ("contiguous", "interleaved")
        # a rank's packed rows are the packed layout of that rank's heads
        assert torch.equal(
            from_packed.in_proj_qkvz.weight[naive.group_permutation(rs, 1, 0)], from_split.in_proj_qkvz.weight
        )
        assert torch.equal(
            from_packed.in_proj_ba.weight[naive.ba_permutation(rs, 1, 0)], from_split.in_proj_ba.weight
        )
        want = naive.reference_rank_outputs(x, split, shape, tp, r)
        for got_s, got_p, ref in zip(from_split(x), from_packed(x), want, strict=True):
            assert got_s.shape == got_p.shape == ref.shape
            parity("split checkpoint vs fp32 reference", got_s, ref, 1e-5)
            parity("packed checkpoint vs fp32 reference", got_p, ref, 1e-5)


@pytest.mark.parametrize("tp", [1, 2, 4, 8])
def test_generic_loader_scrambles_packed_checkpoint(tp):
    """Splitting a packed tensor by output_sizes (the generic merged loader) is wrong on every rank, read
    either as contiguous (what that loader assumes) or as interleaved."""
    split, x = _model(SMALL, seed=10 + tp)
    packed_ckpt = naive.packed_checkpoint(split, SMALL)
    rs = SMALL.per_rank(tp)
    z_errors = []
    for r in range(tp):
        generic = _layer(SMALL, tp, r, packed_ckpt, model="qwen3.5")
        assert generic.layout == "contiguous"  # what the generic loader believes
        want = naive.reference_rank_outputs(x, split, SMALL, tp, r)
        qkvz, ba = generic.in_proj_qkvz(x), generic.in_proj_ba(x)
        as_contiguous = naive.split_contiguous(qkvz, ba, rs)
        assert _rel(as_contiguous[0], want[0]) > 0.5
        z_errors.append(_rel(as_contiguous[1], want[1]))
        if tp > 1:  # at tp=1 the rows are untouched, only the layout label is wrong
            as_interleaved = naive.split_interleaved(qkvz, ba, rs)
            assert _rel(as_interleaved[0], want[0]) > 0.5
        aware = _layer(SMALL, tp, r, packed_ckpt)
        assert _rel(aware(x)[0], want[0]) < 1e-5
    assert max(z_errors) > 0.5  # (the last rank's z rows happen to land right at tp=8)


def test_tuple_shard_id_equals_int_shards():
    """``in_proj_qkv`` loaded with shard (0, 1, 2) == q, k, v loaded one by one as shards 0, 1, 2."""
    split, _ = _model(SMALL, seed=3)
    for tp, r in [(1, 0), (4, 1), (8, 7)]:
        tup = GDNInputProjection(SMALL, tp=tp, rank=r, device=DEVICE)
        tup.load("in_proj_qkv.weight", torch.cat([split["q"], split["k"], split["v"]]))
        ints = GDNInputProjection(SMALL, tp=tp, rank=r, device=DEVICE)
        for i, n in enumerate("qkv"):
            w = ints.in_proj_qkvz.weight
            w.weight_loader(w, split[n], i)
        rows = sum(SMALL.qkvz_sizes[:3]) // tp
        assert torch.equal(tup.in_proj_qkvz.weight[:rows], ints.in_proj_qkvz.weight[:rows])
        assert not tup.in_proj_qkvz.weight[:rows].isnan().any()
        assert tup.in_proj_qkvz.weight[rows:].isnan().all()  # z not loaded yet: still poisoned


def test_missing_tensor_leaves_poison_in_outputs():
    split, x = _model(SMALL, seed=4)
    ckpt = naive.split_checkpoint(split)
    del ckpt["in_proj_z.weight"]
    layer = _layer(SMALL, 2, 1, ckpt)
    mixed_qkv, z, b, a = layer(x)
    assert not mixed_qkv.isnan().any() and not b.isnan().any() and not a.isnan().any()
    assert z.isnan().all()


def test_mixing_packed_and_split_tensors_raises():
    split, _ = _model(SMALL, seed=5)
    layer = GDNInputProjection(SMALL, tp=2, rank=0, device=DEVICE)
    layer.load("in_proj_qkvz.weight", naive.packed_checkpoint(split, SMALL)["in_proj_qkvz.weight"])
    with pytest.raises(ValueError, match="contiguous tensor loaded into a packed weight"):
        layer.load("in_proj_z.weight", split["z"])


def test_bad_checkpoint_tensors_raise():
    split, _ = _model(SMALL, seed=6)
    layer = GDNInputProjection(SMALL, tp=2, rank=0, device=DEVICE)
    with pytest.raises(ValueError, match="rows"):
        layer.load("in_proj_qkv.weight", split["q"])  # only one of three shards
    with pytest.raises(ValueError, match="packed slice"):
        layer.load("in_proj_qkvz.weight", split["q"])
    with pytest.raises(KeyError, match="not a GDN"):
        layer.load("out_proj.weight", split["q"])
    with pytest.raises(KeyError, match="no parameter"):
        layer.load("in_proj_z.weight_scale_inv", split["z"])
    with pytest.raises(RuntimeError, match="not loaded"):
        _ = layer.layout


@pytest.mark.parametrize("tp", [1, 2, 4])
def test_fused_on_disk_tensor_follows_the_model(tp, parity):
    """Shard id None: packed per key-head group for Qwen3-Next (plain TP slice), [q|k|v|z] / [b|a] for Qwen3.5
    (split by output sizes), as in SGLang 0.5.23. Each model's reading of its own tensor gives the reference
    outputs; Qwen3-Next's reading of a contiguous tensor does not."""
    split, x = _model(SMALL, seed=20 + tp)
    contiguous = {
        "in_proj_qkvz.weight": torch.cat([split[n] for n in "qkvz"]),
        "in_proj_ba.weight": torch.cat([split["b"], split["a"]]),
    }
    packed = naive.packed_checkpoint(split, SMALL)
    for r in range(tp):
        want = naive.reference_rank_outputs(x, split, SMALL, tp, r)
        qwen35 = _layer(SMALL, tp, r, contiguous, model="qwen3.5")
        qwen3_next = _layer(SMALL, tp, r, packed, model="qwen3-next")
        assert (qwen35.layout, qwen3_next.layout) == ("contiguous", "interleaved")
        for got35, got_next, ref in zip(qwen35(x), qwen3_next(x), want, strict=True):
            parity("qwen3.5 fused-on-disk vs fp32 reference", got35, ref, 1e-5)
            parity("qwen3-next packed vs fp32 reference", got_next, ref, 1e-5)
        misread = _layer(SMALL, tp, r, contiguous, model="qwen3-next")
        assert _rel(misread(x)[0], want[0]) > 0.5


def test_unknown_model_is_refused():
    with pytest.raises(ValueError, match="model must be one of"):
        GDNInputProjection(SMALL, model="qwen3")
