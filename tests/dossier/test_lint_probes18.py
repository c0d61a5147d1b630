"""Rules added against lint18's probes (session 16): a figure in the prose that no claim or evidence holds (D235), a
claim with performance numbers that says nowhere where they ran (D233, now judged per claim). Each bad card is a
real card mutated by hand; each near miss is the nearest legitimate text and must stay clean."""

from __future__ import annotations

from tests.dossier.test_lint_probes15 import _append
from tests.dossier.test_lint_probes16 import _claims_append, probe_round


def _corrections_append(text: str):
    def edit(card):
        card["corrections"].append(text)
    return edit


# (id, card, other real cards in the project, edit of the card, the code expected)
PROBES = [
    # 1. figures the card's evidence does not hold (D235)
    ("figure-made-up-factor", 19321, (), _append("motivation", "Decode is 1.4x faster on A100 (contributor "
                                                                "edwingao28)."), "D235"),
    ("figure-drifted-percent", 19321, (), _append("motivation", "The contributor measured median TTFT -9.8% on "
                                                                "A100."), "D235"),
    ("figure-made-up-size", 19321, (), _append("implementation", "The merged layers save 3 GB per GPU (author)."),
     "D235"),
    ("figure-from-another-card", 19321, (), _append("motivation", "The decode step fell by 10% on 8x B200 (author)."),
     "D235"),
    ("figure-score-drifted", 19321, (), _append("motivation", "GSM8K 0.91 after the change (author)."), "D235"),
    ("figure-in-a-correction", 19321, (), _corrections_append("The earlier manual quotes a 4.2% TTFT gain on H100 "
                                                               "(author)."), "D235"),
    ("figure-wrong-change-of-its-pair", 19321, (), _append("motivation", "Output throughput went from 3221.55 to "
                                                                         "3260.17 output tok/s (+4.2%) in the "
                                                                         "contributor's A100 runs."), "D235"),
    ("figure-cited-pr-drifted", 19321, (21019,), _append("motivation", "#21019's author measured 3540.71 output tok/s "
                                                                       "on the main branch (GPU not stated)."), "D235"),
    # 2. a claim with numbers that says nowhere where they ran, in a card that names a device for others (D233)
    ("claim-numbers-no-device", 22664, (), _claims_append("Decode TPOT -8.5% at concurrency 64 (author, PR "
                                                          "description)."), "D233"),
    ("claim-device-only-for-other-numbers", 12508, (), _claims_append("Serving: output throughput +3.1% at "
                                                                      "concurrency 8 (author)."), "D233"),
]

# near misses: the same shapes, true of the records (each must add no error)
NEAR = [
    ("figure-rounded-from-a-claim", 19321, (), _append("motivation", "The contributor measured about 9% lower median "
                                                                     "TTFT on A100.")),
    ("figure-same-value-other-form", 19321, (), _append("motivation", "Mean TTFT fell to 22555.3 ms on the author's "
                                                                      "setup.")),
    ("figure-change-of-its-pair", 19321, (), _append("motivation", "Mean TTFT went from 23169.69 to 22555.29 ms "
                                                                   "(-2.7%) on the author's setup.")),
    ("figure-with-its-arithmetic", 19321, (), _append("implementation", "For the 80B model each 2048 x 2048 bf16 "
                                                                        "weight shard is 8 MiB (our arithmetic).")),
    ("figure-of-a-cited-pr", 19321, (21019,), _append("motivation", "#21019's author measured 3240.71 output tok/s "
                                                                    "on the main branch (GPU not stated).")),
    ("numbers-that-are-no-figures", 19321, (), _append("implementation", "On 2x H200 with T=4, 36 GDN layers and "
                                                                         "#21019, as in 0.5.23.")),
    ("claim-numbers-same-setup", 22664, (), _claims_append("Decode TPOT -8.5% at concurrency 64 on the same setup "
                                                           "(author, PR description).")),
    ("claim-numbers-gpu-not-stated", 22664, (), _claims_append("Decode TPOT -8.5% at concurrency 64 (author, PR "
                                                               "description; GPU not stated).")),
    ("claim-numbers-given-a-device-beside-them", 12508, (), _claims_append("Verify gating 3.5 us -> 1.4 us again in "
                                                                            "a rerun (author).")),
]


(test_the_real_cards_the_probes_start_from_lint_clean, test_a_hand_made_bad_card_is_caught,
 test_a_near_miss_stays_clean) = probe_round(PROBES, NEAR)
