"""Reading and writing the project's files safely.

Reading (:func:`read_bytes`): a file the tools find for themselves (a card, a lock, a stored result, a cache
entry) must be a regular file of bounded size: a pipe or a device in its place (``cards/100.yaml`` a FIFO, a
symlink to /dev/zero) would block the command forever or fill memory.

Writing: every file dossier writes (locks, cards, results, the manual, the fetch cache) lands whole or not at all.

The bytes go to a temp file beside the target, ``.<name>.<pid>.<random>.tmp`` (hidden, unique to one writer,
never a name a reader asks for), are flushed to disk, then renamed over the target. A failure or an interrupt
(Ctrl-C, or SIGTERM, which the CLI turns into one) removes the temp file and leaves the target as it was. Only
a kill that runs no Python (SIGKILL, a power cut) can leave one behind: the next write of the same target
removes those whose writer is no longer running, and the fixed ``<name>.tmp`` that older versions used.
"""

from __future__ import annotations

import atexit
import codecs
import errno
import fcntl
import os
import re
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it; done once, at import, before any thread runs
    os.umask(mask)
    return mask


_UMASK = _umask()
#: what a written file gets: what the process's umask allows a new file (mkstemp's 0600 would survive the
#: rename: a shared cache or a checkout must stay readable to others)
FILE_MODE = 0o666 & ~_UMASK
#: what a folder built aside and renamed into place gets (mkdtemp's 0700 would survive the rename)
DIR_MODE = 0o777 & ~_UMASK
#: a temp file of this module: target name, writer's pid, mkstemp's random part
_TEMP = re.compile(r"\.(?P<target>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp")


#: the most a project file without a smaller limit of its own may hold (a lock is ~100 KB, a diff a few MB)
MAX_FILE_BYTES = 64 * 1024 * 1024


def resolved(path: Path) -> Path:
    """``path`` made absolute with every link followed (:meth:`Path.resolve`). A link that leads back to itself is an
    OSError naming ``path`` ("a symbolic link that loops"), not the RuntimeError Python 3.11 raises: an internal
    error in every command given such a path (`--sglang-src`, `--git-repo`, a card to lint)."""
    try:
        return Path(path).resolve()
    except RuntimeError:
        raise OSError(errno.ELOOP, "a symbolic link that loops, or a path through one", str(path)) from None


def write_failure(exc: OSError) -> str:
    """Why a write failed, naming the path and what is in its way (one line): a file where a folder is needed (any
    part of the path), a folder where a file goes, a full disk or a read-only mount."""
    where = exc.filename2 if exc.errno == errno.EISDIR and exc.filename2 else exc.filename  # a rename's target
    if where is None:
        return exc.strerror or str(exc)
    if (staged := _TEMP.fullmatch(Path(where).name)) is not None:  # the file written, not the temp file it goes through
        where = str(Path(where).with_name(staged["target"]))
    if isinstance(exc, FileExistsError) or exc.errno == errno.ENOTDIR:  # mkdir met a file, or a part of the path is one
        blocker = next((p for p in (Path(where), *Path(where).parents) if p.exists() and not p.is_dir()), None)
        if blocker is not None:
            inside = "" if blocker == Path(where) else f" (on the way to {where})"
            return f"{blocker}: a file is in the way where a directory is needed{inside}; move it away"
    if exc.errno == errno.EISDIR:
        return f"{where}: a directory is in the way where a file is written; move it away"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"{where}: {exc.strerror} (nothing was replaced: free space and run again)"
    if exc.errno == errno.EROFS:
        return f"{where}: {exc.strerror} (remount it writable, or run in a writable copy of the project)"
    return f"{where}: {exc.strerror or exc}"


def node_kind(mode: int) -> str:
    """What a file that is not a regular file is, in a word or two ("a folder", "a pipe", ...)."""
    for check, kind in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a pipe"), (stat.S_ISSOCK, "a socket"),
                        (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device")):
        if check(mode):
            return kind
    return "not a file"


def kind_of(path: Path) -> str:
    """What is at ``path``, in a few words, a link that leads nowhere named as one: "a file", "a folder", "a pipe",
    "a broken link (to X)", "a symbolic link that loops", "nothing"."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if not path.is_symlink():
            return "nothing"
        if exc.errno == errno.ELOOP:
            return "a symbolic link that loops"
        return f"a broken link (to {os.readlink(path)})"
    return "a file" if stat.S_ISREG(mode) else node_kind(mode)


def read_bytes(path: Path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file at ``path`` (a symlink to one too). Raises OSError, naming ``path`` with a
    plain reason, for what is not one (a pipe, a device, a socket: never opened in a way that could block; a
    dangling symlink) and for a file of more than ``limit`` bytes (never read whole)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))  # a FIFO opens at once
    except FileNotFoundError:
        if not os.path.islink(path):
            raise
        raise OSError(errno.ENOENT, f"a symlink to {os.readlink(path)}, which does not exist", str(path)) from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, f"not a regular file ({node_kind(mode)})", str(path))
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise OSError(errno.EFBIG, f"larger than {limit:,} bytes, the most this kind of file may hold", str(path))
    return data


#: the byte-order marks of the encodings an editor or shell may save text in instead of UTF-8 (PowerShell's `>`
#: writes UTF-16LE); UTF-32's first, as UTF-32LE's mark begins with UTF-16LE's
_WIDE_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32LE"), (codecs.BOM_UTF32_BE, "UTF-32BE"), (codecs.BOM_UTF16_LE, "UTF-16LE"),
              (codecs.BOM_UTF16_BE, "UTF-16BE"))


def wide_encoding(raw: bytes) -> str | None:
    """The UTF-16 or UTF-32 encoding whose byte-order mark ``raw`` starts with, or None."""
    return next((name for bom, name in _WIDE_BOMS if raw.startswith(bom)), None)


def write_atomic(path: Path, data: str | bytes, *, exclusive: bool = False) -> Path:
    """Replace ``path`` with ``data`` (text is written as UTF-8) whole, or leave it as it was. A link to a file is
    written through (the file it leads to is replaced and the link kept: a lock linked from a shared checkout); the
    file replaced keeps its permission bits (a lock made read-only stays so).
    ``exclusive``: fail with FileExistsError when ``path`` exists (checked and taken in one step)."""
    target = path if exclusive else _through_link(path)
    tmp = stage(target, data)
    try:
        if exclusive:
            os.link(tmp, path)
            tmp.unlink()
        else:
            _replace(tmp, target)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):  # e.g. a folder where the file goes: named, not the temp file
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    return path


def _through_link(path: Path) -> Path:
    """What writing ``path`` replaces: the file a link to a file leads to, else ``path``."""
    return Path(os.path.realpath(path)) if os.path.islink(path) and os.path.isfile(path) else path


def _replace(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` over ``target``, giving it the permission bits of the file it replaces."""
    try:
        os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
    except (FileNotFoundError, NotADirectoryError):
        pass
    os.replace(tmp, target)


_held = threading.local()  # the folders this thread holds the lock of (a nested serialized() is a no-op)


@contextmanager
def serialized(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` for the block: a read-modify-write of a file in it (one section of
    cards/evidence.lock while another process records the other) waits for another one, never interleaves
    with it and drops its change. No file is created; the lock ends with the block (or the process). Nested
    in the same thread (a recording that reads, then calls a writer that locks too), it is held once."""
    key = os.path.realpath(folder)
    held = _held.__dict__.setdefault("folders", set())
    if key in held:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        held.add(key)
        yield
    finally:
        held.discard(key)
        os.close(fd)


def record(path: Path, text: Callable[[], str | bytes]) -> Path:
    """Write ``text()`` to ``path`` whole (:func:`write_atomic`), calling it while holding the lock on the
    folder (:func:`serialized`): what it reads of the file or its neighbours (the lock's other section, the
    releases it must keep) is not replaced by another recording before this one lands. Every lock under
    cards/ is written this way. Inside :func:`recorded_together`, the file is staged and lands with the others."""
    pending = getattr(_together, "pending", None)
    if pending is None:
        with serialized(Path(path).parent):
            return write_atomic(path, text())
    target = _through_link(Path(path))
    if target in pending:  # its second text() would read the file as it was, dropping the first one's change
        raise ValueError(f"{path} is recorded twice in one recording")
    pending[target] = stage(target, text())
    return path


_together = threading.local()  # the files staged by record() inside recorded_together(), target -> temp file


@contextmanager
def recorded_together(folder: Path) -> Iterator[None]:
    """Hold ``folder`` (:func:`serialized`) for the block and land every :func:`record` made in it at its end, all
    or none: a failure or an interrupt while the files are renamed puts back those already replaced, so a refused
    third lock never leaves the first two recorded without it."""
    with serialized(folder):
        _together.pending = pending = {}
        try:
            yield
        except BaseException:
            for tmp in pending.values():
                tmp.unlink(missing_ok=True)
            raise
        finally:
            _together.pending = None
        _land_all(pending)


def _land_all(pending: dict[Path, Path]) -> None:
    """Rename each staged file over its target; on any failure, put the replaced ones back as they were."""
    old = {target: target.read_bytes() if target.is_file() else None for target in pending}
    landed: list[Path] = []
    try:
        for target, tmp in pending.items():
            try:
                _replace(tmp, target)
            except OSError as exc:
                raise OSError(exc.errno, exc.strerror, str(target)) from None
            landed.append(target)
    except BaseException:
        for tmp in pending.values():
            tmp.unlink(missing_ok=True)
        for target in reversed(landed):
            if old[target] is None:
                target.unlink(missing_ok=True)
            else:
                write_atomic(target, old[target])
        raise


def check_writable(folder: Path) -> Path:
    """Create ``folder`` if needed and make sure a file can be written in it (a temp file, removed at once);
    raises OSError naming the folder. For work that writes only after minutes: fail before it starts. Returns the
    folder with its links resolved: `link/../x` is where mkdir put it, not the `x` a lexical reading finds."""
    for part in (*reversed(folder.parents), folder):  # mkdir's answer would be a bare "File exists" or ELOOP
        if os.path.islink(part) and not part.exists():
            raise OSError(errno.ENOENT, f"{kind_of(part)}, not a folder", str(part))
    real = Path(os.path.realpath(folder))
    real.mkdir(parents=True, exist_ok=True)
    try:
        fd, probe = tempfile.mkstemp(dir=real, prefix=f".write-check.{os.getpid()}.", suffix=".tmp")
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(folder)) from None
    os.close(fd)
    os.unlink(probe)
    return real


def stage(path: Path, data: str | bytes) -> Path:
    """``data`` written and flushed to disk in a new temp file beside ``path``; returns the temp file, which the
    caller renames over ``path`` (or removes). The file never outlives a failure here. Leftovers of writers of
    ``path`` that are no longer running are removed first. A ``path`` that is a device, a pipe or a socket (or a
    link to one: `-o /dev/stdout`) is refused: the rename would replace it, for every process of the machine."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode  # where a link leads
    except (FileNotFoundError, NotADirectoryError):  # nothing there yet, or a dangling link: replaced
        mode = None
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):  # the rename would replace the node
        raise OSError(errno.EINVAL, f"not a regular file ({node_kind(mode)}); dossier replaces a file "
                      "whole, which would replace it", str(path))
    remove_stale(path)
    # a temp file is made and listed before the exit's sweep, or not at all: an interrupt between the two left it behind
    with _staging, signals_deferred():
        if _exiting.is_set():  # a daemon writer (fetch) still running while the process exits
            raise OSError(errno.EINTR, "not written: the process is exiting", str(path))
        try:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
        except OSError as exc:  # named after the file meant, not the temp file (an unwritable folder, a full disk)
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        _staged.add(tmp)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OSError(exc.errno, exc.strerror, str(path)) from None
        raise
    return Path(tmp)


#: every temp file this process staged: those not yet renamed or removed go at exit. A fetch's writers run in daemon
#: threads, which an interrupt (Ctrl-C, SIGTERM) ends mid-write, and their temp files would wait for the next write;
#: one that staged a file after the sweep left it for good (the sweep closes staging first)
_staged: set[str] = set()
_staging = threading.Lock()
_exiting = threading.Event()


@atexit.register
def _remove_staged() -> None:
    with _staging:
        _exiting.set()
    for tmp in list(_staged):
        with suppress(OSError):
            os.unlink(tmp)


def remove_stale(path: Path) -> list[Path]:
    """Remove the temp files of ``path`` whose writer is no longer running, and ``<name>.tmp`` (older versions'
    fixed name); returns what was removed. A folder that cannot be listed is left alone."""
    folder = Path(path).parent
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for name in names:
        m = _TEMP.fullmatch(name)
        if name == f"{Path(path).name}.tmp" or (m and m["target"] == Path(path).name and not running(int(m["pid"]))):
            try:
                (folder / name).unlink()
            except FileNotFoundError:
                continue
            except OSError:
                continue  # not ours to remove (permissions): it stays hidden, and no reader asks for it
            removed.append(folder / name)
    return removed


def is_temp(name: str) -> bool:
    """Whether ``name`` is a temp file of this module (a writer's, running or not)."""
    return bool(_TEMP.fullmatch(name))


def in_progress(path: Path) -> bool:
    """Whether ``path`` is the temp file of a writer still running (it is renamed or removed when that ends)."""
    m = _TEMP.fullmatch(Path(path).name)
    return bool(m) and running(int(m["pid"]))


def running(pid: int) -> bool:
    """Whether a process ``pid`` exists here (a temp file's writer: its file is left alone while it runs)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists under another user, or cannot be asked: leave its file alone
    return True


@contextmanager
def signals_deferred(signums: tuple[int, ...] = (signal.SIGINT, signal.SIGTERM,
                                                 *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()))
                     ) -> Iterator[None]:
    """Hold ``signums`` back for the block and deliver the first that arrived once it ends (only the main
    thread can handle signals; elsewhere the block runs as is)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {n: signal.signal(n, lambda n, frame: pending.append(n)) for n in signums}
    try:
        yield
    finally:
        for n, handler in previous.items():
            signal.signal(n, signal.SIG_DFL if handler is None else handler)
        if pending:
            signal.raise_signal(pending[0])
