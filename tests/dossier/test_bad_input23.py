"""Bad input, round 23: what probes of session 37 found. An error-page message changed in both `messages` and the
item's text passed every rule when today's SGLang lacks it: nothing asked whether any release prints it (D626, with
cards/messages.lock), and messages SGLang splits over joined literals were not found at all (dossier.printed)."""
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from dossier.lint import LintContext, run_lint
from dossier.locks import LockError
from dossier.printed import FIELD, printing, prints, read_messages, templates, write_messages
from dossier.project import Project
from tests.dossier.test_lint_probes15 import REAL


def _real_with(tmp_path, path: str, old: str, new: str, count: int = 1):
    """The real cards/ in ``tmp_path``, ``old`` replaced by ``new`` in ``path`` (which must hold it ``count``
    times)."""
    shutil.copytree(REAL / "cards", tmp_path / "cards")
    shutil.copy(REAL / "pyproject.toml", tmp_path)
    text = (tmp_path / path).read_text()
    assert text.count(old) == count, old
    (tmp_path / path).write_text(text.replace(old, new))
    return Project.load(tmp_path)


def _tree(version: str, texts: dict[str, str]) -> SimpleNamespace:
    return SimpleNamespace(package=Path(f"/nowhere/{version}"), version=version, kind="release", texts=texts, memo={},
                           unload=lambda: None)


# ---- reading a Python file's strings as Python joins them --------------------------------------------------------

def test_templates_join_adjacent_literals_across_lines_and_comments():
    source = ('raise ValueError(\n    "--enable-int8-mamba-checkpoint only supports the built-in mamba "  # why\n'
              "    'radix cache; got ' f\"{name!r} (it's {{off}})\"\n)\nx = 'alone'\n")
    found = templates(source)
    assert found == [f"--enable-int8-mamba-checkpoint only supports the built-in mamba radix cache; got {FIELD} "
                     "(it's {off})", "alone"]


def test_templates_keep_plain_braces_read_escapes_and_skip_comments_and_docstrings():
    """A plain literal's braces and % places are its own words ("{None, 1}" in 0.5.23's linear draft chain message
    was read as a value slot, the probe's false D626); comments and docstrings print nothing."""
    source = ('"""Module: is capped to N."""\n# don\'t "read" me\ndef f():\n    """is capped to N."""\n'
              '    logger.info("capped to %d by the pool\\n", n)\n    msg = "in {None, 1}"\nraw = r"a\\nb"\n')
    assert templates(source) == ["capped to %d by the pool\n", "in {None, 1}", "a\\nb"]


@pytest.mark.parametrize("template, message, printed", [
    ("Only support page_size=1 in mamba radix cache now.", "Only support page_size=1 in mamba radix cache now", True),
    (f"Shape mismatch: param {FIELD} vs loaded {FIELD}", "Shape mismatch: param", True),
    (f"Shape mismatch: param {FIELD} vs loaded {FIELD}", "Shape mismatch: param torch.Size([4])", False),
    # 0.5.23's "Currently radix cache is not compatible with {backend} attention backend ..." does not print the
    # 0.5.10 message "... is not compatible with radix cache when using": a value is no message's word
    (f"Currently radix cache is not compatible with {FIELD} attention backend", "is not compatible with radix cache",
     False),
    (f"Unsupported {FIELD} decode backend: {FIELD}", "Unsupported GDN decode backend", False),
    ("Page size must be 2 for MambaRadixCache v1", "Page size must be 1 for MambaRadixCache v1", False),
])
def test_a_template_prints_a_message_only_as_its_own_words(template, message, printed):
    assert prints(template, message) is printed


def test_printing_finds_the_files_that_print_each_message():
    """'Unsupported GDN decode backend' is printed as written by one file; another file's f"Unsupported {kind}
    decode backend" would print it only with 'GDN' put in: that file does not print it; nor does it print 'Unsupported
    KDA decode backend'."""
    tree = _tree("9.9.9", {"a/hook.py": 'raise ValueError("Unsupported GDN decode backend: " + x)\n',
                           "a/dsa.py": 'raise ValueError(f"Unsupported {kind} decode backend: {x}")\n',
                           "a/split.py": 'raise ValueError("only supports the built-in mamba "\n    "radix cache")\n',
                           "a/kernel.cu": 'TORCH_CHECK(false, "bad GDN tile size");\n'})
    got = printing(tree, ["Unsupported GDN decode backend", "Unsupported KDA decode backend",
                          "only supports the built-in mamba radix cache", "bad GDN tile size", "not printed at all"])
    assert got == {"Unsupported GDN decode backend": ["a/hook.py"], "Unsupported KDA decode backend": [],
                   "only supports the built-in mamba radix cache": ["a/split.py"],
                   "bad GDN tile size": ["a/kernel.cu"], "not printed at all": []}


# ---- cards/messages.lock -----------------------------------------------------------------------------------------

def test_a_messages_lock_round_trips_quotes_colons_and_unicode(tmp_path):
    (tmp_path / "cards").mkdir()
    entries = {"'X' object: has # no 'y'": "0.5.1..0.5.3", 'say "hi"\u2028': "0.5.2", "plain words": "0.5.4"}
    write_messages(tmp_path, entries)
    assert read_messages(tmp_path) == entries
    lock = tmp_path / "cards" / "messages.lock"
    lines = lock.read_text().splitlines(keepends=True)
    lock.write_text("".join(line for line in lines if not line.startswith("count:")))
    with pytest.raises(LockError, match="no closing `count:`"):
        read_messages(tmp_path)


def test_the_names_lock_is_written_as_before():
    """names.lock moved onto the shared span-lock writer: its text is unchanged for the same names."""
    from dossier.lint.code_names import NAMES_LOCK, read_names, write_names
    from dossier.span_lock import read_spans

    text = (REAL / NAMES_LOCK).read_text()
    entries = read_spans(REAL, NAMES_LOCK, "names", "")
    assert set(entries) == read_names(REAL)
    out = Path(__import__("tempfile").mkdtemp())
    (out / "cards").mkdir()
    write_names(out, entries)
    assert (out / NAMES_LOCK).read_text() == text


def test_the_committed_messages_lock_records_the_older_releases_messages():
    """The messages 0.5.23 no longer prints are in the lock, with the releases that printed them (read from the
    release trees when it was recorded)."""
    recorded = read_messages(REAL)
    assert recorded["Only support page_size=1 in mamba radix cache now"] == "0.5.3.post2..0.5.6.post2"
    assert recorded["Page size must be 1 for MambaRadixCache v1"] == "0.5.7..0.5.20"
    assert "functional_call got multiple values" not in recorded  # torch's


# ---- D626: an error-page message no release prints -----------------------------------------------------------------

def _d626(project) -> list[str]:
    return [d.message for d in run_lint(LintContext(project), select=["D626"])]


def test_the_real_error_page_has_no_message_that_no_release_prints():
    assert _d626(Project.load(REAL)) == []


@pytest.mark.parametrize("old, new, count", [
    # an older release's message (not in 0.5.23), misquoted in both the index and the text
    ("Page size must be 1 for MambaRadixCache v1", "Page size must be 1 for MambaRadixCache v2", 2),
    ("Only support page_size=1 in mamba radix cache now", "Only support page_size=1 in the mamba radix cache now",
     2),
    # 0.5.23's message, split over joined literals in its file, with a word changed
    ("--enable-int8-mamba-checkpoint only supports the built-in mamba radix cache",
     "--enable-int8-mamba-checkpoint only supports the default mamba radix cache", 2),
])
def test_a_misquoted_error_message_is_an_error(tmp_path, old, new, count):
    project = _real_with(tmp_path, "cards/lanes.yaml", old, new, count)
    assert _d626(project) == [f"'{new}': no SGLang release prints it (not SGLang 0.5.23, nor a release "
                              "cards/messages.lock records): a reader's log line would not match it"]


def test_a_library_message_must_be_given_to_the_library_and_a_given_one_must_be_the_items(tmp_path):
    text = (REAL / "cards" / "lanes.yaml").read_text()
    line = re.search(r'\n( +)not_sglang: \["functional_call got multiple values"\]', text).group(0)
    project = _real_with(tmp_path, "cards/lanes.yaml", line, "")
    assert _d626(project) == ["'functional_call got multiple values': no SGLang release prints it (not SGLang "
                              "0.5.23, nor a release cards/messages.lock records): a reader's log line would not "
                              "match it"]
    shutil.rmtree(tmp_path / "cards")
    project = _real_with(tmp_path, "cards/lanes.yaml", line, line.replace("values", "value"))
    assert sorted(_d626(project)) == ["'functional_call got multiple value' is not one of this item's messages",
                              "'functional_call got multiple values': no SGLang release prints it (not SGLang "
                              "0.5.23, nor a release cards/messages.lock records): a reader's log line would not "
                              "match it"]


def test_a_message_added_after_recording_is_found_in_todays_tree(tmp_path):
    """A message today's SGLang prints needs no lock entry; the lock is for the releases CI cannot read."""
    project = _real_with(tmp_path, "cards/lanes.yaml", '["Lazy extra buffer requires overlap schedule"]',
                         '["Lazy extra buffer requires overlap schedule", "MambaComponent requires page_size=1"]')
    assert _d626(project) == []


def test_templates_read_a_file_with_many_comments_between_strings_in_linear_time():
    """Between two literals, `(\\s|#[^\\n]*)*` could end each comment at any of its spaces: a gap of comments before
    code backtracked through every combination, and one file of SGLang 0.5.1 took minutes."""
    import time

    source = 'a = "x"\n' + "    # a comment  with   many    spaces     in   it\n" * 40 + "b = f(1)\nc = 'y'\n"
    started = time.perf_counter()
    assert templates(source) == ["x", "y"]
    assert time.perf_counter() - started < 1.0


# ---- D627: a message dated to releases that do not print it ---------------------------------------------------------

def _d627(project) -> list[str]:
    return [d.message for d in run_lint(LintContext(project), select=["D627"])]


def test_the_real_error_page_dates_its_messages_by_the_releases_that_print_them():
    """The rule's first run found two: 'Page size must be 1 for MambaRadixCache v1' '(0.5.7 on)' while the legacy
    tree that prints it ends at 0.5.20, and 'Mamba Cache is allocated' '(every release)' while 0.5.1 had no
    Qwen3-Next."""
    assert _d627(Project.load(REAL)) == []


@pytest.mark.parametrize("old, new, said", [
    ("positive integer, got 0.' (at startup; from 0.5.17)", "positive integer, got 0.' (at startup; from 0.5.16)",
     "'(from 0.5.16)' dates '--mamba-max-states-per-path must be -1 (unlimited) or a positive' to 0.5.16, which does "
     "not print it: cards/messages.lock records it in 0.5.17..0.5.23 only"),
    ("speculative decoding.' (0.5.13, 0.5.13.post1;", "speculative decoding.' (0.5.13 to 0.5.14;",
     "'(0.5.13 to 0.5.14)' dates 'extra_buffer_lazy is not yet supported with speculative decoding' to 0.5.14, "
     "which does not print it: cards/messages.lock records it in 0.5.13..0.5.13.post1 only"),
    ("v1, got 128' (0.5.7 to 0.5.20, the legacy tree's last release;", "v1, got 128' (0.5.7 on;",
     "'(0.5.7 on)' leaves 'Page size must be 1 for MambaRadixCache v1' printed to the newest release, 0.5.23: "
     "cards/messages.lock records it in 0.5.7..0.5.20 only"),
    ("ssm_state size: ...GB' (every release from 0.5.2, the first to run Qwen3-Next;",
     "ssm_state size: ...GB' (every release;",
     "'(every release)' dates 'Mamba Cache is allocated' to 0.5.1, which does not print it: cards/messages.lock "
     "records it in 0.5.2..0.5.23 only"),
    # the releases right before the quote
    ("0.5.3.post2 to 0.5.6.post2 word it 'Only support", "0.5.3.post2 to 0.5.7 word it 'Only support",
     "'(0.5.3.post2 to 0.5.7)' dates 'Only support page_size=1 in mamba radix cache now' to 0.5.7, which does not "
     "print it: cards/messages.lock records it in 0.5.3.post2..0.5.6.post2 only"),
    ("from 0.5.22 'extra_buffer requires platform", "from 0.5.21 'extra_buffer requires platform",
     "'(from 0.5.21)' dates 'extra_buffer requires platform support for Mamba cache state snapshots' to 0.5.21, "
     "which does not print it: cards/messages.lock records it in 0.5.22..0.5.23 only"),
    # a later start than the lock's is not judged: the message's fixed words may be older than the quote's wording
    ("positive integer, got 0.' (at startup; from 0.5.17)", "positive integer, got 0.' (at startup; from 0.5.18)",
     None),
    # a clause that leads into another wording is not about the quote, but dates that wording (a dated quote of its
    # own since session 38)
    ("--max-mamba-cache-size.' (0.5.2 to 0.5.6.post2: '", "--max-mamba-cache-size.' (0.5.9 to 0.5.6.post2: '",
     "'(0.5.9 to 0.5.6.post2)' dates 'try to increase --max-mamba-cache-size.' to 0.5.9, which does not print it: "
     "cards/messages.lock records it in 0.5.2..0.5.6.post2 only"),
])
def test_a_message_dated_to_releases_that_do_not_print_it_is_an_error(tmp_path, old, new, said):
    project = _real_with(tmp_path, "cards/lanes.yaml", old, new)
    assert _d627(project) == ([said] if said else [])


# ---- D628: a backticked name placed in a file of today's SGLang that lacks it -----------------------------------

def _d628(project) -> list[str]:
    return [d.message for d in run_lint(LintContext(project), select=["D628"])]


def test_the_real_manual_places_its_backticked_names_in_files_that_have_them():
    assert _d628(Project.load(REAL)) == []


@pytest.mark.parametrize("old, new, said", [
    ("`GDNKernelDispatcher.__init__` (`gdn_backend.py`)", "`GDNKernelDispatcher.__init__` (`utils.py`)",
     "`GDNKernelDispatcher.__init__` (utils.py): utils.py of SGLang 0.5.23 has no GDNKernelDispatcher in its code"),
    ("`resolve_linear_attn_backends` (`layers/attention/linear/utils.py`)",
     "`resolve_linear_attn_backends` (`layers/attention/linear/gdn_backend.py`)",
     "`resolve_linear_attn_backends` (layers/attention/linear/gdn_backend.py): layers/attention/linear/gdn_backend.py "
     "of SGLang 0.5.23 has no resolve_linear_attn_backends in its code"),
    # dated to an older release: not judged
    ("`GDNKernelDispatcher.__init__` (`gdn_backend.py`)", "0.5.10's `GDNKernelDispatcher.__init__` (`utils.py`)", None),
    # a name today's tree lacks is D625's, a file it lacks D604's
    ("`GDNKernelDispatcher.__init__` (`gdn_backend.py`)", "`GDNKernelDispatcher.__init__` (`gdn_backends.py`)", None),
])
def test_a_name_placed_in_a_file_that_lacks_it_is_an_error(tmp_path, old, new, said):
    project = _real_with(tmp_path, "cards/lanes.yaml", old, new)
    assert _d628(project) == ([said] if said else [])


def test_a_flag_said_to_first_parse_in_a_release_that_lacked_it_is_d618(tmp_path):
    """"`--linear-attn-verify-backend` first parses in 0.5.15" passed: D618 read "first appeared/shipped/landed in"
    only (the lint mutation probe)."""
    old = "`--linear-attn-verify-backend` first parses in 0.5.17"
    assert not [d for d in run_lint(LintContext(Project.load(REAL)), select=["D618"])]
    project = _real_with(tmp_path, "cards/lanes.yaml", old, old.replace("0.5.17", "0.5.15"), count=2)
    found = [d.message for d in run_lint(LintContext(project), select=["D618"])]
    assert len(found) == 2 and "--linear-attn-verify-backend" in found[0] and "0.5.15" in found[0], found


@pytest.mark.parametrize("card, old, new, said", [
    ("22458", "Added to both files in the 0.5.10.post1 -> 0.5.11 release diff",
     "Added to both files in the 0.5.9 -> 0.5.10 release diff", "says #22458 first shipped in 0.5.10, but the "
     "releases first hold its line in 0.5.11"),
    ("34771", "From the 0.5.17 -> 0.5.18 release diff.", "From the 0.5.16 -> 0.5.17 release diff.",
     "says #34771 first shipped in 0.5.17, but the releases first hold its line in 0.5.18"),
])
def test_a_card_read_from_another_release_diff_than_its_first_is_d319(tmp_path, card, old, new, said):
    """"From the A -> B release diff" names the release the card's change went out in; a wrong B passed (the lint
    mutation probe). The real manual's 154 such phrases agree with the release evidence."""
    project = _real_with(tmp_path, f"cards/{card}.yaml", old, new)
    found = [d.message for d in run_lint(LintContext(project), select=["D319"])]
    assert len(found) == 1 and found[0].startswith(said), found


def test_a_change_said_absent_from_a_release_that_holds_it_is_d327(tmp_path):
    """"absent from 0.5.11" passed where 0.5.11 holds the card's line: D327 read "removed", "gone" and the like, not
    "absent" (the lint mutation probe)."""
    old = "(daily digests); absent from 0.5.10.post1"
    assert not [d for d in run_lint(LintContext(Project.load(REAL)), select=["D327"])]
    project = _real_with(tmp_path, "cards/22240.yaml", old, old.replace("0.5.10.post1", "0.5.11"))
    found = [d.message for d in run_lint(LintContext(project), select=["D327"])]
    assert len(found) == 1 and "was absent in 0.5.11, but 0.5.11 still holds it" in found[0], found


def test_a_relocated_card_that_lost_its_today_place_is_d629(tmp_path):
    """Deleting #22458's `today` (its line lives in eagle_utils.py today, not in eagle_info.py) passed every rule:
    D317 reads the releases of the key file, and the line is still in the tree (the lint mutation probe)."""
    today = ("  today:\n    file: python/sglang/srt/speculative/eagle_utils.py\n"
             '    match: "broadcast(predict"\n')
    assert not [d for d in run_lint(LintContext(Project.load(REAL)), select=["D629"])]
    project = _real_with(tmp_path, "cards/22458.yaml", today, "")
    found = [d.message for d in run_lint(LintContext(project), select=["D629"])]
    assert found == ["python/sglang/srt/speculative/eagle_info.py of SGLang 0.5.23 does not hold the line "
                     "key_fragment.match quotes; python/sglang/srt/speculative/eagle_utils.py does"]


# ---- the second probe of the new rules (session 37) ---------------------------------------------------------------

@pytest.mark.parametrize("old, new, caught", [
    # a colon inside the clause that does not lead into another quote is still this quote's dating
    ("PD disaggregation yet (follow-up)' (from 0.5.15, on either PD server:",
     "PD disaggregation yet (follow-up)' (from 0.5.14, on either PD server:", True),
    # "0.5.14+" leaves the span open to today
    ("positive integer, got 0.' (at startup; from 0.5.17)", "positive integer, got 0.' (at startup; 0.5.17+)", False),
    ("'extra_buffer_lazy unsupported with spec.' (0.5.14 to 0.5.16)", "'extra_buffer_lazy unsupported with spec.' "
     "(0.5.14+)", True),
    # a release named as the first without the message is not one that prints it (the probe's false positives)
    ("ssm_state size: ...GB' (every release from 0.5.2, the first to run Qwen3-Next;",
     "ssm_state size: ...GB' (not 0.5.1; every release from 0.5.2;", False),
    ("v1, got 128' (0.5.7 to 0.5.20, the legacy tree's last release;",
     "v1, got 128' (0.5.7 to 0.5.20, gone from 0.5.21;", False),
])
def test_d627_reads_colons_open_spans_and_releases_without_the_message(tmp_path, old, new, caught):
    project = _real_with(tmp_path, "cards/lanes.yaml", old, new)
    assert bool(_d627(project)) is caught


@pytest.mark.parametrize("old, new, caught", [
    # a name matched whole: ascend_gdn_backend.py has only fused_gdn_gating_kernel_without_sigmoid
    ("`GDNKernelDispatcher.__init__` (`gdn_backend.py`)", "`GDNKernelDispatcher.__init__` (`gdn_backend.py`) and "
     "`fused_gdn_gating_kernel` (`hardware_backend/npu/attention/ascend_gdn_backend.py`)", True),
    # a pair in a sentence dated to older releases is theirs, however far back the release is named
    ("`GDNKernelDispatcher.__init__` (`gdn_backend.py`)", "`GDNKernelDispatcher.__init__` (`gdn_backend.py`). On "
     "releases 0.5.11 through 0.5.18 the per-phase linear-attention backends are filled in by the ServerArgs helper "
     "`_handle_linear_attn_backend` (`server_args.py`) instead", False),
])
def test_d628_matches_whole_names_and_reads_the_sentence_for_its_date(tmp_path, old, new, caught):
    project = _real_with(tmp_path, "cards/lanes.yaml", old, new)
    assert bool(_d628(project)) is caught


def test_a_release_diff_that_deletes_names_no_first_release(tmp_path):
    """"The 0.5.20 -> 0.5.21 release diff deletes mem_cache/mamba_radix_cache.py" is the file's removal, not the
    card's first release (the probe's false D319)."""
    old = "and #40313 deleted\n  this class, absent from 0.5.21 on."
    text = (REAL / "cards" / "11214.yaml").read_text()
    assert old in text, old
    project = _real_with(tmp_path, "cards/11214.yaml", old, old + " The 0.5.20 -> 0.5.21 release diff deletes "
                         "mem_cache/mamba_radix_cache.py.")
    assert not [d for d in run_lint(LintContext(project), select=["D319"])]
