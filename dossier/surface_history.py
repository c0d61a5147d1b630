"""Which flags and SGLANG_*/SGL_* env vars SGLang's published releases had: the committed surface lock.

``dossier releases surface --record`` reads the flag and env-var surface (:mod:`dossier.surface`) of every
release in the release cache and writes ``cards/surface.lock``: per name, the first and the last release
that had it. Lint reads the lock offline (CI has no release cache): a mention marked historical must name
something some release had, and a mention of a name that left SGLang can say which release last had it.
A name that left and came back is recorded by its first and last release only; a flag some release's server took
is recorded by the releases whose server took it (another command's flag of the same name does not extend it). An env
var is recorded by the releases that read it; the releases that name it only to warn that it is set
(:mod:`dossier.env_warnings`) are recorded apart, under ``warned:``. The legacy ``SGL_X`` aliases that releases
copying ``SGL_X`` to ``SGLANG_X`` honour are not listed one by one: the lock records which releases copy
(``rewrites:``), and an alias's span is derived from its ``SGLANG_X`` (:meth:`SurfaceHistory.span`). The lock ends with how many
names each kind holds (``names:``): a lock cut short, even inside its last section, is still YAML, and the names
past the cut would be lost with nothing said.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from packaging.version import Version

from dossier.errors import DossierError
from dossier.files import record
from dossier.locks import LockError, check_keys, check_seal, of_version, read_lock_file, sealed
from dossier.releases import is_version, ordered, refuse_to_drop
from dossier.source_tree import SourceTree
from dossier.surface import LEGACY_PREFIX, PREFIX

SURFACE_LOCK = Path("cards") / "surface.lock"
LOCK_VERSION = 1
HEADER = (
    "# Written by `dossier releases surface --record`: every --flag and SGLANG_* env var of the cached\n"
    "# SGLang releases, each with the first and last release that had it (lint checks historical mentions).\n"
)
KINDS = ("flags", "env")
#: the sections written only when they hold a name: env vars' warn-only releases, the newest release's defaults
OPTIONAL = ("warned", "defaults")


class SurfaceLockError(DossierError):
    """cards/surface.lock cannot be read as a surface lock."""


@dataclass(frozen=True)
class Span:
    first: str
    last: str

    def __str__(self) -> str:
        return self.first if self.first == self.last else f"{self.first}..{self.last}"

    def holds(self, version: str) -> bool:
        """Whether release ``version`` lies within the span (release order: 0.5.10.post1 after 0.5.10)."""
        return Version(self.first) <= Version(version) <= Version(self.last)

    def meets(self, first: str, last: str) -> bool:
        """Whether the span shares a release with ``first`` .. ``last``."""
        return Version(self.first) <= Version(last) and Version(first) <= Version(self.last)


@dataclass
class SurfaceHistory:
    """Release versions in order, and per kind (flags, env) each name's span of releases."""

    releases: list[str] = field(default_factory=list)
    flags: dict[str, Span] = field(default_factory=dict)
    env: dict[str, Span] = field(default_factory=dict)
    #: flag or env var -> its default as the newest release declares it (a literal only; absent when computed)
    defaults: dict[str, str] = field(default_factory=dict)
    #: env var -> the releases that name it only to warn that it is set (they do not read it)
    warned: dict[str, Span] = field(default_factory=dict)
    #: the releases that copy ``SGL_X`` to ``SGLANG_X`` at import (None when none does)
    rewrites: Span | None = None

    def span(self, kind: str, name: str) -> Span | None:
        """The releases that had ``name``; a legacy ``SGL_X`` also in those that copy it to an ``SGLANG_X`` they read."""
        own = getattr(self, kind).get(name)
        if kind != "env" or not name.startswith(LEGACY_PREFIX) or self.rewrites is None:
            return own
        read = self.env.get(PREFIX + name[len(LEGACY_PREFIX):])
        alias = read and _overlap(read, self.rewrites)
        if own is None or alias is None:
            return own or alias
        return Span(min(own.first, alias.first, key=Version), max(own.last, alias.last, key=Version))

    @property
    def newest(self) -> str:
        return self.releases[-1] if self.releases else ""

    def differences(self, read: SurfaceHistory) -> list[str]:
        """Where this (recorded) history and ``read`` (from the releases) disagree: each name whose span or default
        differs or is on one side only, as "NAME (kind: recorded -> read)", and the release list."""
        out = [] if self.releases == read.releases else [
            f"releases ({', '.join(self.releases[-1:]) or 'none'} last recorded -> {', '.join(read.releases[-1:])})"]
        if str(self.rewrites) != str(read.rewrites):
            out.append(f"the SGL_* copy (rewrites: {self.rewrites or 'none'} -> {read.rewrites or 'none'})")
        for kind in (*KINDS, *OPTIONAL):
            held, now = getattr(self, kind), getattr(read, kind)
            out += [f"{name} ({kind}: {held.get(name, 'absent')} -> {now.get(name, 'absent')})"
                    for name in sorted(set(held) | set(now))
                    if (name in held) != (name in now) or str(held.get(name)) != str(now.get(name))]
        return out

    def to_data(self) -> dict:
        return {"version": LOCK_VERSION, "releases": list(self.releases),
                **{k: {n: str(s) for n, s in sorted(getattr(self, k).items())} for k in self._written()},
                **({"rewrites": str(self.rewrites)} if self.rewrites else {}),
                "names": {k: len(getattr(self, k)) for k in self._written()}}

    def _written(self) -> list[str]:
        return [*KINDS, *(k for k in OPTIONAL if getattr(self, k))]

    @classmethod
    def from_data(cls, data: object) -> SurfaceHistory:
        if not (isinstance(data, dict) and of_version(data, LOCK_VERSION)
                and isinstance(data.get("releases"), list) and all(isinstance(data.get(k), dict) for k in KINDS)):
            raise SurfaceLockError(f"{SURFACE_LOCK}: expected version: {LOCK_VERSION}, releases: [...], flags: {{}}, "
                                   "env: {}, names: {}; run `dossier releases surface --record`")
        try:
            check_keys(data, ("version", "releases", *KINDS, *OPTIONAL, "rewrites", "names"), str(SURFACE_LOCK),
                       "run `dossier releases surface --record`")
        except LockError as exc:
            raise SurfaceLockError(str(exc)) from None
        fix = "; run `dossier releases surface --record`"
        _check_counts(data)
        releases = [str(v) for v in data["releases"]]
        bad = next((v for v in data["releases"] if not is_version(v)), None)
        if bad is not None:  # 0.10 unquoted is the number 0.1; 'abc' crashed lint's rules that read spans
            raise SurfaceLockError(f"{SURFACE_LOCK}: releases: {bad!r} is not a release version (quoted text such as "
                                   f"'0.5.10')" + fix)
        if ordered(releases) != releases or len(set(releases)) != len(releases):  # a merge kept both sides' lists
            raise SurfaceLockError(f"{SURFACE_LOCK}: releases must be listed once each, oldest first (the newest "
                                   "decides what lint calls removed)" + fix)
        out = cls(releases)
        warned = data.get("warned") or {}
        if not isinstance(warned, dict):
            raise SurfaceLockError(f"{SURFACE_LOCK}: warned: expected name: 'first..last' entries" + fix)
        for kind, entries in [*((k, data[k]) for k in KINDS), ("warned", warned)]:
            for name, value in entries.items():
                getattr(out, kind)[str(name)] = _span(name, value, releases)
        if data.get("rewrites") is not None:
            out.rewrites = _span("rewrites", data["rewrites"], releases)
        defaults = data.get("defaults") or {}
        if not (isinstance(defaults, dict) and all(isinstance(v, str) for v in defaults.values())):
            raise SurfaceLockError(f"{SURFACE_LOCK}: defaults: expected name: 'value' text" + fix)
        stray = next((n for n in defaults if n not in out.flags and n not in out.env), None)
        if stray is not None:  # recording writes defaults of listed names only: dropping it hid a hand edit
            raise SurfaceLockError(f"{SURFACE_LOCK}: defaults: {stray!r} is no flag or env var the lock lists (a "
                                   "name mistyped or edited by hand)" + fix)
        out.defaults = {str(n): v for n, v in defaults.items()}
        return out


def _span(name: object, value: object, releases: list[str]) -> Span:
    """``value`` ('first..last', or one release) read as a span of the lock's ``releases``."""
    first, _, last = str(value).partition("..")
    if first not in releases or (last or first) not in releases:
        raise SurfaceLockError(f"{SURFACE_LOCK}: {name}: {value!r} names a release the lock does not list")
    if releases.index(first) > releases.index(last or first):  # flags.md: 'from 0.5.9 to 0.5.1'
        raise SurfaceLockError(f"{SURFACE_LOCK}: {name}: {value!r} ends before it begins; run `dossier releases "
                               "surface --record`")
    return Span(first, last or first)


def _overlap(a: Span, b: Span) -> Span | None:
    """The releases ``a`` and ``b`` share (None when they share none)."""
    first, last = max(a.first, b.first, key=Version), min(a.last, b.last, key=Version)
    return Span(first, last) if Version(first) <= Version(last) else None


def _check_counts(data: dict) -> None:
    """The closing ``names:`` counts must be there and match each kind's entries: a lock cut short (a copy or a
    download that stopped, a merge tool's truncation) ends before them or, cut inside a section, holds fewer."""
    fix = f"; take the committed copy (git checkout -- {SURFACE_LOCK}) or run `dossier releases surface --record`"
    counts = data.get("names")
    if not (isinstance(counts, dict) and all(type(counts.get(k)) is int for k in KINDS)):
        raise SurfaceLockError(f"{SURFACE_LOCK}: no closing `names:` count of flags and env, which recording writes "
                               "last: the lock is cut short (or not written by dossier), and the names past the cut "
                               "are lost" + fix)
    for kind in OPTIONAL:
        if (kind in counts or data.get(kind)) and len(data.get(kind) or {}) != counts.get(kind):
            counted = f"counts {counts[kind]}" if kind in counts else f"has no count of {kind}"
            raise SurfaceLockError(f"{SURFACE_LOCK}: {kind} lists {len(data.get(kind) or {})} name(s) where `names:` "
                                   f"{counted}: the lock is cut short or was edited by hand" + fix)
    for kind in KINDS:
        if len(data[kind]) != counts[kind]:
            raise SurfaceLockError(f"{SURFACE_LOCK}: {kind} lists {len(data[kind])} name(s) where `names:` counts "
                                   f"{counts[kind]}: the lock is cut short or was edited by hand, and names are lost"
                                   + fix)


def lock_path(root: Path) -> Path:
    return root / SURFACE_LOCK


def read_history(root: Path) -> SurfaceHistory | None:
    """The committed history (None when the project has no surface lock)."""
    try:
        data = read_lock_file(lock_path(root))
        if data is None:
            return None
        history = SurfaceHistory.from_data(data)
        check_seal(lock_path(root), data)
    except LockError as exc:
        raise SurfaceLockError(str(exc)) from None
    return history


def scan(trees: Iterable[SourceTree], on_release: Callable[[SourceTree], None] | None = None) -> SurfaceHistory:
    """Every flag and env var of ``trees`` (in release order) with the first and last tree that had it (an env var:
    that read it, and apart the first and last that only warn that it is set)."""
    from dossier.surface import read_surface

    history = SurfaceHistory()
    server: dict[str, Span] = {}  # the releases whose server took the flag
    for tree in trees:
        s = read_surface(tree)
        history.releases.append(tree.version)
        read = [n for n in s.env if n not in s.env_warned and n not in s.aliased]  # aliases: span() derives them
        for spans, names in ((history.flags, s.flags), (history.env, read), (history.warned, s.env_warned),
                             (server, [n for n, f in s.flags.items() if f.server])):
            for name in names:
                spans[name] = Span(spans[name].first if name in spans else tree.version, tree.version)
        if s.rewrites:
            history.rewrites = Span(history.rewrites.first if history.rewrites else tree.version, tree.version)
        history.defaults = {**{n: f.default for n, f in s.flags.items() if f.default is not None},
                            **{n: v for n, v in s.env_defaults.items() if v is not None and n in s.env}}
        tree.unload()
        if on_release is not None:
            on_release(tree)
    history.flags.update(server)  # a server flag is the server's: another tool's flag of its name (the diffusion
    return history  # runtime's --enable-breakable-cuda-graph, 0.5.20 on) does not extend it


def render(history: SurfaceHistory) -> str:
    """The lock's text: deterministic (sorted names, one per line)."""
    return sealed(HEADER, yaml.safe_dump(history.to_data(), sort_keys=False, default_flow_style=False, width=200))


def write_history(root: Path, history: SurfaceHistory) -> Path:
    """Write the lock; refused (ReleaseError) when ``history`` lacks a release the committed lock records (an
    unreadable lock is replaced: it holds nothing the releases do not). The lock is read while recording holds
    cards/ (files.record), so a release another recording has just added is seen."""
    def text() -> str:
        try:
            committed = read_history(root)
        except SurfaceLockError:
            committed = None
        if committed is not None:
            refuse_to_drop(committed.releases, history.releases, str(SURFACE_LOCK))
        return render(history)

    return record(lock_path(root), text)
