"""Rules for kinds session 48's round 8 of planted wrong edits still missed (table rows M1-M5, S1, S3), each planted
again into other cards and lanes items so the rule is not fitted to one example.

D640 (new): a model architecture class called multimodal that today's SGLang's multimodal_model_archs does not list,
or text-only when it does (M2, M5).
D641 (new): a Qwen family given code that only another family's model files hold today (M1, M3).
D642 (new): a dense checkpoint of a family every known model of which is a MoE (M4).
D248 (new): a card's prose saying its own PR merged against the card's state, or closed unmerged (S3).
D615 (widened): "0.5.23 still has X: ..." is judged up to the colon, so a "was" after it no longer hides X (S1).
D628 (widened): a card's bare "name (file.py)" pair outside a clause about today, "Class.method" included, is judged
where a release cache is synced: the file must have held the name in some release (F7, F8).
"""

from __future__ import annotations

import pytest

from dossier.lint import RULES, LintContext, run_lint
from dossier.project import Project
from tests.dossier.test_bad_input23 import _real_with
from tests.dossier.test_lint_probes15 import REAL
from tests.dossier.test_lint_probes31 import _found

CODES = ("D640", "D641", "D642", "D248")
LANES = "cards/lanes.yaml"
RAISE = "Raise it with `--max-mamba-cache-size`, `--mamba-full-memory-ratio`, or a bfloat16 state."
MERGED = "Qwen3-Next-80B-A3B stacks Gated DeltaNet"  # cards/10233.yaml, a merged PR
CLOSED = "AnnaYue (opened 2025-09-19) wanted EAGLE3"  # cards/10657.yaml, a closed one


# (id, file, old text, the wrong edit, the code expected, words each of its messages must hold)
PROBES = [
    ("M2-multimodal-text-classes", LANES,
     "load as Qwen3_5ForConditionalGeneration or Qwen3_5MoeForConditionalGeneration (multimodal",
     "load as Qwen3_5ForCausalLM or Qwen3_5MoeForCausalLM (multimodal", "D640", "does not list it"),
    ("M5-text-only-multimodal-classes", "cards/35297.yaml",
     "(architecture Qwen3_5MoeForCausalLM or Qwen3_5ForCausalLM, the",
     "(architecture Qwen3_5MoeForConditionalGeneration or Qwen3_5ForConditionalGeneration, the", "D640", "lists it"),
    ("text-only-list-in-brackets", LANES,
     "the text-only Qwen3.5 classes (Qwen3_5ForCausalLM, Qwen3_5MoeForCausalLM)",
     "the text-only Qwen3.5 classes (Qwen3_5ForConditionalGeneration, Qwen3_5MoeForCausalLM)", "D640",
     "calls Qwen3_5ForConditionalGeneration text-only"),
    ("predicate-text-only", "cards/22073.yaml", "Qwen3ASRForConditionalGeneration is a new multimodal wrapper",
     "Qwen3ASRForConditionalGeneration is a new text-only wrapper", "D640", "lists it"),
    ("text-only-checkpoint-multimodal-class", "cards/34771.yaml", "text-only Qwen3.5 checkpoint (Qwen3_5ForCausalLM or",
     "text-only Qwen3.5 checkpoint (Qwen3_5ForConditionalGeneration or", "D640", "lists it"),
    ("M3-family-given-the-other-s-variable", LANES, "Qwen3.5 on CUDA fuses the projection unpack",
     "Qwen3-Next on CUDA fuses the projection unpack", "D641", "models/qwen3_5.py"),
    ("M1-family-only-for-the-other-s-backend", LANES, "(Qwen3.5 only, from 0.5.19)", "(Qwen3-Next only, from 0.5.19)",
     "D641", "gives Qwen3-Next only intel_xpu"),
    ("family-decode-variable", LANES, "Qwen3.5 decode on CUDA fuses the projection unpack",
     "Qwen3-Next decode on CUDA fuses the projection unpack", "D641", "none of Qwen3-Next's"),
    ("family-rocm-function", LANES, "Qwen3.5 on ROCm with AITER packs both into one GEMM",
     "Qwen3-Next on ROCm with AITER packs both into one GEMM", "D641", "finalize_fused_in_proj"),
    ("M4-dense-moe-only-family", "cards/19070.yaml", "Dense Qwen3.5 checkpoints gave wrong output",
     "Dense Qwen3-Next checkpoints gave wrong output", "D642", "every Qwen3-Next model known is a MoE"),
    ("family-then-dense", "cards/19070.yaml", "Dense Qwen3.5 checkpoints gave wrong output",
     "A Qwen3-Next dense checkpoint gave wrong output", "D642", "none dense"),
    ("S3-closed-pr-shown-merged", "cards/15591.yaml", "The PR page shows it closed without merging;",
     "The PR page shows it merged;", "D248", "state is closed"),
    ("closed-pr-merged-on-a-day", "cards/22060.yaml", "Closed without merging. #30997",
     "The PR merged on 2026-04-09. #30997", "D248", "state is closed"),
    ("merged-pr-never-merged", "cards/10595.yaml", "Status current means only that the import stands.",
     "This PR was never merged.", "D248", "state is merged"),
]

# true of the records, or out of the rule's reach: hedged, negated, contrastive, historical (none adds a finding)
NEAR = [
    ("C8-class-order", LANES, "as Qwen3_5ForConditionalGeneration or Qwen3_5MoeForConditionalGeneration (multimodal",
     "as Qwen3_5MoeForConditionalGeneration or Qwen3_5ForConditionalGeneration (multimodal", "D640"),
    ("class-not-multimodal", "cards/35297.yaml", "(architecture Qwen3_5MoeForCausalLM or Qwen3_5ForCausalLM, the",
     "(architecture Qwen3_5MoeForCausalLM or Qwen3_5ForCausalLM, which is not multimodal, the", "D640"),
    ("multimodal-inputs-to-a-text-class", "cards/35297.yaml",
     "(architecture Qwen3_5MoeForCausalLM or Qwen3_5ForCausalLM, the",
     "(no multimodal inputs to Qwen3_5MoeForCausalLM or Qwen3_5ForCausalLM, the", "D640"),
    ("text-only-wrapper-of-a-multimodal-class", "cards/34771.yaml",
     "text-only Qwen3.5 checkpoint (Qwen3_5ForCausalLM or",
     "text-only wrapper of Qwen3_5ForConditionalGeneration (Qwen3_5ForCausalLM or", "D640"),
    ("contrast-after-a-comma", LANES, "the text-only Qwen3.5 classes (Qwen3_5ForCausalLM, Qwen3_5MoeForCausalLM)",
     "the text-only Qwen3.5 classes, unlike Qwen3_5ForConditionalGeneration (Qwen3_5ForCausalLM, "
     "Qwen3_5MoeForCausalLM)", "D640"),
    ("family-never-reads", LANES, "Qwen3.5 on CUDA fuses the projection unpack with the conv update in decode",
     "Qwen3-Next never fuses the projection unpack with the conv update in decode", "D641"),
    ("family-hedged-right", LANES, "Qwen3.5 on CUDA fuses the projection unpack",
     "Qwen3.5 on CUDA probably fuses the projection unpack", "D641"),
    ("both-families-named", LANES, "Qwen3.5 on CUDA fuses the projection unpack",
     "Qwen3.5, not Qwen3-Next, on CUDA fuses the projection unpack", "D641"),
    ("family-stays-in-a-later-clause", LANES, "(Qwen3.5 only, from 0.5.19)", "(Qwen3.5 only, from 0.5.19; Qwen3-Next "
     "stays on Triton)", "D641"),
    ("family-dated-to-an-older-release", LANES, "(Qwen3.5 only, from 0.5.19)", "(Qwen3-Next only in 0.5.18)", "D641"),
    ("dense-denied", "cards/19070.yaml", "Dense Qwen3.5 checkpoints gave wrong output",
     "Dense Qwen3.5 checkpoints (there is no dense Qwen3-Next) gave wrong output", "D642"),
    ("dense-sized-name", "cards/19070.yaml", "Dense Qwen3.5 checkpoints gave wrong output",
     "Dense Qwen3.5-27B checkpoints gave wrong output", "D642"),
    ("merged-conditional", "cards/15591.yaml", "The PR page shows it closed without merging;",
     "The PR page shows it closed without merging, so nothing ships until this PR is merged;", "D248"),
    ("merged-verb-with-an-object", "cards/15591.yaml", "The PR page shows it closed without merging;",
     "The PR page shows it closed without merging; the PR merged both paths into one;", "D248"),
    ("another-pr-merged", "cards/15591.yaml", "The PR page shows it closed without merging;",
     "The PR page shows it closed without merging; #12345 says the PR merged.", "D248"),
    # review R of session 49: the modality of a possessor, not of the class (finding 3)
    ("multimodal-checkpoint-s-text-model", LANES, RAISE,
     "Qwen3_5ForCausalLM is the multimodal checkpoint's text model.", "D640"),
    ("multimodal-model-s-language-part", LANES, RAISE,
     "Qwen3_5ForCausalLM (the multimodal model's language part) loads alone.", "D640"),
    # a verb between the modality and the class: the class is the verb's object (finding 4)
    ("text-only-serving-builds-a-class", LANES, RAISE,
     "text-only serving still builds Qwen3_5ForConditionalGeneration with its vision tower.", "D640"),
    ("text-only-launch-loads-a-class", LANES, RAISE,
     "A text-only launch loads Qwen3_5ForConditionalGeneration and skips the vision tower.", "D640"),
    # the dense parts of a MoE family's model, not a dense checkpoint (finding 5)
    ("family-dense-projections", LANES, RAISE,
     "Qwen3-Next dense projections (in_proj_qkvz, out_proj) take FP8 per-channel scales.", "D642"),
    ("dense-family-layers", LANES, RAISE,
     "The dense Qwen3-Next layers (attention, GDN projections) run as plain GEMMs.", "D642"),
    # how, where or when the PR landed, not whether (finding 8)
    ("merged-pr-not-merged-as-opened", "cards/10233.yaml", MERGED,
     "The PR was not merged as first opened: review dropped its Triton path. " + MERGED, "D248"),
    ("merged-pr-never-merged-to-a-release-branch", "cards/10233.yaml", MERGED,
     "The PR was never merged to the v0.5.2 release branch (it first shipped in 0.5.3). " + MERGED, "D248"),
    ("closed-pr-merged-in-another-repository", "cards/10657.yaml", CLOSED,
     "The PR merged upstream in the fla repository instead. " + CLOSED, "D248"),
    ("closed-pr-merged-into-a-fork", "cards/10657.yaml", CLOSED,
     "GitHub shows it merged into the author's fork only. " + CLOSED, "D248"),
]


@pytest.mark.parametrize("name,file,old,new,code,said", PROBES, ids=[p[0] for p in PROBES])
def test_a_planted_wrong_statement_is_found(tmp_path, no_release_cache, name, file, old, new, code, said):
    found = _found(_real_with(tmp_path, file, old, new), code)
    assert found and all(said in f for f in found), found


@pytest.mark.parametrize("name,file,old,new,code", NEAR, ids=[p[0] for p in NEAR])
def test_a_true_or_out_of_reach_statement_passes(tmp_path, no_release_cache, name, file, old, new, code):
    assert code in RULES
    assert _found(_real_with(tmp_path, file, old, new), code) == []


# a card's pair in its PR's time, against a release cache of one synthetic release: (id, card, old, new, the
# release's files (paths inside the sglang package) besides those of the real cards' two such pairs)
REAL_PAIRS = {"srt/speculative/eagle_info.py": "def prepare_for_verify(batch):\n    return batch\n",
              "srt/layers/elementwise.py": "def fused_gate_sigmoid_mul_add(x):\n    return x\n"}
F_CLASS = "class Qwen3NextGatedDeltaNet:\n    def forward(self):\n        pass\n"
RELEASE_PAIRS = [
    ("F7-method-in-the-other-family-s-file", "cards/32919.yaml",
     "Qwen3_5GatedDeltaNet.forward (python/sglang/srt/models/qwen3_5.py)",
     "Qwen3_5GatedDeltaNet.forward (python/sglang/srt/models/qwen3_next.py)", {"srt/models/qwen3_next.py": F_CLASS}),
    ("F8-function-in-a-sibling-file", "cards/36267.yaml", "rms_norm_gated (fla/layernorm_gated.py)",
     "rms_norm_gated (fla/l2norm.py)", {"kernels/ops/attention/fla/l2norm.py": "def l2norm_fwd():\n    pass\n"}),
    ("kernel-method-in-another-backend", "cards/28451.yaml",
     "TritonGDNKernel.packed_decode (srt/layers/attention/linear/kernels/gdn_triton.py)",
     "TritonGDNKernel.packed_decode (srt/layers/attention/linear/kernels/gdn_flashinfer.py)",
     {"srt/layers/attention/linear/kernels/gdn_flashinfer.py": "def forward_decode():\n    pass\n"}),
    ("function-in-a-neighbour-module", "cards/16863.yaml", "inplace_all_reduce (distributed/parallel_state.py)",
     "inplace_all_reduce (distributed/communication_op.py)",
     {"srt/distributed/communication_op.py": "def tensor_model_parallel_all_reduce(x):\n    return x\n"}),
    ("a-real-pair-no-release-bears-out", "cards/27636.yaml", "But the same window brought", "But the same window brought",
     {"srt/layers/elementwise.py": "def fused_gate_sigmoid(x):\n    return x\n"}),
    ("held-only-in-a-comment", "cards/36267.yaml", "rms_norm_gated (fla/layernorm_gated.py)",
     "rms_norm_gated (fla/l2norm.py)", {"kernels/ops/attention/fla/l2norm.py": "# see rms_norm_gated\n"}),
]


def _with_release(tmp_path, monkeypatch, files: dict[str, str] | None, built: str = "2026-10-30"):
    """A synthetic release cache of one release, built on ``built`` (after every card's merge unless told), holding
    ``files`` and the real cards' pairs (None: no cache)."""
    from tests.dossier.release_support import write_release

    if files is not None:
        write_release(tmp_path / "releases", "0.5.19", built, REAL_PAIRS | files)
    monkeypatch.setenv("DOSSIER_RELEASES", str(tmp_path / ("releases" if files is not None else "no-releases")))


@pytest.mark.parametrize("name,file,old,new,files", RELEASE_PAIRS, ids=[p[0] for p in RELEASE_PAIRS])
def test_a_card_pair_no_release_had_there_is_found(tmp_path, monkeypatch, name, file, old, new, files):
    _with_release(tmp_path, monkeypatch, files)
    found = _found(_real_with(tmp_path, file, old, new), "D628")
    assert found and all("nor had it in any synced release" in f for f in found), found


def test_a_pair_of_code_no_release_could_hold_is_not_judged(tmp_path, monkeypatch):
    """Review R of session 49, finding 1: a closed PR's proposed code never shipped, and a PR merged after the newest
    synced release was built is in none, so no release can bear its pair out (both fire without the guard)."""
    proposed = ("cards/10657.yaml", CLOSED, "The PR proposed its own handle_linear_attn_backend "
                "(model_executor/model_runner.py) to keep the draft's backend. " + CLOSED)
    runner = {"srt/model_executor/model_runner.py": "class ModelRunner:\n    pass\n"}
    _with_release(tmp_path / "closed", monkeypatch, runner)
    assert _found(_real_with(tmp_path / "closed", *proposed), "D628") == []
    name, file, old, new, files = RELEASE_PAIRS[0]  # cards/32919.yaml merged 2026-08-30
    _with_release(tmp_path / "later", monkeypatch, files, built="2026-03-01")
    assert _found(_real_with(tmp_path / "later", file, old, new), "D628") == []


def test_a_card_pair_in_its_pr_s_time_stands_on_the_releases(tmp_path, monkeypatch):
    """The same pair is found when no release had the name in that file, passes when one did (the card may tell the
    PR's time), and is not judged without a cache."""
    name, file, old, new, _ = RELEASE_PAIRS[0]
    had = F_CLASS.replace("Qwen3NextGatedDeltaNet", "Qwen3_5GatedDeltaNet")
    for case, files, fires in (("lacks", {"srt/models/qwen3_next.py": F_CLASS}, True),
                               ("had", {"srt/models/qwen3_next.py": had}, False), ("none", None, False)):
        _with_release(tmp_path / case, monkeypatch, files)
        assert bool(_found(_real_with(tmp_path / case, file, old, new), "D628")) == fires, case


def test_d615_reads_a_still_clause_up_to_its_colon(tmp_path, no_release_cache):
    """S1: "SGLang 0.5.23 still has gdn_with_output and no torch.compile prefill backend either: since 0.5.22 ...
    raises 'was removed'": the quoted "was" after the colon hid the claim; "lacks" there says the opposite."""
    old = "SGLang 0.5.23 has no gdn_with_output and no"
    found = _found(_real_with(tmp_path / "still", "cards/13081.yaml", old,
                              "SGLang 0.5.23 still has gdn_with_output and no"), "D615")
    assert len(found) == 1 and "no gdn_with_output" in found[0], found
    assert _found(_real_with(tmp_path / "lacks", "cards/13081.yaml", old,
                             "SGLang 0.5.23 lacks gdn_with_output and has no"), "D615") == []


def test_the_real_cards_and_playbook_have_none(no_release_cache):
    found = [d.text() for d in run_lint(LintContext(Project.load(REAL)), select=list(CODES))]
    assert found == []
