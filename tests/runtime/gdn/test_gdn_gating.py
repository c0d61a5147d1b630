"""Fused GDN gating kernel (#12508) against the fp32 reference."""

import pytest
import torch

from runtime.gdn import naive
from runtime.gdn.gating import fused_gating

from ._gdn_cases import DEVICE, gen, nan_like, randn

CASES = [
    pytest.param(1, 4, id="T1-HV4"),
    pytest.param(37, 6, id="T37-HV6"),
    pytest.param(300, 32, id="T300-HV32"),
    pytest.param(1, 32, id="T1-HV32-gpu", marks=pytest.mark.gpu),
    pytest.param(256, 32, id="T256-HV32-gpu", marks=pytest.mark.gpu),
    pytest.param(16384, 32, id="T16384-HV32-gpu", marks=pytest.mark.gpu),
    pytest.param(16384, 8, id="T16384-HV8-gpu", marks=pytest.mark.gpu),
]


@pytest.mark.parametrize("T,HV", CASES)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float32], ids=["bf16", "fp32"])
def test_fused_gating_matches_reference(T, HV, dtype, parity):
    """g and beta (fp32) within 1e-5 relative / 1e-6 absolute of naive.gdn_gating; every output written.

    ``a`` spans [-45, 45] so both sides of the softplus threshold (20) are hit; ``a`` and ``b`` are
    strided column slices of one [T, 3 HV] projection output, as in the model.
    """
    g0 = gen(10 + T + HV)
    proj = randn(T, 3 * HV, gen=g0, dtype=dtype, scale=15.0)
    a, b = proj[:, :HV], proj[:, 2 * HV :]
    A_log, dt_bias = randn(HV, gen=g0), randn(HV, gen=g0)
    out = (nan_like((T, HV)), nan_like((T, HV)))
    g, beta = fused_gating(a, b, A_log, dt_bias, out=out)
    assert g is out[0] and beta is out[1]
    g_ref, beta_ref = naive.gdn_gating(a, b, A_log, dt_bias)
    torch.testing.assert_close(g, g_ref, rtol=1e-5, atol=1e-6)
    parity("gating g", g, g_ref, 1e-5)
    torch.testing.assert_close(beta, beta_ref, rtol=1e-5, atol=1e-6)
    parity("gating beta", beta, beta_ref, 1e-5)


@pytest.mark.parametrize("block_t", [1, 4, 64])
def test_fused_gating_block_sizes(block_t):
    """Any tokens-per-program choice gives the same result, including partial last blocks."""
    g0 = gen(11)
    a, b = randn(45, 6, gen=g0, scale=5.0), randn(45, 6, gen=g0)
    A_log, dt_bias = randn(6, gen=g0), randn(6, gen=g0)
    g, beta = fused_gating(a, b, A_log, dt_bias, block_t=block_t)
    g_ref, beta_ref = naive.gdn_gating(a, b, A_log, dt_bias)
    torch.testing.assert_close(g, g_ref, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(beta, beta_ref, rtol=1e-5, atol=1e-6)


def test_fused_gating_rejects_bad_shapes():
    a = torch.randn(4, 8, device=DEVICE)
    with pytest.raises(ValueError):
        fused_gating(a, a[:, :4], torch.zeros(8, device=DEVICE), torch.zeros(8, device=DEVICE))
    with pytest.raises(ValueError):
        fused_gating(a.t(), a.t(), torch.zeros(4, device=DEVICE), torch.zeros(4, device=DEVICE))
