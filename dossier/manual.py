"""The manual as `dossier render` builds it: the cards plus their evidence, drift and GPU-result notes."""

from __future__ import annotations

from dossier.drift import annotator as drift_notes
from dossier.evidence import annotator as evidence_notes
from dossier.model import Card
from dossier.project import Project
from dossier.regress import gpu_annotator
from dossier.render import Annotator, RenderInput, render_documents


def annotators(project: Project) -> list[Annotator]:
    """The per-card notes recorded in the repository: evidence lock, drift lock, GPU results."""
    return [evidence_notes(project), drift_notes(project), gpu_annotator(project.root / "results")]


def card_notes(project: Project, card: Card) -> list[str]:
    return [note for annotate in annotators(project) for note in annotate(card)]


def render_manual(project: Project) -> dict[str, str]:
    """Every rendered file (relative path -> text), with the notes recorded in the repository."""
    return render_documents(RenderInput(project, annotators=annotators(project)))
