"""dossier/tree_cache.py: what is read off a whole tree is kept on disk for the next run, and read afresh once the
tree, or dossier, is not as it was."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from dossier import tree_cache
from dossier.source_tree import SourceTree
from tests.dossier.factories import make_card, sglang_package, write_project


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache folder of the test's own, and no tree remembered in this process yet."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(tree_cache.ENV, str(folder))
    monkeypatch.setattr(tree_cache, "_TREES", {})
    return folder


def _next_run(monkeypatch) -> None:
    """This process's entries written as at its exit, and forgotten as by the next process."""
    tree_cache.save_all()
    monkeypatch.setattr(tree_cache, "_TREES", {})


def _tree(tmp_path, text: str = "x = 1\n") -> SourceTree:
    return SourceTree.at(sglang_package(tmp_path / "site", {"srt/mod.py": text}))


def _never():
    raise AssertionError("computed again")


def test_the_next_run_reads_a_value_off_disk_without_computing_it(tmp_path, cache, monkeypatch):
    tree = _tree(tmp_path)
    assert tree_cache.remembered(tree, "words", lambda: frozenset({"x"})) == frozenset({"x"})
    assert not cache.exists()  # written when the process ends, not on every entry
    _next_run(monkeypatch)
    assert len(list(cache.glob("*.pickle"))) == 1
    assert tree_cache.remembered(tree, "words", _never) == frozenset({"x"})
    assert tree_cache.remembered(tree, "other", lambda: 7) == 7  # a new entry is computed and added
    _next_run(monkeypatch)
    assert tree_cache.remembered(tree, "words", _never) == frozenset({"x"})
    assert tree_cache.remembered(tree, "other", _never) == 7


def test_an_edited_file_or_another_dossier_reads_afresh(tmp_path, cache, monkeypatch):
    tree = _tree(tmp_path)
    tree_cache.remembered(tree, "words", lambda: "old")
    _next_run(monkeypatch)
    edited = tree.package / "srt" / "mod.py"
    edited.write_text("x = 22\n")  # another size, another modification time
    assert tree_cache.remembered(tree, "words", lambda: "new") == "new"
    _next_run(monkeypatch)
    stat = edited.stat()
    os.utime(edited, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # same size, touched
    assert tree_cache.remembered(tree, "words", lambda: "touched") == "touched"
    _next_run(monkeypatch)
    monkeypatch.setattr(tree_cache, "_code_digest", lambda: "a changed rule")
    assert tree_cache.remembered(tree, "words", lambda: "re-read") == "re-read"


def test_a_damaged_cache_file_is_read_as_empty_and_written_anew(tmp_path, cache, monkeypatch):
    tree = _tree(tmp_path)
    tree_cache.remembered(tree, "words", lambda: "first")
    _next_run(monkeypatch)
    [kept] = cache.glob("*.pickle")
    kept.write_bytes(kept.read_bytes()[:20])  # cut short, as an interrupted write of another tool would leave it
    assert tree_cache.remembered(tree, "words", lambda: "again") == "again"
    _next_run(monkeypatch)
    assert tree_cache.remembered(tree, "words", _never) == "again"
    kept.write_bytes(pickle.dumps(["not", "a", "cache"]))
    _next_run(monkeypatch)
    assert tree_cache.remembered(tree, "words", lambda: "third") == "third"


def test_what_cannot_or_should_not_be_kept_stays_in_the_process(tmp_path, cache, monkeypatch):
    tree = _tree(tmp_path)
    assert tree_cache.remembered(tree, "lambda", lambda: (lambda: 1))() == 1  # pickle refuses a lambda
    big = "x" * (tree_cache.LARGEST + 1)
    assert tree_cache.remembered(tree, "big", lambda: big) is big
    tree_cache.remembered(tree, "small", lambda: 3)
    _next_run(monkeypatch)
    assert tree_cache.remembered(tree, "small", _never) == 3
    assert tree_cache.remembered(tree, "big", lambda: "rebuilt") == "rebuilt"
    assert tree_cache.remembered(tree, "lambda", lambda: "rebuilt") == "rebuilt"


def test_off_keeps_nothing_on_disk_and_an_unwritable_folder_is_no_error(tmp_path, cache, monkeypatch):
    tree = _tree(tmp_path)
    monkeypatch.setenv(tree_cache.ENV, "off")
    tree_cache.remembered(tree, "words", lambda: 1)
    _next_run(monkeypatch)
    assert not cache.exists()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(tree_cache.ENV, str(blocker / "cache"))  # its parent is a file: nothing can be written
    assert tree_cache.remembered(tree, "words", lambda: 2) == 2
    _next_run(monkeypatch)
    assert tree_cache.remembered(tree, "words", lambda: 3) == 3


def test_the_default_folder_is_under_the_cache_home_and_no_home_is_no_error(monkeypatch):
    monkeypatch.delenv(tree_cache.ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
    assert tree_cache.folder() == Path("/somewhere/dossier/trees")
    monkeypatch.delenv("XDG_CACHE_HOME")

    def no_home(cls):
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", classmethod(no_home))
    assert tree_cache.folder() is None


def test_the_folder_keeps_the_trees_used_last(tmp_path, cache, monkeypatch):
    """Three trees, two kept: the one read again since it was written outlives a newer one never read."""
    monkeypatch.setattr(tree_cache, "KEEP", 2)
    trees = [SourceTree.at(sglang_package(tmp_path / f"site{i}", {"srt/mod.py": f"x = {i}\n"})) for i in range(3)]
    for i, tree in enumerate(trees[:2]):
        tree_cache.remembered(tree, "words", lambda i=i: i)
        _next_run(monkeypatch)
    [first] = [p for p in cache.glob("*.pickle") if tree_cache.fingerprint(trees[0]) in p.name]
    os.utime(first, ns=(0, 0))  # written long ago ...
    assert tree_cache.remembered(trees[0], "words", _never) == 0  # ... and read now
    tree_cache.remembered(trees[2], "words", lambda: 2)
    _next_run(monkeypatch)
    assert len(list(cache.glob("*.pickle"))) == 2
    assert tree_cache.remembered(trees[0], "words", _never) == 0
    assert tree_cache.remembered(trees[2], "words", _never) == 2
    assert tree_cache.remembered(trees[1], "words", lambda: "gone") == "gone"


def test_lint_reads_the_same_surface_off_disk(tmp_path, cache, monkeypatch):
    """A whole lint run twice, the second from the cache folder: the same findings, and the surface comes back
    with its tree (kept without it)."""
    from dossier.lint import LintContext, run_lint
    from dossier.lint.claims import surface
    from dossier.project import Project

    pkg = sglang_package(tmp_path / "site", {"srt/server_args.py": "parser.add_argument('--widget-size', default=4)\n"})
    root = write_project(tmp_path / "proj", [make_card(100)])

    def findings():
        ctx = LintContext(Project.load(root), sglang_src=pkg)
        return sorted(d.text() for d in run_lint(ctx)), surface(ctx)

    first, read = findings()
    _next_run(monkeypatch)
    again, kept = findings()
    assert again == first and kept is not read
    assert kept.tree is not None and kept.tree.package == read.tree.package and kept.flags == read.flags
