"""A GDN step's state bytes moved with no arithmetic: how near the copy-rate floor any kernel of that access pattern
gets at the bench's own sizes. ``python -m runtime.gdn.byte_pattern [--json PATH]``.

The bench's floors divide a step's bytes by the copy rate of a 1 GiB ``Tensor.copy_``. Whether a kernel of a given
pattern and size can reach that is a measurement, not arithmetic: the DRAM's read/write mix, the launch's ramp and
tail wave and the slot-index latency all cost before any delta-rule work. :func:`move_state` reads each request's
state rows from its pool slot in the decode's and verify's programs (:func:`program_tile`'s 1-D grid: ``block_v``
rows of one v-head's ``[V, K]`` state, ``block_rows`` at a time) and, by ``mode``:

- ``read``: stores each row's sum (``V`` floats a state): the deferred decode's read-only stream;
- ``in_place``: writes the rows back: the in-place decode;
- ``copies``: writes them to ``T`` entries of an intermediate buffer ``[buffers, T, HV, V, K]``: MTP verify.

Timed the bench's way (CUDA-graph median, pool slot sets rotated past 4x the L2; :class:`bench_deferred.VerifyCase`
and :class:`bench.DecodeCase` hold the very inputs the bench times) beside our kernel at the same shape, SGLang
0.5.23's target_verify for the verify pattern
(``sglang/kernels/ops/attention/linear/fused_sigmoid_gating_recurrent.py: fused_sigmoid_gating_delta_rule_update``)
and an in-place ``Tensor.mul_`` of the decode's bytes. Each
pattern time is reported as a percentage of the bench's floor of the kernel it stands for (whose bytes also
count the small inputs and outputs, so the pattern's percentage is, if anything, generous). The fastest tile is
the measured ceiling of that pattern at that size; a target above it is out of reach for any kernel that moves
those bytes in these programs.
"""

from __future__ import annotations

import argparse
import itertools
import math
from collections.abc import Callable

import torch

from runtime import benchkit
from runtime.gdn import sglang_peers
from runtime.gdn.bench import DecodeCase
from runtime.gdn.bench_deferred import V, VerifyCase, _time, read_only_bytes
from runtime.gdn.state_bytes import move_state

TILES = [(4, 4, 1), (8, 8, 1), (16, 16, 1), (16, 16, 2), (32, 32, 4), (64, 64, 8), (32, 8, 1), (64, 8, 1)]
STORES = (".cs", "")
VERIFY_SHAPES = (("TP1", 16), ("TP1", 64), ("TP1", 256), ("TP4", 16), ("TP4", 64), ("TP4", 256))
IN_PLACE_SHAPES = (("TP4", 64), ("TP1", 64))
READ_SHAPES = (("TP4", 256), ("TP1", 256), ("TP4", 1024), ("TP1", 1024))


def _tile(t: tuple[int, int, int], cm: str = ".cs") -> str:
    bv, br, w = t
    return f"{bv}/{br}x{w}{'' if cm == '.cs' else ' wb'}"


def _rows(kernel: str, shape: str, floor: float, timed: dict[str, float | None]) -> list[dict]:
    print(f"  {kernel} {shape}: floor {floor:.1f} us: " + ", ".join(
        f"{c} {us:.1f} ({100 * floor / us:.1f}%)" for c, us in timed.items() if us), flush=True)
    return [{"kernel": kernel, "shape": shape, "choice": c, "us": us,
             "pct_floor": None if us is None else 100 * floor / us} for c, us in timed.items()]


def verify_patterns(copy_gbs: float, target_verify: Callable | None) -> list[dict]:
    """At each verify shape: our verify (4, 8 and 16-row programs), SGLang's target_verify and the copies pattern at
    every tile and store policy, with one buffer set (every call writes the same buffer, as the bench did to round
    ten) and, where that set is under 4x the L2, rotated over enough sets that no call's writes land on lines the
    last one left in the L2 (``rotated``, two tiles; the bench's way from round eleven)."""
    l2 = torch.cuda.get_device_properties(0).L2_cache_size
    rows = []
    for tp, B in VERIFY_SHAPES:
        for sets in sorted({1, math.ceil(4 * l2 / VerifyCase.buffer_bytes(tp, B))}):
            tiles = TILES[:2] if sets > 1 else TILES
            rows += _verify_case(VerifyCase(tp, B, buffer_sets=sets), copy_gbs, target_verify, tiles)
            torch.cuda.empty_cache()
    return rows


def _verify_case(case: VerifyCase, copy_gbs: float, target_verify: Callable | None, tiles: list) -> list[dict]:
    timed = {f"ours {bv}x1": case.time_ours(bv, 1) for bv in (4, 8, 16)}
    timed["sglang"] = case.time_sgl(target_verify)
    timed |= {_tile(t, cm): case.time_pattern(t, cm) for t, cm in itertools.product(tiles, STORES)}
    sets = len(case.steps) // len(case.idx)
    return _rows("verify", case.shape() + (f" rotated x{sets}" if sets > 1 else ""), case.nbytes / (copy_gbs * 1e3),
                 timed)


def _mul_us(nbytes: int) -> float:
    """Graph median of an in-place ``mul_`` over ``nbytes // 2`` read and written, buffers rotated past 4x the L2."""
    l2 = torch.cuda.get_device_properties(0).L2_cache_size
    n = max(2, math.ceil(4 * l2 / nbytes))
    bufs = [torch.empty(nbytes // 8, device="cuda").uniform_() for _ in range(n)]
    return _time([lambda x=x: x.mul_(1.0) for x in bufs])


def in_place_patterns(copy_gbs: float) -> list[dict]:
    """Our in-place decode, an in-place ``mul_`` of its bytes, the in-place pattern at every tile through the slot
    index (streaming stores: write-back ones lost at every tile in round eleven's first call) and, at two tiles, with
    each set's slots sorted and taken in order without an index."""
    return _over_shapes(IN_PLACE_SHAPES, _in_place_case, copy_gbs)


def _in_place_case(case: DecodeCase, copy_gbs: float) -> list[dict]:
    timed = {"ours": case.time_ours(), "mul_": _mul_us(case.nbytes)}
    timed |= {_tile(t): case.time_pattern(t) for t in TILES}
    timed |= {f"{_tile(t)} {slots}": case.time_pattern(t, slots) for t in TILES[:2] for slots in ("sorted", "in order")}
    return _rows("in_place", f"{case.tp} B={case.B}", case.nbytes / (copy_gbs * 1e3), timed)


def read_patterns(copy_gbs: float) -> list[dict]:
    """The read pattern at every tile at the deferred decode's L = 16 shapes from B = 256, against that decode's
    read-only floor (state read + ring traffic + inputs and outputs; the pattern reads only the states)."""
    return _over_shapes(READ_SHAPES, _read_case, copy_gbs)


def _over_shapes(shapes, case_rows, copy_gbs: float) -> list[dict]:
    """``case_rows`` of each ``(tp, B)`` shape's decode case, freeing the case's pool before the next."""
    rows = []
    for tp, B in shapes:
        rows += case_rows(DecodeCase(tp, B), copy_gbs)
        torch.cuda.empty_cache()
    return rows


def _read_case(case: DecodeCase, copy_gbs: float) -> list[dict]:
    sums = torch.empty(case.B, case.HV, V, device="cuda")
    timed = {_tile(t): _time([lambda i=i, t=t: move_state(case.pool, i, "read", sums=sums, block_v=t[0],
                                                            block_rows=t[1], num_warps=t[2]) for i in case.idx])
             for t in TILES}
    floor = read_only_bytes(case.H, case.HV, case.B, 16) / (copy_gbs * 1e3)
    return _rows("read", f"{case.tp} B={case.B} L=16", floor, timed)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", default="results/bench/gdn-byte-pattern.json", help="where to write the rows")
    parser.add_argument("--parts", nargs="+", default=["verify", "in_place", "read"],
                        choices=["verify", "in_place", "read"])
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    copy_gbs = benchkit.copy_bandwidth_gbs()
    peers = sglang_peers.load()
    print(f"{torch.cuda.get_device_name()}  copy (1 GiB) {copy_gbs:.0f} GB/s  sglang {peers.version if peers else None}")
    rows = []
    with torch.inference_mode():
        if "verify" in args.parts:
            rows += verify_patterns(copy_gbs, peers.target_verify if peers else None)
        if "in_place" in args.parts:
            rows += in_place_patterns(copy_gbs)
        if "read" in args.parts:
            rows += read_patterns(copy_gbs)
    benchkit.write_results(args.json, "gdn-byte-pattern", rows, {"copy_gbs": copy_gbs})
    for kernel in ("verify", "in_place", "read"):
        benchkit.print_table([r for r in rows if r["kernel"] == kernel], ["shape", "choice", "us", "pct_floor"],
                             title=f"{kernel}: us and % of the bench's floor")


if __name__ == "__main__":
    main()
