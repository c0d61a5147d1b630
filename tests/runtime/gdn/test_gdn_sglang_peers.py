"""SGLang's kernels load from the installed files for the bench, and the bench skips them cleanly without sglang."""

import sys

import pytest
import torch

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
    for name in ("packed_decode", "replayssm_decode", "target_verify", "spec_verify", "spec_advance", "spec_fold",
                 "target_accept"):
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


@pytest.mark.gpu
def test_sglang_spec_verify_does_the_work_ours_does(fresh_loader, parity):
    """The bench's ring-verify row calls SGLang's spec verify and its two commit steps as its backend does: from the
    same checkpoint and ring (its compact bf16 parts split from our fp32 entries, cursors at our fills), four
    verify + commit rounds with the same acceptance give the same outputs as ours (1e-2: its verify reads the bf16
    high parts of the history and takes TF32 dots), its capacity folds among them. Our rounds alternate the replayed
    verify and the output-only one."""
    from runtime.gdn import bench_spec_verify

    if sglang_files.package_dir() is None:
        pytest.skip("sglang not installed")
    fn = bench_spec_verify.SglangSpec.of(sglang_peers.load())
    assert fn is not None
    torch.manual_seed(7)
    case = bench_spec_verify.SpecCase("TP4", 16, n_sets=1)
    idx = case.idx[0].long()
    case.cache_base[idx] = 0
    case.write_pos[idx] = case.fills[0][0].clamp_max(case.L - 2 * case.T)
    for f in case.fills[0]:
        f.copy_(case.write_pos[idx])
    folds = 0
    for r in range(4):
        case.ours_step(0, r % 2, bench_spec_verify.VerifyTile(r % 2 == 1, 4 if r % 2 == 0 else 32))
        ours = case.out.float().clone()
        base = case.cache_base[idx].clone()
        case.sgl_step(fn, 0)
        folds += int((case.cache_base[idx] != base).sum())
        parity(f"round {r}: SGLang spec verify vs ours", case.out.float(), ours, 1e-2)
    assert folds


@pytest.mark.gpu
def test_sglang_accept_scatter_is_our_commit(fresh_loader):
    """The bench's verify step accepts SGLang's drafts with its fused state scatter (one layer, as
    ``scatter_mamba_states_after_mtp_verify`` passes the pool and the intermediate-state buffer) and ours with
    ``commit_accepted``: from the same pool and buffer the two leave the same pool, bit for bit: accepted steps from -1
    (nothing) to T - 1, buffer rows apart from the requests' order, one padding slot."""
    from runtime.gdn.verify import commit_accepted

    if sglang_files.package_dir() is None:
        pytest.skip("sglang not installed")
    accept = sglang_peers.load().target_accept
    assert accept is not None
    g = torch.Generator(device="cuda").manual_seed(31)
    B, T, HV, V, K = 6, 4, 8, 128, 128
    pool = torch.randn(2 * B, HV, V, K, device="cuda", generator=g)
    buffer = torch.randn(B + 2, T, HV, V, K, device="cuda", generator=g)
    slots = torch.randperm(2 * B, device="cuda", generator=g)[:B].to(torch.int32)
    slots[3] = -1
    rows = torch.randperm(B + 2, device="cuda", generator=g)[:B].to(torch.int32)
    last = torch.tensor([-1, 0, 1, 2, 3, 3], device="cuda", dtype=torch.int32)
    ours, theirs = pool.clone(), pool.clone()
    commit_accepted(ours, slots, buffer, rows, last)
    accept(theirs[None], buffer[None], slots, last, rows)
    assert torch.equal(ours, theirs) and not torch.equal(ours, pool)
