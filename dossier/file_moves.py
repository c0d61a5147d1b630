"""Where a file SGLang deleted went: among the files the same release added, the one whose lines match it most, if
at least half alike (git's default rename threshold), followed release by release to the last one scanned; else a
file that already existed and newly defines at least half of its top-level functions and classes (the code merged
into it), where the trail ends.

A lead read from content, not proof that the code moved: a file split in two is named by its larger half, and code
merged elsewhere under other names is not found (the file is then taken as removed)."""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dossier.python_defs import definitions
from dossier.source_tree import SourceTree, in_wheel

#: the least similarity (difflib's ratio of the two files' non-blank lines) taken for a move
ALIKE = 0.5


@dataclass(frozen=True)
class Move:
    """The file's lines went to ``file`` in release ``version``, ``percent`` alike; ``percent`` None: the release
    deleted it and added no file ``ALIKE``, and ``file`` (None: none) is one it already had that newly defines the
    deleted file's top-level names (the last move of a file)."""

    version: str
    file: str | None
    percent: int | None

    def to_data(self) -> list:
        return [self.version, self.file, self.percent]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def successor(old: str, added: dict[str, str]) -> tuple[str, int] | None:
    """The path of ``added`` (path -> text) most like ``old`` and how alike in percent, or None when none is
    ``ALIKE``; ties go to the first path in sorted order."""
    before = _lines(old)
    if not before:
        return None
    best: tuple[float, str] | None = None
    for path in sorted(added):
        match = difflib.SequenceMatcher(None, before, _lines(added[path]), autojunk=False)
        # the cheap upper bounds first: most added files share few lines with the deleted one
        if match.real_quick_ratio() < ALIKE or match.quick_ratio() < ALIKE:
            continue
        ratio = match.ratio()
        if ratio >= ALIKE and (best is None or ratio > best[0]):
            best = (ratio, path)
    return (best[1], int(best[0] * 100)) if best else None


def _top_level_names(text: str) -> set[str]:
    """The functions and classes ``text`` defines at module level, those under a module-level `if`/`try` (a guarded
    or platform-conditional definition) included; none where it does not parse."""
    try:
        body = ast.parse(text).body
    except (SyntaxError, ValueError):
        return set()
    return {n.name for n in definitions(body)}


def merged_into(old: str, before: SourceTree, after: SourceTree, kept: Iterable[str]) -> str | None:
    """The file of ``kept`` (paths both releases hold) that ``after`` gives at least half of ``old``'s top-level
    names which ``before``'s copy did not define, the most of them (ties: the first in sorted order); None when
    none does."""
    names = _top_level_names(old)
    best: tuple[int, str] | None = None
    for path in sorted(kept):
        now, was = after.read(path) or "", before.read(path) or ""
        if now == was or not any(f"def {n}" in now or f"class {n}" in now for n in names):
            continue
        got = len(names & (_top_level_names(now) - _top_level_names(was)))
        if got * 2 >= len(names) and got and (best is None or got > best[0]):
            best = (got, path)
    return best[1] if best else None


def _python_files(tree: SourceTree) -> set[str]:
    return {tree.repo_path(p) for p in tree.package.rglob("*.py") if "__pycache__" not in p.parts and p.is_file()}


def moves(paths: Iterable[str], trees: Sequence[SourceTree]) -> dict[str, tuple[Move, ...]]:
    """Each of ``paths`` (a wheel's Python file) that the last of ``trees`` (oldest first) lacks -> the moves that
    followed it, ending with its deletion where the last file it went to is gone too (empty: never shipped)."""
    listed: dict[int, set[str]] = {}

    def files(i: int) -> set[str]:
        if i not in listed:
            listed[i] = _python_files(trees[i])
        return listed[i]

    out = {}
    for path in sorted({p for p in paths if in_wheel(p) and p.endswith(".py")}):
        if not trees or trees[-1].read(path) is not None:
            continue
        steps: list[Move] = []
        at = path
        for i in range(1, len(trees)):
            old = trees[i - 1].read(at)
            if old is None or trees[i].read(at) is not None:
                continue
            new = files(i) - files(i - 1)
            found = successor(old, {p: trees[i].read(p) or "" for p in new})
            if found is None:
                into = merged_into(old, trees[i - 1], trees[i], files(i) & files(i - 1))
                steps.append(Move(trees[i].version, into, None))
                break
            steps.append(Move(trees[i].version, *found))
            at = found[0]
        out[path] = tuple(steps)
    return out
