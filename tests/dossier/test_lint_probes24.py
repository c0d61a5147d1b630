"""SGLang's legacy SGL_* env vars (session 42): mentions and the tree's surface covered only SGLANG_*, so a misspelt
SGL_ name, or one today's SGLang no longer reads said to work today, passed lint.

SGLang reads SGL_ names two ways: code that quotes one (0.5.1 .. 0.5.22 read "SGL_USE_DEEPGEMM_BMM", 0.5.23 still
reads "SGL_FORCE_SHUTDOWN"), and, from 0.5.3 on, srt/environ.py copying every SGL_X set in the environment to SGLANG_X
at import with a warning that SGL_X is deprecated. So 0.5.23 honours SGL_ENABLE_JIT_DEEPGEMM, as a deprecated alias of
SGLANG_ENABLE_JIT_DEEPGEMM (D606, a warning), while SGL_DISABLE_TP_MEMORY_INBALANCE_CHECK, whose SGLANG_ twin 0.5.23
no longer reads (it reads SGLANG_ENABLE_TP_MEMORY_INBALANCE_CHECK), is no env var of 0.5.23 (D603).
Each bad card is a real card mutated the way a careless author gets it wrong; each near miss is the nearest true
text."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.lint import LintContext, run_lint
from dossier.mentions import ENV, find_mentions
from dossier.project import Project
from dossier.surface_history import read_history
from tests.dossier.factories import make_card, write_project
from tests.dossier.release_support import write_release
from tests.dossier.test_env_warnings import _lint
from tests.dossier.test_lint_probes15 import _append
from tests.dossier.test_lint_probes16 import _real_project, probe_round
from tests.dossier.test_surface_history import TODAY
from tests.dossier.yaml_support import load_yaml

# 0.5.2's environ.py rewrites the legacy prefix, as 0.5.3 .. 0.5.23 do; 0.5.1 reads SGL_ names only where quoted
ENVIRON = '''
import os, warnings

class Envs:
    SGLANG_JIT = EnvBool(True)
    SGLANG_FORCE = EnvBool(False)
    SGLANG_NEW = EnvBoolWithAlias(False, deprecated_name="SGLANG_OLD")

_DEPRECATED_ENVS = {"SGLANG_RETIRED": _DeprecatedEnv(note="Gone.")}

def _handle_deprecated_envs():
    for key, value in list(os.environ.items()):
        if key.startswith("SGL_") and key not in _DEPRECATED_ENVS:
            new_key = key.replace("SGL_", "SGLANG_", 1)
            warnings.warn(f"Environment variable {key} is deprecated, please use {new_key}")
            os.environ[new_key] = value
'''
READS = 'a = get_bool_env_var("SGL_FORCE")\nb = get_bool_env_var("SGL_DIRECT", "true")\n'
OLD = 'a = get_bool_env_var("SGL_JIT", default="true")\nb = os.getenv("SGL_GONE")\nc = os.getenv("SGLANG_X")\n'


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    """(project root, today's package = 0.5.3), with a surface lock recorded from 0.5.1 .. 0.5.3."""
    cache = tmp_path / "releases"
    write_release(cache, "0.5.1", "2025-08-23", {"srt/models/m.py": OLD, "srt/server_args.py": ""})
    for version, built in (("0.5.2", "2025-09-11"), ("0.5.3", "2025-10-06")):
        write_release(cache, version, built, {"srt/environ.py": ENVIRON, "srt/models/m.py": READS,
                                              "srt/server_args.py": ""})
    pkg = tmp_path / "site" / "sglang"
    for rel, text in {**TODAY, "srt/environ.py": ENVIRON, "srt/models/m.py": READS}.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    root = tmp_path / "p"
    write_project(root, [make_card(100)])
    result = CliRunner().invoke(app, ["releases", "surface", "--record", "--cache-dir", str(cache), "--root", str(root)])
    assert result.exit_code == 0, result.output
    return root, pkg


def test_a_tree_that_rewrites_sgl_to_sglang_honours_every_sgl_twin_as_a_deprecated_alias(tmp_path):
    from dossier.releases import synced
    from dossier.source_tree import SourceTree
    from dossier.surface import read_surface

    write_release(tmp_path, "0.5.1", "2025-08-23", {"srt/models/m.py": OLD})
    write_release(tmp_path, "0.5.2", "2025-09-11", {"srt/environ.py": ENVIRON, "srt/models/m.py": READS})
    old, new = (read_surface(SourceTree.release(r)) for r in synced(tmp_path))
    # no rewrite: the quoted SGL_ names are the tree's own, and no SGLANG_ name has a twin
    assert {n: old.env.get(n) for n in ("SGL_JIT", "SGL_GONE", "SGL_X")} == {
        "SGL_JIT": "", "SGL_GONE": "", "SGL_X": None}
    assert old.env_defaults.get("SGL_JIT") == "true"
    # the rewrite: SGL_X is SGLANG_X's alias (an alias's old name: the new one), even where code reads SGL_X itself;
    # an SGL_ name read with no SGLANG_ twin stays current; a variable only warned about, and a made-up one, get none
    assert {n: new.env.get(n) for n in ("SGL_JIT", "SGL_FORCE", "SGL_OLD", "SGL_NEW", "SGL_DIRECT", "SGL_RETIRED",
                                        "SGL_GONE")} == {
        "SGL_JIT": "SGLANG_JIT", "SGL_FORCE": "SGLANG_FORCE", "SGL_OLD": "SGLANG_NEW", "SGL_NEW": "SGLANG_NEW",
        "SGL_DIRECT": "", "SGL_RETIRED": None, "SGL_GONE": None}
    assert new.env_defaults.get("SGL_DIRECT") == "true" and "SGLANG_RETIRED" in new.env_warned


def test_the_lock_records_sgl_names_by_the_releases_that_read_or_alias_them(project):
    root, _ = project
    h = read_history(root)
    assert {n: str(h.span("env", n)) for n in ("SGL_JIT", "SGL_GONE", "SGL_DIRECT", "SGL_RETIRED", "SGL_FORCE",
                                               "SGL_NEW", "SGL_OLD")} == {
        "SGL_JIT": "0.5.1..0.5.3", "SGL_GONE": "0.5.1", "SGL_DIRECT": "0.5.2..0.5.3", "SGL_RETIRED": "None",
        "SGL_FORCE": "0.5.2..0.5.3", "SGL_NEW": "0.5.2..0.5.3", "SGL_OLD": "0.5.2..0.5.3"}
    # the lock lists the names code reads and which releases copy SGL_X to SGLANG_X; the aliases follow from those
    lock = load_yaml((root / "cards" / "surface.lock").read_text())
    assert lock["rewrites"] == "0.5.2..0.5.3" and lock["env"]["SGL_JIT"] == "0.5.1"
    assert "SGL_NEW" not in lock["env"] and lock["names"]["env"] == len(lock["env"])


def test_sgl_names_are_env_mentions():
    found = [m.text for m in find_mentions("Set SGL_ENABLE_JIT_DEEPGEMM=0 (and `SGLANG_X=1`); -DSGL_CUDA_ARCH, "
                                           "SGL_ alone and SGL_KERNEL_* are not.") if m.kind == ENV]
    assert found == ["SGL_ENABLE_JIT_DEEPGEMM", "SGLANG_X"]


def test_sgl_names_are_judged_against_today_and_the_releases(project):
    root, pkg = project
    assert _lint(root, pkg, "FP8 needs SGL_JIT=0.") == [("D606", "SGL_JIT is deprecated in SGLang 0.5.3")]
    assert _lint(root, pkg, "FP8 needs SGL_JTI=0.") == [("D603", "SGL_JTI is not an env var of SGLang 0.5.3")]
    assert _lint(root, pkg, "Set SGL_GONE=1 for the fast path.") == [
        ("D603", "SGL_GONE is not an env var of SGLang 0.5.3 (last in SGLang 0.5.1; mark it historical if that is "
                 "meant)")]
    assert _lint(root, pkg, "The then SGL_GOEN chose the fast path.")[0][0] == "D610"
    # near misses: what today reads under its own SGL_ name, a gone name marked as history
    assert _lint(root, pkg, "Set SGL_DIRECT=0 to skip it.") == []
    assert _lint(root, pkg, "The then SGL_GONE chose the fast path.") == []
    assert _lint(root, pkg, "SGL_GONE (removed after 0.5.1) chose the fast path.") == []


# the real cards, against the real surface lock and today's installed SGLang (0.5.23)
GONE = "SGL_DISABLE_TP_MEMORY_INBALANCE_CHECK"  # 0.5.1 .. 0.5.20; 0.5.23 reads SGLANG_ENABLE_TP_MEMORY_...


def _claim(old: str, new: str):
    def edit(card):
        card["validation"]["claims"] = [c.replace(old, new) for c in card["validation"]["claims"]]
    return edit


PROBES = [
    # a merged PR's claims are what was run then: judged against the releases (D610), not today's tree
    ("sgl-var-misspelt-in-a-claim", 10466, (), _claim("SGL_ENABLE_JIT_DEEPGEMM=0", "SGL_ENABLE_JIT_DEEPGEN=0"),
     "D610"),
    ("sgl-var-misspelt-in-prose", 10466, (), _append(
        "implementation", "On 0.5.23, FP8 still needs SGL_ENABLE_JIT_DEEPGEN=0."), "D603"),
    ("gone-sgl-var-said-current", 10466, (), _append(
        "implementation", f"On 0.5.23, set {GONE}=1 to skip the TP memory check."), "D603"),
    ("sgl-var-misspelt-as-history", 10466, (), _append(
        "implementation", "FP8 needed the old SGL_ENABLE_JIT_DEEPGEN=0."), "D610"),
]

NEAR = [
    # a deprecated alias 0.5.23 still honours: D606 warns, no error
    ("sgl-alias-today", 10466, (), _append("implementation", "On 0.5.23, FP8 still needs SGL_ENABLE_JIT_DEEPGEMM=0.")),
    ("sgl-name-0523-quotes", 10466, (), _append("implementation", "SGL_FORCE_SHUTDOWN=1 still forces the shutdown.")),
    ("sgl-var-as-history", 10466, (), _append("implementation", "FP8 needed the old SGL_ENABLE_JIT_DEEPGEMM=0.")),
    ("sglang-name-today", 10466, (), _append("implementation", "On 0.5.23, FP8 needs SGLANG_ENABLE_JIT_DEEPGEMM=0.")),
    ("gone-sgl-var-marked-removed", 10466, (), _append(
        "implementation", f"{GONE} (removed after 0.5.20) skipped the TP memory check.")),
    ("gone-sgl-var-was", 10466, (), _append("implementation", f"The TP memory check was skipped with the old {GONE}.")),
]


def test_an_sgl_alias_said_current_warns_with_its_sglang_name(tmp_path, no_release_cache):
    def found(edit, at):
        root = _real_project(tmp_path / at, 10466, (), edit)
        return [(d.code, d.message, d.hint) for d in run_lint(LintContext(Project.load(root)), select=["D603", "D606"])
                if d.file == "cards/10466.yaml"]

    said = found(_append("implementation", "On 0.5.23, FP8 still needs SGL_ENABLE_JIT_DEEPGEMM=0."), "said")
    assert [f for f in said if f not in found(None, "real")] == [
        ("D606", "SGL_ENABLE_JIT_DEEPGEMM is deprecated in SGLang 0.5.23", "use SGLANG_ENABLE_JIT_DEEPGEMM")]


(test_the_real_cards_the_probes_start_from_lint_clean, test_a_hand_made_bad_card_is_caught,
 test_a_near_miss_stays_clean) = probe_round(PROBES, NEAR)
