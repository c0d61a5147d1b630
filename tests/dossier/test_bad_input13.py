"""Bad input, round 13: this session's new records (cards/names.lock, evidence.lock's `names:`, cards/pr-facts.json)
and inputs (a lock's YAML key that is a list, `python -m runtime.gdn.bench --merge`'s part files)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from dossier.locks import LockError
from tests.dossier.factories import make_card, write_project


def _tree(version: str, texts: dict[str, str]) -> SimpleNamespace:
    """A release tree as record_names reads one."""
    return SimpleNamespace(package=Path(f"/nowhere/{version}"), version=version, kind="release", texts=texts, memo={},
                           unload=lambda: None)


# ---- a lock whose YAML key is a list (`? [a, b]`): the duplicate-key check crashed every reader --------------------

def test_a_lock_key_that_is_a_list_is_an_error_at_its_line_not_a_crash(tmp_path):
    """`? [a, b]` is valid YAML; the loader's duplicate-key check hashed it and raised TypeError, so lint reported
    'D000 rule D621 crashed: TypeError: unhashable type' and render refused on 'D311 crashed'."""
    from dossier.lint.code_names import read_names

    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "names.lock").write_text("version: 1\nnames:\n  ? [a, b]\n  : '0.5.1'\n")
    with pytest.raises(LockError, match=r"^cards/names\.lock: not valid YAML at line 3: a key that is a list"):
        read_names(tmp_path)


# ---- cards/names.lock recorded with no names: `names:` with nothing under it is null to YAML -----------------------

def test_a_names_lock_recorded_with_no_names_reads_back(tmp_path):
    """When no card names code only an older release had, `releases surface --record` wrote `names:` with nothing
    under it, which YAML reads as null: its own reader refused the lock it had just written (D311 on every lint)."""
    from dossier.lint.code_names import names_of_releases, read_names, write_names

    def record_names(root, wanted, today, trees):
        entries = names_of_releases(wanted, today, trees)
        write_names(root, entries)
        return entries

    (tmp_path / "cards").mkdir()
    today = _tree("9.9.9", {"a.py": "alive_name = 1\n"})
    assert record_names(tmp_path, {"alive_name"}, today, [_tree("9.9.1", {"a.py": "alive_name = 1\n"})]) == {}
    assert read_names(tmp_path) == set()
    assert record_names(tmp_path, {"gone_name"}, today, [_tree("9.9.1", {"a.py": "gone_name = 1\n"})]) == {
        "gone_name": "9.9.1"}
    assert read_names(tmp_path) == {"gone_name"}


# ---- cards/pr-facts.json (D414's snapshot): a pipe hung every lint; other bad content crashed or read wrong --------

_FACT = {"number": 100, "title": "Fuse it", "state": "merged", "date": "2026-03-20", "changed_files": 1,
         "additions": 3, "deletions": 1,
         "main_files": [{"path": "python/sglang/a.py", "additions": 3, "deletions": 1, "symbols": ["fuse_it"]}]}


def _facts(root: Path, text: str | bytes):
    from dossier.pr_facts import PR_FACTS, read_facts

    (root / "cards").mkdir(exist_ok=True)
    path = root / PR_FACTS
    if path.exists():
        path.unlink()
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return read_facts(root)


def test_a_pipe_in_place_of_the_pr_facts_snapshot_is_refused_at_once(tmp_path):
    """read_text opened the FIFO and waited for a writer: lint, render and lint --record hung."""
    from dossier.pr_facts import read_facts

    (tmp_path / "cards").mkdir()
    os.mkfifo(tmp_path / "cards" / "pr-facts.json")
    with pytest.raises(LockError, match=r"^cards/pr-facts\.json: cannot read the file: not a regular file \(a pipe\); "
                                        r"take the committed copy"):
        read_facts(tmp_path)


def test_a_pr_facts_snapshot_with_wrong_types_or_a_pr_twice_is_one_error_naming_the_entry(tmp_path):
    """Before: nesting crashed with RecursionError and 1e400 with OverflowError (tracebacks); a symbols string was
    read as its letters, true as PR 1, 100.7 as 100, "100" as 100, and a PR given twice kept the last with nothing
    said. Each is now a LockError (D311) naming the file, the entry and what to do."""
    assert _facts(tmp_path, json.dumps([_FACT]))[100].symbols == {"fuse_it"}
    cases = {
        "[" * 50000 + "]" * 50000: r"not valid JSON in UTF-8 \(nested too deep\)",
        json.dumps([{**_FACT, "additions": 1e400}]).replace("Infinity", "1e400"): r"entry 1: additions is a fraction",
        json.dumps([_FACT, {**_FACT, "title": "Other"}]): r"entry 2: PR 100 is given twice",
        json.dumps([{**_FACT, "number": True}]): r"entry 1: number is true or false, not a whole number",
        json.dumps([{**_FACT, "number": "100"}]): r"entry 1: number is a string",
        json.dumps([{**_FACT, "main_files": [{**_FACT["main_files"][0], "symbols": "fuse_it"}]}]):
            r"entry 1: the symbols of 'python/sglang/a.py' is a string, not a list",
        json.dumps([{k: v for k, v in _FACT.items() if k != "title"}]): r"entry 1: no 'title' field",
        json.dumps({"100": _FACT}): r"an object, not a list of PR entries",
        # a misspelt field was skipped: the PR's main files dropped unseen, and every check against them silent
        json.dumps([{**{k: v for k, v in _FACT.items() if k != "main_files"}, "main_file": _FACT["main_files"]}]):
            r"entry 1: the entry has a field the snapshot does not write, 'main_file'",
        json.dumps([{**_FACT, "main_files": [{**_FACT["main_files"][0], "symbol": ["fuse"]}]}]):
            r"entry 1: main file 'python/sglang/a\.py' has a field the snapshot does not write, 'symbol'",
        # a field given twice (a merge's leftover) kept the last, and lint held the card to the forged title
        json.dumps([_FACT])[:-2] + ', "title": "Other"}]': r"field 'title' is given twice in one object",
    }
    for text, why in cases.items():
        with pytest.raises(LockError, match=rf"^cards/pr-facts\.json: (not a PR facts snapshot: )?{why}.*"
                                            r"git checkout -- cards/pr-facts\.json\)$"):
            _facts(tmp_path, text)


# ---- python -m runtime.gdn.bench --merge: a part file missing, cut short or of another kind was a traceback --------

def test_bench_merge_names_a_part_file_it_cannot_read(tmp_path, capsys):
    """A part missing (FileNotFoundError), cut short by the device call's end (JSONDecodeError), a folder, a JSON
    list (AttributeError) or a row the targets cannot read (TypeError, KeyError) was a traceback; now one line naming
    the file and what to do."""
    from runtime.gdn import bench

    good = {"part": "decode", "device": {"name": "NVIDIA H200"}, "date": "2026-12-03", "ceilings": {"copy_gbs": 4000.0},
            "rows": []}
    part = tmp_path / "gdn-decode.json"
    part.write_text(json.dumps(good))
    (tmp_path / "folder.json").mkdir()
    cases = {
        "missing.json": (None, r"no such file"),
        "folder.json": (None, r"not a file"),
        "cut.json": (json.dumps(good)[:40], r"not a readable results document \(Unterminated string"),
        "list.json": ("[]", r"not a results document \(it has no part, device, date, ceilings, rows\)"),
        "nodevice.json": (json.dumps({**good, "device": "H200"}), r"not a part document"),
        "notrow.json": (json.dumps({**good, "rows": [1]}), r"not a part document"),
        "noshape.json": (json.dumps({**good, "rows": [{"kernel": "decode"}]}), r"a row the targets cannot read "
                                                                               r"\(KeyError: 'shape'\)"),
    }
    for name, (text, why) in cases.items():
        if text is not None:
            (tmp_path / name).write_text(text)
        with pytest.raises(SystemExit, match=rf"^{tmp_path / name}: {why}.*(--part-dir|--json)"):
            bench.merge([str(part), str(tmp_path / name)], str(tmp_path / "gdn.json"))
    assert not (tmp_path / "gdn.json").exists()


# ---- [tool.dossier] other_names: an entry D621 can never match was taken with nothing said -------------------------

def test_other_names_entries_that_match_no_word_are_refused(tmp_path):
    """D621 matches one word at a time, so "", "two words" or "pkg.module" matched nothing: the card's name stayed an
    error while the config looked right. Each is now refused naming the key; one-word names load."""
    from dossier.project import Project, ProjectError

    for bad in ('[""]', '["specforge.train"]', '["two words"]'):
        root = write_project(tmp_path / bad.strip('[]"').replace(" ", "_") / "p", [make_card(100)],
                             config=f"other_names = {bad}\n")
        with pytest.raises(ProjectError, match=r"pyproject\.toml: \[tool\.dossier\] other_names must be a list of "
                                               r"names, each one word of code"):
            Project.load(root)
    root = write_project(tmp_path / "good", [make_card(100)], config='other_names = ["SpecForge", "train_eagle3"]\n')
    assert Project.load(root).config["other_names"] == ["SpecForge", "train_eagle3"]


# ---- cards/surface.lock defaults: a name no flag or env var of the lock has was dropped with nothing said ----------

def test_a_surface_lock_default_of_no_listed_name_is_refused(tmp_path):
    """Recording writes defaults for listed names only; a mistyped or hand-edited name (`--tp-sizee`) was dropped
    on reading, and the flags index showed no default for the real flag with lint and render silent."""
    from dossier.surface_history import Span, SurfaceHistory, SurfaceLockError, read_history, render

    history = SurfaceHistory(["0.5.1", "0.5.2"], flags={"--tp-size": Span("0.5.1", "0.5.2")},
                             env={"SGLANG_X": Span("0.5.2", "0.5.2")}, defaults={"--tp-size": "1", "SGLANG_X": "0"})
    (tmp_path / "cards").mkdir()
    lock = tmp_path / "cards" / "surface.lock"
    lock.write_text(render(history))
    assert read_history(tmp_path).defaults == {"--tp-size": "1", "SGLANG_X": "0"}
    lock.write_text(render(history).replace("  --tp-size: '1'", "  --tp-sizee: '1'"))
    with pytest.raises(SurfaceLockError, match=r"^cards/surface\.lock: defaults: '--tp-sizee' is no flag or env var "
                                               r"the lock lists .*dossier releases surface --record"):
        read_history(tmp_path)


# ---- evidence.lock's names: (D621's offline grounds) with the seal line deleted: a hand-added name passed D621 -----

def test_an_evidence_lock_with_names_and_no_seal_is_d329(tmp_path):
    """D329 judged only a lock with a seal line; deleting the line made the cards section unjudged, so a name added to
    an entry's names: passed D621 with nothing said. names: is newer than seals, so a lock holding it had a seal."""
    from dossier.evidence import LockEntry, lock_path, write_lock
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project

    root = write_project(tmp_path, [make_card(100)])
    write_lock(root, {100: LockEntry("a" * 64, "b" * 64, "github", "python/sglang/srt/models/qwen3_next.py", "new",
                                     (3,), "2026-04-01", 1, 1, 0, names=("in_proj_qkvzba",))})
    text = lock_path(root).read_text()
    assert "# cards sha256: " in text and "names: [in_proj_qkvzba]" in text
    lock_path(root).write_text("".join(line for line in text.splitlines(keepends=True)
                                       if not line.startswith("# cards sha256: "))
                               .replace("[in_proj_qkvzba]", "[in_proj_qkvzba, invented_name]"))
    found = [d.text() for d in run_lint(LintContext(Project.load(root)), select=["D329"])]
    assert len(found) == 1 and found[0].startswith("cards/evidence.lock:1:1: D329 the cards section holds the diffs' "
                                                   "code names (names:)"), found


# ---- pip's RECORD of today's SGLang with a row that cannot be read: a traceback from every reader of the tree -------

def test_a_record_row_with_a_sha256_that_is_no_base64_is_one_damaged_source_error(tmp_path):
    """36753ce checks installed files against pip's RECORD; a row whose sha256 is no base64 raised binascii.Error and
    one whose size is '²' (str.isdigit takes it) ValueError, out of every rule or command reading the package."""
    from dossier.releases import DamagedSource
    from dossier.source_tree import installed_record
    from tests.dossier.factories import sglang_package

    package = sglang_package(tmp_path, {})
    record = tmp_path / "sglang-9.9.9.dist-info" / "RECORD"
    record.parent.mkdir()
    record.write_text("sglang/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n"
                      "sglang-9.9.9.dist-info/RECORD,,\n")
    assert installed_record(package)["python/sglang/__init__.py"] == [0, "e3b0c44298fc1c149afbf4c8996fb924"
                                                                          "27ae41e4649b934ca495991b7852b855"]
    for row, why in (("sglang/version.py,sha256=a,3", "Invalid base64"), ("sglang/version.py,sha256=AAAA,²", "size '²'")):
        record.write_text(f"sglang/__init__.py,sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU,0\n{row}\n")
        with pytest.raises(DamagedSource, match=rf"^SGLang package: {record} line 2 \(sglang/version\.py\): {why}.*"
                                                r"reinstall it \(pip install --force-reinstall --no-deps sglang==9\.9\.9\)"):
            installed_record(package)
