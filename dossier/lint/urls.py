"""D524: a GitHub URL of the project's repository in a card, cards/lanes.yaml or a finding that leads elsewhere than the card can vouch for: a pull
request its link text or its citations do not name, or a file (blob/tree) no source holds."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.cards import strings
from dossier.lint.claims import _locate
from dossier.lint.links import cited_prs
from dossier.lint.registry import Finding, rule
from dossier.model import Card

#: a URL into a GitHub repository: its pull requests and its files (a branch, tag or commit, then the path)
URL = re.compile(r"(?:https?://)?(?:www\.)?github\.com/(?P<repo>[\w.-]+/[\w.-]+)/(?P<kind>pulls?|blob|tree)/"
                 r"(?P<rest>[^\s)\]>\"'`]+)", re.IGNORECASE)
#: the text of a markdown link around a URL: "[#21019](https://...)"
_LINK_TEXT = re.compile(r"\[(?P<text>[^\]\n]*)\]\($")
#: link text naming one PR ("#21019", "PR 21019", "pull 21019") or the card's own ("this PR")
_NAMES_PR = re.compile(r"(?:#|\bPR\s?#?|\bpull\s?#?)(\d+)\b", re.IGNORECASE)
_THIS_PR = re.compile(r"^\W*(?:this|the) (?:PR|pull request|change)\W*$", re.IGNORECASE)


def _cited(card: Card, doc) -> set[int]:
    """The PRs the card cites by number in any text, and those it names in superseded_by."""
    out = set(card.superseded_by)
    for _, text in strings(doc.data):
        out |= cited_prs(text)
    return out


def _project_paths(ctx) -> set[str]:
    """Every path a card of the project lists (files, key fragment, today's place) or a cached PR diff touched."""
    from dossier.lint.paths import diff_paths

    if "url-paths" not in ctx.memo:
        out: set[str] = set()
        for doc in ctx.project.valid_docs():
            card = Card.from_data(doc.data, doc.path)
            out |= set(card.all_files) | {card.key_fragment.file} | diff_paths(card, ctx)
            if card.key_fragment.today is not None:
                out.add(card.key_fragment.today.file)
        ctx.memo["url-paths"] = out
    return ctx.memo["url-paths"]


def _held(repo_path: str, ctx) -> bool | None:
    """Whether a source holds the file or folder ``repo_path``: a card or cached diff of the project, a path the
    other cards or lanes.yaml name outside the wheel, today's SGLang, a synced release. None: no source can tell
    (a path in the wheel with neither today's SGLang nor a release at hand)."""
    from dossier.lint.claims import surface
    from dossier.lint.grounds import _release_trees
    from dossier.lint.paths import _holders, outside_wheel

    p = repo_path.rstrip("/")
    known = _project_paths(ctx)
    if p in known or any(k.startswith(p + "/") for k in known) or p in _holders(ctx):
        return True
    if outside_wheel(p):
        return any(k.startswith(p + "/") for k in _holders(ctx)) or False
    s = surface(ctx)
    trees = _release_trees(ctx).values()
    if s is None and not trees:
        return None
    if s is not None and (s.knows_path(p) or any(q.startswith(p + "/") for q in s.paths)):
        return True
    return any((f := t.local(p)) is not None and f.exists() for t in trees)


def _file_of(rest: str, ctx) -> tuple[str, bool | None]:
    """The repository path of a blob/tree URL's rest (a ref, which may hold slashes, then the path) and whether a
    source holds it: the first split whose path is held, else the split after the first segment."""
    parts = rest.split("#", 1)[0].split("?", 1)[0].rstrip(".,;:").strip("/").split("/")
    for i in range(1, len(parts)):
        path = "/".join(parts[i:])
        if _held(path, ctx):
            return path, True
    path = "/".join(parts[1:])
    return path, _held(path, ctx) if path else True


def _wrong(card: Card | None, text: str, cited: set[int], cards: set[int], repo: str, ctx) -> Iterator[tuple[str, str, str]]:
    """(URL as written, message, hint) for each URL of the project's repository in ``text`` that leads elsewhere
    than its document (a card; ``card`` None: lanes.yaml or a finding) can vouch for."""
    own = card.pr if card is not None else None
    for m in URL.finditer(text):
        if m.group("repo").lower() != repo.lower():
            continue  # another project's page is a citation of its own
        url = m.group(0).rstrip(".,;:")
        link = _LINK_TEXT.search(text[:m.start()])
        words = link.group("text").strip("`* ") if link else ""
        if m.group("kind").lower().startswith("pull"):
            n = re.match(r"\d+", m.group("rest"))
            if n is None:
                continue
            n = int(n.group(0))
            named = _NAMES_PR.search(words)
            if named and int(named.group(1)) != n:
                yield url, f"the link [{words}] says #{named.group(1)} but leads to pull {n}", \
                    f"https://github.com/{repo}/pull/{named.group(1)}"
            elif card is not None and _THIS_PR.match(words) and n != card.pr:
                yield url, f"the link [{words}] is this card's PR, #{card.pr}, but leads to pull {n}", \
                    f"https://github.com/{repo}/pull/{card.pr}"
            elif not named and n != own and n not in cited and n not in cards:
                yield url, f"{url} leads to pull {n}, which {'the card' if card else 'the file'} cites nowhere else (no #{n}, no superseded_by) " \
                           "and no card holds: a mistyped or swapped number?", \
                    f"cite #{n} by number where the card says what it is, or link the PR it means"
        else:
            path, held = _file_of(m.group("rest"), ctx)
            if held is False:
                yield url, f"{url} leads to {path}, a file no source holds (no card or cached diff names it, and " \
                           "neither today's SGLang nor a synced release has it)", \
                    "link the file as the PR's diff or a release has it (dossier show --diff)"


@rule("D524", "a github.com URL of the project's repository (in a card, cards/lanes.yaml or a finding) leads "
              "elsewhere than its text can vouch for: a pull request another than its link text names or the text "
              "cites, or a file no source holds", scope="project")
def misleading_url(ctx) -> Iterator[Finding]:
    """"[#21019](https://github.com/sgl-project/sglang/pull/21091)", "[this PR](.../pull/19312)" on #19321's card,
    ".../pull/21091" in a card that cites no #21091 and with no card of its own (a swapped digit), or
    ".../blob/main/python/sglang/srt/layers/attention/linear/gdn_kernels.py", a file no card, cached diff, today's
    SGLang or synced release has: a reader follows the link and lands on another PR or on a 404. A pull URL passes
    when it is the card's own PR, a PR the card cites by number (#N) or names in superseded_by, or a PR with a card
    in the project, and its link text names no other; a blob or tree URL when some source holds its path after the
    ref (a branch, tag or commit, slashes and all; a path outside the wheel only a card, lanes.yaml or a cached diff
    can hold). cards/lanes.yaml and the findings are read the same way (the manual renders them too), a pull URL
    vouched for by a PR the file cites by number or one with a card. URLs of other repositories, and a file in the
    wheel with no SGLang tree or release at hand, are not judged."""
    from dossier.project import is_valid

    project = ctx.project
    cards = {c.pr for c in project.cards}
    docs = [(d, Card.from_data(d.data, d.path)) for d in project.valid_docs()]
    docs += [(d, None) for d in [*project.checked_findings(), project.lanes_doc] if d is not None and is_valid(d)]
    for doc, card in docs:
        if not project.in_scope(doc.path):
            continue
        cited = _cited(card, doc) if card is not None else {n for _, t in strings(doc.data) for n in cited_prs(t)}
        for path, text in strings(doc.data):
            seen: dict[str, int] = {}
            for url, message, hint in _wrong(card, text, cited, cards, project.repo, ctx):
                n = seen[url] = seen.get(url, -1) + 1
                yield Finding(path, message, hint=hint, doc=doc, at=_locate(doc, path, url, n))
