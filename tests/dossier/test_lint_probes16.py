"""Rules added against lint16's probes (session 14): made-up test paths no wheel ships (D620), PR-diff proof lost
from the lock (D328), D618's phrasings and sources, removals the releases contradict (D327), a merged PR's claim
naming a flag of another release (D619). Each bad card is a real card mutated by hand; the real cards stay clean."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from dossier.lint import LintContext, run_lint
from dossier.project import Project
from dossier.render import skill_dir
from tests.dossier.test_lint_probes15 import REAL, _append, _errors
from tests.dossier.test_lint_probes15 import _real_project as _cut_project

VERIFY = "--linear-attn-verify-backend"  # first shipped in 0.5.17


def _tests_append(path: str):
    def edit(card):
        card["files"]["tests"].append(path)
    return edit


def _claims_append(text: str):
    def edit(card):
        card["validation"]["claims"].append(text)
    return edit


# (id, card, other real cards in the project, edit of the card, the code expected)
PROBES = [
    # 1. test/ paths no wheel ships, with a word nothing spells
    ("test-path-made-up-files", 19434, (), _tests_append("test/srt/models/test_qwen3_nxt.py"), "D620"),
    ("test-path-made-up-prose", 19434, (), _append("implementation", "CI runs test/srt/models/test_qwen3_nxt.py."),
     "D620"),
    ("test-folder-misspelt", 19434, (), _tests_append("test/registered/speculatve/test_qwen3_next_mtp_v2.py"), "D620"),
    ("script-path-made-up", 18271, (), _append("implementation", "The numbers come from scripts/playground/"
                                                                 "bench_gdn_wdie_tile.py."), "D620"),
    # 2. a PR-diff proof the lock no longer holds (the prose says so)
    ("pr-diff-claimed", 19775, (), _append("implementation", "Verified against the PR's diff: the added line is the "
                                                             "one quoted below."), "D328"),
    ("pr-diff-of-own-number", 19775, (), _append("implementation", "#19775's diff adds the fast path."), "D328"),
    # 3. D618: the phrasings a writer uses for "this release has the flag"
    ("flag-plus", 19775, (), _append("implementation", f"`{VERIFY}` (0.5.12+) picks the verify kernel."), "D618"),
    ("flag-requires", 19775, (), _append("implementation", f"{VERIFY} (requires SGLang >= 0.5.12) picks it."), "D618"),
    ("flag-since-opener", 19775, (), _append("implementation", f"Since 0.5.12, pass {VERIFY} triton."), "D618"),
    ("flag-pinned-install", 19775, (), _append("implementation", "With sglang==0.5.12 run python -m "
                                                                 f"sglang.launch_server {VERIFY} triton."), "D618"),
    ("flag-release-users", 19775, (), _append("implementation", f"SGLang 0.5.12 users: add {VERIFY} triton."), "D618"),
    ("flag-release-adds", 19775, (), _append("implementation", f"0.5.12 adds {VERIFY}."), "D618"),
    ("flag-new-in", 19775, (), _append("implementation", f"`{VERIFY}` is new in 0.5.12."), "D618"),
    ("flag-as-of", 19775, (), _append("implementation", f"`{VERIFY}` as of v0.5.12 picks it."), "D618"),
    ("flag-and-later", 19775, (), _append("implementation", f"{VERIFY}, available in 0.5.12 and later, picks it."),
     "D618"),
    ("flag-value-on-a-release", 19775, (), _append("implementation", f"Pass {VERIFY} triton on 0.5.12."), "D618"),
    ("flag-works-in", 19775, (), _append("implementation", f"`{VERIFY}=triton` works in SGLang 0.5.12."), "D618"),
    ("env-said-to-start", 27964, (), _append("implementation", "SGLANG_ENABLE_SPEC_V2 (added in 0.5.2) turned it on."),
     "D618"),
    # 4. removed / dropped / deprecated in a release that still holds it
    ("own-line-removed-while-current", 19775, (), _append("implementation", "It was removed in 0.5.20."), "D327"),
    ("own-line-dropped-bare", 19775, (), _append("implementation", "Dropped in v0.5.21."), "D327"),
    ("own-line-reverted", 19775, (), _append("implementation", "This change was reverted in 0.5.18."), "D327"),
    ("quoted-code-removed", 25401, (), _append("implementation", "The `self.output_gate_type` assignment was "
                                                                 "removed in 0.5.20."), "D327"),
    ("own-line-removed-too-early", 19169, (28151,), _append("implementation", "Removed in 0.5.12."), "D327"),
    ("flag-removed-while-shipping", 19775, (), _append("implementation", f"{VERIFY} was removed in 0.5.20."), "D327"),
    ("flag-removed-long-after", 22458, (), _append("implementation", "--mamba-scheduler-strategy was removed in "
                                                                     "0.5.23."), "D327"),
    ("env-deprecated-when-gone", 19775, (), _append("implementation", "SGLANG_ENABLE_SPEC_V2 (deprecated in 0.5.22)."),
     "D327"),
    # 5. a merged PR's claim naming a real flag of another release
    ("claim-flag-of-a-later-release", 10622, (), _claims_append("Author: TTFT -3% with --enable-linear-replayssm."),
     "D619"),
    ("claim-flag-gone-before", 36410, (), _claims_append("Author: GSM8K 0.95 with --mamba-scheduler-strategy "
                                                         "extra_buffer."), "D619"),
    ("claim-env-gone-before", 36410, (), _claims_append("Author: decode 4% faster with SGLANG_ENABLE_SPEC_V2=1."),
     "D619"),
    # 6. prose giving the PR a flag that first shipped releases later (#12508 merged 2025-11-06; the flag is 0.5.10's)
    ("prose-new-flag-of-a-later-release", 12508, (), _append("implementation", "The new --linear-attn-decode-backend "
                                                                               "flag selects the fused kernel."), "D619"),
    ("prose-adds-flag-of-a-later-release", 12508, (), _append("implementation", "It adds --linear-attn-decode-backend "
                                                                                "to pick the kernel."), "D619"),
    ("prose-the-prs-new-flag", 12508, (), _append("implementation", "The PR's new --linear-attn-decode-backend flag "
                                                                    "selects the fused kernel."), "D619"),
    ("prose-second-of-two-added-flags", 12508, (), _append("implementation", "It adds two flags, --enable-metrics and "
                                                                             "`--linear-attn-decode-backend triton`."),
     "D619"),
]

# near misses: the same shapes, true of the records (each must add no error)
NEAR = [
    ("held-test-path", 19434, (), _tests_append("test/registered/4-gpu-models/test_qwen3_next_models.py")),
    ("real-words-test-path", 19434, (), _tests_append("test/registered/models/test_qwen3_next_mtp_accuracy.py")),
    ("no-pr-diff-said", 19775, (), _append("implementation", "No PR diff is stored; the release diff stands in.")),
    ("flag-from-its-release", 19775, (), _append("implementation", f"`{VERIFY}` (0.5.17+) picks the verify kernel.")),
    ("flag-fixed-in-a-release", 19775, (), _append("implementation", f"It was fixed in 0.5.12, so {VERIFY} triton "
                                                                      "is the safe choice.")),
    ("flag-on-its-release", 19775, (), _append("implementation", f"Pass {VERIFY} triton on 0.5.17.")),
    ("flag-across-releases", 19775, (), _append("implementation", f"{VERIFY} triton in 0.5.17 -> 0.5.18 got faster.")),
    ("other-thing-removed", 19775, (), _append("implementation", "The old helper was removed in 0.5.20.")),
    ("flag-removed-when-it-was", 22458, (), _append("implementation", "--mamba-scheduler-strategy was removed in "
                                                                      "0.5.20.")),
    ("prose-new-flag-of-a-later-pr", 12508, (), _append("implementation", "A later PR's new "
                                                                          "--linear-attn-decode-backend flag picks "
                                                                          "the decode kernel.")),
    ("prose-adds-a-flag-then-names-another", 12508, (), _append("implementation", "It adds --enable-metrics, and a "
                                                                                  "later PR adds "
                                                                                  "--linear-attn-decode-backend.")),
    ("prose-the-prs-description-names-flag", 12508, (), _append("implementation", "The PR's description names "
                                                                                  "--linear-attn-decode-backend.")),
    ("claim-flag-of-its-window", 35297, (), _claims_append("Author: GSM8K 0.95 with --mamba-radix-cache-strategy "
                                                           "extra_buffer.")),
]


def _real_project(root: Path, pr: int, others, edit=None) -> Path:
    """lint15's real-card project with the whole surface lock (D618/D619 judge names the card itself may not
    spell, and argparse abbreviations by the longer flags)."""
    _cut_project(root, pr, others, edit)
    (root / "cards" / "surface.lock").write_text((REAL / "cards" / "surface.lock").read_text())
    return root


def probe_round(probes, near, project=None):
    """A probe round's three tests: the real cards it starts from lint clean, each bad card is caught by the rule it
    names, each near miss stays clean (bind them to test_* names in the round's module). ``project`` builds the probe
    project (default: :func:`_real_project`)."""
    make = project or _real_project

    def real_cards_clean(tmp_path, no_release_cache):
        prs = sorted({n for p in probes + near for n in (p[1], *p[2])})
        root = make(tmp_path, prs[0], prs[1:])
        errors = [d.text() for d in run_lint(LintContext(Project.load(root)))
                  if d.severity == "error" and re.fullmatch(r"cards/\d+\.yaml", d.file)]
        assert errors == []

    @pytest.mark.parametrize("name,pr,others,edit,code", probes, ids=[p[0] for p in probes])
    def bad_card_caught(tmp_path, no_release_cache, name, pr, others, edit, code):
        bad = _errors(make(tmp_path, pr, others, edit), pr, select=[code])
        assert code in bad, bad

    @pytest.mark.parametrize("name,pr,others,edit", near, ids=[p[0] for p in near])
    def near_miss_clean(tmp_path, no_release_cache, name, pr, others, edit):
        assert _errors(make(tmp_path, pr, others, edit), pr) == set()

    return real_cards_clean, bad_card_caught, near_miss_clean


(test_the_real_cards_the_probes_start_from_lint_clean, test_a_hand_made_bad_card_is_caught,
 test_a_near_miss_stays_clean) = probe_round(PROBES, NEAR)


def test_a_proof_the_committed_manual_shows_but_the_lock_lost_is_an_error(tmp_path, no_release_cache):
    """The card's prose says nothing of a PR diff; the manual rendered while the lock held the entry does."""
    root = _real_project(tmp_path, 19775, ())
    history = skill_dir(Project.load(root)) / "references" / "pr-history.md"
    history.parent.mkdir(parents=True)
    proof = ("**Evidence (PR diff).** Fragment verified against the PR's diff sha256:0123456789ab (github) on "
             "2026-11-30: added line(s) 12 of `x.py`.")
    history.write_text(f"### #19775 something\n\n{proof}\n\n### #19002 other\n\nno proof\n")
    assert "D328" in _errors(root, 19775)
    history.write_text(f"### #19002 other\n\n{proof}\n\n### #19775 something\n\nno proof\n")
    assert "D328" not in _errors(root, 19775)


def _lanes_with(root: Path, text: str) -> None:
    path = root / "cards" / "lanes.yaml"
    lanes = yaml.safe_load(path.read_text())
    lanes["lanes"][0]["symptoms"].append(text)
    path.write_text(yaml.safe_dump(lanes, sort_keys=False))


def _d618(root: Path) -> list[str]:
    return [f"{d.file}:{d.line}" for d in run_lint(LintContext(Project.load(root)), select=["D618"])]


def test_d618_reads_lanes_yaml(tmp_path, no_release_cache):
    root = _real_project(tmp_path, 19775, ())
    _lanes_with(root, "Upgrade path: `--mamba-radix-cache-strategy` (0.5.14+) replaces the old flag.")
    assert _d618(root) == []
    _lanes_with(root, f"On SGLang 0.5.12, start the server with {VERIFY} triton.")
    assert [f for f in _d618(root) if f.startswith("cards/lanes.yaml:")], _d618(root)


def test_d618_reads_the_findings(tmp_path, no_release_cache):
    root = _real_project(tmp_path, 19775, ())
    real = REAL / "cards" / "findings" / "page-grid-continuation-cut.yaml"
    finding = yaml.safe_load(real.read_text())
    (root / "cards" / "findings").mkdir()
    finding["symptom"] += f" On SGLang 0.5.12 pass {VERIFY} triton to see it."
    (root / "cards" / "findings" / real.name).write_text(yaml.safe_dump(finding, sort_keys=False))
    assert any(f.startswith("cards/findings/page-grid-continuation-cut.yaml:") for f in _d618(root)), _d618(root)


def test_d618_reads_the_render_templates(tmp_path, no_release_cache, monkeypatch):
    from dossier.lint import flag_releases

    root = _real_project(tmp_path, 19775, ())
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "answers.md.j2").write_text("# Answers\n\n{{ x }} line\nOn SGLang 0.5.12, pass `" + VERIFY +
                                             " triton`.\n")
    monkeypatch.setattr(flag_releases, "template_dir", lambda: templates)
    assert [f for f in _d618(root) if f.endswith("answers.md.j2:4")], _d618(root)


def test_the_probe_round_has_twenty_cards_or_more():
    assert len(PROBES) >= 20 and len({p[0] for p in PROBES + NEAR}) == len(PROBES) + len(NEAR)
