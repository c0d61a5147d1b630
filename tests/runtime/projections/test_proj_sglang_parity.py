"""The reference and kernels against SGLang 0.5.23's own kernels, loaded from the installed package (skipped
when it is absent). The split kernels and ``causal_conv1d_update`` also run on CPU under TRITON_INTERPRET=1 (the
latter with :func:`tests.triton_interpreter.boolean_masks`, in fp32 and fp16: the interpreter has no bf16
arithmetic); so does SGLang's fused split + conv kernel, from a private copy of its module whose eligibility gate
(which refuses CPU tensors) is set to pass: the launch and the kernel are as installed. On a GPU the fused kernel
also runs as installed, in bf16 too."""

import sys
import types
from unittest import mock

import pytest
import torch

from runtime import sglang_files
from runtime.projections import context, conv_update, naive, sglang_peer, split_conv_kernel
from runtime.projections.naive import GDNShape
from runtime.projections.split_kernel import split_qkvzba
from tests.runtime import _sglang_source
from tests.triton_interpreter import boolean_masks

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
PEER = sglang_peer.fused_proj()
pytestmark = pytest.mark.skipif(PEER is None, reason="SGLang is not installed")
SHAPES = {
    "ratio2": GDNShape(hidden=64, num_k_heads=2, num_v_heads=4, head_k=16, head_v=16),
    "ratio4": GDNShape(hidden=64, num_k_heads=2, num_v_heads=8, head_k=16, head_v=8),
}


@pytest.fixture
def peer():
    return PEER


def _fused_proj_on_cpu():
    """A private copy of SGLang's ``triton_gdn_fused_proj`` module whose
    ``can_use_fused_qkvzba_causal_conv1d_update_contiguous`` answers eligible (it refuses CPU tensors first)."""
    envs = types.SimpleNamespace(SGLANG_USE_AITER=sglang_files.Flag(False))
    with mock.patch.dict(sys.modules):
        sys.modules.pop("_sglang_file." + sglang_peer.FUSED_PROJ.removesuffix(".py").replace("/", "."), None)
        module = sglang_files.load(sglang_peer.FUSED_PROJ, {"sglang.srt.environ": {"envs": envs},
                                                            "sglang.srt.utils": {"is_hip": lambda: False}})
    module.can_use_fused_qkvzba_causal_conv1d_update_contiguous = lambda *args, **kwargs: (True, "eligible")
    return module


def _rand(g, *size, dtype=torch.float32):
    return torch.randn(*size, generator=g).to(dtype).to(DEVICE)


@pytest.mark.parametrize("name", SHAPES)
@pytest.mark.parametrize("layout", ["interleaved", "contiguous"])
def test_split_kernels_match_sglang(peer, name, layout):
    """SGLang's split kernel for each layout, ours, and the PyTorch chain agree bit for bit (a copy)."""
    shape, g = SHAPES[name], torch.Generator().manual_seed(7)
    qkvz, ba = _rand(g, 5, shape.qkvz_width), _rand(g, 5, shape.ba_width)
    fn = peer.fused_qkvzba_split_reshape_cat if layout == "interleaved" else peer.fused_qkvzba_split_reshape_cat_contiguous
    theirs = fn(qkvz, ba, shape.num_k_heads, shape.num_v_heads, shape.head_k, shape.head_v)
    ours = split_qkvzba(qkvz, ba, shape, layout)
    chain = (naive.split_interleaved if layout == "interleaved" else naive.split_contiguous)(qkvz, ba, shape)
    for t, o, c in zip(theirs, ours, chain, strict=True):
        assert torch.equal(t, o) and torch.equal(o, c)


def test_prefill_views_are_the_contiguous_split(peer):
    """SGLang's zero-copy prefill views hold exactly the split's values (and share the GEMM output's memory)."""
    shape, g = SHAPES["ratio4"], torch.Generator().manual_seed(8)
    fused = _rand(g, 6, shape.qkvz_width + shape.ba_width)
    qkvz, ba = fused[:, : shape.qkvz_width], fused[:, shape.qkvz_width :]
    views = peer.qwen3_5_gdn_prefill_projection_views(
        qkvz, ba, shape.num_k_heads, shape.num_v_heads, shape.head_k, shape.head_v
    )
    for view, want in zip(views, naive.split_contiguous(qkvz, ba, shape), strict=True):
        assert torch.equal(view, want)
        assert view.untyped_storage().data_ptr() == fused.untyped_storage().data_ptr()


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32], ids=str)
@pytest.mark.parametrize("width", [2, 4])
@pytest.mark.parametrize("activation", ["silu", None])
def test_causal_conv1d_update_matches_sglang(dtype, width, activation):
    """SGLang's Triton ``causal_conv1d_update`` (its GDN decode when the fused split + conv path is off) and our
    reference on 5 rows over non-monotonic slots of a pool wider than W - 1, one row ``pad_slot_id`` (-1), a bias:
    the state pool bit for bit; the live rows' output bit for bit in fp16 and, without SiLU, in fp32; fp32 SiLU
    within 1e-6 (torch's exp and the kernel's). On a GPU, as there for the fused kernel: fp32 within 1e-6 (FMA
    contraction), fp16 SiLU within one ulp. The padding row: ours passes ``x`` through, SGLang's leaves its
    ``empty_like`` output unwritten; neither writes its state."""
    module = sglang_peer.causal_conv1d()
    shape, g = SHAPES["ratio4"], torch.Generator().manual_seed(40 + width)
    x = _rand(g, 5, shape.qkv_width, dtype=dtype)
    state = _rand(g, 9, shape.qkv_width, width + 1, dtype=dtype)
    weight, bias = _rand(g, shape.qkv_width, width, dtype=dtype), _rand(g, shape.qkv_width, dtype=dtype)
    idx = torch.tensor([6, -1, 0, 3, 8], dtype=torch.int32, device=DEVICE)
    theirs_state, ours_state = state.clone(), state.clone()
    with boolean_masks():
        theirs = module.causal_conv1d_update(x, theirs_state, weight, bias, activation, conv_state_indices=idx)
    ours = conv_update.causal_conv1d_update(x, ours_state, weight, bias, idx, activation)
    assert torch.equal(theirs_state, ours_state) and not torch.equal(ours_state, state)
    assert torch.equal(ours_state[[1, 2, 4, 5, 7]], state[[1, 2, 4, 5, 7]])
    live = idx >= 0
    if DEVICE == "cpu" and (dtype == torch.float16 or activation is None):
        assert torch.equal(theirs[live], ours[live])
    elif dtype == torch.float32:
        torch.testing.assert_close(theirs[live], ours[live], rtol=1e-6, atol=1e-6)
    else:
        eps = torch.finfo(dtype).eps
        assert torch.allclose(theirs[live].float(), ours[live].float(), rtol=2 * eps, atol=eps)
    assert torch.equal(ours[~live], x[~live])


@pytest.mark.skipif(DEVICE == "cuda", reason="on a GPU test_split_conv_matches_sglang_fused_kernel runs it as installed")
@pytest.mark.parametrize("dtype", [torch.float16, torch.float32], ids=str)
@pytest.mark.parametrize("width", [2, 4])
@pytest.mark.parametrize("activation", ["silu", None])
def test_split_conv_matches_sglang_fused_kernel_on_cpu(dtype, width, activation):
    """SGLang's ``fused_qkvzba_causal_conv1d_update_contiguous`` under the interpreter (:func:`_fused_proj_on_cpu`),
    our kernel and the reference: the state pool and every output (conv, z, b, a; the padding row's ``x`` passed
    through) bit for bit between the two kernels; the reference's likewise, except fp32 SiLU within 1e-6 (torch's
    exp). Non-monotonic slots, one padding row, a pool wider than W - 1, a column-strided ba, a bias."""
    module = _fused_proj_on_cpu()
    shape, g = SHAPES["ratio4"], torch.Generator().manual_seed(60 + width)
    fused = _rand(g, 5, shape.qkvz_width + shape.ba_width + 2, dtype=dtype)
    qkvz, ba = fused[:, : shape.qkvz_width], fused[:, shape.qkvz_width : shape.qkvz_width + shape.ba_width]
    state = _rand(g, 9, shape.qkv_width, width + 1, dtype=dtype)
    weight, bias = _rand(g, shape.qkv_width, width, dtype=dtype), _rand(g, shape.qkv_width, dtype=dtype)
    idx = torch.tensor([6, -1, 0, 3, 8], dtype=torch.int32, device=DEVICE)
    states = [state.clone() for _ in range(3)]
    with boolean_masks():
        theirs = module.fused_qkvzba_causal_conv1d_update_contiguous(
            qkvz, ba, states[0], weight, bias, idx, qkv_dim=shape.qkv_width, v_dim=shape.value_dim,
            num_v_heads=shape.num_v_heads, head_v_dim=shape.head_v, activation=activation,
        )
    ours = split_conv_kernel.split_conv_update(qkvz, ba, states[1], weight, bias, idx, shape, activation, block=64)
    ref = conv_update.split_conv_update(qkvz, ba, states[2], weight, bias, idx, shape, activation)
    assert torch.equal(states[0], states[1]) and torch.equal(states[1], states[2]) and not torch.equal(state, states[0])
    assert all(torch.equal(t, o) for t, o in zip(theirs, ours, strict=True))
    assert all(torch.equal(t, r) for t, r in zip(theirs[1:], ref[1:], strict=True))
    if dtype == torch.float32 and activation:
        torch.testing.assert_close(theirs[0], ref[0], rtol=1e-6, atol=1e-6)
    else:
        assert torch.equal(theirs[0], ref[0])


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float32], ids=str)
@pytest.mark.parametrize("width", [2, 3, 4])
@pytest.mark.parametrize("activation", ["silu", None])
def test_split_conv_matches_sglang_fused_kernel(peer, dtype, width, activation):
    """SGLang's ``fused_qkvzba_causal_conv1d_update_contiguous`` and our kernel: the whole state pool, z, b, a
    bit for bit, and the conv output bit for bit in bf16 and fp16 (in fp32 SGLang's multiply-adds contract
    into FMAs: within 1e-6); the PyTorch reference's conv output bit for bit without SiLU, in bf16 and fp16.
    Non-monotonic slots, one padding row, a state pool wider than W - 1, a column-strided ba, a bias."""
    shape, g = SHAPES["ratio4"], torch.Generator().manual_seed(20 + width)
    batch, slots = 5, 9
    fused = _rand(g, batch, shape.qkvz_width + shape.ba_width + 2, dtype=dtype)
    qkvz, ba = fused[:, : shape.qkvz_width], fused[:, shape.qkvz_width : shape.qkvz_width + shape.ba_width]
    state = _rand(g, slots, shape.qkv_width, width + 1, dtype=dtype)
    weight, bias = _rand(g, shape.qkv_width, width, dtype=dtype), _rand(g, shape.qkv_width, dtype=dtype)
    idx = torch.tensor([6, -1, 0, 3, 8], dtype=torch.int32, device=DEVICE)
    states = [state.clone() for _ in range(3)]
    theirs = peer.fused_qkvzba_causal_conv1d_update_contiguous(
        qkvz, ba, states[0], weight, bias, idx, qkv_dim=shape.qkv_width, v_dim=shape.value_dim,
        num_v_heads=shape.num_v_heads, head_v_dim=shape.head_v, activation=activation,
    )
    ours = split_conv_kernel.split_conv_update(qkvz, ba, states[1], weight, bias, idx, shape, activation, block=64)
    ref = conv_update.split_conv_update(qkvz, ba, states[2], weight, bias, idx, shape, activation)
    assert torch.equal(states[0], states[1]) and torch.equal(states[1], states[2])
    for t, o, r in zip(theirs, ours, ref, strict=True):
        assert t.shape == o.shape == r.shape
    for t, o, r in zip(theirs[1:], ours[1:], ref[1:], strict=True):
        assert torch.equal(t, o) and torch.equal(t, r)
    if dtype == torch.float32:  # fp32 products: the compiler contracts SGLang's multiply-adds into FMAs, not ours
        torch.testing.assert_close(theirs[0], ours[0], rtol=1e-6, atol=1e-6)
    else:
        assert torch.equal(theirs[0], ours[0])
    if activation is None and dtype != torch.float32:
        assert torch.equal(theirs[0], ref[0])
    elif dtype == torch.float32:  # FMA contraction again
        torch.testing.assert_close(theirs[0], ref[0], rtol=1e-6, atol=1e-6)
    else:  # torch's exp and the kernels' exp may differ in the last bit
        eps = torch.finfo(dtype).eps
        assert torch.allclose(theirs[0].float(), ref[0].float(), rtol=2 * eps, atol=eps)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=str)
def test_input_norm_reference_is_sglangs(dtype):
    """The layer's input norm before the projection: ``context.gemma_add_rmsnorm_reference`` against SGLang's
    ``GemmaRMSNorm.forward_native`` (compiled from the installed ``layernorm.py``; its CUDA path is sgl_kernel's
    ``gemma_fused_add_rmsnorm``, which sums in fp32 as ours does): ``s = x + residual`` and
    ``s * rsqrt(mean(s^2) + eps) * (1 + w)`` on 6 rows of 64. fp32: within 1e-6. bf16: the new residual bit for bit,
    the output within one bf16 ulp (``forward_native`` normalises the bf16-rounded sum)."""
    native = _sglang_source.function("srt/layers/layernorm.py", "GemmaRMSNorm.forward_native", {"torch": torch})
    g = torch.Generator().manual_seed(70)
    x, residual, weight = _rand(g, 6, 64, dtype=dtype), _rand(g, 6, 64, dtype=dtype), _rand(g, 64) * 0.1
    norm = types.SimpleNamespace(weight=weight, variance_epsilon=1e-6)
    theirs, theirs_residual = native(norm, x, residual)
    ours, ours_residual = context.gemma_add_rmsnorm_reference(x, residual, weight, 1e-6)
    assert torch.equal(theirs_residual, ours_residual)
    if dtype == torch.float32:
        torch.testing.assert_close(theirs, ours, rtol=1e-6, atol=1e-6)
    else:
        assert torch.allclose(theirs.float(), ours.float(), rtol=2**-7, atol=2**-7)
