"""Where a function or class, named as `Class.method` or `function`, is defined in Python source (by its syntax tree,
not by a search for `def name`, which finds a method of the same name in another class)."""

from __future__ import annotations

import ast
import re


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


def defines(source: str, name: str) -> bool:
    """Whether ``source`` defines ``name``: a function or class of that name, or an assignment to it (a module or class
    variable, ``self.name = ...``). An import, even ``import a as name``, is no definition; nor is a use."""
    if not re.search(rf"\b(?:def|class)\s+{re.escape(name)}\b|\b{re.escape(name)}\b[^\n=]*=(?!=)"
                     rf"|^\s*{re.escape(name)}\s*:", source, re.M):
        return False
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    for node in ast.walk(tree):
        if isinstance(node, _DEFS) and node.name == name:
            return True
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, (ast.AnnAssign, ast.AugAssign)) else []
        if any(bound == name for target in targets for bound in _bound(target)):
            return True
    return False


def _bound(target: ast.expr):
    """The names an assignment target binds: ``a``, ``self.a``, each of ``a, (b, *c)``."""
    if isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _bound(element)
    elif isinstance(target, ast.Starred):
        yield from _bound(target.value)
    elif isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Attribute):
        yield target.attr
