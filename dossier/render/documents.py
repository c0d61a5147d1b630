"""Render SKILL.md and references/ from the cards: deterministic, same input same bytes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from dossier.model import STATUSES, Card, Lane
from dossier.project import Project
from dossier.render import markdown

OUTPUTS = ("SKILL.md", "references/pr-history.md", "references/playbook.md", "references/findings.md")
TEMPLATES = {"SKILL.md": "skill.md.j2", "references/pr-history.md": "pr-history.md.j2",
             "references/playbook.md": "playbook.md.j2", "references/findings.md": "findings.md.j2"}
DEFAULT_SKILL = {
    "name": "sglang-qwen3-next-optimization",
    "description": (
        "PR-diff-backed optimization manual for SGLang's Qwen3-Next family (Qwen3-Next, its MTP head, "
        "Qwen3-Coder-Next and the Qwen3.5 hybrid paths they share). Use when auditing, extending or debugging "
        "GatedDeltaNet/Mamba state, fused GDN projections and norm/gate, GDN decode/prefill/verify kernels, "
        "MTP/NEXTN/EAGLE, FP8/NVFP4/W8A8 loading, CPU offload, piecewise CUDA graphs, mixed chunk with "
        "extra_buffer prefix caching, or the NPU/AMD/Blackwell backends. Every PR cited has a card with its "
        "motivation, implementation, key changed lines and validation."
    ),
}

#: extra per-card facts shown in the manual, filled by other modules (evidence lock, drift, GPU results)
Annotator = Callable[[Card], list[str]]


@dataclass
class RenderInput:
    project: Project
    annotators: list[Annotator] = field(default_factory=list)


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dossier.render", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters.update(cell=markdown.cell, inline=markdown.inline, code=markdown.code, prose=markdown.prose)
    return env


def _sort_key(card: Card) -> tuple:
    return (card.merged_at is None, card.merged_at or "", card.pr)


def _context(inp: RenderInput) -> dict:
    project = inp.project
    cards = project.cards
    lanes = project.lanes
    by_lane: dict[str, list[Card]] = {lane.id: [] for lane in lanes}
    for card in cards:
        by_lane.setdefault(card.lane, []).append(card)
    for lane_cards in by_lane.values():
        lane_cards.sort(key=_sort_key)
    lane_titles = {lane.id: lane.title for lane in lanes}
    orphan_lanes = [Lane(lid, lid, (), (), (), (), (), ()) for lid in by_lane if lid not in lane_titles]
    superseding: dict[int, list[int]] = {}
    for card in cards:
        for newer in card.superseded_by:
            superseding.setdefault(newer, []).append(card.pr)
    config = project.config.get("skill", {})
    skill = {**DEFAULT_SKILL, **{k: v for k, v in config.items() if k in DEFAULT_SKILL}}
    flags: list[str] = []
    for lane in lanes:
        flags.extend(f for f in lane.flags if f not in flags)
    return {
        "repo": project.repo,
        "skill": skill,
        "cards": cards,
        "findings": project.findings,
        "timeline": sorted(cards, key=_sort_key),
        "lanes": [*lanes, *orphan_lanes],
        "by_lane": by_lane,
        # current behaviour first, then the history and candidates, each by date
        "trails": {lid: sorted(cs, key=lambda c: c.status != "current") for lid, cs in by_lane.items()},
        "lane_titles": {**lane_titles, **{lane.id: lane.id for lane in orphan_lanes}},
        "status_counts": Counter(c.status for c in cards),
        "state_counts": Counter(c.state for c in cards),
        "statuses": STATUSES,
        "superseding": superseding,
        "known": {c.pr for c in cards},
        "notes": {c.pr: [n for a in inp.annotators for n in a(c)] for c in cards},
        "corrections": [c for c in sorted(cards, key=lambda c: c.pr) if c.corrections],
        "flags": flags,
        "investigation_order": _investigation_order(project),
    }


def _investigation_order(project: Project) -> list[str]:
    doc = project.lanes_doc
    if doc is None or not isinstance(doc.data, dict):
        return []
    return list(doc.data.get("investigation_order") or [])


def render_documents(inp: RenderInput) -> dict[str, str]:
    """Every output file (relative path -> text)."""
    env = _env()
    ctx = _context(inp)
    return {out: env.get_template(TEMPLATES[out]).render(**ctx) for out in OUTPUTS}


def write_documents(docs: dict[str, str], root: Path) -> list[str]:
    """Write what changed (atomically); returns the paths written."""
    written = []
    for rel, text in docs.items():
        path = root / rel
        if path.is_file() and path.read_text() == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text)
        tmp.replace(path)
        written.append(rel)
    return written


def stale_documents(docs: dict[str, str], root: Path) -> list[str]:
    """Outputs whose committed text differs from what the cards produce."""
    return [rel for rel, text in docs.items()
            if not (root / rel).is_file() or (root / rel).read_text() != text]
