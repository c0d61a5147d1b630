"""Rules for wrong edits session 48's round 8 planted and lint missed (/tmp/h48/L3/table.md), three kinds of them.

D623 (wider): a default said in prose, "(0.8 when unset", "(flashinfer unless set", "`--hicache-mem-layout`
page_first_direct by default", judged as "(default X)" is, and a field whose default is None by the value it falls
back to when unset (``Arg(fallback=0.9)`` in today's source): rows D3 and D5.
D643 (new): a bound between two flags ("`--mamba-track-interval` must be at least `--speculative-num-steps`") that
today's SGLang never checks while it compares the first flag with other flags: row G2.
D644 (new): a quoted refusal said to come without (unless, requiring) a flag its message does not name ("Without
`--dp-size` the flag stops at startup: '... requires attention DP (--attn-dp-size).'"): row G3.
"""

from __future__ import annotations

import pytest

from dossier.lint import RULES, LintContext, run_lint
from dossier.project import Project
from tests.dossier.test_bad_input23 import _real_with
from tests.dossier.test_lint_probes15 import REAL
from tests.dossier.test_lint_probes31 import _found

CODES = ("D623", "D643", "D644")
LANES = "cards/lanes.yaml"
RATIO = "(0.9 when unset"
LAYOUT = "page_first by default or page_first_direct"
BOUND = "(default 256) must be at least `--speculative-num-draft-tokens` and divisible by `--page-size`. Decode saves"
DP = "Without `--attn-dp-size` the flag stops"
ROUNDING = "check: \"'Stochastic rounding for the Mamba SSM cache requires"
REPLAY = "2); '--enable-linear-replayssm requires --mamba-radix-cache-strategy no_buffer"
RAISE = "Raise it with `--max-mamba-cache-size`, `--mamba-full-memory-ratio`, or a bfloat16 state."


# (id, file, old text, the wrong edit, the code expected, words its message must hold)
PROBES = [
    ("default-when-unset-D3", LANES, RATIO, "(0.8 when unset", "D623", "resolves it to 0.9 when unset"),
    ("default-if-not-given", LANES, RATIO, "(0.5 if not given", "D623", "resolves it to 0.9 when unset"),
    ("default-bare-choice-D5", LANES, LAYOUT, "page_first_direct by default or page_first", "D623",
     "defaults it to page_first"),
    ("default-bare-choice-other", LANES, LAYOUT, "layer_first by default or page_first_direct", "D623",
     "said to default to layer_first"),
    ("default-unless-set", LANES, "`--linear-attn-backend` (default triton)",
     "`--linear-attn-backend` (flashinfer unless set)", "D623", "defaults it to triton"),
    ("default-unless-given-card", "cards/28185.yaml", "--enable-int8-mamba-checkpoint (default off)",
     "--enable-int8-mamba-checkpoint (on unless given)", "D623", "defaults it to False"),
    ("bound-by-another-flag-G2", LANES, BOUND, BOUND.replace("least `--speculative-num-draft-tokens`",
                                                             "least `--speculative-num-steps`"),
     "D643", "bound by --speculative-num-steps"),
    ("second-bound-by-another-flag", LANES, BOUND, BOUND.replace("divisible by `--page-size`",
                                                                 "divisible by `--chunked-prefill-size`"),
     "D643", "bound by --chunked-prefill-size"),
    ("bound-other-item", LANES, "With extra_buffer, `--mamba-track-interval` (default 256) must be at least "
     "`--speculative-num-draft-tokens`,", "With extra_buffer, `--mamba-track-interval` (default 256) has to be no "
     "less than `--speculative-eagle-topk`,", "D643", "compares it only with --page-size, --speculative-num-draft"),
    ("refusal-without-another-flag-G3", LANES, DP, "Without `--dp-size` the flag stops", "D644",
     "names --enable-dp-lm-head, --attn-dp-size, not --dp-size"),
    ("refusal-unless-another-flag", LANES, DP, "Unless `--tp-size` is given the flag stops", "D644",
     "not --tp-size"),
    ("refusal-other-item", LANES, ROUNDING, "check: \"Without `--mamba-backend triton` the flag stops at startup: "
     "'Stochastic rounding for the Mamba SSM cache requires", "D644", "names --mamba-ssm-dtype, not --mamba-backend"),
    ("refusal-is-refused", LANES, REPLAY, "2); unless `--disable-overlap-schedule` is given it is refused: "
     "'--enable-linear-replayssm requires --mamba-radix-cache-strategy no_buffer", "D644",
     "not --disable-overlap-schedule"),
    # "defaults to X when unset" says the unset shape too: judged against the Arg fallback (review R of session 49,
    # finding 6: the fallback is read only where the text says the flag is left unset)
    ("default-to-when-unset", LANES, RAISE, "`--mamba-full-memory-ratio` defaults to 0.8 when unset.", "D623",
     "resolves it to 0.9 when unset"),
]

# true of the records, hedged, dated, negated, or out of the rule's reach: each must add no finding of its code
NEAR = [
    ("default-when-unset-right", LANES, RATIO, "(0.9 if not given", "D623"),
    ("default-when-unset-negated", LANES, RATIO, "(not 0.8 when unset", "D623"),
    ("default-when-unset-dated", LANES, RATIO, "(0.2 when unset in 0.5.3", "D623"),
    ("default-no-value-word", LANES, RATIO, "(ignored when unset", "D623"),
    ("default-bare-choice-right-at-sentence-end", LANES, LAYOUT, "page_first by default. Or page_first_direct",
     "D623"),
    ("default-bare-choice-conditional", LANES, LAYOUT, "page_first_direct by default on SGLang 0.5.2 or page_first",
     "D623"),
    ("default-unless-set-right-C1", LANES, "`--linear-attn-backend` (default triton)",
     "`--linear-attn-backend` (triton unless set)", "D623"),
    ("default-unless-given-right-C6", "cards/28185.yaml", "--enable-int8-mamba-checkpoint (default off)",
     "--enable-int8-mamba-checkpoint (off unless given)", "D623"),
    ("default-env-unless-set-C7", "cards/32919.yaml", "SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV (default on, CUDA)",
     "SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV (on unless set to 0, CUDA)", "D623"),
    ("default-resolved-not-recorded-C15", LANES, "`--cuda-graph-backend-decode` defaults to full",
     "`--cuda-graph-backend-decode` is full by default", "D623"),
    ("bound-hedged", LANES, BOUND, BOUND.replace("must be at least `--speculative-num-draft-tokens`",
                                                 "should be at least `--speculative-num-steps`"), "D643"),
    ("bound-reordered", LANES, BOUND, "(default 256) must be a multiple of `--page-size` and no less than "
     "`--speculative-num-draft-tokens`. Decode saves", "D643"),
    ("bound-dated", LANES, BOUND, BOUND.replace("`--speculative-num-draft-tokens` and",
                                                "`--speculative-num-steps` in 0.5.12 and"), "D643"),
    ("bound-negated", LANES, BOUND, BOUND.replace("must be at least `--speculative-num-draft-tokens`",
                                                  "need not be at least `--speculative-num-steps`"), "D643"),
    ("bound-clause-after-a-comma", LANES, BOUND, BOUND.replace("`--speculative-num-draft-tokens` and",
                                                               "`--speculative-num-draft-tokens`, `--speculative-"
                                                               "num-steps` sets the draft depth, and"), "D643"),
    ("bound-of-another-subject", LANES, BOUND, "(default 256) sets the interval, and the cache chunk size, read by "
     "the pool, must be at least `--speculative-num-steps` and divisible by `--page-size`. Decode saves", "D643"),
    ("refusal-names-it", LANES, ROUNDING, "check: \"Without `--mamba-ssm-dtype float16` the flag stops at startup: "
     "'Stochastic rounding for the Mamba SSM cache requires", "D644"),
    ("refusal-unless-it", LANES, REPLAY, "2); unless `--mamba-radix-cache-strategy no_buffer` is given it is "
     "refused: '--enable-linear-replayssm requires --mamba-radix-cache-strategy no_buffer", "D644"),
    ("refusal-deprecated-alias", LANES, DP, "Without `--enable-dp-attention` the flag stops", "D644"),
    ("refusal-flag-in-another-clause", LANES, DP, "Without `--dp-size`, which sizes the data-parallel groups, the "
     "flag stops", "D644"),
    ("refusal-with-not-without", LANES, DP, "With `--dp-size` alone the flag stops", "D644"),
    ("refusal-stays", LANES, DP, "Without `--dp-size` the flag stays off; alone it stops", "D644"),
    # review R of session 49: a default a model's override gives, with its condition (finding 6)
    ("default-for-some-models", LANES, RAISE,
     "`--enable-tf32-matmul` defaults to on for MiniMax-M2 and GLM-4.5 (their model overrides).", "D623"),
    # a negated modal is no bound (finding 7)
    ("bound-does-not-have-to", LANES, RAISE,
     "`--mamba-track-interval` does not have to be a multiple of `--chunked-prefill-size`.", "D643"),
    ("bound-doesn-t-need-to", LANES, RAISE,
     "`--mamba-track-interval` doesn't need to be at least `--chunked-prefill-size`.", "D643"),
    # the message names the flag as its field (finding 12)
    ("refusal-names-it-as-its-field", LANES, RAISE, "Without `--speculative-num-steps` the launch stops: "
     "'speculative_num_steps must be set when --speculative-algorithm is given'.", "D644"),
]


@pytest.mark.parametrize("name,path,old,new,code,said", PROBES, ids=[p[0] for p in PROBES])
def test_a_planted_wrong_statement_is_found(tmp_path, no_release_cache, name, path, old, new, code, said):
    found = _found(_real_with(tmp_path, path, old, new), code)
    assert len(found) == 1 and said in found[0], found


@pytest.mark.parametrize("name,path,old,new,code", NEAR, ids=[p[0] for p in NEAR])
def test_a_true_or_out_of_reach_statement_passes(tmp_path, no_release_cache, name, path, old, new, code):
    assert code in RULES
    assert _found(_real_with(tmp_path, path, old, new), code) == []


def test_the_real_cards_and_playbook_have_none(no_release_cache):
    found = [d.text() for d in run_lint(LintContext(Project.load(REAL)), select=list(CODES))]
    assert found == []


def test_a_field_records_the_value_it_falls_back_to():
    """D623 reads `Arg(fallback=...)` of a field whose default is None, as the surface records it."""
    import ast

    from dossier.surface import _field_flags

    source = ("class S:\n    ratio: A[Optional[float], Arg(help='r', resolvable=True, fallback=0.9)] = None\n"
              "    size: A[int, Arg(help='s')] = 8\n")
    flags = {f.name: f for f in _field_flags(ast.parse(source), "fields/s.py", {})}
    assert (flags["--ratio"].default, flags["--ratio"].fallback) == ("None", "0.9")
    assert flags["--size"].fallback is None
