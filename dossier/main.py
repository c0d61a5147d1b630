"""The `dossier` console script: the CLI, where Ctrl-C at any moment (while its modules are still being
imported too) ends with exit 130 and one line, never a traceback."""

from __future__ import annotations

import sys

INTERRUPTED_EXIT = 130  # 128 + SIGINT, what a shell reports


def main() -> None:
    try:
        from dossier.cli import app

        app()
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(INTERRUPTED_EXIT)


if __name__ == "__main__":
    main()
