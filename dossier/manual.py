"""The manual as `dossier render` builds it: the cards plus their evidence, drift and GPU-result notes."""

from __future__ import annotations

from dossier.drift import annotator as drift_notes
from dossier.evidence import annotator as evidence_notes
from dossier.project import Project
from dossier.regress import gpu_annotator
from dossier.render import RenderInput, render_documents


def render_manual(project: Project) -> dict[str, str]:
    """Every rendered file (relative path -> text), with the notes recorded in the repository."""
    annotators = [evidence_notes(project), drift_notes(project), gpu_annotator(project.root / "results")]
    return render_documents(RenderInput(project, annotators=annotators))
