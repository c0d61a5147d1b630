"""Session 55: shapes the session-54 audit recorded as missed. A file's line figures written "+4/-4 line change in
x.py", "(+4 / -4 lines) in x.py" or with a typeset minus (D414); a PR's release after its merge day in its bracket,
"#32919 (merged 2026-08-30, 0.5.18)" (D319); a timing "took 30 us on Hopper" on a generation the PR never ran on
(D246); the next count of a list of the model's counts, "16 attention heads and 4 KV heads" (D639). Each sentence
is appended to one real card and linted with its rule alone."""

from __future__ import annotations

import pytest

from tests.dossier.test_lint_probes54 import found_with

QWEN = "python/sglang/srt/models/qwen3_next.py"
# (rule, card, field, sentence, caught); #21313 changed qwen3_next.py by +2/-2, #32919 first shipped in 0.5.19
CASES = [
    ("D414", 21313, "implementation", f"A +4/-4 line change in {QWEN}.", True),
    ("D414", 21313, "implementation", f"A +2/-2 line change in {QWEN}.", False),
    ("D414", 21313, "implementation", f"The change (+4/\u22124) in {QWEN} swaps two lines.", True),
    ("D414", 21313, "implementation", f"The change (+2/\u22122) in {QWEN} swaps two lines.", False),
    ("D414", 21313, "implementation", f"It is a small edit (+4 / -4 lines) in {QWEN}.", True),
    ("D414", 21313, "implementation", f"It is a small edit (+2 / -2 lines) in {QWEN}.", False),
    ("D319", 18917, "implementation", "The fused unpack arrived with #32919 (merged 2026-08-30, 0.5.18).", True),
    ("D319", 18917, "implementation", "The fused unpack arrived with #32919 (merged 2026-08-30, 0.5.19).", False),
    ("D319", 18917, "implementation", "The fused unpack arrived with #32919 (2026-08-30; first in 0.5.18).", True),
    ("D639", 19321, "implementation", "Qwen3-Next-80B-A3B has 16 attention heads and 4 KV heads.", True),
    ("D639", 19321, "implementation", "Qwen3-Next-80B-A3B has 16 attention heads and 2 KV heads.", False),
    ("D639", 19321, "implementation", "Qwen3-Next-80B-A3B has 48 layers, 256 experts and 2 KV heads.", True),
    ("D639", 19321, "implementation", "Qwen3-Next-80B-A3B has 48 layers, 512 experts and 2 KV heads.", False),
    # D246 (a warning): a timing "took <number>" on a generation the PR's record does not name (#19150 ran on B200)
    ("D246", 19150, "motivation", "On Hopper the decode took 30 us in the author's run.", True),
    ("D246", 19150, "motivation", "The decode took 30 us on Hopper in the author's run.", True),
    ("D246", 19150, "motivation", "On Blackwell the decode took 30 us in the author's run.", False),
    ("D246", 19150, "motivation", "On Hopper the decode took the Triton path, as before.", False),
    # a part after the list's first count, in its own clause or with "of", is still no whole count
    ("D639", 19321, "implementation", "Qwen3-Next-80B-A3B has 48 layers and 12 layers of full attention.", False),
    ("D639", 19321, "implementation", "Qwen3-Next-80B-A3B has 48 layers, and 12 layers keep a KV cache.", False),
]


@pytest.mark.parametrize("rule,pr,field,sentence,caught", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_a_recorded_miss_is_judged_as_written(tmp_path, no_release_cache, rule, pr, field, sentence, caught):
    found = found_with(tmp_path, rule, pr, field, sentence)
    assert (rule in found) == caught, found
