"""dossier regress: job list, a real pytest run in a subprocess, results on disk, and render's line."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dossier.cli import app
from dossier.model import Card
from dossier.regress import (
    Job,
    RegressError,
    _covers,
    gpu_annotator,
    gpu_runs,
    jobs_for,
    matrix,
    parse_junit,
    reuse_bench,
    run_tests,
)
from tests.dossier.factories import make_card, write_project

runner = CliRunner()

FAKE_TEST = '''
def test_close(record_property):
    err = abs(0.1 + 0.2 - 0.3) / 0.3
    record_property("parity:sum", f"{err:.6e}/1.0e-12")
    assert err <= 1e-12

def test_other():
    assert {outcome}
'''


@pytest.fixture(scope="session")
def cpu_facts() -> dict:
    """The CPU's device facts as regress reads them (a python importing torch and triton: seconds), read once."""
    from dossier.regress import device_facts

    return device_facts("cpu", Path(__file__).resolve().parents[2])


@pytest.fixture(autouse=True)
def _inner_runs(monkeypatch, cpu_facts):
    """Every regress here reads the CPU's facts read once, and its inner pytest runs without CI's PYTEST_ADDOPTS
    (xdist workers: processes to start for a fake project's three tests; the tests of xdist's paths set it) and
    without the plugins installed beside pytest (hypothesis's import alone is most of a bare pytest's start; the
    xdist test names its plugin)."""
    from dossier import regress as rg

    def facts(device, root):
        assert device == "cpu", device
        return dict(cpu_facts)

    monkeypatch.setattr(rg, "device_facts", facts)
    monkeypatch.delenv("PYTEST_ADDOPTS", raising=False)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")


def _project(tmp_path, outcome="True"):
    ref = {"reference": "fakeref", "tests": ["tests_fake/test_ok.py"], "bench": "fakeref"}
    root = write_project(tmp_path, [make_card(100, runtime=ref), make_card(90)])
    (root / "fakeref.py").write_text('"""A stand-in reference module."""\n')
    (root / "tests_fake").mkdir()
    (root / "tests_fake" / "test_ok.py").write_text(FAKE_TEST.replace("{outcome}", outcome))
    return root


def test_list_prints_a_ci_matrix(tmp_path):
    root = _project(tmp_path)
    result = runner.invoke(app, ["regress", "--list", "--root", str(root)])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data == {"include": [{"pr": 100, "reference": "fakeref", "tests": ["tests_fake/test_ok.py"],
                                 "bench": "fakeref"}]}


@pytest.mark.parametrize("args", [["--list"], ["--all"], ["--all", "--device", "cpu"]])
def test_no_job_to_run_is_said_and_no_empty_matrix_is_printed(tmp_path, args):
    """`--list` printed `{"include": []}`, which GitHub Actions refuses ("Matrix vector 'include' does not contain
    any values", in the next job); `--all` ran nothing and passed. Both say why there is nothing, exit 2."""
    broken = make_card(100, runtime={"reference": "fakeref", "tests": ["tests_fake/test_ok.py"], "bench": "fakeref"})
    del broken["title"]
    root = write_project(tmp_path, [make_card(90), broken])
    result = runner.invoke(app, ["regress", *args, "--root", str(root)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: no valid card has a runtime reference, so there is no job to run "
                                    "(1 invalid card names one: see `dossier lint`)")
    if "--list" in args:
        assert "no matrix printed: GitHub Actions refuses an empty one" in result.stderr
    assert "no job to run" in " ".join(runner.invoke(app, ["regress", "--help"]).output.split())


def test_cpu_run_records_tests_and_parity(tmp_path):
    root = _project(tmp_path)
    result = runner.invoke(app, ["regress", "100", "--device", "cpu", "--root", str(root)])
    assert result.exit_code == 0, result.output
    assert "[1/1] #100: 1 test target(s)" in result.output  # a progress line per job off a terminal
    # the one pytest process of a CPU run (minutes for every card) says how far it got, before the jobs' lines
    assert result.output.index("pytest: 100% of the tests run") < result.output.index("[1/1] #100")
    assert not (root / "results").exists()  # CPU results stay out of the repository
    doc = json.loads((root / ".dossier" / "results" / "cpu" / "100.json").read_text())
    assert doc["ok"] and doc["passed"] == 2 and doc["failed"] == 0
    assert doc["parity"]["sum"]["tol"] == 1e-12
    assert doc["bench"]["skipped"] == "benchmarks run on CUDA only"
    assert doc["device"]["name"] == "cpu" and doc["device"]["torch"]


def test_failing_test_fails_the_job(tmp_path):
    root = _project(tmp_path, outcome="False")
    result = runner.invoke(app, ["regress", "--all", "--device", "cpu", "--root", str(root)])
    assert result.exit_code == 1
    doc = json.loads((root / ".dossier" / "results" / "cpu" / "100.json").read_text())
    assert not doc["ok"] and doc["failed"] == 1


@pytest.mark.parametrize("field", ["reference", "bench"])
def test_a_reference_or_bench_module_that_does_not_exist_fails_the_job(tmp_path, field):
    """On the CPU no benchmark runs and a test can pass without importing the reference: a card naming modules
    that do not exist was reported ok."""
    root = _project(tmp_path)
    card = yaml.safe_load((root / "cards" / "100.yaml").read_text())
    card["runtime"][field] = "fakeref_gone"
    (root / "cards" / "100.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    result = runner.invoke(app, ["regress", "100", "--device", "cpu", "--root", str(root)])
    assert result.exit_code == 1, result.output
    doc = json.loads((root / ".dossier" / "results" / "cpu" / "100.json").read_text())
    assert not doc["ok"] and "no such module: fakeref_gone" in doc["bench"]["error"]


def test_a_missing_test_id_is_named_and_the_others_still_run(tmp_path):
    root = _project(tmp_path)
    missing = ["tests_fake/test_gone.py::test_x", "tests_fake/test_ok.py::test_renamed"]
    tests = ["tests_fake/test_ok.py::test_close", *missing, "tests_fake/test_ok.py::test_other"]
    write_project(root, [make_card(100, runtime={"reference": "fakeref", "tests": tests, "bench": "fakeref"})])
    result = runner.invoke(app, ["regress", "100", "--device", "cpu", "--root", str(root)])
    assert result.exit_code == 1, result.output
    assert "#100: tests_fake/test_gone.py::test_x: not run: test file tests_fake/test_gone.py not found" \
        in result.output
    assert "#100: tests_fake/test_ok.py::test_renamed: not run: 'test_renamed' not found" in result.output
    doc = json.loads((root / ".dossier" / "results" / "cpu" / "100.json").read_text())
    assert not doc["ok"] and doc["passed"] == 2 and doc["failed"] == 2  # the valid ones ran
    assert sorted(t["id"] for t in doc["tests"] if t["outcome"] == "error") == sorted(missing)


def test_cpu_jobs_share_one_pytest_run(tmp_path):
    """On the CPU every distinct node id runs once, in one pytest process, and each job gets the records of the
    node ids it names: a test two cards name counts for both, a class node brings its methods, and a file
    that fails to collect fails only the card that names it (the other tests still run)."""
    root = _project(tmp_path)
    runs = tmp_path / "runs.txt"
    (root / "tests_fake" / "test_shared.py").write_text(
        f"def test_shared():\n    open({str(runs)!r}, 'a').write('ran\\n')\n\n\n"
        "class TestGroup:\n    def test_in_class(self):\n        pass\n")
    (root / "tests_fake" / "test_broken.py").write_text("import a_module_that_is_nowhere\n")

    def ref(*tests):
        return {"reference": "fakeref", "tests": list(tests), "bench": "fakeref"}

    write_project(root, [
        make_card(100, runtime=ref("tests_fake/test_ok.py::test_close", "tests_fake/test_shared.py::test_shared")),
        make_card(110, runtime=ref("tests_fake/test_shared.py::test_shared", "tests_fake/test_shared.py::TestGroup")),
        make_card(120, runtime=ref("tests_fake/test_broken.py", "tests_fake/test_ok.py::test_other")),
    ])
    result = runner.invoke(app, ["regress", "--all", "--device", "cpu", "--root", str(root)])
    assert result.exit_code == 1, result.output
    assert runs.read_text() == "ran\n"  # named by two cards, run once
    doc = {pr: json.loads((root / ".dossier" / "results" / "cpu" / f"{pr}.json").read_text()) for pr in (100, 110, 120)}
    assert sorted(t["id"] for t in doc[100]["tests"]) == ["tests_fake/test_ok.py::test_close",
                                                           "tests_fake/test_shared.py::test_shared"]
    assert doc[100]["ok"] and doc[100]["parity"]["sum"]["tol"] == 1e-12
    assert doc[110]["ok"] and doc[110]["passed"] == 2
    assert "tests_fake/test_shared.py::test_shared" in [t["id"] for t in doc[110]["tests"]]
    assert not doc[120]["ok"] and (doc[120]["passed"], doc[120]["failed"]) == (1, 1)
    assert [t.get("message") for t in doc[120]["tests"] if t["outcome"] == "error"] == ["collection failure"]
    assert [line.split(":")[0] for line in result.output.splitlines() if line.startswith("#")] == ["#120"]


def test_a_job_alone_runs_in_its_own_process(tmp_path):
    """The per-job path (what a CUDA run takes): records of the job's tests, a missing node id named first."""
    root = _project(tmp_path)
    job = Job(100, "fakeref", ("tests_fake/test_gone.py::test_x", "tests_fake/test_ok.py"), "fakeref")
    records = run_tests(job, "cpu", root)
    assert records[0] == {"id": "tests_fake/test_gone.py::test_x", "outcome": "error", "seconds": 0.0, "parity": {},
                          "message": "not run: test file tests_fake/test_gone.py not found"}
    assert sorted(r["id"] for r in records[1:]) == ["tests_fake/test_ok.py::test_close", "tests_fake/test_ok.py::test_other"]
    assert all(r["outcome"] == "passed" for r in records[1:])
    assert [r["parity"]["sum"]["tol"] for r in records[1:] if r["parity"]] == [1e-12]


def test_covers_matches_junit_addresses_to_node_ids():
    assert _covers("t/test_a.py::test_x", "t.test_a", "test_x")
    assert _covers("t/test_a.py::test_x", "t.test_a", "test_x[odd-8]")
    assert not _covers("t/test_a.py::test_x", "t.test_a", "test_xy")
    assert not _covers("t/test_a.py::test_x", "t.test_b", "test_x")
    assert _covers("t/test_a.py::test_x[odd]", "t.test_a", "test_x[odd]")
    assert not _covers("t/test_a.py::test_x[odd]", "t.test_a", "test_x[small]")
    assert _covers("t/test_a.py", "t.test_a", "test_x") and _covers("t/test_a.py", "t.test_a.TestC", "test_y")
    assert not _covers("t/test_a.py", "t.test_ab", "test_x")
    assert _covers("t/test_a.py::TestC", "t.test_a.TestC", "test_y")
    assert not _covers("t/test_a.py::TestC", "t.test_a.TestCD", "test_y")
    assert _covers("t/test_a.py::TestC::test_y", "t.test_a.TestC", "test_y[1]")
    assert _covers("t/test_a.py::test_x", "", "t.test_a")  # the file failed to collect


def test_usage_errors(tmp_path):
    root = _project(tmp_path)
    assert runner.invoke(app, ["regress", "--root", str(root)]).exit_code == 2
    assert runner.invoke(app, ["regress", "90", "--root", str(root)]).exit_code == 2
    for args in (["100"], ["--list"]):  # --list printed the matrix and exit 0 whatever --device said
        tpu = runner.invoke(app, ["regress", *args, "--device", "tpu", "--root", str(root)])
        assert tpu.exit_code == 2 and tpu.output == "error: --device must be one of auto, cuda, cpu, got 'tpu'\n"
    github = runner.invoke(app, ["regress", "100", "--device", "cpu", "--format", "github", "--root", str(root)])
    assert github.exit_code == 2 and "'github' is not one of 'text', 'json'" in github.output  # none was ever made


def test_an_unwritable_results_folder_fails_before_any_job_runs(tmp_path, monkeypatch):
    """mkdir(exist_ok=True) passed on a read-only results folder: the jobs ran (minutes on a GPU), then the first
    result could not be written and was lost."""
    import tempfile

    from dossier import regress as rg

    root = _project(tmp_path)
    folder = root / ".dossier" / "results" / "cpu"
    real = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kw):
        if dir is not None and Path(dir) == folder:
            raise PermissionError(13, "Permission denied")
        return real(*args, dir=dir, **kw)

    def ran(*args, **kw):
        raise AssertionError("a job ran")

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(rg, "run_tests_together", ran)
    monkeypatch.setattr(rg, "run_job", ran)
    result = runner.invoke(app, ["regress", "100", "--device", "cpu", "--root", str(root)])
    assert result.exit_code == 2 and result.stderr.splitlines()[-1] == f"error: {folder}: Permission denied"


def test_parse_junit_reads_outcomes_and_parity():
    xml = """<testsuites><testsuite>
      <testcase classname="tests.runtime.gdn.test_decode" name="test_a" time="0.5">
        <properties><property name="parity:decode" value="2.0e-07/1.0e-05"/></properties></testcase>
      <testcase classname="tests.runtime.gdn.test_decode" name="test_b" time="0.1">
        <failure message="boom">trace</failure></testcase>
      <testcase classname="tests.runtime.gdn.test_decode" name="test_c" time="0"><skipped message="needs CUDA"/></testcase>
    </testsuite></testsuites>"""
    records = parse_junit(xml)
    assert [r["outcome"] for r in records] == ["passed", "failed", "skipped"]
    assert records[0]["id"] == "tests/runtime/gdn/test_decode.py::test_a"
    assert records[0]["parity"] == {"decode": {"err": 2e-07, "tol": 1e-05}}


def test_parse_junit_a_skip_never_hides_an_error_of_the_same_case():
    """pytest writes a body's skip and a fixture's failed teardown into one <testcase>: read as skipped, the
    error vanished and a run with 4 teardown errors was stored ok. The worst outcome stands; both messages stay."""
    xml = """<testsuites><testsuite>
      <testcase classname="tests.runtime.gdn.test_decode" name="test_a" time="0.1">
        <skipped message="tp4 shape not tried here"/><error message="failed on teardown with RuntimeError">x</error>
      </testcase>
      <testcase classname="tests.runtime.gdn.test_decode" name="test_b" time="0.1">
        <failure message="boom">x</failure><error message="failed on teardown">y</error></testcase>
    </testsuite></testsuites>"""
    a, b = parse_junit(xml)
    assert a["outcome"] == "error" and "teardown" in a["message"] and "not tried" in a["message"]
    assert b["outcome"] == "failed" and b["message"].startswith("boom")


def test_annotator_shows_only_measured_numbers(tmp_path):
    ref = {"reference": "runtime.gdn", "tests": ["t.py"], "bench": "runtime.gdn.bench"}
    card = Card.from_data(make_card(100, runtime=ref))
    none_card = Card.from_data(make_card(90))
    note = gpu_annotator(tmp_path)
    assert note(none_card) == []
    assert note(card) == ["**GPU regression.** no GPU result committed yet (`dossier regress 100 --device cuda`)."]
    (tmp_path / "cuda").mkdir()
    (tmp_path / "cuda" / "100.json").write_text(json.dumps({
        "pr": 100, "ok": True, "device": {"name": "NVIDIA H100 80GB HBM3"}, "date": "2026-11-23",
        "bench": {"module": "runtime.gdn.bench", "summary": ["decode 93% of copy bandwidth at B=256"]},
        "parity": {"decode": {"err": 2e-7, "tol": 1e-5}}, "passed": 12, "failed": 0}))
    line = note(card)[0]
    assert "reproduced on NVIDIA H100 80GB HBM3, 2026-11-23" in line
    assert "decode 93% of copy bandwidth at B=256" in line and "2.0e-07" in line and "12/12" in line
    assert "benchmark measured" not in line


def test_a_reused_benchmark_keeps_its_own_date(tmp_path):
    """A job run with --bench-json on 12-01 reusing numbers measured 11-30 must not date those numbers 12-01."""
    card = Card.from_data(make_card(100, runtime={"reference": "runtime.gdn", "tests": ["t.py"],
                                                  "bench": "runtime.gdn.bench"}))
    (tmp_path / "cuda").mkdir()
    (tmp_path / "cuda" / "100.json").write_text(json.dumps({
        "pr": 100, "ok": True, "device": {"name": "NVIDIA H200"}, "date": "2026-12-01",
        "bench": {"module": "runtime.gdn.bench", "summary": ["decode 94% of copy bandwidth"], "date": "2026-11-30",
                  "reused_from": "b.json"},
        "parity": {}, "passed": 3, "failed": 0}))
    run = gpu_runs(tmp_path)(card)
    assert (run.date, run.bench_date) == ("2026-12-01", "2026-11-30")
    assert "decode 94% of copy bandwidth (benchmark measured 2026-11-30)" in gpu_annotator(tmp_path)(card)[0]


def test_render_refuses_a_stored_result_it_cannot_read(tmp_path):
    root = _project(tmp_path)
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    manual = {p: p.read_bytes() for p in (root / "skills").rglob("*.md")}
    stored = root / "results" / "cuda" / "100.json"
    stored.parent.mkdir(parents=True)
    for broken in ("{not json", json.dumps({"ok": True}), None):
        if broken is None:  # a link that leads nowhere read as no result stored: "no GPU result committed"
            stored.unlink()
            stored.symlink_to("/nonexistent/100.json")
        else:
            stored.write_text(broken)
        for args in (["render"], ["render", "--check"]):
            result = runner.invoke(app, [*args, "--root", str(root)])
            assert result.exit_code == 2, result.output
            assert f"error: {stored}: " in result.output and "dossier regress 100 --device cuda" in result.output
        assert {p: p.read_bytes() for p in (root / "skills").rglob("*.md")} == manual
    shown = runner.invoke(app, ["show", "100", "--root", str(root)])  # show still prints the card, saying so
    said = " ".join(shown.output.replace("│", " ").split())
    assert shown.exit_code == 0 and "its stored result cannot be read" in said and "no GPU result" not in said


GOOD_RESULT = {"pr": 100, "device_kind": "cuda", "ok": True, "device": {"name": "NVIDIA H200"}, "date": "2026-12-01",
               "bench": {"module": "fakeref", "summary": ["one row"]}, "parity": {"x": {"err": 1e-7, "tol": 1e-5}},
               "passed": 3, "failed": 0}


@pytest.mark.parametrize("change, why", [
    ({"pr": 90}, "the result of #90, not of #100"),
    ({"device_kind": "cpu"}, "a cpu run, not a cuda one"),
    ({"bench": {"module": "runtime.other.bench", "summary": ["other"]}},
     "measured runtime.other.bench; the card's benchmark is fakeref"),
    ({"parity": {"x": {"err": "big", "tol": 1e-5}}}, "parity.x.err must be a number"),
    ({"bench": ["x"]}, "bench must be a mapping"),
    ({"passed": "3"}, "passed must be a whole number"),
    ({"bench": {"module": "fakeref", "summary": "one row"}}, "bench.summary must be a list of texts"),
    ({"parity": {"x": {"err": float("nan"), "tol": 1e-5}}}, "parity.x.err is NaN, not a number JSON can hold"),
    ({"bench": {"module": "fakeref", "rows": [{"us": 1.0}, {"us": float("-inf")}]}},
     "bench.rows[1].us is -Infinity, not a number JSON can hold"),
])
def test_render_refuses_a_stored_result_that_is_not_this_cards(tmp_path, change, why):
    """A valid result copied from another card (or a CPU run, or one of the card's former benchmark) was shown
    as this card's GPU regression; a field of another kind was an internal error."""
    root = _project(tmp_path)
    stored = root / "results" / "cuda" / "100.json"
    stored.parent.mkdir(parents=True)
    stored.write_text(json.dumps(GOOD_RESULT))
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    stored.write_text(json.dumps({**GOOD_RESULT, **change}))
    result = runner.invoke(app, ["render", "--check", "--root", str(root)])
    assert result.exit_code == 2 and f"error: {stored}: {why}" in result.output, result.output
    assert "dossier regress 100 --device cuda" in result.output


NON_FINITE = [("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e999", "Infinity")]


@pytest.mark.parametrize(("written", "reads"), NON_FINITE)
def test_bench_json_refuses_a_number_json_cannot_hold_naming_the_field(tmp_path, written, reads):
    """Python reads NaN/Infinity (and 1e999 as Infinity) and wrote them back into the stored result: a document
    no standard JSON reader (jq, JavaScript, GitHub) can read, and a benchmark that measured nothing there."""
    path = tmp_path / "bench.json"
    path.write_text('{"lane": "fakeref", "device": {"name": "cpu"}, "rows": [{"us": 1.0}, {"tp": 1, "us": '
                    + written + "}]}")
    with pytest.raises(RegressError, match=re.escape(
            f"--bench-json fakeref={path}: rows[1].us is {reads}, not a number JSON can hold: the benchmark "
            "measured nothing there; run it again")):
        reuse_bench("fakeref", path, {"name": "cpu"})


def test_bench_json_refuses_the_values_benchkit_wrote_as_not_finite(tmp_path):
    """runtime.benchkit writes a NaN as null and lists it under not_finite: still nothing measured there."""
    path = tmp_path / "bench.json"
    path.write_text(json.dumps({"lane": "fakeref", "device": {"name": "cpu"}, "rows": [{"us": None}],
                                "not_finite": {"rows[0].us": "NaN"}}))
    with pytest.raises(RegressError, match=re.escape(f"--bench-json fakeref={path}: rows[0].us is NaN, not a number")):
        reuse_bench("fakeref", path, {"name": "cpu"})


def test_a_benchmark_run_whose_document_holds_nan_is_the_benchmarks_error(tmp_path):
    """run_bench stored the document as read (NaN and all) in the result, and the job was ok."""
    from dossier.regress import run_bench

    (tmp_path / "nanbench.py").write_text(
        "import sys\nopen(sys.argv[2], 'w').write('{\"lane\": \"nanbench\", \"device\": {}, "
        "\"rows\": [{\"us\": NaN}]}')\n")
    bench = run_bench("nanbench", "cuda", tmp_path)
    assert bench == {"module": "nanbench", "error": "its --json document: rows[0].us is NaN, not a number JSON can "
                                                    "hold: the benchmark measured nothing there"}


@pytest.mark.parametrize(("value", "says"), [
    ("nan/1.0e-05", "parity:decode = 'nan/1.0e-05': the error is NaN"),
    ("2.0e-07/inf", "parity:decode = '2.0e-07/inf': the tolerance is Infinity"),
    ("2.0e-07/0", "parity:decode = '2.0e-07/0': the tolerance is 0, not above 0"),
    ("big", "parity:decode = 'big': not ERR/TOL, two numbers"),
])
def test_a_parity_value_that_is_no_finite_number_is_the_tests_error(value, says):
    """A NaN error compared below every tolerance (NaN > tol is false), so the parity check passed and the result
    held NaN; an unreadable value was a ValueError out of regress."""
    xml = f"""<testsuites><testsuite>
      <testcase classname="tests.runtime.gdn.test_decode" name="test_a" time="0.5">
        <properties><property name="parity:decode" value="{value}"/></properties></testcase>
    </testsuite></testsuites>"""
    [record] = parse_junit(xml)
    assert record["outcome"] == "error" and record["parity"] == {}
    assert record["message"].startswith(says)
    json.dumps(record, allow_nan=False)


def test_jobs_only_for_cards_with_references():
    ref = {"reference": "m", "tests": ["a.py::t"], "bench": "m.bench"}
    cards = [Card.from_data(make_card(1, runtime=ref)), Card.from_data(make_card(2))]
    assert jobs_for(cards) == [Job(1, "m", ("a.py::t",), "m.bench")]
    assert json.loads(matrix(jobs_for(cards)))["include"][0]["tests"] == ["a.py::t"]


@pytest.fixture
def on_a_gpu(monkeypatch, cpu_facts):
    """regress as it runs on an H200 (the only place a benchmark runs, so the only one --bench-json applies to); the
    fake project's tests run as they would there."""
    from dossier import regress as rg

    monkeypatch.setattr(rg, "resolve_device", lambda choice, root: "cuda")
    monkeypatch.setattr(rg, "device_facts", lambda device, root: {**cpu_facts, "name": "NVIDIA H200"})


def test_bench_json_reuses_a_document_from_the_same_device(tmp_path, on_a_gpu):
    root = _project(tmp_path)
    doc = tmp_path / "bench.json"
    doc.write_text(json.dumps({"lane": "fakeref", "device": {"name": "NVIDIA H200"}, "rows": [{"us": 1.0}],
                               "summary": ["one row"]}))
    result = runner.invoke(app, ["regress", "100", "--device", "cuda", "--root", str(root),
                                 "--bench-json", f"fakeref={doc}"])
    assert result.exit_code == 0, result.output
    bench = json.loads((root / "results" / "cuda" / "100.json").read_text())["bench"]
    assert bench["summary"] == ["one row"] and bench["reused_from"] == str(doc) and bench["module"] == "fakeref"


def test_bench_json_refuses_another_device_and_bad_values(tmp_path, on_a_gpu):
    root = _project(tmp_path)
    h100 = tmp_path / "h100.json"
    h100.write_text(json.dumps({"lane": "fakeref", "device": {"name": "NVIDIA H100 80GB HBM3"}, "rows": []}))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    deep = tmp_path / "deep.json"  # json.loads raises RecursionError, no ValueError: it was an internal error
    deep.write_text("[" * 100_000 + "]" * 100_000)
    for value, says in ((f"fakeref={h100}", "measured on NVIDIA H100"), (f"fakeref={broken}", "not a readable JSON"),
                        (f"fakeref={deep}", "not a readable JSON"),
                        (f"other.bench={h100}", "no job in this run uses"), ("fakeref", "wants MODULE=FILE"),
                        (f"fakeref={tmp_path / 'absent.json'}", "not a readable JSON")):
        result = runner.invoke(app, ["regress", "100", "--device", "cuda", "--root", str(root), "--bench-json", value])
        assert result.exit_code == 2, (value, result.output)
        assert says in result.output, (value, result.output)
    assert not (root / "results" / "cuda" / "100.json").exists()  # refused before any job ran


@pytest.mark.parametrize("device, says", [
    ("cpu", ""), ("auto", "; --device auto found no CUDA device")])
def test_bench_json_is_refused_on_the_cpu_where_no_benchmark_runs(tmp_path, device, says):
    """A CPU run measures nothing, yet a document given with --bench-json was stored in its result as this run's
    benchmark (and a CPU document passed the same-device check)."""
    root = _project(tmp_path)
    doc = tmp_path / "bench.json"
    doc.write_text(json.dumps({"lane": "fakeref", "device": {"name": "cpu"}, "rows": [{"us": 1.0}]}))
    result = runner.invoke(app, ["regress", "100", "--device", device, "--root", str(root),
                                 "--bench-json", f"fakeref={doc}"])
    assert (result.exit_code, result.output.splitlines()[-1]) == (
        2, "error: --bench-json: no benchmark runs on the CPU (a check, not a measurement), so there is none to "
           "replace" + says)
    assert not (root / ".dossier" / "results" / "cpu" / "100.json").exists()


@pytest.mark.parametrize("stop, says, together", [
    ("raise KeyboardInterrupt", "pytest exited 2 (interrupted)", True),
    ("pytest.exit('out of memory')", "pytest exited 2 (interrupted)", False),
    ("os._exit(0)", "pytest wrote no report", False),
], ids=["keyboard-interrupt-cpu-together", "pytest-exit-job-alone", "no-report-job-alone"])
def test_a_pytest_run_that_stopped_early_fails_the_job_it_never_finished(tmp_path, stop, says, together):
    """A pytest process that stops before its last test (a KeyboardInterrupt or pytest.exit inside a test, a
    process that exits with no report) ran some tests: they are kept, and the job is not ok, whatever they did
    (test_c would have failed). The inner pytest runs without CI's PYTEST_ADDOPTS (xdist): see the next test."""
    root = _project(tmp_path)
    (root / "tests_fake" / "test_ok.py").write_text(
        f"import os\nimport pytest\n\ndef test_a():\n    pass\n\ndef test_b():\n    {stop}\n\n"
        "def test_c():\n    assert False\n")
    job = Job(100, "fakeref", ("tests_fake/test_ok.py",), "fakeref")
    from dossier.regress import run_job, run_tests_together

    records = run_tests_together([job], "cpu", root)[100] if together else run_tests(job, "cpu", root)
    result = run_job(job, "cpu", root, {"name": "cpu"}, {}, records)
    assert not result["ok"], records
    errors = [t for t in records if t["outcome"] == "error"]
    assert len(errors) == 1 and says in errors[0]["message"], records
    ran = {t["id"]: t["outcome"] for t in records}
    assert "tests_fake/test_ok.py::test_c" not in ran
    assert ran.get("tests_fake/test_ok.py::test_a") == (None if "no report" in says else "passed"), records


def test_under_xdist_a_test_that_ends_its_worker_fails_the_job(tmp_path, monkeypatch):
    """Under xdist (CI sets PYTEST_ADDOPTS=-n auto) a test that ends its process crashes only its worker: xdist
    records that test as an error and runs the rest, so the job fails on it as well as on test_c."""
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p xdist -n 1")
    root = _project(tmp_path)
    (root / "tests_fake" / "test_ok.py").write_text(
        "import os\n\ndef test_a():\n    pass\n\ndef test_b():\n    os._exit(0)\n\ndef test_c():\n    assert False\n")
    job = Job(100, "fakeref", ("tests_fake/test_ok.py",), "fakeref")
    from dossier.regress import run_job

    records = run_tests(job, "cpu", root)
    result = run_job(job, "cpu", root, {"name": "cpu"}, {}, records)
    assert not result["ok"], records
    ran = {t["id"]: t["outcome"] for t in records}
    assert ran.get("tests_fake/test_ok.py::test_a") == "passed", records
    assert ran.get("tests_fake/test_ok.py::test_b") == "error", records


@pytest.mark.parametrize("doc, says", [
    ({"lane": "projections", "rows": [], "summary": ["projections: 0.9x"]}, "written by the 'projections' benchmark"),
    ({"lane": "fakeref-sweep", "rows": []}, "written by the 'fakeref-sweep' benchmark"),
    ({"rows": [], "summary": ["no lane"]}, "written by no benchmark's --json (it names no lane)"),
    ({"lane": "fakeref", "rows": {"us": 1.0}}, "rows must be a list"),
])
def test_bench_json_refuses_a_document_another_benchmark_wrote(tmp_path, doc, says):
    """Every benchmark document names the lane that wrote it (benchkit.write_results), and a module's lane is a
    part of its name (runtime.gdn.bench writes "gdn"): another lane's document, or a sweep's, given for a module
    would be stored as that module's run, its summary shown on the module's cards."""
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"device": {"name": "cpu"}, **doc}))
    with pytest.raises(RegressError, match=re.escape(f"--bench-json runtime.fakeref.bench={path}: {says}")):
        reuse_bench("runtime.fakeref.bench", path, {"name": "cpu"})
    path.write_text(json.dumps({"device": {"name": "cpu"}, **doc, "lane": "fakeref", "rows": []}))
    assert reuse_bench("runtime.fakeref.bench", path, {"name": "cpu"})["lane"] == "fakeref"


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie no one reaped yet is dead)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False


def test_an_interrupted_regress_ends_what_its_pytest_started(tmp_path):
    """`kill` (or a SIGINT sent to dossier alone: the same path) during a job killed pytest but not what pytest had
    started: xdist's workers (CI runs them, PYTEST_ADDOPTS=-n auto), or a test's own child, ran on orphaned, on a
    GPU job holding the device. The job's process group ends with the command."""
    import os
    import signal
    import subprocess
    import sys
    import time

    root = _project(tmp_path)
    pid_file = tmp_path / "grandchild.pid"
    (root / "tests_fake" / "test_ok.py").write_text(
        "import subprocess, time\n\ndef test_a():\n    child = subprocess.Popen(['sleep', '300'])\n"
        f"    open({str(pid_file)!r}, 'w').write(str(child.pid))\n    time.sleep(300)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env.pop("PYTEST_ADDOPTS", None)
    proc = subprocess.Popen([sys.executable, "-m", "dossier.cli", "regress", "100", "--device", "cpu", "--root",
                             str(root)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    grandchild = None
    try:
        for _ in range(1200):  # the inner pytest starts (seconds), then its test writes the pid
            if pid_file.is_file() and pid_file.read_text():
                grandchild = int(pid_file.read_text())
                break
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.05)
        assert grandchild is not None and _alive(grandchild)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 143 and err.endswith("terminated\n"), (out, err)
        for _ in range(200):  # SIGKILL is delivered at once; reaping the orphan may take a moment
            if not _alive(grandchild):
                break
            time.sleep(0.05)
        assert not _alive(grandchild), "pytest's child outlived the interrupted regress"
    finally:
        proc.kill()
        if grandchild is not None and _alive(grandchild):
            os.kill(grandchild, signal.SIGKILL)


def test_bench_json_given_twice_or_endless_is_refused_before_any_job(tmp_path, monkeypatch, on_a_gpu):
    """The same benchmark named twice ran with the last document, the first dropped without a word; an endless
    input (/dev/zero, `<(yes)`) was read until memory ran out. A pipe holding a document (`<(cat b.json)`) is read."""
    from dossier import regress

    root = _project(tmp_path)
    doc = tmp_path / "bench.json"
    doc.write_text(json.dumps({"lane": "fakeref", "device": {"name": "NVIDIA H200"}, "rows": [], "summary": ["s"]}))
    args = ["regress", "100", "--device", "cuda", "--root", str(root)]
    twice = runner.invoke(app, [*args, "--bench-json", f"fakeref={doc}", "--bench-json", f"fakeref={doc}"])
    assert (twice.exit_code, twice.output.splitlines()[-1]) == (
        2, "error: --bench-json fakeref is given twice: one document per benchmark")
    monkeypatch.setattr(regress, "MAX_FILE_BYTES", 1 << 20)
    endless = runner.invoke(app, [*args, "--bench-json", "fakeref=/dev/zero"])
    assert endless.exit_code == 2 and endless.output.splitlines()[-1] == (
        "error: --bench-json fakeref=/dev/zero: holds more than 1 MiB, more than any benchmark's document")
    assert not (root / "results" / "cuda" / "100.json").exists()
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", 'cat "$0" > "$1"', str(doc), str(fifo)])
    try:
        assert regress.reuse_bench("fakeref", fifo, {"name": "NVIDIA H200"})["summary"] == ["s"]
    finally:
        writer.wait(timeout=60)


def test_a_test_that_prints_bytes_that_are_not_utf8_is_its_own_failure(tmp_path):
    """A test whose failure names a file that is not UTF-8 (pytest prints it as its bytes) made regress an internal
    error (UnicodeDecodeError reading the pytest process's output): the job's result was lost. (Under pytest-xdist,
    as CI's PYTEST_ADDOPTS runs it, the same failure is pytest's internal error: see the next test.)"""
    root = _project(tmp_path, outcome='False, __import__("os").fsdecode(b"caf\\xe9.yaml")')  # a name read from disk
    result = runner.invoke(app, ["regress", "100", "--device", "cpu", "--root", str(root)])
    assert result.exit_code == 1, result.output
    stored = json.loads((root / ".dossier" / "results" / "cpu" / "100.json").read_text())
    assert not stored["ok"] and stored["failed"] == 1


def test_a_report_holding_pytests_internal_error_fails_the_job():
    """pytest-xdist, sending such a failure from a worker, loses the test, records `pytest.internal` and exits 0:
    regress counted the tests left and called the job ok."""
    from dossier.regress import _junit_cases, _unfinished

    xml = ('<testsuites><testsuite><testcase classname="tests.t" name="test_b" time="0.1"/><testcase time="0.0"/>'
           '<testcase classname="pytest" name="internal" time="0.0"><error message="internal error">x</error>'
           '</testcase></testsuite></testsuites>')
    assert _unfinished(0, "INTERNALERROR> x", _junit_cases(xml)) == (
        "pytest reported an internal error, so tests may be missing from its report: INTERNALERROR> x")
    assert _unfinished(0, "", _junit_cases(xml)[:1]) is None


REPORT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest" tests="3"{suite}>
<testcase classname="tests_fake.test_ok" name="test_close" time="0.010"><properties>
<property name="parity:sum" value="1.850372e-16/1.0e-12"/></properties></testcase>
<testcase classname="tests_fake.test_ok" name="test_other" time="0.001">{other}</testcase>
<testcase classname="tests_fake.test_unnamed" name="test_x" time="0.001"/>
</testsuite></testsuites>"""


def _junit(tmp_path, suite=None, other=""):
    """A project whose test_other fails when run, a JUnit report of it (written on this machine, as pytest names it,
    unless ``suite`` says otherwise), and regress on that report."""
    root = _project(tmp_path, outcome="False")
    report = tmp_path / "junit.xml"
    report.write_text(REPORT.format(suite=f' hostname="{platform.node()}"' if suite is None else suite, other=other))

    def regress(*args):
        return runner.invoke(app, ["regress", *(args or ["100", "--device", "cpu"]), "--junit", str(report),
                                   "--root", str(root)])

    return root, report, regress


def test_junit_reads_the_outcomes_of_a_run_that_ran_the_tests_already(tmp_path):
    """CI runs the suite once (pytest --junitxml) and regress takes each card's tests from that report instead of
    running them again: test_other fails if run, but the report says it passed. A node id the report holds no case
    of is the job's error; a file that is no report, or --junit with --list, is refused (exit 2)."""
    root, report, regress = _junit(tmp_path)
    result = regress()
    assert result.exit_code == 0, result.output
    doc = json.loads((root / ".dossier" / "results" / "cpu" / "100.json").read_text())
    assert doc["ok"] and doc["passed"] == 2 and doc["parity"]["sum"]["tol"] == 1e-12
    assert sorted(t["id"] for t in doc["tests"]) == ["tests_fake/test_ok.py::test_close", "tests_fake/test_ok.py::test_other"]

    (root / "tests_fake" / "test_more.py").write_text("def test_y():\n    pass\n")
    write_project(root, [make_card(100, runtime={"reference": "fakeref", "bench": "fakeref",
                                                 "tests": ["tests_fake/test_ok.py", "tests_fake/test_more.py::test_y"]})])
    report.write_text(report.read_text())  # written after the new test file: not stale
    result = regress()
    assert result.exit_code == 1
    assert f"#100: tests_fake/test_more.py::test_y: not run: {report} holds no test of it" in result.output

    report.write_text("not xml")
    for args in (["--device", "cpu"], ["--list"]):
        result = regress("--all", *args)
        assert result.exit_code == 2 and ("not a readable JUnit report" in result.output or "would be ignored"
                                          in result.output), result.output


@pytest.mark.parametrize("other, outcome", [
    ('<failure message="assert False">x</failure>', "failed"),
    ('<skipped type="pytest.skip" message="needs CUDA">x</skipped>', "skipped"),
])
def test_junit_keeps_a_failure_and_a_gpu_tests_skip(tmp_path, other, outcome):
    """A test the report says failed fails its job, as if regress had run it; a `gpu` test (skipped without CUDA, not
    deselected as regress's own CPU run does) is a skipped record beside the passed ones."""
    root, _, regress = _junit(tmp_path, other=other)
    result = regress()
    doc = json.loads((root / ".dossier" / "results" / "cpu" / "100.json").read_text())
    assert [t["outcome"] for t in doc["tests"]] == ["passed", outcome]
    assert (result.exit_code, doc["ok"]) == ((1, False) if outcome == "failed" else (0, True)), result.output
    assert ("test_other: assert False" in result.output) == (outcome == "failed")


def test_junit_on_cuda_takes_a_gpu_run_and_refuses_a_gpu_test_skipped_for_want_of_cuda(tmp_path):
    """On CUDA the report stands for one run of the GPU suite (instead of a pytest process per job): a `gpu` test that
    run skipped because it had no CUDA is the job's error there, while another skip stays a skipped record."""
    from dossier import regress as rg
    from dossier.regress import NO_CUDA

    for reason, outcome in ((NO_CUDA, "error"), ("sglang is not installed", "skipped")):
        root, report, _ = _junit(tmp_path / outcome, other=f'<skipped type="pytest.skip" message="{reason}">x</skipped>')
        jobs = [rg.Job(100, "fakeref", ("tests_fake/test_ok.py",), "fakeref")]
        for device, expected in (("cpu", "skipped"), ("cuda", outcome)):
            records = rg.tests_from_report(jobs, report, root, device)[100]
            assert [r["outcome"] for r in records] == ["passed", expected], (device, reason, records)
        if outcome == "error":
            assert "not a run on this GPU" in records[1]["message"]


def test_junit_refuses_a_stale_or_foreign_report(tmp_path):
    """A report is refused (exit 2, before any result is written) when pytest wrote it on another machine, when its run
    began before a test or reference file last changed, or later than now, names no machine, or holds none of the
    cards' tests."""
    _, report, regress = _junit(tmp_path, suite=' hostname="elsewhere"')
    assert "written on elsewhere, not on this machine" in " ".join(regress().output.split())

    began = dt.datetime.now(dt.UTC)
    here = f' hostname="{platform.node()}" timestamp="{began.isoformat()}"'
    root, report, regress = _junit(tmp_path / "stale", suite=here)
    for f in [root / "fakeref.py", *(root / "tests_fake").iterdir()]:
        os.utime(f, (began.timestamp() - 60,) * 2)  # written before the run began: its report stands
    assert regress().exit_code == 0
    os.utime(root / "fakeref.py", (began.timestamp() + 1,) * 2)  # the reference changed after the run began
    result = regress()
    assert result.exit_code == 2 and "before fakeref.py last changed" in " ".join(result.output.split())
    # no timestamp: when the report was written
    report.write_text(REPORT.format(suite=f' hostname="{platform.node()}"', other=""))
    os.utime(report, (began.timestamp(),) * 2)
    assert "before fakeref.py last changed" in " ".join(regress().output.split())
    report.write_text(REPORT.format(suite="", other=""))  # no machine named: no pytest run wrote it
    assert "it names no machine (no hostname)" in " ".join(regress().output.split())
    ahead = (began + dt.timedelta(days=365)).isoformat()  # a run that has not begun yet
    report.write_text(REPORT.format(suite=f' hostname="{platform.node()}" timestamp="{ahead}"', other=""))
    assert "which has not come yet" in " ".join(regress().output.split())

    root, report, regress = _junit(tmp_path / "other")
    report.write_text(REPORT.format(suite=f' hostname="{platform.node()}"', other="").replace("tests_fake.test_ok",
                                                                                          "elsewhere.test_ok"))
    result = regress()
    assert result.exit_code == 2 and "holds none of the 1 test(s) the jobs name" in " ".join(result.output.split())
    assert not (root / ".dossier" / "results").exists()


def test_a_cpu_run_skips_a_jobs_gpu_tests_and_does_not_call_them_missing(tmp_path):
    """`regress 19321 --device cpu` failed: its six `gpu` test ids were deselected (`-m "not gpu"`), and each then
    read as 'no test of the run matched this id'. They are skipped now, as CI's report has them."""
    gpu_test = "tests_fake/test_gpu.py::test_big"
    ref = {"reference": "fakeref", "tests": ["tests_fake/test_ok.py::test_other", gpu_test], "bench": "fakeref"}
    root = write_project(tmp_path, [make_card(100, runtime=ref)])
    (root / "fakeref.py").write_text('"""A stand-in reference module."""\n')
    (root / "tests_fake").mkdir()
    (root / "tests_fake" / "test_ok.py").write_text(FAKE_TEST.replace("{outcome}", "True"))
    (root / "tests_fake" / "test_gpu.py").write_text("import pytest\n\n\n@pytest.mark.gpu\ndef test_big():\n"
                                                     "    raise AssertionError('ran a gpu test on the CPU')\n")
    result = runner.invoke(app, ["regress", "100", "--device", "cpu", "--root", str(root)])
    assert result.exit_code == 0, result.output
    doc = json.loads((root / ".dossier" / "results" / "cpu" / "100.json").read_text())
    assert doc["ok"] and (doc["passed"], doc["failed"], doc["skipped"]) == (1, 0, 1)
    [skipped] = [t for t in doc["tests"] if t["outcome"] == "skipped"]
    assert skipped["id"] == gpu_test
