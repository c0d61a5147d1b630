"""D629: a current card whose line today's SGLang holds only in other files, with no `today` place saying where."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from dossier.drift import RELOCATED, check_card
from dossier.lint.claims import surface
from dossier.lint.registry import Finding, rule
from dossier.model import Card
from dossier.prose import first_few


@rule("D629", "status current, yet today's SGLang holds the key fragment's line only in other files (drift: "
              "relocated) and the card names no `today` place", scope="card")
def relocated_without_today(card: Card, doc, ctx) -> Iterator[Finding]:
    """The manual shows a current card's line where key_fragment.file puts it; when today's tree has it only in other
    files (drift's verdict relocated), a reader opening that file finds nothing, and the same text elsewhere may be
    another PR's copy. key_fragment.today names the file the card vouches for (drift then checks it there), as every
    relocated card of the manual does; a card without it is one whose `today` was lost. Judged where the line is in
    a file the code could have moved to: one the card lists, one of the key file's name, or one in its folder (a
    short match found in an unrelated file says nothing). Not judged without an SGLang tree (D600)."""
    s = surface(ctx)
    if s is None or card.status != "current" or card.key_fragment.today is not None:
        return
    result = check_card(card, s.tree)
    key = PurePosixPath(card.key_fragment.file)
    near = [w.file for w in result.found if w.file in card.all_files or PurePosixPath(w.file).name == key.name
            or PurePosixPath(w.file).parent == key.parent] if result.verdict == RELOCATED else []
    if near:
        found = first_few(near, 3)
        yield Finding("key_fragment.file#value", f"{card.key_fragment.file} of SGLang {s.tree.version} does not "
                                                 f"hold the line key_fragment.match quotes; {found} does",
                      hint="name where the line lives today in key_fragment.today (file and match), or correct "
                           "key_fragment.file")
