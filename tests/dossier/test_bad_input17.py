"""Bad input, round 17: a PR dated before year 1000 was cached as '999-...' and crashed `lint --record` after two
of its three locks were written; a lock refused midway left the others recorded without it; a read-only lock came
back writable. Each case failed before its fix."""

from __future__ import annotations

import dataclasses
import json
import re
import stat
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dossier.cli import app
from dossier.diff import parse_diff
from dossier.drift import read_lock as read_drift_lock
from dossier.evidence import read_lock as read_evidence_lock
from dossier.lint.checked import read_checked
from dossier.lint.code_names import read_names
from dossier.sources import SourceError, stamp_fault, utc_stamp
from dossier.sources.cache import Cache
from dossier.surface_history import read_history
from tests.dossier.evidence_support import put
from tests.dossier.factories import make_card, write_project
from tests.dossier.fake_github import FakeGitHub, make_file, make_pull
from tests.dossier.test_fetch_github import REPO, source
from tests.dossier.yaml_support import load_yaml

runner = CliRunner()
LOCKS = ("evidence.lock", "checked.lock", "opened.lock")


def _run(root: Path, *args: str):
    return runner.invoke(app, [*args, "--root", str(root)])


@pytest.mark.parametrize("year", [1, 999, 2026])
def test_a_time_is_cached_with_four_digits_of_year_and_read_back(year):
    import datetime as dt

    stamp = utc_stamp(dt.datetime(year, 3, 20, 8, 15, tzinfo=dt.UTC))
    assert stamp == f"{year:04d}-03-20T08:15:00Z"
    assert stamp_fault(stamp) is None


def test_github_times_before_year_1000_are_fetched_as_days_a_reader_takes():
    files = [make_file("python/x.py", "@@ -1 +1 @@\n-a\n+b")]
    with FakeGitHub() as gh:
        gh.add(REPO, make_pull(7, "Old change", files=files, merged_at="0999-03-20T08:15:00Z"), files)
        meta = source(gh).fetch(7).meta
    assert (meta["merged_at"], meta["created_at"]) == ("0999-03-20T08:15:00Z", "0999-03-20T08:15:00Z")


@pytest.mark.parametrize("field", ["changed_files", "additions", "deletions"])
def test_a_negative_count_from_github_is_not_cached(field):
    files = [make_file("python/x.py", "@@ -1 +1 @@\n-a\n+b")]
    with FakeGitHub() as gh:
        gh.add(REPO, {**make_pull(7, "Change", files=files), field: -1}, files)
        with pytest.raises(SourceError, match=f"without a valid {field}"):
            source(gh).fetch(7)


@pytest.mark.parametrize("stamp", ["999-03-20T08:15:00Z", "2026-02-30T00:00:00Z", "yesterday", 20260320])
def test_a_cached_time_no_reader_takes_makes_the_entry_damaged(tmp_path, stamp):
    put(tmp_path, 100, created_at=stamp)
    cache = Cache(tmp_path)
    assert cache.get(100) is None
    assert "created_at is" in cache.damaged(100) and "not a UTC time" in cache.damaged(100)


def test_lint_record_with_an_entry_dated_year_999_records_nothing_from_it_and_does_not_crash(tmp_path):
    """Before: the opening day '999-03-20' raised ValueError in opened.py after evidence.lock and checked.lock had
    been written."""
    root = write_project(tmp_path / "p", [make_card(100)])
    put(root / ".dossier" / "cache", 100, created_at="999-03-20T08:15:00Z")
    result = _run(root, "lint", "--record")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    assert "created_at is '999-03-20T08:15:00Z'" in _run(root, "lint").stdout.replace("\n", " ")


@pytest.fixture
def recorded(tmp_path) -> Path:
    """A project whose three locks `lint --record` has written once (card #100 fetched)."""
    root = write_project(tmp_path / "p", [make_card(100), make_card(101)])
    put(root / ".dossier" / "cache", 100, created_at="2026-03-01T10:00:00Z")
    assert _run(root, "lint", "--record").exit_code in (0, 1)
    assert all((root / "cards" / lock).is_file() for lock in LOCKS)
    return root


@pytest.mark.parametrize("refused", LOCKS)
def test_a_lock_refused_while_recording_leaves_every_lock_as_it_was(recorded, monkeypatch, refused):
    """Before: an immutable cards/opened.lock left evidence.lock and checked.lock recorded without it, and the
    error gave no advice."""
    from dossier import files

    put(recorded / ".dossier" / "cache", 101, created_at="2026-03-02T10:00:00Z")  # every lock now changes: evidence, checked, opened
    before = {lock: (recorded / "cards" / lock).read_bytes() for lock in LOCKS}
    real = files._replace

    def replace(tmp: Path, target: Path) -> None:
        if target.name == refused:
            raise PermissionError(1, "Operation not permitted", str(target))
        real(tmp, target)

    monkeypatch.setattr(files, "_replace", replace)
    result = _run(recorded, "lint", "--record")
    assert result.exit_code == 2, result.output
    said = result.stderr.replace("\n", " ")
    assert f"not recorded: cards/{refused}: Operation not permitted; the locks are as they were" in said, said
    assert "run `dossier lint --record` again" in said
    assert {lock: (recorded / "cards" / lock).read_bytes() for lock in LOCKS} == before
    assert not [p.name for p in (recorded / "cards").iterdir() if p.name.endswith(".tmp")]


def test_the_locks_land_together_when_nothing_refuses(recorded):
    put(recorded / ".dossier" / "cache", 101, created_at="2026-03-02T10:00:00Z")
    before = {lock: (recorded / "cards" / lock).read_bytes() for lock in LOCKS}
    result = _run(recorded, "lint", "--record")
    assert result.exit_code in (0, 1), result.output
    after = {lock: (recorded / "cards" / lock).read_bytes() for lock in LOCKS}
    assert after["evidence.lock"] != before["evidence.lock"] and after["opened.lock"] != before["opened.lock"]
    assert "recorded 1 new opening day(s) of 2 fetched PR(s) in cards/opened.lock" in result.stderr


def test_a_read_only_lock_stays_read_only_when_recorded_again(recorded):
    lock = recorded / "cards" / "evidence.lock"
    lock.chmod(0o444)
    put(recorded / ".dossier" / "cache", 101, created_at="2026-03-02T10:00:00Z")
    assert _run(recorded, "lint", "--record").exit_code in (0, 1)
    assert "101:" in lock.read_text()
    assert stat.S_IMODE(lock.stat().st_mode) == 0o444


@pytest.mark.parametrize("command", [["lint"], ["show", "100", "--diff"], ["fetch", "100"]])
def test_a_fetch_cache_that_is_a_file_is_an_error_not_an_empty_cache(tmp_path, command):
    """Before: lint and show read `.dossier/cache`, a regular file, as an empty cache, without a word."""
    root = write_project(tmp_path / "p", [make_card(100)])
    (root / ".dossier").mkdir()
    (root / ".dossier" / "cache").write_text("not a cache\n")
    result = _run(root, *command)
    assert result.exit_code == 2, result.output
    assert f"the fetch cache {root / '.dossier' / 'cache'} is a file, not a folder" in result.output.replace("\n", " ")


@pytest.mark.parametrize(("link", "said"), [("100", "101 is a link to 100"), ("101", "101 is a symbolic link that loops"),
                                            ("/nowhere", "101 is a broken link (to /nowhere)")])
def test_an_entry_that_is_a_link_is_damaged_and_fetch_replaces_only_the_link(tmp_path, link, said):
    """Before: fetch wrote #101 through a link to #100's entry (overwriting it), a looping link read as never
    fetched, and fetch then failed with 'File exists'."""
    cache_dir = tmp_path / "cache"
    put(cache_dir, 100, created_at="2026-03-01T10:00:00Z")
    (cache_dir / "101").symlink_to(link)
    cache = Cache(cache_dir)
    assert cache.get(101) is None
    assert cache.damaged(101) == f"{said}, not the folder `dossier fetch` writes"
    theirs = {p.name: p.read_bytes() for p in (cache_dir / "100").iterdir()}
    put(cache_dir, 101, created_at="2026-03-02T10:00:00Z")
    assert not (cache_dir / "101").is_symlink() and Cache(cache_dir).get(101).meta["number"] == 101
    assert {p.name: p.read_bytes() for p in (cache_dir / "100").iterdir()} == theirs


def test_lint_and_show_name_an_entry_that_is_a_link(tmp_path):
    root = write_project(tmp_path / "p", [make_card(100), make_card(101)])
    cache_dir = root / ".dossier" / "cache"
    put(cache_dir, 100, created_at="2026-03-01T10:00:00Z")
    (cache_dir / "101").symlink_to("101")
    assert "D330 the fetch cache entry of #101 is damaged (101 is a symbolic link that loops" in _run(root, "lint").stdout
    result = _run(root, "show", "101", "--diff")
    assert result.exit_code == 2 and "101 is a symbolic link that loops" in result.output, result.output



# ---- pip's RECORD of today's SGLang damaged: drift read as far as it went and checked nothing, or blamed a file -----

GOOD_ROW = "sglang/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n"


def _installed(tmp_path: Path) -> tuple[Path, Path]:
    from tests.dossier.factories import sglang_package

    package = sglang_package(tmp_path / "site", {})
    record = tmp_path / "site" / "sglang-9.9.9.dist-info" / "RECORD"
    record.parent.mkdir()
    return package, record


@pytest.mark.parametrize(("damage", "said"), [
    (lambda r: r.mkdir(), r"cannot be read \(.*\)"),
    (lambda r: r.symlink_to(r.name), r"cannot be read \(.*\)"),
    (lambda r: r.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe" + GOOD_ROW.encode()), "byte 0 is not UTF-8 text"),
    (lambda r: r.write_text(GOOD_ROW + 'sglang/srt/a.py,"sha256=AAAA,3\nsglang/srt/b.py,sha256=AAAA,3\n'),
     "line 2: not a CSV row"),
    (lambda r: r.write_text('"sglang/srt/a.py,sha256=AAAA,3\nsglang/srt/b.py",sha256=AAAA,3\n' + GOOD_ROW),
     "line 1: a quote opened there runs over the line end"),
    (lambda r: r.write_text(GOOD_ROW + "sglang/srt/a.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,1"),
     "its last row has no line end: the file was cut short"),
    (lambda r: r.write_text(GOOD_ROW + "sglang/srt/a.py,sha256=47DEQpj8HBSa-_TImW\n"),
     r"line 2 \(sglang/srt/a.py\): 2 field\(s\) where a row has 3"),
    (lambda r: r.write_text(GOOD_ROW + "sglang/srt/a.py,sha256=47DEQpj8HBSa-_TI,0\n"),
     r"line 2 \(sglang/srt/a.py\): the sha256 holds 12 bytes, not 32: it was cut short"),
    (lambda r: r.write_text(GOOD_ROW + "sglang/srt/a.py,md5=AAAA,0\n"), r"line 2 \(sglang/srt/a.py\): hash 'md5=AAAA'"),
    (lambda r: r.write_bytes(GOOD_ROW.encode() + b"sglang/\x00a.py,,\n"), "line 2: it holds a NUL byte"),
])
def test_a_damaged_pip_record_stops_the_reader_naming_it(tmp_path, damage, said):
    from dossier.releases import DamagedSource
    from dossier.source_tree import installed_record

    package, record = _installed(tmp_path)
    damage(record)
    with pytest.raises(DamagedSource, match=rf"^SGLang package: {record}:? ?{said}.*: pip's record of the files is "
                                            r"damaged.*pip install --force-reinstall --no-deps sglang==9\.9\.9"):
        installed_record(package)


def test_rows_pip_writes_without_a_hash_are_read_and_files_outside_sglang_are_skipped(tmp_path):
    from dossier.source_tree import installed_record

    package, record = _installed(tmp_path)
    record.write_text(GOOD_ROW + "sglang/__pycache__/__init__.cpython-311.pyc,,\n../../bin/sglang,sha256=x,\n"
                      "sglang-9.9.9.dist-info/RECORD,,\n")
    assert set(installed_record(package)) == {None, "python/sglang/__init__.py"}


def test_drift_stops_on_a_record_cut_mid_row(tmp_path):
    package, record = _installed(tmp_path)
    record.write_text(GOOD_ROW + "sglang/version.py,sha256=47DEQp")
    root = write_project(tmp_path / "p", [make_card(100)])
    result = runner.invoke(app, ["drift", "--root", str(root), "--sglang-src", str(package)])
    assert result.exit_code == 2, result.output
    assert "the file was cut short: pip's record of the files is damaged" in result.output.replace("\n", " ")


# ---- fetch --source git: a shallow clone, an empty repository, attributes that hide a text file ------------------


def test_a_commit_at_the_edge_of_a_shallow_clone_says_so_not_that_it_has_no_parent(tmp_path):
    from tests.dossier.test_fetch_git import commit, git

    full = tmp_path / "full"
    full.mkdir()
    git(full, "init", "-q", "-b", "main")
    commit(full, "Initial import", {"a.py": "x = 1\n"})
    commit(full, "First change (#5)", {"a.py": "x = 2\n"})
    commit(full, "Second change (#6)", {"a.py": "x = 3\n"})
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "2", f"file://{full}", str(shallow))
    from dossier.sources.git import GitSource

    assert "+x = 3" in GitSource(shallow, REPO).fetch(6).diff_text
    with pytest.raises(SourceError, match=r"is at the edge of a shallow clone \(its parent was not fetched\): run "
                                          r"`git -C .* fetch --deepen=1` \(or --unshallow\), then fetch again"):
        GitSource(shallow, REPO).fetch(5)
    first = tmp_path / "first"
    first.mkdir()
    git(first, "init", "-q", "-b", "main")
    commit(first, "Everything (#8)", {"a.py": "x = 1\n"})
    with pytest.raises(SourceError, match="is the repository's first commit: it has no parent to diff against"):
        GitSource(first, REPO).fetch(8)


def test_an_empty_repository_or_a_ref_that_names_nothing_is_one_clear_error(tmp_path, project_dir):
    from dossier.sources.git import GitSource
    from tests.dossier.test_fetch_git import commit, git

    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q", "-b", "main")
    with pytest.raises(SourceError, match=r"HEAD names no commit in .*: the repository has no commits yet"):
        GitSource(empty, REPO)
    result = runner.invoke(app, ["fetch", "12", "--source", "git", "--git-repo", str(empty), "--root",
                                 str(project_dir)])
    assert result.exit_code == 2, result.output
    assert "the repository has no commits yet" in result.stderr and "Use '--'" not in result.output
    commit(empty, "Initial (#1)", {"a.py": "x\n"})
    with pytest.raises(SourceError, match=r"^no-such-branch names no commit in "):
        GitSource(empty, REPO, ref="no-such-branch")


def test_a_text_file_the_clone_marks_minus_diff_is_cached_as_text_and_a_binary_stays_binary(tmp_path):
    from dossier.sources.git import GitSource
    from tests.dossier.test_fetch_git import commit, git

    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "Initial", {".gitattributes": "*.py -diff\n*.txt binary\n", "a.py": "x = 1\n", "b.txt": "one\n",
                             "c.png": b"\x89PNG\x00\x01"})
    commit(repo, "Fuse it (#9)", {"a.py": "x = fused()\n", "b.txt": "two\n", "c.png": b"\x89PNG\x00\x02"})
    (repo / ".git" / "info" / "attributes").write_text("*.py -diff\n")
    got = GitSource(repo, REPO).fetch(9)
    files = {f.path: f for f in parse_diff(got.diff_text)}
    assert [ln.text for ln in files["a.py"].added()] == ["x = fused()"] and not files["a.py"].binary
    assert [ln.text for ln in files["b.txt"].added()] == ["two"]
    assert files["c.png"].binary
    assert {f["filename"]: f["binary"] for f in got.meta["files"]} == {"a.py": False, "b.txt": False, "c.png": True}


# ---- `version: true` read as version 1 (Python finds True == 1) in five of the six locks --------------------------

@pytest.mark.parametrize(("lock", "body", "read"), [
    ("evidence.lock", "cards: {}\n", read_evidence_lock),
    ("drift.lock", "sglang: 0.5.23\ncards: {}\n", read_drift_lock),
    ("checked.lock", "cards: {}\n", read_checked),
    ("names.lock", "names: {}\ncount: 0\n", read_names),
    ("surface.lock", "releases: []\nflags: {}\nenv: {}\nnames: {flags: 0, env: 0}\n", read_history),
])
def test_a_lock_that_says_version_true_is_refused(tmp_path, lock, body, read):
    from dossier.locks import LockError
    from dossier.surface_history import SurfaceLockError

    (tmp_path / "cards").mkdir()
    path = tmp_path / "cards" / lock
    path.write_text("version: 1\n" + body)
    read(tmp_path)  # the lock as written reads
    path.write_text("version: true\n" + body)
    with pytest.raises((LockError, SurfaceLockError), match="expected"):
        read(tmp_path)


# ---- GitHub answers the client cannot end on: a redirect it does not follow, a loop, a reset that has passed ------

@pytest.mark.parametrize(("replies", "said"), [
    ([(302, "/x")], "with HTTP 302, a redirect the GitHub client does not follow"),
    ([(307, "/x")], "with HTTP 307, a redirect the GitHub client does not follow"),
    ([(301, "/x"), (301, "/y")] * 50, "with 6 redirects in a row (a loop?)"),
])
def test_a_redirect_the_client_cannot_end_on_is_named_not_called_malformed_data(replies, said):
    """Before: a 302 read as 'malformed data (TypeError)', and a 301 loop was followed until Python's recursion limit
    ('JSON nested too deep')."""
    from tests.dossier.fake_github import Reply

    with FakeGitHub() as gh:
        gh.add(REPO, make_pull(7, "Change", files=[make_file("a.py", "@@ -1 +1 @@\n-a\n+b")]),
               [make_file("a.py", "@@ -1 +1 @@\n-a\n+b")])
        pulls = f"/repos/{REPO}/pulls"
        for path in (f"{pulls}/7", f"{pulls}/x", f"{pulls}/y"):
            gh.fail(path, *[Reply(status, b"", {"Location": f"{gh.url}{pulls}{to if path != pulls + to else '/7'}"})
                            for status, to in replies])
        with pytest.raises(SourceError, match=f"answered #7 {re.escape(said)}: set GITHUB_API_URL to the API's own "
                                              "address"):
            source(gh).fetch(7)
        assert len(gh.requests) <= 6


def test_a_rate_limit_reset_that_has_passed_says_so_not_in_0_min():
    import time

    with FakeGitHub() as gh:
        gh.rate_limit_reset = int(time.time()) - 3600
        with pytest.raises(SourceError, match=r"its reset time, \d{4}-\d\d-\d\d \d\d:\d\d UTC, has passed \(this clock "
                                              r"ahead of GitHub's\?\)"):
            source(gh).fetch(7)


def test_a_temp_file_a_writer_thread_was_writing_when_the_process_ended_is_removed(tmp_path):
    """Before: SIGTERM during `fetch --all` ended the daemon writer threads mid-write, leaving their .tmp files in
    the cache until the next write of the same entry."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    code = ("import sys, threading, time, pathlib\nfrom dossier.files import stage\nready = threading.Event()\n"
            "def write():\n    stage(pathlib.Path(sys.argv[1]) / 'diff.patch', b'x' * 1000)\n    ready.set()\n"
            "    time.sleep(60)\nthreading.Thread(target=write, daemon=True).start()\nready.wait(10)\n")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=root, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == []


def test_a_read_only_file_system_is_named_with_a_fix_that_fits_the_project():
    """Before: '(write somewhere else)', no option for the project's own locks or manual."""
    import errno

    from dossier.files import write_failure

    said = write_failure(OSError(errno.EROFS, "Read-only file system", "cards/drift.lock"))
    assert said == "cards/drift.lock: Read-only file system (remount it writable, or run in a writable copy of the project)"


# ---- probe round 3: the configured API, another repository's entry, names git quotes or GitHub spells oddly ------

def test_fetch_uses_the_projects_configured_api_url_when_the_environment_names_none(tmp_path):
    """Before: [tool.dossier] api_url (a GitHub Enterprise project's API) was read by lint --record only; fetch went
    to api.github.com, and lint then refused what a fetch with GITHUB_API_URL had cached."""
    from tests.dossier.test_fetch_cli import fetch

    with FakeGitHub() as gh:
        gh.add("example/repo", make_pull(100, "Change", files=[make_file("a.py", "@@ -1 +1 @@\n-a\n+b")]),
               [make_file("a.py", "@@ -1 +1 @@\n-a\n+b")])
        root = write_project(tmp_path / "p", [make_card(100)], config=f'api_url = "{gh.url}"\n')
        result = fetch(gh, root, "100", GITHUB_API_URL=None)
        assert result.exit_code == 0, result.output
        assert Cache(root / ".dossier" / "cache").get(100).provenance["api_url"] == gh.url
        assert len(gh.requests) == 2


def test_a_fetch_of_another_repositorys_pr_never_replaces_the_projects_entry(tmp_path):
    """Before: `fetch --repo other/kernel 100` (or with --import) replaced the project's #100 without a word."""
    from tests.dossier.test_fetch_cli import fetch

    root = write_project(tmp_path / "p", [make_card(100)])
    put(root / ".dossier" / "cache", 100, created_at="2026-03-01T10:00:00Z")
    prov = root / ".dossier" / "cache" / "100" / "provenance.json"
    data = json.loads(prov.read_text())
    prov.write_text(json.dumps({**data, "repo": "example/repo"}))
    before = {p.name: p.read_bytes() for p in prov.parent.iterdir()}
    with FakeGitHub() as gh:
        gh.add("other/kernel", make_pull(100, "Kernel", files=[make_file("k.cu", "@@ -1 +1 @@\n-a\n+b")]),
               [make_file("k.cu", "@@ -1 +1 @@\n-a\n+b")])
        result = fetch(gh, root, "100", "--repo", "other/kernel")
        assert result.exit_code == 2, result.output
        assert (f"the fetch cache {root / '.dossier' / 'cache'} holds #100 of example/repo under the number asked; "
                "fetching other/kernel's would replace it") in result.stderr.replace("\n", " ")
        assert gh.requests == []
    assert {p.name: p.read_bytes() for p in prov.parent.iterdir()} == before


DIFF_GIT_QUOTES = (
    'diff --git "a/caf\\303\\251.py" "b/caf\\303\\251.py"\nindex 1..2 100644\n--- "a/caf\\303\\251.py"\n'
    '+++ "b/caf\\303\\251.py"\n@@ -1 +1 @@\n-x = 1\n+x = 2\n'
    'diff --git "a/q\\"uote.py" "b/q\\"uote.py"\nnew file mode 100644\n--- /dev/null\n+++ "b/q\\"uote.py"\n'
    '@@ -0,0 +1 @@\n+q = 1\n'
    'diff --git a/Plan b/x.md b/Plan b/x.md\nindex 1..2 100644\n--- a/Plan b/x.md\t\n+++ b/Plan b/x.md\t\n'
    '@@ -1 +1 @@\n-a\n+b\n'
    'diff --git a/old b/one.md b/new b/two.md\nsimilarity index 90%\nrename from old b/one.md\nrename to new b/two.md\n'
    'diff --git "a/tab\\there.bin" "b/tab\\there.bin"\nindex 1..2 100644\nBinary files "a/tab\\there.bin" and '
    '"b/tab\\there.bin" differ\n'
)


def test_names_git_quotes_or_that_hold_b_slash_are_read_as_the_files_they_name():
    """Before: quoted names kept their quotes and octal escapes ('"python/caf\\303\\251.py"', D302 on a card naming
    café.py), and a name holding ' b/' made the whole PR unreadable ('Target without source')."""
    files = parse_diff(DIFF_GIT_QUOTES)
    assert [(f.path, f.old_path, f.status, f.binary) for f in files] == [
        ("café.py", None, "modified", False), ('q"uote.py', None, "added", False),
        ("Plan b/x.md", None, "modified", False), ("new b/two.md", "old b/one.md", "renamed", False),
        ("tab\there.bin", None, "modified", True)]
    assert [ln.text for ln in files[0].added()] == ["x = 2"]


@pytest.mark.parametrize("name", ["tab\there.py", 'q"uote.py', "back\\slash.py", "docs/Plan b/x.md", "café.py"])
def test_a_header_built_from_githubs_file_list_reads_back_as_the_same_name(name):
    from dossier.diff import file_patch_to_diff

    text = file_patch_to_diff(name, "@@ -1 +1 @@\n-a\n+b", status="modified")
    text += file_patch_to_diff(f"moved/{name}", "@@ -1 +1 @@\n-a\n+c", status="renamed", old_path=name)
    assert [(f.path, f.old_path) for f in parse_diff(text)] == [(name, None), (f"moved/{name}", name)]


def test_a_saved_diff_that_lists_a_file_twice_is_refused(tmp_path):
    """Before: a `git format-patch` series was cached with a.py twice, and the evidence searched the first only."""
    from dossier.sources.saved import SavedDiffSource

    section = "diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = {}\n+x = {}\n"
    saved = tmp_path / "series.patch"
    saved.write_text(section.format(1, 2) + section.format(2, 3))
    with pytest.raises(SourceError, match=r"holds a.py twice: a series of patches"):
        SavedDiffSource(saved, REPO).fetch(800)


def test_new_names_the_cached_merge_day_and_what_a_saved_diff_lacks(tmp_path):
    from dossier.sources.saved import SavedDiffSource

    root = write_project(tmp_path / "p", [])
    cache = Cache(root / ".dossier" / "cache")
    put(root / ".dossier" / "cache", 600)
    result = _run(root, "new", "600", "--state", "open")
    assert result.exit_code == 2, result.output
    assert ("--state open, but the fetch cache has #600 merged on 2026-03-20 (GitHub's record)"
            in result.stderr.replace("\n", " ")), result.stderr
    saved = tmp_path / "pr.diff"
    saved.write_text("diff --git a/a.py b/a.py\n--- a/a.py\n+++ b/a.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n")
    got = SavedDiffSource(saved, "example/repo").fetch(601)
    cache.put(601, got.meta, got.diff_text, got.provenance)
    result = _run(root, "new", "601")
    assert result.exit_code == 2
    said = result.stderr.replace("\n", " ")
    assert "#601 is cached from a saved diff, which carries no title or state: pass --title and --state" in said, said


def test_a_401_without_a_token_asks_for_one_instead_of_blaming_it():
    from tests.dossier.fake_github import Reply

    with FakeGitHub() as gh:
        gh.fail(f"/repos/{REPO}/pulls/7", Reply(401, {"message": "Requires authentication"}))
        with pytest.raises(SourceError, match=r"asks for authentication \(HTTP 401: Requires authentication\): set "
                                              "GITHUB_TOKEN to a token that can read"):
            source(gh).fetch(7)


def test_a_server_that_caps_the_page_size_still_lists_every_file():
    """Before: a server capping per_page at 30 failed every PR of more than 30 files ('another query')."""
    files = [make_file(f"f{i}.py", "@@ -1 +1 @@\n-a\n+b") for i in range(40)]
    with FakeGitHub(max_per_page=30) as gh:
        gh.add(REPO, make_pull(7, "Many", files=files), files)
        got = source(gh).fetch(7)
    assert len(got.meta["files"]) == 40 and len(parse_diff(got.diff_text)) == 40


@pytest.mark.parametrize(("url", "said"), [("http://[::1]:8080", "an IPv6 address"),
                                           ("http://127.0.0.1:8080/ ", "a space or another blank")])
def test_an_api_url_the_client_cannot_use_is_refused_before_any_request(url, said):
    from dossier.sources.github import GithubSource

    with pytest.raises(SourceError, match=re.escape(said)):
        GithubSource(REPO, api_url=url)


@pytest.mark.parametrize("patch", ["", "\n", "  \n"])
def test_a_blank_patch_with_counted_lines_is_cached_as_missing_alike(patch):
    files = [{**make_file("a.py", "@@ -1 +1 @@\n-a\n+b"), "patch": patch, "additions": 3, "deletions": 0}]
    with FakeGitHub() as gh:
        gh.add(REPO, make_pull(7, "Blank", files=files), files)
        got = source(gh).fetch(7)
    assert got.meta["files"][0]["patch_missing"] is True and parse_diff(got.diff_text)[0].hunks == ()


# ---- probe round 3, the manual: what render showed wrong or left out while lint passed or stayed silent ----------

def test_two_findings_of_one_name_stop_render(tmp_path):
    """Before: a copy of a finding that kept its `name` left the new one out of findings.md, render clean."""
    from dossier.manual import blockers
    from dossier.project import Project
    from tests.dossier.test_findings import FINDING, _project

    root = _project(tmp_path)
    (root / "cards" / "findings" / "another-bug.yaml").write_text(
        yaml.safe_dump({**FINDING, "title": "Another bug"}, sort_keys=False))
    codes = [d.code for d in blockers(Project.load(root))]
    assert "D701" in codes, codes


def _release_lock(root: Path) -> dict:
    return load_yaml((root / "cards" / "evidence.lock").read_text())


@pytest.mark.parametrize(("damage", "said"), [
    (lambda h, built: h.update(present=[[h["present"][0][1], h["present"][0][0]]]), "ends before it begins"),
    (lambda h, built: h.update(present=[[h["present"][0][0], "0.5.77"]]), "names a release built does not list"),
    (lambda h, built: h["events"][0]["new"].update(built="1999-01-01"), "where built records"),
    (lambda h, built: h["events"][0].update(lines=[-236]), "is no 'added' change on lines [-236]"),
])
def test_a_release_history_no_scan_could_record_is_refused(real, damage, said):
    """Before: a reversed span or a release no scan lists moved the card to 'no release places them' and dropped its
    release labels from every page, with only a D313 warning."""
    from dossier.evidence import write_section
    from dossier.locks import LockError
    from dossier.release_evidence import read_release_lock

    data = _release_lock(real)
    built = dict(data["releases"]["built"])
    h = next(h for h in data["releases"]["cards"].values() if h["present"] and h["present"][0][0] != h["present"][0][1]
             and h["events"])
    read_release_lock(real)
    damage(h, built)
    write_section(real, "releases", data["releases"])
    with pytest.raises(LockError, match=re.escape(said)):
        read_release_lock(real)


def test_a_failed_gpu_run_reads_failed_in_its_row_and_its_benchmarks_heading(real):
    from dossier.manual import render_manual
    from dossier.project import Project

    path = real / "results" / "cuda" / "12508.json"
    doc = json.loads(path.read_text())
    doc.update(ok=False, failed=1, passed=doc["passed"] - 1)  # a run as regress stores one: its verdict and its counts
    doc["tests"][0].update(outcome="failed", message="assert 0.3 < 0.01")  # and the record they count
    path.write_text(json.dumps(doc))
    text = render_manual(Project.load(real))["references/reference-kernels.md"]
    row = next(line for line in text.splitlines() if line.startswith("| [#12508]"))
    assert "**FAILED**: " in row, row
    assert "(FAILED for [#12508](pr-history.md#pr-12508) on NVIDIA H200" in text
    rows = [line for line in text.splitlines() if line.startswith("| [#") and "passed on" in line]
    assert sum("FAILED" in line for line in rows) == 1


def test_show_says_a_stored_result_cannot_be_read(real):
    path = real / "results" / "cuda" / "10466.json"
    path.write_text('{"pr": 10466, "trunc')
    result = _run(real, "show", "10466")
    assert result.exit_code == 0
    assert "its stored result cannot be read" in result.stdout.replace("\n", " ").replace("│", " ")
    assert "no GPU result committed yet" not in result.stdout


def test_a_verdict_recorded_under_another_status_is_stale(real):
    """Before: a card made superseded kept its by-file row under the file its code moved to, lint silent."""
    from dossier.drift import read_lock, without_verdict
    from dossier.manual import moved_files
    from dossier.project import Project

    project = Project.load(real)
    _, recorded = read_lock(real)
    pr = next(pr for pr, e in recorded.items() if e["verdict"] == "relocated" and e["status"] == "current")
    assert pr in moved_files(project) and without_verdict(recorded, project.cards) == []
    recorded[pr] = {**recorded[pr], "status": "superseded"}
    assert without_verdict(recorded, project.cards) == [pr]
    card = real / "cards" / f"{pr}.yaml"
    card.write_text(card.read_text().replace("status: current", "status: adjacent", 1))
    assert pr not in moved_files(Project.load(real))


@pytest.mark.parametrize(("lock", "old", "new", "said"), [
    ("checked.lock", "'1470.560 rate'", "'1,470.560 rate'", "holds the number '1,470.560 rate'"),
    ("drift.lock", "lines: [120]", "lines: [-5, 0]", "line numbers 1 to 10,000,000"),
])
def test_impossible_values_in_a_lock_are_refused_not_rendered(real, lock, old, new, said):
    from dossier.locks import LockError

    path = real / "cards" / lock
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    read = {"checked.lock": read_checked, "drift.lock": read_drift_lock, "evidence.lock": read_evidence_lock}[lock]
    with pytest.raises(LockError, match=re.escape(said)):
        read(real)


@pytest.mark.parametrize(("field", "value", "said"), [("recorded", "2026-13-01", "recorded must be the day"),
                                                      ("lines", [-236], "lines must be a list of line numbers"),
                                                      ("additions", -1, "additions must be a count")])
def test_an_impossible_pr_diff_entry_is_refused(tmp_path, field, value, said):
    from dossier.evidence import LockEntry, read_lock, write_lock
    from dossier.locks import LockError

    (tmp_path / "cards").mkdir()
    entry = LockEntry("a" * 64, "b" * 64, "github", "python/x.py", "new", (3,), "2026-04-01", 1, 1, 0)
    write_lock(tmp_path, {100: entry})
    assert read_lock(tmp_path)[100] == entry
    write_lock(tmp_path, {100: dataclasses.replace(entry, **{field: value})})
    with pytest.raises(LockError, match=re.escape(said)):
        read_lock(tmp_path)


def test_a_names_lock_cut_at_an_entry_boundary_is_refused(real):
    """Before: a names.lock cut after two entries gave 55 D621 errors ('a code name no source holds') and no D311."""
    from dossier.locks import LockError

    path = real / "cards" / "names.lock"
    lines = path.read_text().splitlines(keepends=True)
    cut = lines[:[i for i, ln in enumerate(lines) if ln.startswith("names:")][0] + 3]
    assert len(read_names(real)) > 2
    path.write_text("".join(cut))
    with pytest.raises(LockError, match="no closing `count:`"):
        read_names(real)


@pytest.mark.parametrize(("field", "value"), [("passed", -4), ("date", "2026-13-45")])
def test_a_result_with_an_impossible_count_or_day_is_refused(real, field, value):
    from dossier.regress import RegressError, read_result

    path = real / "results" / "cuda" / "12508.json"
    doc = json.loads(path.read_text())
    path.write_text(json.dumps({**doc, field: value}))
    with pytest.raises(RegressError):
        read_result(real / "results", 12508, bench=doc["bench"]["module"])


def test_small_messages_name_what_is_wrong(tmp_path):
    from dossier.spec import Spec

    [problem] = Spec("date", nullable=True).check("2025-9-11", "merged_at")
    assert problem.message == ("merged_at is '2025-9-11', which YAML reads as text: write the month and day in two "
                               "digits, 2025-09-11")
    [problem] = Spec("list", items=Spec("int"), distinct=True).check([10258, 10258], "superseded_by")
    assert problem.kind == "duplicate" and "superseded_by[1] 10258 is also superseded_by[0]" in problem.message


def test_a_release_record_whose_file_count_is_no_count_is_named_so(tmp_path):
    from dossier.releases import incomplete, load
    from tests.dossier.release_support import write_release

    cache = tmp_path / "releases"
    write_release(cache, "0.5.1", "2025-09-01", {"python/sglang/a.py": "x = 1\n"})
    record = cache / "0.5.1" / "release.json"
    record.write_text(json.dumps({**json.loads(record.read_text()), "files": True}))
    assert load(cache / "0.5.1") is None
    [(_, why)] = incomplete(cache)
    assert why == "release.json records files: True, which is no count of sources"


def test_a_lane_with_no_symptoms_is_a_schema_error(tmp_path, lanes):
    """Before: `symptoms: []` dropped the lane from SKILL.md's symptom table with lint clean."""
    from dossier.manual import blockers
    from dossier.project import Project

    lanes["lanes"][0]["symptoms"] = []
    root = write_project(tmp_path / "p", [make_card(100)], lanes=lanes)
    assert any(d.code.startswith("D1") and "symptoms" in d.message for d in blockers(Project.load(root)))


# ---- probe round 3, releases and regress -----------------------------------------------------------------------

@pytest.mark.parametrize("node", ["./tests/runtime/x/test_p.py::test_f", "tests//runtime/x/test_p.py::test_f",
                                  "tests/runtime/x/", "tests/runtime/x/test_p.py"])
def test_a_test_id_lint_accepts_matches_the_test_pytest_ran(node):
    """Before: './tests/...', a doubled '/' or a folder ending in '/' matched no JUnit case: FAIL with no test."""
    from dossier.regress import _covers

    assert _covers(node, "tests.runtime.x.test_p", "test_f")


def test_a_junit_case_inside_a_class_gets_its_node_id():
    from dossier.regress import parse_junit

    xml = ('<testsuite><testcase classname="tests.runtime.gdn.test_x.TestA" name="test_y"><failure message="boom"/>'
           '</testcase><testcase classname="tests.runtime.gdn.test_x" name="test_z"/></testsuite>')
    assert [t["id"] for t in parse_junit(xml)] == ["tests/runtime/gdn/test_x.py::TestA::test_y",
                                                   "tests/runtime/gdn/test_x.py::test_z"]


def test_a_results_folder_that_is_a_broken_link_is_named_so(tmp_path):
    from dossier.files import check_writable

    (tmp_path / "dl").symlink_to("/nonexistent/x")
    with pytest.raises(OSError, match=r"a broken link \(to /nonexistent/x\), not a folder"):
        check_writable(tmp_path / "dl")


def test_schema_dot_slash_dash_is_a_file_and_dash_is_standard_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["schema", "-o", "./-"])
    assert result.exit_code == 0 and result.stdout == "" and json.loads((tmp_path / "-").read_text())
    result = runner.invoke(app, ["schema", "-o", "-"])
    assert result.exit_code == 0 and json.loads(result.stdout)


@pytest.mark.parametrize("damage", [lambda f: f.unlink(), lambda f: f.write_text(f.read_text()[:20])])
def test_a_release_whose_index_is_missing_or_cut_is_not_complete(tmp_path, damage):
    """Before: `releases list` showed it, sync called it cached, and verify, surface and for-version stopped on it."""
    import hashlib

    from dossier.releases import INDEX_SHA, incomplete, load
    from tests.dossier.release_support import write_release

    cache = tmp_path / "releases"
    tree = write_release(cache, "0.5.1", "2025-09-01", {"a.py": "x = 1\n"})
    index = json.dumps({"python/sglang/a.py": [6, hashlib.sha256(b"x = 1\n").hexdigest()]}).encode()
    (tree / "files.json").write_bytes(index)
    record = json.loads((tree / "release.json").read_text())
    (tree / "release.json").write_text(json.dumps({**record, INDEX_SHA: hashlib.sha256(index).hexdigest()}))
    assert load(cache / "0.5.1") is not None
    damage(cache / "0.5.1" / "files.json")
    assert load(cache / "0.5.1") is None
    [(_, why)] = incomplete(cache)
    assert why.startswith("files.json ")


def test_a_release_with_a_source_added_says_added(tmp_path):
    from dossier.releases import incomplete
    from tests.dossier.release_support import write_release

    cache = tmp_path / "releases"
    tree = write_release(cache, "0.5.1", "2025-09-01", {"a.py": "x = 1\n"})
    (tree / "python" / "sglang" / "zz.py").write_text("x = 1\n")
    [(_, why)] = incomplete(cache)
    assert "one was added since sync" in why


def test_regress_refuses_a_result_path_in_the_way_before_running_tests(real, tmp_path):
    results = tmp_path / "r"
    (results / "cpu" / "12508.json").mkdir(parents=True)
    result = runner.invoke(app, ["regress", "12508", "--device", "cpu", "--results", str(results), "--root", str(real)])
    assert result.exit_code == 2, result.output
    assert f"{results / 'cpu' / '12508.json'} is a folder, where a job writes its result" in result.output
    assert "running the tests" not in result.output


def test_a_default_release_cache_that_is_a_file_is_an_error(tmp_path, monkeypatch):
    monkeypatch.delenv("DOSSIER_RELEASES", raising=False)
    root = write_project(tmp_path / "p", [make_card(100)])
    (root / ".dossier").mkdir()
    (root / ".dossier" / "releases").write_text("not a cache\n")
    result = _run(root, "releases", "list")
    assert result.exit_code == 2, result.output
    assert f"the release cache {root / '.dossier' / 'releases'} is a file, not a folder" in result.output.replace("\n", " ")


@pytest.mark.parametrize("line", ["[x](http://e) faster", "1.2x <script>", "two\nlines"])
def test_a_result_summary_that_would_render_as_markup_is_refused(real, line):
    from dossier.regress import RegressError, read_result

    path = real / "results" / "cuda" / "12508.json"
    doc = json.loads(path.read_text())
    doc["bench"]["summary"] = [*doc["bench"].get("summary", []), line]
    path.write_text(json.dumps(doc))
    with pytest.raises(RegressError, match="plain lines of text"):
        read_result(real / "results", 12508, bench=doc["bench"]["module"])


def test_a_names_lock_edited_by_one_line_gives_one_error_not_one_per_card(real):
    """Deleting one name from names.lock gave 62 D621 errors on 33 cards, for names still in the lock, with the one
    D311 naming the cause after them: D621 stays silent while the lock cannot be read."""
    from typer.testing import CliRunner

    from dossier.cli import app

    path = real / "cards" / "names.lock"
    text = path.read_text()
    line = next(ln for ln in text.splitlines(keepends=True) if ln.startswith("  ") and ":" in ln)
    path.write_text(text.replace(line, "", 1))
    out = CliRunner().invoke(app, ["lint", "--root", str(real), "--select", "D621", "--select", "D311"]).output
    assert "D311 cards/names.lock" in out and ": D621 " not in out
