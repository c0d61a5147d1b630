"""What several rules read beside a card (no rule of its own): the functions today's SGLang defines and their files,
each PR's title, and the manual's prose texts flattened for sentence rules (D244, D245, D247)."""

from __future__ import annotations

import re

from dossier.lint.claims import _from_tree
from dossier.lint.depth import prose_texts, text_location
from dossier.locks import LockError
from dossier.model import Card
from dossier.pr_facts import read_facts

#: a definition in Python source: "def name", "async def name", "class Name" (group 1 the keyword, 2 the name)
DEFINITION = re.compile(r"^[ \t]*(?:async[ \t]+)?(def|class)[ \t]+(\w+)", re.MULTILINE)


def defining_files(tree) -> dict[str, tuple[str, ...]]:
    """Every function today's tree defines, with the Python files defining it (read once per tree and process)."""
    def read(t) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        for path, text in t.texts.items():
            if path.endswith(".py"):
                for name in dict.fromkeys(n for kind, n in DEFINITION.findall(text) if kind == "def"):
                    found.setdefault(name, []).append(path)
        return {name: tuple(paths) for name, paths in found.items()}

    return _from_tree("defining-files", tree, read)


def pr_titles(ctx) -> dict[int, str]:
    """Each PR's title: its card's, else cards/pr-facts.json's (read once per run; an unreadable snapshot is D311's)."""
    if "pr-titles" not in ctx.memo:
        try:
            titles = {n: f.title for n, f in read_facts(ctx.project.root).items()}
        except LockError:
            titles = {}
        ctx.memo["pr-titles"] = titles | {c.pr: c.title for c in ctx.project.cards}
    return ctx.memo["pr-titles"]


def flat_texts(ctx, fields=None, historical: bool = True) -> list[tuple[object, str, str, str]]:
    """(doc, where a finding goes, path, the text on one line) of every card's prose (:func:`prose_texts`; only the
    paths in ``fields`` when given), then cards/lanes.yaml and the findings (a text marked historical only with
    ``historical``)."""
    from dossier.lint.flag_releases import lanes_and_finding_texts

    texts = [(doc, text_location(path), path, flat) for doc in ctx.project.valid_docs()
             for path, flat in prose_texts(Card.from_data(doc.data, doc.path)) if fields is None or path in fields]
    return texts + [(doc, path, path, " ".join(text.split())) for doc, path, text, old
                    in lanes_and_finding_texts(ctx.project) if historical or not old]


def nth(flat: str, sentence: str, said: str, start: int) -> int:
    """How many times ``said`` stands in ``flat`` before its match at ``start`` of ``sentence`` (for :func:`_locate`;
    a sentence the splitter rewrote, not found in ``flat``, counts from the text's start)."""
    return flat.count(said, 0, max(flat.find(sentence), 0) + start)
