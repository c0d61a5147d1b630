"""D641: a Qwen model family given code that today's SGLang has only in another family's model files ("Qwen3-Next on
CUDA fuses ... (`SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV`)" where only models/qwen3_5.py reads it).
D642: a dense checkpoint of a family no known model of which is dense ("Dense Qwen3-Next checkpoints")."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier import prose
from dossier.lint.claims import _from_tree, _known_models, _locate, surface
from dossier.lint.code_texts import flat_texts, nth
from dossier.lint.figures import _quote
from dossier.lint.name_files import _in_code, dated_elsewhere, sentence_before
from dossier.lint.registry import Finding, rule
from dossier.printed import words_of

#: a family named in prose: "Qwen3-Next", "Qwen3.5", "Qwen3.5-397B-A17B" (not a class, "Qwen3NextForCausalLM")
_FAMILY = re.compile(r"(?<![\w./-])Qwen(?P<version>\d+(?:\.\d+)?)(?P<variant>(?:-[A-Z][a-z]+)*)(?![A-Za-z_])")
#: a family said to be the only one: "(Qwen3.5 only", "Qwen3.5-only"
_ONLY = re.compile(r"[- ]only\b")
#: a clause ends at ';', ': ' or ', ' outside brackets
_CLAUSE_END = re.compile(r";|: |, ")
#: a clause that denies or contrasts what it names ("Qwen3-Next never reads that variable")
_DENIED = re.compile(r"\b(?:not|never|no(?: longer)?|unlike|except|other than|without|instead|rather than|neither|nor|"
                     r"nothing|none)\b|n't\b", re.IGNORECASE)
#: backticked code a family can be given: an env var, a flag's value, a snake_case or CamelCase name
_TICKED = re.compile(r"`(?:--[a-z0-9-]+[ =](?P<value>\w+)|(?P<name>SGLANG_\w+|_*[A-Za-z]\w*_\w+|[A-Z][a-z0-9]+[A-Z]\w*))"
                     r"(?:\(\))?`")
#: files that define or test a name rather than read it
_NOT_READERS = re.compile(r"(?:^|/)(?:environ|server_args)\.py$|(?:^|/)tests?/|(?:^|/)test_")


def _clauses(sentence: str) -> Iterator[str]:
    """The clauses of ``sentence``, split at :data:`_CLAUSE_END` outside brackets."""
    depth, start = 0, 0
    for i, ch in enumerate(sentence):
        depth += (ch in "([") - (ch in ")]")
        if depth <= 0 and (m := _CLAUSE_END.match(sentence, i)):
            yield sentence[start:i]
            start = m.end()
    yield sentence[start:]


def _module(m: re.Match) -> str:
    """The model module a family is written in: Qwen3-Next -> qwen3_next, Qwen3.5 -> qwen3_5."""
    return ("qwen" + m.group("version") + m.group("variant")).lower().replace(".", "_").replace("-", "_")


def _family_files(files: list[str], module: str) -> list[str]:
    """The model files of ``files`` that are the family ``module``'s (models/qwen3_5.py, models/qwen3_5_mtp.py)."""
    return [f for f in files if "/models/" in f and re.fullmatch(rf"{module}(?:_\w+)?\.py", f.rsplit("/", 1)[-1])]


def _word_files(tree) -> dict[str, list[str]]:
    """Each word -> the Python files of ``tree`` that hold it (settings' definitions and tests aside): one index per
    tree, built once from the files' words (:func:`~dossier.printed.words_of`)."""
    def read(t) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for path in t.texts:
            if path.endswith(".py") and not _NOT_READERS.search(path):
                for word in words_of(t, path):
                    index.setdefault(word, []).append(path)
        return index

    return _from_tree("word-files", tree, read)


def reads(tree, name: str, path: str) -> bool:
    """Whether the code of the Python file ``path`` of ``tree`` (not its comments or docstrings) holds ``name`` (a
    word; the file's code is read only when its words hold it, once per tree, name and file)."""
    if name not in words_of(tree, path):
        return False
    key = ("reads", name, path)
    if key not in tree.memo:
        tree.memo[key] = _in_code(name, tree.texts[path], path)
    return tree.memo[key]


def readers(tree, name: str) -> list[str]:
    """The Python files of ``tree`` whose code (not comments or docstrings) holds ``name`` (a word), other than where
    it is defined as a setting (environ.py, server_args.py) and the tests (looked up in :func:`_word_files`)."""
    return [p for p in _word_files(tree).get(name, ()) if reads(tree, name, p)]


@rule("D641", "a Qwen model family given code (an env var, a flag value, a function) that today's SGLang has only in "
              "another family's model files", scope="project", severity="warning")
def family_code_elsewhere(ctx) -> Iterator[Finding]:
    """"Qwen3-Next on CUDA fuses the projection unpack with the conv update (`SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV`)"
    where only models/qwen3_5.py reads the variable; "`--linear-attn-backend intel_xpu` (Qwen3-Next only)" where
    models/qwen3_5.py is the model file that branches on intel_xpu: the reader tunes the family that never runs
    that code. A clause (split at ';', ': ' and ', ' outside brackets) that names one family, whose model files
    today's SGLang has (models/<family>.py, models/<family>_*.py), and backticked code (an SGLANG_* variable, the
    value of a --flag, a snake_case or CamelCase name) is judged against the files whose code holds that code
    (settings' definitions and tests aside): said of the family alone ("Qwen3.5 only", "Qwen3.5-only"), another
    family's model file must not hold it while none of the family's own does; said of the family otherwise, it
    must not be held by model files only, all of other families that the family's files do not import. Not
    judged: a clause that denies or contrasts ("never", "not", "unlike", "other than"), one dated to another
    release, "the Qwen3-Next family", a text marked historical."""
    s = surface(ctx)
    if s is None:
        return
    texts = s.tree.texts
    models = [f for f in texts if "/models/" in f and f.endswith(".py")]
    model_set = frozenset(models)
    for doc, where, path, flat in flat_texts(ctx, historical=False):
        for sentence in prose.sentences(flat):
            for clause in _clauses(sentence):
                if "Qwen" not in clause or "`" not in clause or _DENIED.search(clause):
                    continue
                named = [m for m in _FAMILY.finditer(clause) if not re.match(r"[- ]famil", clause[m.end():])]
                if len({_module(m) for m in named}) != 1 or dated_elsewhere(clause, s.tree.version):
                    continue
                family = named[0]
                own = _family_files(models, _module(family))
                if not own:
                    continue
                only = _ONLY.match(clause, family.end()) is not None
                for t in _TICKED.finditer(clause):
                    code = t.group("value") or t.group("name")
                    # the files holding the word, read for it in code lazily: the family's own first, then other
                    # model files, then (only when needed) the rest, where a common name is in hundreds
                    held = _word_files(s.tree).get(code, ())
                    if any(reads(s.tree, code, f) for f in held if f in own):
                        continue
                    others = [f for f in held if f in model_set and reads(s.tree, code, f)]
                    if not others:
                        continue
                    imported = any(f"models.{f.rsplit('/', 1)[-1][:-3]}" in texts[o] for f in others for o in own)
                    if only or not imported and not any(reads(s.tree, code, f) for f in held if f not in model_set):
                        said = family.group(0) + (" only" if only else "")
                        yield Finding(where, f"{_quote(sentence, sentence.find(clause))}: gives {said} {code}, but in "
                                             f"SGLang {s.tree.version} the model code holding it is "
                                             f"{', '.join(others)}, none of {family.group(0)}'s "
                                             f"({', '.join(own)})",
                                      hint="name the family whose model file reads it, or say both reach it",
                                      doc=doc, at=_locate(doc, path, family.group(0),
                                                          nth(flat, sentence, family.group(0),
                                                              sentence.find(clause) + family.start())))
                        break


#: "dense Qwen3-Next checkpoints", "a Qwen3.5 dense model" (a checkpoint's noun after it, or the phrase's end: not
#: "Qwen3-Next dense projections", "the dense Qwen3-Next layers", which are the dense parts of a MoE model)
_DENSE = re.compile(r"\b(?i:dense)\s+(?P<family>Qwen\d+(?:\.\d+)?(?:-[A-Z][a-z]+)*)(?![\w.-]*\d+B)|"
                    r"(?P<after>Qwen\d+(?:\.\d+)?(?:-[A-Z][a-z]+)*)\s+(?i:dense)\b")
_MODEL_NOUN = re.compile(r"\s+(?i:checkpoints?|models?|variants?|versions?|releases?|siblings?|members?|LLMs?)\b|"
                         r"\s*(?:[.,;:!?()]|$)")


@rule("D642", "a dense checkpoint of a Qwen family no known model of which is dense (today's SGLang, "
              "[tool.dossier] models)", scope="project", severity="warning")
def dense_family_unknown(ctx) -> Iterator[Finding]:
    """"Dense Qwen3-Next checkpoints gave wrong output" where every Qwen3-Next model known is a MoE (80B-A3B): the
    reader looks for the bug on a model that does not exist and misses the family it hit. The known models are
    D614's (the sized names today's SGLang spells out, and [tool.dossier] models); a family with at least one
    known model, every one with an active size (-A3B), has no dense checkpoint. Judged only where a checkpoint's
    noun (checkpoint, model, variant, ...) or the phrase's end follows ("dense Qwen3-Next checkpoints", "a
    Qwen3-Next dense model", "no dense Qwen3-Next."), not the dense parts of a MoE model ("Qwen3-Next dense
    projections", "the dense Qwen3-Next layers"). Not judged: a sized name
    ("dense Qwen3.5-27B" is D614's), a sentence that denies it outside brackets ("no dense Qwen3-Next checkpoint
    exists"), a text marked historical."""
    s = surface(ctx)
    if s is None:
        return
    known = _known_models(ctx, s.tree)
    for doc, where, path, flat in flat_texts(ctx, historical=False):
        for m in _DENSE.finditer(flat):
            name = m.group("family") or m.group("after")
            family = _FAMILY.fullmatch(name)
            clause = next(c for c in _clauses(prose.sentences(flat[m.start():])[0]) if c)
            if family is None or not _MODEL_NOUN.match(flat, m.end()) or any(_DENIED.search(re.sub(r"\([^()]*\)", "", t))
                                     for t in (sentence_before(flat, m.start()), clause)):
                continue
            sizes = [k for k in known if (k[0], k[1]) == (family.group("version"), family.group("variant").lower())]
            if sizes and all(k[3] is not None for k in sizes):
                yield Finding(where, f"{m.group(0)!r}: every {name} model known is a MoE "
                                     f"({', '.join(sorted(f'{k[2]}B-A{k[3]}B' for k in sizes))}), none dense",
                              hint="name the family with the dense checkpoint, or add the model to [tool.dossier] "
                                   "models with its source", doc=doc,
                              at=_locate(doc, path, m.group(0), flat.count(m.group(0), 0, m.start())))
