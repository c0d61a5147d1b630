"""Benchmark: unfused vs fused GDN input projection (Qwen3-Next-80B, bf16, CUDA graphs).

``python -m runtime.projections.bench [--json PATH]``. For each tp and token count T it times

* ``unfused``: two GEMMs (qkvz, ba) + the PyTorch split/reshape/cat chain,
* ``fused``: the fused path as :func:`.fused.fused_forward` runs it: one GEMM over ``[qkvz; ba]``, as
  the Triton GEMM with the split in its epilogue up to ``GEMM_SPLIT_MAX_TOKENS``, else cuBLAS + the
  split kernel reading its two column slices,
* the parts (``gemm2`` both GEMMs alone, ``gemm1`` the single GEMM alone, ``torch_split``,
  ``kernel_split``), ``cublas_split`` (one cuBLAS GEMM + split kernel at every T), ``two_gemm_kernel``
  (two GEMMs + split kernel) and ``gemm_split`` (the Triton GEMM with the split epilogue, to T = 512),

and a floor: the larger of (weights + input + outputs) bytes over measured copy bandwidth and GEMM
FLOPs over the measured GEMM rate. Weights are rotated among enough copies to defeat L2, as the other
layers' weights would in a real decode step.
"""

from __future__ import annotations

import argparse
import itertools
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from runtime.benchkit import (
    copy_bandwidth_gbs,
    cuda_graph_median_us,
    gemm_tflops,
    print_table,
    print_targets,
    write_results,
)

from .fused import fused_forward
from .gemm_split import gemm_split
from .naive import QWEN3_NEXT_80B, GDNShape, split_interleaved
from .split_kernel import split_qkvzba

TOKENS = (1, 8, 32, 128, 512, 2048, 8192)
TPS = (1, 4)
COLUMNS = (
    "tp",
    "tokens",
    "unfused_us",
    "fused_us",
    "speedup",
    "floor_us",
    "fused_x_floor",
    "fused_x_wfloor",
    "gemm2_us",
    "gemm1_us",
    "torch_split_us",
    "kernel_split_us",
    "cublas_split_us",
    "two_gemm_kernel_us",
    "gemm_split_us",
    "gemm_bit_identical",
)
GEMM_SPLIT_COLUMN_MAX_TOKENS = 512  # a decode-sized kernel; timed a little past where fused_forward stops using it


def _rotating(tensors: list) -> Callable[[], tuple]:
    it = itertools.cycle(tensors)
    return lambda: next(it)


def _time_paths(x: torch.Tensor, sets: list[tuple], rs: GDNShape) -> dict:
    """Median CUDA-graph time of every path for one input ``x``, rotating weight sets."""
    n_qkvz = rs.qkvz_width
    pick = _rotating(sets)

    def unfused():
        qkvz, ba, _ = pick()
        return split_interleaved(F.linear(x, qkvz), F.linear(x, ba), rs)

    def cublas_split():
        out = F.linear(x, pick()[2])
        return split_qkvzba(out[:, :n_qkvz], out[:, n_qkvz:], rs, "interleaved")

    def two_gemm_kernel():
        qkvz, ba, _ = pick()
        return split_qkvzba(F.linear(x, qkvz), F.linear(x, ba), rs, "interleaved")

    def gemm2():
        qkvz, ba, _ = pick()
        return F.linear(x, qkvz), F.linear(x, ba)

    def gemm1():
        return F.linear(x, pick()[2])

    q_out, ba_out = F.linear(x, sets[0][0]), F.linear(x, sets[0][1])
    one = F.linear(x, sets[0][2])
    identical = torch.equal(one[:, :n_qkvz], q_out) and torch.equal(one[:, n_qkvz:], ba_out)
    paths = {
        "unfused_us": unfused,
        "fused_us": lambda: fused_forward(x, pick()[2], rs, "interleaved"),
        "gemm2_us": gemm2,
        "gemm1_us": gemm1,
        "torch_split_us": lambda: split_interleaved(q_out, ba_out, rs),
        "kernel_split_us": lambda: split_qkvzba(q_out, ba_out, rs, "interleaved"),
        "cublas_split_us": cublas_split,
        "two_gemm_kernel_us": two_gemm_kernel,
    }
    if x.shape[0] <= GEMM_SPLIT_COLUMN_MAX_TOKENS:
        paths["gemm_split_us"] = lambda: gemm_split(x, pick()[2], rs, "interleaved")
    return {name: cuda_graph_median_us(fn) for name, fn in paths.items()} | {"gemm_bit_identical": identical}


def _weight_sets(rs: GDNShape, seed: int) -> list[tuple]:
    """``(qkvz, ba, [qkvz; ba])`` bf16 weight copies, enough of them to span 3x the L2 cache."""
    weight_bytes = (rs.qkvz_width + rs.ba_width) * rs.hidden * 2
    copies = max(2, math.ceil(3 * torch.cuda.get_device_properties(0).L2_cache_size / weight_bytes))
    g = torch.Generator(device="cuda").manual_seed(seed)
    sets = []
    for _ in range(copies):
        qkvz = (
            torch.randn(rs.qkvz_width, rs.hidden, device="cuda", generator=g) * rs.hidden**-0.5
        ).bfloat16()
        ba = (torch.randn(rs.ba_width, rs.hidden, device="cuda", generator=g) * rs.hidden**-0.5).bfloat16()
        sets.append((qkvz, ba, torch.cat([qkvz, ba]).contiguous()))
    return sets


def bench_tp(tp: int, tokens: tuple[int, ...], bw_gbs: float, tflops: float) -> list[dict]:
    rs = QWEN3_NEXT_80B.per_rank(tp)
    hidden, n_out = rs.hidden, rs.qkvz_width + rs.ba_width
    weight_bytes = n_out * hidden * 2
    sets = _weight_sets(rs, seed=tp)
    g = torch.Generator(device="cuda").manual_seed(1000 + tp)
    rows = []
    for t in tokens:
        x = torch.randn(t, hidden, device="cuda", generator=g, dtype=torch.bfloat16)
        times = _time_paths(x, sets, rs)
        out_bytes = t * (rs.qkv_width + rs.value_dim + 2 * rs.num_v_heads) * 2
        floor_us = max(
            (weight_bytes + t * hidden * 2 + out_bytes) / (bw_gbs * 1e3),
            2 * t * hidden * n_out / (tflops * 1e6),
        )
        weight_floor_us = weight_bytes / (bw_gbs * 1e3)
        rows.append(
            {
                "tp": tp,
                "tokens": t,
                **times,
                "speedup": times["unfused_us"] / times["fused_us"],
                "floor_us": floor_us,
                "fused_x_floor": times["fused_us"] / floor_us,
                "weight_floor_us": weight_floor_us,
                "fused_x_wfloor": times["fused_us"] / weight_floor_us,
                "weight_copies": len(sets),
            }
        )
    return rows


def check_targets(rows: list[dict]) -> dict[str, bool]:
    """The issue's targets: TP4 decode (T <= 128) >= 1.8x, prefill (T >= 2048) >= 0.98x, TP1 decode within
    1.5x of the weight-bandwidth floor (weight bytes / copy bandwidth)."""
    decode4 = [r["speedup"] for r in rows if r["tp"] == 4 and r["tokens"] <= 128]
    prefill = [r["speedup"] for r in rows if r["tokens"] >= 2048]
    floor1 = [r["fused_x_wfloor"] for r in rows if r["tp"] == 1 and r["tokens"] <= 128]
    return {
        "tp4_decode_speedup_ge_1.8": bool(decode4) and min(decode4) >= 1.8,
        "prefill_speedup_ge_0.98": bool(prefill) and min(prefill) >= 0.98,
        "tp1_decode_within_1.5x_floor": bool(floor1) and max(floor1) <= 1.5,
    }


def summarize(rows: list[dict]) -> list[str]:
    """One-line findings from measured rows (shown in the rendered manual; never invented)."""

    def span(values: list[float]) -> str:
        lo, hi = min(values), max(values)
        return f"{lo:.2f}x" if abs(hi - lo) < 0.005 else f"{lo:.2f}-{hi:.2f}x"

    out = []
    tp4 = [r["speedup"] for r in rows if r["tp"] == 4 and r["tokens"] <= 128]
    if tp4:
        out.append(f"fused path {span(tp4)} faster than unfused at TP4 decode (T<=128)")
    prefill = [r["speedup"] for r in rows if r["tokens"] >= 2048]
    if prefill:
        out.append(f"{span(prefill)} at prefill (T>=2048)")
    tp1 = [r["fused_x_wfloor"] for r in rows if r["tp"] == 1 and r["tokens"] <= 128]
    if tp1:
        out.append(f"TP1 decode (T<=128) at {span(tp1)} the weight-bandwidth floor")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the rows here (runtime.benchkit JSON)")
    parser.add_argument("--tp", type=int, nargs="+", default=list(TPS))
    parser.add_argument("--tokens", type=int, nargs="+", default=list(TOKENS))
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        raise SystemExit("runtime.projections.bench needs a CUDA device")
    bw, rate = copy_bandwidth_gbs(), gemm_tflops()
    rows = [row for tp in args.tp for row in bench_tp(tp, tuple(args.tokens), bw, rate)]
    targets = check_targets(rows)
    print_table(
        rows,
        COLUMNS,
        title=f"GDN input projection, Qwen3-Next-80B bf16, {torch.cuda.get_device_name()} "
        f"(copy {bw:.0f} GB/s, GEMM {rate:.0f} TFLOP/s)",
    )
    print_targets(targets)
    if args.json:
        path = write_results(
            args.json,
            "projections",
            rows,
            ceilings={"copy_gbs": bw, "gemm_tflops": rate},
            targets=targets,
            summary=summarize(rows),
            model="Qwen3-Next-80B GDN",
            dtype="bfloat16",
        )
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
