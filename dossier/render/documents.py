"""Render the installable skill (SKILL.md, references/) from the cards: deterministic, same input same bytes."""

from __future__ import annotations

import errno
import functools
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from packaging.version import Version

from dossier.errors import Unjudgeable
from dossier.files import in_progress
from dossier.folder_swap import replace_files
from dossier.mentions import ENV, FLAG, find_mentions, is_sglang_command
from dossier.model import ANSWERS, PRIMARY_HARDWARE, STATUSES, UPGRADE_ANSWER, Card, Lane, answer_titles
from dossier.pr_facts import merge_day_hedged, merge_inferred
from dossier.project import Project
from dossier.render import markdown, sections
from dossier.source_tree import in_wheel
from dossier.yaml_scalar import yaml_string

#: rendered file (relative to the skill folder) -> its template
TEMPLATES = {
    "SKILL.md": "skill.md.j2",
    "references/answers.md": "answers.md.j2",
    "references/errors.md": "errors.md.j2",
    "references/playbook.md": "playbook.md.j2",
    "references/pr-history.md": "pr-history.md.j2",
    "references/findings.md": "findings.md.j2",
    "references/corrections.md": "corrections.md.j2",
    "references/reference-kernels.md": "reference-kernels.md.j2",
    "references/by-release.md": "by-release.md.j2",
    "references/flags.md": "flags.md.j2",
    "references/by-file.md": "by-file.md.j2",
}
OUTPUTS = tuple(TEMPLATES)
#: pages of long lists, one section per directory: a section past one short read goes on in "(continued)" parts
CONTINUED_PAGES = {"references/by-file.md"}
#: where a `#NNNN` link to a card points from each rendered file
CARD_PAGE = {"SKILL.md": "references/pr-history.md", "references/pr-history.md": ""}
#: the page with one section per release, which other pages link a release's build date to
RELEASE_PAGE = "references/by-release.md"
SKILLS_DIR = "skills"
DEFAULT_SKILL = {
    "name": "sglang-qwen3-next-optimization",
    "description": (
        "PR-diff-backed optimization manual for SGLang's Qwen3-Next family (Qwen3-Next, its MTP head, "
        "Qwen3-Coder-Next and the Qwen3.5 hybrid paths they share), checked against SGLang 0.5.23. Use when "
        "choosing launch flags or sizing GPU memory for these models, chasing a regression across SGLang "
        "releases, locating a GDN kernel in SGLang's source, porting one to another engine, or when "
        "auditing, extending or debugging GatedDeltaNet/Mamba state, GDN decode/prefill/verify kernel "
        "backends, fused GDN projections, MTP/NEXTN verify, FP8/NVFP4/W8A8 loading, CPU offload, CUDA "
        "graphs, extra_buffer/no_buffer prefix caching with mixed chunk, or the NPU/AMD/Blackwell paths."
    ),
}

#: what by-release.md shows without release evidence
NO_RELEASES = {"groups": [], "reverted": [], "unplaced": [], "built": {}}

#: extra per-card facts shown in the manual, filled by other modules (evidence lock, drift, GPU results)
Annotator = Callable[[Card], list[str]]


@dataclass
class RenderInput:
    project: Project
    #: notes shown in each card's section (evidence, drift, releases)
    annotators: list[Annotator] = field(default_factory=list)
    #: the last GPU run of this repository's reference kernel for a card (an object with device, date,
    #: verdict, summary, parity, tests), shown apart from the cards, in references/reference-kernels.md
    gpu_runs: Callable[[Card], object | None] = lambda card: None
    #: the current changes by the release that first shipped them (an object with groups, reverted and
    #: unplaced, see dossier.for_version.by_release, and built: every release scanned -> its build date, so each
    #: gets a section), shown in references/by-release.md
    releases: object = None
    #: every release's flags and env vars, each with its first and last release (an object with releases, flags
    #: and env; see dossier.surface_history), shown for the names the routing pages mention, in references/flags.md
    surface: object = None
    #: PR -> the file that holds a card's key fragment in today's SGLang where drift found it moved (drift.lock's
    #: relocated verdicts), listed in references/by-file.md beside the file the PR changed
    moved: dict[int, str] = field(default_factory=dict)
    #: the files by-file.md lists that today's SGLang lacks (drift.lock's absent), each with the files of its name
    #: that it has; and the SGLang version drift compared against ("" without drift.lock)
    absent: dict[str, list[str]] = field(default_factory=dict)
    today: str = ""


#: the pages whose flags and env vars references/flags.md dates (what a reader is told to set)
SURFACE_PAGES = ("SKILL.md", "references/answers.md", "references/errors.md", "references/playbook.md")
#: the pages that date those names: flags.md by name, by-release.md by the release that added or dropped them
SURFACE_READERS = ("references/by-release.md", "references/flags.md")


def skill_config(project: Project) -> dict:
    config = project.config.get("skill", {})
    return {**DEFAULT_SKILL, **{k: v for k, v in config.items() if k in DEFAULT_SKILL}}


def skill_dir(project: Project) -> Path:
    """The installable skill's folder: skills/<name>/ (the folder name must equal the skill's name)."""
    return project.root / SKILLS_DIR / skill_config(project)["name"]


@functools.cache  # one per process: the templates are the package's, and a lint's manual-link check renders too
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dossier.render", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters.update(cell=markdown.cell, link_text=markdown.link_text, inline=markdown.inline, code=markdown.code,
                       code_cell=markdown.code_cell, prose=markdown.prose, md_cell=markdown.md_cell, joined=markdown.joined,
                       release_anchor=markdown.release_anchor, yaml_string=yaml_string)
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
    orphan_lanes = [Lane(lid, lid) for lid in by_lane if lid not in lane_titles]
    superseding: dict[int, list[int]] = {}
    for card in cards:
        for newer in card.superseded_by:
            superseding.setdefault(newer, []).append(card.pr)
    common = _common_validation(cards)
    return {
        "repo": project.repo,
        "skill": skill_config(project),
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
        "benches": _benches([c for c in cards if c.runtime.reference], inp.gpu_runs),
        # lane -> the benchmarks of its cards' reference kernels, each a section of its own in reference-kernels.md
        "lane_benches": {lid: sorted({c.runtime.bench for c in cs if c.runtime.reference and c.runtime.bench})
                         for lid, cs in by_lane.items()},
        "common_validation": common,
        "own_validation": {c.pr: _sglang_first([v for v in c.validation_lanes if v not in common]) for c in cards},
        "corrections": [c for c in sorted(cards, key=lambda c: c.pr) if c.corrections],
        "answers": _answers(project.answers),
        "answer_titles": answer_titles(project.answers),
        "investigation_order": project.investigation_order,
        "releases": inp.releases or NO_RELEASES,
        "release_sections": _release_sections(inp.releases or NO_RELEASES),
        "has_surface": inp.surface is not None,
        "shipped": _shipped_labels(cards, inp.releases or NO_RELEASES),
        "fixes": {c.pr for c in cards if c.is_fix},
        "stand_in_days": {c.pr for c in cards if merge_day_hedged(c)},
        "merges_inferred": {c.pr for c in cards if merge_inferred(c)},
        "since": _since_labels(inp.surface),
        "by_file": _by_file(cards, inp.moved, inp.absent, inp.releases or NO_RELEASES),
        "file_history": _get(inp.releases or NO_RELEASES)("files", None) is not None,
        "removals": _get(inp.releases or NO_RELEASES)("removals", set()),
        "today": inp.today,
        "oldest_release": inp.surface.releases[0] if inp.surface is not None and inp.surface.releases else "",
    }


#: a card validation line cited verbatim by this many cards is listed once, before the cards
COMMON_VALIDATION = 3


def _common_validation(cards: list[Card]) -> dict[str, list[int]]:
    """Validation lines several cards cite verbatim -> the PRs citing them (one source per fact)."""
    cited: dict[str, list[int]] = {}
    for card in cards:
        for line in dict.fromkeys(card.validation_lanes):
            cited.setdefault(line, []).append(card.pr)
    return {line: prs for line, prs in cited.items() if len(prs) >= COMMON_VALIDATION}


#: a validation line that needs this repository (its runtime/ references or tests/), not an SGLang checkout
_REPO_ONLY = re.compile(r"(?<![\w/.])(?:python3? -m (?:runtime|tests)\b|(?:tests/)?runtime[/.]\w|tests/runtime\b)")


def _sglang_first(lines: list[str]) -> list[dict]:
    """Validation lines with SGLang-native ones first; those needing this repository labelled as such."""
    tagged = [{"text": line, "repo_only": bool(_REPO_ONLY.search(line))} for line in lines]
    return sorted(tagged, key=lambda v: v["repo_only"])


def _answers(data: dict) -> dict:
    """The answer blocks with every optional field present (templates read them without guards)."""
    out: dict = {key: data.get(key) for key in ANSWERS.fields}
    if out["gdn_backends"]:
        rows = out["gdn_backends"]["rows"]
        out["gdn_backends"] = {**out["gdn_backends"], "rows": [r for r in rows if r["hardware"] in PRIMARY_HARDWARE],
                               "other_rows": [r for r in rows if r["hardware"] not in PRIMARY_HARDWARE]}
    out["checklists"] = [
        {**c, "entries": [{"flags": [], "where": "", "prs": [], "findings": [], **i} for i in c["items"]]}
        for c in data.get("checklists") or []
    ]
    # where by-release.md's release notes link to (none: a project without the upgrade block shows them unlinked)
    out["upgrade_block"] = UPGRADE_ANSWER if any(c["id"] == UPGRADE_ANSWER for c in out["checklists"]) else None
    out["errors"] = [
        {**g, "entries": [{"flags": [], "where": "", "prs": [], **i} for i in g["items"]]}
        for g in data.get("errors") or []
    ]
    return out


def _by_file(cards: list[Card], moved: dict[int, str], absent: dict[str, list[str]],
             releases: object = NO_RELEASES) -> list[dict]:
    """The SGLang files the cards change (their runtime files, the key fragment's file and where it sits today: its
    `today` place and the file drift found it moved to), by directory: each file with its cards in merge order, which
    is release order, and, for one today's SGLang lacks, the files of its name it has (``absent``, else None) and
    where drift found the key fragments of its cards (``moved_to``: each file with the PRs whose fragment is there),
    where its lines went release by release (``moves``, the releases' ``moved``; ``moves_there``: they end in the one
    file ``moved_to`` names) and the one file of its name when neither names it (``name_alike``).
    With the releases that changed each file recorded (``releases``' files), ``uncovered``: those where none of the
    file's cards shipped or dropped its change (a change no card covers), or None for a file whose releases were not
    recorded."""
    changes = _get(releases)("files", None)
    gone = _get(releases)("moved", None) or {}
    placed = _placed(releases)
    order = sorted(_get(releases)("built", None) or (), key=Version)
    by_path: dict[str, list[Card]] = {}
    for card in sorted(cards, key=_sort_key):
        for path in dict.fromkeys([*card.manual_files, *([moved[card.pr]] if card.pr in moved else [])]):
            by_path.setdefault(path, []).append(card)
    dirs: dict[str, list[dict]] = {}
    for path in sorted(by_path):
        moved_to: dict[str, list[int]] = {}
        if path in absent:
            for card in by_path[path]:
                if card.key_fragment.file == path and card.pr in moved:
                    moved_to.setdefault(moved[card.pr], []).append(card.pr)
        covered = {v for card in by_path[path] for v in placed.get(card.pr, ())}
        went = list(gone.get(path, ())) if path in absent else []
        named = absent.get(path) or []
        dirs.setdefault(path.rsplit("/", 1)[0] if "/" in path else ".", []).append(
            {"path": path, "cards": by_path[path], "absent": absent.get(path),
             "moved_to": [{"file": f, "prs": prs} for f, prs in sorted(moved_to.items())], "moves": went,
             # the moves end where the one key fragment named is: "there", not the path again
             "moves_there": bool(went) and list(moved_to) == [went[-1].file],
             # the one file of its name today: a lead, unless a key fragment or the moves already lead there
             "name_alike": named[0] if len(named) == 1 and named[0] not in {*moved_to, *(m.file for m in went)}
             else None,
             "in_wheel": in_wheel(path),
             "uncovered": _runs([v for v in changes[path] if v not in covered], order)
             if changes is not None and path in changes else None})
    used: set[str] = set()
    out = []
    for d, files in dirs.items():
        # "unified_cache/components" and "unified_cache_components" slug alike: the later one is numbered
        slug = anchor = "dir-" + (re.sub(r"[^0-9a-z]+", "-", d.lower()).strip("-") or "root")
        n = 1
        while anchor in used:
            n += 1
            anchor = f"{slug}-{n}"
        used.add(anchor)
        out.append({"dir": d, "anchor": anchor, "files": files})
    return out


def _runs(versions: list[str], order: list[str]) -> list[str]:
    """``versions`` with each run of three or more releases that follow one another in ``order`` (every release
    scanned) written "first..last"."""
    at = {v: i for i, v in enumerate(order)}
    runs: list[list[str]] = []
    for v in versions:
        if runs and v in at and runs[-1][-1] in at and at[v] == at[runs[-1][-1]] + 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    return [f"{r[0]}..{r[-1]}" if len(r) >= 3 else v for r in runs for v in ([r[0]] if len(r) >= 3 else r)]


def _get(releases) -> Callable:
    """A reader of ``releases``' parts by name: a mapping (the manual's) or an object (tests build those)."""
    return releases.get if isinstance(releases, dict) else lambda key, default=None: getattr(releases, key, default)


def _placed(releases) -> dict[int, set[str]]:
    """PR -> the releases that shipped its change, and dropped it for a change taken out; with ``touched`` (every card,
    whatever its status: the releases its quoted line arrived in or left), those too."""
    get = _get(releases)
    placed: dict[int, set[str]] = {pr: set(vs) for pr, vs in (get("touched", None) or {}).items()}
    for g in get("groups", []):
        for p in g.landed:
            placed.setdefault(p.card.pr, set()).add(p.version)
    for r in get("reverted", []):
        placed.setdefault(r.card.pr, set()).update(v for v in (r.placed and r.placed.version, r.gone_in) if v)
    return placed


def _shipped_labels(cards: list[Card], releases) -> dict[int, str]:
    """PR -> what a PR list on the routing pages says after its link: the release that first shipped its change
    ("0.5.15"), with the one that dropped it for a change taken out ("0.5.6, gone in 0.5.10"), "open" or "not merged"
    for a PR that never merged, "merge inferred" after the release where the card could only infer that its PR merged
    (the change shipped; the record of the PR's merge is missing); no entry where no release diff places the change."""
    get = _get(releases)
    labels = {p.card.pr: p.version for g in get("groups", []) for p in g.landed}
    for r in get("reverted", []):
        if r.placed is not None:
            labels[r.card.pr] = r.placed.version + (f", gone in {r.gone_in}" if r.gone_in else "")
    for card in cards:
        if card.merged_at is None and card.state in ("open", "closed"):
            labels[card.pr] = "open" if card.state == "open" else "not merged"
        elif card.pr in labels and merge_inferred(card):
            labels[card.pr] += ", merge inferred"
    return labels


def _since_labels(surface) -> dict[str, str]:
    """Flag or env var -> what a Flags list says after its name: the first release whose source has it, where that is
    newer than the oldest release read ("from 0.5.15"), and the one that no longer has it ("gone in 0.5.20")."""
    if surface is None or not surface.releases:
        return {}
    oldest, newest = surface.releases[0], surface.newest
    after = dict(zip(surface.releases, surface.releases[1:], strict=False))
    labels = {}
    for spans in (surface.flags, surface.env):
        for name, span in spans.items():
            parts = ([f"from {span.first}"] if span.first != oldest else []) + (
                [f"gone in {after[span.last]}"] if span.last != newest and span.last in after else [])
            if parts:
                labels[name] = ", ".join(parts)
    return labels


def _release_sections(releases) -> list[dict]:
    """One section per release scanned, newest first (each gets a stable anchor, whether or not a change the
    manual cites landed in it): the current changes it first shipped, and the merged ones whose line it dropped."""
    get = _get(releases)
    groups = {g.version: g for g in get("groups", [])}
    built = {**{v: g.built for v, g in groups.items()}, **(get("built", None) or {})}
    gone: dict[str, list] = {}
    for r in get("reverted", []):
        if r.gone_in:
            gone.setdefault(r.gone_in, []).append(r)
    return [{"version": v, "built": built[v], "landed": groups[v].landed if v in groups else (),
             "gone": gone.get(v, [])} for v in sorted(built, key=Version, reverse=True)]


def _benches(cards: list[Card], runs: Callable[[Card], object | None]) -> list[dict]:
    """This repository's benchmarks, each with the cards whose reference it measures, their last GPU runs, the
    newest of those runs that printed the benchmark's summary (one card re-run later carries newer numbers than
    the first card's), and the cards whose run failed (the benchmark's verdict is theirs, not its first card's)."""
    benches: dict[str, dict] = {}
    for card in cards:
        b = benches.setdefault(card.runtime.bench, {"module": card.runtime.bench, "cards": [], "summary": None,
                                                    "failed": []})
        run = runs(card)
        b["cards"].append({"card": card, "run": run})
        if run is not None and run.summary and (b["summary"] is None or _newer(run, b["summary"])):
            b["summary"] = run
        if run is not None and not run.ok:
            b["failed"].append(card.pr)
    return sorted(benches.values(), key=lambda b: b["module"])


def _newer(run, than) -> bool:
    """Whether ``run``'s benchmark numbers were measured after ``than``'s (by the benchmark's day, then the run's)."""
    return (run.bench_date or run.date, run.date) > (than.bench_date or than.date, than.date)


class BrokenTemplate(Unjudgeable):
    """A template of dossier's own cannot be read or rendered: the installation, not the cards, is at fault."""


def _template_failure(exc: Exception, template: str) -> BrokenTemplate:
    """The error naming the template file and line where it is known (a syntax error's own, else the deepest
    template frame of the traceback, which jinja2 maps back to template lines)."""
    where = template
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.lineno:
        where = f"{exc.name or template}:{exc.lineno}"
    else:
        tb = exc.__traceback__
        while tb is not None:
            name = tb.tb_frame.f_code.co_filename  # jinja2 rewrites a template's frames to its file and lines
            if name.endswith(".j2") or name == "<template>":
                where = f"{Path(name).name if name.endswith('.j2') else template}:{tb.tb_lineno}"
            tb = tb.tb_next
    why = f"{type(exc).__name__}: {exc}" if not isinstance(exc, jinja2.TemplateNotFound) else f"no template {exc}"
    return BrokenTemplate(f"dossier/render/templates/{where}: {why} (dossier's own template is broken, not the cards: "
                          "reinstall dossier or fix the template)")


def render_documents(inp: RenderInput) -> dict[str, str]:
    """Every output file (path relative to the skill folder -> text); every `#NNNN` is a link."""
    env = _env()
    ctx = _context(inp)
    releases = {r["version"] for r in ctx["release_sections"]}
    docs: dict[str, str] = {}
    for out, template in TEMPLATES.items():
        if out in SURFACE_READERS and "surface" not in ctx:  # dates what the pages rendered before it name
            ctx["surface"] = _surface_rows([docs[p] for p in SURFACE_PAGES], inp.surface)
            _add_explained_in(ctx["surface"], {p: docs[p] for p in EXPLAINING_PAGES})
        try:
            text = env.get_template(template).render(**ctx)
        except (jinja2.TemplateError, UnicodeDecodeError) as exc:
            raise _template_failure(exc, template) from None
        page = CARD_PAGE.get(out, "pr-history.md")
        header, text = markdown.front_matter(text)  # YAML an installer reads: no links, as configured
        text = markdown.link_prs(text, lambda n, issue, page=page: _pr_target(n, page, ctx, issue))
        if out != RELEASE_PAGE:
            text = markdown.link_releases(text, _relative(RELEASE_PAGE, out), releases)
        if out in CONTINUED_PAGES:
            text = sections.continued(text)
        docs[out] = header + text
    return docs


def _surface_rows(pages: list[str], surface) -> dict:
    """The SGLang flags and SGLANG_* env vars ``pages`` name, each with the first and last release that had it
    (names the surface lock does not know, and flags given to other programs, are left out), and the release
    that no longer has it ('' while the newest does)."""
    if surface is None:
        return {"first": "", "newest": "", "flags": [], "env": []}
    named = {FLAG: set(), ENV: set()}
    for page in pages:
        for m in find_mentions(page):
            if m.kind == ENV or (m.kind == FLAG and is_sglang_command(m.command)):
                named[m.kind].add(m.text)
    rows = {}
    after = dict(zip(surface.releases, surface.releases[1:], strict=False))  # each release -> the next one read
    for kind, lock_kind in ((FLAG, "flags"), (ENV, "env")):
        spans = {n: span for n in sorted(named[kind]) if (span := surface.span(lock_kind, n))}
        rows[kind] = [{"name": n, "first": s.first, "last": s.last, "gone_in": after.get(s.last, ""),
                       "default": surface.defaults.get(n) if s.last == surface.newest else None,
                       "warned": _warned_words(surface.warned.get(n)) if kind == ENV else ""}
                      for n, s in spans.items()]
    return {"first": surface.releases[0] if surface.releases else "", "newest": surface.newest, "flags": rows[FLAG],
            "env": rows[ENV]}


def _warned_words(span) -> str:
    """"0.5.21 to 0.5.23 only warn that it is set" for the releases that name an env var only to warn ("" for none)."""
    if span is None:
        return ""
    return f"{span.first} only warns" if span.first == span.last else f"{span.first} to {span.last} only warn"


#: the pages whose sections flags.md sends a name to, in the order it prefers them (answers first)
EXPLAINING_PAGES = ("references/answers.md", "references/errors.md", "references/playbook.md")
#: how many sections flags.md links for one name (one: the flags table stays one short read)
EXPLAINED_IN = 1
_ANCHOR = re.compile(r'^<a id="([\w-]+)"></a>$', re.M)
#: an answer item's list of the names it has the reader set
_FLAGS_LIST = re.compile(r"Flags: ((?:`[^`]+`(?: \([^)]*\))?(?:, )?)+)\.")


def _title(section: str) -> str:
    """The heading line of a rendered section."""
    return next((line for line in section.splitlines() if line.startswith("#")), "")


def _add_explained_in(rows: dict, pages: dict[str, str]) -> None:
    """Give each flag and env var row the sections that say what it does (``explained``: (page, anchor) pairs, at most
    EXPLAINED_IN): sections whose items list it under "Flags:" first, then those whose heading names it, then those naming
    it most, answers before errors before the playbook."""
    scores: dict[str, list[tuple]] = {}
    for rank, (path, text) in enumerate(pages.items()):
        parts = _ANCHOR.split(text)
        for anchor, body in zip(parts[1::2], parts[2::2], strict=True):
            if anchor == "by-message":
                continue
            listed = {n for lst in _FLAGS_LIST.findall(body) for n in re.findall(r"`([^`]+)`", lst)}
            named = Counter(m.text for m in find_mentions(body) if m.kind in (FLAG, ENV))
            for name, count in named.items():
                scores.setdefault(name, []).append((name not in listed, name not in _title(body), -count, rank,
                                                    path.rsplit("/", 1)[1], anchor))
    for row in [*rows["flags"], *rows["env"]]:
        row["explained"] = [(page, anchor) for *_, page, anchor in sorted(scores.get(row["name"], []))[:EXPLAINED_IN]]


def _relative(target: str, page: str) -> str:
    """``target`` (a path in the skill folder) as a link from ``page`` (SKILL.md sits one level above references/)."""
    return target if "/" not in page else target.rsplit("/", 1)[1]


def _pr_target(pr: int, page: str, ctx: dict, issue: bool = False) -> str | None:
    """A card's section, else the PR (or, where the text calls it one, the issue) on GitHub; None for a number too
    short to be one of SGLang's."""
    if pr in ctx["known"]:
        return f"{page}#pr-{pr}"
    if not markdown.names_a_pr(str(pr)):
        return None
    return f"https://github.com/{ctx['repo']}/{'issues' if issue else 'pull'}/{pr}"


def write_documents(docs: dict[str, str], folder: Path) -> list[str]:
    """Write what changed under ``folder`` (byte for byte: a CRLF or BOM copy is rewritten); returns the paths
    written. The folder is swapped whole (:func:`dossier.folder_swap.replace_files`): a failure (a full disk, a
    path that cannot be written), an interrupt or a kill at any point leaves the old manual or the new one, never
    a mix, and other files in the folder are kept."""
    return replace_files(folder, {rel: text.encode() for rel, text in docs.items()})


def stale_documents(docs: dict[str, str], folder: Path) -> list[str]:
    """Outputs whose committed bytes under ``folder`` differ from what the cards produce (line ends and a BOM
    count: what an install copies is the bytes; a link standing for an output is stale: render replaces it)."""
    _no_file_in_the_way(folder)
    return [rel for rel, text in docs.items() if (folder / rel).is_symlink() or not (folder / rel).is_file()
            or (folder / rel).read_bytes() != text.encode()]


def unexpected_files(docs: dict[str, str], folder: Path) -> list[str]:
    """What the skill folder holds that render does not produce, which an install would carry too: files, links
    (dangling ones too), pipes and other non-files, and empty folders. A render running beside this one is not
    blamed for the temp files it is about to rename (a dead one's are)."""
    _no_file_in_the_way(folder)
    if not folder.is_dir():
        return []
    parents = {str(p) for rel in docs for p in Path(rel).parents}
    extra = []
    for top, dirs, files in os.walk(folder):  # links are listed, never followed
        for name in dirs + files:
            path = Path(top) / name
            rel = str(path.relative_to(folder))
            if rel in docs or in_progress(path):
                continue
            if rel in parents or (path.is_dir() and not path.is_symlink() and any(path.iterdir())):
                continue  # a folder render writes into, or one whose contents are listed one by one
            extra.append(rel)
    return sorted(extra)


#: what every page render writes says of itself: a SKILL.md holding it is a manual render wrote
RENDERED_MARK = "<!-- Generated by `dossier render`"


def other_renders(folder: Path) -> list[Path]:
    """Skill folders beside ``folder`` whose SKILL.md render wrote: a manual rendered under an earlier skill name,
    never updated again, which an install of the repository carries beside the current one."""
    if not folder.parent.is_dir():
        return []
    out = []
    for sibling in sorted(folder.parent.iterdir()):
        skill = sibling / "SKILL.md"
        if sibling.name != folder.name and sibling.is_dir() and not sibling.is_symlink() and skill.is_file():
            try:
                if RENDERED_MARK in skill.read_text(encoding="utf-8", errors="replace"):
                    out.append(sibling)
            except OSError:
                continue
    return out


def _no_file_in_the_way(folder: Path) -> None:
    """Raise (as render's write would) where a file stands in the place of the skill folder or a folder above it."""
    if any(p.exists() and not p.is_dir() for p in (folder, *folder.parents)):  # files.write_failure names it
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))
