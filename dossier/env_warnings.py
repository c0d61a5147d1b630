"""Which quoted ``"SGLANG_*"`` (or legacy ``"SGL_*"``) names in SGLang's source only warn that a variable is set.

A release that retires a variable often keeps its name for a while, to warn whoever still sets it: a deprecation
registry entry with no replacement (``"SGLANG_X": _DeprecatedEnv(note=...)``, 0.5.21 on), a deprecation helper
called with that one name (``_warn_deprecated_env_to_cli_flag("SGLANG_X", "use --x")``), or an ``if`` that tests
for it and only warns (0.5.14's removal notice for SGLANG_ENABLE_SPEC_V2). Such a release has the name but does not
read it: setting it changes nothing but a log line. An entry that forwards the value to another variable (a
``replacement``, a second name) is an alias and reads it.
"""

from __future__ import annotations

import ast
import re
from collections import Counter

#: the prefixes of SGLang's variables: SGLANG_, and the legacy SGL_ some code still reads (SGL_FORCE_SHUTDOWN in 0.5.23)
ENV_PREFIX = r"SGL(?:ANG)?_"
#: a variable's name, and the name quoted in the source: a mention
_VARIABLE = re.compile(rf"{ENV_PREFIX}[A-Z0-9_]*[A-Z0-9]")
ENV_NAME = re.compile(rf"""["']({_VARIABLE.pattern})["']""")
#: an `if` / `elif` at a line's start
_IF = re.compile(r"[ \t]*(?:el)?if\b")


#: keywords through which a deprecation entry forwards the old variable's value
_FORWARD_KEYWORDS = ("replacement", "new_name")


def warning_mentions(text: str) -> Counter[str]:
    """How many of ``text``'s quoted SGLANG_*/SGL_* mentions (:data:`ENV_NAME`) only warn that the variable
    is set; empty for a file that cannot be parsed."""
    if not _may_warn(text):  # most files: not parsed
        return Counter()
    try:
        module = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return Counter()
    out: Counter[str] = Counter()
    entries: set[int] = set()  # the deprecation calls that are a registry's values, judged with their key
    for node in ast.walk(module):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if key is not None and _is_deprecation(value):
                    entries.add(id(value))
                    if not _forwards(value):
                        out.update(_names(key))
        elif isinstance(node, ast.Call) and id(node) not in entries and _is_deprecation(node):
            named = [n for arg in node.args for n in _names(arg)]
            if len(named) == 1 and not _forwards_by_keyword(node):
                out[named[0]] += 1
        elif isinstance(node, ast.If) and not node.orelse and all(_only_warns(s) for s in node.body):
            out.update(_names(node))
    return out


def _may_warn(text: str) -> bool:
    """Whether a quoted name in ``text`` sits where one of the forms puts it, judged from its line and the line
    before (a deprecation word, an `if`): a cheap look that spares parsing the files that have none."""
    for m in ENV_NAME.finditer(text):
        line = text.rfind("\n", 0, m.start()) + 1
        before = text.rfind("\n", 0, max(line - 1, 0)) + 1
        if "eprecat" in text[before:m.start()] or _IF.match(text, line) or _IF.match(text, before):
            return True
    return False


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _is_deprecation(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Call) and "deprecat" in _callee(node).lower()


def _forwards_by_keyword(call: ast.Call) -> bool:
    return any(k.arg in _FORWARD_KEYWORDS and not (isinstance(k.value, ast.Constant) and k.value.value is None)
               for k in call.keywords)


def _forwards(call: ast.Call) -> bool:
    """Whether a registry entry's deprecation object passes the value on (its first argument is the replacement)."""
    return bool(call.args) or _forwards_by_keyword(call)


def _only_warns(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
            and "warn" in _callee(stmt.value).lower())


def _names(node: ast.AST) -> list[str]:
    """The variable names quoted under ``node``, in source order: its string constants that are a whole name."""
    found = [n for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
             and _VARIABLE.fullmatch(n.value)]
    return [n.value for n in sorted(found, key=lambda n: (n.lineno, n.col_offset))]
