"""A name mentioned in a comment or docstring is not the code: drift and release evidence skip such hits."""

from __future__ import annotations

from pathlib import Path

from dossier import drift
from dossier.code_lines import code_only, lines_in_code
from dossier.project import Project
from tests.dossier.factories import make_card, write_project
from tests.dossier.test_drift import FAKE, kf, write_tree

PY = '''"""Module docstring naming unified_op."""
import torch  # unified_op is registered elsewhere


def caller(x):
    """Calls unified_op on x."""
    # unified_op(x) would be the eager path
    y = torch.ops.sglang.unified_op(x)
    name = "unified_op"
    return y, name
'''


def test_python_comments_and_docstrings_are_not_code():
    assert lines_in_code(PY, "unified_op", "a.py") == (8, 9)  # the call and a string passed as data
    blanked = code_only(PY, "a.py")
    assert len(blanked.splitlines()) == len(PY.splitlines()) and "Calls" not in blanked


def test_c_like_comments_are_not_code():
    cu = "// launch widget_kernel here\n/* widget_kernel\n docs */\nwidget_kernel<<<g, b>>>(x);\n"
    assert lines_in_code(cu, "widget_kernel", "k.cu") == (4,)


def test_a_phrase_is_searched_in_comments_too():
    text = "def f():\n    # gated_delta_rule_mtp kernel (SM90 + SM100+)\n    pass\n"
    assert lines_in_code(text, "gated_delta_rule_mtp kernel (SM90 + SM100+)", "a.py") == (2,)


def test_broken_python_falls_back_to_every_line():
    assert lines_in_code("def f(:\n  unified_op(\n", "unified_op", "a.py") == (2,)


def test_drift_does_not_relocate_a_name_to_a_comment(tmp_path: Path):
    """#17613's false positive: its op name survived only in a comment of an unrelated kernel."""
    files = {**FAKE, "srt/layers/other_kernel.py": "def run(q):\n    # trims rows like unified_op did\n    return q\n"}
    package = write_tree(tmp_path / "site" / "sglang", files)
    card = make_card(100, key_fragment=kf("python/sglang/srt/layers/radix_linear_attention.py", "unified_op"))
    root = write_project(tmp_path / "p", [card])
    (result,) = drift.check(Project.load(root).cards, drift.locate(package))
    assert result.verdict == "missing" and result.found == ()
    files["srt/layers/radix_linear_attention.py"] = "def unified_op(x):\n    return x\n"
    package = write_tree(tmp_path / "site2" / "sglang", files)
    (result,) = drift.check(Project.load(root).cards, drift.locate(package))
    assert result.verdict == "in-place"
