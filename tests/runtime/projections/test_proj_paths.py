"""The benchmark's Qwen3.5 paths of ours, on CPU: prefill views and the one-GEMM decode step (under the interpreter)."""

import torch
import torch.nn.functional as F

from runtime.projections import conv_update, naive, paths
from runtime.projections.naive import GDNShape

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
SHAPE = GDNShape(hidden=32, num_k_heads=2, num_v_heads=8, head_k=16, head_v=8)


def _weights(g):
    qkvz = torch.randn(SHAPE.qkvz_width, SHAPE.hidden, generator=g).to(DEVICE)
    ba = torch.randn(SHAPE.ba_width, SHAPE.hidden, generator=g).to(DEVICE)
    return qkvz, ba, torch.cat([qkvz, ba])


def test_prefill_views_are_the_split_without_a_copy():
    g = torch.Generator().manual_seed(1)
    qkvz_w, ba_w, fused_w = _weights(g)
    x = torch.randn(7, SHAPE.hidden, generator=g).to(DEVICE)
    views = paths.ours_prefill_35(x, qkvz_w, ba_w, SHAPE, None)
    want = naive.split_contiguous(*paths.two_gemms(x, qkvz_w, ba_w, None), SHAPE)
    for view, ref in zip(views, want, strict=True):
        assert view.shape == ref.shape
        torch.testing.assert_close(view, ref)
    assert views[0].untyped_storage().data_ptr() == views[1].untyped_storage().data_ptr()  # views of qkvz
    assert views[2].untyped_storage().data_ptr() == views[3].untyped_storage().data_ptr()  # views of ba


def test_one_gemm_decode_step_matches_split_then_conv():
    g = torch.Generator().manual_seed(2)
    qkvz_w, ba_w, fused_w = _weights(g)
    x = torch.randn(3, SHAPE.hidden, generator=g).to(DEVICE)
    pool = torch.randn(5, SHAPE.qkv_width, 3, generator=g).to(DEVICE)
    weight = torch.randn(SHAPE.qkv_width, 4, generator=g).to(DEVICE)
    idx = torch.tensor([4, -1, 0], dtype=torch.int32, device=DEVICE)
    ref_pool = pool.clone()
    got = paths.ours_decode_35(x, fused_w, SHAPE, paths.ConvState(pool, idx, weight))
    out = F.linear(x, fused_w)
    want = conv_update.split_conv_update(
        out[:, : SHAPE.qkvz_width], out[:, SHAPE.qkvz_width :], ref_pool, weight, None, idx, SHAPE, "silu"
    )
    torch.testing.assert_close(pool, ref_pool, rtol=0, atol=0)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-6)
