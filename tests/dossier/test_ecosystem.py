"""The repository as a package others use: workflows, pre-commit hooks, and the skill itself."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import skills_ref
import yaml

ROOT = Path(__file__).resolve().parents[2]
#: (skills CLI release, Node major it runs on; None = this machine's node): the newest release (Node 22) and
#: the newest that runs on Node 20 (1.6+ needs fs.glob from Node 22)
INSTALLERS = [("skills@1.7.4", 22), ("skills@1.5.26", None)]


def test_workflows_are_valid_and_wired():
    ci = yaml.safe_load((ROOT / ".github/workflows/ci.yml").read_text())
    steps = " ".join(s.get("run", "") for s in ci["jobs"]["lint-render-test"]["steps"])
    assert "dossier lint cards/" in steps and "dossier render --check" in steps and "pytest" in steps
    assert "dossier regress --all --device cpu" in steps
    # the regression jobs read the report the tests wrote (CI runs the cards' tests once)
    assert '--junitxml="$RUNNER_TEMP/junit.xml"' in steps and '--junit "$RUNNER_TEMP/junit.xml"' in steps
    gpu = yaml.safe_load((ROOT / ".github/workflows/gpu.yml").read_text())
    assert "dossier regress --list" in gpu["jobs"]["matrix"]["steps"][-1]["run"]
    regress = gpu["jobs"]["regress"]
    assert "self-hosted" in regress["runs-on"] and "gpu" in regress["runs-on"]
    assert "fromJson(needs.matrix.outputs.jobs)" in regress["strategy"]["matrix"]


@pytest.mark.parametrize(("listed", "code"), [('{"include": [{"pr": 1}]}', 0), ("", 2)])
def test_the_gpu_matrix_step_fails_when_regress_list_does(tmp_path, listed, code):
    """`echo "jobs=$(dossier regress --list | jq -c .)"` hid the command's exit: with no job to run the step passed
    with an empty output, and the regress job failed later on `fromJson('')`. The step, under GitHub's own bash
    options (-e, pipefail), now fails where regress --list does, and writes the matrix on one line."""
    import os
    import subprocess
    import sys

    gpu = yaml.safe_load((ROOT / ".github/workflows/gpu.yml").read_text())
    step = gpu["jobs"]["matrix"]["steps"][-1]["run"]
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = {"dossier": f"printf '%s' '{listed}'; exit {code}",
            "jq": f"exec {sys.executable} -c 'import json, sys; print(json.dumps(json.load(sys.stdin)))'"}
    for name, body in fake.items():
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    out = tmp_path / "output"
    out.write_text("")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "GITHUB_OUTPUT": str(out)}
    proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step], env=env,
                          capture_output=True, text=True)
    if code:
        assert proc.returncode != 0 and "jobs=" not in out.read_text()
    else:
        assert proc.returncode == 0 and out.read_text() == 'jobs={"include": [{"pr": 1}]}\n'


def test_pre_commit_hooks_are_published_and_used():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"dossier-lint", "dossier-render-check"}
    for h in hooks:
        assert {"id", "name", "entry", "language"} <= set(h) and h["entry"].startswith("dossier ")
    own = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    assert {h["id"] for r in own["repos"] for h in r["hooks"]} == {h["id"] for h in hooks}


def _skill_dir() -> Path:
    """The skill folder as committed: skills/<name>/ (found from the one SKILL.md under skills/)."""
    found = sorted((ROOT / "skills").glob("*/SKILL.md"))
    assert len(found) == 1, found
    return found[0].parent


def _tracked(folder: Path) -> set[str]:
    rel = str(folder.relative_to(ROOT))
    files = subprocess.run(["git", "ls-files", rel], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return {str(Path(f).relative_to(rel)) for f in files.split()}


def _installed_layout(dest: Path) -> Path:
    """Copy the tracked files of the skill folder, as a skill installer copies them from a clean checkout."""
    src = _skill_dir()
    for rel in _tracked(src):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, dest / rel)
    return dest


def test_skill_validates_with_skills_ref(tmp_path):
    name = _skill_dir().name
    skill_dir = _installed_layout(tmp_path / name)
    assert skills_ref.validate(skill_dir) == []
    props = skills_ref.read_properties(skill_dir)
    assert props.name == name
    # every reference SKILL.md names is one level deep and exists
    text = (skill_dir / "SKILL.md").read_text()
    refs = set(re.findall(r"references/[\w.-]+\.md", text))
    assert refs and all((skill_dir / ref).is_file() for ref in refs)
    assert {f"references/{p.name}" for p in (skill_dir / "references").iterdir()} == refs


def test_skill_validator_rejects_a_bad_name(tmp_path):
    skill_dir = _installed_layout(tmp_path / "wrong-folder")
    assert skills_ref.validate(skill_dir), "a folder name that differs from `name` must be rejected"


def test_root_is_not_a_skill():
    """An installer given the repository copies the folder of the SKILL.md it finds, with everything beside it:
    the root must not be one, so an install carries the manual and nothing of the toolkit."""
    assert not (ROOT / "SKILL.md").exists()


def _offline_npm_install(prefix: Path, package: str) -> bool:
    """Install ``package`` from the npm cache only (CI has no network); False when the cache lacks it."""
    if shutil.which("npm") is None:
        return False
    proc = subprocess.run(["npm", "install", "--offline", "--prefix", str(prefix), "--no-audit", "--no-fund",
                           package], capture_output=True, text=True, timeout=300)
    return proc.returncode == 0


@pytest.fixture(scope="module", params=INSTALLERS, ids=lambda p: f"{p[0]}-node{p[1] or '-local'}")
def installer(request, tmp_path_factory) -> tuple[Path, Path]:
    """(node binary, skills CLI) for one installer release, from the npm cache; skips cleanly without it."""
    cli_version, node_major = request.param
    prefix = tmp_path_factory.mktemp(cli_version.replace("@", "-"))
    if not _offline_npm_install(prefix, cli_version):
        pytest.skip(f"{cli_version} is not in the npm cache (run once online: npm cache add {cli_version})")
    node = shutil.which("node")
    if node_major is not None:
        if not _offline_npm_install(prefix, f"node@{node_major}"):
            pytest.skip(f"node@{node_major} is not in the npm cache (run once online: npx -p node@{node_major} node -v)")
        node = str(prefix / "node_modules" / ".bin" / "node")
    if node is None:
        pytest.skip("node is not installed on this machine")
    return Path(node), prefix / "node_modules" / "skills" / "bin" / "cli.mjs"


def test_installs_exactly_the_skill_folder(tmp_path, installer):
    """`npx skills add <repo>` from a clean checkout into a temporary project, non-interactively: the agent's
    skill folder receives the rendered manual, file for file, and nothing else of the repository."""
    node, cli = installer
    checkout = tmp_path / "checkout"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(checkout)], check=True)
    project = tmp_path / "project"
    project.mkdir()
    env = {"PATH": f"{node.parent}:/usr/bin:/bin", "HOME": str(tmp_path), "DISABLE_TELEMETRY": "1",
           "DO_NOT_TRACK": "1", "CI": "1"}
    proc = subprocess.run([str(node), str(cli), "add", str(checkout), "--agent", "claude-code", "-y", "--copy"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    src = checkout / _skill_dir().relative_to(ROOT)  # the folder as committed (the clone is of HEAD)
    installed = project / ".claude" / "skills" / src.name
    got = {str(p.relative_to(installed)) for p in installed.rglob("*") if p.is_file()}
    assert got == {str(p.relative_to(src)) for p in src.rglob("*") if p.is_file()}
    assert all((installed / rel).read_bytes() == (src / rel).read_bytes() for rel in got)
    assert skills_ref.validate(installed) == []
    lock = json.loads((project / "skills-lock.json").read_text())
    assert src.name in lock["skills"]


def test_ci_runs_the_readme_commands_verbatim():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```bash\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2, "the README starts with exactly two commands"
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert block[0] in ci, f".ci/run does not run: {block[0]}"
    # the tests as written, plus only the JUnit report the regression jobs read
    assert f'{block[1]} --junitxml="$report"' in ci, f".ci/run does not run: {block[1]}"



def _run_ci_with_stubs(tmp_path: Path, fail: str = "") -> tuple[subprocess.CompletedProcess, list[str]]:
    """.ci/run with every command it calls (pip, dossier, python) a stub that logs its words; the call starting with
    ``fail`` exits 3."""
    repo, stubs, log = tmp_path / "repo", tmp_path / "bin", tmp_path / "calls"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "run", repo / ".ci" / "run")
    stubs.mkdir()
    for name in ("pip", "dossier", "python"):
        (stubs / name).write_text(f'#!/bin/sh\necho "{name} $*" >> {log}\n'
                                  f'case "{name} $*" in "{fail}"*) [ -n "{fail}" ] && exit 3;; esac\nexit 0\n')
        (stubs / name).chmod(0o755)
    proc = subprocess.run(["bash", str(repo / ".ci" / "run")], env={"PATH": f"{stubs}:/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=60)
    return proc, log.read_text().splitlines()


@pytest.mark.parametrize("fail", ["pip install -e", "pip install --no-deps sglang", "dossier lint", "dossier render",
                                  "dossier drift"])
def test_ci_stops_when_a_step_of_the_main_job_fails(tmp_path, fail):
    """The main job is one && list, which `set -e` does not stop inside: a failed lint (or install, render --check,
    drift) let CI go on to the regression jobs and the tests and pass on the tests' exit code."""
    proc, calls = _run_ci_with_stubs(tmp_path, fail)
    assert proc.returncode == 3, (proc.returncode, calls, proc.stderr)
    assert calls[-1].startswith(fail) and not any(c.startswith(("dossier regress", "python")) for c in calls), calls


@pytest.mark.parametrize("fail", ["", "python -m pytest"])
def test_ci_runs_every_step_when_the_main_job_passes(tmp_path, fail):
    """The same stubs: the main job, the tests and the regression jobs each run once, regress reading the JUnit report
    the tests wrote (`--junit`: their outcomes, not a second run of the cards' tests); failing tests still get their
    regression jobs judged, and CI exits with the tests' status."""
    proc, calls = _run_ci_with_stubs(tmp_path, fail)
    assert proc.returncode == (3 if fail else 0), proc.stderr
    assert [c.split()[:2] for c in calls] == [["pip", "install"], ["pip", "install"], ["dossier", "lint"],
                                              ["dossier", "render"], ["dossier", "drift"], ["python", "-m"],
                                              ["dossier", "regress"]]
    [written] = [w.removeprefix("--junitxml=") for w in calls[-2].split() if w.startswith("--junitxml=")]
    assert calls[-1].split()[-2:] == ["--junit", written], calls


def test_pre_commit_hooks_run_on_every_input_of_their_command():
    """The hooks ran on card YAML (and the rendered skill) only: a commit touching only cards/drift.lock, a stored GPU
    result or [tool.dossier] in pyproject.toml skipped both, though each changes what lint or render says."""
    hooks = {h["id"]: re.compile(h["files"]) for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    own = {h["id"]: h["files"] for r in yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]
           for h in r["hooks"]}
    assert own == {i: p.pattern for i, p in hooks.items()}
    for path in ("cards/19321.yaml", "cards/drift.lock", "cards/evidence.lock", "cards/findings/x.yaml",
                 "cards/pr-facts.json", "results/cuda/19321.json", "pyproject.toml"):
        assert all(p.search(path) for p in hooks.values()), path
    assert hooks["dossier-render-check"].search("skills/sglang-qwen3-next-optimization/SKILL.md")
    assert all(p.search("dossier/render/templates/by-file.md.j2") and p.search("dossier/pr_facts.py")
               for p in hooks.values())
    assert hooks["dossier-lint"].search("runtime/gdn/decode.py")
    assert not any(p.search("README.md") for p in hooks.values())
