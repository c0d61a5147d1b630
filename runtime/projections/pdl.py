"""Programmatic dependent launch (PDL) arguments shared by the projection kernels."""

from __future__ import annotations

import torch


def pdl_launch(x: torch.Tensor, pdl: bool | None) -> dict:
    """Kernel arguments for programmatic dependent launch: on by default on Hopper and later (``pdl=None``),
    never off the GPU (the interpreter has no grid dependencies). With it a kernel launches while the previous
    one in the stream drains and waits (``gdc_wait``) before it reads anything that kernel may write."""
    if pdl is None:
        pdl = x.is_cuda and torch.cuda.get_device_capability(x.device)[0] >= 9
    return {"USE_PDL": True, "launch_pdl": True} if pdl else {"USE_PDL": False}
