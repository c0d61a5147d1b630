"""Every runtime kernel lowers to an sm_90 cubin on a machine without a GPU (the interpreter never compiles)."""

import os
import subprocess
import sys
from pathlib import Path

from runtime.compile_check import KERNELS, KernelSpec

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], tmp_path: Path, interpret: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env["TRITON_CACHE_DIR"] = str(tmp_path / "triton-cache")  # compile for real, not from a cache
    if interpret:
        env["TRITON_INTERPRET"] = "1"
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )


def test_every_runtime_kernel_compiles_for_sm90(tmp_path):
    proc = _run(["-m", "runtime.compile_check", "--arch", "90"], tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    for spec in KERNELS:
        assert any(line.split()[:3] == ["sm_90", spec.name, "ok"] for line in lines), spec.name
    assert f"{len(KERNELS)} compiled, 0 failed" in proc.stdout


def test_a_kernel_that_cannot_lower_is_reported(tmp_path):
    """Leaving out a block-size constexpr is a compile error: main() must name the kernel and fail."""
    code = (
        "import sys, runtime.compile_check as c\n"
        "bad = c.KERNELS[0]\n"
        "c.KERNELS[:] = [c.KernelSpec('broken.decode', bad.kernel, {k: v for k, v in bad.constexprs.items() if k != 'BV'},"
        " bad.pointers, bad.floats, bad.num_warps)]\n"
        "sys.exit(c.main([]))\n"
    )
    proc = _run(["-c", code], tmp_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "broken.decode" in proc.stdout and "FAILED" in proc.stdout
    assert "0 compiled, 1 failed" in proc.stdout


def test_refuses_to_run_under_the_interpreter(tmp_path):
    proc = _run(["-m", "runtime.compile_check"], tmp_path, interpret=True)
    assert proc.returncode == 2
    assert "TRITON_INTERPRET" in proc.stderr


def test_signature_types_arguments_by_role():
    def kernel(x_ptr, idx_ptr, scale, n, BLOCK):  # stands in for a JIT function's argument names
        pass

    kernel.arg_names = ["x_ptr", "idx_ptr", "scale", "n", "BLOCK"]
    spec = KernelSpec("k", kernel, {"BLOCK": 64}, {"idx_ptr": "i32"}, ("scale",))
    assert spec.signature(kernel) == {
        "x_ptr": "*fp32",
        "idx_ptr": "*i32",
        "scale": "fp32",
        "n": "i32",
        "BLOCK": "constexpr",
    }
