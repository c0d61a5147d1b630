"""What an SGLang source tree offers a user: command-line flags, SGLANG_* (and SGL_*) env vars, files and modules.

Read from the source without importing sglang (its serving dependencies are not installed): flags come
from ``add_argument`` calls (ast) and from the ``A[T, Arg(...)]`` dataclass fields that SGLang turns into
server arguments (``srt/arg_groups/fields``: ``--field-name`` unless ``cli_name``/``aliases``/``no_cli``
say otherwise; choices from ``choices=`` or a ``Literal``); env vars from the ``Env*`` declarations in
``srt/environ.py`` and from quoted ``"SGLANG_..."`` / ``"SGL_..."`` names anywhere in the code. From 0.5.3 on
``srt/environ.py`` copies every ``SGL_X`` set in the environment to ``SGLANG_X`` at import, warning that the old name
is deprecated: such a tree honours ``SGL_X`` for every ``SGLANG_X`` it reads, as an alias to use ``SGLANG_X`` instead
(:data:`_SGL_REWRITE`). The tree is whatever
:func:`dossier.drift.locate` found (the installed package or a checkout); a release tree from the
release cache plugs in the same way.
"""

from __future__ import annotations

import ast
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dossier.env_warnings import ENV_NAME, ENV_PREFIX, warning_mentions
from dossier.source_tree import PACKAGE_PREFIX, SourceTree

FIELDS = "srt/arg_groups/fields/"
#: the file that held the annotated argument fields before they moved under FIELDS (0.5.14 .. 0.5.19)
SERVER_ARGS = "srt/server_args.py"
#: top-level directories of a checkout whose files a reader is pointed at
CHECKOUT_DIRS = ("test", "benchmark", "docs", "scripts", "sgl-kernel", "examples", "python")
#: ``os.getenv("SGLANG_X", "32")`` / ``os.environ.get(...)`` with a literal fallback, or SGLang's
#: ``get_bool_env_var("SGLANG_X", "True")`` (its own default when none is given): the variable's default
_GETENV = re.compile(r"""(?P<call>os\.(?:getenv|environ\.get)|get_bool_env_var|get_int_env_var)\(\s*"""
                     rf"""["'](?P<name>{ENV_PREFIX}[A-Z0-9_]*[A-Z0-9])["']\s*(?:,\s*(?:default\s*=\s*)?"""
                     r"""(?P<default>["'][^"'\n]*["']|-?\d+(?:\.\d+)?|True|False|None)\s*)?\)""")
#: the default of SGLang's ``get_bool_env_var`` / ``get_int_env_var`` helpers (``srt/utils``) when none is passed
_HELPER_DEFAULTS = {"get_bool_env_var": "false", "get_int_env_var": "0"}
_ARG_DEFS = "add_argument("
#: the legacy prefix SGLang rewrites: ``key.replace("SGL_", "SGLANG_", 1)`` over ``os.environ`` (srt/environ.py,
#: 0.5.3 on): ``SGL_X`` is then an alias of ``SGLANG_X``
LEGACY_PREFIX, PREFIX = "SGL_", "SGLANG_"
_SGL_REWRITE = re.compile(r"""\.replace\(\s*["']SGL_["']\s*,\s*["']SGLANG_["']""")


@dataclass(frozen=True)
class Flag:
    name: str
    #: allowed values, None when any (or when they are computed at run time)
    choices: frozenset[str] | None = None
    #: the flag SGLang says to use instead, when this one is deprecated ("" when not deprecated)
    deprecated: str = ""
    defined_in: str = ""
    #: a server argument (``sglang serve`` / ``launch_server``), where argparse also takes unique prefixes
    server: bool = False
    #: the default as the source declares it (``256``, ``'auto'``, ``None``); None when computed or not given
    default: str | None = None
    #: the value a field left unset resolves to when no model or platform hook sets it (``Arg(fallback=0.9)``)
    fallback: str | None = None

    @property
    def field(self) -> str:
        """The server-args attribute it sets: ``--mamba-track-interval`` -> ``mamba_track_interval``."""
        return self.name.lstrip("-").replace("-", "_")


@dataclass
class Surface:
    """Flags, env vars and files of one SGLang tree, keyed the way a reader writes them."""

    tree: SourceTree
    flags: dict[str, Flag] = field(default_factory=dict)
    #: env var -> the name to use instead ("" when current)
    env: dict[str, str] = field(default_factory=dict)
    #: env vars the tree names only to warn that they are set (:mod:`dossier.env_warnings`): it does not read them
    env_warned: set[str] = field(default_factory=set)
    #: the tree copies ``SGL_X`` to ``SGLANG_X`` (:data:`_SGL_REWRITE`): ``env`` then holds the aliases
    #: :func:`legacy_aliases` derives, and ``aliased`` those of them no code names itself
    rewrites: bool = False
    aliased: set[str] = field(default_factory=set)
    #: env var -> its default as the source declares it (an ``Env*`` declaration or an ``os.getenv`` fallback)
    env_defaults: dict[str, str] = field(default_factory=dict)
    #: repository paths of every file and directory (python/sglang/...; the whole repo for a checkout)
    paths: set[str] = field(default_factory=set)
    _by_name: dict[str, list[str]] | None = field(default=None, repr=False)

    def __getstate__(self) -> dict:
        """Pickled without its tree (the whole source, which the reader attaches again) nor its name index."""
        return {**self.__dict__, "tree": None, "_by_name": None}

    @property
    def label(self) -> str:
        return self.tree.label

    def knows_path(self, repo_path: str) -> bool | None:
        """Whether ``repo_path`` exists in the tree; None when the tree cannot tell (outside the package)."""
        p = repo_path.rstrip("/")
        if p in self.paths:
            return True
        if self.tree.kind != "checkout" and PurePosixPath(p).parts[:2] != PACKAGE_PREFIX.parts:
            return None
        return False

    def named(self, name: str) -> list[str]:
        """Paths of the tree whose last component is ``name``."""
        if self._by_name is None:
            self._by_name = {}
            for p in self.paths:
                self._by_name.setdefault(p.rsplit("/", 1)[-1], []).append(p)
        return self._by_name.get(name, [])

    def has_suffix_path(self, partial: str) -> bool:
        """Whether some path of the tree ends with ``partial`` (e.g. ``layers/linear.py``)."""
        tail = "/" + partial.strip("/")
        return any(p.endswith(tail) for p in self.named(tail.rsplit("/", 1)[-1]))

    def flag(self, name: str) -> tuple[Flag | None, list[str]]:
        """The flag ``name`` means, and the server flags it abbreviates when it is not one itself.

        argparse takes a unique prefix of a server flag (``--tp`` for ``--tp-size``); an ambiguous
        prefix is an error there, so it is returned as candidates with no flag."""
        if name in self.flags:
            return self.flags[name], []
        longer = sorted(f for f, d in self.flags.items() if d.server and f.startswith(name))
        return (self.flags[longer[0]], longer) if len(longer) == 1 else (None, longer)

    def has_module(self, dotted: str) -> bool:
        base = (PACKAGE_PREFIX.parent / Path(*dotted.split("."))).as_posix()
        return any(p in self.paths for p in (base + ".py", base + "/__init__.py", base + "/__main__.py"))


def read_surface(tree: SourceTree) -> Surface:
    surface = Surface(tree)
    root = tree.checkout or tree.package
    prefix = "" if tree.checkout else PACKAGE_PREFIX.as_posix() + "/"
    files: list[str] = []  # package-relative
    for dirpath, dirnames, filenames in os.walk(tree.package):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        rel_dir = os.path.relpath(dirpath, tree.package).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        files += [rel_dir + n for n in filenames]
        surface.paths.update(f"{prefix}{rel_dir}{n}" for n in dirnames)
    pkg = (prefix or f"{tree.package.relative_to(root).as_posix()}/") if tree.checkout else prefix
    constants: dict[str, frozenset[str]] = {}
    mentions: Counter[str] = Counter()
    warnings: Counter[str] = Counter()
    declared: set[str] = set()  # environ.py's Env* descriptors: read as envs.SGLANG_X, which no quote counts
    rewrites = False  # the tree copies SGL_X to SGLANG_X (_SGL_REWRITE)
    # server arguments first: a name other tools reuse (--model-path) keeps its server definition
    for rel in sorted(files, key=lambda r: (not _is_server(r), r)):
        repo_path = pkg + rel
        surface.paths.add(repo_path)
        if not rel.endswith(".py"):
            continue
        text = tree.text(repo_path) or ""  # kept: lint reads every text again
        rewrites = rewrites or (LEGACY_PREFIX in text and bool(_SGL_REWRITE.search(text)))
        named = ENV_NAME.findall(text)
        for name in named:
            surface.env.setdefault(name, "")
        if named:  # only a file that names a variable can name it only to warn
            mentions.update(named)
            warnings += warning_mentions(text)
        for m in _GETENV.finditer(text):
            default = _literal(m["default"]) if m["default"] else _HELPER_DEFAULTS.get(m["call"])
            if default is not None:  # a bare os.getenv("SGLANG_X") declares none
                surface.env_defaults.setdefault(m["name"], default)
        server, environ = _is_server(rel), rel == "srt/environ.py"
        if not (server or environ or _ARG_DEFS in text):
            continue
        try:
            module = ast.parse(text)
        except SyntaxError:
            continue
        constants.update(_string_lists(module))
        for flag in _argparse_flags(module, repo_path, constants, server):
            surface.flags.setdefault(flag.name, flag)
        if rel.startswith(FIELDS) or rel == SERVER_ARGS:
            for flag in _field_flags(module, repo_path, constants):
                surface.flags.setdefault(flag.name, flag)
        if environ:
            aliases = _env_aliases(module)
            declared |= {n for n, new in aliases.items() if not new}
            surface.env.update(aliases)
            surface.env_defaults.update(_env_defaults(module))
    surface.env_warned = {n for n, count in mentions.items()
                          if warnings[n] >= count and n not in declared and not surface.env[n]}
    if rewrites:
        aliases = legacy_aliases(surface.env, surface.env_warned)
        surface.rewrites, surface.aliased = True, set(aliases) - set(surface.env)
        surface.env.update(aliases)
    if tree.kind == "checkout":
        for top in root.iterdir():
            surface.paths.add(top.name)
            if top.is_dir() and top.name in CHECKOUT_DIRS:
                surface.paths.update(p.relative_to(root).as_posix() for p in top.rglob("*"))
    return surface


def legacy_aliases(env: dict[str, str], warned: set[str]) -> dict[str, str]:
    """``SGL_X`` -> the name to use instead, for every ``SGLANG_X`` of ``env`` that a tree which rewrites the legacy
    prefix reads: ``SGLANG_X``, or what ``SGLANG_X`` itself is deprecated for. Setting ``SGL_X`` there warns that it is
    deprecated even where some code still reads ``SGL_X`` itself (0.5.23's SGL_FORCE_SHUTDOWN), so the alias wins; a
    variable the tree only warns about gets none (the rewrite runs after the warning, and nothing reads it)."""
    return {LEGACY_PREFIX + n[len(PREFIX):]: new or n for n, new in env.items()
            if n.startswith(PREFIX) and n not in warned}


def _is_server(rel: str) -> bool:
    """Whether the package file ``rel`` defines server arguments."""
    return rel == "srt/server_args.py" or rel.startswith("srt/arg_groups/")


def _strings(node: ast.AST | None, constants: dict[str, frozenset[str]] | None = None) -> frozenset[str] | None:
    """The strings of a list/tuple/set literal, of a module constant holding one, or of their sum;
    None when the value is computed some other way."""
    constants = constants or {}
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)) and all(
        isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts
    ):
        return frozenset(e.value for e in node.elts)
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.BitOr)):
        left, right = _strings(node.left, constants), _strings(node.right, constants)
        return left | right if left is not None and right is not None else None
    return None


def _string_lists(module: ast.Module) -> dict[str, frozenset[str]]:
    """Module-level ``NAME = ["a", "b"]`` constants (choices lists are declared this way)."""
    out: dict[str, frozenset[str]] = {}
    for stmt in module.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            values = _strings(stmt.value, out)
            if values is not None:
                out[stmt.targets[0].id] = values
    return out


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _deprecation(call: ast.Call) -> str:
    action = _keyword(call, "action")
    name = action.id if isinstance(action, ast.Name) else action.attr if isinstance(action, ast.Attribute) else ""
    if "Deprecated" not in name:
        help_ = _keyword(call, "help")
        if not (isinstance(help_, ast.Constant) and str(help_.value).lstrip("( ").startswith("Deprecated")):
            return ""
    new = _keyword(call, "new_flag")
    return str(new.value) if isinstance(new, ast.Constant) else "see the flag's help"


def _argparse_flags(module: ast.Module, rel: str, constants: dict, server: bool):
    for node in ast.walk(module):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_argument"):
            continue
        names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
                 and a.value.startswith("--")]
        choices = _strings(_keyword(node, "choices"), constants)
        deprecated = _deprecation(node)
        default = _literal(_keyword(node, "default"))
        for n in names:
            yield Flag(n, choices, deprecated, rel, server, default)


def _literal_choices(annotation: ast.AST) -> frozenset[str] | None:
    """Choices of a ``Literal[...]`` (possibly inside ``Optional[...]``) type annotation."""
    for node in ast.walk(annotation):
        if isinstance(node, ast.Subscript) and getattr(node.value, "id", None) == "Literal":
            inner = node.slice
            elts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
            if all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in elts):
                return frozenset(e.value for e in elts)
    return None


def _field_flags(module: ast.Module, rel: str, constants: dict):
    """``name: A[T, "help"]`` / ``A[T, Arg(...)]`` class fields, as the flags SGLang derives from them."""
    for cls in (n for n in ast.walk(module) if isinstance(n, ast.ClassDef)):
        for stmt in cls.body:
            if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
                continue
            ann = stmt.annotation
            if not (isinstance(ann, ast.Subscript) and getattr(ann.value, "id", None) in ("A", "Annotated")
                    and isinstance(ann.slice, ast.Tuple) and len(ann.slice.elts) >= 2):
                continue
            typ, meta = ann.slice.elts[0], ann.slice.elts[1]
            default = _literal(stmt.value)
            if isinstance(meta, ast.Constant) and isinstance(meta.value, str):
                yield Flag("--" + stmt.target.id.replace("_", "-"), _literal_choices(typ), "", rel, True, default)
                continue
            if not (isinstance(meta, ast.Call) and getattr(meta.func, "id", None) == "Arg"):
                continue
            no_cli = _keyword(meta, "no_cli")
            if isinstance(no_cli, ast.Constant) and no_cli.value is True:
                continue
            cli = _keyword(meta, "cli_name")
            name = cli.value if isinstance(cli, ast.Constant) else "--" + stmt.target.id.replace("_", "-")
            choices_node = _keyword(meta, "choices")
            choices = _strings(choices_node, constants) if choices_node is not None else None
            if choices is None:  # computed choices (Backend.ALL): the Literal type says the same
                choices = _literal_choices(typ)
            deprecated = _deprecation(meta)
            aliases = _strings(_keyword(meta, "aliases")) or frozenset()
            action = _keyword(meta, "action")
            negatable = isinstance(action, ast.Attribute) and action.attr == "BooleanOptionalAction"
            fallback = _literal(_keyword(meta, "fallback"))
            for n in (name, *sorted(aliases)):
                yield Flag(n, choices, deprecated, rel, True, default, fallback)
            if negatable:
                yield Flag("--no-" + name[2:], choices, deprecated, rel, True)


def _literal(node: ast.AST | str | None) -> str | None:
    """A default written as a literal, as a reader sets it: ``256``, ``-1``, ``auto`` (a string bare, ``''`` when
    empty), ``None``, ``[]``; None for one computed (a call, a name) or absent."""
    if node is None:
        return None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    return (value or "''") if isinstance(value, str) else repr(value)


def _env_defaults(module: ast.Module) -> dict[str, str]:
    """``SGLANG_X = EnvInt(32)`` (or ``default=32``): {"SGLANG_X": "32"}, for a literal default."""
    out: dict[str, str] = {}
    for node in ast.walk(module):
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", "").startswith("Env")):
            continue
        targets = [t.id for t in node.targets if isinstance(t, ast.Name) and t.id.startswith((PREFIX, LEGACY_PREFIX))]
        value = _literal(node.value.args[0] if node.value.args else _keyword(node.value, "default"))
        if targets and value is not None:
            out[targets[0]] = value
    return out


def _env_aliases(module: ast.Module) -> dict[str, str]:
    """``SGLANG_NEW = EnvX(..., deprecated_name="SGLANG_OLD")``: {"SGLANG_OLD": "SGLANG_NEW", "SGLANG_NEW": ""}."""
    out: dict[str, str] = {}
    for node in ast.walk(module):
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        targets = [t.id for t in node.targets if isinstance(t, ast.Name) and t.id.startswith((PREFIX, LEGACY_PREFIX))]
        if not targets:
            continue
        out[targets[0]] = ""
        old = _keyword(node.value, "deprecated_name")
        if isinstance(old, ast.Constant) and isinstance(old.value, str):
            out[old.value] = targets[0]
    return out
