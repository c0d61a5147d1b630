"""Rule registry: every rule has a code, a family, a one-line summary and a default severity.

Rules come in three scopes, by what they look at:
  doc      every card or lanes document, even one that does not parse (schema family)
  card     each schema-valid card with its document (for positions)
  finding  each schema-valid finding (cards/findings/: an upstream bug without a PR) with its document
  project  the whole project at once (cross-card links, coverage)
A check yields :class:`Finding` objects; the engine turns them into positioned diagnostics.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple

from dossier.cards import YamlDoc

FAMILIES = {
    "D1": "schema",
    "D2": "depth",
    "D3": "evidence",
    "D4": "state",
    "D5": "links",
    "D6": "claims",
    "D7": "findings",
}


class Finding(NamedTuple):
    """What a rule found: the dotted YAML path it concerns, a message, an optional hint.

    ``doc`` is needed only by project-scope rules (which document the finding is in);
    ``at`` overrides the position (line, col) when a rule knows it better than the path does.
    """

    path: str
    message: str
    hint: str | None = None
    doc: YamlDoc | None = None
    at: tuple[int, int] | None = None


@dataclass(frozen=True)
class Rule:
    code: str
    summary: str
    scope: str
    severity: str
    check: Callable[..., Iterable[Finding]]
    #: not promoted by --strict (e.g. evidence that cannot be fetched here has its own --strict-evidence)
    strict_exempt: bool = False

    @property
    def family(self) -> str:
        return FAMILIES[self.code[:2]]


RULES: dict[str, Rule] = {}


def rule(code: str, summary: str, *, scope: str, severity: str = "error", strict_exempt: bool = False):
    """Register a check under ``code``."""

    def register(fn: Callable[..., Iterable[Finding]]):
        if code in RULES:
            raise ValueError(f"rule {code} registered twice")
        RULES[code] = Rule(code, summary, scope, severity, fn, strict_exempt)
        return fn

    return register
