"""Rules added against lint18's probes (session 16): a figure in the prose that no claim or evidence holds (D235), a
claim with performance numbers that says nowhere where they ran (D233, now judged per claim), a github.com URL to
another PR than its text or citations name, or to a file no source holds (D524), a release line number of the card's
line that the release evidence puts elsewhere (D331), a merged PR's claim with a flag outside the releases its
evidence shipped in when merged_at is a stand-in (D619); then the red-team round: a real card mutated the ways a
hurried author or an agent gets one wrong, each caught by the rule named. Each near miss is the nearest legitimate
text and must stay clean."""

from __future__ import annotations

import datetime as dt

import yaml

from tests.dossier.test_lint_probes15 import REAL, _append, _both, _set
from tests.dossier.test_lint_probes16 import _claims_append, probe_round

PULL = "https://github.com/sgl-project/sglang/pull/"
BLOB = "https://github.com/sgl-project/sglang/blob/main/"


def _explain_replace(old: str, new: str):
    def edit(card):
        assert old in card["key_fragment"]["explain"], old
        card["key_fragment"]["explain"] = card["key_fragment"]["explain"].replace(old, new)
    return edit


def _field_from(field: str, pr: int):
    """The card with one field taken over from another real card (a template filled with the wrong PR)."""
    def edit(card):
        card[field] = yaml.safe_load((REAL / "cards" / f"{pr}.yaml").read_text())[field]
    return edit


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
    ("figure-in-a-correction", 19321, (), _corrections_append("The PR's real gain was 4.2% TTFT on H100 "
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
    # 3. URLs that lead elsewhere than the card says (D524)
    ("url-link-text-names-another-pr", 19321, (), _append("implementation", f"The follow-up is [#21019]({PULL}21091)."),
     "D524"),
    ("url-this-pr-swapped", 19321, (), _append("implementation", f"See [this PR]({PULL}19312) for the thread."),
     "D524"),
    ("url-uncited-pr", 19321, (), _append("implementation", f"The Qwen3.5 loader came later ({PULL}21910)."), "D524"),
    ("url-blob-made-up-file", 19321, (), _append("implementation", f"The kernel is in {BLOB}python/sglang/srt/layers/"
                                                                   "linear_fused.py."), "D524"),
    ("url-blob-made-up-test", 19321, (), _append("implementation", f"CI runs {BLOB}test/registered/4-gpu-models/"
                                                                   "test_qwen3_next_loader.py."), "D524"),
    ("figure-change-before-a-pair-it-does-not-fit", 19321, (), _append("implementation", "For Qwen3.5 that is 3x "
                                                                                          "fewer GEMMs (4 -> 2) per "
                                                                                          "layer."), "D235"),
    ("claim-speed-percent-beside-accuracy", 22664, (), _claims_append("GSM8K accuracy 96.9% and 8.5% faster decode "
                                                                      "(author, PR description)."), "D233"),
    # 4. a release line number that points at another hunk (D331)
    ("release-line-other-hunk", 22664, (), _explain_replace("0.5.11 line 2341", "0.5.11 line 2314"), "D331"),
    ("release-line-after-name", 22664, (), _append("implementation", "In 0.5.10 the line sits at server_args.py "
                                                                     "line 1900."), "D331"),
    # 5. a stand-in merge day weeks early does not widen the releases a claim's flag is judged by (D619)
    ("claim-flag-with-stand-in-merge-day", 12525, (), _both(_set("merged_at", dt.date(2025, 11, 10)), _claims_append(
        "Author: decode 4% faster on a Xeon CPU with --enable-flashinfer-autotune.")), "D619"),
    # 6. red team: a real card mutated the ways an author gets one wrong
    ("rt-template-motivation-from-another-card", 19321, (19150,), _field_from("motivation", 19150), "D221"),
    ("rt-stale-flag-as-today", 19321, (), _append("implementation", "On 0.5.23, start the server with "
                                                                    "--mamba-scheduler-strategy extra_buffer."), "D618"),
    ("rt-flag-of-a-later-release-in-claim", 19321, (), _claims_append("Author: TTFT -2.6% again with "
                                                                      "--linear-attn-verify-backend triton."), "D619"),
    ("rt-merged-after-it-shipped", 19321, (), _set("merged_at", dt.date(2026, 4, 20)), "D314"),
    ("rt-current-for-removed-code", 19369, (), _set("status", "current"), "D317"),
    ("rt-made-up-source-path", 19321, (), _append("implementation", "The loader helper lives in python/sglang/srt/"
                                                                    "layers/linear_loader.py."), "D604"),
    ("rt-number-the-pr-never-reported", 19321, (), _append("motivation", "The author measured 5.1% higher output "
                                                                         "throughput on H100."), "D235"),
    ("rt-drifted-figure-in-explain", 19321, (), _explain_replace("slot's merged offset for this TP rank.",
                                                                 "slot's merged offset for this TP rank, which cut "
                                                                 "TTFT by 26% on the author's setup."), "D235"),
    ("rt-renamed-flag-on-its-old-release", 22458, (), _append("implementation", "On 0.5.11, pass "
                                                                                "--mamba-radix-cache-strategy "
                                                                                "extra_buffer."), "D618"),
    ("rt-key-fragment-not-the-prs-line", 19321, (), _set("key_fragment.match", "def weight_loader_v2("), "D316"),
    ("rt-wrong-merge-day-in-prose", 19321, (), _append("implementation", "It merged on 2026-03-02."), "D406"),
    ("rt-swapped-pr-in-link", 19321, (), _append("implementation", f"Its successor [#21019]({PULL}21109) split the "
                                                                   "tuple shard."), "D524"),
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
    ("figure-change-before-its-pair", 19321, (), _append("implementation", "For Qwen3.5 that is 2x fewer GEMMs "
                                                                           "(4 -> 2) per layer.")),
    ("figure-is-a-setting", 19321, (), _append("implementation", "The checkpoint loader keeps a default of "
                                                                 "30 s for the download timeout.")),
    ("claim-accuracy-percent-without-device", 22664, (), _claims_append("GSM8K accuracy 96.9% after the change "
                                                                        "(author, PR description).")),
    ("figure-of-the-earlier-manual", 19321, (), _corrections_append("The earlier manual credits this PR with 30% "
                                                                    "faster decode; the PR reports no such number.")),
    ("url-own-pr", 19321, (), _append("implementation", f"The thread is [#19321]({PULL}19321).")),
    ("url-cited-pr", 19321, (), _append("implementation", f"The follow-up #21019 ({PULL}21019) uses the tuple.")),
    ("url-blob-held-file", 19321, (), _append("implementation", f"The loader is {BLOB}python/sglang/srt/layers/"
                                                                "linear.py#L716.")),
    ("url-blob-held-test", 19321, (), _append("implementation", f"CI runs {BLOB}test/registered/4-gpu-models/"
                                                                "test_qwen3_next_models.py.")),
    ("url-another-repository", 19321, (), _append("implementation", "FlashInfer's side is https://github.com/"
                                                                    "flashinfer-ai/flashinfer/pull/2619.")),
    ("release-line-recorded", 22664, (), _append("implementation", "In 0.5.10 the line sits at server_args.py "
                                                                   "lines 1955 and 1978.")),
    ("release-line-of-another-file", 22664, (), _append("implementation", "In 0.5.10 the model list is at "
                                                                          "model_config.py line 12.")),
    ("claim-flag-of-its-shipped-window", 12525, (), _claims_append("Author: decode 4% faster on a Xeon CPU with "
                                                                    "--attention-backend intel_amx.")),
]


(test_the_real_cards_the_probes_start_from_lint_clean, test_a_hand_made_bad_card_is_caught,
 test_a_near_miss_stays_clean) = probe_round(PROBES, NEAR)
