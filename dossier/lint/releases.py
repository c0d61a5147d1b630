"""D312-D317: what the published SGLang releases say about each card (the `releases` section of
cards/evidence.lock, written by `dossier releases verify --record`).

The section keeps, per card, where its match is present across the releases and the release diffs that
added or removed it; the rules judge those facts against the card's state and merge date as it is now,
so a fixed merged_at clears its finding without a new scan.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from packaging.version import Version

from dossier.cards import read_yaml
from dossier.evidence import LockError, key_sha, lock_path, lock_section
from dossier.lint.registry import Finding, rule
from dossier.lint.state import _THIS_REPO_CITE, iso_day
from dossier.lint.state import WORD_DAY as _WORD_DAY
from dossier.model import Card
from dossier.release_evidence import ReleaseLock, Verdict, merge_dates, read_release_lock
from dossier.source_tree import in_wheel

VERIFY = "dossier releases verify --record --cache-dir DIR (a synced release cache: `dossier releases sync` fills one)"


def release_lock(ctx) -> tuple[ReleaseLock, str | None]:
    """The releases section and why it could not be read (None when it could)."""
    if "release_lock" not in ctx.memo:
        try:
            ctx.memo["release_lock"] = (read_release_lock(ctx.project.root), None)
        except LockError as exc:
            ctx.memo["release_lock"] = (ReleaseLock({}, {}), str(exc))
    return ctx.memo["release_lock"]


def release_verdict(card: Card, ctx) -> Verdict | None:
    """The card's release verdict (None: not scanned, or scanned for an earlier key fragment)."""
    memo = ctx.memo.setdefault("release_verdicts", {})
    if card.pr not in memo:
        if "merge_dates" not in ctx.memo:
            ctx.memo["merge_dates"] = merge_dates(ctx.project.cards)
        memo[card.pr] = release_lock(ctx)[0].verdict(card, ctx.memo["merge_dates"])
    return memo[card.pr]


def _findings(card: Card, ctx, code: str, path: str) -> Iterator[Finding]:
    v = release_verdict(card, ctx)
    for found, message in v.findings if v is not None else ():
        if found == code:
            yield Finding(path, message, hint=HINTS[code])


HINTS = {
    "D312": "check the merge date against the PR thread or a daily commit log; if it is right, the match is "
            "not a line this PR added",
    "D313": "a change merged weeks before a release is in it: check merged_at, state, and key_fragment.match "
            "(an opening day in cards/opened.lock at or below this PR number turns an impossible date into D405)",
    "D314": "choose a line the PR added that no earlier release holds (see `dossier releases verify`)",
    "D315": "check the PR's state; if it is right, choose a match only the PR's own lines carry (or, when no "
            "source holds them, say so: explain starting 'Unverified:', match naming the code the PR targeted)",
}


@rule("D312", "merged_at is later than the build of the first release that shipped the fragment", scope="card")
def merged_after_shipping(card: Card, doc, ctx) -> Iterator[Finding]:
    yield from _findings(card, ctx, "D312", "merged_at#value")


@rule("D313", "merged, yet the fragment is in no release built more than 14 days later", scope="card",
      severity="warning")
def not_shipped(card: Card, doc, ctx) -> Iterator[Finding]:
    """Only where the PR's diff holds the line (rewritten before a release, or shipped late); where nothing does,
    D340's error."""
    if _pr_diff_holds(card, ctx):
        yield from _findings(card, ctx, "D313", "key_fragment.match#value")


@rule("D340", "merged weeks before a release, yet neither a release nor the PR's diff holds its fragment: nothing "
              "shows the line ever existed", scope="card")
def line_nowhere(card: Card, doc, ctx) -> Iterator[Finding]:
    """A made-up or mistyped match on a merged card passed as D313's warning (and D301's, which every card without
    a fetched diff has): the manual then showed as the PR's key line one no source holds. The PR's diff (fetched,
    or recorded in evidence.lock) proves a line rewritten before any release; without it a merged change is in the
    releases built weeks after its merge, or the fragment is wrong."""
    if _pr_diff_holds(card, ctx):
        return
    v = release_verdict(card, ctx)
    for code, message in v.findings if v is not None else ():
        if code == "D313":
            said = message.replace(": not shipped, or the fragment is wrong", "")
            yield Finding("key_fragment.match#value", f"{said}, and no PR diff (fetched or recorded) holds it: "
                                                      "nothing shows the line ever existed",
                          hint="copy a line the PR added from a release that shipped it (`dossier releases verify` "
                               "names them), or fetch the PR's diff to prove a line rewritten before any release")


def _pr_diff_holds(card: Card, ctx) -> bool:
    """Whether the PR's diff proves the card's key fragment: a cached diff holding it on one changed place, or an
    evidence.lock entry recorded for this fragment."""
    from dossier.lint.evidence import evidence

    ev = evidence(card, ctx)
    if ev.recorded is not None and ev.recorded.key_fragment == key_sha(card.key_fragment):
        return True
    return ev.located is not None and ev.located.problem is None


@rule("D314", "key fragment is not distinctive: already in a release built before the merge", scope="card")
def not_distinctive(card: Card, doc, ctx) -> Iterator[Finding]:
    yield from _findings(card, ctx, "D314", "key_fragment.match#value")


@rule("D315", "an open or closed-unmerged PR's fragment appears in a release (a declared pointer: in none)",
      scope="card")
def unmerged_but_released(card: Card, doc, ctx) -> Iterator[Finding]:
    yield from _findings(card, ctx, "D315", "state#value")


@rule("D316", "release evidence is malformed or was recorded for an earlier key fragment (or without the card's "
              "key_fragment.today place, or for another)", scope="project")
def stale_release_evidence(ctx) -> Iterator[Finding]:
    lock, error = release_lock(ctx)
    path = lock_path(ctx.project.root)
    if error:
        try:
            lock_section(ctx.project.root, "cards")
        except LockError:
            return  # the whole file is unreadable or of another version or shape: D311 says so, once
        yield Finding("releases", error, hint=VERIFY, doc=read_yaml(path))
        return
    # reported on the card's key fragment (the text that changed): `dossier lint cards/N.yaml` shows it too
    for doc in ctx.project.valid_docs():
        card = Card.from_data(doc.data, doc.path)
        if (h := lock.cards.get(card.pr)) is not None and h.key_fragment != key_sha(card.key_fragment):
            yield Finding("key_fragment.match#value", f"release evidence of #{card.pr} was recorded on {h.recorded} "
                                                      f"for an earlier key fragment ({path.name}: releases.cards."
                                                      f"{card.pr})", hint=VERIFY, doc=doc)
        elif h is not None and card.key_fragment.today is not None and in_wheel(card.key_fragment.today.file) \
                and h.today_of(card) is None:  # a lock cut before its last entry's today, or today edited since
            which = "without its key_fragment.today place" if h.today is None else "for an earlier key_fragment.today"
            yield Finding("key_fragment.today.match#value", f"release evidence of #{card.pr} was recorded on "
                                                            f"{h.recorded} {which} ({path.name}: releases.cards."
                                                            f"{card.pr}.today): the releases that hold the code where "
                                                            "it lives today are left out of its release lines",
                          hint=VERIFY, doc=doc)


@rule("D317", "status current, yet the releases show its line gone and the card names no `today` place",
      scope="card")
def current_but_gone(card: Card, doc, ctx) -> Iterator[Finding]:
    if card.status != "current" or card.key_fragment.today is not None:
        return
    v, h = release_verdict(card, ctx), release_lock(ctx)[0].cards.get(card.pr)
    if v is None or h is None or v.shipped is None or v.removed is None or any(b == h.last for _, b in h.present):
        return  # never shipped, a removal that is the change itself, or back in the last release scanned
    e = v.removed
    yield Finding("status#value", f"status is current, but the line its key fragment quotes left SGLang in "
                                  f"{e.new.version} (built {e.new.built}) and is not in {h.last}",
                  hint="if a later PR replaced it, status superseded with superseded_by; if the behaviour lives "
                       "on in rewritten code, key_fragment.today naming where")


@rule("D339", "the line its key fragment quotes leaves the releases after it shipped and comes back, and the card "
              "does not say why", scope="card", severity="warning")
def line_away_and_back(card: Card, doc, ctx) -> Iterator[Finding]:
    """The manual then says "its line absent from 0.5.12 to 0.5.18, back in 0.5.19" and `for-version` places the
    change outside those releases. Often the code stayed and only the quoted line changed form there (#11214's
    class line gained a base class for seven releases): a match narrowed to what stayed says what a reader needs.
    Quiet where the card's prose names the release the line came back in (it then says why)."""
    v = release_verdict(card, ctx)
    if v is None or not v.away:
        return
    named = releases_named(card)
    for first, last, back in v.away:
        if back not in named:
            yield Finding("key_fragment.match#value",
                          f"the quoted line is in no release from {first} to {last} and back in {back}: the manual "
                          f"says the change was absent there",
                          hint="if the code stayed in another form (a renamed or added argument, a base class), "
                               "narrow key_fragment.match to the part that stayed; if it really left, say why and "
                               f"when it came back ({back}) in the card")


#: the PR said to take code out: "the PR deletes ...", "#19321 removed ...", "it drops ..."
_TAKES_OUT = re.compile(r"\b(?:remov(?:es|ed|ing)|delet(?:es|ed|ing)|drop(?:s|ped|ping)|strip(?:s|ped)|"
                        r"t(?:akes|ook) out|g(?:ets|ot) rid of|eliminat(?:es|ed))\b", re.IGNORECASE)
#: a clause that gives the removal to another change or a release (D327, D408 and D412 judge those), or only asks
#: for it
_OTHER_REMOVER = re.compile(r"#\d+|\b(?:later|afterwards?|since|follow-?ups?|successors?|reverts?|reverted|in "
                            r"(?:SGLang )?v?\d+\.\d+\.\d+|release|refactor|not|never|asked|suggest\w*|propos\w*|would|could|"
                            r"should|might)\b|n't\b", re.IGNORECASE)


@rule("D333", "prose says the PR removed the line its key fragment quotes, while the releases show the PR adding it",
      scope="card")
def said_removed_while_added(card: Card, doc, ctx) -> Iterator[Finding]:
    """"The PR deletes the isinstance(loaded_shard_id, tuple) check" on a card whose key fragment is that line, while
    the release evidence shows the line arriving in the release that first shipped the PR: the reader is told the
    opposite of what the change did. Judged where a clause quotes the whole match (whitespace aside) after a
    removal verb whose subject is this PR (the card's own #N, "the PR", "it": no other PR, no release, nothing
    "later" in the clause, no move: "removes it from a.py and adds it to b.py"); a card whose change is a removal
    (its line leaves SGLang in the release after the merge) is not judged."""
    from dossier.lint.depth import clause_before, prose_texts, text_location

    v = release_verdict(card, ctx)
    match = " ".join(card.key_fragment.match.split())
    if v is None or v.shipped is None or v.shipped.change != "added" or len(match) < 8:
        return
    for path, flat in prose_texts(card):
        start = 0
        while (at := flat.find(match, start)) >= 0:
            start = at + 1
            clause = clause_before(flat, at)
            verb = next(reversed(list(_TAKES_OUT.finditer(clause))), None)
            if verb is None:
                continue
            rest = re.split(r";|\.\s", flat[at + len(match):], maxsplit=1)[0]
            own = re.sub(rf"#{card.pr}\b", "", clause + rest)
            if _OTHER_REMOVER.search(own) or re.search(r"\b(?:adds?|added|introduc\w+|new|mov(?:es|ed|ing)|"
                                                       r"relocat\w+|replac\w+)\b", clause[verb.end():] + rest,
                                                       re.IGNORECASE):
                continue  # "removes X from a.py and adds it to b.py": a move
            yield Finding(text_location(path),
                          f"says the PR {verb.group(0).lower()} {match!r}, the line its key fragment quotes, but the "
                          f"releases show it arriving with the PR ({v.shipped.new.version}, built "
                          f"{v.shipped.new.built})",
                          hint="say what the PR added; if the change is a removal, quote a line it removed in "
                               "key_fragment.match")
            break


@rule("D318", "key_fragment.match is in another file of the PR, never in key_fragment.file (today's SGLang, "
              "the releases)", scope="card")
def match_in_another_file(card: Card, doc, ctx) -> Iterator[Finding]:
    """A merged card whose match no source shows in its named file, while today's SGLang holds it in another file
    the card lists as changed (or one named like it): the card names the wrong file. Not judged: a card whose PR
    diff is cached (D302/D303 read it), whose release evidence for this fragment saw it, or whose match moved
    with a file of the same name; an unmerged PR's line need be in no tree. Whatever the PR's state, a lock
    (evidence.lock's releases, drift.lock) that recorded this very match for this PR in another file places it
    there: only the file changed since."""
    from pathlib import PurePosixPath

    from dossier.lint.claims import surface
    from dossier.lint.evidence import evidence
    from dossier.lint.grounds import _release_trees

    kf = card.key_fragment
    s = surface(ctx)
    if s is None or evidence(card, ctx).files is not None:
        return
    history = release_lock(ctx)[0].cards.get(card.pr)
    recorded = _recorded_elsewhere(card, ctx, history)
    if recorded:
        yield Finding("key_fragment.file#value", f"{recorded[0]} recorded this match in {recorded[1]}, not in {kf.file}",
                      hint="name the file the evidence places the line in (a moved line: key_fragment.today)")
        return
    if card.state != "merged":
        return
    if history is not None and history.key_fragment == key_sha(kf) and history.present:
        return
    if _holds(s.tree, kf):
        return
    name = PurePosixPath(kf.file).name
    listed = set(card.all_files) - {kf.file}
    names = {PurePosixPath(f).name for f in listed} - {name}
    hits = [w.file for w in s.tree.search(kf.match) if w.lines]
    if any(PurePosixPath(h).name == name for h in hits):
        return  # moved with its file
    other = [h for h in hits if h in listed or PurePosixPath(h).name in names]
    if not other or any(_holds(tree, kf) for tree in _release_trees(ctx).values()):
        return
    yield Finding("key_fragment.file#value",
                  f"{kf.match!r} is not in {kf.file} in SGLang {s.tree.version} (nor in any release on record), "
                  f"but is in {', '.join(other[:2])}, a file this card lists as changed (or named like one)",
                  hint=f"key_fragment.file: {other[0]}, if that is where the PR wrote the line")


def _candidates(card: Card, history) -> set[str]:
    return ({e.file for e in history.events} if history is not None else set()) | set(card.all_files)


def _drift_entry(card: Card, ctx) -> dict | None:
    from dossier.drift import read_lock as read_drift_lock

    if "drift-lock" not in ctx.memo:
        try:
            ctx.memo["drift-lock"] = read_drift_lock(ctx.project.root)[1]
        except LockError:
            ctx.memo["drift-lock"] = None  # D311's finding
    return (ctx.memo["drift-lock"] or {}).get(card.pr)


@rule("D332", "a current, superseded or reverted card has no verdict in cards/drift.lock for its key fragment: the "
      "manual shows no 'SGLang <version>' note for it, or one telling its reader to run `dossier drift --record`",
      scope="card")
def drift_unrecorded(card: Card, doc, ctx) -> Iterator[Finding]:
    """A drift.lock cut at an entry boundary is still valid YAML: the cards past the cut lost their "SGLang 0.5.23:
    in place, file line N" notes from the manual with nothing said. Every card drift judges (current, superseded,
    reverted) has a verdict once drift.lock exists; a card added since the last `dossier drift --record` is the
    other way to get here. A verdict recorded for another key fragment (the match or file edited since) put "recorded
    for an earlier key fragment; run `dossier drift --record`" in the manual. Render and render --check refuse while
    it fires (one reading: drift.without_verdict). Not judged: no drift.lock yet, or one D311 reports unreadable;
    candidates and adjacent PRs."""
    from dossier.drift import DRIFT_LOCK, without_verdict

    if not os.path.lexists(ctx.project.root / DRIFT_LOCK):
        return
    entry = _drift_entry(card, ctx)
    recorded = ctx.memo["drift-lock"]  # None: D311's finding
    if recorded is None or not without_verdict(recorded, [card]):
        return
    if entry is None:
        yield Finding("status", f"#{card.pr} is {card.status} but has no verdict in {DRIFT_LOCK}: the manual shows no "
                                "note of where its line sits in today's SGLang (the lock cut short, or the card added "
                                "since it was recorded)", hint="dossier drift --record")
    elif entry.get("status") != card.status:
        yield Finding("status", f"#{card.pr}'s verdict in {DRIFT_LOCK} was recorded while it was {entry.get('status')}, "
                                f"not {card.status}: its note and by-file.md's rows would judge it by the old status",
                      hint="dossier drift --record")
    else:
        yield Finding("key_fragment.match", f"#{card.pr}'s verdict in {DRIFT_LOCK} was recorded for an earlier key "
                                            "fragment: the manual would tell its reader to run `dossier drift --record` "
                                            "instead of where the line sits in today's SGLang", hint="dossier drift --record")


def _recorded_elsewhere(card: Card, ctx, history) -> tuple[str, str] | None:
    """(lock, file) when a lock recorded this very match for this PR in another file than the card names (its
    sha256 is of file and match: the card changed only its file), else None."""
    from dataclasses import replace

    kf = card.key_fragment
    drift = _drift_entry(card, ctx)
    for lock, sha, extra in (("cards/evidence.lock", history.key_fragment if history else None, set()),
                             ("cards/drift.lock", (drift or {}).get("key_fragment"), {(drift or {}).get("file")})):
        if sha is None or sha == key_sha(kf):
            continue
        for f in sorted(f for f in _candidates(card, history) | extra if isinstance(f, str) and f != kf.file):
            if key_sha(replace(kf, file=f)) == sha:
                return lock, f
    return None


def _holds(tree, kf) -> bool:
    from dossier.source_tree import lines_with

    text = tree.text(kf.file)
    return text is not None and kf.match in text and bool(lines_with(text, kf.match, kf.file))


#: "(first) shipped in 0.5.11" (or "shipped with", "went out in"), "0.5.11 was the first release to carry it", "the
#: first release to ship it was 0.5.11", "available since 0.5.11"; whose: the nearest "#N" before it in its clause,
#: else the card's own PR
#: what names the card's line in a few words of its own: "the tuple branch", "this gating kernel" (see _grounded)
_LINE_NOUN = (r"(?:change|fix|kernel|code|line|lines|check|branch|path|call|guard|patch|optimi[sz]ation|feature|logic|"
              r"workaround|condition|dispatch|assignment|wrapper|helper|export|revert|hook)")
_DESCRIBED = rf"(?:the|this|its) (?:[\w`().-]+ ){{1,2}}?{_LINE_NOUN}"
#: the card's change as "this ...": "this change", "this fix", "this PR"
_THIS_CHANGE = r"\bthis (?:change|fix|PR|kernel|code|line|call|helper|export|revert)\b"
#: the card's change named as such ("this change", "its line", "the tuple branch"); not "it", which may be anything
_NAMED_CHANGE = (rf"(?:{_THIS_CHANGE}|the (?:change|fix|kernel|line|code|call|"
                 r"helper|export|revert)|its (?:line|code|kernel|call|helper|export)|"
                 rf"{_DESCRIBED})\b")
_CHANGE = rf"(?:it\b|this(?= (?:is|was|remains)\b)|{_NAMED_CHANGE})"
_VER = r"(?:SGLang )?v?(\d+\.\d+\.\d+(?:\.post\d+)?)"
_FIRST_REL = (r"the (?:first|earliest)(?: tagged)? (?:SGLang )?(?:release|wheel) (?:(?:to (?:carry|ship|include|contain|have|hold)|containing|carrying|"
              r"including|holding|that (?:carries|ships|includes|contains|has|holds)) (?:it|this|(?:the|this) "
              r"(?:change|fix|line|code|kernel|revert))|with (?:it|this (?:change|fix|PR|line|code|kernel|revert)|"
              r"the (?:change|fix|lines?|code|call|entries)))\b")
_SHIPPED = re.compile(rf"\b(?<!last )(?<!never )(?P<first>first )?(?:shipped|ships|released|landed|went out|came out|"
                      rf"(?<=first )(?:available|included|present)) (?:in|with) (?:the )?{_VER}\b|"
                      # "the tuple branch first appeared in 0.5.11", "it made it into 0.5.11": the card's change arriving
                      rf"\b{_CHANGE} (?:(?:was|were|is|has|had) )?(?:first )?(?:appeared|appears|arrived|made it|"
                      rf"debuted|debuts|introduced|became available|new) (?:in|into|with) (?:the )?{_VER}\b|"
                      # "it made the 0.5.9 release", "it is in 0.5.8 and every later release"
                      rf"\b{_CHANGE} made (?:it into )?the {_VER} (?:release|wheel)|"
                      rf"\b{_CHANGE} (?:is|was|has been) in {_VER} and (?:every|each|all) (?:later|newer|subsequent) "
                      r"(?:release|wheel)s?|"
                      # "needs SGLang 0.5.11 or later", "upgrade to 0.5.11 to get this fix": where it first is
                      rf"\b(?:needs?|requires?|upgrade to) {_VER}(?: or (?:later|newer|above)| to get {_NAMED_CHANGE})|"
                      rf"\b(?:needs?|requires?) [`'\"]?sglang ?>= ?v?(\d+\.\d+\.\d+(?:\.post\d+)?)\b|"
                      rf"\bpart of {_VER} (?:onwards|and later|on)\b|"
                      r"\b(?:available|shipping|shipped|released|present|in SGLang|part of SGLang|in every release|"
                      r"in the wheels?|"
                      r"(?:every|each|all) (?:SGLang )?(?:release|wheel)s?) "
                      rf"(?:since|from) {_VER}(?![\w.]*\d)(?! ?(?:to|through|until|-) )|"
                      rf"{_VER}(?: wheel| release)?(?: \([^()]{{0,40}}\))?,? \(?(?:(?:was|is|became) )?{_FIRST_REL}|"
                      # "it landed in time for 0.5.6": the release it went out in
                      rf"\b{_CHANGE} (?:(?:was|were) )?(?:landed|shipped|merged|made it|got in) in time for (?:the )?{_VER}\b|"
                      rf"{_FIRST_REL} (?:was|is) {_VER}(?![\w.]*\d)|"
                      # "0.5.9 (built 2026-02-23) already carries it": a release said to hold the change
                      rf"(?P<held>{_VER})(?: wheel| release)?(?: \([^()]{{0,40}}\))? (?:(?:already |still )?(?:carries|holds|"
                      rf"includes|contains|has)|(?:already|still) ships) (?:it\b|{_NAMED_CHANGE})",
                      re.IGNORECASE)
_CITE = re.compile(r"#(\d+)\b")
#: two PRs as one subject: "#18917 and #32919 shipped in ..."
_SEVERAL = re.compile(r"#\d+\]?(?:\([^()\s]*\))?,? (?:and|or|&) \[?#\d+\]?(?:\([^()\s]*\))?(?: (?:both|each|all))? ?$")
#: after the release, a word that sets the subject apart from the card's change: "..., months before this kernel",
#: "0.5.10 and 0.5.19 respectively"
_OTHER_SUBJECT = re.compile(r"\b(?:respectively|before (?:this|it)\b|ahead of this|prior to this|earlier than this)",
                            re.IGNORECASE)
#: what a PR did to the code: "#22462 replaced the cap with a floor in 0.5.11", "#28451 adds the ring in 0.5.15"
_CHANGED = (r"(?:replace[sd]|add(?:s|ed)|remove[sd]|fix(?:es|ed)|capp?(?:s|ed)|change[sd]|move[sd]|introduce[sd]|"
            r"rename[sd]|drop(?:s|ped)|made|makes)")
#: a relative clause about what a PR changed: "#28451 replaced the recurrent kernel that (shipped in 0.5.14)"
_ITS_OBJECT = re.compile(rf"#\d+\]?(?:\([^()\s]*\))? (?:\w+ )?{_CHANGED}\b[^.;#]*\b(?:that|which) (?:first )?$")
#: words that put the release on what the PR changed, not on the change: a problem seen there ("fixed the OOM in
#: 0.5.8"), code that came there ("replaced the kernel that shipped in 0.5.14"), a release that holds it too
_SEEN = re.compile(r"\b(?:seen|hit|report|observ|found|broke|regress|crash|bug|error|fail|present|existing|since|"
                   r"also|still|already|oom|hang|deadlock|nan|leak|race|stall|slow|wrong|mismatch|issue|problem|illegal|"
                   r"corrupt|that|which|added|introduced|shipped|made|landed|used|released|built)", re.IGNORECASE)
#: a PR paired with the release it went out in: "(#28451, from 0.5.15)", "from 0.5.15 ([#28451](...)",
#: "fixed in 0.5.11 by #23062", "(fixed in 0.5.21, #40310", "merged in 0.5.22 (#29318", "(0.5.19, [#32919](...))",
#: "#35081 (0.5.17)", "#35081 (0.5.17+)", "#35081 (v0.5.17, 2026-08-30)"
_PR = r"\[?#(?P<pr>\d+)\]?(?:\([^()\s]*\))?"
_PAIRED = re.compile(rf"{_PR},? (?:from|since) (?:SGLang )?v?(?P<v>\d+\.\d+\.\d+(?:\.post\d+)?)(?![\w.]*\d)|"
                     r"\b(?:from|since|(?:fixed |merged )?(?:in|as of)) (?:SGLang )?v?(?P<v2>\d+\.\d+\.\d+(?:\.post\d+)?)(?![\w.]*\d)"
                     r"(?: \(| by |, )\[?#(?P<pr2>\d+)\b|"
                     # "(0.5.19, [#32919](...))": a release and the PR that brought it, in one bracket
                     r"\((?:SGLang )?v?(?P<v3>\d+\.\d+\.\d+(?:\.post\d+)?), \[?#(?P<pr3>\d+)\b|"
                     # "#22462 replaced the cap with a floor in 0.5.11": the PR's change, said to come in a release
                     rf"\[?#(?P<pr4>\d+)\]?(?:\([^()\s]*\))? (?:then |later )?{_CHANGED}\b(?P<what>[^.;:#()]{{0,50}}?) "
                     r"in (?:SGLang )?v?(?P<v4>\d+\.\d+\.\d+(?:\.post\d+)?)(?![\w.]*\d)(?!['\u2019]s)|"
                     # "since #35081 (0.5.17)", "#35081 (first in 0.5.17)", "#35081 (merged 2026-08-30, 0.5.17)": the
                     # PR and, in its bracket, its release
                     r"\[?#(?P<pr5>\d+)\]?(?:\([^()\s]*\))? \((?:(?:merged (?:on )?)?\d{4}-\d{2}-\d{2}[,;] )?"
                     r"(?:first (?:shipped )?in |shipped in |from |since )?"
                     r"(?:SGLang )?v?(?P<v5>\d+\.\d+\.\d+(?:\.post\d+)?)(?:\+| or later| onwards)?"
                     r"(?:[,;] (?:merged (?:on )?)?\d{4}-\d{2}-\d{2})?\)")
#: "From the 0.5.2 -> 0.5.3 release diff" ("0.5.2 to 0.5.3", "0.5.2 → 0.5.3", "... diff"): the change read from the
#: diff of the release it went out in
_RELEASE_DIFF = re.compile(r"(?<![\w.])(\d+\.\d+\.\d+(?:\.post\d+)?) ?(?:->|→| to ) ?(\d+\.\d+\.\d+(?:\.post\d+)?)"
                           r"(?<!\.)(?: release)? diff\b")
#: a release diff said to take code out: "The 0.5.20 -> 0.5.21 release diff deletes mem_cache/mamba_radix_cache.py"
_DIFF_TAKES_OUT = re.compile(r"\W*(?:\w+\W+){0,3}?(?:deletes|removes|drops|moves|renames|deleted|removed|dropped|moved|"
                             r"renamed|relocated)\b", re.IGNORECASE)
#: "it is also/still shipped in 0.5.23", "0.5.12 too": a release that holds the change, not the one it went out in
_ALSO = re.compile(r"\b(?:also|still|too|again|as well|even|remains?|stays?|kept|unchanged|as|when|as it was|as it)\W*"
                   r"(?:(?:is|was|been|being)\W+)?$", re.IGNORECASE)
_LATER = re.compile(r"\W*(?:and|or|through|to|until|-|onwards|on\b|too|as well|(?:and )?(?:later|every|each|all))",
                    re.IGNORECASE)
#: "0.5.20 was the last release to carry it", "the last release with it was 0.5.20"
_LAST_REL = r"the last (?:SGLang )?(?:release|wheel) (?:to (?:carry|ship|include|contain|have|hold) (?:it|this|the (?:change|fix|line|code))|with (?:it|this (?:change|fix|line|code|PR)))\b"
_LAST = re.compile(rf"{_VER}(?: wheel| release)?,? (?:(?:was|is) )?{_LAST_REL}|{_LAST_REL} (?:was|is) {_VER}(?![\w.]*\d)",
                   re.IGNORECASE)

#: "0.5.18 (built 2026-08-21) lacks the kernel", "0.5.19 does not have it", "not yet in 0.5.19": a release said to be
#: without the change
_LACKS = re.compile(rf"(?<![\w.]){_VER}(?: wheel| release)?(?: \([^()]{{0,40}}\))? (?:still )?(?:lacks|misses|is missing|"
                    rf"does not (?:have|carry|hold|include|contain|ship)|doesn't (?:have|carry|hold|include|contain|ship)|"
                    rf"has no trace of) {_CHANGE}|\b{_CHANGE} (?:is|was) (?:still )?(?:not|missing|absent) (?:yet )?"
                    rf"(?:in|from) {_VER}(?![\w.]*\d)|"
                    # "It missed the 0.5.10 release": the release went out without it
                    rf"\b(?:it|{_NAMED_CHANGE}|this PR|the PR) (?:just )?missed (?:the )?{_VER}|"
                    # "0.5.13 through 0.5.15 lack the code": each release of a span
                    rf"(?<![\w.-]){_VER}(?: (?:through|to|until) | ?[-\u2013] ?){_VER},? (?:all )?(?:still )?(?:lack|miss|"
                    rf"are missing|do not (?:have|carry|hold|include|contain|ship)|"
                    rf"don't (?:have|carry|hold|include|contain|ship)) "
                    rf"{_CHANGE}", re.IGNORECASE)

#: "this change is still in 0.5.23", "every release from 0.5.10 through 0.5.23 carries this line": a release, or each
#: release of a span, said to hold the change
_CARRY = r"(?:carries|carry|holds?|includes?|contains?|ships?|has|have)"
_HOLDS = re.compile(rf"\b{_CHANGE} (?:is|was|remains) still (?:in|present in|shipped in|part of) {_VER}(?![\w.]*\d)|"
                    rf"\b(?:every|each|all) (?:SGLang )?(?:release|wheel)s? from {_VER} (?:through|to|until) {_VER} "
                    rf"{_CARRY} {_CHANGE}|"
                    # "0.5.11 through 0.5.22 carry it", "Releases 0.5.7 to 0.5.20 carry this change"
                    rf"(?<![\w.-]){_VER} (?:through|to|until) {_VER},? (?:all )?{_CARRY} {_CHANGE}|"
                    # "the assignment was in every release from 0.5.10 to 0.5.20"
                    rf"\b{_CHANGE} (?:is|was) in (?:every|each|all) (?:SGLang )?(?:release|wheel)s? from {_VER} "
                    rf"(?:through|to|until) {_VER}(?![\w.]*\d)|"
                    # "From 0.5.10 on, every wheel has the call": each release from it to the newest
                    rf"\bfrom {_VER} on(?:wards)?,? (?:every|each|all) (?:SGLang )?(?:release|wheel)s? {_CARRY} "
                    rf"(?P<on>{_CHANGE})", re.IGNORECASE)


def _clause_after(flat: str, start: int) -> str:
    """Up to 40 characters of ``flat`` from ``start``, cut at the end of the clause (a ``;`` or a sentence end)."""
    from dossier.lint.depth import clause_after

    return clause_after(flat[:start + 40], start)


def _grounded(words: str, card: Card) -> bool:
    """Whether the subject in ``words`` ("the tuple branch is still in 0.5.23") is the card's line: "it", "this
    change" and the like, or a phrase whose describing words are all in its key fragment's match or its title (or
    are the plain words of _OWN_SUBJECT): "the tuple branch" under the match "isinstance(loaded_shard_id, tuple)".
    Any other phrase ("the helper branch") may be about other code, and is not judged; nor is a code name the match
    does not hold whole: "the `fused_recurrent_gated_delta_rule_update` call" is that function's, judged as a name,
    even where the PR's title names it (#19775's line is `is_kda=False`)."""
    m = re.search(rf"\b(?:the|this|its) ((?:[\w`().-]+ ){{1,2}}?){_LINE_NOUN}\b", words, re.IGNORECASE)
    if m is None:
        return True
    text = f"{card.key_fragment.match} {card.title}"
    own = set(re.findall(r"[a-z0-9]+", text.lower()))
    for token in m.group(1).split():
        name = token.strip("`().-")
        if ("`" in token or "_" in name or "(" in token) and not re.search(rf"(?<!\w){re.escape(name)}(?!\w)",
                                                                          card.key_fragment.match):
            return False
    described = [w for w in re.findall(r"[a-z0-9]+", m.group(1).lower())]
    return all(w in own or w in _OWN_SUBJECT for w in described)


@rule("D319", "prose says a PR shipped (first, or last) in a release, or is missing from one, that the release evidence "
              "contradicts (or it never merged)",
      scope="card")
def shipped_in(card: Card, doc, ctx) -> Iterator[Finding]:
    """"First shipped in 0.5.9" (or "landed in", "shipped with", "went out in"; "0.5.9 was the first release to carry
    it" and "the first release to ship it was 0.5.9" name a first release; "available since v0.5.9" or "in SGLang since 0.5.9" names a first
    release too, not "present from 0.5.10 through 0.5.13", a span) where the releases first hold the card's line in
    0.5.10, or a closed PR's card saying its change shipped: the release story a reader trusts is wrong. Judged against the release evidence recorded for the current key fragment of
    the PR named (the card's own, or the nearest #N before it in the clause); a PR without a card, or without
    fresh evidence, is not judged. "0.5.20 was the last release to carry it" (or "the last release with this
    change was 0.5.20") is judged against the last release holding the line; "every wheel since 0.5.9" (or
    "in every release from 0.5.9 on") and "first available in 0.5.9" name a first release. "0.5.19 lacks the
    kernel" (does not have it, "it is not yet in 0.5.19") is wrong when 0.5.19 holds the line; "this change is still
    in 0.5.23" and "every release from 0.5.10 through 0.5.23 carries this line" are wrong when one of them lacks it.
    A PR paired with a release ("#28451, from 0.5.15", "from 0.5.15 (#28451)", "fixed in 0.5.11 by #23062", "#22462
    replaced the cap with a floor in 0.5.11", not "#23062 fixed the crash seen in 0.5.10", "... the OOM in 0.5.8" or
    "... the kernel that shipped in 0.5.14") names the release it first shipped in, as does the release diff its
    change is read from ("From the 0.5.2 -> 0.5.3 release diff": 0.5.3), unless the clause goes on to name another
    PR."""
    from dossier.lint.depth import card_texts, text_location

    for path, text in card_texts(card):
        for message, hint in release_story(" ".join(text.split()), card, ctx):
            yield Finding(text_location(path), message, hint=hint)


@rule("D343", "cards/lanes.yaml or a finding says a PR shipped (first, or last) in a release, or is missing from one, "
              "that the release evidence contradicts (D319's reading)",
      scope="project")
def shipped_in_manual(ctx) -> Iterator[Finding]:
    """D319 for the answers, errors and playbook of cards/lanes.yaml and the findings, where a statement is judged
    only for the PR it names: "ReplaySSM decode from 0.5.14 (#28451)" sent a 0.5.14 reader to a flag the release
    does not parse, and no rule read it."""
    from dossier.lint.flag_releases import lanes_and_finding_texts

    for doc, path, text, _ in lanes_and_finding_texts(ctx.project):
        for message, hint in release_story(" ".join(text.split()), None, ctx):
            yield Finding(path, message, hint=hint, doc=doc)


_FROM_VERIFY = "take the release from `dossier releases verify`, or fix the key fragment"
_SPANS_VERIFY = "take the releases from `dossier releases verify`, or fix the key fragment"


#: the card's own change named after another PR's number: "Unlike #32919 (0.5.19), this change shipped in 0.5.9"
_THIS_ONE = re.compile(_THIS_CHANGE, re.IGNORECASE)


def _named(flat: str, start: int, own: Card | None, ctx) -> Card | None:
    """The card of the PR a statement at ``start`` is about: the nearest #N (PR N, a link to it) before it in its
    clause, unless "this change" follows it, else ``own``."""
    from dossier.lint.depth import clause_before

    before = clause_before(flat, start)[-60:]
    cited = list(_THIS_REPO_CITE.finditer(before))
    if not cited or _THIS_ONE.search(before, cited[-1].end()):
        return own
    pr = int(cited[-1].group(1))
    return own if own is not None and pr == own.pr else ctx.project.card(pr)


def _spans(present) -> str:
    return ", ".join(a if a == b else f"{a}..{b}" for a, b in present)


def release_story(flat: str, own: Card | None, ctx) -> Iterator[tuple[str, str]]:
    """D319's (message, hint) pairs for one text (whitespace folded): each statement is about the PR it names, or
    ``own`` (None: a statement naming no PR is not judged)."""
    from dossier.lint.depth import clause_before

    lock = release_lock(ctx)[0]
    order = {v: i for i, v in enumerate(lock.built)}
    for m in _SHIPPED.finditer(flat):
        before, after = clause_before(flat, m.start())[-60:], _clause_after(flat, m.end())
        if (not _THIS_REPO_CITE.search(before) and _THIS_REPO_CITE.search(after)) or _SEVERAL.search(before) \
                or _OTHER_SUBJECT.search(after):
            continue  # "shipped in 0.5.11 through #20918", "#A and #B shipped in ...": whose it is, is not for a
            # pattern to decide; "X itself shipped in 0.5.2, before this kernel" is another change's release
        if _ITS_OBJECT.search(clause_before(flat, m.start())):
            continue  # "#28451 replaced the kernel that shipped in 0.5.14": the replaced kernel's release
        other = _named(flat, m.start(), own, ctx)
        if other is None or not _grounded(m.group(0), other):
            continue
        held = m.re.groupindex["held"]  # the whole "SGLang v0.5.9"; the version is the group inside it
        version = next(g for i, g in enumerate(m.groups(), 1) if i > 1 and i != held and g)
        # "It shipped in 0.5.11" names the release it went out in, as "first shipped in" does; "... also shipped
        # in", "still shipped in", "shipped in 0.5.11 and later releases" name one that holds it
        first = m.group("held") is None and not (m.group(2) is not None and not m.group("first") and (
            _ALSO.search(clause_before(flat, m.start())[-30:]) or _LATER.match(flat, m.end())))
        yield from _went_out(other, version, first, "first " if m.group("first") else "", lock, order, ctx)
    for m in _PAIRED.finditer(flat):
        if m.group("what") is not None and _SEEN.search(m.group("what")):
            continue  # "#23062 fixed the crash seen in 0.5.10": the release the problem was in
        other = ctx.project.card(int(next(m.group(g) for g in ("pr", "pr2", "pr3", "pr4", "pr5") if m.group(g))))
        if other is not None:
            yield from _went_out(other, next(m.group(g) for g in ("v", "v2", "v3", "v4", "v5") if m.group(g)), True,
                                 "first ", lock, order, ctx)
    for m in _RELEASE_DIFF.finditer(flat):
        after = _clause_after(flat, m.end())
        # another PR named in the clause ("#35632's", "PR 26287"): whose the change is, is not for a pattern to decide
        if (not _THIS_REPO_CITE.search(clause_before(flat, m.start())[-60:]) and _THIS_REPO_CITE.search(after)) \
                or _DIFF_TAKES_OUT.match(after):
            continue  # "...by the 0.5.18 -> 0.5.19 release diff: the exit is #35632's"; "... release diff deletes"
        other = _named(flat, m.start(), own, ctx)
        if other is not None:
            yield from _went_out(other, m.group(2), True, "first ", lock, order, ctx)
    for m in _LACKS.finditer(flat):
        other = _named(flat, m.start(), own, ctx)
        h = lock.cards.get(other.pr) if other is not None else None
        said = [g for g in m.groups() if g and re.fullmatch(r"\d+\.\d+\.\d+(?:\.post\d+)?", g)]
        first, last = said[0], said[-1]
        if h is None or release_verdict(other, ctx) is None or first not in order or last not in order \
                or not _grounded(m.group(0), other):
            continue
        if any(a in order and b in order and order[a] <= order[last] and order[first] <= order[b]
               for a, b in h.present):
            which = f"{first} lacks" if first == last else f"{first} through {last} lack"
            yield (f"says {which} #{other.pr}'s change, but the releases hold its line there (present "
                   f"{_spans(h.present)})", _SPANS_VERIFY)
    for m in _HOLDS.finditer(flat):
        other = _named(flat, m.start(), own, ctx)
        h = lock.cards.get(other.pr) if other is not None else None
        said = [g for g in m.groups() if g and re.fullmatch(r"\d+\.\d+\.\d+(?:\.post\d+)?", g)]
        first, last = said[0], (next(reversed(lock.built), said[-1]) if m.group("on") else said[-1])
        if h is None or release_verdict(other, ctx) is None or first not in order or last not in order \
                or not _grounded(m.group(0), other):
            continue
        if not any(a in order and b in order and order[a] <= order[first] and order[last] <= order[b]
                   for a, b in h.present):
            span = first if first == last else f"every release from {first} through {last}"
            yield (f"says {span} holds #{other.pr}'s change, but the releases do not (present "
                   f"{_spans(h.present) or 'in no release scanned'})", _SPANS_VERIFY)
    for m in _LAST.finditer(flat):
        other = _named(flat, m.start(), own, ctx)
        h = lock.cards.get(other.pr) if other is not None else None
        version = m.group(1) or m.group(2)
        if h is None or release_verdict(other, ctx) is None or version not in order or not h.present:
            continue
        last = max((b for _, b in h.present if b in order), key=order.get, default=None)
        if last is not None and last != version:
            yield (f"says {version} was the last release with #{other.pr}'s line, but the releases hold it last in "
                   f"{last} (present {_spans(h.present)})", _FROM_VERIFY)


def _went_out(card: Card, version: str, first: bool, said: str, lock, order, ctx) -> Iterator[tuple[str, str]]:
    """D319's finding for a statement that ``card``'s PR shipped in ``version`` (``first``: the release it went out
    in, not only one that holds it)."""
    if card.state != "merged":
        yield (f"says #{card.pr} shipped in {version}, but #{card.pr} is {card.state}: an unmerged PR ships in no "
               "release", "say which merged PR carried the change, if one did")
        return
    v, h = release_verdict(card, ctx), lock.cards.get(card.pr)
    if v is None or h is None or version not in order:
        return
    if v.shipped is None:  # no release scanned holds its line: "shipped in 0.5.10" of a change reverted before it
        if not h.present:
            yield (f"says #{card.pr} {said}shipped in {version}, but no release scanned holds its line "
                   f"({h.first} .. {h.last})", _FROM_VERIFY)
        return
    shipped = v.shipped.new.version
    spans = [(a, b) for a, b in h.present if a in order and b in order and order[b] >= order[shipped]]
    held = any(order[a] <= order[version] <= order[b] for a, b in spans)
    if (first and version != shipped) or not held:
        yield (f"says #{card.pr} {said}shipped in {version}, but the releases first hold its line in {shipped} "
               f"(built {v.shipped.new.built}; present {_spans(spans)})", _FROM_VERIFY)


#: an SGLang release named as such: "SGLang 0.5.17.post4", "sglang==0.5.24", "v0.5.24", "0.5.24 wheel", bare "0.5.24";
#: a post release also as "0.5.8post2" or "0.5.8-post2" (forms pip reads as 0.5.8.post2)
_RELEASE_NAMED = re.compile(r"\bSGLang(?: |==)v?(\d+\.\d+\.\d+(?:[.-]?post\d+)?)(?![\w.]*\d)|"
                            r"(?<![\w.])(?:v(\d+\.\d+\.\d+(?:[.-]?post\d+)?)(?![\w.]*\d)|"
                            r"(\d+\.\d+\.\d+(?:[.-]?post\d+)?)(?: (?:wheel|release)\b|(?![\w.]*\d)))", re.IGNORECASE)


def _release_of(m: re.Match) -> str:
    """The release a :data:`_RELEASE_NAMED` match names, as evidence.lock writes it ("0.5.8post2" -> "0.5.8.post2")."""
    return re.sub(r"[.-]?post", ".post", (m.group(1) or m.group(2) or m.group(3)).lower())


def releases_named(card: Card) -> set[str]:
    """The SGLang releases the card's prose names ("0.5.19", "v0.5.19", "SGLang 0.5.19")."""
    from dossier.lint.depth import card_texts

    return {_release_of(m) for _, text in card_texts(card) for m in _RELEASE_NAMED.finditer(" ".join(text.split()))}


#: another package's version, which SGLang's numbering says nothing about ("FlashInfer v0.6.7")
_OTHER_PACKAGE = re.compile(r"\b(?:flashinfer|cutlass|cuda|torch|triton|transformers|vllm|fla|python|nccl|deepep|"
                            r"aiter|sgl-kernel|sgl_kernel)\S*\s*(?:[<>=]=?\s*)?$", re.IGNORECASE)


@rule("D322", "prose names an SGLang release that never existed (not among the built releases of evidence.lock)",
      scope="card")
def unknown_release(card: Card, doc, ctx) -> Iterator[Finding]:
    """"Backported to SGLang 0.5.17.post4", "fixed in v0.5.24": a release a reader would install, which SGLang
    never published. Judged against the releases evidence.lock lists as built (0.5.1 .. 0.5.23 here), from the
    first listed on: a version written "SGLang X" or "sglang==X", or a bare "X", "vX" or "X wheel" in their series
    (0.5.x). An older version, another package's version ("FlashInfer v0.6.7") or a project without the list is
    not judged."""
    from dossier.lint.depth import card_texts, text_location

    built = release_lock(ctx)[0].built
    for path, text in card_texts(card) if built else ():
        for message in _unreleased(text, built):
            yield Finding(text_location(path), message, hint=_UNRELEASED_HINT)


@rule("D342", "cards/lanes.yaml or a finding names an SGLang release that never existed (D322's reading)",
      scope="project")
def unknown_release_in_manual(ctx) -> Iterator[Finding]:
    """D322 for the texts the manual is rendered from besides the cards: the answers, errors and playbook of
    cards/lanes.yaml and the findings. "(fixed in 0.5.10.post2 by #22458)" in a playbook symptom sent 0.5.10 users
    to a release SGLang never published, and no rule read it."""
    from dossier.lint.flag_releases import lanes_and_finding_texts

    built = release_lock(ctx)[0].built
    for doc, path, text, _ in lanes_and_finding_texts(ctx.project) if built else ():
        for message in _unreleased(text, built):
            yield Finding(path, message, hint=_UNRELEASED_HINT, doc=doc)


_UNRELEASED_HINT = ("name a release that shipped it (`dossier releases verify`), or sync newer releases "
                    f"({VERIFY})")


def _unreleased(text: str, built) -> Iterator[str]:
    """What D322 says of each SGLang release ``text`` names that ``built`` (the releases scanned) lacks."""
    series, first, last = _series_and_ends(tuple(built))
    flat = " ".join(text.split())
    for m in _RELEASE_NAMED.finditer(flat):
        version = _release_of(m)
        # "SGLang 0.6.0" is SGLang's whatever its series; a bare "v0.6.0" only in the series of the releases
        if (version in built or (m.group(1) is None and ".".join(version.split(".")[:2]) not in series)
                or Version(version) < Version(first) or _OTHER_PACKAGE.search(flat[:m.start()][-40:])):
            continue
        newer = Version(version) > Version(last)
        yield (f"names SGLang {version}, " + (f"newer than the last release, {last}" if newer else
                                              "which was never released")
               + f" (evidence.lock lists {first} .. {last})")


@functools.lru_cache(maxsize=8)  # asked of every text of every card, a run
def _series_and_ends(built: tuple[str, ...]) -> tuple[frozenset[str], str, str]:
    """The release series (0.5) of ``built``, its first release and its last."""
    return (frozenset(".".join(v.split(".")[:2]) for v in built), min(built, key=Version), max(built, key=Version))


@rule("D321", "status current, yet no release scanned holds its line nor its `today` place", scope="card")
def current_never_shipped(card: Card, doc, ctx) -> Iterator[Finding]:
    """A merged card that calls its change current while no release from the first scanned to the last (0.5.23)
    ever held its line, nor its `today` place: the change is not in today's SGLang, or the card names the wrong
    line. Not judged within 14 days of the last release's build (the change may not have shipped yet) or on a
    pointer card (D407's). D313 warns about a late first release; this is the card's status itself."""
    import datetime as dt

    from dossier.evidence import key_sha

    h = release_lock(ctx)[0].cards.get(card.pr)
    built = release_lock(ctx)[0].built
    if (card.status != "current" or card.state != "merged" or card.merged_at is None or card.key_fragment.pointer
            or h is None or h.key_fragment != key_sha(card.key_fragment) or h.present or h.last not in built):
        return
    if h.today:  # the behaviour lives on where `today` says, in some release
        return
    last = dt.date.fromisoformat(built[h.last])
    if (last - card.merged_at).days <= 14:
        return
    yield Finding("status#value", f"status is current, but no release from {h.first} to {h.last} (built {last}) "
                                  f"holds its key fragment{' or its today place' if card.key_fragment.today else ''}",
                  hint="if the PR merged, the match is not its line (check the fragment against the PR); if it "
                       "did not, state and status are wrong")


_V = r"v?(\d+\.\d+\.\d+(?:\.post\d+)?)"
#: a span of releases: "from 0.5.10 through 0.5.13", "between 0.5.10.post1 and 0.5.11", "0.5.14-0.5.19", "0.5.14
#: through 0.5.19"
_RANGE = re.compile(rf"\b(?:from|between) (?:SGLang )?{_V} (?:to|through|until|till|and) (?:SGLang )?{_V}(?![\w.]*\d)|"
                    rf"(?<![\w.-]){_V} ?(?:-|\u2013|\.\.| through | thru ) ?{_V}(?![\w.]*\d)", re.IGNORECASE)
#: "downgrading from 0.5.23 to 0.5.19" moves backwards on purpose; a package's "from 0.6.7 to 0.6.3" is a change
_BACKWARDS = re.compile(r"\b(?:downgrad\w*|roll\w* back|rolled back|going back|went back|back from|revert\w*)\b[^.;]*$",
                        re.IGNORECASE)


@rule("D323", "prose gives a span of releases that runs backwards (its first release is newer than its last)",
      scope="card")
def inverted_range(card: Card, doc, ctx) -> Iterator[Finding]:
    """"Present from 0.5.13.post1 through 0.5.10" or "0.5.19-0.5.14 still accepted the old flag": the reader
    cannot tell which end is wrong, and a check of "was it in my release?" against it answers nonsense. A span is
    "from/between X to/through/until/and Y" or "X-Y" (an en dash or ".." too); a move written as one
    ("downgrading from 0.5.23 to 0.5.19", "reverted ... from"), or a "from ... to" of another package's versions
    ("flashinfer from 0.6.7 to 0.6.3": a change, not a span), is not judged."""
    from dossier.lint.depth import card_texts, clause_before, text_location

    for path, text in card_texts(card):
        flat = " ".join(text.split())
        for m in _RANGE.finditer(flat):
            a, b = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
            before = clause_before(flat, m.start())
            if Version(a) <= Version(b) or _BACKWARDS.search(before) or (
                    m.group(0)[:4].lower() == "from" and _OTHER_PACKAGE.search(before[-40:] + " ")):
                continue
            yield Finding(text_location(path), f"gives the releases {m.group(0)!r}, a span that runs backwards "
                                               f"({a} is newer than {b})",
                          hint="write the older release first; check both ends against `dossier releases verify`")


_VS = r"v?\d+\.\d+\.\d+(?:\.post\d+)?"
#: a day, as ISO or in words ("2026-03-01", "March 1, 2026", "1 March 2026")
_DAYS = r"(?:\d{4}-\d{2}-\d{2}|" + _WORD_DAY + ")"
#: "0.5.10 (built 2026-04-05)", "0.5.9, built 2026-02-23", "0.5.10 and 0.5.10.post1 (built 2026-04-05 and 2026-04-08)",
#: "0.5.10 was released on March 1, 2026", "0.5.10, came out on 2026-03-01"
_DATED = re.compile(rf"(?<![\w.])({_VS}(?:(?:,| and|, and) {_VS})*)(?: wheels?| releases?)?,? \(?(?:wheels? |first )?"
                    rf"(?:(?:was|were) )?(built|released|published|tagged|came out|went out|shipped)(?: on)? "
                    rf"({_DAYS}(?:(?:,| and|, and) {_DAYS})*)")
#: the day first: "It shipped on 2026-03-28 with 0.5.10", "came out on March 28, 2026 as v0.5.10"
_DAY_FIRST = re.compile(rf"\b(built|released|published|tagged|came out|went out|shipped) on ({_DAYS}),? (?:with|as|in) "
                        rf"(?:SGLang )?({_VS})(?![\w.]*\d)")
#: the build as a noun: "the 0.5.14 build (2026-06-26)", "0.5.14's build, 2026-06-26", "the 0.5.14 build of 2026-06-26"
_BUILD_NOUN = re.compile(rf"(?<![\w.])({_VS})(?:'s)? (?:wheel )?build,? \(?(?:of |on |dated )?({_DAYS})")
#: a release with a bare day in brackets: "0.5.21 (2026-10-01) ships the call", "in 0.5.10 (2026-04-05;"
_BARE_DAY = re.compile(rf"(?<![\w.])({_VS}) \(({_DAYS})[);,]")
#: a release's day as written may differ from its wheel's build by a day or two (tag, upload, time zones)
DATED_SLACK = 2


@rule("D324", "prose gives an SGLang release a build or release day that evidence.lock's build day contradicts",
      scope="card")
def release_day(card: Card, doc, ctx) -> Iterator[Finding]:
    """"0.5.10 (released 2026-03-01)", "0.5.10 came out on March 1, 2026", "the 0.5.10 build (2026-03-01)" or a bare
    "0.5.10 (2026-03-01)" while the 0.5.10 wheel was built 2026-04-05: a reader who dates a fix or
    a regression by the release is misled by a month. Judged against the built releases of evidence.lock (the
    wheels' build days), with DATED_SLACK (2) days' slack for a day of tagging or upload, and none for "built"
    (the very day the lock records); lists pair one to one
    ("0.5.10 and 0.5.10.post1 (built 2026-04-05 and 2026-04-08)"), and lists of unequal length are not judged,
    nor a release the lock does not list (D322's) or another package's version ("flashinfer 0.6.7 (released ...)")."""
    import datetime as dt

    from dossier.lint.depth import card_texts, text_location

    built = dict(release_lock(ctx)[0].built)
    if not built:
        return
    for path, text in card_texts(card):
        flat = " ".join(text.split())
        said = [(m.group(1), m.group(2), m.group(3), m.start()) for m in _DATED.finditer(flat)]
        said += [(m.group(3), m.group(1), m.group(2), m.start()) for m in _DAY_FIRST.finditer(flat)]
        said += [(m.group(1), "built", m.group(2), m.start()) for m in _BUILD_NOUN.finditer(flat)]
        said += [(m.group(1), "dated", m.group(2), m.start()) for m in _BARE_DAY.finditer(flat)]
        for named, verb, dated, start in said:
            versions = [v.lstrip("v") for v in re.findall(_VS, named)]
            days = [iso_day(d) for d in re.findall(_DAYS, dated)]
            if len(versions) != len(days) or _OTHER_PACKAGE.search(flat[:start][-40:]):
                continue
            for version, day in zip(versions, days, strict=True):
                if version not in built:
                    continue
                try:
                    off = abs((dt.date.fromisoformat(day) - dt.date.fromisoformat(built[version])).days)
                except ValueError:
                    continue
                if off > (0 if verb == "built" else DATED_SLACK):  # "built" is the wheel's own day, the lock's
                    said_day = f"dates SGLang {version} {day}" if verb == "dated" else \
                        f"says SGLang {version} was {verb} {day}"
                    yield Finding(text_location(path), f"{said_day}, but its wheel was built {built[version]} "
                                                       "(evidence.lock)",
                                  hint="take the day from `dossier releases verify` or the release page")


@rule("D326", "a card whose key file ships in SGLang's wheel has no entry in evidence.lock's release evidence, "
              "which records the releases for the other cards (an entry deleted, or never recorded)", scope="card")
def missing_release_evidence(card: Card, doc, ctx) -> Iterator[Finding]:
    """`dossier releases verify --record` writes an entry for every card whose key file is in python/sglang/ (a
    Dockerfile or a test under test/ is in no wheel). Without it the card's status, merge date and the releases
    its prose names are checked against nothing (D312-D321 stay silent), and the manual drops its release lines:
    an entry removed from the lock by hand, or a card added after the last recording, reads as proven."""
    from dossier.lint.depth import text_location

    lock, error = release_lock(ctx)
    if error or not lock.built or card.pr in lock.cards or not in_wheel(card.key_fragment.file):
        return
    built = list(lock.built)
    named = sorted(releases_named(card) & set(lock.built), key=Version)
    if card.state == "merged":
        relies = f"nothing shows that its line shipped, nor that status {card.status} still holds"
    else:
        relies = f"nothing shows that a {card.state} PR's line is in no release"
    if named:
        relies += f"; the releases its prose names ({', '.join(named[:4])}) go unchecked"
    yield Finding(text_location("key_fragment.file"),
                  f"cards/evidence.lock records SGLang {built[0]} .. {built[-1]} for the cards, but has no release "
                  f"evidence for #{card.pr}, whose key file {card.key_fragment.file} ships in the wheel: {relies}",
                  hint=f"re-record it: {VERIFY} (DOSSIER_RELEASES names the release cache); or restore the entry "
                       "removed from cards/evidence.lock")


#: "removed in 0.5.20", "was dropped with v0.5.20", "gone from SGLang 0.5.20 on", "absent from 0.5.21 on",
#: "(deprecated since 0.5.20)"
_GONE = re.compile(r"\b(?P<verb>removed|dropped|deleted|retired|reverted|taken out|ripped out|gone|absent|deprecated)"
                   r"(?: again| entirely| for good| upstream)?(?: from SGLang)? (?P<how>in|with|as of|since|from|by|after) "
                   rf"{_VER}(?![\w.]*\d)", re.IGNORECASE)
#: a file named after a removal, with the verb left out: "... gone from 0.5.18 and mamba_radix_cache.py from 0.5.21"
#: (the clause ends there: "and unified_radix_cache.py in 0.5.21 holds ..." is no removal)
_GONE_TOO = re.compile(r",?(?: and)? (?P<path>`?(?:[\w.-]+/)*[\w-]+\.py`?) (?:in|from|since|with) (?:SGLang )?v?"
                       r"(?P<v>\d+\.\d+\.\d+(?:\.post\d+)?)(?![\w.]*\d)(?=\s*(?:[.;,)]|$|and\b))")
#: the words a clause may hold before the verb and still be about the card's own change ("It was later removed in")
_OWN_SUBJECT = frozenset("it this that the its change fix line lines key fragment code optimization optimisation "
                         "feature pr pr's patch was were is has been got had later eventually then finally and but "
                         "so also quietly upstream".split())
#: a clause that is only a described line and its verb: "The tuple branch was later", "this gating check has been"
_DESCRIBED_HEAD = re.compile(rf"{_DESCRIBED}(?: (?:was|were|is|has been|had been|got))?(?: (?:later|eventually|then|"
                             r"finally|quietly|upstream|also))?", re.IGNORECASE)
#: a release as the one that removed the card's change: "0.5.14 removed it", "the 0.5.14 release dropped the check"
_GONE_BY_RELEASE = re.compile(rf"(?<![\w.]){_VER}(?: wheel| release)?(?: \([^()]{{0,40}}\))? (?P<verb>removed|dropped|"
                              rf"deleted|took out|ripped out) {_NAMED_CHANGE}", re.IGNORECASE)
#: a removal at one release ("removed in 0.5.20"), not a state from it on ("gone from 0.5.20", "deprecated since")
_MOMENT = ("removed", "dropped", "deleted", "retired", "reverted", "taken out", "ripped out")


def _held_just_before(order: dict[str, int], i: int, spans) -> bool:
    """Whether a release just before the one at index ``i`` holds the name or line: the newest plain release before
    it or any of its post releases (a removal in 0.5.11 follows 0.5.10 or 0.5.10.post1)."""
    before = sorted((j, v) for v, j in order.items() if j < i)
    plain = [j for j, v in before if ".post" not in v]
    first = plain[-1] if plain else (before[-1][0] if before else i)
    return any(order.get(a, -1) <= j <= order.get(b, -1) for j, _ in before if j >= first for a, b in spans)


#: what a removed file or name may be called in the clause that removes it ("the `x` call", "the file y.py")
_NAMED_SUBJECT = _OWN_SUBJECT | frozenset("file module call calls function class kernel method assignment wrapper "
                                          "branch whole entire legacy old older original separate standalone".split())


def _gone_subject(flat: str, start: int, card: Card | None, ctx, mentions) -> tuple | None:
    """What a removal clause ending at ``start`` is about: ("flags"/"env", name) for a flag or env var just before
    it, ("card", Card) for the card's own change (or code its key fragment quotes) or a cited #N's, ("file", path,
    repo paths) for a file the card lists or a python/sglang path, ("code", name, the card's runtime files) for code
    in backticks that is the clause's whole subject, None for anything else ("the helper in x.py"). Without a card
    (lanes.yaml, a finding) flags, env vars and files."""
    from dossier.mentions import ENV, FLAG

    near = [m for m in mentions if m.kind in (FLAG, ENV) and m.start + len(m.raw) <= start
            and start - (m.start + len(m.raw)) <= 30
            and not re.search(r"[.;]\s|--|\bSGL(?:ANG)?_", flat[m.start + len(m.raw):start])]
    if near:
        m = near[-1]
        return ("flags" if m.kind == FLAG else "env"), m.text
    clause = flat[:start]
    head = re.split(r"[.;:!?](?:\s|$)|\(", clause)[-1]
    if not head.strip() and clause.rstrip().endswith("("):
        # "`x` (removed in 0.5.21)", as D621 asks a gone name to be written: the parenthesis is about what stands
        # just before it, not the card's own change
        name = re.search(r"`[^`]+`$|\S+$", clause.rstrip()[:-1].rstrip())
        head = name.group(0) if name else ""
    if card is None:  # lanes.yaml, a finding: a file, read through the releases
        return _named_subject(head, None, ctx)
    cited = _CITE.findall(head)
    words = re.sub(r"#\d+(?:'s)?", " ", head).lower().split()
    if any(w.strip(",") not in _OWN_SUBJECT for w in words):
        # "the `self.output_gate_type` assignment was removed in ...": code the key fragment quotes is its line
        code = [x.rstrip("()") for pair in re.findall(r"`([^`]+)`|\b([A-Za-z_]\w*(?:[._]\w+)+)\b", head)
                for x in pair if x]
        if any(len(c) >= 4 and c in card.key_fragment.match for c in code):
            return ("card", card)
        # "The tuple branch was removed in ...": a few words of the card's match or title naming its line
        if _DESCRIBED_HEAD.fullmatch(re.sub(r"#\d+(?:'s)?", " ", head).strip()) and not cited and _grounded(head, card):
            return ("card", card)
        return _named_subject(head, card, ctx)
    other = card if not cited or int(cited[-1]) == card.pr else ctx.project.card(int(cited[-1]))
    return ("card", other) if other is not None else None


def _named_subject(head: str, card: Card | None, ctx) -> tuple | None:
    """("file", path, repo paths) or ("code", name, files) when the clause ``head`` is only a path or a backticked
    name with words that call it one (see _gone_subject). A path is a file the card lists, a python/sglang path, or
    the one file of that name (or tail) any synced release holds ("mamba_radix_cache.py")."""
    path = re.fullmatch(r"`?((?:[\w.-]+/)*[\w-]+\.py)`?", next((w for w in head.split() if ".py" in w), "").strip(",'\"")
                        ) if ".py" in head else None
    code = re.findall(r"`([A-Za-z_]\w*(?:\.\w+)*)(?:\(\))?`", head)
    rest = re.sub(r"`[^`]*`|\S*\.py\b`?", " ", head).lower().split()
    if any(w.strip(",") not in _NAMED_SUBJECT for w in rest) or (path is None) == (len(code) != 1):
        return None
    if path is not None:
        named = path.group(1)
        repo = [f for f in card.all_files if f == named or f.endswith("/" + named)] if card is not None else []
        repo += [named] if named.startswith("python/sglang/") and named not in repo else []
        if not repo and len(held := _release_paths(ctx, named)) == 1:
            repo = list(held)
        return ("file", named, tuple(repo)) if repo else None
    if card is None:
        return None
    files = tuple(dict.fromkeys([card.key_fragment.file, *card.files["runtime"]]))
    return ("code", f"`{code[0]}`", files) if len(code[0]) >= 4 else None


@rule("D327", "prose says a change, file, flag or env var was removed (dropped, deprecated) in a release that still "
              "holds it, or had lost it already (release evidence, the release cache, cards/surface.lock)",
      scope="project")
def removed_in(ctx) -> Iterator[Finding]:
    """"Removed in 0.5.20" (or dropped, deleted, retired, reverted, gone, deprecated; "in", "with", "as of",
    "since", "from") where the subject is the card's own change (the clause holds only "it", "this change", "the
    fix", "its line" and the like, or code the key fragment quotes, or a cited #N with a card: judged against that
    PR's release evidence), a --flag or SGLANG_* env var just before it (judged against cards/surface.lock, in the
    cards, cards/lanes.yaml and the findings), or, with the release cache synced, a file the card lists, a
    python/sglang path or the one file of its name the releases hold (in lanes.yaml and the findings too;
    "eagle_info_v2.py was removed in 0.5.23": the releases that hold the file) or code in
    backticks ("the `fused_gdn_gating` call was removed in 0.5.20": wrong when that release still holds the name in
    a file the card lists). A release that still holds the line or name contradicts "removed/dropped/gone" (0.5.23
    still ships it: the reader drops a working feature); "removed in X" (a moment) also needs the release before X
    to hold it (not judged for code in backticks, which may have moved to a file the card does not list);
    "deprecated in X" needs X to hold the name (a deprecated flag still parses). A card's line is judged only from
    fresh release evidence, and a clause about anything else ("the helper was removed in 0.5.22") is not judged;
    "deprecated" of a card's own change, file or code is not judged (nothing recorded says whether code is
    deprecated)."""
    from dossier.cards import strings
    from dossier.lint.depth import card_texts, text_location
    from dossier.project import is_valid

    project = ctx.project
    texts = [(doc, Card.from_data(doc.data, doc.path)) for doc in project.valid_docs()]
    for doc, card in texts:
        for path, text in card_texts(card):
            for finding in _removals(" ".join(text.split()), card, ctx):
                yield finding._replace(path=text_location(path), doc=doc)
    others = [d for d in project.finding_docs if is_valid(d)]
    if project.lanes_doc is not None and is_valid(project.lanes_doc):
        others.append(project.lanes_doc)
    for doc in others:
        for path, text in strings(doc.data):
            if not path.startswith("code"):
                for finding in _removals(" ".join(text.split()), None, ctx):
                    yield finding._replace(path=path, doc=doc)


def _removals(flat: str, card: Card | None, ctx) -> Iterator[Finding]:
    """D327's findings in one text of ``card`` (None: lanes.yaml or a finding, where flags, env vars and files are
    judged); each Finding's path is filled in by the caller."""
    from dossier.lint.claims import history
    from dossier.lint.depth import clause_before
    from dossier.mentions import find_mentions

    lock = release_lock(ctx)[0]
    past = history(ctx)
    mentions = None
    said = []  # (subject, verb, release, a removal at that release rather than a state from it on)
    for m in _GONE.finditer(flat):
        mentions = find_mentions(flat) if mentions is None else mentions
        verb = m.group("verb").lower()
        how = m.group("how").lower()
        moment = "after" if how == "after" else verb in _MOMENT and how in ("in", "with")
        said.append((_gone_subject(flat, m.start(), card, ctx, mentions), verb, m.group(3), moment))
        end = m.end()  # "hi_mamba_radix_cache.py is gone from 0.5.18 and mamba_radix_cache.py from 0.5.21"
        while card is not None and (more := _GONE_TOO.match(flat, end)):
            said.append((_named_subject(more.group("path"), card, ctx), verb, more.group("v"), moment))
            end = more.end()
    for m in _GONE_BY_RELEASE.finditer(flat) if card is not None else ():
        if not _CITE.search(clause_before(flat, m.end())) and _grounded(m.group(0), card):
            said.append((("card", card), "removed", m.group(1), True))
    for subject, verb, version, moment in said:
        if subject is None or (moment == "after" and (verb == "deprecated" or subject[0] == "code")):
            continue  # "deprecated after" says nothing; code may have moved to a file the card does not list
        if subject[0] == "card":
            other = subject[1]
            h = lock.cards.get(other.pr)
            if verb == "deprecated" or h is None or release_verdict(other, ctx) is None or not h.present:
                continue
            order = {v: i for i, v in enumerate(lock.built)}
            spans, what = h.present, f"#{other.pr}'s line"
        elif subject[0] in ("file", "code"):
            if verb == "deprecated":
                continue
            trees = _release_trees_by_version(ctx)
            if version not in trees:
                continue
            order = {v: i for i, v in enumerate(trees)}
            kind, name, paths = subject
            if kind == "code":  # only "still there": earlier the name may have lived in a file the card lacks
                bare = name.strip("`").rsplit(".", 1)[-1]
                holder = next((p for p in paths if _code_in(trees[version].text(p), bare)), None)
                if holder is not None:
                    yield Finding("", f"says {name} was {verb} in {version}, but {version} still has it in {holder}",
                                  hint="take the release from the release trees (`dossier releases list`), or say "
                                       "what was removed")
                continue
            held = [v for v, tree in trees.items() if any(tree.text(p) is not None for p in paths)]
            spans, what = [(v, v) for v in held], name
        else:
            span = past.span(*subject) if past is not None else None
            if span is None:
                continue
            order = {v: i for i, v in enumerate(past.releases)}
            spans, what = [(span.first, span.last)], subject[1]
        if version not in order:
            continue
        i = order[version]
        held = any(order.get(a, -1) <= i <= order.get(b, -1) for a, b in spans)
        said = _runs(spans, order)
        if moment == "after":  # "removed after 0.5.13.post1": the last release with it
            later = next((v for v, j in order.items() if j > i and not v.startswith(f"{version}.post")  # its line
                          and any(order.get(a, -1) <= j <= order.get(b, -1) for a, b in spans)), None)
            if not held or later is not None:
                yield Finding("", f"says {what} was {verb} after {version}, but " + (
                    f"{version} does not have it" if not held else f"{later} still holds it") + f" (releases with it: "
                    f"{said})", hint="name the last release with it, or the first without it ('removed in')")
            continue
        if verb == "deprecated":
            if not held:
                yield Finding("", f"says {what} was deprecated in {version}, but {version} does not have it "
                                  f"(releases with it: {said})",
                              hint="a deprecated name still parses: name a release that has it, or say removed")
        elif held:
            yield Finding("", f"says {what} was {verb} in {version}, but {version} still holds it (releases with "
                              f"it: {said})",
                          hint="take the release from `dossier releases verify` / cards/surface.lock, or say what "
                               "was removed")
        elif moment and not _held_just_before(order, i, spans):
            yield Finding("", f"says {what} was {verb} in {version}, but it was gone before that (releases with "
                              f"it: {said})", hint="name the first release without it")


def _runs(spans, order: dict[str, int]) -> str:
    """Spans of releases as "a..b, c", runs of neighbouring releases joined; "none" when empty."""
    runs: list[list[str]] = []
    for a, b in sorted(spans, key=lambda s: order.get(s[0], -1)):
        if runs and order.get(a, -1) == order.get(runs[-1][1], -2) + 1:
            runs[-1][1] = b
        else:
            runs.append([a, b])
    return ", ".join(a if a == b else f"{a}..{b}" for a, b in runs) or "none"


def _release_paths(ctx, named: str) -> set[str]:
    """The repository paths of the files named ``named`` (a file name or a path's tail) in any synced release."""
    memo = ctx.memo.setdefault("release-paths", {})
    if named not in memo:
        tail = PurePosixPath(named)
        memo[named] = {tree.repo_path(f) for tree in _release_trees_by_version(ctx).values()
                       for f in tree.package.rglob(tail.name)
                       if f.is_file() and PurePosixPath(f.as_posix()).parts[-len(tail.parts):] == tail.parts}
    return memo[named]


def _release_trees_by_version(ctx) -> dict:
    """The synced release trees, oldest first (empty without a release cache)."""
    from dossier.lint.grounds import _release_trees

    trees = _release_trees(ctx)
    return {v: trees[v] for v in sorted(trees, key=Version)}


def _code_in(text: str | None, name: str) -> bool:
    return text is not None and re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text) is not None


