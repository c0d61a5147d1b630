"""The release cache: every published SGLang wheel reduced to its Python sources, one directory per version.

``dossier releases sync`` asks pip which versions exist (``pip index versions``), downloads each wheel
(``pip download --no-deps``, pinned to CPython 3.11 on manylinux x86_64 so platform-specific wheels
resolve the same on any host), keeps only the package's ``.py`` files under their repository paths
(``python/sglang/...``), records the build date from the archive's entries, and deletes the wheel.

A version is complete when ``<cache>/<version>/release.json`` exists: it is written into a temporary
directory that is renamed into place last, so an interrupted sync leaves nothing that reads as a release,
and the next run skips what is complete. Beside it, ``files.json`` holds each source's size and sha256 as the
wheel had it: a source read later (drift, release evidence, lint) that differs, cut short at a line end and still
Python, is refused by name (:class:`DamagedRelease`) instead of giving verdicts from a module that lost its end.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from packaging.version import InvalidVersion, Version

from dossier.errors import DossierError, Unjudgeable
from dossier.files import kind_of, read_bytes, running, serialized, write_failure
from dossier.orphans import dies_with_parent
from dossier.sources.cache import DIFF, PROVENANCE

PACKAGE = "sglang"
REPO_PREFIX = PurePosixPath("python/sglang")
ENV = "DOSSIER_RELEASES"
DEFAULT_DIR = Path(".dossier") / "releases"
RECORD = "release.json"
#: each source's [size, sha256] by repository path, as the wheel had it (written by sync since session 20)
INDEX = "files.json"
#: the key of release.json holding the sha256 of files.json
INDEX_SHA = "files_json_sha256"
#: the first release a sync takes by default: the last line before Qwen3-Next came (0.5.2), so its release diff shows
#: the model arriving, as cards/evidence.lock records it (from 0.5.1)
FIRST = "0.5.1"
#: where a wheel is platform-specific, resolve it as on the machines SGLang serves from
PIN = ("--only-binary=:all:", "--python-version", "3.11", "--platform", "manylinux_2_34_x86_64")
_UNREACHABLE = re.compile(
    r"Could not fetch URL [^\n]*connection error|NewConnectionError|Failed to establish a new connection|connection broken|ConnectTimeout|ReadTimeout"
    r"|Name or service not known|Temporary failure in name resolution|ProxyError|SSLError|Max retries exceeded"
)
_HOST = re.compile(r"(?:https?://|host=')([\w.-]+)")


class ReleaseError(DossierError):
    """The registry cannot be used (unreachable, no such version) or the cache cannot be written."""


class DamagedSource(Unjudgeable):
    """A source file of SGLang is not what its wheel held (cut short, edited, deleted): every answer read from it
    would be wrong, so the command stops (exit 2) naming the file and what restores it."""


class DamagedRelease(DamagedSource):
    """A source of a synced release is not what its wheel held."""

    def __init__(self, release: Path, repo_path: str, why: str):
        self.why = f"{repo_path} {why}"
        super().__init__(f"release cache: {release / repo_path} {why}: the file was cut short or changed after "
                         f"`releases sync` wrote it, and what is read from it would be wrong; remove {release} and run "
                         f"`dossier releases sync --cache-dir {release.parent}` to fetch {release.name} again")


def check_source(release: Path, repo_path: str, data: bytes | None, index: dict | None) -> None:
    """Raise DamagedRelease when ``data`` (None: no such file) is not the source ``repo_path`` of the release at
    ``release`` as sync recorded it in ``index`` (None: synced before sizes were recorded, when only a file that
    ends mid-line is known to be cut: no source of 38 releases' 68,714 does)."""
    if index is None:
        if data and not data.endswith(b"\n"):
            last = data.rsplit(b"\n", 1)[-1][-30:].decode(errors="replace")
            raise DamagedRelease(release, repo_path, f"ends mid-line, after {last!r}")
        return
    entry = index.get(repo_path)
    if data is None:
        if entry is not None:
            raise DamagedRelease(release, repo_path, "is missing, though its wheel held it")
        return
    if entry is None:
        raise DamagedRelease(release, repo_path, "was not in its wheel")
    size, digest = entry
    if len(data) != size:
        raise DamagedRelease(release, repo_path, f"is {len(data):,} bytes where the wheel's copy was {size:,}")
    if hashlib.sha256(data).hexdigest() != digest:
        raise DamagedRelease(release, repo_path, "differs from the wheel's copy (sha256)")


def read_index(release: Path) -> dict | None:
    """A release's per-source sizes and hashes (None: synced before sync recorded them); raises DamagedRelease
    when the index is not the one its record names (deleted, cut short, edited)."""
    try:
        expected = json.loads(read_bytes(release / RECORD)).get(INDEX_SHA)
    except (OSError, ValueError, AttributeError, RecursionError):
        expected = None
    try:
        raw = read_bytes(release / INDEX, 64 << 20)
    except FileNotFoundError:
        if expected is None:
            return None
        raise DamagedRelease(release, INDEX, f"is missing, though {RECORD} records it") from None
    except OSError as exc:
        raise DamagedRelease(release, INDEX, f"cannot be read ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        data = None
    if (expected is not None and hashlib.sha256(raw).hexdigest() != expected) or not isinstance(data, dict):
        raise DamagedRelease(release, INDEX, f"is not the index sync wrote ({RECORD} records its sha256)")
    odd = next((p for p, v in data.items() if not _index_entry(v)), None)
    if odd is not None:
        raise DamagedRelease(release, INDEX, f"is not the index sync wrote: {str(odd)[:80]!r} has no [size, sha256]")
    return data


def _index_entry(entry: object) -> bool:
    """Whether ``entry`` is one source's [size, sha256 hex] as sync writes it (a size of "12" or null, read by a
    source check, stopped the command with an internal error)."""
    return isinstance(entry, list) and len(entry) == 2 and type(entry[0]) is int and entry[0] >= 0 \
        and isinstance(entry[1], str) and re.fullmatch(r"[0-9a-f]{64}", entry[1]) is not None


def index_fault(release: Path) -> str | None:
    """Why a release's index (files.json) is not the one sync wrote, or None (whole, or synced before indexes)."""
    try:
        read_index(release)
    except DamagedRelease as exc:
        return exc.why
    return None


@dataclass(frozen=True)
class Release:
    """One synced release: its version, the day its wheel was built, where its sources are."""

    version: str
    built: str  # YYYY-MM-DD, the newest entry of the package in the wheel
    path: Path  # <cache>/<version>; sources under python/sglang/
    wheel: str = ""
    files: int = 0

    @property
    def key(self) -> Version:
        return Version(self.version)


def cache_dir(root: Path, override: Path | None = None, *, must_exist: bool = False) -> Path:
    """--cache-dir, else $DOSSIER_RELEASES, else <root>/.dossier/releases. With ``must_exist``, a cache named
    explicitly (the option or the variable) that is not a directory raises ReleaseError: a typo would
    otherwise silently change what the command answers."""
    env = os.environ.get(ENV)
    if override is None and not env:
        default = root / DEFAULT_DIR
        if os.path.lexists(default) and not default.is_dir():  # read as empty: "0 release(s), run sync", which fails
            raise ReleaseError(f"the release cache {default} is {kind_of(default)}, not a folder: move it away "
                               "(`dossier releases sync` makes the folder)")
        return default
    path, named = (override, "--cache-dir") if override is not None else (Path(env), f"${ENV}")
    if must_exist and not path.is_dir():
        why = "is not a directory" if path.exists() else "does not exist"
        raise ReleaseError(f"{named} {path} {why} (the release cache: `dossier releases sync --cache-dir PATH` "
                           "fills one)")
    if must_exist and _holds_fetched_prs(path):  # its PR folders read as versions, "incomplete, remove them"
        raise ReleaseError(f"{named} {path} is the PR cache `dossier fetch` fills (its folders hold {DIFF} and "
                           f"{PROVENANCE}), not a release cache: name the folder `dossier releases sync --cache-dir` "
                           "filled")
    return path


def _holds_fetched_prs(folder: Path) -> bool:
    """Whether ``folder`` is the fetch cache: a PR's folder in it holds a fetched diff and its commit record."""
    try:
        return any((p / PROVENANCE).is_file() and (p / DIFF).is_file() for p in folder.iterdir() if p.name.isdigit())
    except OSError:
        return False


def incomplete(cache: Path) -> list[tuple[Path, str]]:
    """Folders of the cache that are not a complete release, with why (a sync in progress is not listed). Only a
    name a release's folder has is one (`releases list --cache-dir .` called a project's cards/ and skills/ incomplete
    releases, to be removed)."""
    if not cache.is_dir():
        return []
    out = []
    for p in sorted(cache.iterdir()):
        if p.name.startswith(".") or not is_version(p.name):  # no release's folder: a sync never reads or writes it
            continue
        if not p.is_dir():
            out.append((p, f"{kind_of(p)}, not a release's folder"))
        if not p.is_dir() or load(p) is not None:
            continue
        record = p / RECORD
        try:
            data = json.loads(read_bytes(record))
        except FileNotFoundError:
            why = f"no {RECORD}"
        except OSError as exc:
            why = f"{RECORD} cannot be read ({exc.strerror or exc})"
        except (ValueError, RecursionError):
            why = f"{RECORD} is not valid JSON"
        else:
            if not isinstance(data, dict):  # `null`, a list, a string: JSON, but no record
                out.append((p, f"{RECORD} is not a JSON object"))
                continue
            named, recorded = data.get("version"), data.get("files")
            wheel = _wheel_of_another_version(data)
            why = (f"{RECORD} is the record of {named}, not of {p.name}" if isinstance(named, str) and named != p.name
                   else f"its sources come from {data['wheel']}, a wheel of SGLang {wheel}, not {p.name}" if wheel
                   else f"{RECORD} records files: {recorded!r}, which is no count of sources" if not _count_ok(data)
                   else f"it holds {(held := _sources(p))} .py files, {RECORD} records {recorded}: "
                   + ("one was added since sync" if held > recorded else "one was deleted or the copy cut short")
                   + ", and its diffs would show changes no release made" if _count_differs(data, p)
                   else index if (index := index_fault(p))
                   else f"{RECORD} lacks a version or build date (a real day, YYYY-MM-DD), or holds a value of the "
                   "wrong type")
        out.append((p, why))
    return out


def is_version(text: object) -> bool:
    """Whether ``text`` is a release version as written (0.5.23, 0.5.10.post1; not "unknown", "", 0.10 as a number)."""
    return isinstance(text, str) and ordered([text]) == [text]


def ordered(versions: Iterable[str]) -> list[str]:
    """Release versions in release order (post releases after their base), invalid ones dropped."""
    out = []
    for v in versions:
        try:
            out.append((Version(v), v))
        except InvalidVersion:
            continue
    return [v for _, v in sorted(out)]


def select(versions: Iterable[str], first: str | None = FIRST, last: str | None = None) -> list[str]:
    """The versions from ``first`` to ``last`` inclusive (either may be None: open-ended)."""
    lo = Version(first) if first else None
    hi = Version(last) if last else None
    return [v for v in ordered(versions) if (lo is None or Version(v) >= lo) and (hi is None or Version(v) <= hi)]


def sync_command(cache: Path | None = None, first: str | None = None, last: str | None = None) -> str:
    """The `dossier releases sync` that fills ``cache`` (None: the default folder, or $DOSSIER_RELEASES's) with the
    releases from ``first`` to ``last``."""
    return " ".join(["dossier releases sync", *([f"--from {first}"] if first else []), *([f"--to {last}"] if last else []),
                     *([f"--cache-dir {shlex.quote(str(cache))}"] if cache is not None else [])])


def would_drop(recorded: Iterable[str], versions: Iterable[str], lock: str, cache: Path | None = None) -> str | None:
    """Why recording ``lock`` from ``versions`` (the synced releases of ``cache``, None: the default one) would lose
    history: it records a release they lack (a partial sync, another machine's cache); None when they cover every
    release it records."""
    missing = unsynced(recorded, versions)
    if not missing:
        return None
    return (f"{lacks(missing, lock, cache)}: recording from it would drop their history; sync them first "
            f"(`{sync_command(cache, missing[0], missing[-1])}`)")


def unsynced(recorded: Iterable[str], versions: Iterable[str]) -> list[str]:
    """The releases a lock records (``recorded``) that the synced ``versions`` lack, oldest first."""
    return ordered(set(recorded) - set(versions))


def lacks(missing: list[str], lock: str, cache: Path | None = None) -> str:
    """"the release cache lacks N release(s) LOCK records (0.5.1, ...)"."""
    shown = ", ".join(missing[:6]) + (", ..." if len(missing) > 6 else "")
    return f"the release cache{f' {cache}' if cache else ''} lacks {len(missing)} release(s) {lock} records ({shown})"


def refuse_to_drop(recorded: Iterable[str], versions: Iterable[str], lock: str, cache: Path | None = None) -> None:
    """Raise ReleaseError when recording ``lock`` from ``versions`` would lose history (see :func:`would_drop`)."""
    why = would_drop(recorded, versions, lock, cache)
    if why:
        raise ReleaseError(why)


def _pip(args: list[str], pip_args: tuple[str, ...], timeout: float = 600) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pip", *args, "-vv", *pip_args]  # -vv: pip names unreachable URLs only so
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1"}
    try:
        return subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout, env=env,
                              preexec_fn=dies_with_parent())
    except subprocess.TimeoutExpired:
        raise ReleaseError(f"pip {args[0]} did not finish in {timeout:.0f}s (is the package index reachable?)") from None


def _pip_failure(what: str, proc: subprocess.CompletedProcess) -> ReleaseError:
    text = proc.stderr + proc.stdout
    if _UNREACHABLE.search(text):
        hosts = sorted(set(_HOST.findall(text)) - {"files.pythonhosted.org"})
        where = f" ({', '.join(hosts)})" if hosts else ""
        return ReleaseError(f"{what}: the package index is unreachable{where}; check the network or pass "
                            "--index-url / --find-links")
    errors = [ln.strip() for ln in text.splitlines() if ln.startswith("ERROR")]
    return ReleaseError(f"{what}: {errors[-1] if errors else (text.strip().splitlines() or ['pip failed'])[-1]}")


def available(pip_args: tuple[str, ...] = ()) -> list[str]:
    """Every released version of sglang the index offers, in release order."""
    proc = _pip(["index", "versions", PACKAGE, *PIN], pip_args, timeout=300)
    m = re.search(r"^Available versions:\s*(.+)$", proc.stdout, re.MULTILINE)
    if proc.returncode != 0 or m is None:
        raise _pip_failure(f"cannot list {PACKAGE} versions", proc)
    return ordered(v.strip() for v in m.group(1).split(","))


def load(path: Path) -> Release | None:
    """The release synced at ``path``, or None when it is not complete (or its record is of another version than the
    folder's name, a folder copied by hand: it would stand in for that version, or hide it)."""
    try:
        data = json.loads(read_bytes(path / RECORD))
        if data["version"] != path.name or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["built"]):
            return None
        dt.date.fromisoformat(data["built"])  # 2026-13-45 is no day: ValueError, not complete
        if not _count_ok(data) or _count_differs(data, path):  # a source missing: its diff would say a release
            return None  # removed it
        if _wheel_of_another_version(data):  # a release copied under another name, its record's version edited
            return None
        if index_fault(path):  # every command that reads it would stop on it: not complete, sync fetches it again
            return None
        return Release(data["version"], data["built"], path, data.get("wheel", ""), int(data.get("files", 0)))
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None


def _wheel_of_another_version(record: dict) -> str | None:
    """The version of the wheel ``record`` names where it is not the record's own (None: the same, or no wheel
    named)."""
    m = re.match(r"sglang-([^-]+)-", str(record.get("wheel") or ""))
    if m is None:
        return None
    try:
        return None if Version(m[1]) == Version(str(record.get("version"))) else m[1]
    except InvalidVersion:
        return m[1]


def _sources(path: Path) -> int:
    """The .py files under a release's folder (what sync wrote and counted)."""
    return sum(name.endswith(".py") for _, _, names in os.walk(path / "python") for name in names)


def _count_ok(record: dict) -> bool:
    """Whether a record's source count, where it has one, is a count (``true`` is not one, though Python adds it)."""
    return "files" not in record or (type(record["files"]) is int and record["files"] >= 0)


def _count_differs(record: dict, path: Path) -> bool:
    """Whether the release at ``path`` holds another number of sources than its record counts (a record without a
    count is not judged)."""
    return _count_ok(record) and "files" in record and record["files"] != _sources(path)


def synced(cache: Path) -> list[Release]:
    """Complete releases in the cache, in release order."""
    if not cache.is_dir():
        return []
    found = {r.version: r for p in cache.iterdir() if p.is_dir() and (r := load(p)) is not None}
    return [found[v] for v in ordered(found)]


def build_date(zf: zipfile.ZipFile) -> str:
    """The day the wheel was built: the newest timestamp among the package's entries."""
    stamps = [i.date_time for i in zf.infolist() if i.filename.startswith(f"{PACKAGE}/")]
    if not stamps:
        raise ReleaseError(f"the wheel holds no {PACKAGE}/ package")
    y, m, d = max(stamps)[:3]
    try:
        return dt.date(y, m, d).isoformat()
    except ValueError:  # a zip entry's DOS date can hold month 0 or day 0
        raise zipfile.BadZipFile(f"its newest {PACKAGE}/ entry is dated {y}-{m:02d}-{d:02d}, no real day") from None


def extract(wheel: Path, dest: Path) -> tuple[str, int]:
    """Write the package's .py files of ``wheel`` under ``dest/python/sglang/`` and their sizes and hashes in
    ``dest/files.json``; (build date, file count)."""
    index: dict[str, list] = {}
    with zipfile.ZipFile(wheel) as zf:
        built = build_date(zf)
        for info in zf.infolist():
            name = PurePosixPath(info.filename)
            if info.is_dir() or name.parts[0] != PACKAGE or name.suffix != ".py" or ".." in name.parts:
                continue
            repo_path = REPO_PREFIX / PurePosixPath(*name.parts[1:])
            target = dest / repo_path
            target.parent.mkdir(parents=True, exist_ok=True)
            data = zf.read(info)
            target.write_bytes(data)
            index[repo_path.as_posix()] = [len(data), hashlib.sha256(data).hexdigest()]
    (dest / INDEX).write_text(json.dumps(index, sort_keys=True) + "\n", encoding="utf-8")
    return built, len(index)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def sync_one(version: str, cache: Path, pip_args: tuple[str, ...] = ()) -> Release:
    """Download, reduce and commit one release (atomically: a temporary dir renamed into place)."""
    cache.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{version}-{os.getpid()}-", dir=cache))
    try:
        wheels = tmp / "wheel"
        proc = _pip(["download", "--no-deps", "--dest", str(wheels), f"{PACKAGE}=={version}", *PIN], pip_args)
        found = sorted(wheels.glob("*.whl")) if wheels.is_dir() else []
        if proc.returncode != 0 or not found:
            raise _pip_failure(f"cannot download {PACKAGE} {version}", proc)
        wheel = found[0]
        tree = tmp / "tree"
        try:
            built, files = extract(wheel, tree)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:  # not a zip; a damaged or cut member
            raise ReleaseError(f"{wheel.name} is not a valid wheel: {exc or type(exc).__name__}") from None
        record = {"version": version, "built": built, "wheel": wheel.name, "wheel_sha256": _sha256(wheel),
                  "files": files, INDEX_SHA: _sha256(tree / INDEX),
                  "synced": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        (tree / RECORD).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        wheel.unlink()
        final = cache / version
        with serialized(cache):  # a sync beside this one (another process) may have landed it since the caller looked
            if (landed := load(final)) is not None:
                return landed  # kept: removing it pulled a release from under its readers (or failed our rename)
            if final.is_dir() and not final.is_symlink():  # an incomplete leftover
                shutil.rmtree(final)
            elif os.path.lexists(final):  # a file or a link where its folder goes: 'Not a directory' failed the sync
                final.unlink()
            tree.rename(final)
        return Release(version, built, final, wheel.name, files)
    except OSError as exc:
        raise ReleaseError(f"cannot write {version} into {cache}: {write_failure(exc)}") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@dataclass(frozen=True)
class SyncOutcome:
    version: str
    result: str  # "synced" | "cached" | "failed"
    release: Release | None = None
    error: str | None = None


def sync(versions: list[str], cache: Path, pip_args: tuple[str, ...] = (),
         on_done: Callable[[SyncOutcome], None] | None = None) -> list[SyncOutcome]:
    """Sync ``versions`` in order; complete ones are skipped, a failed one does not stop the others."""
    for stale in cache.glob(".tmp-*") if cache.is_dir() else ():  # left by an interrupted run, not a running one
        pid = re.fullmatch(r"\.tmp-.+-(\d+)-[^-]+", stale.name)
        if pid is None or not running(int(pid[1])):
            shutil.rmtree(stale, ignore_errors=True)
    out = []
    for version in versions:
        have = load(cache / version)
        if have is not None:
            outcome = SyncOutcome(version, "cached", have)
        else:
            try:
                outcome = SyncOutcome(version, "synced", sync_one(version, cache, pip_args))
            except ReleaseError as exc:
                outcome = SyncOutcome(version, "failed", error=str(exc))
        out.append(outcome)
        if on_done:
            on_done(outcome)
    return out


def platform_specific(release: Release) -> bool:
    """Whether the release's wheel is tagged for a platform (needed the pinned --platform to resolve)."""
    return bool(release.wheel) and not release.wheel.endswith("-none-any.whl")
