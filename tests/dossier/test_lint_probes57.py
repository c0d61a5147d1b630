"""Session 57: shapes left open after the session-56 audit, each beside its true twin. Arithmetic whose result is a
multiple ("531 / 446 = 1.19x") or written with "≈" / "~=" (D239); "half the time" (D240); GPUs counted after their
name ("H100 x8") or with no name ("an 8-GPU node"; not "one GPU kernel") (D242); counts in words ("five draft
tokens") (D243); "the PR was abandoned" (D248); a post release written "0.5.8post2" (D322); a span "0.5.19 through
0.5.14" (D323); "(0.5.14 and up)" and "(needs at least 0.5.14)" after a flag (D618); a constant "is set to N" (D633);
defaults as ", which defaults to X", "(A or B; default X)" and "--a and --b both default to X" (D623); a flag in a
clause after another tool's ("After pytest passes, start the server with --x") is SGLang's (D601); a name in its own
backticks (D615, D631, D632); a day as "the 6th of November 2025" (D406).
Each sentence is appended to one real card and linted with its rule alone."""

from __future__ import annotations

import pytest

from tests.dossier.test_lint_probes54 import found_with

# (rule, card, field, sentence, caught); #12508 merged 2025-11-06, its claims: --tp 4 on 4x H100, NEXTN 3 steps / 4
# draft tokens; #14502 is closed; MambaPool is in mem_cache/memory_pool.py and evict_mamba was last in 0.5.20;
# 0.5.8.post1 is a release and 0.5.8.post2 none; --linear-attn-verify-backend parses from 0.5.17 on; 0.5.23 binds
# MAX_FUSED_QKV_SPLIT_DIM to 8192; --linear-attn-backend and --mamba-backend default to triton
CASES = [
    ("D239", 34421, "implementation", "Against the old kernel that is 531 / 446 = 1.3x.", True),
    ("D239", 34421, "implementation", "Against the old kernel that is 531 / 446 = 1.19x.", False),
    ("D239", 34421, "implementation", "Per step that is 12 + 8 \u2248 21 ms.", True),
    ("D239", 34421, "implementation", "Per step that is 12 + 8 \u2248 20 ms.", False),
    ("D239", 34421, "implementation", "Per step that is 12 + 8 ~= 20 ms.", False),
    ("D240", 34421, "implementation", "Decode went from 120 us to 90 us, half the time.", True),
    ("D240", 34421, "implementation", "Decode went from 120 us to 60 us, half the time.", False),
    ("D242", 12508, "motivation", "The author measured it on H100 x8.", True),
    ("D242", 12508, "motivation", "The author measured it on H100 x4.", False),
    ("D242", 12508, "motivation", "The author measured it on an 8-GPU node.", True),
    ("D242", 12508, "motivation", "The author measured it on a 4-GPU node.", False),
    ("D242", 12508, "motivation", "The author measured it as one GPU kernel.", False),
    ("D243", 12508, "motivation", "The author ran NEXTN with five draft tokens.", True),
    ("D243", 12508, "motivation", "The author ran NEXTN with four draft tokens.", False),
    ("D248", 12508, "motivation", "The PR was abandoned.", True),
    ("D248", 14502, "motivation", "The PR was abandoned.", False),
    ("D322", 12508, "implementation", "It was backported to 0.5.8post2.", True),
    ("D322", 12508, "implementation", "It was backported to 0.5.8post1.", False),
    ("D323", 12508, "implementation", "The gating kernel is present 0.5.19 through 0.5.14.", True),
    ("D323", 12508, "implementation", "The gating kernel is present 0.5.14 through 0.5.19.", False),
    ("D618", 12508, "implementation", "Select it with --linear-attn-verify-backend (0.5.14 and up).", True),
    ("D618", 12508, "implementation", "Select it with --linear-attn-verify-backend (0.5.17 and up).", False),
    ("D618", 12508, "implementation", "Select it with --linear-attn-verify-backend (needs at least 0.5.14).", True),
    ("D618", 12508, "implementation", "Select it with --linear-attn-verify-backend (needs at least 0.5.17).", False),
    ("D633", 12508, "implementation", "In 0.5.23, MAX_FUSED_QKV_SPLIT_DIM is set to 16384.", True),
    ("D633", 12508, "implementation", "In 0.5.23, MAX_FUSED_QKV_SPLIT_DIM is set to 8192.", False),
    ("D623", 15631, "implementation", "Pass --mamba-radix-cache-strategy, which defaults to extra_buffer, to keep it.",
     True),
    ("D623", 15631, "implementation", "Pass --mamba-radix-cache-strategy, which defaults to auto, to keep it.", False),
    ("D623", 15631, "implementation", "Pass --mamba-radix-cache-strategy (auto or extra_buffer; default extra_buffer).",
     True),
    ("D623", 15631, "implementation", "Pass --mamba-radix-cache-strategy (auto or extra_buffer; default auto).", False),
    ("D623", 15631, "implementation", "Pass --mamba-radix-cache-strategy, which defaults to the model's own choice.",
     False),
    ("D623", 15631, "implementation", "Pass --mamba-radix-cache-strategy (auto or extra_buffer; default is set by the "
                                      "model).", False),
    ("D623", 15631, "implementation", "--linear-attn-backend and --mamba-backend both default to flashinfer.", True),
    ("D623", 15631, "implementation", "--linear-attn-backend and --mamba-backend both default to triton.", False),
    ("D623", 15631, "implementation", "--linear-attn-backend and --mamba-backend both default to the same kernel.", False),
    ("D601", 12508, "implementation", "After pytest passes, start the server with --enable-metricz.", True),
    ("D601", 12508, "implementation", "Run pytest -k gdn --enable-metricz on it.", False),
    ("D615", 16229, "implementation", "0.5.23 defines `MambaPool` in layers/attention/linear/gdn_backend.py.", True),
    ("D615", 16229, "implementation", "0.5.23 defines `MambaPool` in `mem_cache/memory_pool.py`.", False),
    ("D632", 40313, "implementation", "0.5.23 still calls `evict_mamba`.", True),
    ("D632", 40313, "implementation", "0.5.23 never calls `evict_mamba`.", False),
    ("D631", 16229, "implementation", "In 0.5.23 `MambaPool` is gone.", True),
    ("D631", 16229, "implementation", "In 0.5.23 `evict_mamba` is gone.", False),
    ("D406", 12508, "implementation", "It landed on the 7th of November 2025.", True),
    ("D406", 12508, "implementation", "It landed on the 6th of November 2025.", False),
]


@pytest.mark.parametrize("rule,pr,field,sentence,caught", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_a_left_open_shape_is_judged_as_written(tmp_path, no_release_cache, rule, pr, field, sentence, caught):
    found = found_with(tmp_path, rule, pr, field, sentence)
    assert (rule in found) == caught, found
