"""Rules added against lint22's probes (session 20): what GitHub's record of a PR (cards/pr-facts.json, the stored
PR facts snapshot) contradicts (D414: title, state, merge day, the files and lines the PR changed), a #N with no card
one swap from a card's PR (D516), "it shipped in 0.5.11" for a change that first shipped in another release (D319),
and a card cards/checked.lock has no entry for (D338; recording refuses a card GitHub's record contradicts). Each bad
card is a real card mutated the way a careless author gets it wrong; each near miss is the nearest true text."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml

from tests.dossier.test_lint_probes15 import _append, _errors, _set
from tests.dossier.test_lint_probes16 import probe_round
from tests.dossier.test_lint_probes17 import _replace
from tests.dossier.test_lint_probes21 import _checked_project
from tests.dossier.yaml_support import load_yaml

REAL = Path(__file__).resolve().parents[2]
#: #19321 (GitHub's record): merged 2026-03-20, 2 files, +107/-17, qwen3_next.py +83/-11; first in 0.5.10
TITLE = "[Qwen3-Next] Fuse Qwen3-Next GDN's qkvz_proj and ba_proj"


def _project(root: Path, pr: int, others, edit=None) -> Path:
    """lint21's real-card project (checked.lock cut to its cards) with the PR facts snapshot."""
    _checked_project(root, pr, others, edit)
    shutil.copy(REAL / "cards" / "pr-facts.json", root / "cards" / "pr-facts.json")
    return root


def _explain_first(text: str):
    """The explain opening with ``text`` (appended, it would land in the explain's closing "Pseudo:" sketch)."""
    def edit(card):
        card["key_fragment"]["explain"] = f"{text} {card['key_fragment']['explain']}"
    return edit


def _closed(card):
    card["state"], card["merged_at"] = "closed", None


PROBES = [
    # 1. GitHub's record of the PR: merge day, title, state, files and lines
    ("merged-a-day-late", 19321, (), _set("merged_at", dt.date(2026, 3, 21)), "D414"),
    ("merged-other-day-same-month", 21019, (), _set("merged_at", dt.date(2026, 3, 25)), "D414"),
    ("title-reworded", 19321, (), _set("title", "[Qwen3-Next] Fuse Qwen3-Next GDN's qkvz_proj, ba_proj and conv1d"),
     "D414"),
    ("title-of-another-pr", 19321, (), _set("title", "Fuse split/reshape/cat ops in GDN projection"), "D414"),
    ("merged-pr-said-closed", 19321, (), _closed, "D414"),
    ("files-changed-wrong", 19321, (), _append("implementation", "The PR changes 3 files (+107/-17)."), "D414"),
    ("lines-added-wrong", 19321, (), _append("implementation", "In all the PR touches 2 files, +170/-17."), "D414"),
    ("lines-over-files-wrong", 10233, (), _append("implementation", "It adds +3224/-80 over 19 files."), "D414"),
    ("one-file-lines-wrong", 19321, (), _append(
        "implementation", "python/sglang/srt/models/qwen3_next.py (+83/-1) builds the merged layers."), "D414"),
    ("merge-day-called-a-stand-in", 19321, (), _append(
        "implementation", "merged_at is a stand-in inside that window, not a known date."), "D414"),
    ("merge-called-inferred", 21019, (), _append("implementation", "The merge is inferred from the 0.5.10 build."),
     "D414"),
    ("merge-said-undated", 19321, (), _append(
        "implementation", "No dated public source gives the merge; 0.5.10 is the first release with it."), "D414"),
    # 2. a #N with no card, one swap from a card's PR
    ("swapped-digits-of-another-card", 19321, (21019,), _append(
        "implementation", "The follow-up #21091 reuses the tuple shard id for Qwen3.5."), "D516"),
    ("swapped-digits-in-a-claim", 19321, (21019,), _append(
        "lanes", "python -m pytest test/registered/4-gpu-models/test_qwen35_models.py (once #20119 lands)"), "D516"),
    # 3. "shipped in" a release that is not the one it went out in
    ("shipped-in-a-later-release", 19321, (), _append("implementation", "It shipped in 0.5.11."), "D319"),
    ("went-out-in-a-later-release", 19321, (), _append("implementation", "The tuple branch went out in 0.5.12."),
     "D319"),
    ("follow-up-changed-it-in-a-later-release", 19002, (20858, 22462), _replace(
        "implementation", "replaced the cap with a floor in 0.5.11", "replaced the cap with a floor in 0.5.12"), "D319"),
    # 4. a code name no source holds, written without backticks
    ("invented-function-unticked", 19321, (), _append(
        "implementation", "The loader now calls split_tuple_shard_ids before weight_loader_v2."), "D621"),
    ("invented-class-unticked", 19321, (), _append(
        "implementation", "A new TupleShardLoader class wraps the merged loader for Qwen3-Next."), "D621"),
    ("invented-class-possessive", 19321, (), _append(
        "implementation", "TupleShardLoader's weights land in the merged slot for Qwen3-Next."), "D621"),
    ("invented-class-beside-per", 19321, (), _append(
        "implementation", "The merged slot is read per TupleShardLoader call for Qwen3-Next."), "D621"),
    ("invented-method-of-a-real-class", 19321, (), _explain_first(
        "MergedColumnParallelLinear.load_tuple_shards copies each piece into its slot."), "D621"),
    ("invented-private-helper", 21019, (), _append(
        "implementation", "The kernel launch goes through _launch_fused_qkvzba_split, a small wrapper."), "D621"),
    # 5. a real method given to a real class that lacks it, in a sentence about today's SGLang
    ("today-method-of-another-class", 19321, (), _append(
        "implementation", "In 0.5.23, MergedColumnParallelLinear.forward_extend copies each piece into its slot."), "D622"),
    ("still-attribute-of-another-class", 19321, (), _append(
        "implementation", "The split sizes still live in ColumnParallelLinear.output_partition_sizes_by_slot."), "D621"),
]

NEAR = [
    ("merged-day-as-recorded", 19321, (), _append("implementation", "It merged on 2026-03-20.")),
    ("title-tag-dropped", 19321, (), _set("title", "Fuse Qwen3-Next GDN's qkvz_proj and ba_proj")),
    ("files-and-lines-right", 19321, (), _append("implementation", "The PR changes 2 files (+107/-17).")),
    ("one-file-lines-right", 19321, (), _append(
        "implementation", "python/sglang/srt/models/qwen3_next.py (+83/-11) builds the merged layers.")),
    ("lines-as-the-description-gives", 19321, (), _append(
        "implementation", "The description sums it up as \"3 files, +120/-20\", which GitHub's count does not match.")),
    ("lines-per-an-earlier-snapshot", 19321, (), _append(
        "implementation", "python/sglang/srt/models/qwen3_next.py (+80/-10 per an earlier snapshot) builds them.")),
    ("another-prs-totals", 19321, (21019,), _append(
        "implementation", "Its follow-up #21019 changes 3 files (+597/-202).")),
    ("files-the-card-lists", 19321, (), _append("implementation", "The 2 files listed above hold the change.")),
    ("cited-card-by-its-number", 19321, (21019,), _append(
        "implementation", "The follow-up #21019 reuses the tuple shard id for Qwen3.5.")),
    ("uncarded-pr-not-a-swap", 19321, (21019,), _append(
        "implementation", "The follow-up #21020 reuses the tuple shard id for Qwen3.5.")),
    ("follow-up-fixed-what-a-release-had", 19002, (20858, 22462), _append(
        "implementation", "#22462 fixed the startup OOM seen in 0.5.10.")),
    ("shipped-in-its-release", 19321, (), _append("implementation", "It shipped in 0.5.10.")),
    ("another-prs-merge-inferred", 19321, (21019,), _append(
        "implementation", "The merge of its follow-up #21019 is inferred from the 0.5.10 build.")),
    ("release-day-a-stand-in", 19321, (), _append(
        "implementation", "The build day of 0.5.10 is a stand-in for when users could run it.")),
    ("still-shipped-in-a-later-release", 19321, (), _append("implementation", "It is still shipped in 0.5.23.")),
    ("shipped-in-a-span", 19321, (), _append("implementation", "It shipped in 0.5.10 and every later release.")),
    ("real-method-unticked", 19321, (), _explain_first(
        "MergedColumnParallelLinear.weight_loader_v2 copies each piece into its slot.")),
    ("a-handle-beside-what-a-person-did", 19321, (), _append(
        "implementation", "The decode check came from contributor EdwinGao28, who reported it in the thread.")),
    ("a-handle-with-its-review", 19321, (), _append(
        "implementation", "JustinTong0323's review asked for the merged loader to keep the tuple shard id.")),
    ("a-handle-named-the-author", 19321, (), _append(
        "implementation", "JustinTong0323 (the author) kept the tuple shard id in the merged loader.")),
    ("a-handle-who-benchmarked", 19321, (), _append(
        "implementation", "JustinTong0323 benchmarked the merged loader in the thread.")),
    ("a-handle-per-the-review", 19321, (), _append(
        "implementation", "Per JustinTong0323 in review, the CPU path was left alone on purpose.")),
    ("a-handles-rerun", 19321, (), _append("implementation", "JustinTong0323's rerun in the thread agrees.")),
    ("pseudo-locals", 19321, (), _append("explain", "Pseudo: pieces = split_by_sizes(tensor, slot_sizes).")),
    ("name-said-absent", 19321, (), _append("implementation", "0.5.23 has no split_tuple_shard_ids helper.")),
    ("name-marked-historical", 19321, (), _append(
        "implementation", "The helper was formerly split_tuple_shard_ids, before the rename.")),
    ("another-projects-name", 19321, (), _append(
        "implementation", "The copy is one PyTorch index_copy_ per slot, as CUDA's cudaMemcpyAsync would be.")),
    ("today-method-of-its-class", 19321, (), _append(
        "implementation", "In 0.5.23, MergedColumnParallelLinear.weight_loader_v2 copies each piece into its slot.")),
    ("today-method-inherited-from-torch", 19321, (), _append(
        "implementation", "In 0.5.23, MergedColumnParallelLinear.named_parameters lists the merged weight once.")),
    ("pr-code-as-it-merged", 19321, (), _append(
        "implementation", "At the merge, Qwen3GatedDeltaNet._forward ran the mixer; the loader was untouched.")),
]


(test_the_real_cards_the_probes_start_from_lint_clean, test_a_hand_made_bad_card_is_caught,
 test_a_near_miss_stays_clean) = probe_round(PROBES, NEAR, _project)


def test_the_probe_round_names_each_probe_once():
    names = [p[0] for p in PROBES + NEAR]
    assert len(set(names)) == len(names) and len(PROBES) >= 13 and len(NEAR) >= 13


def test_no_real_card_contradicts_githubs_record():
    """D414 and recording read one check (dossier.pr_facts.conflicts): every real card the snapshot covers agrees."""
    from dossier.model import Card
    from dossier.pr_facts import conflicts, read_facts

    facts = read_facts(REAL)
    assert len(facts) >= 70
    for path in sorted((REAL / "cards").glob("[0-9]*.yaml")):
        card = Card.from_data(yaml.safe_load(path.read_text()), path)
        if card.pr in facts:
            assert list(conflicts(card, facts[card.pr])) == [], path.name


# ---- cards/checked.lock: a card with no entry, and recording a card GitHub's record contradicts ----------------

def _without_entry(root: Path, pr: int) -> None:
    data = load_yaml((root / "cards" / "checked.lock").read_text())
    del data["cards"][pr]
    (root / "cards" / "checked.lock").write_text(yaml.safe_dump(data))


def test_a_card_with_no_checked_entry_is_d338(tmp_path, no_release_cache):
    root = _project(tmp_path, 19321, (21019,))
    _without_entry(root, 19321)
    assert "D338" in _errors(root, 19321) and "D338" not in _errors(root, 21019)


def test_a_project_without_a_checked_lock_is_not_judged(tmp_path, no_release_cache):
    root = _project(tmp_path, 19321, ())
    (root / "cards" / "checked.lock").unlink()
    assert "D338" not in _errors(root, 19321)


def test_recording_refuses_a_card_githubs_record_contradicts(tmp_path, no_release_cache):
    """A wrong merge day re-recorded would make the lock vouch for it: refused, the entry left as it was."""
    from dossier.lint.checked import RecordRefused, read_checked, record_checked
    from dossier.project import Project

    root = _project(tmp_path, 19321, (), _set("merged_at", dt.date(2026, 3, 21)))
    before = read_checked(root)[19321]
    with pytest.raises(RecordRefused, match=r"#19321 merged_at: .*2026-03-20"):
        record_checked(root, Project.load(root).cards, named=True)
    assert read_checked(root)[19321] == before


def test_recording_says_what_an_entry_changed(tmp_path, no_release_cache):
    from dossier.lint.checked import read_checked, record_checked
    from dossier.project import Project
    from tests.dossier.test_lint_probes16 import _claims_append

    root = _project(tmp_path, 19321, (), _claims_append("Decode 1.9x faster on H200 (author, PR description)."))
    report: list[str] = []
    assert record_checked(root, Project.load(root).cards, named=True, report=report) == 1
    assert report == ["#19321: numbers +['1.9 factor']; gpus +['H200']"]
    assert "1.9 factor" in read_checked(root)[19321]["numbers"] and "H200" in read_checked(root)[19321]["gpus"]


def test_an_unreadable_pr_facts_snapshot_is_d311(tmp_path, no_release_cache):
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project

    root = _project(tmp_path, 19321, ())
    (root / "cards" / "pr-facts.json").write_text('[{"number": 19321}]')
    found = [d for d in run_lint(LintContext(Project.load(root)), select=["D311"]) if "pr-facts" in d.file]
    assert len(found) == 1 and "not a PR facts snapshot" in found[0].message, [d.text() for d in found]
