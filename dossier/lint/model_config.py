"""A count of Qwen3-Next's architecture (layers, GDN key or value heads, experts, hidden size) that today's SGLang's
Qwen3NextConfig does not give (D639)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from dossier import prose
from dossier.lint.claims import _from_tree, surface
from dossier.lint.figures import _quote
from dossier.lint.flag_releases import current_texts
from dossier.lint.registry import Finding, rule

CONFIG_FILE = "python/sglang/srt/configs/qwen3_next.py"
#: what a count is of -> the Qwen3NextConfig argument whose default (the 80B-A3B checkpoint's) gives it
_OF = {"layers": "num_hidden_layers", "value heads": "linear_num_value_heads", "key heads": "linear_num_key_heads",
       "experts": "num_experts", "hidden size": "hidden_size"}
#: "48 layers", "48 decoder layers", "32 value heads", "16 GDN key heads", "512 experts", "a hidden size of 2048"
_COUNT = re.compile(r"(?<![\w.,/x-])(?P<n>\d[\d,]*) (?:(?:decoder|hidden|transformer) )?(?P<layers>layers)\b"
                    r"|(?<![\w.,/x-])(?P<h>\d[\d,]*) (?:(?:GDN|linear|linear[- ]attention) )?(?P<heads>value heads|key heads)\b"
                    r"|(?<![\w.,/x-])(?P<e>\d[\d,]*) (?:routed )?(?P<experts>experts)\b(?! (?:per|are active|active))"
                    r"|\bhidden[ _]size (?:of |is |= ?|\()?(?P<d>\d[\d,]*)\b", re.IGNORECASE)
#: a family the sentence must name (Qwen3-Next's own sizes; the 80B-A3B checkpoint is the config's default)
_QWEN3_NEXT = re.compile(r"\bQwen3-?Next(?:-80B(?:-A3B)?)?(?![\w-]*Coder)\b", re.IGNORECASE)
#: what makes a count another model's, one rank's, a subset's or another release's
_NOT_WHOLE = re.compile(r"\bQwen ?3\.\d|\bQwen3-(?!Next)[\w.-]+|\bCoder-Next|\bper (?:rank|GPU|device|TP rank|EP rank)\b"
                        r"|\bTP ?[2-9]|\btp ?=|/ ?tp\b|\bEP ?\d|\b(?:MTP|draft|NEXTN)\b|\b\d+\.\d+\.\d+\b", re.IGNORECASE)
#: words before an expert count that make it a subset: "10 active experts" is written "10 active", but "of its 512"
_SUBSET = re.compile(r"\b(?:redundant|active|activated|selected|shared|physical|logical|top)\s+$", re.IGNORECASE)


def _defaults(tree) -> dict[str, int]:
    """Qwen3NextConfig.__init__'s integer defaults in ``tree`` (empty where the file or class is not there)."""
    text = tree.text(CONFIG_FILE)
    if text is None:
        return {}
    try:
        module = ast.parse(text)
    except SyntaxError:
        return {}
    for node in ast.walk(module):
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            args = node.args.args[len(node.args.args) - len(node.args.defaults):]
            found = {a.arg: d.value for a, d in zip(args, node.args.defaults, strict=True)
                     if isinstance(d, ast.Constant) and type(d.value) is int}
            if "num_hidden_layers" in found:
                return found
    return {}


@rule("D639", "a count of Qwen3-Next's architecture (layers, GDN key or value heads, experts, hidden size) that today's "
              "Qwen3NextConfig defaults (the 80B-A3B checkpoint's) do not give", scope="project")
def wrong_architecture_count(ctx) -> Iterator[Finding]:
    """"Qwen3-Next-80B-A3B has 64 layers" where its config has 48: a number read off the model and written wrong,
    which no figure check sees (it is no measurement), and which every sizing sum built on it carries. Judged in a
    sentence naming Qwen3-Next (not Qwen3-Coder-Next, whose sizes are its own) against Qwen3NextConfig.__init__'s
    defaults in today's SGLang (num_hidden_layers, linear_num_key_heads, linear_num_value_heads, num_experts,
    hidden_size); not where the sentence also names another model, a rank's share (per rank, TP4, EP8), the MTP or
    draft model, or a release, nor an expert count of a subset ("10 active experts"). Read in every card,
    cards/lanes.yaml and the findings."""
    s = surface(ctx)
    if s is None:
        return
    defaults = _from_tree("qwen3-next-config", s.tree, _defaults)
    if not defaults:
        return
    for doc, where, flat in current_texts(ctx.project):
        yield from _judged(doc, where, flat, defaults, s.tree.version)


def _judged(doc, where: str, flat: str, defaults: dict[str, int], version: str) -> Iterator[Finding]:
    for sentence in prose.sentences(flat):
        if not _QWEN3_NEXT.search(sentence) or _NOT_WHOLE.search(sentence):
            continue
        for m in _COUNT.finditer(sentence):
            of = next(what for what in ("layers", "heads", "experts") if m.group(what)) if m.group("d") is None \
                else "hidden size"
            if of == "heads":
                of = m.group("heads").lower()
            if of == "experts" and _SUBSET.search(sentence[:m.start()]):
                continue
            said = int((m.group("n") or m.group("h") or m.group("e") or m.group("d")).replace(",", ""))
            arg = _OF[of]
            if arg in defaults and said != defaults[arg]:
                yield Finding(where, f"{said} {of} in {_quote(sentence, m.start())}: SGLang {version}'s "
                                     f"Qwen3NextConfig gives Qwen3-Next {defaults[arg]} ({arg})",
                              hint="write the count of the model's config, or name the model, rank share or release "
                                   "the count is of", doc=doc)
