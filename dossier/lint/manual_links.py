"""D523: a markdown link written in a card, cards/lanes.yaml or a finding that goes nowhere in the rendered manual."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from dossier.cards import strings
from dossier.lint.claims import _locate
from dossier.lint.registry import Finding, rule
from dossier.project import is_valid
from dossier.render.markdown import LINK_DESTINATION, LINK_TEXT

#: a markdown link, in each form CommonMark reads (a title after the target, the target in <...>, spaces inside the
#: parentheses, [brackets] in the text); not an image
_LINK = re.compile(r"(?<![!\\])\[(?P<text>" + LINK_TEXT + r")\]\((?P<dest>" + LINK_DESTINATION + r")\)")
#: a target that is a URL (a scheme), not a page of the manual
_URL = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)
_ANCHOR = re.compile(r'<a id="([^"]+)"></a>')
_HEADING = re.compile(r"^#{1,6} +(.+?) *#*$", re.MULTILINE)
#: link text that names one PR: "#21019", "PR 21019"
_PR_TEXT = re.compile(r"(?:#|\bPR )(\d+)", re.IGNORECASE)


def _target(link: re.Match) -> str:
    """Where a :data:`_LINK` match leads: its destination, <...> and a title taken off."""
    dest = link["dest"].strip()
    return dest[1:dest.index(">")] if dest.startswith("<") else (dest.split() or [""])[0]


def _links(text: str) -> Iterator[re.Match]:
    """The links of ``text`` to a page of the manual (:data:`_LINK`, URLs left out)."""
    return (m for m in _LINK.finditer(text) if not _URL.match(_target(m)))


def _key(link: re.Match) -> tuple[str, str]:
    """A link as written in a card and as rendered alike: its text without the escapes render adds (`\\_`, `\\*`),
    and where it leads."""
    return re.sub(r"\\(.)", r"\1", link["text"]), _target(link)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped but for hyphens, spaces as hyphens."""
    text = re.sub(r"`|\*\*?|\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(docs: dict[str, str]) -> dict[str, set[str]]:
    """Rendered page -> the anchors a link can name in it: its `<a id>`s (those a template writes only for some
    projects too: `taken-out` appears once a PR is reverted) and its headings' GitHub anchors."""
    from dossier.lint.claims import template_dir
    from dossier.render.documents import TEMPLATES

    out = {}
    for page, text in docs.items():
        ids = set(_ANCHOR.findall(text)) | {_slug(h) for h in _HEADING.findall(text)}
        template = (template_dir() / TEMPLATES[page]).read_text(encoding="utf-8")
        out[page] = ids | {a for a in _ANCHOR.findall(template) if "{" not in a}
    return out


def _broken(page: str, text: str, target: str, anchors: dict[str, set[str]]) -> str | None:
    """Why the link ``[text](target)`` on rendered ``page`` goes nowhere (None: it lands)."""
    path, _, anchor = target.partition("#")
    dest = posixpath.normpath(posixpath.join(posixpath.dirname(page), path)) if path else page
    if dest not in anchors:
        same = [p for p in anchors if posixpath.basename(p) == posixpath.basename(path)]
        where = f" (from {page}: {posixpath.relpath(same[0], posixpath.dirname(page) or '.')})" if same else ""
        return f"{target} is no page of the manual{where}"
    if anchor and anchor not in anchors[dest]:
        return f"{dest} has no anchor #{anchor}"
    pr = _PR_TEXT.fullmatch(text.strip("`* "))
    if pr and anchor.startswith("pr-") and anchor != f"pr-{pr.group(1)}":
        return f"it says #{pr.group(1)} but leads to #{anchor[3:]}'s section"
    return None


@rule("D523", "a markdown link in a card, cards/lanes.yaml or a finding leads to no page or anchor of the rendered "
              "manual (or its #N text names another PR than the section it opens)", scope="project")
def dead_manual_links(ctx) -> Iterator[Finding]:
    """"[the verify path](answers.md#mtp-verify)" when answers.md's anchor is `mtp-verify-path`,
    "[#12508](pr-history.md#pr-12580)", "[the playbook](references/playbook.md)" in text that lands in references/
    (the link is read from the page it is rendered on). The manual is rendered in memory from the project as it stands, so a link is
    judged against the pages, card sections, lanes, findings and checklists it would really have; each dead link
    is reported where its text is written; one the templates write (by-release.md's links to a checklist, say) is
    reported on cards/lanes.yaml, whose renamed or removed id it names. A github.com URL is D524's."""
    from dossier.render import RenderInput, render_documents

    project = ctx.project
    sources = [d for d in project.valid_docs()] + [d for d in project.finding_docs if is_valid(d)]
    if project.lanes_doc is not None and is_valid(project.lanes_doc):
        sources.append(project.lanes_doc)
    written = [(doc, path, text) for doc in sources for path, text in strings(doc.data) if "](" in text]
    docs = render_documents(RenderInput(project))
    anchors = _anchors(docs)
    # (text, target) -> (page, why), for every link of the pages that goes nowhere
    dead: dict[tuple[str, str], tuple[str, str]] = {}
    for page, text in docs.items():
        for m in _links(text):
            why = _broken(page, m.group("text"), _target(m), anchors)
            if why is not None:
                dead.setdefault(_key(m), (page, why))
    authored = set()
    for doc, path, text in written:
        seen: dict[str, int] = {}
        for m in _links(text):
            nth = seen[m.group(0)] = seen.get(m.group(0), -1) + 1
            authored.add(_key(m))
            if _key(m) in dead:
                yield Finding(path, f"the link {m.group(0)} goes nowhere in the manual: {dead[_key(m)][1]}",
                              hint="link a page of references/ by its name as it is rendered (pr-history.md#pr-N, "
                                   "answers.md#<checklist id>, playbook.md#lane-<id>, findings.md#finding-<name>)",
                              doc=doc, at=_locate(doc, path, m.group(0), nth))
    # a dead link no card or lanes text wrote is the templates': an id they link to renamed or gone (one an item's
    # `prs` or `findings` list names is D512's or D514's)
    for (text, target), (page, why) in dead.items():
        if ((text, target) not in authored and project.lanes_doc is not None
                and not target.partition("#")[2].startswith(("pr-", "finding-"))):
            yield Finding("checklists", f"{page} links [{text}]({target}), which the templates write, and it goes "
                                        f"nowhere: {why}",
                          hint="an id the templates link to was renamed or removed in cards/lanes.yaml: restore it",
                          doc=project.lanes_doc)
