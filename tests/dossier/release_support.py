"""Tiny synthetic SGLang wheels, built on the fly, so release tests never reach an index."""

from __future__ import annotations

import zipfile
from pathlib import Path


def make_wheel(where: Path, version: str, files: dict[str, str], built: tuple[int, int, int] = (2026, 1, 1),
               tag: str = "py3-none-any") -> Path:
    """Write ``sglang-<version>-<tag>.whl`` holding ``files`` (paths inside the sglang package) plus the
    dist-info pip reads; every entry carries the ``built`` date."""
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"sglang-{version}-{tag}.whl"
    info = f"sglang-{version}.dist-info"
    entries = {"sglang/__init__.py": "", "sglang/version.py": f'__version__ = "{version}"\n',
               **{f"sglang/{k}": v for k, v in files.items()},
               f"{info}/METADATA": f"Metadata-Version: 2.1\nName: sglang\nVersion: {version}\n",
               f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n",
               f"{info}/top_level.txt": "sglang\n"}
    entries[f"{info}/RECORD"] = "".join(f"{k},,\n" for k in entries) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in entries.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(*built, 12, 0, 0)), text)
    return path


def write_release(cache: Path, version: str, built: str, files: dict[str, str]) -> Path:
    """A synced release as `dossier releases sync` leaves it (files: paths inside the sglang package)."""
    import json

    base = cache / version
    for rel, text in {"__init__.py": "", **files}.items():
        path = base / "python" / "sglang" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (base / "release.json").write_text(json.dumps({"version": version, "built": built, "files": len(files) + 1,
                                                   "wheel": f"sglang-{version}-py3-none-any.whl"}))
    return base
