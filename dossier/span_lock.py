"""Locks of release spans: text the manual quotes (a code name, an error message) -> the first and last SGLang
release that had it ("0.5.10..0.5.17", or one release), recorded from the release cache for lint to read offline
(CI has no release cache). Each lock ends with how many entries it holds: a lock cut at an entry boundary is still
YAML, and the entries past the cut would be lost with nothing said. Each is sealed (:data:`locks.LOCK_SEAL`): a span
edited by hand ('0.5.10..0.5.17' made '0.5.10..0.5.19') would let the cards' matching wrong dates pass the rules that
read it."""

from __future__ import annotations

from pathlib import Path

from packaging.version import InvalidVersion, Version

from dossier.files import record
from dossier.locks import LockError, check_keys, check_seal, of_version, read_lock_file, sealed
from dossier.yaml_scalar import yaml_string


def read_spans(root: Path, lock: Path, section: str, fix: str) -> dict[str, str]:
    """The ``section`` mapping of the lock at ``root / lock`` (empty without one); raises LockError when it cannot
    be read. ``fix``: what to run."""
    data = read_lock_file(root / lock)
    if data is None:
        return {}
    entries = data.get(section) if isinstance(data, dict) else None
    if not of_version(data, 1) or not isinstance(entries, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in entries.items()):
        raise LockError(f"{lock}: expected version: 1 and {section}: {{text: first..last release}}; {fix}")
    check_keys(data, ("version", section, "count"), str(lock), fix)
    for text, span in entries.items():
        if not _release_span(span):
            raise LockError(f"{lock}: {text[:60]!r}: {span!r} is no span of releases (first..last, or one release, the "
                            f"first no later than the last); take the committed copy (git checkout -- {lock}) or {fix}")
    count = data.get("count")
    if type(count) is not int or count != len(entries):
        said = "no closing `count:`, which recording writes last" if type(count) is not int else \
            f"{section} lists {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} where `count:` says {count}"
        raise LockError(f"{lock}: {said}: the lock is cut short (or edited by hand), and the entries past the cut "
                        f"would be lost; take the committed copy (git checkout -- {lock}) or {fix}")
    check_seal(root / lock, data)
    return entries


def _release_span(span: str) -> bool:
    """Whether ``span`` is what recording writes: a release, or 'first..last' with the first no later than the last."""
    first, sep, last = span.partition("..")
    try:
        ends = [Version(v) for v in (first, last if sep else first)]
    except InvalidVersion:
        return False
    return all(str(e) == v for e, v in zip(ends, (first, last if sep else first), strict=True)) and ends[0] <= ends[1]


def write_spans(root: Path, lock: Path, header: str, section: str, entries: dict[str, str]) -> None:
    """Write the lock at ``root / lock``: ``header``, its seal, then ``entries`` (text -> its releases) in order,
    then the count."""
    def line(text: str, span: str) -> str:
        key = text if text.isidentifier() else yaml_string(text)
        return f"\n  {key}: '{span}'"

    # a section with nothing under it would be null to YAML, which read_spans refuses
    record(root / lock, lambda: sealed(header, f"version: 1\n{section}:" + (
        "".join(line(t, s) for t, s in entries.items()) or " {}") + f"\ncount: {len(entries)}\n"))


def spans_of_releases(found: dict[str, list[str]]) -> dict[str, str]:
    """Text -> the releases (in release order) that had it, as the lock writes it: sorted by text."""
    return {t: v[0] if v[0] == v[-1] else f"{v[0]}..{v[-1]}" for t, v in sorted(found.items()) if v}
