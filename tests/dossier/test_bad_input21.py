"""Bad input, round 21: what probes of session 35 found."""
import re

import pytest
from markdown_it import MarkdownIt

from dossier.render.markdown import _unpaired_ticks_escaped, link_prs, prose
from tests.dossier.test_lint_probes15 import _append, _set

_MD = MarkdownIt("commonmark")


def _code_spans(markdown: str) -> list[str]:
    return re.findall(r"<code>(.*?)</code>", _MD.renderInline(markdown))


@pytest.mark.parametrize("text", [
    "a folder C:\\\\`x_y` and #123 then `a*b`",  # an escaped backslash, then a span: the tick opens it
    "an escaped \\` tick, then `code` and #4567",  # an escaped tick opens nothing
    "three \\\\\\` then #4567 and `a` b",  # an escaped backslash and an escaped tick
    "a span `a\\` ends at its tick, then #4567 `b`",  # a backslash inside a span is text: the tick closes it
    "a lone escaped tick \\` and #4567",
])
def test_a_backslash_before_a_backtick_is_read_as_commonmark_reads_it(text):
    """`C:\\\\` then a code span: the span's tick was taken for an escaped one, the span's closing tick opened one
    that ran to the next, and the PR mention between lost its link; escaping an already escaped tick (`\\\\` then a
    tick) made it open a span."""
    shown = link_prs(prose(text), lambda n, issue=False: f"pr-history.md#pr-{n}")
    assert _code_spans(shown) == _code_spans(text)
    html = _MD.renderInline(shown)
    assert re.findall(r'<a href="pr-history.md#pr-(\d+)">#\1</a>', html) == re.findall(
        r"#(\d+)", re.sub(r"<code>.*?</code>", "", _MD.renderInline(text)))


def test_an_escaped_tick_is_not_escaped_again():
    assert _unpaired_ticks_escaped("a \\` b") == "a \\` b"
    assert _unpaired_ticks_escaped("C:\\\\` b") == "C:\\\\\\` b"  # an escaped backslash: the tick is a stray one


@pytest.mark.parametrize("title", ["Fix 🚀 thing", "Support 𝕏 in the title", "plain: a # b"])
def test_new_writes_a_title_past_u_ffff_as_itself_so_its_own_card_lints(project_dir, title):
    """JSON's ASCII form wrote an emoji as two escaped surrogates, which YAML reads back as two lone ones: the card
    `dossier new` had just written failed lint (D112, a character the author never typed)."""
    import yaml
    from typer.testing import CliRunner

    from dossier.cli import app

    runner = CliRunner()
    made = runner.invoke(app, ["new", "557", "--title", title, "--state", "open", "--lane", "gdn-projection",
                               "--root", str(project_dir)])
    assert made.exit_code == 0, made.output
    card = project_dir / "cards" / "557.yaml"
    assert yaml.safe_load(card.read_text(encoding="utf-8"))["title"] == title
    lint = runner.invoke(app, ["lint", "cards/557.yaml", "--root", str(project_dir), "--select", "D112"])
    assert "D112" not in lint.output, lint.output


def test_yaml_list_round_trips_any_file_name():
    import yaml

    from dossier.yaml_scalar import yaml_list

    names = ["python/sglang/emoji🚀.py", "a: b #c.py", "x\u0085y.py"]
    assert yaml.safe_load(f"files: {yaml_list(names)}")["files"] == names


def test_a_refresh_that_gets_no_changed_lines_keeps_the_cached_diff_that_has_them(tmp_path, project_dir):
    """GitHub sends no patch for a very large file: `fetch --refresh` replaced an imported (or git) entry holding the
    file's hunks with a header-only one, exited 0, and the next `lint --record` dropped the card's proof."""
    from dossier.sources.cache import Cache
    from tests.dossier.fake_github import FakeGitHub, make_file, make_pull
    from tests.dossier.test_fetch_cli import REPO, fetch

    saved = tmp_path / "100.diff"
    saved.write_text("diff --git a/python/sglang/a.py b/python/sglang/a.py\n--- a/python/sglang/a.py\n"
                     "+++ b/python/sglang/a.py\n@@ -1,1 +1,2 @@\n x\n+class KeyThing:\n")
    with FakeGitHub() as gh:
        big = make_file("python/sglang/a.py", None, additions=1)
        gh.add(REPO, make_pull(100, "Large change", files=[big]), [big])
        assert fetch(gh, project_dir, "100", "--import", str(saved)).exit_code == 0
        refreshed = fetch(gh, project_dir, "100", "--refresh")
    assert refreshed.exit_code == 1, refreshed.output
    assert "sent no changed lines for python/sglang/a.py" in refreshed.output
    assert "kept the cached entry" in refreshed.output and "--source git" in refreshed.output
    entry = Cache(project_dir / ".dossier" / "cache", REPO).get(100)
    assert "+class KeyThing:" in entry.diff_text and entry.provenance["source"] == "import"


def test_surface_record_lands_both_locks_or_neither(tmp_path, monkeypatch):
    """names.lock refused (read-only, immutable) after surface.lock had been replaced: `releases surface --record`
    exited 2 with surface.lock new and names.lock old, though the two are one recording."""
    import os

    from typer.testing import CliRunner

    from dossier import files
    from dossier.cli import app
    from tests.dossier.factories import make_card, write_project
    from tests.dossier.release_support import write_release

    cache = tmp_path / "releases"
    for version, built in (("0.1.0", "2026-01-05"), ("0.2.0", "2026-02-05")):
        write_release(cache, version, built, {"srt/server_args.py": "parser.add_argument('--widget')\n"})
    root = write_project(tmp_path / "p", [make_card(7)])
    args = ["releases", "surface", "--record", "--cache-dir", str(cache), "--root", str(root)]
    assert CliRunner().invoke(app, args).exit_code == 0
    surface = root / "cards" / "surface.lock"
    before = surface.read_bytes()
    write_release(cache, "0.3.0", "2026-03-05", {"srt/server_args.py": "parser.add_argument('--gadget')\n"})
    replace = files._replace

    def refused(tmp, target):
        if target.name == "names.lock":
            raise PermissionError(1, "Operation not permitted")
        replace(tmp, target)

    monkeypatch.setattr(files, "_replace", refused)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "names.lock: Operation not permitted; the locks are as they were" in " ".join(result.output.split())
    assert surface.read_bytes() == before
    assert not [p for p in os.listdir(root / "cards") if p.endswith(".tmp")]


def test_a_writer_still_running_at_exit_stages_nothing_after_the_sweep(tmp_path, monkeypatch):
    """A fetch's daemon writer that staged its temp file after the exit's sweep (Ctrl-C during a fetch) left
    `.provenance.json.<pid>.<random>.tmp` in the cache for good."""
    import threading

    from dossier import files

    monkeypatch.setattr(files, "_staged", set())
    monkeypatch.setattr(files, "_exiting", threading.Event())
    early = files.stage(tmp_path / "a.json", "{}")
    files._remove_staged()
    assert not early.exists()
    with pytest.raises(OSError, match="the process is exiting"):
        files.stage(tmp_path / "b.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_a_child_started_with_dies_with_parent_ends_when_dossier_is_killed(tmp_path):
    """`releases sync` killed with SIGKILL left pip downloading, orphaned: it wrote its wheel into the temp folder
    after the next sync had swept it, and the 73 MB folder stayed."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from dossier.orphans import dies_with_parent

    if dies_with_parent() is None:
        pytest.skip("no parent death signal on this platform")
    pid_file = tmp_path / "child.pid"
    parent = subprocess.Popen([sys.executable, "-c", (
        "import subprocess, sys, time\n"
        "from dossier.orphans import dies_with_parent\n"
        f"child = subprocess.Popen(['sleep', '60'], preexec_fn=dies_with_parent())\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n")], env={**os.environ, "PYTHONPATH": os.getcwd()})
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text():
            break
        time.sleep(0.05)
    child = int(pid_file.read_text())
    parent.send_signal(signal.SIGKILL)
    parent.wait(timeout=30)
    for _ in range(200):
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return
        with open(f"/proc/{child}/stat") as fh:  # reaped by init soon after; a zombie has ended already
            if fh.read().split(") ")[1].startswith("Z"):
                return
        time.sleep(0.05)
    os.kill(child, signal.SIGKILL)
    pytest.fail("the child outlived its killed parent")


def _replace_in(field: str, old: str, new: str):
    def edit(card):
        if field == "claims":
            claims = card["validation"]["claims"]
            i = next(i for i, c in enumerate(claims) if old in c)
            claims[i] = claims[i].replace(old, new)
        else:
            assert old in card[field], old
            card[field] = card[field].replace(old, new)
    return edit


# session 35's mutation probe: a range sharing one unit ("70-79%") was read as no figure at all, so a shifted or
# widened range passed both D235 (prose against claims) and D236 (claims against checked.lock)
RANGE_PROBES = [
    ("range-shifted-in-prose", 28451, (), _replace_in("motivation", "at 70-79% of", "at 80-89% of"), "D235"),
    ("range-widened-in-a-claim", 28451, (), _replace_in("claims", "is 70-79% memory", "is 70-89% memory"), "D236"),
]
RANGE_NEAR = [
    ("range-as-the-claims-give-it", 28451, (), _replace_in("motivation", "at 70-79% of", "at about 70-79% of")),
    ("range-of-counts-no-unit", 28451, (), _replace_in("motivation", "at 70-79% of", "at 70-79 percent of")),
]


def _with_checked_lock(root, pr, others, edit=None):
    """The probe project with the real cards/checked.lock (D236 judges claims against it)."""
    from tests.dossier.test_lint_probes15 import REAL
    from tests.dossier.test_lint_probes16 import _real_project

    _real_project(root, pr, others, edit)
    (root / "cards" / "checked.lock").write_text((REAL / "cards" / "checked.lock").read_text())
    return root


def _probe_round():
    from tests.dossier.test_lint_probes16 import probe_round

    return probe_round(RANGE_PROBES, RANGE_NEAR, project=_with_checked_lock)


(test_the_real_range_cards_lint_clean, test_a_shifted_range_is_caught,
 test_a_range_the_evidence_holds_stays_clean) = _probe_round()


# session 35's mutation probe: a default written wrong ("(default 8)" for 16) passed every rule, though
# cards/surface.lock records the newest release's defaults
DEFAULT_PROBES = [
    ("default-wrong-number", 28451, (), _append("implementation", "The ring length is `--linear-replayssm-cache-len` "
                                                                  "(default 8)."), "D623"),
    ("default-wrong-switch", 28451, (), _append("implementation", "Qwen3.5 reads "
                                                                  "SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV (default off)."),
     "D623"),
]
DEFAULT_NEAR = [
    ("default-right", 28451, (), _append("implementation", "The ring length is `--linear-replayssm-cache-len` "
                                                           "(default 16).")),
    ("default-of-an-older-release", 28451, (), _append("implementation", "The ring length is "
                                                                         "`--linear-replayssm-cache-len` (default 8 in "
                                                                         "0.5.15).")),
    ("default-on-for-true", 28451, (), _append("implementation", "Qwen3.5 reads "
                                                                 "SGLANG_ENABLE_GDN_DECODE_FUSED_PROJ_CONV (default on, "
                                                                 "CUDA).")),
]


def _default_round():
    from tests.dossier.test_lint_probes16 import probe_round

    return probe_round(DEFAULT_PROBES, DEFAULT_NEAR)


(test_the_real_default_cards_lint_clean, test_a_wrong_default_is_caught,
 test_a_default_the_lock_agrees_with_stays_clean) = _default_round()


# the workflow probe: `runtime: {none: "nothing"}` passed every rule, a template answer that gives no reason
NONE_PROBES = [("runtime-none-no-reason", 31942, (34763,), _set("runtime.none", "nothing"), "D204"),
               ("runtime-none-na", 31942, (34763,), _set("runtime.none", "n/a"), "D204")]
NONE_NEAR = [("runtime-none-a-reason", 31942, (34763,), _set("runtime.none", "Argument validation only; nothing to model."))]


def _none_round():
    from tests.dossier.test_lint_probes16 import probe_round

    return probe_round(NONE_PROBES, NONE_NEAR)


(test_the_real_runtime_none_card_lints_clean, test_a_runtime_none_without_a_reason_is_caught,
 test_a_runtime_none_with_a_reason_stays_clean) = _none_round()


def test_a_hand_edit_of_the_releases_section_breaks_its_seal(project_dir):
    """evidence.lock's releases section (the release lines, spans and days the manual prints) could be edited by
    hand, "added line(s) 240" for 236, and lint, render and drift all passed: only `releases verify`, which CI
    cannot run, caught it. `releases verify --record` now seals it as `lint --record` seals the cards section."""
    from dossier.evidence import lock_path, section_seal, write_section
    from dossier.lint import LintContext, run_lint
    from dossier.project import Project

    def d341() -> list[str]:
        return [d.message for d in run_lint(LintContext(Project.load(project_dir)), select=["D341", "D329"])]

    write_section(project_dir, "cards", {})
    releases = {"built": [["0.5.9", "2026-02-23"]], "cards": {}}
    write_section(project_dir, "releases", releases)
    assert section_seal(project_dir, "releases") is not None and d341() == []
    path = lock_path(project_dir)
    path.write_text(path.read_text().replace("2026-02-23", "2026-02-24"))
    assert len(found := d341()) == 1 and "the releases section is not the one" in found[0]
    path.write_text("".join(line for line in path.read_text().splitlines(True) if "releases sha256" not in line))
    assert d341() == []  # a lock written before the seal: not judged


def test_show_diff_without_the_prs_diff_shows_the_release_diff_that_shipped_it(tmp_path, monkeypatch):
    """Offline, `show N --diff` only said "run `dossier fetch N`" (which needs GitHub), though the release diff
    that proves the card is at hand wherever the two releases are synced."""
    from typer.testing import CliRunner

    from dossier.cli import app
    from tests.dossier.test_release_evidence import released_project, verify

    root, cache = released_project(tmp_path, monkeypatch)
    verify(root, cache, "--record")
    monkeypatch.setenv("DOSSIER_RELEASES", str(cache))
    shown = CliRunner().invoke(app, ["show", "101", "--diff", "--root", str(root)])
    assert shown.exit_code == 0, shown.output
    assert "release diff SGLang 0.1.0.post1 -> 0.2.0 python/sglang/srt/models/qwen3_next.py" in shown.output
    assert "+    def split_heads(self):" in shown.output
    monkeypatch.setenv("DOSSIER_RELEASES", str(tmp_path / "empty"))
    missing = CliRunner().invoke(app, ["show", "101", "--diff", "--root", str(root)])
    assert missing.exit_code == 2 and "or sync SGLang 0.1.0.post1 and 0.2.0" in " ".join(missing.output.split())
    unproven = CliRunner().invoke(app, ["show", "104", "--diff", "--root", str(root)])
    assert unproven.exit_code == 2 and "(no release diff proves it)" in unproven.output


@pytest.mark.parametrize("release, caught", [("0.5.10.post2", True), ("0.5.24", True), ("0.5.11", False)])
def test_a_release_that_never_existed_in_lanes_yaml_is_d342(tmp_path, release, caught):
    """D322 read only the cards: "(fixed in 0.5.10.post2 by #22458)" in a playbook symptom, a release SGLang never
    published, passed lint and reached the manual (the lanes mutation probe)."""
    import shutil

    from dossier.lint import LintContext, run_lint
    from dossier.project import Project
    from tests.dossier.test_lint_probes15 import REAL

    (tmp_path / "cards").mkdir()
    shutil.copy(REAL / "pyproject.toml", tmp_path)
    shutil.copy(REAL / "cards" / "evidence.lock", tmp_path / "cards")
    lanes = (REAL / "cards" / "lanes.yaml").read_text()
    assert "(fixed in 0.5.11 by #22458)" in lanes
    (tmp_path / "cards" / "lanes.yaml").write_text(lanes.replace("(fixed in 0.5.11 by #22458)",
                                                                 f"(fixed in {release} by #22458)"))
    found = [d.message for d in run_lint(LintContext(Project.load(tmp_path)), select=["D342"])]
    assert bool(found) is caught, found
    assert not caught or f"names SGLang {release}" in found[0]
