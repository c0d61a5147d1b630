"""SGLang's kernels load from the installed files for the bench, and the bench skips them cleanly without sglang."""

import importlib.util
import sys

import pytest

from runtime.gdn import sglang_peers


@pytest.fixture
def fresh_loader(monkeypatch):
    sglang_peers.load.cache_clear()
    yield
    sglang_peers.load.cache_clear()


def test_peers_load_from_the_installed_files_without_importing_sglang(fresh_loader):
    if sglang_peers.sglang_root() is None:
        pytest.skip("sglang not installed")
    peers = sglang_peers.load()
    assert peers.version and (peers.root / "kernels").is_dir()
    for name in ("packed_decode", "replayssm_decode", "target_verify"):
        fn = getattr(peers, name)
        assert callable(fn) and fn.__module__.startswith("_sglang_peer_"), name
    assert peers.replayssm_decode.__name__ == "fused_recurrent_linear_replayssm_decode"
    assert not hasattr(sys.modules.get("sglang"), "__file__")  # the package __init__ never ran


def test_no_sglang_means_no_peers(fresh_loader, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sglang" else real(name, *a))
    assert sglang_peers.sglang_root() is None
    assert sglang_peers.load() is None


def test_a_missing_kernel_file_leaves_only_that_column_empty(fresh_loader, monkeypatch, tmp_path, capsys):
    (tmp_path / "kernels/ops/attention/linear").mkdir(parents=True)
    (tmp_path / "kernels/ops/attention/linear/fused_recurrent_linear_replayssm.py").write_text(
        "def fused_recurrent_linear_replayssm_decode():\n    return 'ok'\n"
    )
    monkeypatch.setattr(sglang_peers, "sglang_root", lambda: tmp_path)
    peers = sglang_peers.load()
    assert peers.replayssm_decode() == "ok"
    assert peers.packed_decode is None and peers.target_verify is None
    assert "not loaded" in capsys.readouterr().out
