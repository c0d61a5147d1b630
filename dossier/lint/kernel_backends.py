"""A kernel backend (Triton, FlashInfer, CuTe DSL, Gluon, AITER) given to code of another backend: to a function
today's SGLang defines only in files of another backend, to a path of another backend, or to a PR whose title names
another backend (D245)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier import prose
from dossier.lint.claims import _from_tree, _locate, surface
from dossier.lint.code_texts import defining_files, flat_texts, nth, pr_titles
from dossier.lint.figures import _quote
from dossier.lint.registry import Finding, rule

#: a backend as prose names it, and the key it is judged by
_BACKEND = r"Triton|FlashInfer|CuTe ?DSL|Gluon|AITER|aiter"
_KEYS = (("cutedsl", re.compile(r"cute ?dsl|cutedsl|cute_dsl|cutlass\.cute", re.IGNORECASE)),
         ("flashinfer", re.compile(r"flashinfer", re.IGNORECASE)), ("gluon", re.compile(r"gluon", re.IGNORECASE)),
         ("aiter", re.compile(r"aiter", re.IGNORECASE)), ("triton", re.compile(r"triton", re.IGNORECASE)))
#: "Triton kernel fused_gdn_gating", "the FlashInfer `causal_conv1d_update`", "CuTe DSL decode kernel chunk_fwd":
#: the word, up to two words of what it is, and a snake_case code name
_GIVEN_NAME = re.compile(rf"\b(?P<word>{_BACKEND})(?:'s)?\s+(?:(?:[\w-]+\s+){{0,2}}?(?:kernels?|ops?|update|decode|"
                         r"prefill|verify|wrapper|launcher)\s+)?`?(?P<name>[a-z_][a-z0-9]*_[a-z0-9_]+)`?(?![\w(/]|\.\w)")
#: "the FlashInfer GDN decode of #15631", "Triton kernel from #17094"; not past another backend word ("moved from
#: Triton to FlashInfer in #21861" gives the PR FlashInfer)
_GIVEN_PR = re.compile(rf"\b(?P<word>{_BACKEND})\b(?:\s+(?!(?:{_BACKEND})\b)[\w-]+){{0,3}}\s+(?:of|from|in|by)\s+"
                       r"#(?P<pr>\d{1,7})\b")
#: "A FlashInfer kernel computes ... (jit_kernel/triton/sigmoid_gate_mul.py": the word and the first path after it in
#: its clause (not past ", and ..." or ", which ..."), no other backend between
_GIVEN_PATH = re.compile(rf"\b(?P<word>{_BACKEND})\b(?P<gap>(?:(?!{_BACKEND}|, (?:and|but|while|whereas|which|where|so) )"
                         rf"[^.;:]|\.(?=\w)){{0,80}}?)\("
                         r"(?P<path>[\w/.-]+\.py)")
_SHOWN = {"triton": "Triton", "flashinfer": "FlashInfer", "cutedsl": "CuTe DSL", "gluon": "Gluon", "aiter": "AITER",
          "none": "backend-less"}
_IMPORTED = re.compile(r"^\s*from\s+(flashinfer|cutlass|aiter|triton)[\w.]*\s+import\s+\(?([\w\s,]+)\)?", re.MULTILINE)


def _key(word: str) -> str | None:
    return next((k for k, pattern in _KEYS if pattern.search(word)), None)


def _file_backends(path: str, text: str) -> set[str]:
    """The backends a file of SGLang belongs to: those its path names, a @triton.jit kernel, a CuTe DSL import."""
    found = {k for k, pattern in _KEYS if pattern.search("/".join(path.split("/")[-2:]))}
    if "@triton.jit" in text:
        found.add("triton")
    if "cutlass" in text and _CUTE_IMPORT.search(text):  # the substring spares a scan of nearly every file
        found.add("cutedsl")
    return found


_CUTE_IMPORT = re.compile(r"^\s*(?:import|from)\s+cutlass\.cute", re.MULTILINE)


#: a module of SGLang a file imports from: "from sglang.kernels.ops.attention.fla.chunk_delta_h import ...", "from
#: .utils import ..."
_SGLANG_IMPORT = re.compile(r"^[ \t]*from[ \t]+(sglang(?:\.\w+)+|\.+\w*(?:\.\w+)*)[ \t]+import\b", re.MULTILINE)


def _imported_files(path: str, text: str, texts) -> list[str]:
    """The Python files of the tree that ``path`` imports names from (absolute sglang.* or relative imports)."""
    out = []
    for module in _SGLANG_IMPORT.findall(text):
        if module.startswith("."):
            dots = len(module) - len(module.lstrip("."))
            parts = path.split("/")[:-dots] + [p for p in module.lstrip(".").split(".") if p]
        else:  # "sglang.x.y" under the tree's python/ folder
            root = path.split("/")
            parts = (root[:root.index("sglang")] if "sglang" in root else []) + module.split(".")
        base = "/".join(parts)
        out += [f for f in (base + ".py", base + "/__init__.py") if f in texts]
    return out


def _backends_of_files(texts) -> dict[str, set[str]]:
    """Each Python file's backends (:func:`_file_backends`); a backend-less one takes those of the SGLang files it
    imports from, one step (fla/chunk.py has no kernel of its own and drives the Triton kernels of its siblings), else
    "none"."""
    own = {path: _file_backends(path, text) for path, text in texts.items() if path.endswith(".py")}
    return {path: found or {b for f in _imported_files(path, texts[path], texts) for b in own[f]} or {"none"}
            for path, found in own.items()}


def _backends_of_names(tree) -> dict[str, frozenset[str]]:
    """Every function today's tree defines, with the backends of the files defining it and of the packages SGLang
    imports it from (a name one file imports from flashinfer is FlashInfer's, whatever the files defining it are)."""
    of_file = _backends_of_files(tree.texts)
    found = {name: {b for p in paths for b in of_file[p]} for name, paths in defining_files(tree).items()}
    for text in tree.texts.values():
        for m in _IMPORTED.finditer(text):
            for name in re.findall(r"\w+", m.group(2)):
                if name in found:
                    found[name].add(_key(m.group(1)) or "cutedsl")
    return {name: frozenset(b) for name, b in found.items()}


@rule("D245", "a kernel backend (Triton, FlashInfer, CuTe DSL) given to a function today's SGLang defines only in "
              "files of another backend, to a path of another backend, or to a PR titled with another backend",
      scope="project", severity="warning")
def backend_of_other_code(ctx) -> Iterator[Finding]:
    """"the direct FlashInfer causal_conv1d_update" where 0.5.23 defines causal_conv1d_update in a Triton file and a
    backend-less one; "the FlashInfer GDN decode of #15631", a PR titled "Add CuTe DSL GDN Decode Kernel": the backend
    word tells the reader which kernel library runs the code, and a wrong one sends them to the wrong package and
    flag. Judged where a backend word stands right before a snake_case name today's SGLang defines ("Triton kernel
    fused_gdn_gating"), before "of/from/in/by #N" of a PR whose title (its card's, else pr-facts.json's) names
    backends, or before a path in parentheses in its clause that names one. A name's backends are those of every file
    defining it (its path naming triton, flashinfer, cutedsl, gluon or aiter, a @triton.jit kernel, a CuTe DSL
    import; a file with none counts as backend-less) and of the backend packages SGLang imports it from; the word
    passes when any of them is its. Read in every card's prose (not the claims, the author's words),
    cards/lanes.yaml and the findings, a text marked historical not."""
    s = surface(ctx)
    if s is None:
        return
    backends = _from_tree("name-backends", s.tree, _backends_of_names)
    texts = flat_texts(ctx, historical=False)
    for doc, where, path, flat in texts:
        for sentence in prose.sentences(flat):
            for m, given, theirs in _given(sentence, backends, pr_titles(ctx)):
                said = m.group(0)
                shown = " / ".join(_SHOWN[b] for b in sorted(theirs))
                yield Finding(where, f"{m.group('word')} for {given} in {_quote(sentence, m.start())}, which is "
                                     f"{shown} code", doc=doc,
                              hint="name the backend the code belongs to (its file, its PR's title)",
                              at=_locate(doc, path, said, nth(flat, sentence, said, m.start())))


def _given(sentence: str, backends: dict[str, frozenset[str]], titles: dict[int, str]):
    """(match, what its backend word is given to, that thing's backends) of each backend word given to other code."""
    for m in _GIVEN_NAME.finditer(sentence):
        theirs = backends.get(m.group("name"), frozenset())
        if theirs - {"none"} and _key(m.group("word")) not in theirs:
            yield m, m.group("name"), theirs
    for m in _GIVEN_PR.finditer(sentence):
        theirs = {k for k, pattern in _KEYS if pattern.search(titles.get(int(m.group("pr")), ""))}
        if theirs and _key(m.group("word")) not in theirs:
            yield m, f"#{m.group('pr')}", theirs
    for m in _GIVEN_PATH.finditer(sentence):
        theirs = {k for k, pattern in _KEYS if pattern.search(m.group("path"))}
        if theirs and _key(m.group("word")) not in theirs:
            yield m, m.group("path"), theirs
