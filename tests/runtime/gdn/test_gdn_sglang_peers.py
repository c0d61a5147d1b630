"""SGLang's kernels load from the installed files for the bench, and the bench skips them cleanly without sglang."""

import sys

import pytest

from runtime import sglang_files
from runtime.gdn import sglang_peers


@pytest.fixture
def fresh_loader(monkeypatch):
    sglang_peers.load.cache_clear()
    yield
    sglang_peers.load.cache_clear()


def test_peers_load_from_the_installed_files_without_importing_sglang(fresh_loader):
    if sglang_files.package_dir() is None:
        pytest.skip("sglang not installed")
    peers = sglang_peers.load()
    assert peers.version and (peers.root / "kernels").is_dir()
    for name in ("packed_decode", "replayssm_decode", "target_verify"):
        fn = getattr(peers, name)
        assert callable(fn) and fn.__module__.startswith("_sglang_file."), name
    assert peers.replayssm_decode.__name__ == "fused_recurrent_linear_replayssm_decode"
    assert "sglang" not in sys.modules or not hasattr(sys.modules["sglang"], "__file__")  # its __init__ never ran


def test_no_sglang_means_no_peers(fresh_loader, monkeypatch):
    monkeypatch.setattr(sglang_files, "package_dir", lambda: None)
    assert sglang_peers.load() is None


def test_a_missing_kernel_file_leaves_only_that_column_empty(fresh_loader, monkeypatch, tmp_path, capsys):
    (tmp_path / "kernels/ops/attention/linear").mkdir(parents=True)
    (tmp_path / "kernels/ops/attention/linear/fused_recurrent_linear_replayssm.py").write_text(
        "def fused_recurrent_linear_replayssm_decode():\n    return 'ok'\n"
    )
    monkeypatch.setattr(sglang_files, "package_dir", lambda: tmp_path)
    for name in [m for m in sys.modules if m.startswith("_sglang_file.kernels.ops.attention")]:
        monkeypatch.delitem(sys.modules, name)  # loaded from the real package by an earlier test
    peers = sglang_peers.load()
    assert peers.replayssm_decode() == "ok"
    assert peers.packed_decode is None and peers.target_verify is None
    assert "not found" in capsys.readouterr().out
