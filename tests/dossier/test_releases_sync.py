"""`dossier releases sync/list` against a directory of synthetic wheels (pip --no-index --find-links)."""

from __future__ import annotations

import json
import os
import shutil
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier import releases
from dossier.cli import app
from tests.dossier.release_support import make_wheel

runner = CliRunner()


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    where = tmp_path / "wheels"
    make_wheel(where, "0.1.0", {"srt/a.py": "x = 1\n", "srt/kernel.cu": "// not python\n"}, built=(2026, 1, 5))
    make_wheel(where, "0.1.0.post1", {"srt/a.py": "x = 2\n"}, built=(2026, 1, 9))
    make_wheel(where, "0.1.1", {"srt/a.py": "x = 3\n", "srt/b.py": "y = 1\n"}, built=(2026, 2, 1),
               tag="cp311-cp311-manylinux_2_34_x86_64")
    make_wheel(where, "0.2.0", {"srt/a.py": "x = 4\n"}, built=(2026, 3, 1))
    return where


def sync(wheels: Path, cache: Path, *args: str):
    return runner.invoke(app, ["releases", "sync", "--find-links", str(wheels), "--cache-dir", str(cache),
                               "--root", str(cache.parent), *args])


def test_sync_keeps_python_sources_by_repo_path_and_the_build_date(wheels, tmp_path):
    cache = tmp_path / "cache"
    result = sync(wheels, cache, "--from", "0.1.0", "--to", "0.1.1")
    assert result.exit_code == 0, result.output
    assert [r.version for r in releases.synced(cache)] == ["0.1.0", "0.1.0.post1", "0.1.1"]
    first = cache / "0.1.0"
    assert (first / "python/sglang/srt/a.py").read_text() == "x = 1\n"
    assert not (first / "python/sglang/srt/kernel.cu").exists()  # only .py files are kept
    assert not list(cache.rglob("*.whl"))  # the wheel is deleted
    record = json.loads((first / "release.json").read_text())
    assert record["built"] == "2026-01-05" and record["files"] == 3
    # plain progress lines off a terminal, and the platform-specific wheel is named
    assert "0.1.0.post1    synced  built 2026-01-09" in result.output
    assert "platform-specific wheels" in result.output and "0.1.1" in result.output.split("platform-specific")[1]


def test_sync_resumes_and_never_reads_a_partial_version(wheels, tmp_path):
    cache = tmp_path / "cache"
    assert sync(wheels, cache, "--to", "0.1.0.post1", "--from", "0.1.0").exit_code == 0
    (cache / "0.1.0.post1" / "release.json").unlink()  # as if interrupted before the commit record
    (cache / ".tmp-0.1.1-x").mkdir()  # a temporary dir left by a killed run (of an older version)
    (cache / f".tmp-0.1.1-{2**22 + 1}-abcd1234").mkdir()  # ... whose process is gone
    running = cache / f".tmp-0.1.1-{os.getpid()}-abcd1234"  # a sync running beside this one
    running.mkdir()
    assert [r.version for r in releases.synced(cache)] == ["0.1.0"]
    result = sync(wheels, cache, "--from", "0.1.0", "--to", "0.1.1")
    assert result.exit_code == 0, result.output
    assert "1 synced" not in result.output and "2 synced, 1 cached" in result.output
    assert sorted(p.name for p in cache.glob(".tmp-*")) == [running.name]  # a running sync's is not removed
    assert [r.version for r in releases.synced(cache)] == ["0.1.0", "0.1.0.post1", "0.1.1"]


def deflated(path: Path, *, month: int | None = None) -> bytearray:
    """``path``'s wheel with every entry deflated (as real wheels are), dated ``month`` when given (0: no month)."""
    import io
    import zipfile

    with zipfile.ZipFile(path) as zf:
        entries = [(info, zf.read(info)) for info in zf.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in entries:
            zf.writestr(zipfile.ZipInfo(info.filename, date_time=info.date_time), data, zipfile.ZIP_DEFLATED)
    data = bytearray(out.getvalue())
    if month is not None:  # a DOS date's month: bits 5-8 of the date at +12 (local header) and +14 (central)
        for magic, at in ((b"PK\x03\x04", 12), (b"PK\x01\x02", 14)):
            start = data.find(magic)
            while start >= 0:
                day = int.from_bytes(data[start + at:start + at + 2], "little") & ~(0xF << 5) | month << 5
                data[start + at:start + at + 2] = day.to_bytes(2, "little")
                start = data.find(magic, start + 4)
    return data


def damaged_member(data: bytearray) -> bytearray:
    """The first deflated byte of sglang/srt/a.py (right after its name in its local header) made a block of the
    reserved type: zlib cannot read it."""
    data[data.find(b"sglang/srt/a.py") + len("sglang/srt/a.py")] = 0b111
    return data


@pytest.mark.parametrize("damage", ["not a zip", "a damaged member", "no real date"])
def test_a_broken_wheel_fails_alone(wheels, tmp_path, damage):
    """A deflated member whose bytes were damaged (zlib.error) or entries dated month 0 (ValueError) ended the
    whole sync as an internal error: the releases after it were never synced."""
    wheel = wheels / "sglang-0.1.1-cp311-cp311-manylinux_2_34_x86_64.whl"
    wheel.write_bytes(b"not a zip" if damage == "not a zip" else damaged_member(deflated(wheel))
                      if damage == "a damaged member" else deflated(wheel, month=0))
    cache = tmp_path / "cache"
    result = sync(wheels, cache, "--from", "0.1.0")
    assert result.exit_code == 1, result.output
    assert "error: 0.1.1: " + ("cannot download sglang 0.1.1: ERROR: Wheel 'sglang' located at " if damage ==
                               "not a zip" else f"{wheel.name} is not a valid wheel: ") in result.output  # pip's, ours
    assert "internal error" not in result.output
    assert [r.version for r in releases.synced(cache)] == ["0.1.0", "0.1.0.post1", "0.2.0"]
    assert not list(cache.glob(".tmp-*"))


def test_unreachable_index_is_a_clear_usage_error(tmp_path, monkeypatch):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PIP_RETRIES", "0")
    monkeypatch.setenv("PIP_TIMEOUT", "2")
    result = runner.invoke(app, ["releases", "sync", "--index-url", f"http://127.0.0.1:{port}/simple",
                                 "--cache-dir", str(tmp_path / "c"), "--root", str(tmp_path)])
    assert result.exit_code == 2
    assert "the package index is unreachable (127.0.0.1)" in result.output


def test_no_release_in_range_and_bad_versions_are_usage_errors(wheels, tmp_path):
    assert sync(wheels, tmp_path / "c", "--from", "9.0").exit_code == 2
    bad = sync(wheels, tmp_path / "c", "--from", "latest")
    assert bad.exit_code == 2 and "--from 'latest' is not a release version" in bad.output
    bad_to = sync(wheels, tmp_path / "c", "--from", "0.1.0", "--to", "newest")
    assert bad_to.exit_code == 2 and "--to 'newest' is not a release version" in bad_to.output
    backwards = sync(wheels, tmp_path / "c", "--from", "0.1.1", "--to", "0.1.0")  # said: the index has none
    assert backwards.exit_code == 2
    assert backwards.output == "error: --from 0.1.1 is after --to 0.1.0: name the older release first\n"


def test_cache_location_flag_env_default(tmp_path, monkeypatch):
    monkeypatch.delenv(releases.ENV, raising=False)
    assert releases.cache_dir(tmp_path) == tmp_path / ".dossier" / "releases"
    monkeypatch.setenv(releases.ENV, str(tmp_path / "env"))
    assert releases.cache_dir(tmp_path) == tmp_path / "env"
    assert releases.cache_dir(tmp_path, tmp_path / "flag") == tmp_path / "flag"


def test_versions_order_post_releases_after_their_base():
    assert releases.select(["0.5.10", "0.5.9", "0.5.10.post1", "0.5.2", "junk", "0.5.1.post3"], "0.5.2", "0.5.10.post1") \
        == ["0.5.2", "0.5.9", "0.5.10", "0.5.10.post1"]


@pytest.mark.parametrize("where, says", [("missing", "does not exist"), ("file.whl", "is not a folder")])
def test_find_links_that_is_no_folder_is_named_not_read_as_an_empty_index(tmp_path, where, says):
    """pip said "No matching distribution found for sglang", read as an index without releases."""
    (tmp_path / "file.whl").write_text("not a folder\n")
    result = sync(tmp_path / where, tmp_path / "c")
    assert result.exit_code == 2
    assert result.output == f"error: --find-links {tmp_path / where} {says} (a folder of sglang wheels)\n"


def test_a_release_another_sync_landed_meanwhile_is_kept_not_replaced(wheels, tmp_path, monkeypatch):
    """Two syncs at once: both find 0.1.0 missing and download it; the second removed the first's complete tree to
    put its own in its place (a reader of it lost its files; landing between the removal and the rename failed the
    second with 'Directory not empty')."""
    cache = tmp_path / "cache"
    real = releases.extract

    def extract_beside_another_sync(wheel, dest):
        done = real(wheel, dest)
        theirs = cache / "0.1.0"  # the other sync lands its copy now, a reader inside it
        real(wheel, theirs)
        (theirs / "release.json").write_text(json.dumps({"version": "0.1.0", "built": done[0], "files": done[1]}))
        (theirs / "being-read").touch()
        return done

    monkeypatch.setattr(releases, "extract", extract_beside_another_sync)
    result = sync(wheels, cache, "--from", "0.1.0", "--to", "0.1.0")
    assert result.exit_code == 0, result.output
    assert (cache / "0.1.0" / "being-read").exists() and [r.version for r in releases.synced(cache)] == ["0.1.0"]
    assert [p.name for p in cache.iterdir()] == ["0.1.0"]  # its own copy is gone with its temp folder


def test_a_folder_whose_record_names_another_release_is_not_that_release(wheels, tmp_path):
    """A release folder copied by hand (`cp -r 0.1.0 0.1.1`) was a complete 0.1.1 to sync, which skipped it as
    cached, and stood in for 0.1.0 or hid it (releases are keyed by the version its record names)."""
    import shutil

    cache = tmp_path / "cache"
    assert sync(wheels, cache, "--from", "0.1.0", "--to", "0.1.0").exit_code == 0
    shutil.copytree(cache / "0.1.0", cache / "0.1.1")
    assert [(r.version, r.path.name) for r in releases.synced(cache)] == [("0.1.0", "0.1.0")]
    listed = runner.invoke(app, ["releases", "list", "--cache-dir", str(cache), "--root", str(tmp_path)])
    assert f"{cache / '0.1.1'}: not a complete release (release.json is the record of 0.1.0, not of 0.1.1)" in (
        listed.output)
    result = sync(wheels, cache, "--from", "0.1.0", "--to", "0.1.1")
    assert result.exit_code == 0 and "0.1.1          synced" in result.output, result.output
    assert (cache / "0.1.1" / "python/sglang/srt/b.py").is_file()


def test_a_release_missing_a_source_or_a_file_in_its_place_is_named_and_synced_again(wheels, tmp_path):
    """A release folder missing a .py file (deleted, a copy cut short) read as complete: release diffs then showed
    the file, and every change in it, removed by that release and added by the next (`releases verify` moved
    #10233's shipping release). A file where a release's folder goes was not named by `releases list`, and sync
    failed on it ('Not a directory'). Both are incomplete: named, left out of scans, synced again."""
    cache = tmp_path / "cache"
    assert sync(wheels, cache, "--from", "0.1.0", "--to", "0.1.1").exit_code == 0
    (cache / "0.1.1" / "python/sglang/srt/b.py").unlink()
    shutil.rmtree(cache / "0.1.0.post1")
    (cache / "0.1.0.post1").write_text("not a release\n")
    assert [r.version for r in releases.synced(cache)] == ["0.1.0"]
    listed = runner.invoke(app, ["releases", "list", "--cache-dir", str(cache), "--root", str(tmp_path)])
    assert listed.exit_code == 0
    assert [ln for ln in listed.stderr.splitlines() if ln.startswith("warning: ")] == [
        f"warning: {cache / '0.1.0.post1'}: not a complete release (a file, not a release's folder); `dossier "
        f"releases sync --cache-dir {cache}` fills it again once it is removed",
        f"warning: {cache / '0.1.1'}: not a complete release (it holds 3 .py files, release.json records 4: one was "
        "deleted or the copy cut short, and its diffs would show changes no release made); `dossier releases sync "
        f"--cache-dir {cache}` fills it again once it is removed"]
    again = sync(wheels, cache, "--from", "0.1.0", "--to", "0.1.1")
    assert again.exit_code == 0, again.output
    assert [r.version for r in releases.synced(cache)] == ["0.1.0", "0.1.0.post1", "0.1.1"]
    assert (cache / "0.1.1" / "python/sglang/srt/b.py").read_text() == "y = 1\n"
