"""D7xx: findings (cards/findings/: upstream bugs without a PR) point at real code, tests and lanes.

A finding is checked like a card where the same question applies (lane, test ids, prose depth); instead of
a PR diff, its ``code`` places are checked against the installed SGLang release (skipped when SGLang is
not installed: `dossier drift` reports that case).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from dossier import prose
from dossier.drift import DriftError, locate
from dossier.lint.depth import PLACEHOLDER
from dossier.lint.links import lane_problem, missing_test, runtime_of_other_lanes
from dossier.lint.registry import Finding, rule
from dossier.model import FindingCard
from dossier.python_defs import definition_lines
from dossier.python_modules import module_exists

PROSE = ("symptom", "cause", "fix")
MIN_WORDS = 20


@rule("D701", "finding name differs from the file name", scope="finding")
def finding_file_name(finding: FindingCard, doc, ctx) -> Iterator[Finding]:
    if doc.path.stem != finding.name:
        yield Finding("name#value", f"finding {finding.name!r} is in {doc.path.name}",
                      hint=f"rename to {finding.name}.yaml")


@rule("D707", "finding's sglang is not an SGLang release (not a version, or one the release evidence does not record)",
      scope="finding")
def finding_release(finding: FindingCard, doc, ctx) -> Iterator[Finding]:
    """`sglang: not-a-release` or `sglang: 0.9.1` was printed as the release a finding was read in."""
    from dossier.lint.releases import release_lock
    from dossier.releases import is_version

    built = release_lock(ctx)[0].built
    if not is_version(finding.sglang):
        yield Finding("sglang#value", f"{finding.sglang!r} is not a release version",
                      hint="the SGLang release the finding was read in, such as 0.5.23")
    elif built and finding.sglang not in built:
        yield Finding("sglang#value", f"SGLang {finding.sglang} is not among the releases cards/evidence.lock records "
                                      f"({next(iter(built))} to {next(reversed(built))})",
                      hint="name the release the finding was read in; a newer one: `dossier releases sync && dossier "
                           "releases verify --record`")


@rule("D702", "finding lane is not defined in cards/lanes.yaml", scope="finding")
def finding_lane(finding: FindingCard, doc, ctx) -> Iterator[Finding]:
    yield from lane_problem(finding.lane, ctx)


@rule("D703", "finding reproduction does not exist", scope="finding")
def finding_reproduction(finding: FindingCard, doc, ctx) -> Iterator[Finding]:
    root = ctx.project.root
    if not finding.tests:
        yield Finding("reproduction.tests", "no test pins the failing schedule")
    for i, node in enumerate(finding.tests):
        problem = missing_test(node, root)
        if problem:
            yield Finding(f"reproduction.tests[{i}]", problem)
    if not module_exists(finding.reference, root):
        yield Finding("runtime.reference#value", f"module {finding.reference!r} not found")
        return
    source = _module_text(finding.reference, root)
    if source is not None and not re.search(rf"[\"']{re.escape(finding.variant)}[\"']", source):
        yield Finding("runtime.variant#value",
                      f"fix variant {finding.variant!r} is not named in {finding.reference}")


@rule("D706", "finding reproduction tests of another runtime lane (as D515 for a card)", scope="finding")
def finding_runtime_lane(finding: FindingCard, doc, ctx) -> Iterator[Finding]:
    yield from runtime_of_other_lanes(finding.lane, finding.reference, None, finding.tests, ctx, "reproduction.tests")


@rule("D704", "finding names SGLang code that is not there", scope="finding")
def finding_code(finding: FindingCard, doc, ctx) -> Iterator[Finding]:
    if "findings-tree" not in ctx.memo:
        try:
            ctx.memo["findings-tree"] = locate(ctx.sglang_src)
        except DriftError:
            ctx.memo["findings-tree"] = None
    index = ctx.memo["findings-tree"]
    if index is None:
        return
    if not finding.code:
        yield Finding("code", "a finding names at least one SGLang file and function")
    for i, place in enumerate(finding.code):
        text = index.text(place.file)
        if text is None:
            yield Finding(f"code[{i}].file#value", f"{place.file} is not in {index.label}")
            continue
        lines = definition_lines(text, place.function)
        if lines is None:
            yield Finding(f"code[{i}].function#value", f"no function {place.function} in {place.file}"
                          + (" (a class's method is named Class.method, and must be defined in that class)"
                             if "." in place.function else ""))
        if place.match not in text:
            yield Finding(f"code[{i}].match#value", f"{place.match!r} is not in {place.file}")
        elif lines is not None and place.match not in "\n".join(text.splitlines()[lines[0] - 1:lines[1]]):
            yield Finding(f"code[{i}].match#value", f"{place.match!r} is in {place.file}, but not inside "
                                                    f"{place.function} (lines {lines[0]}-{lines[1]})")


@rule("D705", "finding prose is a placeholder or names nothing concrete", scope="finding")
def finding_prose(finding: FindingCard, doc, ctx) -> Iterator[Finding]:
    for name in PROSE:
        text = getattr(finding, name)
        if PLACEHOLDER.search(text):
            yield Finding(f"{name}#value", f"{name} is a placeholder")
        elif len(prose.words(text)) < MIN_WORDS or len(prose.concrete_terms(text)) < 3:
            yield Finding(f"{name}#value", f"{name} is too thin to act on",
                          hint="name the files, functions, flags and the numbers that show the bug")


def _module_text(name: str, root: Path) -> str | None:
    rel = Path(*name.split("."))
    for path in (root / rel.with_suffix(".py"), root / rel / "__init__.py"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            if path.name == "__init__.py":  # a package: every module of it
                text += "".join(p.read_text(encoding="utf-8", errors="replace") for p in path.parent.glob("*.py"))
            return text
    return None
