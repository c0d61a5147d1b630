"""Rules from session 48's round 8 of planted wrong edits (50 wrong, 15 correct paraphrases, kinds round 7 did not
try), for two missed kinds that recorded evidence settles exactly.

D634 (new): a --flag or SGLANG_* env var said to start in a release ("`--mamba-backend` (from 0.5.10)") when the release
before it already had it (cards/surface.lock); D618 catches only a start release that lacks the name.
D635 (new): a backticked `Class.method` in cards/lanes.yaml or a finding that today's SGLang's class lacks, its bases
included, while the tree has the method elsewhere (D622's reading, which judges cards only in sentences about today).
D636 (new): a flag rename dated to a release in which the new name did not first ship ("0.5.15 renamed
`--mamba-scheduler-strategy` to `--mamba-radix-cache-strategy`", first parsed in 0.5.14).
"""

from __future__ import annotations

import pytest

from dossier.lint import RULES, LintContext, run_lint
from dossier.project import Project
from tests.dossier.test_bad_input23 import _real_with
from tests.dossier.test_lint_probes15 import REAL

CODES = ("D634", "D635", "D636")
LANES = "cards/lanes.yaml"


def _found(project, code: str) -> list[str]:
    return [d.message for d in run_lint(LintContext(project), select=[code])]


# (id, old text of cards/lanes.yaml, the wrong edit, the code expected, words its message must hold)
PROBES = [
    ("flag-start-one-release-late", "`--mamba-backend` (from 0.5.9)", "`--mamba-backend` (from 0.5.10)", "D634",
     "0.5.9 already had it"),
    ("flag-start-late-before-a-colon", "`--disaggregation-decode-retraction-backup` (from 0.5.18)",
     "`--disaggregation-decode-retraction-backup` (from 0.5.19)", "D634", "0.5.18 already had it"),
    ("flag-start-late-with-a-value", "`--prefill-decode-interval N` (from 0.5.19)",
     "`--prefill-decode-interval N` (since 0.5.21)", "D634", "0.5.20 already had it"),
    ("flag-start-late-plus", "`--mamba-backend` (from 0.5.9)", "`--mamba-backend` (0.5.12+)", "D634",
     "0.5.11 already had it"),
    ("method-on-another-class", "`KVCacheConfigurator._handle_max_mamba_cache`",
     "`ModelRunner._handle_max_mamba_cache`", "D635", "ModelRunner has no _handle_max_mamba_cache"),
    ("method-on-another-class-called", "`ScheduleBatch.mix_with_running`, not for requests",
     "`Scheduler.mix_with_running`, not for requests", "D635", "Scheduler has no mix_with_running"),
    ("rename-one-release-late", "0.5.14 renamed `--mamba-scheduler-strategy`", "0.5.15 renamed `--mamba-scheduler-strategy`",
     "D636", "first shipped in 0.5.14"),
    ("rename-became-one-release-early", "0.5.14 renamed `--mamba-scheduler-strategy` to `--mamba-radix-cache-strategy`",
     "`--mamba-scheduler-strategy` became `--mamba-radix-cache-strategy` in 0.5.13", "D636", "first shipped in 0.5.14"),
]

# the same shapes true of the records, or out of the rule's reach (each must add no finding of its code)
NEAR = [
    ("flag-start-right", "`--mamba-backend` (from 0.5.9)", "`--mamba-backend` (since 0.5.9)", "D634"),
    ("flag-start-too-early-is-d618s", "`--prefill-decode-interval N` (from 0.5.19)",
     "`--prefill-decode-interval N` (from 0.5.18)", "D634"),
    ("flag-paired-dates-the-pairing", "`--mamba-backend` (from 0.5.9)", "with `--mamba-backend` (from 0.5.12)",
     "D634"),
    ("flag-in-a-quoted-message", "`--mamba-backend` (from 0.5.9)",
     "'unknown value for `--mamba-backend` (from 0.5.12)'", "D634"),
    ("method-of-its-class", "`KVCacheConfigurator._handle_max_mamba_cache`",
     "`KVCacheConfigurator._handle_max_mamba_cache()`", "D635"),
    ("method-dated-to-an-older-release", "`KVCacheConfigurator._handle_max_mamba_cache`",
     "`KVCacheConfigurator._handle_max_mamba_cache` (0.5.14 had it as `ModelRunner._handle_max_mamba_cache`)", "D635"),
    ("member-no-source-holds-is-d625s", "`KVCacheConfigurator._handle_max_mamba_cache`",
     "`KVCacheConfigurator._handle_max_mamba_pool_x`", "D635"),
    ("rename-said-another-way", "0.5.14 renamed `--mamba-scheduler-strategy` to `--mamba-radix-cache-strategy`",
     "`--mamba-scheduler-strategy` became `--mamba-radix-cache-strategy` in 0.5.14", "D636"),
    ("rename-to-in", "0.5.14 renamed `--mamba-scheduler-strategy` to `--mamba-radix-cache-strategy`",
     "`--mamba-scheduler-strategy`, renamed to `--mamba-radix-cache-strategy` in 0.5.14", "D636"),
]


@pytest.mark.parametrize("name,old,new,code,said", PROBES, ids=[p[0] for p in PROBES])
def test_a_planted_wrong_statement_is_found(tmp_path, no_release_cache, name, old, new, code, said):
    found = _found(_real_with(tmp_path, LANES, old, new), code)
    assert len(found) == 1 and said in found[0], found


@pytest.mark.parametrize("name,old,new,code", NEAR, ids=[p[0] for p in NEAR])
def test_a_true_or_out_of_reach_statement_passes(tmp_path, no_release_cache, name, old, new, code):
    assert code in RULES
    assert _found(_real_with(tmp_path, LANES, old, new), code) == []


def test_the_real_cards_and_playbook_have_none(no_release_cache):
    found = [d.text() for d in run_lint(LintContext(Project.load(REAL)), select=list(CODES))]
    assert found == []


def test_a_text_that_opens_with_another_release_is_dated_there():
    """D628 and D635 read the sentence before a name the same way; cut at a missing ". " (rfind's -1 + 2), it lost
    the text's first character, so "0.5.14's `X.y`" read as ".5.14's" and was judged as today's."""
    from dossier.lint.name_files import dated_elsewhere, sentence_before

    text = "0.5.14's `Scheduler.mix` merged the rows. Today `Scheduler.mix` keeps them."
    assert sentence_before(text, text.index("`Scheduler")) == "0.5.14's "
    assert dated_elsewhere(sentence_before(text, text.index("`Scheduler")), "0.5.23")
    assert not dated_elsewhere(sentence_before(text, text.rindex("`Scheduler")), "0.5.23")
