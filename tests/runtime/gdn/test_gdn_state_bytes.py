"""The no-arithmetic kernel behind ``python -m runtime.gdn.byte_pattern``: it moves exactly the bytes it names."""

import pytest
import torch

from runtime.gdn.state_bytes import move_state

from ._gdn_cases import DEVICE, gen, nan_like, randn

HV, V, K, B, T = 2, 16, 16, 3, 3


@pytest.mark.parametrize("tile", [(4, 4, 1), (16, 4, 2)], ids=["4x1", "16by4x2"])
@pytest.mark.parametrize("indexed", [True, False], ids=["indexed", "in-order"])
def test_move_state_copies_reads_and_rewrites_the_slots(tile, indexed):
    """copies: every draft entry of each row's buffer entry holds its slot's state, other entries stay NaN;
    read: each row's sum; in place: the pool as it was. Indexed: slots and entries from the index tensors;
    in order: slot and entry ``i`` for row ``i``."""
    g = gen(31)
    pool = randn(6, HV, V, K, gen=g)
    frozen = pool.clone()
    idx = torch.tensor([4, 0, 2], dtype=torch.int32, device=DEVICE) if indexed else None
    entries = torch.tensor([3, 1, 0], dtype=torch.int32, device=DEVICE)
    slots = idx.long() if indexed else torch.arange(B, device=DEVICE)
    used = entries.long() if indexed else torch.arange(B, device=DEVICE)
    kw = {"batch": B, "block_v": tile[0], "block_rows": tile[1], "num_warps": tile[2]}

    buffer = nan_like((B + 1, T, HV, V, K))
    move_state(pool, idx, "copies", buffer=buffer, buffer_indices=entries, **kw)
    for t in range(T):
        assert torch.equal(buffer[used, t], pool[slots])
    spare = torch.ones(B + 1, dtype=torch.bool, device=DEVICE)
    spare[used] = False
    assert torch.isnan(buffer[spare]).all()

    sums = nan_like((B, HV, V))
    move_state(pool, idx, "read", sums=sums, **kw)
    torch.testing.assert_close(sums, pool[slots].sum(-1), rtol=1e-5, atol=1e-5)

    move_state(pool, idx, "in_place", **kw)
    assert torch.equal(pool, frozen)


def test_move_state_rejects_what_it_cannot_move():
    pool = randn(2, HV, V, K, gen=gen(1))
    with pytest.raises(ValueError, match="buffer"):
        move_state(pool, None, "copies", batch=2, buffer=nan_like((2, T, HV, V, K + 1)))
    with pytest.raises(ValueError, match="block_rows"):
        move_state(pool, None, "in_place", batch=2, block_v=8, block_rows=3)
