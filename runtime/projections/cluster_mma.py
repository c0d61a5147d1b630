"""A CUDA C++ projection kernel for decode batches on Hopper: ``x [T, 2048] @ [qkvz; ba].T`` straight into
``mixed_qkv, z, b, a`` (the split in the epilogue, as :func:`.gemm_split._scatter` places columns), K split over a
thread-block cluster and summed in distributed shared memory (``cluster_mma.cu``).

Why not Triton: the tensor-core GEMV (:mod:`.gemv_mma`) keeps 16 rows x all of K in registers, so above 8 tokens
every one of its 193 TP4 programs re-reads all of x (25 MB of L2 reads at T=32); splitting K over programs cut
that but its partials met through global memory, an arrival counter and a reload, which lost (NOTES.md round 10).
Triton 3.6 exposes no cluster shared memory. Here a cluster of 4 CTAs owns 64 weight rows, CTA r the K quarter r
(64 x 512 bf16 in registers as ``mma.sync`` A fragments, 128 of 168 registers a thread, all requested before the PDL
wait, so three CTAs fit an SM and two calls' 196 TP4 CTAs are resident together); each CTA reads only its quarter of
x, and the four partials meet through ``ld.shared::cluster``. Compiled at first use by NVRTC (torch's
``torch.cuda._utils`` wrappers, which need the CUDA headers' directory), launched with ``cuLaunchKernelEx`` for the
cluster and programmatic dependent launch. Accumulates in fp32 in its own order: matches cuBLAS to rounding.
"""

from __future__ import annotations

import ctypes
import functools
import pathlib
import shutil
import subprocess
import tempfile

import torch

from .gemm_split import check_inputs
from .naive import GDNShape
from .split_kernel import SplitLayout, split_outputs

SOURCE = pathlib.Path(__file__).with_name("cluster_mma.cu")
HIDDEN = 2048  # the K the kernel is built for: four 512-column quarters, 128 weight registers a thread
KSPLIT = 4  # CTAs per cluster (one K quarter each)
ROWS = 64  # weight rows per cluster: one 16-row mma.sync tile per warp, 4 warps
_CLUSTER_DIMENSION, _PROGRAMMATIC_STREAM_SERIALIZATION = 4, 6  # CUlaunchAttributeID


class _Attr(ctypes.Structure):  # CUlaunchAttribute: id, 4 bytes of padding, a 64-byte union
    _fields_ = [("id", ctypes.c_int), ("pad", ctypes.c_char * 4), ("value", ctypes.c_uint * 16)]


class _Config(ctypes.Structure):  # CUlaunchConfig
    _fields_ = [("grid", ctypes.c_uint * 3), ("block", ctypes.c_uint * 3), ("smem", ctypes.c_uint),
                ("stream", ctypes.c_void_p), ("attrs", ctypes.POINTER(_Attr)), ("num_attrs", ctypes.c_uint)]


def token_block(t: int) -> int:
    """Tokens per pass over the registers' weight: 8, 16 or 32 (larger batches take several passes)."""
    return 8 if t <= 8 else 16 if t <= 16 else 32


def shared_bytes(stage: int, tmax: int) -> int:
    """Shared memory of one CTA: the x slice of one stage (rows padded by 32 columns) and the fp32 partials."""
    return stage * (HIDDEN // KSPLIT + 32) * 2 + tmax * ROWS * 4


def _cubin(defines: dict, arch: str) -> bytes:
    """The kernel's cubin: NVRTC through torch's wrappers, else ``nvcc`` where one is on the PATH."""
    from torch.cuda import _utils

    flags = [f"-D{k}={v}" for k, v in defines.items()]
    try:
        return _utils._nvrtc_compile(SOURCE.read_text(), "cluster_mma_kernel", arch, nvcc_options=flags)[0]
    except Exception:  # noqa: BLE001 - no NVRTC or no CUDA headers: try the compiler, else raise its error
        if not shutil.which("nvcc"):
            raise
        with tempfile.TemporaryDirectory() as tmp:
            out = pathlib.Path(tmp) / "k.cubin"
            subprocess.run(["nvcc", "-cubin", f"-arch=sm_{arch}", *flags, "-x", "cu", str(SOURCE), "-o", str(out)],
                           check=True, capture_output=True)
            return out.read_bytes()


@functools.cache
def _kernel(tb: int, stage: int, tmax: int, shape: GDNShape, interleaved: bool, fp16: bool, pdl: bool, diag: int,
            device: int):
    from torch.cuda import _utils

    defines = {"K": HIDDEN, "KSPLIT": KSPLIT, "TB": tb, "STAGE": stage, "TMAX": tmax, "DIAG": diag, "NK": shape.num_k_heads,
               "NV": shape.num_v_heads, "DK": shape.head_k, "DV": shape.head_v, "INTERLEAVED": int(interleaved),
               "FP16": int(fp16), "USE_PDL": int(pdl)}
    with torch.cuda.device(device):
        major, minor = torch.cuda.get_device_capability(device)
        kernel = _utils._cuda_load_module(_cubin(defines, f"{major}{minor}"), ["cluster_mma_kernel"])
        kernel = kernel["cluster_mma_kernel"]
        kernel.set_shared_memory_config(shared_bytes(stage, tmax))
    return kernel


def accepts(x: torch.Tensor, weight: torch.Tensor) -> bool:
    """On a Hopper-or-later GPU, 16-bit ``x [T, 2048]`` whose rows start 16-byte aligned (the x slice is copied by
    16-byte ``cp.async``) and a contiguous, 16-byte aligned weight of its dtype."""
    return (x.is_cuda and torch.cuda.get_device_capability(x.device)[0] >= 9
            and x.dtype in (torch.bfloat16, torch.float16) and weight.dtype == x.dtype and x.shape[1] == HIDDEN
            and x.stride(1) == 1 and x.stride(0) % 8 == 0 and x.data_ptr() % 16 == 0
            and weight.is_contiguous() and weight.data_ptr() % 16 == 0)


def cluster_mma(
    x: torch.Tensor,
    weight: torch.Tensor,
    shape: GDNShape,
    layout: SplitLayout,
    *,
    out: tuple[torch.Tensor, ...] | None = None,
    tb: int | None = None,
    stage: int | None = None,
    pdl: bool = True,
    diag: int = 0,
):
    """``mixed_qkv, z, b, a`` of ``x [T, 2048] @ weight.T`` (``weight = [qkvz; ba]`` of one rank, as :func:`accepts`
    says); ``tb``: tokens per pass (default :func:`token_block`); ``pdl``: launch with programmatic dependent launch
    (the weight, which no kernel writes, is requested before the wait)."""
    t, k, n = check_inputs(x, weight, shape, layout)
    if not accepts(x, weight):
        raise ValueError("cluster_mma: needs a Hopper GPU, 16-bit x [T, 2048] with 16-byte aligned rows and a "
                         "contiguous weight of its dtype")
    mixed_qkv, z, b, a = split_outputs(t, shape, x, x.dtype, out)
    if t == 0:
        return mixed_qkv, z, b, a
    tb = tb or token_block(t)
    stage = stage or tb
    if stage % tb:
        raise ValueError(f"cluster_mma: stage {stage} must be a multiple of tb {tb}")
    tmax = -(-t // stage) * stage
    kernel = _kernel(tb, stage, tmax, shape, layout == "interleaved", x.dtype == torch.float16, pdl, diag,
                     x.device.index or 0)
    attrs = (_Attr * 2)()
    attrs[0].id = _CLUSTER_DIMENSION
    attrs[0].value[0], attrs[0].value[1], attrs[0].value[2] = KSPLIT, 1, 1
    attrs[1].id = _PROGRAMMATIC_STREAM_SERIALIZATION
    attrs[1].value[0] = 1
    cfg = _Config()
    cfg.grid[:] = [-(-n // ROWS) * KSPLIT, 1, 1]
    cfg.block[:] = [128, 1, 1]
    cfg.smem = shared_bytes(stage, tmax)
    cfg.stream = torch.cuda.current_stream(x.device).cuda_stream
    cfg.attrs = attrs
    cfg.num_attrs = 2 if pdl else 1
    ptrs = [ctypes.c_void_p(v.data_ptr()) for v in (x, weight, mixed_qkv, z, b, a)]
    ints = [ctypes.c_int(t), ctypes.c_int(x.stride(0))]
    params = (ctypes.c_void_p * 8)(*[ctypes.cast(ctypes.byref(v), ctypes.c_void_p) for v in ptrs + ints])
    from torch.cuda import _utils

    lib = _utils._get_gpu_runtime_library()
    _utils._check_cuda(lib.cuLaunchKernelEx(ctypes.byref(cfg), kernel.func, params, None))
    return mixed_qkv, z, b, a
