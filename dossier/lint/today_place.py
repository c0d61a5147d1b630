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
    short match found in an unrelated file says nothing), or anywhere once the key file is gone from today's tree
    (moved and renamed at once: `jit_kernel/triton/gdn_fused_proj.py` to
    `kernels/ops/attention/triton_gdn_fused_proj.py`). Not judged without an SGLang tree (D600)."""
    s = surface(ctx)
    if s is None or card.status != "current" or card.key_fragment.today is not None:
        return
    result = check_card(card, s.tree)
    key = PurePosixPath(card.key_fragment.file)
    gone = s.tree.local(card.key_fragment.file) is not None and s.tree.text(card.key_fragment.file) is None
    near = [w.file for w in result.found if gone or w.file in card.all_files
            or PurePosixPath(w.file).name == key.name or PurePosixPath(w.file).is_relative_to(key.parent)
            ] if result.verdict == RELOCATED else []
    if near:
        found = first_few(near, 3)
        where = (f"{card.key_fragment.file} is not in SGLang {s.tree.version}; the line key_fragment.match quotes "
                 f"is in {found}" if gone else f"{card.key_fragment.file} of SGLang {s.tree.version} does not hold "
                 f"the line key_fragment.match quotes; {found} does")
        yield Finding("key_fragment.file#value", where,
                      hint="name where the line lives today in key_fragment.today (file and match), or correct "
                           "key_fragment.file")
