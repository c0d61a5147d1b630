"""FP8 (e4m3) quantization helpers for building and checking FP8 checkpoints.

Only the two scale schemes the loader supports: block-wise ``weight_scale_inv`` (one scale per
``block_n x block_k`` tile, as in the Qwen3-Next FP8 checkpoints) and per-tensor ``weight_scale``, the two
parameters SGLang's FP8 method registers (``sglang/srt/layers/quantization/fp8.py: Fp8LinearMethod.create_fp8_weight_``).
The matmul itself is emulated by dequantizing to fp32; no FP8 GEMM is run here.
"""

from __future__ import annotations

import torch

from .naive import GDNShape, group_permutation

FP8 = torch.float8_e4m3fn
FP8_MAX = torch.finfo(FP8).max


def quantize_block(weight: torch.Tensor, block: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """``weight ~= fp8 * scale_inv`` per ``block`` tile; shapes must divide evenly."""
    bn, bk = block
    n, k = weight.shape
    if n % bn or k % bk:
        raise ValueError(f"weight {tuple(weight.shape)} does not tile into blocks {block}")
    tiles = weight.float().reshape(n // bn, bn, k // bk, bk)
    scale_inv = tiles.abs().amax(dim=(1, 3)).clamp(min=1e-12) / FP8_MAX
    q = (tiles / scale_inv[:, None, :, None]).clamp(-FP8_MAX, FP8_MAX).to(FP8)
    return q.reshape(n, k), scale_inv


def dequantize_block(q: torch.Tensor, scale_inv: torch.Tensor, block: tuple[int, int]) -> torch.Tensor:
    bn, bk = block
    return q.float() * scale_inv.repeat_interleave(bn, 0).repeat_interleave(bk, 1)


def quantize_per_tensor(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``weight ~= fp8 * scale`` with one fp32 scale (shape ``[]``)."""
    scale = weight.float().abs().amax().clamp(min=1e-12) / FP8_MAX
    return (weight.float() / scale).clamp(-FP8_MAX, FP8_MAX).to(FP8), scale


def permute_block_rows(scale_inv: torch.Tensor, rows: torch.Tensor, block_n: int) -> torch.Tensor:
    """Block scales for ``weight[rows]`` given those of ``weight``; ``rows`` must move whole blocks."""
    blocks = rows.view(-1, block_n)
    first = blocks[:, :1]
    if (first % block_n).any() or not torch.equal(blocks, first + torch.arange(block_n)):
        raise ValueError(f"row permutation does not move whole {block_n}-row blocks")
    return scale_inv[first[:, 0] // block_n]


def block_checkpoints(split: dict[str, torch.Tensor], shape: GDNShape, block: tuple[int, int]):
    """The same FP8 (block-scaled) qkvz model as a split and as a packed checkpoint.

    Returns ``(split_ckpt, packed_ckpt, dequantized)``: ``in_proj_qkv`` and ``in_proj_z`` quantized on
    their own; the packed tensor is their rows regrouped per key head, with whole scale blocks moving
    along (every packed segment spans whole blocks, else this raises); ``dequantized`` holds the fp32
    ``q k v z`` both encode.
    """
    qkv_q, qkv_s = quantize_block(torch.cat([split["q"], split["k"], split["v"]]), block)
    z_q, z_s = quantize_block(split["z"], block)
    contiguous_q, contiguous_s = torch.cat([qkv_q, z_q]), torch.cat([qkv_s, z_s])
    rows = torch.argsort(group_permutation(shape, 1, 0))  # packed = contiguous[rows]
    split_ckpt = {
        "in_proj_qkv.weight": qkv_q,
        "in_proj_qkv.weight_scale_inv": qkv_s,
        "in_proj_z.weight": z_q,
        "in_proj_z.weight_scale_inv": z_s,
    }
    packed_ckpt = {
        "in_proj_qkvz.weight": contiguous_q[rows],
        "in_proj_qkvz.weight_scale_inv": permute_block_rows(contiguous_s, rows, block[0]),
    }
    deq = dequantize_block(contiguous_q, contiguous_s, block).split(shape.qkvz_sizes)
    return split_ckpt, packed_ckpt, dict(zip("qkvz", deq, strict=True))
