"""`dossier show` and `dossier findings`: one card or finding, readable in a terminal."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from dossier.model import Card, FindingCard
from dossier.project import Project
from dossier.terminal import visible

STATUS_STYLE = {"current": "green", "superseded": "yellow", "reverted": "red", "candidate": "cyan",
                "adjacent": "magenta"}


#: one ASCII character for a typographic one a console cannot write (one for one: the styled spans stay in place)
_ASCII = {"·": "-", "–": "-", "—": "-", "‘": "'", "’": "'", "“": '"', "”": '"', "…": ".", "×": "x", "→": ">"}


def shown(value: str | Text, encoding: str = "utf-8") -> Text:
    """Card or finding text as a Text to print: never read as markup, its control characters made visible, and a
    character ``encoding`` (the console's) cannot write given as "?": written as an escape ("\\xb7" for "·") it took
    four cells where the layout counted one, and pushed a panel's border out."""
    text = value if isinstance(value, Text) else Text(value)
    plain = visible(text.plain)  # one character for one: the styled spans stay in place
    try:
        plain.encode(encoding)
    except UnicodeEncodeError:
        plain = "".join(c if c.encode(encoding, errors="ignore") else _ASCII.get(c, "?") for c in plain)
    except LookupError:  # an encoding Python does not know: the console writes what it can
        pass
    text.plain = plain
    return text


def print_card(card: Card, project: Project, console: Console, notes: list[str] = ()) -> None:
    """The card as a panel; ``notes`` are the recorded evidence/drift/GPU lines (markdown)."""
    head = shown(Text.assemble(
        (f"#{card.pr} ", "bold"), (card.title, "bold"), "\n",
        (card.status, STATUS_STYLE[card.status]), f" · {card.state}",
        f" {card.merged_at}" if card.merged_at else "", f" · lane {card.lane}",
        f" · https://github.com/{project.repo}/pull/{card.pr}",
    ), console.encoding)
    if card.superseded_by:
        head.append(f"\n{card.status} by " + ", ".join(f"#{n}" for n in card.superseded_by), "yellow")
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")  # a test id longer than the column folds whole, not cut with an ellipsis

    def row(name: str, value: str | Text) -> None:  # card text is shown as written, never read as markup
        facts.add_row(Text(name), shown(value, console.encoding))

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
    # wrapped: the CLI's consoles print a line whole (soft_wrap), which inside a panel cut off what passed its edge
    console.print(Panel(Group(head, Text(""), facts), title=shown(project.rel(card.path), console.encoding), expand=True),
                  soft_wrap=False)


def print_findings(findings: list[FindingCard], console: Console) -> None:
    """One line per finding, name, status, lane and SGLang release aligned and never wrapped (a line wider than the
    terminal is wrapped by it), and the title under it, indented and wrapped to the width: beside a long name the
    title had a few columns and the status and lane were folded mid-word."""
    head = [Text(h) for h in ("finding", "status", "lane", "sglang")]
    rows = [[shown(cell, console.encoding) for cell in (f.name, Text(f.status, STATUS_STYLE["candidate"]), f.lane,
                                                        f.sglang)] for f in findings]
    widths = [max(cell.cell_len for cell in column) for column in zip(head, *rows, strict=True)]

    def line(cells: list[Text], style: str = "") -> Text:
        gaps = [" " * (w - cell.cell_len + 2) for cell, w in zip(cells[:-1], widths, strict=False)]
        return Text.assemble(*(part for pair in zip(cells, [*gaps, ""], strict=True) for part in pair), style=style)

    console.print(line(head, "bold"), soft_wrap=True)
    for finding, cells in zip(findings, rows, strict=True):
        console.print(line(cells), soft_wrap=True)
        for part in shown(finding.title, console.encoding).wrap(console, console.width - 4):
            part.rstrip()
            console.print(Text("    ") + part, soft_wrap=True)


def print_finding(finding: FindingCard, project: Project, console: Console) -> None:
    """A finding as a panel: symptom, cause, the SGLang code it runs through, reproduction and fix."""
    head = shown(Text.assemble((finding.title, "bold"), "\n", (finding.status, STATUS_STYLE["candidate"]),
                               f" · no upstream PR · SGLang {finding.sglang} · lane {finding.lane}"), console.encoding)
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")  # a test id longer than the column folds whole, not cut with an ellipsis
    for name, value in (
        ("Symptom", finding.symptom),
        ("Cause", finding.cause),
        ("Code", "\n".join(f"{c.file}  {c.function}  {c.match!r}" for c in finding.code)),
        ("Reproduce", "\n".join([finding.command, *finding.tests])),
        ("Fix", finding.fix),
        ("Model", f"{finding.reference}  --variant {finding.variant}"),
        *((("Limits", "\n".join(f"- {x}" for x in finding.limits)),) if finding.limits else ()),
    ):
        facts.add_row(Text(name), shown(value, console.encoding))
    # wrapped: the CLI's consoles print a line whole (soft_wrap), which inside a panel cut off what passed its edge
    console.print(Panel(Group(head, Text(""), facts), title=shown(project.rel(finding.path), console.encoding),
                        expand=True),
                  soft_wrap=False)
