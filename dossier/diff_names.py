"""File names in a git diff's header lines, as git writes them and unidiff cannot read them.

git C-quotes a name that holds a double quote, a backslash or a control character (and, unless
``core.quotepath=false``, any byte past ASCII): ``"caf\\303\\251.py"``. unidiff keeps the quotes and the escapes
as part of the path, and reads a ``diff --git`` line whose names hold " b/" (``a/Plan b/x.md b/Plan b/x.md``) at
the wrong space. :func:`plain_headers` hands unidiff such a section's names as placeholders and says what each
stands for; :func:`c_quote` writes a name the way git would, for a header built from GitHub's file list.
"""

from __future__ import annotations

import re

_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
_QUOTE_BACK = {v: k for k, v in _ESCAPES.items()}
#: a name git quotes even with core.quotepath=false: a control character, a double quote or a backslash
_NEEDS_QUOTES = re.compile(r'[\x00-\x1f\x7f"\\]')
#: what stands for the names of a section unidiff cannot read (no path holds this control character unquoted)
_MARK = "\x01"
_PATH_HEADERS = ("--- ", "+++ ", "rename from ", "rename to ", "copy from ", "copy to ")


def c_quote(name: str) -> str:
    """``name`` as git writes it in a header (with core.quotepath=false): as is, or C-quoted when it must be."""
    if not _NEEDS_QUOTES.search(name):
        return name
    out = []
    for ch in name:
        code = ord(ch)
        if code in _QUOTE_BACK:
            out.append("\\" + _QUOTE_BACK[code])
        elif code < 32 or code == 127:
            out.append(f"\\{code:03o}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def c_unquote(token: str) -> str:
    """A name from a header: ``token`` without git's quotes and escapes (octal bytes read as UTF-8, U+FFFD for what
    is not), or as it is when not quoted."""
    if not (len(token) >= 2 and token[0] == token[-1] == '"'):
        return token
    out, i, body = bytearray(), 0, token[1:-1]
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567" and re.fullmatch(r"[0-7]{3}", body[i + 1:i + 4]):
                out.append(int(body[i + 1:i + 4], 8) & 0xFF)
                i += 4
                continue
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
        out += ch.encode()
        i += 1
    return out.decode(errors="replace")


def _first_token(rest: str) -> tuple[str, str] | None:
    """The quoted name ``rest`` starts with and what follows it (after one space), or None."""
    m = re.match(r'"((?:[^"\\]|\\.)*)"(?: |$)', rest)
    return (m.group(0).rstrip(" "), rest[m.end():]) if m else None


def _header_name(text: str) -> str:
    """The name of a ---/+++ line's rest: quoted, or up to a tab (a timestamp, or the tab git ends a name with
    a space in)."""
    return c_unquote(text) if text.startswith('"') else text.split("\t")[0]


def _strip(name: str) -> str:
    return name[2:] if name.startswith(("a/", "b/")) else name


def _git_line_names(rest: str) -> tuple[str, str] | None:
    """The two names (prefixes kept) of a ``diff --git`` line's rest, when they can be told apart from it alone."""
    first = _first_token(rest)
    if first is not None:
        return c_unquote(first[0]), c_unquote(first[1])
    if rest.count(" b/") == 1:
        a, b = rest.split(" b/")
        return a, "b/" + b
    half = (len(rest) - 1) // 2  # git's own reading: "a/X b/X", one name on both sides
    if rest[:half].startswith("a/") and rest[half + 1:].startswith("b/") and rest[2:half] == rest[half + 3:]:
        return rest[:half], rest[half + 1:]
    return None


def _hard(section: list[str]) -> bool:
    """Whether unidiff would misread a section's names: a quoted one, or a git line with more than one " b/"."""
    first = section[0].rstrip("\n")
    if first.startswith("diff --git ") and (first[11:].startswith('"') or first[11:].count(" b/") > 1):
        return True
    return any(line.startswith(_PATH_HEADERS) and line.rstrip("\n").split(" ", 2)[-1].startswith('"')
               for line in section[1:])


def plain_headers(lines: list[str]) -> tuple[list[str], dict[str, str]]:
    """``lines`` with each hard section's header names (:func:`_hard`) replaced by placeholders unidiff reads, and
    what each placeholder (as unidiff's path, prefix stripped) stands for. Every other line is left as it is."""
    out, names = list(lines), {}
    starts = [i for i, line in enumerate(lines) if line.startswith("diff --git ")] + [len(lines)]
    for n, (start, end) in enumerate(zip(starts, starts[1:], strict=False)):
        head = next((i for i in range(start + 1, end) if lines[i].startswith("@@ ")), end)
        if not _hard(lines[start:head]):
            continue
        src = dst = None
        for i in range(start + 1, head):
            text = lines[i].rstrip("\n")
            if text.startswith(("--- ", "+++ ")) and (name := _header_name(text[4:])) != "/dev/null":
                src, dst = (_strip(name), dst) if text.startswith("---") else (src, _strip(name))
            elif text.startswith(("rename from ", "copy from ")):
                src = c_unquote(text.split(" ", 2)[2])
            elif text.startswith(("rename to ", "copy to ")):
                dst = c_unquote(text.split(" ", 2)[2])
        both = _git_line_names(lines[start].rstrip("\n")[11:])
        if both is not None:
            src, dst = src or _strip(both[0]), dst or _strip(both[1])
        if src is None or dst is None:
            continue  # left to unidiff, which says what it cannot read
        s = f"{_MARK}{n}s"
        d = s if dst == src else f"{_MARK}{n}d"  # two placeholders would read as a rename
        names.update({s: src, d: dst})
        out[start] = f"diff --git a/{s} b/{d}\n"
        for i in range(start + 1, head):
            text = lines[i].rstrip("\n")
            if text.startswith(("--- ", "+++ ")) and _header_name(text[4:]) != "/dev/null":
                out[i] = f"--- a/{s}\n" if text.startswith("---") else f"+++ b/{d}\n"
            elif text.startswith(("rename from ", "copy from ")):
                out[i] = f"{text.split(' ', 2)[0]} from {s}\n"
            elif text.startswith(("rename to ", "copy to ")):
                out[i] = f"{text.split(' ', 2)[0]} to {d}\n"
            elif text.startswith("Binary files "):
                old = "/dev/null" if text.startswith("Binary files /dev/null and ") else f"a/{s}"
                new = "/dev/null" if text.endswith(" and /dev/null differ") else f"b/{d}"
                out[i] = f"Binary files {old} and {new} differ\n"
    return out, names
