"""Every SGLang file and name that runtime/ cites exists in SGLang 0.5.23 (the installed package).

The one citation form, inside backticks in a docstring or comment, on one line::

    ``sglang/srt/managers/schedule_policy.py: PrefillAdder.add_chunked_req, PrefillAdder.add_one_req``
    ``sglang/srt/server_args.py: ServerArgs.mamba_scheduler_strategy @0.5.13``   (historical: gone from 0.5.23)

The path is the file's path inside the ``sglang`` package (the repository's ``python/sglang/...``); each name is
a function, class or attribute defined in that file (``Class.method``, ``Class.field``, ``func.inner``: module
level definitions, class bodies, ``self.x`` assignments in a class's methods). ``@<release>`` marks a name that
0.5.23 no longer has; it is checked against that release in the release cache ($DOSSIER_RELEASES, else
``.dossier/releases``) when the cache holds it, and must not resolve in 0.5.23. Any other mention of an SGLang
file in runtime/'s docstrings or comments (``schedule_policy.py``, ``srt/models/qwen3_next.py``) is a finding, so
is a short ``Class.member`` whose class sits in a file the module cites but that file does not define it, and so
is a runtime module that loads or models SGLang code without a citation. Skipped only when sglang is not
installed (CI installs 0.5.23 ``--no-deps``); sglang itself is never imported.
"""

from __future__ import annotations

import ast
import io
import os
import re
import tokenize
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

from runtime import sglang_files

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "runtime"
VERSION = "0.5.23"  # the release every runtime docstring describes

CITATION = re.compile(
    r"`{1,2}sglang/(?P<path>[\w/]+\.py): (?P<names>[A-Za-z_][\w.]*(?:, [A-Za-z_][\w.]*)*)"
    r"(?: @(?P<release>\d+\.\d+\.\d+(?:\.post\d+)?))?`{1,2}"
)
SHORT_NAME = re.compile(r"(?<![\w.])([A-Z]\w*(?:\.\w+)+)")
PY_PATH = re.compile(r"(?<![\w/.-])(?P<path>[\w./-]*\w\.py)\b")

#: runtime modules that model SGLang behaviour without naming SGLang in their text; each must cite it too
MODELS_SGLANG = {
    "gdn/gating.py",
    "gdn/gated_norm.py",
    "gdn/decode.py",
    "gdn/verify.py",
    "projections/split_kernel.py",
    "projections/fp8.py",
    "scheduling/runner.py",
}
#: modules that name SGLang but model nothing themselves, and why
NO_CITATION = {
    "gdn/__init__.py": "the package index; each module it lists cites",
    "scheduling/__main__.py": "the command line; the rules it runs are cited in the modules",
    "gdn/readme_tables.py": "prints the README's tables from a bench document; it models nothing",
}


@dataclass(frozen=True)
class Cite:
    where: str  # runtime/x.py:LINE
    path: str  # inside the sglang package
    names: tuple[str, ...]
    release: str | None


def _text_spans(source: str) -> list[tuple[int, str]]:
    """(first line, text) of the comments and triple-quoted strings (docstrings) of a module."""
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            out.append((tok.start[0], tok.string))
        elif tok.type == tokenize.STRING and re.match(r"^[rRbBuU]{0,2}(\"\"\"|''')", tok.string):
            out.append((tok.start[0], tok.string))
    return out


def scan(source: str, where: str) -> tuple[list[Cite], list[str], list[tuple[str, str]]]:
    """The citations of one module's text, its SGLang file mentions outside the citation form, and the
    ``Class.member`` names it mentions outside a citation, as ``(where, name)``."""
    cites, strays, shorts = [], [], []
    for first, text in _text_spans(source):
        for offset, line in enumerate(text.splitlines()):
            at = f"{where}:{first + offset}"
            for m in CITATION.finditer(line):
                cites.append(Cite(at, m["path"], tuple(m["names"].split(", ")), m["release"]))
            rest = CITATION.sub("", line)
            shorts += [(at, m[1]) for m in SHORT_NAME.finditer(rest)]
            for m in PY_PATH.finditer(rest):
                if _is_sglang_file(m["path"]):
                    strays.append(f"{at}: `{m['path']}` names an SGLang file outside the citation form "
                                  "``sglang/<path>.py: name``")
    return cites, strays, shorts


def check_short_names(cites: list[Cite], shorts: list[tuple[str, str]], root: Path) -> list[str]:
    """A ``Class.member`` a module names outside a citation, whose class is defined in a file the module cites,
    must be defined there too (``MambaPool.x`` beside a citation of memory_pool.py)."""
    classes: dict[str, Path] = {}
    for cite in cites:
        path = root / cite.path
        if cite.release is None and path.is_file():
            for name, node in _members(_tree(path)).items():
                if isinstance(node, ast.ClassDef):
                    classes.setdefault(name, path)
    return [f"{at}: `{name}` is not defined in sglang/{classes[name.split('.')[0]].relative_to(root).as_posix()} "
            f"of {VERSION}, where this module cites its class" for at, name in shorts
            if name.split(".")[0] in classes and not defines(classes[name.split(".")[0]], name)]


@cache
def _repo_basenames() -> frozenset[str]:
    return frozenset(p.name for d in ("runtime", "tests", "dossier") for p in (ROOT / d).rglob("*.py"))


@cache
def _sglang_files() -> tuple[frozenset[str], frozenset[str]]:
    root = sglang_files.package_dir()
    files = [p.relative_to(root).as_posix() for p in root.rglob("*.py")] if root else []
    return frozenset(files), frozenset(f.rsplit("/", 1)[-1] for f in files)


def _is_sglang_file(path: str) -> bool:
    if path.startswith(("fla/", "fla_core/", "runtime/", "tests/", "dossier/")):
        return False
    if (ROOT / path).is_file() or (path.count("/") == 0 and path in _repo_basenames()):
        return False
    rel, names = _sglang_files()
    return path.removeprefix("sglang/") in rel or path.rsplit("/", 1)[-1] in names


@cache
def _members(scope: ast.AST) -> dict[str, ast.AST]:
    """Names a module, class or function body defines (through if/try/with blocks, not into nested scopes)."""
    out: dict[str, ast.AST] = {}
    stack = list(scope.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out.setdefault(node.name, node)
        elif isinstance(node, ast.Assign):
            for t in node.targets:
                for n in ast.walk(t):
                    if isinstance(n, ast.Name):
                        out.setdefault(n.id, node)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out.setdefault(node.target.id, node)
        elif isinstance(node, ast.If | ast.Try | ast.With | ast.For | ast.While):
            for field in ("body", "orelse", "finalbody", "handlers"):
                stack.extend(getattr(node, field, []))
        elif isinstance(node, ast.ExceptHandler):
            stack.extend(node.body)
    return out


@cache
def _self_attributes(cls: ast.ClassDef) -> frozenset[str]:
    """``self.x`` assigned in any method of a class."""
    out = set()
    for sub in ast.walk(cls):
        targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target] if isinstance(
            sub, ast.AnnAssign | ast.AugAssign) else []
        out.update(t.attr for t in targets
                   if isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self")
    return frozenset(out)


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def defines(path: Path, dotted: str) -> bool:
    """Whether the file at ``path`` defines ``dotted`` (``f``, ``Class.method``, ``Class.attr``, ``f.inner``)."""
    scope: ast.AST | None = _tree(path)
    for part in dotted.split("."):
        if scope is None:
            return False
        node = _members(scope).get(part)
        if node is None and isinstance(scope, ast.ClassDef) and part in _self_attributes(scope):
            node = ast.Pass()
        if node is None:
            return False
        scope = node if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) else None
    return True


def release_cache() -> Path:
    """The release cache historical (``@<release>``) citations are checked against: $DOSSIER_RELEASES, else the default."""
    env = os.environ.get("DOSSIER_RELEASES")
    return Path(env) if env else ROOT / ".dossier" / "releases"


def check(cite: Cite, root: Path, releases: Path) -> list[str]:
    """What is wrong with one citation against the installed tree ``root`` and the release cache."""
    here, errors = root / cite.path, []
    if cite.release is None:
        if not here.is_file():
            return [f"{cite.where}: sglang/{cite.path} is not a file of SGLang {VERSION}"]
        errors += [f"{cite.where}: sglang/{cite.path} defines no `{n}` in SGLang {VERSION}"
                   for n in cite.names if not defines(here, n)]
        return errors
    errors += [f"{cite.where}: `{n}` is still in sglang/{cite.path} of {VERSION}; drop @{cite.release}"
               for n in cite.names if here.is_file() and defines(here, n)]
    old = releases / cite.release / "python" / "sglang" / cite.path
    if (releases / cite.release).is_dir():
        if not old.is_file():
            errors.append(f"{cite.where}: sglang/{cite.path} is not a file of SGLang {cite.release}")
        else:
            errors += [f"{cite.where}: sglang/{cite.path} defines no `{n}` in SGLang {cite.release}"
                       for n in cite.names if not defines(old, n)]
    return errors


def _runtime_modules() -> list[Path]:
    return sorted(p for p in RUNTIME.rglob("*.py") if "__pycache__" not in p.parts)


@pytest.fixture(scope="module")
def sglang_root() -> Path:
    root = sglang_files.package_dir()
    if root is None:
        pytest.skip("sglang not installed")
    assert sglang_files.version() == VERSION, f"runtime/ cites SGLang {VERSION}; installed: {sglang_files.version()}"
    return root


def test_every_citation_names_a_file_and_definition_of_sglang(sglang_root):
    cites, errors = [], []
    for path in _runtime_modules():
        found, strays, shorts = scan(path.read_text(), path.relative_to(ROOT).as_posix())
        cites += found
        errors += strays + check_short_names(found, shorts, sglang_root)
    for cite in cites:
        errors += check(cite, sglang_root, release_cache())
    assert len(cites) >= 40, f"only {len(cites)} citations found: is the form still parsed?"
    assert not errors, "\n".join(errors)


def test_every_module_that_loads_or_models_sglang_cites_it(sglang_root):
    missing = []
    for path in _runtime_modules():
        rel = path.relative_to(RUNTIME).as_posix()
        source = path.read_text()
        needs = ("sglang" in source.lower() and rel not in NO_CITATION) or rel in MODELS_SGLANG
        if needs and not scan(source, rel)[0]:
            missing.append(rel)
    assert not [m for m in {*MODELS_SGLANG, *NO_CITATION} if not (RUNTIME / m).is_file()], "a list names a missing module"
    assert not missing, (f"runtime modules that load or model SGLang code but cite no SGLang file and name: {missing}; "
                         "add ``sglang/<path>.py: Name`` of what each follows to its docstring (or list it in NO_CITATION)")


def test_the_check_fails_on_made_up_and_unformed_citations(sglang_root, tmp_path):
    source = '''"""Models ``sglang/srt/managers/schedule_policy.py: PrefillAdder.add_chunked_req``.

    ``sglang/srt/managers/schedule_policy.py: PrefillAdder.add_imaginary_req``
    ``sglang/srt/managers/no_such_file.py: PrefillAdder``
    ``sglang/srt/managers/schedule_policy.py: PrefillAdder @0.5.2``
    ``sglang/srt/managers/schedule_policy.py: NoSuchOldThing @0.5.2``
    """
    # follows schedule_policy.py and srt/managers/scheduler.py; ours: runtime/scheduling/model.py
    # PrefillAdder.add_chunked_req and PrefillAdder.no_such_method; Simulator.step is ours
    '''
    old = tmp_path / "0.5.2" / "python" / "sglang" / "srt" / "managers"
    old.mkdir(parents=True)
    (old / "schedule_policy.py").write_text("class PrefillAdder:\n    def __init__(self):\n        self.x = 1\n")
    cites, strays, shorts = scan(source, "m.py")
    assert [c.names for c in cites] == [("PrefillAdder.add_chunked_req",), ("PrefillAdder.add_imaginary_req",),
                                        ("PrefillAdder",), ("PrefillAdder",), ("NoSuchOldThing",)]
    errors = [e for c in cites for e in check(c, sglang_root, tmp_path)]
    assert len(errors) == 4, errors
    assert "defines no `PrefillAdder.add_imaginary_req`" in errors[0]
    assert "no_such_file.py is not a file" in errors[1]
    assert "still in" in errors[2] and "drop @0.5.2" in errors[2]
    assert "defines no `NoSuchOldThing` in SGLang 0.5.2" in errors[3]
    assert [s.split("`")[1] for s in strays] == ["schedule_policy.py", "srt/managers/scheduler.py"]
    short_errors = check_short_names(cites, shorts, sglang_root)
    assert len(short_errors) == 1 and "`PrefillAdder.no_such_method` is not defined" in short_errors[0], short_errors
    assert defines(old / "schedule_policy.py", "PrefillAdder.x")
    assert not defines(old / "schedule_policy.py", "PrefillAdder.y")
