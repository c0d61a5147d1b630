"""Fetch-cache fixtures for the evidence tests: our own fixture diff, stored the way fetch stores it.

tests/dossier/fixtures/evidence/pr100.diff (written for these tests) has every shape the rules meet: a
multi-hunk file with a parenthesised import, a rename with an edit, a deleted file, an added test file and
a binary file. ``github_diff`` appends a file GitHub sent without a patch (too large).
"""

from __future__ import annotations

from pathlib import Path

from dossier.diff import file_patch_to_diff, parse_diff
from dossier.sources.cache import Cache, CacheEntry
from tests.dossier.factories import make_card, write_project

FIXTURES = Path(__file__).parent / "fixtures" / "evidence"
PR100 = (FIXTURES / "pr100.diff").read_text()
MODEL = "python/sglang/srt/models/qwen3_next.py"
LINEAR = "python/sglang/srt/layers/linear.py"
RENAMED_OLD = "python/sglang/srt/layers/attention/fla/fused_gating.py"
RENAMED_NEW = "python/sglang/kernels/ops/gating.py"
DELETED = "python/sglang/srt/layers/old_split.py"
ADDED_TEST = "test/srt/test_merged_proj.py"
BINARY = "docs/img/proj.png"
NO_PATCH = "python/sglang/srt/big_table.py"
BIG_OLD, BIG_RENAMED = "python/sglang/srt/big_old.py", "python/sglang/srt/big_renamed.py"
MISSING = {NO_PATCH, BIG_RENAMED}  # GitHub sent these without a patch


def github_diff() -> str:
    return PR100 + file_patch_to_diff(NO_PATCH, None, status="modified")


def github_meta(pr: int, diff_text: str, **overrides) -> dict:
    """Metadata shaped like the GitHub source's (title and dates agree with factories.make_card(pr))."""
    files = []
    for f in parse_diff(diff_text):
        missing = f.path in MISSING
        files.append(
            {
                "filename": f.path,
                "previous_filename": f.old_path,
                "status": f.status,
                "additions": 2100 if missing else len(f.added()),
                "deletions": 300 if missing else len(f.removed()),
                "patch_missing": missing,
                "binary": f.binary,
            }
        )
    meta = {
        "number": pr,
        "title": f"Fuse the widget projection in layer {pr}",
        "state": "merged",
        "merged": True,
        "merged_at": "2026-03-20T08:15:00Z",
        "author": "someone",
        "changed_files": len(files),
        "additions": sum(f["additions"] for f in files),
        "deletions": sum(f["deletions"] for f in files),
        "merge_commit_sha": "c" * 40,
        "base": {"ref": "main", "sha": "a" * 40},
        "head": {"ref": "widget", "sha": "b" * 40},
        "files": files,
    }
    meta.update(overrides)
    return meta


def put(cache_dir: Path, pr: int = 100, diff_text: str | None = None, **meta) -> CacheEntry:
    diff_text = github_diff() if diff_text is None else diff_text
    provenance = {"source": "github", "api_url": f"https://api.github.com/repos/example/repo/pulls/{pr}"}
    return Cache(cache_dir).put(pr, github_meta(pr, diff_text, **meta), diff_text, provenance)


def project_with(root: Path, *cards: dict) -> Path:
    return write_project(root, list(cards) or [make_card(100)])
