"""Rules added against lint21's probes (session 19): a merge day given relative to a release (D406), a card's line
named by a few words of its own match or title (D319, D327: "the tuple branch was removed in 0.5.14", "this is
still in 0.5.23" on a superseded card), more ways to say which release first has a change (D319), and a PR title
pasted as the card's own words (D201). Each bad card is a real card mutated the way a careless author gets it
wrong; each near miss is the nearest true text and must stay clean."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.dossier.test_lint_probes15 import _append, _set
from tests.dossier.test_lint_probes16 import _claims_append, _tests_append, probe_round
from tests.dossier.yaml_support import load_yaml

REAL = Path(__file__).resolve().parents[2]
#: #19321: merged 2026-03-20, first in 0.5.10 (built 2026-04-05), present 0.5.10 .. 0.5.23
TITLE = "Fuse Qwen3-Next GDN's qkvz_proj and ba_proj"  # its title without the "[Qwen3-Next]" tag


def _motivation_after_title(card):
    card["motivation"] = f"{TITLE}. {card['motivation']}"


# (id, card, other real cards in the project, edit of the card, the code expected)
PROBES = [
    # 1. the card's own merge given relative to a release that merged_at and the release's build day contradict
    ("merged-a-week-after-a-release", 19321, (), _append("implementation", "It was merged a week after 0.5.10."), "D406"),
    ("landed-after-a-release-it-preceded", 19321, (), _append(
        "implementation", "It landed after v0.5.10 shipped."), "D406"),
    ("merged-days-before-a-release-wrong", 19321, (), _append(
        "implementation", "The PR merged two days before SGLang 0.5.10."), "D406"),
    ("merged-between-later-releases", 19321, (), _append(
        "implementation", "It was merged between 0.5.10 and 0.5.11."), "D406"),
    ("merged-the-day-of-a-later-release", 19321, (), _append(
        "implementation", "It merged the same day as 0.5.10."), "D406"),
    # 2. the card's line named by words of its match or title, said removed where the releases still hold it
    ("described-line-removed-though-held", 19321, (), _append(
        "implementation", "The tuple branch was removed in 0.5.14."), "D327"),
    ("release-removed-the-described-check", 19321, (), _append("implementation", "0.5.14 removed the tuple check."),
     "D327"),
    # 3. "still in 0.5.23" on a superseded card whose line left in 0.5.14
    ("superseded-this-is-still-in", 19169, (28151,), _append("implementation", "This is still in 0.5.23."), "D319"),
    ("superseded-described-check-still-in", 19169, (28151,), _append(
        "implementation", "The radix cache check is still in 0.5.23."), "D319"),
    # 4. which release first has the change, in more words
    ("described-line-first-appeared-later", 19321, (), _append(
        "implementation", "The tuple branch first appeared in v0.5.11."), "D319"),
    ("needs-a-later-release", 19321, (), _append("implementation", "Users need SGLang 0.5.11 or later to get it."),
     "D319"),
    ("upgrade-to-a-later-release", 19321, (), _append("implementation", "Upgrade to 0.5.11 to get this fix."), "D319"),
    ("made-it-into-a-later-release", 19321, (), _append("implementation", "It made it into 0.5.11."), "D319"),
    ("missed-the-release-that-has-it", 19321, (), _append("implementation", "It missed the 0.5.10 release."), "D319"),
    ("release-already-has-the-described-line", 19321, (), _append(
        "implementation", "0.5.9 already has the tuple branch."), "D319"),
    # 5. the PR title pasted as the card's own words
    ("title-pasted-before-the-motivation", 19321, (), _motivation_after_title, "D201"),
    ("title-pasted-into-the-explain", 19321, (), _append("explain", f"In short: {TITLE.lower()}."), "D201"),
    ("title-is-the-implementation", 19321, (), _set("implementation", f"{TITLE}."), "D201"),
]

NEAR = [
    ("merged-two-weeks-before-a-release", 19321, (), _append(
        "implementation", "It was merged two weeks before SGLang 0.5.10 was released.")),
    ("merged-between-its-releases", 19321, (), _append(
        "implementation", "It was merged between 0.5.9 and 0.5.10.")),
    ("merged-before-a-release", 19321, (), _append("implementation", "It was merged before 0.5.10.")),
    ("another-pr-merged-after-a-release", 19321, (21019,), _append(
        "implementation", "The follow-up #21019 was merged after 0.5.10.")),
    ("described-line-removed-when-it-was", 19169, (28151,), _append(
        "implementation", "The radix cache check was removed in 0.5.14.")),
    ("other-code-removed", 19321, (), _append("implementation", "The helper branch was removed in 0.5.14.")),
    ("release-dropped-another-name", 19321, (), _append("implementation", "0.5.14 dropped it from the docs.")),
    ("superseded-described-check-gone", 19169, (28151,), _append(
        "implementation", "The radix cache check is no longer in 0.5.23.")),
    ("described-line-still-in", 19321, (), _append("implementation", "The tuple branch is still in 0.5.23.")),
    ("described-line-first-appeared-in-its-release", 19321, (), _append(
        "implementation", "The tuple branch first appeared in v0.5.10.")),
    ("needs-its-release", 19321, (), _append("implementation", "Users need SGLang 0.5.10 or later to get it.")),
    ("missed-an-earlier-release", 19321, (), _append("implementation", "It missed the 0.5.9 release.")),
    ("release-has-the-described-line", 19321, (), _append("implementation", "0.5.11 already has the tuple branch.")),
    ("another-row-arrived-later", 19321, (), _append(
        "implementation", "A BF16 row for the loader table arrived in 0.5.19.")),
    ("title-quoted-as-the-title", 19321, (), _append(
        "implementation", f'The PR is titled "{TITLE}", though for Qwen3-Next it fuses no GEMM.')),
]


(test_the_real_cards_the_probes_start_from_lint_clean, test_a_hand_made_bad_card_is_caught,
 test_a_near_miss_stays_clean) = probe_round(PROBES, NEAR)


def test_the_probe_round_names_each_probe_once():
    names = [p[0] for p in PROBES + NEAR]
    assert len(set(names)) == len(names) and len(PROBES) >= 17 and len(NEAR) >= 13


def test_no_real_card_pastes_its_title():
    """The D201 paste check is the real cards' practice: none holds its own title word for word."""
    from dossier.lint.depth import card_texts, pasted_title
    from dossier.model import Card

    for path in sorted((REAL / "cards").glob("[0-9]*.yaml")):
        card = Card.from_data(yaml.safe_load(path.read_text()), path)
        assert not [p for p, text in card_texts(card) if pasted_title(text, card.title)], path.name


# ---- cards/checked.lock: the claims' figures and the listed files as last checked against the PR's page ----------

def _checked_project(root: Path, pr: int, others, edit=None) -> Path:
    """A probe project (test_lint_probes16's) with the real checked.lock cut to its cards."""
    from tests.dossier.test_lint_probes16 import _real_project

    _real_project(root, pr, others, edit)
    from tests.dossier.test_lint_probes15 import _locks
    from tests.dossier.yaml_support import dump_yaml

    whole = _locks()["checked.lock"]
    data = {**whole, "cards": {n: e for n, e in whole["cards"].items() if n in (pr, *others)}}
    (root / "cards" / "checked.lock").write_text(dump_yaml(data))
    return root


def _checked_errors(root: Path, pr: int, select: list[str] | None = None) -> set[str]:
    from tests.dossier.test_lint_probes15 import _errors

    return _errors(root, pr, select)


def _claim_edit(i: int, old: str, new: str):
    def edit(card):
        assert old in card["validation"]["claims"][i]
        card["validation"]["claims"][i] = card["validation"]["claims"][i].replace(old, new)
    return edit


def _files_append(group: str, path: str):
    def edit(card):
        card["files"][group].append(path)
    return edit


def _runtime_reversed(card):
    card["files"]["runtime"].reverse()


CHECKED = [
    ("invented-author-figure-in-a-claim", 19321, _claims_append(
        "The author also measured 1.9x faster decode on H200 (PR description)."), "D236"),
    ("claim-figure-changed", 19321, _claim_edit(0, "15733.74 tok/s", "16733.74 tok/s"), "D236"),
    ("invented-reviewer-figure", 19321, _claims_append(
        "Reviewer kaixih measured 4.1 ms lower TPOT on H100 (comment of 2026-03-18)."), "D236"),
    ("invented-score", 19321, _claims_append("GSM8K 0.912 after the change (author; H200)."), "D236"),
    ("invented-figure-on-another-card", 21019, _claims_append(
        "The author reports 12% higher output throughput on H200 for Qwen3.5 (PR description)."), "D236"),
    ("made-up-test-path-of-real-words", 19321, _tests_append("test/registered/models/test_qwen3_next_tuple_shard.py"),
     "D337"),
    ("real-test-of-another-pr", 19321, _tests_append("test/registered/4-gpu-models/test_qwen35_models.py"), "D337"),
    ("real-runtime-file-of-another-pr", 19321, _files_append(
        "runtime", "python/sglang/srt/models/qwen3_5.py"), "D337"),
]
CHECKED_NEAR = [
    ("claim-reworded-same-figures", 19321, _claim_edit(0, "(author, PR description)", "(the author's PR description)")),
    ("claim-figure-rounded", 19321, _claim_edit(2, "median TTFT -9.2%", "median TTFT about -9%")),
    ("claim-without-figures", 19321, _claims_append(
        "The PR description shows no accuracy row for Qwen3-Next-80B-A3B-Thinking itself.")),
    ("listed-files-reordered", 19321, _runtime_reversed),
    ("claim-citing-our-results", 19321, _claims_append(
        "This project (NVIDIA H200, runtime.projections.bench) times the split kernels, not serving.")),
]


@pytest.mark.parametrize("name,pr,edit,code", CHECKED, ids=[p[0] for p in CHECKED])
def test_a_figure_or_file_no_check_vouches_for_is_caught(tmp_path, no_release_cache, name, pr, edit, code):
    assert code in _checked_errors(_checked_project(tmp_path, pr, (), edit), pr, select=[code])


@pytest.mark.parametrize("name,pr,edit", CHECKED_NEAR, ids=[p[0] for p in CHECKED_NEAR])
def test_checked_figures_and_files_pass(tmp_path, no_release_cache, name, pr, edit):
    assert _checked_errors(_checked_project(tmp_path, pr, (), edit), pr) == set()


def test_a_card_without_an_entry_is_not_judged_until_recorded(tmp_path, no_release_cache):
    """No entry: nothing says what was checked, so D236/D337 are silent (a new card); `lint --record` naming the card
    records it as it stands, and a plain `lint --record` adds only the cards without an entry."""
    from dossier.lint.checked import read_checked, record_checked
    from dossier.project import Project

    invented = _claims_append("The author also measured 1.9x faster decode on H200 (PR description).")
    root = _checked_project(tmp_path, 19321, (21019,), invented)
    data = load_yaml((root / "cards" / "checked.lock").read_text())
    del data["cards"][19321]
    (root / "cards" / "checked.lock").write_text(yaml.safe_dump(data))
    assert {"D236", "D337"}.isdisjoint(_checked_errors(root, 19321))
    before = read_checked(root)[21019]
    assert record_checked(root, Project.load(root).cards, named=False) == 1
    assert read_checked(root)[21019] == before and "1.9 factor" in read_checked(root)[19321]["numbers"]
    assert "D236" not in _checked_errors(root, 19321)


def test_a_malformed_checked_lock_is_d311(tmp_path, no_release_cache):
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project

    root = _checked_project(tmp_path, 19321, ())
    (root / "cards" / "checked.lock").write_text("version: 1\ncards: [19321]\n")
    found = [d for d in run_lint(LintContext(Project.load(root)), select=["D311"]) if d.file == "cards/checked.lock"]
    assert len(found) == 1 and "checked.lock" in found[0].message


def test_a_mistyped_key_in_checked_lock_is_d311(tmp_path, no_release_cache):
    """A mistyped key (numbrs:) left the entry's figures unread, and D236 silent, with nothing said."""
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project

    root = _checked_project(tmp_path, 19321, ())
    (root / "cards" / "checked.lock").write_text(
        "version: 1\ncards:\n  19321: {numbers: [], files: [], numbrs: ['2.6 percent']}\n")
    found = [d for d in run_lint(LintContext(Project.load(root)), select=["D311"]) if d.file == "cards/checked.lock"]
    assert len(found) == 1 and "unknown key 'numbrs'" in found[0].message, [d.text() for d in found]
