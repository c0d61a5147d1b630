"""Compile every Triton kernel of the runtime lanes for a GPU architecture, without a GPU.

``python -m runtime.compile_check [--arch 90 ...]``. CI has no GPU and runs the kernels under
``TRITON_INTERPRET=1``, which executes their Python semantics but never runs Triton's compiler; a kernel
can pass every interpreted test and still fail to lower for the device. This module sends each kernel
through the full pipeline (front end, TTGIR, LLVM, PTX, ptxas) for the target at real Qwen3-Next sizes
and reports the cubin, or the compiler's error. It must run with ``TRITON_INTERPRET`` unset.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource


@dataclass(frozen=True)
class KernelSpec:
    """One kernel at one representative configuration: pointer dtypes (default fp32), float scalars
    (default int32), constexpr values and launch options."""

    name: str
    load: Callable[[], object]
    constexprs: dict[str, object]
    pointers: dict[str, str] = field(default_factory=dict)
    floats: tuple[str, ...] = ()
    num_warps: int = 4
    num_stages: int = 3

    def signature(self, fn) -> dict[str, str]:
        sig = {}
        for name in fn.arg_names:
            if name in self.constexprs:
                sig[name] = "constexpr"
            elif name.endswith("_ptr"):
                sig[name] = "*" + self.pointers.get(name, "fp32")
            else:
                sig[name] = "fp32" if name in self.floats else "i32"
        return sig


def _kernel(module: str, name: str) -> Callable[[], object]:
    """Import ``runtime.<module>.<name>`` when the check runs (not at import: TRITON_INTERPRET is read then)."""
    return lambda: getattr(importlib.import_module(f"runtime.{module}"), name)


_HEADS = {"H": 16, "HV": 32, "K": 128, "V": 128, "BK": 128}  # Qwen3-Next-80B, TP1
_GATE = {"THRESHOLD": 20.0}
_BF16_IO = {"qkv_ptr": "bf16", "a_ptr": "bf16", "b_ptr": "bf16", "out_ptr": "bf16", "idx_ptr": "i32"}
_SPLIT_SHAPE = {"NK": 16, "NV": 32, "DK": 128, "DV": 128, "INTERLEAVED": True}
_SPLIT_IO = {f"{n}_ptr": "bf16" for n in ("qkvz", "ba", "qkv", "z", "b", "a", "x", "w")}

KERNELS = [
    KernelSpec(
        "gdn.decode", _kernel("gdn.decode", "_packed_decode_kernel"),
        _HEADS | _GATE | {"BV": 4, "EPS": 1e-6}, _BF16_IO, ("scale",), num_warps=1,
    ),
    KernelSpec(
        "gdn.verify", _kernel("gdn.verify", "_verify_kernel"),
        _HEADS | _GATE | {"BV": 32, "EPS": 1e-6}, _BF16_IO | {"buf_idx_ptr": "i32"}, ("scale",),
    ),
    KernelSpec(
        "gdn.verify.commit", _kernel("gdn.verify", "_commit_kernel"),
        {"HV": 32, "K": 128, "V": 128, "BK": 128, "BV": 32},
        {"idx_ptr": "i32", "buf_idx_ptr": "i32", "step_ptr": "i32"},
    ),
    KernelSpec(
        "gdn.gating", _kernel("gdn.gating", "_gating_kernel"),
        _GATE | {"HV": 32, "BH": 32, "BT": 16}, {"a_ptr": "bf16", "b_ptr": "bf16"},
    ),
    KernelSpec(
        "gdn.gated_norm", _kernel("gdn.gated_norm", "_gated_rmsnorm_kernel"),
        {"G": 32, "D": 128, "BD": 128, "BR": 8}, {"x_ptr": "bf16", "z_ptr": "bf16", "y_ptr": "bf16"}, ("eps",),
        num_warps=8,
    ),
    KernelSpec(
        "projections.split", _kernel("projections.split_kernel", "_split_qkvzba_kernel"),
        _SPLIT_SHAPE | {"VEC": 8, "BLOCK_T": 1, "BLOCK_C": 512, "BLOCK_HV": 32}, _SPLIT_IO,
    ),
    KernelSpec(
        "projections.gemm_split", _kernel("projections.gemm_split", "_gemm_split_kernel"),
        _SPLIT_SHAPE | {"K": 2048, "PRECISION": "tf32", "BLOCK_M": 64, "BLOCK_N": 64, "BLOCK_K": 64}, _SPLIT_IO,
        num_stages=4,
    ),
]


def compile_kernel(spec: KernelSpec, arch: int) -> dict:
    """Compile ``spec`` for ``sm_<arch>``; returns sizes from the compiled kernel's metadata."""
    fn = spec.load()
    names = list(fn.arg_names)
    src = ASTSource(
        fn=fn,
        signature=spec.signature(fn),
        constexprs={(names.index(k),): v for k, v in spec.constexprs.items()},
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
