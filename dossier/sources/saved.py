"""Import source: a saved diff (e.g. `gh pr diff N > N.diff`) brought into the cache for PR N.

The diff is parsed and must hold at least one file. A saved diff carries no PR metadata, so title, state and
merge date stay None (facts() reports them unknown); the file list and line counts come from the diff.

A diff every line of which ends in CRLF was saved so (Windows, `unix2dos`): git writes a diff's own lines with LF
whatever the files hold, so those CRs are the save's, not the PR's. It is cached with LF (the text git or GitHub
give for the PR, one sha256), and the provenance says how many lines were changed (``saved_crlf``). A CR that only
some lines end in is the changed files' own and is kept.
"""

from __future__ import annotations

import codecs
import os
from pathlib import Path

from dossier.diff import DiffError, parse_diff
from dossier.files import wide_encoding
from dossier.sources import SAVED_CRLF, Fetched, SourceError, meta_from_diff, repeated
from dossier.sources.cache import MAX_DIFF_BYTES  # the cache's bound; /dev/zero or an endless pipe stops here


class SavedDiffSource:
    name = "import"

    def __init__(self, path: Path, repo: str):
        self.path = Path(os.path.abspath(path))  # not resolved: `<(gh pr diff N)` is /dev/fd/63, a link to
        # pipe:[...], a name no file has
        self.repo = repo
        if not self.path.exists():  # a usage error before anything is fetched, not a failed PR
            raise SourceError(f"--import {self.path} does not exist")
        if self.path.is_dir():
            raise SourceError(f"--import {self.path} is a folder, not a saved diff")

    def fetch(self, pr: int) -> Fetched:
        try:
            with open(self.path, "rb") as fh:  # a pipe too (`<(gh pr diff N)`): read up to the bound, never past it
                raw = fh.read(MAX_DIFF_BYTES + 1)
        except OSError as exc:
            raise SourceError(f"cannot read {self.path}: {exc.strerror}") from None
        if len(raw) > MAX_DIFF_BYTES:
            raise SourceError(f"{self.path} holds more than {MAX_DIFF_BYTES >> 20} MiB, more than any PR's diff: "
                              "not cached")
        try:
            diff_text = raw.removeprefix(codecs.BOM_UTF8).decode()  # the mark Notepad writes is no line of the diff
        except UnicodeDecodeError as exc:  # replaced, the cache would hold another text than the file named
            line = raw.count(b"\n", 0, exc.start) + 1
            wide = wide_encoding(raw)
            raise SourceError(f"{self.path} is " + (f"{wide} (it starts with that byte-order mark)" if wide else
                              f"not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line})")
                              + f": save the diff as UTF-8 (iconv {f'-f {wide[:6]} ' if wide else ''}-t UTF-8): not cached"
                              ) from None
        lines = diff_text.count("\n")
        if not lines and "\r" in diff_text:  # read as one line: "no file header found" named nothing to fix
            raise SourceError(f"{self.path} ends its lines in CR alone (a classic Mac save): convert it to LF line "
                              "ends (mac2unix): not cached")
        saved_crlf = lines if lines and diff_text.count("\r\n") == lines else 0
        if saved_crlf:
            diff_text = diff_text.replace("\r\n", "\n")
        try:
            files = parse_diff(diff_text)
        except DiffError as exc:
            raise SourceError(f"{self.path} is not a unified diff: {exc}") from None
        if not files:
            raise SourceError(f"{self.path} is empty: no file in the diff")
        twice = repeated(f.path for f in files)
        if twice is not None:  # a card's fragment would be looked for in the first section only
            raise SourceError(f"{self.path} holds {twice} twice: a series of patches (git format-patch, several "
                              "diffs joined), not one diff; save the PR's whole change as one (git diff BASE HEAD)")
        provenance = {"source": "import", "repo": self.repo, "import_path": str(self.path),
                      **({SAVED_CRLF: saved_crlf} if saved_crlf else {})}
        return Fetched(meta_from_diff(pr, files), diff_text, provenance)
