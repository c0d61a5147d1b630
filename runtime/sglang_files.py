"""Load one module of the installed SGLang package from its file, without importing ``sglang`` itself.

SGLang's package ``__init__`` pulls in its serving dependencies; the benchmarks only need a few kernel
modules, whose own imports reach a handful of small helpers (``envs``, ``is_hip`` ...). :func:`load` executes
one such file under a private module name with stand-ins for exactly those helpers, placed in
``sys.modules`` only while the file executes, so the peer kernels run as installed, unmodified.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys
import types
from pathlib import Path


def package_dir() -> Path | None:
    """The installed ``sglang`` package directory (``find_spec`` on a top-level name runs no package code)."""
    spec = importlib.util.find_spec("sglang")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def version() -> str | None:
    try:
        return importlib.metadata.version("sglang")
    except importlib.metadata.PackageNotFoundError:
        return None


def load(relpath: str, stand_ins: dict[str, dict[str, object]]) -> types.ModuleType | None:
    """Execute ``sglang/<relpath>`` as module ``_sglang_file.<dotted relpath>``; ``stand_ins`` maps each
    ``sglang.*`` module its imports need to the attributes it reads. ``None`` when SGLang or the file is absent."""
    root = package_dir()
    path = root / relpath if root else None
    if path is None or not path.is_file():
        return None
    name = "_sglang_file." + relpath.removesuffix(".py").replace("/", ".")
    if name in sys.modules:
        return sys.modules[name]
    installed: list[str] = []
    for dotted, attrs in stand_ins.items():
        parts = dotted.split(".")
        for i in range(1, len(parts) + 1):
            mod_name = ".".join(parts[:i])
            if mod_name in sys.modules:
                continue
            module = types.ModuleType(mod_name)
            module.__path__ = []  # a package, so submodules resolve from sys.modules
            sys.modules[mod_name] = module
            installed.append(mod_name)
        module = sys.modules[dotted]
        for key, value in attrs.items():
            if not hasattr(module, key):
                setattr(module, key, value)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[name]
        raise
    finally:
        for mod_name in installed:
            del sys.modules[mod_name]
    return module


class Flag:
    """Stand-in for one ``sglang/srt/environ.py: envs`` entry: ``.get()`` returns a fixed value."""

    def __init__(self, value: object) -> None:
        self.value = value

    def get(self) -> object:
        return self.value
