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
#: between a modality and the classes, a word that makes it a clause of its own: a verb, an auxiliary, an adverb
#: ("text-only serving still builds X": the classes are what the serving builds, not what is text-only)
_VERB = re.compile(r"\b(?:is|are|was|were|be|been|being|has|have|had|does|do|did|can|could|will|would|may|might|must|"
                   r"should|shall|still|also|now|always|often|only|then|just|already|never|even|builds?|loads?|uses?|"
                   r"runs?|serves?|picks?|keeps?|gets?|needs?|calls?|creates?|makes?|maps?|registers?|constructs?|"
                   r"instantiates?|selects?|becomes?|goes|falls?|ends?|starts?|resolves?|routes?|takes?|"
                   r"returns?|gives?|chooses?|launches?|reads?|sees?|fails?|crashes?)\b", re.IGNORECASE)
#: the word right before classes that follow a modality without a bracket: a noun the classes name ("the multimodal
#: class X", "text-only ones as X")
_HEAD = re.compile(r"(?:^|\s)(?:class(?:es)?|models?|checkpoints?|architectures?|wrappers?|variants?|versions?|ones?|"
                   r"entry|entries|as|like|e\.g\.|namely)\s+$", re.IGNORECASE)
#: right after a modality word, a possessive within three words: the modality is of the possessor ("the multimodal
#: checkpoint's text model", "the multimodal model's language part"), not of the class
_POSSESSOR = re.compile(r"(?:\s+[\w.-]+?){1,3}?(?:'s|s')(?!\w)")


def _turned_away(m: re.Match) -> bool:
    """Whether the words around the modality word of a match of :data:`_SAID` make it describe something other than
    the classes (:data:`_AWAY`, :data:`_VERB`, :data:`_HEAD`, :data:`_POSSESSOR`)."""
    between = m.groupdict().get("between")
    if between is not None:
        return bool(_AWAY.search(between) or _VERB.search(between) or "'" in between
                    or between.strip() and "(" not in between and not _HEAD.search(between))
    return _POSSESSOR.match(m.string, m.end("mod")) is not None


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
    with none that turns it away ("not", "unlike", "other than", "of", "inside"...), no verb, auxiliary or adverb
    ("text-only serving still builds X") and no possessive ("the multimodal model's X"), and, without a bracket
    before the class, a noun naming it right before it ("the multimodal class X", "text-only ones as X"); in a
    parenthesis right after it, or as its predicate ("X is a new multimodal wrapper"), where no possessive
    follows the modality word within three words ("X is the multimodal checkpoint's text model"). A class must
    be one today's tree defines or lists; a class called multimodal that is not listed, or text-only that is, is a finding. Read in every
    card's prose, cards/lanes.yaml and the findings (a text marked historical not)."""
    s = surface(ctx)
    if s is None or (listed := multimodal_archs(s.tree)) is None:
        return
    defined = _class_files(s.tree)
    for doc, where, path, flat in flat_texts(ctx, historical=False):
        for pattern in _SAID:
            for m in pattern.finditer(flat):
                if _turned_away(m):
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
