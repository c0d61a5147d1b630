"""One function or method of the installed SGLang 0.5.23, compiled on its own from its file.

The modules the runtime models follow (``schedule_batch.py``, ``batch_result_processor.py``, the Mamba cache
component, ``linear.py``) import SGLang's whole serving stack, which a ``--no-deps`` install cannot import. :func:`function`
takes one definition from the file's syntax tree, as installed and unmodified, and executes it with the
globals it reads given by the caller, so a test can run SGLang's own rule next to the model's. ``None`` when
SGLang or the definition is absent (the caller skips).
"""

from __future__ import annotations
import __future__

import ast
import copy
from collections.abc import Callable
from functools import cache
from pathlib import Path

from runtime import sglang_files


def _find(body: list[ast.stmt], parts: list[str]) -> ast.FunctionDef | None:
    for node in body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef) and node.name == parts[0]:
            if len(parts) == 1:
                return node if isinstance(node, ast.FunctionDef) else None
            return _find(node.body, parts[1:])
    return None


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def function(relpath: str, qualname: str, namespace: dict[str, object]) -> Callable | None:
    """``sglang/<relpath>: <qualname>`` (``Class.method`` or ``func``) compiled with ``namespace`` as its
    globals; decorators (``staticmethod`` ...) are dropped, so a method takes ``self`` explicitly."""
    root = sglang_files.package_dir()
    path: Path | None = root / relpath if root else None
    if path is None or not path.is_file():
        return None
    node = _find(_tree(path).body, qualname.split("."))
    if node is None:
        return None
    node = copy.deepcopy(node)
    node.decorator_list = []
    scope = dict(namespace)
    code = compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec",
                   flags=__future__.annotations.compiler_flag, dont_inherit=True)  # annotations stay unevaluated
    exec(code, scope)  # noqa: S102 - SGLang's own code, as installed
    return scope[node.name]
