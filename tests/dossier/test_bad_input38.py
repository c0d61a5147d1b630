"""Bad input, round 38 (session 49, helper C4): a JUnit report that lists one test twice, a release of the release
cache taken for a whole SGLang tree, and a PR facts entry that names one file twice.

- pytest (9.2, with or without pytest-xdist: checked with a throwaway test file under `-n 2` and without) writes a
  test whose body fails and whose fixture then fails its teardown as two <testcase>s of one classname and name, a
  <failure> and an <error>. `regress` (its own pytest run, or `--junit` on CI's report) kept a record of each, so one
  test was two failures: "1 passed, 2 failed" for a file of two tests, stored in the result and shown by the manual
  as "1/3 tests passed". The JUnit reader now keeps one record per test: the worst outcome, both messages, the worst
  value of each parity check.
- `dossier drift --record --sglang-src <a release of the release cache>` (what drift's own refusal message proposes:
  "a release tree (`dossier releases sync`)") recorded every non-.py file the cards list as gone from that release:
  the cache keeps only the wheel's .py files, so the two MoE config JSONs of #26204, which 0.5.23's wheel ships, went
  into cards/drift.lock's `absent` and by-file.md said "(not in SGLang 0.5.23)" of each, render --check clean on the
  new lock (plain `drift` against the same release said the committed lock "records otherwise for its absent files").
  A release of the cache now holds no file but its package's .py files: any other is outside it, never gone from it.
- cards/pr-facts.json with one PR's main file given twice (two refreshes of the snapshot merged by hand): the last
  entry stood for the file, so a card giving that entry's stale "+9/-9" passed D414 while GitHub's first entry says
  +3/-1. Round 34 refused a PR given twice, not a file within one; now the snapshot is refused (D311), as for a PR.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.drift import read_absent
from dossier.regress import parse_junit
from tests.dossier.factories import make_card, write_project
from tests.dossier.release_support import write_release
from tests.dossier.test_regress import _project

runner = CliRunner()

_TEARDOWN_FAILS = (
    "import pytest\n\n\n@pytest.fixture\ndef boom():\n    yield\n    raise RuntimeError('teardown boom')\n\n\n"
    "def test_a(record_property):\n    record_property('parity:x', '1e-7/1e-5')\n\n\n"
    "def test_b(boom, record_property):\n    record_property('parity:x', '3e-6/1e-5')\n    assert False\n")


@pytest.mark.parametrize("addopts", ["", "-p xdist -n 2"], ids=["pytest", "xdist"])
def test_a_test_failing_in_its_body_and_its_teardown_is_one_failed_test(tmp_path, monkeypatch, addopts):
    monkeypatch.setenv("PYTEST_ADDOPTS", addopts)
    root = _project(tmp_path)
    (root / "tests_fake" / "test_ok.py").write_text(_TEARDOWN_FAILS)
    result = runner.invoke(app, ["regress", "100", "--device", "cpu", "--root", str(root)])
    assert result.exit_code == 1, result.output
    doc = json.loads((root / ".dossier" / "results" / "cpu" / "100.json").read_text())
    assert (doc["passed"], doc["failed"]) == (1, 1), doc["tests"]
    (b,) = [t for t in doc["tests"] if t["id"].endswith("::test_b")]
    assert b["outcome"] == "failed" and "assert False" in b["message"] and "teardown boom" in b["message"]
    assert doc["parity"] == {"x": {"err": 3e-6, "tol": 1e-5}}


def test_the_junit_reader_merges_two_cases_of_one_test():
    xml = """<testsuites><testsuite>
      <testcase classname="tests.t" name="test_b" time="0.25">
        <properties><property name="parity:x" value="1e-7/1e-5"/></properties>
        <failure message="assert False">x</failure></testcase>
      <testcase classname="tests.t" name="test_c" time="0.1"/>
      <testcase classname="tests.t" name="test_b" time="0.5">
        <properties><property name="parity:x" value="2e-6/1e-5"/></properties>
        <error message="failed on teardown with RuntimeError">y</error></testcase>
    </testsuite></testsuites>"""
    b, c = parse_junit(xml)
    assert b == {"id": "tests/t.py::test_b", "outcome": "failed", "seconds": 0.75,
                 "parity": {"x": {"err": 2e-6, "tol": 1e-5}},
                 "message": "assert False; failed on teardown with RuntimeError"}
    assert c["outcome"] == "passed"


_MODEL = "python/sglang/srt/models/qwen3_next.py"
_CONFIG = "python/sglang/srt/layers/moe/configs/E=512,device_name=NVIDIA_H200.json"
_GONE = "python/sglang/srt/layers/widget_gone.py"


@pytest.mark.parametrize("synced", [True, False], ids=["release-of-the-cache", "checkout"])
def test_drift_record_on_a_release_of_the_cache_records_no_json_file_as_gone(tmp_path, synced):
    root = write_project(tmp_path / "project", [make_card(100, files={"runtime": [_MODEL, _CONFIG, _GONE],
                                                                      "tests": [], "docs": []})])
    files = {"version.py": '__version__ = "9.9.1"\n',
             "srt/models/qwen3_next.py": "class Widget:\n    def __init__(self):\n"
                                         "        self.in_proj_qkvzba = MergedColumnParallelLinear(\n"}
    tree = write_release(tmp_path / "releases", "9.9.1", "2026-01-01", files)
    if not synced:  # a checkout holds every file of the repository: a JSON file missing there is gone
        (tree / "release.json").unlink()
    result = runner.invoke(app, ["drift", "--sglang-src", str(tree), "--record", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert sorted(read_absent(root)) == ([_GONE] if synced else [_CONFIG, _GONE])
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    by_file = next((root / "skills").rglob("by-file.md")).read_text()
    assert (f"`{_CONFIG}` (not in SGLang 9.9.1)" in by_file) is not synced
    assert f"`{_GONE}` (not in SGLang 9.9.1)" in by_file


_FILE_FACT = {"number": 100, "title": "Fuse it", "state": "merged", "date": "2026-03-20", "changed_files": 1,
              "additions": 3, "deletions": 1,
              "main_files": [{"path": "python/sglang/a.py", "additions": 3, "deletions": 1, "symbols": ["fuse_it"]}]}


def test_a_pr_facts_main_file_given_twice_is_refused(tmp_path):
    """Two entries of one main file (a merge of two refreshes of the snapshot): the last stood for the file, so a card
    giving that entry's numbers (+9/-9) passed D414 while GitHub's first entry said +3/-1."""
    from tests.dossier.test_lint_rules import lint

    stale = {"path": "python/sglang/a.py", "additions": 9, "deletions": 9, "symbols": []}
    card = make_card(100, title="Fuse it")
    card["implementation"] += " The change is small: python/sglang/a.py (+9/-9) holds all of it."
    root = write_project(tmp_path, [card])
    facts = root / "cards" / "pr-facts.json"
    facts.write_text(json.dumps([_FILE_FACT]))
    assert [d.code for d in lint(root, select=["D414"])] == ["D414"]  # the card's numbers are not GitHub's
    facts.write_text(json.dumps([{**_FILE_FACT, "main_files": [*_FILE_FACT["main_files"], stale]}]))
    found = lint(root, select=["D414", "D311"])
    assert [d.code for d in found] == ["D311"] and "'python/sglang/a.py' is given twice" in found[0].message, found
