"""The Triton GEMM whose epilogue writes mixed_qkv/z/b/a (one launch for the whole input projection).

On CPU it runs under TRITON_INTERPRET=1 in fp32 and fp16 (the interpreter multiplies bf16 bit
patterns as integers in tl.dot, so bf16 is covered by test_proj_gpu.py)."""

import pytest
import torch

from runtime.projections import naive
from runtime.projections.gemm_split import gemm_split
from runtime.projections.naive import GDNShape
from runtime.projections.split_kernel import split_outputs

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
SHAPES = {
    "ratio2": GDNShape(hidden=64, num_k_heads=4, num_v_heads=8, head_k=16, head_v=16),
    "ratio3": GDNShape(hidden=64, num_k_heads=2, num_v_heads=6, head_k=16, head_v=16),
}
NAIVE = {"interleaved": naive.split_interleaved, "contiguous": naive.split_contiguous}
TOL = {torch.float32: 1e-5, torch.float16: 2e-3}


def projection_case(shape: GDNShape, layout: str, t: int, dtype: torch.dtype, *, seed: int,
                    ref_dtype: torch.dtype | None = None):
    """Fresh ``x [t, hidden]`` and ``[qkvz; ba]`` weight, NaN-poisoned ``mixed_qkv, z, b, a`` buffers, and the
    naive GEMM + split of the two (computed in ``ref_dtype``, default the inputs' dtype)."""
    g = torch.Generator().manual_seed(seed)
    n = shape.qkvz_width + shape.ba_width
    x = torch.randn(t, shape.hidden, generator=g).to(DEVICE, dtype)
    w = (torch.randn(n, shape.hidden, generator=g) * shape.hidden**-0.5).to(DEVICE, dtype)
    out = split_outputs(t, shape, x, dtype)
    for o in out:
        o.fill_(float("nan"))
    full = naive.project(x.to(ref_dtype or dtype), w.to(ref_dtype or dtype))
    want = NAIVE[layout](full[:, : shape.qkvz_width], full[:, shape.qkvz_width :], shape)
    return x, w, out, want


@pytest.mark.parametrize(
    ("dtype", "split_k", "swap_ab"),
    [(torch.float32, 1, False), (torch.float16, 1, False), (torch.float32, 2, False), (torch.float16, 1, True),
     (torch.float32, 2, True)],
    ids=str,
)
@pytest.mark.parametrize("t", [1, 5, 40, 130])  # 130: three 64-row blocks, the last one partial
@pytest.mark.parametrize("layout", ["interleaved", "contiguous"])
@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES.keys())
def test_gemm_split_matches_gemm_then_split(shape, layout, t, dtype, split_k, swap_ab):
    """Fresh inputs, poisoned outputs, relative error per output; ``swap_ab`` (weight rows on the MMA's M side)
    with 64-row weight tiles, so the last tile of each shape is partial."""
    x, w, out, want = projection_case(shape, layout, t, dtype, seed=t)
    got = gemm_split(x, w, shape, layout, out=out, block_n=64 if swap_ab else 32, block_k=32, split_k=split_k,
                     swap_ab=swap_ab)
    for g_, w_ in zip(got, want, strict=True):
        assert g_.shape == w_.shape and not g_.isnan().any()
        assert ((g_.float() - w_).norm() / w_.norm()).item() < TOL[dtype]


@pytest.mark.parametrize(("peel_k", "peel_last", "split_k"), [(32, True, 1), (32, False, 1), (16, True, 2), (32, True, 2)])
@pytest.mark.parametrize("swap_ab", [False, True])
def test_gemm_split_peels_several_k_steps(peel_k, peel_last, split_k, swap_ab):
    """Several K steps of weight requested before the PDL wait (``peel_k``), multiplied before or after the K loop,
    with split-K too (at ``peel_k`` = the K range the loop is empty): fresh fp32 inputs, poisoned outputs, within
    1e-5 of the GEMM + split. The L2 prefetch past them is a hint the interpreter skips; the GPU tests run it."""
    shape = SHAPES["ratio3"]
    x, w, out, want = projection_case(shape, "contiguous", 7, torch.float32, seed=peel_k + split_k)
    got = gemm_split(x, w, shape, "contiguous", out=out, block_n=64 if swap_ab else 32, block_k=16, split_k=split_k,
                     swap_ab=swap_ab, peel_k=peel_k, peel_last=peel_last, prefetch_k=shape.hidden // split_k - peel_k)
    for g_, w_ in zip(got, want, strict=True):
        assert not g_.isnan().any() and ((g_ - w_).norm() / w_.norm()).item() < TOL[torch.float32]


def test_pack_weight_puts_each_tile_step_in_one_block():
    """Element ``[tile, step, r, c]`` of the tile-major weight is row ``tile * block_n + r``, column
    ``step * block_k + c`` of the row-major one; rows past N are zeros."""
    from runtime.projections.gemm_split import pack_weight

    w = torch.randn(100, 96, generator=torch.Generator().manual_seed(5))
    p = pack_weight(w, 64, 32)
    assert p.shape == (2, 3, 64, 32) and p.is_contiguous()
    g = torch.Generator().manual_seed(6)
    for _ in range(50):
        n, k = (int(torch.randint(0, s, (1,), generator=g)) for s in (100, 96))
        assert p[n // 64, k // 32, n % 64, k % 32] == w[n, k]
    assert not p[1, :, 100 - 64 :].any()
    with pytest.raises(ValueError, match="block_k"):
        pack_weight(w, 64, 64)


@pytest.mark.parametrize(
    ("block_n", "block_k", "split_k", "peel_k", "peel_last", "swap_ab"),
    [(64, 16, 1, 16, True, True), (64, 16, 2, 32, True, True), (64, 16, 1, 64, True, True),
     (32, 32, 1, 32, False, False), (32, 16, 2, 16, False, True)],
    ids=str,
)
@pytest.mark.parametrize("t", [3, 40])
@pytest.mark.parametrize("layout", ["interleaved", "contiguous"])
def test_gemm_split_reads_a_tile_major_weight(layout, t, block_n, block_k, split_k, peel_k, peel_last, swap_ab):
    """The same launch on :func:`pack_weight`'s tile-major copy (each K step one contiguous block, the last
    tile's rows padded): fresh fp32 inputs, poisoned outputs, within 1e-5 of the GEMM + split, and within
    rounding of the row-major launch."""
    from runtime.projections.gemm_split import pack_weight

    shape = SHAPES["ratio3"]  # 84 rows: the last 64-row tile is partial
    x, w, out, want = projection_case(shape, layout, t, torch.float32, seed=t + block_n + split_k)
    kw = {"split_k": split_k, "swap_ab": swap_ab, "peel_k": peel_k, "peel_last": peel_last}
    tiles = pack_weight(w, block_n, block_k)  # explicit settings: on a GPU too, not launch_config's
    got = gemm_split(x, w, shape, layout, out=out, block_n=block_n, block_k=block_k, tile_major=tiles, **kw)
    rows = gemm_split(x, w, shape, layout, block_n=block_n, block_k=block_k, **kw)
    for g_, w_, r_ in zip(got, want, rows, strict=True):
        assert not g_.isnan().any() and ((g_ - w_).norm() / w_.norm()).item() < TOL[torch.float32]
        torch.testing.assert_close(g_, r_, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("split_k", "peel_k"), [(1, 16), (1, 32), (2, 16)])
@pytest.mark.parametrize("tma_x", [False, True], ids=["x_loads", "x_tma"])
@pytest.mark.parametrize("t", [3, 40])
@pytest.mark.parametrize("layout", ["interleaved", "contiguous"])
def test_gemm_split_tma_matches_per_thread_loads(layout, t, tma_x, split_k, peel_k):
    """The K loop's weight steps (and x's, ``tma_x``) by bulk tensor copies of the tile-major weight: fresh fp32
    inputs, poisoned outputs, within 1e-5 of the GEMM + split and within rounding of the same launch's pointer
    loads; the last weight tile's padded rows and x's rows past T (T=3 in a 16-row block) read as zeros."""
    from runtime.projections.gemm_split import pack_weight

    shape = SHAPES["ratio3"]  # 84 rows: the last 64-row tile is partial
    x, w, out, want = projection_case(shape, layout, t, torch.float32, seed=7 * t + split_k + peel_k)
    kw = {"block_n": 64, "block_k": 16, "split_k": split_k, "swap_ab": True, "peel_k": peel_k, "peel_last": True,
          "tile_major": pack_weight(w, 64, 16)}
    got = gemm_split(x, w, shape, layout, out=out, tma=True, tma_x=tma_x, **kw)
    loads = gemm_split(x, w, shape, layout, **kw)
    for g_, w_, l_ in zip(got, want, loads, strict=True):
        assert not g_.isnan().any() and ((g_ - w_).norm() / w_.norm()).item() < TOL[torch.float32]
        torch.testing.assert_close(g_, l_, rtol=1e-5, atol=1e-6)


def test_gemm_split_tma_needs_a_tile_major_weight_and_an_aligned_x():
    from runtime.projections.gemm_split import pack_weight, tma_aligned

    shape = SHAPES["ratio2"]
    w = torch.randn(shape.qkvz_width + shape.ba_width, shape.hidden, device=DEVICE)
    wide = torch.randn(3, shape.hidden + 1, device=DEVICE)
    x, shifted = wide[:, : shape.hidden], wide[:, 1:]  # rows of 65 fp32: a stride of 260 bytes
    assert not tma_aligned(x) and not tma_aligned(shifted) and tma_aligned(x.contiguous())
    with pytest.raises(ValueError, match="tile-major"):
        gemm_split(x.contiguous(), w, shape, "interleaved", block_n=64, block_k=16, swap_ab=True, tma=True)
    with pytest.raises(ValueError, match="16-byte"):
        gemm_split(shifted, w, shape, "interleaved", block_n=64, block_k=16, swap_ab=True, tma=True, tma_x=True,
                   tile_major=pack_weight(w, 64, 16))


def test_gemm_split_rejects_a_tile_major_weight_of_another_shape():
    from runtime.projections.gemm_split import pack_weight

    shape = SHAPES["ratio2"]
    w = torch.randn(shape.qkvz_width + shape.ba_width, shape.hidden, device=DEVICE)
    x = torch.randn(3, shape.hidden, device=DEVICE)
    for tiles in (pack_weight(w[:-64], 64, 32), pack_weight(w, 64, 32).transpose(1, 2), pack_weight(w, 64, 32)[:, :1]):
        with pytest.raises(ValueError, match="tile-major weight"):
            gemm_split(x, w, shape, "interleaved", block_n=64, tile_major=tiles)


def test_split_k_is_deterministic_and_resets_its_counters():
    """Four K ranges per tile: the last arrival sums them in K order (the same bits on every call), and leaves
    the arrival counters at zero for the next call."""
    from runtime.projections import gemm_split as module

    shape = SHAPES["ratio2"]
    g = torch.Generator().manual_seed(11)
    n = shape.qkvz_width + shape.ba_width
    x = torch.randn(3, shape.hidden, generator=g).to(DEVICE)
    w = (torch.randn(n, shape.hidden, generator=g) * shape.hidden**-0.5).to(DEVICE)
    first = gemm_split(x, w, shape, "interleaved", block_n=32, block_k=16, split_k=4)
    again = gemm_split(x, w, shape, "interleaved", block_n=32, block_k=16, split_k=4)
    for a, b in zip(first, again, strict=True):
        assert torch.equal(a, b)
    assert all(not counts.any() for _, counts in module._WORKSPACES.values())
    one = gemm_split(x, w, shape, "interleaved", block_n=32, block_k=16, split_k=1)
    for a, b in zip(first, one, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_launch_config_swaps_ab_where_wide_tiles_fill_the_sms():
    from runtime.projections.gemm_split import launch_config, wins

    tp4 = launch_config(8, 3088, 2048, 132)  # 49 tiles of 64 rows: weight on M, 128-wide K steps, no split
    assert (tp4["SWAP_AB"], tp4["BLOCK_M"], tp4["BLOCK_N"], tp4["BLOCK_K"], tp4["SPLIT_K"]) == (True, 16, 64, 128, 1)
    assert launch_config(32, 3088, 2048, 132)["BLOCK_M"] == 32
    tp1 = launch_config(4, 12352, 2048, 132)  # 193 tiles: 64-wide K steps, the peeled step multiplied last
    assert (tp1["SWAP_AB"], tp1["BLOCK_K"], tp1["num_stages"], tp1["PEEL_LAST"]) == (True, 64, 5, True)
    assert (tp4["PEEL_K"], tp4["PREFETCH_K"]) == (128, 256)  # one step peeled, two more asked into L2
    assert launch_config(8, 3088, 2048, 132, pdl=False)["PREFETCH_K"] == 0  # nothing to overlap without PDL
    tp8 = launch_config(1, 1544, 2048, 132)  # 25 wide tiles: tokens on M, four ranges of one 512-wide step
    assert (tp8["SWAP_AB"], tp8["BLOCK_N"], tp8["BLOCK_K"], tp8["SPLIT_K"]) == (False, 32, 512, 4)
    tp4_128 = launch_config(128, 3088, 2048, 132)  # 64 x 64 tiles, 128-wide K steps
    assert (tp4_128["SWAP_AB"], tp4_128["BLOCK_M"], tp4_128["BLOCK_N"], tp4_128["BLOCK_K"]) == (True, 64, 64, 128)
    tp1_128 = launch_config(128, 12352, 2048, 132)  # 128 x 128 tiles on 8 warps
    assert (tp1_128["BLOCK_M"], tp1_128["BLOCK_N"], tp1_128["num_warps"], tp1_128["PEEL_K"]) == (128, 128, 8, 128)
    tp8_128 = launch_config(128, 1544, 2048, 132)
    assert (tp8_128["BLOCK_M"], tp8_128["SPLIT_K"], tp8_128["SWAP_AB"]) == (64, 1, False)
    for cfg in (tp8, tp8_128):  # tokens on M: one step peeled and multiplied first, nothing prefetched
        assert (cfg["PEEL_K"], cfg["PREFETCH_K"], cfg["PEEL_LAST"]) == (cfg["BLOCK_K"], 0, False)
    assert wins(128, 3088, 2048, 132) and wins(32, 1544, 2048, 132) and not wins(128, 1544, 2048, 132)
    short = launch_config(1, 1544, 768, 132)  # K not a multiple of 512: 256-wide steps, no split
    assert (short["BLOCK_K"], short["SPLIT_K"]) == (256, 1)


def test_tile_major_launches_read_the_packing_they_name():
    """Where a tile-major copy is there, the swapped launches read it in the tiles :func:`packing` packs (TP1
    above 32 tokens in 64-token blocks, and not up to 16 tokens, round 14); TP8 packs nothing."""
    from runtime.projections.gemm_split import launch_config, packing

    assert packing(12352, 2048, 132) == (64, 64) and packing(3088, 2048, 132) == (64, 128)
    assert packing(1544, 2048, 132) is None and packing(3088, 2000, 132) is None
    assert launch_config(128, 12352, 2048, 132, tile_major=True)["BLOCK_M"] == 64
    for t, n, steps, stages in ((17, 12352, 1, 5), (32, 12352, 1, 5), (8, 3088, 1, 6), (128, 3088, 1, 5),
                                (128, 12352, 1, 4), (3, 3088, 1, 6)):
        cfg = launch_config(t, n, 2048, 132, tile_major=True)
        assert cfg["TILE_MAJOR"] and cfg["SWAP_AB"] and cfg["SPLIT_K"] == 1 and cfg["PEEL_LAST"]
        assert (cfg["BLOCK_N"], cfg["BLOCK_K"]) == packing(n, 2048, 132)
        assert (cfg["PEEL_K"], cfg["num_stages"]) == (steps * cfg["BLOCK_K"], stages)
        assert not launch_config(t, n, 2048, 132)["TILE_MAJOR"]  # without a copy: round 4's row-major launch
    assert not launch_config(8, 1544, 2048, 132, tile_major=True)["TILE_MAJOR"]
    for t in (1, 3, 4, 16):  # TP1 up to one 16-token block: round 4's row-major launch, copy or not
        assert launch_config(t, 12352, 2048, 132, tile_major=True) == launch_config(t, 12352, 2048, 132)


def test_tma_launches_are_the_tp1_tiles():
    """Round 6: TP1's tile-major launches (from 17 tokens since round 14) load their steps by TMA (weight and x);
    TP4's and the launches without a tile-major copy keep per-thread loads."""
    from runtime.projections.gemm_split import launch_config

    for t in (17, 32, 100, 128):
        cfg = launch_config(t, 12352, 2048, 132, tile_major=True)
        assert cfg["TMA"] and cfg["TMA_X"], t
    for t, n in ((4, 3088), (32, 3088), (128, 3088)):
        assert not launch_config(t, n, 2048, 132, tile_major=True)["TMA"]
    for t, n in ((4, 12352), (128, 12352), (8, 1544)):
        assert not launch_config(t, n, 2048, 132).get("TMA")


def test_gemm_split_rejects_bad_inputs():
    shape = SHAPES["ratio2"]
    x = torch.randn(3, shape.hidden, device=DEVICE)
    w = torch.randn(shape.qkvz_width + shape.ba_width, shape.hidden, device=DEVICE)
    with pytest.raises(ValueError, match="contiguous weight"):
        gemm_split(x, w[:-1], shape, "interleaved")
    with pytest.raises(ValueError, match="block_k"):
        gemm_split(x, w, shape, "interleaved", block_n=32, block_k=128)
    with pytest.raises(ValueError, match="split_k"):
        gemm_split(x, w, shape, "interleaved", block_n=32, block_k=32, split_k=4)
    with pytest.raises(ValueError, match="peel_k"):
        gemm_split(x, w, shape, "interleaved", block_n=32, block_k=16, peel_k=48)
    with pytest.raises(ValueError, match="peel_k"):
        gemm_split(x, w, shape, "interleaved", block_n=32, block_k=16, peel_k=32, prefetch_k=64)
    with pytest.raises(ValueError, match="unknown layout"):
        gemm_split(x, w, shape, "grouped", block_k=32)


def test_wins_keeps_cublas_at_128_tokens_without_pdl():
    """At T=128 the swapped launch beat cuBLAS + split only with PDL on the H200: without it, cuBLAS."""
    from runtime.projections.gemm_split import wins

    assert wins(128, 12352, 2048, 132) and not wins(128, 12352, 2048, 132, pdl=False)
    assert wins(32, 12352, 2048, 132, pdl=False) and not wins(129, 12352, 2048, 132)
