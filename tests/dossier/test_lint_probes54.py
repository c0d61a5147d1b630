"""Session 54's linter audit (about 120 mutations of 20 cards): correct paraphrases that rules rejected, each linted
as one real card with the sentence appended and the rule alone (`lint --select`), beside a wrong sentence of the same
shape that the rule must still catch."""

from __future__ import annotations

import pytest

from dossier.lint import LintContext, run_lint
from dossier.project import Project
from tests.dossier.test_lint_probes15 import _append
from tests.dossier.test_lint_probes22 import _project

#: the cards a rule's sentences cite, which the project must hold for the rule to read them
CITED = {"D319": (32919,)}
# (rule, card, field, sentence, caught)
CASES = [
    # D632: "neither ... nor" says the retired names are absent today
    ("D632", 40313, "implementation", "0.5.23 defines neither MambaRadixCache nor SWARadixCache.", False),
    ("D632", 40313, "implementation", "0.5.23 has neither MambaRadixCache nor SWARadixCache.", False),
    ("D632", 40313, "implementation", "0.5.23 defines MambaRadixCache in mem_cache.", True),
    # D603: an env var said not to be read by today's release is named as history
    ("D603", 15631, "implementation", "SGLANG_USE_CUTEDSL_GDN_DECODE is not read by 0.5.23 any more.", False),
    ("D603", 15631, "implementation", "0.5.23 does not read SGLANG_USE_CUTEDSL_GDN_DECODE.", False),
    ("D603", 15631, "implementation", "0.5.23 reads SGLANG_USE_CUTEDSL_GDN_DECODE at startup.", True),
    # D235: a change in words inside the parenthesis, given by the two values before it
    ("D235", 26204, "motivation", "Output went from 3252.81 to 3453.59 output tok/s (a 6.2% gain) on one H200.", False),
    ("D235", 26204, "motivation", "Output went from 3252.81 to 3453.59 output tok/s (up 6.2%) on one H200.", False),
    ("D235", 26204, "motivation", "Output went from 3252.81 to 3453.59 output tok/s (a 9.2% gain) on one H200.", True),
    # D218: a share shown beside the a / b it is, is arithmetic
    ("D218", 11679, "implementation", "The state pool takes 0.9 / 1.9 of it (about 47%).", False),
    ("D218", 11679, "implementation", "The state pool takes 0.9 / 1.9 of it (about 53%).", True),
    # D602: a snake_case value after a flag in prose is its value (not in a sentence naming a release)
    ("D602", 15631, "implementation", "Pass --linear-attn-decode-backend cute_dsl to pick it.", True),
    ("D602", 15631, "implementation", "Pass --mamba-radix-cache-strategy extra_buffer with it.", False),
    ("D602", 15631, "implementation", "In 0.5.14 to 0.5.21 --cuda-graph-backend-prefill tc_piecewise named it.",
     False),
    # D615: "still has X in <file>" puts X in that file
    ("D615", 16229, "implementation", "0.5.23 still has _send_mamba_state in disaggregation/mooncake/utils.py.", True),
    ("D615", 16229, "implementation", "0.5.23 still has _send_mamba_state in disaggregation/nixl/conn.py.", False),
    # D346: a change of the added line's own setting with neither end the value the line sets
    ("D346", 11679, "implementation", "The field mamba_full_memory_ratio: its default goes from 0.2 to 0.8.", True),
    ("D346", 11679, "implementation", "The field mamba_full_memory_ratio: its default goes from 0.2 to 0.9.", False),
    ("D346", 11679, "implementation", "The chunk size default goes from 64 to 32 in the same release.", False),
    # D639: attention and KV heads are counts of the model too; "uses" gives a count to it
    ("D639", 19321, "implementation", "Qwen3-Next-80B-A3B has 16 attention heads with 4 KV heads.", True),
    ("D639", 19321, "implementation", "Qwen3-Next-80B-A3B uses 64 value heads.", True),
    ("D639", 19321, "implementation", "Qwen3-Next has 16 attention heads with 2 KV heads and 32 value heads.", False),
    # D414: a file's lines given before its path are that file's
    ("D414", 21313, "implementation", "A 4-line change (+4 / -4) in python/sglang/srt/models/qwen3_next.py.", True),
    ("D414", 21313, "implementation", "A 4-line change (+2 / -2) in python/sglang/srt/models/qwen3_next.py.", False),
    # D319: a span said to lack the change, and a PR with its release in its bracket ("#32919 (0.5.19)")
    ("D319", 32919, "implementation", "0.5.17 through 0.5.19 lack the kernel.", True),
    ("D319", 32919, "implementation", "0.5.16 through 0.5.18 lack the kernel.", False),
    ("D319", 18917, "implementation", "The kernel came with #32919 (0.5.18).", True),
    ("D319", 18917, "implementation", "The kernel came with #32919 (first in 0.5.19).", False),
    # D246 (a warning): a generation the PR's record does not name, where the author "found" or a run "ran" on it
    ("D246", 34469, "motivation", "The author found that on gfx942 (256 CUs) the chunk kernel idles.", True),
    ("D246", 34469, "motivation", "The author found that on gfx950 the chunk kernel idles.", False),
    ("D246", 19150, "motivation", "On Hopper the GDN decode ran 1.3x slower in the author's run.", True),
    # the review of these rules (a helper's 124 sentences): what the first versions got wrong
    ("D639", 19321, "implementation", "Qwen3-Next uses 12 layers of full attention and 36 layers of GDN.", False),
    ("D639", 19321, "implementation", "Each Qwen3-Next token uses 10 routed experts plus one shared expert.", False),
    ("D639", 19321, "implementation", "Qwen3-Next's GDN uses 2 value heads per key head.", False),
    ("D639", 19321, "implementation", "Qwen3-Next's full-attention layers use 4 KV heads.", True),
    ("D346", 11679, "implementation", "mamba_full_memory_ratio's default goes from 0.20 to 0.90.", False),
    ("D346", 11679, "implementation", "Raising mamba_full_memory_ratio, the state pool's share goes from 0.17 to 0.47.",
     False),
    ("D346", 11679, "implementation", "The --mamba-full-memory-ratio default goes from 0.2 to 0.8.", True),
    ("D603", 15631, "implementation", "The PR's new SGLANG_USE_CUTEDSL_GDN_DECODE env flag turned it on.", False),
    ("D603", 15631, "implementation", "0.5.23 never reads SGLANG_USE_CUTEDSL_GDN_DECODE.", False),
    ("D603", 15631, "implementation", "SGLANG_USE_CUTEDSL_GDN_DECODE isn't read by 0.5.23.", False),
    ("D603", 15631, "implementation", "The decode kernel does not read the state twice; set "
                                      "SGLANG_USE_CUTEDSL_GDN_DECODE=1 to use it.", True),
    ("D603", 15631, "implementation", "0.5.23 does not read SGLANG_ENABLE_JIT_DEEPGEMM at import, and it still reads "
                                      "SGLANG_USE_CUTEDSL_GDN_DECODE at startup.", True),
    ("D619", 18622, "implementation", "It adds --linear-attn-decode-backend and --linear-attn-prefill-backend, and "
                                      "--linear-attn-verify-backend came with the MTP work.", False),
    ("D619", 12508, "implementation", "It adds two flags: --enable-metrics and --linear-attn-decode-backend.", True),
    ("D615", 16229, "implementation", "0.5.23 still has MambaPool and HybridLinearAttnBackend in mem_cache/memory_pool.py "
                                      "and layers/attention/hybrid_linear_attn_backend.py.", False),
    ("D246", 19150, "motivation", "On Hopper the decode took the Triton path, as before.", False),
    ("D246", 19150, "motivation", "The GDN decode ran 1.3x slower on Hopper in the author's run.", True),
    ("D414", 19321, "implementation", "The PR is +107/-17 in qwen3_next.py and its new test together.", False),
    ("D632", 40313, "implementation", "In 0.5.23 MambaRadixCache never evicts a pinned node.", True),
    ("D632", 40313, "implementation", "0.5.23 keeps SWARadixCache, with neither a lock nor a copy.", True),
    ("D235", 26204, "motivation", "Output went from 3252.81 to 3453.59 output tok/s (a 6.2% drop) on one H200.", True),
    ("D235", 26204, "motivation", "Output went from 3252.81 to 3453.59 output tok/s (an increase of about 6.2%) on "
                                  "one H200.", False),
    ("D218", 11679, "implementation", "The state pool takes 0.9 / 1.9 of it (about 52%).", True),
    ("D237", 28451, "motivation", "Packed decode is 70\u201379% memory-bandwidth bound at batch 8\u201316 on an H20-3e.",
     True),
    ("D319", 32919, "implementation", "0.5.17-0.5.19 lack the kernel.", True),
    ("D319", 32919, "implementation", "0.5.17 through 0.5.19 are missing the kernel.", True),
    # D237: an en-dash range is one figure, not a row "at 70"
    ("D237", 28451, "motivation", "The packed decode ran at 70\u201379% of peak memory bandwidth (author, H20-3e).", False),
]


def found_with(tmp_path, rule: str, pr: int, field: str, sentence: str, cited: tuple[int, ...] = ()) -> set[str]:
    """The codes ``rule`` alone finds in real card ``pr`` with ``sentence`` appended to ``field`` (the cards the
    rule's sentences cite, and ``cited``, beside it)."""
    root = _project(tmp_path, pr, tuple(n for n in (*CITED.get(rule, ()), *cited) if n != pr), _append(field, sentence))
    ctx = LintContext(Project.load(root, [root / "cards" / f"{pr}.yaml"]))
    return {d.code for d in run_lint(ctx, select=[rule]) if d.file == f"cards/{pr}.yaml"}


@pytest.mark.parametrize("rule,pr,field,sentence,caught", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_an_audited_sentence_is_judged_as_written(tmp_path, no_release_cache, rule, pr, field, sentence, caught):
    found = found_with(tmp_path, rule, pr, field, sentence)
    assert (rule in found) == caught, found
