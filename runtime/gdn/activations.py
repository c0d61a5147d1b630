"""Triton device functions shared by the GDN kernels: the gate activations and the L2 normalisation."""

import triton
import triton.language as tl


@triton.jit
def softplus(x, threshold: tl.constexpr):
    """``log(1 + exp(x))``, linear above ``threshold`` (the HF / torch convention, threshold 20)."""
    return tl.where(x > threshold, x, tl.log(1.0 + tl.exp(tl.minimum(x, threshold))))


@triton.jit
def gdn_gate(a, b, A_log, dt_bias, threshold: tl.constexpr):
    """fp32 ``(g, beta)``: ``g = -exp(A_log) softplus(a + dt_bias)``, ``beta = sigmoid(b)`` (#12508)."""
    g = -tl.exp(A_log.to(tl.float32)) * softplus(a.to(tl.float32) + dt_bias.to(tl.float32), threshold)
    return g, tl.sigmoid(b.to(tl.float32))


@triton.jit
def l2_normalize(x, eps: tl.constexpr):
    """``x / sqrt(sum(x^2) + eps)`` for a 1-D fp32 block whose masked lanes are zero (#10466)."""
    return x / tl.sqrt(tl.sum(x * x, axis=0) + eps)
