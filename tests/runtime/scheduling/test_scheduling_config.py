"""Configuration rules as SGLang 0.5.23 applies them at start-up."""

import pytest

from runtime.scheduling.config import SGLANG_DEFAULTS, ConfigError, Knobs, resolve
from runtime.scheduling.request import ReqSpec
from runtime.scheduling.scheduler import Simulator


def test_auto_resolution():
    assert resolve(Knobs()).mode == "extra_buffer"  # overlap is on by default
    r = resolve(Knobs(overlap=False))
    assert (r.mode, r.overlap, r.ping_pong) == ("no_buffer", False, 0)
    assert resolve(Knobs(overlap=False, page_size=4)).mode == "extra_buffer"  # paging wants extra_buffer
    assert resolve(Knobs(radix=False, page_size=4)).mode == "none"


def test_no_buffer_needs_page_one_and_no_overlap():
    with pytest.raises(ConfigError, match="page_size=1"):
        resolve(Knobs(strategy="no_buffer", overlap=False, page_size=4))
    with pytest.raises(ConfigError, match="overlap"):
        resolve(Knobs(strategy="no_buffer", overlap=True))
    assert resolve(Knobs(strategy="no_buffer", overlap=False)).mode == "no_buffer"


def test_extra_buffer_rules_and_grids():
    with pytest.raises(ConfigError, match="track_interval"):
        resolve(Knobs(page_size=32, chunk_size=64, track_interval=48, state_chunk=4))
    with pytest.raises(ConfigError, match="divisible"):
        resolve(Knobs(chunk_size=18, page_size=4))
    r = resolve(SGLANG_DEFAULTS)
    assert (r.cache_chunk, r.checkpoint_grid, r.track_grid, r.ping_pong) == (64, 64, 256, 2)
    r = resolve(SGLANG_DEFAULTS.with_(page_size=128))
    assert (r.cache_chunk, r.checkpoint_grid, r.track_grid) == (128, 128, 256)
    assert resolve(Knobs(overlap=False, page_size=4)).ping_pong == 1


def test_mixed_chunk_with_extra_buffer_is_accepted():
    """0.5.23 has no #22876-style guard: the combination starts (and the invariant tests show it is safe)."""
    r = resolve(Knobs(strategy="extra_buffer", mixed=True))
    assert r.mode == "extra_buffer" and not r.warnings


def test_small_prefill_chunk_warns_and_donates_nothing_mid_prompt():
    """chunked_prefill_size below the cache chunk: a warning, and unfinished chunks are never tracked."""
    knobs = Knobs(chunk_size=2, state_chunk=4)
    assert any("below mamba_cache_chunk_size" in w for w in resolve(knobs).warnings)
    prompt = tuple(range(3, 23))
    sim = Simulator(knobs, [ReqSpec(0, prompt, 3)]).run()
    assert not [d for d in sim.stats.donations if d.kind == "chunk"]
    assert sim.stats.snapshots == 0
