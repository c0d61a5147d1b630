"""Bad input, round 22: what probes of session 36 found."""
import re
import shutil

import pytest

from dossier.lint import LintContext, run_lint
from dossier.project import Project
from tests.dossier.test_lint_probes15 import REAL


def _real_with(tmp_path, path: str, old: str, new: str):
    """The real cards/ in ``tmp_path``, ``old`` replaced by ``new`` in ``path`` (which must hold it)."""
    shutil.copytree(REAL / "cards", tmp_path / "cards")
    shutil.copy(REAL / "pyproject.toml", tmp_path)
    text = (tmp_path / path).read_text()
    assert old in text, old
    (tmp_path / path).write_text(text.replace(old, new))
    return Project.load(tmp_path)


@pytest.mark.parametrize("old, new, said", [
    ("(#28451, from 0.5.15)", "(#28451, from 0.5.14)", "says #28451 first shipped in 0.5.14"),
    ("(#28451, from 0.5.15)", "(#28451, from 0.5.16)", "says #28451 first shipped in 0.5.16"),
    ("extra_buffer since 0.5.17 ([#32692]", "extra_buffer since 0.5.18 ([#32692]", "#32692 first shipped in 0.5.18"),
    ("(fixed in 0.5.11 by #22458)", "(fixed in 0.5.12 by #22458)", "#22458 first shipped in 0.5.12"),
    ("(#28451, from 0.5.15)", "(#28451, from 0.5.15)", None),
])
def test_a_pr_paired_with_the_wrong_release_in_lanes_yaml_is_d343(tmp_path, old, new, said):
    """D319 read only the cards: "(#28451, from 0.5.14)" in an answer sent a 0.5.14 reader to a flag that release
    does not parse, and lint passed (the lanes mutation probe)."""
    project = _real_with(tmp_path, "cards/lanes.yaml", old, new)
    found = [d for d in run_lint(LintContext(project), select=["D343"])]
    assert [said in d.message for d in found] == ([True] if said else []), [d.text() for d in found]
    assert all(d.file == "cards/lanes.yaml" and d.line for d in found)


@pytest.mark.parametrize("release, caught", [("0.5.14", True), ("0.5.15", False)])
def test_a_pr_paired_with_the_wrong_release_in_a_finding_is_d343(tmp_path, release, caught):
    project = _real_with(tmp_path, "cards/findings/replayssm-finish-conv-depth.yaml",
                         "  With --enable-linear-replayssm (GDN,",
                         f"  With --enable-linear-replayssm (#28451, from {release}; GDN,")
    found = [d for d in run_lint(LintContext(project), select=["D343"])]
    assert [d.file for d in found] == (["cards/findings/replayssm-finish-conv-depth.yaml"] if caught else []), found


def test_select_and_ignore_take_comma_separated_codes():
    """`--select D319,D343` was refused as one unknown code; ruff and flake8 users type it so."""
    from typer.testing import CliRunner

    from dossier.cli import app

    listed = CliRunner().invoke(app, ["lint", "--list-rules", "--select", "D319,d343", "--select", "D342",
                                      "--root", str(REAL)])
    assert listed.exit_code == 0, listed.output
    assert [line.split()[0] for line in listed.output.splitlines()] == ["D319", "D342", "D343"]
    dropped = CliRunner().invoke(app, ["lint", "--list-rules", "--select", "D34", "--ignore", "D340,D341,D344,D345,D346",
                                       "--root", str(REAL)])
    assert [line.split()[0] for line in dropped.output.splitlines()] == ["D342", "D343"]
    for bad in (",", "D319,X9"):
        refused = CliRunner().invoke(app, ["lint", "--list-rules", "--select", bad, "--root", str(REAL)])
        assert refused.exit_code == 2 and "matches no rule code" in refused.output, refused.output


def test_an_explain_is_not_judged_against_a_hunk_lint_cannot_read():
    """Without SGLang installed, lint gave 15 real cards with no cached diff the error "explain names no identifier
    of the matched line (or its hunk)": it had read no hunk at all. They are not judged then, and D600 says so."""
    def blind(project):
        ctx = LintContext(project)
        ctx.memo.update(surface=None, surface_error="sglang is not installed")
        return ctx

    said = run_lint(blind(Project.load(REAL)), select=["D600"])
    assert len(said) == 1 and "explain of a card with no cached diff (D214)" in said[0].message
    two = [REAL / "cards" / "22462.yaml", REAL / "cards" / "22921.yaml"]  # two of the 15
    assert run_lint(blind(Project.load(REAL, two)), select=["D214"]) == []
    assert run_lint(LintContext(Project.load(REAL, two)), select=["D214"]) == []  # the installed 0.5.23: anchored


@pytest.mark.parametrize("old, new, said", [
    ("steps (default 16)", "steps (default 8)", "--linear-replayssm-cache-len is said to default to 8"),
    ("`--enable-unified-memory` (off by default", "`--enable-unified-memory` (on by default", "to default to on"),
    ("`--enable-unified-memory` (off by default", "`--enable-unified-memory` is enabled by default (",
     "to default to enabled"),
    ("`--mamba-track-interval` (default 256) must", "`--mamba-track-interval` sets the grid (default 128) and must",
     "--mamba-track-interval is said to default to 128"),
    # the parenthesis belongs to the nearest name before it, and a default must be all it holds
    ("`--mamba-track-interval` (default 256) must", "`--mamba-track-interval` sets `--page-size` (default 128) and must",
     None),
    ("`--mamba-track-interval` (default 256) must", "`--mamba-track-interval` sets the grid (default twice that) and "
     "must", None),
    ("steps (default 16)", "steps (default 16)", None),
])
def test_a_default_said_away_from_its_name_is_judged_d623(tmp_path, old, new, said):
    """D623 read a default only right after the name: "`--linear-replayssm-cache-len` steps (default 8)" and
    "`--enable-unified-memory` (on by default" passed (the lanes mutation probe)."""
    project = _real_with(tmp_path, "cards/lanes.yaml", old, new)
    found = [d.message for d in run_lint(LintContext(project), select=["D623"])]
    assert (bool(found) and all(said in f for f in found)) if said else not found, found


@pytest.mark.parametrize("where, caught", [("python/sglang/srt/mem_cache/memory_pool.py", True),
                                           ("python/sglang/srt/mem_cache/kv_cache_configurator.py", False)])
def test_an_error_item_whose_where_prints_none_of_its_messages_is_d624(tmp_path, where, caught):
    """An error item's `where` naming a real file that raises none of its messages passed: D604 checks only that the
    file exists (the lanes mutation probe)."""
    lanes = (REAL / "cards" / "lanes.yaml").read_text()
    item = re.search(r'- messages: \["Lazy extra buffer requires overlap schedule"\].*?\n\s+where: (\S+)\n', lanes,
                     re.S)
    assert item.group(1) == "python/sglang/srt/mem_cache/kv_cache_configurator.py"
    project = _real_with(tmp_path, "cards/lanes.yaml", item.group(0),
                         item.group(0)[:item.start(1) - item.start()] + where + "\n")
    found = [d.message for d in run_lint(LintContext(project), select=["D624"])]
    assert found == ([f"{where} prints none of this item's messages in SGLang 0.5.23; "
                      "python/sglang/srt/mem_cache/kv_cache_configurator.py does"] if caught else []), found


def test_two_gdn_backend_rows_for_one_cell_are_refused():
    """Two rows for (prefill, SM90) passed and the table showed two defaults for one GPU (the lanes mutation probe)."""
    from dossier.model import LANES_FILE

    rows = [{"phase": "prefill", "hardware": "SM90", "default": "FlashInfer", "select": "-", "requires": "-",
             "prs": [1]},
            {"phase": "prefill", "hardware": "SM100", "default": "Triton", "select": "-", "requires": "-", "prs": [1]}]
    data = {"answers": {"gdn_backends": {"summary": "Which kernel runs each phase on each GPU, by release.",
                                         "source": ["a.py"], "rows": rows}}, "lanes": []}
    assert not [p for p in LANES_FILE.check(data) if p.kind == "duplicate"]
    rows[1]["hardware"] = "SM90"
    problems = [p.message for p in LANES_FILE.check(data) if p.kind == "duplicate"]
    assert problems == ["answers.gdn_backends.rows[1] (phase prefill, hardware SM90) is also "
                        "answers.gdn_backends.rows[0]'s: the table would give two answers for one cell"]


@pytest.mark.parametrize("old, new, said", [
    ("(`validate_mamba_no_buffer`)", "(`validate_mamba_nobuffer`)", "`validate_mamba_nobuffer`: no "),
    ("(`supports_target_verify` in", "(`supports_target_verifier` in", "`supports_target_verifier`: no "),
    ("(`validate_mamba_no_buffer`)", "(validate_mamba_nobuffer)", "validate_mamba_nobuffer: not in SGLang 0.5.23"),
    ("(`validate_mamba_no_buffer`)", "(was `validate_mamba_nobuffer`)", None),  # marked as gone
    ("(`validate_mamba_no_buffer`)", "(`validate_mamba_no_buffer`)", None),
])
def test_a_code_name_no_source_holds_in_lanes_yaml_is_d625(tmp_path, old, new, said):
    """D613 and D621 read only the cards: a function name one letter off in an errors item passed, and the reader
    searched SGLang for a function it never had (the lanes mutation probe)."""
    for code in ("runtime", "tests", "dossier"):  # this project's names are a source
        (tmp_path / code).symlink_to(REAL / code)
    project = _real_with(tmp_path, "cards/lanes.yaml", old, new)
    found = [d for d in run_lint(LintContext(project), select=["D625"])]
    assert [said in d.message for d in found] == ([True] if said else []), [d.text() for d in found]
    assert all(d.line > 1 for d in found)


@pytest.mark.parametrize("edit, caught", [
    (lambda t: t.replace("    files: ['python/sglang/srt/configs/qwen3_next.py', 'python/sglang/srt/server_args.py']",
                         "    files: ['python/sglang/srt/configs/qwen3_next.py', 'python/sglang/srt/server_args.py', "
                         "'test/srt/test_made_up.py']", 1), True),
    (lambda t: t.replace("numbers: ['0.945', '0.950', '0.955', '80']", "numbers: ['0.945', '0.950', '0.955', '81']", 1),
     True),
    (lambda t: re.sub(r"^# cards sha256: .*\n", "", t, flags=re.M), False),  # a lock written before seals
    (lambda t: t, False),
])
def test_a_hand_edited_checked_lock_is_d344(tmp_path, edit, caught):
    """A file added by hand to a card's entry in cards/checked.lock made D337 vouch for a test no check of the PR's
    page saw, and lint passed (the lock mutation probe)."""
    from dossier.lint.checked import CHECKED_LOCK

    shutil.copytree(REAL / "cards", tmp_path / "cards")
    shutil.copy(REAL / "pyproject.toml", tmp_path)
    lock = tmp_path / CHECKED_LOCK
    before = lock.read_text()
    lock.write_text(edit(before))
    assert (lock.read_text() != before) is (caught or "sha256" not in lock.read_text())
    found = [d for d in run_lint(LintContext(Project.load(tmp_path)), select=["D344"])]
    assert [d.line for d in found] == ([5] if caught else []), [d.text() for d in found]


def test_lint_record_seals_checked_lock(tmp_path):
    from dossier.lint.checked import CHECKED_LOCK, record_checked

    shutil.copytree(REAL / "cards", tmp_path / "cards")
    shutil.copy(REAL / "pyproject.toml", tmp_path)
    lock = tmp_path / CHECKED_LOCK
    lock.write_text(lock.read_text().replace("'80']", "'81']", 1))
    assert run_lint(LintContext(Project.load(tmp_path)), select=["D344"])
    record_checked(tmp_path, [], named=False)  # re-recording seals what the lock now holds
    assert not run_lint(LintContext(Project.load(tmp_path)), select=["D344"])


_SOURCE = '''
class A:
    def run(self):
        x = 1

class B:
    def run(self):
        y = 2
    class Inner:
        async def go(self):
            pass

try:
    def guarded():
        pass
except ImportError:
    pass

def top():
    return 3
'''


@pytest.mark.parametrize("name, lines", [("A.run", (3, 4)), ("B.run", (7, 8)), ("B.Inner.go", (10, 11)),
                                         ("guarded", (14, 15)), ("top", (19, 20)), ("A", (2, 4)), ("run", (3, 4)),
                                         ("A.go", None), ("C.run", None), ("Inner.go", None), ("missing", None)])
def test_a_definition_is_found_by_its_class_not_by_its_name(name, lines):
    from dossier.python_defs import definition_lines

    assert definition_lines(_SOURCE, name) == lines
    assert definition_lines("def broken(:\n", "broken") is None


@pytest.mark.parametrize("path, old, new, said", [
    ("cards/findings/replayssm-finish-conv-depth.yaml", "function: GDNAttnBackend.forward_decode",
     "function: GDNAttnBackend.forward_extend", "but not inside GDNAttnBackend.forward_extend"),
    ("cards/findings/flashinfer-sm90-padding-last-slot.yaml", "function: MambaSlotAllocator.clear",
     "function: MambaSlotAllocator.alloc", "but not inside MambaSlotAllocator.alloc"),
    ("cards/findings/replayssm-mixed-chunk-stale-state.yaml", "function: ScheduleBatch.mix_with_running",
     "function: Scheduler.mix_with_running", "no function Scheduler.mix_with_running in"),
    ("cards/lanes.yaml", "symbol: GDNKernelDispatcher._get_target_verify_kernel",
     "symbol: GDNAttnBackend._get_target_verify_kernel", "GDNAttnBackend._get_target_verify_kernel: not defined in"),
    ("cards/lanes.yaml", "symbol: GDNKernelDispatcher._get_target_verify_kernel",
     "symbol: GDNKernelDispatcher._get_target_verify_kernel", None),
])
def test_code_in_the_wrong_function_or_class_is_d704_d607(tmp_path, path, old, new, said):
    """D704 and D607 looked for `def <last name>` anywhere in the file and the match anywhere in it: a finding's
    function swapped for a sibling method, or its class for another, passed (the findings mutation probe)."""
    project = _real_with(tmp_path, path, old, new)
    found = [d.message for d in run_lint(LintContext(project), select=["D704", "D607"])]
    assert [said in f for f in found] == ([True] if said else []), found
