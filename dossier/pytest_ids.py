"""The parametrize ids a pytest test takes, read from its source without importing it.

pytest names a parametrized test ``test_x[a-b]``: one part per ``parametrize`` mark (the function's own,
nearest decorator first, then its classes', then the module's ``pytestmark``), each part the
``pytest.param(id=...)``, the ``ids=`` entry, or the values joined by "-" (a string or number as written, a
class or function by its name, any other object as ``<argname><index>``), made unique with a counter. Values
and ids are followed through module constants, ``+``/``*`` of lists, ``range`` and imports of this project's
modules. Where they come from code this reader cannot evaluate (a comprehension, an ``ids=`` callable, an
attribute such as ``torch.float16``, a parametrized fixture, a ``pytest_generate_tests`` or
``pytest_make_parametrize_id`` hook, a decorator it does not know) that part may be anything: an id is only
refused when no reading of the source could give it.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from dossier.files import read_bytes, resolved

#: a part of an id that may be anything
ANY = ".*"
_HOOKS = ("pytest_generate_tests", "pytest_make_parametrize_id")
_DEPTH = 8  # imports followed before giving up


class _Unknown:
    """A value this reader cannot evaluate."""


UNKNOWN = _Unknown()


@dataclass(frozen=True)
class _Named:
    """A class or function: its id is its ``__name__``."""

    name: str


class _Object:
    """An instance with no ``__name__``: its id is ``<argname><index>``."""


@dataclass(frozen=True)
class _Param:
    values: tuple
    id: object  # None: no id given


def id_problem(path: Path, names: list[str], wanted: str, root: Path) -> str | None:
    """Why ``wanted`` (the text inside ``[...]``) is not an id of the test ``names`` (class path, then
    function) in the file at ``path``, or None when it is or may be."""
    module = _Module.load(path, root)
    if module is None:
        return None
    pattern = module.ids(names)
    if pattern is None or re.fullmatch(pattern, wanted, re.DOTALL):
        return None
    if pattern == "":
        return f"{'::'.join(names)} is not parametrized: no [{wanted}] id"
    return f"[{wanted}] is not an id of {'::'.join(names)} (its parametrize marks give {_show(pattern)})"


def _show(pattern: str) -> str:
    """The ids a pattern allows, as a reader would write them (shortened for a message)."""
    text = pattern.replace("(?:_?[0-9]+)?", "").replace("_?[0-9]+", "<n>").replace(".*", "*")
    text = re.sub(r"\\(.)", r"\1", text.replace("(?:", "").replace(")", "")).replace("|", ", ")
    return text if len(text) <= 120 else text[:117] + "..."


class _Module:
    def __init__(self, path: Path, tree: ast.Module, root: Path):
        self.path, self.tree, self.root = path, tree, root
        self.env: dict[str, ast.AST | tuple[str, str]] = {}  # name -> its node, or (module file, name) of an import
        self.defs: dict[str, ast.AST] = {}
        for node in tree.body:
            self._bind(node)

    _loaded: dict[Path, _Module | None] = {}

    @classmethod
    def load(cls, path: Path, root: Path) -> _Module | None:
        path = resolved(path)
        if path not in cls._loaded or cls._loaded[path] is not None and cls._loaded[path].stale():
            try:
                mod = cls(path, ast.parse(importlib.util.decode_source(read_bytes(path))), root)
                mod.mtime = path.stat().st_mtime_ns
            except (OSError, SyntaxError, ValueError):
                mod = None
            cls._loaded[path] = mod
        return cls._loaded[path]

    def stale(self) -> bool:
        try:
            return self.path.stat().st_mtime_ns != self.mtime
        except OSError:
            return True

    def _bind(self, node: ast.stmt) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            self.defs[node.name] = node
            self.env[node.name] = node
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            self.env[name] = UNKNOWN if name in self.env else node.value  # assigned twice: which one holds?
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            self.env[node.target.id] = node.value
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                self.env[alias.asname or alias.name] = (self._module_file(node), alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                self.env[alias.asname or alias.name.split(".")[0]] = ("<module>", alias.name)
        elif isinstance(node, (ast.AugAssign, ast.For, ast.With, ast.If, ast.Try)):
            for target in ast.walk(node):  # a name bound here may differ from its first assignment
                if isinstance(target, ast.Name) and isinstance(target.ctx, ast.Store):
                    self.env[target.id] = UNKNOWN

    def _module_file(self, node: ast.ImportFrom) -> str:
        """The file of a ``from X import`` in this project ("" when it is not one)."""
        parts = (node.module or "").split(".") if node.module else []
        base = self.path.parent
        if node.level:
            for _ in range(node.level - 1):
                base = base.parent
        else:
            base = self.root
        target = base.joinpath(*parts)
        for candidate in (target.with_suffix(".py"), target / "__init__.py"):
            if parts and candidate.is_file():
                return str(candidate)
        return ""

    # ---- the ids of one test ----------------------------------------------------------------------

    def ids(self, names: list[str]) -> str | None:
        """A regular expression every id of the test matches ("": not parametrized; None: anything may be)."""
        conftests = [_Module.load(p, self.root) for p in self._conftest_paths()]
        if any(m is None or self._hook(m.tree) for m in conftests) or self._hook(self.tree):
            return None
        scopes: list[ast.AST] = []
        body = self.tree.body
        for n in names:
            node = next((s for s in body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                         and s.name == n), None)
            if node is None:
                return None
            scopes.append(node)
            body = node.body if isinstance(node, ast.ClassDef) else []
        func = scopes[-1]
        if isinstance(func, ast.ClassDef):
            return None
        marks: list[ast.AST] = []
        for scope in reversed(scopes):  # the function's marks first, then its classes', innermost first
            if isinstance(scope, ast.ClassDef):
                if any(not (isinstance(b, ast.Name) and b.id == "object") for b in scope.bases):
                    return None  # a base class may carry marks of its own
                found = self._pytestmark(scope.body)
                if found is None:
                    return None
                marks += found
            for dec in reversed(scope.decorator_list):
                kind = self._mark(dec)
                if kind is None:
                    return None
                if kind is not False:
                    marks.append(kind)
        found = self._pytestmark(self.tree.body)
        if found is None:
            return None
        marks += found
        if self._parametrized_fixture(func, {a for call in marks for a in self._argnames(call) or ()}):
            return None
        parts = [self._call_ids(call) for call in marks]
        if any(p is None for p in parts):
            return None
        return "-".join(parts)

    @staticmethod
    def _hook(tree: ast.Module) -> bool:
        return any(isinstance(s, ast.FunctionDef) and s.name in _HOOKS for s in tree.body)

    def _parametrized_fixture(self, func: ast.AST, argnames: set[str]) -> bool:
        """Whether the test asks (itself, through the fixtures it asks for, or by an autouse fixture) for a fixture
        with ``params`` defined here, in a conftest or imported, or for an imported one this reader cannot see."""
        fixtures: dict[str, ast.AST] = {}
        for mod in [*(m for p in reversed(self._conftest_paths()) if (m := _Module.load(p, self.root))), self]:
            for name, node in mod.env.items():
                if isinstance(node, tuple) and node[1] != "*":
                    if node[0] == "<module>":
                        continue  # a module is no fixture
                    node = _Module._follow(node, self.root, 0)
                    node = node if node is UNKNOWN else node[1]
                fixtures[name] = node
        todo = [a.arg for a in func.args.args if a.arg not in argnames]
        todo += [n for n, f in fixtures.items() if _fixture_kw(f, "autouse")]
        seen: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen or name not in fixtures:
                continue  # pytest's own fixtures (tmp_path, monkeypatch...) take no params
            seen.add(name)
            node = fixtures[name]
            if node is UNKNOWN or _fixture_kw(node, "params"):
                return True
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _fixture_kw(node, None):
                todo += [a.arg for a in node.args.args]
        return False

    def _conftest_paths(self) -> list[Path]:
        out, folder = [], self.path.parent
        while True:
            if (folder / "conftest.py").is_file():
                out.append(folder / "conftest.py")
            if folder == self.root or folder.parent == folder or self.root not in folder.parents:
                return out
            folder = folder.parent

    @staticmethod
    def _follow(ref: tuple[str, str], root: Path, depth: int):
        """The node an imported name stands for in this project, or UNKNOWN."""
        file, name = ref
        if not file or file == "<module>" or depth > _DEPTH:
            return UNKNOWN
        mod = _Module.load(Path(file), root)
        if mod is None or name not in mod.env:
            return UNKNOWN
        node = mod.env[name]
        return _Module._follow(node, root, depth + 1) if isinstance(node, tuple) else (mod, node)

    def _pytest_attr(self, node: ast.AST) -> str | None:
        """``"mark.parametrize"`` for ``pytest.mark.parametrize`` (or ``mark.parametrize`` with ``from pytest
        import mark``), ``"param"`` for ``pytest.param``; None when the node is no pytest name."""
        chain = []
        while isinstance(node, ast.Attribute):
            chain.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        ref = self.env.get(node.id)
        if ref == ("<module>", "pytest"):
            return ".".join(reversed(chain))
        if isinstance(ref, tuple) and ref[0] == "" and ref[1] in ("mark", "param"):
            return ".".join([ref[1], *reversed(chain)])
        return None

    def _mark(self, dec: ast.AST):
        """A decorator's parametrize call; False for a decorator that parametrizes nothing; None: cannot tell."""
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = self._pytest_attr(target)
        if name == "mark.parametrize":
            return dec if isinstance(dec, ast.Call) else None
        if name is not None and name.startswith("mark.") and name != "mark.usefixtures":
            return False
        if name is not None:
            return None
        if isinstance(dec, ast.Name) and isinstance(self.env.get(dec.id), ast.Call):
            return self._mark(self.env[dec.id])  # cases = pytest.mark.parametrize(...); @cases
        return None

    def _pytestmark(self, body: list[ast.stmt]):
        """The parametrize calls of a ``pytestmark = ...`` in ``body`` ([] when none; None: cannot tell)."""
        for node in body:
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark"
                                                    for t in node.targets):
                items = node.value.elts if isinstance(node.value, (ast.List, ast.Tuple)) else [node.value]
                out = []
                for item in items:
                    kind = self._mark(item)
                    if kind is None:
                        return None
                    if kind is not False:
                        out.append(kind)
                return out
        return []

    # ---- one parametrize call -------------------------------------------------------------------

    @staticmethod
    def _args(call: ast.Call) -> dict:
        return {**dict(zip(("argnames", "argvalues", "indirect", "ids"), call.args, strict=False)),
                **{k.arg: k.value for k in call.keywords if k.arg}}

    def _argnames(self, call: ast.Call) -> list[str] | None:
        argnames = self._eval(self._args(call).get("argnames"))
        if isinstance(argnames, str):
            argnames = [a.strip() for a in argnames.split(",") if a.strip()]
        if not isinstance(argnames, (list, tuple)) or not all(isinstance(a, str) for a in argnames):
            return None
        return list(argnames)

    def _call_ids(self, call: ast.Call) -> str | None:
        args = self._args(call)
        argnames = self._argnames(call)
        values = self._eval(args.get("argvalues"))
        if argnames is None:
            return None
        if not isinstance(values, (list, tuple)) or not values:
            return ANY if values is not UNKNOWN else None
        ids = self._eval(args["ids"]) if "ids" in args else None
        if ids is not None and not isinstance(ids, (list, tuple)):
            return ANY  # a callable (or what this reader cannot evaluate): any id
        out = []
        for idx, value in enumerate(values):
            param = value if isinstance(value, _Param) else _Param((value,) if len(argnames) == 1 else value, None)
            if param.id is not None:
                out.append(_escaped(param.id) if isinstance(param.id, str) else ANY)
            elif ids is not None and idx < len(ids) and ids[idx] is not None:
                out.append(_from_value(ids[idx], None, idx))
            elif isinstance(param.values, (list, tuple)) and len(param.values) == len(argnames):
                out.append("-".join(_from_value(v, a, idx) for v, a in zip(param.values, argnames, strict=True)))
            else:
                out.append(ANY)
        return _unique(out)

    def _eval(self, node, depth: int = 0):
        """The value of an expression of this module, as far as it can be read."""
        if node is None or depth > 40:
            return UNKNOWN
        if isinstance(node, _Unknown):
            return UNKNOWN
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, (ast.List, ast.Tuple)):
            out: list = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    inner = self._eval(elt.value, depth + 1)
                    if not isinstance(inner, (list, tuple)):
                        return UNKNOWN
                    out += inner
                else:
                    out.append(self._eval(elt, depth + 1))
            return out if isinstance(node, ast.List) else tuple(out)
        if isinstance(node, (ast.Dict, ast.Set)):
            return _Object()
        if isinstance(node, ast.Lambda):
            return _Named("<lambda>")
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return _Named(node.name)
        if isinstance(node, ast.ClassDef):
            return _Named(node.name)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = self._eval(node.operand, depth + 1)
            return -inner if isinstance(inner, (int, float)) and not isinstance(inner, bool) else UNKNOWN
        if isinstance(node, ast.BinOp):
            left, right = self._eval(node.left, depth + 1), self._eval(node.right, depth + 1)
            if isinstance(node.op, ast.Add) and type(left) is type(right) and isinstance(left, (list, tuple)):
                return left + right
            if isinstance(node.op, ast.Mult) and isinstance(left, (list, tuple)) and isinstance(right, int):
                return left * right
            return UNKNOWN
        if isinstance(node, ast.Name):
            ref = self.env.get(node.id)
            if isinstance(ref, tuple):
                found = _Module._follow(ref, self.root, 0)
                return UNKNOWN if found is UNKNOWN else found[0]._eval(found[1], depth + 1)
            return self._eval(ref, depth + 1) if ref is not None else UNKNOWN
        if isinstance(node, ast.Call):
            return self._eval_call(node, depth)
        return UNKNOWN

    def _eval_call(self, node: ast.Call, depth: int):
        if self._pytest_attr(node.func) == "param":
            kw = {k.arg: k.value for k in node.keywords if k.arg}
            ident = self._eval(kw["id"], depth + 1) if "id" in kw else None
            if any(isinstance(a, ast.Starred) for a in node.args):
                return _Param(UNKNOWN, ident)
            return _Param(tuple(self._eval(a, depth + 1) for a in node.args), ident)
        if isinstance(node.func, ast.Name) and node.func.id in ("range", "list", "tuple") and not node.keywords \
                and node.func.id not in self.env:
            args = [self._eval(a, depth + 1) for a in node.args]
            if node.func.id == "range" and all(isinstance(a, int) for a in args) and 1 <= len(args) <= 3:
                return list(range(*args))
            if node.func.id != "range" and len(args) == 1 and isinstance(args[0], (list, tuple)):
                return list(args[0]) if node.func.id == "list" else tuple(args[0])
            return UNKNOWN
        if isinstance(node.func, ast.Name):
            cls = self._eval_class(node.func.id)
            if cls is not None:
                return _Object()  # an instance of a class of this project that is no Enum and names no __name__
        return UNKNOWN

    def _eval_class(self, name: str) -> ast.ClassDef | None:
        ref = self.env.get(name)
        if isinstance(ref, tuple):
            found = _Module._follow(ref, self.root, 0)
            ref = UNKNOWN if found is UNKNOWN else found[1]
        if not isinstance(ref, ast.ClassDef) or ref.bases and not all(isinstance(b, ast.Name) and b.id == "object"
                                                                      for b in ref.bases):
            return None  # a subclass may be an Enum, a str, a tuple...
        if any(isinstance(n, ast.Name) and n.id in ("__name__", "__new__") or isinstance(n, ast.FunctionDef)
               and n.name in ("__name__", "__new__") for n in ast.walk(ref)):
            return None
        return ref


def _fixture_kw(node, keyword: str | None) -> bool:
    """Whether ``node`` is a function decorated ``@...fixture(...)`` (with ``keyword`` given, when not None)."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    for dec in node.decorator_list:
        target = dec.func if isinstance(dec, ast.Call) else dec
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == "fixture" and (keyword is None or isinstance(dec, ast.Call) and any(
                k.arg == keyword and not (isinstance(k.value, ast.Constant) and not k.value.value)
                for k in dec.keywords)):
            return True
    return False


_NON_PRINTABLE = {i: f"\\x{i:02x}" for i in range(128) if i not in range(32, 127)} | {
    ord("\t"): "\\t", ord("\r"): "\\r", ord("\n"): "\\n"}


def _escaped(s: str | bytes) -> str:
    """pytest's ascii_escaped of an id, as a pattern."""
    text = s.decode("ascii", "backslashreplace") if isinstance(s, bytes) else s.encode("unicode_escape").decode("ascii")
    return re.escape(text.translate(_NON_PRINTABLE))


def _from_value(value, argname: str | None, idx: int) -> str:
    """The id pytest makes of one value (``argname`` None: an ``ids=`` entry, which has no fallback)."""
    if isinstance(value, (_Unknown, _Param)):
        return ANY
    if isinstance(value, (str, bytes)):
        if argname is not None and len(value) > 100:  # pytest's default turns a long string into argname+index
            return f"(?:{_escaped(value)}|{re.escape(argname + str(idx))})"
        return _escaped(value)
    if value is None or isinstance(value, (bool, int, float, complex)):
        return re.escape(str(value))
    if isinstance(value, _Named):
        return re.escape(value.name)
    return re.escape(f"{argname}{idx}") if argname is not None else ANY


def _unique(ids: list[str]) -> str:
    """One alternation of the ids of a parametrize call, with pytest's counters where ids repeat (any known id
    may carry one when some ids are unknown)."""
    unsure = ANY in ids or any(i.startswith("(?:") for i in ids)
    counts: dict[str, int] = {}
    for i in ids:
        counts[i] = counts.get(i, 0) + 1
    alts = []
    for i in dict.fromkeys(ids):
        if i == ANY or i.startswith("(?:") or ".*" in i:
            alts.append(i)
        elif counts[i] > 1 or unsure:
            alts.append(f"{i}(?:_?[0-9]+)?" if counts[i] == 1 else f"{i}_?[0-9]+")
        else:
            alts.append(i)
    return "(?:" + "|".join(alts) + ")"
