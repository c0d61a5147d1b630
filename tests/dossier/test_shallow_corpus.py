"""An adversarial corpus of shallow cards, in the styles that passed the old lint: each is rejected by the
rule meant for it, inside a project of good cards that stays clean."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from dossier.lint import LintContext, run_lint
from dossier.project import Project
from tests.dossier.evidence_support import put
from tests.dossier.factories import make_card, write_project

GOOD = [100, 101, 102, 103]  # four unrelated good stories (factories.PROSE)
FILE = "python/sglang/srt/models/qwen3_next.py"

# --- styles -------------------------------------------------------------------------------------------

TEMPLATE_TITLES = [
    (301, "[Qwen3-Next] Fix crash in GDN decode with CUDA graphs", "bug fix", "qwen3_next.py"),
    (302, "[Qwen3-Next] Support FP8 checkpoint loading for in_proj", "feature", "layers/linear.py"),
    (303, "Optimize fused_gdn_gating kernel for Qwen3 Next", "performance", "fla/fused_gdn_gating.py"),
    (304, "[Bugfix] Qwen3-Next MTP hang with tp 4 and sampling", "bug fix", "qwen3_next_mtp.py"),
    (305, "Refactor mamba radix cache strategy selection", "refactor", "mem_cache/mamba_radix_cache.py"),
]


def templated(pr: int, title: str, category: str, path: str) -> dict:
    """The bulk-generated style: every field filled from title, model, category and paths."""
    stem = path.rsplit("/", 1)[-1]
    return make_card(
        pr, title=title,
        motivation=(f"Title: {title}; model line: Qwen3 Next; category: {category}; main diff: "
                    f"`python/sglang/srt/{path}`; technical summary: Covers {title.lower()} for the Qwen3 Next "
                    f"model line in the {category} category, touching `{stem}`."),
        implementation=(f"`{stem}` modified +{pr % 7}/-{pr % 5 + 1} ({pr % 9 + 3} lines); hunks: -{pr},7 +{pr},6 "
                        f"@@ def __init__(; symbols: __init__; files: `python/sglang/srt/{path}` and "
                        f"`test/registered/test_{pr}.py` modified, covering {title.lower()}."),
        key_fragment={"file": FILE, "match": "def __init__(self",
                      "explain": f"This hunk is the core of {title.lower()} in {stem}: the lines changed here "
                                 "implement the PR for the Qwen3 Next model line."},
    )


def stats_only(pr: int, n: int) -> dict:
    """Diff statistics as the implementation (a real motivation, so only the implementation is shallow)."""
    card = make_card(pr, title=f"[Qwen3-Next] Adjust weight loading path {n}")
    card["implementation"] = (f"`qwen3_next.py` modified +{n}/-{n + 1} ({2 * n + 1} lines); hunks: -864,7 +864,6 "
                              f"@@ def __init__(; `linear.py` modified +{n + 3}/-0 ({n + 3} lines); hunks: "
                              f"-{n}0,3 +{n}0,9 @@ def weight_loader(; symbols: __init__, weight_loader; "
                              f"3 files changed, +{2 * n}/-{n}; tests: none.")
    return card


ENGLISH_FILLER = (
    "This change was made after careful consideration of the many different aspects that are involved in "
    "running large language models efficiently on modern hardware, and it reflects the general direction in "
    "which the project has been moving over the course of the last several months of development work. "
    "Many people contributed ideas during the review, and the discussion covered a wide range of topics "
    "including code quality, maintainability, readability and the long term health of the code base as a "
    "whole. In the end the authors decided that the approach described here offers a reasonable balance "
    "between simplicity and flexibility, even though other approaches were also considered along the way. "
    "The file python/sglang/srt/models/qwen3_next.py is where most of the work happened, and about 3 "
    "reviewers looked at it before it was accepted into the main branch of the repository by the team. "
    "Users who follow the usual instructions should not notice anything unusual, and the documentation "
    "remains valid as written; future work may revisit some of these decisions when new hardware or new "
    "model variants make different trade-offs more attractive than they are at the present moment in time. "
    "Overall this is a step forward for the project and for everyone who relies on it every day."
)
SMALLEST = ("We changed 2 things here because they were not quite right before, and after this change "
            "everything is fine again for all users.")
GENERIC_IMPL = ("Changes were made in python/sglang/srt/models/qwen3_next.py to improve things, so the model "
                "now works better than it did before.")
GERMAN = ("Die Änderung betrifft die Projektion im Modell und sorgt dafür, dass die Gewichte beim Laden "
          "richtig aufgeteilt werden; außerdem wird die Ausgabe im Vorwärtsdurchlauf neu angeordnet, damit "
          "nachfolgende Schichten die erwartete Form sehen und keine zusätzlichen Kopien entstehen müssen.")


def _set(card: dict, path: str, value) -> dict:
    *parents, leaf = path.split(".")
    node = card
    for p in parents:
        node = node[p]
    node[leaf] = value
    return card


#: a fifth good story (none of the project's good cards tells it): the untouched fields of a shallow card
BASE = {
    "motivation": ("Prefill of 32k-token prompts ran out of memory on H100 at TP 2: chunk_gated_delta_rule "
                   "allocated its intermediate h states for the whole sequence at once, about 6 GiB per layer "
                   "in fp32, although only one chunk's worth is alive at any time."),
    "implementation": ("chunk_gated_delta_rule_fwd_h now writes each chunk's state into h_ring, two buffers "
                       "sized by BT instead of a [NT, H, K, V] tensor, and chunk_fwd_o reads the state of chunk i "
                       "from slot i % 2 before the next chunk overwrites it."),
    "explain": ("MergedColumnParallelLinear is untouched; the line stands for the layer whose prefill the ring "
                "buffer serves, and the chunked kernels it feeds are the ones that changed."),
}


#: a PR's own numbers with their setup, long enough that another card holding them is a copy
CLAIMS = ["Mean TTFT 23169.69 -> 22555.29 ms and output throughput 2498.06 -> 2566.39 tok/s (author, PR description): "
          "Qwen3-Next-80B-A3B-Thinking on 4 H100s, --tp 4, bench_serving random 8000 in / 1500 out, 200 prompts, one run."]


def one(pr: int, path: str, value, **kw) -> dict:
    card = make_card(pr, title=f"[Qwen3-Next] Change number {pr} to the GDN layer", **kw)
    card["motivation"], card["implementation"] = BASE["motivation"], BASE["implementation"]
    card["key_fragment"]["explain"] = BASE["explain"]
    return _set(card, path, value)


good = {pr: make_card(pr) for pr in GOOD}

#: (style, expected code, cards to add to the good project, the card the code must land on)
CORPUS: list[tuple[str, str, list[dict], int]] = []
TEMPLATE_CARDS = [templated(*t) for t in TEMPLATE_TITLES]
CORPUS += [("template", "D220", TEMPLATE_CARDS, c["pr"]) for c in TEMPLATE_CARDS]
CORPUS += [("template", "D211", [TEMPLATE_CARDS[0]], TEMPLATE_CARDS[0]["pr"])]  # alone: a form, not prose
STATS_CARDS = [stats_only(310 + n, n) for n in range(1, 5)]
CORPUS += [("diff statistics", "D212", STATS_CARDS, c["pr"]) for c in STATS_CARDS]
CORPUS += [("diff statistics", "D220", STATS_CARDS, STATS_CARDS[0]["pr"])]
CORPUS += [
    ("filler", "D212", [one(320, "implementation", ENGLISH_FILLER)], 320),
    ("filler", "D209", [one(321, "motivation", ENGLISH_FILLER)], 321),
    ("filler", "D209", [one(322, "motivation", SMALLEST)], 322),
    ("filler", "D216", [one(329, "motivation", ENGLISH_FILLER.replace("Many people", "A bug report came in, and "
                                                                     "many people"))], 329),
    ("filler", "D216", [one(329, "implementation", ENGLISH_FILLER)], 329),
    ("filler", "D212", [one(323, "implementation", (SMALLEST + " ") * 3)], 323),
    ("filler", "D211", [one(323, "implementation", (SMALLEST + " ") * 3)], 323),
    ("filler", "D204", [one(324, "implementation", GENERIC_IMPL)], 324),
    ("filler", "D212", [one(324, "implementation", GENERIC_IMPL)], 324),
    ("filler", "D211", [one(325, "implementation", GERMAN)], 325),
    ("filler", "D211", [one(326, "implementation", make_card(100)["implementation"] + " very " * 6)], 326),
    ("filler", "D210", [one(327, "motivation", "the decode was slow and the decode was slow because the decode "
                                                "was slow; the decode was slow and slow and the decode was slow "
                                                "so the decode was slow at 10 us")], 327),
    ("generic phrases", "D204", [one(328, "implementation", make_card(101)["implementation"][:120]
                                     + " This PR makes it work better; minor changes and various fixes were made; "
                                       "it improves things and generally faster.")], 328),
    ("generic phrases", "D215", [one(337, "implementation", BASE["implementation"] + " The relevant functions "
                                     "were updated accordingly, so the ring now works as expected.")], 337),
    ("generic phrases", "D215", [one(338, "key_fragment.explain", BASE["explain"] + " It is the heart of the "
                                     "change and handles every edge case correctly.")], 338),
    ("cross-copy", "D221", [one(330, "motivation", good[101]["motivation"])], 330),
    ("cross-copy", "D221", [one(331, "implementation", good[102]["implementation"])], 331),
    ("cross-copy", "D221", [one(332, "key_fragment.explain", good[103]["implementation"])], 332),
    # a whole field of another card, padded with as much prose of its own: Jaccard alone stays under 0.5
    ("padded copy", "D221", [one(339, "implementation", BASE["implementation"] + " " + BASE["motivation"] + " "
                                 + good[101]["implementation"])], 339),
    # another PR's numbers and setup, as this PR's evidence
    ("claims copy", "D221", [_set(make_card(346), "validation.claims", CLAIMS), one(347, "validation.claims", CLAIMS)],
     347),
    ("self-copy", "D222", [one(333, "implementation", BASE["motivation"])], 333),
    ("self-copy", "D222", [one(334, "key_fragment.explain", BASE["implementation"])], 334),
    ("generic explain", "D205", [one(335, "key_fragment.explain",
                                     "This is the key change that this PR makes to the code.")], 335),
    ("generic explain", "D214", [one(336, "key_fragment.explain",
                                     "These lines carry the heart of the change: after them the layer behaves "
                                     "as intended, and the rest of the diff only supports what happens here.")],
     336),
    ("bad date", "D403", [one(340, "merged_at", dt.date(2027, 5, 1))], 340),
    ("bad date", "D403", [one(341, "merged_at", dt.date(2019, 1, 1))], 341),
    ("bad date", "D401", [one(342, "state", "open", status="candidate")], 342),
    ("bad date", "D401", [one(343, "state", "closed", status="adjacent")], 343),
    ("revert before reverted", "D404", [one(344, "status", "reverted", superseded_by=[345]),
                                        one(345, "merged_at", dt.date(2026, 1, 2))], 344),
    ("supersede before superseded", "D404", [one(346, "status", "superseded", superseded_by=[347],
                                                 merged_at=dt.date(2026, 5, 1)),
                                             one(347, "merged_at", dt.date(2026, 4, 30))], 346),
    ("cycle", "D503", [one(350, "status", "superseded", superseded_by=[351, 352]),
                       one(351, "merged_at", dt.date(2026, 3, 20)),
                       one(352, "status", "superseded", superseded_by=[350])], 350),
    ("cycle", "D503", [one(353, "status", "superseded", superseded_by=[354]),
                       one(354, "status", "superseded", superseded_by=[355, 353]),
                       one(355, "merged_at", dt.date(2026, 3, 20))], 353),
    ("no validation", "D208", [one(360, "validation.claims", [])], 360),
    ("no validation", "D208", [one(361, "validation.lanes", [])], 361),
    ("no validation", "D208", [one(362, "validation.claims", ["PR gave none."])], 362),
    ("no problem", "D209", [one(363, "motivation", "This PR restructures the projection of the GDN layer so that "
                                                   "in_proj_qkvz and in_proj_ba are created by a helper, with the "
                                                   "same weights and the same outputs as before, for readability.")],
     363),
]
STALE = [
    ("stale flag", "D601", "Serve with --enable-piecewise-cuda-graph and compare logits."),
    ("stale flag", "D601", "Raise `--cuda-graph-max-bs 256` for large decode batches."),
    ("stale flag", "D602", "Start with `--mamba-radix-cache-strategy ping_pong` and GSM8K."),
    ("stale env var", "D603", "Export SGLANG_ENABLE_SPEC_V2=1 for MTP runs."),
    ("stale path", "D604", "Profile python/sglang/srt/layers/attention/fla/fused_recurrent.py first."),
    ("stale module", "D605", "python -m sglang.bench_offline_latency --batch-size 1"),
]
CORPUS += [(style, code, [_set(one(370 + i, "validation.lanes", [text]), "pr", 370 + i)], 370 + i)
           for i, (style, code, text) in enumerate(STALE)]


def _lint(root: Path, cards: list[dict]):
    write_project(root, list(good.values()) + cards)
    return run_lint(LintContext(Project.load(root)))


def test_corpus_is_large_and_varied():
    assert len(CORPUS) >= 40
    assert len({style for style, *_ in CORPUS}) >= 12


def test_good_cards_alone_are_clean(tmp_path):
    diags = _lint(tmp_path, [])
    assert [d.text() for d in diags if d.severity == "error"] == []


@pytest.mark.parametrize("style,code,cards,target", CORPUS,
                         ids=[f"{i}-{s.replace(' ', '_')}-{c}" for i, (s, c, _, _) in enumerate(CORPUS)])
def test_shallow_card_is_rejected_by_its_rule(tmp_path, style, code, cards, target):
    diags = _lint(tmp_path, cards)
    on_target = {d.code for d in diags if d.file == f"cards/{target}.yaml" and d.severity == "error"}
    assert code in on_target, [d.text() for d in diags if d.severity == "error"]
    # the good cards stay clean next to it (a cross-copy is reported on the copy, not on its source)
    spill = [d.text() for d in diags if d.severity == "error" and d.file in {f"cards/{p}.yaml" for p in GOOD}]
    assert spill == []


def test_a_named_card_copying_a_later_card_is_the_copy(tmp_path):
    """Lint of one named card (a draft) sees the copy whichever card holds the same words first."""
    copy = one(99, "motivation", good[101]["motivation"])
    write_project(tmp_path, list(good.values()) + [copy])
    named = Project.load(tmp_path, [tmp_path / "cards" / "99.yaml"])
    assert "D221" in {d.code for d in run_lint(LintContext(named)) if d.severity == "error"}


def test_ungrounded_implementation_with_a_cached_diff(tmp_path):
    """With the PR's diff cached, implementation must name what the hunks contain (D213)."""
    card = make_card(100)
    card["implementation"] = ("The FusedMoE router now calls select_experts_v2 through a TopKConfig and "
                              "MoeRunnerBackend picks grouped_gemm_ws, so the expert dispatch overlaps the "
                              "attention all-reduce on every decode step of the model.")
    root = write_project(tmp_path / "p", [card])
    put(tmp_path / "cache")
    diags = run_lint(LintContext(Project.load(root), cache_dir=tmp_path / "cache"), select=["D213"])
    grounded = make_card(100)
    grounded["implementation"] = ("MergedColumnParallelLinear's weight_loader gains a branch for a tuple "
                                  "loaded_shard_id that splits loaded_weight by shard_sizes and loads each piece "
                                  "into its own slot; fused_gdn_gating replaces fused_gating in the renamed file.")
    root2 = write_project(tmp_path / "q", [grounded])
    clean = run_lint(LintContext(Project.load(root2), cache_dir=tmp_path / "cache"), select=["D213"])
    assert [d.code for d in diags] == ["D213"] and clean == []
