"""What git has committed of the project's files under cards/: a working file that is its committed version cut
after a whole line (a copy, a save or a checkout that stopped) is still YAML, and would reach the manual thinner
with nothing said: list items, a last field or whole sentences gone."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

#: a git that does not answer in this time is taken as no git: lint must not hang on it
GIT_TIMEOUT_S = 10


def cut_since_commit(root: Path, files: list[Path]) -> dict[Path, tuple[int, int]]:
    """The files of ``files`` (under ``root``/cards) that are their version at git's HEAD cut after a whole line:
    path -> (lines kept, lines committed). Empty where there is no git, no repository or no commit."""
    wanted = {f.resolve(): f for f in files}
    lines = _git(root, "diff", "--no-ext-diff", "--no-renames", "--relative", "--numstat", "-z", "HEAD", "--", "cards")
    out: dict[Path, tuple[int, int]] = {}
    for record in (lines or b"").split(b"\0"):
        added, _, rest = record.partition(b"\t")
        deleted, _, name = rest.partition(b"\t")
        if added != b"0" or not deleted.isdigit() or deleted == b"0" or not name:
            continue  # a cut only removes lines
        path = (root / os.fsdecode(name)).resolve()
        if path not in wanted:
            continue
        committed = _git(root, "show", f"HEAD:./{os.fsdecode(name)}")
        try:
            now = wanted[path].read_bytes()
        except OSError:
            continue
        if committed and now.endswith(b"\n") and len(now) < len(committed) and committed.startswith(now):
            out[wanted[path]] = (now.count(b"\n"), committed.count(b"\n"))
    return out


def committed_but_missing(root: Path, files: list[Path]) -> list[Path]:
    """The files of ``files`` (paths relative to ``root``) that git's HEAD holds and the working tree does not: a
    lock deleted by hand or lost in a merge. Empty where there is no git, no repository or no commit."""
    listed = _git(root, "ls-tree", "-z", "--name-only", "HEAD", "--", *(f.as_posix() for f in files))
    held = {os.fsdecode(n) for n in (listed or b"").split(b"\0") if n}
    return [f for f in files if f.as_posix() in held and not os.path.lexists(root / f)]


def _git(root: Path, *args: str) -> bytes | None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}  # the project's own repository
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=GIT_TIMEOUT_S, env=env,
                              stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None
