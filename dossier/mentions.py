"""Find what a reader would act on in a piece of prose: flags, SGLANG_*/SGL_* env vars, repo paths, modules.

A mention is *historical* when the text says so right at it, in one of the forms the claims rules
recognise (see :data:`MARK_BEFORE`, :data:`MARK_AFTER`, :data:`MARK_SENTENCE`): it is not a claim about
today's SGLang, but a flag or env var so marked must have existed in some release (D610), unless it is
*attributed*: the sentence puts it in a PR's own text before it (:data:`MARK_ATTRIBUTED`: "the PR's", "#123's",
"the description/RFC names"; not "the PR's new", which gives the PR the thing itself), which may never have
shipped ("proposed" alone attributes nothing: a made-up name can be "proposed" as easily as "old"). Anything else is
a claim about today's SGLang.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, replace

from dossier.prose import RELEASE

FLAG, ENV, PATH, MODULE = "flag", "env var", "path", "module"

#: what a word processor makes of "--": an en or em dash (or a pair, a minus sign, a hyphen pair ...)
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_FLAG = re.compile(
    rf"(?<![\w/{DASHES}-])(?P<lead>--|[{DASHES}]{{1,2}}|-[{DASHES}]|[{DASHES}]-)"
    rf"(?P<name>[a-z][a-z0-9]*(?:-[a-z0-9]+)*)(?![\w{{*{DASHES}-])"
    # its value: "--x v", "--x=v", "--x `v`", "`--x` `v`", "set `--x` to `v`"
    r"(?:(?P<sep>=|[ \t]+|`?[ \t]+(?:to[ \t]+)?(?=`))(?P<tick>`(?=[\w.+-]+`))?(?![-#(])(?P<value>[\w.+-]+)(?(tick)`))?")
_ENV = re.compile(r"(?<![\w$])(SGL(?:ANG)?_[A-Z0-9_]*[A-Z0-9])(?![\w*])")
_PATH = re.compile(r"(?<![\w./:@~-])((?:[\w.-]+/)+[\w.-]*\w)(?:::[\w\[\]:.-]+)?(?![\w/])")
#: the interpreter and its options before a module or script: "python -m", "python3.12 -u -m", "python3 x.py"
_PYTHON = r"\bpython(?:3(?:\.\d+)?)?(?:[ \t]+-[A-Za-z]+)*?[ \t]+"
_MODULE = re.compile(_PYTHON + r"-m[ \t]+([A-Za-z_][\w.]*)")
#: the command a flag is given to: flags of other tools (pytest, lm_eval, a repo script) are not SGLang's
_COMMAND = re.compile(
    _PYTHON + r"-m[ \t]+(?P<mod>[\w.]+)|" + _PYTHON + r"(?P<script>[\w./-]+\.py)"
    r"|(?:\b(?:bash|sh)[ \t]+)?(?<![\w-])(?P<shell>[\w./-]+\.sh)\b"
    r"|(?<![\w./-])(?P<tool>pytest|lm_eval|lm-eval|torchrun|nsys|ncu|pip|uv|git|gh|npx|dossier|sglang|docker|vllm"
    r"|nvidia-smi|hf|huggingface-cli|curl|wget|ray|accelerate|deepspeed|mpirun|srun|conda|kubectl|helm"
    r"|cmake)(?![\w-])"
)
#: what may sit between two flags of one command: a value and spaces, backticks, "="
_FLAG_GAP = re.compile(r"[ \t`=]*(?:[\w.+/-]+[ \t`]*)?")
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\n")
#: a later clause between a command and a flag that turns to the SGLang server: the flag is the server's ("After pytest
#: passes, start the server with --x"); a clause that does not ("..., --json FILE keeps the rows, --help lists ...";
#: "...; they pass with --variant") goes on with the command
_SERVER_CLAUSE = re.compile(r"[,;]\s+(?:[\w'-]+\s+){0,6}?(?:the (?:sglang )?server|sglang serve|launch_server)\b",
                            re.IGNORECASE)

#: "was `old/path`", "formerly --flag", "historical: ...", "0.5.23 does not read SGLANG_X" just before the mention
MARK_BEFORE = re.compile(
    r"(?:\b(?:was|were|formerly|previously|historical(?:ly)?|removed|renamed|then|old|deprecated|retired"
    r"|earlier|proposed|the PR's|at the time|pre-0\.5\.23|(?:does|do|did) not (?:read|parse|accept)|doesn't "
    r"(?:read|parse|accept)|never (?:reads|parses|accepts)|ignores)|#\d+'s)"
    r"(?:\s+(?:a|an|the))?(?:\s+new)?(?:\s+(?:flags?|env(?:ironment)? (?:var|variable|flag)s?|options?|names?|paths?|files?|modules?))?"
    r"[:,]?\s*[`'\"(]*$", re.IGNORECASE)
#: "--flag (removed ...)", "path (historical)", "(renamed ...)", "SGLANG_X is not read" just after it
MARK_AFTER = re.compile(
    r"[`'\"]*(?:\s*\((?:historical|removed|renamed|deprecated|gone|was|old|then|until|before|at the time|now\b"
    r"|today\b|since (?:removed|renamed|replaced))|\s+(?:is|are|was|were)(?: not|n't| no longer| never) (?:read|parsed|"
    r"accepted)\b|\s+(?:is|are|was|were)(?: now)? deprecated\b)",
    re.IGNORECASE)
#: a sentence that states the thing does not exist (any more)
MARK_SENTENCE = re.compile(
    r"\b(?:no longer|(?:does|did|do) not exist|doesn't exist|didn't exist|never existed|(?:was|were|since|been) "
    r"(?:removed|renamed|replaced|dropped|deleted)|renamed to|is gone|are gone|historical(?:ly)?|"
    r"not in (?:sglang )?0\.5\.23|before 0\.5\.23|(?:is|was) the last (?:sglang )?(?:release|wheel|version)"
    r"(?: (?:that|to) (?:accepts?|takes?|has|reads?|carr(?:y|ies)|ships?|parses?))?)\b", re.IGNORECASE)


#: just before the mention: it is the name something was renamed to or replaced by ("renamed to `--new`"), which a
#: sentence marked historical for the old name still gives as current unless a mark later in the sentence says otherwise
MARK_SUCCESSOR = re.compile(r"\b(?:renamed (?:it |them )?to|replaced (?:by|with)|superseded by|in favou?r of)"
                            r"(?:\s+(?:a|an|the))?(?:\s+new)?(?:\s+(?:flags?|env(?:ironment)? (?:var|variable)s?|"
                            r"options?|names?))?[:,]?\s*[`'\"(]*$", re.IGNORECASE)


#: where one clause of a sentence ends and the next begins
_CLAUSE_CUT = re.compile(r"[;:](?=\s)|,\s+but\b")


#: earlier in the sentence: the mention is a PR's own wording (its description, RFC, body), not a release's
MARK_ATTRIBUTED = re.compile(
    r"\b(?:descriptions?|RFC|(?:the|this|that|its) PR's(?!\s+new\b)|PR (?:body|text|branch))\b"
    r"|#\d+'s\b", re.IGNORECASE)


@dataclass(frozen=True)
class Mention:
    kind: str  # FLAG | ENV | PATH | MODULE
    text: str  # as written (a flag without its value)
    start: int  # offset in the text it was found in
    #: a flag's value when written "--flag value" / "--flag=value" / "--flag `value`"
    value: str | None = None
    #: the module or script a flag is passed to ("" when none is named)
    command: str = ""
    historical: bool = False
    #: historical as a PR's own wording (not necessarily in any release)
    attributed: bool = False
    #: a flag as typeset when its "--" was written as a dash ("\u2014enable-foo"; "" when written "--")
    written: str = ""
    #: the releases named in the sentence of a value read from prose ("in 0.5.14 --x tc_piecewise": that release's)
    dated: tuple[str, ...] = ()
    #: the offset just past the mention and its value as written
    end: int = 0

    @property
    def raw(self) -> str:
        """The mention as it stands in the text."""
        return self.written or self.text


#: a file name, never a code name
_FILE = re.compile(r"\.(?:py|pyi|cu|cuh|cc|cpp|h|hpp|json|yaml|yml|md|txt|sh|toml)$")


def code_like(part: str) -> bool:
    """Whether a bare word reads as code: snake_case with an inner '_' (not ALL_CAPS: D603 judges SGLang's env vars),
    or an UpperCamelCase class name; not a file name, a test name (no wheel ships SGLang's test/) or lowerCamelCase."""
    if _FILE.search(part) or re.match(r"(?:test_|Test[A-Z])", part) or not re.search(r"[a-z]", part):
        return False
    if "_" in part.strip("_"):
        return True
    return bool(re.fullmatch(r"[A-Z]\w*", part) and re.search(r"[a-z][A-Z]", part))


def find_mentions(text: str) -> list[Mention]:
    """Every flag, env var, path and ``python -m`` module in ``text``, in order."""
    return list(_mentions_of(text))


@functools.lru_cache(maxsize=4096)  # a lint run asks of each text of the manual several times, and runs repeat
def _mentions_of(text: str) -> tuple[Mention, ...]:
    t = _Text(text)
    out: list[Mention] = []
    for m in _MODULE.finditer(text):
        out.append(t.mention(MODULE, m.group(1), m.start(1)))
    for m in _FLAG.finditer(text):
        command = t.command(m.start())
        typeset = m.group("lead") != "--"
        # one dash before one word of prose ("a pause —then") is punctuation; "—enable-foo", "––tp" or one in code,
        # on a command line, a flag
        if (typeset and len(m.group("lead")) == 1 and "-" not in m.group("name")
                and not t.in_code(m.start(), m.end("name")) and not command):
            continue
        # a value is the flag's when written "--flag=value", "--flag `value`", inside a code span, or on an SGLang
        # command's line; in prose, when it is snake_case ("--mamba-radix-cache-strategy extra_buffer": no English
        # word has a "_"), dated by the releases its sentence names ("in 0.5.14-0.5.21 --x tc_piecewise" is that
        # release's value)
        value, dated = m.group("value") if m.group("value") and (
            m.group("sep") == "=" or m.group("tick") or t.in_code(m.start(), m.end())
            or (command and is_sglang_command(command))) else None, ()
        if value is None and m.group("value") and "_" in m.group("value").strip("_."):
            value = m.group("value").rstrip(".")
            dated = tuple(r.lstrip("v") for r in RELEASE.findall(text, *t.sentence(m.start())[1:]))
        end = m.end() - (len(m.group("value")) - len(value)) if value else m.end("name")
        out.append(t.mention(FLAG, "--" + m.group("name"), m.start(), value=value, command=command, dated=dated,
                             end=end, written=m.group(0)[:m.end("name") - m.start()] if typeset else ""))
    for m in _ENV.finditer(text):
        out.append(t.mention(ENV, m.group(1), m.start(1)))
    for m in _PATH.finditer(text):
        if "://" in text[max(0, m.start() - 12):m.start() + 3] or not _looks_like_path(m.group(1)):
            continue
        # a test of this project keeps its node id ("tests/x.py::test_y"): D604 checks that the test exists
        said = m.group(0).rstrip(".:") if m.group(1).startswith("tests/") else m.group(1).rstrip(".")
        out.append(t.mention(PATH, said, m.start(1)))
    return tuple(_chain_flags(text, sorted(out, key=lambda x: x.start)))


class _Text:
    """A text with its sentences, lines, code spans and commands indexed once (mentions are looked up by
    position, so a long text with many mentions stays linear)."""

    def __init__(self, text: str):
        self.text = text
        self.ends = [m.end() for m in _SENTENCE_END.finditer(text)]  # where each next sentence begins
        self.newlines = [i for i, c in enumerate(text) if c == "\n"]
        self.ticks = [i for i, c in enumerate(text) if c == "`"]
        self.commands = list(_COMMAND.finditer(text))
        self.command_starts = [m.start() for m in self.commands]
        self._marked: dict[int, bool] = {}

    def sentence(self, at: int) -> tuple[int, int, int]:
        """(index, begin, stop) of the sentence holding offset ``at``."""
        i = bisect.bisect_right(self.ends, at)
        begin = self.ends[i - 1] if i else 0
        stop = self.ends[i] if i < len(self.ends) else len(self.text)
        m = _SENTENCE_END.search(self.text, begin, stop) if i < len(self.ends) else None
        return i, begin, m.start() if m else stop

    def historical(self, start: int, end: int) -> bool:
        i, begin, stop = self.sentence(start)
        if i not in self._marked:
            self._marked[i] = bool(MARK_SENTENCE.search(self.text, begin, stop))
        return self._historical(start, end, begin, stop, self._marked[i])

    def historical_clause(self, start: int, end: int) -> bool:
        """:meth:`historical`, with a sentence's mark counted only in the clause that holds ``start`` (cut at ``;``,
        ``:`` and ", but"): "the op no longer exists: X now does Y" marks the op, not what X does now."""
        _, begin, stop = self.sentence(start)
        cuts = [m.end() for m in _CLAUSE_CUT.finditer(self.text, begin, start)]
        after = _CLAUSE_CUT.search(self.text, end, stop)
        begin, stop = (cuts[-1] if cuts else begin), (after.start() if after else stop)
        return self._historical(start, end, begin, stop, bool(MARK_SENTENCE.search(self.text, begin, stop)))

    def _historical(self, start: int, end: int, begin: int, stop: int, marked: bool) -> bool:
        """Whether the mention at ``start``..``end`` is marked as history within ``begin``..``stop`` (``marked``: that
        span holds a sentence mark)."""
        before = self.text[max(begin, start - 40):start]
        if MARK_SUCCESSOR.search(before):  # "--old was renamed to --new": the new name is today's
            return bool(MARK_AFTER.match(self.text, end, stop) or MARK_SENTENCE.search(self.text, end, stop))
        return bool(marked or MARK_BEFORE.search(before) or MARK_AFTER.match(self.text, end, stop))

    def mention(self, kind: str, what: str, start: int, **kw) -> Mention:
        historical = self.historical(start, start + len(kw.get("written") or what))
        _, begin, _ = self.sentence(start)
        attributed = historical and bool(MARK_ATTRIBUTED.search(self.text, begin, start))
        kw.setdefault("end", start + len(kw.get("written") or what))
        return Mention(kind, what, start, historical=historical, attributed=attributed, **kw)

    def in_code(self, start: int, end: int) -> bool:
        """Whether text[start:end] lies inside one `code span` of its line (a value after a flag in prose is
        not its value)."""
        line_start = self.newlines[bisect.bisect_left(self.newlines, start) - 1] + 1 \
            if bisect.bisect_left(self.newlines, start) else 0
        before = bisect.bisect_left(self.ticks, start) - bisect.bisect_left(self.ticks, line_start)
        inside = bisect.bisect_left(self.ticks, end) - bisect.bisect_left(self.ticks, start)
        return before % 2 == 1 and inside == 0

    def command(self, at: int) -> str:
        """The module, script or tool the flag at ``at`` is passed to, within its sentence ("" if none, or a clause
        between them turns to the server: "After pytest passes, start the server with --x")."""
        _, begin, _ = self.sentence(at)
        j = bisect.bisect_left(self.command_starts, at) - 1
        if j < 0 or self.commands[j].start() < begin or self.commands[j].end() > at \
                or _SERVER_CLAUSE.search(self.text, self.commands[j].end(), at):
            return ""
        last = self.commands[j]
        return last.group("mod") or last.group("script") or last.group("shell") or last.group("tool")


def _chain_flags(text: str, mentions: list[Mention]) -> list[Mention]:
    """A flag that follows a historical flag in the same command line (only values between) is historical too:
    "then `--enable-x --x-compiler eager`" marks both."""
    out: list[Mention] = []
    for m in mentions:
        prev = out[-1] if out else None
        if (m.kind == FLAG and not m.historical and prev is not None and prev.kind == FLAG and prev.historical
                and _FLAG_GAP.fullmatch(text[prev.start + len(prev.raw):m.start])):
            m = replace(m, historical=True, attributed=prev.attributed)
        out.append(m)
    return out


def _looks_like_path(s: str) -> bool:
    """A file or directory path, not a ratio ("tp4/dp4"), an alternative ("fp8/nvfp4") or a unit (tok/s)."""
    parts = s.split("/")
    if parts[-1] == "":
        parts = parts[:-1]
    has_file = re.search(r"\.(py|pyi|cu|cuh|cpp|cc|c|h|hpp|json|yaml|yml|toml|md|txt|sh|jinja2?)$", parts[-1])
    return bool(has_file) or parts[0] in TOP_DIRS


#: first path components that name a directory of the SGLang repository or of this project
TOP_DIRS = {"python", "sglang", "srt", "test", "benchmark", "sgl-kernel", "docs", "scripts", "examples",
            "runtime", "tests", "dossier", "results", "references", "cards"}


def is_sglang_command(command: str) -> bool:
    """Whether flags given to ``command`` are SGLang's (no command named counts as the server)."""
    if not command or command == "sglang":
        return True
    if command.endswith(".py"):
        return command.startswith(("python/sglang/", "sglang/"))
    return command == "sglang" or command.startswith("sglang.")
