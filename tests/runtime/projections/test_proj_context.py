"""The bench's stand-in for the norm before the projection (sgl_kernel's ``gemma_fused_add_rmsnorm``): the Triton kernel
against the plain PyTorch reference on fresh random inputs (TRITON_INTERPRET=1 on CPU at small sizes) and the
in-place contract."""

import pytest
import torch

from runtime.projections import context

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
# bf16 outputs: one rounding of values near 1 (2^-8 relative); fp32: summation order only
TOL = {torch.float32: 1e-5, torch.bfloat16: 1e-2}


def _rel(got, want) -> float:
    return ((got.float() - want.float()).norm() / want.float().norm()).item()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
@pytest.mark.parametrize(("t", "hidden"), [(1, 64), (3, 96), (5, 128)])
def test_norm_kernel_matches_reference(dtype, t, hidden):
    g = torch.Generator().manual_seed(t * hidden)
    x = (torch.randn(t, hidden, generator=g) * 3).to(dtype).to(DEVICE)
    residual = torch.randn(t, hidden, generator=g).to(dtype).to(DEVICE)
    weight = (torch.randn(hidden, generator=g) * 0.1).to(dtype).to(DEVICE)
    want_y, want_s = context.gemma_add_rmsnorm_reference(x, residual, weight)
    context.gemma_add_rmsnorm(x, residual, weight)
    assert not x.isnan().any() and not residual.isnan().any()
    assert _rel(x, want_y) < TOL[dtype] and _rel(residual, want_s) < TOL[dtype]
    assert not torch.equal(x, want_s.to(dtype))  # the output is normalised, not the sum


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
def test_norm_out_of_place_leaves_its_inputs(dtype):
    """``out`` / ``residual_out``: the same values as in place, written there; x and the residual unchanged."""
    g = torch.Generator().manual_seed(11)
    x, residual = ((torch.randn(3, 96, generator=g) * 2).to(dtype).to(DEVICE) for _ in range(2))
    weight = (torch.randn(96, generator=g) * 0.1).to(dtype).to(DEVICE)
    x0, r0 = x.clone(), residual.clone()
    y, s = torch.full_like(x, float("nan")), torch.full_like(x, float("nan"))
    context.gemma_add_rmsnorm(x, residual, weight, out=y, residual_out=s)
    want_y, want_s = context.gemma_add_rmsnorm_reference(x0, r0, weight)
    assert torch.equal(x, x0) and torch.equal(residual, r0)
    assert _rel(y, want_y) < TOL[dtype] and _rel(s, want_s) < TOL[dtype]
    context.gemma_add_rmsnorm(x, residual, weight)
    assert torch.equal(x, y) and torch.equal(residual, s)  # in place: the same kernel, the same bits


def test_norm_refuses_mismatched_shapes():
    x = torch.randn(2, 64, device=DEVICE)
    with pytest.raises(ValueError):
        context.gemma_add_rmsnorm(x, torch.randn(2, 32, device=DEVICE), torch.randn(64, device=DEVICE))
    with pytest.raises(ValueError):
        context.gemma_add_rmsnorm(x, torch.randn(2, 64, device=DEVICE), torch.randn(32, device=DEVICE))
    with pytest.raises(ValueError):
        context.gemma_add_rmsnorm(x, torch.randn(2, 64, device=DEVICE), torch.randn(64, device=DEVICE),
                                  out=torch.empty(64, 2, device=DEVICE).t())


def test_context_runs_the_norm_then_the_path():
    """``then`` calls the norm on x first (the path sees the normalised x), then the path, once each."""
    g = torch.Generator(device=DEVICE).manual_seed(3)
    x = torch.randn(2, 64, device=DEVICE, generator=g)
    ctx = context.DecodeContext(x, g)
    residual0, x0 = ctx.residual.clone(), x.clone()
    seen = []
    step = ctx.then(lambda: seen.append(x.clone()) or "out")
    assert step() == "out" and len(seen) == 1
    want_y, want_s = context.gemma_add_rmsnorm_reference(x0, residual0, ctx.weight)
    torch.testing.assert_close(seen[0], want_y, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ctx.residual, want_s, rtol=1e-5, atol=1e-5)


@pytest.mark.gpu
@pytest.mark.parametrize("pdl", [False, True])
def test_gpu_norm_real_sizes(pdl):
    """Qwen3-Next's hidden size (2048) and Qwen3.5-397B's (4096), bf16, with and without PDL."""
    for hidden in (2048, 4096):
        g = torch.Generator(device="cuda").manual_seed(hidden)
        x = torch.randn(128, hidden, device="cuda", generator=g).bfloat16()
        residual = torch.randn(128, hidden, device="cuda", generator=g).bfloat16()
        weight = (torch.randn(hidden, device="cuda", generator=g) * 0.1).bfloat16()
        want_y, want_s = context.gemma_add_rmsnorm_reference(x, residual, weight)
        context.gemma_add_rmsnorm(x, residual, weight, pdl=pdl)
        assert _rel(x, want_y) < 1e-2 and _rel(residual, want_s) < 1e-2


def test_stream_launch_copies_its_words():
    """The split + conv rows' ``stream_us`` kernel: one call fills its NaN-poisoned destination (half the bytes, a
    partial last program included) from the uniform source."""
    from runtime.projections.bench import STREAM_BLOCK, stream_launch

    nbytes = 8 * (3 * STREAM_BLOCK + 5)
    dst = stream_launch(nbytes, device=DEVICE)()
    assert dst.numel() == nbytes // 8 and not dst.isnan().any()
    assert 0 <= dst.min() and dst.max() < 1 and dst.std() > 0.1
