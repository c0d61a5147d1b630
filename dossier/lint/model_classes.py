"""D640: a model architecture class called multimodal that today's SGLang does not list as one, or text-only when it
does ("Qwen3_5ForCausalLM (multimodal", "a text-only checkpoint (Qwen3_5ForConditionalGeneration")."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.lint.claims import _from_tree, _locate, surface
from dossier.lint.code_names import _class_files
from dossier.lint.code_texts import flat_texts
from dossier.lint.registry import Finding, rule

#: the list today's SGLang decides a multimodal architecture by (configs/model_config.py)
_ARCHS = re.compile(r"^multimodal_model_archs\s*=\s*\[(?P<body>.*?)\]", re.MULTILINE | re.DOTALL)
_CLASS = r"`?(?<![\w.*])[A-Z]\w*?For[A-Z]\w*(?![\w*])`?"
#: one class or several joined by commas, "or", "and"
_CLASSES = rf"(?P<classes>{_CLASS}(?:(?:\s*,\s*(?:or\s+|and\s+)?|\s+(?:or|and)\s+){_CLASS})*)"
_MODALITY = r"(?P<mod>(?i:multi-?modal|vision-language|text-only|text only)|VLM)\b"
#: the modality word right before the class ("a text-only Qwen3.5 checkpoint (architecture X or Y", "multimodal X"),
#: in a parenthesis right after it ("X or Y (multimodal, ..."), or as its predicate ("X is a new multimodal wrapper")
_SAID = (re.compile(rf"(?<![\w-]){_MODALITY}(?P<between>\s+(?:[\w.'-]+\s+){{0,3}}?\(?(?:architectures?\s+)?)"
                    + _CLASSES),
         re.compile(_CLASSES + rf"\s*\(\s*(?:the\s+|an?\s+)?{_MODALITY}"),
         re.compile(_CLASSES + rf"\s+(?:is|are)\s+(?:the\s+|an?\s+)?(?:new\s+)?{_MODALITY}"))
#: words between a modality and the classes that turn it away from them ("text-only classes other than X",
#: "multimodal inputs to X")
_AWAY = re.compile(r"\b(?:not|no|never|unlike|except|other|outside|besides?|instead|rather|than|but|from|over|vs|"
                   r"versus|without|wraps?|inside|of|to|into|for|by|with|through|via|reach\w*|feeds?|pass\w*|"
                   r"hands?)\b", re.IGNORECASE)


def multimodal_archs(tree) -> frozenset[str] | None:
    """The architectures today's SGLang lists in ``multimodal_model_archs`` (None: no such list in the tree)."""
    def read(t) -> frozenset[str] | None:
        for path, text in t.texts.items():
            if path.endswith("srt/configs/model_config.py") and (m := _ARCHS.search(text)):
                return frozenset(re.findall(r"[\"'](\w+)[\"']", m.group("body")))
        return None

    return _from_tree("multimodal-archs", tree, read)


@rule("D640", "a model architecture class called multimodal that today's SGLang's multimodal_model_archs does not "
              "list, or text-only when it does", scope="project")
def class_modality(ctx) -> Iterator[Finding]:
    """"Qwen3.5 checkpoints load as Qwen3_5ForCausalLM (multimodal, ...)": SGLang decides whether an architecture
    is multimodal by its list ``multimodal_model_archs`` (configs/model_config.py), which names the
    ForConditionalGeneration classes and not the text-only ForCausalLM ones; a reader who takes the wrong class
    loads a checkpoint without its vision tower or with one it lacks. Judged where the modality word stands
    right at the class (or a list of classes joined by commas, "or", "and"): before it, at most three words away
    with none that turns it away ("not", "unlike", "other than", "of", "inside"...), in a parenthesis right
    after it, or as its predicate ("X is a new multimodal wrapper"). A class must be one today's tree defines
    or lists; a class called multimodal that is not listed, or text-only that is, is a finding. Read in every
    card's prose, cards/lanes.yaml and the findings (a text marked historical not)."""
    s = surface(ctx)
    if s is None or (listed := multimodal_archs(s.tree)) is None:
        return
    defined = _class_files(s.tree)
    for doc, where, path, flat in flat_texts(ctx, historical=False):
        for pattern in _SAID:
            for m in pattern.finditer(flat):
                if pattern is _SAID[0] and _AWAY.search(m.group("between")):
                    continue
                multimodal = not m.group("mod").lower().startswith("text")
                for name in re.findall(r"\w+", m.group("classes")):
                    if "For" not in name or name not in defined and name not in listed:
                        continue
                    if (name in listed) != multimodal:
                        said = m.group("mod")
                        yield Finding(where, f"calls {name} {said}, but SGLang {s.tree.version}'s "
                                             f"multimodal_model_archs (configs/model_config.py) "
                                             f"{'does not list' if multimodal else 'lists'} it",
                                      hint="name the class SGLang lists as multimodal (ForConditionalGeneration) or "
                                           "the text-only one (ForCausalLM), as configs/model_config.py has them",
                                      doc=doc, at=_locate(doc, path, name, flat.count(name, 0, m.start("classes"))))
