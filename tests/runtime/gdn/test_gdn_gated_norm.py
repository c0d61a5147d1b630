"""Gated RMSNorm kernel, many rows per program (#19434), against the fp32 reference."""

import pytest
import torch

from runtime.gdn import naive
from runtime.gdn.gated_norm import gated_rmsnorm

from ._gdn_cases import gen, nan_like, randn

CASES = [
    pytest.param(1, 4, 32, id="T1-G4-D32"),
    pytest.param(37, 6, 40, id="T37-G6-D40"),
    pytest.param(64, 4, 128, id="T64-G4-D128"),
    pytest.param(1, 32, 128, id="T1-G32-gpu", marks=pytest.mark.gpu),
    pytest.param(256, 32, 128, id="T256-G32-gpu", marks=pytest.mark.gpu),
    pytest.param(16384, 32, 128, id="T16384-G32-gpu", marks=pytest.mark.gpu),
]


@pytest.mark.parametrize("T,G,D", CASES)
def test_gated_rmsnorm_bf16(T, G, D, parity):
    """bf16 in/out: ||y - ref|| / ||ref|| < 4e-3 (bf16 output rounding); each element within 2^-7 relative.

    ``x`` is the contiguous [T, G, D] attention output; ``z`` is a strided view into a wider
    [T, G*D + 64] projection output, as in the model.
    """
    g0 = gen(20 + T + G)
    x = randn(T, G, D, gen=g0, dtype=torch.bfloat16, scale=3.0)
    z = randn(T, G * D + 64, gen=g0, dtype=torch.bfloat16)[:, 64:].view(T, G, D)
    w = randn(D, gen=g0)
    out = nan_like((T, G, D), torch.bfloat16)
    y = gated_rmsnorm(x, z, w, out=out)
    assert y is out
    ref = naive.gated_rmsnorm(x, z, w)
    parity("gated rmsnorm bf16", y, ref, 4e-3)
    assert ((y.float() - ref).abs() <= 2**-7 * ref.abs() + 1e-6).all()


@pytest.mark.parametrize("block_rows", [1, 8, 32])
def test_gated_rmsnorm_fp32_rows_per_program(block_rows):
    """fp32 in/out, 2-D input, partial last tile: within 1e-5 relative of the reference for any tile."""
    g0 = gen(21)
    x, z = randn(77, 48, gen=g0), randn(77, 48, gen=g0)
    w = randn(48, gen=g0)
    y = gated_rmsnorm(x, z, w, out=nan_like((77, 48)), block_rows=block_rows)
    torch.testing.assert_close(y, naive.gated_rmsnorm(x, z, w), rtol=1e-5, atol=1e-6)
