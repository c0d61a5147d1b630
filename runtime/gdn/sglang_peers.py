"""SGLang 0.5.23's own GDN kernels as benchmark peers: packed decode, ReplaySSM decode, target_verify with the state
scatter that accepts its drafts, and the ReplaySSM spec verify with its two commit steps (cursor advance, capacity
fold).

Loaded from the installed package's files by :mod:`runtime.sglang_files` (sglang's package ``__init__`` never
runs), with stand-ins for the few helpers their imports read, set to what SGLang computes on an NVIDIA GPU:
not HIP, the device's SM, programmatic dependent launch from sm_90, ``exp`` / ``input_guard`` from its fla port.
Nothing is copied from SGLang; when sglang is not installed, or a file is missing or fails to load,
:func:`load` returns ``None`` (or that entry ``None``) and the bench leaves the columns empty. The entry points:

- ``sglang/kernels/ops/attention/fla/fused_recurrent.py: fused_recurrent_gated_delta_rule_packed_decode``
- ``sglang/kernels/ops/attention/linear/fused_recurrent_linear_replayssm.py: fused_recurrent_linear_replayssm_decode``
- ``sglang/kernels/ops/attention/linear/fused_sigmoid_gating_recurrent.py: fused_sigmoid_gating_delta_rule_update``
- ``sglang/kernels/ops/attention/linear/gdn_replayssm_spec_decode.py: gdn_replayssm_spec_decode, commit_gdn_replayssm_spec, commit_gdn_replayssm_circular``
- ``sglang/kernels/ops/mamba/mamba_state_scatter_triton.py: fused_mamba_state_scatter_with_mask`` (the accept after
  target_verify: ``sglang/srt/layers/attention/hybrid_linear_attn_backend.py: HybridLinearAttnBackend.update_mamba_state_after_mtp_verify``
  reaches it through ``scatter_mamba_states_after_mtp_verify`` on CUDA)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from runtime import sglang_files

_SPEC = "kernels/ops/attention/linear/gdn_replayssm_spec_decode.py"
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
    "spec_verify": (_SPEC, "gdn_replayssm_spec_decode"),
    "spec_advance": (_SPEC, "commit_gdn_replayssm_spec"),
    "spec_fold": (_SPEC, "commit_gdn_replayssm_circular"),
    "target_accept": ("kernels/ops/mamba/mamba_state_scatter_triton.py", "fused_mamba_state_scatter_with_mask"),
}


@dataclass(frozen=True)
class SglangKernels:
    """Entry points of SGLang's packed decode, ReplaySSM decode, target-verify (``target_accept``: the scatter of each
    request's accepted intermediate state into the pool) and ReplaySSM spec-verify kernels (``spec_verify``, then
    ``spec_advance`` and ``spec_fold`` to commit), and where from."""

    root: Path
    version: str | None
    packed_decode: Callable | None
    replayssm_decode: Callable | None
    target_verify: Callable | None
    spec_verify: Callable | None
    spec_advance: Callable | None
    spec_fold: Callable | None
    target_accept: Callable | None


def _stand_ins() -> dict[str, dict[str, object]]:
    """What the kernel files import from the rest of sglang, answered for the local device."""
    import triton.language as tl

    cuda = torch.version.cuda is not None and torch.cuda.is_available()
    sm = torch.cuda.get_device_capability() if cuda else (0, 0)
    return {
        "sglang.kernels.jit.utils": {"is_arch_support_pdl": lambda: cuda and sm[0] >= 9},
        "sglang.srt.utils": {
            "get_device_sm": lambda: sm[0] * 10 + sm[1],
            "is_cuda": lambda: cuda,
            "is_hip": lambda: False,
            "is_gfx95_supported": lambda: False,
            "is_sm90_supported": lambda: cuda and sm[0] == 9,
        },
        "sglang.kernels.ops.attention.fla.op": {"exp": tl.exp},
        "sglang.kernels.ops.attention.fla.utils": {"input_guard": lambda fn: fn, "is_tf32_supported": cuda and sm[0] >= 8},
        "sglang.srt.utils.common": {"get_device_core_count": lambda device_id=0: (
            torch.cuda.get_device_properties(device_id).multi_processor_count if cuda else 0)},
        "sglang.kernels.ops.memory.ptr_table": {"make_ptr_table": _no_ptr_tables},
    }


def _no_ptr_tables(*args, **kwargs):
    """The state-scatter file's pointer tables serve its multi-layer conv-window paths, which no bench row runs."""
    raise NotImplementedError("SGLang's pointer tables are not stood in: the bench times one layer's state scatter")


def _entry(relpath: str, attr: str) -> Callable | None:
    try:
        module = sglang_files.load(relpath, _stand_ins())
    except (ImportError, AttributeError, SyntaxError, RuntimeError) as exc:
        print(f"  sglang peer {relpath} not loaded: {type(exc).__name__}: {str(exc)[:160]}")
        return None
    if module is None:
        print(f"  sglang peer {relpath} not found")
        return None
    return getattr(module, attr, None)


@functools.cache
def load() -> SglangKernels | None:
    """SGLang's kernels from the installed package, or ``None`` when sglang is not installed."""
    root = sglang_files.package_dir()
    if root is None:
        return None
    fns = {key: _entry(rel, attr) for key, (rel, attr) in _FILES.items()}
    return SglangKernels(root, sglang_files.version(), **fns)
