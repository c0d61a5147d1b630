"""A persistent tensor-core GEMV for decode batches on Hopper: ``x [T, K] @ [qkvz; ba].T`` straight into
``mixed_qkv, z, b, a`` (the split in the epilogue, as :func:`.gemm_split._scatter` places columns), one CTA per SM
streaming its share of the row-major weight (``stream_mma.cu``).

Why: after the layer's input norm, what sets 3 to 32 tokens is how the weight streams (NOTES.md round 14): on
``gemm_split``'s 49 (TP4) or 193 (TP1) programs of 64 rows the stream alone reads 5.71 / 13.48 us, against 4.15 / 12.76
on the GEMV's grid, which requests every byte at once. Here every SM streams: 8-row units (32 KB) dealt round robin to
one CTA per SM, each warp's K slice of x held in registers for the whole kernel (read once per CTA, not per tile), each
unit's weight loaded in 16-byte vectors straight into ``mma.sync`` B fragments (K permuted inside each 32-column chunk,
x the same), ``D`` units in flight, the first ``PRE`` requested before the PDL wait and the rest after x (``PIN``: in
that order; ptxas otherwise issues the wait before every weight load, NOTES.md round 17).
With ``CL > 1`` (TP8 above 16 tokens) x reaches the registers through shared memory, each row copied from L2 once a
thread-block cluster and multicast to its CTAs. Compiled at first use by NVRTC (torch's ``torch.cuda._utils`` wrappers,
which need the CUDA headers) or ``nvcc``, launched with ``cuLaunchKernelEx`` for programmatic dependent launch.
Accumulates in fp32 in its own order (each warp's K slice, then the warps in order): matches cuBLAS to rounding.
"""

from __future__ import annotations

import ctypes
import functools
import pathlib
import shutil
import subprocess
import tempfile
from typing import NamedTuple

import torch

from .gemm_split import check_inputs
from .naive import GDNShape
from .split_kernel import SplitLayout, split_outputs

SOURCE = pathlib.Path(__file__).with_name("stream_mma.cu")
UNIT = 8  # weight rows a unit: the MMA's N
MAX_TOKENS = 32  # two 16-token MMA tiles
_CLUSTER_DIMENSION = 4  # CUlaunchAttributeID
_PROGRAMMATIC_STREAM_SERIALIZATION = 6


class AddNorm(NamedTuple):
    """The layer's input norm folded into the launch (sgl_kernel's ``gemma_fused_add_rmsnorm`` before the projection):
    ``s = x + residual``, the projection's input ``s * rsqrt(mean(s^2) + eps) * (1 + weight)``; ``s`` is stored to
    ``residual_out`` (contiguous ``[T, K]``, not overlapping ``residual``: every CTA reads ``residual`` while one
    writes), rounded to the dtype, and the normalised x is computed from that rounded ``s`` and not stored."""

    residual: torch.Tensor
    weight: torch.Tensor
    residual_out: torch.Tensor
    eps: float = 1e-6


def check_add_norm(x: torch.Tensor, norm: AddNorm) -> None:
    """Raise ``ValueError`` unless ``norm`` fits ``x [T, K]``: contiguous residuals of its shape and dtype, 16-byte
    aligned, ``residual_out`` apart from ``residual`` and ``x``, a ``[K]`` weight of its dtype."""
    t, k = x.shape
    r, w, o = norm.residual, norm.weight, norm.residual_out
    ok = (all(v.shape == (t, k) and v.dtype == x.dtype and v.is_contiguous() and v.data_ptr() % 16 == 0 for v in (r, o))
          and w.shape == (k,) and w.dtype == x.dtype and w.is_contiguous() and w.data_ptr() % 16 == 0
          and all(v.device == x.device for v in (r, w, o)))
    if not ok:
        raise ValueError("stream_mma: the norm needs contiguous residual / residual_out [T, K] and weight [K] of x's "
                         "dtype and device, 16-byte aligned")
    span = lambda v: (v.data_ptr(), v.data_ptr() + v.numel() * v.element_size())  # noqa: E731
    if t and any(a < d and c < b for (a, b), (c, d) in ((span(o), span(r)), (span(o), span(x)))):
        raise ValueError("stream_mma: residual_out must not overlap residual or x")


class _Attr(ctypes.Structure):  # CUlaunchAttribute: id, 4 bytes of padding, a 64-byte union
    _fields_ = [("id", ctypes.c_int), ("pad", ctypes.c_char * 4), ("value", ctypes.c_uint * 16)]


class _Config(ctypes.Structure):  # CUlaunchConfig
    _fields_ = [("grid", ctypes.c_uint * 3), ("block", ctypes.c_uint * 3), ("smem", ctypes.c_uint),
                ("stream", ctypes.c_void_p), ("attrs", ctypes.POINTER(_Attr)), ("num_attrs", ctypes.c_uint)]


def units_per_cta(n: int, sms: int) -> int:
    """8-row units of an ``[n, K]`` weight each of ``sms`` CTAs streams (the busiest)."""
    return -(-(n // UNIT) // sms)


def group_tokens(t: int, th: int) -> int:
    """Tokens one CTA takes of a ``T``-token batch in ``th`` token groups: all of them where ``th`` is 1, else the
    group's size, 8 or 16 (``TG``)."""
    return t if th == 1 else (8 if -(-t // th) <= 8 else 16)


def launch_config(t: int, n: int, k: int, sms: int, th: int | None = None) -> dict[str, int]:
    """Warps, units in flight (``PRE`` of them before the PDL wait, the rest right after x), 16-token tiles,
    accumulators, CTAs an SM, CTAs a cluster, token groups (``TH``, ``th`` where given) and CTAs for ``T`` tokens over
    an ``[n, k]`` weight on ``sms`` SMs. Where
    a CTA's whole share fits the units in flight (TP4 / TP8 on 132 SMs) 16 warps, one unit before the wait; where it
    does not (TP1, 12 units a CTA) two CTAs an SM of 8 warps, two units in flight, up to 4 tokens (H200 sweeps
    ``sm15`` / ``sm15b``, NOTES.md round 15; to 8 tokens before round 20). In one token group (``th=1``) above 16
    tokens where a CTA streams at most two units (TP8), x reaches the CTAs of an 8-CTA cluster by one multicast copy
    (sweep ``sm16``, round 16: TP8 T=32 5.86 us against 7.59 without the cluster; the default until round 20). The loads issue in the source's order (``PIN``, round 17: ptxas otherwise puts the PDL wait before
    every weight load) except above 8 tokens where a CTA streams at most two units (TP8), where ptxas's order (the
    weight right after the wait, then x) measured faster after the norm (sweep ``sm17``: T=12 / 16 3.67 / 3.73 us
    against 4.07 / 4.14, T=32 5.89 against 5.99). Round 20 (sweeps ``th20`` / ``th20b``): above 16 tokens where a CTA
    streams at most three units (TP4, TP8) the batch runs as two 16-token groups (``TH=2``: each CTA pair is dealt the
    units one CTA was, each CTA holds one half of x and the pair reads each unit twice, the second time from L2), two
    units in flight at TP4 (T=32 6.47 / 6.64 us against 7.66 / 7.83 with three; the tile-major gemm_split read 6.84 in
    the first call's bench, 6.92 in ``th20b``) and, since round 21, at TP8 (T=17 / 24 / 32 3.94 / 4.04 / 4.37 against
    4.37 / 4.45 / 4.47 with three in sweep ``r21``, 3.92 / 4.06 / 4.26 against 4.34 / 4.44 / 4.50 in ``th20b``; in 8-CTA
    clusters 5.15 / 5.49 / 5.82); TP1 at 5 to 8 tokens one CTA an SM of 16 warps, three units in flight (T=8 14.5 / 14.5 against 14.8 /
    14.7; T=5..7 not timed; at T=4 14.4 against 14.0, so up to 4 tokens two CTAs an SM stay). Registers for sm_90 (nvcc 13.0): 70 to 232 a thread, no spills."""
    per = units_per_cta(n, sms)
    if th is None:
        th = 2 if per <= 3 and t > 16 else 1
    tc = group_tokens(t, th)
    mt = 1 if tc <= 16 else 2
    if per > 3 and tc <= 4:
        cfg = {"W": 8, "D": 2, "PRE": 2, "MINB": 2}
    else:
        cfg = {"W": 16, "D": 2 if mt == 2 or th == 2 else 3, "PRE": 1, "MINB": 1}
    cl = 8 if mt == 2 and per <= 2 else 1
    pin = 0 if per <= 2 and tc > 8 else 1
    ctas = min(sms * cfg["MINB"], n // UNIT * th)
    return cfg | {"MT": mt, "NACC": 4 if mt == 1 else 2, "CL": cl, "PIN": pin, "TH": th, "CTAS": ctas - ctas % th}


def wins(t: int, n: int, k: int, sms: int, pdl: bool) -> bool:
    """Whether this launch beats the GEMVs and :mod:`.gemm_split` on the H200 after the layer's input norm (round 15's
    sweeps, unit-major weight; round 16's ``sm16``): with PDL only (measured with it alone), rows a multiple of 8, K of
    512; where each CTA streams three units (TP4) 2 to 32 tokens (T=4 4.74 us against the tile-major gemm_split's 6.38;
    above 16 tokens in two token groups since round 20: T=17 / 24 / 32 6.02 / 6.33 / 6.60 against its 6.86 / 6.86 / 6.92
    in sweep ``th20b``, 6.64 against 6.86 at T=32 in round 20's TP4 re-run of the bench);
    where at most two (TP8) 2 to 32 tokens (T=4 3.24 against the tensor-core GEMV's 4.76; round 17's ``sm17``: T=12 / 16
    3.67 / 3.73 against its 5.23 / 5.24; in 8-CTA clusters above 16, T=32 5.86 against gemm_split's 6.97, in two token
    groups since round 20; T=9..11,
    13..15 and 17..31 not timed, the launch's cost being flat over a 16-token tile); else (TP1) 2 to 8 tokens (T=2
    14.0 against the GEMV's 14.3, 13.74 against 13.97 in round 15's bench; T=3 / 4 14.1 / 14.2 against gemm_split's
    15.0 / 15.1; T=8 15.0 against 15.2). One token stays on the GEMV (TP4 4.47 against 4.76), and above 16 tokens the
    launch loses at TP1 in one token group, with or without a cluster (T=32 18.4 / 20.3 against gemm_split's 15.5), and
    in two (``th20``: T=32 20.6 against the fused path's 15.4)."""
    if not pdl or n % UNIT or k % 512:
        return False
    per = units_per_cta(n, sms)
    if per <= 2:
        return 2 <= t <= MAX_TOKENS
    if per == 3:
        return 2 <= t <= MAX_TOKENS
    return 2 <= t <= 8


def pack_weight(weight: torch.Tensor) -> torch.Tensor:
    """The unit-major copy of ``weight [n, K]`` the kernel reads with ``packed=``: ``[n / 8, K / 32, 8, 32]``, so a
    warp's 16-byte loads of one 32-column chunk of a unit are 512 contiguous bytes."""
    n, k = weight.shape
    return weight.view(n // UNIT, UNIT, k // 32, 32).permute(0, 2, 1, 3).contiguous()


def shared_bytes(units: int, ctas: int, w: int, mt: int, t: int = 0, k: int = 0, cl: int = 1) -> int:
    """Shared memory of one CTA: each warp's fp32 partial of each of its units (32 lanes x 4 values a tile); in a
    cluster (``cl > 1``) at least ``t`` staged x rows of ``2 k + 64`` bytes, which the partials reuse."""
    partials = -(-units // ctas) * w * mt * 512
    return max(partials, t * (2 * k + 64)) if cl > 1 else partials


def accepts(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """On a Hopper-or-later GPU, 16-bit ``x [T <= 32, K]`` (K a multiple of 512) whose rows start 16-byte aligned and a
    contiguous, 16-byte aligned weight of its dtype with a multiple of 8 rows."""
    return (x.is_cuda and torch.cuda.get_device_capability(x.device)[0] >= 9
            and x.dtype in (torch.bfloat16, torch.float16) and weight.dtype == x.dtype
            and x.shape[0] <= MAX_TOKENS and x.shape[1] % 512 == 0 and x.stride(1) == 1 and x.stride(0) % 8 == 0
            and x.data_ptr() % 16 == 0 and weight.is_contiguous() and weight.data_ptr() % 16 == 0
            and weight.shape[0] % UNIT == 0)


def _cubin(defines: dict, arch: str) -> bytes:
    """The kernel's cubin: NVRTC through torch's wrappers, else ``nvcc`` where one is on the PATH."""
    from torch.cuda import _utils

    flags = [f"-D{k}={v}" for k, v in defines.items()]
    try:
        return _utils._nvrtc_compile(SOURCE.read_text(), "stream_mma_kernel", arch, nvcc_options=flags)[0]
    except Exception:  # noqa: BLE001 - no NVRTC or no CUDA headers: try the compiler, else raise its error
        if not shutil.which("nvcc"):
            raise
        with tempfile.TemporaryDirectory() as tmp:
            out = pathlib.Path(tmp) / "k.cubin"
            subprocess.run(["nvcc", "-cubin", f"-arch=sm_{arch}", *flags, "-x", "cu", str(SOURCE), "-o", str(out)],
                           check=True, capture_output=True)
            return out.read_bytes()


def defines(k: int, cfg: dict, umax: int, rows8: bool, packed: bool, shape: GDNShape, interleaved: bool, fp16: bool,
            pdl: bool, norm: bool = False, tg: int = 0) -> dict:
    """The kernel's compile-time constants (``stream_mma.cu``'s header); ``norm``: the input norm folded in; ``tg``:
    the tokens of a group where ``cfg["TH"] > 1``."""
    return {"K": k, "W": cfg["W"], "MINB": cfg["MINB"], "PACKED": int(packed), "D": cfg["D"], "PRE": cfg["PRE"],
            "UMAX": umax, "MT": cfg["MT"], "NACC": cfg["NACC"],
            "ROWS8": int(rows8), "NK": shape.num_k_heads, "NV": shape.num_v_heads, "DK": shape.head_k,
            "DV": shape.head_v, "INTERLEAVED": int(interleaved), "FP16": int(fp16), "USE_PDL": int(pdl),
            "CL": cfg["CL"], "PIN": cfg["PIN"], "NORM": int(norm), "TH": cfg.get("TH", 1), "TG": tg}


def _attrs(pdl: bool, cl: int):
    """The launch attributes: programmatic stream serialisation where ``pdl``, the cluster's shape where ``cl > 1``."""
    out = []
    if pdl:
        a = _Attr()
        a.id, a.value[0] = _PROGRAMMATIC_STREAM_SERIALIZATION, 1
        out.append(a)
    if cl > 1:
        a = _Attr()
        a.id = _CLUSTER_DIMENSION
        a.value[0], a.value[1], a.value[2] = cl, 1, 1
        out.append(a)
    return (_Attr * max(1, len(out)))(*out), len(out)


@functools.cache
def _cluster_ctas(kernel, threads: int, smem: int, cl: int, want: int) -> int:
    """CTAs of the largest whole number of ``cl``-CTA clusters, at most ``want`` CTAs, that the GPU holds at once."""
    from torch.cuda import _utils

    attrs, count = _attrs(False, cl)
    c = _Config()
    c.grid[:] = [want - want % cl, 1, 1]
    c.block[:] = [threads, 1, 1]
    c.smem, c.attrs, c.num_attrs = smem, attrs, count
    clusters = ctypes.c_int()
    lib = _utils._get_gpu_runtime_library()
    _utils._check_cuda(lib.cuOccupancyMaxActiveClusters(ctypes.byref(clusters), kernel.func, ctypes.byref(c)))
    return min(want - want % cl, clusters.value * cl)


@functools.cache
def _kernel(defs: tuple, smem: int, device: int):
    from torch.cuda import _utils

    with torch.cuda.device(device):
        major, minor = torch.cuda.get_device_capability(device)
        arch = f"{major}{minor}" + ("a" if dict(defs)["CL"] > 1 else "")  # the multicast copy wants sm_90a
        kernel = _utils._cuda_load_module(_cubin(dict(defs), arch), ["stream_mma_kernel"])
        kernel = kernel["stream_mma_kernel"]
        kernel.set_shared_memory_config(smem)
    return kernel


def stream_mma(
    x: torch.Tensor,
    weight: torch.Tensor,
    shape: GDNShape,
    layout: SplitLayout,
    *,
    out: tuple[torch.Tensor, ...] | None = None,
    packed: torch.Tensor | None = None,
    pdl: bool = True,
    norm: AddNorm | None = None,
    **overrides: int,
):
    """``mixed_qkv, z, b, a`` of ``x [T, K] @ weight.T`` (``weight = [qkvz; ba]`` of one rank, as :func:`accepts`
    says); ``pdl``: launch with programmatic dependent launch (the first units of weight, which no kernel writes, are
    requested before the wait); ``norm``: x is the input norm's input, normalised in the launch (:class:`AddNorm`);
    the keys of :func:`launch_config` override it."""
    t, k, n = check_inputs(x, weight, shape, layout)
    if not accepts(x, weight):
        raise ValueError("stream_mma: needs a Hopper GPU, 16-bit x [T <= 32, K % 512 == 0] with 16-byte aligned rows "
                         "and a contiguous weight of its dtype with rows a multiple of 8")
    if norm is not None:
        check_add_norm(x, norm)
    mixed_qkv, z, b, a = split_outputs(t, shape, x, x.dtype, out)
    if t == 0:
        return mixed_qkv, z, b, a
    sms = torch.cuda.get_device_properties(x.device).multi_processor_count
    cfg = launch_config(t, n, k, sms, th=overrides.get("TH", 1 if overrides.get("CL", 1) > 1 else None))
    if overrides.keys() - cfg.keys():
        raise ValueError(f"stream_mma: unknown launch settings {sorted(overrides.keys() - cfg.keys())}")
    cfg.update(overrides)
    th = cfg["TH"]
    if "CTAS" not in overrides:
        cfg["CTAS"] = min(sms * cfg["MINB"], n // UNIT * th)
        cfg["CTAS"] -= cfg["CTAS"] % th
    if k % (32 * cfg["W"]):
        raise ValueError(f"stream_mma: K={k} is not a multiple of 32 x {cfg['W']} warps")
    if th not in (1, 2) or cfg["CTAS"] % th or (th > 1 and (t <= 8 or cfg["CL"] > 1 or cfg["MT"] > 1)):
        raise ValueError("stream_mma: token groups (TH=2) need more than 8 tokens, one 16-token tile, no cluster and "
                         "an even CTA count")
    tc = group_tokens(t, th)
    if packed is not None and (packed.shape != (n // UNIT, k // 32, UNIT, 32) or packed.dtype != weight.dtype
                               or not packed.is_contiguous()):
        raise ValueError("stream_mma: packed must be pack_weight(weight)")
    units = n // UNIT
    cl = cfg["CL"]
    if cl > 1:  # whole clusters, as many as the GPU holds at once (a compile for the smaller CTA count's UMAX)
        probe = _kernel(tuple(sorted(defines(k, cfg, -(-units // cfg["CTAS"]), tc <= 8, packed is not None, shape,
                                             layout == "interleaved", x.dtype == torch.float16, pdl,
                                             norm is not None).items())),
                        shared_bytes(units, cfg["CTAS"], cfg["W"], cfg["MT"], t, k, cl), x.device.index or 0)
        cfg["CTAS"] = _cluster_ctas(probe, 32 * cfg["W"],
                                    shared_bytes(units, cfg["CTAS"], cfg["W"], cfg["MT"], t, k, cl), cl, cfg["CTAS"])
    umax = -(-units // (cfg["CTAS"] // th))
    cfg["D"] = min(cfg["D"], umax)
    cfg["PRE"] = min(cfg["PRE"], cfg["D"])
    smem = shared_bytes(units, cfg["CTAS"] // th, cfg["W"], cfg["MT"], t, k, cl)
    defs = defines(k, cfg, umax, tc <= 8, packed is not None, shape, layout == "interleaved", x.dtype == torch.float16,
                   pdl, norm is not None, tc if th > 1 else 0)
    kernel = _kernel(tuple(sorted(defs.items())), smem, x.device.index or 0)
    attrs, count = _attrs(pdl, cl)
    c = _Config()
    c.grid[:] = [cfg["CTAS"], 1, 1]
    c.block[:] = [32 * cfg["W"], 1, 1]
    c.smem = smem
    c.stream = torch.cuda.current_stream(x.device).cuda_stream
    c.attrs = attrs
    c.num_attrs = count
    ptrs = [ctypes.c_void_p(v.data_ptr()) for v in (x, weight if packed is None else packed, mixed_qkv, z, b, a)]
    ints = [ctypes.c_int(t), ctypes.c_int(x.stride(0)), ctypes.c_int(units)]
    tensors = norm[:3] if norm is not None else ()  # residual, norm weight, residual_out (NULL without the norm)
    args = ptrs + ints + [ctypes.c_void_p(v.data_ptr()) for v in tensors] + [ctypes.c_void_p(0)] * (3 - len(tensors))
    args.append(ctypes.c_float(norm.eps if norm is not None else 0.0))
    params = (ctypes.c_void_p * len(args))(*[ctypes.cast(ctypes.byref(v), ctypes.c_void_p) for v in args])
    from torch.cuda import _utils

    lib = _utils._get_gpu_runtime_library()
    _utils._check_cuda(lib.cuLaunchKernelEx(ctypes.byref(c), kernel.func, params, None))
    return mixed_qkv, z, b, a
