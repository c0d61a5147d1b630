"""D616/D617: an SGLang path a card names one keystroke off a path that exists (a typo); D325: source listed as a
test or doc."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from dossier.lint.claims import REPO_DIRS, _field_texts, _from_tree, _locate, surface
from dossier.lint.registry import Finding, rule
from dossier.mentions import PATH, find_mentions
from dossier.model import Card
from dossier.source_tree import in_wheel


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
    from dossier.lint.grounds import _release_trees

    s = surface(ctx)
    if s is None:
        return
    changed = diff_paths(card, ctx)
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


def diff_paths(card: Card, ctx) -> set[str]:
    """Every path the card's cached PR diff touched (empty when the PR is not cached)."""
    from dossier.evidence import changed_paths
    from dossier.lint.evidence import evidence

    ev = evidence(card, ctx)
    return changed_paths(ev.files, ev.entry.meta) if ev.files is not None else set()


def outside_wheel(repo: str) -> bool:
    """A path of the SGLang repository that no wheel ships (test/, scripts/, docker/, docs/, sgl-kernel/...)."""
    parts = PurePosixPath(repo).parts
    return len(parts) > 1 and parts[0] in REPO_DIRS and not in_wheel(repo)


def _named(card: Card, doc) -> list[tuple[str, str, tuple[int, int] | None, bool]]:
    """(YAML path, repo path, position or None, whether it is the PR's record) for every SGLang path outside the
    wheel the card names: its files and key file (the PR's record), and the paths in its prose."""
    from dossier.lint.depth import text_location

    out = [(text_location(f"files.{kind}[{i}]"), p, None, True)
           for kind in ("runtime", "tests", "docs") for i, p in enumerate(card.files[kind])]
    out.append(("key_fragment.file#value", card.key_fragment.file, None, True))
    for path, text in _field_texts(doc.data):
        seen: dict[str, int] = {}
        for m in find_mentions(text):
            if m.kind == PATH:
                n = seen[m.raw] = seen.get(m.raw, -1) + 1
                out.append((path, m.text.split("::")[0].rstrip("/"), _locate(doc, path, m.raw, n), False))
    return [x for x in out if outside_wheel(x[1])]


def _holders(ctx) -> dict[str, set[str]]:
    """Per SGLang path outside the wheel: who names it ("#N" for a card's files or prose, "lanes.yaml", "#N's
    diff" for a cached PR diff)."""
    if "outside-holders" not in ctx.memo:
        out: dict[str, set[str]] = {}
        for doc in ctx.project.valid_docs():
            card = Card.from_data(doc.data, doc.path)
            for _, repo, _, _ in _named(card, doc):
                out.setdefault(repo, set()).add(f"#{card.pr}")
            for repo in diff_paths(card, ctx):
                out.setdefault(repo, set()).add(f"#{card.pr}'s diff")
        lanes = ctx.project.lanes_doc
        if lanes is not None and isinstance(lanes.data, dict):
            from dossier.cards import strings

            for _, text in strings(lanes.data):
                for m in find_mentions(text):
                    if m.kind == PATH and outside_wheel(repo := m.text.split("::")[0].rstrip("/")):
                        out.setdefault(repo, set()).add("lanes.yaml")
        ctx.memo["outside-holders"] = out
    return ctx.memo["outside-holders"]


@rule("D617", "an SGLang path outside the wheel (test/, scripts/, docker/...) that no source holds, one keystroke "
              "off a path a source holds (a typo)", scope="card")
def misspelt_outside_path(card: Card, doc, ctx) -> Iterator[Finding]:
    """"test/registered/4-gpu-models/test_qwen3_next_model.py" where another card lists test_qwen3_next_models.py:
    wheels ship no test/, scripts/ or docker/ files, so no release can say whether such a path exists. What can:
    an SGLang checkout (--sglang-src: D604 then judges every path in prose, D616 a listed one), the cached PR
    diffs, and the other cards and lanes.yaml, which name the paths they hold. A path none of them holds is judged
    only when it is one edit from one they do hold (this card's own files count for its prose): a path with no
    such neighbour may be real, and nothing held here can say otherwise."""
    s = surface(ctx)
    if s is not None and s.tree.kind == "checkout":
        return
    holders = _holders(ctx)
    mine = f"#{card.pr}"
    own = {repo for _, repo, _, record in _named(card, doc) if record} | diff_paths(card, ctx)
    for yaml_path, repo, at, record in _named(card, doc):
        if holders.get(repo, set()) - {mine} or (not record and repo in own):
            continue
        near = sorted(q for q, who in holders.items()
                      if q != repo and (who - {mine} or (not record and q in own)) and one_edit(repo, q))
        if near:
            who = sorted(holders[near[0]] - {mine}) or ["this card's files"]
            yield Finding(yaml_path, f"{repo} is in no source held (no checkout, no cached diff, no other card), "
                                     f"and {near[0]} ({', '.join(who[:2])}) is one keystroke off: a typo?",
                          hint=f"did you mean {near[0]}?", at=at)


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


def _path_words(repo: str) -> set[str]:
    """The words of a path's folders and file name past its top folder, lower-case, that could be misspelt: three
    letters or more, no digit (sizes, counts and model versions: "8p", "397b", "qwen3" are not judged)."""
    return {w for part in PurePosixPath(repo).parts[1:] for w in re.split(r"[^a-z0-9]+", part.lower().removesuffix(".py"))
            if len(w) >= 3 and not any(c.isdigit() for c in w)}


def _known_words(s) -> frozenset[str]:
    """Words of every path, flag and env var of today's SGLang."""
    return _from_tree("path-words", s.tree, lambda _: frozenset(
        w for name in (*s.paths, *s.flags, *s.env) for w in re.split(r"[^a-z0-9]+", name.lower())))


def _held_words(ctx, mine: str) -> set[str]:
    """Words of the outside-the-wheel paths a source other than card ``mine`` holds."""
    return {w for repo, who in _holders(ctx).items() if who - {mine} for w in re.split(r"[^a-z0-9]+", repo.lower())}


_DEFINED = re.compile(r"\b(?:def|class)\s+(\w+)")
_STRING = re.compile(r"\"[^\"\n]*\"|'[^'\n]*'")


def _name_words(name: str) -> set[str]:
    """The words of an identifier or a string: split at anything but letters and digits, and at camelCase."""
    return {w.lower() for w in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)}


def _spelt_in_source(word: str, s, ctx) -> bool:
    """Whether today's SGLang names ``word`` in a function or class name or a string literal (a model, a feature, a
    suite): a local variable's abbreviation ("nxt_kv_lens") is not a name a test file is called after."""
    memo = ctx.memo.setdefault(("source-words", str(s.tree.package)), {})
    if word not in memo:
        spellings = (word, word.upper(), word.capitalize())  # as written in snake_case, CONSTANTS and CamelCase
        memo[word] = any(word in _name_words(" ".join(_DEFINED.findall(text)) + " " + " ".join(_STRING.findall(text)))
                         for text in s.tree.texts.values() if any(w in text for w in spellings))
    return memo[word]


@rule("D620", "an SGLang path outside the wheel (test/, scripts/...) that no source holds, with a word no SGLang "
              "path, identifier or held path has (a made-up or misspelt name)", scope="card")
def unsupported_outside_path(card: Card, doc, ctx) -> Iterator[Finding]:
    """"test/srt/models/test_qwen3_nxt.py": wheels ship no test/ directory, so no release in the cache vouches for
    a test path, and D617 judges only a path one keystroke off one a source holds. What a test or script file is
    named after (a model, a kernel, a feature, a suite folder) is spelt somewhere in SGLang: its package paths,
    flags, env vars, function and class names or string literals (not a local variable: "nxt_kv_lens"), or
    another card's, lanes.yaml's or a cached diff's path. A path no source holds (no checkout, no cached diff of
    the PR, no other card) is judged by its words past the top folder: one of three letters or more, with no
    digit, that none of those spells ("nxt") is a finding. A real but unheld path passes when its words are
    SGLang's (most are: "test_qwen3_next_models_fp4.py"), so a wrong but well-spelt name
    ("test_qwen3_next_models_v2.py") is not caught; an SGLang checkout (--sglang-src) judges every path exactly
    (D604, D616), and this rule steps aside for it."""
    s = surface(ctx)
    if s is None or s.tree.kind == "checkout":
        return
    holders = _holders(ctx)
    mine = f"#{card.pr}"
    diff = diff_paths(card, ctx)
    known = _known_words(s) | _held_words(ctx, mine)
    seen: set[str] = set()
    for yaml_path, repo, at, _ in _named(card, doc):
        if repo in seen or repo in diff or holders.get(repo, set()) - {mine}:
            continue
        seen.add(repo)
        odd = sorted(w for w in _path_words(repo) - known if not _spelt_in_source(w, s, ctx))
        if odd:
            yield Finding(yaml_path, f"{repo} is in no source held (no checkout, no cached diff, no other card), and "
                                     f"{', '.join(repr(w) for w in odd)} is spelt by no SGLang {s.tree.version} path, "
                                     "flag, env var, function or class name or string, nor by any path a source "
                                     "holds: a made-up or misspelt name?",
                          hint="copy the path from the PR's file list (dossier fetch N), or check it in a checkout "
                               "(lint --sglang-src)", at=at)
