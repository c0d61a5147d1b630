"""Git source against a temporary repository: squash and merge commits, none or several matches."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from dossier.diff import parse_diff
from dossier.sources import SourceError
from dossier.sources.cache import Cache
from dossier.sources.git import GitSource

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Ada",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_SYSTEM": os.devnull,
}


def git(repo: Path, *args: str, date: str = "2026-03-20T23:30:00+05:00") -> str:
    env = {**ENV, "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    return subprocess.run(
        ["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def commit(repo: Path, message: str, files: dict[str, str | bytes | None]) -> str:
    for name, content in files.items():
        path = repo / name
        if content is None:
            git(repo, "rm", "-q", name)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        git(repo, "add", name)
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def clone(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("clone")
    git(repo, "init", "-q", "-b", "main")
    body = "".join(f"line {i}\n" for i in range(30))
    commit(
        repo, "Initial import", {"python/linear.py": body, "python/old_name.py": body, "README.md": "hi\n"}
    )
    git(repo, "mv", "python/old_name.py", "python/new_name.py")
    commit(
        repo,
        "[Qwen3-Next] Fuse the projections (#12)",
        {
            "python/linear.py": body.replace("line 3\n", "line 3 fused\nline 3b\n"),
            "assets/plot.png": b"\x89PNG\r\n\x1a\n\x00\x00binary",
        },
    )
    commit(repo, "Unrelated follow-up (#123)", {"README.md": "hello\n"})
    git(repo, "checkout", "-q", "-b", "dev/feature")
    commit(repo, "work in progress", {"python/feature.py": "x = 1\n"})
    git(repo, "checkout", "-q", "main")
    git(
        repo,
        "merge",
        "-q",
        "--no-ff",
        "dev/feature",
        "-m",
        "Merge pull request #34 from dev/feature\n\nAdd feature x",
    )
    commit(repo, "Merge pull request #345 from dev/other", {"README.md": "again\n"})
    commit(repo, "First try (#56)", {"a.txt": "1\n"})
    commit(repo, 'Revert "First try (#56)" and retry (#56)', {"a.txt": "2\n"})
    return repo


def test_squash_commit_diff_against_first_parent(clone):
    got = GitSource(clone, "o/r").fetch(12)
    m = got.meta
    assert (m["title"], m["state"], m["merged"], m["author"]) == (
        "[Qwen3-Next] Fuse the projections",
        "merged",
        True,
        "Ada",
    )
    assert m["merged_at"] == "2026-03-20T18:30:00Z"  # committer date, in UTC
    files = {f["filename"]: f for f in m["files"]}
    assert set(files) == {"python/linear.py", "python/new_name.py", "assets/plot.png"}
    assert files["python/new_name.py"]["status"] == "renamed"
    assert files["python/new_name.py"]["previous_filename"] == "python/old_name.py"
    assert files["assets/plot.png"]["binary"] and files["assets/plot.png"]["status"] == "added"
    assert (files["python/linear.py"]["additions"], files["python/linear.py"]["deletions"]) == (2, 1)
    assert (m["additions"], m["deletions"], m["changed_files"]) == (2, 1, 3)
    linear = next(f for f in parse_diff(got.diff_text) if f.path == "python/linear.py")
    assert [(ln.new_lineno, ln.text) for ln in linear.added()] == [(4, "line 3 fused"), (5, "line 3b")]
    sha = git(clone, "log", "--format=%H", "-1", "--grep=(#12)", "-F")
    parent = git(clone, "rev-parse", f"{sha}^1")
    assert got.provenance == {
        "source": "git",
        "repo": "o/r",
        "repo_path": str(clone.resolve()),
        "ref": "HEAD",
        "commit": sha,
        "parent": parent,
    }
    assert m["merge_commit_sha"] == sha and m["base"]["sha"] == parent and m["head"]["sha"] == sha


def test_merge_commit_title_from_body_and_head_from_second_parent(clone):
    got = GitSource(clone, "o/r").fetch(34)
    assert got.meta["title"] == "Add feature x"
    assert [f["filename"] for f in got.meta["files"]] == ["python/feature.py"]
    assert got.meta["head"]["sha"] == git(clone, "rev-parse", "dev/feature")


def test_no_matching_commit(clone):
    with pytest.raises(SourceError, match=r"no commit in .* whose subject ends in '\(#7\)'"):
        GitSource(clone, "o/r").fetch(7)


def test_several_matching_commits_are_listed(clone):
    with pytest.raises(SourceError, match=r"2 commits match in .*'First try \(#56\)'"):
        GitSource(clone, "o/r").fetch(56)


def test_not_a_git_repository(tmp_path):
    with pytest.raises(SourceError, match="is not a git repository"):
        GitSource(tmp_path, "o/r")


def test_cli_git_source_fills_the_cache(clone, project_dir, tmp_path):
    cache_dir = tmp_path / "cache"
    args = [
        "fetch",
        "12",
        "34",
        "7",
        "--source",
        "git",
        "--git-repo",
        str(clone),
        "--cache-dir",
        str(cache_dir),
        "--root",
        str(project_dir),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output
    assert "error: #7: no commit in" in result.stderr
    cache = Cache(cache_dir)
    assert cache.get(12).provenance["source"] == "git" and cache.get(34).meta["title"] == "Add feature x"
    assert cache.get(7) is None


def test_cli_git_source_needs_a_clone(project_dir):
    result = CliRunner().invoke(app, ["fetch", "12", "--source", "git", "--root", str(project_dir)])
    assert result.exit_code == 2
    assert "--source git needs --git-repo" in result.stderr


def test_a_file_whose_diff_is_not_utf8_is_named_by_the_fetch_and_by_lint(project_dir, tmp_path):
    """A Latin-1 file's diff was cached with U+FFFD in place of its bytes and nothing said so: a card quoting the
    line as the source has it ('caf\\xe9') then failed D303 with no reason given, and one copying the cached line
    put U+FFFD into the manual. The fetch names the file and its lines, provenance records them, D303's hint says
    why, D112 refuses U+FFFD in a card; the PR's other files are cached as they are."""
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project
    from tests.dossier.factories import make_card, write_project

    repo = tmp_path / "clone"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit(repo, "Initial import", {"python/latin.py": b"a = 1\nname = 'caf\xe9'\nb = 2\n", "python/ok.py": "x = 1\n"})
    commit(repo, "Rename the dish (#77)", {"python/latin.py": b"a = 1\nname = 'th\xe9 cr\xe8me'\nb = 2\n",
                                           "python/ok.py": "x = 'th\u00e9'\n"})
    cache_dir = tmp_path / "cache"
    result = CliRunner().invoke(app, ["fetch", "77", "--source", "git", "--git-repo", str(repo), "--cache-dir",
                                      str(cache_dir), "--root", str(project_dir)])
    assert result.exit_code == 0, result.output
    assert ("warning: #77: python/latin.py: 2 diff line(s) not UTF-8, cached with U+FFFD (\ufffd) in place of each "
            "byte UTF-8 cannot read") in result.stderr
    entry = Cache(cache_dir).get(77)
    assert entry.provenance["not_utf8"] == {"python/latin.py": 2}
    assert "+name = 'th\ufffd cr\ufffdme'" in entry.diff_text and "+x = 'th\u00e9'" in entry.diff_text

    def project(match: str) -> Path:
        card = make_card(77, key_fragment={**make_card(77)["key_fragment"], "file": "python/latin.py",
                                           "match": match})
        return write_project(tmp_path / f"p{len(match)}", [card])

    def lint(match: str) -> list:
        return run_lint(LintContext(Project.load(project(match)), cache_dir=cache_dir), select=["D303", "D112"])

    quoted = lint("name = 'th\u00e9 cr\u00e8me'")
    assert [d.code for d in quoted] == ["D303"]
    assert "2 line(s) of python/latin.py in the cached diff were not UTF-8 and hold U+FFFD" in quoted[0].hint
    shown = CliRunner().invoke(app, ["show", "77", "--diff", "--cache-dir", str(cache_dir), "--root",
                                     str(project("name = 'th"))])
    assert shown.exit_code == 0, shown.output
    assert ("note: 2 line(s) of this file were not UTF-8 when fetched: U+FFFD (\ufffd) stands where their bytes were"
            in shown.stdout)
    copied = lint("name = 'th\ufffd cr\ufffdme'")
    assert [d.code for d in copied] == ["D112"] and "U+FFFD at character 11" in copied[0].message


def test_a_commit_title_that_is_not_utf8_is_named_by_the_fetch(project_dir, tmp_path):
    """A Latin-1 commit subject became the cached PR title with U+FFFD in it and nothing said so (a card scaffolded
    from it is then refused by D112 with no hint why): the fetch names the field and provenance records it; the
    diff's own files, all UTF-8, are not named."""
    repo = tmp_path / "clone"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    parent = commit(repo, "Initial import", {"python/ok.py": "x = 1\n"})
    (repo / "python/ok.py").write_text("x = 2\n")
    git(repo, "add", "python/ok.py")
    # git commit re-reads a message that is not UTF-8 as Latin-1; an imported history keeps the bytes as they were
    raw = (f"tree {git(repo, 'write-tree')}\nparent {parent}\nauthor Ada <ada@example.com> 1774000000 +0000\n"
           f"committer Ada <ada@example.com> 1774000000 +0000\n\n").encode() + b"Caf\xe9 kernels (#78)\n"
    made = subprocess.run(["git", "-C", str(repo), "hash-object", "-t", "commit", "-w", "--stdin"], input=raw,
                          env=ENV, check=True, capture_output=True).stdout.decode().strip()
    git(repo, "update-ref", "refs/heads/main", made)
    cache_dir = tmp_path / "cache"
    result = CliRunner().invoke(app, ["fetch", "78", "--source", "git", "--git-repo", str(repo), "--cache-dir",
                                      str(cache_dir), "--root", str(project_dir)])
    assert result.exit_code == 0, result.output
    assert "warning: #78: the commit's title not UTF-8, cached with U+FFFD" in result.stderr
    assert "D112" in result.stderr and "diff line(s)" not in result.stderr
    entry = Cache(cache_dir).get(78)
    assert entry.meta["title"] == "Caf\ufffd kernels"
    assert entry.provenance["not_utf8_meta"] == ["title"] and "not_utf8" not in entry.provenance


def test_a_utf8_title_and_author_are_not_named(clone, project_dir, tmp_path):
    cache_dir = tmp_path / "cache"
    result = CliRunner().invoke(app, ["fetch", "12", "34", "--source", "git", "--git-repo", str(clone), "--cache-dir",
                                      str(cache_dir), "--root", str(project_dir)])
    assert result.exit_code == 0, result.output
    assert "not UTF-8" not in result.stderr
    assert all("not_utf8_meta" not in Cache(cache_dir).get(pr).provenance for pr in (12, 34))


def test_a_clone_whose_log_encoding_is_latin1_still_reads_utf8_titles(tmp_path, project_dir):
    """With i18n.logOutputEncoding=ISO-8859-1 in the clone's config, git log wrote Latin-1 and every non-ASCII title
    was cached with U+FFFD: the log is asked for in UTF-8."""
    repo = tmp_path / "clone"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "i18n.logOutputEncoding", "ISO-8859-1")
    commit(repo, "Initial import", {"a.txt": "1\n"})
    commit(repo, "Th\u00e9 kernels (#79)", {"a.txt": "2\n"})
    cache_dir = tmp_path / "cache"
    result = CliRunner().invoke(app, ["fetch", "79", "--source", "git", "--git-repo", str(repo), "--cache-dir",
                                      str(cache_dir), "--root", str(project_dir)])
    assert result.exit_code == 0, result.output
    assert Cache(cache_dir).get(79).meta["title"] == "Th\u00e9 kernels" and "not UTF-8" not in result.stderr
