"""When PRs were opened: the floor a PR number puts under its merge date (cards/opened.lock).

GitHub numbers pull requests (and issues) in the order they are opened, and a PR is merged after it is
opened. So a PR known to have been opened on a day is a floor for every higher number: PR N cannot have
been merged before the opening day of any PR numbered at or below N. The lock holds such anchors, each with
the thread that shows its opening day (the day of its description); lint D405 reads it offline.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml

OPENED_LOCK = Path("cards") / "opened.lock"
#: the day a thread shows and the UTC day GitHub records may differ by one
TOLERANCE = dt.timedelta(days=1)


@dataclass(frozen=True)
class Anchor:
    pr: int
    opened: dt.date
    source: str


class OpenedError(ValueError):
    """The lock is malformed, or its days go backwards as the numbers rise (an anchor is wrong)."""


def read_anchors(root: Path) -> list[Anchor]:
    """The anchors by PR number (empty without a lock); raises OpenedError when they cannot all be right."""
    path = root / OPENED_LOCK
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text())
        anchors = sorted((Anchor(int(pr), _date(v["opened"]), str(v["source"])) for pr, v in data["opened"].items()),
                         key=lambda a: a.pr)
    except (yaml.YAMLError, UnicodeDecodeError, TypeError, KeyError, ValueError, AttributeError) as exc:
        raise OpenedError(f"{OPENED_LOCK}: expected opened: {{PR: {{opened: YYYY-MM-DD, source: URL}}}} "
                          f"({type(exc).__name__}: {exc})") from None
    for a, b in zip(anchors, anchors[1:]):
        if b.opened + TOLERANCE < a.opened:
            raise OpenedError(f"{OPENED_LOCK}: #{b.pr} opened {b.opened}, before #{a.pr} ({a.opened}), "
                              "yet PR numbers are given in opening order: one of the two days is wrong")
    return anchors


def floor(anchors: list[Anchor], pr: int) -> Anchor | None:
    """The latest-opened anchor numbered at or below ``pr`` (None: no anchor that low)."""
    below = [a for a in anchors if a.pr <= pr]
    return max(below, key=lambda a: a.opened) if below else None


def _date(value: object) -> dt.date:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))
