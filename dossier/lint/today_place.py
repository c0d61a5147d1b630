"""The card's `today` place: D629 (a current card whose line today's SGLang holds only in other files, with no
`today` place saying where), D630 (a `today` line the card never names)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from dossier.drift import RELOCATED, check_card
from dossier.lint.claims import _from_tree, surface
from dossier.lint.depth import card_texts
from dossier.lint.registry import Finding, rule
from dossier.model import Card
from dossier.prose import first_few
from dossier.source_tree import lines_with


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


#: a code name worth naming: snake_case, CamelCase or an UPPER constant of four characters or more
_CODE_NAME = re.compile(r"(?<!\w)(?=\w{4})(?:[A-Za-z]\w*_\w+|_\w+|[A-Z]+[a-z]\w*[A-Z]\w*|[a-z]+[A-Z]\w*|[A-Z][A-Z0-9_]{3,})"
                        r"(?!\w)")


@rule("D630", "key_fragment.today names a line the card never names: none of its code names, nor the function, "
              "class or assignment that holds it in today's SGLang", scope="card")
def today_never_named(card: Card, doc, ctx) -> Iterator[Finding]:
    """A `today` place tells drift where the card's behaviour lives now, and the manual prints it as the card's
    word; a card that vouches for a line says what it is. Its prose (or key_fragment.match) names a code name of
    today.match ("ping_pong_mapping"), or the function, class or assigned name that holds the line in today's file
    ("_gather_mamba_track_indices", "mamba_full_memory_ratio", which "--mamba-full-memory-ratio" names too). A
    `today` swapped for another line of the same file (another card's) passes every other rule. Not judged: a
    file that is not Python, or a line today's tree does not hold (drift says so)."""
    s = surface(ctx)
    today = card.key_fragment.today
    if s is None or today is None or not today.file.endswith(".py"):
        return
    holders = _from_tree(f"holders:{today.file}:{today.match}", s.tree,  # once per tree and process
                         lambda t: _holders(t, today.file, today.match))
    if holders is None:
        return
    names = set(_CODE_NAME.findall(today.match)) | holders
    said = re.sub(r"--([\w-]+)", lambda m: m.group(1).replace("-", "_"),  # "--mamba-full-memory-ratio" names the field
                  " ".join([card.key_fragment.match, *(t for _, t in card_texts(card))]))
    if names and not any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", said) for n in names):
        yield Finding("key_fragment.today.match#value",
                      f"the card never names the line it gives as today's place: none of {first_few(sorted(names), 4)}"
                      " is in its prose", hint="say in key_fragment.explain what the line is and where it sits today "
                                              "(its function or class), or correct key_fragment.today")


def _holders(tree, file: str, match: str) -> set[str] | None:
    """The names that hold ``match``'s first line in ``file`` of ``tree``: the innermost function and the assignment
    it is in, else the innermost class (a class names a whole file's worth of lines); None: the file does not hold
    it, or does not parse."""
    text = tree.text(file)
    lines = lines_with(text, match, file) if text is not None else ()
    if not lines:
        return None
    module = _parsed(text)
    if module is None:
        return None
    functions, classes, assigned = [], [], set()
    for node in ast.walk(module):
        if not isinstance(node, ast.stmt) or not node.lineno <= lines[0] <= node.end_lineno:
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(node)
        elif isinstance(node, ast.ClassDef):
            classes.append(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            assigned |= {t.id if isinstance(t, ast.Name) else t.attr for t in targets
                         if isinstance(t, (ast.Name, ast.Attribute))}
    innermost = max(functions, key=lambda n: n.lineno, default=None)
    if innermost is not None or assigned:
        return assigned | ({innermost.name} if innermost is not None else set())
    return {max(classes, key=lambda n: n.lineno).name} if classes else set()


def _parsed(text: str) -> ast.Module | None:
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):
        return None
