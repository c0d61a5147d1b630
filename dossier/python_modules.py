"""Whether a dotted Python module name resolves, looking in the project first, without importing it."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def module_exists(name: str, root: Path) -> bool:
    """Whether ``name`` resolves to a module, looking in the project root first, without importing it."""
    rel = Path(*name.split("."))
    if (root / rel).with_suffix(".py").is_file() or (root / rel / "__init__.py").is_file():
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False
