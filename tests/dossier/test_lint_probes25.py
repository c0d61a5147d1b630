"""Rules mended in session 43: a figure whose unit changed with its number, and the name something was renamed to.

D235 compared a prose figure with the claims' numbers by value alone, so "TPOT 20.96 s" passed against a claim of
20.96 ms (a factor of 1000), and a correct conversion ("0.316 ms" for 316 us) was refused. A figure is now compared in
its own unit: a claim's number in another unit of the same measure (time, bytes, bytes per second) is converted
first. A GiB counts as a GB (the two are written for each other).

A sentence that says a name was renamed marked every name in it as history, the new name too, so "renamed to `--b`
(default X)" with a wrong default, or renamed to a name no SGLang has, passed D623 and D601. The name right after
"renamed to" / "replaced by" is today's unless the sentence marks it again after it ("since removed").
"""

from __future__ import annotations

import pytest

from dossier.lint.figures import _evidence_numbers, _held
from dossier.mentions import find_mentions
from tests.dossier.test_lint_probes15 import _append
from tests.dossier.test_lint_probes16 import probe_round
from tests.dossier.test_lint_probes17 import _replace

OLD, NEW = "--mamba-scheduler-strategy", "--mamba-radix-cache-strategy"


PROBES = [
    # #19150's claims: TPOT 21.51 -> 20.96 ms, GDN kernel 30 -> 16 us (numbers D224 leaves to this rule: a rounding,
    # a two-digit count)
    ("seconds-for-milliseconds", 19150, (), _append("implementation", "TPOT fell to about 21.0 s at 256 concurrency."),
     "D235"),
    ("milliseconds-for-microseconds", 19150, (), _append(
        "implementation", "The GDN kernel fell to 16 ms at 256 concurrency."), "D235"),
    ("renamed-to-with-a-wrong-default", 28151, (), _append(
        "implementation", f"{OLD} was renamed to {NEW} (default extra_buffer)."), "D623"),
    ("opt-in-for-a-default-on", 32919, (), _append(
        "implementation", "SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV (opt-in) gates it."), "D623"),
    # D622: "the custom op no longer exists: ... (Class.method)" marked the whole sentence as history
    ("wrong-class-after-a-gone-clause", 17613, (), _replace(
        "implementation", "(_eager_linear_attention)", "(RadixAttention._eager_linear_attention)"), "D622"),
    # D231: #22664's profile (136.171 ms) is in a claim that continues the H100 one ("Accuracy, same setup: ...")
    ("device-changed-beside-a-same-setup-figure", 22664, (), _replace(
        "motivation", "at TP4 on H100", "at TP4 on B200"), "D231"),
    ("renamed-to-a-made-up-flag", 28151, (), _append(
        "implementation", f"{OLD} was renamed to --mamba-radix-strategy."), "D601"),
]

NEAR = [
    ("converted-to-seconds", 19150, (), _append("implementation", "TPOT fell to 0.02096 s at 256 concurrency.")),
    ("converted-to-milliseconds", 19150, (), _append(
        "implementation", "The decode step fell to 0.316 ms at 256 concurrency.")),
    ("opt-in-for-a-default-off", 28451, (), _append(
        "implementation", "--enable-linear-replayssm is opt-in.")),
    ("right-class-after-a-gone-clause", 17613, (), _replace(
        "implementation", "(_eager_linear_attention)", "(RadixLinearAttention._eager_linear_attention)")),
    ("wrong-class-in-the-gone-clause", 17613, (), _replace(
        "implementation", "the custom op no longer exists:", "RadixAttention._eager_linear_attention no longer exists:")),
    ("renamed-to-with-its-default", 28151, (), _append(
        "implementation", f"{OLD} was renamed to {NEW} (default auto).")),
    ("renamed-to-a-name-since-removed", 28151, (), _append(
        "implementation", f"An earlier draft renamed it to {OLD} (removed in 0.5.20).")),
]

(test_the_real_cards_the_probes_start_from_lint_clean, test_a_hand_made_bad_card_is_caught,
 test_a_near_miss_stays_clean) = probe_round(PROBES, NEAR)


@pytest.mark.parametrize("value,unit,held", [
    ("23.17", "s", True), ("23.2", "s", True), ("23169.69", "ms", True), ("23.17", "ms", False),
    ("0.089", "ms", True), ("89", "ms", False), ("3000", "MB", True), ("3", "GiB", True), ("1200", "GB/s", True),
    ("1.2", "GB/s", False),
])
def test_a_figure_is_held_in_its_own_unit(value, unit, held):
    claims = _evidence_numbers("TTFT 23169.69 ms; 3 GB saved; 89 us; copy 1.2 TB/s")
    assert _held(value, unit, claims) is held


def test_a_kind_from_the_checked_lock_is_compared_as_it_stands():
    assert _held("23169.69", "ms", [("23169.69", "time")]) and not _held("23.17", "s", [("23169.69", "time")])


@pytest.mark.parametrize("text,marked", [
    ("`--a` was renamed to `--b` (default 8).", {"--a": True, "--b": False}),
    ("`--a` was replaced by `--b`.", {"--a": True, "--b": False}),
    ("`--a` was renamed to `--b`, since removed.", {"--a": True, "--b": True}),
    ("`--a` was renamed to `--b` (historical).", {"--a": True, "--b": True}),
    ("`--a` and `--b` were removed.", {"--a": True, "--b": True}),
])
def test_the_name_something_was_renamed_to_is_todays(text, marked):
    assert {m.text: m.historical for m in find_mentions(text)} == marked


# D319: a release story told in other words (lint25's helper round). Release evidence (cards/evidence.lock): #23619
# first in 0.5.11, present 0.5.11..0.5.20; #14792 present 0.5.7..0.5.18; #17613 first in 0.5.9; #10258 first in
# 0.5.2; #21662 first in 0.5.10
STORY_PROBES = [
    ("span-carries-it", 23619, (), _append("implementation", "0.5.11 through 0.5.22 carry it."), "D319"),
    ("first-release-in-parentheses", 23619, (), _append(
        "implementation", "0.5.10 (the first release to carry it) has the call."), "D319"),
    ("from-on-every-wheel", 23619, (), _append("implementation", "From 0.5.11 on, every wheel has the call."), "D319"),
    ("releases-span-carry-this-change", 14792, (), _append(
        "implementation", "Releases 0.5.7 through 0.5.20 carry this change."), "D319"),
    ("landed-in-time-for", 17613, (), _append("implementation", "It landed in time for 0.5.6."), "D319"),
    ("wheel-already-has-the-export", 10258, (), _append(
        "implementation", "The 0.5.1.post3 wheel already has this export."), "D319"),
    ("wheel-already-has-the-helper", 21662, (), _append(
        "implementation", "The 0.5.9 wheel already has the helper."), "D319"),
]

STORY_NEAR = [
    ("span-carries-it-rightly", 23619, (), _append("implementation", "0.5.11 through 0.5.20 carry it.")),
    ("first-release-in-parentheses-rightly", 23619, (), _append(
        "implementation", "0.5.11 (the first release to carry it) has the call.")),
    ("landed-in-time-rightly", 17613, (), _append("implementation", "It landed in time for 0.5.9.")),
    ("wheel-has-the-helper-rightly", 21662, (), _append("implementation", "The 0.5.10 wheel already has the helper.")),
    ("a-range-that-carries-nothing-of-it", 23619, (), _append(
        "implementation", "0.5.9 to 0.5.14 carry other decode changes.")),
]

(test_the_real_cards_the_story_probes_start_from_lint_clean, test_a_paraphrased_release_story_is_caught,
 test_a_true_release_story_stays_clean) = probe_round(STORY_PROBES, STORY_NEAR)
