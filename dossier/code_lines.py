"""Which lines of a source file hold a fragment *as code*, not inside a comment or a docstring.

A comment or a docstring that mentions a name is not the code that defines or calls it: drift once
reported #17613's ``unified_linear_attention_with_output`` "relocated" to a comment in an unrelated kernel
that merely mentions the op. So a fragment that is one token (a name, ``obj.attr``, ``call(``) counts only
where it sits outside comments and docstrings (Python via :mod:`tokenize`; C, C++ and CUDA by their comment
syntax). A fragment with spaces is a piece of a line the card's author chose, possibly a changed comment
(``gated_delta_rule_mtp kernel (SM90 + SM100+)``), and is searched everywhere.
"""

from __future__ import annotations

import functools
import io
import re
import tokenize

_C_LIKE = {".cu", ".cuh", ".c", ".cc", ".cpp", ".h", ".hpp", ".hip"}
_C_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.DOTALL)
def is_name(fragment: str) -> bool:
    """One token (no whitespace): the kind of fragment a comment or docstring mentions without being it."""
    return bool(fragment.strip()) and not any(c.isspace() for c in fragment.strip())


def lines_in_code(text: str, fragment: str, path: str = "") -> tuple[int, ...]:
    """1-based lines where ``fragment`` occurs, outside comments and docstrings when it is a name."""
    if fragment not in text:
        return ()
    if is_name(fragment):
        text = code_only(text, path)
    return tuple(i for i, line in enumerate(text.splitlines(), 1) if fragment in line)


def code_only(text: str, path: str) -> str:
    """``text`` with comments and docstrings blanked out, line numbers kept (unknown kinds unchanged)."""
    return _code_of(text, path[path.rfind("."):] if "." in path else "")


@functools.lru_cache(maxsize=256)  # lint asks again for the same SGLang files, rule after rule and run after run
def _code_of(text: str, suffix: str) -> str:
    if suffix in (".py", ".pyi"):
        return _python_code(text)
    if suffix in _C_LIKE:
        return _C_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)
    return text


def _python_code(text: str) -> str:
    lines = text.splitlines(keepends=True)
    blank: list[tuple[tuple[int, int], tuple[int, int]]] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return text
    prev = tokenize.NEWLINE
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.COMMENT:
            blank.append((tok.start, tok.end))
        elif tok.type == tokenize.STRING and prev in (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT,
                                                      tokenize.DEDENT):
            nxt = next((t for t in tokens[i + 1:] if t.type not in (tokenize.COMMENT, tokenize.NL)), None)
            if nxt is None or nxt.type in (tokenize.NEWLINE, tokenize.ENDMARKER):  # a bare string: a docstring
                blank.append((tok.start, tok.end))
        if tok.type not in (tokenize.COMMENT, tokenize.NL):
            prev = tok.type
    out = [list(line) for line in lines]
    for (r0, c0), (r1, c1) in blank:
        for r in range(r0, r1 + 1):
            if r - 1 >= len(out):
                break
            row = out[r - 1]
            start = c0 if r == r0 else 0
            stop = c1 if r == r1 else len(row)
            for c in range(start, min(stop, len(row))):
                if row[c] != "\n":
                    row[c] = " "
    return "".join("".join(row) for row in out)
