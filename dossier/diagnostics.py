"""What lint reports: a finding at a file position, with a rule code, and how it prints."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

from dossier.json_out import dumps
from dossier.terminal import visible

SEVERITIES = ("error", "warning")


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding. Sorted by file, then position, then code."""

    file: str
    line: int
    col: int
    code: str
    message: str
    severity: str = "error"
    hint: str | None = None

    def text(self) -> str:
        out = f"{self.file}:{self.line}:{self.col}: {self.code} {self.message}"
        if self.severity != "error":
            out += f" [{self.severity}]"
        if self.hint:
            out += f"\n    hint: {self.hint}"
        return visible(out)

    def github(self) -> str:
        """A GitHub Actions workflow command (annotation)."""
        level = "error" if self.severity == "error" else "warning"
        msg = f"{self.code} {self.message}" + (f" (hint: {self.hint})" if self.hint else "")
        return visible(f"::{level} file={_escape(self.file, in_property=True)},line={self.line},col={self.col},"
                       f"title={self.code}::{_escape(msg)}")


def _escape(text: str, *, in_property: bool = False) -> str:
    """``text`` for a workflow command: '%' and line breaks escaped, and in a property also ',' and ':'."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if in_property else text


def format_diagnostics(diags: Sequence[Diagnostic], fmt: str) -> str:
    """Render findings as text, json or github annotations."""
    if fmt == "json":
        return dumps([asdict(d) for d in diags], indent=2)
    if fmt == "github":
        return "\n".join(d.github() for d in diags)
    return "\n".join(d.text() for d in diags)


def fold_warnings(diags: Sequence[Diagnostic], code: str, fmt: str, what: str, hint: str) -> tuple[list, str]:
    """``diags`` without the ``code`` warnings, and one summary line counting them in ``fmt`` ("" when none);
    errors under ``code`` stay listed."""
    folded = [d for d in diags if d.code == code and d.severity == "warning"]
    if not folded:
        return list(diags), ""
    message = f"{len(folded)} {what}"
    line = (f"::warning title={code}::{message} (hint: {hint})" if fmt == "github"
            else f"{code} {message} [warning]\n    hint: {hint}")
    return [d for d in diags if d not in set(folded)], line


def summarize(diags: Iterable[Diagnostic]) -> dict[str, int]:
    counts = {s: 0 for s in SEVERITIES}
    for d in diags:
        counts[d.severity] += 1
    return counts
