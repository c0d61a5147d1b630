"""SGLang's own GDN kernels as benchmark peers, loaded from the installed package's module files.

sglang's package ``__init__`` pulls in its serving stack, so the three kernel modules are executed straight
from their files (``importlib`` from the path ``find_spec`` reports, which imports nothing), with the few
names they import from elsewhere in sglang provided here: device-capability checks and ``exp`` /
``input_guard`` from its fla port. Nothing is copied from SGLang; when sglang is not installed, or a file is
missing or fails to load, :func:`load` returns ``None`` and the bench leaves the columns empty.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

_FILES = {
    "packed_decode": ("kernels/ops/attention/fla/fused_recurrent.py", "fused_recurrent_gated_delta_rule_packed_decode"),
    "replayssm_decode": (
        "kernels/ops/attention/linear/fused_recurrent_linear_replayssm.py",
        "fused_recurrent_linear_replayssm_decode",
    ),
    "target_verify": (
        "kernels/ops/attention/linear/fused_sigmoid_gating_recurrent.py",
        "fused_sigmoid_gating_delta_rule_update",
    ),
}


@dataclass(frozen=True)
class SglangKernels:
    """Entry points of SGLang's packed decode, ReplaySSM decode and target-verify kernels, and where from."""

    root: Path
    version: str | None
    packed_decode: Callable | None
    replayssm_decode: Callable | None
    target_verify: Callable | None


def sglang_root() -> Path | None:
    """The installed ``sglang`` package directory, found without importing it."""
    spec = importlib.util.find_spec("sglang")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _capability() -> tuple[int, int]:
    return torch.cuda.get_device_capability() if torch.cuda.is_available() else (0, 0)


def _provide(name: str, **attrs: object) -> None:
    """Register a stand-in module under ``name`` (and its parents) unless the real one is already loaded."""
    parts = name.split(".")
    for i in range(1, len(parts) + 1):
        sys.modules.setdefault(".".join(parts[:i]), types.ModuleType(".".join(parts[:i])))
    for key, value in attrs.items():
        setattr(sys.modules[name], key, value)


def _provide_imports() -> None:
    """What the three kernel files import from the rest of sglang, answered for the local device."""
    import triton.language as tl

    sm = _capability()
    cuda = torch.version.cuda is not None and torch.cuda.is_available()
    _provide("sglang.kernels.jit.utils", is_arch_support_pdl=lambda: cuda and sm[0] >= 9)
    _provide(
        "sglang.srt.utils",
        get_device_sm=lambda: sm[0] * 10 + sm[1],
        is_cuda=lambda: cuda,
        is_hip=lambda: False,
        is_gfx95_supported=lambda: False,
        is_sm90_supported=lambda: cuda and sm[0] == 9,
    )
    _provide("sglang.kernels.ops.attention.fla.op", exp=tl.exp)
    _provide("sglang.kernels.ops.attention.fla.utils", input_guard=lambda fn: fn)


def _load_file(path: Path, attr: str) -> Callable | None:
    name = "_sglang_peer_" + path.stem
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # triton's jit resolves a kernel's globals through its module
        spec.loader.exec_module(module)
        return getattr(module, attr)
    except (OSError, ImportError, AttributeError, SyntaxError, RuntimeError) as exc:
        print(f"  sglang peer {path.name} not loaded: {type(exc).__name__}: {str(exc)[:160]}")
        return None


@functools.cache
def load() -> SglangKernels | None:
    """SGLang's kernels from the installed package, or ``None`` when sglang is not installed."""
    root = sglang_root()
    if root is None:
        return None
    _provide_imports()
    try:
        version = importlib.metadata.version("sglang")
    except importlib.metadata.PackageNotFoundError:
        version = None
    fns = {key: _load_file(root / rel, attr) for key, (rel, attr) in _FILES.items()}
    return SglangKernels(root, version, **fns)
