"""The repository as a package others use: workflows, pre-commit hooks, and the skill itself."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import skills_ref
import yaml

ROOT = Path(__file__).resolve().parents[2]
SKILLS_CLI = "skills@1.5.26"  # the newest release that runs on Node 20 (1.6+ needs fs.glob from Node 22)


def test_workflows_are_valid_and_wired():
    ci = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    steps = " ".join(s.get("run", "") for s in ci["jobs"]["lint-render-test"]["steps"])
    assert "dossier lint cards/" in steps and "dossier render --check" in steps and "pytest" in steps
    assert "dossier regress --all --device cpu" in steps
    gpu = yaml.safe_load((ROOT / ".github/workflows/gpu.yml").read_text())
    assert "dossier regress --list" in gpu["jobs"]["matrix"]["steps"][-1]["run"]
    regress = gpu["jobs"]["regress"]
    assert "self-hosted" in regress["runs-on"] and "gpu" in regress["runs-on"]
    assert "fromJson(needs.matrix.outputs.jobs)" in regress["strategy"]["matrix"]


def test_pre_commit_hooks_are_published_and_used():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"dossier-lint", "dossier-render-check"}
    for h in hooks:
        assert {"id", "name", "entry", "language"} <= set(h) and h["entry"].startswith("dossier ")
    own = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert {h["id"] for r in own["repos"] for h in r["hooks"]} == {h["id"] for h in hooks}


def _installed_layout(dest: Path) -> Path:
    """Copy the tracked files of the repository, as a skill installer sees a clean checkout."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for rel in files.split():
        if rel.startswith(("SKILL.md", "references/")):
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    return dest


def test_skill_validates_with_skills_ref(tmp_path):
    name = yaml.safe_load((ROOT / "SKILL.md").read_text().split("---\n")[1])["name"]
    skill_dir = _installed_layout(tmp_path / name)
    assert skills_ref.validate(skill_dir) == []
    props = skills_ref.read_properties(skill_dir)
    assert props.name == name
    # references are one level deep and exist
    text = (skill_dir / "SKILL.md").read_text()
    for ref in ("references/pr-history.md", "references/playbook.md"):
        assert ref in text and (skill_dir / ref).is_file()


def test_skill_validator_rejects_a_bad_name(tmp_path):
    skill_dir = _installed_layout(tmp_path / "wrong-folder")
    assert skills_ref.validate(skill_dir), "a folder name that differs from `name` must be rejected"


@pytest.fixture(scope="module")
def skills_cli(tmp_path_factory) -> Path:
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed on this machine")
    prefix = tmp_path_factory.mktemp("skills-cli")
    proc = subprocess.run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", SKILLS_CLI],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return prefix / "node_modules" / ".bin" / "skills"


def test_installs_with_the_skills_cli(tmp_path, skills_cli):
    """`npx skills add <path>` from a clean checkout into a temporary project, non-interactively."""
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(checkout)], check=True)
    project = tmp_path / "project"
    project.mkdir()
    env = {"PATH": str(Path(shutil.which("node")).parent) + ":/usr/bin:/bin", "HOME": str(tmp_path),
           "DISABLE_TELEMETRY": "1", "DO_NOT_TRACK": "1", "CI": "1"}
    proc = subprocess.run([str(skills_cli), "add", str(checkout), "--agent", "claude-code", "-y", "--copy"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    name = skills_ref.read_properties(checkout).name
    installed = project / ".claude" / "skills" / name
    assert (installed / "SKILL.md").read_text() == (checkout / "SKILL.md").read_text()
    assert (installed / "references" / "playbook.md").is_file()
    assert skills_ref.validate(installed) == []
    lock = json.loads((project / "skills-lock.json").read_text())
    assert name in lock["skills"]


def test_ci_runs_the_readme_commands_verbatim():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2, "the README starts with exactly two commands"
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    for command in block:
        assert command in ci, f".ci/run does not run: {command}"
