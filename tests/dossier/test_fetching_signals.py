"""A fetch answers Ctrl-C at once, whichever thread the kernel hands the signal to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(signal, "pthread_kill"), reason="POSIX thread signals")

CHILD = textwrap.dedent("""
    import signal, sys, threading, time
    from dossier.fetching import FetchInterrupted, fetch_many
    from dossier.sources import SourceError
    from dossier.sources.cache import Cache

    entered, over = threading.Event(), threading.Event()

    class Waiting:  # a PR held 20 s, as a rate limit holds one
        name, repo = "waiting", "sgl-project/sglang"

        def fetch(self, pr):
            Waiting.thread = threading.get_ident()
            entered.set()
            time.sleep(20)
            over.set()
            raise SourceError("waited")

    def ctrl_c_on_the_worker():
        entered.wait()
        time.sleep(0.5)  # the main thread is asleep in its wait by now
        signal.pthread_kill(Waiting.thread, signal.SIGINT)

    threading.Thread(target=ctrl_c_on_the_worker, daemon=True).start()
    start = time.monotonic()
    try:
        fetch_many([1], Waiting(), Cache(sys.argv[1]))
        print("finished")
    except FetchInterrupted:
        print(f"interrupted after {time.monotonic() - start:.1f}s, wait over: {over.is_set()}")
""")


def test_ctrl_c_taken_by_a_worker_thread_interrupts_the_fetch_at_once(tmp_path):
    """The main thread slept in the queue until a PR ended: a Ctrl-C taken by a worker (or landing just before the
    main thread slept) waited for it, minutes under a rate limit. Now it is acted on within a fraction of a second."""
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "cache")], capture_output=True, text=True,
                          env=env, timeout=60, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert done.returncode == 0, done.stderr
    verdict = done.stdout.strip()
    assert verdict.startswith("interrupted after") and verdict.endswith("wait over: False"), verdict
    assert float(verdict.split()[2].rstrip("s,")) < 5, verdict
