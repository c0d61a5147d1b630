"""A count of Qwen3-Next's architecture (layers, GDN key or value heads, attention and KV heads, experts, hidden size)
that today's SGLang's Qwen3NextConfig does not give (D639)."""

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
       "experts": "num_experts", "hidden size": "hidden_size", "attention heads": "num_attention_heads",
       "KV heads": "num_key_value_heads"}
#: a count of the whole model, after what gives it to the model: "has 48 layers", "with 512 experts", "its 32 value
#: heads", "all 48 layers", "over 512 experts", "the 64-layer Qwen3-Next", "a hidden size of 2048", "hidden_size=2048",
#: "num_hidden_layers = 48", and the counts listed after one; not "so only 12 layers keep a KV cache", "routed to 10
#: experts"
_WHOLE = (r"(?:(?:\b(?:has|have|had|uses?|used|with|its|all|over|across|among)|['\u2019]s)\s+(?:(?:its|all|the)\s+)?"
          # the next of a list of whole counts: "has 16 attention heads and 2 KV heads", "48 layers, 512 experts"
          r"|(?:(?<=heads)|(?<=layers)|(?<=experts))(?:,\s*(?:and\s+)?|\s+and\s+))")
#: after the count's noun, what makes it a part: "12 layers of full attention", "2 value heads per key head", "10
#: routed experts plus one shared expert" (not "64 value heads of 128 channels": the size of each)
_PART_LAYERS = r"(?!\s+(?:of|plus)\b)"
_PART_HEADS = r"(?!\s+per\b)"
_COUNT = re.compile(rf"{_WHOLE}(?P<n>\d[\d,]*) (?:(?:decoder|hidden|transformer) )?(?P<layers>layers)\b{_PART_LAYERS}"
                    rf"|{_WHOLE}(?P<h>\d[\d,]*) (?:(?:GDN|linear|linear[- ]attention) )?(?P<heads>value heads|key heads)\b"
                    rf"{_PART_HEADS}|{_WHOLE}(?P<a>\d[\d,]*) (?:full[- ]attention |query )?"
                    rf"(?P<attention>attention heads|query heads)\b{_PART_HEADS}"
                    rf"|{_WHOLE}(?P<kv>\d[\d,]*) (?P<kvheads>(?:KV|key[- ]value) heads)\b{_PART_HEADS}"
                    rf"|{_WHOLE}(?P<e>\d[\d,]*) (?:routed )?(?P<experts>experts)\b(?! (?:per|plus|are|is|active))"
                    r"|(?<![\w.,/x-])(?P<l>\d+)-layer\b"
                    r"|\bhidden[ _](?:size|dim(?:ension)?)\s*(?:of |is |=\s*|\()?(?P<d>\d[\d,]*)\b"
                    r"|\b(?P<arg>num_hidden_layers|linear_num_value_heads|linear_num_key_heads|num_experts|hidden_size|"
                    r"num_attention_heads|num_key_value_heads)"
                    r"\s*[=:]\s*(?P<v>\d+)\b", re.IGNORECASE)
#: a family the sentence must name (Qwen3-Next's own sizes; the 80B-A3B checkpoint is the config's default)
_QWEN3_NEXT = re.compile(r"\bQwen3[- ]?Next(?:-80B(?:-A3B)?)?(?![\w-]*Coder)\b", re.IGNORECASE)
#: another model named in the sentence: its counts may be that model's
_OTHER_MODEL = re.compile(r"\bQwen ?3\.\d|\bQwen3-(?!Next)[\w.-]+|\bCoder-Next", re.IGNORECASE)
#: what makes a count one rank's, the draft model's or another release's: judged in the count's own clause
_NOT_WHOLE = re.compile(r"\bper (?:rank|GPU|device|TP rank|EP rank|token)\b|\beach token\b"
                        r"|\beach (?:rank|GPU|device)\b|\bon each\b|tensor[- ]parallel|\bsplit\b|\bshard"
                        r"|\bTP ?[2-9]|\btp ?=|/ ?tp\b|\bEP ?\d|\b(?:MTP|draft|NEXTN)\b|\b\d+\.\d+\.\d+\b", re.IGNORECASE)
_CLAUSES = re.compile(r";|, (?:and|but|while|whereas|so|which) ")
#: the group of _COUNT that holds a count's number -> what it is of; a config argument -> what it is the count of
_KIND = {"n": "layers", "l": "layers", "e": "experts", "d": "hidden size", "a": "attention heads", "kv": "KV heads"}
_WHAT = {arg: of for of, arg in _OF.items()}


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


@rule("D639", "a count of Qwen3-Next's architecture (layers, GDN key or value heads, attention and KV heads, experts, "
              "hidden size) that today's Qwen3NextConfig defaults (the 80B-A3B checkpoint's) do not give",
      scope="project")
def wrong_architecture_count(ctx) -> Iterator[Finding]:
    """"Qwen3-Next-80B-A3B has 64 layers" where its config has 48: a number read off the model and written wrong,
    which no figure check sees (it is no measurement), and which every sizing sum built on it carries. Judged in a
    sentence naming Qwen3-Next (not Qwen3-Coder-Next, whose sizes are its own) against Qwen3NextConfig.__init__'s
    defaults in today's SGLang (num_hidden_layers, linear_num_key_heads, linear_num_value_heads, num_attention_heads,
    num_key_value_heads, num_experts, hidden_size), where the count is given to the whole model ("has 48 layers",
    "uses 512 experts", "its 32 value heads", "16 attention heads with 2 KV heads", "the 48-layer", "hidden size
    2048", "num_hidden_layers = 48"); not a subset ("only 12 layers keep a KV
    cache", "routed to 10 experts", "10 experts are routed", "12 layers of full attention", "2 value heads per key
    head", a token's experts), nor in a clause that names another model, a rank's
    share (per rank, on each GPU, TP4, EP8), the MTP or draft model, or a release. Read in every card,
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
        if not _QWEN3_NEXT.search(sentence) or _OTHER_MODEL.search(sentence):
            continue
        for clause in _CLAUSES.split(sentence):
            if _NOT_WHOLE.search(clause):
                continue
            for m in _COUNT.finditer(clause):
                of, said = _count(m)
                arg = _OF[of]
                if arg in defaults and said != defaults[arg]:
                    yield Finding(where, f"{said} {of} in {_quote(sentence, sentence.find(m.group(0)))}: SGLang "
                                         f"{version}'s Qwen3NextConfig gives Qwen3-Next {defaults[arg]} ({arg})",
                                  hint="write the count of the model's config, or name the model, rank share or "
                                       "release the count is of", doc=doc)


def _count(m: re.Match) -> tuple[str, int]:
    """(what a count match is of, its number)."""
    if m.group("arg"):
        return _WHAT[m.group("arg").lower()], int(m.group("v"))
    if m.group("h"):
        return m.group("heads").lower(), int(m.group("h").replace(",", ""))
    group = next(g for g in _KIND if m.group(g))
    return _KIND[group], int(m.group(group).replace(",", ""))
