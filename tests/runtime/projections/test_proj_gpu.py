"""Real Qwen3-Next-80B sizes on a CUDA device (skipped without one)."""

import pytest
import torch

from runtime.projections import fp8, naive, paths
from runtime.projections.fused import FusedGDNProjection, two_gemm_forward
from runtime.projections.layer import GDNInputProjection
from runtime.projections.linear import Fp8Scheme
from runtime.projections.naive import QWEN3_NEXT_80B as S
from runtime.projections.split_kernel import split_qkvzba

pytestmark = pytest.mark.gpu
NAIVE = {"interleaved": naive.split_interleaved, "contiguous": naive.split_contiguous}


def _rel(got, want) -> float:
    return ((got.float() - want.float()).norm() / want.float().norm()).item()


def _split_model(seed: int, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    split = {n: w.cuda() for n, w in naive.random_split_checkpoint(S, g, dtype).items()}
    return split, torch.randn(64, S.hidden, generator=g).cuda()


@pytest.mark.parametrize("layout", ["interleaved", "contiguous"])
@pytest.mark.parametrize("tp", [1, 4, 8])
@pytest.mark.parametrize("t", [1, 128, 8192])
def test_gpu_split_kernel_bit_exact(layout, tp, t):
    """bf16 at real sizes, reading strided column slices of one fused GEMM-sized buffer, poisoned outputs."""
    rs = S.per_rank(tp)
    fused = torch.randn(t, rs.qkvz_width + rs.ba_width, device="cuda", dtype=torch.bfloat16)
    qkvz, ba = fused[:, : rs.qkvz_width], fused[:, rs.qkvz_width :]
    full = {"fill_value": float("nan"), "device": "cuda", "dtype": torch.bfloat16}
    out = (
        torch.full((t, rs.qkv_width), **full),
        torch.full((t, rs.num_v_heads, rs.head_v), **full),
        torch.full((t, rs.num_v_heads), **full),
        torch.full((t, rs.num_v_heads), **full),
    )
    got = split_qkvzba(qkvz, ba, rs, layout, out=out)
    torch.cuda.synchronize()
    for g, w in zip(got, NAIVE[layout](qkvz, ba, rs), strict=True):
        assert torch.equal(g, w)


@pytest.mark.parametrize("tp", [1, 2, 4, 8])
def test_gpu_split_and_packed_checkpoints_match(tp):
    """bf16 weights on the GPU: both checkpoint formats load the same per-rank weights (exactly, up to the
    group permutation) and match the fp32 head-by-head reference on every rank."""
    split, x = _split_model(tp, torch.bfloat16)
    x = x.bfloat16()
    ref_model = {n: w.float() for n, w in split.items()}
    rs = S.per_rank(tp)
    split_ckpt, packed_ckpt = naive.split_checkpoint(split), naive.packed_checkpoint(split, S)
    for r in range(tp):
        layers = []
        for ckpt in (split_ckpt, packed_ckpt):
            layer = GDNInputProjection(S, tp=tp, rank=r, dtype=torch.bfloat16, device="cuda")
            layer.load_checkpoint(ckpt)
            layers.append(layer)
        assert torch.equal(
            layers[1].in_proj_qkvz.weight[naive.group_permutation(rs, 1, 0).cuda()],
            layers[0].in_proj_qkvz.weight,
        )
        want = naive.reference_rank_outputs(x, ref_model, S, tp, r)
        for layer in layers:
            for got, ref in zip(layer(x), want, strict=True):
                assert _rel(got, ref) < 1e-2


@pytest.mark.parametrize("tp", [1, 4])
@pytest.mark.parametrize("t", [1, 4, 32, 128, 4096])
def test_gpu_fused_gemm_matches_two_gemms(tp, t):
    g = torch.Generator().manual_seed(t)
    rs = S.per_rank(tp)
    qkvz_w = (torch.randn(rs.qkvz_width, S.hidden, generator=g) * S.hidden**-0.5).cuda().bfloat16()
    ba_w = (torch.randn(rs.ba_width, S.hidden, generator=g) * S.hidden**-0.5).cuda().bfloat16()
    x = torch.randn(t, S.hidden, generator=g).cuda().bfloat16()
    ref = naive.split_interleaved(naive.project(x, qkvz_w), naive.project(x, ba_w), rs)
    one = FusedGDNProjection(qkvz_w, ba_w, rs, "interleaved")(x)
    two = two_gemm_forward(x, qkvz_w, ba_w, rs, "interleaved")
    for o, w, r in zip(one, two, ref, strict=True):
        assert _rel(o, r) < 1e-2 and _rel(w, r) < 1e-2


@pytest.mark.parametrize("tp", [1, 8])
def test_gpu_fp8_block_checkpoints_match(tp):
    """Qwen3-Next FP8 qkvz with 128x128 block scales: split and packed checkpoints agree on every rank."""
    split, x = _split_model(100 + tp)
    split_fp8, packed_fp8, deq = fp8.block_checkpoints(split, S, (128, 128))
    model = deq | {"b": split["b"], "a": split["a"]}
    for r in range(tp):
        want = naive.reference_rank_outputs(x, model, S, tp, r)
        for ckpt, ba in (
            (split_fp8, {"in_proj_b.weight": split["b"], "in_proj_a.weight": split["a"]}),
            (packed_fp8, {"in_proj_ba.weight": naive.pack_ba(split["b"], split["a"], S)}),
        ):
            layer = GDNInputProjection(S, tp=tp, rank=r, qkvz_fp8=Fp8Scheme("block"), device="cuda")
            layer.load_checkpoint(ckpt | ba)
            for got, ref in zip(layer(x), want, strict=True):
                assert _rel(got, ref) < 1e-3


@pytest.mark.parametrize(
    ("layout", "tp", "t", "default_config"),
    [
        *[
            (lay, tp, t, False)
            for lay in ("interleaved", "contiguous")
            for tp in (1, 4, 8)
            for t in (1, 32, 128, 1000)
        ],
        *[("interleaved", tp, t, True) for tp in (1, 4, 8) for t in (1, 8, 32, 128)],
        ("contiguous", 4, 17, True),
        ("interleaved", 1, 64, True),
        ("contiguous", 4, 100, True),
    ],
)
def test_gpu_gemm_split_real_sizes(layout, tp, t, default_config):
    """bf16 GEMM-with-split-epilogue at real sizes vs the fp32 reference and vs cuBLAS + split kernel; the
    default launch (swapped A and B at TP1/TP4, split-K at TP8 up to 32 tokens) gives the same bits on a second
    call (its counters reset)."""
    from runtime.projections.gemm_split import gemm_split

    _check_real_sizes(gemm_split, layout, tp, t, {} if default_config else {"block_n": 64})


@pytest.mark.parametrize(
    ("tp", "t"), [(1, 4), (1, 17), (1, 32), (1, 100), (1, 128), (4, 3), (4, 8), (4, 32), (4, 100), (4, 128)]
)
@pytest.mark.parametrize("pdl", [False, True], ids=["no_pdl", "pdl"])
def test_gpu_gemm_split_tile_major_real_sizes(tp, t, pdl):
    """The default launch given the tile-major copy (round 5; by TMA at TP1, 64-token blocks above 32 tokens,
    rounds 6 and 14; TP1 up to 16 tokens reads the row-major weight instead, round 14): every output written, the same
    bits twice, within 1e-2 of the fp32 reference and of cuBLAS + split, with and without PDL."""
    from runtime.projections.fused import tile_major_weight
    from runtime.projections.gemm_split import gemm_split

    def tiled(x, w, rs, layout, **kw):
        tiles = tile_major_weight(w)
        assert tiles is not None and tiles.dim() == 4
        return gemm_split(x, w, rs, layout, tile_major=tiles, **kw)

    _check_real_sizes(tiled, "interleaved", tp, t, {"pdl": pdl})


@pytest.mark.parametrize("t", [17, 32])
def test_gpu_gemm_split_tma_launch_reads_a_misaligned_x(t):
    """TP1's TMA launch on an x whose rows start 2 bytes past 16-byte alignment (a column slice) loads x per
    thread instead, and gives the bits it gives on the same x made contiguous."""
    from runtime.projections.fused import tile_major_weight
    from runtime.projections.gemm_split import gemm_split, launch_config, tma_aligned

    rs = S.per_rank(1)
    n = rs.qkvz_width + rs.ba_width
    assert launch_config(t, n, S.hidden, torch.cuda.get_device_properties(0).multi_processor_count, tile_major=True)[
        "TMA_X"
    ]
    w = (torch.randn(n, S.hidden, device="cuda") * S.hidden**-0.5).bfloat16()
    wide = torch.randn(t, S.hidden + 8, device="cuda").bfloat16()
    x = wide[:, 1 : S.hidden + 1]
    assert not tma_aligned(x)
    tiles = tile_major_weight(w)
    got = gemm_split(x, w, rs, "interleaved", tile_major=tiles)
    want = gemm_split(x.contiguous(), w, rs, "interleaved", tile_major=tiles)
    for g_, w_ in zip(got, want, strict=True):
        assert torch.equal(g_, w_)


def test_gpu_fused_picks_gemv_or_gemm_by_rank_width():
    """With PDL (H200 rules, 132 SMs, rounds 13 to 17): the persistent tensor-core GEMV at TP4 T=2..16, TP8 T=2..32
    and TP1 T=2..8 (TP8 T=9..16 on the tensor-core GEMV before round 17); the GEMV keeps one token with PDL (four on
    TP8 without). The layer keeps a tile-major copy only where a launch reads one, and a unit-major copy where the
    persistent launch runs."""
    from runtime.projections.fused import fused_kernel

    for tp, t, pdl, want in (
        (4, 1, True, "gemv_split"), (4, 2, True, "stream_mma"), (4, 16, True, "stream_mma"),
        (4, 17, True, "stream_mma"), (4, 32, True, "stream_mma"), (4, 33, True, "gemm_split"), (8, 1, True, "gemv_split"), (8, 2, True, "stream_mma"), (8, 8, True, "stream_mma"),
        (8, 9, True, "stream_mma"), (8, 16, True, "stream_mma"), (8, 17, True, "stream_mma"), (8, 32, True, "stream_mma"),
        (1, 1, True, "gemv_split"), (1, 2, True, "stream_mma"), (1, 3, True, "stream_mma"), (1, 8, True, "stream_mma"), (1, 9, True, "gemm_split"),
        (4, 2, False, "gemv_split"), (4, 3, False, "gemm_split"), (1, 2, False, "gemv_split"),
        (1, 3, False, "gemm_split"), (8, 4, False, "gemv_split"), (8, 8, False, "gemm_split"),
    ):
        rs = S.per_rank(tp)
        w = torch.zeros(rs.qkvz_width + rs.ba_width, S.hidden, device="cuda", dtype=torch.bfloat16)
        x = torch.ones(t, S.hidden, device="cuda", dtype=torch.bfloat16)
        assert fused_kernel(x, w, pdl=pdl) == want, (tp, t, pdl)
    for tp, has in ((1, True), (4, True), (8, False)):
        rs = S.per_rank(tp)
        qkvz = torch.randn(rs.qkvz_width, S.hidden, device="cuda").bfloat16()
        ba = torch.randn(rs.ba_width, S.hidden, device="cuda").bfloat16()
        assert (FusedGDNProjection(qkvz, ba, rs, "interleaved").tiles is not None) == has
        assert FusedGDNProjection(qkvz, ba, rs, "interleaved").units is not None
        assert FusedGDNProjection(qkvz, ba, rs, "interleaved", tile_major=False).tiles is None


def _check_real_sizes(kernel, layout: str, tp: int, t: int, kw: dict) -> None:
    """``kernel(x, w, rank shape, layout, out=..., **kw)`` on fresh bf16 inputs with poisoned outputs: every
    output written, the same bits on a second call, within 1e-2 of the fp32 reference and of cuBLAS + split."""
    from runtime.projections.split_kernel import split_outputs

    g = torch.Generator().manual_seed(t + 10 * tp)
    rs = S.per_rank(tp)
    w = (torch.randn(rs.qkvz_width + rs.ba_width, S.hidden, generator=g) * S.hidden**-0.5).cuda().bfloat16()
    x = torch.randn(t, S.hidden, generator=g).cuda().bfloat16()
    out = split_outputs(t, rs, x, torch.bfloat16)
    for o in out:
        o.fill_(float("nan"))
    got = kernel(x, w, rs, layout, out=out, **kw)
    again = kernel(x, w, rs, layout, **kw)
    for g_, a_ in zip(got, again, strict=True):
        assert torch.equal(g_, a_)
    full = naive.project(x, w)
    want = NAIVE[layout](full[:, : rs.qkvz_width], full[:, rs.qkvz_width :], rs)
    cublas = torch.nn.functional.linear(x, w)
    base = split_qkvzba(cublas[:, : rs.qkvz_width], cublas[:, rs.qkvz_width :], rs, layout)
    for g_, w_, b_ in zip(got, want, base, strict=True):
        assert not g_.isnan().any()
        assert _rel(g_, w_) < 1e-2 and _rel(g_, b_) < 1e-2


@pytest.mark.parametrize("tp", [1, 8])
@pytest.mark.parametrize("batch", [1, 64, 67])
@pytest.mark.parametrize("pdl", [False, True], ids=["no_pdl", "pdl"])
@pytest.mark.parametrize("pairs", [None, False], ids=["default_pairs", "one_channel"])
def test_gpu_split_conv_real_sizes(tp, batch, pdl, pairs):
    """Qwen3.5-397B per-rank sizes, bf16, W=4, no bias: our kernel (its default launch, which takes channel pairs
    here, and the one-channel-per-thread launch; with and without PDL) against the reference (state, z, b, a and the
    SiLU-free conv output bit for bit; with SiLU within one output ulp) and SGLang's kernel (bit for bit)."""
    from runtime.projections import conv_update, sglang_peer, split_conv_kernel
    from runtime.projections.naive import QWEN3_5_397B

    rs = QWEN3_5_397B.per_rank(tp)
    g = torch.Generator(device="cuda").manual_seed(tp * 100 + batch)
    fused = torch.randn(batch, rs.qkvz_width + rs.ba_width, device="cuda", generator=g).bfloat16()
    qkvz, ba = fused[:, : rs.qkvz_width], fused[:, rs.qkvz_width :]
    pool = torch.randn(2 * batch + 1, rs.qkv_width, 3, device="cuda", generator=g).bfloat16()
    weight = torch.randn(rs.qkv_width, 4, device="cuda", generator=g).bfloat16()
    idx = torch.randperm(2 * batch + 1, device="cuda", generator=g)[:batch].to(torch.int32)
    idx[batch // 2] = -1
    assert split_conv_kernel.pairs_apply(qkvz, pool, weight, None, rs)
    for activation in (None, "silu"):
        pools = [pool.clone() for _ in range(3)]
        ours = split_conv_kernel.split_conv_update(qkvz, ba, pools[0], weight, None, idx, rs, activation,
                                                   pdl=pdl, pairs=pairs)
        ref = conv_update.split_conv_update(qkvz, ba, pools[1], weight, None, idx, rs, activation)
        assert torch.equal(pools[0], pools[1])
        for o, r in zip(ours[1:], ref[1:], strict=True):
            assert torch.equal(o, r)
        if activation is None:
            assert torch.equal(ours[0], ref[0])
        else:
            ulp = torch.finfo(torch.bfloat16).eps
            assert ((ours[0].float() - ref[0].float()).abs() <= ulp * ref[0].float().abs().clamp_min(1e-3)).all()
        peer = sglang_peer.fused_proj()
        if peer is None:
            continue
        theirs = peer.fused_qkvzba_causal_conv1d_update_contiguous(
            qkvz, ba, pools[2], weight, None, idx, qkv_dim=rs.qkv_width, v_dim=rs.value_dim,
            num_v_heads=rs.num_v_heads, head_v_dim=rs.head_v, activation=activation,
        )
        assert torch.equal(pools[2], pools[0])
        for t, o in zip(theirs, ours, strict=True):
            assert torch.equal(t, o)


@pytest.mark.parametrize("layout", ["interleaved", "contiguous"])
@pytest.mark.parametrize("tp", [1, 4, 8])
@pytest.mark.parametrize("t", [1, 3, 8])
def test_gpu_gemv_split_real_sizes(layout, tp, t):
    """The GEMV kernel's default launch (PDL on) at real sizes, as :func:`_check_real_sizes`."""
    from runtime.projections.gemv_split import gemv_split

    _check_real_sizes(gemv_split, layout, tp, t, {})


@pytest.mark.parametrize("layout", ["interleaved", "contiguous"])
@pytest.mark.parametrize(("tp", "t"), [(4, 2), (4, 8), (8, 3), (8, 16), (1, 5)])
@pytest.mark.parametrize("pdl", [False, True], ids=["no_pdl", "pdl"])
def test_gpu_gemv_mma_real_sizes(layout, tp, t, pdl):
    """The tensor-core GEMV's default launch at real sizes (TP1 too, where the fused path does not take it), as
    :func:`_check_real_sizes`."""
    from runtime.projections.gemv_mma import gemv_mma

    _check_real_sizes(gemv_mma, layout, tp, t, {"pdl": pdl})


def test_gpu_copy_launch_time_grows_with_its_bytes():
    """The split + conv rows' ``copy_us``: moving 256 MiB (rotated past L2) takes over ten times moving 1 MiB, and a
    call fills its destination (half the bytes) from its uniform source."""
    from runtime.benchkit import cuda_graph_medians_us
    from runtime.projections.bench import copy_launch

    small, big = copy_launch(1 << 20), copy_launch(256 << 20)
    dst = small()
    assert dst.numel() == (1 << 20) // 8 and not dst.isnan().any() and dst.min() >= 0 and dst.max() <= 1
    times = cuda_graph_medians_us({"small": small, "big": big}, replays=20, reps=20)
    assert times["big"] > 10 * times["small"] > 0


def test_gpu_interleaved_graph_medians_see_the_work():
    """The bench's interleaved timing: one more launch per call in one graph costs more than in the other, every
    name gets a positive median, and an empty launch costs under 5 us (a sanity bound, not a target)."""
    from runtime.benchkit import cuda_graph_medians_us
    from runtime.projections.bench import empty_launch

    out = torch.empty(1, device="cuda")
    one = empty_launch(out)

    def four():
        for _ in range(4):
            one()

    times = cuda_graph_medians_us({"one": one, "four": four}, replays=20, reps=30)
    assert set(times) == {"one", "four"}
    assert 0 < times["one"] < 5
    assert times["four"] > 2 * times["one"]


def test_gpu_alt_stream_is_no_pool_stream_and_overlaps_inside_a_captured_graph():
    """SGLang's second stream in the bench is none of torch's 32 round-robin pool streams, so never the stream
    ``torch.cuda.graph`` captures on (a pool stream drawn for it was that stream in rounds 18 and 20's full runs);
    the two GEMMs captured with it, outputs poisoned before the replay, give the plain GEMMs' results."""
    alt = paths.alt_stream()
    pool = {torch.cuda.Stream().cuda_stream for _ in range(64)}
    assert alt.cuda_stream not in pool and alt.cuda_stream != torch.cuda.current_stream().cuda_stream
    g = torch.Generator().manual_seed(21)
    rs = S.per_rank(4)
    x = torch.randn(8, S.hidden, generator=g).cuda().bfloat16()
    qkvz_w = torch.randn(rs.qkvz_width, S.hidden, generator=g).cuda().bfloat16()
    ba_w = torch.randn(rs.ba_width, S.hidden, generator=g).cuda().bfloat16()
    paths.two_gemms(x, qkvz_w, ba_w, alt)  # warm up (cuBLAS handles) outside the capture
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        qkvz, ba = paths.two_gemms(x, qkvz_w, ba_w, alt)
    assert alt.cuda_stream != torch.cuda.graph.default_capture_stream.cuda_stream
    qkvz.fill_(float("nan"))
    ba.fill_(float("nan"))
    graph.replay()
    torch.cuda.synchronize()
    torch.testing.assert_close(qkvz, torch.nn.functional.linear(x, qkvz_w))
    torch.testing.assert_close(ba, torch.nn.functional.linear(x, ba_w))
