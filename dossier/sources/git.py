"""Git source: find PR N's commit in a local clone (squash "... (#N)" or "Merge pull request #N") and diff it
against its first parent. No network.

A file whose diff is not UTF-8 (a Latin-1 source) is cached with U+FFFD in place of each byte UTF-8 cannot read,
as the provenance records (``not_utf8``: lines by file): the cache holds text, and refusing the PR would lose every other
file of it. The fetch names each such file; lint's D303 says so when a key fragment is not found there. A commit's
title or author that is not UTF-8 is read the same way, recorded (``not_utf8_meta``) and named by the fetch."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from dossier.diff import DiffError, parse_diff
from dossier.files import resolved
from dossier.sources import NOT_UTF8, NOT_UTF8_META, Fetched, SourceError, meta_from_diff, utc_stamp

FIELD, RECORD = "\x1f", "\x1e"
LOG_FORMAT = FIELD.join(("%H", "%P", "%an", "%cI", "%s", "%b")) + RECORD


@dataclass(frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    author: str
    committed: str
    subject: str
    body: str
    #: the fields among author, subject and body whose bytes were not UTF-8 (read with U+FFFD in their place)
    not_utf8: frozenset[str] = frozenset()

    def _title_field(self) -> str:
        return "body" if self.subject.startswith("Merge pull request") and self.body.strip() else "subject"

    def title(self, pr: int) -> str:
        """The PR title: a squash subject without " (#N)", or a merge commit's first body line."""
        if self._title_field() == "body":
            return next(ln.strip() for ln in self.body.splitlines() if ln.strip())
        return re.sub(rf"\s*\(#{pr}\)$", "", self.subject.rstrip())

    def meta_not_utf8(self) -> list[str]:
        """The metadata fields (title, author) read from bytes that were not UTF-8."""
        return [name for name, field in (("title", self._title_field()), ("author", "author"))
                if field in self.not_utf8]


def _matches(commit: Commit, pr: int) -> bool:
    subject = commit.subject.rstrip()
    return subject.endswith(f"(#{pr})") or re.match(rf"Merge pull request #{pr}(?!\d)", subject) is not None


class GitSource:
    name = "git"

    def __init__(self, repo_path: Path, repo: str, ref: str = "HEAD"):
        self.repo_path = resolved(repo_path)
        self.repo = repo
        self.ref = ref
        self._git("rev-parse", "--git-dir", what=f"{self.repo_path} is not a git repository")
        try:
            self._git("rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}", what="")
        except SourceError:  # git log would print its usage ('Use -- to separate paths from revisions')
            unborn = ref == "HEAD" and not self._git("rev-list", "-n1", "--all", what="git rev-list failed").strip()
            raise SourceError(f"{ref} names no commit in {self.repo_path}" + (
                ": the repository has no commits yet (clone SGLang, or pass --git-repo a clone that has them)"
                if unborn else "")) from None

    def _git(self, *args: str, what: str) -> str:
        return self._git_bytes(*args, what=what).decode(errors="replace")

    def _git_bytes(self, *args: str, what: str) -> bytes:
        cmd = ["git", "-C", str(self.repo_path), "-c", "core.quotepath=false", *args]
        try:
            done = subprocess.run(cmd, capture_output=True, check=False)
        except FileNotFoundError:
            raise SourceError("git is not installed (needed for --source git)") from None
        if done.returncode != 0:
            detail = done.stderr.decode(errors="replace").strip().splitlines()
            raise SourceError(f"{what}: {detail[-1] if detail else f'git exited {done.returncode}'}")
        return done.stdout

    def find_commit(self, pr: int) -> Commit:
        """The one commit on ``ref`` for PR ``pr``; SourceError when none or several match."""
        # --encoding: a clone whose i18n.logOutputEncoding is not UTF-8 had every non-ASCII subject read as U+FFFD
        out = self._git_bytes("log", "--encoding=UTF-8", self.ref, "-F", f"--grep=(#{pr})", f"--grep=Merge pull request #{pr}",
                              f"--format={LOG_FORMAT}", what=f"git log failed in {self.repo_path}")
        commits = []
        for record in out.split(RECORD.encode()):
            fields = record.strip(b"\n").split(FIELD.encode())
            if len(fields) == 6:
                sha, parents, author, committed, subject, body = (f.decode(errors="replace") for f in fields)
                lost = frozenset(name for name, raw in zip(("author", "subject", "body"), fields[2:3] + fields[4:], strict=True)
                                 if not _utf8(raw))
                commits.append(Commit(sha, tuple(parents.split()), author, committed, subject, body, lost))
        found = [c for c in commits if _matches(c, pr)]
        if not found:
            raise SourceError(f"no commit in {self.repo_path} ({self.ref}) whose subject ends in "
                              f"'(#{pr})' or starts 'Merge pull request #{pr}'")
        if len(found) > 1:
            listed = ", ".join(f"{c.sha[:10]} {c.subject!r}" for c in found)
            raise SourceError(f"{len(found)} commits match in {self.repo_path}: {listed}")
        return found[0]

    def fetch(self, pr: int) -> Fetched:
        commit = self.find_commit(pr)
        if not commit.parents:
            raise SourceError(self._no_parent(commit))
        parent = commit.parents[0]
        raw = self._text_by_content(self._diff(parent, commit.sha), parent, commit.sha)
        diff_text, replaced = _decode(raw)
        try:
            files = parse_diff(diff_text)
        except DiffError as exc:
            raise SourceError(f"git produced a diff unidiff cannot read ({exc})") from None
        merged_at = dt.datetime.fromisoformat(commit.committed).astimezone(dt.UTC)
        head = commit.parents[1] if len(commit.parents) > 1 else commit.sha
        meta = meta_from_diff(
            pr, files, title=commit.title(pr), state="merged", merged=True,
            merged_at=utc_stamp(merged_at), author=commit.author,
            merge_commit_sha=commit.sha, base={"ref": None, "sha": parent}, head={"ref": None, "sha": head},
        )

        provenance = {"source": "git", "repo": self.repo, "repo_path": str(self.repo_path),
                      "ref": self.ref, "commit": commit.sha, "parent": parent,
                      **({NOT_UTF8: replaced} if replaced else {}),
                      **({NOT_UTF8_META: lost} if (lost := commit.meta_not_utf8()) else {})}
        return Fetched(meta, diff_text, provenance)

    def _diff(self, parent: str, sha: str, *extra: str) -> bytes:
        return self._git_bytes("diff", "--no-color", "--no-ext-diff", "--no-textconv", "--find-renames",
                               "--src-prefix=a/", "--dst-prefix=b/", *extra, parent, sha,
                               what=f"git diff {parent[:10]}..{sha[:10]} failed")

    def _no_parent(self, commit: Commit) -> str:
        """Why a commit has no parent: the edge of a shallow clone (its parent not fetched), or the first commit."""
        shallow = Path(self._git("rev-parse", "--git-path", "shallow", what="git rev-parse failed").strip())
        shallow = shallow if shallow.is_absolute() else self.repo_path / shallow
        if shallow.is_file() and commit.sha in shallow.read_text(encoding="ascii", errors="replace").split():
            return (f"commit {commit.sha[:10]} is at the edge of a shallow clone (its parent was not fetched): run "
                    f"`git -C {self.repo_path} fetch --deepen=1` (or --unshallow), then fetch again")
        return f"commit {commit.sha[:10]} is the repository's first commit: it has no parent to diff against"

    def _text_by_content(self, raw: bytes, parent: str, sha: str) -> bytes:
        """``raw`` with each file that git showed as binary only because the clone's attributes say so (``-diff``,
        ``binary`` in .gitattributes: its blobs hold no NUL byte, git's own test) diffed as the text it is: the
        cache would hold no line of it, and a key fragment there could never be found."""
        sections = _sections(raw)
        if not any(_BINARY.search(s) for s in sections):
            return raw
        forced = _sections(self._diff(parent, sha, "--text"))
        if [_first_line(s) for s in forced] != [_first_line(s) for s in sections]:
            return raw
        return b"".join(text if _BINARY.search(shown) and self._blobs_are_text(shown) else shown
                        for shown, text in zip(sections, forced, strict=True))

    def _blobs_are_text(self, section: bytes) -> bool:
        m = re.search(rb"(?m)^index ([0-9a-f]+)\.\.([0-9a-f]+)", section)
        blobs = [b.decode() for b in m.groups() if b.strip(b"0")] if m else []
        return bool(blobs) and all(b"\0" not in self._git_bytes("cat-file", "blob", blob, what="git cat-file failed")
                                   [:_BINARY_PROBE] for blob in blobs)


#: a file section git wrote as binary; git calls a blob binary when a NUL is in its first 8000 bytes
_BINARY = re.compile(rb"(?m)^(?:Binary files .* differ|GIT binary patch)$")
_BINARY_PROBE = 8000


def _sections(raw: bytes) -> list[bytes]:
    return [s for s in re.split(rb"(?m)^(?=diff --git )", raw) if s]


def _first_line(section: bytes) -> bytes:
    return section.split(b"\n", 1)[0]


def _decode(raw: bytes) -> tuple[str, dict[str, int]]:
    """``raw`` diff as text, each byte UTF-8 cannot read as U+FFFD; and by file path, how many of that file's
    diff lines (its header included) held such bytes."""
    sections = _sections(raw)
    replaced: dict[str, int] = {}
    texts = []
    for section in sections:
        text = section.decode(errors="replace")
        texts.append(text)
        lost = sum(1 for line in section.split(b"\n") if not _utf8(line))
        if lost:
            try:
                path = next((f.path for f in parse_diff(text)), None)
            except DiffError:
                path = None
            replaced[path or "(diff header)"] = lost
    return "".join(texts), replaced


def _utf8(line: bytes) -> bool:
    try:
        line.decode()
    except UnicodeDecodeError:
        return False
    return True
