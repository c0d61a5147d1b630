"""D644: a refusal quoted with the flag it is said to need ("Without `--dp-size` the flag stops at startup:
'... requires attention DP (--attn-dp-size).'") where the message names other flags, not that one."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.lint.claims import _locate, surface
from dossier.lint.error_sources import QUOTE
from dossier.lint.flag_releases import manual_texts
from dossier.lint.registry import Finding, rule
from dossier.mentions import FLAG, find_mentions, is_sglang_command

#: right before the flag, the words that make it what the refusal asks for: "without", "unless", "requires", "needs"
_CONDITION = re.compile(r"\b(?:without|unless|requires?|needs?)\s+[`'\"]*$", re.IGNORECASE)
#: between the flag and the quote, in one clause: a verb of refusal ("the flag stops at startup:", "it is refused
#: with", "the launch fails:")
_REFUSED = re.compile(r"^[^.;,()'\"]{0,80}?\b(?:stops|fails|is refused|is rejected|raises|exits|aborts|errors out)\b"
                      r"[^.;,()'\"]{0,40}$", re.IGNORECASE)
_NAMED = re.compile(r"--[a-z0-9][a-z0-9-]*")


@rule("D644", "a quoted startup refusal said to come without (unless, requiring) a --flag that its message does not "
              "name, while it names others", scope="project", severity="warning")
def refusal_names_another_flag(ctx) -> Iterator[Finding]:
    """"Without `--dp-size` the flag stops at startup: 'AssertionError: --enable-dp-lm-head requires attention DP
    (--attn-dp-size).'": the message SGLang prints names the flag it asks for, and a reader who adds the one the
    manual names still gets the refusal. Judged: a flag of today's SGLang after "without", "unless", "requires" or
    "needs", then in the same clause (no comma, semicolon, parenthesis or sentence end) a verb of refusal ("stops",
    "fails", "is refused", "raises"...) and the quote, whose message names one or more --flags but not this one,
    neither as --flag nor as its field (`speculative_num_steps` for `--speculative-num-steps`). Not
    judged: a message that names no flag, a deprecated flag whose replacement the message names
    (`--enable-dp-attention` for `--attn-dp-size`), a flag inside a quote, a text marked historical."""
    today = surface(ctx)
    if today is None:
        return
    for doc, path, text, historical in manual_texts(ctx.project):
        if historical or "'" not in text:
            continue
        quotes = list(QUOTE.finditer(text))
        seen: dict[str, int] = {}
        for m in find_mentions(text):
            if m.kind != FLAG:
                continue
            n = seen[m.raw] = seen.get(m.raw, -1) + 1
            if not is_sglang_command(m.command) or m.text not in today.flags or m.historical \
                    or any(q.start() < m.start < q.end() for q in quotes) \
                    or not _CONDITION.search(text, max(0, m.start - 12), m.start):
                continue
            q = next((q for q in quotes if q.start() > m.start), None)
            after = m.end
            if q is None or not _REFUSED.match(text[after:q.start()].lstrip("`'\"")):
                continue
            named = list(dict.fromkeys(_NAMED.findall(q.group(1))))
            instead = _NAMED.findall(today.flags[m.text].deprecated)  # "--enable-dp-attention": use --attn-dp-size
            field = today.flags[m.text].field  # "speculative_num_steps must be ...": the flag named as its field
            if named and m.text not in named and not set(instead) & set(named) \
                    and not re.search(rf"(?<![\w-]){field}(?!\w)", q.group(1)):
                yield Finding(path, f"the refusal quoted after {m.text} names {', '.join(named)}, not {m.text}: "
                                    f"'{q.group(1)[:80]}'",
                              hint="name the flag the message asks for", doc=doc, at=_locate(doc, path, m.raw, n))
