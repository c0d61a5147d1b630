"""Where a function or class, named as `Class.method` or `function`, is defined in Python source (by its syntax tree,
not by a search for `def name`, which finds a method of the same name in another class)."""

from __future__ import annotations

import ast


def definition_lines(source: str, dotted: str, decorators: bool = False) -> tuple[int, int] | None:
    """The first and last line (1-based) of the definition ``dotted`` names in ``source`` ("Class.method", a nested
    "Outer.Inner.method", or a module-level "function" or "Class"); None when it is not defined there, or the source
    does not parse. A name the path does not qualify is looked for at module level first, then in any class. With
    ``decorators``, the span starts at the first decorator (``@triton.autotune(configs=...)`` above a kernel)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    parts = dotted.split(".")
    node = _walk(tree.body, parts)
    if node is None and len(parts) == 1:  # "forward": a method of some class
        node = next((n for n in ast.walk(tree) if isinstance(n, _DEFS) and n.name == parts[0]), None)
    if node is None:
        return None
    first = min([node.lineno, *(d.lineno for d in node.decorator_list)]) if decorators else node.lineno
    return first, node.end_lineno or node.lineno


_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _walk(body: list[ast.stmt], parts: list[str]):
    for node in definitions(body):
        if node.name == parts[0]:
            if len(parts) == 1:
                return node
            if isinstance(node, ast.ClassDef) and (found := _walk(node.body, parts[1:])) is not None:
                return found
    return None


def definitions(body: list[ast.stmt]):
    """The definitions of a body, those under `if`/`try` (a conditional or guarded def) included."""
    for node in body:
        if isinstance(node, _DEFS):
            yield node
        elif isinstance(node, ast.If):
            yield from definitions(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            yield from definitions(node.body + [s for h in node.handlers for s in h.body] + node.orelse + node.finalbody)


def enclosing_defs(source: str, lines: set[int]) -> list[str]:
    """The names of the functions and classes of ``source`` whose definition spans any of ``lines`` (1-based), in
    source order; [] when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    spanning = [n for n in ast.walk(tree) if isinstance(n, _DEFS)
                and any(n.lineno <= i <= (n.end_lineno or n.lineno) for i in lines)]
    return list(dict.fromkeys(n.name for n in sorted(spanning, key=lambda n: n.lineno)))
