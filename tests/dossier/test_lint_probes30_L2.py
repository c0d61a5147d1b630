"""Rules from session 48's look at four kinds of session 47's planted edits that every rule missed, each read against
recorded evidence, not guessed from the words around it.

D244 (new): two cited PRs with each other's descriptions ("Later: #23273 SM100+ default, #21861 MTP verify"), judged
by the words each description shares with each PR's record (titles, matched line, files, touched names).
D245 (new): a backend word given to code of another backend: a function today's SGLang defines only in files of
other backends ("CuTe DSL kernel fused_gdn_gating", a Triton kernel), a PR titled with another backend ("the FlashInfer
GDN decode of #15631", titled "Add CuTe DSL GDN Decode Kernel"), a path of another backend.
D246 (new): a GPU generation given to the PR's default or measurement that its title, claims and checked GPUs do not
name ("made FlashInfer the default decode on Hopper" for a PR titled "... on SM100+").
D247 (new): a launch-config number given to a function of today's SGLang whose code sets that config but never writes
the number ("softplus with a threshold of 10" where fused_gdn_gating defaults it to 20.0).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dossier.lint import RULES, LintContext, run_lint
from dossier.project import Project
from tests.dossier.test_lint_probes15 import REAL, _append
from tests.dossier.test_lint_probes16 import _real_project
from tests.dossier.test_lint_probes17 import _replace

CODES = ("D244", "D245", "D246", "D247")


# (id, card, other real cards in the project, edit of the card, the code expected)
PROBES = [
    ("descriptions-swapped-list", 19150, (21861, 23273), _replace(
        "implementation", "Later: #21861 SM100+ default, #23273 MTP", "Later: #23273 SM100+ default, #21861 MTP"),
     "D244"),
    ("descriptions-swapped-parens", 17981, (18361, 26200), _replace(
        "implementation", "#18361 (FlashInfer K-last kernels), #26200 (SM100",
        "#26200 (FlashInfer K-last kernels), #18361 (SM100"), "D244"),
    ("descriptions-swapped-and", 28695, (32692, 35544), _replace(
        "implementation", "#32692 (fold-every-commit with extra_buffer tracking) and #35544 (checkpoint",
        "#35544 (fold-every-commit with extra_buffer tracking) and #32692 (checkpoint"), "D244"),
    ("backend-of-a-triton-function", 12508, (), _replace("motivation", "with a Triton kernel fused_gdn_gating",
                                                         "with a CuTe DSL kernel fused_gdn_gating"), "D245"),
    ("backend-of-a-function-no-file-gives", 32919, (), _replace(
        "implementation", "the direct Triton causal_conv1d_update", "the direct FlashInfer causal_conv1d_update"),
     "D245"),
    ("backend-of-a-pr", 18622, (15631,), _replace("motivation", "the CuTe DSL GDN decode of #15631",
                                                  "the FlashInfer GDN decode of #15631"), "D245"),
    ("backend-of-a-path", 27630, (), _replace("implementation", "A one-launch Triton kernel",
                                              "A one-launch FlashInfer kernel"), "D245"),
    ("generation-of-the-default", 21861, (), _replace("motivation", "the default decode on SM100+.",
                                                      "the default decode on Hopper."), "D246"),
    ("generation-of-deployments", 29734, (), _replace("motivation", "so default Blackwell deployments",
                                                      "so default Hopper deployments"), "D246"),
    ("generation-of-the-sweep", 39987, (), _replace("motivation", "swept gfx950 launch", "swept gfx942 launch"),
     "D246"),
    ("threshold-not-in-code", 12508, (), _replace("implementation", "threshold of 20 for", "threshold of 10 for"),
     "D247"),
    ("warps-not-in-code", 28666, (), _replace("implementation", "and launches 8 warps", "and launches 4 warps"),
     "D247"),
    # a name or a number ending the sentence (the full stop is no part of it)
    ("backend-at-a-sentence-end", 12508, (), _append("motivation", "The gate runs in the CuTe DSL kernel fused_gdn_gating."),
     "D245"),
    ("config-at-a-sentence-end", 12508, (), _append("implementation", "fused_gdn_gating uses a threshold of 10."),
     "D247"),
]

# the same shapes true of the records, hedged or dated (each must add no finding of its code)
NEAR = [
    ("descriptions-kept", 19150, (21861, 23273), _append(
        "implementation", "In short, #21861 made FlashInfer the SM100+ default and #23273 enabled its MTP verify."),
     "D244"),
    ("one-description-of-two", 17981, (18361, 26200), _append(
        "implementation", "Both #18361 and #26200 are FlashInfer or CuTe DSL GDN kernel work."), "D244"),
    ("backend-kept", 32919, (), _append("implementation", "The Triton causal_conv1d_update stays the reference."),
     "D245"),
    ("backend-of-the-pr-kept", 18622, (15631,), _append("implementation", "The CuTe DSL decode of #15631 is now one "
                                                                          "choice of --linear-attn-decode-backend."),
     "D245"),
    ("backend-imported-from-its-package", 19150, (), _append(
        "implementation", "The FlashInfer kernel chunk_gated_delta_rule does the prefill."), "D245"),
    ("generation-of-the-record", 21861, (), _append("motivation", "On SM100+ it is the default decode.")
     , "D246"),
    # a wrapper with no kernel of its own takes the backend of the kernels it imports (fla/chunk.py drives Triton
    # kernels; FlashInfer exports a function of the same name); a backend word before another one; another clause
    ("backend-of-a-wrapper-of-triton-kernels", 12508, (), _append(
        "implementation", "The Triton chunk_gated_delta_rule runs the prefill through the Triton kernel "
                          "chunk_gated_delta_rule_fwd."), "D245"),
    ("backend-before-another-backend-word", 21861, (), _append(
        "motivation", "SM100 decode moved from Triton to FlashInfer in #21861."), "D245"),
    ("backend-in-another-clause", 12508, (), _append(
        "implementation", "Triton stays the fallback, and the new kernel (jit_kernel/cutedsl/gdn_decode.py) handles "
                          "decode."), "D245"),
    ("generation-in-contrast", 21861, (), _append(
        "motivation", "It made FlashInfer the default decode on SM100+, while the default for Hopper is unchanged. "
                      "The default on Hopper stays Triton; only SM100+ changes. Hopper keeps Triton by default."),
     "D246"),
    ("generation-not-measured", 21861, (), _append(
        "motivation", "The author benchmarked on GB200 only; it was not validated on Hopper. Nobody measured Hopper. "
                      "The author measured on GB200, while Hopper keeps the old decode."), "D246"),
    ("generation-of-a-later-release", 29734, (), _append("motivation", "From 0.5.19 the default on SM90 is FlashInfer "
                                                                       "too."), "D246"),
    ("threshold-kept", 12508, (), _append("implementation", "fused_gdn_gating keeps a threshold of 20 today.")
     , "D247"),
    ("warps-of-an-older-release", 28666, (), _append(
        "implementation", "In 0.5.16 fused_append_shared_experts_with_weights launched 4 warps.")
     , "D247"),
    ("warps-in-an-aside", 28666, (), _append(
        "implementation", "fused_append_shared_experts_with_weights launches 8 warps (was 4 before 0.5.16).")
     , "D247"),
    # a config the autotuner's decorator lists, one read from the environment into a module constant, one a kernel
    # takes as a tl.constexpr parameter from its caller
    ("config-of-the-autotune-decorator", 12508, (), _append(
        "implementation", "chunk_gated_delta_rule_fwd_kkt_solve_kernel is autotuned over BK 32 and 64."), "D247"),
    ("config-of-a-module-constant", 12508, (), _append(
        "implementation", "chunk_gated_delta_rule_fwd_kernel_h_blockdim64 runs with BV 32 by default "
                          "(SGLANG_GDN_CHUNK_H_BV)."), "D247"),
    ("config-a-kernel-is-passed", 12508, (), _append(
        "implementation", "fused_recurrent_gated_delta_rule_fwd_kernel tiles V by BV 32 per program."), "D247"),
]


def _found(root: Path, pr: int, code: str) -> list[str]:
    ctx = LintContext(Project.load(root))
    return [d.message for d in run_lint(ctx, select=[code]) if d.file == f"cards/{pr}.yaml"]


@pytest.mark.parametrize("name,pr,others,edit,code", PROBES, ids=[p[0] for p in PROBES])
def test_a_planted_wrong_statement_is_found(tmp_path, no_release_cache, name, pr, others, edit, code):
    assert _found(_real_project(tmp_path, pr, others), pr, code) == []
    assert _found(_real_project(tmp_path / "bad", pr, others, edit), pr, code)


@pytest.mark.parametrize("name,pr,others,edit,code", NEAR, ids=[p[0] for p in NEAR])
def test_a_true_or_hedged_statement_passes(tmp_path, no_release_cache, name, pr, others, edit, code):
    assert code in RULES
    assert _found(_real_project(tmp_path, pr, others, edit), pr, code) == []


def test_the_real_cards_and_playbook_have_none(no_release_cache):
    found = [d.text() for d in run_lint(LintContext(Project.load(REAL)), select=list(CODES))]
    assert found == []


def test_a_bracketed_description_holding_another_citation_is_kept():
    """D244 reads "#A (what A did, as in #B)": the description runs to the next citation when its bracket closes
    after it (it was dropped: no ")" before #B)."""
    from dossier.lint.pr_descriptions import _described

    sentence = "#21861 (FlashInfer decode default on SM100+, which came after #23273) and #23273 (MTP verify)."
    described = {pr: said for pr, _, said in _described(sentence, {21861: frozenset(), 23273: frozenset()})}
    assert {"flash", "decod", "defau"} <= set(described[21861]), described


def test_a_pr_cited_as_a_source_is_not_described():
    """"#35632's description credits it with the SM90 default, and ... #34307's three parts (SM90 default, ...)"
    (#34859's card) said what #35632's description says of another PR, not what #35632 did: D244 read it as #35632
    described with #34307's change. A PR's own parts ("#34307's three parts (...)") still describe it."""
    from dossier.lint.pr_descriptions import _described

    sentence = ("#35632's description credits it with the SM90 default, and the release diff shows #34307's three "
                "parts (SM90 default, ratio-3 split) arriving together.")
    described = {pr: said for pr, _, said in _described(sentence, {35632: frozenset(), 34307: frozenset()})}
    assert set(described) == {34307} and {"sm90", "defau"} <= set(described[34307]), described


def test_a_kernels_decorators_and_module_constants_are_read_with_it():
    """D247 reads a definition with its decorators (``@triton.autotune`` stands above the def line) and the module
    constants it names (a config read from the environment at import), so both count as config set elsewhere."""
    from types import SimpleNamespace

    from dossier.lint.kernel_configs import _ELSEWHERE, _bodies

    text = ('import os\nimport triton\n\nWARPS = int(os.getenv("X_WARPS", "4"))\n\n\n'
            '@triton.autotune(configs=[triton.Config({"BV": 16})], key=["V"])\n@triton.jit\n'
            'def tuned_kernel(x, BV):\n    pass\n\n\ndef launch_x(x):\n    return tuned_kernel[(1,)](x, num_warps=WARPS)\n')
    tree = SimpleNamespace(package="test-decorators-and-constants", version="0.0.0", kind="test",
                           texts={"python/sglang/x.py": text})
    (tuned,) = _bodies(tree, "tuned_kernel")
    (launch,) = _bodies(tree, "launch_x")
    assert "autotune" in tuned and "16" in tuned
    assert _ELSEWHERE.search(launch) and "WARPS = " in launch
