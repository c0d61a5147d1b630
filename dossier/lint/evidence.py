"""D3xx: is each card's key fragment part of its PR's real change, and is the recorded proof still true?

With the PR in the fetch cache, the card is checked against the diff and the fetched metadata. Without it,
the evidence lock (cards/evidence.lock, written by `dossier lint --record`) stands in, and must still match
the card. A card with neither is reported as unverified: a warning that only --strict-evidence promotes.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dossier.cards import YamlDoc, read_yaml
from dossier.evidence import (
    ABSENT,
    AMBIGUOUS,
    CONTEXT,
    IMPORT,
    LOCK_FILE,
    NO_PATCH,
    NOT_CHANGED,
    PROBLEM_TEXT,
    RELEASE_DIFF,
    Located,
    LockEntry,
    LockError,
    changed_paths,
    diff_files,
    find_fragment,
    key_sha,
    lock_path,
    patch_missing,
    read_lock,
    read_lock_file,
)
from dossier.lint.registry import Finding, rule
from dossier.model import Card
from dossier.source_tree import in_wheel
from dossier.sources import not_utf8

if TYPE_CHECKING:
    from dossier.diff import DiffFile
    from dossier.sources.cache import Cache, CacheEntry

#: the warning --strict-evidence turns into an error (and --strict does not)
UNVERIFIED = "D301"


@dataclass(frozen=True)
class CardEvidence:
    entry: CacheEntry | None
    files: list[DiffFile] | None  # its parsed diff (None: not cached, or the text is not a diff)
    located: Located | None
    recorded: LockEntry | None


def _cache(ctx) -> Cache | None:
    """The run's fetch cache (None: no cache dir in this run)."""
    if ctx.cache_dir is None:
        return None
    if "cache" not in ctx.memo:
        from dossier.sources.cache import Cache

        ctx.memo["cache"] = Cache(ctx.cache_dir, ctx.project.repo)
    return ctx.memo["cache"]


def cache_entry(ctx, pr: int) -> CacheEntry | None:
    """The cached PR, or None (no cache dir in this run, not fetched, or damaged: D330)."""
    cache = _cache(ctx)
    return cache.get(pr) if cache is not None else None


def lock(ctx) -> tuple[dict[int, LockEntry], str | None]:
    """The evidence lock and why it could not be read (None when it could)."""
    if "lock" not in ctx.memo:
        try:
            ctx.memo["lock"] = (read_lock(ctx.project.root), None)
        except LockError as exc:
            ctx.memo["lock"] = ({}, str(exc))
    return ctx.memo["lock"]


def evidence(card: Card, ctx) -> CardEvidence:
    """What the cache and the lock say about ``card`` (computed once per lint run)."""
    memo = ctx.memo.setdefault("evidence", {})
    if card.pr not in memo:
        entry = cache_entry(ctx, card.pr)
        files = diff_files(entry) if entry else None
        no_patch = patch_missing(entry.meta) if entry else ()
        located = find_fragment(files, card.key_fragment, no_patch) if files is not None else None
        memo[card.pr] = CardEvidence(entry, files, located, lock(ctx)[0].get(card.pr))
    return memo[card.pr]


def _problem(card: Card, ctx, *problems: str) -> Located | None:
    located = evidence(card, ctx).located
    return located if located is not None and located.problem in problems else None


@rule(
    UNVERIFIED,
    "key fragment not verified against the PR's diff",
    scope="card",
    severity="warning",
    strict_exempt=True,
)
def unverified(card: Card, doc, ctx) -> Iterator[Finding]:
    from dossier.lint.releases import release_verdict

    ev = evidence(card, ctx)
    todo = f"dossier fetch {card.pr} && dossier lint --record"
    released = release_verdict(card, ctx)
    if ev.entry is None and ev.recorded is None and (released is None or released.kind != RELEASE_DIFF):
        beyond_releases = _beyond_releases(card)
        yield Finding(
            "key_fragment",
            f"unverified: #{card.pr} is not in the fetch cache nor in cards/evidence.lock, "
            "and no release diff proves it",
            hint=f"{todo} (only the PR's diff can: {beyond_releases})" if beyond_releases
            else f"{todo}; or, for a change that shipped, dossier releases verify --record",
        )
    elif ev.entry is not None and ev.files is None:
        yield Finding(
            "key_fragment",
            f"unverified: the cached diff of #{card.pr} is not a unified diff",
            hint=f"dossier fetch --refresh {card.pr}",
        )
    elif _problem(card, ctx, NO_PATCH):
        yield Finding(
            "key_fragment.file#value",
            f"unverified: the diff has no patch text for {card.key_fragment.file} (binary, too large, or a new mode only)",
            hint="fetch from a local clone (--source git), or choose a key file that has a patch",
        )


def _beyond_releases(card: Card) -> str | None:
    """Why no release diff can ever prove ``card``'s key fragment, or None where one may."""
    if card.state != "merged":
        return f"#{card.pr} was never merged"
    if not in_wheel(card.key_fragment.file):
        return f"no release wheel ships {card.key_fragment.file}"
    return None


@rule("D330", "the PR's fetch cache entry is damaged", scope="card", severity="warning")
def damaged_cache_entry(card: Card, doc, ctx) -> Iterator[Finding]:
    """An entry whose pr.diff or meta.json no longer matches the sha256 its provenance.json records (edited or cut
    since), or that is not JSON, UTF-8 or this PR's, or a saved diff an older `fetch --import` cached with CRLF line
    ends (`dossier fetch N` converts it), is never used: without this the card read as never fetched (D301's folded
    count). An entry a write left unfinished (no provenance.json) is absent, not damaged."""
    cache = _cache(ctx)
    why = cache.damaged(card.pr) if cache is not None and evidence(card, ctx).entry is None else None
    if why is not None:
        yield Finding("pr", f"the fetch cache entry of #{card.pr} is damaged ({why}): it is not used",
                      hint=cache.remedy(card.pr))


@rule("D302", "key_fragment.file is not a file the PR changed", scope="card")
def file_not_changed(card: Card, doc, ctx) -> Iterator[Finding]:
    located = _problem(card, ctx, NOT_CHANGED)
    if located:
        yield Finding(
            "key_fragment.file#value",
            f"#{card.pr} did not change {card.key_fragment.file}",
            hint=located.hint,
        )


@rule("D303", "key_fragment.match is not on a changed line", scope="card")
def match_not_changed(card: Card, doc, ctx) -> Iterator[Finding]:
    located = _problem(card, ctx, ABSENT, CONTEXT)
    if located:
        yield Finding(
            "key_fragment.match#value",
            f"match is {PROBLEM_TEXT[located.problem]} of {located.file.path} in #{card.pr}",
            hint=(located.hint or "") + _not_utf8(card, ctx, located.file.path),
        )


def _not_utf8(card: Card, ctx, path: str) -> str:
    """The hint's note that ``path``'s cached diff lost bytes to U+FFFD (a match quoting them cannot land), or ""."""
    lines = not_utf8(evidence(card, ctx).entry.provenance).get(path)
    return (f"; {lines} line(s) of {path} in the cached diff were not UTF-8 and hold U+FFFD where its bytes were: "
            "quote a part of the line without them") if lines else ""


@rule("D304", "key_fragment.match lands only on import lines of the diff", scope="card")
def match_on_import(card: Card, doc, ctx) -> Iterator[Finding]:
    located = _problem(card, ctx, IMPORT)
    if located:
        yield Finding(
            "key_fragment.match#value",
            f"match is {PROBLEM_TEXT[IMPORT]} of {located.file.path}; an import carries no change",
            hint=located.hint,
        )


@rule("D305", "key_fragment.match lands on changed lines in several hunks", scope="card")
def match_ambiguous(card: Card, doc, ctx) -> Iterator[Finding]:
    located = _problem(card, ctx, AMBIGUOUS)
    if located:
        n = len({h.hunk for h in located.hits})
        yield Finding(
            "key_fragment.match#value",
            f"match lands on changed lines in {n} unrelated hunks of {located.file.path}",
            hint=located.hint,
        )


@rule("D306", "files lists a file the PR did not change", scope="card")
def files_not_changed(card: Card, doc, ctx) -> Iterator[Finding]:
    ev = evidence(card, ctx)
    if ev.files is None:
        return
    changed = changed_paths(ev.files, ev.entry.meta)
    for group, paths in card.files.items():
        for i, path in enumerate(paths):
            if path not in changed:
                near = difflib.get_close_matches(path, sorted(changed), n=1, cutoff=0.6)
                hint = f"did you mean {near[0]}?" if near else f"the PR changed {len(changed)} path(s)"
                yield Finding(f"files.{group}[{i}]", f"#{card.pr} did not change {path}", hint=hint)


def _facts(card: Card, ctx) -> dict:
    """Title, state and merge date of the fetched PR ({} when not cached; a saved diff knows none)."""
    entry = evidence(card, ctx).entry
    return entry.facts() if entry is not None else {}


@rule("D307", "title differs from the fetched PR title", scope="card")
def title_differs(card: Card, doc, ctx) -> Iterator[Finding]:
    title = _facts(card, ctx).get("title")
    if title is not None and card.title.strip() != title.strip():
        yield Finding("title#value", "title differs from GitHub's", hint=f"title: {title!r}")


@rule("D308", "state or merged_at differs from the fetched PR", scope="card")
def state_differs(card: Card, doc, ctx) -> Iterator[Finding]:
    facts = _facts(card, ctx)
    state, merged_at = facts.get("state"), facts.get("merged_at")
    if state is None:
        return
    if card.state != state:
        since = f" since {merged_at}" if state == "merged" else ""
        yield Finding(
            "state#value",
            f"card says {card.state} but the PR is {state}{since}",
            hint=f"set state: {state} and merged_at, then revisit status ({card.status})",
        )
    elif str(card.merged_at) != str(merged_at):
        yield Finding("merged_at#value", f"merged_at {card.merged_at} differs from the PR's {merged_at}")


@rule("D309", "key fragment changed after its evidence was recorded", scope="card")
def stale_evidence(card: Card, doc, ctx) -> Iterator[Finding]:
    recorded = evidence(card, ctx).recorded
    if recorded is not None and recorded.key_fragment != key_sha(card.key_fragment):
        yield Finding(
            "key_fragment",
            f"stale evidence: key_fragment changed after it was verified on "
            f"{recorded.recorded} (cards/evidence.lock)",
            hint=f"dossier fetch {card.pr} && dossier lint --record",
        )


@rule("D310", "the cached diff is not the one the evidence lock recorded", scope="card", severity="warning")
def diff_changed(card: Card, doc, ctx) -> Iterator[Finding]:
    ev = evidence(card, ctx)
    if ev.entry is None or ev.recorded is None or ev.recorded.key_fragment != key_sha(card.key_fragment):
        return
    cached = ev.entry.provenance.get("sha256")
    if cached and cached != ev.recorded.diff_sha256:
        yield Finding(
            "key_fragment",
            f"cached diff sha256:{cached[:12]} differs from the recorded "
            f"sha256:{ev.recorded.diff_sha256[:12]} (fetched again since?)",
            hint="dossier lint --record",
        )


@rule("D311", "a lock (evidence.lock, drift.lock, checked.lock, names.lock, messages.lock, surface.lock, pr-facts.json) is "
              "unreadable or malformed, committed but missing, or names a PR without a card", scope="project")
def bad_lock(ctx) -> Iterator[Finding]:
    from dossier.committed import committed_but_missing
    from dossier.drift import DRIFT_LOCK
    from dossier.drift import read_lock as read_drift_lock
    from dossier.lint.checked import CHECKED_LOCK, read_checked
    from dossier.lint.code_names import NAMES_LOCK, read_names
    from dossier.pr_facts import PR_FACTS, read_facts
    from dossier.printed import MESSAGES_LOCK, read_messages
    from dossier.surface_history import SURFACE_LOCK, SurfaceLockError, read_history

    root = ctx.project.root
    locks = ((DRIFT_LOCK, read_drift_lock, "run `dossier drift --record`"),
             (CHECKED_LOCK, read_checked, "take main's copy, then `dossier lint --record`"),
             (NAMES_LOCK, read_names, "run `dossier releases surface --record`"),
             (MESSAGES_LOCK, read_messages, "run `dossier releases surface --record`"),
             (SURFACE_LOCK, read_history, "take main's copy, or run `dossier releases surface --record`"),
             (PR_FACTS, read_facts, f"take main's copy (git checkout -- {PR_FACTS})"),
             (LOCK_FILE, None, "take main's copy, or run `dossier lint --record` and `dossier releases verify --record`"))
    cards_dir = root / "cards"
    for name, read, hint in locks:
        try:
            got = read(root) if read is not None else None
        except (LockError, SurfaceLockError) as exc:
            yield Finding("", str(exc), hint=hint, doc=YamlDoc(root / name), at=(getattr(exc, "line", None) or 1, 1))
            continue
        if name == DRIFT_LOCK:  # a verdict of a card since deleted or renamed: a stale lock, as for evidence.lock
            for pr in sorted(pr for pr in got[1] if not (cards_dir / f"{pr}.yaml").is_file()):
                yield Finding(f"cards.{pr}", f"{DRIFT_LOCK} records a verdict for #{pr}, which has no card",
                              hint="dossier drift --record drops it", doc=read_yaml(root / name))
    hints = {name: hint for name, _, hint in locks}
    for name in committed_but_missing(root, list(hints)):
        # a lock that is absent reads as "nothing recorded yet": the manual would lose what it recorded, unsaid
        yield Finding("", f"{name} is committed (git HEAD) but missing here: the manual would be rendered without "
                          "what it records", hint=f"git checkout -- {name}; or {hints[name]}",
                      doc=YamlDoc(root / name), at=(1, 1))
    path = lock_path(root)
    if not os.path.lexists(path):
        return
    entries, error = lock(ctx)
    if error:
        try:
            read_lock_file(path)
            line = 1
        except LockError as exc:  # where the file stops being YAML, when that is why
            line = exc.line or 1
        yield Finding("", error, at=(line, 1), hint="fix it (after a merge conflict: take main's copy and record again), or "
                      "delete it and run `dossier lint --record` and `dossier releases verify --record`", doc=YamlDoc(path))
    for pr in sorted(pr for pr in entries if not (cards_dir / f"{pr}.yaml").is_file()):
        yield Finding(
            f"cards.{pr}",
            f"evidence recorded for #{pr}, which has no card",
            hint="dossier lint --record drops it",
            doc=read_yaml(path),
        )


#: a path given a diff statistic in prose ("memory_pool.py (+280)", "linear.py (+12/-3)"): a file the PR changed
_STAT_PATH = re.compile(r"((?:[\w.-]+/)*[\w.-]+\.[A-Za-z]{1,5})`?\s*\(\+\d+(?:\s*/\s*-\d+)?\b")

#: a path the prose says the card's PR added, changed or deleted: "Adds python/sglang/.../x.py", "The PR also edits
#: test/registered/y.py", "It deletes `z.py`" (a sentence's own verb, or "this PR"/"the PR" right before it)
_CHANGED_PATH = re.compile(r"(?:(?:^|[.;:]\s+)(?:It |This PR |The PR |This change |The change )?|\b(?:this|the) PR )"
                           r"(?:also )?(?:adds|added|creates|created|introduces|introduced|changes|changed|modifies|"
                           r"modified|edits|edited|touches|touched|deletes|deleted|rewrites|rewrote|extends|extended)\s+"
                           r"(?:a |the |its )?(?:new )?(?:test |file |module |script )?`?((?:[\w.-]+/)+[\w.-]+\.(?:py|cu|"
                           r"cuh|cc|cpp|h|yaml|yml|md|sh|txt|toml|json))\b`?", re.IGNORECASE)


@rule("D320", "key_fragment.file, or a path the prose gives a diff statistic or says the PR added or changed, is not "
              "among the card's files", scope="card")
def unlisted_file(card: Card, doc, ctx) -> Iterator[Finding]:
    """The card's files are the PR's changed paths as far as the card knows them; its key fragment's file and
    any path it quotes with the PR's line counts ("memory_pool.py (+280)") or says the PR added, changed or deleted
    ("The PR adds test/registered/x.py") are changed paths too, so they are listed (the key file is D302's when the PR's diff is cached or recorded). A pointer (explain starting
    "Unverified:") names code the PR targeted, not a file it changed."""
    listed = card.all_files
    ev = evidence(card, ctx)
    # with the PR's diff cached or its evidence recorded, D302/D309 judge the key file against the diff itself
    if not card.key_fragment.pointer and card.key_fragment.file not in listed and ev.files is None and ev.recorded is None:
        yield Finding("key_fragment.file#value", f"{card.key_fragment.file} is not among the card's files",
                      hint="list it under files (runtime/tests/docs), or name the file the PR changed")
    for name in ("motivation", "implementation"):
        for m in _STAT_PATH.finditer(getattr(card, name)):
            path = m.group(1)
            if not any(f == path or f.endswith("/" + path) for f in listed):
                yield Finding(f"{name}#value", f"{name} gives {path} the PR's line counts ({m.group(0).split('(')[1]}), "
                                               "but the card's files do not list it",
                              hint="list the file under files, or drop the statistic if the PR did not change it")
        for m in _CHANGED_PATH.finditer(" ".join(getattr(card, name).split())):
            path = m.group(1)
            if not any(f == path or f.endswith("/" + path) for f in listed):
                yield Finding(f"{name}#value", f"{name} says the PR changed {path}, but the card's files do not list it",
                              hint="list the file under files (runtime, tests or docs), or say which PR changed it")


#: prose saying the key fragment was read from, or checked against, the PR's own diff ("From the PR diff", "verified
#: against #123's diff", "the PR's diff adds ...", "Evidence (PR diff)")
_PR_DIFF_SAID = re.compile(
    r"\b(?:from|in|per|against|according to|read (?:from|in)|verified (?:against|by|in)|checked (?:against|in)|"
    r"proven by|proved by|shown by|as)\s+(?:the |its |this )?(?:PR(?:'s)?|#(?P<pr>\d+)(?:'s)?|pull request(?:'s)?)"
    r"(?: own)? diff\b|"
    r"(?<!\w)(?:the |its |this )?(?:PR(?:'s)?|#(?P<pr2>\d+)(?:'s)?)(?: own)? diff (?:shows|adds|removes|changes|puts|holds|"
    r"proves|has|touches|replaces|moves|makes)\b|"
    r"\bEvidence \(PR diff\)", re.IGNORECASE)
#: a negation earlier in the clause ("no PR diff is stored", "not the PR diff", "without the PR's diff")
_NEGATED = re.compile(r"\b(?:no|not|never|without|nor|n't|instead of|rather than|unverified|lacks?|missing)\b",
                      re.IGNORECASE)
#: a card heading of the rendered pr-history.md and the PR-diff evidence line under it
_MANUAL_CARD = re.compile(r"^### #(\d+)\b", re.MULTILINE)
_MANUAL_PROOF = re.compile(r"\*\*Evidence \(PR diff\)\.\*\* Fragment verified against the PR's diff sha256:([0-9a-f]+)")


def _manual_proofs(ctx) -> dict[int, str]:
    """PR -> the diff sha256 prefix the committed manual (references/pr-history.md) shows as the card's proof: the
    record of what the lock held when the manual was last rendered."""
    if "manual_proofs" not in ctx.memo:
        from dossier.errors import DossierError
        from dossier.files import read_bytes
        from dossier.render import skill_dir

        out: dict[int, str] = {}
        try:
            text = read_bytes(skill_dir(ctx.project) / "references" / "pr-history.md").decode(errors="replace")
        except (OSError, DossierError):  # none (a project not rendered yet), or not a regular file: nothing shown
            text = ""
        heads = list(_MANUAL_CARD.finditer(text))
        for i, h in enumerate(heads):
            end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
            if (m := _MANUAL_PROOF.search(text, h.end(), end)) is not None:
                out[int(h.group(1))] = m.group(1)
        ctx.memo["manual_proofs"] = out
    return ctx.memo["manual_proofs"]


@rule("D328", "a card proven by its PR's diff (its prose says so, or the committed manual shows the proof) has no "
              "PR-diff evidence: not in the fetch cache, no entry in evidence.lock's cards section", scope="card")
def lost_pr_diff_evidence(card: Card, doc, ctx) -> Iterator[Finding]:
    """`dossier lint --record` keeps the proof of a card whose key fragment was found in its PR's diff; deleting
    that entry from cards/evidence.lock (with no cached diff) left only D301, the warning every honest card without
    a PR diff also gets. Two records show that a PR diff proved the card: its own prose ("From the PR diff",
    "verified against #N's diff", "the PR's diff adds ...", not negated in the clause: "no PR diff is stored"
    passes) and the committed manual's "Evidence (PR diff)" line under its heading in references/pr-history.md
    (what the lock held at the last render). Either one, with neither the cached diff nor a lock entry for the
    card, is an error; a card that never claimed a PR diff keeps D301."""
    from dossier.lint.depth import card_texts, clause_before, text_location

    ev = evidence(card, ctx)
    if ev.entry is not None or ev.recorded is not None or lock(ctx)[1] is not None:
        return
    shown = _manual_proofs(ctx).get(card.pr)
    if shown is not None:
        yield Finding("key_fragment", f"the committed manual shows #{card.pr} proven by its PR's diff "
                                      f"(sha256:{shown}), but cards/evidence.lock has no entry for it and the diff is "
                                      "not in the fetch cache: the proof was deleted",
                      hint=f"restore the entry (git log -p cards/evidence.lock), or dossier fetch {card.pr} && "
                           "dossier lint --record")
        return
    for path, text in card_texts(card):
        flat = " ".join(text.split())
        for m in _PR_DIFF_SAID.finditer(flat):
            cited = m.group("pr") or m.group("pr2")
            if (cited and int(cited) != card.pr) or _NEGATED.search(clause_before(flat, m.start())):
                continue
            yield Finding(text_location(path), f"says its evidence is the PR's diff ({m.group(0)!r}), but #{card.pr} "
                                               "has no PR-diff evidence: no entry in cards/evidence.lock, no cached "
                                               "diff",
                          hint=f"dossier fetch {card.pr} && dossier lint --record (or restore the deleted entry); if no "
                               "PR diff was read, say what the card rests on (a release diff, the description)")
            return


@rule("D329", "evidence.lock's cards section is not the one `dossier lint --record` sealed (an entry deleted or "
              "edited by hand)", scope="project")
def broken_cards_seal(ctx) -> Iterator[Finding]:
    """`dossier lint --record` writes a comment line with the sha256 of the cards section beside it (`releases
    verify --record` carries it over untouched). An entry deleted by hand leaves its card, in a clone without the
    fetch cache, with D301's warning, the one every honest card without a PR diff gets: the seal makes the edit
    an error. A lock without the line (written before seals, or with no PR-diff entry) is not judged, unless an
    entry holds the diff's code names (names:, recorded only since seals were); a lock that cannot be read is
    D311's."""
    if lock(ctx)[1] is None:
        yield from _broken_seal(ctx, "cards", "`dossier lint --record`", "an entry was deleted or edited by hand, and "
                                "the cards it proved now read as unverified (D301)",
                                "dossier fetch --all && dossier lint --record",
                                unsealed=("the diffs' code names (names:)", "a name added there would pass D621"),
                                newer=lambda section: any(isinstance(e, dict) and e.get("names")
                                                          for e in section.values()))


@rule("D341", "evidence.lock's releases section is not the one `dossier releases verify --record` sealed (edited by "
              "hand)", scope="project")
def broken_releases_seal(ctx) -> Iterator[Finding]:
    """`dossier releases verify --record` seals the releases section as `lint --record` seals the cards section
    (D329): the release lines, spans and build days the manual prints come from it, and CI, which has no release
    cache to scan, could not tell a hand edit ("added line(s) 240" for 236) from a recording. A lock without the
    seal line (written before it) is not judged, unless the section holds where deleted files went (moved:,
    recorded only since seals were); one that cannot be read is D311's."""
    if lock(ctx)[1] is None:
        yield from _broken_seal(ctx, "releases", "`dossier releases verify --record`", "a release line, span or day "
                                "was edited by hand (or the lock was cut short), and the manual prints it as the "
                                "releases' evidence", "dossier releases verify --record --cache-dir DIR",
                                unsealed=("where deleted files went (moved:)", "the manual prints it"),
                                newer=lambda section: bool(section.get("moved")))


def _broken_seal(ctx, name: str, writer: str, harm: str, again: str, unsealed: tuple[str, str],
                 newer: Callable[[dict], bool]) -> Iterator[Finding]:
    """A finding when section ``name`` of evidence.lock differs from the seal its writer left beside it, or has no
    seal line while it holds what only sealing writers record (``newer``; ``unsealed``: what that is, and the harm)."""
    from dossier.evidence import lock_section, section_seal
    from dossier.locks import section_digest

    seal = section_seal(ctx.project.root, name)
    try:
        section = lock_section(ctx.project.root, name)
    except LockError:
        return
    if seal is None:  # written before seals, unless it holds what only writers since seals record
        if isinstance(section, dict) and newer(section):
            held, lost = unsealed
            yield Finding(name, f"the {name} section holds {held}, which only {writer} writes, sealing the section, "
                                f"but the seal line is gone: the section was edited by hand, and {lost}",
                          hint=f"restore the lock (git diff cards/evidence.lock), or re-record it: {again}",
                          doc=YamlDoc(lock_path(ctx.project.root)), at=(1, 1))
        return
    sealed, line = seal
    now = section_digest(section)
    if now != sealed:
        yield Finding(name, f"the {name} section is not the one {writer} sealed (sha256 {sealed[:12]}, now "
                            f"{now[:12] if now else 'empty'}): {harm}",
                      hint=f"restore the section (git diff cards/evidence.lock), or re-record it: {again}",
                      doc=YamlDoc(lock_path(ctx.project.root)), at=(line, 1))
