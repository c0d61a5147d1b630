"""SGLang 0.5.23's GDN projection kernels as installed, for the benchmark's baseline and the parity tests.

Loaded from their files by :mod:`runtime.sglang_files` with stand-ins for the few helpers their imports read,
set to what SGLang computes on an NVIDIA GPU: not HIP, no aiter, and programmatic dependent launch from sm_90
(``is_arch_support_pdl``). Each loader returns ``None`` when SGLang (or the file) is not installed. Loaded:
``sglang/kernels/ops/attention/triton_gdn_fused_proj.py: fused_qkvzba_split_reshape_cat, fused_qkvzba_split_reshape_cat_contiguous``,
``sglang/kernels/ops/attention/triton_gdn_fused_proj.py: qwen3_5_gdn_prefill_projection_views, fused_qkvzba_causal_conv1d_update_contiguous``,
``sglang/kernels/ops/mamba/causal_conv1d_triton.py: causal_conv1d_update``,
``sglang/srt/models/qwen3_next.py: Qwen3GatedDeltaNet._make_packed_weight_loader``.
"""

from __future__ import annotations

import ast
import types

import torch

from runtime import sglang_files

FUSED_PROJ = "kernels/ops/attention/triton_gdn_fused_proj.py"
CAUSAL_CONV1D = "kernels/ops/mamba/causal_conv1d_triton.py"


def fused_proj() -> types.ModuleType | None:
    """``fused_qkvzba_split_reshape_cat`` (interleaved), ``..._contiguous``, ``qwen3_5_gdn_prefill_projection_views``,
    ``fused_qkvzba_causal_conv1d_update_contiguous``."""
    envs = types.SimpleNamespace(SGLANG_USE_AITER=sglang_files.Flag(False))
    return sglang_files.load(
        FUSED_PROJ, {"sglang.srt.environ": {"envs": envs}, "sglang.srt.utils": {"is_hip": lambda: False}}
    )


def causal_conv1d() -> types.ModuleType | None:
    """The Triton ``causal_conv1d_update`` SGLang's GDN decode runs when the fused projection + conv path is off."""

    def pdl() -> bool:
        return torch.cuda.is_available() and torch.cuda.get_device_capability()[0] >= 9

    return sglang_files.load(CAUSAL_CONV1D, {"sglang.kernels.jit.utils": {"is_arch_support_pdl": pdl}})


QWEN3_NEXT_MODEL = "srt/models/qwen3_next.py"


def qwen3_next_packed_loader():
    """``Qwen3GatedDeltaNet._make_packed_weight_loader`` from the installed model file, compiled on its own
    (the module imports SGLang's whole serving stack): only that function's definition is taken from the file's
    syntax tree, with the two platform flags it reads set as on a CUDA machine. ``None`` when absent."""
    root = sglang_files.package_dir()
    path = root / QWEN3_NEXT_MODEL if root else None
    if path is None or not path.is_file():
        return None
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "_make_packed_weight_loader":
            node.decorator_list = []
            module = ast.Module(body=[node], type_ignores=[])
            namespace = {"_is_cpu": False, "_is_amx_available": False}
            exec(compile(module, str(path), "exec"), namespace)  # noqa: S102 - SGLang's own code, as installed
            return namespace[node.name]
    return None
