"""Where a deleted file went: the most alike file its release added, if at least half alike, followed to the end."""

from __future__ import annotations

from pathlib import Path

from dossier.file_moves import Move, moves, successor
from dossier.releases import synced
from dossier.source_tree import SourceTree
from tests.dossier.release_support import write_release

BODY = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(10))  # 20 non-blank lines


def test_the_most_alike_added_file_is_the_successor():
    half = BODY.split("def f5")[0]  # 10 of its 20 lines: 2*10/30 alike
    assert successor(BODY, {"a.py": half, "b.py": BODY + "def g():\n    pass\n", "c.py": "x = 1\n"}) == ("b.py", 95)
    assert successor(BODY, {"a.py": half}) == ("a.py", 66)


def test_nothing_half_alike_and_an_empty_file_have_no_successor():
    quarter = BODY.split("def f3")[0] + "".join(f"y{i} = {i}\n" for i in range(30))  # 6 of 20 lines, 36 in all
    assert successor(BODY, {"a.py": quarter}) is None
    assert successor("\n\n", {"a.py": "\n"}) is None and successor(BODY, {}) is None


def test_blank_lines_and_indentation_do_not_count_against_a_move():
    moved = "\n\n".join(line.strip() for line in BODY.splitlines())
    assert successor(BODY, {"a.py": moved}) == ("a.py", 100)


def test_ties_go_to_the_first_path_in_sorted_order():
    assert successor(BODY, {"z.py": BODY, "a.py": BODY}) == ("a.py", 100)


def _trees(cache: Path, releases: list[tuple[str, dict[str, str]]]) -> list[SourceTree]:
    for i, (version, files) in enumerate(releases):
        write_release(cache, version, f"2026-0{i + 1}-01", files)
    return [SourceTree.release(r) for r in synced(cache)]


def test_a_file_is_followed_through_each_move_to_its_deletion(tmp_path):
    other = "".join(f"z{i} = {i}\n" for i in range(20))
    trees = _trees(tmp_path, [
        ("0.1.0", {"srt/a.py": BODY, "srt/kept.py": other, "srt/gone.py": other}),
        ("0.2.0", {"srt/b.py": BODY, "srt/kept.py": other, "srt/gone.py": other}),  # a.py -> b.py
        ("0.3.0", {"kernels/b.py": BODY + "# moved\n", "srt/kept.py": other}),  # b.py -> kernels/b.py; gone.py deleted
        ("0.4.0", {"srt/kept.py": other}),  # kernels/b.py deleted, nothing added
    ])
    got = moves(["python/sglang/srt/a.py", "python/sglang/srt/kept.py", "python/sglang/srt/gone.py",
                 "python/sglang/srt/never.py", "docker/Dockerfile"], trees)
    assert got == {
        "python/sglang/srt/a.py": (Move("0.2.0", "python/sglang/srt/b.py", 100),
                                   Move("0.3.0", "python/sglang/kernels/b.py", 97), Move("0.4.0", None, None)),
        # 0.3.0 added kernels/b.py, which shares none of its lines
        "python/sglang/srt/gone.py": (Move("0.3.0", None, None),),
        "python/sglang/srt/never.py": (),  # no release held it
    }


def test_a_file_that_existed_before_is_no_successor(tmp_path):
    trees = _trees(tmp_path, [("0.1.0", {"srt/a.py": BODY, "srt/b.py": BODY}), ("0.2.0", {"srt/b.py": BODY})])
    assert moves(["python/sglang/srt/a.py"], trees) == {"python/sglang/srt/a.py": (Move("0.2.0", None, None),)}


def test_code_merged_into_a_file_that_already_existed_ends_the_trail_there(tmp_path):
    """0.5.23 deleted kernels/ops/moe/triton_sigmoid_gate_mul.py and added no file like it: its kernel and wrapper
    went into elementwise.py, which 0.5.22 already had (by-file.md said only "deleted in 0.5.23")."""
    host = "def other(x):\n    return x\n"
    half = BODY.split("def f5")[0]  # f0..f4: five of the deleted file's ten names
    trees = _trees(tmp_path, [
        ("0.1.0", {"srt/a.py": BODY, "srt/host.py": host, "srt/few.py": host, "srt/b.py": BODY}),
        ("0.2.0", {"srt/host.py": host + half, "srt/few.py": host + "def f0(x):\n    return x\n", "srt/b.py": BODY}),
    ])
    assert moves(["python/sglang/srt/a.py"], trees) == {
        "python/sglang/srt/a.py": (Move("0.2.0", "python/sglang/srt/host.py", None),)}
    # fewer than half of its names newly defined there (one of ten), or a file already defining them all: no lead
    trees = _trees(tmp_path / "other", [
        ("0.1.0", {"srt/a.py": BODY, "srt/few.py": host, "srt/b.py": BODY}),
        ("0.2.0", {"srt/few.py": host + "def f0(x):\n    return x\n", "srt/b.py": BODY}),
    ])
    assert moves(["python/sglang/srt/a.py"], trees) == {"python/sglang/srt/a.py": (Move("0.2.0", None, None),)}


def test_a_definition_under_a_module_level_if_or_try_is_a_top_level_name():
    from dossier.file_moves import _top_level_names

    text = ("import torch\n\nif torch.cuda.is_available():\n    def fused_kernel(x):\n        return x\n"
            "else:\n    class Fallback:\n        pass\n\ntry:\n    def guarded():\n        pass\n"
            "except ImportError:\n    pass\n\ndef plain():\n    def inner():\n        pass\n")
    assert _top_level_names(text) == {"fused_kernel", "Fallback", "guarded", "plain"}
