"""`dossier show`: one card, readable in a terminal."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dossier.model import Card
from dossier.project import Project

STATUS_STYLE = {"current": "green", "superseded": "yellow", "reverted": "red", "candidate": "cyan",
                "adjacent": "magenta"}


def print_card(card: Card, project: Project, console: Console, notes: list[str] = ()) -> None:
    """The card as a panel; ``notes`` are the recorded evidence/drift/GPU lines (markdown)."""
    head = Text.assemble(
        (f"#{card.pr} ", "bold"), (card.title, "bold"), "\n",
        (card.status, STATUS_STYLE[card.status]), f" · {card.state}",
        f" {card.merged_at}" if card.merged_at else "", f" · lane {card.lane}",
        f" · https://github.com/{project.repo}/pull/{card.pr}",
    )
    if card.superseded_by:
        head.append(f"\n{card.status} by " + ", ".join(f"#{n}" for n in card.superseded_by), "yellow")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()

    def row(name: str, value: str | Text) -> None:  # card text is shown as written, never read as markup
        facts.add_row(Text(name), value if isinstance(value, Text) else Text(value))

    row("Motivation", card.motivation)
    row("Implementation", card.implementation)
    kf = card.key_fragment
    row("Key fragment", Text.assemble((kf.file, "cyan"), "  ", (kf.match, "bold"), "\n", kf.explain))
    for group, paths in card.files.items():
        if paths:
            row(f"Files ({group})", "\n".join(paths))
    if card.claims:
        row("Claims", "\n".join(f"- {c}" for c in card.claims))
    if card.validation_lanes:
        row("Validate on", "\n".join(f"- {v}" for v in card.validation_lanes))
    rt = card.runtime
    row("Runtime", f"none: {rt.none}" if rt.none else
        f"{rt.reference}\nbench: python -m {rt.bench}\n" + "\n".join(rt.tests))
    if card.corrections:
        row("Corrections", "\n".join(f"- {c}" for c in card.corrections))
    if notes:
        row("Recorded", "\n".join(n.replace("**", "").replace("`", "") for n in notes))
    console.print(Panel(Group(head, Text(""), facts), title=Text(project.rel(card.path)), expand=True))
