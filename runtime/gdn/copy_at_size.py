"""How close a plain copy gets to the copy-rate floor at the in-place decode's own size: ``python -m
runtime.gdn.copy_at_size [TP B]`` (default TP4 64, issue 18's in-place question).

The bench's floor divides a step's bytes by the copy rate of a 1 GiB ``Tensor.copy_``. A decode step at TP4 B=64
moves 2 x 33.5 MB; this times, the bench's way (CUDA-graph median, back-to-back calls over sets rotated past 4x the
L2), our in-place decode at that shape beside ``copy_`` and an in-place ``mul_`` that move the same bytes, and
prints each as a percentage of the 1 GiB floor. A copy's shortfall at this size is the part of the gap no decode
kernel of these bytes closes (launch ramp, tail wave, DRAM read-to-write turnaround); ``ncu`` on ``--calls`` eager
in-place ``mul_`` calls (the decode's own access pattern: read a tile, write it back) gives the profiler's view.
"""

from __future__ import annotations

import argparse
import math

import torch

from runtime import benchkit
from runtime.gdn.bench import DecodeCase


def _rotated_us(nbytes: int, op: str) -> float:
    """Graph median of ``op`` (``copy`` or ``mul_``) over ``nbytes // 2`` read + written, sets past 4x the L2."""
    l2 = torch.cuda.get_device_properties(0).L2_cache_size
    n = max(2, math.ceil(4 * l2 / nbytes))
    bufs = [torch.empty(nbytes // 8, device="cuda").uniform_() for _ in range(2 * n)]
    calls = [(lambda s=bufs[2 * i], d=bufs[2 * i + 1]: d.copy_(s)) if op == "copy" else
             (lambda s=bufs[2 * i]: s.mul_(1.0)) for i in range(n)]
    it = iter(range(1 << 62))
    return benchkit.cuda_graph_median_us(lambda: calls[next(it) % n](), replays=max(20, n), reps=30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tp", nargs="?", default="TP4")
    parser.add_argument("batch", nargs="?", type=int, default=64)
    parser.add_argument("--calls", type=int, default=0,
                        help="only run this many eager in-place mul_ of the size (for ncu)")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    with torch.inference_mode():
        case = DecodeCase(args.tp, args.batch)
        if args.calls:  # eager in-place mul_ of the step's bytes, buffers rotated past 4x the L2 (for ncu)
            l2 = torch.cuda.get_device_properties(0).L2_cache_size
            bufs = [torch.empty(case.nbytes // 8, device="cuda").uniform_()
                    for _ in range(max(2, math.ceil(8 * l2 / case.nbytes)))]
            for i in range(args.calls):
                bufs[i % len(bufs)].mul_(1.0)
            torch.cuda.synchronize()
            return
        copy_gbs = benchkit.copy_bandwidth_gbs()
        floor = case.nbytes / (copy_gbs * 1e3)
        timed = {"in-place decode": case.time_ours(), "copy_": _rotated_us(case.nbytes, "copy"),
                 "mul_ in place": _rotated_us(case.nbytes, "mul_")}
        print(f"{torch.cuda.get_device_name()}  copy (1 GiB) {copy_gbs:.0f} GB/s  {args.tp} B={args.batch}: "
              f"{case.nbytes / 1e6:.1f} MB, floor {floor:.2f} us")
        for name, us in timed.items():
            print(f"  {name:16s} {us:7.2f} us  {100 * floor / us:5.1f} % of the floor  "
                  f"{case.nbytes / us / 1e3:6.0f} GB/s")


if __name__ == "__main__":
    main()
