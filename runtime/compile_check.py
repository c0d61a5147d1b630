"""Compile every Triton kernel of the runtime lanes for a GPU architecture, without a GPU.

``python -m runtime.compile_check [--arch 90 ...]``. CI has no GPU and runs the kernels under
``TRITON_INTERPRET=1``, which executes their Python semantics but never runs Triton's compiler; a kernel
can pass every interpreted test and still fail to lower for the device. This module sends each kernel
through the full pipeline (front end, TTGIR, LLVM, PTX, ptxas) for the target at real Qwen3-Next sizes
and reports the cubin, or the compiler's error. It must run with ``TRITON_INTERPRET`` unset.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field

import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

from runtime.gdn import decode, deferred_decode, gated_norm, gating, ring_verify, verify
from runtime.gdn.naive import SOFTPLUS_THRESHOLD
from runtime.gdn.state_tile import launch_shape
from runtime.projections import context, gemm_split, gemv_mma, gemv_split, split_conv_kernel, split_kernel
from runtime.projections.naive import CONV_WIDTH, QWEN3_5_397B, QWEN3_NEXT_80B


@dataclass(frozen=True)
class KernelSpec:
    """One kernel at one representative configuration: pointer dtypes (default fp32), float scalars
    (default int32), constexpr values and launch options."""

    name: str
    kernel: object
    constexprs: dict[str, object]
    pointers: dict[str, str] = field(default_factory=dict)
    floats: tuple[str, ...] = ()
    num_warps: int = 4
    num_stages: int = 3
    descriptors: dict[str, str] = field(default_factory=dict)  # TMA descriptor arguments: their type strings
    aligned: tuple[str, ...] = ()  # integer arguments the launcher sees as multiples of 16 (row strides)

    def signature(self, fn) -> dict[str, str]:
        sig = {}
        for name in fn.arg_names:
            if name in self.descriptors:
                sig[name] = self.descriptors[name]
            elif name in self.constexprs:
                sig[name] = "constexpr"
            elif name.endswith("_ptr"):
                sig[name] = "*" + self.pointers.get(name, "fp32")
            else:
                sig[name] = "fp32" if name in self.floats else "i32"
        return sig


_POOL = (1, 32, 128, 128)  # [slots, HV, V, K] of Qwen3-Next-80B at TP1, 16 k-heads


def _pool_sizes(block_v: int) -> dict[str, object]:
    """The compile-time sizes the decode / verify wrappers pass, from the same helper they call."""
    return launch_shape(1, 16, _POOL, block_v)[1]


_GATE = {"THRESHOLD": SOFTPLUS_THRESHOLD}
_RING = {"L": 16, "LP": 16}
_VERIFY_IO = {"buf_idx_ptr": "i32", "fill_ptr": "i32"}
_ANY_ROWS = {"FLUSHING": False, "FORCED": False, "NO_FLUSH": False}  # one launch, any row
_RING_IO = {"fill_ptr": "i32", "flush_ptr": "i32", "next_fill_ptr": "i32", "order_ptr": "i32"}
_BF16_IO = {"qkv_ptr": "bf16", "a_ptr": "bf16", "b_ptr": "bf16", "out_ptr": "bf16", "idx_ptr": "i32"}
_SPLIT_SHAPE = {
    "NK": QWEN3_NEXT_80B.num_k_heads,
    "NV": QWEN3_NEXT_80B.num_v_heads,
    "DK": QWEN3_NEXT_80B.head_k,
    "DV": QWEN3_NEXT_80B.head_v,
    "INTERLEAVED": True,
}
_SPLIT_IO = {f"{n}_ptr": "bf16" for n in ("qkvz", "ba", "qkv", "z", "b", "a", "x", "w", "state", "bias")}
_GEMM_IO = _SPLIT_IO | {"count_ptr": "i32"}


def _gemm_spec(name: str, tokens: int, tp: int, tile_major: bool = False) -> KernelSpec:
    """``gemm_split`` at the launch it takes for Qwen3-Next at ``tokens`` and ``tp`` on an H100/H200 (reading the
    tile-major weight copy where ``tile_major``)."""
    rs = QWEN3_NEXT_80B.per_rank(tp)
    cfg = {"TMA": False, "TMA_X": False,
           **gemm_split.launch_config(tokens, rs.qkvz_width + rs.ba_width, rs.hidden, 132, tile_major=tile_major)}
    stages, warps = cfg.pop("num_stages"), cfg.pop("num_warps")
    shape = _SPLIT_SHAPE | {"NK": rs.num_k_heads, "NV": rs.num_v_heads, "K": rs.hidden, "PRECISION": "tf32"}
    boxes = {"w_desc": ("TMA", "BLOCK_N"), "x_desc": ("TMA_X", "BLOCK_M")}
    descs = {d: f"tensordesc<bf16[{cfg[rows]},{cfg['BLOCK_K']}]>" for d, (flag, rows) in boxes.items() if cfg[flag]}
    absent = {d: None for d in boxes if d not in descs}
    return KernelSpec(name, gemm_split._gemm_split_kernel, shape | cfg | absent | {"USE_PDL": True}, _GEMM_IO,
                      descriptors=descs, aligned=("x_stride",), num_warps=warps, num_stages=stages)


def _gemv_config(tokens: int, tp: int) -> dict[str, int]:
    """The launch ``gemv_split`` takes for Qwen3-Next at ``tokens`` and ``tp``."""
    rs = QWEN3_NEXT_80B.per_rank(tp)
    return gemv_split.launch_config(tokens, rs.qkvz_width + rs.ba_width, rs.hidden)


def _gemv_mma_config(tokens: int, tp: int) -> dict[str, int]:
    """The launch ``gemv_mma`` takes for Qwen3-Next at ``tokens`` and ``tp`` on 132 SMs (H100/H200)."""
    rs = QWEN3_NEXT_80B.per_rank(tp)
    cfg = gemv_mma.launch_config(tokens, rs.qkvz_width + rs.ba_width, rs.hidden, 132)
    return cfg | {"SUB": cfg["num_warps"]}


_SPLIT_CONV_SHAPE = {
    "QKV": QWEN3_5_397B.qkv_width,
    "VD": QWEN3_5_397B.value_dim,
    "NV": QWEN3_5_397B.num_v_heads,
    "W": CONV_WIDTH,
    "HAS_BIAS": False,
    "SILU": True,
    "BLOCK": split_conv_kernel.BLOCK,
    "BLOCK_HV": QWEN3_5_397B.num_v_heads,
    "USE_PDL": True,
}

KERNELS = [
    KernelSpec(
        "gdn.decode", decode._packed_decode_kernel,
        _pool_sizes(4), _BF16_IO, ("scale",), num_warps=1,
    ),
    KernelSpec(
        "gdn.deferred_decode", deferred_decode._deferred_decode_kernel,
        _pool_sizes(32) | _RING | _ANY_ROWS | {"BR": 8, "HAS_FLUSH": True, "HAS_ORDER": True, "FLUSH_ALL": False, "WRITE_FILL": True, "PIPELINE": True},
        _BF16_IO | _RING_IO, ("scale",), num_warps=1,
    ),
    KernelSpec(  # the split step (step_config(..., split=True)): the other rows' launch, no flush path
        "gdn.deferred_decode.deferred_rows", deferred_decode._deferred_decode_kernel,
        _pool_sizes(64) | _RING | _ANY_ROWS | {"NO_FLUSH": True, "BR": 8, "HAS_FLUSH": True, "HAS_ORDER": True,
                                             "FLUSH_ALL": False, "WRITE_FILL": True, "PIPELINE": True},
        _BF16_IO | _RING_IO, ("scale",), num_warps=1,
    ),
    KernelSpec(  # the split step's flushing rows' launch below 8192 heads (SPLIT_FLUSH_TILE: 8-row programs, unrolled)
        "gdn.deferred_decode.flushing_rows", deferred_decode._deferred_decode_kernel,
        _pool_sizes(8) | _RING | _ANY_ROWS | {"FLUSHING": True, "BR": 8, "HAS_FLUSH": True, "HAS_ORDER": True,
                                            "FLUSH_ALL": False, "WRITE_FILL": True, "PIPELINE": False},
        _BF16_IO | _RING_IO, ("scale",), num_warps=1,
    ),
    KernelSpec(  # the split step's flushing rows' launch from 8192 heads (WIDE_FLUSH_TILES: wide programs, the loop)
        "gdn.deferred_decode.forced_rows", deferred_decode._deferred_decode_kernel,
        _pool_sizes(64) | _RING | _ANY_ROWS | {"FORCED": True, "BR": 8, "HAS_FLUSH": True, "HAS_ORDER": True,
                                             "FLUSH_ALL": False, "WRITE_FILL": True, "PIPELINE": False},
        _BF16_IO | _RING_IO, ("scale",), num_warps=1,
    ),
    KernelSpec(
        "gdn.deferred_decode.in_place", deferred_decode._deferred_decode_kernel,
        _pool_sizes(4) | _RING | _ANY_ROWS | {"BR": 4, "HAS_FLUSH": False, "HAS_ORDER": False, "FLUSH_ALL": True, "WRITE_FILL": False, "PIPELINE": True},
        _BF16_IO | _RING_IO, ("scale",), num_warps=1,
    ),
    KernelSpec(
        "gdn.deferred_decode.fold", deferred_decode._fold_kernel,
        {k: v for k, v in _pool_sizes(deferred_decode.FOLD_TILE[0]).items() if k in ("H", "HV", "K", "V", "BK", "BV")}
        | _RING,
        {"idx_ptr": "i32", "fill_ptr": "i32"}, num_warps=deferred_decode.FOLD_TILE[1],
    ),
    KernelSpec(
        "gdn.verify", verify._verify_kernel,
        _pool_sizes(4) | {"L": 1, "LP": 16, "HAS_RING": False, "UNROLL": False, "RECORD": False, "TM": 1, "T": 4}, _BF16_IO | _VERIFY_IO, ("scale",),
        num_warps=1,
    ),
    KernelSpec(
        "gdn.verify.ring", verify._verify_kernel,
        _pool_sizes(4) | _RING | {"HAS_RING": True, "UNROLL": False, "RECORD": False, "TM": 1, "T": 4},
        _BF16_IO | _VERIFY_IO, ("scale",), num_warps=1,
    ),
    KernelSpec(
        "gdn.verify.records", verify._verify_kernel,
        _pool_sizes(4) | _RING | {"HAS_RING": True, "UNROLL": False, "RECORD": True, "TM": 4, "T": 4},
        _BF16_IO | _VERIFY_IO, ("scale",), num_warps=1,
    ),
    KernelSpec(
        "gdn.verify.records.unrolled", verify._verify_kernel,
        _pool_sizes(16) | _RING | {"HAS_RING": True, "UNROLL": True, "RECORD": True, "TM": 4, "T": 4},
        _BF16_IO | _VERIFY_IO, ("scale",), num_warps=2,
    ),
    KernelSpec(
        "gdn.ring_verify", ring_verify._ring_verify_kernel,
        _pool_sizes(128) | _RING | {"BR": 16, "TM": 4, "T": 4, "TP": 4, "VP": 16, "PREFETCH": True},
        _BF16_IO | _VERIFY_IO | {"rec_idx_ptr": "i32"}, ("scale",), num_warps=1, num_stages=3,
    ),
    KernelSpec(
        "gdn.verify.commit_records", verify._commit_records_kernel,
        {k: v for k, v in _pool_sizes(8).items() if k in ("H", "HV", "K", "V", "BK", "BV")}
        | _RING | {"TM": 4, "TMP": 16, "WRITE_FILL": True},
        {"idx_ptr": "i32", "fill_ptr": "i32", "rec_idx_ptr": "i32", "step_ptr": "i32", "next_fill_ptr": "i32"},
        num_warps=1,
    ),
    KernelSpec(
        "gdn.verify.commit_records.products", verify._commit_products_kernel,
        {k: v for k, v in _pool_sizes(64).items() if k in ("H", "HV", "K", "V", "BK", "BV")}
        | {"BR": 16, "L": 16, "TM": 4, "TMP": 16, "JP": 32, "WRITE_FILL": True},
        {"idx_ptr": "i32", "fill_ptr": "i32", "rec_idx_ptr": "i32", "step_ptr": "i32", "next_fill_ptr": "i32"},
    ),
    KernelSpec(
        "gdn.verify.commit", verify._commit_kernel,
        {k: v for k, v in _pool_sizes(32).items() if k in ("HV", "K", "V", "BK", "BV")},
        {"idx_ptr": "i32", "buf_idx_ptr": "i32", "step_ptr": "i32"},
    ),
    KernelSpec(
        "gdn.gating", gating._gating_kernel,
        _GATE | {"HV": 32, "BH": 32, "BT": 16}, {"a_ptr": "bf16", "b_ptr": "bf16"},
    ),
    KernelSpec(
        "gdn.gated_norm", gated_norm._gated_rmsnorm_kernel,
        {"G": 32, "D": 128, "BD": 128, "BR": 8}, {"x_ptr": "bf16", "z_ptr": "bf16", "y_ptr": "bf16"}, ("eps",),
        num_warps=8,
    ),
    KernelSpec(
        "projections.split", split_kernel._split_qkvzba_kernel,
        _SPLIT_SHAPE | {"VEC": 8, "BLOCK_T": 1, "BLOCK_C": 512, "BLOCK_HV": 32}, _SPLIT_IO,
    ),
    _gemm_spec("projections.gemm_split.tp4.t8", 8, tp=4),
    _gemm_spec("projections.gemm_split.tp1.t128", 128, tp=1),
    _gemm_spec("projections.gemm_splitk.tp8.t8", 8, tp=8),
    _gemm_spec("projections.gemm_split.tiles.tp1.t32", 32, tp=1, tile_major=True),
    _gemm_spec("projections.gemm_split.tiles.tp4.t32", 32, tp=4, tile_major=True),
    _gemm_spec("projections.gemm_split.tiles.tp4.t128", 128, tp=4, tile_major=True),
    _gemm_spec("projections.gemm_split.tiles.tp1.t128", 128, tp=1, tile_major=True),
    *[
        KernelSpec(
            f"projections.gemv_split.tp{tp}.t{t}", gemv_split._gemv_split_kernel,
            _SPLIT_SHAPE | {"NK": 16 // tp, "NV": 32 // tp, "K": QWEN3_NEXT_80B.hidden, "BLOCK_T": t, "USE_PDL": True}
            | {k: v for k, v in _gemv_config(t, tp).items() if k != "num_warps"},
            _SPLIT_IO, num_warps=_gemv_config(t, tp)["num_warps"],
        )
        for tp, t in ((1, 1), (4, 4))
    ],
    *[
        KernelSpec(
            f"projections.gemv_mma.tp{tp}.t{t}", gemv_mma._gemv_mma_kernel,
            _SPLIT_SHAPE | {"NK": 16 // tp, "NV": 32 // tp, "K": QWEN3_NEXT_80B.hidden, "USE_PDL": True,
                            "PRECISION": "tf32"}  # what the launcher passes for 16-bit inputs
            | {k: v for k, v in _gemv_mma_config(t, tp).items() if k != "num_warps"},
            _SPLIT_IO, num_warps=_gemv_mma_config(t, tp)["num_warps"], aligned=("x_stride",),
        )
        for tp, t in ((4, 4), (8, 16))
    ],
    KernelSpec(
        "projections.split_conv", split_conv_kernel._split_conv_kernel,
        _SPLIT_CONV_SHAPE, _SPLIT_IO | {"idx_ptr": "i32"}, num_warps=split_conv_kernel.NUM_WARPS,
    ),
    KernelSpec(
        "projections.split_conv.pairs", split_conv_kernel._split_conv_pairs_kernel,
        {k: v for k, v in _SPLIT_CONV_SHAPE.items() if k not in ("W", "BLOCK")}
        | {"BLOCK_P": split_conv_kernel.PAIRS_BLOCK // 2},
        _SPLIT_IO | {"idx_ptr": "i32"}, num_warps=split_conv_kernel.PAIRS_WARPS, aligned=("qkvz_stride",),
    ),
    KernelSpec(  # the bench's stand-in for the layer's input norm (in-context timing)
        "projections.context.norm", context._gemma_add_rmsnorm_kernel,
        {"N": QWEN3_NEXT_80B.hidden, "BLOCK": QWEN3_NEXT_80B.hidden, "USE_PDL": True},
        {"x_ptr": "bf16", "res_ptr": "bf16", "w_ptr": "bf16", "y_ptr": "bf16", "s_ptr": "bf16"}, floats=("eps",),
    ),
]


def compile_kernel(spec: KernelSpec, arch: int) -> dict:
    """Compile ``spec`` for ``sm_<arch>``; returns sizes from the compiled kernel's metadata."""
    fn = spec.kernel
    names = list(fn.arg_names)
    signature = spec.signature(fn)
    # pointers 16-byte aligned (and the named row strides multiples of 16), as torch allocates them and as the
    # launcher specializes them: without it the loads lower to scalar ones and Triton does not pipeline them, so
    # shared memory would read far too low
    aligned = {(i,): [["tt.divisibility", 16]] for i, name in enumerate(names)
               if signature[name].startswith("*") or name in spec.aligned}
    src = ASTSource(
        fn=fn,
        signature=signature,
        constexprs={(names.index(k),): v for k, v in spec.constexprs.items()},
        attrs=aligned,
    )
    kernel = triton.compile(
        src,
        target=GPUTarget("cuda", arch, 32),
        options={"num_warps": spec.num_warps, "num_stages": spec.num_stages},
    )
    return {"cubin_bytes": len(kernel.asm["cubin"]), "shared_bytes": kernel.metadata.shared}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", type=int, nargs="+", default=[90], help="compute capabilities (90: H100/H200)")
    args = parser.parse_args(argv)
    if os.environ.get("TRITON_INTERPRET", "0") not in ("", "0"):
        print("unset TRITON_INTERPRET: the interpreter replaces the compiler this check exercises", file=sys.stderr)
        return 2
    failed = 0
    for arch in args.arch:
        for spec in KERNELS:
            try:
                info = compile_kernel(spec, arch)
            except Exception as exc:  # noqa: BLE001 - any compiler failure is the finding
                failed += 1
                print(f"sm_{arch}  {spec.name:24s}  FAILED: {type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
                continue
            print(
                f"sm_{arch}  {spec.name:24s}  ok  cubin {info['cubin_bytes']:>7d} B  "
                f"shared {info['shared_bytes']:>6d} B"
            )
    print(f"{len(KERNELS) * len(args.arch) - failed} compiled, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
