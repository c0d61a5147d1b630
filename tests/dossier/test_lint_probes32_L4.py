"""Rules from session 48's round 8 of planted wrong edits, for two kinds it recorded as missed: quoted messages and
metric names one word (or character) off what SGLang prints (E1, E2, E4, E5), and the release a quoted message or
metric is said to start in shifted one release late (B1, B8).

D637 (new): a quote no release prints (today's SGLang, cards/messages.lock) one word off a message a release prints;
a metric (`sglang:name`) one character or underscore word off one SGLang names.
D638 (new): a quoted message or metric said to start in a release (from V, since V) that the release before V already
printed (cards/messages.lock, which now records the metrics cards/lanes.yaml dates).
"""

from __future__ import annotations

import pytest

from dossier.lint import RULES
from tests.dossier.test_bad_input23 import _real_with
from tests.dossier.test_lint_probes31 import _found

LANES = "cards/lanes.yaml"
HOST = "('Host-pool retraction does not support Mamba models.')"
CAPPED = "(logged since 0.5.17;"
USAGE = "`sglang:mamba_usage` (from 0.5.4.post3)"
TOKENS = "(from 0.5.12) count slots"
RAISE = "Raise it with `--max-mamba-cache-size`, `--mamba-full-memory-ratio`, or a bfloat16 state."
EAGER = '- "Check that the GDN layer stays eager'
OLDER = "- \"{}the launch printed 'Host-pool retraction does not support hybrid models.' Check that the GDN layer stays eager"
SILENT = "(logged since 0.5.17; earlier releases capped silently)"


# (id, file, old text, the wrong edit, the code expected, how many findings, words each message must hold)
PROBES = [
    ("E1-word-changed", LANES, HOST, "('Host-pool retraction does not support hybrid models.')", "D637", 1,
     "prints 'Host-pool retraction does not support Mamba models.'"),
    ("E2-neighbours-swapped", LANES, "requires attention DP (--attn-dp-size).'",
     "requires DP attention (--attn-dp-size).'", "D637", 1, "requires attention DP (--attn-dp-size)."),
    ("E4-number-changed", LANES, "'FlashInfer GDN verify kernel only supports topk=1' instead",
     "'FlashInfer GDN verify kernel only supports topk=2' instead", "D637", 1, "only supports topk=1'"),
    ("E5-last-word-changed-in-a-card", "cards/19002.yaml", "('Not enough space for mamba ping pong idx')",
     "('Not enough space for mamba ping pong index')", "D637", 1, "mamba ping pong idx"),
    ("word-dropped-inside", LANES, "'Not enough space for mamba ping pong idx, try",
     "'Not enough space for mamba pong idx, try", "D637", 1, "mamba ping pong idx, try"),
    ("word-changed-after-the-exception", LANES, "'AssertionError: Cannot alloc mamba for load_back'",
     "'AssertionError: Cannot allocate mamba for load_back'", "D637", 1, "Cannot alloc mamba for load_back"),
    ("word-changed-in-a-card-lane", "cards/31439.yaml",
     "'Using hybrid linear attention backend for hybrid GDN models.'",
     "'Using hybrid mamba attention backend for hybrid GDN models.'", "D637", 1, "Using hybrid linear attention"),
    ("last-word-changed-in-a-card-lane", "cards/11679.yaml", "the 'Mamba Cache is allocated' line",
     "the 'Mamba Cache is reserved' line", "D637", 1, "prints 'Mamba Cache is allocated"),
    ("metric-one-character-off", LANES, "`sglang:token_usage`", "`sglang:token_usages`", "D637", 1,
     "'sglang:token_usages' is printed by no SGLang release"),
    ("metric-one-word-off", LANES, "`sglang:mamba_evictable_tokens`", "`sglang:mamba_evicted_tokens`", "D637", 1,
     "prints 'sglang:mamba_evictable_tokens'"),
    ("B1-logged-one-release-late", LANES, CAPPED, "(logged since 0.5.18;", "D638", 1, "0.5.17 already printed it"),
    ("B8-metric-one-release-late", LANES, USAGE, "`sglang:mamba_usage` (from 0.5.5)", "D638", 1,
     "0.5.4.post3 already printed it"),
    ("metric-late-before-a-comma", LANES, USAGE, "`sglang:mamba_usage` (from 0.5.5, with `--enable-metrics`)",
     "D638", 1, "0.5.4.post3 already printed it"),
    ("metrics-listed-one-release-late", LANES, TOKENS, "(from 0.5.12.post1) count slots", "D638", 3,
     "0.5.12 already printed it"),
    ("logged-plus", LANES, CAPPED, "(0.5.19+;", "D638", 1, "0.5.18 already printed it"),
    # the same misquote as in a text marked historical below (review R of session 49, finding 9)
    ("misquote-in-a-text-not-historical", LANES, EAGER, OLDER.format(""), "D637", 1,
     "prints 'Host-pool retraction does not support Mamba models."),
    # another quote of the text shares four short words (are/is, too, to, any) with the late one, but neither holds
    # the other nor shares three words of four letters (review R of session 49, finding 11)
    ("late-beside-a-quote-sharing-short-words", LANES, RAISE,
     "A pool too small logs 'Hybrid (mamba/linear-attention) state cache is too small to serve any requests.' "
     "(from 0.5.14). A full queue logs 'we are too slow to take any more' elsewhere.", "D638", 1,
     "0.5.13.post1 already printed it"),
]

# the same shapes true of the records, or out of the rule's reach (each must add no finding of its code)
NEAR = [
    ("quote-with-an-ellipsis", LANES, HOST, "('... does not support Mamba models.')", "D637"),
    ("quote-without-its-period", LANES, HOST, "('Host-pool retraction does not support Mamba models')", "D637"),
    ("quote-in-other-case", LANES, HOST, "('host-pool retraction does not support mamba models.')", "D637"),
    ("paraphrase-unquoted", LANES, HOST, "(host-pool retraction is refused for hybrid models)", "D637"),
    ("quote-denied", LANES, HOST, "(it no longer says 'Host-pool retraction does not support hybrid models.')",
     "D637"),
    ("another-message-entirely", LANES, HOST, "('Host-pool retraction is not available for this model.')", "D637"),
    ("value-put-in-changed", LANES, "'--linear-replayssm-cache-len must be >= 1, got 0.'",
     "'--linear-replayssm-cache-len must be >= 1, got 3.'", "D637"),
    ("quote-then-a-clause-after-a-comma", LANES, HOST,
     "('Host-pool retraction does not support Mamba models.', raised at startup)", "D637"),
    ("card-quote-paraphrased", "cards/11679.yaml", "the 'Mamba Cache is allocated' line",
     "the line that says the Mamba cache is reserved", "D637"),
    ("card-quote-cut-short", "cards/11679.yaml", "the 'Mamba Cache is allocated' line", "the 'Mamba Cache is' line",
     "D637"),
    ("another-real-metric", LANES, "`sglang:token_usage`", "`sglang:cache_hit_rate`", "D637"),
    ("logged-start-right", LANES, CAPPED, "(logged from 0.5.17;", "D638"),
    ("logged-start-hedged", LANES, CAPPED, "(logged since about 0.5.18;", "D638"),
    ("logged-negated", LANES, CAPPED, "(not logged before 0.5.17;", "D638"),
    ("logged-span-closed", LANES, CAPPED, "(logged from 0.5.18 to 0.5.23;", "D638"),
    ("logged-too-early-is-d627s", LANES, CAPPED, "(logged since 0.5.16;", "D638"),
    ("metric-start-right-at-the-end", LANES, USAGE, "`sglang:mamba_usage` (since 0.5.4.post3)", "D638"),
    ("metric-start-then-a-clause", LANES, USAGE, "`sglang:mamba_usage` (from 0.5.4.post3, with `--enable-metrics`)",
     "D638"),
    ("metric-start-with-more-to-say", LANES, USAGE, "`sglang:mamba_usage` (from 0.5.5 (on the scheduler))", "D638"),
    # review R of session 49: a quote SGLang prints with a value put in (flexkv_connector.py:152,
    # f"Unsupported KV cache type {type(kvcache).__name__}: ..."), one word off another message (finding 2)
    ("quote-with-its-value-filled-in", LANES, RAISE,
     "With FlexKV the hybrid pool is refused: 'Unsupported KV cache type HybridLinearKVPool'.", "D637"),
    ("quote-with-a-number-filled-in", LANES, RAISE, "A bad ring reads 'ring_size must be a multiple of 42'.", "D637"),
    # a text marked historical may quote an older wording (finding 9)
    ("misquote-in-a-historical-text", LANES, EAGER, OLDER.format("historical: "), "D637"),
]


@pytest.mark.parametrize("name,path,old,new,code,count,said", PROBES, ids=[p[0] for p in PROBES])
def test_a_planted_wrong_statement_is_found(tmp_path, no_release_cache, name, path, old, new, code, count, said):
    found = _found(_real_with(tmp_path, path, old, new), code)
    assert len(found) == count and all(said in f for f in found), found


@pytest.mark.parametrize("name,path,old,new,code", NEAR, ids=[p[0] for p in NEAR])
def test_a_true_or_out_of_reach_statement_passes(tmp_path, no_release_cache, name, path, old, new, code):
    assert code in RULES
    assert _found(_real_with(tmp_path, path, old, new), code) == []


@pytest.mark.parametrize("code", ["D637", "D638"])
def test_the_real_cards_pass(tmp_path, no_release_cache, code):
    assert code in RULES
    assert _found(_real_with(tmp_path, LANES, USAGE, USAGE), code) == []
