"""Tasks an inference engineer brings to the manual (skill23, session 20), answered by following links from SKILL.md
only, as an agent would: a symptom row, the section it links, and for a flag or SGLANG_* variable the index row of
references/flags.md and the one section its "Explained in" cell links (three hops, bounded bytes).

What they guard: a PR list on the routing pages names the release that first shipped each PR's change (the question
"which PRs matter, from which release?" was answered with bare PR numbers, a hop into the 676 KB card page each), a
"Flags:" list dates the names the oldest release read lacked, and the flags index sends a name to the section that
says what it does and its default (it gave only the first and last release, and no way on to the answer).
"""

from __future__ import annotations

import re
import shlex
import subprocess

import pytest

from tests.dossier.test_manual_questions import SKILL, Question, _section, answer, assert_answered

DECODE = "Decode throughput is low"
FLAGS = "Which SGLang release first (or last) accepts a flag"
ENV = "reads an SGLANG_* environment variable"
#: SKILL.md, one section, one index row's target: what an agent reads to answer a name's question
HOP_BYTES = 60_000

QUESTIONS = [
    # which PRs and flags matter, from which release: the routing pages date each PR and each newer flag
    Question("Qwen3-Next decode is slow at TP4 with MTP: which flags and PRs matter, and from which release?", DECODE,
             ("`--linear-attn-verify-backend` (from 0.5.17)", "`--enable-linear-replayssm-spec` (from 0.5.17)",
              "[#28451](pr-history.md#pr-28451) (0.5.15)", "[#23273](pr-history.md#pr-23273) (0.5.13)",
              "`--cuda-graph-max-bs-decode` (from 0.5.14)")),
    Question("H100 on 0.5.14: can I try the FlashInfer decode that indexes the pool in place?", DECODE,
             ("[#27905](pr-history.md#pr-27905) (open)", "gathers")),
    Question("We run 0.5.10: does the B200 bf16-state FlashInfer decode default exist there?", "Which GDN kernel runs",
             ("[#21861](pr-history.md#pr-21861) (0.5.11)",)),
    Question("Which release added --enable-linear-replayssm, and which PR?", "ReplaySSM decode and MTP verify",
             ("`--enable-linear-replayssm` (from 0.5.15)", "[#28451](pr-history.md#pr-28451) (0.5.15)")),
    Question("Which prefix-cache changes landed after 0.5.9 (we are upgrading to 0.5.23)?",
             "Wrong continuations for requests that reuse a cached prefix",
             ("[#40313](pr-history.md#pr-40313) (0.5.21)", "[#33477](pr-history.md#pr-33477) (0.5.18)",
              "[#28151](pr-history.md#pr-28151) (0.5.14)")),
    Question("Our 0.5.12 fleet: does its extra_buffer accept --mamba-radix-cache-strategy?", "extra_buffer and no_buffer",
             ("`--mamba-radix-cache-strategy` (from 0.5.14)",)),
    Question("Qwen3.5 per-tensor FP8 fails to load on 0.5.10: which PR fixed it, in which release?",
             "Loading FP8/NVFP4 weights", ("since 0.5.11", "[#23062](pr-history.md#pr-23062) (0.5.11)")),
    Question("The PRs after each link in the answers: what does the number in brackets mean?", DECODE,
             ("each PR link is followed by the first SGLang release that shipped its change",)),
    Question("MTP verify crashed with an illegal memory access on 0.5.12: is a fix in a later release?",
             "Illegal memory access", ("[#24954](pr-history.md#pr-24954) (0.5.13)",)),
    Question("Ascend NPU Qwen3.5 on 0.5.14: which NPU fixes came later?", "Ascend NPU: setup",
             ("[#36187](pr-history.md#pr-36187) (0.5.21)",)),
    # porting and the verify path name the kernel and the release
    Question("Port SGLang's fused qkvzba split to vLLM: which kernel, where, since when?", "Porting a GDN optimization",
             ("`fused_qkvzba_split_reshape_cat`", "kernels/ops/attention/triton_gdn_fused_proj.py",
              "[#18917](pr-history.md#pr-18917)")),
    Question("Does MTP verify still copy q/k/v with fused_qkv_split_gdn_prefill on 0.5.23?",
             "Where MTP / NEXTN target verify runs",
             ("_use_strided_target_verify_qkv", "[#33778](pr-history.md#pr-33778) (0.5.21)")),
    Question("How do I tune the Triton GDN prefill kernel's tile, and why is it not autotuned?", "Slow first token",
             ("SGLANG_GDN_CHUNK_H_BV", "single config on purpose", "[#24271](pr-history.md#pr-24271)")),
    Question("Which GDN kernel runs prefill on H100 vs B200, and where do I tune it?", "Which GDN kernel runs",
             ("(#slow-prefill)", "32768", "8192")),
    # Blackwell parts beyond the B200: which rows apply
    Question("We deploy on B300 (GB300 NVL72): do the SM100 GDN defaults apply?", "Which GDN kernel runs",
             ("B300 or GB300 at 10.3", "test the major version only")),
]

#: an SGLang file, and (PR, its release) pairs the one row `grep -n -F FILE references/by-file.md` finds must list
FILES = [
    ("mem_cache/memory_pool.py", (("22493", "0.5.11"), ("26941", "0.5.13"), ("28451", "0.5.15"), ("35544", "0.5.20"))),
    ("models/qwen3_5.py", (("23062", "0.5.11"), ("21019", None))),
    ("srt/models/qwen3_next.py", (("19321", None), ("21662", None))),
]

#: a flag or variable, its first release, the default 0.5.23 declares (cards/surface.lock), and what the section its
#: index row links must say about it
NAMES = [
    ("--mamba-track-interval", FLAGS, "0.5.7", "`256`", ("(default 256)",)),
    ("--linear-replayssm-cache-len", FLAGS, "0.5.15", "`16`", ("(default 16)", "below 1 is refused")),
    ("--enable-linear-replayssm-spec", FLAGS, "0.5.17", "`False`", ("linear draft chains only", "off by default")),
    ("--mamba-ssm-dtype", FLAGS, "0.5.2", "`None`", ("float32", "bfloat16")),
    ("--chunked-prefill-size", FLAGS, "0.5.1", "`None`", ("16384", "8192")),
    ("SGLANG_GDN_CHUNK_H_NUM_STAGES", ENV, "0.5.13", "`2`", ("[2]", "chunk_gated_delta_rule_fwd_kernel_h")),
    ("SGLANG_MAMBA_CONV_DTYPE", ENV, "0.5.9", "`bfloat16`", ("conv",)),
]


def test_there_are_twenty_five_tasks():
    """All twenty-five failed on main's manual at the start of the session: its PR lists had no releases, its Flags
    lists no first release, the flags index linked no section, a file led to 27 grep hits in the 676 KB card page,
    each to be walked up to its card's heading, no row said which Blackwell parts the SM100 rows cover, the porting
    block named no split kernel, the verify path missed #33778's strided views and slow prefill the tile knobs."""
    assert len(QUESTIONS) + len(NAMES) + len(FILES) == 25 and len({q.ask for q in QUESTIONS}) == len(QUESTIONS)


@pytest.mark.parametrize("path, changes", FILES, ids=[f[0] for f in FILES])
def test_what_changed_in_a_file_is_one_grep_from_skill_md(path, changes):
    """SKILL.md routes "what changed in FILE between two releases" to by-file.md and gives the grep; the one row it
    finds lists the file's cards, each linked, with the release that shipped it, in merge order."""
    skill = (SKILL / "SKILL.md").read_text()
    assert "(references/by-file.md)" in skill and 'grep -n -F "$FILE" references/by-file.md' in skill
    rows = [line for line in (SKILL / "references" / "by-file.md").read_text().splitlines() if path in line
            and line.startswith("- `")]
    assert len(rows) == 1, (path, len(rows))
    at = []
    for pr, release in changes:
        link = f"[#{pr}](pr-history.md#pr-{pr})"
        assert link + (f" ({release})" if release else "") in rows[0], (path, pr, release)
        at.append(rows[0].index(link))
    if all(r for _, r in changes):
        assert at == sorted(at), (path, "not in release order")


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.ask[:40])
def test_question_is_answered_from_skill_plus_one_section(q):
    assert_answered(q)


def _index_row(section: str, name: str) -> list[str]:
    rows = [line for line in section.splitlines() if line.startswith(f"| `{name}` |")]
    assert len(rows) == 1, (name, rows)
    return [c.strip() for c in rows[0].strip("|").split(" | ")]


@pytest.mark.parametrize("name, row, first, declared, facts", NAMES, ids=[n[0] for n in NAMES])
def test_a_name_leads_from_the_index_to_the_section_that_explains_it(name, row, first, declared, facts):
    """SKILL.md -> flags.md's row (first release, the default 0.5.23 declares) -> the one section its "Explained in"
    cell links, which names it and holds what it does; the three reads stay within HOP_BYTES."""
    skill, index = answer(Question(f"What does {name} do and since when?", row, (f"| `{name}` |",)))
    _, since, _last, default, explained = _index_row(index, name)
    assert since == first and default == declared
    link = re.fullmatch(r"\[[\w-]+\]\(([\w.-]+\.md)#([\w-]+)\)", explained)
    assert link, (name, explained)
    target = _section((SKILL / "references" / link[1]).read_text(), link[2])
    assert f"`{name}`" in target and re.search(rf"Flags: [^\n]*`{re.escape(name)}`", target), (name, link[2])
    missing = [f for f in facts if f not in target]
    assert not missing, (name, link[2], missing)
    assert len(skill) + len(index) + len(target) <= HOP_BYTES


def test_every_index_row_links_a_section_that_names_it():
    """No row of the flags index is a dead end: each links an anchored section of the routing pages naming it."""
    page = (SKILL / "references" / "flags.md").read_text()
    rows = [line for line in page.splitlines() if line.startswith("| `")]
    assert len(rows) >= 100
    pages: dict[str, str] = {}
    for line in rows:
        name = line.split("`")[1]
        cell = line.rstrip(" |").rsplit(" | ", 1)[1]
        assert line.count(" | ") == 4, line  # name | first | last | default | explained
        link = re.fullmatch(r"\[[\w-]+\]\((answers|errors|playbook)\.md#([\w-]+)\)", cell)
        assert link, (name, cell)
        text = pages.setdefault(link[1], (SKILL / "references" / f"{link[1]}.md").read_text())
        assert name in _section(text, link[2]), (name, link[2])


def test_the_section_recipe_of_skill_md_prints_each_routed_section_alone():
    """The pages are long (answers.md 170 KB, pr-history.md 680 KB); SKILL.md's `sed` line prints one anchored
    section. Run as given for every anchor the symptom table links (and one card), it prints that section's heading
    and stops at the next anchor: one short read each."""
    from tests.dossier.test_manual_questions import SECTION_WORD_LIMIT

    skill = (SKILL / "SKILL.md").read_text()
    recipe = re.search(r"`(sed -n '/id=\"slow-decode\"/,/\^<a id=/p' references/answers\.md)`", skill)
    assert recipe, "SKILL.md gives no command that prints one section"
    targets = set(re.findall(r"\]\((references/[\w.-]+\.md)#([\w-]+)\) \|$", skill, flags=re.M)) | {
        ("references/pr-history.md", "pr-28451")}
    assert len(targets) >= 40
    for page, anchor in sorted(targets):
        command = recipe[1].replace("slow-decode", anchor).replace("references/answers.md", page)
        out = subprocess.run(shlex.split(command), cwd=SKILL, capture_output=True, text=True, check=True).stdout
        body = out.split("\n", 1)[1]
        assert out.startswith(f'<a id="{anchor}"></a>') and body.lstrip().startswith("#"), (page, anchor)
        assert body.count('<a id="') <= 1 and len(out.split()) <= SECTION_WORD_LIMIT, (page, anchor, len(out.split()))
