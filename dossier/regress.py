"""`dossier regress`: run each card's runtime tests and benchmark, store results for render.

A job is a card with a runnable reference. Tests run through pytest in a subprocess (CPU: under
TRITON_INTERPRET=1 and without `gpu`-marked tests; CUDA: everything, at real sizes); the benchmark runs
only on CUDA (`python -m <bench> --json FILE`), once per module per run however many cards share it.
Results land in ``<results>/<device>/<pr>.json``; render reads ``results/cuda/``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import platform
import posixpath
import re
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from dossier.errors import DossierError
from dossier.files import MAX_FILE_BYTES, read_bytes, write_atomic
from dossier.invisible import first_hidden
from dossier.json_out import dumps
from dossier.model import Card
from dossier.python_modules import module_exists
from dossier.spec import is_day

DEVICES = ("auto", "cuda", "cpu")
PARITY_PREFIX = "parity:"


class RegressError(DossierError):
    """The run cannot start (no CUDA when asked for it, no such card): exit 2."""


@dataclass(frozen=True)
class Job:
    pr: int
    reference: str
    tests: tuple[str, ...]
    bench: str

    @classmethod
    def of(cls, card: Card) -> Job:
        return cls(card.pr, card.runtime.reference, card.runtime.tests, card.runtime.bench)


def jobs_for(cards: list[Card]) -> list[Job]:
    return [Job.of(c) for c in cards if c.runtime.reference]


def matrix(jobs: list[Job]) -> str:
    """The jobs as JSON for a CI matrix (`include` entries)."""
    return dumps({"include": [asdict(j) | {"tests": list(j.tests)} for j in jobs]}, indent=2)


def non_finite(value: object, path: str = "") -> tuple[str, str] | None:
    """The first number standard JSON cannot hold in ``value`` (NaN or an infinity, which Python's json reads and
    writes): its path (``rows[1].us``) and how Python's json writes it; None when there is none. A document
    runtime.benchkit wrote lists such values (written as null) under ``not_finite``: the first of those."""
    if isinstance(value, float) and not math.isfinite(value):
        return path, "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if not path and isinstance(value, dict) and isinstance(value.get("not_finite"), dict) and value["not_finite"]:
        where, written = next(iter(value["not_finite"].items()))
        return str(where), str(written)
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = non_finite(item, f"{path}[{key}]" if isinstance(key, int) else f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def _python(code: str, root: Path, env: dict) -> str:
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                         errors="replace", timeout=120)
    if out.returncode != 0:
        raise RegressError(f"python failed: {out.stderr.strip().splitlines()[-1] if out.stderr else out.returncode}")
    return out.stdout


def resolve_device(choice: str, root: Path) -> str:
    if choice == "cpu":
        return "cpu"  # whatever torch sees: nothing to ask it (a subprocess importing torch)
    has_cuda = _python("import torch; print(torch.cuda.is_available())", root, dict(os.environ)).strip() == "True"
    if choice == "cuda" and not has_cuda:
        raise RegressError("--device cuda: torch sees no CUDA device here")
    return "cuda" if choice == "cuda" or (choice == "auto" and has_cuda) else "cpu"


def _run(cmd: list[str], root: Path, env: dict,
         on_line: Callable[[str], None] | None = None) -> subprocess.CompletedProcess:
    """``cmd``'s output, run in a process group of its own that is killed whole when this command is interrupted
    (Ctrl-C, SIGTERM): what it started, xdist's workers or a test's own child, would otherwise run on, orphaned,
    on a GPU job holding the device. Ctrl-C on a terminal reaches it through this process only. With ``on_line``,
    stderr joins stdout and each line goes to it as it comes (a run of minutes shows its progress)."""
    with subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE if on_line is None else subprocess.STDOUT, text=True,
                          errors="replace", start_new_session=True) as proc:  # a test may print any bytes
        try:
            if on_line is None:
                out, err = proc.communicate()
            else:
                lines = []
                for line in proc.stdout:
                    lines.append(line)
                    on_line(line)
                out, err = "".join(lines), ""
                proc.wait()
        except BaseException:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # before the leader is reaped: its id is still the group's
            except ProcessLookupError:
                pass
            raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _env(device: str) -> dict:
    env = dict(os.environ)
    if device == "cpu":
        env["TRITON_INTERPRET"] = "1"
        env["CUDA_VISIBLE_DEVICES"] = ""
    else:
        env.pop("TRITON_INTERPRET", None)
    return env


def device_facts(device: str, root: Path) -> dict:
    """Device name, driver and library versions, read in the environment the tests run in."""
    code = "import json; from runtime.benchkit import device_info; print(json.dumps(device_info()))"
    return json.loads(_python(code, root, _env(device)))


def _sort_out(job: Job, root: Path) -> tuple[list[dict], list[str]]:
    """Error records for the job's node ids that do not exist, and the node ids that do."""
    from dossier.lint.links import missing_test

    records, runnable = [], []
    for node in job.tests:
        try:
            why = missing_test(node, root)
        except (SyntaxError, ValueError, OSError):  # a file that does not parse: pytest says why
            why = None
        if why:
            records.append(_error(node, f"not run: {why}"))
        else:
            runnable.append(node)
    return records, runnable


def _error(node: str, message: str) -> dict:
    return {"id": node, "outcome": "error", "seconds": 0.0, "parity": {}, "message": message}


def _pytest(nodes: list[str], device: str, root: Path, *extra: str,
            on_progress: Callable[[int], None] | None = None) -> tuple[list[tuple[str, str, dict]], str | None]:
    """Run ``nodes`` in one pytest process: (JUnit classname, name, record) per test, and why the process did not
    run to its end (None: it did; see :func:`_unfinished`). ``on_progress`` gets the percentage of the tests run each
    time pytest prints it."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *extra, *nodes]
        if device == "cpu":  # skipped, not deselected: a job's gpu test ids stay in the report
            cmd += ["-p", "dossier.gpu_skip_plugin"]
        proc = _run(cmd, root, _env(device), None if on_progress is None else
                    lambda line: (m := _PERCENT.search(line)) and on_progress(int(m[1])))
        cases = _junit_cases(report.read_text(encoding="utf-8")) if report.is_file() else None
    tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-5:])
    return cases or [], _unfinished(proc.returncode, tail, cases)


#: the end of a line of pytest's progress: "....F... [ 48%]"
_PERCENT = re.compile(r"\[\s*(\d{1,3})%\]\s*$")

#: pytest's exit codes for a run that did not get through its tests
_STOPPED = {2: "interrupted", 3: "internal error", 4: "usage error"}


def _unfinished(returncode: int, tail: str, cases: list | None) -> str | None:
    """Why (an error message) for a pytest process that did not run to its end: it stopped early (a KeyboardInterrupt
    or pytest.exit in a test, a signal), wrote no report, ran nothing and failed, or reported an internal error (the
    case pytest names pytest.internal: pytest-xdist, sending a failure whose message names a file that is not UTF-8,
    loses that test and exits 0). The tests it never reached are unknown, so the tests it did run cannot make the
    job ok."""
    if any((c, n) == ("pytest", "internal") for c, n, _ in cases or ()):
        return "pytest reported an internal error, so tests may be missing from its report" + (f": {tail}" if tail else "")
    if returncode in _STOPPED or returncode < 0:
        why = f"pytest exited {returncode} ({_STOPPED.get(returncode) or f'killed by signal {-returncode}'})"
    elif cases is None:
        why = f"pytest wrote no report (exit {returncode})"
    elif not cases and returncode not in (0, 5):  # nothing ran, and not because every test was deselected
        why = f"pytest exited {returncode}"
    else:
        return None
    return f"{why}: {tail}" if tail else why


def run_tests(job: Job, device: str, root: Path) -> list[dict]:
    """Run the job's pytest node ids; one record per test: id, outcome, seconds, parity values. A node id that
    does not exist is an error record naming why, and the others still run (pytest alone would run none)."""
    records, runnable = _sort_out(job, root)
    if not runnable:
        return records
    cases, stopped = _pytest(runnable, device, root)
    return records + [r for _, _, r in cases] + ([_error(" ".join(runnable), stopped)] if stopped else [])


def run_tests_together(jobs: list[Job], device: str, root: Path,
                       on_progress: Callable[[int], None] | None = None) -> dict[int, list[dict]]:
    """:func:`run_tests` for every job, by PR, from one pytest process that runs each distinct node id once
    (``on_progress``: see :func:`_pytest`).

    Cards share tests (a decode test backs four of them), and each process pays the torch import again; on
    CUDA a kernel that faults poisons the process for every later test, so there each job keeps its own.
    A file that fails to collect fails the jobs that name it; the others still run."""
    sorted_out = {job.pr: _sort_out(job, root) for job in jobs}
    nodes = list(dict.fromkeys(n for _, runnable in sorted_out.values() for n in runnable))
    cases, stopped = _pytest(nodes, device, root, "--continue-on-collection-errors",
                             on_progress=on_progress) if nodes else ([], None)
    out = {}
    for job in jobs:
        records, runnable = sorted_out[job.pr]
        if runnable:
            records = records + [r for classname, name, r in cases if any(_covers(n, classname, name) for n in runnable)]
            records += [_error(" ".join(runnable), stopped)] if stopped else []
            records += [_error(n, "no test of the run matched this id (pytest ran it under another name?)")
                        for n in runnable if not stopped and not any(_covers(n, c, name) for c, name, _ in cases)]
        out[job.pr] = records
    return out


#: the reason tests/conftest.py skips a `gpu` test on a machine without CUDA
NO_CUDA = "needs CUDA"


def tests_from_report(jobs: list[Job], path: Path, root: Path, device: str = "cpu") -> dict[int, list[dict]]:
    """:func:`run_tests_together` without running a test: every job's records from the JUnit report (``--junitxml``)
    of a pytest run on this machine that ran the suite already (CI's; on CUDA, one run of the GPU suite instead of a
    process per job). A node id the report holds no case of is the job's error, as is a report with pytest's internal
    error; `gpu` tests there are records skipped on CPU, and on CUDA errors (that run had no GPU).
    A report that is not one of these tests as they are now is refused (RegressError): written on another machine,
    by a run that began before one of the jobs' test or reference files last changed, or holding none of their tests."""
    try:
        text = read_bytes(path).decode(errors="replace")
        tree, cases = ET.fromstring(text), _junit_cases(text)
    except (OSError, ET.ParseError) as exc:
        raise RegressError(f"--junit {path}: not a readable JUnit report ({exc})") from None
    sorted_out = {job.pr: _sort_out(job, root) for job in jobs}
    nodes = {n for _, runnable in sorted_out.values() for n in runnable}
    why = _foreign([tree] if tree.tag == "testsuite" else tree.findall("testsuite"), path, jobs, root)
    if not why and nodes and not any(_covers(n, c, name) for n in nodes for c, name, _ in cases):
        why = f"it holds none of the {len(nodes)} test(s) the jobs name (a report of other tests?)"
    if why:
        raise RegressError(f"--junit {path}: {why}; run the tests again with --junitxml")
    stopped = _unfinished(0, "", cases)
    out = {}
    for job in jobs:
        records, runnable = sorted_out[job.pr]
        records += [r for classname, name, r in cases if any(_covers(n, classname, name) for n in runnable)]
        records += [_error(n, f"not run: {path} holds no test of it") for n in runnable
                    if not any(_covers(n, classname, name) for classname, name, _ in cases)]
        if device == "cuda":
            records = [_error(r["id"], f"skipped in {path}'s run ({NO_CUDA}): not a run on this GPU")
                       if r["outcome"] == "skipped" and r.get("message") == NO_CUDA else r for r in records]
        out[job.pr] = records + ([_error(" ".join(runnable), stopped)] if stopped and runnable else [])
    return out


#: how far ahead of this clock a report's start may be (two clocks of one machine, a file system's rounding)
FUTURE_SLACK_S = 300


def _foreign(suites: list[ET.Element], path: Path, jobs: list[Job], root: Path) -> str:
    """Why a JUnit report cannot stand for a run of the jobs' tests here and now ("" when it can): pytest wrote it on
    another machine (its ``hostname``), or its run began (``timestamp``; without one, when the file was written)
    before a Python file under the top folders of the jobs' tests and references last changed."""
    hosts = {s.get("hostname") for s in suites} - {None}
    if not hosts:  # pytest names the machine in every report it writes
        return "it names no machine (no hostname): pytest writes one, so this report was not written by a pytest run"
    if hosts - {platform.node()}:
        return f"written on {', '.join(sorted(hosts))}, not on this machine ({platform.node()})"
    stamps = [s.get("timestamp") for s in suites if s.get("timestamp")]
    try:
        began = min(dt.datetime.fromisoformat(t).timestamp() for t in stamps)
    except ValueError:
        began = path.stat().st_mtime
    try:
        dt.datetime.fromtimestamp(began)  # a time this machine's clock can name (years 1 to 9999 in its zone)
    except (ValueError, OverflowError, OSError):
        return f"its run began at {min(stamps)!r}, which is no time a pytest run writes (an edited report)"
    if began > time.time() + FUTURE_SLACK_S:
        return (f"its run began {dt.datetime.fromtimestamp(began).isoformat(timespec='seconds')}, which has not come "
                "yet (a clock that is wrong, or an edited report)")
    tops = {n.partition("::")[0].split("/")[0] for job in jobs for n in job.tests}
    tops |= {job.reference.split(".")[0] for job in jobs}
    files = [f for top in sorted(tops) for f in ([root / f"{top}.py"] if (root / f"{top}.py").is_file()
                                                 else (root / top).rglob("*.py") if (root / top).is_dir() else [])]
    changed = max(files, key=lambda f: f.stat().st_mtime, default=None)
    if changed is not None and changed.stat().st_mtime > began:
        when = dt.datetime.fromtimestamp(began).isoformat(timespec="seconds")
        return f"its run began {when}, before {changed.relative_to(root)} last changed"
    return ""


def _covers(node: str, classname: str, name: str) -> bool:
    """Whether the JUnit test case (``classname``, ``name``) is one the node id ``path::[Class::]func`` selects
    (pytest's JUnit address: the file as a dotted module, then the classes; a failed collection of the file is
    the case named by the dotted module alone)."""
    file, _, rest = node.partition("::")
    module = posixpath.normpath(file).removesuffix(".py").replace("/", ".")  # ./x, a//b, dir/: as pytest names them
    if classname == "" and name == module:
        return True
    names = rest.split("::") if rest else []
    scope = ".".join([module, *names])
    if classname == scope or classname.startswith(scope + "."):  # the node is a file or a class
        return True
    return bool(names) and classname == ".".join([module, *names[:-1]]) and (
        name == names[-1] or name.startswith(names[-1] + "["))


def failures(result: dict) -> list[str]:
    """One line per failed or erroring test of a job's result: its id and the first line of why."""
    out = []
    for t in result["tests"]:
        if t["outcome"] in ("failed", "error"):
            why = (t.get("message") or "").strip()
            out.append(f"{t['id']}: {why.splitlines()[0] if why else t['outcome']}")
    return out


def parse_junit(xml_text: str) -> list[dict]:
    """Test records from a pytest JUnit report, with `parity:<name>` properties as {name: {err, tol}}."""
    return [record for _, _, record in _junit_cases(xml_text)]


def _junit_path(classname: str) -> str:
    """A JUnit classname (``tests.runtime.gdn.test_x.TestA``) as a node id's path and classes
    (``tests/runtime/gdn/test_x.py::TestA``): a part that starts with ``Test`` after the module is a class."""
    parts = classname.split(".")
    cut = next((i for i, part in enumerate(parts) if i and part.startswith("Test") and parts[i - 1].startswith("test")),
               len(parts))
    return "/".join(parts[:cut]) + ".py" + "".join(f"::{c}" for c in parts[cut:])


def _junit_cases(xml_text: str) -> list[tuple[str, str, dict]]:
    cases = []
    for case in ET.fromstring(xml_text).iter("testcase"):
        classname, name = case.get("classname", ""), case.get("name", "")
        module = _junit_path(classname)
        # pytest writes a body's skip and a fixture's failed teardown into one case: the worst outcome
        # stands (a skip never hides an error), and every element's message is kept
        found = [(tag, el) for tag in ("failure", "error", "skipped") for el in case.findall(tag)]
        outcome = {"failure": "failed", "error": "error", "skipped": "skipped"}[found[0][0]] if found else "passed"
        message = "; ".join(m for _, el in found if (m := el.get("message") or ""))[:300] or None
        parity = {}
        for prop in case.iter("property"):
            prop_name = prop.get("name", "")
            if prop_name.startswith(PARITY_PREFIX):
                check, why = _parity(prop.get("value", ""))
                if why:  # no parity shown: a NaN error compares below every tolerance
                    said = f"{prop_name} = {prop.get('value', '')[:60]!r}: {why}"
                    outcome, message = "error", f"{said}; {message}" if message else said
                else:  # a check called in a loop (each rank, each output) records its name once a call: the worst
                    key = prop_name[len(PARITY_PREFIX):]  # stands, as across cases (the last hid a rank 2x worse)
                    if key not in parity or _worse(check, parity[key]):
                        parity[key] = check
        record = {"id": f"{module}::{name}", "outcome": outcome,
                  "seconds": _seconds(case.get("time")), "parity": parity}
        if message:
            record["message"] = message
        cases.append((classname, name, record))
    return _one_per_test(cases)


#: which outcome of a test's two cases stands (the order one case's elements are read in, _junit_cases)
_RANK = ("failed", "error", "skipped", "passed")


def _one_per_test(cases: list[tuple[str, str, dict]]) -> list[tuple[str, str, dict]]:
    """One case per test: pytest (with or without xdist) writes a test whose body failed and whose fixture then
    failed its teardown as two <testcase>s of the same name, a failure and an error, and counting both made one test
    two failures ("1 passed, 2 failed" for two tests). The worst outcome stands, both messages stay, the worst
    value of each parity check and the time of both."""
    merged: dict[tuple[str, str], tuple[str, str, dict]] = {}
    for classname, name, record in cases:
        if (classname, name) not in merged:
            merged[classname, name] = (classname, name, record)
            continue
        first = merged[classname, name][2]
        first["outcome"] = min(first["outcome"], record["outcome"], key=_RANK.index)
        first["seconds"] = round(first["seconds"] + record["seconds"], 3)
        for key, check in record["parity"].items():
            if key not in first["parity"] or _worse(check, first["parity"][key]):
                first["parity"][key] = check
        if message := "; ".join(m for m in (first.get("message"), record.get("message")) if m)[:300]:
            first["message"] = message
    return list(merged.values())


def _seconds(value: str | None) -> float:
    """A JUnit case's time, 0.0 when it is none a result can hold."""
    try:
        seconds = float(value or 0)
    except ValueError:
        return 0.0
    return round(seconds, 3) if math.isfinite(seconds) else 0.0


def _parity(value: str) -> tuple[dict, str]:
    """A ``parity:<name>`` property's "ERR/TOL" as {err, tol}, or why it is no parity check ("" when it is)."""
    err, _, tol = value.partition("/")
    try:
        check = {"err": float(err), "tol": float(tol)}
    except ValueError:
        return {}, "not ERR/TOL, two numbers"
    bad = non_finite(check)
    if bad:
        return {}, f"the {'error' if bad[0] == 'err' else 'tolerance'} is {bad[1]}"
    return ({}, why) if (why := _out_of_range(check)) else (check, "")


def _out_of_range(check: dict) -> str:
    """Why a parity check's numbers are none a check can have ("" when they are)."""
    if check["tol"] <= 0:
        return f"the tolerance is {check['tol']:g}, not above 0"
    if check["err"] < 0:
        return f"the error is {check['err']:g}, below 0"
    return ""


def _worse(check: dict, than: dict) -> bool:
    """Whether parity ``check`` is further from its tolerance than ``than`` (both {err, tol}, tol above 0)."""
    return check["err"] / check["tol"] > than["err"] / than["tol"]


def _a_check(check: object) -> bool:
    """Whether ``check`` is a stored parity check: {err, tol}, numbers a float holds, err 0 or more, tol above 0."""
    numbers = isinstance(check, dict) and all(
        isinstance(v := check.get(k), int | float) and not isinstance(v, bool) and abs(v) <= sys.float_info.max
        for k in ("err", "tol"))
    return numbers and not _out_of_range(check)


def _over_tolerance(parity: dict) -> dict:
    return {n: v for n, v in parity.items() if v["err"] > v["tol"]}


def _passes(passed: int, failed: int, parity: dict, bench: dict) -> bool:
    """A job's verdict: no test failed, every parity check within its tolerance, some test passed, and the
    benchmark ran."""
    return not failed and not _over_tolerance(parity) and passed > 0 and "error" not in bench


def _cannot_hold(found: tuple[str, str]) -> str:
    return f"{found[0]} is {found[1]}, not a number JSON can hold"


def run_bench(module: str, device: str, root: Path) -> dict:
    """The benchmark's JSON document (CUDA only)."""
    if device != "cuda":
        return {"module": module, "skipped": "benchmarks run on CUDA only"}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        proc = _run([sys.executable, "-m", module, "--json", str(out)], root, _env(device))
        if proc.returncode != 0 or not out.is_file():
            tail = (proc.stdout + proc.stderr).strip().splitlines()[-5:]
            return {"module": module, "error": "\n".join(tail)}
        try:
            doc = json.loads(out.read_text(encoding="utf-8"))
        except (ValueError, RecursionError) as exc:
            return {"module": module, "error": f"its --json document is not valid JSON ({str(exc)[:80]})"}
    if not isinstance(doc, dict):
        return {"module": module, "error": "its --json document is not a JSON object"}
    found = non_finite(doc)
    if found:
        return {"module": module, "error": f"its --json document: {_cannot_hold(found)}: the benchmark measured "
                                           "nothing there"}
    return {"module": module, **doc}


def reuse_bench(module: str, path: Path, facts: dict) -> dict:
    """A benchmark document the module wrote earlier (``--json``), in place of running it again.

    It must come from the device this run is on: a bench from another GPU would be recorded as this one's.
    """
    try:
        with open(path, "rb") as fh:  # `<(cat b.json)` too; /dev/zero or an endless pipe stops at the bound
            raw = fh.read(MAX_FILE_BYTES + 1)
        if len(raw) > MAX_FILE_BYTES:
            raise RegressError(f"--bench-json {module}={path}: holds more than {MAX_FILE_BYTES >> 20} MiB, more than "
                               "any benchmark's document")
        doc = json.loads(raw)
    except (OSError, ValueError, RecursionError) as exc:
        raise RegressError(f"--bench-json {module}={path}: not a readable JSON document ({exc})") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("device"), dict):
        raise RegressError(f"--bench-json {module}={path}: no 'device' in it (not written by a benchmark's --json)")
    lane = doc.get("lane")
    if not isinstance(lane, str) or lane not in module.split("."):  # runtime.gdn.bench writes lane "gdn"
        by = f"the {lane!r} benchmark" if isinstance(lane, str) else "no benchmark's --json (it names no lane)"
        raise RegressError(f"--bench-json {module}={path}: written by {by}, not by {module}")
    if not isinstance(doc.get("rows"), list):
        raise RegressError(f"--bench-json {module}={path}: rows must be a list")
    found = non_finite(doc)
    if found:
        raise RegressError(f"--bench-json {module}={path}: {_cannot_hold(found)}: the benchmark measured nothing "
                           "there; run it again")
    if doc["device"].get("name") != facts.get("name"):
        raise RegressError(f"--bench-json {module}={path}: measured on {doc['device'].get('name')}, "
                           f"this run is on {facts.get('name')}")
    return {"module": module, **doc, "reused_from": str(path)}


def run_job(job: Job, device: str, root: Path, facts: dict, benches: dict[str, dict],
            tests: list[dict] | None = None) -> dict:
    """Run one card's job; ``benches`` caches benchmark documents by module across jobs; ``tests``: its test
    records when they ran already (:func:`run_tests_together`)."""
    tests = run_tests(job, device, root) if tests is None else tests
    missing = [m for m in (job.reference, job.bench) if m and not module_exists(m, root)]
    if missing:  # the CPU runs no benchmark, and a test can pass without importing the reference
        bench = {"module": job.bench, "error": f"no such module: {', '.join(missing)} (lint D508 names it)"}
    else:
        if job.bench not in benches:
            benches[job.bench] = run_bench(job.bench, device, root)
        bench = benches[job.bench]
    parity: dict[str, dict] = {}  # the worst value of each named check across its parametrized cases
    for t in tests:
        for name, v in t["parity"].items():
            if name not in parity or _worse(v, parity[name]):
                parity[name] = v
    over = _over_tolerance(parity)
    failed = [t for t in tests if t["outcome"] in ("failed", "error")]
    passed = [t for t in tests if t["outcome"] == "passed"]
    ok = _passes(len(passed), len(failed), parity, bench)
    return {
        "pr": job.pr,
        "device_kind": device,
        "device": facts,
        "date": dt.date.today().isoformat(),
        "ok": ok,
        "tests": tests,
        "passed": len(passed),
        "failed": len(failed),
        "skipped": sum(t["outcome"] == "skipped" for t in tests),
        "parity": parity,
        "parity_over_tolerance": sorted(over),
        "bench": bench,
    }


def default_results(root: Path, device: str) -> Path:
    """Where results go by default: results/ (committed, read by render) for CUDA; CPU runs are only a check,
    so they stay in the untracked .dossier/results/."""
    return root / "results" if device == "cuda" else root / ".dossier" / "results"


def write_result(results_dir: Path, result: dict) -> Path:
    path = results_dir / result["device_kind"] / f"{result['pr']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, dumps(result, indent=2, sort_keys=True, allow_nan=False) + "\n")


def read_result(results_dir: Path, pr: int, device: str = "cuda", bench: str | None = None) -> dict | None:
    """A card's stored result (None: none stored); raises RegressError when the file cannot be read or is
    not a result document of this card (of its benchmark ``bench``, when given), so that render never shows "no
    GPU result" for a result it failed to read, nor another card's run as this one's."""
    path = results_dir / device / f"{pr}.json"
    if not os.path.lexists(path):  # a link that leads nowhere is a result that cannot be read, not none
        return None
    try:
        doc = json.loads(read_bytes(path))
    except (OSError, ValueError, RecursionError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not valid JSON" if isinstance(exc, ValueError) \
            else "nested too deeply"
        raise RegressError(f"{path}: cannot be read ({why}); restore it from git or run "
                           f"`dossier regress {pr} --device {device}` again") from None
    why = _not_a_result(doc, pr, device, bench)
    if why:
        raise RegressError(f"{path}: {why}; restore it from git or run `dossier regress {pr} --device {device}` again")
    return doc


def _plain_line(text: str) -> bool:
    """Whether ``text`` shows as written on one line: no line break, nor a character a reader cannot see (a control
    code, a bidi override: a benchmark that prints coloured output would carry its escape codes into the manual)."""
    return "\n" not in text and "\r" not in text and first_hidden(text) is None


def _not_a_result(doc: object, pr: int, device: str, bench: str | None) -> str:
    """Why ``doc`` is not the stored result of card ``pr`` on ``device`` (of benchmark ``bench``) as render reads
    it ("" when it is): a result copied from another card, or a field of another kind, would be shown as this
    card's run."""
    if not isinstance(doc, dict) or not {"pr", "device", "date", "ok", "passed", "failed", "parity", "bench"} <= set(doc):
        return "not a result of `dossier regress` (fields missing)"
    kinds = [("pr", int, "a whole number"), ("device", dict, "a mapping"), ("bench", dict, "a mapping"),
             ("parity", dict, "a mapping"), ("date", str, "text"), ("ok", bool, "true or false"),
             ("passed", int, "a whole number"), ("failed", int, "a whole number")]
    for name, kind, words in kinds:
        if not isinstance(doc[name], kind) or (kind is int and isinstance(doc[name], bool)):
            return f"{name} must be {words}"
    if doc["passed"] < 0 or doc["failed"] < 0:
        return "passed and failed must be counts of tests (0 and up)"
    found = non_finite(doc)
    if found:
        return _cannot_hold(found)
    name = doc["device"].get("name")
    if not isinstance(name, str) or not name.strip() or not name.isprintable() or "|" in name:
        return "device.name must be the GPU's name on one line (the manual shows it: 'reproduced on ?' without it)"
    for key, date in (("date", doc["date"]), ("bench.date", doc["bench"].get("date", doc["date"]))):
        if not is_day(date):
            return f"{key} must be the day of the run, YYYY-MM-DD (the manual shows it)"
    # benchmark numbers "measured" after the run that took them over
    if doc["bench"].get("date", doc["date"]) > doc["date"]:
        return f"bench.date {doc['bench']['date']} is after the run's date {doc['date']}: a run reuses earlier numbers"
    if doc["pr"] != pr:
        return f"the result of #{doc['pr']}, not of #{pr}"
    if doc.get("device_kind", device) != device:
        return f"a {doc['device_kind']} run, not a {device} one"
    for name, check in doc["parity"].items():
        if not _plain_line(name):
            return "each parity name must be plain text on one line (the manual shows it)"
        for key in ("err", "tol"):
            value = check.get(key) if isinstance(check, dict) else None
            if not isinstance(value, int | float) or isinstance(value, bool):
                return f"parity.{name}.{key} must be a number"
            if abs(value) > sys.float_info.max:  # a whole number no float holds: the manual prints it as one
                return f"parity.{name}.{key} is beyond any float"
        if why := _out_of_range(check):
            return f"parity.{name}: {why}"
    if why := _counts_contradicted(doc):
        return why
    if doc["ok"] != _passes(doc["passed"], doc["failed"], doc["parity"], doc["bench"]):
        # an `ok` the run's own counts and parity contradict: the manual would say "reproduced" over a failure
        return (f"ok is {str(doc['ok']).lower()}, but its {doc['passed']} passed, {doc['failed']} failed, parity "
                "and benchmark say otherwise")
    if bench is not None and doc["bench"].get("module") != bench:
        return f"measured {doc['bench'].get('module')}; the card's benchmark is {bench}"
    summary = doc["bench"].get("summary")
    if summary is not None and not (isinstance(summary, list) and all(isinstance(x, str) for x in summary)):
        return "bench.summary must be a list of texts"
    if summary and any("](" in x or not _plain_line(x) or re.search(r"<[A-Za-z/!]", x) for x in summary):
        return "bench.summary must be plain lines of text (the manual shows them as written: no link, tag or line break)"
    return ""


#: the outcomes a test record of a result holds (run_job counts "error" as failed)
_OUTCOMES = ("passed", "failed", "error", "skipped")


def _counts_contradicted(doc: dict) -> str:
    """Why a result's own records contradict the counts and device the manual shows ("" when they agree): its
    `tests` records give other passed/failed counts (the manual said "194/194 passed ... reproduced" over two
    failed records), or its benchmark names another GPU than the run (reuse_bench refuses that when writing; a copied
    or hand-merged result showed an H100's numbers as the H200 run's)."""
    tests = doc.get("tests")
    if tests is not None:
        if not isinstance(tests, list) or not all(isinstance(t, dict) and t.get("outcome") in _OUTCOMES
                                                  for t in tests):
            return f"tests must be a list of test records, each with an outcome ({', '.join(_OUTCOMES)})"
        passed = sum(t["outcome"] == "passed" for t in tests)
        failed = sum(t["outcome"] in ("failed", "error") for t in tests)
        if (passed, failed) != (doc["passed"], doc["failed"]):
            return (f"passed {doc['passed']} and failed {doc['failed']}, but its tests records hold {passed} passed "
                    f"and {failed} failed")
        worst: dict[str, dict] = {}  # the run's parity is the worst each record holds of each check (run_job)
        for t in tests:
            held = t.get("parity") or {}
            if not isinstance(held, dict) or not all(map(_a_check, held.values())):
                return f"tests record {str(t.get('id'))[:80]!r}: parity must map each check to its err and tol"
            for name, check in held.items():
                if name not in worst or _worse(check, worst[name]):
                    worst[name] = check
        if odd := next((n for n, check in worst.items() if doc["parity"].get(n) != check), None):
            # a lowered error, or a check dropped: the manual's "parity max rel err" is read from the run's parity
            said = doc["parity"].get(odd)
            shown = f"err {said['err']:.3e}, tol {said['tol']:.1e}" if said else "missing"
            return (f"parity.{str(odd)[:60]} is {shown}, but its tests records hold err {worst[odd]['err']:.3e}, tol "
                    f"{worst[odd]['tol']:.1e} at worst")
    bench_device = doc["bench"].get("device")
    if isinstance(bench_device, dict) and bench_device.get("name") != doc["device"]["name"]:
        return (f"its benchmark was measured on {str(bench_device.get('name'))[:60]!r}, not on the run's "
                f"{doc['device']['name']!r}")
    return ""


@dataclass(frozen=True)
class GpuRun:
    """What the last CUDA run of a card's regression job measured (results/cuda/<pr>.json)."""

    device: str
    date: str
    ok: bool
    summary: tuple[str, ...]  # the benchmark's summary lines (shared by the cards of one benchmark)
    parity: str  # worst parity against its tolerance, or ""
    tests: str  # "passed/total"
    bench_date: str = ""  # when the benchmark's numbers were measured, where not in this run (--bench-json)

    @property
    def verdict(self) -> str:
        return "reproduced" if self.ok else "FAILED"


def gpu_runs(results_dir: Path, *, strict: bool = True) -> Callable[[Card], GpuRun | None]:
    """The last CUDA run per card with a runnable reference, or None when none has run. Never invents numbers.
    A stored result that cannot be read raises RegressError unless not ``strict`` (`dossier show`: None)."""

    def run(card: Card) -> GpuRun | None:
        try:
            result = read_result(results_dir, card.pr, bench=card.runtime.bench) if card.runtime.reference else None
        except RegressError:
            if strict:
                raise
            return None
        if result is None:
            return None
        parity = ""
        if result["parity"]:
            worst = max(result["parity"].items(), key=lambda kv: kv[1]["err"] / max(kv[1]["tol"], 1e-30))
            parity = f"parity max rel err {worst[1]['err']:.1e} ({worst[0]}, tol {worst[1]['tol']:.0e})"
        bench_date = result["bench"].get("date", "")
        return GpuRun(result["device"].get("name", "?"), result["date"], bool(result["ok"]),
                      tuple(result["bench"].get("summary") or ()), parity,
                      f"{result['passed']}/{result['passed'] + result['failed']}",
                      bench_date if bench_date != result["date"] else "")

    return run


def gpu_annotator(results_dir: Path) -> Callable[[Card], list[str]]:
    """`dossier show`'s line per card: what a real GPU run measured, that none has run, or that its stored result
    cannot be read (render refuses it; "none committed" would send the reader to run one again)."""
    runs = gpu_runs(results_dir)

    def note(card: Card) -> list[str]:
        if not card.runtime.reference:
            return []
        try:
            r = runs(card)
        except RegressError as exc:
            return [f"**GPU regression.** its stored result cannot be read: {exc}."]
        if r is None:
            return [f"**GPU regression.** no GPU result committed yet (`dossier regress {card.pr} --device cuda`)."]
        parts = [f"**GPU regression.** {r.verdict} on {r.device}, {r.date}"]
        if r.summary:
            measured = f" (benchmark measured {r.bench_date})" if r.bench_date else ""
            parts.append("; ".join(r.summary) + measured)
        if r.parity:
            parts.append(r.parity)
        parts.append(f"{r.tests} tests passed")
        return [": ".join(parts[:2]) + ("; " + "; ".join(parts[2:]) if len(parts) > 2 else "") + "."]

    return note
