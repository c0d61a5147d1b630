"""Every file dossier writes lands whole or not at all (dossier.files): an interrupt or a failure at any step
leaves the old file and no temp file; a kill that runs no Python leaves one that the next write removes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dossier import files
from dossier.cli import app
from tests.dossier.factories import DEAD_PID, make_card, write_project
from tests.dossier.yaml_support import load_yaml

REPO = Path(__file__).resolve().parents[2]


def _evidence(root: Path) -> Path:
    from dossier.evidence import write_section

    return write_section(root, "releases", {"built": {"0.5.1": "2025-08-23"}})


def _drift(root: Path) -> Path:
    from dossier.drift import write_lock
    from dossier.source_tree import SourceTree

    pkg = root / "site" / "sglang"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "version.py").write_text('__version__ = "0.0.1"\n')
    return write_lock(root, [], SourceTree.at(pkg))


def _opened(root: Path) -> Path:
    import datetime as dt

    from dossier.opened import OPENED_LOCK, Anchor, record_opened

    record_opened(root, {100: Anchor(100, dt.date(2026, 3, 1), "github created_at")})
    return root / OPENED_LOCK


def _surface(root: Path) -> Path:
    from dossier.surface_history import SurfaceHistory, write_history

    return write_history(root, SurfaceHistory(releases=["0.5.1", "0.5.2"]))


def _result(root: Path) -> Path:
    from dossier.regress import write_result

    return write_result(root / "results", {"device_kind": "cpu", "pr": 100, "ok": True})


def _card(root: Path) -> Path:
    from dossier.project import Project
    from dossier.scaffold import scaffold_card

    pr = next(n for n in range(555, 600) if not (root / "cards" / f"{n}.yaml").exists())  # a card is never replaced
    return scaffold_card(Project.load(root), pr, title="T", state="open", merged_at=None, lane="")


def _schema(root: Path) -> Path:
    result = CliRunner().invoke(app, ["schema", "-o", str(root / "card.schema.json")])
    if result.exit_code == 130:  # the CLI's Ctrl-C: one line, exit 130
        raise KeyboardInterrupt
    assert result.exit_code == 0, result.output
    return root / "card.schema.json"


WRITERS = {"evidence.lock": _evidence, "drift.lock": _drift, "opened.lock": _opened, "surface.lock": _surface,
           "regress result": _result, "new card": _card, "schema -o": _schema}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_project(tmp_path / "p", [make_card(100)])


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def _interrupt(monkeypatch, where: str) -> None:
    """Ctrl-C while the bytes are written (the flush to disk) or while the file is renamed (or, for a card that
    must not replace one, linked) into place."""
    def stop(*args, **kw):
        raise KeyboardInterrupt

    for name in ("fsync",) if where == "write" else ("replace", "link"):
        monkeypatch.setattr(os, name, stop)


@pytest.mark.parametrize("where", ["write", "rename"])
@pytest.mark.parametrize("writer", WRITERS.values(), ids=WRITERS.keys())
def test_an_interrupted_write_leaves_the_old_file_and_no_temp_file(root, monkeypatch, writer, where):
    target = writer(root)
    if writer is _card:  # the next card is interrupted
        target, before = target.with_name("556.yaml"), None
    else:
        before = target.read_bytes()
        assert stat.S_IMODE(target.stat().st_mode) == files.FILE_MODE  # not mkstemp's 0600
    _interrupt(monkeypatch, where)
    with pytest.raises(KeyboardInterrupt):
        writer(root)
    monkeypatch.undo()
    assert (target.read_bytes() if target.exists() else None) == before
    assert _temps(target.parent) == []


@pytest.mark.parametrize("writer", WRITERS.values(), ids=WRITERS.keys())
def test_the_leftovers_of_a_killed_writer_are_removed_by_the_next_write(root, writer):
    """kill -9 leaves a temp file: the next write of that file removes it (and `<name>.tmp`, the fixed name of
    older versions), but never a running writer's, another file's or a user's."""
    target = writer(root)
    if writer is _card:
        target.unlink()
    folder, name = target.parent, target.name
    dead, legacy = f".{name}.{DEAD_PID}.k1ll3d_x.tmp", f"{name}.tmp"
    live, other, users = f".{name}.{os.getpid()}.runn1ng_.tmp", f".x{name}.{DEAD_PID}.abcdefgh.tmp", "notes.tmp"
    for leftover in (dead, legacy, live, other, users):
        (folder / leftover).write_text("half a file")
    writer(root)
    assert _temps(folder) == sorted([live, other, users])


def test_a_write_that_fails_names_the_file_meant_not_its_temp_file(root, monkeypatch):
    def full(*args, **kw):
        raise OSError(28, "No space left on device")

    _drift(root)
    monkeypatch.setattr(os, "fsync", full)
    result = CliRunner().invoke(app, ["drift", "--record", "--sglang-src", str(root / "site" / "sglang"),
                                      "--root", str(root)])
    monkeypatch.undo()
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (f"error: {root / 'cards' / 'drift.lock'}: No space left on device "
                                              "(nothing was replaced: free space and run again)")
    assert _temps(root / "cards") == []


def test_two_renders_at_once_each_write_a_whole_manual(tmp_path, monkeypatch):
    """A second render that runs while the first is between staging and swapping (two terminals, a loop in CI):
    they shared one staging name, so the second removed or replaced the first's file and the first failed."""
    from dossier.render import write_documents

    write_documents({"a.md": "0\n", "b.md": "0\n"}, tmp_path)
    real, nested = os.replace, []

    def replace(src, dst):
        if not nested:
            nested.append("running")
            nested[0] = write_documents({"a.md": "second\n", "b.md": "second\n"}, tmp_path)
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    assert write_documents({"a.md": "first\n", "b.md": "first\n"}, tmp_path) == ["a.md", "b.md"]
    assert nested == [["a.md", "b.md"]]
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {"a.md": "first\n", "b.md": "first\n"}


def test_sigterm_mid_write_is_one_line_exit_143_and_the_file_is_kept(tmp_path):
    """`kill` (or a CI timeout) unwinds as Ctrl-C does: the temp file is removed, the old file kept."""
    out = tmp_path / "card.schema.json"
    out.write_text("old\n")
    code = ("import os, signal, sys\n"
            "def kill(*a):\n    os.kill(os.getpid(), signal.SIGTERM)\n"
            "os.replace = kill\n"
            f"sys.argv = ['dossier', 'schema', '-o', {str(out)!r}]\n"
            "from dossier.main import main\nmain()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert (proc.returncode, proc.stderr) == (143, "terminated\n")
    assert out.read_text() == "old\n" and _temps(tmp_path) == []


def test_releases_surface_record_interrupted_exits_130_and_keeps_the_lock(root, tmp_path, monkeypatch):
    from tests.dossier.release_support import write_release

    cache = tmp_path / "releases"
    for version, built in (("0.5.1", "2025-08-23"), ("0.5.2", "2025-09-11")):
        write_release(cache, version, built, {"srt/server_args.py": 'p.add_argument("--tp-size")\n'})
    lock = _surface(root)
    before = lock.read_bytes()
    _interrupt(monkeypatch, "rename")
    result = CliRunner().invoke(app, ["releases", "surface", "--record", "--cache-dir", str(cache),
                                      "--root", str(root)])
    monkeypatch.undo()
    assert result.exit_code == 130 and result.stderr.splitlines()[-1] == "interrupted"
    assert lock.read_bytes() == before and _temps(lock.parent) == []
    assert yaml.safe_load(before)["releases"] == ["0.5.1", "0.5.2"]


def test_read_bytes_refuses_pipes_devices_and_oversized_files_without_reading_them(tmp_path):
    fifo, zero, big, ok = tmp_path / "fifo", tmp_path / "zero", tmp_path / "big", tmp_path / "ok"
    os.mkfifo(fifo)  # opening it to read would wait for a writer, forever
    zero.symlink_to("/dev/zero")  # reading it would never end
    big.write_bytes(b"x" * 11)
    ok.write_bytes(b"x" * 10)
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    for path, kind in ((fifo, "a pipe"), (zero, "a device"), (folder, "a folder")):
        with pytest.raises(OSError, match=rf"not a regular file \({kind}\)") as err:
            files.read_bytes(path, 10)
        assert err.value.filename == str(path)
    with pytest.raises(OSError, match="larger than 10 bytes"):
        files.read_bytes(big, 10)
    assert files.read_bytes(ok, 10) == b"x" * 10


PIPES = """
import os, sys
from pathlib import Path
root = Path(sys.argv[1])
os.mkfifo(root / "cards" / "200.yaml")
(root / "cards" / "201.yaml").symlink_to("/dev/zero")
os.mkfifo(root / "cards" / "evidence.lock")
os.mkfifo(root / "cards" / "opened.lock")
(root / "results" / "cuda").mkdir(parents=True)
os.mkfifo(root / "results" / "cuda" / "100.json")
(root / "cache" / "100").mkdir(parents=True)
for name in ("meta.json", "pr.diff", "provenance.json"):
    os.mkfifo(root / "cache" / "100" / name)
(root / "rel" / "0.5.1").mkdir(parents=True)
(root / "rel" / "0.5.1" / "release.json").symlink_to("/dev/zero")

from dossier import opened, regress, releases
from dossier.sources.cache import Cache
assert Cache(root / "cache").get(100) is None  # unreadable: absent, fetched again
assert releases.load(root / "rel" / "0.5.1") is None
assert "not a regular file" in releases.incomplete(root / "rel")[0][1]
for read in (lambda: regress.read_result(root / "results", 100), lambda: opened._load(root)):
    try:
        read()
    except Exception as exc:
        assert "not a regular file" in str(exc), exc
    else:
        raise AssertionError("read a pipe")
sys.argv = ["dossier", "lint", "--root", str(root)]
from dossier.main import main
main()
"""


def test_a_pipe_or_device_in_place_of_a_project_file_is_reported_never_read(root):
    """A FIFO (or a symlink to /dev/zero) as a card, lock, stored result, cache entry or release record blocked
    the command forever (or filled memory until the kernel killed it)."""
    proc = subprocess.run([sys.executable, "-c", PIPES, str(root)], capture_output=True, text=True, cwd=REPO,
                          timeout=120)
    assert proc.returncode == 1, proc.stderr
    for name, kind in (("200.yaml:1:1: D100", "a pipe"), ("201.yaml:1:1: D100", "a device"),
                       ("evidence.lock:1:1: D311", "a pipe")):
        assert f"cards/{name} cannot read the file: not a regular file ({kind})" \
            in proc.stdout.replace("D311 cards/evidence.lock: ", "D311 "), proc.stdout


def test_two_recordings_of_evidence_lock_sections_at_once_keep_both(root, monkeypatch):
    """`lint --record` (cards section) and `releases verify --record` (releases section) at once: each read the
    other's section, then wrote the whole lock, so the one that wrote last dropped what the other recorded."""
    import threading
    import time

    from dossier import evidence

    real, other = evidence.lock_section, []

    def read(r, name):
        if not other:  # the first writer reads the releases section (none yet): the other records it now
            other.append(threading.Thread(target=evidence.write_section,
                                          args=(root, "releases", {"built": [["0.5.1", "2025-08-23"]], "cards": {}})))
            other[0].start()
            time.sleep(0.5)
        return real(r, name)

    monkeypatch.setattr(evidence, "lock_section", read)
    evidence.write_section(root, "cards", {100: {"file": "x.py"}})
    other[0].join(10)
    lock = load_yaml(evidence.lock_path(root).read_text())
    assert lock["cards"] == {100: {"file": "x.py"}} and lock["releases"]["built"] == [["0.5.1", "2025-08-23"]]


LOCK_WRITERS = {name: WRITERS[name] for name in ("evidence.lock", "drift.lock", "opened.lock", "surface.lock")}


@pytest.mark.parametrize("writer", LOCK_WRITERS.values(), ids=LOCK_WRITERS.keys())
def test_every_lock_recording_waits_while_another_process_records_in_cards(root, writer):
    """A lock under cards/ is recorded only while holding the folder lock (files.serialized): `drift --record`
    and `releases surface --record` wrote without it, so what they checked against the committed lock (the
    releases surface.lock must keep) could be replaced meanwhile by another recording."""
    import threading

    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDONLY); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.read()", str(root / "cards")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        done = []
        worker = threading.Thread(target=lambda: done.append(writer(root)))
        worker.start()
        worker.join(0.5)
        assert not done, "wrote while another process held cards/"
    finally:
        holder.stdin.close()
        holder.wait(10)
    worker.join(10)
    assert done and done[0].is_file()


def test_a_surface_recording_never_drops_a_release_another_recorded_meanwhile(root, monkeypatch):
    """Two `releases surface --record` at once from caches with different releases: one read the lock before
    the other recorded 0.5.1 and wrote last, dropping 0.5.1's history. Whatever order they take, every
    release a recording that succeeded wrote is still in the lock (the other is refused, naming it)."""
    import threading
    import time

    from dossier import surface_history as sh
    from dossier.releases import ReleaseError

    sh.write_history(root, sh.SurfaceHistory(releases=["0.5.2"]))
    real, other, wrote = sh.read_history, [], []

    def record(releases: list[str]) -> None:
        try:
            sh.write_history(root, sh.SurfaceHistory(releases=releases))
            wrote.append(releases)
        except ReleaseError as exc:
            assert "drop their history" in str(exc)

    def read(r):
        committed = real(r)
        if not other:  # this recording has read the lock: one from a cache with 0.5.1 records now
            other.append(threading.Thread(target=record, args=(["0.5.1", "0.5.2"],)))
            other[0].start()
            time.sleep(0.5)
        return committed

    monkeypatch.setattr(sh, "read_history", read)
    record(["0.5.2", "0.5.3"])
    other[0].join(10)
    assert wrote and {v for releases in wrote for v in releases} <= set(real(root).releases)


def test_two_recordings_of_one_evidence_section_at_once_keep_both_cards(root, monkeypatch):
    """`lint --record cards/100.yaml` and `lint --record cards/200.yaml` at once: each read the old entries
    before the folder lock, and the one that wrote last put back the other's card as it was."""
    import threading
    import time
    from dataclasses import replace

    from dossier import evidence
    from dossier.project import Project

    root = write_project(root.parent / "two", [make_card(100), make_card(200)])
    old = evidence.LockEntry(key_fragment="0" * 64, diff_sha256="1" * 64, source="github", file="x.py",
                             side="new", lines=(1,), recorded="2026-01-01", files=1, additions=1, deletions=0)
    evidence.write_lock(root, {100: old, 200: old})
    real, other = evidence.read_lock, []

    def read(r):
        entries = real(r)
        if not other:  # this recording (card 100) has read the lock: the one of card 200 records now
            other.append(threading.Thread(target=evidence.record_lock, args=(Project.load(root), lambda n: 200)))
            other[0].start()
            time.sleep(0.5)
        return entries

    def record(project, entries, entry_for, recorded):  # what a fresh diff proves: card entry_for()'s entry
        return {**entries, entry_for(0): replace(old, recorded="2026-02-02")}

    monkeypatch.setattr(evidence, "read_lock", read)
    monkeypatch.setattr(evidence, "record", record)
    evidence.record_lock(Project.load(root), lambda n: 100)
    other[0].join(10)
    assert {pr: e.recorded for pr, e in real(root).items()} == {100: "2026-02-02", 200: "2026-02-02"}


def test_a_release_recording_never_drops_a_release_recorded_during_its_scan(root, monkeypatch):
    """`releases verify --record` from a cache without 0.5.1 checked the lock, scanned for minutes, then wrote
    its stale copy: one from a cache with 0.5.1 that recorded meanwhile lost 0.5.1's history."""
    from types import SimpleNamespace

    from dossier import release_evidence as rv
    from dossier.project import Project
    from dossier.releases import ReleaseError

    project = Project.load(root)
    trees = {v: SimpleNamespace(version=v, built="2025-09-01") for v in ("0.5.1", "0.5.2", "0.5.3")}
    monkeypatch.setattr(rv, "scan", lambda *args: {})
    rv.record(project, [trees["0.5.2"]], "2026-02-02")
    real, reads = rv.read_release_lock, []

    def read(r):
        reads.append(lock := real(r))
        if len(reads) == 1:  # checked before its scan: the one with 0.5.1 records now
            rv.record(project, [trees["0.5.1"], trees["0.5.2"]], "2026-02-02")
        return lock

    monkeypatch.setattr(rv, "read_release_lock", read)
    with pytest.raises(ReleaseError, match="0.5.1"):
        rv.record(project, [trees["0.5.2"], trees["0.5.3"]], "2026-02-02")
    assert list(real(root).built) == ["0.5.1", "0.5.2"]


def test_a_write_never_replaces_a_device_pipe_or_socket_in_place_of_the_file(tmp_path):
    """Every write lands by renaming a temp file over the target: `dossier schema -o /dev/stdout` (or /dev/null)
    run as root replaced the device, or the link to it, with a regular file, for every process of the machine.
    A target that is not a regular file (itself or where its link leads) is refused, left as it was."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "out.json"
    link.symlink_to(fifo)
    for target in (fifo, link):
        with pytest.raises(OSError, match=r"not a regular file \(a pipe\)") as err:
            files.write_atomic(target, "{}\n")
        assert err.value.filename == str(target)
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and link.is_symlink()
    result = CliRunner().invoke(app, ["schema", "-o", str(link)])
    assert result.exit_code == 2 and f"error: {link}: not a regular file" in result.output
    assert link.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "pipe"]
    regular = tmp_path / "schema.json"  # a file is written as before
    files.write_atomic(regular, "{}\n")
    files.write_atomic(regular, "[]\n")
    assert regular.read_text() == "[]\n"


def test_a_link_to_a_file_is_written_through_and_kept(tmp_path):
    """A lock under cards/ linked to a file elsewhere (a shared checkout's evidence.lock): recording replaced the link
    with a plain file and left the file it led to as it was, so the shared lock never saw the recording. The file
    the link leads to is replaced whole (beside itself, so the rename stays on its file system); the link stays."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "evidence.lock").write_text("old\n")
    cards = tmp_path / "cards"
    cards.mkdir()
    link = cards / "evidence.lock"
    link.symlink_to(shared / "evidence.lock")
    files.record(link, lambda: "new\n")
    assert link.is_symlink() and (shared / "evidence.lock").read_text() == "new\n"
    assert sorted(p.name for p in cards.iterdir()) == ["evidence.lock"]
    assert sorted(p.name for p in shared.iterdir()) == ["evidence.lock"]  # no temp file left
    relative = cards / "drift.lock"  # a relative link, through a linked folder
    (tmp_path / "alias").symlink_to(shared)
    relative.symlink_to(Path("..") / "alias" / "evidence.lock")
    files.write_atomic(relative, "again\n")
    assert relative.is_symlink() and (shared / "evidence.lock").read_text() == "again\n"
    with pytest.raises(FileExistsError):  # `new` never writes through an existing name
        files.write_atomic(link, "card\n", exclusive=True)
    assert (shared / "evidence.lock").read_text() == "again\n"
