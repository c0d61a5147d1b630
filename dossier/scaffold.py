"""`dossier new`: write a card skeleton from known facts; never invent prose."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from dossier.errors import DossierError
from dossier.files import write_atomic
from dossier.invisible import first_hidden
from dossier.model import LIMITS, STATES
from dossier.project import Project, is_valid
from dossier.terminal import first_control
from dossier.yaml_scalar import yaml_list, yaml_string


class ScaffoldError(DossierError):
    """The card cannot be scaffolded as asked (exit 2)."""


TEMPLATE = """\
pr: {pr}
title: {title}
state: {state}
merged_at: {merged_at}
lane: {lane}
status: {status}
superseded_by: []
# The concrete problem: symptom, numbers, root cause (own words; lint rejects placeholders).
motivation: ""
# Which code path changed and how: files, classes, functions, flags.
implementation: ""
key_fragment:
  file: {first_file}
  match: ""
  explain: ""
files:
  runtime: {runtime}
  tests: {tests}
  docs: {docs}
validation:
  claims: []
  lanes: []
runtime:
  none: ""
"""


def _facts_from_cache(project: Project, pr: int) -> dict:
    """Metadata from a fetched PR, when the fetch cache has it (empty otherwise)."""
    try:
        from dossier.sources.cache import Cache  # available once fetch has landed
    except ImportError:
        return {}
    entry = Cache.for_project(project).get(pr)
    return entry.facts() if entry else {}


def check_lane(project: Project, lane: str) -> None:
    """``lane`` must be a lane id of a valid cards/lanes.yaml."""
    if project.lanes_doc is None or not is_valid(project.lanes_doc):
        raise ScaffoldError(f"cannot check --lane {lane!r}: cards/lanes.yaml is missing or invalid (see `dossier lint`)")
    ids = [lane.id for lane in project.lanes]
    if lane not in ids:
        raise ScaffoldError(f"--lane {lane!r} is not a lane of cards/lanes.yaml (lanes: {', '.join(ids)})")


def scaffold_card(project: Project, pr: int, *, title: str | None, state: str | None,
                  merged_at: str | None, lane: str) -> Path:
    path = project.root / "cards" / f"{pr}.yaml"
    if path.exists() or path.is_symlink():
        raise ScaffoldError(f"{project.rel(path)} exists; edit it instead")
    holder = next((d for d in project.docs if isinstance(d.data, dict) and d.data.get("pr") == pr), None)
    if holder is not None:
        raise ScaffoldError(f"{project.rel(holder.path)} already holds #{pr}; edit it (or rename it to {pr}.yaml) "
                            "instead of starting a second card")
    if lane:
        check_lane(project, lane)
    facts = _facts_from_cache(project, pr)
    title = title or facts.get("title")
    odd = first_control(title or "")
    if odd is not None:  # --title refuses one: a cached title (GitHub's text) is held to the same
        raise ScaffoldError(f"the title of #{pr} holds a control character (U+{ord(title[odd]):04X} at position "
                            f"{odd + 1}), which a terminal would act on: pass --title")
    hidden = first_hidden(title or "")
    if hidden is not None:  # lint D112 would refuse the card it writes
        raise ScaffoldError(f"the title of #{pr} holds U+{ord(title[hidden]):04X} at position {hidden + 1}, a "
                            "character a reader cannot see (lint D112 refuses it): pass --title without it")
    title = " ".join(title.split()) if title else title  # padding, or a line GitHub's title wrapped
    if title and len(title) > LIMITS["a title"]:  # lint D113 would refuse the card it writes
        raise ScaffoldError(f"the title of #{pr} is {len(title)} characters, over the limit of {LIMITS['a title']} "
                            "(lint D113): pass a shorter --title")
    state = state.strip().lower() if state else facts.get("state")  # GitHub's UI writes MERGED, Open
    if facts.get("merged_at") and state not in (None, "merged") and not merged_at:  # the day is GitHub's record
        raise ScaffoldError(f"--state {state}, but the fetch cache has #{pr} merged on {facts['merged_at']} (GitHub's "
                            "record): leave --state out, and the card takes merged and that day")
    merged_at = merged_at or facts.get("merged_at")
    if not title or not state:
        lacking = [k for k, v in (("title", title), ("state", state)) if not v]
        options = " and ".join(f"--{k}" for k in lacking)
        if facts:  # a saved diff (--import) carries no title, state or merge day
            raise ScaffoldError(f"#{pr} is cached from a saved diff, which carries no " + " or ".join(lacking)
                                + f": pass {options} (and --merged-at for a merged PR)")
        raise ScaffoldError(f"#{pr} is not in the fetch cache: run `dossier fetch {pr}` or pass {options}"
                            + (" too" if len(lacking) == 1 else ""))
    if state not in STATES:
        raise ScaffoldError(f"--state must be one of {', '.join(STATES)}")
    if merged_at:
        try:  # exactly a day as a card writes it (fromisoformat alone also reads 20250101 and 2025-W01-1)
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", merged_at):
                raise ValueError
            dt.date.fromisoformat(merged_at)
        except ValueError:
            raise ScaffoldError(f"--merged-at must be a real day YYYY-MM-DD, got {merged_at!r}") from None
        if state != "merged":
            raise ScaffoldError(f"--merged-at is for a merged PR, but the state is {state}")
        if dt.date.fromisoformat(merged_at) > dt.date.today():
            raise ScaffoldError(f"--merged-at {merged_at} is after today: a merge day is one that has been")
    elif state == "merged":
        raise ScaffoldError(f"#{pr} is merged: pass --merged-at YYYY-MM-DD (the fetch cache has no merge day for it)")
    files = facts.get("files", {})
    every = [*files.get("runtime", []), *files.get("tests", []), *files.get("docs", [])]
    text = TEMPLATE.format(
        pr=pr, title=yaml_string(title), state=state, merged_at=merged_at or "null",
        lane=lane or '""', status={"merged": "current", "open": "candidate"}.get(state, "adjacent"),
        first_file=yaml_string(every[0]) if every else '""',
        **{group: yaml_list(files.get(group, [])) for group in ("runtime", "tests", "docs")},
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        write_atomic(path, text, exclusive=True)  # a card written meanwhile is never replaced
    except FileExistsError:
        raise ScaffoldError(f"{project.rel(path)} exists; edit it instead") from None
    return path
