"""Session 56: shapes the session-54 audit recorded as missed, and their near misses. "0.5.23 defines X in <file>"
where the file only imports or uses X, and "keeps A in a.py and B in b.py" pairing each name with its own file, an
acronym-led class (GDNAttnBackend) among the names (D615); a flag value in a sentence naming today's release, a
version that is no SGLang release, or in its own backticks (D602); "adds --a as well as --b", "--a (for x) and --b",
"the PR's new --a and --b flags" (D619); "never" before a retired name, a denied removal, "the last checkpoint"
(D632); "took the gather path and SM100 ..." is no timing (D246); "leaving the rest (53%)" of a shown a / b (D218);
a PR's files and lines as "changes only three files", "a single file", "adds 170 lines and removes 17", "1,804
additions", "+A/-D lines across", "x.py gets +A/-D", "+A/-D (x.py)", "deletes 54 lines from x.py", "x.py (-54 lines)",
and "this PR" after another PR's number (D414; "one file besides x.py" and a later release's file length are not the
PR's); a PR and its release as "debuted in", "is new in", "made the X release", "shipped since", "sglang>=X", "the
earliest release", "X still carries it", "#N (X+)", and whose statement it is: "PR N" or a link names that PR, "this
change" after another's number is the card's, "#A and #B shipped in X and Y respectively" and "X itself shipped in
..., before this kernel" are not judged (D319); "make" is no program a flag is passed to (D601, D602), "python -u -m"
and "python3.12 -m" run a module (D605), "v0.5.23" is today's release (D622, D631, D632), "has no X and selects ..."
ends the gone thing at its own verb (D631), and "the unified cache replaces X" puts X in the past (D632); numbers
with thousands commas and units written "tok/s", "percent", "-fold" or "microseconds" (D224, D225, D231), a change
after its pair as "(a 19.2% cut)", ", i.e. -19.2%." or "from A down to B" (D226), a fall as "falls by", "went down",
"a reduction of", "a 147% ... reduction" (D228), and TP sizes as "tp4", "TP-4", "a tensor-parallel size of 4" (D242); a merge day as "Merged: DAY", "merged into main
on DAY", "the merge commit is dated DAY" (D406); a PR's state as "is closed", "never landed", "(#N, now merged)",
"#N merged before ..." (D410); "--x is deprecated; use ..." says so itself (D606) and "`--x` [int]" is a type, not a
default (D623).
Each sentence is appended to one real card and linted with its rule alone."""

from __future__ import annotations

import pytest

from dossier.lint.depth import _check_change
from dossier.python_defs import defines
from tests.dossier.test_lint_probes54 import found_with

# (rule, card, field, sentence, caught); in 0.5.23 gdn_backend.py defines GDNAttnBackend and imports MambaPool,
# attention_registry.py imports both backends, _send_mamba_state is in disaggregation/*/conn.py; MambaRadixCache and
# evict_mamba were last in 0.5.20 (cards/names.lock)
CASES = [
    ("D615", 16229, "implementation", "0.5.23 defines GDNAttnBackend in layers/attention/attention_registry.py.", True),
    ("D615", 16229, "implementation", "0.5.23 defines GDNAttnBackend in layers/attention/linear/gdn_backend.py.", False),
    ("D615", 16229, "implementation", "0.5.23 defines MambaPool in layers/attention/linear/gdn_backend.py.", True),
    ("D615", 16229, "implementation", "0.5.23 defines MambaPool in mem_cache/memory_pool.py.", False),
    ("D615", 16229, "implementation", "In 0.5.23 MambaPool is defined in layers/attention/linear/gdn_backend.py.", True),
    ("D615", 16229, "implementation", "0.5.23 keeps MambaPool in mem_cache/memory_pool.py and _send_mamba_state in "
                                      "disaggregation/mooncake/utils.py.", True),
    ("D615", 16229, "implementation", "0.5.23 keeps MambaPool in mem_cache/memory_pool.py and _send_mamba_state in "
                                      "disaggregation/mooncake/conn.py.", False),
    ("D615", 16229, "implementation", "0.5.23 still has MambaPool and GDNAttnBackend in mem_cache/memory_pool.py and "
                                      "layers/attention/linear/gdn_backend.py.", False),
    ("D602", 15631, "implementation", "In 0.5.23, pass --mamba-radix-cache-strategy extra_bufer to keep the buffer.", True),
    ("D602", 15631, "implementation", "In 0.5.23, pass --mamba-radix-cache-strategy extra_buffer to keep the buffer.",
     False),
    ("D602", 15631, "implementation", "In 0.5.14, pass --mamba-radix-cache-strategy extra_bufer to keep the buffer.", False),
    ("D602", 15631, "implementation", "It needs nvidia-cutlass-dsl 4.3.0 and --linear-attn-decode-backend cute_dsl.", True),
    ("D602", 15631, "implementation", "Pass --mamba-radix-cache-strategy `extra_bufer` for it.", True),
    ("D602", 15631, "implementation", "Pass --mamba-radix-cache-strategy `extra_buffer` for it.", False),
    ("D619", 12508, "implementation", "It adds --enable-metrics as well as --linear-attn-decode-backend.", True),
    ("D619", 12508, "implementation", "It adds --enable-metrics (for counters) and --linear-attn-decode-backend.", True),
    ("D619", 12508, "implementation", "The PR's new --enable-metrics and --linear-attn-decode-backend flags select it.",
     True),
    ("D619", 12508, "implementation", "It adds --enable-metrics, and --linear-attn-decode-backend came later.", False),
    ("D619", 12508, "implementation", "The PR calls it --enable-metrics and --linear-attn-decode-backend.", False),
    ("D632", 40313, "implementation", "0.5.23 never calls evict_mamba.", False),
    ("D632", 40313, "implementation", "In 0.5.23 MambaRadixCache never evicts a pinned node.", True),
    ("D632", 40313, "implementation", "0.5.23 drops neither MambaRadixCache nor its eviction path.", True),
    ("D632", 40313, "implementation", "0.5.23 did not remove MambaRadixCache.", True),
    ("D632", 40313, "implementation", "0.5.23 drops MambaRadixCache.", False),
    ("D632", 40313, "implementation", "0.5.23's MambaRadixCache rebuilds a missing state from the last checkpoint.", True),
    ("D632", 40313, "implementation", "MambaRadixCache was last in 0.5.20, not 0.5.23.", False),
    # #19150 ran on B200 (SM100): a path taken is no timing, a number after "took" is
    ("D246", 19150, "motivation", "On SM90 the kernel object took the gather path and SM100 the in-place one.", False),
    ("D246", 19150, "motivation", "On SM90 the decode ran 1.3x slower in the author's run.", True),
    ("D218", 11679, "implementation", "The state pool takes 0.9 / 1.9 of it, leaving the rest (about 53%) to the KV "
                                      "cache.", False),
    ("D218", 11679, "implementation", "The state pool takes 0.9 / 1.9 of it, leaving the rest (about 60%) to the KV "
                                      "cache.", True),
    ("D218", 11679, "implementation", "The state pool takes 0.9 / 1.9 of it (about 53%).", True),
    # D414 against GitHub's record: #19321 is 2 files, +107/-17, qwen3_next.py +83/-11; #12508's
    # hybrid_linear_attn_backend.py +2/-6 and qwen3_next.py +0/-45; #18917 one file; #15631 +1804/-1
    ("D414", 19321, "implementation", "The PR changes only three files.", True),
    ("D414", 19321, "implementation", "The PR changes only two files.", False),
    ("D414", 19321, "implementation", "Three files are changed by the PR.", True),
    ("D414", 19321, "implementation", "The diff covers 3 files.", True),
    ("D414", 19321, "implementation", "The PR changes a single file, qwen3_next.py.", True),
    ("D414", 18917, "implementation", "The PR changes a single file, qwen3_next.py (+1/-7).", False),
    ("D414", 19321, "implementation", "The PR's only file is qwen3_next.py.", True),
    ("D414", 19321, "implementation", "The PR adds 170 lines and removes 17.", True),
    ("D414", 19321, "implementation", "The PR adds 107 lines and removes 17.", False),
    ("D414", 15631, "implementation", "It has 1,804 additions and 10 deletions.", True),
    ("D414", 15631, "implementation", "The PR modifies 4 files with 1,804 additions and 1 deletion.", False),
    ("D414", 19321, "implementation", "In total the diff is +170/-17 lines across 2 files.", True),
    ("D414", 19321, "implementation", "The PR (2 files, +107 -71) is mostly qwen3_next.py.", True),
    ("D414", 19321, "implementation", "qwen3_next.py gets +83/-1 of it, the rest is linear.py.", True),
    ("D414", 19321, "implementation", "+38/-11 lands in qwen3_next.py.", True),
    ("D414", 12508, "implementation", "The backend change is +6/-2 (hybrid_linear_attn_backend.py).", True),
    ("D414", 12508, "implementation", "The backend change is (+2/-6, hybrid_linear_attn_backend.py).", False),
    ("D414", 12508, "implementation", "The PR deletes 54 lines from qwen3_next.py.", True),
    ("D414", 12508, "implementation", "The PR deletes 45 lines from qwen3_next.py.", False),
    ("D414", 12508, "implementation", "In the PR qwen3_next.py (-54 lines) loses the old kernel.", True),
    ("D414", 12508, "implementation", "The PR removes the old kernel from qwen3_next.py (-45 lines).", False),
    ("D414", 12508, "implementation", "Unlike #19775, this PR touches 4 files (+71/-51).", True),
    ("D414", 12508, "implementation", "In 0.5.23 the kernel moved to fused_gdn_gating.py (75 lines) under "
                                      "sglang/kernels.", False),
    ("D414", 19321, "implementation", "The PR changes one file besides linear.py, qwen3_next.py (+83/-11).", False),
    ("D414", 19321, "implementation", "Apart from linear.py, the PR changes one file, qwen3_next.py.", False),
    # D319: #16229 first shipped in 0.5.9, #15631 in 0.5.8, #18917 in 0.5.10, #32919 in 0.5.19, #13081 last in
    # 0.5.9, #12892 is open
    ("D319", 16229, "implementation", "Unlike #32919 (0.5.19), this change shipped in 0.5.9.", False),
    ("D319", 16229, "implementation", "Unlike #32919 (0.5.19), this change shipped in 0.5.8.", True),
    ("D319", 18917, "implementation", "#18917 and #32919 shipped in 0.5.10 and 0.5.19 respectively.", False),
    ("D319", 18917, "implementation", "The follow-up PR 32919 shipped in 0.5.19.", False),
    ("D319", 18917, "implementation", "The follow-up PR 32919 shipped in 0.5.18.", True),
    ("D319", 18917, "implementation", "The follow-up (https://github.com/sgl-project/sglang/pull/32919) shipped in "
                                      "0.5.19.", False),
    ("D319", 15631, "implementation", "Qwen3-Next model support itself shipped in 0.5.2, months before this kernel.",
     False),
    ("D319", 18917, "implementation", "The follow-up #32919 (0.5.18+) fuses the conv1d into it.", True),
    ("D319", 18917, "implementation", "The follow-up #32919 (v0.5.18, 2026-08-30) fuses the conv1d into it.", True),
    ("D319", 18917, "implementation", "The follow-up #32919 (v0.5.19, 2026-08-30) fuses the conv1d into it.", False),
    ("D319", 16229, "implementation", "It debuted in SGLang 0.5.8.", True),
    ("D319", 16229, "implementation", "It debuted in SGLang 0.5.9.", False),
    ("D319", 15631, "implementation", "It was introduced in 0.5.9.", True),
    ("D319", 15631, "implementation", "The CuTe DSL kernel is new in 0.5.9.", True),
    ("D319", 16229, "implementation", "It first became available in 0.5.8.", True),
    ("D319", 18917, "implementation", "It made the 0.5.9 release.", True),
    ("D319", 18917, "implementation", "It did not make 0.5.9 and first shipped in 0.5.10.", False),
    ("D319", 16229, "implementation", "It has shipped since 0.5.8.", True),
    ("D319", 12892, "implementation", "It has been part of SGLang since 0.5.10.", True),
    ("D319", 16229, "implementation", "The hybrid PD path requires sglang>=0.5.8.", True),
    ("D319", 16229, "implementation", "Requires SGLang 0.5.9 or later.", False),
    ("D319", 19321, "implementation", "The earliest release carrying it is 0.5.9.", True),
    ("D319", 16229, "implementation", "It is in 0.5.8 and every later release.", True),
    ("D319", 16229, "implementation", "0.5.8 already ships it.", True),
    ("D319", 13081, "implementation", "0.5.10 still carries it.", True),
    ("D319", 13081, "implementation", "0.5.9 still carries it.", False),
    # a flag's program, its value and today's release as written: "make" is a verb, "python -u -m" and
    # "python3.12 -m" run a module, "`--x` `v`" and "set `--x` to `v`" give a value, "v0.5.23" is today
    ("D602", 15631, "implementation", "To make decode use the CuTe DSL kernel in 0.5.23, pass "
                                      "--linear-attn-decode-backend cute_dsl.", True),
    ("D601", 15631, "implementation", "To make decode use the CuTe DSL kernel in 0.5.23, pass "
                                      "--linear-attn-decoding-backend cutedsl.", True),
    ("D602", 15631, "implementation", "In 0.5.23 the kernel is picked with `--linear-attn-decode-backend` `cute_dsl`.",
     True),
    ("D602", 15631, "implementation", "In 0.5.23 the kernel is picked with `--linear-attn-decode-backend` `cutedsl`.",
     False),
    ("D602", 15631, "implementation", "In 0.5.23 set `--linear-attn-decode-backend` to `cute_dsl` to reach it.", True),
    ("D602", 15631, "implementation", "In 0.5.23 set `--linear-attn-decode-backend` to `cutedsl` to reach it.", False),
    ("D605", 15631, "implementation", "Reproduce with python -u -m sglang.bench_one_batch_servr --batch-size 128.", True),
    ("D605", 15631, "implementation", "Reproduce with python3.12 -m sglang.bench_one_batch_servr --batch-size 128.",
     True),
    ("D605", 15631, "implementation", "Reproduce with python3.12 -m sglang.bench_one_batch_server --batch-size 128.",
     False),
    ("D631", 19321, "implementation", "create_qkvz_proj is not in v0.5.23.", True),
    ("D631", 15631, "implementation", "0.5.23 has no SGLANG_USE_CUTEDSL_GDN_DECODE and selects the kernel with "
                                      "--linear-attn-decode-backend cutedsl.", False),
    ("D631", 15631, "implementation", "0.5.23 removed the env flag and --linear-attn-decode-backend took over.", False),
    ("D632", 40313, "implementation", "In 0.5.23 the unified radix cache replaces MambaRadixCache and SWARadixCache.",
     False),
    ("D632", 40313, "implementation", "In 0.5.23 MambaRadixCache replaces the old cache.", True),
    ("D632", 40313, "implementation", "In v0.5.23 MambaRadixCache handles the hybrid prefix cache.", True),
    ("D622", 15631, "implementation", "In v0.5.23, GDNKernelDispatcher.forward_decode hands the step to the CuTe DSL "
                                      "kernel.", True),
    # numbers and their units (#19321's claims: 2.6% TTFT with no GPU named, the A100 check 965.52 -> 876.80 ms;
    # #12508: 89 us on 4x H100; #19150: 8x B200; #15631: TP=2)
    ("D225", 19321, "motivation", "In the author's run on 4x H100, mean TTFT went from 23,169.69 ms to 22,555.29 ms.",
     True),
    ("D225", 19321, "motivation", "On 4x H100 the author's total throughput rose from 15314.80 to 15733.74 tok/s.",
     True),
    ("D225", 19321, "motivation", "The author saw TTFT improve by 2.6 percent on 8x H200.", True),
    ("D225", 19321, "motivation", "Mean TTFT went from 23169.69 ms to 22555.29 ms in the author's run; the A100 check "
                                  "came later.", False),
    ("D231", 19321, "motivation", "On H100, edwingao28 measured output throughput 3221.55 -> 3260.17 tok/s.", True),
    ("D231", 19321, "motivation", "On A100, edwingao28 measured output throughput 3221.55 -> 3260.17 tok/s.", False),
    ("D231", 12508, "motivation", "The gating took 89 microseconds per extend step on a B200 in the author's "
                                  "screenshots.", True),
    ("D224", 19321, "motivation", "The author reported a 2.6-fold TTFT gain.", True),
    ("D224", 19321, "motivation", "Median TTFT fell to 876.80 microseconds on the A100 check.", True),
    ("D224", 19321, "motivation", "Median TTFT fell to 876.80 msec on the A100 check.", False),
    ("D226", 19321, "motivation", "On A100 median TTFT fell from 965.52 ms to 876.80 ms (a 19.2% cut).", True),
    ("D226", 19321, "motivation", "On A100 median TTFT fell from 965.52 ms to 876.80 ms, a 9.2% cut.", False),
    ("D226", 19321, "motivation", "On A100 median TTFT went 965.52 -> 876.80 ms, i.e. -19.2%.", True),
    ("D226", 19321, "motivation", "On A100 median TTFT dropped from 965.52 ms down to 876.80 ms (-19.2%).", True),
    ("D226", 12508, "motivation", "Verify gating went from 3.5 us to 1.4 us (a 1.5x speed-up) in the author's "
                                  "profile.", True),
    ("D226", 12508, "motivation", "Verify gating went from 3.5 us to 1.4 us (2.5x faster) in the author's profile.",
     False),
    ("D228", 19150, "motivation", "The GDN kernel time falls by 147% on 8x B200.", True),
    ("D228", 19150, "motivation", "It gave a 147% GDN kernel time reduction on 8x B200.", True),
    ("D228", 19150, "motivation", "The GDN kernel time went down 147% on 8x B200.", True),
    ("D228", 19150, "motivation", "The GDN kernel time sees a reduction of 47% on 8x B200.", False),
    ("D242", 15631, "motivation", "The authors measured the decode kernel at tp4 on H200.", True),
    ("D242", 15631, "motivation", "The authors measured the decode kernel at TP-4 on H200.", True),
    ("D242", 15631, "motivation", "The authors measured with a tensor-parallel size of 4 on H200.", True),
    ("D242", 15631, "motivation", "The authors measured the decode kernel at tp2 on H200.", False),
    # merge days and PR states (#19321 merged 2026-03-20; #12892 is open, #13081 merged, #10657 closed)
    ("D406", 19321, "implementation", "Merged: 2026-03-02.", True),
    ("D406", 19321, "implementation", "Merged into main on 2026-03-02.", True),
    ("D406", 19321, "implementation", "Merged into main on 2026-03-20.", False),
    ("D406", 19321, "implementation", "The merge commit is dated March 2, 2026.", True),
    ("D410", 16229, "implementation", "Spec-decoding state reuse (#12892, now merged) is a separate path.", True),
    ("D410", 16229, "implementation", "#12892 is closed.", True),
    ("D410", 16229, "implementation", "#12892 is still open.", False),
    ("D410", 17613, "implementation", "#13081 never landed.", True),
    ("D410", 14607, "implementation", "#10657 merged before #14607 replaced it.", True),
    ("D410", 14607, "implementation", "#10657 was closed unmerged, and #14607 took over.", False),
    ("D410", 16229, "implementation", "Whether #12892 merged after our crawl is not known.", False),
    # a sentence that already says a flag is deprecated, and a type tag after a flag, were flagged
    ("D606", 15631, "implementation", "In 0.5.23 --disable-cuda-graph is deprecated; use --cuda-graph-backend-decode "
                                      "disabled instead.", False),
    ("D606", 15631, "implementation", "In 0.5.23 pass --disable-cuda-graph to turn graphs off.", True),
    ("D623", 11679, "implementation", "`--mamba-track-interval` [int] sets how often decode snapshots the state.", False),
    ("D623", 11679, "implementation", "`--mamba-track-interval` [128] sets how often decode snapshots the state.", True),
]
#: the cards D410's sentences name beside the one they are appended to
STATES = (12892, 13081, 10657, 14607)


@pytest.mark.parametrize("rule,pr,field,sentence,caught", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_a_recorded_miss_is_judged_as_written(tmp_path, no_release_cache, rule, pr, field, sentence, caught):
    found = found_with(tmp_path, rule, pr, field, sentence, STATES if rule == "D410" else ())
    assert (rule in found) == caught, found


SOURCE = """from a import Imported, Aliased as Bound
import b
class Cls:
    field: int
    def __init__(self):
        self.attr, (first, *rest) = 1, (2, 3)
def func(): pass
CONST = Imported(x=1)
if Imported == CONST: pass
"""


@pytest.mark.parametrize("name,defined", [("Cls", True), ("func", True), ("CONST", True), ("field", True),
                                          ("attr", True), ("first", True), ("rest", True), ("Imported", False),
                                          ("Bound", False), ("b", False), ("x", False), ("nothing", False)])
def test_a_definition_is_a_def_class_or_assignment_not_an_import_or_use(name, defined):
    assert defines(SOURCE, name) == defined


def test_a_change_given_without_a_sign_is_answered_as_a_size():
    """"983.79 to 924.08 ms (a 9.1% cut)": the values give a 6.07% cut; D226 said "+6.07%", a rise."""
    found = list(_check_change("motivation", "983.79 to 924.08 ms (a 9.1%", "983.79", "924.08", None, "", "9.1", "%"))
    assert [f.message.split(": ", 1)[1] for f in found] == ["983.79 -> 924.08 is 6.07%, not 9.1%"]
