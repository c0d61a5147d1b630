"""What a lint run knows beyond the cards: options that change what rules look at."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dossier.evidence import today
from dossier.project import Project


@dataclass
class LintContext:
    project: Project
    #: where fetched PRs live (None: the evidence rules report cards as unverified)
    cache_dir: Path | None = None
    #: the SGLang tree claims (D6xx) are checked against (None: the installed package, as drift)
    sglang_src: Path | None = None
    #: the day the run judges dates by (UTC, or $SOURCE_DATE_EPOCH's), read once: a bad value is an environment
    #: error before any rule runs, not a crash of every rule that reads it
    today: str = field(default_factory=today)
    #: per-rule scratch shared across cards in one run (e.g. a loaded lock file)
    memo: dict[str, Any] = field(default_factory=dict)
