"""Bad input, round 16: a standard output that refuses writes (`> /dev/full`) ended with `error: [Errno 28] No space
left on device`, naming nothing, and `--help > /dev/full` ended in a traceback; a release cache holding another build
of a recorded release changed `releases verify`'s verdicts without a word. Each case failed before its fix."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not FULL.exists(), reason="no /dev/full on this system")


def _run_into_full(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with FULL.open("w") as full:
        return subprocess.run([sys.executable, "-m", "dossier", *args], cwd=cwd, env=env, stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=300)


@needs_dev_full
@pytest.mark.parametrize("args", [["--help"], ["lint", "--help"], ["schema"]])
def test_a_full_standard_output_is_named_in_one_error_line(tmp_path, args):
    result = _run_into_full(*args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: standard output: No space left on device"), result.stderr
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@needs_dev_full
def test_a_full_standard_output_fails_lint_with_findings_instead_of_passing(project_dir):
    """Lint's diagnostics are its answer: written nowhere, the run must not end as if they had been read."""
    card = project_dir / "cards" / "100.yaml"
    card.write_text(card.read_text().replace("motivation:", "motivation_typo:", 1))
    result = _run_into_full("lint", "--root", str(project_dir), cwd=project_dir)
    assert result.returncode == 2, result.stderr
    assert "error: standard output:" in result.stderr


def test_verify_names_a_release_the_cache_holds_in_another_build(tmp_path, monkeypatch):
    """A cache synced from another wheel of a release (another build date) moved shipped-in releases and date
    findings with no word on why the verdicts differed from the recorded ones."""
    import json

    from tests.dossier.test_release_evidence import RELEASES, verify, write_project, write_release

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1775001600")
    cache = tmp_path / "releases"
    for version, built, files in RELEASES:
        write_release(cache, version, built, files)
    root = write_project(tmp_path / "proj", [])
    assert verify(root, cache, "--record").exit_code == 0
    version, built, _ = RELEASES[1]
    meta = cache / version / "release.json"
    meta.write_text(json.dumps({**json.loads(meta.read_text()), "built": "2027-01-01"}))
    for args in ([], ["--record"]):
        result = verify(root, cache, *args)
        assert f"{version} built 2027-01-01 (the lock: {built})" in result.output, result.output
    assert f"{version} built" not in verify(root, cache).output  # recorded: the lock has the cache's dates now
