"""A retired SGLANG_* variable a release names only to warn that it is set: that release does not read it.

flags.md told a 0.5.23 reader that SGLANG_FLASHINFER_MNNVL_CUTEDSL_AR_FUSION was read up to 0.5.23, though 0.5.21
on only lists it in the deprecation registry (a warning, the value ignored); SGLANG_ENABLE_SPEC_V2 likewise "to
0.5.20", though 0.5.14 on only warns that it was removed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.env_warnings import warning_mentions
from dossier.lint import LintContext, run_lint
from dossier.project import Project
from dossier.render import RenderInput, render_documents
from dossier.surface_history import SURFACE_LOCK, SurfaceLockError, read_history
from tests.dossier.factories import LANES, make_card, write_project
from tests.dossier.release_support import write_release
from tests.dossier.test_surface_history import TODAY

REGISTRY = '''
class _DeprecatedEnv:
    def __init__(self, replacement=None, note=None): ...

_DEPRECATED_ENVS = {
    "SGLANG_GONE": _DeprecatedEnv(note="Pass --gone-flag instead."),
    "SGLANG_OLD_NAME": _DeprecatedEnv(replacement="SGLANG_NEW_NAME"),
    "SGLANG_OLD_POS": _DeprecatedEnv("SGLANG_NEW_POS"),
}
'''


@pytest.mark.parametrize(("source", "warned"), [
    (REGISTRY, {"SGLANG_GONE": 1}),  # an entry that forwards its value is an alias, read
    ('_warn_deprecated_env_to_cli_flag(\n    "SGLANG_GONE",\n    "Please use --gone-flag instead.",\n)\n',
     {"SGLANG_GONE": 1}),
    ('_print_deprecated_env("SGLANG_GONE")\n', {"SGLANG_GONE": 1}),
    ('_print_deprecated_env("SGLANG_NEW", "SGLANG_OLD")\n', {}),  # 0.5.10's rename: the old value is passed on
    ('import os\nif os.getenv("SGLANG_GONE") is not None:\n    logger.warning("it has been removed")\n',
     {"SGLANG_GONE": 1}),
    # near misses: a refusal, a read with an effect, an if with an else
    ('import os\nif os.getenv("SGLANG_X"):\n    raise ValueError("not with Y")\n', {}),
    ('if get_bool_env_var("SGLANG_X"):\n    logger.warning("slow")\n    use_fast = False\n', {}),
    ('import os\nif os.getenv("SGLANG_X"):\n    warnings.warn("x")\nelse:\n    go()\n', {}),
    ('x = os.getenv("SGLANG_X", "1")  # deprecated soon\n', {}),
    ("def broken(:\n    _print_deprecated_env('SGLANG_GONE')\n", {}),
])
def test_mentions_that_only_warn_are_counted_and_reads_are_not(source, warned):
    assert dict(warning_mentions(source)) == warned


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(project root, a cache where 0.5.1 reads SGLANG_GONE and 0.5.2 / 0.5.3 only list it as deprecated, today's
    package = 0.5.3, whose environ.py also holds an entry for a variable no release read)."""
    read = 'import os\nGONE = os.environ.get("SGLANG_GONE", "1")\n'
    today = REGISTRY.replace('"SGLANG_OLD_NAME"', '"SGLANG_NEVER_READ": _DeprecatedEnv(),\n    "SGLANG_OLD_NAME"')
    cache = tmp_path / "releases"
    write_release(cache, "0.5.1", "2025-08-23", {"srt/environ.py": read, "srt/server_args.py": ""})
    for version, built in (("0.5.2", "2025-09-11"), ("0.5.3", "2025-10-06")):
        write_release(cache, version, built, {"srt/environ.py": today, "srt/server_args.py": ""})
    pkg = tmp_path / "site" / "sglang"
    for rel, text in {**TODAY, "srt/environ.py": today}.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    root = tmp_path / "p"
    write_project(root, [make_card(100)])
    result = CliRunner().invoke(app, ["releases", "surface", "--record", "--cache-dir", str(cache), "--root", str(root)])
    assert result.exit_code == 0, result.output
    return root, cache, pkg


def test_the_lock_records_the_releases_that_read_a_variable_and_apart_those_that_only_warn(project):
    root, _, _ = project
    h = read_history(root)
    assert str(h.env["SGLANG_GONE"]) == "0.5.1" and str(h.warned["SGLANG_GONE"]) == "0.5.2..0.5.3"
    assert "SGLANG_NEVER_READ" not in h.env and str(h.warned["SGLANG_NEVER_READ"]) == "0.5.2..0.5.3"
    assert str(h.env["SGLANG_OLD_NAME"]) == "0.5.2..0.5.3" and "SGLANG_OLD_NAME" not in h.warned  # forwarded
    text = (root / SURFACE_LOCK).read_text()
    assert "warned:\n  SGLANG_GONE: 0.5.2..0.5.3\n" in text and "  warned: 2\n" in text


def test_flags_page_says_which_releases_only_warn(project):
    root, _, _ = project
    answers = {"checklists": [{"id": "c", "title": "T", "summary": "s", "items": [
        {"check": "Upgrade note: the retired switch.", "flags": ["historical: SGLANG_GONE"]}]}]}
    write_project(root, [make_card(100)], lanes={**LANES, "answers": answers})
    docs = render_documents(RenderInput(Project.load(root), surface=read_history(root)))
    assert ("| `SGLANG_GONE` | 0.5.1 | 0.5.1: not read from the next (0.5.2 to 0.5.3 only warn that it is set) | - |"
            in docs["references/flags.md"])
    # the lanes' "historical: NAME" entry shows the name itself, marked, not the prefix in code
    assert "Flags: `SGLANG_GONE` (historical, gone in 0.5.2)." in docs["references/answers.md"]


def _lint(root: Path, pkg: Path, sentence: str) -> list[tuple[str, str]]:
    card = make_card(100)
    card["implementation"] += " " + sentence
    write_project(root, [card])
    return [(d.code, d.message) for d in run_lint(LintContext(Project.load(root), sglang_src=pkg), select=["D6"])]


def test_advice_to_set_a_variable_today_only_warns_about_is_flagged(project):
    root, _, pkg = project
    assert _lint(root, pkg, "Set SGLANG_GONE=1 for the fast path.") == [
        ("D606", "SGLANG_GONE is retired in SGLang 0.5.3: it only warns that the variable is set (last read in "
                 "SGLang 0.5.1; mark it historical if that is meant)")]
    assert _lint(root, pkg, "The then SGLANG_GONE chose the fast path.") == []
    assert _lint(root, pkg, "The then SGLANG_NEVER_READ chose the fast path.") == []  # a release had it: no D610


def test_a_lock_whose_warned_section_lost_names_is_refused(project):
    root, _, _ = project
    lock = root / SURFACE_LOCK
    lock.write_text(lock.read_text().replace("  SGLANG_NEVER_READ: 0.5.2..0.5.3\n", ""))
    with pytest.raises(SurfaceLockError, match="warned lists 1 name"):
        read_history(root)


def test_defaults_of_sglangs_env_helpers_are_recorded(tmp_path):
    """flags.md showed `-` for variables 0.5.23 reads through get_bool_env_var, whose default the call (or the
    helper) declares."""
    from dossier.releases import synced
    from dossier.source_tree import SourceTree
    from dossier.surface import read_surface

    code = ('a = get_bool_env_var("SGLANG_ALT_STREAM")\nb = get_bool_env_var("SGLANG_PACKED", "True")\n'
            'c = get_int_env_var("SGLANG_N", default=4)\nd = os.getenv("SGLANG_BARE")\n')
    write_release(tmp_path, "0.5.3", "2025-10-06", {"srt/models/m.py": code})
    s = read_surface(SourceTree.release(synced(tmp_path)[0]))
    assert {n: s.env_defaults.get(n) for n in ("SGLANG_ALT_STREAM", "SGLANG_PACKED", "SGLANG_N", "SGLANG_BARE")} == {
        "SGLANG_ALT_STREAM": "false", "SGLANG_PACKED": "True", "SGLANG_N": "4", "SGLANG_BARE": None}
