"""Fifty-one more tasks an inference engineer or a coding agent brings to the manual (manual21, session 18), each
answered by following links from SKILL.md only: a symptom row and the one section it links (for a message quoted
from a log, the errors page's index, then the one section it names). They were checked against SGLang 0.5.23's
source, the release trees (0.5.1 to 0.5.23), the cards and results/bench/*.json.

They cover which release first or last takes a flag or reads a variable, what moved at an upgrade and the switch
back, whether a change the manual cites is still in today's SGLang, how ReplaySSM meets prefix caching, messages
quoted as Python prints them (a ModuleNotFoundError quotes its module name; the index had the words without the
quote, so no row matched), the idle leak check that stops a server, open proposals a reader on that path should know
of (FlashInfer's pool-indexed SM90 decode, ReplaySSM with extra_buffer), fixes no block named (a PD decode server's
retraction, Qwen3.5 MTP's shared expert on AMD), the packed decode's launch-grid limit, and what this repository's
kernels measured, against whose kernels, on which GPU. The test that counts them says which failed on main's manual
at the start of the session. A last test holds the release spans of flags.md,
by-release.md and the answers to one another.
"""

from __future__ import annotations

import re

import pytest

from tests.dossier.test_manual_questions import SKILL, Question, _section, assert_answered

ERROR = "An error message quoted"
REPLAY = "ReplaySSM decode and MTP verify"
SLOW = "Decode throughput is low"
FLAGS = "first (or last) accepts a flag"
ENV = "reads an SGLANG_* environment variable"
TAKEN = "Is a change the manual cites still in"
UPGRADE = "Output or speed changed after upgrading"
MIN = "Minimum SGLang release for a feature"
DEFAULTS = "Which GDN optimizations are on by default"
OURS_GDN = "A number from this repository's reference kernels"
OURS_PROJ = "Our fused GDN projection kernels"
RUN = "Running one card's reference kernel"

QUESTIONS = [
    # which release takes a flag or reads a variable, and since when
    Question("Does SGLang 0.5.13 accept --mamba-radix-cache-strategy, or must my script keep the old name?", FLAGS,
             ("| `--mamba-radix-cache-strategy` | 0.5.14 | 0.5.23 |",
              "| `--mamba-scheduler-strategy` | 0.5.7 | 0.5.19: gone from the next |")),
    Question("My 0.5.16 launch rejects --linear-attn-verify-backend: from which release does it parse?", FLAGS,
             ("| `--linear-attn-verify-backend` | 0.5.17 | 0.5.23 |",)),
    Question("Does 0.5.21 still read SGLANG_ENABLE_SPEC_V2=1 from our old recipe?", ENV,
             ("| `SGLANG_ENABLE_SPEC_V2` | 0.5.4.post1 | 0.5.13.post1: not read from the next (0.5.14 to 0.5.20 only warn that it is set) |",)),
    Question("From which release can a PD decode server keep a radix cache (--disaggregation-decode-enable-radix-cache)?",
             FLAGS, ("| `--disaggregation-decode-enable-radix-cache` | 0.5.11 | 0.5.23 |",)),
    Question("I am pinned to 0.5.16: what is the flag for ReplaySSM spec verify there?", REPLAY,
             ("`--enable-gdn-replayssm-spec`", "renamed in 0.5.17", "[#28695](pr-history.md#pr-28695)")),
    Question("Which flag gives an H200 FlashInfer GDN prefill on 0.5.18, and from which release is it the default?", MIN,
             ("FlashInfer GDN prefill and decode on SM90 from 0.5.10 as an opt-in", "the SM90 default from 0.5.19",
              "[#18361](pr-history.md#pr-18361)")),
    Question("Lowest release for Qwen3.5 with MTP and prefix caching without known crashes or leaks?", MIN,
             ("wants 0.5.13 or later", "[#24954](pr-history.md#pr-24954)", "[#19415](pr-history.md#pr-19415)")),
    # upgrades: what moved, and the switch back
    Question("H100 TP4 Qwen3-Next: decode numerics and speed moved after 0.5.10 -> 0.5.11. Which default changed?",
             UPGRADE, ("FlashInfer all-reduce fusion is switched on by itself", "--enforce-disable-flashinfer-allreduce-fusion",
                       "[#22664](pr-history.md#pr-22664)")),
    Question("B200 with --mamba-ssm-dtype bfloat16: a different decode kernel after upgrading to 0.5.11. Switch back?",
             UPGRADE, ("`--linear-attn-decode-backend triton` restores Triton", "[#21861](pr-history.md#pr-21861)")),
    Question("My GDN decode is slower after upgrading 0.5.20 -> 0.5.23 with the same flags: which PR or flag?", UPGRADE,
             ("no default of the GDN path moved", "Compare the startup lines of both versions first")),
    Question("Qwen3.5 decode kernels changed at 0.5.19: how do I get the unfused projection + conv path back?", UPGRADE,
             ("`SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV=0` restores the separate steps",
              "[#32919](pr-history.md#pr-32919)")),
    # is optimization P still in today's SGLang
    Question("Is the piecewise CUDA graph for Qwen3-Next (#13081) still in SGLang?", TAKEN,
             ("shipped in 0.5.6, its line gone in 0.5.10", "[#17613](pr-history.md#pr-17613)")),
    Question("Is mamba radix cache v0 (#11214) still how SGLang caches GDN states?", TAKEN,
             ("shipped in 0.5.3.post2, its line gone in 0.5.21", "[#30468](pr-history.md#pr-30468)")),
    Question("Is HiCache for MambaRadixCache (#19663) still the code path?", TAKEN,
             ("its line gone in 0.5.18", "[#27759](pr-history.md#pr-27759)")),
    Question("Is the Triton packed GDN decode (#20627) still in today's SGLang, and where?", TAKEN,
             ("not listed here is in SGLang 0.5.23", "**SGLang 0.5.23** line naming the file and line",
              "grep -n '^### #19321' references/pr-history.md")),
    # how ReplaySSM meets prefix caching
    Question("--enable-linear-replayssm: requests sharing a system prompt stopped hitting the prefix cache and TTFT "
             "rose. Why can't I use extra_buffer with it, and is a fix coming?", REPLAY,
             ("donate_mamba_ping_pong_slot", "[#37837](pr-history.md#pr-37837)", "4.7x", "open when crawled")),
    Question("ReplaySSM decode on no_buffer: are the states the radix cache keeps flushed, and what goes wrong at "
             "finish?", REPLAY,
             ("flushed whenever seq_len is a multiple of `--mamba-track-interval`", "finishes mid-ring",
              "findings.md#finding-replayssm-finish-conv-depth")),
    Question("--enable-linear-replayssm-spec with extra_buffer: when does the ring write the state a track slot "
             "keeps?", "Where MTP / NEXTN target verify runs",
             ("materialises the checkpoint when the ring fills or a track slot needs the crossing state",
              "[#32692](pr-history.md#pr-32692)")),
    Question("PD disaggregation with ReplaySSM rings: are the rings sent to the decode server?",
             "PD disaggregation with GDN state", ("the ReplaySSM rings are never transferred",
                                                  "_NON_TRANSFER_STATE_FIELDS")),
    # messages quoted from a log, as Python prints them
    Question("After upgrading to 0.5.23 our plugin fails: \"ModuleNotFoundError: No module named "
             "'sglang.kernels.ops.attention.fla.fused_gdn_gating'\"", ERROR,
             ("kernels/ops/attention/linear/", "kernel map")),
    Question("Our 0.5.15 patch on 0.5.16: \"ModuleNotFoundError: No module named 'sglang.srt.layers.attention.fla'\"",
             ERROR, ("0.5.16 moved", "`kernels/ops/attention/fla/`", "grep -rn 'def ")),
    Question("Idle server died: \"ValueError: pool memory leak detected! [mamba] total=1200, available=1180, "
             "evictable=12, protected=0, session_held=0, uncached=0, leaked_mamba_pages={17, 18}\"", ERROR,
             ("memory leak detected!", "SGLANG_ENABLE_STRICT_MEM_CHECK_DURING_IDLE", "[#21404](pr-history.md#pr-21404)",
              "[#23496](pr-history.md#pr-23496)", "from 0.5.10", "from 0.5.11")),
    Question("Our out-of-tree GDN kernel registered its name, but startup says 'ValueError: Unsupported GDN decode "
             "backend: mykernel'", ERROR, ("GDNKernelDispatcher.__init__", "add_linear_attn_kernel_backend_choices",
                                          "(answers.md#kernel-map)")),
    Question("'AssertionError: Lazy extra buffer requires overlap schedule (--disable-overlap-schedule is "
             "incompatible)'", ERROR, ("drop `--disable-overlap-schedule` or pick extra_buffer",)),
    Question("MI300X on 0.5.15: every default launch aborts with 'extra_buffer needs CUDA/MUSA/NPU (FLA).'", ERROR,
             ("--mamba-radix-cache-strategy no_buffer --disable-overlap-schedule", "'.../ROCm (FLA).' from 0.5.16")),
    Question("B200 on 0.5.14, --speculative-eagle-topk 4: 'FlashInfer GDN verify kernel only supports topk=1'", ERROR,
             ("FlashInfer GDN verify kernel only supports topk=1", "0.5.16")),
    # hardware, kernels, porting
    Question("H100: FlashInfer GDN decode gathers and scatters the states and refuses a bf16 state. Is anyone "
             "changing that?", SLOW, ("[#27905](pr-history.md#pr-27905)", "open when crawled",
                                      "SM90 decode still gathers")),
    Question("MI355X, Qwen3.5-397B MXFP4 with NEXTN on 0.5.18: throughput down and the draft's shared_expert "
             "weights are reported not found at load", "AMD GPUs (ROCm",
             ("[#35719](pr-history.md#pr-35719)", "0.5.19", "about 12%")),
    Question("PD decode server under KV pressure retracts requests; resumed Qwen3.5 requests come back garbled on "
             "0.5.10. Fixed?", "PD disaggregation with GDN state",
             ("[#22493](pr-history.md#pr-22493)", "from 0.5.11", "retract")),
    Question("vLLM keeps the GDN state as [N, HV, K, V]: when and why did SGLang move to [N, HV, V, K]?",
             "Porting a GDN optimization", ("[#20283](pr-history.md#pr-20283)", "0.5.10", "[slots, HV, V, K]")),
    Question("Qwen3.5-397B at TP1 with --max-running-requests 1024: can the packed decode launch that batch?", SLOW,
             ("65535", "batch x local value heads", "[#20627](pr-history.md#pr-20627)")),
    Question("RTX 5090 (SM120) with --mamba-ssm-dtype bfloat16 and FlashInfer decode: does verify run FlashInfer?",
             "GDN kernels on an A100", ("FlashInfer never verifies here", "verify=TritonGDNKernel")),
    Question("Which kernel names does nsys show for one default GDN decode step on an H100?",
             "Where each GDN kernel lives", ("fused_recurrent_gated_delta_rule_packed_decode_kernel",
                                             "_causal_conv1d_update_kernel", "layer_norm_gated_fwd_kernel")),
    Question("Qwen3.5 with --enable-breakable-cuda-graph on 0.5.12 scores far lower on GSM8K: known?",
             "prefill CUDA graphs on a GDN model", ("[#25110](pr-history.md#pr-25110)", "from 0.5.13")),
    # what this repository's runtime measures, against whose kernels, on which device
    Question("What does runtime.gdn.bench's sgl_verify_us column time, and on which GPU was the last run?", OURS_GDN,
             ("sgl_verify_us is fused_sigmoid_gating_delta_rule_update", "NVIDIA H200", "2026-12-03")),
    Question("Did this repository's fused projection beat SGLang's decode path at TP4 in the latest committed run?",
             OURS_PROJ, ("1.17x to 1.92x at TP4", "1.35x at T=32", "one-stream time at TP4",
                        "a stream of its own", "projections-decode-sweep-r21.json")),
    Question("Was this repository's GDN decode ever timed on an H100, or only on the H200?", OURS_GDN,
             ("NVIDIA H100 80GB HBM3", "NVIDIA H200")),
    Question("Do the tests under tests/runtime prove my SGLang install's kernels are right?", RUN,
             ("says nothing about SGLang's kernels or your install", "test_gdn_sglang_peers.py")),
    # defaults, switches and the rest of the deployment
    Question("Since which release is FlashInfer all-reduce fusion on by default for Qwen3-Next, and what turns it "
             "off?", DEFAULTS, ("from 0.5.11", "--enforce-disable-flashinfer-allreduce-fusion",
                                "[#22664](pr-history.md#pr-22664)")),
    Question("Will --enable-two-batch-overlap speed up Qwen3-Next?", DEFAULTS, ("gives these models no overlap",)),
    Question("What does SGLANG_OPT_MAMBA_SKIP_DECODE_LOCK do, and is it on by default?", DEFAULTS,
             ("`SGLANG_OPT_MAMBA_SKIP_DECODE_LOCK` [off] one fewer resident state slot",)),
    Question("MTP on MI300X before 0.5.21 seemed to ignore temperature: why?", "Turning on MTP (NEXTN)",
             ("verify would otherwise be greedy", "--speculative-use-rejection-sampling")),
    Question("--enable-deterministic-inference on an H200 with 0.5.23: does FlashInfer prefill still run?",
             "Deterministic inference", ("FlashInfer prefill is never picked by itself",
                                         "[#35632](pr-history.md#pr-35632)")),
    Question("Can I run Qwen3-Next with --pp-size 2?", "Pipeline parallel",
             ("asserts a single pipeline stage", "Qwen3.5 splits its layers over stages since 0.5.10")),
    Question("Which release first accepts --enable-int8-mamba-checkpoint?", FLAGS,
             ("| `--enable-int8-mamba-checkpoint` | 0.5.14 | 0.5.23 |",)),
    Question("Six H100s for Qwen3-Next-80B: can I run --tp-size 6?", "Choosing TP (and EP)",
             ("on six GPUs run TP2 or TP4 servers instead", "first GDN layer's conv1d")),
    Question("Every MTP step copies the accepted draft state into the slot after verify: has anyone removed that "
             "copy, and what did it buy?", "Where MTP / NEXTN target verify runs",
             ("[#12892](pr-history.md#pr-12892)", "9.47%", "update_mamba_state_after_mtp_verify")),
    Question("A 601-token prompt right after a 608-token one with the same start shows #cached-token 0 under "
             "no_buffer: why?", "Prefix cache hit rate",
             ("no_buffer never saves at a branching point", "Sending the bare prefix once")),
    Question("Qwen3-Next on a Xeon server with --device cpu at TP3: does it load?", "Choosing TP (and EP)",
             ("Xeon CPUs (`--device cpu`) are the exception", "adjust_config_with_unaligned_cpu_tp",
              "[#12525](pr-history.md#pr-12525)")),
    Question("What ratio of the free memory goes to the Mamba state pool by default, and did it change?",
             "max_running_requests is capped", ("0.9 when unset; 0.2 before 0.5.3.post3",
                                                "[#11679](pr-history.md#pr-11679)")),
    Question("HiCache on 0.5.15 with --hicache-size 100 used about twice the host memory: expected?",
             "Prefix cache hit rate", ("about twice the host memory asked for", "[#32915](pr-history.md#pr-32915)")),
]


def test_there_are_fifty_one_tasks():
    """Eleven failed on main's manual at the start of the session (judged with the row named): the taken-out page on
    a current card, ReplaySSM with extra_buffer, the two ModuleNotFoundError messages as Python quotes them, the idle
    leak check, the SM90 FlashInfer pool-indexed decode proposal, Qwen3.5 MTP's shared expert on AMD, a PD decode
    server's retraction, the state layout's PR, the packed decode's grid limit and all-reduce fusion's release in the
    defaults block; added later in the session, the TP4 re-run of the projection bench, the open proposal to skip
    the commit copy after MTP verify and the dispatcher's 'Unsupported GDN decode backend' also failed before their
    fixes. The rest guard answers already on the routed path."""
    assert len(QUESTIONS) == 51 and len({q.ask for q in QUESTIONS}) == len(QUESTIONS)


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)


def _rows(page: str, anchor: str) -> dict[str, tuple[str, str]]:
    """name -> (first release, last release) of one table of flags.md."""
    return {m[1]: (m[2], m[3]) for m in re.finditer(r"^\| `([^`]+)` \| ([\w.]+) \| ([\w.]+)", _section(page, anchor), re.M)}


def _release_lists(by_release: str) -> tuple[list[str], dict[tuple[str, str], set[str]]]:
    """Releases oldest first, and (release, 'first' | 'gone') -> the names its section lists as first parsed or read
    there, or as no longer parsed or read from there."""
    order = re.findall(r'<a id="release-[\w-]+"></a>\n## SGLang ([\w.]+) ', by_release)[::-1]
    lists: dict[tuple[str, str], set[str]] = {}
    for version in order:
        section = _section(by_release, "release-" + version.replace(".", "-"))
        for line in re.findall(r"^- (?:Flags|Environment variables) the manual names, (.+)$", section, re.M):
            for part in line.split("; "):
                kind = "first" if part.startswith("first") else "gone"
                lists.setdefault((version, kind), set()).update(re.findall(r"`([^`]+)`", part))
    return order, lists


def test_a_names_release_span_is_one_story_on_flags_by_release_and_the_answers():
    """flags.md's first and last release of a flag or variable, the by-release section that says it was first parsed
    (read) there or no longer from there, and the answers' "`--flag` (from 0.5.N" must agree: a reader who checks one
    page against another finds the same release."""
    pages = SKILL / "references"
    flags, by_release = (pages / "flags.md").read_text(), (pages / "by-release.md").read_text()
    answers = "".join((pages / page).read_text() for page in ("answers.md", "errors.md", "playbook.md"))
    order, lists = _release_lists(by_release)
    spans = _rows(flags, "flags") | _rows(flags, "flags-m-z") | _rows(flags, "env")
    assert len(spans) > 100 and len(order) > 40, (len(spans), len(order))
    wrong = []
    for name, (first, last) in spans.items():
        if first != order[0] and name not in lists.get((first, "first"), set()):
            wrong.append(f"{name}: flags.md says first {first}, by-release's {first} does not list it")
        if last != order[-1]:
            after = order[order.index(last) + 1]
            if name not in lists.get((after, "gone"), set()):
                wrong.append(f"{name}: flags.md says last {last}, by-release's {after} does not list it as gone")
        for said in re.findall(rf"`{re.escape(name)}`(?: \([^)]{{0,10}})?,? \(?(?:from|since) (0\.5\.\d+(?:\.post\d)?)", answers):
            if order.index(said) < order.index(first) or order.index(said) > order.index(last):
                wrong.append(f"{name}: the answers say from {said}, flags.md spans {first}..{last}")
    assert not wrong, wrong


def _first_release_of_each_card(by_release: str) -> dict[str, str]:
    """PR number -> the release by-release.md says first shipped its change (a release section, or the taken-out
    list's 'shipped in')."""
    placed: dict[str, str] = {}
    for version, body in re.findall(r"\n## SGLang ([\w.]+) [^\n]*\n(.*?)(?=\n<a id=)", by_release, re.S):
        for pr in re.findall(r"^- \[#(\d+)\]", body, re.M):
            placed.setdefault(pr, version)
    for pr, version in re.findall(r"^- \[#(\d+)\].*?: shipped in ([\w.]+),", _section(by_release, "taken-out"), re.M):
        placed.setdefault(pr, version)
    return placed


def test_a_release_the_answers_give_a_pr_is_the_one_by_release_places_it_in():
    """"from 0.5.15 ([#28451](...))", "([#40310](...), from 0.5.21)", "fixed in 0.5.11 by [#22458](...)": the release
    the routing pages give a PR's change is the one by-release.md lists it under (its card's release evidence)."""
    pages = SKILL / "references"
    placed = _first_release_of_each_card((pages / "by-release.md").read_text())
    text = (SKILL / "SKILL.md").read_text() + "".join(
        (pages / page).read_text() for page in ("answers.md", "errors.md", "playbook.md"))
    said = [(m[2], m[1]) for m in re.finditer(r"(?:from|in) (0\.5\.\d+(?:\.post\d)?) (?:by )?\(?\[#(\d+)\]", text)]
    said += [(m[1], m[2]) for m in re.finditer(r"\(\[#(\d+)\]\(pr-history\.md#pr-\d+\), from (0\.5\.\d+(?:\.post\d)?)\)",
                                               text)]
    assert len(said) > 50, len(said)
    wrong = [(pr, version, placed.get(pr)) for pr, version in said if placed.get(pr) != version]
    assert not wrong, f"(PR, release the answers give, release by-release.md places it in): {wrong}"
