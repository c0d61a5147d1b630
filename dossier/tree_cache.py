"""What is read off a whole SGLang tree (its surface, its words, which files print a message), kept on disk between
runs: a cold `dossier lint` spends most of its time there, and the tree rarely changes between two runs.

An entry is found again only for the same tree as it stands (every file's path, size and modification time) read by
the same dossier (a digest of dossier's own source): an edited file, a reinstalled package or a changed rule reads
afresh. A missing, unreadable or damaged cache file is read as empty and written anew; a value that cannot be
pickled, or a very large one (a whole tree's joined text, cheaper to rebuild than to load), is kept for the process
alone. ``DOSSIER_TREE_CACHE`` names the folder (default: ``$XDG_CACHE_HOME/dossier/trees``, or
``~/.cache/dossier/trees``); ``off`` keeps nothing on disk. The folder keeps the :data:`KEEP` trees written or
read last. Its files are read with pickle: a folder others can write to is not one to name."""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path

ENV = "DOSSIER_TREE_CACHE"
#: cache files kept in the folder (one per tree as it stands): those written or read last; room for today's SGLang
#: beside every release `dossier releases surface --record` and lint's release rules read
KEEP = 64
#: a value whose pickle is larger than this is rebuilt each run rather than loaded
LARGEST = 16 << 20
_SUFFIX = ".pickle"


def folder() -> Path | None:
    """Where trees are kept (None: ``DOSSIER_TREE_CACHE=off``, or no home folder to keep them under)."""
    chosen = os.environ.get(ENV, "").strip()
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen).expanduser()
    if base := os.environ.get("XDG_CACHE_HOME"):
        return Path(base) / "dossier" / "trees"
    try:
        return Path.home() / ".cache" / "dossier" / "trees"
    except (RuntimeError, KeyError):  # no home to find (no $HOME, no passwd entry): nothing kept
        return None


@functools.cache
def _code_digest() -> str:
    """A digest of dossier's own Python source (read once a process): a changed rule is another reader."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def fingerprint(tree) -> str:
    """The tree as it stands and the dossier reading it: its kind, version, place, and every file's path, size and
    modification time."""
    digest = hashlib.sha256(f"{_code_digest()}\0{tree.kind}\0{tree.version}\0{Path(tree.package).resolve()}".encode())
    stack = [str(tree.package)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.is_dir(follow_symlinks=False):
                    if entry.name != "__pycache__":
                        stack.append(entry.path)
                    continue
                st = entry.stat()
                digest.update(f"{entry.path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class _Kept:
    """One tree's entries: those loaded from its file, and those computed in this process (written at exit)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.entries: dict[str, object] = _load(path) if path is not None else {}
        self.new: dict[str, object] = {}

    def get(self, what: str, compute: Callable[[], object]) -> object:
        if what in self.new:
            return self.new[what]
        if what in self.entries:
            return self.entries[what]
        self.new[what] = value = compute()
        return value

    def save(self) -> None:
        """Add this process's entries to the tree's file (what another process wrote meanwhile is kept)."""
        if self.path is None or not self.new:
            return
        kept = {}
        for what, value in self.new.items():
            with contextlib.suppress(Exception):  # a value pickle refuses stays this process's
                data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
                if len(data) <= LARGEST:
                    kept[what] = data
        if not kept:
            return
        with contextlib.suppress(OSError):  # a folder we cannot write: the run is as it was without the cache
            self.path.parent.mkdir(parents=True, exist_ok=True)
            merged = {**_raw(self.path), **kept}
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".tmp-", suffix=_SUFFIX)
            try:
                with os.fdopen(fd, "wb") as out:
                    pickle.dump(merged, out, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self.path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            _prune(self.path.parent)
        self.entries.update(self.new)
        self.new = {}


def _raw(path: Path) -> dict[str, bytes]:
    """The pickled entries of a tree's file ({} when it is missing or damaged)."""
    try:
        with open(path, "rb") as f:
            raw = pickle.load(f)  # noqa: S301 (the user's own cache folder)
    except Exception:  # missing, cut short, not ours: read as empty, written anew
        return {}
    return raw if isinstance(raw, dict) and all(isinstance(v, bytes) for v in raw.values()) else {}


def _load(path: Path) -> dict[str, object]:
    raw = _raw(path)
    if raw:
        with contextlib.suppress(OSError):  # used now: the folder keeps the trees used last
            os.utime(path)
    entries = {}
    for what, data in raw.items():
        with contextlib.suppress(Exception):  # an entry a changed class no longer reads is computed again
            entries[what] = pickle.loads(data)  # noqa: S301
    return entries


def _prune(where: Path) -> None:
    """Keep the :data:`KEEP` trees written or read last."""
    with contextlib.suppress(OSError):
        files = sorted(where.glob(f"[!.]*{_SUFFIX}"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in files[KEEP:]:
            with contextlib.suppress(OSError):
                old.unlink()


_TREES: dict[tuple[str, str, str], _Kept] = {}


def remembered(tree, what: str, compute: Callable[[], object]) -> object:
    """``compute()``'s value for ``what`` of ``tree``: from this process, else from the tree's cache file, else
    computed (and kept on disk when the process ends)."""
    key = (str(tree.package), tree.version, tree.kind)
    if key not in _TREES:
        where = folder()
        try:
            path = where / f"{fingerprint(tree)}{_SUFFIX}" if where is not None else None
        except OSError:  # a tree we cannot list (gone, unreadable): kept for this process alone
            path = None
        _TREES[key] = _Kept(path)
    return _TREES[key].get(what, compute)


def save_all() -> None:
    """Write every tree's new entries (run at exit)."""
    for kept in _TREES.values():
        kept.save()


atexit.register(save_all)
