"""D336: a listed file that the release which shipped the PR did not change, or did not have."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import PurePosixPath

from dossier.lint.registry import Finding, rule
from dossier.model import Card
from dossier.source_tree import PACKAGE_PREFIX, SOURCE_SUFFIXES


@rule("D336", "a listed package file (a test under python/sglang/ included) that the release which shipped the PR "
              "left unchanged, or that neither side of that release diff has", scope="card")
def listed_file_not_shipped(card: Card, doc, ctx) -> Iterator[Finding]:
    """`files.tests: [python/sglang/jit_kernel/tests/test_cutedsl_gdn.py]` on a card whose PR shipped in 0.5.10,
    when that test file reads the same in 0.5.9 and 0.5.10: it exists in SGLang, but the PR did not touch it (it is
    another PR's test), and a reader runs the wrong check. A file that neither 0.5.9 nor 0.5.10 has is no file of
    the PR's at all (a path that moved before the release, or made up). Every file a merged PR changed ships in the
    release its merge first reached, so a file the wheel carries (under python/sglang/, a source suffix) must differ
    between the two releases of the `added` event cards/evidence.lock takes as the card's proof. A file neither
    release has that cards/checked.lock vouches for (the PR's own file list names it) is left alone: a wheel leaves
    most tests out, and a file can be deleted again before the release (#10233's
    eagle_target_verify_cuda_graph_runner.py, in no release). Judged only with the release cache synced and that
    event on record (CI: not judged; D620/D617 read test/ paths offline)."""
    from dossier.lint.checked import vouched_files
    from dossier.lint.grounds import _release_trees, _shipping_event

    event = _shipping_event(card, ctx)
    trees = _release_trees(ctx) if event is not None else {}
    if event is None or event.new.version not in trees or event.old.version not in trees:
        return
    old, new = trees[event.old.version], trees[event.new.version]
    vouched = vouched_files(card, ctx)
    for group, paths in card.files.items():
        for i, path in enumerate(paths):
            p = PurePosixPath(path)
            if p.parts[:2] != PACKAGE_PREFIX.parts or p.suffix not in SOURCE_SUFFIXES or path == event.file:
                continue
            before, after = old.text(path), new.text(path)
            if before is None and after is None:
                if path in vouched:
                    continue
                what = f"neither SGLang {old.version} nor {new.version} has {path}"
            elif before == after:
                what = f"{path} is the same in SGLang {old.version} and {new.version}"
            else:
                continue
            yield Finding(f"files.{group}[{i}]",
                          f"{what}, the releases whose diff shipped this PR ({event.file}): not a file this PR changed",
                          hint="list the files the PR changed (its diff, or `dossier releases verify`); cite another "
                               "PR's test in prose, with its number")
