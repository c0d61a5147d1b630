"""Replacing a folder's files all at once (the rendered manual): a reader, or an interrupted writer, sees the old
folder or the new one, never a mix.

The new folder is built whole beside the old one, ``.<name>.<pid>.<random>.new`` (a copy of the old folder with the
changed files written over it, so files the writer does not own are kept), then swapped in by two renames: the old
folder to ``.<name>.<pid>.<random>.old``, the new one to ``<name>``; then the old copy is removed. SIGINT and SIGTERM
are held back from the first rename until the old copy is gone, and a failure of the second renames the old folder back. Only a kill that runs
no Python (SIGKILL, a power cut) can leave the folder half-way, and the next swap recovers first
(:func:`recover`): with ``<name>`` missing, a ``.old`` means its ``.new`` was complete, so that one is put in place
(or the ``.old`` back, where the ``.new`` is gone); anything else a dead writer left is removed. Writers of one
parent folder take turns (:func:`dossier.files.serialized`).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from dossier.errors import DossierError
from dossier.files import DIR_MODE, FILE_MODE, is_temp, remove_stale, running, serialized, signals_deferred

#: a folder this module builds or sets aside: target name, writer's pid, random part, which
_PART = re.compile(r"\.(?P<target>.+)\.(?P<pid>\d+)\.(?P<token>[A-Za-z0-9_]+)\.(?P<part>new|old)")


def leftovers(folder: Path) -> list[Path]:
    """The folders beside ``folder`` that a swap of it killed part-way left (their writer no longer runs)."""
    parent = Path(folder).parent
    try:
        names = sorted(os.listdir(parent))
    except OSError:
        return []
    return [parent / n for n in names if (m := _PART.fullmatch(n)) and m["target"] == Path(folder).name
            and not running(int(m["pid"]))]


def recover(folder: Path) -> list[Path]:
    """Finish or undo what a killed swap of ``folder`` left (see the module's docstring); returns the leftovers
    dealt with. Call it holding the parent's lock."""
    found = leftovers(folder)
    by_token: dict[str, dict[str, Path]] = {}
    for path in found:
        m = _PART.fullmatch(path.name)
        by_token.setdefault(f"{m['pid']}.{m['token']}", {})[m["part"]] = path
    for parts in by_token.values():
        if not os.path.lexists(folder) and "old" in parts:  # killed between the two renames
            os.replace(parts.get("new", parts["old"]), folder)
    for path in found:
        if (why := _remove(path)) is not None:
            raise DossierError(f"{path} was left by an earlier write of {Path(folder).name} and cannot be removed "
                               f"({why}); remove it yourself (an install would carry it)")
    return found


def _remove(path: Path) -> str | None:
    """Remove the folder ``path`` (a leftover, or the old copy a swap set aside); None once it is gone, else why
    it stays (a read-only or immutable file, another user's): it was left there unsaid, and blamed on a killed
    render."""
    failures: list[BaseException] = []

    def failed(_function, _path, error) -> None:  # onexc (3.12+) passes the exception, onerror its exc_info
        failures.append(error[1] if isinstance(error, tuple) else error)

    shutil.rmtree(path, **{"onexc" if sys.version_info >= (3, 12) else "onerror": failed})
    if not os.path.lexists(path):
        return None
    exc = failures[0] if failures else None
    return f"{exc.strerror or exc}: {exc.filename}" if isinstance(exc, OSError) else "it is still there"


def _same(path: Path, data: bytes) -> bool:
    return path.is_file() and not path.is_symlink() and path.read_bytes() == data


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # a copied link is replaced, never written through
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_files(folder: Path, files: dict[str, bytes]) -> list[str]:
    """Make ``folder`` hold ``files`` (path relative to it -> bytes) in one swap, keeping its other files; returns
    the paths whose bytes changed (none changed: nothing is written). A folder that is a link is swapped where it
    leads, the link kept. Raises DossierError (nothing replaced) where a folder stands in the place of one of the
    files, or a link to a folder on the way to one."""
    folder = Path(os.path.realpath(folder)) if os.path.islink(folder) else Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with serialized(folder.parent):
        recover(folder)
        if os.path.lexists(folder) and not folder.is_dir():
            raise DossierError(f"{folder} is not a folder; render writes the manual there")
        for rel in files:
            path = folder / rel
            if path.is_dir() and not path.is_symlink():
                raise DossierError(f"{path} is a folder where render writes a file")
            for above in (p for p in path.parents if folder in p.parents):
                if above.is_symlink():
                    raise DossierError(f"{above} is a link; render replaces the folder {folder} whole and writes "
                                       "no file through a link (make it a folder)")
                if os.path.lexists(above) and not above.is_dir():
                    raise DossierError(f"{above} is a file where render writes a folder")
        changed = [rel for rel, data in files.items() if not _same(folder / rel, data)]
        for rel in files:
            remove_stale(folder / rel)  # what killed writers of older versions left beside the file
        if changed:
            _copyable(folder)
            _swap(folder, {rel: files[rel] for rel in changed})
    return changed


def _copyable(folder: Path) -> None:
    """Raise DossierError, naming it, where ``folder`` holds what a swap cannot copy (a pipe, a socket, a device):
    the new folder is a copy of the old one with the changed files written in."""
    if not folder.is_dir():
        return
    for top, dirs, names in os.walk(folder):
        for name in dirs + names:
            path = Path(top) / name
            if not (path.is_symlink() or path.is_dir() or path.is_file()):
                raise DossierError(f"{path} is not a file or folder (a pipe, socket or device): render copies "
                                   f"{folder} whole to replace it; remove it")


def _swap(folder: Path, changed: dict[str, bytes]) -> None:
    try:
        new = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.{os.getpid()}.", suffix=".new"))
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(folder)) from None
    old = new.with_name(new.name[: -len(".new")] + ".old")
    try:
        if folder.is_dir():
            try:
                shutil.copytree(folder, new, symlinks=True, dirs_exist_ok=True,
                                ignore=lambda _, names: [n for n in names if is_temp(n)])
            except shutil.Error as exc:
                raise _first_copy_failure(exc) from None
        else:
            os.chmod(new, DIR_MODE)
        for rel, data in changed.items():
            _write(new / rel, data)
        for sub in {(new / rel).parent for rel in changed}:
            _fsync_dir(sub)
        with signals_deferred():
            moved = folder.is_dir()
            if moved:
                os.replace(folder, old)
            try:
                os.replace(new, folder)
            except BaseException:
                if moved:
                    os.replace(old, folder)
                raise
            try:
                _fsync_dir(folder.parent)  # the renames on disk before the old copy goes
            finally:
                left = _remove(old) if os.path.lexists(old) else None
    except BaseException as exc:
        shutil.rmtree(new, ignore_errors=True)
        if isinstance(exc, OSError) and str(exc.filename).startswith(str(new)):  # named after the file meant
            raise OSError(exc.errno, exc.strerror, str(folder) + str(exc.filename)[len(str(new)):]) from None
        raise
    if left is not None:
        raise DossierError(f"the new {folder.name} is in place, but its old copy {old} cannot be removed ({left}); "
                           "remove it yourself (an install would carry it)")


def _first_copy_failure(exc: shutil.Error) -> OSError:
    """The first file copytree could not copy, as the OSError it was (copytree folds every failure into one list
    of (source, target, message) strings, which the error line printed as a Python list)."""
    _, target, why = exc.args[0][0]
    m = re.match(r"\[Errno (\d+)\] ([^:]+)", str(why))
    return OSError(int(m[1]), m[2], target) if m else OSError(errno.EIO, str(why), target)


