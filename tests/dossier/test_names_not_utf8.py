"""File names whose bytes are not UTF-8 (a Latin-1 system's `caf\\xe9`): JSON that strict readers take and that still
names the file exactly, and text output that writes the name as its bytes under any locale."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.json_out import dumps
from tests.dossier.factories import make_card, sglang_package, write_project

ROOT = Path(__file__).resolve().parents[2]
CARD = os.fsdecode(b"10\xff1.yaml")  # what Python makes of the name: 10\udcff1.yaml


def strict(text: str):
    """``text`` read as a strict reader does: no lone surrogate, escaped or not (serde_json, I-JSON)."""
    assert "\\ud" not in text.lower()
    doc = json.loads(text.encode("utf-8").decode("utf-8"))
    json.dumps(doc, ensure_ascii=False).encode("utf-8")  # raises on a surrogate json.loads let in
    return doc


def named(value: dict, key: str) -> str:
    """The exact name a document gives under ``key`` (its ``_bytes`` where it is not UTF-8)."""
    return os.fsdecode(base64.b64decode(value[f"{key}_bytes"])) if f"{key}_bytes" in value else value[key]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = write_project(tmp_path / "p", [make_card(100), make_card(101)])
    (root / "cards" / "101.yaml").rename(root / "cards" / CARD)
    return root


def test_dumps_writes_every_text_valid_and_a_name_with_its_exact_bytes():
    doc = {"file": "cards/" + CARD, "found": [{"file": "x/caf\udce9.py", "lines": [1]}], "title": "caf\u00e9 ok",
           "tests": ["t[\udce9]"], "lone": "a\ud800"}
    out = strict(dumps(doc, indent=2))
    assert out["file"] == "cards/10\ufffd1.yaml" and named(out, "file") == "cards/" + CARD
    assert named(out["found"][0], "file") == "x/caf\udce9.py" and out["found"][0]["lines"] == [1]
    assert out["title"] == "caf\u00e9 ok" and "title_bytes" not in out  # valid text is written as before
    assert out["tests"] == ["t[\ufffd]"] and out["lone"].startswith("a\ufffd")
    assert dumps({"a": [1, "b"]}) == json.dumps({"a": [1, "b"]})


def test_lint_json_names_a_card_file_that_is_not_utf8_validly_and_exactly(project, monkeypatch):
    """The finding's file was written as "cards/10\\udcff1.yaml", a lone surrogate strict readers refuse."""
    (project / "no-releases").mkdir()
    monkeypatch.setenv("DOSSIER_RELEASES", str(project / "no-releases"))
    monkeypatch.delenv("DOSSIER_CACHE", raising=False)
    result = CliRunner().invoke(app, ["lint", "--root", str(project), "--format", "json"])
    assert result.exit_code == 1, result.output
    (found,) = [d for d in strict(result.stdout) if d["code"] == "D507"]
    assert found["file"] == "cards/10\ufffd1.yaml" and named(found, "file") == "cards/" + CARD
    assert named(found, "message") == f"card for #101 is in {CARD}"


def test_drift_json_names_an_sglang_tree_under_a_folder_that_is_not_utf8(tmp_path):
    root = write_project(tmp_path / "p", [make_card(100)])
    checkout = tmp_path / os.fsdecode(b"caf\xe9")
    sglang_package(checkout / "python", {"srt/models/qwen3_next.py": "self.in_proj_qkvzba = MergedColumnParallelLinear(\n"})
    result = CliRunner().invoke(app, ["drift", "--root", str(root), "--sglang-src", str(checkout), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = strict(result.stdout)
    assert named(doc["sglang"], "checkout") == str(checkout)
    assert named(doc["sglang"], "package") == str(checkout / "python" / "sglang")


def test_the_fetch_cache_records_an_import_path_that_is_not_utf8_validly(project_dir, tmp_path):
    saved = tmp_path / os.fsdecode(b"pr\xe9.diff")
    saved.write_text("--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n")
    result = CliRunner().invoke(app, ["fetch", "5", "--import", str(saved), "--root", str(project_dir)],
                                env={"DOSSIER_CACHE": None})
    assert result.exit_code == 0, result.output
    provenance = strict((project_dir / ".dossier" / "cache" / "5" / "provenance.json").read_text())
    assert named(provenance, "import_path") == str(saved)


def run(*args: str, cwd: Path, **env) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DOSSIER_CACHE": "", **env}
    env.pop("DOSSIER_CACHE")
    return subprocess.run([sys.executable, "-m", "dossier", *args], cwd=cwd, env=env, capture_output=True,
                          timeout=300)


@pytest.mark.parametrize("encoding", ["utf-8:strict", "ascii"])
def test_text_output_writes_a_name_as_its_bytes_under_any_locale(project, tmp_path, encoding):
    """Under a UTF-8 locale Python's stdout is strict: `dossier lint` ended 'error: internal error:
    UnicodeEncodeError' (exit 2) on a card named 10\\xff1.yaml; stderr wrote the name as '\\udcff'."""
    (tmp_path / "none").mkdir()
    done = run("lint", "--select", "D5", cwd=project, PYTHONIOENCODING=encoding, DOSSIER_RELEASES=str(tmp_path / "none"))
    assert done.returncode == 1, done.stderr
    assert b"cards/10\xff1.yaml:1:5: D507 card for #101 is in 10\xff1.yaml\n" in done.stdout
    done = run("drift", "--sglang-src", os.fsdecode(b"/nonexistent/caf\xe9"), cwd=project,
               PYTHONIOENCODING=encoding)
    assert done.returncode == 2
    assert done.stderr == b"error: SGLang source /nonexistent/caf\xe9 does not exist\n"
