"""A fetch's waiting on GitHub: one budget for the run, and the pause every PR holds while a rate limit lasts.

Two answers make a fetch wait: a rate limit (the client's, not a PR's: every PR holds until it ends) and HTTP 202,
"still computing" (PyGithub asks that PR again a moment later). Both draw on one budget per run, $DOSSIER_HTTP_WAIT
seconds: the time during which some PR waits, so waits that overlap count once, and a run never spends more than
the budget waiting, however many PRs it fetches. A wait the budget cannot cover is not begun.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: the environment variable that sets the budget
ENV = "DOSSIER_HTTP_WAIT"
#: a pause moved later by less than this (the wait line's precision) is not said again
SAID_TO = 1.0


class NotWaited(Exception):
    """A wait that the budget left cannot cover; ``str(exc)`` says by how much."""


class Cancelled(Exception):
    """The fetch was interrupted while this PR held for a pause."""


class Waits:
    """The run's waits: ``spent`` of ``budget`` seconds so far, and the rate-limit pause under way (if any)."""

    def __init__(self, budget: float, clock: Callable[[], float] = time.monotonic):
        self.budget, self.spent = budget, 0.0
        self._clock = clock
        self._cond = threading.Condition()
        self._paused_until = 0.0  # the rate-limit pause's end (clock time)
        self._said_until = 0.0  # that end as the last wait line gave it
        self._counted_until = 0.0  # the end of the latest wait counted in ``spent``
        self._cancelled = False

    def left(self) -> float:
        return max(0.0, self.budget - self.spent)

    def _cost(self, now: float, until: float) -> float:
        """What the wait from ``now`` to ``until`` costs (only what no earlier wait covers), or NotWaited."""
        cost = max(0.0, until - max(now, self._counted_until))
        if cost > self.left():
            raise NotWaited(f"{cost:.0f}s is more than the {self.left():.0f}s left of {ENV}={self.budget:g}")
        return cost

    def _count(self, cost: float, until: float) -> None:
        self.spent += cost
        self._counted_until = max(self._counted_until, until)

    def computing(self, seconds: float) -> None:
        """One PR waits ``seconds`` before asking again (a 202), or NotWaited."""
        with self._cond:
            now = self._clock()
            self._count(self._cost(now, now + seconds), now + seconds)

    def pause(self, seconds: float, deadline: float | None = None) -> float | None:
        """Hold every PR ``seconds`` from now (at least 1, so a `Retry-After: 0` that keeps coming still spends the
        budget); NotWaited when the budget or ``deadline`` (clock time) ends first. Returns the seconds to the
        pause's end when a line should say so: the pause begins, or moves later by a second or more; None when
        this limit joins the pause under way (requests in flight when a limit begins are limited a moment later)."""
        with self._cond:
            now = self._clock()
            until = max(self._paused_until, now + max(1.0, seconds))
            cost = self._cost(now, until)
            if deadline is not None and until >= deadline:
                raise NotWaited("the fetch deadline (--deadline) ends before it")
            self._count(cost, until)
            self._paused_until = until
            if until - self._said_until < SAID_TO:
                return None
            self._said_until = until
            return until - now

    def hold(self) -> None:
        """Wait while a pause lasts (it may move later meanwhile); Cancelled once :meth:`cancel` is called."""
        self._wait_until(lambda: self._paused_until)

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` (a retry's backoff: not drawn from the budget); Cancelled once :meth:`cancel` is called."""
        end = self._clock() + seconds
        self._wait_until(lambda: end)

    def _wait_until(self, until: Callable[[], float]) -> None:
        """Block until the clock reaches ``until()`` (read again on each wake), or raise Cancelled."""
        with self._cond:
            while not self._cancelled and (left := until() - self._clock()) > 0:
                self._cond.wait(left)
            if self._cancelled:
                raise Cancelled

    def cancel(self) -> None:
        """End every hold now (Ctrl-C): a thread asleep in one would keep the process alive until it was over."""
        with self._cond:
            self._cancelled = True
            self._cond.notify_all()
