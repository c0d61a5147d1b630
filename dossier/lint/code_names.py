"""D621: a code name written without backticks (snake_case with an inner '_', or a CamelCase class name) that no
source holds. D613 judges a name in backticks; an author who writes "the loader now calls split_tuple_shard_ids"
plainly hands the reader the same invented function. The sources are what the evidence has offline: today's SGLang
(its code and module paths), this project's code, the stored PR facts snapshot (each PR's main files and the names
its hunks define or touch), cards/surface.lock (every flag, as its server_args field, and env var of the releases),
cards/names.lock (names the cards use that only older releases had), the PR's cached diff or shipping release diff
(or, offline, the diff's names cards/evidence.lock kept), the card's own title, key fragment and files, Python's
standard library, `[tool.dossier] other_names` (other projects' names that read as code, each with its source), and,
when synced, the release cache.

Not judged: an unmerged PR's card (its own names may never have shipped), a name the text marks as gone or as the
PR's or a thread's wording (D613's marks), a command line's program or module ("lm_eval --model", "python -m x"), the
names of a "Pseudo:" sketch (its locals), a name beside what a person does or wrote ("the author (McZyWu)",
"HyeonjeCho reported", "co-authored by ShangmingCai", "JustinTong0323's review", "JustinTong0323 (the author)": GitHub
handles look like CamelCase), a name the sentence says is absent ("0.5.23 has no mamba_ssm_k_last"), lowerCamelCase
(CUDA, C++ and JavaScript names: SGLang's Python has none of its own), the plural of a known name, and a family of
classes named by their shared ending ("the ForConditionalGeneration classes")."""

from __future__ import annotations

import functools
import itertools
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from dossier import prose
from dossier.lint.claims import (
    _TICKED,
    _code_name,
    _field_texts,
    _from_tree,
    _locate,
    _nth,
    history,
    surface,
    tree_words,
)
from dossier.lint.registry import Finding, rule
from dossier.locks import LockError
from dossier.mentions import code_like
from dossier.span_lock import read_spans, spans_of_releases, write_spans

NAMES_LOCK = Path("cards") / "names.lock"
#: a bare dotted name, not inside a path, a URL, a flag, a handle or backticks
_BARE = re.compile(r"(?<![\w.`/@$-])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\(\))?(?![\w`/@-]|\.[A-Za-z_])")
#: a name bare or in its own backticks ("`evict_mamba`"): D632 judges either
_BARE_OR_TICKED = re.compile(r"(?<![\w.`/@$-])`?([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\(\))?`?(?![\w`/@-]|\.[A-Za-z_])")
_PSEUDO = re.compile(r"\bpseudo(?:code|-code)?\b", re.IGNORECASE)
#: what a person does beside their handle: "(author X", "co-authored by X", "According to X"
_PERSON_BEFORE = re.compile(r"\b(?:authors?|reviewers?|contributors?|maintainers?|co-authored by|thanks to)\b"
                            r"[^.;:]{0,40}$|\b(?:by|according to)\s+$", re.IGNORECASE)
#: "Per X": a person's only with what follows one (:data:`_PER_PERSON`)
_PER = re.compile(r"(?:^|[,;(]\s*)per\s+$", re.IGNORECASE)
#: what a person did or does, after their handle: "X reported", "X also benchmarked", "X reports", "X pointed out"
_PERSON_DID = (r"\(?opened|reported|wrote|measured|asked|found|said|noted|showed|confirmed|commented|flagged|hit|reused|"
               r"proposed|profiled|replied|suggested|agreed|benchmarked|re-?ran|ran|saw|tried|got|tested|timed|bisected|"
               r"pointed out|noticed|observed|approved|requested|reviewed|reproduced|verified|explained|argued|"
               r"mentioned|posted|reports|notes|says|measures|suggests|asks|confirms|shows|benchmarks|argues")
#: what a person wrote or ran, after their handle and "'s": "X's review", "X's own H100 numbers", "X's follow-up PR"
_PERSON_WORK = (r"review|comment|benchmark|measurement|numbers|profile|report|reproduction|repro|suggestion|question|"
                r"request|reply|bisect|re-?run|run|test|timing|trace|result|log|table|patch|PR|fork|branch|commit|"
                r"follow-up|approval|fix|change|data|sweep|message")
_PERSON_AFTER = re.compile(
    rf"\W{{0,3}}(?:(?:also|later|then|first|again|independently|originally)\s+)?(?:{_PERSON_DID})\b"
    rf"|^['\u2019]s\s+(?:[\w-]+\s+){{0,2}}?(?:{_PERSON_WORK})s?\b"
    r"|^\s*[,(]\s*(?:(?:the|a|an)\s+)?(?:PR(?:'s)?\s+)?(?:author|reviewer|maintainer|contributor)\b"
    rf"|^\s+(?:and|or)\s+[A-Za-z][\w-]*\s+(?:(?:also|later|then)\s+)?(?:{_PERSON_DID})\b", re.IGNORECASE)
#: "Per X" only with what follows a person ("Per X in review,", "per X's numbers"), not "(per TupleShardLoader)"
_PER_PERSON = re.compile(r"\s+(?:in|on)\b|\s*,|['\u2019]s\b")
#: the endings of SGLang's class names, which no GitHub handle in the cards has: such a name is code beside any verb
_CODE_ENDING = re.compile(r"(?:Loader|Backend|Pool|Kernel|Cache|Manager|Runner|Config|Wrapper|Worker|Layer|Model|"
                          r"Attention|Linear|Method|Mixin|Buffer|Allocator|Scheduler|Executor|Metadata|Info|Spec|"
                          r"Input|Output|Tensor|State|Module|Processor|Handler|Parser|Function|Op|Dispatcher|"
                          r"Controller|Server|Client|Engine|Decoder|Encoder|Block|Head|Norm|MoE|MLP|Router)$")
#: a clause giving a name to someone else's words or code: "the review thread shows", "X flagged a conflict with",
#: "the author profiled ...: cross_device_reduce_2stage took", "which PyTorch runs as index_elementwise kernels"
_THREAD = re.compile(r"\b(?:thread|review|comment|issue|traceback|profile|trace)\s+(?:shows?|showed|names?|named|"
                     r"lists?|listed|says|said|reports?|reported)\b|\b(?:flagged|reported|asked|suggested|profiled|quotes?|quoted)\b",
                     re.IGNORECASE)
#: another project's name just before: "which PyTorch runs as many small index_elementwise kernels"
_OTHER = re.compile(r"\b(?:PyTorch|torch|CUDA|cuBLAS|cuDNN|NCCL|Triton|FlashInfer|DeepEP|DeepGEMM|vLLM|transformers|"
                    r"Hugging ?Face|flash-linear-attention|FLA|sgl-kernel|sgl_kernel\w*|CANN|ROCm|AITER)(?:'s)?\b"
                    r"[^.;:]{0,40}$", re.IGNORECASE)
#: "X, in server_args.py, occurs nowhere in 0.5.23", "X is missing from main"
_ABSENT_AFTER = re.compile(r"(?:[^.;]|\.(?=\w)){0,60}?\b(?:occurs nowhere|is nowhere|exists nowhere|(?:is|are|was|were) (?:reported )?"
                           r"(?:missing|absent)|never shipped|never existed)\b", re.IGNORECASE)
#: a command line's program or module, not a name of SGLang's code: "python -m X" (D605 judges the module), "X --flag"
_COMMAND_BEFORE = re.compile(r"(?:^|\s)-m\s+$")
_COMMAND_AFTER = re.compile(r"\s+--?[A-Za-z]")
#: "0.5.23 has no X", "lacks X", "without X", "never had X", "defines neither X nor Y"
_ABSENT = re.compile(r"\b(?:has no|have no|had no|no|lacks?|lacked|without|never (?:had|has|shipped)|neither|nor)\s+"
                     r"(?:[\w.]+\s+){0,2}$", re.IGNORECASE)


def read_names(root: Path) -> set[str]:
    """cards/names.lock's names (empty without one); raises LockError when it cannot be read."""
    return set(retired_names(root))


def retired_names(root: Path) -> dict[str, str]:
    """cards/names.lock: each name today's SGLang lacks -> the releases that had it ("0.5.1..0.5.20")."""
    return read_spans(root, NAMES_LOCK, "names", "run `dossier releases surface --record`")


def _words(ctx) -> set[str]:
    """Every name the offline sources hold (today's tree, this project, the snapshot, the surface and names locks,
    Python's standard library)."""
    if "code-words" not in ctx.memo:
        from dossier.lint.github_facts import facts

        s = surface(ctx)
        words = set(tree_words(s.tree)) if s else set()
        words |= _runtime_words(ctx.project.root)
        for f in facts(ctx).values():
            words |= f.symbols | {w for p in f.files for w in re.findall(r"\w+", p)}
        h = history(ctx)
        if h is not None:
            words |= {n.lstrip("-").replace("-", "_") for n in h.flags} | set(h.env)
        try:
            words |= read_names(ctx.project.root)
        except LockError:
            pass
        words |= {str(n) for n in ctx.project.config.get("other_names", [])}
        words |= set(sys.stdlib_module_names) | set(dir(__builtins__) if isinstance(__builtins__, dict) else ())
        ctx.memo["code-words"] = words
    return ctx.memo["code-words"]


def names_lock_unreadable(ctx) -> bool:
    """Whether cards/names.lock exists and cannot be read (cut short, edited by hand): lint's D311 names it."""
    if "names-lock-unreadable" not in ctx.memo:
        try:
            read_names(ctx.project.root)
            ctx.memo["names-lock-unreadable"] = False
        except LockError:
            ctx.memo["names-lock-unreadable"] = True
    return ctx.memo["names-lock-unreadable"]


def _runtime_words(root: Path) -> set[str]:
    """The names of this project's runtime code and its tests, and the card's own keys (not dossier/'s code nor
    tests/dossier/, whose probes and docstrings spell invented names on purpose)."""
    schema = (Path(__file__).parents[1] / "schema").glob("*")
    words = set(_text_words("\n".join(p.read_text(encoding="utf-8") for p in schema)))
    for path in [*(root / "runtime").rglob("*.py"), *(root / "tests" / "runtime").rglob("*.py")]:
        words |= _text_words(path.read_text(encoding="utf-8", errors="replace"))
        words |= set(path.relative_to(root).with_suffix("").parts)
    return words


@functools.lru_cache(maxsize=1024)
def _text_words(text: str) -> frozenset[str]:
    """The words of one file's text (kept per text: every lint run of a process reads the same runtime files)."""
    return frozenset(re.findall(r"\w+", text))


def _known(part: str, words: set[str], own: set[str]) -> bool:
    """Whether a source holds ``part``, or its singular ("both index_selects"); not a private name's plural
    ("_send_mamba_state_slices" for `_send_mamba_state_slice`: prose counts public calls, not a private helper)."""
    return part in words or part in own or (part.endswith("s") and not part.startswith("_")
                                            and (part[:-1] in words or part[:-1] in own))


def _a_person(name: str, before: str, after: str) -> bool:
    """Whether ``name`` stands beside what a person did or wrote ("X reported", "Per X in review", "X's numbers"),
    and so is a GitHub handle, not code (a name with a class name's ending, "TupleShardLoader", is code)."""
    if "." in name or _CODE_ENDING.search(name):
        return False
    if _PER.search(before):
        return bool(_PER_PERSON.match(after))
    return bool(_PERSON_BEFORE.search(before[-50:]) or _PERSON_AFTER.match(after))


def _family(part: str, after: str, words: set[str]) -> bool:
    """"the ForConditionalGeneration classes": the shared ending of known class names; "the sgl_spec columns": the
    shared start of known names."""
    return bool(re.match(r"\s+(?:classes|class names|names|family|subclasses|variants|columns|fields|keys)\b",
                         after)) and any(
        (w.endswith(part) and w != part and w[len(w) - len(part)].isupper()) or w.startswith(part + "_")
        for w in words)


def _unsketched(pattern: re.Pattern, text: str) -> Iterator[re.Match]:
    """The matches of ``pattern`` in ``text`` up to a "Pseudo:" sketch (whose names are its own locals)."""
    pseudo = _PSEUDO.search(text)
    return itertools.takewhile(lambda m: not pseudo or m.start() <= pseudo.start(), pattern.finditer(text))


def change_words(card, ctx) -> set[str]:
    """The words of the card's PR change: its grounds (the cached diff, the shipping release) and the diff's code
    names cards/evidence.lock kept (offline, where CI lints, the lock stands in for the diff it was recorded from)."""
    from dossier.lint.evidence import lock
    from dossier.lint.grounds import ground_texts

    words = {w for t in ground_texts(card, ctx) for w in re.findall(r"\w+", t)}
    recorded = lock(ctx)[0].get(card.pr)
    return words | set(recorded.names) if recorded is not None else words


def unknown_names(card, doc, ctx) -> Iterator[tuple[str, str, re.Match]]:
    """(field path, name, match) for each bare code name of the card's prose that no source holds."""
    if card.state != "merged" or surface(ctx) is None or names_lock_unreadable(ctx):
        return  # without names.lock's names every older release's name would read as invented (D311 says why)
    own = set(re.findall(r"\w+", " ".join((card.title, card.key_fragment.match, *card.all_files))))
    yield from _unknown_in(_field_texts(doc.data), own, lambda: change_words(card, ctx), ctx)


def _unknown_in(texts, own: set[str], grounds_of, ctx) -> Iterator[tuple[str, str, re.Match]]:
    """(path, name, match) for each bare code name of ``texts`` ((path, text) pairs) that neither the offline
    sources, ``own`` nor the words ``grounds_of()`` gives (the PR's change, read only when needed) hold."""
    from dossier.lint.claims import _in_a_release
    from dossier.mentions import MARK_ATTRIBUTED, _Text

    words = _words(ctx)
    grounds = None
    for path, text in texts:
        marks = None
        for m in _unsketched(_BARE, text):
            parts = [p for p in m.group(1).split(".") if code_like(p) and not _known(p, words, own)]
            if not parts:
                continue
            marks = marks or _Text(text)
            _, begin, stop = marks.sentence(m.start())
            before, after = text[begin:m.start()], text[m.end():stop]
            if (marks.historical(m.start(), m.end()) or MARK_ATTRIBUTED.search(before) or _THREAD.search(before)
                    or _ABSENT.search(before) or _OTHER.search(before[-60:])
                    or _COMMAND_BEFORE.search(before) or _COMMAND_AFTER.match(after)
                    or _a_person(m.group(1), before, after) or _ABSENT_AFTER.match(after)):
                continue
            if grounds is None:
                grounds = grounds_of()
            parts = [p for p in parts if p not in grounds and not _family(p, after, words)]
            if parts and not all(_in_a_release(p, ctx) for p in parts):
                yield path, ", ".join(parts), m


@rule("D621", "a code name written without backticks (snake_case, CamelCase) that no source holds (today's SGLang, "
              "the PR facts snapshot, the surface and names locks, the PR's change, this project, a synced release)",
      scope="card")
def invented_bare_name(card, doc, ctx) -> Iterator[Finding]:
    """"The loader now calls split_tuple_shard_ids", "a new TupleShardLoader class": a function or class no source
    has, handed to the reader as SGLang's. The same check as D613, for names written plainly: a name must be in
    today's SGLang, this project, the stored PR facts snapshot, cards/surface.lock (a flag as its server_args field),
    cards/names.lock (names of older releases the cards use; `dossier releases surface --record` writes it from the
    release cache), the PR's change, the card's own title, key fragment and files, or a synced release. Marked
    history, a PR's or thread's wording, a "Pseudo:" sketch, a person's handle, a name said to be absent, an
    unmerged PR's card and lowerCamelCase are not judged."""
    from dossier.lint.grounds import _release_trees

    releases = "a synced release" if _release_trees(ctx) else "cards/names.lock (no release cache was read)"
    for path, names, m in unknown_names(card, doc, ctx):
        text = dict(_field_texts(doc.data))[path]
        yield Finding(path + "#value", f"{names}: not in SGLang {surface(ctx).tree.version}, {releases}, the PR "
                                       "facts snapshot, the PR's change or this project: a code name no source holds",
                      hint="name code as SGLang has it; a name that is gone says so ('was x', 'x (removed in ...)'); "
                           "a name an older release has: `dossier releases surface --record` adds it to names.lock",
                      at=_locate(doc, path, m.group(0), _nth(text, m)))


def manual_names(project) -> set[str]:
    """Every bare code-like name in the cards' prose, and every code name, bare or backticked, of cards/lanes.yaml
    and the findings (D621's and D625's names, whose older releases names.lock records)."""
    from dossier.lint.flag_releases import lanes_and_finding_texts

    cards = [text for doc in project.valid_docs() for _, text in _field_texts(doc.data)]
    manual = [text for _, _, text, _ in lanes_and_finding_texts(project)]
    found = [m.group(1) for text in cards + manual for m in _BARE.finditer(text)]
    found += [m.group(1) for text in manual for m in _TICKED.finditer(text) if _code_name(m.group(1))]
    return {p for name in found for p in name.split(".") if code_like(p)}


def names_of_releases(wanted: set[str], today, trees) -> dict[str, str]:
    """Each of ``wanted`` that today's tree lacks and a release of ``trees`` (release order) has, with the first and
    last such release ("0.5.10..0.5.17", or one release)."""
    now = tree_words(today)
    wanted = {n for n in wanted if n not in now}
    found: dict[str, list[str]] = {}
    for tree in trees:
        held = set()
        for text in tree.texts.values():
            held |= wanted.intersection(re.findall(r"\w+", text))
        for name in held:
            found.setdefault(name, []).append(tree.version)
        tree.unload()
    return spans_of_releases(found)


def write_names(root: Path, entries: dict[str, str]) -> None:
    """Write cards/names.lock holding ``entries`` (name -> its releases)."""
    write_spans(root, NAMES_LOCK, NAMES_HEADER, "names", entries)


NAMES_HEADER = (
    "# Written by `dossier releases surface --record`: the code names the cards write without backticks that today's\n"
    "# SGLang lacks and an older release had, with the first and last release that had it (lint D621 reads it; CI\n"
    "# has no release cache).\n"
)


def _class_files(tree) -> dict[str, list[str]]:
    """The Python files of ``tree`` that define each class name (read once per tree and process)."""
    def read(t) -> dict[str, list[str]]:
        files: dict[str, list[str]] = {}
        for path, text in t.texts.items():
            if path.endswith(".py"):
                for name in dict.fromkeys(re.findall(r"^\s*class\s+(\w+)", text, re.MULTILINE)):
                    files.setdefault(name, []).append(path)
        return files

    return _from_tree("class-files", tree, read)


def _members(tree, name: str, depth: int = 0) -> frozenset[str] | None:
    """:func:`_class_members`, once per class, tree and process (a test suite lints many projects against one
    SGLang; a base is read once for all its subclasses)."""
    def read(t):
        found = _class_members(t, name, depth)
        return None if found is None else frozenset(found)

    return _from_tree(f"class-members {name}", tree, read)


def _class_members(tree, name: str, depth: int = 0) -> set[str] | None:
    """Every method, attribute and nested class the class ``name`` of ``tree`` has, its bases' included (None: not
    a class of the tree, or a base from outside it, whose members cannot be read here)."""
    if depth > 6:
        return None
    found = None
    for path in _class_files(tree).get(name, ()):
        classes = _classes_in(tree, path)
        if classes is None:
            return None
        for members, bases in classes.get(name, ()):
            members = set(members)
            for base_name in bases:
                if base_name in (None, "object", "ABC", "Protocol"):  # markers: no member a card would name
                    continue
                inherited = _members(tree, base_name, depth + 1)
                if inherited is None and base_name == "Module":
                    inherited = _torch_module_members()
                if inherited is None:
                    return None
                members |= inherited
            found = (found or set()) | members
    return found


def _classes_in(tree, path: str) -> dict[str, list[tuple[frozenset[str], tuple[str | None, ...]]]] | None:
    """Each class of one file of ``tree``, by name: its own members and its bases' names, for each class of that
    name (None: the file does not parse), parsed once per tree and process."""
    import ast

    def read(t):
        try:
            module = ast.parse(t.texts[path])
        except (SyntaxError, ValueError):
            return None
        classes: dict[str, list[tuple[frozenset[str], tuple[str | None, ...]]]] = {}
        for node in ast.walk(module):
            if not isinstance(node, ast.ClassDef):
                continue
            members = {n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                    ast.ClassDef))}
            for sub in ast.walk(node):
                if isinstance(sub, ast.Assign | ast.AnnAssign):
                    for target in sub.targets if isinstance(sub, ast.Assign) else [sub.target]:
                        if isinstance(target, ast.Name):
                            members.add(target.id)
                        elif isinstance(target, ast.Attribute):
                            members.add(target.attr)
            bases = tuple(b.attr if isinstance(b, ast.Attribute) else getattr(b, "id", None) for b in node.bases)
            classes.setdefault(node.name, []).append((frozenset(members), bases))
        return classes

    return _from_tree(f"classes-in {path}", tree, read)


@functools.cache  # once a process: torch's source does not change under a run
def _torch_module_members() -> frozenset[str] | None:
    """torch.nn.Module's members, read from the installed torch's source without importing it (None: no torch)."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec("torch")
    path = Path(spec.origin).parent / "nn" / "modules" / "module.py" if spec and spec.origin else None
    if path is None or not path.is_file():
        return None
    module = ast.parse(path.read_text(encoding="utf-8"))
    cls = next((n for n in module.body if isinstance(n, ast.ClassDef) and n.name == "Module"), None)
    if cls is None:
        return None
    return frozenset({n.name for n in ast.walk(cls) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
                     | {t.attr for n in ast.walk(cls) if isinstance(n, ast.Assign) for t in n.targets
                        if isinstance(t, ast.Attribute)}
                     | {t.id for n in cls.body if isinstance(n, ast.Assign | ast.AnnAssign)
                        for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)})


_DOTTED = re.compile(r"(?<![\w.`/@$-])`?([A-Z]\w*[a-z]\w*)\.([a-z_]\w*)(?:\(\))?`?(?![\w/@-]|\.[A-Za-z_])")


@rule("D622", "a Class.method (or attribute) a sentence about today's SGLang names that the class lacks, its bases "
              "included", scope="card")
def missing_member(card, doc, ctx) -> Iterator[Finding]:
    """"In 0.5.23 MergedColumnParallelLinear.forward_extend copies each piece": the class is real and so is a
    forward_extend elsewhere, so no name check (D613, D621) finds anything wrong, yet the reader looks in the class for
    a method it lacks. Judged in a sentence about today's SGLang ("in 0.5.23", "today", "still", "now"): a PR's code
    as it merged may since have left the class. The class is read from today's SGLang (its methods, class
    attributes, `self.x = ...` assignments, nested classes, and those of its bases); a class with a base from outside
    SGLang (torch.nn.Module...) is not judged, nor a member of the PR's change (offline, the diff's names
    cards/evidence.lock kept), of cards/names.lock, or in marked history, a PR's or thread's wording, a "Pseudo:"
    sketch, or an unmerged PR's card."""
    from dossier.mentions import MARK_ATTRIBUTED, _Text

    s = surface(ctx)
    if card.state != "merged" or s is None:
        return
    grounds = None
    for path, text in _field_texts(doc.data):
        marks = None
        for m in _unsketched(_DOTTED, text):
            cls, member = m.group(1), m.group(2)
            if member.startswith("__"):
                continue
            members = _members(s.tree, cls)
            if members is None or member in members:
                continue
            marks = marks or _Text(text)
            _, begin, stop = marks.sentence(m.start())
            before = text[begin:m.start()]
            if not _today(text[begin:stop], s.tree.version) or marks.historical_clause(m.start(), m.end()) \
                    or MARK_ATTRIBUTED.search(before) or _THREAD.search(before):
                continue
            if grounds is None:
                grounds = change_words(card, ctx) | _words_of_lock(ctx)
            if member in grounds:
                continue
            yield Finding(path + "#value", f"{cls}.{member}: SGLang {s.tree.version}'s {cls} has no {member} (nor "
                                           "any base of it)",
                          hint=f"name the class that defines {member}, or the method {cls} has",
                          at=_locate(doc, path, m.group(0), _nth(text, m)))


def _today(sentence: str, version: str) -> bool:
    """Whether a sentence speaks of today's SGLang ("in 0.5.23", "today", "still", "now"): a PR's own code, as it
    was when it merged, may since have left the class."""
    return bool(re.search(rf"{prose.release_named(version)}|\b(?:today|still|now|currently)\b", sentence,
                          re.IGNORECASE))


def _words_of_lock(ctx) -> set[str]:
    try:
        return read_names(ctx.project.root)
    except LockError:
        return set()


@rule("D625", "cards/lanes.yaml or a finding names code (backticked or plain) that no source holds (D613's and D621's "
              "reading)", scope="project")
def invented_name_in_manual(ctx) -> Iterator[Finding]:
    """D613 and D621 for the answers, errors and playbook of cards/lanes.yaml and the findings (not a finding's
    `code` entries, which D6xx place checks judge): "`validate_mamba_nobuffer`" in an errors item passed, and the
    reader went looking for a function SGLang never had. The sources are D621's (today's SGLang, this project, the PR
    facts snapshot, the surface and names locks, a synced release) and the change of each PR the text cites; a text
    marked historical, and D621's marks, are not judged."""
    from dossier.lint.claims import NAME_HINT, ticked_unknown
    from dossier.lint.flag_releases import lanes_and_finding_texts

    if surface(ctx) is None or names_lock_unreadable(ctx):
        return
    words = _words(ctx)
    for doc, path, text, historical in lanes_and_finding_texts(ctx.project):
        if historical:
            continue
        cited = [c for n in dict.fromkeys(re.findall(r"#(\d{1,7})\b", text)) if (c := ctx.project.card(int(n)))]
        grounds_of = functools.cache(lambda cited=cited: {w for card in cited for w in change_words(card, ctx)})

        for _, names, m in _unknown_in([(path, text)], set(), grounds_of, ctx):
            yield Finding(path, f"{names}: not in SGLang {surface(ctx).tree.version}, a release, the PR facts snapshot, "
                                "the cited PRs' changes or this project: a code name no source holds",
                          hint=NAME_HINT, doc=doc, at=_locate(doc, path, m.group(0), _nth(text, m)))
        for m, missing in ticked_unknown(text, lambda p, grounds_of=grounds_of: _known(p, words, set())
                                         or p in grounds_of(), ctx):
            yield Finding(path, f"`{m.group(1)}`: no {', '.join(missing)} in SGLang {surface(ctx).tree.version}, a "
                                "release, the PR facts snapshot, the cited PRs' changes or this project",
                          hint=NAME_HINT, doc=doc, at=_locate(doc, path, m.group(0), _nth(text, m)))


#: words that put a name in the past or say it is absent: "0.5.23 drops X", "X was renamed", "no X", "until 0.5.20"
_PAST_WORDS = re.compile(r"\b(?:no|not|lacks?|lacked|without|gone|removed|dropped|drops|deleted|renamed|replaced|"
                         r"retired|was|were|had|then|until|formerly|before|earlier|older|used to|no longer)\b|"
                         r"\blast(?= (?:in|shipped|seen|had|present|released?|existed)\b| v?\d)", re.IGNORECASE)
#: before the name only, a denial or a successor: "0.5.23 never calls X", "0.5.23's unified cache replaces X" (after
#: it, "X never evicts a pinned node" and "X replaces Y" say X is there)
_BEFORE_ONLY = re.compile(r"\b(?:never|replaces|folds|merges|supersedes|subsumes)\b", re.IGNORECASE)
#: ... unless the removal is itself denied, which says the name is there: "0.5.23 drops neither X nor Y", "did not
#: remove X", "never renamed X"
_KEPT = re.compile(r"\b(?:neither|not|never|n't)\s+(?:\w+\s+){0,2}?(?:drop|remov|delet|retir|renam|replac)\w*|"
                   r"\b(?:drop|remov|delet|retir|renam|replac)\w*\s+neither\b", re.IGNORECASE)


@rule("D632", "a code name only older releases had (cards/names.lock), written as today's SGLang's", scope="card")
def retired_name_as_today(card, doc, ctx) -> Iterator[Finding]:
    """"(0.5.23: _sglang_needs_allreduce_fusion)" where that name was last in 0.5.20: D621 knows the name from
    cards/names.lock, so it passes as code that exists, but a reader looks for it in today's tree and finds nothing.
    A name names.lock records (and today's tree lacks) in a clause that names today's release or "today" must be
    marked as the past there ("was", "until", "renamed", "no longer", "drops", ..., or "never" before it: "0.5.23
    never calls X"); a removal denied ("drops neither X nor Y", "did not remove X") says the name is there."""
    from dossier.lint.depth import clause_before

    s = surface(ctx)
    if s is None or names_lock_unreadable(ctx):
        return
    retired = retired_names(ctx.project.root)
    if not retired:
        return
    today = re.compile(rf"{prose.release_named(s.tree.version)}|\btoday\b|\bcurrent main\b",
                       re.IGNORECASE)
    for path, text in _field_texts(doc.data):
        flat = " ".join(text.split())
        for m in _BARE_OR_TICKED.finditer(flat):
            gone = [p for p in m.group(1).split(".") if p in retired]
            if not gone:
                continue
            clause = clause_before(flat, m.start())
            rest = re.split(r"[;.](?:\s|$)", flat[m.end():], maxsplit=1)[0]  # the clause after the name
            past = (_PAST_WORDS.search(clause) or _BEFORE_ONLY.search(clause) or _ABSENT.search(clause)
                    or _PAST_WORDS.search(rest) or _ABSENT_AFTER.match(rest))
            if today.search(clause) and (_KEPT.search(clause) or not past):
                yield Finding(path + "#value", f"gives {gone[0]} as SGLang {s.tree.version}'s, but only "
                                               f"{retired[gone[0]]} had it (cards/names.lock)",
                              hint="name what today's release holds, or mark the name as the past ('was', 'until')",
                              at=_locate(doc, path, m.group(0), 0))
