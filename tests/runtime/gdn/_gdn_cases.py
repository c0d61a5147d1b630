"""Shapes and fresh random inputs shared by the GDN kernel tests (never zeros; poison helpers)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
import torch

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


@dataclass(frozen=True)
class Shape:
    H: int
    HV: int
    K: int
    V: int

    @property
    def qkv_dim(self) -> int:
        return 2 * self.H * self.K + self.HV * self.V


TINY = Shape(H=1, HV=2, K=16, V=16)  # long CPU runs: the interpreter costs ~10 ms per program
SMALL = Shape(H=2, HV=4, K=16, V=32)
ODD = Shape(H=3, HV=6, K=24, V=40)  # non-power-of-two heads and dims: exercises every mask
TP4 = Shape(H=4, HV=8, K=128, V=128)  # Qwen3-Next-80B GDN per rank at TP4
TP1 = Shape(H=16, HV=32, K=128, V=128)

SHAPES = [
    pytest.param(SMALL, id="small"),
    pytest.param(ODD, id="odd"),
    pytest.param(TP4, id="tp4", marks=pytest.mark.gpu),
    pytest.param(TP1, id="tp1", marks=pytest.mark.gpu),
]


def gen(seed: int) -> torch.Generator:
    return torch.Generator(device=DEVICE).manual_seed(seed)


def randn(
    *shape: int, gen: torch.Generator, dtype: torch.dtype = torch.float32, scale: float = 1.0
) -> torch.Tensor:
    return (torch.randn(*shape, generator=gen, device=DEVICE) * scale).to(dtype)


def params(s: Shape, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``A_log`` as Qwen3-Next initialises it (log of U(1, 16)) and a random ``dt_bias``."""
    A = 1.0 + 15.0 * torch.rand(s.HV, generator=gen, device=DEVICE)
    return torch.log(A), randn(s.HV, gen=gen)


def step_inputs(
    s: Shape, rows: int, gen: torch.Generator, dtype: torch.dtype = torch.bfloat16
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``mixed_qkv [rows, 2HK + HV V]``, ``a, b [rows, HV]``; ``a`` shifted so decays stay informative."""
    return (
        randn(rows, s.qkv_dim, gen=gen, dtype=dtype),
        randn(rows, s.HV, gen=gen, dtype=dtype) - 2.0,
        randn(rows, s.HV, gen=gen, dtype=dtype),
    )


def pool(s: Shape, slots: int, gen: torch.Generator) -> torch.Tensor:
    """A ``[slots, HV, V, K]`` fp32 pool of random states."""
    return randn(slots, s.HV, s.V, s.K, gen=gen, scale=0.5)


def strided_pool(s: Shape, slots: int, gen: torch.Generator) -> torch.Tensor:
    """A pool that is a view: layer 1 of a two-layer buffer whose rows are padded past ``K``."""
    big = randn(2, slots, s.HV, s.V, s.K + 8, gen=gen, scale=0.5)
    view = big[1, :, :, :, : s.K]
    assert not view.is_contiguous() and view.stride(-1) == 1
    return view


def slot_indices(batch: int, slots: int, gen: torch.Generator, padding: int = 0) -> torch.Tensor:
    """Distinct random non-contiguous slots for ``batch`` rows; ``padding`` random rows set to -1."""
    idx = torch.randperm(slots, generator=gen, device=DEVICE)[:batch].to(torch.int32)
    if padding:
        idx[torch.randperm(batch, generator=gen, device=DEVICE)[:padding]] = -1
    return idx


def nan_like(shape: tuple[int, ...], dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.full(shape, math.nan, dtype=dtype, device=DEVICE)


def rel_err(x: torch.Tensor, ref: torch.Tensor) -> float:
    """``||x - ref|| / ||ref||`` in float64; NaN anywhere never passes."""
    x, ref = x.double(), ref.double()
    if torch.isnan(x).any():
        return math.inf
    return ((x - ref).norm() / ref.norm().clamp_min(1e-30)).item()


def load_fla_module(name: str):
    """Import a fla-core module or skip the test (fla is optional; the GPU run carries its wheel)."""
    return pytest.importorskip(name, reason="fla-core not installed")
