"""D623: a --flag or SGLANG_* env var said to default to a value today's SGLang does not give it (cards/surface.lock's
defaults, those of the newest release scanned)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.lint.claims import _locate, history, surface
from dossier.lint.flag_releases import manual_texts
from dossier.lint.registry import Finding, rule
from dossier.mentions import ENV, FLAG, find_mentions, is_sglang_command

#: words that start a phrase, not a value: "defaults to the model's choice", "default is set by the platform"
_NOT_A_VALUE = (r"(?!(?:not|now|set|the|a|an|also|still|only|then|what|whatever|its|their|this|that|same|different|is|"
                r"are|was|were|of|to|by|for|from|depends)\b)")
#: right after the name: "(default 256)", "(default: triton)", "(defaults to auto)", ", default 16", " defaults to
#: full", " whose default is off", ", which defaults to auto", "(triton or cute_dsl; default triton)"
_SAID_DEFAULT = re.compile(r"[`'\"]*(?:\s*\(\s*(?:[^();\n]{0,60}?;\s*)?|,\s*(?:(?:which|that)\s+)?|\s+)"
                           r"(?:defaults?(?:\s+(?:is|of|to))?:?|(?:whose|its|the) default(?:\s+value)? is)\s+[`'\"]?"
                           + _NOT_A_VALUE + r"(?P<value>-?[\w.+/-]*\w)"
                           r"|[`'\"]*'s\s+default(?:\s+value)?(?:\s+(?:is|of))?:?\s+[`'\"]?" + _NOT_A_VALUE
                           + r"(?P<owned>-?[\w.+/-]*\w)", re.IGNORECASE)
#: right before the name, what the default is of: "the default of `--flag` is 16", "the default value for `--flag`:
#: 16", "default `--flag` to 16384" (the value then follows the name, not a verb: "is overridden", "is now")
_DEFAULT_OF = re.compile(r"\bdefault(?:\s+value)?\s+(?:of|for)\s+(?:the\s+)?[`'\"]*$|\bdefaults?\s+[`'\"]*$", re.IGNORECASE)
_OF_VALUE = re.compile(r"[`'\"]*(?:\s+(?:is|was|to)|\s*[:=])\s+[`'\"]?(?![a-z]+(?:ed|en)\b)" + _NOT_A_VALUE
                       + r"(?P<value>-?[\w.+/-]*\w)", re.IGNORECASE)
#: right after the name, a switch's state or a number: "(off by default", ", on by default", " is disabled by default",
#: " is 128 by default", " has a default of 8"
_SAID_STATE = re.compile(r"[`'\"]*(?:\s*\(\s*|,\s*|\s+(?:is|stays|remains)\s+(?:now\s+)?)"
                         r"(?P<value>on|off|enabled|disabled|-?\d+(?:\.\d+)?)\s+by\s+default\b|"
                         # "(opt-in, CUDA)", "is opt-out": off, on unless set
                         r"[`'\"]*(?:\s*\(\s*|,\s*|\s+(?:is|stays|remains)\s+(?:now\s+)?)(?P<opted>opt-in|opt-out)\b|"
                         # "has a default of 8"
                         r"[`'\"]*\s+has\s+a\s+default(?:\s+value)?\s+of\s+(?P<had>-?[\w.+/-]*\w)", re.IGNORECASE)
#: later in the name's clause, a parenthesis holding only a default: "sets the ring length (default 16)"
_LATER_DEFAULT = re.compile(r"[`'\"]*[^();.\n`]{1,60}?\(\s*(?:defaults?(?:\s+(?:is|to))?:?)\s+"
                            r"[`'\"]?(?P<value>-?[\w.+/-]*\w)[`'\"]?\s*(?=[),;])", re.IGNORECASE)
#: right after the name, a default in square brackets, as a list that says "default in brackets" writes it:
#: "`SGLANG_GDN_CHUNK_H_NUM_WARPS` [4]", "`SGLANG_MAMBA_SSM_DTYPE` [unset]" (not a Markdown link: "[text](url)")
#: (not a type tag: "`--mamba-track-interval` [int]")
_BRACKETED = re.compile(r"[`'\"]*\s+\[(?!(?:int|str|float|bool|list|dict|tuple|bytes)\])(?P<value>-?[\w.+/-]*\w)\](?!\()")
#: one state or value given to several names at once: "`--a` and `--b` are both off by default", "(...; it and `X` are
#: both on by default)", "neither `--a` nor `--b` is on by default", "`--a` and `--b` both default to triton"
_SHARED_STATE = re.compile(r"\b(?P<which>both|all|neither)\b(?:[^.;()]{0,30}?\b(?P<state>on|off|enabled|disabled)\s+by\s+"
                           r"default\b|\s+default\s+to\s+[`'\"]?" + _NOT_A_VALUE + r"(?P<value>-?[\w.+/-]*\w))",
                           re.IGNORECASE)
#: right after the name, a value said to hold when the flag is left out: "(0.9 when unset", "(triton unless set",
#: ", off if not given"
_SAID_UNSET = re.compile(r"[`'\"]*\s*[(,]\s*[`'\"]?(?P<unset>-?[\w.+/-]*\w)[`'\"]?\s+(?:(?:when|if|while)\s+(?:unset|"
                         r"not\s+(?:set|given|passed)|omitted|absent|left\s+(?:unset|out))|unless\s+(?:set|given|passed))\b",
                         re.IGNORECASE)
#: right after the name, a bare value and "by default", not tied to a condition: "`--hicache-mem-layout` page_first
#: by default" (not "... flashinfer by default on SM100")
_SAID_CHOSEN = re.compile(r"[`'\"]*\s+[`'\"]?(?P<chosen>-?[\w.+/-]*\w)[`'\"]?\s+by\s+default\b(?!\s+(?:on|when|with|"
                          r"for|under|if|in|unless|except|from|since|where|once)\b)", re.IGNORECASE)
#: right after the value, a condition it holds under: "defaults to on for MiniMax-M2", "(default off on ROCm", "triton
#: by default with MTP" (a model's override, a platform's or a feature's choice: not the flag's own default)
_UNSET_AFTER = (r"[`'\"]?\s+(?:(?:when|if|while)\s+(?:unset|not\s+(?:set|given|passed)|omitted|absent|left\s+(?:unset|out))|"
                r"unless\s+(?:set|given|passed))\b")
_CONDITIONED = re.compile(rf"(?!{_UNSET_AFTER})[`'\"]?\s+(?:for|on|with|when|under|if|unless|except|where|once|given)\b",
                          re.IGNORECASE)
#: right after the value, words that say it holds while the flag is left out: "defaults to 0.9 when unset"
_UNSET_SAID = re.compile(_UNSET_AFTER, re.IGNORECASE)
#: what follows the value up to the end of its phrase: a release there ("(default 8 in 0.5.14)") dates the value
_PHRASE_REST = re.compile(r"(?:[^);.\n]|\.(?=\w)){0,60}")
_RELEASE = re.compile(r"\d+\.\d+\.\d+")
_SAME = {"on": "true", "enabled": "true", "yes": "true", "1": "true", "true": "true",
         "off": "false", "disabled": "false", "no": "false", "0": "false", "false": "false",
         "none": "none", "unset": "none", "null": "none", "opt-in": "false", "opt-out": "true"}


def _normal(value: str) -> str:
    value = value.strip("`'\" ").lower()
    try:  # "1" and "1.0" are one number, not a switch's "true"
        return repr(float(value))
    except ValueError:
        return _SAME.get(value, value)


def _a_value(value: str, choices) -> bool:
    """Whether a word read as a default around a name ("the default of `--x` is fine") can be one: a number, a
    switch's state, none, or one of the flag's choices."""
    word = value.strip("`'\" ").lower()
    return bool(re.fullmatch(r"-?\d+(?:\.\d+)?", word)) or word in _SAME or word in (choices or ())


@rule("D623", "a --flag or SGLANG_*/SGL_* env var said to default to a value that today's SGLang's default contradicts "
              "(cards/surface.lock)", scope="project")
def wrong_default(ctx) -> Iterator[Finding]:
    """"`--linear-attn-backend` (default flashinfer)" where 0.5.23 defaults it to triton: a reader launches with a
    wrong assumption and no parse error tells. Judged right after the name ("(default X)", ", default X", "defaults
    to X", "whose default is X", "'s default is X", "(off by default", "is on by default", "(opt-in", "`NAME` [X]" as
    a list with defaults in brackets writes it, "(X when unset", "(X unless set", "`--flag` X by default" with no
    condition after it), around it ("the default
    of `--flag` is X", "default `--flag` to X"), or in a parenthesis of only the default
    later in the name's clause before any other name ("sets the ring length (default 16)"), in every text the
    manual is rendered from, against the defaults cards/surface.lock records for the newest release scanned;
    on/enabled/1/true and off/disabled/0/false read alike, none/unset alike. A state given to several names at
    once ("`--a` and `--b` are both off by default", "...; it and `X` are both on by default") is judged for each of
    them. Not judged: a name marked historical, a default dated by a release in its own phrase ("(default 8 in 0.5.14)"),
    a value followed by a condition ("defaults to on for MiniMax-M2", "(default off on ROCm": a model's override or a
    platform's choice), a name the lock records no default for or a default of None (resolved at startup:
    "`--cuda-graph-backend-decode` defaults to full" is what that resolution gives, and a model's override may set
    it), except in the shape that says the flag is left unset ("(X when unset", "(X unless set", "(X if not given")
    where today's source declares the value such a field resolves to when no hook sets it
    (``Arg(fallback=0.9)``: "`--mamba-full-memory-ratio` (0.8 when unset" is judged against 0.9; "defaults to 0.8"
    is not). A word read as the value in the new shapes must be one: a number, a state, a choice."""
    past = history(ctx)
    if past is None or not past.defaults:
        return
    newest = past.releases[-1] if past.releases else None
    today = surface(ctx)
    for doc, path, text, historical in manual_texts(ctx.project):
        seen: dict[str, int] = {}
        mentions = find_mentions(text)
        for i, m in enumerate(mentions):
            if m.kind not in (FLAG, ENV) or (m.kind == FLAG and not is_sglang_command(m.command)):
                continue
            n = seen[m.raw] = seen.get(m.raw, -1) + 1
            recorded = past.defaults.get(m.text)
            flag = today.flags.get(m.text) if today is not None and m.kind == FLAG else None
            if recorded is None or m.historical or historical:
                continue
            end = m.start + len(m.raw)
            next_name = mentions[i + 1].start if i + 1 < len(mentions) else len(text)
            said = (_SAID_DEFAULT.match(text, end) or _SAID_STATE.match(text, end) or _BRACKETED.match(text, end)
                    or _SAID_UNSET.match(text, end) or _SAID_CHOSEN.match(text, end)
                    or _LATER_DEFAULT.match(text, m.end, next_name)
                    or (_OF_VALUE.match(text, end) if _DEFAULT_OF.search(text, max(0, m.start - 40), m.start)
                        else None))
            if said is None or _CONDITIONED.match(text, said.end()):
                continue
            # a field a hook resolves (default None) falls back to its Arg(fallback=...) only when nothing sets it,
            # which only "(X when unset" says; "defaults to X" may be what a model's or platform's hook gives
            unset = said.re is _SAID_UNSET or _UNSET_SAID.match(text, said.end()) is not None
            fallback = _normal(recorded) == "none" and unset and flag is not None and flag.fallback is not None
            recorded = flag.fallback if fallback else recorded
            if _normal(recorded) == "none":
                continue
            value = next(v for k in ("value", "owned", "had", "opted", "unset", "chosen") if (v := said.groupdict().get(k)))
            around = said.re is _OF_VALUE or said.groupdict().get("value") is None
            if around and not _a_value(value, flag.choices if flag else None):
                continue  # "the default of `--x` is fine", "`--x`'s default is only a fallback"
            rest = _PHRASE_REST.match(text, said.end())[0]
            if any(r != newest for r in _RELEASE.findall(rest)):
                continue
            if _normal(value) != _normal(recorded):
                given = (f"{today.tree.version} resolves it to {recorded} when unset (its Arg fallback)" if fallback
                         else f"{newest} defaults it to {recorded} (cards/surface.lock)")
                yield Finding(path, f"{m.text} is said to default to {value}, but SGLang {given}",
                              hint="write the default the newest release gives, or name the release the value is "
                                   "from", doc=doc, at=_locate(doc, path, m.raw, n))
        for name, state in _shared_states(text, mentions):
            recorded = past.defaults.get(name.text)
            if recorded is not None and _normal(recorded) != "none" and not (name.historical or historical) \
                    and _normal(recorded) != _normal(state):
                yield Finding(path, f"{name.text} is said to be {state} by default with the names beside it, but SGLang "
                                    f"{newest} defaults it to {recorded} (cards/surface.lock)",
                              hint="give each name its own default", doc=doc,
                              at=_locate(doc, path, name.raw, text.count(name.raw, 0, name.start)))


def _shared_states(text: str, mentions) -> Iterator[tuple[object, str]]:
    """(name, state) for each flag or env var of a clause giving two or more of them one default state or value: the
    names after the clause's opening (a parenthesis, ';' or the sentence start), "it" being the name right before
    it."""
    names = [m for m in mentions if m.kind in (FLAG, ENV)]
    for said in _SHARED_STATE.finditer(text):
        start = max(text.rfind(c, 0, said.start()) for c in "(;.")
        inside = [m for m in names if start < m.start < said.start()]
        if re.match(r"[(;.]?\s*it and\b", text[max(start, 0):], re.IGNORECASE):
            inside = [m for m in names if m.start < start][-1:] + inside
        neither = said.group("which").lower() == "neither"
        state = said.group("value") or ("off" if neither else said.group("state"))
        if len(inside) >= 2 and not (neither and said.group("value")):
            yield from ((m, state) for m in inside)
