"""Child processes that end with dossier's own: a SIGKILL (the OOM killer, `timeout -s KILL`) ends dossier with no
chance to act, and a child it started (pip downloading a release) ran on, orphaned, writing a wheel into a folder
the next run had already swept."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _libc_prctl() -> Callable | None:
    """libc's prctl, looked up in the parent (the child between fork and exec does as little as it can)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_prctl = _libc_prctl()


def dies_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that has the kernel kill the child when the thread that starts it ends (Linux: the parent
    death signal), or None where there is no such signal. Start the child from the main thread."""
    if _prctl is None:
        return None
    parent = os.getpid()

    def arm() -> None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # dossier died between the fork and the line above
            os._exit(1)

    return arm
