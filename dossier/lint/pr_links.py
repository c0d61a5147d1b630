"""D516: does a card's text point at its own PR where it means its own PR?

A reference is ``#N`` or a GitHub URL (``github.com/<owner>/<repo>/pull/N``, with or without a scheme). Three
forms give another PR out as the card's own:

- the text binds it to this PR: "this PR (#28541)", "the PR, https://github.com/.../pull/28541",
  "#28541 (this PR)", or a field that opens with "PR #28541:" / "PR https://...:";
- its number swaps two adjacent digits of the card's number (#28541 on the card of #28451) and no card holds
  it: a typo, not a citation (a last digit that differs is not one: follow-ups are often numbered so);
- a URL with the card's own number in another repository than the project's (``[tool.dossier] repo``).

A bare #N with no card that swaps two adjacent digits of another card's PR (#21091 where #21019 has a card) is the
same typo pointing elsewhere, unless GitHub's record shows #N exists (cards/pr-facts.json, cards/opened.lock).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.cards import strings
from dossier.errors import DossierError
from dossier.lint.links import PR_URL
from dossier.lint.registry import Finding, rule
from dossier.model import Card

#: "#N" as links.PR_REF reads it: "issue #N" names an issue, which shares GitHub's numbering
_HASH = r"(?<![\w/&])(?<!issue )(?<!issues )(?<!RFC )#(?P<hash_n>\d{3,6})\b"
REF = re.compile(f"{PR_URL.pattern}|{_HASH}", re.IGNORECASE)
_THIS = r"\b(?:(?:this|the)\s+(?:PR|pull\s+request)|this\s+(?:card|change))\b"
#: "this PR (#N)", "this PR, URL", "the PR: URL", "this PR is #N"
_BOUND_AFTER = re.compile(_THIS + r"\s*(?:[(,:\u2013\u2014-]|\bis\b|\bat\b)?\s*$", re.IGNORECASE)
#: "#N (this PR)", "URL, this PR"
_BOUND_BEFORE = re.compile(r"^\s*[(,\u2013\u2014-]\s*" + _THIS, re.IGNORECASE)
#: a field that opens with "PR #N:" or "PR URL:" labels the card
_LABEL = re.compile(r"^\s*(?:PR|pull request)\s*$", re.IGNORECASE)


def swapped(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with two adjacent, different digits exchanged."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


def wrong_refs(card: Card, text: str, repo: str, known: set[int]) -> Iterator[tuple[str, str, str]]:
    """(reference as written, message, hint) for each reference in ``text`` that gives another PR out as
    the card's own."""
    own = str(card.pr)
    for m in REF.finditer(text):
        n = m.group("url_n") or m.group("hash_n")
        url_repo = m.group("repo")
        ref = m.group(0).rstrip("/.")
        if url_repo is not None and n == own and url_repo.lower() != repo.lower():
            yield ref, f"{ref} is pull {n} of {url_repo}, not of {repo} where this card's #{own} is", \
                f"https://github.com/{repo}/pull/{own}"
            continue
        if url_repo is not None and url_repo.lower() != repo.lower():
            continue  # another project's PR is a citation of its own
        if n == own:
            continue
        before, after = text[:m.start()], text[m.end():]
        if _BOUND_AFTER.search(before[-40:]) or _BOUND_BEFORE.match(after[:40]) or \
                (_LABEL.match(before) and after.lstrip().startswith((":", "("))):
            yield ref, f"{ref} is given as this PR, but this card is #{own}", f"#{own}, or cite #{n} as another PR"
        elif swapped(own, n) and int(n) not in known:
            yield ref, f"{ref} swaps two digits of this card's #{own} (and #{n} has no card): a typo?", \
                f"#{own} if this PR is meant"


def near_card_refs(card: Card, text: str, known: set[int], real: set[int]) -> Iterator[tuple[str, str, str]]:
    """(reference, message, hint) for each bare #N in ``text`` that has no card, is not a PR GitHub is known to
    have (``real``), and swaps two adjacent digits of a PR that has a card."""
    for m in REF.finditer(text):
        n = m.group("hash_n")
        if n is None or int(n) in known or int(n) in real or n == str(card.pr):
            continue
        near = sorted(k for k in known if swapped(str(k), n))
        if near:
            yield m.group(0), f"#{n} has no card and swaps two digits of #{near[0]}, which has one: a typo?", \
                f"#{near[0]} if that PR is meant"


@rule("D516", "a reference (#N or PR URL) gives another PR out as the card's own (bound to 'this PR', "
              "swapped digits, another repository), or a #N with no card swaps two digits of a card's PR",
      scope="card")
def wrong_pr_reference(card: Card, doc, ctx) -> Iterator[Finding]:
    from dossier.lint.claims import _locate

    repo = ctx.project.repo
    from dossier.lint.github_facts import facts
    from dossier.opened import read_anchors

    known = {c.pr for c in ctx.project.cards}
    if "real-prs" not in ctx.memo:
        try:
            ctx.memo["real-prs"] = {a.pr for a in read_anchors(ctx.project.root)} | set(facts(ctx))
        except DossierError:
            ctx.memo["real-prs"] = set(facts(ctx))
    for path, text in strings(doc.data):
        if path in ("pr",):
            continue
        seen: dict[str, int] = {}
        for ref, message, hint in [*wrong_refs(card, text, repo, known),
                                   *near_card_refs(card, text, known, ctx.memo["real-prs"])]:
            n = seen[ref] = seen.get(ref, -1) + 1
            yield Finding(path + "#value", message, hint=hint, at=_locate(doc, path, ref, n))
