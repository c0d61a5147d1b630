"""Unified diffs as typed objects: files, hunks, and added/removed lines with their line numbers.

The one place that parses diffs (through unidiff); the fetch sources, the cache and the evidence rules reuse it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from unidiff import PatchSet, UnidiffParseError

from dossier.diff_names import c_quote, plain_headers

#: a Python import statement: it names code, it does not change behaviour (no key fragment belongs there)
IMPORT_LINE = re.compile(r"^\s*(import\s+\w|from\s+[\w.]+\s+import\b)")

STATUSES = ("added", "modified", "removed", "renamed")


class DiffError(ValueError):
    """The text is not a unified diff; the message says why and where (line number)."""


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "+", "-" or " "
    old_lineno: int | None
    new_lineno: int | None
    text: str  # without the leading +/-/space and the line break


@dataclass(frozen=True)
class DiffHunk:
    header: str  # "@@ -a,b +c,d @@ section"
    lines: tuple[DiffLine, ...]


@dataclass(frozen=True)
class DiffFile:
    path: str  # new path (old path for a removed file)
    old_path: str | None  # previous path for renames, else None
    status: str  # one of STATUSES
    binary: bool
    hunks: tuple[DiffHunk, ...]

    def added(self) -> list[DiffLine]:
        return [ln for h in self.hunks for ln in h.lines if ln.kind == "+"]

    def removed(self) -> list[DiffLine]:
        return [ln for h in self.hunks for ln in h.lines if ln.kind == "-"]


def _split(text: str) -> list[str]:
    """Lines with their "\\n" kept; only "\\n" ends a line (content may hold \\r, \\f and friends)."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def _counted(lines: list[str], seen: list[int]) -> Iterator[str]:
    for i, line in enumerate(lines, 1):
        seen[0] = i
        yield line


def _strip_prefix(name: str) -> str:
    return name[2:] if name.startswith(("a/", "b/")) else name


def _status(pf) -> str:
    if pf.is_added_file:
        return "added"
    if pf.is_removed_file:
        return "removed"
    if pf.is_rename:
        return "renamed"
    return "modified"


#: more lines than any source file has: a line number past it is a damaged hunk header or a hand edit
MAX_LINES = 10_000_000


def is_line_number(n: object) -> bool:
    """Whether ``n`` is a line number some file can have (an int from 1 to :data:`MAX_LINES`)."""
    return type(n) is int and 0 < n <= MAX_LINES


def _hunk(h, path: str) -> DiffHunk:
    header = f"@@ -{h.source_start},{h.source_length} +{h.target_start},{h.target_length} @@"
    if max(h.source_start + h.source_length, h.target_start + h.target_length) > MAX_LINES:
        raise DiffError(f"{path}: the hunk '{header}' reaches past line {MAX_LINES:,}, further than any source file "
                        "(a damaged hunk header)")
    if h.section_header:
        header += f" {h.section_header}"
    lines = tuple(
        DiffLine(ln.line_type, ln.source_line_no, ln.target_line_no, ln.value.rstrip("\n"))
        for ln in h
        if ln.line_type in ("+", "-", " ")
    )
    return DiffHunk(header, lines)


def parse_diff(text: str) -> list[DiffFile]:
    """Parse a (git-style or plain) unified diff. Empty text is an empty diff; anything else must hold a file.

    Raises :class:`DiffError` for text that is not a diff, hunks whose length disagrees with their header,
    +/- lines past a hunk's end (unidiff would silently drop those) and hunks past any file's length.
    """
    lines = _split(text)
    seen = [0]
    fed, names = plain_headers(lines)  # git's quoted names, and names holding " b/", as unidiff can read them
    try:
        patch = PatchSet(_counted(fed, seen))
    except UnidiffParseError as exc:
        raise DiffError(f"line {seen[0]}: {str(exc).strip()}") from None
    if lines and not patch:
        raise DiffError("line 1: no file header found (expected 'diff --git' or '---'/'+++' lines)")
    _check_every_line(lines, {ln.diff_line_no for pf in patch for h in pf for ln in h})
    files = []
    for pf in patch:
        status = _status(pf)
        old = _strip_prefix(pf.source_file)
        files.append(DiffFile(
            path=names.get(pf.path, pf.path),
            old_path=names.get(old, old) if status == "renamed" else None,
            status=status,
            binary=pf.is_binary_file,
            hunks=tuple(_hunk(h, pf.path) for h in pf),
        ))
    return files


#: the lines git writes between `diff --git` and a file's first hunk (or instead of hunks)
_FILE_HEADER = re.compile(r"(diff --git|index|old mode|new mode|deleted file mode|new file mode|similarity index|"
                          r"dissimilarity index|rename from|rename to|copy from|copy to|---|\+\+\+) |Binary files ")
#: the header lines that name a file (git ends them with LF, whatever line ends the files have)
_PATH_LINES = ("diff --git ", "--- ", "+++ ", "rename from ", "rename to ", "copy from ", "copy to ")
_HUNK_HEADER = re.compile(r"@@ -\d+(?:,\d+)? \+\d+(?:,\d+)? @@")


def _check_every_line(lines: list[str], in_hunks: set[int]) -> None:
    """Raise DiffError unless every line from the first file on is a file header line, a hunk header or a line
    of a hunk (unidiff skips any other line: a damaged hunk header dropped its hunk, and a diff cut after a
    file's ---/+++ header read as a file without changes). Text before the first file (a mail's header and
    message) and after a `-- ` signature line (`git format-patch`) is not the diff's."""
    started = binary = False
    waiting = None  # (line, path) of a ---/+++ header whose first hunk has not come yet
    for no, line in enumerate(lines, 1):
        if no in in_hunks:
            continue
        text = line.rstrip("\r\n")
        starts = text.startswith("diff --git ") or (
            text.startswith("--- ") and no < len(lines) and lines[no].startswith("+++ "))
        if starts or (started and text == "-- "):
            if waiting:
                break
            if text == "-- ":
                return
            started, binary = True, False
        if not started or binary or not text.strip():
            continue
        if line.endswith("\r\n") and text.startswith(_PATH_LINES):  # its path would end in CR: another file
            raise DiffError(f"line {no}: a file header ends in CRLF, which git never writes (a diff saved with CRLF "
                            "line ends on some lines only?): convert it to LF line ends (dos2unix)")
        if _HUNK_HEADER.match(text):
            waiting = None
        elif text.startswith("GIT binary patch"):  # base85 data follows, up to the next file
            binary = True
        elif text.startswith(("--- ", "+++ ")):
            name = _strip_prefix(text[4:].split("\t")[0])
            waiting = (no, name) if waiting is None or waiting[1] == "/dev/null" else waiting
        elif not _FILE_HEADER.match(text) and not text.startswith("\\ "):  # "\ No newline at end of file"
            if no - 1 in in_hunks and text[:1] in ("+", "-"):
                raise DiffError(f"line {no}: changed line outside any hunk (is the hunk longer than its header "
                                "says?)")
            raise DiffError(f"line {no}: {text[:60]!r} is neither a file header nor a line of a hunk (a damaged "
                            "or cut diff)")
    if waiting:
        raise DiffError(f"line {waiting[0]}: {waiting[1]} has a file header but no hunk (the diff is cut short?)")


def file_patch_to_diff(path: str, patch: str | None, *, status: str, old_path: str | None = None,
                       binary: bool = False) -> str:
    """A git-style diff section for one file from GitHub's per-file ``patch`` (which has no header lines).

    ``patch=None`` with ``binary=False`` (GitHub omits patches of very large files) gives a header-only
    section: the file is listed with its status but carries no hunks.
    """
    if status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
    old = old_path if status == "renamed" and old_path else path
    src, dst = c_quote(f"a/{old}"), c_quote(f"b/{path}")
    out = [f"diff --git {src} {dst}"]
    if status == "added":
        out.append("new file mode 100644")
        src = "/dev/null"
    elif status == "removed":
        out.append("deleted file mode 100644")
        dst = "/dev/null"
    elif status == "renamed":
        out += [f"rename from {c_quote(old)}", f"rename to {c_quote(path)}"]
    if binary:
        out.append(f"Binary files {src} and {dst} differ")
    elif patch:
        out += [f"--- {src}", f"+++ {dst}", patch.rstrip("\n")]
    return "\n".join(out) + "\n"
