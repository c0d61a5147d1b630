"""D618: a --flag or SGLANG_* env var given to a release that did not have it (cards/surface.lock's spans), in every
text the manual is rendered from."""

from __future__ import annotations

import re
from collections.abc import Iterator

from packaging.version import Version

from dossier.cards import YamlDoc
from dossier.lint.claims import _JINJA, HISTORICAL_KEY, _field_texts, _locate, history, template_dir
from dossier.lint.registry import Finding, rule
from dossier.mentions import ENV, FLAG, find_mentions, is_sglang_command

_VERSION = r"v?(\d+\.\d+\.\d+(?:\.post\d+)?)(?![\w.]*\d)"
_NEWER = r"(?:\+|\s+(?:and|or)\s+(?:later|newer|above|up|beyond)|\s+onwards?|\s+on\b)"
#: "`--flag` from 0.5.17", "--flag (added in SGLang 0.5.17)", "--flag (0.5.17+)", "--flag (0.5.17 and up)", "--flag
#: (requires SGLang >= 0.5.17)", "--flag (needs at least 0.5.17)",
#: "--flag, as of v0.5.17", "--flag first appeared in 0.5.17", "--flag first parses in 0.5.17", "--flag exists since
#: 0.5.17", "--flag first exists in 0.5.17", "--flag parses from 0.5.17": the release the name is said to start in (a keyword, or a bare release with "+"/"or later")
_SINCE = re.compile(r"[`'\"]*\s*[(,]?\s*(?:(?:is|was|are|were)\s+)?(?:(?:from|since|added in|introduced in|new in|"
                    r"first in|available (?:from|since|in)|as of|starting (?:with|from|in|at)|beginning with|"
                    r"requires?|needs?|shipped in|landed in|appeared in|arrived in|came in|showed up in|"
                    r"first (?:appeared|shipped|landed|showed up|parses|parsed|accepted|read) in|exists? since|has existed since|"
                    r"first (?:exists|existed|(?:is|was) (?:defined|registered|accepted|available|parsed|read)) in|"
                    r"(?:parses|parsed|is parsed|(?:is )?accepted|(?:is )?defined|(?:is )?registered|(?:is )?read) (?:from|since)|"
                    r"has been (?:there|available|around) since)\s+(?:at least\s+)?(?:SGLang\s+)?(?:>=\s*|\u2265\s*)?"
                    + _VERSION + "|"
                    r"(?:SGLang\s+)?(?:>=\s*|\u2265\s*)" + _VERSION + r"|(?:SGLang\s+)?" + _VERSION + _NEWER + ")",
                    re.IGNORECASE)
#: the words of _SINCE that name the first release, not one that has it: "first appeared in", "added in", "new in"
_FIRST = re.compile(r"\bfirst\b.*?\bin\b|\b(?:added|introduced|new|appeared|arrived|came|showed up) in\b", re.IGNORECASE)
#: "On SGLang 0.5.12, start the server with ...", "on 0.5.12: python -m ...", "Since 0.5.17, pass ...", "Since SGLang
#: 0.5.17 the kernel is picked with ...", "From SGLang 0.5.17 on, ...", "sglang==0.5.12 ... --flag", "SGLang 0.5.12
#: users: ...", "0.5.17 adds --flag", "0.5.17 has --flag" (not "has no"), "The 0.5.17 wheel already takes --flag",
#: "Upgrade to 0.5.17 to get --flag": the release a command or setting is given for
_ON = re.compile(r"(?:\b(?:in|on|with|for|under)\s+(?:SGLang\s+)?" + _VERSION + r"|(?:^|(?<=[.;:!?]\s)|(?<=\n))"
                 r"(?:since|from|as of|starting (?:with|from|in|at)|beginning with)\s+(?:SGLang\s+)?" + _VERSION
                 + "(?:" + _NEWER + r")?(?=\s*,|\s+(?:the|a|an|this|it|you|we|SGLang|pass|set|start|launch|add|use)\b)"
                 r"|\bsglang==" + _VERSION + r"|\bSGLang\s+"
                 + _VERSION + r"(?:" + _NEWER + r")?\s+users\b|(?<![\w.])" + _VERSION
                 + r"(?:'s)?\s+(?:(?:wheel|release|build|package|image|server)\s+)?(?:already\s+|also\s+|now\s+)?"
                 r"(?:adds|added|introduces|introduced|brings|brought|ships|shipped|gains|gained|"
                 r"(?:has|accepts|supports|parses|takes)(?!\s+(?:no|not|neither|never)\b))\b"
                 r"|\bupgrade to (?:SGLang\s+)?" + _VERSION + r"(?:" + _NEWER + r")?\s+(?:to get|to use|for|and (?:use|pass|"
                 r"set|add))\b)\s*[,:]?",
                 re.IGNORECASE)
#: "--flag on 0.5.12", "--flag triton on 0.5.12", "`--flag` works in SGLang 0.5.12": right after the name (and a value),
#: the release it is handed to
_AFTER_ON = re.compile(r"(?:[= ][a-z0-9_.]+(?=[`'\"]?\s+(?:on|in|with|for|under)\s))?[`'\"]*\s*(?:(?:only |also )?(?:works?|exists?|applies|is available|is accepted|runs?|is "
                       r"needed|is required)\s+)?(?:on|in|with|for|under)\s+(?:SGLang\s+)?" + _VERSION
                       + r"(?!\s*(?:->|\u2192|to\b|through\b|until\b|and\b|-\s*\d))", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[;.!?](?:\s|$)|->|\u2192|\bthen\b|\bbefore\b|\bafter\b|\buntil\b|\bup to\b|\bsince\b"
                         r"|\bfrom\b|\bremoved\b|\brenamed\b|\bwas\b|\bwere\b|\bformerly\b|\bold\b|\bprevious(?:ly)?\b"
                         r"|\bdeprecated\b|\bolder\b|\bearlier\b|\)|\d+\.\d+\.\d+", re.IGNORECASE)
#: "fixed in 0.5.13", "shipped in 0.5.13": the release is said to do something, not handed a setting
_STATEMENT = re.compile(r"\b(?:fixed|shipped|landed|added|introduced|removed|changed|merged|released|broken|broke|"
                        r"made|became|default|renamed|deprecated|first|last|new|back|present|gone|kept|dropped|"
                        r"appeared|arrived|reverted|moved|started|began)\s+$", re.IGNORECASE)


def _version(m: re.Match) -> str:
    return next(g for g in m.groups() if g)


@rule("D618", "a --flag or SGLANG_*/SGL_* env var said to start in, or given for, a release that did not have it "
              "(cards/surface.lock)", scope="project")
def name_of_another_release(ctx) -> Iterator[Finding]:
    """"`--linear-attn-verify-backend` from 0.5.12" or "On SGLang 0.5.12, start the server with
    --linear-attn-verify-backend triton" when the flag first shipped in 0.5.17: a reader on 0.5.12 gets a parse
    error. Judged in every text the manual is rendered from: the cards' prose, cards/lanes.yaml (answers,
    playbook), the findings, and the literal text of the render templates. Two kinds of phrasing: right after
    the name, a release it is said to start in ("from/since/as of/added in/introduced in/new in/available in/
    requires (SGLang) V", "(V+)", "(>= V)", "V and later", "starting with V"); or a clause that opens on a release
    ("in/on/with/for/since/from/as of SGLang V", "sglang==V", "SGLang V users", "V adds/introduces") and then
    hands the name over with no other release, arrow or time word ("then", "before", "was", "old",
    "deprecated"...) between. A name marked historical is judged only in the first kind; a name the surface lock
    does not know is D601's/D603's, and a release it did not scan is not judged."""
    past = history(ctx)
    if past is None or not past.releases:
        return
    for doc, path, text, historical in manual_texts(ctx.project):
        yield from _judge(doc, path, text, past, historical,
                          lambda m, n, doc=doc, path=path: _locate(doc, path, m.raw, n))
    for template in sorted(template_dir().glob("*.j2")):
        raw = template.read_text(encoding="utf-8")
        literal = _JINJA.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), raw)
        yield from _judge(YamlDoc(path=template, positions={"": (1, 1)}), "", literal, past, False,
                          lambda m, n, raw=raw: (raw.count("\n", 0, m.start) + 1,
                                                 m.start - raw.rfind("\n", 0, m.start)))


def manual_texts(project) -> list[tuple[YamlDoc, str, str, bool]]:
    """(doc, path, text, historical) of every text the manual is rendered from but the templates: the cards' prose,
    then :func:`lanes_and_finding_texts`."""
    return [(doc, path, text, False) for doc in project.valid_docs() for path, text in _field_texts(doc.data)] \
        + lanes_and_finding_texts(project)


def lanes_and_finding_texts(project) -> list[tuple[YamlDoc, str, str, bool]]:
    """(doc, path, text, historical) of cards/lanes.yaml (a `historical` key or a text opening "historical:" marks
    its names historical) and of the findings (not their code)."""
    from dossier.cards import strings
    from dossier.project import is_valid

    texts = []
    if project.lanes_doc is not None and isinstance(project.lanes_doc.data, dict):
        texts += [(project.lanes_doc, path, text, HISTORICAL_KEY in re.split(r"[.\[]", path)
                   or text.lstrip().lower().startswith(HISTORICAL_KEY + ":"))
                  for path, text in strings(project.lanes_doc.data)]
    texts += [(doc, path, text, False) for doc in project.finding_docs if is_valid(doc)
              for path, text in strings(doc.data) if not path.startswith("code")]
    return texts


def current_texts(project) -> Iterator[tuple[YamlDoc, str, str]]:
    """(doc, where a finding points, whitespace-folded text) of every card's prose and claims, and of every text of
    cards/lanes.yaml and the findings not marked historical: what the manual says of today."""
    from dossier.lint.depth import card_texts, text_location
    from dossier.model import Card

    for doc in project.valid_docs():
        for path, text in card_texts(Card.from_data(doc.data, doc.path)):
            yield doc, text_location(path), " ".join(text.split())
    for doc, path, text, historical in lanes_and_finding_texts(project):
        if not historical:
            yield doc, path, " ".join(text.split())


def _judge(doc: YamlDoc, path: str, text: str, past, historical: bool, where) -> Iterator[Finding]:
    """D618's findings in one text; ``where(mention, nth)`` places a mention in its file."""
    scanned = set(past.releases)
    opens = [(m.end(), _version(m)) for m in _ON.finditer(text)
             if _version(m) in scanned and not _STATEMENT.search(text, max(0, m.start() - 20), m.start())]
    seen: dict[str, int] = {}
    for m in find_mentions(text):
        if m.kind not in (FLAG, ENV) or (m.kind == FLAG and not is_sglang_command(m.command)):
            continue
        n = seen[m.raw] = seen.get(m.raw, -1) + 1
        span = past.span("flags" if m.kind == FLAG else "env", m.text)
        if span is None:
            continue
        said = []
        end = m.end
        after = _SINCE.match(text, end)
        if after and _version(after) in scanned:
            said.append((_version(after), "said to start in"))
            if _FIRST.search(after.group(0)) and Version(_version(after)) > Version(span.first):  # "first in 0.5.19"
                yield Finding(path, f"{m.text} is said to first appear in SGLang {_version(after)}, but it first "
                                    f"shipped in {span.first} (releases with it: {span})",
                              hint=f"name the first release with it, {span.first}", doc=doc, at=where(m, n))
                continue
        handed = _AFTER_ON.match(text, end)
        if not (m.historical or historical):
            if handed and _version(handed) in scanned and not after:
                said.append((_version(handed), "given for"))
            said += [(v, "given for") for end, v in opens
                     if end <= m.start and not _CLAUSE_END.search(text, end, m.start)]
        for version, how in said:
            if not span.holds(version):
                when = (f"first shipped in {span.first}" if Version(version) < Version(span.first)
                        else f"last shipped in {span.last}")
                yield Finding(path, f"{m.text} is {how} SGLang {version}, but it {when} (releases with it: "
                                    f"{span})", hint=f"name a release from {span}, or mark it historical",
                              doc=doc, at=where(m, n))
                break
