"""One SGLang source tree: a version, the day it was built (when known), and its files by repository path.

A tree is today's installed package, a checkout, or a published release from the release cache. Card
paths are repository paths (``python/sglang/srt/...``); in a package they map to ``<package>/srt/...``.
Drift reads the newest tree, release evidence reads two consecutive ones, the version query reads any.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from dossier.code_lines import lines_in_code
from dossier.errors import DossierError
from dossier.files import kind_of, read_bytes, resolved, wide_encoding
from dossier.releases import RECORD, DamagedSource, Release, check_source, read_index

PACKAGE_PREFIX = PurePosixPath("python/sglang")


def in_wheel(path: str) -> bool:
    """Whether a repository path is part of what a release wheel ships (the python/sglang/ package)."""
    return PurePosixPath(path).parts[:2] == PACKAGE_PREFIX.parts


SOURCE_SUFFIXES = {".py", ".pyi", ".cu", ".cuh", ".c", ".cc", ".cpp", ".h", ".hpp", ".hip", ".jinja2"}
_VERSION = re.compile(r"""^__version__\s*=\s*(?:\w+\s*=\s*)*['"]([^'"]+)['"]""", re.MULTILINE)


class TreeError(DossierError):
    """No SGLang source where one was asked for (exit 2)."""


#: the fewest files (or cards' code) a tree must lack, beyond half of those it should hold, to read as partial: one
#: or two gone is what drift and for-version are there to report
PARTIAL_AT = 5


def looks_partial(missing: int, of: int) -> bool:
    """Whether a tree that lacks ``missing`` of the ``of`` files (or cards' code) it should hold is a partial one (a
    copy cut short, a stub package that carries only a version) rather than a release that moved a few files."""
    return missing >= PARTIAL_AT and missing * 2 > of


@dataclass(frozen=True)
class Where:
    file: str  # repository path (python/sglang/...)
    lines: tuple[int, ...]


@dataclass(eq=False)
class SourceTree:
    package: Path  # the `sglang` package directory
    checkout: Path | None  # the repository root when the tree is checkout-shaped (checkouts, releases)
    version: str
    built: str | None = None  # YYYY-MM-DD for a published release
    kind: str = "package"  # package | checkout | release
    _texts: dict[str, str] | None = field(default=None, repr=False)
    _read: dict[str, str | None] = field(default_factory=dict, repr=False)
    _index: dict | None | bool = field(default=False, repr=False)  # files.json or pip RECORD (False: not read yet)
    #: what readers work out from the texts (a search's answer, a file's words), kept while the texts are held
    memo: dict[tuple, object] = field(default_factory=dict, repr=False)

    @property
    def label(self) -> str:
        if self.kind == "release":
            return f"SGLang {self.version} (release built {self.built})"
        where = f"checkout {self.checkout}" if self.kind == "checkout" else f"package {self.package}"
        return f"SGLang {self.version} ({where})"

    @classmethod
    def installed(cls) -> SourceTree:
        """The installed ``sglang`` package, found with importlib.util.find_spec (no import)."""
        spec = importlib.util.find_spec("sglang")
        if spec is None or not spec.submodule_search_locations:
            raise TreeError("sglang is not installed: `pip install --no-deps sglang`, or pass --sglang-src PATH")
        package = Path(next(iter(spec.submodule_search_locations)))
        return cls(package, None, _holds_sglang(package, "the `sglang` package Python finds first"))

    @classmethod
    def at(cls, src: Path) -> SourceTree:
        """A checkout (``python/sglang/``), a package dir, or a dir holding ``sglang/``."""
        src = resolved(src)
        if not src.exists():
            raise TreeError(f"SGLang source {src} does not exist")
        if (src / PACKAGE_PREFIX / "__init__.py").is_file():
            return cls(src / PACKAGE_PREFIX, src, _holds_sglang(src / PACKAGE_PREFIX), kind="checkout")
        for package in (src, src / "sglang"):
            if package.name == "sglang" and (package / "__init__.py").is_file():
                return cls(package, None, _holds_sglang(package))
        raise TreeError(f"{src} is neither an SGLang checkout (python/sglang/) nor an sglang package")

    @classmethod
    def release(cls, release: Release) -> SourceTree:
        """A release from the release cache (its sources sit under python/sglang/)."""
        return cls(release.path / PACKAGE_PREFIX, release.path, release.version, release.built, kind="release")

    @property
    def synced_release(self) -> bool:
        """Whether the tree is a release of the release cache (its folder holds sync's record), named with
        --sglang-src or not: it holds the wheel's .py files only."""
        return self.checkout is not None and (self.checkout / RECORD).is_file()

    def repo_path(self, path: Path) -> str:
        if self.checkout:
            return path.relative_to(self.checkout).as_posix()
        return (PACKAGE_PREFIX / path.relative_to(self.package)).as_posix()

    def local(self, repo_path: str) -> Path | None:
        """Where a repository path lives in this tree (None: outside what the tree holds). A release of the cache
        holds only the .py files of its wheel's package (`releases sync` keeps no other): any other file is outside
        it, never gone from it (drift --record on one named the MoE config JSONs 0.5.23 ships "not in SGLang
        0.5.23" in by-file.md)."""
        if self.checkout:
            if self.synced_release and not (in_wheel(repo_path) and repo_path.endswith(".py")):
                return None
            return self.checkout / repo_path
        rel = PurePosixPath(repo_path)
        if rel.parts[:2] != PACKAGE_PREFIX.parts:
            return None
        return self.package.joinpath(*rel.parts[2:])

    @property
    def texts(self) -> dict[str, str]:
        """Every source file of the package, read once, by repository path."""
        if self._texts is None:
            self._texts = {}
            for path in sorted(self.package.rglob("*")):
                if path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts and path.is_file():
                    # as :meth:`read` (UTF-16 text is refused): decoded as UTF-8, a file the code moved to read as
                    # noise, and drift called a card whose code is there "missing"; one :meth:`text` read is kept
                    rel = self.repo_path(path)
                    self._texts[rel] = self._read.pop(rel, None) or self.read(rel)
            listed = self._index if isinstance(self._index, dict) else {}
            for gone in sorted(p for p in listed if isinstance(p, str) and p.endswith(".py") and p not in self._texts):
                self._decode(gone, None)  # a source the wheel held, deleted since: raises
        return self._texts

    def text(self, repo_path: str) -> str | None:
        """One file's text (None: not in this tree); reads only that file unless the tree is loaded."""
        if self._texts is not None and repo_path in self._texts:
            return self._texts[repo_path]
        if repo_path not in self._read:
            self._read[repo_path] = self.read(repo_path)
        return self._read[repo_path]

    def read(self, repo_path: str) -> str | None:
        """One file's text, not kept (a scan of every file of many releases); None: not in this tree. Something
        there that cannot be read as a source (a folder, a broken or looping link, UTF-16 text) is an error naming
        it: taken as absent, drift would report its cards' code "missing" and record that as fact."""
        path = self.local(repo_path)
        if path is None or not (path.exists() or path.is_symlink()):
            return self._decode(repo_path, None)
        if not path.is_file():
            raise TreeError(f"{self.label}: {path} is {kind_of(path)}, not a source file; the tree is damaged, so "
                            "nothing read from it can be judged (restore the file, or point --sglang-src at "
                            "another tree)")
        data = path.read_bytes()
        if encoding := wide_encoding(data):
            raise TreeError(f"{self.label}: {path} is {encoding} text, not UTF-8 as SGLang's sources are; save it "
                            "as UTF-8 (or restore it) and run again")
        return self._decode(repo_path, data)

    def _decode(self, repo_path: str, data: bytes | None) -> str | None:
        """A source's text, once it is what the wheel held where that is known (else DamagedSource): a release of
        the cache (also named with --sglang-src) against what sync recorded, an installed package against pip's
        RECORD."""
        if repo_path.endswith(".py"):
            if self.synced_release:
                if self._index is False:
                    self._index = read_index(self.checkout)
                check_source(self.checkout, repo_path, data, self._index)
            elif self.checkout is None:
                if self._index is False:
                    self._index = installed_record(self.package)
                _check_installed(self, repo_path, data)
        return data.decode("utf-8", errors="replace") if data is not None else None

    def search(self, match: str) -> list[Where]:
        """Every file holding ``match`` as code (not in a comment or docstring), with the lines it is on (each match
        searched once while the texts are held: lint, drift and render ask for the same key fragments)."""
        key = ("search", match)
        if key not in self.memo:
            self.memo[key] = tuple(Where(f, lines) for f, text in self.texts.items() if match in text
                                   and (lines := lines_with(text, match, f)))
        return list(self.memo[key])

    def unload(self) -> None:
        """Forget the texts read so far (trees of many releases do not fit in memory at once)."""
        self._texts = None
        self._read.clear()
        self.memo.clear()


def installed_record(package: Path) -> dict | None:
    """pip's RECORD of an installed ``sglang`` (repo path -> [size, sha256 hex], and the RECORD's path under
    ``None``), or None where there is none (a checkout, an editable install). A RECORD that cannot be read whole
    (a folder, a link that loops, bytes that are not UTF-8 text, a quote left open, a row cut short) raises
    DamagedSource: read as far as it goes, it would leave files unchecked, or blame a whole file for a cut hash."""
    records = [r for info in sorted(package.parent.glob("sglang-*.dist-info"))  # a link that loops is not globbed
               if os.path.lexists(r := info / "RECORD")]
    if not records:
        return None
    record = records[0]

    def damaged(where: str, why: str) -> DamagedSource:
        return DamagedSource(f"SGLang package: {record}{where}: {why}: pip's record of the files is damaged, and no "
                             "file can be checked against it; reinstall it (pip install --force-reinstall --no-deps "
                             f"sglang=={read_version(package)})")

    try:
        text = read_bytes(record).decode("utf-8")
    except OSError as exc:
        raise damaged("", f"cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise damaged("", f"byte {exc.start} is not UTF-8 text") from None
    if text and not text.endswith("\n"):
        raise damaged("", "its last row has no line end: the file was cut short")
    out: dict = {None: record}
    try:
        for number, row in _record_rows(text):
            if row[0].split("/", 1)[0] != "sglang":
                continue
            try:
                entry = _record_entry(row)
            except ValueError as exc:  # binascii.Error is one: a sha256 that is no base64
                raise _RowDamage(f" line {number} ({row[0][:80]})", str(exc)) from None
            if entry is not None:
                out[(PACKAGE_PREFIX / PurePosixPath(*PurePosixPath(row[0]).parts[1:])).as_posix()] = entry
    except _RowDamage as exc:
        raise damaged(*exc.args) from None
    return out


class _RowDamage(Exception):
    """Where in RECORD (" line N") and why it cannot be read."""


def _record_rows(text: str) -> list[tuple[int, list[str]]]:
    """RECORD's rows with the line each starts on; a quote that swallows line ends, or never closes, is damage."""
    import csv
    import io

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows, number = [], 1
    try:
        for row in reader:
            if any("\n" in cell or "\r" in cell for cell in row):
                raise _RowDamage(f" line {number}", "a quote opened there runs over the line end (a quote left open?)")
            if any("\0" in cell for cell in row):  # no path or hash holds one: binary bytes in the file
                raise _RowDamage(f" line {number}", "it holds a NUL byte")
            if row:
                rows.append((number, row))
            number = reader.line_num + 1
    except csv.Error as exc:
        raise _RowDamage(f" line {number}", f"not a CSV row ({exc})") from None
    return rows


def _record_entry(row: list[str]) -> list | None:
    """[size, sha256 hex] of one RECORD row of a file under sglang/; None for a file pip wrote without a hash (the
    .pyc it compiled). Raises ValueError for any other row: a field missing, a hash cut short."""
    import base64

    if len(row) != 3:
        raise ValueError(f"{len(row)} field(s) where a row has 3 (path, hash, size)")
    if row[1:] == ["", ""]:
        return None
    if not row[1].startswith("sha256="):
        raise ValueError(f"hash {row[1][:20]!r} is no sha256=")
    b64 = row[1][len("sha256="):]
    if not (row[2].isascii() and row[2].isdigit()):
        raise ValueError(f"size {row[2]!r} is no number of bytes")
    digest = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
    if len(digest) != 32:
        raise ValueError(f"the sha256 holds {len(digest)} bytes, not 32: it was cut short")
    return [int(row[2]), digest.hex()]


def _check_installed(tree: SourceTree, repo_path: str, data: bytes | None) -> None:
    """Raise DamagedSource when an installed file (None: absent) differs from what pip's RECORD says its wheel
    held."""
    import hashlib

    entry = tree._index.get(repo_path) if isinstance(tree._index, dict) else None
    if entry is None:
        return
    size, digest = entry
    why = (f"is missing, though {tree._index[None]} lists it" if data is None else
           f"is {len(data):,} bytes where {tree._index[None]} records {size:,}" if len(data) != size else
           f"differs from the sha256 {tree._index[None]} records" if hashlib.sha256(data).hexdigest() != digest else "")
    if why:
        what = "deleted" if data is None else "cut short or changed"
        raise DamagedSource(f"SGLang package: {tree.local(repo_path)} {why}: the file was {what} after pip installed "
                            "it, and what is read from the package would be wrong; reinstall it (pip install "
                            f"--force-reinstall --no-deps sglang=={tree.version})")


def _holds_sglang(package: Path, what: str = "") -> str:
    """The version of the SGLang sources at ``package``; raises TreeError when it holds none (no version and
    no srt/: an empty or shadowing package), which would make every card's code look missing."""
    version = read_version(package)
    if version == "unknown" and not (package / "srt").is_dir():
        raise TreeError(f"{package} ({what}) holds no SGLang sources (no version, no srt/): an empty or shadowing "
                        "package? check PYTHONPATH, or pass --sglang-src PATH" if what else
                        f"{package} holds no SGLang sources (no version, no srt/)")
    return version


def read_version(package: Path) -> str:
    """__version__ from version.py (following ``from sglang._version import``), else dist metadata."""
    for name in ("version.py", "_version.py"):
        path = package / name
        m = _VERSION.search(path.read_text(encoding="utf-8", errors="replace")) if path.is_file() else None
        if m:
            return m.group(1)
    for meta in sorted(package.parent.glob("sglang-*.dist-info/METADATA")):
        m = re.search(r"^Version:\s*(\S+)", meta.read_text(encoding="utf-8", errors="replace"), re.MULTILINE)
        if m:
            return m.group(1)
    return "unknown"


def lines_with(text: str, match: str, path: str = "") -> tuple[int, ...]:
    """Lines holding ``match``; given the file's ``path``, only where it is code (see :mod:`dossier.code_lines`)."""
    if path:
        return lines_in_code(text, match, path)
    return tuple(i for i, line in enumerate(text.splitlines(), 1) if match in line)
