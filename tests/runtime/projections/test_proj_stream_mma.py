"""The persistent tensor-core GEMV (one CTA per SM, 8-row units, x in registers, the split in the epilogue): parity
with a float64 GEMM + split on fresh random inputs and poisoned outputs (GPU, real Qwen3-Next widths and a contiguous
shape); its launch settings, shared memory and ctypes launch structures (CPU)."""

import ctypes
import dataclasses

import pytest
import torch

from runtime.projections import naive, stream_mma
from runtime.projections.naive import QWEN3_NEXT_80B
from runtime.projections.split_kernel import split_outputs

TOL = {torch.bfloat16: 8e-3, torch.float16: 2e-3}  # 16-bit outputs rounded once from fp32 sums


def test_launch_structures_match_the_driver_layout():
    """``CUlaunchAttribute`` is 72 bytes (id, padding, a 64-byte union at offset 8); ``CUlaunchConfig`` puts the
    stream at byte 32 after seven 32-bit fields and padding, then the attribute pointer and count."""
    assert ctypes.sizeof(stream_mma._Attr) == 72 and stream_mma._Attr.value.offset == 8
    cfg = stream_mma._Config
    assert (cfg.smem.offset, cfg.stream.offset, cfg.attrs.offset, cfg.num_attrs.offset) == (24, 32, 40, 48)
    assert ctypes.sizeof(cfg) == 56


@pytest.mark.parametrize(("tp", "t", "per_sm"), [(1, 1, 2), (1, 4, 2), (1, 5, 1), (1, 8, 1), (1, 16, 1), (1, 32, 1),
                                                 (4, 4, 1), (4, 32, 1), (8, 8, 1)])
def test_launch_fits_its_ctas_on_an_sm(tp, t, per_sm):
    """One CTA an SM where a CTA's share fits the units in flight or above 4 tokens, else two (TP1 up to 4 tokens);
    never more CTAs than units; the partials of an SM's CTAs fit its 228 KB; whole chunks a warp; one unit before the
    wait where the whole share is in flight."""
    rs = QWEN3_NEXT_80B.per_rank(tp)
    n = rs.qkvz_width + rs.ba_width
    cfg = stream_mma.launch_config(t, n, rs.hidden, 132)
    tc = stream_mma.group_tokens(t, cfg["TH"])
    assert cfg["MINB"] == per_sm and cfg["CTAS"] == min(132 * per_sm, n // 8) and cfg["MT"] == (1 if tc <= 16 else 2)
    shared = stream_mma.shared_bytes(n // 8, cfg["CTAS"] // cfg["TH"], cfg["W"], cfg["MT"])
    assert per_sm * (shared + 1024) <= 228 * 1024
    assert rs.hidden % (32 * cfg["W"]) == 0
    if stream_mma.units_per_cta(n, 132) <= 3 and t <= 16:
        assert cfg["PRE"] == 1 and cfg["D"] >= stream_mma.units_per_cta(n, 132)


@pytest.mark.parametrize(("tp", "t", "th", "tc", "d"), [(4, 17, 2, 16, 2), (4, 32, 2, 16, 2), (4, 16, 1, 16, 3),
                                                        (4, 2, 1, 2, 3), (1, 32, 1, 32, 2), (8, 32, 2, 16, 2),
                                                        (8, 17, 2, 16, 2), (8, 16, 1, 16, 3)])
def test_two_token_groups_above_16_tokens_where_a_cta_streams_at_most_three_units(tp, t, th, tc, d):
    """TP4 / TP8 above 16 tokens run two 16-token groups (``TH=2``): one MMA tile a CTA, no cluster, an even CTA count,
    every CTA pair dealt the share one CTA of the plain launch is, two units in flight (TP4: six a CTA; TP8 three at
    most, three in flight until round 21); elsewhere one group of all the tokens (TP1 above 16 tokens: two tiles)."""
    rs = QWEN3_NEXT_80B.per_rank(tp)
    n = rs.qkvz_width + rs.ba_width
    cfg = stream_mma.launch_config(t, n, rs.hidden, 132)
    assert cfg["TH"] == th and stream_mma.group_tokens(t, th) == tc and cfg["CTAS"] % th == 0 and cfg["D"] == d
    assert cfg["MT"] == (1 if tc <= 16 else 2) and (th == 1 or cfg["CL"] == 1)
    defs = stream_mma.defines(rs.hidden, cfg, 6, tc <= 8, True, rs, True, False, True, tg=tc if th > 1 else 0)
    assert (defs["TH"], defs["TG"]) == (th, tc if th > 1 else 0)
    assert stream_mma.group_tokens(12, 2) == 8 and stream_mma.group_tokens(9, 2) == 8 and stream_mma.group_tokens(7, 1) == 7


@pytest.mark.parametrize(("tp", "t", "cl"), [(8, 32, 8), (8, 17, 8), (8, 16, 1), (4, 32, 1), (1, 32, 1), (1, 2, 1)])
def test_cluster_only_where_x_is_multicast_and_its_rows_fit(tp, t, cl):
    """In one token group (``TH=1``; the default above 16 tokens at TP8 is two groups since round 20), 8-CTA clusters
    only above 16 tokens where a CTA streams at most two units (TP8); there the staged x rows (64 bytes of padding
    each) and the partials that reuse them fit one CTA's shared memory."""
    rs = QWEN3_NEXT_80B.per_rank(tp)
    n = rs.qkvz_width + rs.ba_width
    cfg = stream_mma.launch_config(t, n, rs.hidden, 132, th=1)
    assert cfg["CL"] == cl
    smem = stream_mma.shared_bytes(n // 8, cfg["CTAS"] - cfg["CTAS"] % 8, cfg["W"], cfg["MT"], t, rs.hidden, cl)
    assert smem >= (t * (2 * rs.hidden + 64) if cl > 1 else 0) and smem + 1024 <= 228 * 1024


@pytest.mark.parametrize(("tp", "t", "pin"), [(1, 2, 1), (1, 8, 1), (4, 8, 1), (4, 16, 1), (8, 8, 1), (8, 9, 0),
                                               (8, 16, 0), (8, 32, 0)])
def test_launch_pins_the_load_order_except_above_8_tokens_on_two_units(tp, t, pin):
    """The launch keeps the source's load order (``PIN=1``: the first units before the wait) except above 8 tokens
    where a CTA streams at most two units (TP8); it reaches the kernel's defines."""
    rs = QWEN3_NEXT_80B.per_rank(tp)
    cfg = stream_mma.launch_config(t, rs.qkvz_width + rs.ba_width, rs.hidden, 132)
    assert cfg["PIN"] == pin
    assert stream_mma.defines(rs.hidden, cfg, 3, t <= 8, True, rs, True, False, True)["PIN"] == pin


def test_launch_attributes_carry_pdl_and_the_cluster_shape():
    """Programmatic stream serialisation (id 6, on) where PDL is asked, the cluster dimension (id 4: x, y, z) where
    ``cl > 1``, in that order; none for a plain launch."""
    attrs, count = stream_mma._attrs(True, 8)
    assert count == 2 and (attrs[0].id, attrs[0].value[0]) == (6, 1)
    assert attrs[1].id == 4 and list(attrs[1].value[:3]) == [8, 1, 1]
    attrs, count = stream_mma._attrs(False, 4)
    assert count == 1 and attrs[0].id == 4 and attrs[0].value[0] == 4
    assert stream_mma._attrs(False, 1)[1] == 0 and stream_mma._attrs(True, 1)[1] == 1


def test_pack_weight_puts_each_chunk_of_a_unit_in_512_contiguous_bytes():
    w = torch.arange(16 * 64, dtype=torch.float32).view(16, 64)
    p = stream_mma.pack_weight(w)
    assert p.shape == (2, 2, 8, 32)
    assert torch.equal(p[1, 1], w[8:16, 32:64]) and torch.equal(p[0, 1].flatten(), w[:8, 32:].flatten())


def test_rejects_cpu_tensors_and_large_batches():
    x = torch.randn(4, 2048, dtype=torch.bfloat16)
    w = torch.randn(64, 2048, dtype=torch.bfloat16)
    assert not stream_mma.accepts(x, w)
    rs = QWEN3_NEXT_80B.per_rank(8)
    with pytest.raises(ValueError, match="stream_mma"):
        stream_mma.stream_mma(x, torch.randn(rs.qkvz_width + rs.ba_width, 2048, dtype=torch.bfloat16), rs,
                              "interleaved")


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
@pytest.mark.parametrize(("t", "pdl", "kw"), [
    (1, True, {}), (3, True, {}), (8, False, {}), (9, True, {}), (16, True, {"W": 8}), (17, True, {}),
    (32, True, {"W": 8}), (5, True, {"D": 1, "NACC": 1}), (4, True, {"CTAS": 100}), (4, True, {"packed": True}),
    (2, True, {"W": 32, "D": 4, "PRE": 1, "packed": True}), (6, True, {"W": 8, "D": 2, "MINB": 2}),
    (3, True, {"CL": 2, "packed": True}), (8, False, {"CL": 4}), (13, True, {"CL": 8}), (32, True, {"CL": 4}),
    (3, True, {"PIN": 0}), (4, True, {"PRE": 3, "D": 3}), (12, True, {"PIN": 1}), (32, True, {"CL": 8, "PIN": 1}),
    (9, True, {"TH": 2}), (16, True, {"TH": 2, "packed": True}), (24, True, {"TH": 2}), (32, True, {"TH": 2}),
    (32, False, {"TH": 2, "PRE": 2, "PIN": 0}), (31, True, {"TH": 2, "CTAS": 200, "packed": True}),
])
@pytest.mark.parametrize(("tp", "layout"), [(4, "interleaved"), (1, "interleaved"), (8, "interleaved"), (2, "contiguous")])
def test_gpu_stream_mma_matches_gemm_then_split(tp, layout, t, dtype, pdl, kw):
    if not torch.cuda.is_available() or torch.cuda.get_device_capability()[0] < 9:
        pytest.skip("needs a Hopper GPU")
    shape = QWEN3_NEXT_80B.per_rank(tp)
    if layout == "contiguous":
        shape = dataclasses.replace(shape, num_v_heads=4 * shape.num_k_heads)  # head ratio 4, as Qwen3.5
    g = torch.Generator().manual_seed(100 * tp + t)
    n = shape.qkvz_width + shape.ba_width
    x = torch.randn(t, shape.hidden, generator=g).to("cuda", dtype)
    w = (torch.randn(n, shape.hidden, generator=g) * shape.hidden**-0.5).to("cuda", dtype)
    out = split_outputs(t, shape, x, dtype)
    for o in out:
        o.fill_(float("nan"))
    kw = dict(kw)  # parametrize shares the dict between the dtype cases
    if kw.pop("packed", False):
        kw["packed"] = stream_mma.pack_weight(w)
    got = stream_mma.stream_mma(x, w, shape, layout, out=out, pdl=pdl, **kw)
    full = naive.project(x.double(), w.double())
    split = naive.split_interleaved if layout == "interleaved" else naive.split_contiguous
    want = split(full[:, : shape.qkvz_width], full[:, shape.qkvz_width :], shape)
    torch.cuda.synchronize()
    for g_, w_ in zip(got, want, strict=True):
        assert g_.shape == w_.shape and g_.dtype == dtype and not g_.isnan().any()
        assert ((g_.double() - w_).norm() / w_.norm()).item() < TOL[dtype]


@pytest.mark.gpu
def test_gpu_stream_mma_reads_a_strided_x():
    """x as a row slice of a wider buffer (row stride 2056, 16-byte aligned): the same bits as a contiguous copy."""
    if not torch.cuda.is_available() or torch.cuda.get_device_capability()[0] < 9:
        pytest.skip("needs a Hopper GPU")
    shape = QWEN3_NEXT_80B.per_rank(4)
    g = torch.Generator().manual_seed(5)
    buf = torch.randn(6, 2056, generator=g).to("cuda", torch.bfloat16)
    x = buf[:, :2048]
    w = (torch.randn(shape.qkvz_width + shape.ba_width, 2048, generator=g) * 2048**-0.5).to("cuda", torch.bfloat16)
    got = stream_mma.stream_mma(x, w, shape, "interleaved")
    want = stream_mma.stream_mma(x.contiguous(), w, shape, "interleaved")
    assert all(torch.equal(a, b) for a, b in zip(got, want, strict=True))


def _norm_inputs(t: int, k: int, dtype, device: str = "cpu", seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x, res = (torch.randn(t, k, generator=g).to(device, dtype) for _ in range(2))
    nw = (torch.randn(k, generator=g) * 0.1).to(device, dtype)
    return x, res, nw


def test_add_norm_inputs_are_checked_before_any_launch():
    """A residual of another shape, dtype or layout, a weight of another width, or a ``residual_out`` that overlaps
    ``residual`` or x is refused with a one-line ``ValueError``; fitting inputs pass."""
    x, res, nw = _norm_inputs(4, 2048, torch.bfloat16)
    out = torch.empty_like(res)
    stream_mma.check_add_norm(x, stream_mma.AddNorm(res, nw, out))
    for bad in (stream_mma.AddNorm(res[:3], nw, out), stream_mma.AddNorm(res.float(), nw, out),
                stream_mma.AddNorm(res, nw[:1024], out), stream_mma.AddNorm(res.t().contiguous().t(), nw, out)):
        with pytest.raises(ValueError, match="contiguous residual"):
            stream_mma.check_add_norm(x, bad)
    buf = torch.empty(8, 2048, dtype=torch.bfloat16)
    for alias in (buf[:4], x, buf[2:6]):
        with pytest.raises(ValueError, match="must not overlap"):
            stream_mma.check_add_norm(x, stream_mma.AddNorm(buf[:4], nw, alias))
    stream_mma.check_add_norm(x, stream_mma.AddNorm(buf[:4], nw, buf[4:]))  # neighbours, not overlapping


def test_the_norm_reaches_the_kernel_defines():
    rs = QWEN3_NEXT_80B.per_rank(4)
    cfg = stream_mma.launch_config(4, rs.qkvz_width + rs.ba_width, rs.hidden, 132)
    assert stream_mma.defines(rs.hidden, cfg, 3, True, True, rs, True, False, True, True)["NORM"] == 1
    assert stream_mma.defines(rs.hidden, cfg, 3, True, True, rs, True, False, True)["NORM"] == 0


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
@pytest.mark.parametrize(("tp", "t", "kw"), [
    (4, 1, {}), (4, 4, {}), (4, 8, {"packed": True}), (4, 13, {}), (4, 32, {"CL": 8}), (1, 2, {}), (1, 8, {"packed": True}),
    (1, 5, {"W": 16, "D": 2, "MINB": 1, "PRE": 2}), (1, 32, {}), (8, 3, {}), (8, 16, {"PIN": 0}), (8, 32, {}),
    (8, 7, {"CTAS": 50}), (4, 24, {"TH": 2}), (4, 32, {"packed": True}), (1, 32, {"TH": 2}), (8, 20, {"TH": 2}),
    (4, 12, {"TH": 2, "CTAS": 64}),
])
def test_gpu_stream_mma_with_the_norm_matches_the_norm_then_gemm_and_split(tp, t, kw, dtype):
    """The input norm folded in: ``residual_out`` is ``x + residual`` rounded once, bit for bit; the outputs match the
    PyTorch norm (fp32) followed by a float64 GEMM + split within the plain launch's tolerance (the kernel normalises
    the rounded sum: one more rounding of its input); x, the residual and the norm weight are left as they were."""
    if not torch.cuda.is_available() or torch.cuda.get_device_capability()[0] < 9:
        pytest.skip("needs a Hopper GPU")
    from runtime.projections import context

    shape = QWEN3_NEXT_80B.per_rank(tp)
    x, res, nw = _norm_inputs(t, shape.hidden, dtype, "cuda", seed=10 * tp + t)
    g = torch.Generator().manual_seed(t)
    w = (torch.randn(shape.qkvz_width + shape.ba_width, shape.hidden, generator=g) * shape.hidden**-0.5).to("cuda", dtype)
    before = [v.clone() for v in (x, res, nw)]
    res_out = torch.full_like(res, float("nan"))
    out = split_outputs(t, shape, x, dtype)
    for o in out:
        o.fill_(float("nan"))
    kw = dict(kw)
    if kw.pop("packed", False):
        kw["packed"] = stream_mma.pack_weight(w)
    got = stream_mma.stream_mma(x, w, shape, "interleaved", out=out, norm=stream_mma.AddNorm(res, nw, res_out), **kw)
    y, s = context.gemma_add_rmsnorm_reference(x, res, nw)
    full = naive.project(y.double(), w.double())
    want = naive.split_interleaved(full[:, : shape.qkvz_width], full[:, shape.qkvz_width :], shape)
    torch.cuda.synchronize()
    assert torch.equal(res_out, s)
    assert all(torch.equal(a, b) for a, b in zip((x, res, nw), before, strict=True))
    for g_, w_ in zip(got, want, strict=True):
        assert g_.dtype == dtype and not g_.isnan().any()
        assert ((g_.double() - w_).norm() / w_.norm()).item() < TOL[dtype]
