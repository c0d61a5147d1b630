"""The manual as `dossier render` builds it: the cards plus their evidence and drift notes, and this
repository's GPU results for its reference kernels (kept apart from the cards); and what stops it from being
built (:func:`blockers`)."""

from __future__ import annotations

from dossier.diagnostics import Diagnostic
from dossier.drift import annotator as drift_notes
from dossier.drift import read_absent
from dossier.drift import read_lock as read_drift_lock
from dossier.evidence import annotator as evidence_notes
from dossier.evidence import read_lock
from dossier.for_version import by_release
from dossier.locks import LockError
from dossier.model import Card
from dossier.project import Project
from dossier.regress import gpu_annotator, gpu_runs
from dossier.release_evidence import RELEASE_DIFF, REMOVED, merge_dates, read_release_lock
from dossier.render import Annotator, RenderInput, render_documents
from dossier.surface_history import read_history


def annotators(project: Project) -> list[Annotator]:
    """The per-card notes the manual shows in each card's section: evidence lock, drift lock."""
    return [evidence_notes(project), drift_notes(project)]


def unreadable_locks(project: Project) -> list[str]:
    """Why each lock whose notes `dossier show` leaves out cannot be read (one line each)."""
    problems = []
    for read in (read_lock, read_release_lock, read_drift_lock):
        try:
            read(project.root)
        except LockError as exc:
            problems.append(str(exc))
    return list(dict.fromkeys(problems))


def card_notes(project: Project, card: Card) -> list[str]:
    """Everything recorded about a card, for `dossier show` (an unverified card says so)."""
    notes = [evidence_notes(project, unverified=True, strict=False), drift_notes(project, strict=False),
             gpu_annotator(project.root / "results")]
    return [note for annotate in notes for note in annotate(card)]


def releases(project: Project) -> dict | None:
    """The current changes by the release that first shipped them (None without release evidence; an
    unreadable lock raises LockError)."""
    lock = read_release_lock(project.root)
    if not lock.built:
        return None
    groups, reverted, unplaced = by_release(project, lock)
    # every merged card, whatever its status: the release that shipped its change, and the one that dropped it for a
    # change taken out (by-file's coverage: a release only a later rewrite of its line touched is another change's,
    # shown as "also changed in"; an unmerged PR's line in a release is another change's)
    dates = merge_dates(project.cards)
    verdicts = [(c, v) for c in project.cards if (v := lock.verdict(c, dates)) is not None]
    touched = {c.pr: {e.new.version for e in (v.shipped or v.evidence, None if c.status == "current" else v.removed)
                      if e} for c, v in verdicts if c.state == "merged"}
    # a card whose release diff shows its quoted line removed: the PR took the line out (its `today` is what stayed)
    removals = {c.pr for c, v in verdicts
                if v.kind == RELEASE_DIFF and v.evidence is not None and v.evidence.change == REMOVED}
    return {"groups": groups, "reverted": reverted, "unplaced": unplaced, "built": dict(lock.built),
            "files": lock.files, "moved": lock.moved, "touched": touched, "removals": removals}


def by_file_paths(project: Project) -> tuple[list[str], str | None]:
    """The SGLang files references/by-file.md lists (`releases verify --record` records the releases that changed
    each): every card's files and where drift found a key fragment moved; and, when cards/drift.lock cannot be read
    (lint's D311), why the moved ones are left out."""
    try:
        moved, why = set(moved_files(project).values()), None
    except LockError as exc:
        moved, why = set(), str(exc)
    return sorted({*(p for c in project.cards for p in c.manual_files), *moved}), why


def render_manual(project: Project) -> dict[str, str]:
    """Every rendered file (path relative to the skill folder -> text), with the notes recorded here."""
    return render_documents(RenderInput(project, annotators=annotators(project),
                                        gpu_runs=gpu_runs(project.root / "results"), releases=releases(project),
                                        surface=read_history(project.root), moved=moved_files(project),
                                        absent=read_absent(project.root), today=read_drift_lock(project.root)[0]))


def moved_files(project: Project) -> dict[int, str]:
    """PR -> the file drift.lock found a current card's key fragment moved to (its first place); current as the card
    says, not as the lock recorded it."""
    _, verdicts = read_drift_lock(project.root)
    current = {c.pr for c in project.cards if c.status == "current"}
    return {pr: e["found"][0]["file"] for pr, e in verdicts.items()
            if e.get("verdict") == "relocated" and e.get("found") and pr in current}


#: lint rules whose errors mean the manual would come out wrong or incomplete, so render refuses while any
#: fires: the schema family (a card, finding or lanes.yaml that cannot be read as written, a file under cards/
#: never read, text with control characters or over its length), a malformed or unreadable lock
#: (evidence.lock, drift.lock: D311, its releases section: D316), a lock cut short at an entry boundary, which is still
#: YAML and drops the cards past the cut from the manual: a card with no release evidence (D326: its release lines, and
#: by-release.md says no release places it), a cards section that is not the one `lint --record` sealed (D329: its
#: "Evidence (PR diff)" line) or a releases section that is not the one `releases verify --record` sealed (D341: its
#: release lines and spans, hand-edited), a card drift judges with no verdict (D332: its "SGLang <version>" note); two
#: cards for one PR or a card under another PR's name (D506, D507: one would silently replace the other); a name that leads
#: nowhere: a card's lane cards/lanes.yaml does not define (D501: a lane section of its own, with no title or
#: symptoms), a lane's answer block that is not defined (D513: its link dropped), an item's finding that
#: cards/findings/ does not hold (D514: a link to no section), an answer citing a PR with no card (D512) and a
#: markdown link written in a card, lanes.yaml or a finding that leads to no page or anchor (D523): dead links; a
#: finding whose lane is not defined (D702: its playbook link dropped, the raw lane id shown); a finding under another
#: name than its file's (D701: two findings of one name, one would silently replace the other); a successor that
#: contradicts the card: one with no card (D502: "by #N" links nowhere), a cycle (D503: each card "replaces" the
#: other) or a current card's (D505: "current by #N", and #N's card "replaces" a change still current)
RENDER_GUARD = ("D1", "D311", "D316", "D326", "D329", "D332", "D341", "D501", "D502", "D503", "D505", "D506", "D507",
                "D512", "D513", "D514", "D523", "D701", "D702")


def blockers(project: Project) -> list[Diagnostic]:
    """Why the manual cannot be rendered from ``project`` as it stands: the errors of the RENDER_GUARD rules (a
    missing cards/lanes.yaml is D100). Render and render --check refuse while there is any."""
    from dossier.lint import LintContext, run_lint

    return [d for d in run_lint(LintContext(project), select=RENDER_GUARD) if d.severity == "error"]
