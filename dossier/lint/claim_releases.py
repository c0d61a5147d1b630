"""D619: a merged PR's validation.claims, and the flags its prose says it adds, name the flags and env vars of the
SGLang the PR was written against."""

from __future__ import annotations

import re
from collections.abc import Iterator

from packaging.version import Version

from dossier.lint.claims import _locate, history
from dossier.lint.depth import clause_after, clause_before, prose_texts, text_location
from dossier.lint.registry import Finding, rule
from dossier.lint.releases import release_lock, release_verdict
from dossier.mentions import ENV, FLAG, find_mentions, is_sglang_command
from dossier.model import Card


def _window(card: Card, ctx) -> tuple[str, str] | None:
    """(the last release built before the merge, the release the card landed in): the releases whose flags a
    merged PR's author could run. Where the release evidence shows the release that first shipped the card's line,
    the window is that release and the one scanned before it (the merge fell between their builds), whatever
    merged_at says: a stand-in merge day weeks early (D313 only warns) would widen it to releases the PR never
    ran on. Else the last release built before merged_at to the first built on or after it (evidence.lock's build
    days); None when either end is unknown."""
    import datetime as dt

    built = release_lock(ctx)[0].built
    if card.merged_at is None or not built:
        return None
    verdict = release_verdict(card, ctx)
    shipped = verdict.shipped if verdict is not None else None
    if shipped is not None and shipped.old.version in built and shipped.new.version in built:
        return shipped.old.version, shipped.new.version
    days = [(v, dt.date.fromisoformat(d)) for v, d in built.items()]
    before = [v for v, d in days if d < card.merged_at]
    after = [v for v, d in days if d >= card.merged_at]
    if not before or not after:
        return None
    return before[-1], after[0]


def _in_diff(card: Card, ctx, name: str) -> bool:
    """Whether the PR's cached diff names ``name`` (a flag or env var the PR itself added or touched)."""
    from dossier.lint.evidence import evidence

    entry = evidence(card, ctx).entry
    return entry is not None and name.lstrip("-").replace("-", "_") in entry.diff_text.replace("-", "_")


#: a clause that gives the flag or env var to the PR itself: "the new --x flag", "the PR adds --x", "it introduces
#: `SGLANG_X`" (a verb with the PR or "it" as its subject: "another PR adds --x" is not this one's)
#: "new", then the name's kind, right before the name: "new --x", "new flag `--x`"
_NEW_NAME = r"new\s+(?:(?:flag|option|switch|env(?:ironment)? var(?:iable)?),?\s+)?[`'\"]?$"
_ADDED = re.compile(rf"\b(?:the|a|an|its|(?:the|this) PR's) {_NEW_NAME}|"
                    r"\b(?:(?:the|this) (?:PR|change|patch)|it)\s+(?:also\s+)?(?:adds|added|introduces|introduced|"
                    r"exposes|exposed)\s+(?:(?:a|an|the|two|three)\s+)?(?:new\s+)?(?:(?:server\s+)?(?:flags?|options?|"
                    r"switch(?:es)?|env(?:ironment)? var(?:iable)?s?)[,:]?\s+)?[`'\"]?$", re.IGNORECASE)
#: "the PR's new --x flag": a name marked as the PR's time (historical), which is still the PR's to judge
_PRS_NEW = re.compile(rf"\b(?:the|this) PR's {_NEW_NAME}", re.IGNORECASE)
#: what stands between two names of one list ("--a, --b and `--c`", "--a (for x) as well as --b"; a value of the
#: first may follow it)
_LISTED = re.compile(r"(?:[ =][\w.+-]+)?[`'\"]?\s*(?:\([^()]{0,60}\)\s*)?(?:,|,?\s+(?:and|or|as well as|plus))\s*"
                     r"[`'\"]?")
#: after a listed name, a verb of its own: "adds --a, and --b came with the MTP work" starts a new clause
_OWN_VERB = re.compile(r"(?:[ =][\w.+-]+)?[`'\"]?\s+(?:\w+\s+){0,2}?(?:came|comes|arrived|arrives|landed|lands|was|were|is|"
                       r"are|shipped|ships|had|has|existed|exists|predates?|belongs?)\b")
#: what makes the clause about another change, release or time: another PR, a release, "later", "before", "unlike"
_ELSEWHERE = re.compile(r"#\d|\b\d+\.\d+\.\d+|\b(?:later|since|today|now|follow-?up|afterwards|subsequently|"
                        r"upstream|vLLM|predat\w*|before|unlike|without|instead|another|other|main|current(?:ly)?|"
                        r"nothing|no|not|never)\b", re.IGNORECASE)


_CLAIM_HINT = "name the flag the PR's thread names (check the description), or say the run is from a later release"
_PROSE_HINT = "name what the PR added (its diff), or give the later name to the PR or release that brought it"


@rule("D619", "a merged PR's validation.claims, or its prose where it says the PR adds one ('the new --x flag'), "
              "names a --flag or SGLANG_*/SGL_* env var SGLang did not have when the PR merged (cards/surface.lock, "
              "the PR's cached diff)", scope="card")
def claim_of_another_release(card: Card, doc, ctx) -> Iterator[Finding]:
    """A merged PR's claims say what was run when it was written, so their flags and env vars are those of the
    PR's SGLang: "TTFT -3% with --enable-linear-replayssm" on a PR merged in 0.5.9's window, when that flag first
    shipped in 0.5.21, names a later release's flag (D610 catches only a name no release ever had). So does prose
    that gives the PR a name ("the new --linear-attn-decode-backend flag selects it", "it adds SGLANG_X") that
    first shipped releases after it: the flag came from a later PR. A name passes
    when its releases (surface lock) reach the window from the last release built before the merge to the release
    the card landed in: the release evidence's first release to ship the card's line and the one scanned before it
    (a stand-in merged_at weeks early does not widen it), else the releases either side of merged_at; or
    when the PR's cached diff names it (a flag the PR added or renamed), or a flag is the prefix of one of
    the window (argparse's abbreviation: "--dp" for --dp-size). Not judged: an unmerged PR, a name the
    PR's own wording is said to use ("the PR calls it ..."), a card without a merge day or release days, a
    name no release had (D610's), prose whose clause is about another PR, a release, or later ("#N later adds",
    "from 0.5.12 a new --x")."""
    past = history(ctx)
    if card.state != "merged" or past is None or not past.releases:
        return
    window = _window(card, ctx)
    if window is None or not all(v in past.releases for v in window):
        return
    texts = [(f"validation.claims[{i}]", text, False)
             for i, text in enumerate((doc.data.get("validation") or {}).get("claims") or []) if isinstance(text, str)]
    texts += [(path, flat, True) for path, flat in prose_texts(card)]
    for path, text, prose in texts:
        seen: dict[str, int] = {}
        added_end = -1  # where the last name the prose gives the PR ends: "adds --a and --b" gives it both
        for m in find_mentions(text):
            if m.kind not in (FLAG, ENV) or m.attributed or (m.kind == FLAG and not is_sglang_command(m.command)):
                continue
            n = seen[m.raw] = seen.get(m.raw, -1) + 1
            if prose:
                before = text[max(0, m.start - 80):m.start]
                listed = added_end >= 0 and _LISTED.fullmatch(text[added_end:m.start]) \
                    and not _OWN_VERB.match(text, m.start + len(m.raw))
                if ((m.historical and not (listed or _PRS_NEW.search(before))) or not (listed or _ADDED.search(before))
                        or _ELSEWHERE.search(clause_before(text, m.start))
                        or _ELSEWHERE.search(clause_after(text, m.start))):
                    added_end = -1
                    continue
                added_end = m.start + len(m.raw)
            kind = "flags" if m.kind == FLAG else "env"
            span = past.span(kind, m.text)
            if span is None or span.meets(*window) or _in_diff(card, ctx, m.text):
                continue
            if m.kind == FLAG and any(s.meets(*window) for name, s in past.flags.items()
                                      if name.startswith(m.text)):
                continue  # argparse took it as an abbreviation of a longer flag then ("--dp" for --dp-size)
            when = f"first shipped in {span.first}" if Version(span.first) > Version(window[1]) else \
                f"last shipped in {span.last}"
            yield Finding(text_location(path) if prose else path,
                          f"{m.text} is in {'prose that gives it to the PR' if prose else 'a claim'} of #{card.pr} "
                          f"(merged {card.merged_at}, between SGLang {window[0]} and {window[1]}), but it {when} "
                          f"(releases with it: {span})", hint=_PROSE_HINT if prose else _CLAIM_HINT,
                          at=_locate(doc, path, m.raw, n))
