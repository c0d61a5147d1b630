"""D6xx: is every flag, env var, path and command a reader is handed true of today's SGLang?

Checked against the SGLang tree ``drift`` uses (:mod:`dossier.surface`, read without importing sglang):
the cards' prose, validation lanes, corrections and ``key_fragment.today``, every string of
cards/lanes.yaml and of the findings (cards/findings/), and the literal text of the render templates. Not checked, because they are the PR's
record rather than advice: ``title``, ``files``, ``key_fragment.file``/``match`` (the D3xx rules check
them against the diff), ``validation.claims`` (what was run when the PR was written: of a merged PR, its flags and
env vars are held to D610 as history, and to D619 against the releases of its merge), and paths the card itself lists as changed by its PR. A mention marked historical is exempt: a ``historical:`` key or entry
prefix in lanes.yaml, or the prose forms of :mod:`dossier.mentions` ("was `old/path`", "`--flag`
(removed in ...)", "... no longer exists").
"""

from __future__ import annotations

import bisect
import builtins
import difflib
import functools
import keyword
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from dossier import prose
from dossier.cards import YamlDoc, strings
from dossier.lint.links import missing_test
from dossier.lint.registry import Finding, rule
from dossier.mentions import DASHES, ENV, FLAG, MODULE, PATH, Mention, find_mentions, is_sglang_command
from dossier.project import is_valid
from dossier.python_defs import defines, definition_lines
from dossier.python_modules import module_exists
from dossier.source_tree import lines_with
from dossier.tree_cache import remembered

#: card fields whose mentions are claims about today (dotted paths; [*] = every item)
CARD_FIELDS = ("motivation", "implementation", "key_fragment.explain", "validation.lanes[*]", "corrections[*]",
               "runtime.none")
HISTORICAL_KEY = "historical"
#: top-level directories of the SGLang repository (any other first component starts a partial path)
REPO_DIRS = ("python", "test", "benchmark", "docs", "scripts", "examples", "sgl-kernel", "3rdparty", "docker")
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
#: top-level directories of this project (paths under them are checked against the project, not SGLang)
_OWN = ("runtime/", "tests/", "dossier/", "results/", "references/", "cards/", ".ci/", ".github/workflows/ci")


@dataclass(frozen=True)
class Stale:
    code: str
    doc: YamlDoc
    at: tuple[int, int]
    message: str
    hint: str | None = None


def surface(ctx):
    """The SGLang surface for this run (None: no SGLang source; D600 says so)."""
    if "surface" not in ctx.memo:
        from dossier.drift import DriftError, locate

        try:
            ctx.memo["surface"] = _read(locate(ctx.sglang_src))
        except DriftError as exc:
            ctx.memo["surface"] = None
            ctx.memo["surface_error"] = str(exc)
    return ctx.memo["surface"]


def _read(tree):
    """The surface of ``tree``, read once a process and kept on disk between runs (:mod:`dossier.tree_cache`; a test
    suite lints many projects against the same SGLang)."""
    from dossier.surface import read_surface

    surface = _from_tree("surface", tree, read_surface)
    if surface.tree is None:  # read from the cache folder, which keeps no tree
        surface.tree = tree
    return surface


def _from_tree(what: str, tree, read):
    """``read(tree)``, once a process and kept on disk between runs while the tree and dossier stay as they are."""
    return remembered(tree, what, lambda: read(tree))


def tree_names(tree) -> str:
    """Every source text of ``tree`` and every path, dotted, as one text to find names in."""
    return _from_tree("names", tree, lambda t: ("\n".join(t.texts.values()) + "\n" + "\n".join(t.texts))
                      .replace("/", "."))


def tree_has_word(tree, word: str) -> bool:
    """Whether ``word`` stands whole in ``tree``'s sources or paths (a set lookup for a plain word: its words are
    read once per tree and process, where a search of the whole text takes a tenth of a second)."""
    if re.fullmatch(r"\w+", word):
        return word in tree_words(tree)
    return _has_word(tree_names(tree), word)


def tree_words(tree) -> frozenset[str]:
    """Every word of ``tree``'s sources and paths (read once per tree and process)."""
    return _from_tree("words", tree, lambda t: _source_words(t) | frozenset(re.findall(r"\w+", "\n".join(t.texts))))


def source_has_word(tree, word: str) -> bool:
    """Whether ``word`` (a run of word characters) stands whole in ``tree``'s sources, its paths not counted (a set
    lookup, where a search of the whole text took a tenth of a second a name)."""
    return word in _source_words(tree)


def _source_words(tree) -> frozenset[str]:
    """Every word of ``tree``'s sources (read once per tree and process)."""
    return _from_tree("source-words", tree, lambda t: frozenset(re.findall(r"\w+", "\n".join(t.texts.values()))))


def history(ctx):
    """The committed surface lock of the releases (None: none recorded, or unreadable: D311 says so)."""
    if "history" not in ctx.memo:
        from dossier.surface_history import SurfaceLockError, read_history

        try:
            ctx.memo["history"] = read_history(ctx.project.root)
        except SurfaceLockError:  # D311 says why, at the lock
            ctx.memo["history"] = None
    return ctx.memo["history"]


def template_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "render" / "templates"


def stale(ctx) -> list[Stale]:
    """Every stale mention in the project (computed once per run)."""
    if "stale" not in ctx.memo:
        found: list[Stale] = []
        s = surface(ctx)
        if s is not None:
            for doc in ctx.project.valid_docs():
                found += _card(doc, s, ctx)
            if ctx.project.lanes_doc is not None and ctx.project.lanes_doc.data is not None:
                found += _lanes(ctx.project.lanes_doc, s, ctx)
            for doc in ctx.project.finding_docs:
                if is_valid(doc):
                    found += _finding(doc, s, ctx)
            for path in sorted(template_dir().glob("*.j2")):
                found += _template(path, s, ctx)
        ctx.memo["stale"] = found
    return ctx.memo["stale"]


def _field_texts(data: dict) -> Iterator[tuple[str, str]]:
    for spec in CARD_FIELDS:
        head, _, rest = spec.partition("[*]")
        node = data
        for key in head.split("."):
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, str) and not rest:
            yield head, node
        elif isinstance(node, list) and rest == "":
            yield from ((f"{head}[{i}]", v) for i, v in enumerate(node) if isinstance(v, str))


def _card(doc: YamlDoc, s, ctx) -> list[Stale]:
    data = doc.data
    own = {p for group in (data.get("files") or {}).values() for p in (group or [])}
    own.add(data["key_fragment"]["file"])
    out = []
    for path, text in _field_texts(data):
        out += _check_text(doc, path, text, s, ctx.project.root, own, history(ctx))
    if data.get("state") == "merged":  # what was run then: its flags and env vars shipped, if not today's (D610)
        claims = (data.get("validation") or {}).get("claims") or []
        for i, text in enumerate(claims):
            if isinstance(text, str):
                out += _check_text(doc, f"validation.claims[{i}]", text, s, ctx.project.root, own, history(ctx),
                                   historical=True)
    today = data["key_fragment"].get("today")
    if isinstance(today, dict) and isinstance(today.get("file"), str) and s.knows_path(today["file"]) is False:
        out.append(Stale("D604", doc, doc.where("key_fragment.today.file#value"),
                         f"key_fragment.today.file {today['file']} is not in SGLang {s.tree.version}"))
    elif isinstance(today, dict) and isinstance(today.get("match"), str) and isinstance(today.get("file"), str):
        text = s.tree.text(today["file"])
        if text is not None and not lines_with(text, today["match"], today["file"]):
            out.append(Stale("D608", doc, doc.where("key_fragment.today.match#value"),
                             f"key_fragment.today.match is not in {today['file']} (SGLang {s.tree.version})"))
    return out


def _finding(doc: YamlDoc, s, ctx) -> list[Stale]:
    """A finding is about today's SGLang: every string of it is a claim (its ``code`` places are D704's)."""
    out = []
    for path, text in strings(doc.data):
        if not path.startswith("code"):
            out += _check_text(doc, path, text, s, ctx.project.root, set(), history(ctx))
    return out


def _lanes(doc: YamlDoc, s, ctx) -> list[Stale]:
    out = []
    for path, text in strings(doc.data):
        # a `historical` key or entry claims nothing about today, but its flags and env vars must have shipped (D610)
        historical = HISTORICAL_KEY in re.split(r"[.\[]", path) or text.lstrip().lower().startswith(HISTORICAL_KEY + ":")
        out += _check_text(doc, path, text, s, ctx.project.root, set(), history(ctx), historical=historical)
    return out


def _template(path: Path, s, ctx) -> list[Stale]:
    raw = path.read_text(encoding="utf-8")
    literal = _JINJA.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), raw)
    doc = YamlDoc(path=path, positions={"": (1, 1)})
    out = []
    # the templates' own paths (cards/lanes.yaml; references/... inside the rendered skill folder, skills/<name>/)
    # are the toolkit's repository's
    repo_root = path.parents[3]
    own_roots = [repo_root, *sorted(p.parent for p in (repo_root / "skills").glob("*/SKILL.md"))]
    for m in find_mentions(literal):
        problems = [_problem(m, s, root, set(), history(ctx)) for root in own_roots]
        line = raw.count("\n", 0, m.start) + 1
        col = m.start - (raw.rfind("\n", 0, m.start) + 1) + 1
        for problem in [_typeset(m), None if not all(problems) else problems[0]]:
            if problem:
                out.append(Stale(problem[0], doc, (line, col), *problem[1:]))
    return out


def _check_text(doc: YamlDoc, path: str, text: str, s, root: Path, own: set[str], past=None,
                historical: bool = False) -> list[Stale]:
    """Stale mentions of ``text`` (the value at ``path``); ``historical``: every mention is marked so."""
    out = []
    seen: dict[str, int] = {}
    for m in find_mentions(text):
        m = replace(m, historical=True) if historical else m
        n = seen[m.raw] = seen.get(m.raw, -1) + 1
        for problem in (_typeset(m), _problem(m, s, root, own, past)):
            if problem:
                out.append(Stale(problem[0], doc, _locate(doc, path, m.raw, n), *problem[1:]))
    return out


@functools.lru_cache(maxsize=64)
def _lines(path: Path, mtime_ns: int) -> list[str]:
    """A file's lines, read once per version of it (a card may hold many stale mentions)."""
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def _locate(doc: YamlDoc, path: str, what: str, nth: int) -> tuple[int, int]:
    """File position of the ``nth`` occurrence of ``what`` inside the value at ``path``; the words of ``what`` may be
    split over the lines of a folded value ("7.5" at one line's end, "GB" on the next)."""
    line, col = doc.where(path + "#value") if path + "#value" in doc.positions else doc.where(path)
    lines = _lines(doc.path, doc.path.stat().st_mtime_ns)
    words = what.split()
    if not words or line > len(lines):
        return line, col
    starts = [0]
    for text in lines:
        starts.append(starts[-1] + len(text) + 1)
    joined = "\n".join(lines)
    for m in re.finditer(r"\s+".join(map(re.escape, words)), joined[starts[line - 1] + col - 1:]):
        if nth == 0:
            at = starts[line - 1] + col - 1 + m.start()
            i = bisect.bisect_right(starts, at) - 1
            return i + 1, at - starts[i] + 1
        nth -= 1
    return line, col


def stale_mentions(text: str, s, root: Path, past=None) -> list[tuple[Mention, str, str]]:
    """(mention, code, message) for every mention in rendered ``text`` that is not true of the SGLang surface
    ``s`` (or, marked historical, of no release in ``past``, a :class:`SurfaceHistory`); paths of this
    project resolve under ``root`` (the skill folder for the rendered manual)."""
    return [(m, p[0], p[1]) for m in find_mentions(text)
            for p in (_typeset(m), _problem(m, s, root, set(), past)) if p]


def _typeset(m: Mention) -> tuple[str, str, str | None] | None:
    """D611: a flag whose "--" was typeset as a dash; read as the flag, but a reader copying it passes a
    word the command line does not take."""
    if not m.written:
        return None
    dashes = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, '?').lower()}" for c in m.written if c in DASHES)
    return ("D611", f"{m.written} is {m.text} typeset with a dash ({dashes}): copied, it is not a flag",
            f"write {m.text} (two ASCII hyphens), in backticks")


def _problem(m: Mention, s, root: Path, own: set[str], past=None) -> tuple[str, str, str | None] | None:
    """(code, message, hint) when the mention is not true of today's tree (a historical one: of no release
    in ``past``), else None."""
    if m.historical:
        return _never_shipped(m, s, past)
    if m.kind == FLAG:
        return _flag(m, s, past) if is_sglang_command(m.command) else None
    if m.kind == ENV:
        if m.text not in s.env:
            return ("D603", f"{m.text} is not an env var of SGLang {s.tree.version}{_last_in(past, 'env', m.text)}",
                    _near(m.text, s.env))
        if s.env[m.text]:
            return "D606", f"{m.text} is deprecated in SGLang {s.tree.version}", f"use {s.env[m.text]}"
        if m.text in s.env_warned:
            return ("D606", f"{m.text} is retired in SGLang {s.tree.version}: it only warns that the variable is "
                    f"set{_last_in(past, 'env', m.text, 'last read in')}", None)
        return None
    if m.kind == MODULE:
        return _module(m, s, root)
    if m.kind == PATH:
        return _path(m.text, s, root, own)
    return None


def _never_shipped(m: Mention, s, past) -> tuple[str, str, str | None] | None:
    """D610: a flag or env var marked historical that neither today's tree nor any recorded release had. A PR's own
    wording may never have shipped, so it is judged only when it is one keystroke from a name that did ship ("the
    PR's flag was --enable-gdn-replay-ssm-spec" for --enable-gdn-replayssm-spec): a misspelling, not a proposal."""
    if past is None or m.kind not in (FLAG, ENV) or (m.kind == FLAG and not is_sglang_command(m.command)):
        return None
    kind, today = ("flags", s.flags) if m.kind == FLAG else ("env", s.env)
    if m.text in today or (m.kind == FLAG and s.flag(m.text)[1]) or past.span(kind, m.text) \
            or (m.kind == ENV and m.text in past.warned):
        return None
    if m.attributed:
        from dossier.lint.paths import one_edit

        shipped = sorted(n for n in {*today, *getattr(past, kind)} if one_edit(m.text, n))
        return ("D610", f"{m.text} is given as the PR's own wording, but no SGLang release had it and it is one "
                f"keystroke from {' and '.join(shipped[:2])}, which shipped", "check the PR's spelling") \
            if shipped else None
    return ("D610", f"{m.text} is named as history, but no SGLang release ({past.releases[0]} .. {past.newest}) "
            f"had this {m.kind}", _near(m.text, getattr(past, kind)) or "a made-up or misspelt name")



def _last_in(past, kind: str, name: str, last: str = "last in") -> str:
    """" (last in SGLang 0.5.9)" for a name that left SGLang, per the surface lock ("" otherwise)."""
    span = past.span(kind, name) if past is not None else None
    return f" ({last} SGLang {span.last}; mark it historical if that is meant)" if span else ""


def _flag(m: Mention, s, past=None) -> tuple[str, str, str | None] | None:
    flag, longer = s.flag(m.text)
    if flag is None:
        if longer:
            return ("D601", f"{m.text} is ambiguous in SGLang {s.tree.version} (argparse rejects it)",
                    "one of " + ", ".join(longer))
        return ("D601", f"{m.text} is not a flag of SGLang {s.tree.version}{_last_in(past, 'flags', m.text)}",
                _near(m.text, s.flags))
    if not flag.server and (span := past.span("flags", m.text) if past is not None else None) \
            and span.last != past.newest:  # the server's flag left; another command (the diffusion runtime) has one
        return ("D601", f"{m.text} is not a server flag of SGLang {s.tree.version} (the server's last in SGLang "
                f"{span.last}; mark it historical if that is meant; {flag.defined_in} defines another command's flag "
                "of that name)", None)
    if flag.deprecated:
        return "D606", f"{m.text} is deprecated in SGLang {s.tree.version}", f"use {flag.deprecated}"
    if m.value is not None and flag.choices is not None and m.value not in flag.choices \
            and not m.value[:1].isupper() and not m.value[:1].isdigit() and _of_today(m, s, past):
        return ("D602", f"{m.text} {m.value}: {m.value!r} is not one of its choices in SGLang {s.tree.version}",
                "choices: " + ", ".join(sorted(flag.choices)))
    return None


def _of_today(m: Mention, s, past) -> bool:
    """Whether a flag's value is today's: its sentence names no SGLang release but today's ("in 0.5.14 --x
    tc_piecewise" is 0.5.14's value; "nvidia-cutlass-dsl 4.3.0" names no SGLang release; with no surface lock, any
    other version counts as one)."""
    return all(r == s.tree.version or (past is not None and r not in past.releases) for r in m.dated)


def _module(m: Mention, s, root: Path) -> tuple[str, str, str | None] | None:
    name = m.text.rstrip(".")
    if name.split(".")[0] == "sglang":
        if not s.has_module(name):
            return "D605", f"python -m {name}: no such module in SGLang {s.tree.version}", None
    elif name.split(".")[0] in ("runtime", "tests", "dossier") and not module_exists(name, root):
        return "D605", f"python -m {name}: no such module in this project", None
    return None


def _path(text: str, s, root: Path, own: set[str]) -> tuple[str, str, str | None] | None:
    path = text.split("::")[0].rstrip("/")
    if path in own or any(o.endswith("/" + path) or o.startswith(path + "/") for o in own):
        return None
    if path.startswith(_OWN):
        if not (root / path).exists():
            return "D604", f"{path} does not exist in this project", None
        missing = missing_test(text, root) if "::" in text and path.endswith(".py") else None
        return ("D604", f"{text}: {missing}", "name a test the file defines (pytest --collect-only)") if missing \
            else None
    repo = "python/" + path if path.startswith("sglang/") else path
    if PurePosixPath(repo).parts[0] in REPO_DIRS:
        known = s.knows_path(repo)
        if known or known is None:  # None: outside the package, only a checkout can tell
            return None
    elif s.has_suffix_path(repo):  # a partial path (layers/linear.py): some file of the tree ends so
        return None
    moved = sorted(s.named(PurePosixPath(repo).name))[:2]
    return "D604", f"{text} is not in SGLang {s.tree.version}", ("now at " + " or ".join(moved)) if moved else None


#: known names by the words in them, per collection of names (flags, env vars) of a cached surface
_WORD_INDEX: dict[int, dict[str, list[str]]] = {}


def _words(name: str) -> set[str]:
    return set(re.split(r"[-_]+", name.strip("-").lower()))


def _near(name: str, known) -> str | None:
    """Up to two known names like ``name``, compared only with those sharing a distinctive word with it."""
    if id(known) not in _WORD_INDEX:
        index: dict[str, list[str]] = {}
        for k in known:
            for w in _words(k):
                index.setdefault(w, []).append(k)
        _WORD_INDEX[id(known)] = {w: ks for w, ks in index.items() if len(ks) <= 100}  # not "sglang", "enable"
    index = _WORD_INDEX[id(known)]
    pool = sorted({k for w in _words(name) for k in index.get(w, ())})
    near = difflib.get_close_matches(name, pool, n=2, cutoff=0.75)
    return ("did you mean " + " or ".join(near) + "?") if near else None


def _emit(ctx, code: str) -> Iterator[Finding]:
    for x in stale(ctx):
        if x.code == code:
            yield Finding("", x.message, hint=x.hint, doc=x.doc, at=x.at)


@rule("D600", "claims unchecked: no SGLang source found", scope="project", severity="warning")
def no_source(ctx) -> Iterator[Finding]:
    if surface(ctx) is None and ctx.project.lanes_doc is not None:
        yield Finding("", "flags, env vars and paths not checked, nor the explain of a card with no cached diff (D214): "
                          f"{ctx.memo['surface_error']}",
                      hint="pip install --no-deps sglang, or pass --sglang-src", doc=ctx.project.lanes_doc)


#: one rule per kind of stale mention; each reports its share of :func:`stale`
STALE_RULES = (
    ("D601", "a --flag that today's SGLang does not define (or an ambiguous prefix)", "error"),
    ("D602", "a --flag value that is not one of the flag's choices", "error"),
    ("D603", "an SGLANG_* (or legacy SGL_*) env var that today's SGLang does not read", "error"),
    ("D604", "a repo path that does not exist in today's SGLang (or in this project)", "error"),
    ("D605", "a `python -m` module that does not exist", "error"),
    ("D606", "a deprecated flag or env var (SGLang names the replacement), or an env var it only warns about",
     "warning"),
    ("D608", "key_fragment.today's match is not in its file in today's SGLang", "error"),
    ("D610", "a --flag or SGLANG_*/SGL_* env var marked historical (or in a merged PR's validation.claims) that no SGLang "
             "release had (cards/surface.lock)", "error"),
    ("D611", "a --flag typeset with an en/em dash for its '--' (read as the flag; copied, it is not one)", "error"),
)
for _code, _summary, _severity in STALE_RULES:
    _check = functools.partial(_emit, code=_code)
    _check.__doc__ = __doc__  # `lint --explain` reads it: what the family checks and what it leaves alone
    rule(_code, _summary, scope="project", severity=_severity)(_check)


@rule("D607", "an answer-block step names a function or class its file lacks in today's SGLang", scope="project")
def answer_symbols(ctx) -> Iterator[Finding]:
    s, doc = surface(ctx), ctx.project.lanes_doc
    if s is None or doc is None or not is_valid(doc):
        return
    steps = ((doc.data.get("answers") or {}).get("mtp_verify_path") or {}).get("steps") or []
    for i, step in enumerate(steps):
        text = s.tree.text(step["file"])
        if text is None:
            continue  # the path itself is D604's
        for name in (n.strip() for n in step["symbol"].split(",")):
            if definition_lines(text, name) is None:
                yield Finding(f"answers.mtp_verify_path.steps[{i}].symbol",
                              f"{name}: not defined in {step['file']} (SGLang {s.tree.version}; a method is named "
                              "Class.method and must be defined in that class)", doc=doc)


#: occurrences in today's SGLang sources from which a key fragment's match identifies no change ("return x",
#: "def forward(", "pass"); the most common match of a proven card occurs about 320 times
COMMON_MATCH = 500


@rule("D609", "key_fragment.match is so common in today's SGLang that it identifies no change", scope="project")
def common_match(ctx) -> Iterator[Finding]:
    s = surface(ctx)
    if s is None:
        return
    for doc in ctx.project.valid_docs():
        match = doc.data["key_fragment"]["match"]
        if len(match) > 40:  # a line that long is specific whatever it holds
            continue
        if (n := _occurrences(s.tree, match)) >= COMMON_MATCH:
            yield Finding("key_fragment.match#value",
                          f"{match!r} occurs {n} times in SGLang {s.tree.version}: it cannot identify this PR's line",
                          hint="quote a line only this change wrote (an identifier, a call with its arguments)",
                          doc=doc)


def _occurrences(tree, match: str) -> int:
    """How often ``match`` occurs in ``tree``'s sources (counted once per tree, match and process). Counted in UTF-8
    bytes: a quarter of the memory of the joined text (one non-ASCII character makes it 4 bytes a character) and
    2-4x faster; UTF-8 keeps every occurrence an occurrence."""
    def count(t) -> int:
        return _from_tree("source-bytes", t, lambda t: "\n".join(t.texts.values()).encode()).count(match.encode())

    return _from_tree(f"occurrences of {match}", tree, count)


#: a name in this share of today's source files is common to SGLang (out, forward, hidden_states, norm), not a
#: change's; the most common name a card's match relies on is in about 7% of them (layer_id)
COMMON_SHARE = 0.10
#: a bare call `name(` identifies a line only through its callee, which then may be in at most this many files
CALLEE_FILES = 10
_NAME = re.compile(r"[A-Za-z_]\w*")
_BARE_CALL = re.compile(r"^\s*(?:[A-Za-z_]\w*\.)*(?P<callee>[A-Za-z_]\w*)\(\s*$")
_GENERIC = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins)) | {"self", "cls"}
#: document frequencies of names come from a fixed sample of the tree's files: every DF_STRIDE-th in path order
#: (all 5,000 files of SGLang take about 3 s to tokenize; the sample about 0.4 s)
DF_STRIDE = 8


def _sampled_df(tree) -> tuple[int, dict[str, int]]:
    def read(tree) -> tuple[int, dict[str, int]]:
        files = [text for _, text in sorted(tree.texts.items())][::DF_STRIDE]
        df: dict[str, int] = {}
        for text in files:
            for name in set(_NAME.findall(text)):
                df[name] = df.get(name, 0) + 1
        return len(files), df

    return _from_tree(f"df/{DF_STRIDE}", tree, read)


def generic_match(match: str, tree) -> str | None:
    """Why ``match`` names nothing that could identify one change in ``tree`` (None: it names something)."""
    names = [n for n in dict.fromkeys(_NAME.findall(match)) if n not in _GENERIC]
    if not names:
        return "it holds only Python keywords and builtins"
    call = _BARE_CALL.match(match)
    if call and not re.match(r"\s*(?:async\s+)?(?:def|class)\b", match):
        callee = call.group("callee")
        word = re.compile(rf"\b{re.escape(callee)}\b")
        n = sum(1 for text in tree.texts.values() if callee in text and word.search(text))
        if n > CALLEE_FILES:
            return (f"it is a call without its arguments, and {callee} is in {n} files of SGLang {tree.version}: "
                    "it matches every such call")
    total, df = _sampled_df(tree)
    if total and all(df.get(n, 0) >= COMMON_SHARE * total for n in names):
        shares = ", ".join(f"{n} {df[n] / total:.0%}" for n in names)
        return f"every name in it is common in SGLang {tree.version} (share of source files: {shares})"
    return None


@rule("D612", "key_fragment.match names nothing distinctive (only keywords, builtins and names common in today's "
              "SGLang, or a bare call of a common callee)", scope="card")
def indistinct_match(card, doc, ctx) -> Iterator[Finding]:
    """Judged only where no PR diff places the match: with the diff cached, or its place recorded in
    cards/evidence.lock, D303/D305 say whether it lands on one changed line."""
    from dossier.evidence import key_sha
    from dossier.lint.evidence import evidence

    s = surface(ctx)
    ev = evidence(card, ctx)
    if s is None or ev.files is not None or (ev.recorded is not None and ev.recorded.key_fragment == key_sha(card.key_fragment)):
        return
    why = generic_match(card.key_fragment.match, s.tree)
    if why:
        yield Finding("key_fragment.match#value", f"{card.key_fragment.match!r} cannot identify this PR's line: {why}",
                      hint="quote a line only this change wrote (a new name, a call with its arguments, a def)")


#: a code name in backticks: `fused_gdn_gating`, `MambaPool.copy_from`, `spec_utils.commit()`
_TICKED = re.compile(r"`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)(?:\(\))?`")
_FILE_SUFFIX = re.compile(r"\.(?:py|pyi|cu|cuh|cc|cpp|h|hpp|json|yaml|yml|md|txt|sh|toml)$")


def _code_name(name: str) -> bool:
    """Whether a backticked word is a code name (snake_case, CamelCase, dotted); not a plain word or value
    (`today`, `cutedsl`), an ALL_CAPS env var or constant (D603 judges SGLang's), a file name, nor a test name."""
    if _FILE_SUFFIX.search(name) or re.fullmatch(r"[A-Z0-9_]+", name):
        return False
    if re.match(r"(?:test_|Test[A-Z])", name.rpartition(".")[2]) or re.match(r"(?:test_|Test[A-Z])", name):
        return False  # SGLang's test/ tree is not in the installed package: its test names cannot be looked up
    return "_" in name or "." in name or bool(re.search(r"[a-z][A-Z]|[A-Z][a-z].*[A-Z]", name))


def _project_names(root: Path) -> str:
    """This project's Python sources and their module paths, as one text (runtime/ names, test names)."""
    parts = []
    for sub in ("runtime", "tests", "dossier"):
        for path in sorted((root / sub).rglob("*.py")):
            parts.append(".".join(path.relative_to(root).with_suffix("").parts))
            parts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


def _has_word(text: str, word: str) -> bool:
    return word in text and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


#: a server argument named as code without backticks, server_args.<name> or ServerArgs.<name> (not server_args.py)
_SERVER_ARG = re.compile(r"(?<![\w.`/])((?:server_args|ServerArgs)\.(?!py\b)[a-z_]\w*)(?![\w`(/])")


@rule("D613", "a code name, backticked or a server_args.<name>, that no source holds (today's SGLang, a synced "
              "release, the PR's cached diff, this project)", scope="card")
def made_up_name(card, doc, ctx) -> Iterator[Finding]:
    s = surface(ctx)
    if s is None:
        return
    for path, text in _field_texts(doc.data):
        for m, missing in ticked_unknown(text, lambda part: _known_name(part, s.tree, card, ctx), ctx):
            yield Finding(path + "#value", f"`{m.group(1)}`: no {', '.join(missing)} in SGLang {s.tree.version}, "
                                           "a synced release, the PR's cached diff or this project",
                          hint=NAME_HINT, at=_locate(doc, path, m.group(0), _nth(text, m)))


NAME_HINT = "name code as SGLang has it; a name that is gone says so ('was `x`', '`x` (removed in ...)')"


def ticked_unknown(text: str, known, ctx) -> Iterator[tuple[re.Match, list[str]]]:
    """(match, parts) for each code name of ``text`` in backticks or written `server_args.<name>` whose parts
    ``known`` (a predicate) does not hold, unless a synced release holds them all; a name the text marks as gone or
    as a PR's own wording need not be in a tree."""
    from dossier.mentions import MARK_ATTRIBUTED, _Text

    marks = None
    for m in [*_TICKED.finditer(text), *_SERVER_ARG.finditer(text)]:
        name = m.group(1)
        if not _code_name(name) or not (missing := [part for part in name.split(".") if not known(part)]):
            continue
        marks = marks or _Text(text)
        if marks.historical(m.start(), m.end()) or MARK_ATTRIBUTED.search(text, marks.sentence(m.start())[1],
                                                                           m.start()):
            continue
        if not all(_in_a_release(part, ctx) for part in missing):
            yield m, missing


def _nth(text: str, m: re.Match) -> int:
    return text.count(m.group(0), 0, m.start())


def _in_a_release(name: str, ctx) -> bool:
    """Whether a synced release holds ``name`` (read one release at a time; none synced: False)."""
    from dossier.lint.grounds import _release_trees

    memo = ctx.memo.setdefault("release-names", {})
    if name not in memo:
        memo[name] = False
        for tree in _release_trees(ctx).values():
            found = any(_has_word(text, name) for text in tree.texts.values())
            tree.unload()
            if found:
                memo[name] = True
                break
    return memo[name]


def _known_name(name: str, tree, card, ctx) -> bool:
    from dossier.lint.grounds import ground_texts

    if "project-names" not in ctx.memo:
        ctx.memo["project-names"] = _project_names(ctx.project.root)
    return (tree_has_word(tree, name) or _has_word(ctx.memo["project-names"], name)
            or any(_has_word(t, name) for t in ground_texts(card, ctx)))


#: a Qwen model name with its size: Qwen3-Next-80B-A3B-Instruct, Qwen/Qwen3.5-397B-A17B-FP8, Qwen3-ASR-1.7B
MODEL = re.compile(r"(?<![\w.-])(?:Qwen/)?Qwen(?P<version>\d+(?:\.\d+)?)(?P<variant>(?:-(?!\d)[A-Za-z][A-Za-z0-9]*)*)"
                   r"-(?P<size>\d+(?:\.\d+)?)B(?:-A(?P<active>\d+(?:\.\d+)?)B)?(?!\w|\.\w)", re.IGNORECASE)


def _model_key(m: re.Match) -> tuple[str, str, str, str | None]:
    return m.group("version"), m.group("variant").lower(), m.group("size"), m.group("active")


def _known_models(ctx, tree) -> set[tuple[str, str, str, str | None]]:
    """The sized model names today's SGLang spells out, and those `[tool.dossier] models` adds (names SGLang's
    source never spells, each checked against a thread)."""
    if "models" not in ctx.memo:
        found = _from_tree("models", tree, lambda t: frozenset(
            _model_key(m) for text in t.texts.values() if "wen" in text for m in MODEL.finditer(text)))
        extra = ctx.project.config.get("models") or []
        ctx.memo["models"] = found | {_model_key(m) for name in extra if isinstance(name, str)
                                      for m in MODEL.finditer(name)}
    return ctx.memo["models"]


@rule("D614", "a Qwen model name whose size (or active size) no known model has (today's SGLang, [tool.dossier] "
              "models)", scope="card")
def unknown_model(card, doc, ctx) -> Iterator[Finding]:
    """"Qwen3-Next-70B", "Qwen3.5-35B-A5B": a model a reader would look for and not find. Sizes come from the
    names today's SGLang spells out plus `[tool.dossier] models`; a size known with its active sizes (A3B) takes
    only those, one known only bare ("Qwen3.5-27B") takes any."""
    s = surface(ctx)
    if s is None:
        return
    known = _known_models(ctx, s.tree)
    for path, text in strings(doc.data):
        for m in MODEL.finditer(text):
            v, variant, size, active = _model_key(m)
            same = [k for k in known if k[:3] == (v, variant, size)]
            actives = {k[3] for k in same if k[3] is not None}
            # a size known with its active sizes takes only those ("Qwen3.5-35B-A5B" when A3B is the one known)
            if same and (active is None or active in actives or not actives):
                continue
            sizes = [f"{k[2]}B" + (f"-A{k[3]}B" if k[3] else "") for k in
                     sorted({k for k in known if k[:2] == (v, variant)}, key=lambda k: (float(k[2]), k[3] or ""))]
            family = f"Qwen{v}{m.group('variant')}"
            yield Finding(path + "#value", f"{m.group(0)}: no {family} model of that size is known (SGLang "
                                           f"{s.tree.version}, [tool.dossier] models)",
                          hint=(f"{family} sizes known: {', '.join(sizes)}" if sizes else f"no {family} model is known")
                          + "; if the name is real, add it to [tool.dossier] models with its source",
                          at=_locate(doc, path, m.group(0), _nth(text, m)))


#: a clause saying code is still there today ("... all still exist", "is still in 0.5.23", "remains")
_STILL = re.compile(r"\b(?:still (?:exists?|holds?|has|have|there|present|in|lives?|sits?|does|carr(?:y|ies)|reads?|"
                    r"calls?|uses?|is|are|defines?)|all still|remains?|unchanged)\b", re.IGNORECASE)
#: ... unless the clause also says something left or changed (then what it names need not be there)
_NOT_STILL = re.compile(r"\b(?:gone|removed|no longer|not|never|renamed|moved|replaced|dropped|deleted|absent|"
                        r"lost|was|were|until|instead|without)\b", re.IGNORECASE)
#: a clause ends at ';', ': ', ', while', ', but', or ', and X is/are' ("0.5.23 still has X: since 0.5.22 Y was
#: removed" says X is there; the "was" is the next clause's)
_CLAUSE = re.compile(r";|: |, while |, but |, and (?=[\w.]+ (?:is|are|was|were) )")
_CODE_WORD = re.compile(r"(?<![\w./-])(?:_*[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+|_*[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+"
                        r"|_*[A-Z]{2,}[a-z0-9]+(?:[A-Z][a-z0-9]*)+)"
                        r"(?![\w/-]|\.\w)")


@rule("D615", "a clause saying code is still in (or lives in) today's SGLang names a function, class, attribute or "
              "package file it lacks", scope="card")
def still_there_but_gone(card, doc, ctx) -> Iterator[Finding]:
    """"In SGLang 0.5.23 MambaPool, ... and MambaStateUpdateCudaGraphRunner all still exist": the reader takes the
    card's word that the code is there. A sentence naming today's SGLang (its version, or "today") whose clause says
    "still"/"remains" with no word of change (gone, renamed, moved, not, was ...) must name only code the tree
    holds, and what it says is "still in <file>" (or "lives in", "sits in", "is in" <file>) is in that file, which
    today's tree has. The reverse ("X is gone" while it is there) is not
    judged: such clauses name the code that replaced it."""
    s = surface(ctx)
    if s is None:
        return
    today = re.compile(rf"{prose.release_named(s.tree.version)}|\btoday\b", re.IGNORECASE)
    for path, text in _field_texts(doc.data):
        for sentence in prose.sentences(text):
            if not today.search(sentence):
                continue
            for clause in _CLAUSE.split(sentence):
                if _NOT_STILL.search(clause):
                    continue
                if _STILL.search(clause):
                    bare = prose.PATHLIKE.sub(" ", clause)
                    for name in dict.fromkeys(_CODE_WORD.findall(bare)):
                        if prose.is_model_name(name) or source_has_word(s.tree, name):
                            continue
                        yield Finding(path + "#value", f"says {name} is still in SGLang {s.tree.version}, which has "
                                                       f"no {name}", at=_locate(doc, path, name, 0),
                                      hint="check the name against today's tree; code that left says so ('X is gone')")
                yield from _still_in_file(clause, s, ctx, doc, path)


def _word_in_code(text: str, name: str, path: str) -> bool:
    """Whether ``name`` stands whole on a line of ``text`` (the file at ``path``) that is code: a file naming it only
    in a comment or docstring does not hold it."""
    lines = text.splitlines()
    return _has_word(text, name) and any(_has_word(lines[n - 1], name) for n in lines_with(text, name, path))


#: "... is still in python/sglang/srt/server_args.py", "now lives in ...": the code named before it sits in that file
_STILL_IN_FILE = re.compile(r"\b(?:still (?:in|lives? in|sits? in|defined in|at)|(?:now |still )?(?:lives?|sits?) in|"
                            r"(?:is|are) (?:now |still )?(?:defined |found )?in) "
                            r"`?(?P<file>(?:python/)?(?:[\w.-]+/)*[\w-]+\.py)\b")
_PY_FILE = re.compile(r"[\w-]+\.py\b")
#: "0.5.23 still has X in <file>", "defines X in <file>": the code named between the verb and the file sits there
_HAS = re.compile(r"\b(?:has|have|keeps?|holds?|(?P<defines>defines?|declares?))\s")
_IN_FILE = re.compile(r"\s+in `?(?P<file>(?:python/)?(?:[\w.-]+/)*[\w-]+\.py)\b")


def _placements(clause: str) -> list[tuple[str, str, bool]]:
    """(names, file, defined) for each place a clause about today puts code: "X is still in a.py" puts X in a.py,
    "has A in a.py and B in b.py" A in a.py and B in b.py; defined when the clause says the file defines it ("defines
    X in", "is defined in"), not only holds it. None for "has A and B in a.py and b.py": which name is in which
    file, a pattern cannot tell."""
    if m := _STILL_IN_FILE.search(clause):
        return [(clause[:m.start()], m.group("file"), "defined" in m.group(0))]
    if not (verb := _HAS.search(clause)):
        return []
    rest, placed, start = clause[verb.end():], [], 0
    for m in _IN_FILE.finditer(rest):
        if not 0 < len(names := rest[start:m.start()].strip(" ,")) <= 80:
            return []
        placed.append((names, m.group("file"), bool(verb.group("defines"))))
        start = m.end()
    return placed if len(placed) == len(_PY_FILE.findall(rest)) else []


def _still_in_file(clause: str, s, ctx, doc, path: str) -> Iterator[Finding]:
    """Names before "still in <file>" (or between "has" and "in <file>") in a clause about today: each is in that
    file when today's tree has the file and the name (a name it does not hold anywhere is the clause check's); said
    to be defined there, the file defines it (an import is not a definition). A file the card lists that the tree
    lacks ("In 0.5.23 both kernels still sit in python/sglang/jit_kernel/triton/gdn_fused_proj.py", a file that
    moved before that release) is a finding of its own: listed files are exempt from D604, which judges the
    others."""
    for named, file, defined in _placements(clause):
        yield from _in_file(named, file, defined, s, doc, path)


def _in_file(named: str, file: str, defined: bool, s, doc, path: str) -> Iterator[Finding]:
    where = file.removeprefix("python/").removeprefix("sglang/")
    files = [f for f in s.tree.texts if f.endswith("/" + where)]
    listed = {p for group in (doc.data.get("files") or {}).values() for p in (group or [])}
    listed.add((doc.data.get("key_fragment") or {}).get("file"))
    if not files and "python/sglang/" + where in listed:  # another path D604 judges
        yield Finding(path + "#value", f"says code is in {file} in SGLang {s.tree.version}, which has no such file",
                      at=_locate(doc, path, file, 0),
                      hint="name the file today's SGLang holds the code in (`dossier drift` says where it moved)")
        return
    if len(files) != 1:
        return
    def holds(f: str, name: str) -> bool:
        text = s.tree.texts[f]
        return defines(text, name) if defined else _word_in_code(text, name, f)

    for name in dict.fromkeys(_CODE_WORD.findall(prose.PATHLIKE.sub(" ", named))):
        if prose.is_model_name(name) or not source_has_word(s.tree, name) or holds(files[0], name):
            continue
        # the files whose code holds (or defines) it, the one that defines it first (not a comment that names it)
        held = sorted((f for f, t in s.tree.texts.items() if _has_word(t, name) and holds(f, name)),
                      key=lambda f: (not re.search(rf"^\s*(?:async\s+)?(?:def|class)\s+{re.escape(name)}\b",
                                                   s.tree.texts[f], re.M), f))
        if not held:
            continue
        said, where_today = ("defined in", "defines") if defined else ("still in", "has")
        yield Finding(path + "#value", f"says {name} is {said} {file}, but SGLang {s.tree.version} {where_today} "
                                       f"it in {held[0]}" + (f" (and {len(held) - 1} more)" if len(held) > 1 else ""),
                      at=_locate(doc, path, name, 0), hint="name the file today's SGLang holds it in")
