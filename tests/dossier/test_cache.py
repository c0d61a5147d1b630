"""The fetch cache: round trip, facts, location precedence, and atomic writes that never read half-done."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dossier.project import Project
from dossier.sources import cache as cache_mod
from dossier.sources.cache import Cache, group_paths

DIFF = "diff --git a/python/x.py b/python/x.py\n--- a/python/x.py\n+++ b/python/x.py\n@@ -1 +1 @@\n-a\n+b\n"


def meta(pr: int = 5, **kw) -> dict:
    files = [
        {
            "filename": "python/x.py",
            "previous_filename": None,
            "status": "modified",
            "additions": 1,
            "deletions": 1,
            "patch_missing": False,
            "binary": False,
        }
    ]
    return {
        "number": pr,
        "title": "Fix x",
        "state": "merged",
        "merged": True,
        "merged_at": "2026-03-20T08:15:00Z",
        "files": files,
        **kw,
    }


def test_round_trip_adds_checksums_and_time(tmp_path):
    cache = Cache(tmp_path)
    put = cache.put(5, meta(), DIFF, {"source": "github", "repo": "o/r"})
    got = cache.get(5)
    assert got is not None and got.meta == put.meta and got.diff_text == DIFF
    prov = got.provenance
    assert prov["source"] == "github" and prov["repo"] == "o/r"
    assert len(prov["sha256"]) == 64 and len(prov["meta_sha256"]) == 64
    assert prov["fetched_at"].endswith("Z")
    assert [f.path for f in got.files()] == ["python/x.py"]
    assert got.files() == got.files() and got.files() is not got.files()  # memoised, handed out as copies


def test_entry_files_get_the_modes_the_umask_allows(tmp_path):
    """A temp file is created 0600; renamed into place it kept that, so a cache shared by a team (DOSSIER_CACHE)
    was unreadable to everyone but the one who fetched (the entry read as absent, every fetch repeated)."""
    umask = os.umask(0)
    os.umask(umask)
    Cache(tmp_path).put(5, meta(), DIFF, {"source": "github"})
    assert {p.name: p.stat().st_mode & 0o777 for p in (tmp_path / "5").iterdir()} == {
        name: 0o666 & ~umask for name in ("meta.json", "pr.diff", "provenance.json")}


def test_absent_entry_is_none(tmp_path):
    assert Cache(tmp_path).get(5) is None
    assert Cache(tmp_path / "missing").get(5) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: (d / "pr.diff").write_text(DIFF.replace("+b", "+c")),
        lambda d: (d / "meta.json").write_text(json.dumps(meta(title="Other"))),
        lambda d: (d / "provenance.json").unlink(),
        lambda d: (d / "provenance.json").write_text("{not json"),
        lambda d: (d / "pr.diff").unlink(),
    ],
    ids=["diff-edited", "meta-edited", "no-provenance", "bad-provenance", "no-diff"],
)
def test_damaged_entry_is_none(tmp_path, damage):
    cache = Cache(tmp_path)
    cache.put(5, meta(), DIFF, {"source": "github"})
    damage(cache.path(5))
    assert cache.get(5) is None


def _recorded(d: Path, **files: bytes) -> None:
    """Write ``files`` into the entry with provenance recording their sha256 (a consistent entry of bad content)."""
    import hashlib

    prov = json.loads((d / "provenance.json").read_text())
    for name, data in files.items():
        (d / name.replace("_", ".")).write_bytes(data)
        prov["sha256" if name == "pr_diff" else "meta_sha256"] = hashlib.sha256(data).hexdigest()
    (d / "provenance.json").write_text(json.dumps(prov))


@pytest.mark.parametrize("damage, why", [
    (lambda d: (d / "pr.diff").write_text(DIFF.replace("+b", "+c")),
     "pr.diff does not match the sha256 provenance.json records"),
    (lambda d: (d / "meta.json").write_text(json.dumps(meta(title="Other"))),
     "meta.json does not match the sha256 provenance.json records"),
    (lambda d: (d / "provenance.json").write_text("{not json"), "provenance.json is not a JSON object"),
    (lambda d: (d / "provenance.json").write_text("[]"), "provenance.json is not a JSON object"),
    (lambda d: (d / "pr.diff").unlink(), "pr.diff: No such file or directory"),
    (lambda d: _recorded(d, pr_diff=b"\xff\n"), "pr.diff is not UTF-8 text"),
    (lambda d: _recorded(d, meta_json=b"[1]"), "meta.json is not a JSON object"),
    (lambda d: _recorded(d, meta_json=json.dumps(meta(pr=6)).encode()), "meta.json is the metadata of #6, not #5"),
])
def test_a_damaged_entry_says_why_it_is_not_used(tmp_path, damage, why):
    """A damaged entry read as one never fetched: lint called the card unverified, `show --diff` said to fetch it."""
    cache = Cache(tmp_path)
    cache.put(5, meta(), DIFF, {"source": "github"})
    damage(cache.path(5))
    assert cache.get(5) is None and cache.damaged(5) == why


def test_an_absent_unfinished_or_whole_entry_is_not_damaged(tmp_path):
    cache = Cache(tmp_path)
    assert cache.damaged(5) is None  # never fetched
    cache.put(5, meta(), DIFF, {"source": "github"})
    assert cache.damaged(5) is None
    (cache.path(5) / "provenance.json").unlink()  # a write cut before its commit record: absent
    assert cache.get(5) is None and cache.damaged(5) is None
    (tmp_path / "7").write_text("a file where an entry's folder goes\n")
    assert cache.get(7) is None and cache.damaged(7) == "7 is not a folder"


def test_a_damaged_entry_is_reported_by_lint_and_show_and_fetched_again(tmp_path):
    from typer.testing import CliRunner

    from dossier.cli import app
    from tests.dossier.factories import make_card, write_project

    root = write_project(tmp_path / "p", [make_card(100)])
    cache = Cache(root / ".dossier" / "cache")
    cache.put(100, meta(100), DIFF, {"source": "import"})
    runner = CliRunner()
    assert "D330" not in runner.invoke(app, ["lint", "--root", str(root)], env={"DOSSIER_CACHE": None}).output
    (cache.path(100) / "pr.diff").write_text(DIFF + "+more\n")
    linted = runner.invoke(app, ["lint", "--root", str(root)], env={"DOSSIER_CACHE": None})
    assert "cards/100.yaml:1:1: D330 the fetch cache entry of #100 is damaged (pr.diff does not match the sha256 " \
           "provenance.json records): it is not used" in linted.output
    assert "dossier fetch --refresh 100" in linted.output
    shown = runner.invoke(app, ["show", "100", "--diff", "--root", str(root)], env={"DOSSIER_CACHE": None})
    assert shown.exit_code == 2 and shown.output == (
        "error: the fetch cache entry of #100 is damaged (pr.diff does not match the sha256 provenance.json records): "
        "`dossier fetch --refresh 100` fetches it again\n")


def test_a_diff_past_the_bound_is_never_cached_and_one_within_it_reads_back(tmp_path, monkeypatch):
    """An imported diff of 64-256 MiB (the import's bound) was cached, then read back against the 64 MiB bound of
    project files: cached, yet never there."""
    monkeypatch.setattr(cache_mod, "MAX_DIFF_BYTES", len(DIFF) - 1)
    with pytest.raises(OSError, match=f"more than {len(DIFF) - 1:,} bytes, the most a cached diff may hold"):
        Cache(tmp_path).put(5, meta(), DIFF, {"source": "import"})
    assert not (tmp_path / "5" / "pr.diff").exists()
    monkeypatch.setattr(cache_mod, "MAX_DIFF_BYTES", len(DIFF))
    Cache(tmp_path).put(5, meta(), DIFF, {"source": "import"})
    assert Cache(tmp_path).get(5).diff_text == DIFF


def test_entry_under_the_wrong_number_is_none(tmp_path):
    cache = Cache(tmp_path)
    cache.put(5, meta(), DIFF, {"source": "github"})
    cache.path(5).rename(cache.path(6))
    assert cache.get(6) is None


def test_facts_group_files_and_cut_the_date(tmp_path):
    files = [
        {"filename": p}
        for p in (
            "python/sglang/srt/models/qwen3_next.py",
            "test/registered/test_q.py",
            "python/sglang/jit_kernel/tests/test_gdn.py",
            "docs/advanced.md",
            "README.md",
            "python/sglang/srt/layers/linear.py",
        )
    ]
    entry = Cache(tmp_path).put(5, meta(files=files), DIFF, {"source": "github"})
    assert entry.facts() == {
        "title": "Fix x",
        "state": "merged",
        "merged_at": "2026-03-20",
        "files": {
            "runtime": ["python/sglang/srt/models/qwen3_next.py", "python/sglang/srt/layers/linear.py"],
            "tests": ["test/registered/test_q.py", "python/sglang/jit_kernel/tests/test_gdn.py"],
            "docs": ["docs/advanced.md", "README.md"],
        },
    }
    assert Cache(tmp_path).put(6, meta(6, merged_at=None), DIFF, {}).facts()["merged_at"] is None


def test_group_paths_keeps_order_within_groups():
    assert group_paths(["b_test.py", "a.py", "tests/x.py"]) == {
        "runtime": ["a.py"],
        "tests": ["b_test.py", "tests/x.py"],
        "docs": [],
    }


def test_location_precedence(tmp_path, monkeypatch):
    project = Project(root=tmp_path, config={})
    monkeypatch.delenv("DOSSIER_CACHE", raising=False)
    assert Cache.for_project(project).root == tmp_path / ".dossier" / "cache"
    monkeypatch.setenv("DOSSIER_CACHE", str(tmp_path / "env"))
    assert Cache.for_project(project).root == tmp_path / "env"
    assert Cache.for_project(project, tmp_path / "flag").root == tmp_path / "flag"


def _interrupt_at(monkeypatch, n: int) -> None:
    """Make the n-th os.replace of the cache raise KeyboardInterrupt (as Ctrl-C would)."""
    calls = {"n": 0}
    real = os.replace

    def replace(src, dst):
        calls["n"] += 1
        if calls["n"] == n:
            raise KeyboardInterrupt
        real(src, dst)

    monkeypatch.setattr(cache_mod.os, "replace", replace)


@pytest.mark.parametrize("failing", [1, 2, 3])
def test_a_refresh_that_cannot_write_keeps_the_old_entry(tmp_path, monkeypatch, failing):
    """A full disk while the new entry is staged (any of its three files) leaves the old entry whole and valid."""
    cache = Cache(tmp_path)
    cache.put(5, meta(title="Old title"), DIFF.replace("+b", "+old"), {"source": "github"})
    calls = {"n": 0}
    real = os.fdopen

    def fdopen(fd, *args, **kw):
        calls["n"] += 1
        if calls["n"] == failing:
            os.close(fd)
            raise OSError(28, "No space left on device")
        return real(fd, *args, **kw)

    monkeypatch.setattr(cache_mod.os, "fdopen", fdopen)
    with pytest.raises(OSError, match="No space"):
        cache.put(5, meta(), DIFF, {"source": "github"})
    monkeypatch.undo()
    old = cache.get(5)
    assert old is not None and old.meta["title"] == "Old title" and "+old" in old.diff_text
    assert not [p for p in cache.path(5).iterdir() if p.name.endswith(".tmp")]


#: a put's renames: the diff and the metadata beside the old entry, the commit record, each file to its place
PUT_RENAMES = 5


@pytest.mark.parametrize("step", range(1, PUT_RENAMES + 1))
@pytest.mark.parametrize("existing", [False, True], ids=["fresh", "overwrite"])
def test_an_interrupted_put_leaves_the_old_entry_or_the_new_one(tmp_path, monkeypatch, step, existing):
    """Ctrl-C at any rename of a refresh: the old entry's commit record was removed first, so an interrupt before
    the new one was whole left no entry at all (read as never fetched). It reads as the old entry until the new
    commit record lands, then as the new one; no temp file is left, and a later fetch writes over it."""
    cache = Cache(tmp_path)
    if existing:
        cache.put(5, meta(title="Old title"), DIFF.replace("+b", "+old"), {"source": "github"})
    _interrupt_at(monkeypatch, step)
    with pytest.raises(KeyboardInterrupt):
        cache.put(5, meta(), DIFF, {"source": "github"})
    monkeypatch.undo()
    _assert_old_or_new(cache, step, existing)
    assert not [p for p in cache.path(5).iterdir() if p.name.endswith(".tmp")]
    cache.put(5, meta(title="Later"), DIFF, {"source": "github"})
    assert cache.get(5).meta["title"] == "Later"
    assert sorted(p.name for p in cache.path(5).iterdir()) == ["meta.json", "pr.diff", "provenance.json"]


def _assert_old_or_new(cache: Cache, step: int, existing: bool) -> None:
    """Cut at rename ``step``: the old entry (or none) before the commit record's rename (3), the new one after."""
    entry = cache.get(5)
    assert cache.damaged(5) is None
    if step <= 3 and not existing:
        assert entry is None
    elif step <= 3:
        assert entry.meta["title"] == "Old title" and "+old" in entry.diff_text
    else:
        assert entry.meta["title"] == "Fix x" and entry.diff_text == DIFF


KILLED_AT = """
import os, sys
from dossier.sources import cache as cache_mod
from tests.dossier.test_cache import DIFF, meta
step, real, n = int(sys.argv[2]), os.replace, [0]
def replace(src, dst):
    n[0] += 1
    if n[0] == step:
        os._exit(9)  # as kill -9 would: no handler, no cleanup
    real(src, dst)
cache_mod.os.replace = replace
cache_mod.Cache(sys.argv[1]).put(5, meta(), DIFF, {"source": "github"})
"""


@pytest.mark.parametrize("step", range(1, PUT_RENAMES + 1))
def test_a_put_killed_at_any_rename_leaves_the_old_entry_or_the_new_one(tmp_path, step):
    """kill -9 during `fetch --refresh` (no cleanup runs): between removing the old commit record and landing the
    new one the entry was gone, the old diff lost and the new one not there. The new files wait beside the old
    ones until the commit record's rename; after it a reader takes a file not yet moved from beside its place,
    and the next write moves it there and removes what a cut write left."""
    cache = Cache(tmp_path)
    cache.put(5, meta(title="Old title"), DIFF.replace("+b", "+old"), {"source": "github"})
    proc = subprocess.run([sys.executable, "-c", KILLED_AT, str(tmp_path), str(step)],
                          cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    _assert_old_or_new(cache, step, existing=True)
    cache.put(5, meta(title="Later"), DIFF, {"source": "github"})
    assert cache.get(5).meta["title"] == "Later"
    assert sorted(p.name for p in cache.path(5).iterdir()) == ["meta.json", "pr.diff", "provenance.json"]


WRITER = """
import sys
from dossier.sources.cache import Cache
cache = Cache(sys.argv[1])
body = "".join(f"+line {i}\\n" for i in range(20000))
i = 0
cache.put(5, {"number": 5, "title": "v0"}, f"--- a/x\\n+++ b/x\\n@@ -0,0 +1,20000 @@\\n{body}".replace("line 0", "line v0"),
          {"source": "github"})
print("ready", flush=True)
while True:
    i += 1
    text = f"--- a/x\\n+++ b/x\\n@@ -0,0 +1,20000 @@\\n{body}".replace("line 0", f"line v{i}")
    cache.put(5, {"number": 5, "title": f"v{i}"}, text, {"source": "github"})
"""


def test_killed_writer_never_leaves_a_mixed_entry(tmp_path):
    """SIGKILL a process rewriting one entry in a loop: what remains is wholly one version (never none: the entry was
    there before the loop began)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)],
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(0.4)  # let it rewrite the entry a number of times
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    entry = Cache(tmp_path).get(5)
    assert entry is not None
    assert f"+line {entry.meta['title']}\n" in entry.diff_text


def _another_process_could_lock(folder: Path) -> bool:
    """Whether a second process could take the entry folder's lock now (what a writer or reader elsewhere opens)."""
    import fcntl

    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)


def test_another_writer_of_the_entry_waits_while_its_files_are_swapped(tmp_path, monkeypatch):
    """Two fetches of one PR at once (two processes on one cache): the second's files swapped in between the first's
    left one's diff under the other's provenance, a damaged entry. The swap holds the entry folder's lock, which
    every writer of the entry takes (files.serialized)."""
    cache = Cache(tmp_path)
    cache.put(5, meta(title="Old title"), DIFF, {"source": "github"})
    taken = []
    real = os.replace

    def replace(src, dst):
        if _another_process_could_lock(Path(dst).parent):
            taken.append(Path(dst).name)
        real(src, dst)

    monkeypatch.setattr(cache_mod.os, "replace", replace)
    cache.put(5, meta(), DIFF.replace("+b", "+new"), {"source": "github"})
    assert taken == [] and "+new" in cache.get(5).diff_text


def test_a_reader_holds_the_entry_while_it_reads_its_files(tmp_path, monkeypatch):
    """Read while another process swapped the entry's files (lint beside `fetch --refresh`), the new diff under the
    old provenance made an entry being fetched read as damaged (D330: fetch it again)."""
    cache = Cache(tmp_path)
    cache.put(5, meta(), DIFF, {"source": "github"})
    free = []
    real = cache_mod.read_bytes

    def read_bytes(path, *args):
        if _another_process_could_lock(Path(path).parent):
            free.append(Path(path).name)
        return real(path, *args)

    monkeypatch.setattr(cache_mod, "read_bytes", read_bytes)
    assert cache.get(5) is not None and free == []
