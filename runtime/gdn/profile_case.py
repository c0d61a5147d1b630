"""Run one decode case eagerly, for a profiler to attach: ``python -m runtime.gdn.profile_case KERNEL TP B``.

``KERNEL``: ``in_place`` (our packed decode), ``deferred`` (our deferred-write step, staggered rings, rows flush-first as in the bench),
``deferred_split`` (the step as the dispatch runs it where the caller counts each step's flushing rows: at L = 16 the
split step, its flushing rows' launch, then the others' launch, each a ``_deferred_decode_kernel`` launch),
``sgl_replayssm`` (SGLang 0.5.23's ReplaySSM decode on the same pool and rings,
``sglang/kernels/ops/attention/linear/fused_recurrent_linear_replayssm.py: fused_recurrent_linear_replayssm_decode``). The bench's inputs
(:class:`runtime.gdn.bench_deferred.RingCase`, slot sets rotated past the L2), ``--calls`` launches one after
another, no CUDA graph, so Nsight Compute can pick one launch, e.g.::

    ncu --clock-control none -k regex:packed_decode --launch-skip 10 --launch-count 1 \\
        --section SpeedOfLight --section Occupancy --section WarpStateStats \\
        python -m runtime.gdn.profile_case in_place TP4 64
"""

from __future__ import annotations

import argparse

import torch

from runtime.gdn import sglang_peers
from runtime.gdn.bench_deferred import TP_HEADS, RingCase


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kernel", choices=["in_place", "deferred", "deferred_split", "sgl_replayssm"])
    parser.add_argument("tp", choices=list(TP_HEADS))
    parser.add_argument("batch", type=int)
    parser.add_argument("--ring-length", type=int, default=16)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        raise SystemExit("runtime.gdn.profile_case needs a CUDA device")
    torch.manual_seed(0)
    peers = sglang_peers.load() if args.kernel == "sgl_replayssm" else None
    if args.kernel == "sgl_replayssm" and (peers is None or peers.replayssm_decode is None):
        raise SystemExit("SGLang's ReplaySSM decode is not importable here")
    with torch.inference_mode():
        case = RingCase(args.tp, args.batch, args.ring_length)
        calls = case.calls(args.kernel, peers)
        for i in range(args.calls):
            calls[i % len(calls)]()
        torch.cuda.synchronize()
    print(f"{args.calls} calls of {args.kernel} at {args.tp} B={args.batch} L={args.ring_length}")


if __name__ == "__main__":
    main()
