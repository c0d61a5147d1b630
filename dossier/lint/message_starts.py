"""D638: a quoted message or a metric said to start in a release ("`sglang:mamba_usage` (from 0.5.6)", "'...'
(logged since 0.5.18)") that the release before it already printed (cards/messages.lock)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.lint.claims import _locate, history
from dossier.lint.error_sources import error_messages, quotes, recorded_messages, said_releases
from dossier.lint.registry import Finding, rule
from dossier.printed import MESSAGES_LOCK
from dossier.project import is_valid
from dossier.surface_history import Span

#: a clause that opens on the release a text starts in, closed there or by a comma: "from 0.5.17", "logged since
#: 0.5.17", "new in 0.5.23, with ...", "0.5.17+", "0.5.17 on"
_STARTS = re.compile(r"\s*(?:(?:logged|printed|raised|exported|reported|shown)\s+)?(?:(?:from|since|new in|added in|"
                     r"first in)\s+(?:SGLang\s+)?(?P<v>\d+\.\d+\.\d+(?:\.post\d+)?)|(?P<w>\d+\.\d+\.\d+(?:\.post\d+)?)"
                     r"(?:\+|\s+on(?:wards?)?))\s*(?:,.*)?", re.IGNORECASE | re.DOTALL)


def _shared(one: str, other: str) -> int:
    """How many words of four letters or more ``one`` and ``other`` share ("memory", "leak", "detected!"; not "the",
    "is", "to", which any two sentences share)."""
    return len({w for w in set(one.split()) & set(other.split()) if len(w) >= 4})


@rule("D638", "a quoted message or metric of cards/lanes.yaml said to start in a release (from V, since V) that the "
              "release before V already printed (cards/messages.lock)", scope="project")
def message_started_later(ctx) -> Iterator[Finding]:
    """"`sglang:mamba_usage` (from 0.5.6)" where 0.5.5 already exports it, "'max_running_requests is capped to N ...'
    (logged since 0.5.18)" where 0.5.17 logs it: a reader on the release before drops a log line or a metric they
    have, and the boundary the manual gives for an upgrade is wrong. D627 catches a release that does not print the
    text; this one a start too late. Judged: a clause that opens on the start ("from V", "since V", "logged since
    V", "new in V", "V+", "V on"), closed there or by a comma, in the parenthesis right after the quote or right
    before it (D627's reading), of a quote whose fixed words (or a metric whose name) cards/messages.lock records,
    where the release the surface lock scanned just before V printed them. Not judged: a span with an end ("0.5.13
    to 0.5.15.post1"), a clause with more to say ("from 0.5.10 (SM90)"), an error-page item's message (the item may
    quote a longer wording than the message the lock holds), a quote its text sets against another wording that
    holds it or shares three of its words of four letters or more ("from 0.5.11: 'pool memory leak detected!' ...;
    0.5.1 to 0.5.10.post1: 'token_to_kv_pool_allocator memory leak detected!'": the lock finds a quote's words inside longer ones, here
    those of 'req_to_token_pool memory leak detected!', printed by every release). The lock records the first and
    last release that printed a text, so a text removed in between and added back reads as printed all along: a
    start said right after such a gap is taken for a start too late."""
    doc, h = ctx.project.lanes_doc, history(ctx)
    if doc is None or not is_valid(doc) or h is None or not h.releases:
        return
    recorded = recorded_messages(ctx)
    if recorded is None:
        return
    order, given = list(h.releases), set(error_messages(ctx.project))
    seen = set()
    found = list(quotes(doc))
    for path, text, quote, words in found:
        if words not in recorded or words in given or (path, words) in seen or any(
                p == path and w != words and (words in w or _shared(w, words) >= 3) for p, _, _, w in found):
            continue
        seen.add((path, words))
        first, _, last = recorded[words].partition("..")
        span = Span(first, last or first)
        for clause, _, _ in said_releases(text, words):
            said = _STARTS.fullmatch(clause)
            version = said and (said.group("v") or said.group("w"))
            if not version or version not in order or not order.index(version):
                continue
            before = order[order.index(version) - 1]
            if span.holds(before):
                yield Finding(f"{path}#value", f"'{words}' is said to start in SGLang {version} ('{clause.strip()}'), "
                                               f"but {before} already printed it ({MESSAGES_LOCK}: {span})",
                              hint=f"name the first release that prints it, {span.first}", doc=doc,
                              at=_locate(doc, path, quote, 0))
