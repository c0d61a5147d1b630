"""Render the manual (the installable skill: SKILL.md, references/) from cards with jinja2 templates."""

from dossier.render.documents import (
    OUTPUTS,
    Annotator,
    RenderInput,
    other_renders,
    render_documents,
    skill_dir,
    stale_documents,
    unexpected_files,
    write_documents,
)

__all__ = ["OUTPUTS", "Annotator", "RenderInput", "other_renders", "render_documents", "skill_dir", "stale_documents",
           "unexpected_files", "write_documents"]
