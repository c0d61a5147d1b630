"""The messages the manual quotes against the code that prints them: D624 (an error-page item's `where`), D626 (an
error-page message no release prints), D627 (a quoted message dated to releases that do not print it)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.cards import strings
from dossier.lint.claims import history, surface
from dossier.lint.registry import Finding, rule
from dossier.locks import LockError
from dossier.printed import MESSAGES_LOCK, printing, read_messages
from dossier.project import is_valid
from dossier.prose import first_few
from dossier.releases import is_version
from dossier.surface_history import Span


def _items(doc) -> Iterator[tuple[str, dict]]:
    """Each item of cards/lanes.yaml's `answers.errors`, with its path."""
    for i, group in enumerate((doc.data.get("answers") or {}).get("errors") or []):
        for j, item in enumerate(group["items"]):
            yield f"answers.errors[{i}].items[{j}]", item


#: a quote of cards/lanes.yaml that may be a log line: single-quoted, at least a few words
QUOTE = re.compile(r"(?<![\w`])'([^'`]{12,300})'(?![\w`])")
#: the parts of a quoted log line that stand for values: "...", "<architecture>", "[and MUSA, 0.5.11]", "{name}",
#: a lone capital ("capped to N")
_VALUE = re.compile(r"\.\.\.|\u2026|<[^<>]*>|\[[^\[\]]*\]|\{[^{}]*\}|(?<![\w-])[A-Z](?![\w-])")
#: a metric SGLang exports, named in the prose: `sglang:mamba_usage`
METRIC = re.compile(r"(?<![\w:])sglang:[a-z][a-z0-9_]*[a-z0-9]")
#: the exception's name a quote may open with, which the code raising it does not hold
_RAISED = re.compile(r"^\s*\w*(?:Error|Exception|Warning):\s*")


def fixed_words(quote: str) -> str | None:
    """The longest run of a quoted log line's own words, between the parts that stand for values ("max_running_requests
    is capped to N by the mamba state cache (max_mamba_cache_size=..., R state slots per request)" -> its first
    run); None when no run has three words."""
    runs = [r.strip(" ,;:'\"()") for r in _VALUE.split(_RAISED.sub("", quote))]
    best = max(runs, key=lambda r: len(r.split()), default="")
    return best if len(best.split()) >= 3 and len(best) >= 12 else None


def recorded_messages(ctx) -> dict[str, str] | None:
    """cards/messages.lock: each recorded text with the first..last release that printed it (None when the lock is
    unreadable, which D311 reports)."""
    try:
        return read_messages(ctx.project.root)
    except LockError:
        return None


def dated_quotes(project) -> list[str]:
    """The fixed words of every quote in cards/lanes.yaml dated to releases (a parenthesis after it, or the words
    right before it, name one): the messages D627 holds to the releases that print them."""
    doc = project.lanes_doc
    if doc is None or not is_valid(doc):
        return []
    return list(dict.fromkeys(words for _, text, _, words in quotes(doc)
                              if any(named for _, named, _ in said_releases(text, words))))


def quoted(text: str) -> Iterator[tuple[str, str, int]]:
    """(quote, its fixed words, where it starts) for each quote of ``text`` that has fixed words, then each metric it
    names (the name is its own fixed words)."""
    for q in QUOTE.finditer(text):
        if words := fixed_words(q.group(1)):
            yield q.group(1), words, q.start(1)
    for m in METRIC.finditer(text):
        yield m.group(0), m.group(0), m.start()


def quotes(doc) -> Iterator[tuple[str, str, str, str]]:
    """(path, text, quote, its fixed words) for each quote and metric (:func:`quoted`) of cards/lanes.yaml."""
    for path, text in strings(doc.data):
        for quote, words, _ in quoted(text):
            yield path, text, quote, words


def error_messages(project) -> list[str]:
    """Every message of the error page that SGLang prints (not those an item says Python or a library prints)."""
    doc = project.lanes_doc
    if doc is None or not is_valid(doc):
        return []
    return list(dict.fromkeys(m for _, item in _items(doc) for m in item["messages"]
                              if m not in (item.get("not_sglang") or ())))


@rule("D624", "an error-page item's `where` holds none of its messages in today's SGLang, while another file does",
      scope="project")
def where_prints_none(ctx) -> Iterator[Finding]:
    """references/errors.md sends a reader from a log line to the file that raises it: an item of cards/lanes.yaml's
    `answers.errors` whose `where` (a file of SGLang 0.5.23) prints none of the item's messages, while some other
    file of today's tree prints one, names the wrong file (a message printed word for word somewhere is looked for
    word for word; one split over joined literals or with values put in is read from the files' strings, see
    :mod:`dossier.printed`). Not judged: an item whose messages no file of today's tree prints (a message of an
    older release, or one torch or Python prints), or a project without an SGLang tree (D600)."""
    s, doc = surface(ctx), ctx.project.lanes_doc
    if s is None or doc is None or not is_valid(doc):
        return
    printed = printing(s.tree, error_messages(ctx.project))
    for path, item in _items(doc):
        where = item.get("where")
        if not where:
            continue
        held = {m: printed.get(m, []) for m in item["messages"]}
        if any(where in files for files in held.values()):
            continue
        elsewhere = sorted({f for files in held.values() for f in files})
        if elsewhere:
            yield Finding(f"{path}.where#value", f"{where} prints none of this item's messages in SGLang "
                                                 f"{s.tree.version}; {first_few(elsewhere, 3)} does",
                          hint="name the file that raises the message", doc=doc)


@rule("D626", "an error-page message that no SGLang release prints (today's SGLang, cards/messages.lock), and that "
              "its item does not give to Python or a library", scope="project")
def message_no_release_prints(ctx) -> Iterator[Finding]:
    """The error page is indexed by message: a reader greps the page for the words in their log. A message no
    release of SGLang prints (a misquote, a word changed, one invented) matches no real log line and sends the
    reader nowhere. A message is printed when today's tree prints it (:mod:`dossier.printed`: word for word, or
    over joined literals) or cards/messages.lock records releases that did (`dossier releases
    surface --record` reads every synced release). A message Python or a library prints (an AttributeError, a
    torch error) is listed in the item's `not_sglang` and not looked for; a `not_sglang` entry must be one of the
    item's messages. Not judged without an SGLang tree (D600) or with an unreadable messages lock (D311)."""
    s, doc = surface(ctx), ctx.project.lanes_doc
    if s is None or doc is None or not is_valid(doc):
        return
    recorded = recorded_messages(ctx)
    if recorded is None:
        return
    printed = printing(s.tree, error_messages(ctx.project))
    for path, item in _items(doc):
        others = item.get("not_sglang") or []
        for k, m in enumerate(others):
            if m not in item["messages"]:
                yield Finding(f"{path}.not_sglang[{k}]#value", f"'{m}' is not one of this item's messages",
                              hint="list in `not_sglang` only messages of the item's `messages`", doc=doc)
        for k, m in enumerate(item["messages"]):
            if m in others or printed.get(m) or m in recorded:
                continue
            yield Finding(f"{path}.messages[{k}]#value",
                          f"'{m}': no SGLang release prints it (not SGLang {s.tree.version}, nor a release "
                          f"{MESSAGES_LOCK} records): a reader's log line would not match it",
                          hint="quote the message as SGLang prints it (a release's file); one Python or a library "
                               "prints goes in the item's `not_sglang`; after adding a message of an older release, "
                               "run `dossier releases surface --record`", doc=doc)


_RELEASE = r"\d+\.\d+\.\d+(?:\.post\d+)?"
#: the parenthesis right after the quote a message ends in, or after a list of quotes it is one of: "'...' (0.5.7 on;
#: ...)", "'...' (from 0.5.17)", "'A' and 'B' (from 0.5.15)", "'A', 'B' or 'C' (every release)"; or the rest of the
#: parenthesis the quote opens: "(on Intel XPU ('HiCache does not support ...', from 0.5.23)"
_AFTER_QUOTE = re.compile(r"[^'\"`]*['\"`](?:\s*(?:,|,?\s*and|,?\s*or|/)\s*(['\"`])[^'\"`]*\1)*(?:\s*\((?P<said>[^()]*)\)|"
                          r",\s*(?P<inside>(?:from|since|until|up to|in|every|\d)[^()]*)\))")
#: a parenthesis after a list of quotes that dates only one of them
_ONE_OF = re.compile(r"\b(?:the (?:latter|former|first|second|last)|only the)\b", re.IGNORECASE)
#: a clause whose releases name no end: "from 0.5.14", "every release from 0.5.10", "0.5.7 on", "since 0.5.11"
_OPEN_ENDED = re.compile(rf"\b(?:from|since)\s+{_RELEASE}(?!\s*(?:to|through|until)\b)|{_RELEASE}(?:\s+on\b|\+|"
                         r"\s+(?:and|or) later\b|\s+onwards?\b)|^\s*every release\s*$")
#: a release named as the first without the message: "before 0.5.21", "not 0.5.13", "gone from 0.5.13", "fixed in"
_WITHOUT = re.compile(r"\b(?:before|not|fixed in|gone (?:from|in)|removed in|dropped in|deleted in|absent from|"
                      r"no longer in)\s+$", re.IGNORECASE)
#: ends that close a span: "to 0.5.16", "through 0.5.20", "until 0.5.21", "up to 0.5.9"
_CLOSED = re.compile(rf"\b(?:to|through|until|up to)\s+{_RELEASE}")


#: releases right before the quote a message is in: "0.5.3.post2 to 0.5.6.post2 word it '...", "from 0.5.22 '..."
_BEFORE_QUOTE = re.compile(rf"((?:from |since |until |up to )?{_RELEASE}(?:\s*(?:to|through)\s*{_RELEASE})?(?: on)?)"
                           r"(?:,? (?:word|words|name|names|print|prints|log|logs|raise|raises|say|says) it)?:?\s*$")


def said_releases(check: str, message: str) -> Iterator[tuple[str, list[str], bool]]:
    """For each place ``check`` quotes ``message``, the releases said to print it: the first clause of the parenthesis
    after the quote that names a release ("(at startup; from 0.5.17)": "from 0.5.17"; a clause that leads into
    another wording, "0.5.2 to 0.5.6.post2: '...'", and any after it are not about this quote), and the releases
    right before the quote ("0.5.3.post2 to 0.5.6.post2 word it '...'"). Each as (the words, the releases named,
    whether the span is left open to today)."""
    def said(clause: str) -> tuple[str, list[str], bool]:
        named = [m.group(0) for m in re.finditer(_RELEASE, clause) if not _WITHOUT.search(clause[:m.start()])]
        return clause, named, bool(_OPEN_ENDED.search(clause)) and not _CLOSED.search(clause)

    start = check.find(message)
    while start >= 0:
        after = _AFTER_QUOTE.match(check, start + len(message))
        if after and after.group(1) and _ONE_OF.search(after.group("said") or after.group("inside")):
            after = None  # "'A' or 'B' (the latter 0.5.3.post2 to 0.5.6.post2)": not every quote's releases
        for clause in (after.group("said") or after.group("inside")).split(";") if after else ():
            if re.search(r":\s*['\"`]", clause):
                break
            if re.search(_RELEASE, clause) or clause.strip() == "every release":
                yield said(clause)
                break
        opening = max(check.rfind(q, 0, start) for q in "'\"`")
        before = _BEFORE_QUOTE.search(check, max(0, opening - 60), opening) if opening >= 0 else None
        if before and not _WITHOUT.search(check, max(0, before.start() - 30), before.start()):
            yield said(before.group(1))
        start = check.find(message, start + 1)


@rule("D627", "cards/lanes.yaml dates a quoted message to releases that cards/messages.lock says do not print it",
      scope="project")
def message_dated_wrong(ctx) -> Iterator[Finding]:
    """"'...must be -1 (unlimited) or a positive integer, got 0.' (from 0.5.17)": the parenthesis right after a
    quoted message gives the releases that print it, as do the words right before the quote ("0.5.3.post2 to
    0.5.6.post2 word it '...'", "from 0.5.22 '...'"), and a reader on another release trusts them. Each release
    named must print the message (cards/messages.lock's first and last release that did), an open span ("from
    0.5.14", "0.5.7 on", "every release") must reach the newest release the lock was recorded from, and "every
    release" must start at the oldest. A message's fixed words may be printed longer than the quote's full wording,
    so a span that starts later than the lock's is not judged. Not judged: a message the lock does not hold, a
    clause that leads into another wording ("0.5.2 to 0.5.6.post2: '...'"). An error-page item's messages are
    its `messages`; any other dated quote of cards/lanes.yaml is held by its fixed words, the longest run between
    the parts that stand for values ("...", "<architecture>", a lone "N": :func:`fixed_words`)."""
    doc, h = ctx.project.lanes_doc, history(ctx)
    if doc is None or not is_valid(doc) or h is None or not h.releases:
        return
    recorded = recorded_messages(ctx)
    if recorded is None:
        return
    judged = set()
    for path, item in _items(doc):
        for m in item["messages"]:
            judged.add((f"{path}.check", m))
            yield from _dated_wrong(doc, f"{path}.check", item["check"], m, recorded, h)
    for path, text, quote, words in quotes(doc):  # every other quote the manual dates
        if (path, words) not in judged and not any(p == path and m in quote for p, m in judged):
            judged.add((path, words))
            yield from _dated_wrong(doc, path, text, words, recorded, h)


def _dated_wrong(doc, path: str, text: str, message: str, recorded: dict[str, str], h) -> Iterator[Finding]:
    """D627's findings for one quoted ``message`` of ``text`` (at ``path``)."""
    if message not in recorded:
        return
    first, _, last = recorded[message].partition("..")
    span = Span(first, last or first)
    oldest, newest = h.releases[0], h.newest
    for clause, named, open_ended in said_releases(text, message):
        if clause.strip() == "every release":
            named = [oldest]
        wrong = list(dict.fromkeys(v for v in named if is_version(v) and not span.holds(v)))
        said = (f"dates '{message}' to {', '.join(wrong)}, which {'does' if len(wrong) == 1 else 'do'} not print "
                "it" if wrong else f"leaves '{message}' printed to the newest release, {newest}"
                if open_ended and span.last != newest else "")
        if said:
            yield Finding(f"{path}#value", f"'({clause.strip()})' {said}: {MESSAGES_LOCK} records it in {span} only",
                          hint="date the message by the releases that print it (a release's file; "
                               "`dossier releases surface --record` records them)", doc=doc)
