"""Render the manual (SKILL.md, references/) from cards with jinja2 templates."""

from dossier.render.documents import (
    OUTPUTS,
    Annotator,
    RenderInput,
    render_documents,
    stale_documents,
    write_documents,
)

__all__ = ["OUTPUTS", "Annotator", "RenderInput", "render_documents", "stale_documents", "write_documents"]
