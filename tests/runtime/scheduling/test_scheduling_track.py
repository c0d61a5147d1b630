"""The extra_buffer track rule picks, through the kernel's index arithmetic, exactly the state it names."""

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from runtime.scheduling.config import SGLANG_DEFAULTS
from runtime.scheduling.report import worked_example
from runtime.scheduling.track import (
    conv_aligned_len,
    decode_tracks,
    kernel_source,
    prefill_track,
    snapshot_depth,
)

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True)


@st.composite
def grids(draw):
    state_chunk = draw(st.sampled_from([2, 4, 8, 64]))
    page = draw(st.sampled_from([1, 2, 4, 16, 64, 128, 256]))
    cache_chunk = max(state_chunk, page)
    if cache_chunk % min(state_chunk, page):
        page = 1
        cache_chunk = state_chunk
    return state_chunk, cache_chunk, math.lcm(cache_chunk, page)


@SETTINGS
@given(grids(), st.integers(0, 3000), st.integers(1, 3000))
def test_prefill_snapshot_lands_on_the_named_depth(g, prefix, extend):
    state_chunk, cache_chunk, grid = g
    tr = prefill_track(prefix, extend, grid, state_chunk, cache_chunk)
    assert tr.mask == (extend >= grid)
    if not tr.mask:
        assert tr.depth is None and tr.kernel_seqlen == -1
        return
    assert tr.depth == prefix + extend // grid * grid
    assert prefix < tr.depth <= prefix + extend
    assert snapshot_depth(tr.kernel_seqlen, prefix, extend, state_chunk) == tr.depth
    assert conv_aligned_len(tr.kernel_seqlen, prefix, cache_chunk) == tr.depth - prefix
    source, j = kernel_source(tr.kernel_seqlen, prefix, state_chunk)
    if source == "h":
        assert 0 <= j < -(-extend // state_chunk)  # inside the row's h states


@SETTINGS
@given(grids(), st.integers(0, 3000), st.integers(1, 3000))
def test_plus_one_is_needed_exactly_when_the_depth_is_not_the_last_chunk_boundary(g, prefix, extend):
    """Handing the kernel ``seq_end`` would copy a different state whenever the rule adds the ``+1``."""
    state_chunk, cache_chunk, grid = g
    tr = prefill_track(prefix, extend, grid, state_chunk, cache_chunk)
    if not tr.mask:
        return
    naive = snapshot_depth(prefix + extend, prefix, extend, state_chunk)
    forced = tr.kernel_seqlen != prefix + extend
    assert forced == (naive != tr.depth)
    if forced:
        assert tr.kernel_seqlen == tr.depth + 1


@SETTINGS
@given(grids(), st.integers(0, 500), st.integers(1, 2000), st.integers(0, 4000))
def test_branching_point_overrides_the_depth(g, prefix, extend, branching):
    state_chunk, cache_chunk, grid = g
    plain = prefill_track(prefix, extend, grid, state_chunk, cache_chunk)
    tr = prefill_track(prefix, extend, grid, state_chunk, cache_chunk, branching)
    if not plain.mask:
        assert not tr.mask
        return
    inside = prefix < branching < plain.kernel_seqlen and (branching - prefix) % cache_chunk == 0
    assert tr.depth == (branching if inside else plain.depth)
    assert snapshot_depth(tr.kernel_seqlen, prefix, extend, state_chunk) == tr.depth


def test_decode_tracks_on_the_grid():
    assert [n for n in range(1000, 1301) if decode_tracks(n, 256)] == [1024, 1280]


def test_worked_example_defaults():
    """1000-token prompt, 300 new tokens, SGLang defaults (auto -> extra_buffer, chunk 64, interval 256)."""
    snapshots, kept = worked_example(1000, 300)
    prefill = 1000 // 64 * 64
    decode = [n for n in range(1001, 1300) if n % 256 == 0]
    assert [(p, d) for p, d, _ in snapshots] == [("prefill", prefill)] + [("decode", d) for d in decode]
    assert snapshots[0][2].startswith(f"h[{1000 // 64}]")
    assert kept == [("chunk", prefill), ("finish", decode[-1])]


def test_worked_example_no_buffer_and_coarse_page():
    _, kept = worked_example(1000, 300, SGLANG_DEFAULTS.with_(strategy="no_buffer", overlap=False))
    assert kept == [("chunk", 1000), ("finish", 1000 + 300 - 1)]
    snapshots, kept = worked_example(1000, 20, SGLANG_DEFAULTS.with_(page_size=128))
    assert snapshots == [("prefill", 896, f"h[{897 // 64}] (kernel told seq 897)")]
    assert kept == [("chunk", 896)]
