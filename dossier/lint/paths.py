"""D616: a card's listed SGLang file one keystroke off a file that exists (a typo in files or key_fragment.file)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from dossier.lint.claims import surface
from dossier.lint.registry import Finding, rule
from dossier.model import Card


def one_edit(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one character inserted, deleted, replaced, or two neighbours swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = next((k for k in range(len(a)) if a[k] != b[k]), len(a))
    if len(a) < len(b):
        return a[i:] == b[i + 1:]
    return a[i + 1:] == b[i + 1:] or (a[i + 1:i + 2] == b[i:i + 1] and a[i:i + 1] == b[i + 1:i + 2]
                                      and a[i + 2:] == b[i + 2:])


@rule("D616", "a listed SGLang file is one character off a file of today's SGLang in its folder, and no source "
              "holds it (a typo)", scope="card")
def misspelt_file(card: Card, doc, ctx) -> Iterator[Finding]:
    """"python/sglang/srt/layers/attention/linear/gdn_backends.py" where 0.5.23 has gdn_backend.py beside it: a
    reader who opens the path finds nothing. A path today's SGLang lacks is usually code that moved or left since
    the PR, so only a path one edit (insert, delete, replace, swap) from a file in the same folder today is
    judged, and only when no synced release and no cached diff of the PR holds it. The card's own paths stand:
    they are the PR's changed files, or where its key fragment sits."""
    from dossier.lint.depth import text_location
    from dossier.lint.evidence import evidence
    from dossier.lint.grounds import _release_trees

    s = surface(ctx)
    if s is None:
        return
    changed = set(evidence(card, ctx).files or ())
    listed = [(f"files.{kind}[{i}]", p) for kind in ("runtime", "tests", "docs") for i, p in enumerate(card.files[kind])]
    listed.append(("key_fragment.file", card.key_fragment.file))
    for path, repo in listed:
        if repo in changed or s.knows_path(repo) is not False:
            continue
        p = PurePosixPath(repo)
        near = sorted(q for q in _folder(s, str(p.parent), ctx) if one_edit(p.name, PurePosixPath(q).name))
        if not near or any(t.local(repo) is not None and t.local(repo).is_file() for t in _release_trees(ctx).values()):
            continue
        yield Finding(text_location(path),
                      f"{repo} is in no SGLang source held (SGLang {s.tree.version}, synced releases, the PR's cached "
                      f"diff), and {near[0]} sits beside it: a typo?", hint=f"did you mean {near[0]}?")


def _folder(s, folder: str, ctx) -> list[str]:
    """The paths of today's tree directly inside ``folder``."""
    key = ("folders", str(s.tree.package))
    if key not in ctx.memo:
        by: dict[str, list[str]] = {}
        for q in s.paths:
            by.setdefault(q.rsplit("/", 1)[0], []).append(q)
        ctx.memo[key] = by
    return ctx.memo[key].get(folder, [])


#: SGLang's own source (not its tests): the package and the kernel library
_SOURCE_ROOTS = ("python/sglang/", "sgl-kernel/")
_TEST_PART = ("test", "tests", "testing", "benchmark", "benchmarks")


def is_runtime_source(repo: str) -> bool:
    """A path of SGLang's package or kernel library that is no test, test helper or benchmark."""
    p = PurePosixPath(repo)
    if not repo.startswith(_SOURCE_ROOTS) or p.suffix not in {".py", ".cu", ".cuh", ".cc", ".cpp", ".h", ".hpp"}:
        return False
    name = p.name
    return not (name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"
                or any(part in _TEST_PART for part in p.parts[:-1]))


@rule("D325", "files.tests or files.docs lists SGLang runtime source (python/sglang/..., sgl-kernel/...), which "
              "belongs in files.runtime", scope="card")
def misfiled_source(card: Card, doc, ctx) -> Iterator[Finding]:
    """The manual tells a reader what a PR tested and documented from files.tests and files.docs: the backend
    module listed as a test ("tests: gdn_backend.py") says the PR added tests it did not, and hides a runtime file
    from the checks that read files.runtime. Real cards list test files, CI scripts and .md/.mdx pages there."""
    from dossier.lint.depth import text_location

    for kind in ("tests", "docs"):
        for i, repo in enumerate(card.files[kind]):
            if is_runtime_source(repo):
                yield Finding(text_location(f"files.{kind}[{i}]"),
                              f"{repo} is SGLang runtime source, not a {'test' if kind == 'tests' else 'doc'}: "
                              f"listed under files.{kind} it reads as one",
                              hint="move it to files.runtime")
