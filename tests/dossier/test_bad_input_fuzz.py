"""Random YAML documents and random bytes through the card loader and every command (issue #13).

Whatever a card (or cards/lanes.yaml) holds, the loader never raises, no lint rule crashes, and every
command ends with exit 0, 1 or 2 -- a finding or one `error:` line, never a traceback -- while render leaves
the rendered files byte-identical whenever it refuses. In-process (typer's CliRunner); the example counts
are kept small for CI's two cores (raise them with DOSSIER_FUZZ_EXAMPLES for a deeper run).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dossier.cards import read_yaml
from dossier.cli import app
from dossier.lint import LintContext, run_lint
from dossier.model import CARD
from dossier.project import Project
from tests.dossier.factories import make_card, write_project

SCALE = int(os.environ.get("DOSSIER_FUZZ_EXAMPLES", "1"))
runner = CliRunner()

FIELDS = [*CARD.fields, "file", "match", "explain", "today", "none", "reference", "tests", "bench", "claims",
          "lanes", "id", "symptoms", "investigation_order"]
TRICKY = ["2025-02-30", "2025-13-45", "2026-03-20", "[/]", "[bold]x[/bold]", "[pool_size, HV, V, K]",
          "../../etc/passwd", "/etc/passwd", "", "   ", "merged", "current", "superseded", "gdn-projection",
          "cites #100 and #90", "#99999999", "TODO", "x" * 300, "\u2028", "%s {0} {{", "::error::"]
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-5, max_value=10**22),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30), st.sampled_from(TRICKY),
    st.dates(min_value=dt.date(1900, 1, 1)),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), inner, max_size=4),
    max_leaves=10,
)


def _paths(data: dict, prefix: str = "") -> list[str]:
    out = []
    for key, value in data.items():
        out.append(prefix + key)
        if isinstance(value, dict):
            out.extend(_paths(value, prefix + key + "."))
    return out


CARD_PATHS = _paths(make_card(100))


def _mutate(path: str, value, drop: bool) -> dict:
    """A valid card with one field (at any depth) replaced by ``value`` or removed."""
    card = make_card(100)
    *parents, leaf = path.split(".")
    node = card
    for p in parents:
        node = node[p]
    if drop:
        node.pop(leaf)
    else:
        node[leaf] = value
    return card


def _dump(data) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True).encode()


yaml_texts = st.text(alphabet=st.sampled_from(list("ab1:- []{}&*!|>'\"#%@`,?\n\t")), max_size=120)
documents = st.one_of(
    st.builds(_mutate, st.sampled_from(CARD_PATHS), values, st.booleans()).map(_dump),
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=8).map(_dump),
    values.map(_dump),
    yaml_texts.map(lambda t: t.encode()),
    st.binary(max_size=200),
    # aliases, tags and anchors that the plain dump never writes
    st.sampled_from([b"a: &x [*x]\n", b"pr: !!int x\n", b"pr: !!binary '***'\n", b"[" * 2000, b"pr: !!python/none\n",
                     b"<<: {pr: 100}\n", b"? [1, 2]\n: x\n", b"pr: 100\npr: 100\n", b"\x00pr: 1\n"]),
)

FUZZ = settings(max_examples=25 * SCALE, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A rendered project (#100 current, #90 superseded by it) and a tiny SGLang tree for drift and lint."""
    top = tmp_path_factory.mktemp("fuzz")
    root = write_project(top / "proj", [make_card(100), make_card(90, status="superseded", superseded_by=[100])])
    sglang = top / "sglang"
    sglang.mkdir()
    (sglang / "__init__.py").write_text("")
    (sglang / "version.py").write_text('__version__ = "0.0.1"\n')
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    return root


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "skills").rglob("*")) if p.is_file()}


def _run(root: Path, *args: str, env: dict | None = None):
    result = runner.invoke(app, [*args, "--root", str(root)], env=env)
    where = f"{args}: {result.output[-2000:]}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert "Traceback" not in result.output and "internal error" not in result.output, where
    assert result.exit_code in (0, 1, 2), where
    if result.exit_code == 2:
        assert "error: " in result.output or "Usage:" in result.output, where
    return result


def _declared_pr(raw: bytes) -> int | None:
    """The `pr:` a fuzzed card declares (the loader keeps it, whatever the file's name), None if it declares none."""
    try:
        data = yaml.safe_load(raw)
    except (yaml.YAMLError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    pr = data.get("pr") if isinstance(data, dict) else None
    return pr if isinstance(pr, int) else None


@settings(FUZZ, max_examples=60 * SCALE)
@given(raw=documents, target=st.sampled_from(["100.yaml", "lanes.yaml", "12345.yaml"]))
def test_loader_and_lint_never_raise(base, tmp_path_factory, raw, target):
    root = write_project(tmp_path_factory.mktemp("load"), [make_card(100), make_card(90)])
    (root / "cards" / target).write_bytes(raw)
    doc = read_yaml(root / "cards" / target)
    assert all(code in ("D100", "D101", "D102", "D108") for code, *_ in doc.read_errors)
    project = Project.load(root)
    assert {c.pr for c in project.cards} <= {90, 100, 12345, _declared_pr(raw)}  # D507 names a file/pr mismatch
    diags = run_lint(LintContext(project, sglang_src=base.parent / "sglang"))
    assert not [d for d in diags if d.code == "D000"], [d.text() for d in diags if d.code == "D000"]
    assert all(d.line >= 1 and d.col >= 1 for d in diags)


@settings(FUZZ, max_examples=12 * SCALE)
@given(raw=documents, target=st.sampled_from(["100.yaml", "lanes.yaml"]))
def test_every_command_answers_cleanly(base, tmp_path_factory, raw, target):
    root = tmp_path_factory.mktemp("cmd") / "proj"
    shutil.copytree(base, root)
    sglang = str(base.parent / "sglang")
    (root / "cards" / target).write_bytes(raw)
    before = _snapshot(root)
    for args in (["render"], ["render", "--check"]):
        result = _run(root, *args)
        if result.exit_code != 0:
            assert _snapshot(root) == before, args
    for args in (["lint", "--sglang-src", sglang], ["lint", "--format", "json", "--sglang-src", sglang],
                 ["lint", "--format", "github", "--verbose", "--sglang-src", sglang],
                 ["lint", str(root / "cards" / "90.yaml"), "--sglang-src", sglang],
                 ["show", "100"], ["show", "90"], ["show", "100", "--diff"],
                 ["drift", "--sglang-src", sglang], ["regress", "--list"],
                 ["new", "555", "--title", "T", "--state", "open", "--lane", "gdn-projection"]):
        _run(root, *args)
    offline = {"GITHUB_API_URL": "http://127.0.0.1:9", "DOSSIER_HTTP_RETRIES": "0", "DOSSIER_HTTP_BACKOFF": "0",
               "DOSSIER_HTTP_THROTTLE": "0", "DOSSIER_CACHE": None, "GITHUB_TOKEN": None}
    assert _run(root, "fetch", "--all", env=offline).exit_code in (1, 2)
