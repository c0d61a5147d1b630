"""Rules added in session 44 from a helper's third false-negative round (71 planted edits, 41 missed).

D345: the card's story moved the PR's run to another GPU with no figure beside it for D231 to pin ("failed in the MTP
draft on GB300" turned into "GB200", "profiling ... prefill on one B200" into "H200"). A GPU the motivation or
implementation names must be one cards/checked.lock records for the PR's claims (or the claims name), for a card whose
PR page named a GPU at all; a hedged sentence, this project's own runs and a class of three or more GPUs pass.

D622: a class whose base is an abstract marker (`LinearAttnKernelBase(ABC)`) was taken for one with a base from outside
SGLang, whose members cannot be read, and never judged: "in 0.5.23 CuteDSLGDNKernel.packed_decode" (TritonGDNKernel's
method) passed. ABC and Protocol now add no members and stop nothing.

D526 (an answer-block item crediting a PR its prs list leaves out) is tested in test_lint_rules.py.
"""

from __future__ import annotations

from tests.dossier.test_lint_probes15 import _append
from tests.dossier.test_lint_probes16 import probe_round
from tests.dossier.test_lint_probes17 import _replace
from tests.dossier.test_lint_probes21 import _checked_project

# checked.lock: #24906's claims name GB300 (#23273 superseded it), #26206's B200
PROBES = [
    ("failure-moved-to-another-gpu", 24906, (23273,), _replace(
        "motivation", "in the MTP draft on GB300 (SM100+)", "in the MTP draft on GB200 (SM100+)"), "D345"),
    ("profiled-run-moved-to-another-gpu", 26206, (), _replace(
        "motivation", "prefill on one B200", "prefill on one H200"), "D345"),
    ("a-second-gpu-added-to-the-story", 26206, (), _append(
        "implementation", "The author also profiled it on an H100."), "D345"),
    ("a-method-of-the-change-given-to-a-sibling-class", 20627, (), _append(
        "implementation", "In 0.5.23 CuteDSLGDNKernel.packed_decode calls it too."), "D622"),
]

NEAR = [
    ("the-recorded-gpu-reworded", 26206, (), _replace("motivation", "prefill on one B200", "prefill on a single B200")),
    ("a-class-of-gpus", 24906, (23273,), _append("motivation", "SM100 here means B200, GB200 or GB300.")),
    ("a-hedged-device", 26206, (), _append("implementation", "Whether an H100 gains as much is not stated.")),
    ("the-method-on-its-own-class", 20627, (), _append(
        "implementation", "In 0.5.23 TritonGDNKernel.packed_decode calls it.")),
]

(test_the_real_cards_the_probes_start_from_lint_clean, test_a_hand_made_bad_card_is_caught,
 test_a_near_miss_stays_clean) = probe_round(PROBES, NEAR, _checked_project)


# D319: "R (built D) is the first release with the call", "R is the first release with the line" (release evidence:
# #23619 first in 0.5.11, #38184 first in 0.5.21)
STORY_PROBES = [
    ("first-release-with-the-call-after-its-build-day", 23619, (), _replace(
        "implementation", "0.5.11 (built 2026-05-07) is the first release with the call",
        "0.5.10 (built 2026-04-05) is the first release with the call"), "D319"),
    ("first-release-with-the-line", 38184, (), _replace(
        "implementation", "0.5.21 is the first release with the line", "0.5.20 is the first release with the line"),
     "D319"),
]

STORY_NEAR = [
    ("first-release-with-the-line-rightly", 38184, (), _append(
        "implementation", "So 0.5.21 is the first release with the line.")),
]

(test_the_real_cards_the_story_probes_start_from_lint_clean, test_a_release_story_in_other_words_is_caught,
 test_a_true_release_story_stays_clean) = probe_round(STORY_PROBES, STORY_NEAR)
