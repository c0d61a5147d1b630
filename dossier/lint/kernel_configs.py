"""A launch-config number (BV 64, 8 warps, num_stages 3, a threshold of 10) given to a function of today's SGLang
whose code sets that config but never writes the number (D247)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier import prose
from dossier.lint.claims import _from_tree, _locate, surface
from dossier.lint.code_texts import defining_files, flat_texts, nth
from dossier.lint.depth import ALL_FIELDS
from dossier.lint.figures import _quote
from dossier.lint.flag_defaults import _RELEASE
from dossier.lint.registry import Finding, rule
from dossier.python_defs import definition_lines

#: a config said with its number: "BV 32", "BK = 64", "num_warps 4", "4 warps", "2 stages", "a threshold of 20"
_CONFIG = re.compile(r"\b(?P<word>BV|BK|BT|BLOCK_[A-Z]+|num_warps|num_stages|threshold)\s*(?:=\s*|of\s+|is\s+)?"
                     r"(?P<value>\d+(?:\.\d+)?)(?![\w(/]|\.\w)|(?<![\w.,])(?P<count>\d+)\s+(?P<unit>warps?|stages)\b")
_NAME = re.compile(r"(?<![\w.])[a-z_][a-z0-9]*_[a-z0-9_]+\b")
_LITERAL = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?![\w.])")
#: code that takes the config from the environment or a table, whose numbers are not in the function's own text
_ELSEWHERE = re.compile(r"\benvs\.|\benviron\b|\bgetenv\b|get_\w*env|autotune|_CONFIGS?\b")


#: a module-level constant: "GDN_CHUNK_H_BV = int(os.getenv(...))"
_CONSTANT = re.compile(r"^([A-Z_][A-Z0-9_]*)\s*(?::[^=\n]+)?=(?!=).*$", re.MULTILINE)


def _bodies(tree, name: str) -> tuple[str, ...]:
    """The source of every definition of ``name`` in today's tree, its decorators (``@triton.autotune(...)``) included
    and the module-level constants it names put before it (a BV read from the environment at import), read once per
    tree, process and name."""
    def read(t) -> tuple[str, ...]:
        out = []
        for path in defining_files(t).get(name, ()):
            text = t.texts[path]
            span = definition_lines(text, name, decorators=True)
            if span is not None:
                body = "\n".join(text.splitlines()[span[0] - 1:span[1]])
                used = set(re.findall(r"\b[A-Z_][A-Z0-9_]*\b", body))
                out.append("\n".join([m.group(0) for m in _CONSTANT.finditer(text) if m.group(1) in used] + [body]))
        return tuple(out)

    return _from_tree(f"body {name}", tree, read)


def _sets(body: str, word: str) -> bool:
    """Whether a definition's code names the config and does not take it as a ``tl.constexpr`` parameter (a kernel
    taking ``BV: tl.constexpr`` runs with what its caller passes: it sets nothing)."""
    return re.search(rf"\b{word}\b", body) is not None and re.search(rf"\b{word}\s*:\s*tl\.constexpr", body) is None


@rule("D247", "a launch-config number (BV 64, 8 warps, a threshold of 10) given to a function of today's SGLang whose "
              "code sets that config but never writes the number", scope="project", severity="warning")
def config_number_not_in_code(ctx) -> Iterator[Finding]:
    """"softplus with a threshold of 10" where 0.5.23's fused_gdn_gating defaults it to 20.0; "launches 4 warps" for a
    wrapper that sets num_warps = 8: a number read off a kernel and written wrong, which no figure check sees.
    Judged in a sentence that names a function today's SGLang defines and gives a config a number (BV, BK, BT,
    BLOCK_*, num_warps or "N warps", num_stages or "N stages", a threshold) when the function's code names that config
    but has no such literal; not where the code takes its config from the environment, an autotuner or a table, nor in
    a sentence that names another release than today's outside parentheses (the number may be that release's). Read in
    a card's motivation, implementation and explain (its validation lanes compare old settings with new ones),
    cards/lanes.yaml and the findings, a text marked historical not."""
    s = surface(ctx)
    if s is None:
        return
    files = defining_files(s.tree)
    texts = flat_texts(ctx, ALL_FIELDS, historical=False)
    for doc, where, path, flat in texts:
        for sentence in prose.sentences(flat):
            if any(r != s.tree.version for r in _RELEASE.findall(re.sub(r"\([^()]*\)", "", sentence))):
                continue
            configs = list(_CONFIG.finditer(sentence))
            if not configs:  # the functions' bodies are read only for a sentence giving a config
                continue
            names = {n for n in _NAME.findall(sentence) if n in files}
            bodies = [b for name in names for b in _bodies(s.tree, name)]
            for m in configs if bodies else ():
                word = m.group("word") or ("num_warps" if m.group("unit").startswith("warp") else "num_stages")
                setting = [b for b in bodies if _sets(b, word)]
                if not setting or any(_ELSEWHERE.search(b) for b in setting):
                    continue
                value = float(m.group("value") or m.group("count"))
                if value not in {float(v) for b in setting for v in _LITERAL.findall(b)}:
                    said = m.group(0)
                    yield Finding(where, f"{said!r} in {_quote(sentence, m.start())}, but the code of "
                                         f"{', '.join(sorted(names))} in SGLang {s.tree.version} never writes "
                                         f"{value:g} (it sets {word})", doc=doc,
                                  hint="give the number today's code sets, or name the release it is from",
                                  at=_locate(doc, path, said, nth(flat, sentence, said, m.start())))
