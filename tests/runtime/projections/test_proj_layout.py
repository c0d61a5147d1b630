"""Layout helpers of runtime.projections.naive: group permutation, packed TP slice, the scramble."""

import pytest
import torch

from runtime.projections import naive
from runtime.projections.naive import QWEN3_NEXT_80B, GDNShape
from tests.runtime import _sglang_source

SMALL = GDNShape(hidden=64, num_k_heads=8, num_v_heads=16, head_k=16, head_v=16)
SHAPES = [QWEN3_NEXT_80B, SMALL, GDNShape(32, 8, 24, 8, 16), GDNShape(32, 8, 8, 16, 8)]


def _part_labels(shape: GDNShape) -> torch.Tensor:
    """Part id (0 q, 1 k, 2 v, 3 z) of every row of the packed qkvz tensor."""
    contiguous = torch.cat([torch.full((n,), i) for i, n in enumerate(shape.qkvz_sizes)])
    return naive.pack_qkvz(*contiguous.split(shape.qkvz_sizes), shape=shape)


def test_qwen3_next_widths():
    s = QWEN3_NEXT_80B
    assert (s.qkvz_width, s.ba_width, s.group_width, s.ratio) == (12288, 64, 768, 2)
    assert [(s.per_rank(tp).qkvz_width, s.per_rank(tp).ba_width) for tp in (1, 2, 4, 8)] == [
        (12288 // tp, 64 // tp) for tp in (1, 2, 4, 8)
    ]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("tp", [1, 2, 4, 8])
def test_group_permutation_partitions_packed_rows(shape, tp):
    perms = [naive.group_permutation(shape, tp, r) for r in range(tp)]
    assert torch.equal(torch.sort(torch.cat(perms)).values, torch.arange(shape.qkvz_width))
    ba = torch.cat([naive.ba_permutation(shape, tp, r) for r in range(tp)])
    assert torch.equal(torch.sort(ba).values, torch.arange(shape.ba_width))


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("tp", [1, 2, 4, 8])
def test_packed_tp_slice_keeps_whole_groups(shape, tp):
    """Rank r's contiguous slice of the packed tensor is the packed tensor of rank r's heads."""
    g = torch.Generator().manual_seed(tp)
    split = {
        n: torch.randn(rows, 3, generator=g)
        for n, rows in zip("qkvzba", shape.qkvz_sizes + shape.ba_sizes, strict=True)
    }
    packed = naive.packed_checkpoint(split, shape)
    rank_shape = shape.per_rank(tp)
    for r in range(tp):
        local = {n: naive.split_shard_slice(w, tp, r) for n, w in split.items()}
        want = naive.packed_checkpoint(local, rank_shape)
        assert torch.equal(
            naive.packed_tp_slice(packed["in_proj_qkvz.weight"], tp, r), want["in_proj_qkvz.weight"]
        )
        assert torch.equal(
            naive.packed_tp_slice(packed["in_proj_ba.weight"], tp, r), want["in_proj_ba.weight"]
        )
        # and the permutation helper names exactly those rows
        contiguous = torch.cat([local[n] for n in "qkvz"])
        assert torch.equal(packed["in_proj_qkvz.weight"][naive.group_permutation(shape, tp, r)], contiguous)


@pytest.mark.parametrize("tp", [1, 2, 4, 8])
def test_split_by_output_sizes_mislabels_packed_rows(tp):
    """The generic merged loader's view of a packed Qwen3-Next tensor: its 'q' slot holds k, v, z rows."""
    s = QWEN3_NEXT_80B
    labels = _part_labels(s)
    for r in range(tp):
        generic = torch.cat([naive.split_shard_slice(part, tp, r) for part in labels.split(s.qkvz_sizes)])
        want = torch.cat([torch.full((n // tp,), i) for i, n in enumerate(s.qkvz_sizes)])
        wrong = (generic != want).float().mean().item()
        assert wrong > 0.5, f"rank {r}: only {wrong:.0%} of rows mislabelled"
        assert set(generic[: s.key_dim // tp].tolist()) != {0}  # the 'q' slot holds k, v or z rows
        packed_slice = naive.packed_tp_slice(labels, tp, r)
        assert torch.equal(torch.bincount(packed_slice, minlength=4), torch.bincount(want, minlength=4))


@pytest.mark.parametrize("tp", [1, 2, 4])
def test_naive_splits_match_head_by_head_reference(tp):
    s = SMALL
    g = torch.Generator().manual_seed(7)
    split = naive.random_split_checkpoint(s, g)
    packed = naive.packed_checkpoint(split, s)
    x = torch.randn(5, s.hidden, generator=g)
    rs = s.per_rank(tp)
    for r in range(tp):
        ref = naive.reference_rank_outputs(x, split, s, tp, r)
        inter = naive.split_interleaved(
            naive.project(x, naive.packed_tp_slice(packed["in_proj_qkvz.weight"], tp, r)),
            naive.project(x, naive.packed_tp_slice(packed["in_proj_ba.weight"], tp, r)),
            rs,
        )
        cont_w = torch.cat([naive.split_shard_slice(split[n], tp, r) for n in "qkvz"])
        cont_ba = torch.cat([naive.split_shard_slice(split[n], tp, r) for n in "ba"])
        cont = naive.split_contiguous(naive.project(x, cont_w), naive.project(x, cont_ba), rs)
        for got_i, got_c, want in zip(inter, cont, ref, strict=True):
            assert got_i.shape == want.shape == got_c.shape
            torch.testing.assert_close(got_i, want, rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(got_c, want, rtol=1e-5, atol=1e-6)


def test_tp_must_divide_key_heads():
    with pytest.raises(ValueError, match="tp=3"):
        QWEN3_NEXT_80B.per_rank(3)


def test_per_rank_is_the_attention_tp_share_sglang_derives():
    """``per_rank`` takes the attention-TP size, which SGLang's own ``derive_attn_tp_size`` (compiled from the
    installed ``runtime_context.py``) makes of ``--tp``, ``--attn-dp-size`` and the attention-CP size: each rank's
    key and value heads are the model's over it, and its projection widths the model's over it."""
    derive = _sglang_source.function("srt/runtime_context.py", "derive_attn_tp_size", {})
    if derive is None:
        pytest.skip("SGLang is not installed")
    seen = set()
    for tp_size in (1, 2, 4, 8, 16):
        for dp in (d for d in (1, 2, 4) if tp_size % d == 0):
            for cp in (c for c in (1, 2) if tp_size // dp % c == 0):
                attn_tp = derive(tp_size=tp_size, attn_cp_size=cp, attn_dp_size=dp)
                seen.add(attn_tp)
                rank = QWEN3_NEXT_80B.per_rank(attn_tp)
                assert (rank.num_k_heads * attn_tp, rank.num_v_heads * attn_tp) == (16, 32)
                assert (rank.qkvz_width * attn_tp, rank.ba_width * attn_tp) == (QWEN3_NEXT_80B.qkvz_width,
                                                                                 QWEN3_NEXT_80B.ba_width)
    assert derive(tp_size=8, attn_cp_size=1, attn_dp_size=2) == 4 and seen == {1, 2, 4, 8, 16}
