"""The run's wait budget and the rate-limit pause, on a clock the test moves (no real waiting)."""

from __future__ import annotations

import pytest

from dossier.sources.waits import NotWaited, Waits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_limit_caught_during_a_pause_joins_it_and_is_said_only_when_it_moves_the_end_a_second():
    clock = Clock()
    waits = Waits(300, clock)
    assert waits.pause(60) == 60  # a pause begins: said
    clock.now += 0.3
    assert waits.pause(60) is None  # a request in flight, limited a moment later: the same pause, 0.3 s longer
    clock.now += 0.5
    assert waits.pause(60) is None  # 0.8 s past the end said
    clock.now += 20
    assert waits.pause(60) == pytest.approx(60)  # 20.8 s later than said: a line with the new end
    assert waits.spent == pytest.approx(80.8)  # the pause's wall time, counted once
    clock.now += 61
    assert waits.pause(5) == 5  # the pause is over: a new one


def test_overlapping_waits_count_once_and_every_kind_draws_on_the_one_budget():
    clock = Clock()
    waits = Waits(10, clock)
    waits.computing(2)  # a PR answered 202 waits 2 s
    clock.now += 1
    waits.computing(2)  # another, overlapping the first by 1 s
    assert waits.spent == pytest.approx(3)
    with pytest.raises(NotWaited, match=r"^8s is more than the 7s left of DOSSIER_HTTP_WAIT=10$"):
        waits.pause(10)  # 2 of its 10 s overlap the 202 waits
    assert waits.pause(6) == 6
    assert waits.spent == pytest.approx(7)  # 3 + the 4 s beyond the 202 waits
    waits.computing(1.5)  # inside the pause: costs nothing
    clock.now += 10
    with pytest.raises(NotWaited):
        waits.computing(4)
    assert waits.spent == pytest.approx(7)  # a wait not begun costs nothing


def test_a_pause_the_deadline_would_cut_is_not_begun_and_costs_nothing():
    clock = Clock()
    waits = Waits(300, clock)
    with pytest.raises(NotWaited, match=r"^the fetch deadline \(--deadline\) ends before it$"):
        waits.pause(5, deadline=clock.now + 4)
    assert waits.spent == 0 and waits.pause(0, deadline=clock.now + 4) == 1  # Retry-After: 0 counts a second
