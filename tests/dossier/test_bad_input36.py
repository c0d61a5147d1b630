"""Bad input, round 36 (session 48, helper C2): numbers too long for Python to read, and a release index whose
entries are not sizes and hashes.

- A digit run past Python's 4,300-digit limit on int() (prose holds up to 5,000 characters; lanes.yaml has no limit)
  crashed the rules that read a number out of the text with int(): D241 (an ``sm_major != 999...`` matched line),
  D242 (``TP999...`` in a sentence reporting the run), D245 (``Triton kernel from #999...`` in lanes.yaml), and the
  older D235, D519 and D625 (any ``#999...`` citation; D527 reads lanes.yaml's citations the same way), each a
  "rule crashed: ValueError" D000 in place of a judgment of the card. A PR number, a TP size or an SM major of that
  length is none: the patterns now read at most the digits one can have (7 for a PR, 6 for a TP size, 4 for a
  major), and skip a longer run.
- A release's files.json whose entry for a source was ``["12", "abc"]`` or ``[null, null]`` (a cache whose
  release.json, written by an older sync, carries no sha256 of the index) read as a whole release: `releases list`
  listed it, and `releases surface` (every command that read that source) stopped on "internal error: ValueError:
  Cannot specify ',' with 's'" when it compared the file's size. The index is now read only when every entry is a
  size and a sha256; otherwise the release is incomplete, named with the entry, like any other damaged index.
- `dossier drift --sglang-src` on a tree where the card's file is gone and its line sits in another file saved as
  UTF-16: reading one file refused UTF-16 by name (round 22's), but the search of every file (where did the code
  go?) decoded it as UTF-8 noise, so drift said "missing" and --record wrote that into cards/drift.lock. The search
  now reads each file as a single read does, and the run stops naming the file.
"""

from __future__ import annotations

import copy
import json

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from tests.dossier.factories import LANES, make_card, write_project
from tests.dossier.test_bad_input12 import _synced
from tests.dossier.test_lint_rules import lint

runner = CliRunner()

BIG = "9" * 4400  # past CPython's int_max_str_digits (4300), within a card's 5,000 characters of prose


@pytest.mark.parametrize("code, where, text", [
    ("D241", "match", f"use_state_pool = sm_major != {BIG}"),
    ("D242", "motivation", f"The author profiled it at TP{BIG} on H100."),
    ("D235", "motivation", f"The change follows #{BIG} closely."),
    ("D519", "motivation", f"The change follows #{BIG} closely."),
    ("D245", "lanes", f"The Triton kernel from #{BIG} was measured."),
    ("D625", "lanes", f"The change follows #{BIG} closely."),
])
def test_a_number_too_long_for_int_crashes_no_rule(tmp_path, code, where, text):
    card = make_card(100)
    card["validation"]["claims"] = ["TTFT -2.6% (PR description; TP4, one H100)"]
    lanes = copy.deepcopy(LANES)
    if where == "match":
        card["key_fragment"]["match"] = text
    elif where == "motivation":
        card["motivation"] = f"{text} {card['motivation']}"
    else:
        lanes["lanes"][0]["investigation"].append(text)
    root = write_project(tmp_path, [card], lanes)
    found = lint(root, select=[code])
    assert not [d for d in found if d.code == "D000"], found


@pytest.mark.parametrize("entry", [["12", "abc"], [None, None], [12.5, "x" * 64], [True, "0" * 64], [-1, "0" * 64]])
def test_a_release_index_entry_that_is_no_size_and_sha256_makes_the_release_incomplete(tmp_path, monkeypatch, entry):
    from dossier.releases import incomplete, load

    cache = _synced(tmp_path)
    release = cache / "0.1.0"
    index = json.loads((release / "files.json").read_text())
    index["python/sglang/srt/model.py"] = entry
    (release / "files.json").write_text(json.dumps(index))
    record = json.loads((release / "release.json").read_text())
    del record["files_json_sha256"]  # as an older sync wrote it: nothing to check the index's bytes against
    (release / "release.json").write_text(json.dumps(record))
    assert load(release) is None
    [(path, why)] = incomplete(cache)
    assert path == release and "'python/sglang/srt/model.py' has no [size, sha256]" in why, why
    root = write_project(tmp_path / "p", [make_card(100)])
    monkeypatch.setenv("DOSSIER_RELEASES", str(cache))
    result = runner.invoke(app, ["releases", "surface", "--root", str(root)])
    assert result.exit_code == 2 and "internal error" not in result.output, result.output


def test_drift_names_a_utf16_file_its_search_meets_instead_of_calling_the_card_missing(tmp_path):
    root = write_project(tmp_path / "p", [make_card(100)])
    package = tmp_path / "sglang-src" / "python" / "sglang"
    (package / "srt" / "models").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "version.py").write_text('__version__ = "0.5.99"\n')
    moved = package / "srt" / "models" / "qwen3_next_v2.py"  # the card's qwen3_next.py is gone; its line is here
    moved.write_text("class Layer:\n    def __init__(self):\n        self.in_proj_qkvzba = MergedColumnParallelLinear(\n"
                     "            1)\n", encoding="utf-16")
    result = runner.invoke(app, ["drift", "--record", "--sglang-src", str(tmp_path / "sglang-src"), "--root", str(root)])
    assert result.exit_code == 2, result.output
    assert f"{moved} is UTF-16LE text" in " ".join(result.output.split()) and "missing" not in result.output
    assert not (root / "cards" / "drift.lock").exists()
