"""Lint engine and rule families. Importing this package registers every rule."""

from dossier.lint import (  # noqa: F401  (registration)
    added_names,
    checked,
    claim_releases,
    claims,
    code_names,
    constants,
    depth,
    drift_words,
    error_sources,
    evidence,
    figures,
    findings,
    flag_defaults,
    flag_releases,
    github_facts,
    gone_today,
    lane_names,
    links,
    manual_links,
    measured_pairs,
    measured_setup,
    multiples,
    name_files,
    named_counts,
    paths,
    pr_links,
    release_lines,
    releases,
    reversed_change,
    schema,
    shipped_files,
    slips,
    sm_generations,
    state,
    templates,
    today_place,
    urls,
)
from dossier.lint.context import LintContext
from dossier.lint.engine import has_errors, run_lint
from dossier.lint.registry import RULES

__all__ = ["RULES", "LintContext", "has_errors", "run_lint"]
