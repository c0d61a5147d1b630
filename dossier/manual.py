"""The manual as `dossier render` builds it: the cards plus their evidence and drift notes, and this
repository's GPU results for its reference kernels (kept apart from the cards)."""

from __future__ import annotations

from dossier.drift import annotator as drift_notes
from dossier.evidence import LockError
from dossier.evidence import annotator as evidence_notes
from dossier.for_version import by_release
from dossier.model import Card
from dossier.project import Project
from dossier.regress import gpu_annotator, gpu_runs
from dossier.release_evidence import read_release_lock
from dossier.render import Annotator, RenderInput, render_documents


def annotators(project: Project) -> list[Annotator]:
    """The per-card notes the manual shows in each card's section: evidence lock, drift lock."""
    return [evidence_notes(project), drift_notes(project)]


def card_notes(project: Project, card: Card) -> list[str]:
    """Everything recorded about a card, for `dossier show` (an unverified card says so)."""
    notes = [evidence_notes(project, unverified=True), drift_notes(project), gpu_annotator(project.root / "results")]
    return [note for annotate in notes for note in annotate(card)]


def releases(project: Project) -> dict | None:
    """The current changes by the release that first shipped them (None without readable release evidence)."""
    try:
        lock = read_release_lock(project.root)
    except LockError:
        return None
    if not lock.built:
        return None
    groups, reverted, unplaced = by_release(project, lock)
    return {"groups": groups, "reverted": reverted, "unplaced": unplaced}


def render_manual(project: Project) -> dict[str, str]:
    """Every rendered file (path relative to the skill folder -> text), with the notes recorded here."""
    return render_documents(RenderInput(project, annotators=annotators(project),
                                        gpu_runs=gpu_runs(project.root / "results"), releases=releases(project)))
