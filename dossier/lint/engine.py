"""Run the registered rules over a project and turn their findings into positioned diagnostics."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from dossier.cards import YamlDoc
from dossier.diagnostics import Diagnostic
from dossier.errors import Unjudgeable
from dossier.lint.context import LintContext
from dossier.lint.registry import RULES, Finding, Rule
from dossier.locks import is_recorded
from dossier.model import Card, FindingCard
from dossier.project import is_valid


def run_lint(ctx: LintContext, *, select: Iterable[str] | None = None, ignore: Iterable[str] = (),
             strict: bool = False, promote: Iterable[str] = ()) -> list[Diagnostic]:
    """All findings, sorted. ``select`` limits rules by code prefix (e.g. "D2", "D301"), ``ignore`` leaves rules
    out by prefix (both in any case); ``strict`` turns warnings into errors except for strict-exempt rules, which
    ``promote`` can name."""
    promote = set(promote)
    project = ctx.project
    # only the files asked about are judged (against the whole project); rules never see the rest's findings
    docs = [d for d in [*project.docs, *project.finding_docs, project.lanes_doc]
            if d is not None and project.in_scope(d.path)]
    # each valid card is built once and shared by every card-scope rule
    cards = [(d, Card.from_data(d.data, d.path)) for d in project.valid_docs() if project.in_scope(d.path)]
    findings = [(d, FindingCard.from_data(d.data, d.path)) for d in project.checked_findings() if is_valid(d)]
    out: list[Diagnostic] = []
    for rule in chosen_rules(select, ignore):
        severity = rule.severity
        if severity == "warning" and ((strict and not rule.strict_exempt) or rule.code in promote):
            severity = "error"
        if rule.scope == "doc":
            targets = [(d, (d, ctx)) for d in docs]
        elif rule.scope == "card":
            targets = [(d, (card, d, ctx)) for d, card in cards]
        elif rule.scope == "finding":
            targets = [(d, (finding, d, ctx)) for d, finding in findings]
        else:
            targets = [(None, (ctx,))]
        for doc, args in targets:
            out.extend(_apply(rule, doc, args, severity, project))
    if project.selected is not None:  # and the locks every named card is judged against: one unread is not silent
        shown = {project.rel(p) for p in project.selected}
        out = [d for d in out if d.file in shown or _lock(d.file)]
    return sorted(set(out))


def _lock(file: str) -> bool:
    """Whether ``file`` (as diagnostics name it) is one of the project's locks under cards/."""
    return file.startswith("cards/") and "/" not in file[6:] and is_recorded(Path(file))


def code_prefix(raw: str) -> str:
    """A rule code or prefix as given (``d301``, `` D3 ``) in the registry's spelling (``D301``, ``D3``)."""
    return raw.strip().upper()


def chosen_rules(select: Iterable[str] | None = None, ignore: Iterable[str] = ()) -> list[Rule]:
    """The rules, by code, whose code starts with a ``select`` prefix (all when none) and with no ``ignore`` one."""
    chosen = tuple(map(code_prefix, select or ("",)))
    dropped = tuple(map(code_prefix, ignore))
    return [r for r in sorted(RULES.values(), key=lambda r: r.code)
            if r.code.startswith(chosen) and not (dropped and r.code.startswith(dropped))]


def split_codes(given: Iterable[str] | None) -> list[str] | None:
    """The codes or prefixes of repeated options, each also comma-separated (``D319,D343``); a value that is
    only commas stays whole, so it is refused as a code rather than read as no choice."""
    if given is None:
        return None
    return [code for raw in given for code in (raw.split(",") if raw.strip(" ,") else [raw]) if code.strip()]


def unknown_selectors(select: Iterable[str]) -> list[str]:
    """The prefixes (``--select``, ``--ignore``) that match no rule code, as given."""
    return [s for s in select if not any(code.startswith(code_prefix(s)) for code in RULES)]


def _apply(rule: Rule, doc: YamlDoc | None, args: tuple, severity: str, project) -> list[Diagnostic]:
    try:
        findings = list(rule.check(*args))
    except Unjudgeable:  # SGLang's sources or our templates, not the cards, are broken: one `error:` line (exit 2)
        raise
    except Exception as exc:  # a rule bug must not hide the other findings
        where = project.rel(doc.path) if doc else "cards"
        return [Diagnostic(where, 1, 1, "D000", f"rule {rule.code} crashed: {type(exc).__name__}: {exc}")]
    return [_position(rule, f, doc, severity, project) for f in findings]


def _position(rule: Rule, f: Finding, doc: YamlDoc | None, severity: str, project) -> Diagnostic:
    doc = f.doc or doc
    line, col = f.at or doc.where(f.path)
    return Diagnostic(project.rel(doc.path), line, col, rule.code, f.message, severity, f.hint)


def has_errors(diags: Iterable[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diags)


__all__ = ["run_lint", "has_errors", "is_valid", "chosen_rules", "unknown_selectors"]
