"""Measurement helpers shared by the runtime benchmarks (see .library METHOD: medians, graphs, floors).

Every lane's ``bench`` module prints a table with :func:`print_table` and writes the same rows with
:func:`write_results`, whose JSON shape ``dossier regress`` and ``dossier render`` read:

    {"lane": str, "device": {...}, "date": "YYYY-MM-DD", "ceilings": {...}, "rows": [{...}, ...]}

always standard JSON: a NaN or infinity is written as null and listed under ``"not_finite": {"rows[1].us": "NaN"}``.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import torch


def device_info() -> dict:
    """Name, driver and library versions of the device the numbers come from."""
    info = {"torch": torch.__version__, "cuda": torch.version.cuda}
    try:
        import triton

        info["triton"] = triton.__version__
    except ImportError:
        info["triton"] = None
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info["name"] = props.name
        info["sms"] = props.multi_processor_count
        try:
            import subprocess

            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                capture_output=True, text=True, timeout=10,
            )
            info["driver"] = out.stdout.strip().splitlines()[0] if out.returncode == 0 else None
        except (OSError, IndexError, subprocess.SubprocessError):
            info["driver"] = None
    else:
        info["name"] = "cpu"
        info["driver"] = None
    return info


def cuda_graph_median_us(fn: Callable[[], object], *, replays: int = 20, reps: int = 50) -> float:
    """Median time of one call of ``fn`` in microseconds, captured in a CUDA graph.

    The graph holds ``replays`` back-to-back calls so launch gaps are amortised; ``fn`` must be
    capturable (no host syncs, static shapes). Rotate inputs inside ``fn`` if they would fit in L2.
    """
    graph = _captured(fn, replays)
    torch.cuda.synchronize()
    return _event_median_us(graph.replay, reps) / replays


def _captured(fn: Callable[[], object], replays: int) -> torch.cuda.CUDAGraph:
    """A CUDA graph of ``replays`` back-to-back calls of ``fn`` (warmed up on a side stream first), replayed once."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(replays):
            fn()
    graph.replay()
    return graph


GPU_DELAY_CYCLES = 200_000  # ~0.1 ms at boost clock: covers the host's enqueueing of a timed graph


def cuda_graph_medians_us(
    fns: dict[str, Callable[[], object]], *, replays: int = 20, reps: int = 100, seed: int = 0
) -> dict[str, float]:
    """:func:`cuda_graph_median_us` of several callables, timed interleaved: every graph is captured first, then
    each of ``reps`` rounds replays all of them once in a fresh random order (``seed``), so drift in clocks or memory
    state over the run, and whatever the previous replay leaves behind, falls on every path alike. Before each timed
    replay the stream gets a short spin kernel (``torch.cuda._sleep``), so the start event fires only once the host
    has enqueued the graph: the time is the GPU's, not the host's launch latency (which, timed, read 0.7 to 2.9 us
    per call for the same empty kernel depending on what ran before it). Median per name, in microseconds per call."""
    graphs = {name: _captured(fn, replays) for name, fn in fns.items()}
    torch.cuda.synchronize()
    order = list(graphs)
    rng = random.Random(seed)
    times: dict[str, list[float]] = {name: [] for name in order}
    for _ in range(reps):
        rng.shuffle(order)
        for name in order:
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            torch.cuda._sleep(GPU_DELAY_CYCLES)
            start.record()
            graphs[name].replay()
            end.record()
            end.synchronize()
            times[name].append(start.elapsed_time(end) * 1000.0 / replays)
    return {name: statistics.median(v) for name, v in times.items()}


def eager_median_us(fn: Callable[[], object], *, reps: int = 50) -> float:
    """Median time of one eager call of ``fn`` in microseconds (CUDA events)."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    return _event_median_us(fn, reps)


def _event_median_us(fn: Callable[[], object], reps: int) -> float:
    """Median over ``reps`` calls of ``fn``, each timed alone with CUDA events."""
    times = []
    for _ in range(reps):
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) * 1000.0)
    return statistics.median(times)


def copy_bandwidth_gbs(nbytes: int = 1 << 30) -> float:
    """Measured device-to-device copy bandwidth, counting bytes read plus bytes written."""
    src = torch.empty(nbytes // 4, dtype=torch.float32, device="cuda").uniform_()
    dst = torch.empty_like(src)
    us = eager_median_us(lambda: dst.copy_(src), reps=20)
    return 2 * nbytes / (us * 1e-6) / 1e9


def read_bandwidth_gbs(nbytes: int = 1 << 30) -> float:
    """Measured device read bandwidth: a sum over ``nbytes`` of fp32 (bytes read only; the result is one number)."""
    src = torch.empty(nbytes // 4, dtype=torch.float32, device="cuda").uniform_()
    us = eager_median_us(lambda: src.sum(), reps=20)
    return nbytes / (us * 1e-6) / 1e9


def gemm_tflops(n: int = 8192, dtype: torch.dtype = torch.bfloat16) -> float:
    """Measured dense matrix-product rate on random data."""
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    us = eager_median_us(lambda: a @ b, reps=10)
    return 2 * n**3 / (us * 1e-6) / 1e12


def print_table(rows: Sequence[dict], columns: Sequence[str], title: str | None = None) -> None:
    """Print rows as an aligned plain-text table (floats to 3 significant digits)."""

    def fmt(v: object) -> str:
        if isinstance(v, float):
            return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
        return "-" if v is None else str(v)

    cells = [[fmt(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) if cells else len(c) for i, c in enumerate(columns)]
    if title:
        print(title)
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=False)))
    for row in cells:
        print("  ".join(v.rjust(w) for v, w in zip(row, widths, strict=False)))


def print_targets(targets: dict[str, bool]) -> None:
    """One ``target NAME: PASS|FAIL`` line per target a bench judged from its rows."""
    for name, ok in targets.items():
        print(f"target {name}: {'PASS' if ok else 'FAIL'}")


def span(values: Sequence[float], digits: int = 2) -> str:
    """``lo-hi`` of measured values, both ends rounded down, so a summary never shows more than was measured:
    1.296 and 1.8649 read ``1.29-1.86``, not ``1.30-1.86`` beside a missed 1.3x target, nor ``1.29-1.87``."""
    scale, fmt = 10**digits, f"{{:.{digits}f}}"
    lo, hi = (math.floor(v * scale + 1e-9) / scale for v in (min(values), max(values)))
    return fmt.format(lo) if lo == hi else f"{fmt.format(lo)}-{fmt.format(hi)}"


def read_document(path: str | os.PathLike, fields: Sequence[str] = ("rows",)) -> dict:
    """A results document (write_results') holding ``fields``; SystemExit with one line naming ``path`` when it is
    missing, not a file, not JSON (a copy cut short), or not such a document."""
    if not Path(path).is_file():  # a pipe is never opened to wait on
        raise SystemExit(f"{path}: {'not a file' if os.path.lexists(path) else 'no such file'}; give the results "
                         "document the run wrote (its --json or --part-dir)")
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
        raise SystemExit(f"{path}: not a readable results document ({why}); write it again (the run's --json or "
                         "--part-dir)") from None
    missing = [f for f in fields if not isinstance(doc, dict) or f not in doc]
    if missing:
        raise SystemExit(f"{path}: not a results document (it has no {', '.join(missing)}); write it again (the "
                         "run's --json or --part-dir)")
    return doc


def resummarize(path: str | os.PathLike, summarize: Callable[[list[dict]], list[str]]) -> list[str]:
    """Rewrite a results document's summary lines from its own rows (device, date and rows kept as measured)."""
    path = Path(path)
    doc = read_document(path)
    doc["summary"] = summarize(doc["rows"])
    _write_json(path, doc)
    return doc["summary"]


def _finite(value: object, path: str, found: dict[str, str]) -> object:
    """``value`` with every NaN or infinity replaced by None, each recorded in ``found`` by its path (``rows[1].us``)
    as Python's json would write it."""
    if isinstance(value, float) and not math.isfinite(value):
        found[path] = "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
        return None
    if isinstance(value, dict):
        return {k: _finite(v, f"{path}.{k}" if path else str(k), found) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value


def _write_json(path: Path, doc: dict) -> None:
    """Write ``doc`` to ``path`` atomically (a reader never sees half a document), as standard JSON: a NaN or an
    infinity (a broken kernel's error, a division by a zero time) is written as null and listed under
    ``not_finite`` by its field, with a warning; `dossier regress` refuses such a document as a card's benchmark."""
    found: dict[str, str] = {}
    doc = _finite(doc, "", found)
    if found:
        doc["not_finite"] = {**(doc.get("not_finite") or {}), **found}
        listed = ", ".join(f"{where} {word}" for where, word in found.items())
        print(f"warning: {path}: {len(found)} number(s) JSON cannot hold, written as null and listed under "
              f"not_finite: {listed}", file=sys.stderr)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=True, allow_nan=False) + "\n")
    tmp.replace(path)


def write_results(path: str | os.PathLike, lane: str, rows: Sequence[dict], ceilings: dict | None = None,
                  **extra: object) -> Path:
    """Write a benchmark's rows as JSON (atomically) for ``dossier regress`` to pick up."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "lane": lane,
        "device": device_info(),
        "date": _dt.date.today().isoformat(),
        "ceilings": ceilings or {},
        "rows": list(rows),
        **extra,
    }
    _write_json(path, doc)
    return path
