"""Markdown escaping for card text placed into generated documents."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from dossier.prose import PAIR_NEXT, PR_DIGITS

# what can break a line or a table cell: pipes, code-span backticks, html, emphasis, strikethrough and link openers;
# a run of underscores only at a word edge, every one of it
# (intraword underscores are literal in CommonMark, as in fused_gdn_gating; `\__init_\_` still showed `init` in
# italics); an `&` that starts a character reference (`&amp;` would show as `&`)
_INLINE_SPECIAL = re.compile(r"[\\`*\[<|~]|&(?=#?\w+;)|(?<!\w)_++|(?<!_)_++(?![^\W_])")


def front_matter(text: str) -> tuple[str, str]:
    """(the YAML front matter with its `---` lines, the rest) of a page; ("", text) for a page without one."""
    if text.startswith("---\n") and (end := text.find("\n---\n", 4)) != -1:
        return text[:end + 5], text[end + 5:]
    return "", text


def release_anchor(version: object) -> str:
    """The anchor of one release's section of by-release.md: `release-0-5-21`, `release-0-5-5-post3`."""
    return "release-" + re.sub(r"[^0-9A-Za-z]+", "-", str(version)).strip("-").lower()


def cell(text: object) -> str:
    """Text safe inside one table cell: one line, pipes and backticks escaped."""
    text = " ".join(str(text).split())
    lone_tilde = text.count("~") < 2  # strikethrough takes a pair: "~2x" stays as written
    return _INLINE_SPECIAL.sub(lambda m: m[0] if lone_tilde and m[0] == "~" else _escaped(m), text)


def link_text(text: object) -> str:
    """:func:`cell` for the text of a link, `[text](target)`: a `]` escaped too (a title "[MTP] ..." ended the link
    text at its bracket and showed the target as text)."""
    return cell(text).replace("]", "\\]")


def md_cell(text: object) -> str:
    """Markdown authored for a table cell (code spans kept): one line, pipes, raw-HTML openers, and emphasis where
    it would render, escaped (as :func:`prose`)."""
    return _authored(str(text)).replace("|", "\\|")


def inline(text: object) -> str:
    """Text safe in a heading or a list item: one line, markdown specials escaped, and a closing run of `#` (which
    a heading drops) kept."""
    return _CLOSING_HASHES.sub(r"\1\\\2", cell(text))


#: the `#` run a heading line may end with, after a space: CommonMark reads it as the heading's optional closing
_CLOSING_HASHES = re.compile(r"(\s)(#+)$")


def first_of(items, shown: int, sep: str = ", ") -> str:
    """The first ``shown`` items joined, and how many more there are when some were left out ("12, 40, 77 and 11
    more"): a reader never takes a cut list for the whole one."""
    items = [str(i) for i in items]
    return sep.join(items[:shown]) + (f" and {len(items) - shown} more" if len(items) > shown else "")


def code(text: object) -> str:
    """``text`` as an inline code span, character for character (a line break becomes a space), whatever backticks
    it holds: a match or a name shown this way can be searched for as written. Not for a table cell: see
    :func:`code_cell`."""
    s = re.sub(r"\r\n?|\n", " ", str(text))
    longest = max((len(m) for m in re.findall(r"`+", s)), default=0)
    fence = "`" * (longest + 1)
    # CommonMark strips one space from each end of a span that starts and ends with one, and a span that starts
    # or ends with a backtick needs a space beside its fence: pad both
    pad = " " if s[:1] == "`" or s[-1:] == "`" or (s[:1] == s[-1:] == " " and s.strip()) else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def code_cell(text: object) -> str:
    """:func:`code` for a table cell: its pipes escaped (GFM's table syntax reads ``\\|`` as a pipe inside a cell,
    and an unescaped one ends the cell; outside a table the backslash would show)."""
    return code(text).replace("|", "\\|")


# not escaped: no backslash before, or an escaped one (`C:\\` then a code span: the backtick opens it)
_UNESCAPED = r"(?:(?<!\\)|(?<=(?<!\\)\\\\))"
#: a code span: a backtick run, up to the next run of its length (lint's D112 reads prose through it too)
CODE_SPAN = re.compile(r"(?<!`)" + _UNESCAPED + r"(`+)(?!`).*?(?<!`)\1(?!`)")
# a code span, or a `<` that CommonMark would read as raw HTML (a tag, a closing tag, a comment, a declaration):
# GitHub drops the tag (`<model path>` vanishes) and an open comment hides the rest of the page; autolinks stay
# (escaped or not is judged by the whole backslash run before it, :func:`_escaped_at`); or an `&` that starts a
# character reference (`&#x202E;` turned into the character itself: a right-to-left override in a table)
_CODE_OR_HTML = re.compile(CODE_SPAN.pattern
                           + r"|(?<!\]\()<(?![A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>|[^\s<>@]+@[^\s<>]+>)(?=[A-Za-z/!?])"
                           r"|&(?=#?\w+;)")


# what opens a block when it starts a list item (a heading, a quote, a nested list, a rule, a fence, a link
# reference definition `[x]: url`, which shows nothing and turns every `[x]` of the page into a link; a task box
# `[x] ` or `[ ] `, which GitHub draws as a checkbox in place of the text): its
# punctuation escaped, the text stays the item's
_BLOCK_START = re.compile(r"^(?:>|(#{1,6}|[-+*]|\d{1,9}(?=[.)]))(?=[.)]?(?:\s|$))|([-*_])(?=\s*(?:\2\s*){2,}$)|([`~])(?=\3\3)"
                          r"|\[(?=[^\]]*\]:)|\[(?=[ xX]\](?:\s|$)))")


def _inline(text: str) -> str:
    """Whitespace folded into one line; a backslash outside code, a backtick run no run of its length closes, and
    a `<` that would open raw HTML or an `&` that would start a character reference outside code, escaped."""
    text = _backslashes_shown(_unpaired_ticks_escaped(" ".join(text.split())))
    return _CODE_OR_HTML.sub(lambda m: m[0] if m[1] or _escaped_at(text, m.start()) else "\\" + m[0], text)


def _backslashes_shown(text: str) -> str:
    """``text`` with each backslash outside code spans shown as written (doubled): card prose needs no markdown escape
    (what would render as markdown is escaped here), and `\\.post\\d+` or `C:\\sglang` lost theirs. A run right
    before a backtick stays as CommonMark reads it (an odd one escapes the tick, an even one lets it open a span)."""
    return _SPAN_OR_BACKSLASHES.sub(lambda m: m[0] if m[1] else m[0] * 2, text)


#: a code span (kept), or a whole run of backslashes that no backtick follows
_SPAN_OR_BACKSLASHES = re.compile(CODE_SPAN.pattern + r"|(?<!\\)\\+(?![\\`])")


_TICKS = re.compile(r"`+")


def joined(items: list, sep: str = "; ") -> str:
    """A list's items as one text for :func:`prose` or :func:`md_cell`, each item's stray backticks escaped first: a
    tick one item leaves open must not pair with the next item's and swallow the text between them."""
    return sep.join(_unpaired_ticks_escaped(" ".join(str(item).split())) for item in items)


def _unpaired_ticks_escaped(text: str) -> str:
    """``text`` with each backtick run that opens no code span (CommonMark: no later run of the same length)
    escaped: a stray backtick in one card opened a span that the page's next backtick closed, and every PR
    mention between them lost its link."""
    runs, unpaired, i = list(_TICKS.finditer(text)), [], 0
    while i < len(runs):
        if _escaped_at(text, runs[i].start()):  # `\`` shows a tick and opens nothing (it may close a span)
            i += 1
            continue
        close = next((j for j in range(i + 1, len(runs)) if len(runs[j][0]) == len(runs[i][0])), None)
        if close is None:
            unpaired.append(runs[i])
            i += 1
        else:
            i = close + 1
    for run in reversed(unpaired):
        text = text[:run.start()] + "\\`" * len(run[0]) + text[run.end():]
    return text


def _escaped_at(text: str, at: int) -> bool:
    """Whether the character at ``at`` is escaped: an odd number of backslashes before it."""
    return (at - len(text[:at].rstrip("\\"))) % 2 == 1


#: a link's text, brackets one deep inside it: "the [MTP] verify" in [the [MTP] verify](...)
LINK_TEXT = r"(?:[^\[\]\n]|\[[^\[\]\n]*\])*"
#: what a link's parentheses hold: its destination, bare or in <...>, spaces around it and a title after it
#: (`(pr-history.md#pr-1 "title")`, `( page.md )`, `(<page.md#a>)`)
LINK_DESTINATION = r"""\s*(?:<[^<>\n]*>|[^\s()<>]*)(?:\s+(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\)))?\s*"""

# what a card's prose shows as written, not as markdown: code spans, link targets, autolinks and bare URLs (a link's
# text is prose, escaped as the rest)
_AS_WRITTEN = re.compile(r"(?<!`)" + _UNESCAPED + r"(?P<ticks>`+)(?!`).*?(?<!`)(?P=ticks)(?!`)"
                         r"|(?P<open>!?\[)(?P<text>" + LINK_TEXT + r")(?P<target>\]\(" + LINK_DESTINATION + r"\))"
                         r"|" + _UNESCAPED + r"<[A-Za-z][A-Za-z0-9+.-]{1,31}:[^\s<>]*>|(?P<url>\bhttps?://[^\s<>\]`\\]+)")
# emphasis openers and closers outside those: a `*` beside text (`2*H*K`, `a*b`), an `_` at a word's edge (`__init__`)
_EMPHASIS = re.compile(r"(?<!\\)\*(?=\S)|(?<=[^\s\\])\*|(?<![\w\\])_+|(?<=[^\W_])_+(?!\w)|(?<!\\)~")


def _emphasis_escaped(text: str) -> str:
    """``text`` where CommonMark renders emphasis in it, or GitHub may strike text through, with every `*`, word-edge
    `_` and `~` escaped outside code, link targets and URLs: cards write code in prose
    (`Qwen3GatedDeltaNet.__init__`, `[B, 2*H*K + HV*V]`), never emphasis, and unescaped those showed as bold `init`
    and a lost `*`; text with no emphasis stays as written."""
    if not _renders_emphasis(text) and _AS_WRITTEN.sub("", text).count("~") < 2:  # most prose: as written, so
        return text  # `_make_packed_weight_loader` greps as itself; two `~` may strike through on GitHub ("5~8%")
    kept = [m.span() if m["open"] is None else m.span("target") for m in _AS_WRITTEN.finditer(text)]
    # each opener is judged in the whole text: a `*` between two code spans (`a`*`b`) has a tick beside it
    return _EMPHASIS.sub(lambda e: e[0] if any(a <= e.start() < b for a, b in kept) else _escaped(e), text)


_URL_TRAILING = ".,:;!?'\"*_~"


def _bare_urls_linked(text: str) -> str:
    """Each bare URL in ``text`` (outside code and links) as an autolink `<url>`, its trailing punctuation and an
    unbalanced `)` left outside as GitHub leaves them: only GitHub links a bare URL, and a strict CommonMark reader
    showed the `__init__` of `.../models/__init__.py` as bold `init`; an autolink is a link to both, never emphasis."""
    def linked(m: re.Match) -> str:
        if m["url"] is None:
            return m[0]
        url = m["url"].rstrip(_URL_TRAILING)
        while url.endswith(")") and url.count(")") > url.count("("):
            url = url[:-1].rstrip(_URL_TRAILING)
        return f"<{url}>{m['url'][len(url):]}"

    return _AS_WRITTEN.sub(linked, text)


@functools.cache
def _commonmark():
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark")


@functools.lru_cache(maxsize=8192)
def _authored(text: str) -> str:
    """Authored markdown (:func:`prose`, :func:`md_cell`) on one line with raw HTML, character references and
    emphasis escaped, then read back by CommonMark: a text an escape missed (a `<` in a place no rule foresaw) is
    shown with all of its markdown escaped instead (kept per text: lint renders the manual on every run)."""
    out = _emphasis_escaped(_bare_urls_linked(_inline(text)))
    return out if not _inline_tokens(out) & {"html_inline", "em_open", "strong_open"} else cell(text)


def _inline_tokens(text: str) -> set[str]:
    """The kinds of inline token CommonMark (GitHub's reading) makes of ``text``."""
    return {t.type for block in _commonmark().parseInline(text) for t in block.children or ()}


def _renders_emphasis(text: str) -> bool:
    """Whether CommonMark renders ``text`` with emphasis anywhere."""
    return bool(_inline_tokens(text) & {"em_open", "strong_open"})


def _escaped(m: re.Match) -> str:
    return "".join("\\" + c for c in m[0])


def prose(text: str) -> str:
    """A paragraph from a card: whitespace folded, kept as the author's markdown (code spans and links); a `<` that
    would open raw HTML outside code, a `*` or `_` that would open emphasis, and a block marker at the start, are
    escaped, so they show as written."""
    text = _authored(text)
    m = _BLOCK_START.match(text)
    if m is None:
        return text
    if m[1] and m[1][0].isdigit():  # "1. warm up": escape the dot (or parenthesis) after the number
        return f"{m[1]}\\{text[m.end():]}"
    return f"\\{text}"


# spans a PR link must not be put into: fenced code, inline code, existing links/images, html (a `<` CommonMark could
# read as a tag or an autolink: a letter, `/`, `!` or `?` after it; "1 < 2 (#10233 > none)" is prose), headings' PR
_PROTECTED = re.compile(r"```.*?```|(?<!`)" + _UNESCAPED + r"(`+)(?!`)(?:(?!\n[ \t]*\n).)*?(?<!`)\1(?!`)"
                        r"|!?\[" + LINK_TEXT + r"\]\(" + LINK_DESTINATION + r"\)"
                        r"|" + _UNESCAPED + r"<[A-Za-z/!?][^>\n]*>|^#{1,6} #\d+", re.S | re.M)
_PR_MENTION = re.compile(r"(?:(?<![\w/#&\[\\])|" + PAIR_NEXT + r")#(\d{2,6})\b")


def names_a_pr(number: str) -> bool:
    """Whether an unlinked "#N" with no card names one of SGLang's PRs (a shorter number is another project's)."""
    return re.fullmatch(PR_DIGITS, number) is not None


#: "issue #N", "issues #A and #B", "issues #A, #B or #C": numbers GitHub shares between issues and PRs, here an issue's
_ISSUE_RUN = re.compile(r"\b[Ii]ssues? #\d+(?:(?:,? and |,? or |, )#\d+)*")


def link_prs(text: str, target: Callable[..., str | None]) -> str:
    """Every plain `#NNNN` outside code, links and html becomes a link to ``target(NNNN, issue=...)``, or stays as
    written where that is None; ``issue`` is true where the text calls the number an issue ("issue #N")."""
    def linked(part: str) -> str:
        runs = [(r.start(), r.end()) for r in _ISSUE_RUN.finditer(part)]

        def link(p: re.Match) -> str:
            to = target(int(p[1]), issue=any(a <= p.start() < b for a, b in runs))
            return f"[#{p[1]}]({to})" if to else p[0]
        return _PR_MENTION.sub(link, part)

    out, pos = [], 0
    for m in _PROTECTED.finditer(text):
        out.append(linked(text[pos:m.start()]))
        out.append(m[0])
        pos = m.end()
    out.append(linked(text[pos:]))
    return "".join(out)


#: a release named with its build date, as the evidence and release notes write it: "0.5.21 (built 2026-10-01"
_RELEASE_BUILT = re.compile(r"\b(\d+(?:\.\d+)+(?:\.post\d+)?) \(built (\d{4}-\d{2}-\d{2})")


def link_releases(text: str, page: str, known: set[str]) -> str:
    """Every "V (built DATE" outside code, links and html, V a release in ``known``, links its date to V's section of
    ``page`` (by-release.md): the version's words stay as written."""
    def link(m: re.Match) -> str:
        if m[1] not in known:
            return m[0]
        return f"{m[1]} ([built {m[2]}]({page}#{release_anchor(m[1])})"

    out, pos = [], 0
    for m in _PROTECTED.finditer(text):
        out.append(_RELEASE_BUILT.sub(link, text[pos:m.start()]))
        out.append(m[0])
        pos = m.end()
    out.append(_RELEASE_BUILT.sub(link, text[pos:]))
    return "".join(out)


def plain_pr_mentions(text: str) -> list[str]:
    """`#NNNN` mentions of SGLang PRs left unlinked (outside code, links, html and the PR a card heading names)."""
    found: list[str] = []
    pos = 0
    for m in _PROTECTED.finditer(text):
        found += _PR_MENTION.findall(text[pos:m.start()])
        pos = m.end()
    return [n for n in found + _PR_MENTION.findall(text[pos:]) if names_a_pr(n)]
