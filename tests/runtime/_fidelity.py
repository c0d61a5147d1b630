"""What a runtime lane's ``FIDELITY.md`` promises, checked (the gdn and projections lanes' fidelity tests).

The file's ``## Behaviours`` table has four columns: the behaviour, ours (``module.name`` in backticks), the SGLang
0.5.23 code it follows (``sglang/<path>.py: Name`` citations) and the tests that verify it (``test_x`` in
backticks). :func:`check` finds what is wrong with it: a row without a citation or a test, a citation that names
nothing in the installed SGLang (anywhere in the file, the departures included), a test the lane's tests do not
define, a name of ours that is not defined, and a public function, class or method of the modelled modules that
the file does not list (as a behaviour or under infrastructure).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.runtime.test_sglang_citations import CITATION, Cite
from tests.runtime.test_sglang_citations import check as check_citation

TEST = re.compile(r"`(test_\w+)`")
CELL = re.compile(r"(?<!\\)\|")  # a cell may hold an escaped pipe, ``\|``


def rows(fidelity: Path) -> list[list[str]]:
    """The cells of each row of the ``## Behaviours`` table."""
    table = fidelity.read_text().split("## Behaviours", 1)[1].split("\n## ", 1)[0]
    return [[c.strip() for c in CELL.split(line.strip()[1:-1])] for line in table.splitlines()
            if line.startswith("| ") and not line.startswith("| behaviour")]


def definitions(lane: Path, modules: tuple[str, ...]) -> dict[str, bool]:
    """``module.Qualified.name`` -> public (no part starts with ``_``) for every function and class of ``modules``."""
    out: dict[str, bool] = {}

    def walk(body, prefix, public):
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                name, ok = f"{prefix}{node.name}", public and not node.name.startswith("_")
                out[name] = ok
                if isinstance(node, ast.ClassDef):
                    walk(node.body, f"{name}.", ok)

    for module in modules:
        walk(ast.parse((lane / f"{module}.py").read_text()).body, f"{module}.", True)
    return out


def lane_tests(test_dir: Path) -> set[str]:
    return {name for path in test_dir.glob("test_*.py")
            for name in re.findall(r"^def (test_\w+)", path.read_text(), re.M)}


def check(fidelity: Path, lane: Path, modules: tuple[str, ...], test_dir: Path, sglang_root: Path,
          releases: Path, min_rows: int) -> list[str]:
    """Everything wrong with ``fidelity`` (empty when it is true of the code, the tests and the installed SGLang)."""
    text = fidelity.read_text()
    table = rows(fidelity)
    if len(table) < min_rows or any(len(r) != 4 for r in table):
        return [f"{fidelity.name}: the behaviour table lost its shape ({len(table)} rows)"]
    defs, tests = definitions(lane, modules), lane_tests(test_dir)
    name = re.compile(rf"`((?:{'|'.join(modules)})\.(?!py`)[A-Za-z_][\w.]*)`")  # `linear.py` is a file
    errors = []
    for behaviour, ours, sglang, verified in table:
        at = behaviour[:60]
        errors += [f"{at}: no SGLang citation"] if not CITATION.search(sglang) else []
        errors += [f"{at}: names no test"] if not TEST.findall(verified) else []
        errors += [f"{at}: no test {t} in {test_dir.name}/" for t in TEST.findall(verified) if t not in tests]
        errors += [f"{at}: names none of ours"] if not name.findall(ours) else []
    for line_no, line in enumerate(text.splitlines(), 1):
        for m in CITATION.finditer(line):
            cite = Cite(f"{fidelity.name}:{line_no}", m["path"], tuple(m["names"].split(", ")), m["release"])
            errors += check_citation(cite, sglang_root, releases)
    listed = set(name.findall(text))
    errors += [f"{n}: listed, but {n.split('.')[0]}.py defines no such name" for n in sorted(listed - set(defs))]
    errors += [f"{n}: public and not listed (a behaviour row or infrastructure)"
               for n, public in sorted(defs.items()) if public and n not in listed]
    return errors
