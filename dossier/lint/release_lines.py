"""D331: a line number the prose gives for the card's line in a release, against where that release has it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from dossier import prose
from dossier.lint.depth import card_texts, text_location
from dossier.lint.registry import Finding, rule
from dossier.model import Card

_V = re.compile(r"(?<![\w.])v?(\d+\.\d+\.\d+(?:\.post\d+)?)(?![\w.]*\d)")
#: a line number: "line 2341", "lines 1955 and 1978", "lines 2339-2343", "server_args.py line 2341", "linear.py:716"
_LINE = re.compile(r"(?:\b([\w-]+\.py)(?::| lines? )|\blines? )(\d{1,6})((?:(?:, |,| and | to |-|\u2013)\d{1,6})*)(?!\w|\.\d)")
#: the release named after the number: "line 2341 of SGLang 0.5.11", "line 2341 in v0.5.11"
_AFTER = re.compile(r"^(?: of [\w./-]+\.py)? (?:of|in) (?:SGLang |the )?v?(\d+\.\d+\.\d+(?:\.post\d+)?)\b")
#: lines a number may be off by (a line given for a two-line statement, a count from 0)
_SLACK = 1


def _lines(m: re.Match) -> list[int]:
    numbers = [int(m.group(2))] + [int(n) for n in re.findall(r"\d+", m.group(3) or "")]
    if m.group(3) and re.match(r"\s*(?:to|-|\u2013)", m.group(3)) and len(numbers) == 2 and numbers[1] >= numbers[0]:
        numbers = list(range(numbers[0], numbers[1] + 1))  # a span: any line of it may be the one
    return numbers


def _release_of(sentence: str, m: re.Match) -> str | None:
    """The release a line number is given for: named right after it, else the last named before it."""
    after = _AFTER.match(sentence[m.end():])
    if after:
        return after.group(1)
    before = _V.findall(sentence[:m.start()])
    return before[-1] if before else None


def _recorded(card: Card, ctx) -> dict[str, set[int]]:
    """Release -> the lines of the key file where evidence.lock records the card's match appearing in it (the
    history of the card's current key fragment only)."""
    from dossier.evidence import key_sha
    from dossier.lint.releases import release_lock

    h = release_lock(ctx)[0].cards.get(card.pr)
    if h is None or h.key_fragment != key_sha(card.key_fragment):
        return {}
    out: dict[str, set[int]] = {}
    for e in h.events:
        if e.change == "added" and e.file == card.key_fragment.file:
            out.setdefault(e.new.version, set()).update(e.lines)
    return out


def current_drift_entry(card: Card, ctx) -> tuple[str, dict | None]:
    """(the SGLang version drift.lock was recorded against, its entry for this card) — the entry None unless it
    judged the card's current key fragment. The lock is read once per lint run."""
    from dossier.drift import read_lock
    from dossier.evidence import LockError, key_sha

    if "drift-version" not in ctx.memo:
        try:
            ctx.memo["drift-version"] = read_lock(ctx.project.root)
        except LockError:
            ctx.memo["drift-version"] = ("", {})  # D311's finding
    version, cards = ctx.memo["drift-version"]
    entry = cards.get(card.pr) or {}
    return version, entry if entry.get("key_fragment") == key_sha(card.key_fragment) else None


def _drift_lines(card: Card, ctx) -> tuple[str, dict[str, set[int]]]:
    """(the SGLang version drift.lock was recorded against, file name -> the lines it found the card's current
    match on); ("", {}) without a verdict for this key fragment."""
    version, entry = current_drift_entry(card, ctx)
    if entry is None:
        return "", {}
    out: dict[str, set[int]] = {}
    for where in entry.get("found") or []:
        if isinstance(where, dict) and isinstance(where.get("file"), str):
            out.setdefault(PurePosixPath(where["file"]).name, set()).update(
                n for n in where.get("lines") or [] if isinstance(n, int))
    return version, out


def _in_release(card: Card, version: str, ctx) -> set[int] | None:
    """The lines of the key file holding the match in a synced release (None: not synced, or no such file)."""
    from dossier.lint.grounds import _release_trees

    tree = _release_trees(ctx).get(version)
    text = tree.text(card.key_fragment.file) if tree is not None else None
    if not text:
        return None
    return {i for i, line in enumerate(text.splitlines(), 1) if card.key_fragment.match in line}


@rule("D331", "prose gives the card's line a line number in a release that the release evidence, drift.lock (or that "
              "release's file) puts elsewhere", scope="card")
def wrong_release_line(card: Card, doc, ctx) -> Iterator[Finding]:
    """"the PR's copy is the one the 0.5.11 release diff adds (0.5.11 line 2314)" when evidence.lock records the
    match added at line 2341 of the key file in 0.5.11: a reader who opens the release at that line reads another
    hunk and takes it for the change. Judged where the sentence is about the card's line: it names the key file
    or quotes the match, or gives a release whose diff the lock records adding the match. The number (or one of a
    list or span: "lines 1955 and 1978", "lines 2339-2343") must be a line the lock records for that release, else
    one holding the match in that release's key file (synced release cache), within one line. For the release
    cards/drift.lock was recorded against (today's), a line of the key file, or of the file the match moved to
    ("In 0.5.23 the check is at linear.py line 300"), is held to the lines drift found, so CI judges it too."""
    recorded = _recorded(card, ctx)
    drift_version, drifted = _drift_lines(card, ctx)
    name = PurePosixPath(card.key_fragment.file).name
    for path, text in card_texts(card):
        for sentence in prose.sentences(" ".join(text.split())):
            for m in _LINE.finditer(sentence):
                version = _release_of(sentence, m)
                about = m.group(1) == name or name in sentence or card.key_fragment.match in sentence
                if version == drift_version and (m.group(1) or (about and name)) in drifted:
                    held = drifted[m.group(1) or name]  # where drift --record found the match in that release
                elif version is None or (m.group(1) and m.group(1) != name):
                    continue  # no release, or another file's line
                else:
                    held = recorded.get(version)
                    if held is None and about:
                        held = _in_release(card, version, ctx)
                numbers = _lines(m)
                if not held or any(abs(n - h) <= _SLACK for n in numbers for h in held):
                    continue
                yield Finding(text_location(path),
                              f"{m.group(0)!r} ({version}): SGLang {version} has this card's match in "
                              f"{card.key_fragment.file} at line(s) {', '.join(map(str, sorted(held)))}, not "
                              f"{', '.join(map(str, numbers))}",
                              hint="take the line from `dossier releases verify` (or the release's file), or drop it")
                break
