"""D634: a --flag or SGLANG_* env var said to start in a release ("`--mamba-backend` (from 0.5.10)") when the release
before it already had it (cards/surface.lock's spans)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.lint.claims import _locate, history
from dossier.lint.flag_releases import _VERSION, _version, manual_texts
from dossier.lint.registry import Finding, rule
from dossier.mentions import ENV, FLAG, find_mentions, is_sglang_command

#: right after the name (and its value), in parentheses, the release it starts in: "`--flag` (from 0.5.18)",
#: "`--flag N` (since 0.5.19;", "`--flag` (new in 0.5.17,", "`SGLANG_X` (0.5.17+)"
_STARTS = re.compile(r"[`'\"]*\s*\(\s*(?:(?:from|since|new in|added in|introduced in|first in)\s+(?:SGLang\s+)?"
                     + _VERSION + r"|(?:SGLang\s+)?" + _VERSION + r"\+)\s*(?=[,;)])", re.IGNORECASE)
#: the words right before the name that make the parenthesis date something else: "the same refusal with `--flag`
#: (from 0.5.21)" dates the refusal of the pair, not the flag
_PAIRED = re.compile(r"\b(?:with|without|under|plus|and|or)\s+[`'\"]*$", re.IGNORECASE)


def _quoted(text: str, at: int) -> bool:
    """Whether position ``at`` lies inside a single-quoted message of ``text`` (a quote opens after a space or an
    opening bracket and closes before a space, punctuation or a closing bracket; "0.5.23's" opens none)."""
    opens = [m.start() for m in re.finditer(r"(?:(?<=^)|(?<=[\s(\[]))'(?=\S)", text[:at])]
    if not opens:
        return False
    close = re.search(r"(?<=\S)'(?=[\s,;:.)\]]|$)", text[opens[-1] + 1:])
    return close is None or opens[-1] + 1 + close.start() >= at


@rule("D634", "a --flag or SGLANG_*/SGL_* env var said to start in a release (`--flag` (from V)) that the release "
              "before V already had (cards/surface.lock)", scope="project")
def flag_started_later(ctx) -> Iterator[Finding]:
    """"`--mamba-backend` (from 0.5.10)" where 0.5.9 already parses it: a reader on 0.5.9 drops a flag that works
    there, and the boundary the manual gives for an upgrade is wrong. D618 catches a start release that lacks the
    name; this one the other way, a start too late. Only the tightest phrasing is judged: a parenthesis right after
    the name (and its value) that opens on a start word and a release, "(from V", "(since V", "(new in V", "(added
    in V", "(first in V", "(V+", closed there or by a comma or semicolon; and only where the release scanned just
    before V had the name (surface lock). Not judged: a name inside a quoted message, one paired with another
    setting by the words before it ("the same refusal with `--flag` (from V)" dates the pairing), one marked
    historical, a name the lock does not know."""
    past = history(ctx)
    if past is None or not past.releases:
        return
    order = list(past.releases)
    for doc, path, text, historical in manual_texts(ctx.project):
        if historical:
            continue
        seen: dict[str, int] = {}
        for m in find_mentions(text):
            if m.kind not in (FLAG, ENV) or (m.kind == FLAG and not is_sglang_command(m.command)):
                continue
            n = seen[m.raw] = seen.get(m.raw, -1) + 1
            if m.historical:
                continue
            end = m.end
            said = _STARTS.match(text, end)
            if said is None or _PAIRED.search(text, max(0, m.start - 12), m.start) or _quoted(text, m.start):
                continue
            version = _version(said)
            span = past.span("flags" if m.kind == FLAG else "env", m.text)
            if span is None or version not in order or order.index(version) == 0 or not span.holds(version):
                continue
            before = order[order.index(version) - 1]
            if span.holds(before):
                yield Finding(path, f"{m.text} is said to start in SGLang {version}, but {before} already had it "
                                    f"(first shipped in {span.first}; releases with it: {span})",
                              hint=f"name the first release with it, {span.first}", doc=doc,
                              at=_locate(doc, path, m.raw, n))


_NAME = r"`(?P<{0}>--[a-z0-9][a-z0-9-]*|SGLANG_[A-Z0-9_]+)`"
#: a rename dated to a release: "0.5.14 renamed `--old` to `--new`", "`--old` (renamed `--new` in 0.5.14",
#: "`--old`, renamed to `--new` in 0.5.14", "`--old` became `--new` in 0.5.14"
_RENAMES = (re.compile(r"(?<![\w.])(?P<version>\d+\.\d+\.\d+(?:\.post\d+)?)\s+renamed\s+" + _NAME.format("old")
                       + r"\s+to\s+" + _NAME.format("new")),
            re.compile(_NAME.format("old") + r"\s*(?:\(|,)?\s*(?:was\s+)?(?:renamed(?:\s+to)?|became)\s+"
                       + _NAME.format("new") + r"\s+in\s+(?:SGLang\s+)?(?P<version>\d+\.\d+\.\d+(?:\.post\d+)?)"
                       r"(?![\w.]*\d)"))


@rule("D636", "a --flag or SGLANG_*/SGL_* env var rename dated to a release in which the new name did not first ship "
              "(cards/surface.lock)", scope="project")
def rename_dated_wrong(ctx) -> Iterator[Finding]:
    """"0.5.15 renamed `--mamba-scheduler-strategy` to `--mamba-radix-cache-strategy`" where the new name first
    parses in 0.5.14: a reader upgrading to 0.5.14 keeps the old spelling, or one on 0.5.14 is told the new one
    does not parse yet. A rename written with both names and its release ("V renamed `--old` to `--new`", "`--old`
    (renamed `--new` in V", "`--old`, renamed to `--new` in V", "`--old` became `--new` in V") must be dated to the
    first release that had the new name (the old one may stay on as a deprecated alias, so its last release is not
    judged), and the release before it must have had the old one. Not judged: a name the lock does not know, a
    release it did not scan, a text marked historical."""
    past = history(ctx)
    if past is None or not past.releases:
        return
    order = list(past.releases)
    for doc, path, text, historical in manual_texts(ctx.project):
        if historical or "renamed" not in text and "became" not in text:
            continue
        for pattern in _RENAMES:
            for m in pattern.finditer(text):
                version, old, new = m.group("version"), m.group("old"), m.group("new")
                kind = "flags" if old.startswith("--") else "env"
                was, now = past.span(kind, old), past.span(kind, new)
                if was is None or now is None or version not in order:
                    continue
                before = order[order.index(version) - 1] if order.index(version) else None
                if now.first != version or before is None or not was.holds(before):
                    yield Finding(path, f"dates the rename of {old} to {new} to SGLang {version}, but {new} first "
                                        f"shipped in {now.first} (releases with it: {now}; with {old}: {was})",
                                  hint=f"date the rename to {now.first}", doc=doc,
                                  at=_locate(doc, path, m.group(0), 0))
