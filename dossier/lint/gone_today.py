"""D631: a clause saying a flag, env var, file, function or class is gone from today's SGLang names one it has.

"create_qkvz_proj is not in 0.5.23", "0.5.23 has no --mamba-radix-cache-strategy", "In 0.5.23 eagle_info.py is
gone": a reader told that code left stops using what works. "Removed (dropped, gone) in/from <release>" is D327's,
judged against the releases; this rule judges the other ways of saying it, against the SGLang tree lint reads."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from dossier import prose
from dossier.cards import strings
from dossier.lint.claims import _CODE_WORD, _field_texts, _from_tree, _locate, surface
from dossier.lint.code_texts import DEFINITION
from dossier.lint.registry import Finding, rule
from dossier.mentions import ENV, FLAG, find_mentions
from dossier.project import is_valid

#: a clause ends at ';', ':', ', while', ', but', ', and', ' and <release>' or a parenthesis
_CLAUSE = re.compile(r"[;:()]|, (?:while|but|and|so|whereas|which|where) | and (?=(?:SGLang )?\d+\.\d+\.\d+)")
#: the object of "<today> has no ..." ends before a relative clause, a reason or a place ("has no X in file.py": the
#: file is where X is missing, not what is)
_OBJECT_END = re.compile(r",|\b(?:that|which|who|whose|where|than|when|because|since|as|so|for|to|from|in|at|inside|"
                         r"within|replaced|instead)\b|"
                         # "has no X and selects ...", "removed X and --y took over": a clause of its own
                         r"\band(?=\s+(?:\S+\s+)?(?:took|takes|is|are|was|were|does|do|replaces|replaced|selects|picks|"
                         r"handles|runs|reads|uses|now)\b)", re.IGNORECASE)
#: after the subject: "<X> is not in <today>", "... no longer exists", "... is gone" (not "gone from <release>": D327's)
_AFTER_SUBJECT = (r"\b(?:(?:is|are) (?:not|no longer) (?:in|part of|shipped in|present in) (?=(?P<in>(?:SGLang )?{v}|"
                  r"today's))|(?:is|are) (?:gone|absent|missing)(?! (?:in|from|since|as of|with|by|after) (?:SGLang )?v?\d)|"
                  r"no longer exists?|(?:does|do) not exist|(?:has|have) been (?:removed|deleted|dropped)"
                  r"(?! (?:in|from|since|as of|with|by|after) (?:SGLang )?v?\d))\b")
#: before the object: "<today> has no <X>", "<today> no longer has ...", "<today> dropped ..."
_BEFORE_OBJECT = (r"(?<![\w.])(?:SGLang )?{v}(?:'s (?:wheel|tree|source|package))?(?: wheel| release| tree|"
                  r" package)?(?: already| also| now)? (?:has no|have no|lacks?|no longer (?:has|ships|carries|defines|"
                  r"reads|accepts)|dropped|removed|deleted) ")
#: a word that turns the clause around ("is not gone", "never removed") or makes it a condition
_NOT_A_CLAIM = re.compile(r"\b(?:if|unless|whether|never|not gone|until|before|would|could|might)\b", re.IGNORECASE)
_PY_FILE = re.compile(r"(?<![\w./-])((?:[\w.-]+/)*[\w-]+\.py)\b")


def _defined_names(tree) -> frozenset[str]:
    """Every function and class name today's tree defines (read once per tree and process)."""
    return _from_tree("defined", tree, lambda t: frozenset(
        name for path, text in t.texts.items() if path.endswith(".py") for _, name in DEFINITION.findall(text)))


@functools.lru_cache(maxsize=4)
def _gone_patterns(version: str) -> tuple[re.Pattern, re.Pattern, re.Pattern]:
    v = prose.release_named(version)
    return (re.compile(_AFTER_SUBJECT.replace("{v}", v), re.IGNORECASE),
            re.compile(_BEFORE_OBJECT.replace("{v}", v), re.IGNORECASE),
            re.compile(rf"{v}|\btoday\b", re.IGNORECASE))


def _subjects(clause: str, version: str) -> list[str]:
    """The text of ``clause`` that names what it says is gone from ``version`` (today's), or nothing."""
    after, before, today = _gone_patterns(version)
    out = [clause[:m.start()] for m in after.finditer(clause) if m.group("in") or today.search(clause)]
    return out + [_OBJECT_END.split(clause[m.end():], maxsplit=1)[0] for m in before.finditer(clause)]


def _named(subject: str, s) -> Iterator[tuple[str, str]]:
    """(name as written, what today's tree has of it) for each flag, env var, file, function or class ``subject``
    names that today's tree holds."""
    for m in find_mentions(subject):
        if m.kind == FLAG and m.text in s.flags:
            yield m.text, "defines the flag"
        elif m.kind == ENV and m.text in s.env and not s.env[m.text]:
            yield m.text, "reads the variable"
    for path in dict.fromkeys(_PY_FILE.findall(subject)):  # a path, or a file name the tree holds once
        where = path.removeprefix("python/").removeprefix("sglang/")
        held = [f for f in s.tree.texts if f == path or f.endswith("/" + where)]
        if len(held) == 1:
            yield path, f"has {held[0]}"
    bare = prose.PATHLIKE.sub(" ", subject)
    defined = _defined_names(s.tree)
    for name in dict.fromkeys(_CODE_WORD.findall(bare)):
        if name.isupper() or prose.is_model_name(name):
            continue
        if name in defined:
            yield name, f"defines {name}"


@rule("D631", "a clause saying a flag, env var, file, function or class is gone from today's SGLang (\"is not in "
              "0.5.23\", \"0.5.23 has no ...\", \"no longer exists\") names one today's SGLang has", scope="project")
def gone_but_there(ctx) -> Iterator[Finding]:
    """A sentence naming today's SGLang (its version, or "today") whose clause says what it names is not there:
    "<X> is not (no longer) in <today>", "<X> is gone (absent, missing)", "<X> no longer exists", "<X> does not
    exist", "<X> has been removed", or "<today> has no (lacks, no longer has, dropped, removed) <X>". Each flag, env
    var, package file and function or class (by its def or class line) it names must be absent from the tree. Read in
    the cards' prose (the fields D615 reads), cards/lanes.yaml and the findings. Not judged: a clause with "if",
    "never", "until", "before" and the like; "removed (gone) in/from <release>", D327's."""
    s = surface(ctx)
    if s is None:
        return
    project = ctx.project
    docs = [(doc, _field_texts(doc.data)) for doc in project.valid_docs()]
    others = [d for d in [project.lanes_doc, *project.finding_docs] if d is not None and is_valid(d)]
    docs += [(doc, ((p, t) for p, t in strings(doc.data) if not p.startswith("code"))) for doc in others]
    for doc, texts in docs:
        for path, text in texts:
            for name, held in _gone_names(text, s):
                yield Finding(path + "#value", f"says {name} is gone from SGLang {s.tree.version}, which {held}",
                              at=_locate(doc, path, name, 0), doc=doc,
                              hint="check the name against today's tree; if another thing left, name that one")


def _gone_names(text: str, s) -> Iterator[tuple[str, str]]:
    """(name, what today's tree has of it) for each name ``text`` says is gone from today's SGLang that the tree has."""
    version = s.tree.version
    today = _gone_patterns(version)[2]
    for sentence in prose.sentences(" ".join(text.split())):
        if not today.search(sentence):
            continue
        for clause in _CLAUSE.split(sentence):
            if not _NOT_A_CLAIM.search(clause):
                for subject in _subjects(clause, version):
                    yield from _named(subject, s)
