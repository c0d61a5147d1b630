"""Rules from session 47's seventh false-negative round (73 planted edits, 7 caught), where a missed kind had a
general reading with no false alarm on the 199 real cards.

D238 (new): a measured change written the other way round ("TTFT 446 -> 531 ms" where the author measured
531 -> 446 ms) passed: both figures are the claims' (D235), and only a signed percentage beside them (D226) told.
D239 (new): arithmetic written out that does not come out ("3.8 + 4.0 + 4.8 + 4.4 = 18.0 us"): a sentence showing its
arithmetic is exempt from D235's source check, so the sum was trusted as written.
D240 (new): a multiple in words against the figures it is of ("request throughput tripled" where the claims give
5.49 -> 9.41 req/s, 1.71x; "twice as fast" for 121 -> 76 us; "halves the kernels" for 452 -> 428): ten such edits
passed every rule.
D633 (new): a module constant of today's SGLang given a number its definition does not ("MAX_FUSED_QKV_SPLIT_DIM
(16384)" for 8192): numbers read from code passed every rule (14 of 18 such edits missed).
D410 reads a bare state in parentheses after a PR ("#12892 (open) proposes ...; #20397 (closed) tried ..."): the two
PRs swapped passed.
D623 reads "(the default is X)" after a name as it read "(default X)" ("`--linear-replayssm-cache-len` (the default is
8)" passed), and one state given to several names ("(CUDA; it and SGLANG_GDN_DECODE_FUSION_LOG_LAYER_HITS are both off
by default)" where the first is on) for each of them.
D639 (session 53): a count of Qwen3-Next's architecture that today's Qwen3NextConfig does not give ("Qwen3-Next-80B-A3B
has 64 layers" for 48) passed every rule.
"""

from __future__ import annotations

import pytest

from dossier.lint import LintContext, run_lint
from tests.dossier.test_bad_input23 import _real_with
from tests.dossier.test_lint_probes15 import _append
from tests.dossier.test_lint_probes16 import probe_round
from tests.dossier.test_lint_probes17 import _replace

PROBES = [
    ("pair-reversed-arrow", 28267, (), _replace("motivation", "TTFT 531 -> 446 ms", "TTFT 446 -> 531 ms"), "D238"),
    ("pair-reversed-from-to", 26204, (), _replace("motivation", "TPOT from 23.51 to 22.18", "TPOT from 22.18 to 23.51"),
     "D238"),
    ("pair-reversed-units", 24595, (), _replace("motivation", "about 550 us -> 200 us", "about 200 us -> 550 us"),
     "D238"),
    ("after-as-before", 19321, (), _append("motivation", "A decode-heavy check saw median TTFT go from 876.80 to "
                                                         "965.52 ms."), "D238"),
    ("sum-wrong", 34421, (), _append("motivation", "Per layer that is 3.8 + 4.0 + 4.8 + 4.4 = 18.0 us at B=1."), "D239"),
    ("states-swapped", 18088, (12892, 20397, 20918), _replace("implementation", "#12892 (open) proposes to remove altogether; "
                                                         "#20397 (closed)", "#20397 (open) proposes to remove "
                                                         "altogether; #12892 (closed)"), "D410"),
    ("default-is-wrong", 28451, (), _append("implementation", "The ring length is `--linear-replayssm-cache-len` (the "
                                                              "default is 8)."), "D623"),
    ("tripled", 22664, (), _append("motivation", "With the fusion on, request throughput tripled on that setup (see "
                                                 "claims)."), "D240"),
    ("twice-as-fast", 18271, (), _append("implementation", "The wider tile made the kernel twice as fast (see claims)."),
     "D240"),
    ("halves-kernels", 33778, (), _append("motivation", "Dropping the split halves the number of kernels the verify "
                                                        "graph holds."), "D240"),
    ("three-times-requests", 28185, (), _append("motivation", "With the int8 pool the same run served three times the "
                                                              "requests per second."), "D240"),
    ("ttft-halved", 26204, (), _append("motivation", "On the author's run the summarization workload's p50 TTFT "
                                                     "halved."), "D240"),
    # two values set side by side ("A against B", "A vs B") are a pair too; their unit names the metric
    ("four-times-against", 10680, (), _append("motivation", "The author's profile put the grid computation at 139 us "
                                                            "against 17 us, four times the kernel's own time."), "D240"),
    ("both-off", 32919, (), _replace("implementation", "SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV (default on, CUDA)",
                                     "SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV (CUDA; it and "
                                     "SGLANG_GDN_DECODE_FUSION_LOG_LAYER_HITS are both off by default)"), "D623"),
    ("constant-wrong", 26206, (), _replace("implementation", "MAX_FUSED_QKV_SPLIT_DIM (8192)",
                                           "MAX_FUSED_QKV_SPLIT_DIM (16384)"), "D633"),
    ("product-wrong", 18917, (), _append("implementation", "One rank's state is 32 x 128 x 128 x 4 = 2,048,576 bytes."), "D239"),
    # session 53: a count of the model's architecture that its config does not give (D639)
    ("layer-count-wrong", 18917, (), _replace("motivation", "has 48 layers", "has 64 layers"), "D639"),
    ("expert-count-wrong", 18917, (), _append("implementation", "Qwen3-Next-80B-A3B routes its tokens over 256 "
                                                                "experts."), "D639"),
    ("value-heads-wrong", 18917, (), _append("implementation", "Qwen3-Next-80B-A3B's GDN layers have 64 value heads "
                                                               "of 128 channels each."), "D639"),
]

NEAR = [
    # the claims' order, in other words and units; a pair the claims do not hold; one value repeated
    ("pair-kept", 28267, (), _replace("motivation", "TTFT 531 -> 446 ms", "TTFT from 531 to 446 ms")),
    ("pair-rounded", 26204, (), _replace("motivation", "TPOT from 23.51 to 22.18", "TPOT from 23.5 to 22.2")),
    ("pair-of-settings", 18271, (), _replace("implementation", "goes from 8 to 32", "goes from 8 to 32 (and back to 8 "
                                                                               "for AMD's 32-row verify)")),
    ("default-is-right", 28451, (), _append("implementation", "The ring length is `--linear-replayssm-cache-len` (the "
                                                              "default is 16).")),
    ("both-off-right", 28185, (), _append("implementation", "`--enable-int8-mamba-checkpoint` and "
                                                            "`--enable-linear-replayssm` are both off by default.")),
    ("constant-of-a-release", 26206, (), _append("implementation", "In 0.5.14 MAX_FUSED_QKV_SPLIT_DIM = 4096 "
                                                                   "held here, by this card's reading.")),
    ("constant-right", 26206, (), _append("implementation", "MAX_FUSED_QKV_SPLIT_DIM = 8192 still holds today.")),
    ("state-as-crawled", 18088, (12892, 20397, 20918), _replace("implementation", "#12892 (open)", "#12892 (open when "
                                                                                              "crawled)")),
    # multiples the figures give, with their hedges; a multiple of no measured metric; a setting's rule
    ("tpot-roughly-halves", 22664, (), _append("motivation", "On the author's H100 TP4 run mean TPOT roughly halves.")),
    ("kernel-time-halves", 19150, (), _append("motivation", "On the author's 8x B200 run the GDN kernel's time roughly "
                                                            "halves.")),
    ("eight-times-against", 10680, (), _append("motivation", "The author's profile put the grid computation at "
                                                             "139 us against 17 us, about eight times the kernel's own "
                                                             "time.")),
    ("more-than-halves", 12508, (), _append("motivation", "In the author's profile verify gating more than halves.")),
    ("nearly-twice", 32919, (), _append("implementation", "In the author's table the fused step is nearly twice as "
                                                          "fast as the two kernels.")),
    ("wider-tile", 17094, (), _append("implementation", "The new tile is four times as wide as the old one.")),
    ("default-rule", 28185, (), _append("implementation", "The pool holds, by default, twice the state pool's slots.")),
    # arithmetic that comes out, with units, thousands separators and a rounded result
    ("sum-right", 34421, (), _append("motivation", "Per layer that is 3.8 + 4.0 + 4.8 + 4.4 = 17.0 us at B=1.")),
    ("product-right", 18917, (), _append("implementation", "For Qwen3-Next at TP4 one layer's state is 8 x 128 x 128 "
                                                           "x 4 = 524,288 bytes (our arithmetic from the config).")),
    ("product-rounded", 18917, (), _append("implementation", "For Qwen3-Next at TP4 one layer's state is 8 x 128 x "
                                                             "128 x 4 / 1024 = 512 KiB, 0.5 x 1.05 = 0.53 MB per "
                                                             "layer (our arithmetic from the config).")),
    ("shape-not-sum", 18917, (), _append("implementation", "The ratio check runs at B=64 and T=4 = one verify window.")),
    ("value-heads-of-a-rank", 18917, (), _append("implementation", "At TP4 a rank of Qwen3-Next-80B-A3B holds 8 value "
                                                                   "heads.")),
    ("active-experts", 18917, (), _append("implementation", "Qwen3-Next-80B-A3B routes each token to 10 active "
                                                            "experts of the 512.")),
    ("value-heads-right", 18917, (), _append("implementation", "Qwen3-Next-80B-A3B's GDN layers have 32 value heads of "
                                                               "128 channels each.")),
]

(test_the_real_cards_the_probes_start_from_lint_clean, test_a_hand_made_bad_card_is_caught,
 test_a_near_miss_stays_clean) = probe_round(PROBES, NEAR)


@pytest.mark.parametrize("new, caught", [("eight times TP4's 19,316,736", True), ("four times TP4's 19,316,736", False),
                                         ("about four times TP4's 19,316,736", False)])
def test_a_multiple_in_the_playbook_is_judged_against_its_own_sentence(tmp_path, new, caught):
    """cards/lanes.yaml has no claims: a multiple there is judged against the numbers of its own sentence, the one
    written right after it its base ("77,266,944 bytes with fp32, eight times TP4's 19,316,736" passed)."""
    project = _real_with(tmp_path, "cards/lanes.yaml", "four times TP4's 19,316,736", new)
    found = [d.message for d in run_lint(LintContext(project), select=["D240"])]
    assert bool(found) == caught and all("says 8x" in f for f in found), found
