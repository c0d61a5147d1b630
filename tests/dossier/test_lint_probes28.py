"""Rules from session 46's fifth false-negative round (56 planted edits, 8 caught), where a missed kind had a general
reading with no false alarm on the 199 real cards.

D346 (new): a value change written backwards ("the value-tile cap goes from 32 to 8", "the default goes from 0.9 to
0.2") passed, though the card's key fragment is the line the PR added and holds the value the prose says was left.
D237 (new): a figure the claims hold, given to another table row or metric ("+1.94% at 128" where the claims give
+1.94% at concurrency 64; the 89 us of target extend and the 3.5 us of verify swapped) passed D235, which asks only
whether the claims hold the number.
D610: a name credited to the PR's own wording was exempt from having shipped even one keystroke from a name that
did ("The PR's flag was --enable-gdn-replay-ssm-spec"); tested with the surface lock in test_surface_history.py.
"""

from __future__ import annotations

from tests.dossier.test_lint_probes15 import _append
from tests.dossier.test_lint_probes16 import probe_round
from tests.dossier.test_lint_probes17 import _replace

PROBES = [
    ("tile-cap-reversed", 18271, (), _replace("implementation", "goes from 8 to 32", "goes from 32 to 8"), "D346"),
    ("default-reversed", 11679, (), _replace("implementation", "from 0.2 to 0.9", "from 0.9 to 0.2"), "D346"),
    ("arrow-reversed", 17094, (), _replace("implementation", "`BV` from 8 to 32", "`BV` 32 -> 8"), "D346"),
    ("row-moved", 32919, (), _replace("motivation", "+1.06% at 128", "+1.94% at 128"), "D237"),
    ("metrics-swapped", 12508, (), _replace("motivation", "89 us in target extend and 3.5 us in verify",
                                            "3.5 us in target extend and 89 us in verify"), "D237"),
]

NEAR = [
    # the change as it was, in other words; a range of batch sizes; measured numbers, which no code line holds
    ("tile-cap-arrow", 18271, (), _replace("implementation", "goes from 8 to 32", "goes 8 -> 32")),
    ("default-raised", 11679, (), _replace("implementation", "from 0.2 to 0.9", "from 0.2 up to 0.9")),
    ("batch-range", 18271, (), _replace("implementation", "goes from 8 to 32", "goes from 8 to 32 for batches from 1 "
                                                                               "to 32")),
    # a count or a parallel size that moves over a run, not a setting changed by the PR (round six's false findings)
    ("tp-range", 18917, (), _append("implementation", "The head ratio stays 2 as TP goes from 1 to 8.")),
    ("count-crossing", 24271, (), _append("motivation", "A prefill whose chunk count grows from 32 to 33 moves into the "
                                                        "next bucket.")),
    ("pins-drop", 32228, (), _append("implementation", "The Mamba slots a running request pins for its matched node "
                                                       "drop from 1 to 0.")),
    # a run's time beside its benchmark score is not the score's metric
    ("score-run-time", 10233, (), _append("motivation", "The author's GSM8K run reached 0.945 over 1000 questions in "
                                                        "113.9 s at 1470.56 output tok/s.")),
    ("row-kept", 32919, (), _replace("motivation", "+1.06% at 128", "+1.06% at concurrency 128")),
    ("figure-beside-another", 19150, (), _replace("motivation", "at about 30 us of a 353 us decode step",
                                                  "at about 30 us of a 353 us decode step (GDN kernel)")),
    ("measured-times", 18271, (), _replace("implementation", "goes from 8 to 32", "goes from 8 to 32 (121 -> 76 us "
                                                                               "a call, per the author)")),
]

(test_the_real_cards_the_probes_start_from_lint_clean, test_a_hand_made_bad_card_is_caught,
 test_a_near_miss_stays_clean) = probe_round(PROBES, NEAR)
