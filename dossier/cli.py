"""The `dossier` command line: parses options, calls the modules, sets exit codes.

Exit codes (every command): 0 success / clean, 1 findings or failures, 2 usage or environment error.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from dossier.project import Project, ProjectError, find_root

app = typer.Typer(
    help="Build, check and render the PR-diff-backed Qwen3-Next optimization manual.\n\n"
    "Exit codes: 0 clean, 1 findings or failures, 2 usage or environment error.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_show_locals=False,
)
out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

USAGE = 2


class Format(str, Enum):
    text = "text"
    json = "json"
    github = "github"


RootOpt = Annotated[
    Optional[Path], typer.Option("--root", help="Project root (default: nearest dir whose pyproject has [tool.dossier]).")
]


def _project(root: Path | None, paths: list[Path] | None = None) -> Project:
    try:
        return Project.load(root or find_root(), paths)
    except ProjectError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(USAGE) from None


def _not_landed(command: str, issue: int) -> None:
    err.print(f"error: `dossier {command}` is not implemented yet (tracked in issue {issue}); nothing was done.")
    raise typer.Exit(USAGE)


@app.command()
def fetch(
    prs: Annotated[Optional[list[int]], typer.Argument(help="PR numbers to fetch.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Fetch every PR a card cites.")] = False,
    repo: Annotated[Optional[str], typer.Option(help="OWNER/NAME (default: [tool.dossier] repo).")] = None,
    source: Annotated[str, typer.Option(help="github or git.")] = "github",
    git_repo: Annotated[Optional[Path], typer.Option("--git-repo", help="Local clone for --source git.")] = None,
    import_: Annotated[Optional[Path], typer.Option("--import", help="Bring a saved .diff into the cache.")] = None,
    cache_dir: Annotated[Optional[Path], typer.Option("--cache-dir", help="Cache directory.")] = None,
    refresh: Annotated[bool, typer.Option(help="Fetch again even when cached.")] = False,
    jobs: Annotated[int, typer.Option(help="Concurrent fetches.")] = 4,
    root: RootOpt = None,
) -> None:
    """Fetch PR metadata and diffs (GitHub, a local clone, or a saved diff) into the cache."""
    _not_landed("fetch", 3)


@app.command()
def lint(
    paths: Annotated[Optional[list[Path]], typer.Argument(help="Card files or directories (default: cards/).")] = None,
    strict: Annotated[bool, typer.Option(help="Treat warnings as errors.")] = False,
    fmt: Annotated[Format, typer.Option("--format", help="text, json or github annotations.")] = Format.text,
    select: Annotated[Optional[list[str]], typer.Option(help="Only rules whose code starts so (repeatable).")] = None,
    list_rules: Annotated[bool, typer.Option("--list-rules", help="List rule codes and exit.")] = False,
    root: RootOpt = None,
) -> None:
    """Check cards: schema, depth of prose, state/status, links and coverage."""
    from dossier.lint import RULES, LintContext, has_errors, run_lint

    if list_rules:
        for code, rule in sorted(RULES.items()):
            out.print(f"{code}  {rule.family:<9} {rule.severity:<7} {rule.summary}")
        return
    project = _project(root, paths)
    diags = run_lint(LintContext(project), select=select, strict=strict)
    from dossier.diagnostics import format_diagnostics, summarize

    if diags:
        print(format_diagnostics(diags, fmt.value))
    if fmt is Format.text:
        counts = summarize(diags)
        n = len(project.docs)
        err.print(f"{n} card(s) checked: {counts['error']} error(s), {counts['warning']} warning(s)")
    raise typer.Exit(1 if has_errors(diags) else 0)


@app.command()
def render(
    check: Annotated[bool, typer.Option(help="Exit 1 naming stale outputs instead of writing.")] = False,
    root: RootOpt = None,
) -> None:
    """Render SKILL.md and references/ from the cards (deterministic)."""
    from dossier.render import RenderInput, render_documents, stale_documents, write_documents

    project = _project(root)
    if not project.cards:
        err.print("error: no valid cards to render (run `dossier lint` to see why)")
        raise typer.Exit(USAGE)
    docs = render_documents(RenderInput(project))
    if check:
        stale = stale_documents(docs, project.root)
        for rel in stale:
            out.print(f"stale: {rel}")
        if stale:
            err.print("run `dossier render` and commit the result")
            raise typer.Exit(1)
        err.print(f"up to date: {', '.join(docs)}")
        return
    written = write_documents(docs, project.root)
    err.print(f"wrote {', '.join(written)}" if written else "nothing changed")


@app.command()
def drift() -> None:
    """Are the key fragments of current cards still in today's SGLang source?"""
    _not_landed("drift", 4)


@app.command()
def regress() -> None:
    """Run each card's runtime tests and benchmark (GPU or CPU) and store results."""
    _not_landed("regress", 9)


@app.command()
def show(
    pr: Annotated[int, typer.Argument(help="PR number.")],
    root: RootOpt = None,
) -> None:
    """Print one card."""
    from dossier.show import print_card

    project = _project(root)
    card = project.card(pr)
    if card is None:
        err.print(f"error: no valid card for #{pr} (see `dossier lint cards/{pr}.yaml`)")
        raise typer.Exit(1)
    print_card(card, project, out)


@app.command()
def new(
    pr: Annotated[int, typer.Argument(help="PR number.")],
    title: Annotated[Optional[str], typer.Option(help="PR title (default: from the fetch cache).")] = None,
    state: Annotated[Optional[str], typer.Option(help="merged, open or closed.")] = None,
    merged_at: Annotated[Optional[str], typer.Option("--merged-at", help="YYYY-MM-DD.")] = None,
    lane: Annotated[str, typer.Option(help="Lane id from cards/lanes.yaml.")] = "",
    root: RootOpt = None,
) -> None:
    """Scaffold cards/PR.yaml from known facts; the prose is left for you to write."""
    from dossier.scaffold import ScaffoldError, scaffold_card

    project = _project(root)
    try:
        path = scaffold_card(project, pr, title=title, state=state, merged_at=merged_at, lane=lane)
    except ScaffoldError as exc:
        err.print(f"error: {exc}")
        raise typer.Exit(USAGE) from None
    err.print(f"wrote {project.rel(path)}: fill in motivation, implementation, key_fragment, validation")


@app.command()
def schema(
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to a file instead of stdout.")] = None,
) -> None:
    """Print the card schema as JSON Schema (for editors)."""
    from dossier.model import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if output:
        output.write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    app()
