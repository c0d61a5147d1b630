"""dossier.diff: unified diffs parsed into files, hunks and numbered lines; malformed text rejected."""

from __future__ import annotations

import pytest

from dossier.diff import DiffError, DiffLine, file_patch_to_diff, parse_diff

GIT_DIFF = """\
diff --git a/python/sglang/srt/layers/linear.py b/python/sglang/srt/layers/linear.py
index 1111111..2222222 100644
--- a/python/sglang/srt/layers/linear.py
+++ b/python/sglang/srt/layers/linear.py
@@ -10,4 +10,5 @@ class MergedColumnParallelLinear:
     def weight_loader(self, param, loaded_weight, loaded_shard_id=None):
-        if loaded_shard_id is None:
+        if isinstance(loaded_shard_id, tuple):
+            return self._load_tuple(param, loaded_weight, loaded_shard_id)
         shard_offset = 0
     return x
@@ -40,2 +41,2 @@ def other():
-    a = 1
+    a = 2
     b = 3
diff --git a/docs/new.md b/docs/new.md
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/docs/new.md
@@ -0,0 +1,2 @@
+# Title
+text
\\ No newline at end of file
diff --git a/old_test.py b/old_test.py
deleted file mode 100644
index 4444444..0000000
--- a/old_test.py
+++ /dev/null
@@ -1,2 +0,0 @@
-import x
-x.run()
diff --git a/python/a.py b/python/b.py
similarity index 90%
rename from python/a.py
rename to python/b.py
index 5555555..6666666 100644
--- a/python/a.py
+++ b/python/b.py
@@ -1,2 +1,2 @@
 keep = 1
-name = "a"
+name = "b"
diff --git a/assets/plot.png b/assets/plot.png
new file mode 100644
index 0000000..7777777
Binary files /dev/null and b/assets/plot.png differ
diff --git a/same.py b/moved.py
similarity index 100%
rename from same.py
rename to moved.py
"""


def test_files_statuses_and_paths():
    files = parse_diff(GIT_DIFF)
    got = [(f.path, f.old_path, f.status, f.binary, len(f.hunks)) for f in files]
    assert got == [
        ("python/sglang/srt/layers/linear.py", None, "modified", False, 2),
        ("docs/new.md", None, "added", False, 1),
        ("old_test.py", None, "removed", False, 1),
        ("python/b.py", "python/a.py", "renamed", False, 1),
        ("assets/plot.png", None, "added", True, 0),
        ("moved.py", "same.py", "renamed", False, 0),
    ]


def test_lines_carry_their_numbers_and_text():
    linear = parse_diff(GIT_DIFF)[0]
    assert linear.hunks[0].header == "@@ -10,4 +10,5 @@ class MergedColumnParallelLinear:"
    assert linear.removed() == [
        DiffLine("-", 11, None, "        if loaded_shard_id is None:"),
        DiffLine("-", 40, None, "    a = 1"),
    ]
    assert linear.added() == [
        DiffLine("+", None, 11, "        if isinstance(loaded_shard_id, tuple):"),
        DiffLine("+", None, 12, "            return self._load_tuple(param, loaded_weight, loaded_shard_id)"),
        DiffLine("+", None, 41, "    a = 2"),
    ]
    context = [ln for ln in linear.hunks[0].lines if ln.kind == " "]
    assert [(ln.old_lineno, ln.new_lineno) for ln in context] == [(10, 10), (12, 13), (13, 14)]


def test_no_newline_marker_is_not_a_line():
    new_md = parse_diff(GIT_DIFF)[1]
    assert [ln.text for ln in new_md.added()] == ["# Title", "text"]
    assert new_md.removed() == []


def test_plain_unified_diff_without_git_headers():
    files = parse_diff("--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n")
    assert [(f.path, f.status) for f in files] == [("x.py", "modified")]
    assert files[0].added() == [DiffLine("+", None, 1, "b")]


def test_content_with_form_feed_and_carriage_return_stays_on_its_line():
    files = parse_diff("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\x0cb\n+a\rb\n")
    assert files[0].removed()[0].text == "a\x0cb"
    assert files[0].added()[0].text == "a\rb"


def test_what_git_writes_without_hunks_or_beside_them_parses():
    """Every line git writes is a file header, a hunk line or a hunk: a mode change, a pure rename, an empty new
    file, binary files (with or without the binary patch), `\\ No newline at end of file`, blank lines, CRLF."""
    text = ("diff --git a/x.sh b/x.sh\nold mode 100644\nnew mode 100755\n"
            "diff --git a/a.py b/b.py\nsimilarity index 100%\nrename from a.py\nrename to b.py\n"
            "diff --git a/e.py b/e.py\nnew file mode 100644\nindex 0000000..e69de29\n"
            "diff --git a/x.bin b/x.bin\nindex 1..2 100644\nBinary files a/x.bin and b/x.bin differ\n"
            "diff --git a/y.bin b/y.bin\nindex 1..2 100644\nGIT binary patch\nliteral 5\nMcmZ?wbYx%v0Rf2s\n\n"
            "literal 0\nHcmV?d00001\n\n"
            "diff --git a/n.py b/n.py\nindex 1..2 100644\n--- a/n.py\n+++ b/n.py\n@@ -1,2 +1,2 @@\n a\r\n-b\n"
            "\\ No newline at end of file\n+B\n\\ No newline at end of file\n\n"
            "diff --git a/old.py b/old.py\ndeleted file mode 100644\nindex 1..0\n--- a/old.py\n+++ /dev/null\n"
            "@@ -1 +0,0 @@\n-gone\n")
    files = {f.path: f for f in parse_diff(text)}
    assert {p: (f.status, f.binary, len(f.hunks)) for p, f in files.items()} == {
        "x.sh": ("modified", False, 0), "b.py": ("renamed", False, 0), "e.py": ("added", False, 0),
        "x.bin": ("modified", True, 0), "y.bin": ("modified", True, 0), "n.py": ("modified", False, 1),
        "old.py": ("removed", False, 1)}
    assert [ln.text for ln in files["n.py"].added()] == ["B"]


def test_empty_text_is_an_empty_diff():
    assert parse_diff("") == []


def test_format_patch_mail_with_signature_parses():
    mail = (
        "Subject: [PATCH] fix\n---\n x.py | 2 +-\n 1 file changed\n\n"
        "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a\n+b\n-- \n2.43.0\n"
    )
    assert [f.path for f in parse_diff(mail)] == ["x.py"]


@pytest.mark.parametrize(
    ("text", "where", "why"),
    [
        ("hello\nworld\n", "line 1", "no file header"),
        ("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n", "line 5", "shorter"),
        ("--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\nXYZ\n", "line 5", "Hunk diff line expected"),
        ("@@ -1 +1 @@\n-a\n+b\n", "line 1", "Unexpected hunk"),
        ("--- a/x\n+++ b/x\n@@ -1,1 +1,1 @@\n-a\n+b\n+c\n", "line 6", "outside any hunk"),
        ("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @\n a\n-b\n+B\n c\n", "line 3", "'@@ -1,3 +1,3 @' is neither"),
        ("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n@@ -9,2 +9,2\n x\n-y\n+Y\n", "line 6", "is neither"),
        ("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\nsome text\n", "line 6", "'some text' is neither"),
        ("--- a/x\n+++ b/x\n@@ -1,3 +1", "line 3", "is neither"),
        ("diff --git a/x b/x\n--- a/x\n+++ b/x\n", "line 2", "x has a file header but no hunk"),
        ("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\ndiff --git a/y b/y\n--- a/y\n", "line 7", "y has a file header"),
        ("diff --git a/x b/x\r\n--- a/x\r\n+++ b/x\r\n@@ -1 +1 @@\n-a\n+b\n", "line 1", "file header ends in CRLF"),
        ("--- a/x\n+++ b/x\r\n@@ -1 +1 @@\n-a\n+b\n", "line 2", "file header ends in CRLF"),
        ("diff --git a/a b/b\nsimilarity index 100%\nrename from a\r\nrename to b\n", "line 3", "ends in CRLF"),
    ],
    ids=["prose", "short-hunk", "junk-in-hunk", "hunk-without-file", "long-hunk", "broken-hunk-header",
         "broken-second-hunk-header", "text-after-a-hunk", "cut-in-a-hunk-header", "cut-after-file-header",
         "cut-in-second-file-header", "crlf-git-header", "crlf-path-header", "crlf-rename"],
)
def test_malformed_text_is_a_diff_error_with_line_number(text, where, why):
    with pytest.raises(DiffError) as info:
        parse_diff(text)
    assert str(info.value).startswith(f"{where}:")
    assert why in str(info.value)


PATCH = "@@ -1,2 +1,2 @@\n keep\n-old\n+new"


@pytest.mark.parametrize(
    ("status", "old_path", "expect_old"),
    [
        ("modified", None, None),
        ("added", None, None),
        ("removed", None, None),
        ("renamed", "src/a.py", "src/a.py"),
    ],
)
def test_file_patch_to_diff_round_trips_status(status, old_path, expect_old):
    patch = {"added": "@@ -0,0 +1,2 @@\n+x\n+y", "removed": "@@ -1,2 +0,0 @@\n-x\n-y"}.get(status, PATCH)
    text = file_patch_to_diff("src/b.py", patch, status=status, old_path=old_path)
    (f,) = parse_diff(text)
    assert (f.path, f.old_path, f.status, f.binary) == ("src/b.py", expect_old, status, False)
    assert len(f.hunks) == 1


def test_file_patch_to_diff_binary_and_missing_patch():
    binary = file_patch_to_diff("img.png", None, status="added", binary=True)
    missing = file_patch_to_diff("huge.py", None, status="modified")
    files = parse_diff(binary + missing)
    assert [(f.path, f.status, f.binary, f.hunks) for f in files] == [
        ("img.png", "added", True, ()),
        ("huge.py", "modified", False, ()),
    ]


def test_file_patch_to_diff_rejects_unknown_status():
    with pytest.raises(ValueError, match="status must be one of"):
        file_patch_to_diff("x", PATCH, status="copied")
