"""D618: a --flag or SGLANG_* env var given to a release that did not have it (cards/surface.lock's spans)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.lint.claims import _field_texts, _locate, history
from dossier.lint.registry import Finding, rule
from dossier.lint.releases import version_key
from dossier.mentions import ENV, FLAG, find_mentions, is_sglang_command
from dossier.model import Card

_VERSION = r"v?(\d+\.\d+\.\d+(?:\.post\d+)?)(?![\w.]*\d)"
#: "`--flag` from 0.5.17", "--flag (added in SGLang 0.5.17)": the release the name is said to start in
_SINCE = re.compile(r"[`'\"]*\s*\(?(?:from|since|added in|introduced in|new in|first in|available from|available "
                    rf"since)\s+(?:SGLang\s+)?{_VERSION}", re.IGNORECASE)
#: "On SGLang 0.5.12, start the server with ...", "on 0.5.12: python -m ...": the release a command or setting
#: is given for
_ON = re.compile(rf"\b(?:in|on|with|for|under)\s+(?:SGLang\s+)?{_VERSION}\s*[,:]?", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[;.!?](?:\s|$)|->|\u2192|\bthen\b|\bbefore\b|\bafter\b|\buntil\b|\bup to\b|\bsince\b"
                         r"|\bfrom\b|\bremoved\b|\brenamed\b", re.IGNORECASE)


@rule("D618", "a --flag or SGLANG_* env var said to start in, or given for, a release that did not have it "
              "(cards/surface.lock)", scope="card")
def name_of_another_release(card: Card, doc, ctx) -> Iterator[Finding]:
    """"`--linear-attn-verify-backend` from 0.5.12" or "On SGLang 0.5.12, start the server with
    --linear-attn-verify-backend triton" when the flag first shipped in 0.5.17: a reader on 0.5.12 gets a parse
    error. Judged only in those two forms: right after the name ("from/since/added in V"), or a clause that
    opens "in/on/with SGLang V" and then hands the name over with no other release, arrow or time word between;
    a name the surface lock does not know is D601's/D603's, and a release it did not scan is not judged."""
    past = history(ctx)
    if past is None or not past.releases:
        return
    scanned = set(past.releases)
    for path, text in _field_texts(doc.data):
        opens = [(m.end(), m.group(1)) for m in _ON.finditer(text) if m.group(1) in scanned]
        seen: dict[str, int] = {}
        for m in find_mentions(text):
            if m.kind not in (FLAG, ENV) or (m.kind == FLAG and not is_sglang_command(m.command)):
                continue
            n = seen[m.raw] = seen.get(m.raw, -1) + 1
            span = past.span("flags" if m.kind == FLAG else "env", m.text)
            if span is None:
                continue
            said = []
            after = _SINCE.match(text, m.start + len(m.raw) + (len(m.value) + 1 if m.value else 0))
            if after and after.group(1) in scanned:
                said.append((after.group(1), "said to start in"))
            if not m.historical:
                said += [(v, "given for") for end, v in opens
                         if end <= m.start and not _CLAUSE_END.search(text, end, m.start)]
            for version, how in said:
                if version_key(version) < version_key(span.first) or version_key(version) > version_key(span.last):
                    when = (f"first shipped in {span.first}" if version_key(version) < version_key(span.first)
                            else f"last shipped in {span.last}")
                    yield Finding(path, f"{m.text} is {how} SGLang {version}, but it {when} (releases with it: "
                                        f"{span})", hint=f"name a release from {span}, or mark it historical",
                                  at=_locate(doc, path, m.raw, n))
