"""The `dossier` console script: the CLI, where Ctrl-C at any moment (while its modules are still being
imported too) ends with exit 130 and one line, never a traceback. SIGTERM (`kill`, a CI timeout) takes the
same path, exit 143: files being written are left as they were (see :mod:`dossier.files`)."""

from __future__ import annotations

import signal
import sys

INTERRUPTED_EXIT = 130  # 128 + SIGINT, what a shell reports
TERMINATED_EXIT = 128 + signal.SIGTERM


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the main thread is, so that it unwinds as Ctrl-C does."""


def _terminate(signum, frame) -> None:
    raise Terminated


def interrupted(exc: KeyboardInterrupt) -> tuple[str, int]:
    """The one line and the exit code for an interrupt."""
    return ("terminated", TERMINATED_EXIT) if isinstance(exc, Terminated) else ("interrupted", INTERRUPTED_EXIT)


def main() -> None:
    try:
        signal.signal(signal.SIGTERM, _terminate)
        from dossier.cli import app

        app()
    except KeyboardInterrupt as exc:
        line, code = interrupted(exc)
        sys.stderr.write(line + "\n")
        sys.exit(code)


if __name__ == "__main__":
    main()
