"""Rules from session 48's reading of round seven's missed kinds (tests/dossier/test_lint_probes29.py has the rest).

D414 reads a file's line count in words ("deleted from qwen3_next.py (54 lines)" where GitHub records -45; "(7 lines
added, 1 removed)" for +1/-7): only "(+A/-D)" was compared.
D241 (new): a GPU generation in key_fragment.explain that straddles the matched line's sm_major test ("off SM100" for
``sm_major != 9``).
D242 (new): a run of the PR given another TP size or GPU count than its claims give ("profiled at TP8" for TP4, "on
4x B200" for one B200).
D243 (new): a count of a named thing the claims give otherwise ("NEXTN (4 draft tokens)" for 3, "32 are GDN layers"
where the claims say 36 and the author's 44).
Each bad card is a real card edited by hand; each near miss is a correct paraphrase of the same card.
"""

from __future__ import annotations

import pytest

from dossier.lint import LintContext, run_lint
from dossier.project import Project
from tests.dossier.test_lint_probes15 import _append
from tests.dossier.test_lint_probes15 import _real_project as _cut_project
from tests.dossier.test_lint_probes17 import _explain, _replace

PROBES = [
    ("lines-deleted", 12508, _replace("implementation", "qwen3_next.py (45 lines)", "qwen3_next.py (54 lines)"), "D414"),
    ("lines-sides-swapped", 18917, _replace("implementation", "(1 line added, 7 removed)", "(7 lines added, 1 removed)"),
     "D414"),
    ("lines-changed", 23273, _replace("implementation", "dispatcher update (3 lines)", "dispatcher update (5 lines)"),
     "D414"),
    ("off-another-sm", 19150, _explain("split: off SM90 the", "split: off SM100 the"), "D241"),
    ("sm-plus-across", 19150, _explain("where SM90 keeps", "where SM80+ keeps"), "D241"),
    ("pre-sm-across", 27905, _explain("gathered batch copy.", "gathered batch copy, as pre-SM100 GPUs do."), "D241"),
    ("tp-other", 22664, _replace("motivation", "Qwen/Qwen3-Coder-Next at TP4 on", "Qwen/Qwen3-Coder-Next at TP8 on"),
     "D242"),
    ("gpu-count-other", 26206, _replace("motivation", "prefill on one B200", "prefill on 4x B200"), "D242"),
    ("draft-tokens-other", 33778, _replace("motivation", "NEXTN (3 draft", "NEXTN (4 draft"), "D243"),
    ("gdn-layers-other", 18917, _replace("motivation", "so 36 are", "so 32 are"), "D243"),
]

NEAR = [
    # a count hedged, both sides together, a new file's lines, the sides as GitHub records them
    ("lines-about", 12508, _replace("implementation", "qwen3_next.py (45 lines)", "qwen3_next.py (about 44 lines)"),
     "D414"),
    ("lines-both-sides", 23273, _replace("implementation", "dispatcher update (3 lines)", "dispatcher update (6 lines)"),
     "D414"),
    ("lines-new-file", 12508, _append("implementation", "The kernel's new file, "
                                                        "python/sglang/srt/layers/attention/fla/fused_gdn_gating.py (69 "
                                                        "lines), holds both."), "D414"),
    ("lines-drops", 18917, _append("implementation", "In all, python/sglang/srt/models/qwen3_next.py drops 7 lines."),
     "D414"),
    # generations wholly on one side of the test, in other words
    ("sm-hopper", 19150, _explain("where SM90 keeps", "where Hopper (SM90) keeps"), "D241"),
    ("sm-plus-one-side", 19150, _explain("where SM90 keeps", "(SM100+ and SM120 alike), where SM90 keeps"), "D241"),
    ("sm-and-newer", 27905, _explain("gathered batch copy.", "gathered batch copy; SM90 and newer take the pool."),
     "D241"),
    # the claims' setup in other words; another PR's run
    ("tp-kept", 22664, _append("implementation", "On the author's H100 TP4 run mean TPOT roughly halves."), "D242"),
    ("gpus-kept", 19150, _append("implementation", "On the author's 8x B200 run the GDN kernel's time roughly halves."),
     "D242"),
    ("one-gpu-words", 26206, _replace("motivation", "prefill on one B200", "prefill on a single B200"), "D242"),
    ("another-prs-run", 22664, _append("motivation", "The nightly test #24629 ran at TP8 on H100 saw the side effect."),
     "D242"),
    # a setting, not a count; a count the claims write in other words; a hedged count
    ("draft-tokens-setting", 12508, _append("motivation", "For verify (T=4 draft tokens) that is 3.5 us -> 1.4 us (2.5x)."),
     "D243"),
    ("launches-to-none", 33778, _append("implementation", "Split launches per verify pass drop from 24 to none."),
     "D243"),
    ("layers-hedged", 18917, _replace("motivation", "so 36 are", "so about 40 are"), "D243"),
    # a number the claims write at a sentence's end ("... has 36.")
    ("layers-at-a-claims-end", 18917, lambda card: (
        card["validation"].__setitem__("claims", ["The author's model has 48 GDN layers in the 80B model; the 27B "
                                                  "checkpoint has 36."]),
        card.__setitem__("motivation", card["motivation"] + " In the 27B checkpoint 36 GDN layers run the new kernel.")),
     "D243"),
    # "off" of a verb before a generation that names paths ("turns off SM90a-only paths")
    ("sm-of-paths", 27905, _explain("gathered batch copy.", "gathered batch copy. It also turns off SM90a-only paths."),
     "D241"),
    # the run's clause only; "the author" alone is no run; machines that hold GPUs; a longer PR number
    ("tp-in-another-clause", 10595, _append("implementation", "The author profiled at TP4; at TP 1 the conv is already "
                                                              "one launch."), "D242"),
    ("tp-as-the-author-saw", 10595, _append("implementation", "As the author saw, TP=1 needs no all-reduce."), "D242"),
    ("gpus-in-machines", 21861, _append("implementation", "The author measured on 2 GB200 trays, 4x GB200 in all; a GB200 "
                                                          "NVL72 rack holds 72 GB200 superchips."), "D242"),
    ("a-longer-pr-number", 10595, _append("implementation", "The nightly test #105951 ran at TP8 on H100."), "D242"),
]


def _found(root, pr: int, code: str) -> list[str]:
    ctx = LintContext(Project.load(root, [root / "cards" / f"{pr}.yaml"]))
    return [d.message for d in run_lint(ctx, select=[code]) if d.file == f"cards/{pr}.yaml"]


@pytest.mark.parametrize("code", ["D414", "D241", "D242", "D243"])
def test_the_real_cards_the_probes_start_from_are_clean(tmp_path, no_release_cache, code):
    prs = sorted({p[1] for p in PROBES + NEAR})
    root = _cut_project(tmp_path, prs[0], prs[1:])
    ctx = LintContext(Project.load(root))
    assert [d.text() for d in run_lint(ctx, select=[code])] == []


@pytest.mark.parametrize("name,pr,edit,code", PROBES, ids=[p[0] for p in PROBES])
def test_a_hand_made_bad_card_is_caught(tmp_path, no_release_cache, name, pr, edit, code):
    assert _found(_cut_project(tmp_path, pr, (), edit), pr, code)


@pytest.mark.parametrize("name,pr,edit,code", NEAR, ids=[p[0] for p in NEAR])
def test_a_near_miss_stays_clean(tmp_path, no_release_cache, name, pr, edit, code):
    assert _found(_cut_project(tmp_path, pr, (), edit), pr, code) == []


# D414's line counts that are not the PR's change to the file (review of session 48): a file's length in brackets, a
# count in quotation marks or credited to the description before the path, ", N lines" outside brackets
def _card(pr: int, field: str, text: str):
    import yaml

    from dossier.model import Card
    from tests.dossier.test_lint_probes15 import REAL

    data = yaml.safe_load((REAL / "cards" / f"{pr}.yaml").read_text())
    data[field] += " " + text
    return Card.from_data(data, REAL / "cards" / f"{pr}.yaml")


@pytest.mark.parametrize("sentence,caught", [
    ("The model file qwen3_next.py (about 1,100 lines) keeps its structure.", False),
    ('The description says "qwen3_next.py (10 lines)".', False),
    ("Per the description, qwen3_next.py (10 lines) changes.", False),
    ("The PR edits qwen3_next.py, 2 lines of the import block being new.", False),
    ("The PR touches qwen3_next.py (45 lines).", False),
    ("The old kernel is deleted from qwen3_next.py (54 lines).", True),
    ("The split (qwen3_next.py, 44 lines) is new.", True),
    ('The description says "qwen3_next.py (+10/-0)".', False),
])
def test_a_files_line_count_is_judged_only_as_the_change(sentence, caught):
    from dossier.pr_facts import conflicts, read_facts
    from tests.dossier.test_lint_probes15 import REAL

    facts = read_facts(REAL)[12508]
    found = [m for p, m in conflicts(_card(12508, "implementation", sentence), facts) if p == "implementation"]
    assert bool(found) == caught, found


def test_one_vocabulary_of_generations_for_d241_and_d246():
    """"SM100+" takes in the SM120 parts as its comment says (it gave SM100 alone), and D241 reads Blackwell as D246
    does, SM10x and SM12x (it read SM10x alone)."""
    import re

    from dossier.gpu_archs import covers
    from dossier.lint.sm_generations import _GENERATION, _majors

    assert covers("SM100+") == {"sm100", "sm120"} and covers("Blackwell") == {"sm100", "sm120"}
    assert covers("SM90+") == {"sm90", "sm100", "sm120"} and covers("SM10x") == {"sm100"}
    assert _majors(re.search(_GENERATION, "on Blackwell")) == {10, 12}
