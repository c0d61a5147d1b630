"""D4xx: do state (GitHub's) and status (ours) tell one consistent story?"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

from dossier import prose
from dossier.cards import read_yaml
from dossier.lint.registry import Finding, rule
from dossier.model import Card
from dossier.opened import OPENED_LOCK, TOLERANCE, OpenedError, floor, read_anchors

#: no PR of this manual merged before SGLang's Qwen3-Next work began
EARLIEST = dt.date(2024, 1, 1)

#: the GitHub states each status allows
STATUS_STATES = {
    "current": {"merged"},
    "reverted": {"merged"},
    "superseded": {"merged", "closed", "open"},
    "candidate": {"open"},
    "adjacent": {"merged", "open", "closed"},
}


@rule("D401", "merged_at disagrees with state", scope="card")
def merged_at_vs_state(card: Card, doc, ctx) -> Iterator[Finding]:
    if card.state == "merged" and card.merged_at is None:
        yield Finding("merged_at#value", "state is merged but merged_at is empty")
    if card.state != "merged" and card.merged_at is not None:
        yield Finding("merged_at#value", f"merged_at is set but state is {card.state}")


@rule("D402", "status is impossible for the PR's state", scope="card")
def status_vs_state(card: Card, doc, ctx) -> Iterator[Finding]:
    allowed = STATUS_STATES[card.status]
    if card.state not in allowed:
        hint = {
            "candidate": "a closed PR is no candidate: mark it superseded (by what landed) or adjacent",
            "current": "only merged behaviour can be current; an open PR is a candidate",
            "reverted": "only a merged PR can be reverted",
        }.get(card.status)
        yield Finding("status#value", f"status {card.status} needs state {' or '.join(sorted(allowed))}, "
                      f"but the PR is {card.state}", hint=hint)


@rule("D403", "merged_at is before 2024-01-01 or after today", scope="card")
def merged_at_range(card: Card, doc, ctx) -> Iterator[Finding]:
    if card.merged_at is None:
        return
    now = dt.date.fromisoformat(ctx.today)
    if card.merged_at < EARLIEST:
        yield Finding("merged_at#value", f"merged_at {card.merged_at} is before {EARLIEST}",
                      hint="check the PR's merge date")
    elif card.merged_at > now:
        yield Finding("merged_at#value", f"merged_at {card.merged_at} is in the future (today is {now})")


@rule("D404", "a reverting or superseding PR merged before the PR it replaces (or never merged, for a merged PR)",
      scope="card")
def successor_before(card: Card, doc, ctx) -> Iterator[Finding]:
    """A successor that merged before the PR it replaces came first, so it replaced nothing; and code that merged
    stays in SGLang until a merged PR replaces it, so an open or closed-unmerged successor of a merged card
    replaced nothing either (an unmerged PR may well supersede another unmerged one: #39526, still open,
    supersedes three closed attempts)."""
    if card.merged_at is None:
        return
    for i, pr in enumerate(card.superseded_by):
        successor = ctx.project.card(pr)
        if successor is not None and successor.state != "merged":
            verb = "reverts" if card.status == "reverted" else "supersedes"
            yield Finding(f"superseded_by[{i}]",
                          f"#{pr} {verb} #{card.pr}, but #{pr}'s card says it is {successor.state}, never merged: "
                          f"#{card.pr}'s merged code stays until a merged PR replaces it",
                          hint="name the merged PR that replaced it, or mark the card current (or adjacent)")
        elif successor is not None and successor.merged_at is not None and successor.merged_at < card.merged_at:
            verb = "reverts" if card.status == "reverted" else "supersedes"
            yield Finding(f"superseded_by[{i}]",
                          f"#{pr} {verb} #{card.pr} but merged {successor.merged_at}, before #{card.pr} "
                          f"({card.merged_at})", hint="one of the two merge dates is wrong, or the link is")



@rule("D405", "merged_at is before the PR existed (a PR numbered at or below it opened later: cards/opened.lock)",
      scope="project")
def merged_before_opened(ctx) -> Iterator[Finding]:
    try:
        anchors = read_anchors(ctx.project.root)
    except OpenedError as exc:
        yield Finding("opened", f"merge dates not checked against opening days: {exc}",
                      hint="take each day from its PR's thread (GitHub's created_at); a day `lint --record` wrote came "
                           "from the fetched PR, so a wrong one means the fetch source gave a wrong opening day: "
                           "correct that line by hand, keeping its source",
                      doc=read_yaml(ctx.project.root / OPENED_LOCK))
        return
    for doc in ctx.project.valid_docs():
        card = Card.from_data(doc.data, doc.path)
        anchor = floor(anchors, card.pr) if card.merged_at is not None else None
        if anchor is None or card.merged_at + TOLERANCE >= anchor.opened:
            continue
        who = "it was opened" if anchor.pr == card.pr else f"#{anchor.pr} was opened"
        yield Finding("merged_at#value",
                      f"merged_at {card.merged_at} is impossible: {who} on {anchor.opened} ({anchor.source}), and "
                      f"PR numbers are given in opening order, so #{card.pr} was opened, and merged, no earlier",
                      hint="take the merge date from the PR thread or a dated commit log", doc=doc)


#: "#N ... merged 2026-03-30" (the nearest #N before the date, within its clause), and a card's own
#: "Merged 2026-06-12" opening a sentence or "this PR merged 2026-06-12"
#: a day as ISO (2026-03-30) or in words (March 30, 2026; Mar. 30 2026; 30 March 2026)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
#: a day in words: "March 1, 2026", "1st March 2026", "the 2nd of March 2026"
WORD_DAY = (rf"(?:{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}|"
            rf"(?:the )?\d{{1,2}}(?:st|nd|rd|th)? (?:of )?{_MONTH},? \d{{4}})")
_DAY = rf"(\d{{4}}-\d{{2}}-\d{{2}}|{WORD_DAY})"
_CITED_MERGE = re.compile(rf"#(\d+)\b[^#\n;]{{0,40}}?(?<!un)\bmerged (?:on )?{_DAY}(?!\d)")
#: "on 2026-03-26, the day #21313 merged": a day given as another PR's merge day
_DAY_OF_MERGE = re.compile(rf"{_DAY},? (?:the (?:same )?day|when) #(\d+) (?:was )?merged\b")
#: not when the clause goes on to give the commit to another PR: "... on 2026-04-22 (#23467's, daily commit digest)"
_ANOTHERS_COMMIT = r"(?![^.;]*?#\d+'s)"
_OWN_MERGE = re.compile(rf"(?:^|[.;]\s+)Merged (?:on )?{_DAY}(?!\d)|\bthis PR (?:was )?merged (?:on )?{_DAY}(?!\d)|"
                        # "It landed on 2026-03-12." / "The PR was merged on ...": a sentence's subject, the card's PR
                        rf"(?:^|[.;]\s+)(?:It|This PR|The PR|This change|This fix) (?:was )?(?:merged|landed) "
                        rf"(?:on )?{_DAY}(?!\d)|"
                        # "Merge: commit b246269444 on 2026-03-30 (daily commit digest)": the merge commit's day
                        rf"(?:^|[.;]\s+)Merge(?::| commit:?) (?:commit )?[0-9a-f]{{7,40}},? (?:on |of |\()?{_DAY}(?!\d)"
                        + _ANOTHERS_COMMIT,
                        re.IGNORECASE)
#: a merge month: "merged in February 2026" (the card's own: opening a sentence, or "this PR"; another's: "#N ...")
_MONTH_YEAR = rf"(?:in )?({_MONTH},? \d{{4}})"
_OWN_MONTH = re.compile(rf"(?:(?:^|[.;]\s+)(?:It|This PR|The PR|This change|This fix)|\bthis PR) (?:was )?"
                        rf"(?:merged|landed) {_MONTH_YEAR}(?!\d)", re.IGNORECASE)
_CITED_MONTH = re.compile(rf"#(\d+)\b[^#\n;]{{0,40}}?(?<!un)\b(?:was )?merged {_MONTH_YEAR}(?!\d)")


#: a merge given relative to another PR's: "#10233 (merged one day earlier)", "It was merged two days before
#: #21496.", "Merged 2026-07-21, an hour after #30437"
_AMOUNT = r"(?P<n>an?|one|two|three|four|five|six|seven|eight|nine|ten|\d+) (?P<unit>hour|day|week|month)s?"
_NUMBER_WORDS = ("a", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_CITED_RELATIVE = re.compile(rf"(?<![\w/.-])#(?P<pr>\d+),? \((?:was )?(?:merged|landed) {_AMOUNT} "
                             rf"(?P<dir>earlier|later|before|after)\b", re.IGNORECASE)
_OWN_RELATIVE = re.compile(rf"(?:(?:^|[.;]\s+)(?:It|This PR|The PR|This change|This fix)|\bthis PR|(?:^|[.;]\s+)Merged "
                           rf"{_DAY}(?!\d),?) (?:was )?(?:(?:merged|landed) )?{_AMOUNT} (?P<dir>before|after|earlier than|"
                           rf"later than) #(?P<pr>\d+)\b", re.IGNORECASE)
#: days a relative amount may stand for: (least, most) per unit
_UNIT_DAYS = {"hour": (0, 1), "day": (1, 1), "week": (7, 7), "month": (28, 31)}


def _relative_merges(card: Card, flat: str) -> Iterator[tuple[int, int, int, str]]:
    """(PR, least, most, words) for each merge of ``flat`` given relative to another PR: the card's merged_at
    minus that PR's must lie within [least, most] days."""
    for m in _CITED_RELATIVE.finditer(flat):  # #M merged <amount> earlier than this card: card - M = +amount
        yield (int(m.group("pr")), *_days(m.group("n"), m.group("unit"), m.group("dir").lower() in ("earlier", "before")),
               m.group(0))
    for m in _OWN_RELATIVE.finditer(flat):  # this card merged <amount> after #M: card - M = +amount
        later = m.group("dir").lower().startswith(("after", "later"))
        yield (int(m.group("pr")), *_days(m.group("n"), m.group("unit"), later), m.group(0))


#: the card's own merge given relative to a release: "It was merged a week after 0.5.10", "merged two days before
#: SGLang 0.5.11 was released", "landed after v0.5.10 shipped", "merged just before the 0.5.12 release"
_RELEASE_RELATIVE = re.compile(
    rf"(?<![\w-])(?:merged|landed)(?: on| only| just| about| roughly| some| around)? (?:{_AMOUNT} )?"
    r"(?P<dir>after|before|earlier than|later than) (?:the )?(?:release of )?(?:SGLang )?v?"
    r"(?P<ver>\d+\.\d+\.\d+(?:\.post\d+)?)(?![\w.]*\d)", re.IGNORECASE)
#: the card's own merge placed between two releases or on a release's day: "merged between 0.5.9 and 0.5.10",
#: "merged the same day as 0.5.10", "landed on the day 0.5.10 was released"
_V_REL = r"(?:the )?(?:SGLang )?v?(\d+\.\d+\.\d+(?:\.post\d+)?)(?![\w.]*\d)"
_RELEASE_WINDOW = re.compile(rf"(?<![\w-])(?:merged|landed) (?:sometime )?between {_V_REL} and {_V_REL}|"
                             rf"(?<![\w-])(?:merged|landed) (?:on )?the (?:same )?day (?:as|of|that|when) {_V_REL}",
                             re.IGNORECASE)
#: how far a wheel's build day may lie from the release a thread names (D324's slack)
_BUILD_SLACK = 2


def _release_relative_merges(card: Card, flat: str, built: dict[str, str]) -> Iterator[str]:
    """Messages for each merge of the card's own PR that ``flat`` gives relative to a release (a clause naming no
    other PR) and that merged_at and the release's build day (evidence.lock) contradict, by more than 2 days."""
    if card.merged_at is None:
        return
    for m in _RELEASE_RELATIVE.finditer(flat):
        day = built.get(m.group("ver"))
        if day is None or not _unbound(flat, m.start()):
            continue
        later = m.group("dir").lower().startswith(("after", "later"))
        lo, hi = _days(m.group("n"), m.group("unit"), later) if m.group("n") else \
            ((0, 10 ** 6) if later else (-10 ** 6, 0))
        gap = (card.merged_at - dt.date.fromisoformat(day)).days
        if not lo - _BUILD_SLACK <= gap <= hi + _BUILD_SLACK:
            yield (f"says {m.group(0)!r}, but this card's merged_at is {card.merged_at} and {m.group('ver')} was built "
                   f"{day} ({abs(gap)} day(s) {'after' if gap >= 0 else 'before'})")


def _release_windows(card: Card, flat: str, built: dict[str, str]) -> Iterator[str]:
    """Messages for the card's own merge placed between two releases, or on a release's day, that merged_at and the
    build days (evidence.lock) contradict by more than 2 days."""
    if card.merged_at is None:
        return
    for m in _RELEASE_WINDOW.finditer(flat):
        versions = [v for v in m.groups() if v]
        days = [built.get(v) for v in versions]
        if None in days or not _unbound(flat, m.start()):
            continue
        first, last = (dt.date.fromisoformat(d) for d in (min(days), max(days)))
        slack = dt.timedelta(days=_BUILD_SLACK)
        if not first - slack <= card.merged_at <= last + slack:
            built_at = ", ".join(f"{v} was built {d}" for v, d in zip(versions, days, strict=True))
            yield f"says {m.group(0)!r}, but this card's merged_at is {card.merged_at} ({built_at})"


def _days(count: str, unit: str, later: bool) -> tuple[int, int]:
    """The span of days (card minus the other PR) that "<count> <unit>s after/before" allows."""
    n = int(count) if count.isdigit() else max(_NUMBER_WORDS.index(count.lower().replace("an", "a")), 1)
    lo, hi = _UNIT_DAYS[unit.lower()]
    lo, hi = n * lo, n * hi
    if unit.lower() == "hour":
        lo, hi = 0, (n + 23) // 24
    if unit.lower() == "week":
        lo, hi = lo - 3, hi + 3
    return (lo, hi) if later else (-hi, -lo)


#: "The PR (merged 2026-03-20)", "For Qwen3-Next itself (merged 2026-03-20)", "opened and merged 2026-06-03",
#: "Merged: 2026-03-20", "merged into main on 2026-03-20": a merge day whose clause names no PR is the card's own (all
#: 18 such real mentions are)
_BARE_MERGE = re.compile(rf"(?<![\w-])(?:merged|landed)(?: on main,?| into main)?:? (?:on )?{_DAY}(?!\d)|"
                         # "its squash commit 693f497 (2026-05-12", "the squash commit a10a24e9a7, 2026-06-26",
                         # "squash commit f1ff697494 at 2026-02-06 23:05 UTC", "... is dated 2026-08-14", "the merge
                         # commit is dated March 2, 2026": the merge's day
                         rf"\b(?:squash|merge) commit(?: [0-9a-f]{{7,40}})?(?:,| \(| at| of| (?:is |was )?dated)? {_DAY}(?!\d)|"
                         # "the merge is commit d21c31f681 on 2026-06-10", "(commit 7c9257529f, 2026-07-21", "a digest
                         # listing commit 00986c81be on 2026-09-21", "git log dates its commit c0f5950 2026-05-03": a
                         # commit with a day in a clause naming no other PR is the merge's (all 30 such real ones are)
                         rf"(?<!first )(?<!initial )(?<!earlier )(?<!author's )\bcommit [0-9a-f]{{7,40}}\)?"
                         rf"(?:,| on| at| of| \(| (?:is |was )?dated)? {_DAY}(?!\d)"
                         + _ANOTHERS_COMMIT,
                         re.IGNORECASE)
#: words that put another PR in a clause without its number
_OTHER_PR_WORDS = re.compile(r"\b(?:revert|successor|follow-?up|predecessor|another|other|earlier|later|upstream|"
                             r"backport|cherry-pick)\b", re.IGNORECASE)


#: the card's own merge bounded by days: "Merged between 2026-08-12 and 2026-08-16", "it merged no later than
#: 2026-03-10", "merged after 2026-02-19", "the merge falls in the window 2026-03-04 to 2026-03-08"
_MERGE_WORDS = r"(?<![\w-])(?:merged|landed|merge (?:lies|falls|happened|took place|came))(?: sometime| somewhere)?"
_MERGED_BETWEEN = re.compile(rf"{_MERGE_WORDS} (?:between|in the window(?: from)?|within) {_DAY}(?!\d),? "
                             rf"(?:and|to|through|until|-) {_DAY}(?!\d)", re.IGNORECASE)
_MERGED_BY = re.compile(rf"{_MERGE_WORDS} (?:by|before|no later than|on or before|not after) {_DAY}(?!\d)",
                        re.IGNORECASE)
_MERGED_AFTER = re.compile(rf"{_MERGE_WORDS} (?:after|no earlier than|on or after|not before) {_DAY}(?!\d)",
                           re.IGNORECASE)


def _own_bounds(flat: str) -> Iterator[tuple[str, str | None, str | None]]:
    """(words, earliest, latest) of every bound the text puts on the card's own merge day (ISO days; a clause
    naming another PR is that PR's)."""
    for m in _MERGED_BETWEEN.finditer(flat):
        if _unbound(flat, m.start()):
            yield m.group(0), iso_day(m.group(1)), iso_day(m.group(2))
    for m in _MERGED_BY.finditer(flat):
        if _unbound(flat, m.start()):
            yield m.group(0), None, iso_day(m.group(1))
    for m in _MERGED_AFTER.finditer(flat):
        if _unbound(flat, m.start()):
            yield m.group(0), iso_day(m.group(1)), None


def _unbound(flat: str, start: int) -> bool:
    """Whether the clause before ``start`` names no PR (by number, URL, or as 'the revert', 'its successor')."""
    from dossier.lint.depth import clause_before

    clause = clause_before(flat, start)
    return not re.search(r"#\d+|/pull/\d+", clause) and not _OTHER_PR_WORDS.search(clause)


def _same_day(merged: dt.date | None, day: str) -> bool:
    """Whether ``day`` (a day, or a month "February 2026") names ``merged``."""
    parts = re.findall(r"[A-Za-z]+|\d+", day)
    if len(parts) == 2 and parts[0].isalpha():  # a month and a year
        month = parts[0][:3].lower()
        return merged is not None and (merged.year, merged.month) == (int(parts[1]), _MONTHS.index(month) + 1)
    return str(merged) == iso_day(day)


def iso_day(day: str) -> str:
    """``day`` as ISO; a day in words that names no real date stays as written (it then disagrees)."""
    if day[:4].isdigit():
        return day
    parts = re.findall(r"[A-Za-z]+|\d+", day)
    month = next((p[:3].lower() for p in parts if p.isalpha() and p[:3].lower() in _MONTHS), "")
    d, y = [int(p) for p in parts if p.isdigit()]
    try:
        return dt.date(y, _MONTHS.index(month) + 1, d).isoformat()
    except ValueError:
        return day


@rule("D406", "prose gives a merge date (its own, or of a PR with a card) that the card of that PR contradicts",
      scope="card")
def cited_merge_date(card: Card, doc, ctx) -> Iterator[Finding]:
    """"(reverted by #21496, merged 2026-02-11)" while #21496's card says 2026-03-26: one of the two is wrong, and
    a reader who orders the history by it is misled. A day may be written in words ("Merged on September 14,
    2026", "merged 4 Sep 2026"), or be given as a merge day ("opened on 2026-03-19, the day #21313 merged"); the
    card's own also as "It landed on 2026-03-12." (the sentence's subject), "Merge: commit b246269444 on
    2026-03-30", its squash commit's day ("Its squash commit 693f497 landed on main 2026-05-12") or a merge day in a
    clause that names no
    other PR ("The PR (merged 2026-03-20)"), and a month ("merged in February 2026") must be merged_at's. A PR without a card is not judged.
    The card's own merge given relative to a release ("It was merged a week after 0.5.10", "merged two days before
    SGLang 0.5.11", "landed after v0.5.10", "merged between 0.5.9 and 0.5.10", "merged the same day as 0.5.10") is
    judged against merged_at and the release's build day in
    evidence.lock (2 days' slack either way, as D324's; a week is 4 to 10 days)."""
    from dossier.lint.depth import card_texts, text_location
    from dossier.lint.releases import release_lock

    for path, text in card_texts(card):
        flat = " ".join(text.split())
        said = [(int(m.group(1)), m.group(2)) for m in _CITED_MERGE.finditer(flat)]
        said += [(card.pr, next(g for g in m.groups() if g)) for m in _OWN_MERGE.finditer(flat)]
        said += [(int(m.group(2)), m.group(1)) for m in _DAY_OF_MERGE.finditer(flat)]
        said += [(card.pr, m.group(1)) for m in _OWN_MONTH.finditer(flat)]
        said += [(card.pr, next(g for g in m.groups() if g)) for m in _BARE_MERGE.finditer(flat)
                 if _unbound(flat, m.start())]
        said += [(int(m.group(1)), m.group(2)) for m in _CITED_MONTH.finditer(flat)]
        for pr, lo, hi, words in _relative_merges(card, flat):
            other = ctx.project.card(pr)
            if other is None or pr == card.pr or card.merged_at is None:
                continue
            if other.merged_at is None:
                yield Finding(text_location(path), f"says {words!r}, but #{pr}'s card has it {other.state}, never "
                                                   "merged", hint="take both days from the PR threads")
                continue
            gap = (card.merged_at - other.merged_at).days
            if not lo <= gap <= hi:
                yield Finding(text_location(path),
                              f"says {words!r}, but the cards have #{card.pr} merged {card.merged_at} and #{pr} "
                              f"{other.merged_at} ({abs(gap)} day(s) {'after' if gap >= 0 else 'before'})",
                              hint="take both days from the PR threads and make the cards and the prose agree")
        built = release_lock(ctx)[0].built
        for message in [*_release_relative_merges(card, flat, built), *_release_windows(card, flat, built)]:
            yield Finding(text_location(path), message,
                          hint="take the merge day from the PR thread and the release's from `dossier releases list`")
        for words, earliest, latest in _own_bounds(flat):
            merged = str(card.merged_at) if card.merged_at else None
            days = [d for d in (earliest, latest) if d]
            if not merged or not all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in days):
                continue  # a day in words no calendar has is D411's
            if (earliest and merged < earliest) or (latest and merged > latest):
                yield Finding(text_location(path), f"says {words!r}, but this card's merged_at is {merged}",
                              hint="make merged_at a day inside the bound the prose gives (and say it is a stand-in)")
        for pr, day in dict.fromkeys(said):  # one finding for a day two forms read
            other = card if pr == card.pr else ctx.project.card(pr)
            if other is None or _same_day(other.merged_at, day):
                continue
            whose = "this card's merged_at" if other is card else f"#{pr}'s card"
            actual = f"merged {other.merged_at}" if other.merged_at else f"{other.state}, never merged"
            yield Finding(text_location(path),
                          f"says #{pr} merged {day}, but {whose} has it {actual}",
                          hint="take the date from the PR thread and make the card and the prose agree")


@rule("D407", "a merged, current card's explain says no source holds the PR's lines (a pointer)", scope="card")
def current_pointer(card: Card, doc, ctx) -> Iterator[Finding]:
    """"Unverified: no source we hold shows a line of this PR" fits an open or closed PR, or a merged one reverted
    before any release; a merged PR whose change is current is in today's SGLang, which is a source we hold."""
    if card.key_fragment.pointer and card.state == "merged" and card.status == "current":
        yield Finding("key_fragment.explain#value",
                      "explain declares the match a pointer (no source holds the PR's lines), but the card says the "
                      "PR merged and its change is current: today's SGLang holds those lines",
                      hint="quote a line the PR added (it is in 0.5.23), or fix state and status")


#: "reverted by #N" / "reverted in #N" (the nearest #M before it in the clause is the PR reverted; none: the card's)
_REVERTED_BY = re.compile(r"\breverted (?:by|in) #\d+", re.IGNORECASE)


@rule("D408", "prose says a PR was reverted, but that PR's card calls its change current (or it never merged)",
      scope="card")
def reverted_but_current(card: Card, doc, ctx) -> Iterator[Finding]:
    """"Reverted by #21496 two days after merge" on a card whose status is current, or "#M was reverted by #N"
    where #M's card says current: one of the two misleads. The PR reverted is the nearest #M before the words in
    their clause (not a source: "#19024's description"), else the card's own; a PR without a card is not judged."""
    from dossier.lint.depth import card_texts, clause_before, text_location

    for path, text in card_texts(card):
        flat = " ".join(text.split())
        for m in _REVERTED_BY.finditer(flat):
            clause = clause_before(flat, m.start())
            cited = re.findall(r"#(\d+)\b(?!'s)", clause)  # "#19024's description" is a source, not the PR
            pr = int(cited[-1]) if cited else card.pr
            other = card if pr == card.pr else ctx.project.card(pr)
            if other is None or (other.state == "merged" and other.status != "current"):
                continue
            whose = "this card" if other is card else f"#{pr}'s card"
            said = "is current" if other.state == "merged" else f"is {other.state}, never merged"
            yield Finding(text_location(path),
                          f"says #{pr} was {m.group(0)}, but {whose} {said}",
                          hint="make the status (reverted, with superseded_by) and the prose agree")


#: "this kernel no longer exists", "the PR's code was removed in 0.5.15": the card's own change said to be gone
_OWN_GONE = re.compile(r"\b(?:this|the PR's) (?:[\w-]+ ){0,2}?(?:kernel|change|code|fix|function|class|line|lines|op|"
                       r"path|helper|wrapper|check|feature|module|file)s? (?:is |are |was |were |has been |have been )?"
                       r"(?:gone|no longer\b|removed|deleted|dropped)", re.IGNORECASE)
#: a PR whose change is a removal: "this code is gone" is what it did
_REMOVAL_TITLE = re.compile(r"\b(?:remove[sd]?|revert(?:s|ed)?|retire[sd]?|drop(?:s|ped)?|delete[sd]?|deprecate[sd]?)\b",
                            re.IGNORECASE)
_NO_LONGER_HAS = re.compile(r"\bno longer (?:has|holds|contains|ships|carries) (?:this|the PR's) |"
                            # "0.5.23 dropped the kernel this PR added"
                            r"\b(?:dropped|removed|deleted|retired|no longer (?:has|holds|ships)) the (?:[\w-]+ ){0,2}?"
                            r"(?:kernel|code|fix|function|class|lines?|op|path|helper|wrapper|check|feature|module|file)s? "
                            r"(?:that )?(?:this|the) PR (?:added|introduced|wrote|created)\b", re.IGNORECASE)


@rule("D409", "a current card with no `today` place says the PR's own code is gone", scope="card")
def current_but_gone(card: Card, doc, ctx) -> Iterator[Finding]:
    """Status current with no `today` place says the PR's lines are in today's SGLang (drift checks them there);
    "SGLang 0.5.23 no longer has this kernel" or "this change was removed in 0.5.15" on the same card tells the
    reader the opposite. A card whose lines were rewritten names the new place in `today` and may say the old
    text is gone; a superseded or reverted card says so by its status; a PR titled as a removal (Remove, Revert,
    Retire, Drop ...) made its code go, so "this code is gone" is what it did."""
    from dossier.lint.depth import card_texts, text_location

    if card.status != "current" or card.key_fragment.today is not None or _REMOVAL_TITLE.search(card.title):
        return
    for path, text in card_texts(card):
        flat = " ".join(text.split())
        m = _OWN_GONE.search(flat) or _NO_LONGER_HAS.search(flat)
        if m:
            yield Finding(text_location(path),
                          f"says {m.group(0)!r}, but the card's status is current with no `today` place: its lines "
                          "are said to be in today's SGLang", hint="fix the status (superseded/reverted with "
                          "superseded_by), or name where the behaviour lives today (key_fragment.today)")


#: what GitHub says of a PR, in prose: closed without merging, never merged, still open
_STATE_WORDS = re.compile(r"\b(?P<closed>closed (?:without (?:being )?merg\w*|unmerged|(?:and |but )?(?:never|not) merged|"
                          r"in favou?r of|as (?:a )?(?:duplicate|stale))|(?:is|was|got|has been) closed\b(?! and merged)|"
                          r"(?:was|got|has been) abandoned\b)|"
                          r"\b(?P<never>never (?:got |been |was )?(?:merged|landed)|(?:was|were) not merged|unmerged)\b|"
                          r"\b(?P<open>(?:is|are|remains?|was) still open|still open|(?:is|are|remains?) open)\b",
                          re.IGNORECASE)
#: the card's own PR as the subject: "This PR is still open", "the PR was closed without merging"
_OWN_SUBJECT = re.compile(r"\b(?:this|the) PR (?:itself )?(?:is |was |has |remains )?(?:still |also |then )?$",
                          re.IGNORECASE)
_PLURAL = re.compile(r"\b(?:were|are|both|all)\b", re.IGNORECASE)
#: a bare state in parentheses right after a PR: "#12892 (open) proposes ...", "[#37837](...) (open when crawled)"
_SAID_BARE = re.compile(r"(?<![\w/.-])\[?#(\d+)(?:\]\([^()\s]*\))? \((?P<state>open|closed)(?=[),;]| when\b| as of\b| in our\b)")
#: a PR said to have merged: "#14502 (merged 2026-...)", "[#14502](pr-history.md#pr-14502) (merged in 0.5.23)", "#14502,
#: merged in 0.5.5", "#14502 was merged in 0.5.5", "(#14502, now merged)", "#14502 merged before ...", "the merged
#: #14502"; not "whether #14502 merged"
_SAID_MERGED = re.compile(r"(?<![\w/.-])(?<!whether )(?<!if )(?<!unless )(?<!until )\[?#(\d+)(?:\]\([^()\s]*\))?"
                          r"(?: \(|, | (?:was|has been|got) | )(?:now )?"
                          r"(?:merged|landed)\b|"
                          r"\b(?:the|a|its|this) merged \[?#(\d+)\b", re.IGNORECASE)


@rule("D410", "prose says a PR is open, closed or never merged, but that PR's card has another GitHub state",
      scope="project")
def stated_state(ctx) -> Iterator[Finding]:
    """"#13081 (closed without merging) had wrapped ..." while #13081's card says it merged, or "This PR is still
    open" on a merged card: the reader takes a merged change for a dead one, or the reverse. The PR is the
    nearest #N before the words in their clause (every #N there for "were both closed"), or the card's own when
    the clause opens "this PR"; a PR without a card, or words with no PR bound to them ("the question is still
    open"), are not judged. "Closed in favour of #M" is a close without merging; "#N (merged ...)" and "the merged
    #N" say #N merged, "#N (open)" and "#N (closed)" its state (a markdown link, "[#N](...)", as "#N"). Read in every card, cards/lanes.yaml and the
    findings."""
    from dossier.lint.depth import card_texts, text_location
    from dossier.lint.flag_releases import lanes_and_finding_texts

    for doc in ctx.project.valid_docs():
        card = Card.from_data(doc.data, doc.path)
        for path, text in card_texts(card):
            for message in _states_said(" ".join(text.split()), card, ctx):
                yield Finding(text_location(path), message, hint=_STATE_HINT, doc=doc)
    for doc, path, text, _ in lanes_and_finding_texts(ctx.project):
        for message in _states_said(" ".join(text.split()), None, ctx):
            yield Finding(path, message, hint=_STATE_HINT, doc=doc)


_STATE_HINT = "take the state from the PR thread and make the card and the prose agree"


def _states_said(flat: str, card: Card | None, ctx) -> Iterator[str]:
    """D410's messages for one text of ``card`` (None: lanes.yaml or a finding, where "this PR" names none)."""
    from dossier.lint.depth import clause_before

    for m in _STATE_WORDS.finditer(flat):
        clause = clause_before(flat, m.start())
        cited = [int(n) for n in re.findall(r"#(\d+)\b(?!'s)", clause)]  # "#14502's approach is still open": not #14502
        if cited:
            # "#14502 and #16488 were both closed": the PRs listed right before the words (after a ':' or ')')
            listed = [int(n) for n in re.findall(r"#(\d+)\b", re.split(r"[:()]", clause)[-1])]
            prs = (listed or cited[-1:]) if _PLURAL.search(flat, m.start() - 12, m.start()) else cited[-1:]
        elif card is not None and _OWN_SUBJECT.search(clause):
            prs = [card.pr]
        else:
            continue
        said = "open" if m.group("open") else "closed" if m.group("closed") else "unmerged"
        for pr in prs:
            other = card if card is not None and pr == card.pr else ctx.project.card(pr)
            if other is None or other.state == said or (said == "unmerged" and other.state != "merged"):
                continue
            whose = "this card" if other is card else f"#{pr}'s card"
            yield f"says #{pr} {m.group(0)!r}, but {whose} has its state as {other.state}" + (
                f" (merged {other.merged_at})" if other.merged_at else "")
    for m in _SAID_BARE.finditer(flat):
        pr, said = int(m.group(1)), m.group("state")
        other = card if card is not None and pr == card.pr else ctx.project.card(pr)
        if other is not None and other.state != said:
            whose = "this card" if other is card else f"#{pr}'s card"
            yield f"says {m.group(0)!r}, but {whose} has its state as {other.state}" + (
                f" (merged {other.merged_at})" if other.merged_at else "")
    for m in _SAID_MERGED.finditer(flat):
        pr = int(m.group(1) or m.group(2))
        other = ctx.project.card(pr)
        if other is not None and other.state != "merged":
            yield f"says {m.group(0)!r}, but #{pr}'s card has its state as {other.state}, never merged"


#: an event of a thread with its day: "(comment of 2026-03-19)", "review on 2026-04-21", "opened 2026-03-16"
_EVENT = re.compile(rf"\b(?P<what>comment(?:ed)?|review(?:ed)?|repl(?:y|ied)|opened|posted|approved|reported)"
                    rf"(?: (?:of|on|at))? {_DAY}(?!\d)", re.IGNORECASE)
_ANY_DAY = re.compile(rf"(?<![\w-]){_DAY}(?![\w-])")
#: "#N", "PR N", "pull request N" or a link to it of this repository (not "flashinfer-ai/flashinfer#2726", whose
#: numbers are another sequence); cards write "PR N" for a PR without a card (D510)
_THIS_REPO_CITE = re.compile(r"(?:(?<![\w/.-])#|\b(?:PR|[Pp]ull request) #?|sgl-project/sglang/pull/)(\d+)\b")


@rule("D411", "prose dates an event before its PR (or issue) existed, after its PR merged (its opening), or after "
              "today, or gives a PR an opening day cards/opened.lock records otherwise", scope="card")
def impossible_day(card: Card, doc, ctx) -> Iterator[Finding]:
    """"(comment of 2026-01-19)" on a PR opened in February, "opened 2026-03-16" for a PR merged in January, or any
    day after today: one of them is mistyped or taken from another thread, and a reader who orders the history
    by it is misled. The thread is the nearest #N (or "PR N") before the words in their clause, or before the
    parenthesis they are in ("#20655 (merged; opened ...)"); an issue shares the PR numbers. Else it is the card's own PR. Its first
    possible day is the floor cards/opened.lock gives (as D405's); where the lock records that PR's own opening
    ("opened 2026-06-12" for a PR the lock has opened 2026-06-09), the day must be it, a day apart at most. A
    number of another repository
    ("flashinfer-ai/flashinfer#2726") is not judged. A day no calendar has ("2026-02-31") is wrong wherever it
    stands."""
    from dossier.lint.depth import card_texts, clause_before, text_location

    now = dt.date.fromisoformat(ctx.today)
    if "opened-anchors" not in ctx.memo:
        try:
            ctx.memo["opened-anchors"] = read_anchors(ctx.project.root)
        except OpenedError:
            ctx.memo["opened-anchors"] = []  # D405 reports the lock
    anchors = ctx.memo["opened-anchors"]
    for path, text in card_texts(card):
        flat = " ".join(text.split())
        where = text_location(path)
        for m in _ANY_DAY.finditer(flat):
            day = _date(m.group(1))
            if day is None and re.fullmatch(r"20\d\d-(?:0[1-9]|1[0-2])-\d\d", m.group(1)):
                yield Finding(where, f"gives the day {m.group(1)}, which no calendar has",
                              hint="take the day from the thread itself")
            if day is not None and day > now:
                yield Finding(where, f"gives the day {m.group(1)}, after today ({now})",
                              hint="a card records what happened; check the day against its source")
        for m in _EVENT.finditer(flat):
            day = _date(m.group(2))
            if day is None or day > now:
                continue
            clause = clause_before(flat, m.start())
            cited = _THIS_REPO_CITE.findall(clause)
            paren = clause.rfind("(")
            if not cited and paren < 0:  # "#20655 (merged; opened 2026-03-16)": the PR before the parenthesis
                before = flat[:m.start()]
                paren = before.rfind("(")
                if paren > before.rfind(")"):
                    cited = _THIS_REPO_CITE.findall(before[max(paren - 30, 0):paren])
            if not cited and re.search(r"[\w-]#\d+\b[^.;#]*$", clause):
                continue  # another repository's thread
            pr = int(cited[-1]) if cited else card.pr
            anchor = floor(anchors, pr)
            # the opening judged exactly only where its PR is plain: the card's own (no number before it), or a
            # number right before it ("#20858 (yudian0504, opened ..."); "(#19002's form) ... (yunkchen, opened"
            # is the card's author's
            near = re.search(r"#(\d+)\b[^#.;]{0,30}$", flat[:m.start()])
            plain = not cited or (near is not None and int(near.group(1)) == pr)
            own = next((a for a in anchors if a.pr == pr), None)
            if (plain and own is not None and m.group("what").lower() == "opened"
                    and abs(day - own.opened) > TOLERANCE):
                yield Finding(where, f"says #{pr} was opened {m.group(2)}, but cards/opened.lock records "
                                     f"{own.opened} ({own.source})",
                              hint="take the day from the thread itself, or correct the lock's anchor")
            elif anchor is not None and day + TOLERANCE < anchor.opened:
                who = "it was opened" if anchor.pr == pr else f"#{anchor.pr} was opened"
                yield Finding(where, f"dates #{pr}'s {m.group('what')} {m.group(2)}, but {who} on {anchor.opened} "
                                     f"({anchor.source}), so #{pr} did not exist before then",
                              hint="take the day from the thread itself")
            elif (pr == card.pr and m.group("what").lower() == "opened" and card.merged_at is not None
                  and day > card.merged_at):
                yield Finding(where, f"says #{pr} was opened {m.group(2)}, after its merged_at {card.merged_at}",
                              hint="take both days from the PR thread")


def _date(day: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(iso_day(day))
    except ValueError:
        return None


#: "reverted by #N", "superseded by #N and #M", "was later superseded by #N", "It was replaced by #N"
_REPLACED_BY = re.compile(r"\b(?P<verb>reverted|superseded|replaced)\b (?:(?:later|again|then|soon|eventually) )?(?:by|in) "
                          r"(?P<by>#\d+(?:(?:,| and|, and) #\d+)*)", re.IGNORECASE)
#: the card's own PR as the subject right before the words: "so this card is superseded by", "It was reverted by"
_OWN_BEFORE = re.compile(r"\b(?:this (?:card|PR|change)|it)(?: itself)? (?:is|was|has been|got)(?: (?:later|then|soon|"
                         r"also|eventually))? $", re.IGNORECASE)


@rule("D412", "prose says a PR was reverted or superseded by #N, but that PR's card does not name #N in superseded_by",
      scope="card")
def replaced_by_whom(card: Card, doc, ctx) -> Iterator[Finding]:
    """"#21313 (reverted by #21698)" while #21313's card names #21496 and #21662, or "This PR was later superseded by
    #21019" (or "It was replaced by #28451") on a current card with no superseded_by: the card and the prose give the reader two histories. The PR
    replaced is the nearest #M before the words in their clause (not a source: "#19024's description"), or the
    card's own when the clause names none or the words follow "this card/PR is", "it was"; "This PR supersedes
    #N" (or "It reverted #N", "#N was replaced by this PR") needs this PR in #N's superseded_by; a PR without a card on
    either side is not judged (a revert no stored source holds, as #16067's #18910)."""
    from dossier.lint.depth import card_texts, clause_before, text_location

    for path, text in card_texts(card):
        flat = " ".join(text.split())
        for m in _REPLACED_BY.finditer(flat):
            clause = clause_before(flat, m.start())
            cited = re.findall(r"#(\d+)\b(?!'s)", clause)
            pr = card.pr if not cited or _OWN_BEFORE.search(clause) else int(cited[-1])
            other = card if pr == card.pr else ctx.project.card(pr)
            if other is None:
                continue
            reverts = [n for n in other.superseded_by if (c := ctx.project.card(n)) is not None and c.is_revert]
            for by in (int(n) for n in re.findall(r"\d+", m.group("by"))):
                if by == pr or ctx.project.card(by) is None:
                    continue
                if by in other.superseded_by:
                    if m.group("verb").lower() == "reverted" and reverts and by not in reverts:
                        yield Finding(text_location(path), f"says #{pr} was reverted by #{by}, but the revert of "
                                                           f"#{pr} is {', '.join(f'#{n}' for n in reverts)} (its "
                                                           f"title says so); #{by} came after",
                                      hint="name the PR that reverted it; say what the later one did")
                    continue
                whose = "this card" if other is card else f"#{pr}'s card"
                named = ", ".join(f"#{n}" for n in other.superseded_by) or "none"
                yield Finding(text_location(path), f"says #{pr} was {m.group('verb').lower()} by #{by}, but {whose} "
                                                   f"names {named} in superseded_by (status {other.status})",
                              hint="make superseded_by, the status and the prose tell one history")
        for pr, words, other in _own_replaces(card, flat, ctx):
            named = ", ".join(f"#{n}" for n in other.superseded_by) or "none"
            yield Finding(text_location(path), f"says {words!r}, but #{pr}'s card names {named} in superseded_by "
                                               f"(status {other.status}), not #{card.pr}",
                          hint="make superseded_by, the status and the prose tell one history")


#: the card's own PR said to replace another: "This PR supersedes #21698", "It reverted #21313", "#21313 was
#: reverted by this PR"
_OWN_REPLACES = re.compile(r"(?:(?:^|[.;]\s+)(?:It|This PR|This change|This fix)|\bthis PR)(?: (?:later|then|also))? "
                           r"(?P<verb>supersedes|superseded|replaces|replaced|reverts|reverted) #(?P<pr>\d+)\b|"
                           r"(?<![\w/.-])#(?P<pr2>\d+) (?:is|was|has been) (?P<verb2>superseded|replaced|reverted) by "
                           r"this PR\b", re.IGNORECASE)


def _own_replaces(card: Card, flat: str, ctx) -> Iterator[tuple[int, str, Card]]:
    """(PR, words, its card) for each PR ``flat`` says the card's own PR replaced, whose card does not name it in
    superseded_by."""
    for m in _OWN_REPLACES.finditer(flat):
        pr = int(m.group("pr") or m.group("pr2"))
        other = ctx.project.card(pr)
        if other is not None and pr != card.pr and card.pr not in other.superseded_by:
            yield pr, m.group(0).strip(" .;"), other


#: a revert named in prose: "reverted in #18910", "the revert #18910", "#18910 reverted it"
_NAMES_REVERT = re.compile(r"\breverted (?:by|in) #\d+|\brevert(?: PR)? #\d+|#\d+ reverted (?:it|this|the)\b",
                           re.IGNORECASE)
#: a card saying its PR reverts #N: "reverts #N", "the revert of #N", "undoes #N" (not "was reverted by #N")
_REVERTS = r"\b(?:reverts|reverted|reverting|revert of|inverse of|undoes|undid|undoing) (?:the )?(?:PR )?#{pr}\b"


@rule("D413", "status reverted, yet no superseded_by PR is a revert of it and the prose names no revert",
      scope="card")
def reverted_without_revert(card: Card, doc, ctx) -> Iterator[Finding]:
    """Status reverted says a revert PR undid this one; superseded_by then names that revert (its title is
    'Revert "..."', or its card says it reverts #N), or the prose names the revert no stored source holds
    ("reverted in #18910", as #16067). A revert PR marked reverted because a later PR replaced it (the revert
    #21496 is superseded by #21662, not reverted) or a fix whose successor is only a better fix is superseded."""
    if card.status != "reverted" or not card.superseded_by:
        return
    from dossier.lint.depth import card_texts

    if any(_NAMES_REVERT.search(text) for _, text in card_texts(card)):
        return
    reverts = re.compile(_REVERTS.format(pr=card.pr), re.IGNORECASE)
    for n in card.superseded_by:
        other = ctx.project.card(n)
        if other is None or other.is_revert or any(reverts.search(t) for _, t in card_texts(other)):
            return
    named = ", ".join(f"#{n}" for n in card.superseded_by)
    yield Finding("status#value", f"status reverted, but no PR in superseded_by ({named}) reverts #{card.pr} (no "
                                  "'Revert' title, no card saying it reverts it) and the prose names no revert",
                  hint="status superseded when a later PR replaced the change; reverted names the revert PR")


#: a PR with only a day in brackets after it, as lanes.yaml dates a change: "[#23973](pr-history.md#pr-23973)
#: (2026-04-29)", "#19663 (2026-03-10)"
_PR_DAY = re.compile(rf"(?<![\w/&])\[?#(\d+)\b\]? \({_DAY}\)")


@rule("D415", "cards/lanes.yaml or a finding gives a PR (one with a card) a merge day that its card contradicts",
      scope="project")
def lanes_merge_day(ctx) -> Iterator[Finding]:
    """"[#23973](...) (2026-04-27)" or "#17613 (merged 2026-02-24)" in the playbook while #23973's card says 2026-04-29:
    the manual dates the change two ways. The readings of D406 ("#N ... merged DAY", "DAY, the day #N merged") and a
    PR followed by a bracket holding only a day, judged against the card of that PR; a PR without a card, or one
    that never merged, is not judged."""
    from dossier.lint.flag_releases import lanes_and_finding_texts

    for doc, path, text, _ in lanes_and_finding_texts(ctx.project):
        flat = prose.link_targets_dropped(" ".join(text.split()))  # "[#N](target) (DAY)" reads "[#N] (DAY)"
        said = [(int(m.group(1)), m.group(2)) for m in _CITED_MERGE.finditer(flat)]
        said += [(int(m.group(2)), m.group(1)) for m in _DAY_OF_MERGE.finditer(flat)]
        said += [(int(m.group(1)), m.group(2)) for m in _PR_DAY.finditer(flat)]
        for pr, day in dict.fromkeys(said):
            card = ctx.project.card(pr)
            if card is None or card.merged_at is None or _same_day(card.merged_at, day):
                continue
            yield Finding(path, f"gives #{pr} the merge day {day}, but #{pr}'s card has {card.merged_at}", doc=doc,
                          hint="take the day from the PR's card (or fix the card from the PR thread)")
