"""Loading one installed SGLang module from its file leaves no stand-in behind and never imports ``sglang``."""

import sys

import pytest

from runtime import sglang_files
from runtime.projections import sglang_peer

pytestmark = pytest.mark.skipif(sglang_files.package_dir() is None, reason="SGLang is not installed")


def test_stand_ins_exist_only_while_the_file_runs():
    before = {name for name in sys.modules if name == "sglang" or name.startswith("sglang.")}
    module = sglang_peer.fused_proj()
    assert module is not None and callable(module.fused_qkvzba_split_reshape_cat)
    after = {name for name in sys.modules if name == "sglang" or name.startswith("sglang.")}
    assert after == before  # no stand-in (and no real sglang package) left in sys.modules
    assert sglang_peer.fused_proj() is module  # loaded once per process


def test_a_missing_file_is_none_and_a_failing_one_leaves_nothing(tmp_path, monkeypatch):
    assert sglang_files.load("no/such/file.py", {}) is None
    bad = tmp_path / "broken.py"
    bad.write_text("from sglang.srt.utils import is_hip\nraise RuntimeError('boom')\n")
    monkeypatch.setattr(sglang_files, "package_dir", lambda: tmp_path)
    with pytest.raises(RuntimeError, match="boom"):
        sglang_files.load("broken.py", {"sglang.srt.utils": {"is_hip": lambda: False}})
    assert "_sglang_file.broken" not in sys.modules and "sglang.srt.utils" not in sys.modules


def test_version_reads_the_installed_distribution():
    import re

    assert re.fullmatch(r"\d+\.\d+\.\d+.*", sglang_files.version() or "")
