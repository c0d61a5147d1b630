"""``runtime/scheduling/FIDELITY.md`` stays true: its citations name SGLang 0.5.23 definitions, its tests exist,
it lists every function and class of the modelled modules, and each behaviour's own docstring cites SGLang."""

import ast
import re
from pathlib import Path

import pytest

from runtime import sglang_files
from tests.runtime.test_sglang_citations import CITATION, Cite, check, release_cache

ROOT = Path(__file__).resolve().parents[3]
LANE = ROOT / "runtime" / "scheduling"
FIDELITY = LANE / "FIDELITY.md"
MODULES = ("config", "model", "track", "pools", "radix", "request", "batch", "runner", "scheduler")
NAME = re.compile(rf"`((?:{'|'.join(MODULES)})\.[A-Za-z_][\w.]*)`")
TEST = re.compile(r"`(test_\w+)`")


@pytest.fixture(scope="module")
def sglang_root() -> Path:
    root = sglang_files.package_dir()
    if root is None:
        pytest.skip("sglang not installed")
    return root


def _rows() -> list[list[str]]:
    text = FIDELITY.read_text()
    table = text.split("## Behaviours", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")] for line in table.splitlines()
            if line.startswith("| ") and not line.startswith("| behaviour")]
    assert len(rows) >= 40 and all(len(r) == 4 for r in rows), "the behaviour table lost its shape"
    return rows


def _definitions() -> dict[str, ast.AST]:
    """``module.Qualified.name`` -> node for every function and class of the modelled modules."""
    out: dict[str, ast.AST] = {}

    def walk(body, prefix):
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                out[f"{prefix}{node.name}"] = node
                if isinstance(node, ast.ClassDef):
                    walk(node.body, f"{prefix}{node.name}.")

    for module in MODULES:
        walk(ast.parse((LANE / f"{module}.py").read_text()).body, f"{module}.")
    return out


def test_every_definition_is_a_listed_behaviour_or_infrastructure():
    listed = set(NAME.findall(FIDELITY.read_text()))
    defs = _definitions()
    assert not sorted(set(defs) - listed), "list these in FIDELITY.md (a behaviour row or infrastructure)"
    assert not sorted(n for n in listed - set(defs) if not n.startswith("config.SGLANG")), "FIDELITY.md names gone"


def test_every_behaviour_cites_sglang_in_its_own_docstring_and_names_a_test(sglang_root):
    defs, tests = _definitions(), set()
    for path in Path(__file__).parent.glob("test_*.py"):
        tests |= set(re.findall(r"^def (test_\w+)", path.read_text(), re.M))
    errors = []
    for behaviour, model, sglang, verified in _rows():
        cites = [Cite(f"FIDELITY.md: {behaviour[:40]}", m["path"], tuple(m["names"].split(", ")), m["release"])
                 for m in CITATION.finditer(sglang)]
        if not cites:
            errors.append(f"{behaviour[:60]}: no SGLang citation")
        for cite in cites:
            errors += check(cite, sglang_root, release_cache())
        errors += [f"{behaviour[:60]}: no test {t}" for t in TEST.findall(verified) if t not in tests]
        errors += [f"{behaviour[:60]}: names no test" for _ in [0] if not TEST.findall(verified)]
        for name in NAME.findall(model):
            node = defs.get(name)
            doc = ast.get_docstring(node) if isinstance(node, ast.FunctionDef | ast.ClassDef) else None
            if name != "config.SGLANG_DEFAULTS" and not (doc and CITATION.search(doc)):
                errors.append(f"{name}: its docstring cites no ``sglang/<path>.py: Name``")
    assert not errors, "\n".join(errors)
