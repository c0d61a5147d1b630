"""Bad input, round 24: what probes of session 38 found. Deleting a current card's `today` passed every rule when its
code had moved and been renamed at once, or moved into a folder below its key file's (D629)."""
import datetime as dt
import re
import shutil

import pytest

from dossier.lint import LintContext, run_lint
from dossier.project import Project
from tests.dossier.test_bad_input23 import _d628, _real_with
from tests.dossier.test_lint_probes15 import REAL

#: a card's `today` block (file and match lines)
_TODAY = re.compile(r"  today:\n(?:    .*\n)+")


def _without_today(tmp_path, pr: int) -> Project:
    text = (REAL / "cards" / f"{pr}.yaml").read_text()
    return _real_with(tmp_path, f"cards/{pr}.yaml", _TODAY.search(text)[0], "")


@pytest.mark.parametrize("pr, message", [
    # moved and renamed at once: the key file is gone from today's tree, the line is in a file of another name and
    # folder
    (21019, "python/sglang/jit_kernel/triton/gdn_fused_proj.py is not in SGLang 0.5.23; the line key_fragment.match "
            "quotes is in python/sglang/kernels/ops/attention/triton_gdn_fused_proj.py"),
    # the key file stays, the line moved into a folder below it (server_args.py -> arg_groups/)
    (21861, "python/sglang/srt/server_args.py of SGLang 0.5.23 does not hold the line key_fragment.match quotes; "
            "python/sglang/srt/arg_groups/attention_hook.py does"),
    (10595, "python/sglang/srt/layers/attention/hybrid_linear_attn_backend.py of SGLang 0.5.23 does not hold the line "
            "key_fragment.match quotes; python/sglang/srt/layers/attention/linear/gdn_backend.py does"),
])
def test_a_card_whose_code_moved_further_than_its_folder_without_today_is_d629(tmp_path, pr, message):
    assert not [d for d in run_lint(LintContext(Project.load(REAL)), select=["D629"])]
    found = [d.message for d in run_lint(LintContext(_without_today(tmp_path, pr)), select=["D629"])]
    assert found == [message]


def test_a_removal_card_without_today_is_not_d629(tmp_path):
    """#40313 removed MambaRadixCache: its line's absence is the change, so a missing `today` loses a pointer, not a
    truth (drift: missing, not relocated)."""
    assert not [d for d in run_lint(LintContext(_without_today(tmp_path, 40313)), select=["D629"])]


@pytest.mark.parametrize("path, old, new", [
    ("cards/20283.yaml", "0.5.9 to 0.5.10 release diff", "0.5.10 to 0.5.11 release diff"),
    ("cards/20283.yaml", "0.5.9 to 0.5.10 release diff", "0.5.10 → 0.5.11 release diff"),
    ("cards/18937.yaml", "0.5.8.post1 -> 0.5.9 diff adds", "0.5.9 -> 0.5.10 diff adds"),
])
def test_d319_reads_a_release_diff_written_with_to_an_arrow_or_without_release(tmp_path, path, old, new):
    """"the 0.5.9 to 0.5.10 release diff" names the release the card's change went out in as surely as "0.5.9 ->
    0.5.10 release diff" does (the manual writes it both ways); D319 read only the second."""
    project = _real_with(tmp_path, path, old, new)
    found = [d.message for d in run_lint(LintContext(project), select=["D319"])]
    assert len(found) == 1 and "first" in found[0], found


@pytest.mark.parametrize("said", ["first exists in 0.5.15", "parses from 0.5.15", "is accepted since 0.5.15",
                                  "first is defined in 0.5.15", "is registered from 0.5.15"])
def test_a_flag_said_to_exist_or_parse_from_a_release_that_lacked_it_is_d618(tmp_path, said):
    """"first exists in", "parses from", "is accepted since": more ways to say the release a flag starts in (the
    second probe of session 37)."""
    old = "`--linear-attn-verify-backend` first parses in 0.5.17"
    project = _real_with(tmp_path, "cards/lanes.yaml", old, f"`--linear-attn-verify-backend` {said}", count=2)
    found = [d.message for d in run_lint(LintContext(project), select=["D618"])]
    assert len(found) == 2 and "--linear-attn-verify-backend" in found[0] and "0.5.15" in found[0], found


@pytest.mark.parametrize("new, said", [
    ("`GDNKernelDispatcher.__init__` (defined in `utils.py`)", True),
    ("`GDNKernelDispatcher.__init__`, defined in `utils.py`", True),
    ("`utils.py`'s `GDNKernelDispatcher.__init__`", True),
    ("`GDNKernelDispatcher.__init__` lives in `utils.py`", True),
    # where a name was, not where it is
    ("`GDNKernelDispatcher.__init__`, moved from `utils.py`", False),
])
def test_d628_reads_defined_in_and_a_files_possessive(tmp_path, new, said):
    project = _real_with(tmp_path, "cards/lanes.yaml", "`GDNKernelDispatcher.__init__` (`gdn_backend.py`)", new)
    assert _d628(project) == (["`GDNKernelDispatcher.__init__` (utils.py): utils.py of SGLang 0.5.23 has no "
                               "GDNKernelDispatcher in its code"] if said else [])


def test_d627_dates_every_message_of_a_list_of_quotes_by_the_parenthesis_after_the_list(tmp_path):
    """"'A' and 'B' (from 0.5.10, ...)": the parenthesis dates both quotes; D627 read it for the last one only."""
    project = _real_with(tmp_path, "cards/lanes.yaml", "'FlashInfer GDN backend requires CUDA' (from 0.5.10,",
                         "'FlashInfer GDN backend requires CUDA' (from 0.5.8,")
    found = sorted(d.message for d in run_lint(LintContext(project), select=["D627"]))
    assert [m.split("' to ")[0].split("dates '")[1] for m in found] == [
        "FlashInfer GDN backend requires CUDA", "GDN CuTe DSL backend requires CUDA"], found


@pytest.mark.parametrize("new, value", [
    ("the default of `--max-prefill-tokens` is 8192", "8192"),
    ("the default value for `--max-prefill-tokens`: 8192", "8192"),
    ("`--max-prefill-tokens`'s default is 8192", "8192"),
    ("SGLang defaults `--max-prefill-tokens` to 8192", "8192"),
    ("the default of `--max-prefill-tokens` is 16384", None),
    # a verb after the name is no value
    ("the default of `--max-prefill-tokens` is overridden by the model", None),
])
def test_d623_reads_a_default_written_around_the_flag(tmp_path, new, value):
    """"the default of `--flag` is X", "`--flag`'s default is X", "defaults `--flag` to X": D623 read the default
    only right after the name ("(default X)", "defaults to X")."""
    project = _real_with(tmp_path, "cards/lanes.yaml", "`--max-prefill-tokens` (default 16384)", new)
    found = [d.message for d in run_lint(LintContext(project), select=["D623"])]
    assert found == ([f"--max-prefill-tokens is said to default to {value}, but SGLang 0.5.23 defaults it to 16384 "
                      "(cards/surface.lock)"] if value else []), found


@pytest.mark.parametrize("new", ["[#37837](pr-history.md#pr-37837) (merged in 0.5.23)",
                                 "the merged [#37837](pr-history.md#pr-37837)"])
def test_d410_reads_a_linked_pr_said_merged_in_the_lanes(tmp_path, new):
    """"[#37837](...) (merged in 0.5.23)" in cards/lanes.yaml, where #37837's card says it is open: D410 read card
    prose only, and "#N (merged" without a link between."""
    project = _real_with(tmp_path, "cards/lanes.yaml", "[#37837](pr-history.md#pr-37837) (open when crawled)", new)
    found = [d.message for d in run_lint(LintContext(project), select=["D410"])]
    assert len(found) == 1 and "#37837's card has its state as open, never merged" in found[0], found


@pytest.mark.parametrize("path, old, new, said", [
    ("cards/40313.yaml", "Merge: commit a8a4d86be9 on 2026-09-20", "Merge: commit a8a4d86be9 on 2026-09-28",
     "says #40313 merged 2026-09-28, but this card's merged_at has it merged 2026-09-20"),
    ("cards/30468.yaml", "merged_at: 2026-07-14", "merged_at: 2026-07-20",
     "says #30468 merged 2026-07-14, but this card's merged_at has it merged 2026-07-20"),
])
def test_d406_reads_the_merge_commit_day(tmp_path, path, old, new, said):
    """"Merge: commit a8a4d86be9 on 2026-09-20 (daily commit digest)" is the card's own merge day: a prose day or a
    merged_at changed on one side only passed."""
    project = _real_with(tmp_path, path, old, new)
    found = [d.message for d in run_lint(LintContext(project), select=["D406"])]
    assert found == [said]


@pytest.mark.parametrize("old, new, said", [
    # "since 0.5.19" opens a span to today: the pair is today's
    ("`FlashInferGDNKernel` (`layers/attention/linear/kernels/gdn_flashinfer.py`)",
     "`FlashInferGDNKernel` (`layers/attention/linear/kernels/gdn_triton.py`)",
     "`FlashInferGDNKernel` (layers/attention/linear/kernels/gdn_triton.py): layers/attention/linear/kernels/"
     "gdn_triton.py of SGLang 0.5.23 has no FlashInferGDNKernel in its code"),
    # a closed span dates it
    ("(the SM90 default since 0.5.19 when installed) the chunked part is FlashInfer's kernel, called from "
     "`FlashInferGDNKernel` (`layers/attention/linear/kernels/gdn_flashinfer.py`)",
     "(the SM90 default from 0.5.19 to 0.5.20 when installed) the chunked part is FlashInfer's kernel, called from "
     "`FlashInferGDNKernel` (`layers/attention/linear/kernels/gdn_triton.py`)", None),
])
def test_d628_takes_a_span_open_to_today_for_today(tmp_path, old, new, said):
    """A sentence naming "since 0.5.19" speaks of today too; D628 skipped every pair in it (the lint mutation
    probe: `FlashInferGDNKernel` placed in gdn_triton.py passed)."""
    project = _real_with(tmp_path, "cards/lanes.yaml", old, new)
    assert _d628(project) == ([said] if said else [])


def _d630(project) -> list[str]:
    return [d.message for d in run_lint(LintContext(project), select=["D630"])]


def test_the_real_manual_names_every_today_line():
    assert _d630(Project.load(REAL)) == []


@pytest.mark.parametrize("path, old, new, names", [
    # another card's line of the same file (#32228's constant) as #18786's today place: every other rule passes it
    ("cards/18786.yaml", '    match: "# Use explicitly set max_running_requests when radix cache is disabled"',
     '    match: "MAMBA_CACHE_BASE_RATIO_DROP_ON_SKIP = 1"', "MAMBA_CACHE_BASE_RATIO_DROP_ON_SKIP"),
    # the sentence that says what the today line is, deleted
    ("cards/27964.yaml", " Today SpeculativeAlgorithm.create_worker\n    (spec_info.py) returns EAGLEWorkerV2 for EAGLE "
     "(MultiLayerEagleWorkerV2 with multi-layer EAGLE) whatever the\n    variable says, overlap on or off.", "",
     "EAGLEWorkerV2, create_worker"),
])
def test_a_today_line_the_card_never_names_is_d630(tmp_path, path, old, new, names):
    found = _d630(_real_with(tmp_path, path, old, new))
    assert found == [f"the card never names the line it gives as today's place: none of {names} is in its prose"]


def test_d236_reads_scores_listed_far_from_their_benchmark(tmp_path):
    """"GSM8K (1319 examples, 8-shot, ...) ...: NVFP4 no_buffer 0.977 / 0.957": a score written after other words
    than its benchmark's name was no figure, so a changed one passed (the lint mutation probe)."""
    project = _real_with(tmp_path, "cards/21861.yaml", "NVFP4 no_buffer 0.977 / 0.977", "NVFP4 no_buffer 0.977 / 0.957")
    found = [d.message for d in run_lint(LintContext(project), select=["D236"])]
    assert len(found) == 1 and found[0].startswith("'0.957' in "), found


@pytest.mark.parametrize("new, said", [
    ("(removed after 0.5.11)", "says --enable-piecewise-cuda-graph was removed after 0.5.11, but 0.5.12 still holds "
                               "it"),
    ("(removed after 0.5.14)", "says --enable-piecewise-cuda-graph was removed after 0.5.14, but 0.5.14 does not have "
                               "it"),
    ("(removed after 0.5.13.post1)", None),
])
def test_d327_reads_removed_after_as_the_last_release(tmp_path, new, said):
    """"--enable-piecewise-cuda-graph (removed after 0.5.13.post1)" names the last release with the flag; D327 read
    "removed in/since/from" only (the lint mutation probe)."""
    project = _real_with(tmp_path, "cards/17613.yaml", "(removed after 0.5.13.post1)", new)
    found = [d.message for d in run_lint(LintContext(project), select=["D327"])]
    assert [f.split(" (releases")[0] for f in found] == ([said] if said else []), found


@pytest.mark.parametrize("said, found", [
    # one file of that name in any release: srt/arg_groups/overrides.py, first in 0.3.0
    ("overrides.py was removed in 0.3.0.", "says overrides.py was removed in 0.3.0, but 0.3.0 still holds it"),
    ("norm.py is gone from 0.2.0.", "says norm.py was gone in 0.2.0, but 0.2.0 still holds it"),
    # two files of that name (srt/layers/gating.py, kernels/ops/gating.py): which one is not for lint to guess
    ("gating.py was removed in 0.2.0.", None),
    # a second file after the first, its verb left out
    ("gating.py is gone from 0.3.0 and overrides.py from 0.3.0.", "says overrides.py was gone in 0.3.0, but 0.3.0 "
                                                                  "still holds it"),
])
def test_d327_finds_a_bare_file_name_in_the_releases(tmp_path, monkeypatch, said, found):
    """"mamba_radix_cache.py is gone from 0.5.19" passed: D327 judged a file the card lists or a python/sglang path,
    not a bare name, which the release trees resolve when one file has it (the lint mutation probe)."""
    from tests.dossier.factories import make_card
    from tests.dossier.test_release_evidence import kf, released_project

    card = make_card(101, merged_at=dt.date(2026, 2, 1), key_fragment=kf("def split_heads("))
    card["implementation"] += " " + said
    root, cache = released_project(tmp_path, monkeypatch, [card])
    monkeypatch.setenv("DOSSIER_RELEASES", str(cache))
    messages = [d.message for d in run_lint(LintContext(Project.load(root)), select=["D327"])]
    assert [m.split(" (releases")[0] for m in messages] == ([found] if found else []), messages


def test_d236_holds_the_gpu_of_a_claim_to_the_checked_lock(tmp_path):
    """"... bandwidth bound at batch >= 64 on an H20-3e" turned into "on an H100" moved the PR's figure to another
    machine and passed: checked.lock held a claim's numbers, not its GPU."""
    old = "70-79% memory-bandwidth bound at batch >= 64 on an H20-3e;"
    project = _real_with(tmp_path, "cards/28451.yaml", old, old.replace("H20-3e", "H100"))
    found = [d.message for d in run_lint(LintContext(project), select=["D236"])]
    assert found == ["H100 is not among the GPUs recorded for #28451's claims in cards/checked.lock (H20-3e): a device "
                     "no check of the PR's page vouches for"]


def test_an_entry_recorded_before_gpus_were_is_not_judged_for_them(tmp_path):
    """A lock written before GPUs were recorded still reads, and its entries hold no GPU against a claim."""
    _real_with(tmp_path, "cards/28451.yaml", "on an H20-3e;", "on an H100;")
    lock = tmp_path / "cards" / "checked.lock"
    text = re.sub(r"(  28451:\n(?:    (?:numbers|files): .*\n)+)    gpus: .*\n", r"\1", lock.read_text())
    lock.write_text(re.sub(r"# cards sha256: \w+\n", "", text))
    found = [(d.code, d.message) for d in run_lint(LintContext(Project.load(tmp_path)), select=["D236", "D311"])]
    assert found == [], found


@pytest.mark.parametrize("path, old, new, said", [
    ("cards/28695.yaml", "defined in kernels/ops/attention/linear/gdn_replayssm_spec_decode.py",
     "defined in kernels/ops/attention/linear/fused_recurrent_linear_replayssm.py",
     "`commit_gdn_replayssm_circular` (kernels/ops/attention/linear/fused_recurrent_linear_replayssm.py): kernels/ops/"
     "attention/linear/fused_recurrent_linear_replayssm.py of SGLang 0.5.23 has no commit_gdn_replayssm_circular in "
     "its code"),
    ("cards/19150.yaml", "In 0.5.23, handle_linear_attn_backend (arg_groups/attention_hook.py)",
     "In 0.5.23, handle_linear_attn_backend (arg_groups/moe_hook.py)",
     "`handle_linear_attn_backend` (arg_groups/moe_hook.py): arg_groups/moe_hook.py of SGLang 0.5.23 has no "
     "handle_linear_attn_backend in its code"),
    # a card tells the PR's code as it merged: an undated bare pair there is not today's
    ("cards/19150.yaml", "In 0.5.23, handle_linear_attn_backend (arg_groups/attention_hook.py)",
     "Then handle_linear_attn_backend (arg_groups/moe_hook.py)", None),
])
def test_d628_reads_a_bare_code_name_placed_in_a_python_file(tmp_path, path, old, new, said):
    """"commit_gdn_replayssm_circular, defined in .../gdn_replayssm_spec_decode.py" moved to another real file passed:
    D628 read backticked pairs only (the lint mutation probe)."""
    assert _d628(_real_with(tmp_path, path, old, new)) == ([said] if said else [])


@pytest.mark.parametrize("old, new, said", [
    ("(the last H200 run, 2026-12-03, round twenty-two, before SGLang's kernel got the force-flush mask it is given "
     "in serving; results/bench/gdn.json)",
     "(the last H100 run, 2026-12-03, round twenty-two, before SGLang's kernel got the force-flush mask it is given "
     "in serving; results/bench/gdn.json)",
     "names H100, but gdn.json was measured on H200 (its device)"),
    ("at its fastest length 1.18-1.52x SGLang", "at its fastest length 1.18-1.99x SGLang",
     "1.99 is not a value of gdn.json (to 2 decimal places)"),
])
def test_d517_reads_the_lanes_file(tmp_path, old, new, said):
    """A lanes.yaml sentence citing results/bench/gdn.json with another GPU or a number the file lacks passed: D517
    read the cards only (the lint mutation probe)."""
    shutil.copytree(REAL / "results", tmp_path / "results")
    project = _real_with(tmp_path, "cards/lanes.yaml", old, new)
    found = [d.message for d in run_lint(LintContext(project), select=["D517"])]
    assert said in found, found


@pytest.mark.parametrize("quote, words", [
    ("max_running_requests is capped to N by the mamba state cache (max_mamba_cache_size=..., R state slots)",
     "by the mamba state cache (max_mamba_cache_size="),
    ("AssertionError: Page size must be 1 for MambaRadixCache v1, got 128",
     "Page size must be 1 for MambaRadixCache v1, got 128"),
    ("extra_buffer is not supported for <architecture>; use no_buffer.", "extra_buffer is not supported for"),
    ("Mamba extra_buffer is only supported on CUDA [and MUSA, 0.5.11] devices with FLA backend",
     "Mamba extra_buffer is only supported on CUDA"),
    ("decode=..., prefill=...", None),
])
def test_fixed_words_are_the_longest_run_between_values(quote, words):
    from dossier.lint.error_sources import fixed_words

    assert fixed_words(quote) == words


@pytest.mark.parametrize("old, new, said", [
    # a quote outside the error page, dated by the parenthesis after it
    ("decode (`SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV`, on by default, from 0.5.19, #32919)",
     "decode (`SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV`, on by default, from 0.5.19, #32919; it logs "
     "'Using fused GDN decode QKVZ/BA unpack + indexed Conv1D.' (from 0.5.17))",
     "'(from 0.5.17)' dates 'Using fused GDN decode QKVZ/BA unpack + indexed Conv1D.' to 0.5.17, which does not "
     "print it"),
    # by the rest of the parenthesis the quote opens
    ("('HiCache does not support hybrid Mamba models on XPU', from 0.5.23)",
     "('HiCache does not support hybrid Mamba models on XPU', from 0.5.21)",
     "'(from 0.5.21)' dates 'HiCache does not support hybrid Mamba models on XPU' to 0.5.21, which does not print "
     "it"),
])
def test_d627_dates_every_quote_of_the_lanes_file(tmp_path, old, new, said):
    """"('HiCache does not support hybrid Mamba models on XPU', from 0.5.21)" passed: D627 read the error page's
    messages only, and only a parenthesis after the quote (the lint mutation probe)."""
    found = [d.message for d in run_lint(LintContext(_real_with(tmp_path, "cards/lanes.yaml", old, new)),
                                         select=["D627"])]
    assert [f.split(": cards/messages.lock")[0] for f in found] == [said], found


# ---- the second probe of this session's rules: correct text they flagged, wrong text they passed ------------------

def _with_sentence(tmp_path, pr: int, field: str, sentence: str) -> Project:
    """The real cards/ with ``sentence`` added at the end of card ``pr``'s folded ``field``."""
    text = (REAL / "cards" / f"{pr}.yaml").read_text()
    block = re.search(rf"^{field}: >-\n(?:  .*\n)+", text, re.MULTILINE)[0]
    return _real_with(tmp_path, f"cards/{pr}.yaml", block, block + f"  {sentence}\n")


@pytest.mark.parametrize("pr, field, sentence, rule", [
    # D628: a technique and a library are no code names; a pair "in the PR" is the PR's own time
    (21019, "implementation", "Today ReplaySSM (kernels/ops/attention/linear/fused_recurrent_linear_replayssm.py) "
                              "runs only with --enable-linear-replayssm.", "D628"),
    (10595, "implementation", "Today it is in gdn_backend.py; the PR's rebinding to causal_conv1d_fn_cuda "
                              "(hybrid_linear_attn_backend.py in the PR) still stands.", "D628"),
    # D623: a word that is no value
    (28451, "implementation", "The default of `--linear-replayssm-cache-len` is fine for most batches.", "D623"),
    (28451, "implementation", "`--linear-replayssm-cache-len`'s default is only a starting point.", "D623"),
    # D410: the question is open, not the PR
    (12892, "implementation", "Whether #14502's approach would have helped is still open.", "D410"),
    # D406: another PR's merge commit
    (23973, "implementation", "Merge commit 4323fce82a on 2026-04-22 (#23467's, daily commit digest) had added "
                              "them.", "D406"),
    # D327: a file that holds something, not one removed
    (40313, "implementation", "The legacy tree is gone from 0.5.21, and unified_radix_cache.py in 0.5.21 holds the "
                              "only Mamba prefix tree.", "D327"),
    # D319: a diff that names another PR's work, or that moves code
    (23467, "implementation", "The 0.5.12.post1 -> 0.5.13 release diff holds that strip (PR 26287).", "D319"),
    (10466, "implementation", "The 0.5.15.post1 -> 0.5.16 release diff shows the kernel moved to "
                              "kernels/ops/attention/fla/.", "D319"),
])
def test_correct_text_the_second_probe_found_flagged_passes(tmp_path, monkeypatch, pr, field, sentence, rule):
    monkeypatch.setenv("DOSSIER_RELEASES", "/tmp/relcache")  # D327 reads file names through the releases, if synced
    found = [d.message for d in run_lint(LintContext(_with_sentence(tmp_path, pr, field, sentence)), select=[rule])]
    assert found == []


@pytest.mark.parametrize("claim, caught", [
    ("no GPU is named (an H100 or an H200 are both plausible for this run)", False),
    ("packed decode on an H20-3e (the 141 GB H20) is bandwidth bound", False),
    ("a GH200 rerun gave the same accept length", True),
])
def test_d236_reads_hedged_gpus_as_no_run_and_a_recorded_gpus_short_name(tmp_path, claim, caught):
    project = _with_sentence_in_claims(tmp_path, 28451, claim)
    found = [d.message for d in run_lint(LintContext(project), select=["D236"])]
    assert bool([f for f in found if "GPUs recorded" in f]) is caught, found


def _with_sentence_in_claims(tmp_path, pr: int, claim: str) -> Project:
    text = (REAL / "cards" / f"{pr}.yaml").read_text()
    anchor = re.search(r"^  claims:\n", text, re.MULTILINE)[0]
    return _real_with(tmp_path, f"cards/{pr}.yaml", anchor, anchor + f'    - "{claim}"\n')


@pytest.mark.parametrize("sentence, scores", [
    ("Qwen3-Next-Thinking's GSM8K settings (temperature 0.6, top_p 0.95) need transformers 4.57 or newer.", []),
    ("Rerun GSM8K with --mem-fraction-static 0.85.", []),
    ("GSM8K accuracy was 0.9802 against 0.9771, 0.31 points higher.", ["0.9802", "0.9771"]),
    ("GSM8K baseline 95.1, NEXTN 95.9; gsm8k_cot reached 0.931.", ["95.1", "95.9", "0.931"]),
])
def test_scores_of_a_benchmark_sentence_are_not_its_settings_versions_or_differences(sentence, scores):
    from dossier.lint.figures import figures

    assert [m.group("num") for m, _ in figures(sentence)] == scores


def test_d630_takes_a_flag_for_the_field_it_sets(tmp_path):
    """"--mamba-full-memory-ratio" names the field mamba_full_memory_ratio, whose declaration #11679's today line is
    in: the rule's own reading, which the dashes broke (the second probe)."""
    text = (REAL / "cards" / "11679.yaml").read_text()
    project = _real_with(tmp_path, "cards/11679.yaml", text, re.sub(r"(?<![\w-])mamba_full_memory_ratio",
                                                                      "--mamba-full-memory-ratio", text))
    assert "mamba_full_memory_ratio" not in (tmp_path / "cards" / "11679.yaml").read_text()
    assert _d630(project) == []


@pytest.mark.parametrize("old, new", [
    ("[#37837](pr-history.md#pr-37837) (open when crawled)", "#37837 was merged in 0.5.23 and"),
])
def test_d410_reads_was_merged(tmp_path, old, new):
    found = [d.message for d in run_lint(LintContext(_real_with(tmp_path, "cards/lanes.yaml", old, new)),
                                         select=["D410"])]
    assert len(found) == 1 and "never merged" in found[0], found


def test_d628_judges_a_bare_pair_in_a_clause_that_says_today(tmp_path):
    project = _with_sentence(tmp_path, 21019, "implementation", "Today, resolve_linear_attn_backends (gdn_backend.py) "
                             "makes the per-phase pick.")
    assert _d628(project) == ["`resolve_linear_attn_backends` (gdn_backend.py): gdn_backend.py of SGLang 0.5.23 has no "
                              "resolve_linear_attn_backends in its code"]


@pytest.mark.parametrize("old, new, caught", [
    # "the latter" dates one quote of the list, not both
    ("'Only support page_size=1 in mamba radix cache now.' and refuse", "'Only support page_size=1 in mamba radix "
     "cache now.' or 'Page size must be 1 for MambaRadixCache v1' (the latter 0.5.7 to 0.5.20) and refuse", False),
    # "/" joins a list like "and"
    ("'Only support page_size=1 in mamba radix cache now.' and refuse", "'Only support page_size=1 in mamba radix "
     "cache now.' / 'Page size must be 1 for MambaRadixCache v1' (0.5.7 to 0.5.20) and refuse", True),
])
def test_d627_reads_one_of_a_list_and_a_slash(tmp_path, old, new, caught):
    found = [d.message for d in run_lint(LintContext(_real_with(tmp_path, "cards/lanes.yaml", old, new)),
                                         select=["D627"])]
    assert bool([f for f in found if "Only support page_size=1" in f]) is caught, found


def test_removed_after_a_release_whose_post_release_still_has_it_passes(tmp_path):
    project = _real_with(tmp_path, "cards/17613.yaml", "(removed after 0.5.13.post1)", "(removed after 0.5.13)")
    assert [d.message for d in run_lint(LintContext(project), select=["D327"])] == []


@pytest.mark.parametrize("said, caught", [("first exists in 0.5.19", True), ("was added in 0.5.19", True),
                                          ("is accepted since 0.5.19", False)])
def test_d618_holds_a_first_release_to_the_flags_first(tmp_path, said, caught):
    """"`--linear-attn-verify-backend` first exists in 0.5.19" for a flag 0.5.17 already parsed passed: D618 asked
    only whether 0.5.19 has it. "since" names a release that has it, not the first (the second probe)."""
    old = "`--linear-attn-verify-backend` first parses in 0.5.17"
    project = _real_with(tmp_path, "cards/lanes.yaml", old, f"`--linear-attn-verify-backend` {said}", count=2)
    found = [d.message for d in run_lint(LintContext(project), select=["D618"])]
    assert bool(found) is caught and all("first shipped in 0.5.17" in f for f in found), found


@pytest.mark.parametrize("new", ["`--max-prefill-tokens` is 8192 by default", "`--max-prefill-tokens` has a default of "
                                                                              "8192"])
def test_d623_reads_a_number_by_default_and_has_a_default_of(tmp_path, new):
    project = _real_with(tmp_path, "cards/lanes.yaml", "`--max-prefill-tokens` (default 16384)", new)
    found = [d.message for d in run_lint(LintContext(project), select=["D623"])]
    assert found == ["--max-prefill-tokens is said to default to 8192, but SGLang 0.5.23 defaults it to 16384 "
                     "(cards/surface.lock)"]


@pytest.mark.parametrize("new", ["`GDNKernelDispatcher.__init__` is in `utils.py`",
                                 "`utils.py` defines `GDNKernelDispatcher.__init__`"])
def test_d628_reads_is_in_and_defines(tmp_path, new):
    project = _real_with(tmp_path, "cards/lanes.yaml", "`GDNKernelDispatcher.__init__` (`gdn_backend.py`)", new)
    assert _d628(project) == ["`GDNKernelDispatcher.__init__` (utils.py): utils.py of SGLang 0.5.23 has no "
                              "GDNKernelDispatcher in its code"]


def test_d327_reads_a_file_removed_in_the_lanes_file(tmp_path, monkeypatch):
    """"python/sglang/srt/mem_cache/mamba_radix_cache.py was removed in 0.5.19" in cards/lanes.yaml was not judged:
    there D327 read flags and env vars only (the second probe)."""
    from tests.dossier.factories import make_card
    from tests.dossier.test_release_evidence import kf, released_project

    card = make_card(101, merged_at=dt.date(2026, 2, 1), key_fragment=kf("def split_heads("))
    root, cache = released_project(tmp_path, monkeypatch, [card])
    lanes = root / "cards" / "lanes.yaml"
    lanes.write_text(lanes.read_text().replace("Profile the projection GEMMs.", "Profile the projection GEMMs; "
                                               "norm.py was removed in 0.2.0."))
    monkeypatch.setenv("DOSSIER_RELEASES", str(cache))
    messages = [d.message for d in run_lint(LintContext(Project.load(root)), select=["D327"])]
    assert [m.split(" (releases")[0] for m in messages] == ["says norm.py was removed in 0.2.0, but 0.2.0 still holds "
                                                           "it"], messages


def test_d517_reads_a_logs_gpu_from_its_header(tmp_path):
    """A sentence citing results/cuda/regress-h200.log with an H100 passed: only a JSON document's `device` was read
    (the second probe)."""
    shutil.copytree(REAL / "results", tmp_path / "results")
    project = _real_with(tmp_path, "cards/lanes.yaml", "(the last H200 run, 2026-12-03, round twenty-two, before "
                         "SGLang's kernel got the force-flush mask it is given in serving; results/bench/gdn.json)",
                         "(the regression run, NVIDIA H100; results/cuda/regress-h200.log)")
    found = [d.message for d in run_lint(LintContext(project), select=["D517"])]
    assert "names H100, but regress-h200.log was measured on H200 (its device)" in found, found


@pytest.mark.parametrize("before, caught", [("The log line that was added by #19150 is printed by", True),
                                            ("The dispatcher was", False)])
def test_d628_takes_only_a_was_near_the_pair_for_a_date(tmp_path, before, caught):
    project = _real_with(tmp_path, "cards/lanes.yaml", "`GDNKernelDispatcher.__init__` (`gdn_backend.py`)",
                         f"{before} `GDNKernelDispatcher.__init__` (`utils.py`)")
    assert bool(_d628(project)) is caught


def test_d327_reads_a_file_with_an_adjective_before_it(tmp_path, monkeypatch):
    """"The legacy mamba_radix_cache.py was removed in 0.5.19" passed: a word before the file the subject list did not
    have (the second probe)."""
    from tests.dossier.factories import make_card
    from tests.dossier.test_release_evidence import kf, released_project

    card = make_card(101, merged_at=dt.date(2026, 2, 1), key_fragment=kf("def split_heads("))
    card["implementation"] += " The legacy norm.py was removed in 0.2.0."
    root, cache = released_project(tmp_path, monkeypatch, [card])
    monkeypatch.setenv("DOSSIER_RELEASES", str(cache))
    messages = [d.message for d in run_lint(LintContext(Project.load(root)), select=["D327"])]
    assert [m.split(" (releases")[0] for m in messages] == ["says norm.py was removed in 0.2.0, but 0.2.0 still holds "
                                                           "it"], messages
