"""A tree that cannot stand for the SGLang it names: an installed file pip's RECORD lists but the disk lacks (drift
took it for code SGLang moved, and --record wrote that verdict), a stub or partial tree that answers for-version
with "no bugs" and would overwrite drift.lock, a pre-release build recorded as today's SGLang."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from dossier.cli import app
from dossier.releases import DamagedSource
from dossier.source_tree import SourceTree, looks_partial
from tests.dossier.factories import make_card, record_installed, sglang_package, write_project
from tests.dossier.yaml_support import load_yaml

REAL = Path(__file__).resolve().parents[2]
runner = CliRunner()
MODULE = "class Model:\n    def forward(self, x):\n        return x\n"


def _installed(site: Path) -> Path:
    """An installed-looking sglang 9.9.9 whose dist-info RECORD lists every .py file with its size and hash."""
    pkg = sglang_package(site, {"srt/model.py": MODULE})
    record_installed(pkg)
    return pkg


def test_an_installed_file_that_records_lists_but_the_disk_lacks_stops_every_read(tmp_path):
    pkg = _installed(tmp_path / "site")
    assert SourceTree.at(pkg).text("python/sglang/srt/model.py") == MODULE
    (pkg / "srt" / "model.py").unlink()
    damaged = rf"^SGLang package: {pkg}/srt/model.py is missing, though .*RECORD lists it: the file was deleted after"
    with pytest.raises(DamagedSource, match=damaged):
        SourceTree.at(pkg).text("python/sglang/srt/model.py")
    with pytest.raises(DamagedSource, match=damaged):  # a search over the whole tree, which never opens that file
        SourceTree.at(pkg).search("def forward")
    root = write_project(tmp_path / "p", [make_card(100)])
    result = runner.invoke(app, ["drift", "--root", str(root), "--sglang-src", str(pkg), "--record"])
    assert result.exit_code == 2 and "is missing, though" in result.output, result.output
    assert not (root / "cards" / "drift.lock").exists()


def test_a_file_not_in_record_may_be_absent(tmp_path):
    pkg = _installed(tmp_path / "site")
    assert SourceTree.at(pkg).text("python/sglang/srt/not_shipped.py") is None


@pytest.mark.parametrize("missing, of, partial", [(5, 9, True), (4, 4, False), (5, 10, False), (144, 144, True),
                                                  (1, 1, False)])
def test_a_tree_is_partial_when_it_lacks_most_of_at_least_five(missing, of, partial):
    assert looks_partial(missing, of) is partial


def _real_cards(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    shutil.copytree(REAL / "cards", root / "cards")
    return root


def _stub(tmp_path: Path, version: str) -> Path:
    """A package that carries a version and nothing else of SGLang (srt/ so it is taken for one)."""
    pkg = tmp_path / "stub" / "sglang"
    (pkg / "srt").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "version.py").write_text(f'__version__ = "{version}"\n')
    return pkg


def test_drift_record_refuses_a_stub_tree_that_lacks_most_cards_code(tmp_path):
    root = _real_cards(tmp_path)
    before = (root / "cards" / "drift.lock").read_bytes()
    result = runner.invoke(app, ["drift", "--root", str(root), "--sglang-src", str(_stub(tmp_path, "0.5.23")),
                                 "--record"])
    assert result.exit_code == 2, result.output
    assert re.search(r"lacks the key fragments of (\d+) of \1 current cards: a partial or wrong tree\? not recorded",
                     " ".join(result.output.split())), result.output
    assert (root / "cards" / "drift.lock").read_bytes() == before


@pytest.mark.parametrize("version", ["0.5.24.dev3+g1234abc", "0.5.24rc1"])
def test_drift_record_refuses_a_pre_release_build(tmp_path, version):
    root = write_project(tmp_path / "p", [make_card(100)])
    pkg = sglang_package(tmp_path / "site", {})
    (pkg / "version.py").write_text(f'__version__ = "{version}"\n')
    result = runner.invoke(app, ["drift", "--root", str(root), "--sglang-src", str(pkg), "--record"])
    assert result.exit_code == 2 and "is a pre-release build, not a published SGLang release" in result.output
    assert not (root / "cards" / "drift.lock").exists()
    # without --record the build is checked as asked
    assert runner.invoke(app, ["drift", "--root", str(root), "--sglang-src", str(pkg)]).exit_code in (0, 1)


def test_for_version_refuses_an_installed_stub_instead_of_answering_no_bugs(tmp_path, monkeypatch):
    stub = _stub(tmp_path, "0.5.10")
    monkeypatch.setattr(SourceTree, "installed", classmethod(lambda cls: SourceTree.at(stub)))
    result = runner.invoke(app, ["for-version", "--root", str(REAL)])
    assert result.exit_code == 2, result.output
    assert re.search(r"lacks the files of (\d+) of the \1 changes this version has", " ".join(result.output.split()))
    assert "exposed (0)" not in result.output


def test_at_the_deadline_only_prs_in_flight_are_named_one_by_one(tmp_path):
    """The deadline failed every PR with its own 'did not finish' line, the 190 never started too; those are one
    grouped 'not tried' now, as the breaker's and Ctrl-C's are."""
    import threading

    from dossier.fetching import NOT_TRIED_DEADLINE, fetch_many
    from dossier.sources.cache import Cache

    held = threading.Event()

    class Stalled:  # a host that accepts the request and never answers
        name, repo = "stalled", "sgl-project/sglang"

        def fetch(self, pr):
            held.wait(30)
            raise AssertionError("answered")

    try:
        outcomes = fetch_many(range(1, 9), Stalled(), Cache(tmp_path / "c"), jobs=2, deadline=0.5)
    finally:
        held.set()
    in_flight = [o for o in outcomes if not o.skipped]
    assert [o.error for o in in_flight] == ["did not finish within the fetch deadline (0.5s)"] * 2
    assert {o.error for o in outcomes if o.skipped} == {NOT_TRIED_DEADLINE} and len(outcomes) == 8


def test_fetch_all_names_the_cards_whose_pr_it_cannot_read(tmp_path):
    """`fetch --all` read each card's pr and superseded_by and dropped, without a word, a card that does not parse
    and a value that is no PR number."""
    from dossier.fetching import cited_prs
    from dossier.project import Project

    root = write_project(tmp_path / "p", [make_card(100, status="superseded", superseded_by=[101]), make_card(101)])
    (root / "cards" / "102.yaml").write_text("pr: 102\ntitle: [broken\n")
    (root / "cards" / "103.yaml").write_text("pr: 103\nsuperseded_by: [abc, 0, 12345678901, 101]\n")
    prs, left = cited_prs(Project.load(root))
    assert prs == [100, 101, 103]
    assert left == ["cards/102.yaml (not readable as a card)", "cards/103.yaml's superseded_by 'abc'",
                    "cards/103.yaml's superseded_by '0'", "cards/103.yaml's superseded_by '12345678901'"]
    result = runner.invoke(app, ["fetch", "--all", "--root", str(root), "--deadline", "0.1", "--cache-dir", str(tmp_path / "c")],
                           env={"GITHUB_API_URL": "http://127.0.0.1:9"})
    assert "warning: not fetched, as no PR number can be read there: cards/102.yaml (not readable as a card)" in \
        " ".join(result.output.split()), result.output


@pytest.mark.parametrize("line, dropped", [
    ("    - GSM8K is 0.950 after the change, the same score #10466 reported before it\n", "#10466 reported before it"),
    ("title: Fuse the projection  # the draft's title\n", "# the draft's title"),
    ("motivation: The author measured it on 4x H100, as #10466 did\n", "#10466 did"),
])
def test_unquoted_text_cut_by_a_comment_is_a_read_error(tmp_path, line, dropped):
    """In a plain scalar ' #' starts a YAML comment: the rest of the line left the card, and lint and render passed."""
    from dossier.cards import read_yaml

    path = tmp_path / "c.yaml"
    path.write_text("pr: 100\n" + line)
    (code, message, row, _col), = read_yaml(path).read_errors
    assert code == "D102" and row == 2 and f"so {dropped!r} is dropped from the text; quote the whole text" in message


@pytest.mark.parametrize("line", [
    "lane: gdn-kernels  # one word: a comment as meant\n",
    '    - "quoted text, then" # a comment after the quote\n',
    "    - \"the score #10466 reported\"\n",
    "motivation: >-\n  A block text keeps its #10466 as text.\n",
])
def test_a_comment_after_one_word_or_quoted_text_is_not_a_cut(tmp_path, line):
    from dossier.cards import read_yaml

    path = tmp_path / "c.yaml"
    path.write_text("pr: 100\nx:\n" + line if line.startswith("    -") else "pr: 100\n" + line)
    assert read_yaml(path).read_errors == []


def test_render_refuses_a_card_whose_claim_a_comment_cut(tmp_path):
    card = make_card(100)
    root = write_project(tmp_path / "p", [card])
    path = root / "cards" / "100.yaml"
    claim = card["validation"]["claims"][0]
    text = path.read_text()
    assert repr(claim)[1:-1] in text or claim in text
    path.write_text(text.replace(f"- {claim}", f"- {claim.rstrip('.')} like #10466 said", 1)
                    .replace(f'- "{claim}"', f"- {claim.rstrip('.')} like #10466 said", 1)
                    .replace(f"- '{claim}'", f"- {claim.rstrip('.')} like #10466 said", 1))
    result = runner.invoke(app, ["render", "--root", str(root)])
    assert result.exit_code != 0 and "D102 unquoted text is cut by a comment" in " ".join(result.output.split())


def test_a_merge_key_that_a_written_field_overrides_is_refused_like_a_duplicate(tmp_path):
    """`<<: {explain: ...}` beside `explain:` passed: YAML keeps the field written out and drops the merged text."""
    from dossier.cards import read_yaml

    path = tmp_path / "c.yaml"
    path.write_text('pr: 100\nkey_fragment:\n  <<: {explain: "never rendered"}\n  explain: shown\n')
    (code, message, row, col), = read_yaml(path).read_errors
    assert (code, row, col) == ("D108", 3, 3) and message.startswith("merge key '<<': it names fields a second time")


@pytest.mark.parametrize("text", [r"the version regex \.post\d+ matched nothing", r"C:\sglang\* and a\<b and 1\.",
                                  r"grep 'a\|b' then `code \\ kept`"])
def test_a_backslash_in_card_prose_shows_as_written(text):
    """Card prose needs no markdown escape (render escapes what would render); `\\.post\\d+` showed as `.post\\d+`."""
    from dossier.render.markdown import _commonmark, prose

    html = _commonmark().renderInline(prose(text))
    shown = html.replace("<code>", "`").replace("</code>", "`").replace("&lt;", "<").replace("&quot;", '"')
    assert shown.replace("&#39;", "'") == text


def test_emphasis_is_judged_over_items_joined_on_one_line(tmp_path):
    """Symptoms and records are joined with '; ' on one line: '*8 shards' and '4* the context' were each plain
    alone and, joined, italicised the text between them in the playbook and SKILL.md."""
    from dossier.project import Project
    from dossier.render import RenderInput, render_documents
    from dossier.render.markdown import _commonmark

    root = write_project(tmp_path / "p", [make_card(100)])
    lanes = root / "cards" / "lanes.yaml"
    data = load_yaml(lanes.read_text())
    data["lanes"][0]["symptoms"] = ["fails with *8 shards", "slow at 4* the context"]
    lanes.write_text(yaml.safe_dump(data, sort_keys=False))
    docs = render_documents(RenderInput(Project.load(root)))
    for page in ("references/playbook.md", "SKILL.md"):
        line = next(ln for ln in docs[page].splitlines() if "8 shards" in ln)
        assert "<em>" not in _commonmark().renderInline(line), line


def test_links_in_every_commonmark_form_are_judged_and_an_angle_target_stays_a_link(tmp_path):
    from dossier.render.markdown import _commonmark, prose

    root = _real_cards(tmp_path)
    card = root / "cards" / "12508.yaml"
    text = card.read_text()
    old = '    - "GSM8K via benchmark/gsm8k/bench_sglang.py: 0.950 after the change (author; no before value shown)."\n'
    forms = ['[t](pr-history.md#pr-424242 "title")', "[a [b] c](pr-history.md#pr-424243)",
             "[t]( pr-history.md#pr-424244 )", "[x](<pr-history.md#pr-424245>)"]
    card.write_text(text.replace(old, old + f"    - 'See {' and '.join(forms)}.'\n", 1))
    result = runner.invoke(app, ["lint", "--root", str(root), "--select", "D523"])
    found = " ".join(result.output.split())
    assert all(f"D523 the link {form} goes nowhere in the manual" in found for form in forms), result.output
    assert 'href="pr-history.md#pr-19775"' in _commonmark().renderInline(prose("[it](<pr-history.md#pr-19775>)"))


def test_a_manual_rendered_under_an_earlier_skill_name_fails_the_check(tmp_path):
    root = write_project(tmp_path / "p", [make_card(100)])
    assert runner.invoke(app, ["render", "--root", str(root)]).exit_code == 0
    with (root / "pyproject.toml").open("a") as f:
        f.write('\n[tool.dossier.skill]\nname = "qwen3-next-manual"\n')
    rendered = runner.invoke(app, ["render", "--root", str(root)])
    assert rendered.exit_code == 0 and "is a manual rendered under another skill name" in rendered.output
    checked = runner.invoke(app, ["render", "--check", "--root", str(root)])
    assert checked.exit_code == 1 and "rendered under another skill name: skills/" in checked.output


@pytest.mark.parametrize("setting", ['name = "claude-helper"', 'description = "Use <b>this</b> skill"'])
def test_a_skill_name_or_description_an_upload_refuses_is_refused(tmp_path, setting):
    root = write_project(tmp_path / "p", [make_card(100)])
    with (root / "pyproject.toml").open("a") as f:
        f.write(f"\n[tool.dossier.skill]\n{setting}\n")
    result = runner.invoke(app, ["render", "--root", str(root)])
    assert result.exit_code == 2, result.output


def test_a_file_github_sent_no_lines_for_is_named_on_the_first_fetch(project_dir):
    """Only a --refresh named a file GitHub sent without a patch; the first fetch cached it without a word."""
    from tests.dossier.fake_github import FakeGitHub, make_file, make_pull
    from tests.dossier.test_fetch_cli import PATCH, REPO, fetch

    with FakeGitHub() as gh:
        files = [make_file("python/sglang/huge.py", None, additions=5000, deletions=10), make_file("m.py", PATCH)]
        gh.add(REPO, make_pull(100, "A large change", files=files), files)
        result = fetch(gh, project_dir, "100")
    assert result.exit_code == 0, result.output
    assert ("note: #100: github sent no lines for python/sglang/huge.py (a file too large for its API): a key "
            "fragment there stays unverified (D301)") in " ".join(result.output.split())


def test_releases_commands_refuse_the_fetch_cache(tmp_path):
    """`releases list --cache-dir <the fetch cache>` read each PR folder as an incomplete release, to be removed."""
    from dossier.sources.cache import DIFF, PROVENANCE

    cache = tmp_path / "cache"
    for pr in (10233, 19321):
        (cache / str(pr)).mkdir(parents=True)
        (cache / str(pr) / DIFF).write_text("")
        (cache / str(pr) / PROVENANCE).write_text("{}")
    result = runner.invoke(app, ["releases", "list", "--cache-dir", str(cache), "--root", str(tmp_path)])
    assert result.exit_code == 2 and "is the PR cache `dossier fetch` fills" in " ".join(result.output.split())
    assert "not a complete release" not in result.output


def test_verify_without_record_says_the_cache_lacks_releases_the_lock_records(tmp_path, monkeypatch):
    """A partial cache gave 73 findings ("merged on ... but the match is in no release built since") with no word
    that the cache lacked the releases that shipped those lines; --record refused it, a plain verify did not say."""
    import shutil as sh

    from tests.dossier.test_release_evidence import released_project, verify

    root, cache = released_project(tmp_path, monkeypatch)
    assert verify(root, cache, "--record").exit_code == 1
    sh.rmtree(cache / "0.1.0.post1")
    result = verify(root, cache)
    assert (f"warning: the release cache {cache} lacks 1 release(s) cards/evidence.lock records (0.1.0.post1): the "
            "findings below date a change those releases shipped by the next release synced, or by none (`dossier "
            f"releases sync --from 0.1.0.post1 --to 0.1.0.post1 --cache-dir {cache}` fills them)") in \
        " ".join(result.stderr.split())


def test_new_refuses_a_title_lint_would_refuse_and_folds_its_padding(tmp_path):
    root = write_project(tmp_path / "p", [make_card(100)])
    hidden = runner.invoke(app, ["new", "99988", "--title", "x \u202e rlo", "--state", "open", "--root", str(root)])
    assert hidden.exit_code == 2 and "holds U+202E at position 3, a character a reader cannot see" in \
        " ".join(hidden.output.split())
    assert not (root / "cards" / "99988.yaml").exists()
    padded = runner.invoke(app, ["new", "99989", "--title", "  padded   title ", "--state", "open", "--root", str(root)])
    assert padded.exit_code == 0, padded.output
    assert 'title: "padded title"' in (root / "cards" / "99989.yaml").read_text()


def test_findings_with_an_empty_name_is_a_usage_error(tmp_path):
    root = write_project(tmp_path / "p", [make_card(100)])
    result = runner.invoke(app, ["findings", "", "--root", str(root)])
    assert result.exit_code == 2 and "is empty (an unset shell variable?)" in result.output


def test_a_failed_write_names_the_file_meant_not_the_temp_file_it_goes_through():
    """An immutable provenance.json: 'cannot write the cache entry: .../.provenance.json.15314.e6rb_e5j.tmp:
    Operation not permitted' named a hidden staging file the user never sees."""
    import errno

    from dossier.files import write_failure

    failed = PermissionError(errno.EPERM, "Operation not permitted", "/c/19321/.provenance.json.15314.e6rb_e5j.tmp",
                             "/c/19321/provenance.json")
    assert write_failure(failed) == "/c/19321/provenance.json: Operation not permitted"


def test_linting_named_cards_reports_a_lock_it_cannot_read(tmp_path):
    """`lint cards/100.yaml` with a merge conflict in evidence.lock exited 0 (its D311 is on the lock, not the named
    card), while render refused; the card's D301 then blamed a missing entry the lock holds."""
    root = write_project(tmp_path / "p", [make_card(100), make_card(101)])
    lint = ["lint", "--root", str(root), "--select", "D3", str(root / "cards" / "100.yaml")]
    assert runner.invoke(app, lint).exit_code == 0
    with (root / "cards" / "evidence.lock").open("a") as f:
        f.write("<<<<<<< HEAD\n")
    result = runner.invoke(app, lint)
    assert result.exit_code == 1 and "cards/evidence.lock:" in result.output and " D311 " in result.output


def test_a_folder_of_drafts_is_judged_as_its_draft_files_are(tmp_path):
    """`lint ../drafts/` took the folder for the whole card set: its card 'cited #21019, which has no card' and the
    project's lanes.yaml and cover gave 732 errors, where `lint ../drafts/19321.yaml` gave none."""
    root = _real_cards(tmp_path)
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    shutil.copy(root / "cards" / "19321.yaml", drafts / "19321.yaml")
    alone = runner.invoke(app, ["lint", "--root", str(root), "--select", "D5", str(drafts / "19321.yaml")])
    folder = runner.invoke(app, ["lint", "--root", str(root), "--select", "D5", str(drafts)])
    assert "cards/lanes.yaml" not in folder.output and "D510" not in folder.output, folder.output
    assert folder.exit_code == alone.exit_code and folder.output.splitlines()[-1] == alone.output.splitlines()[-1]


def test_regress_list_takes_format_json_which_is_what_it_prints(tmp_path):
    import json

    result = runner.invoke(app, ["regress", "--list", "--format", "json", "--root", str(REAL)])
    assert result.exit_code == 0 and "include" in json.loads(result.stdout)


def test_drift_json_says_why_a_lock_it_could_not_read_made_it_fail(tmp_path):
    """`drift --format json` exited 1 over a merge conflict in drift.lock with JSON a clean run would print."""
    import json

    root = _real_cards(tmp_path)
    ok = runner.invoke(app, ["drift", "--format", "json", "--root", str(root)])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["lock_error"] is None
    with (root / "cards" / "drift.lock").open("a") as f:
        f.write("<<<<<<< HEAD\n")
    bad = runner.invoke(app, ["drift", "--format", "json", "--root", str(root)])
    assert bad.exit_code == 1 and json.loads(bad.stdout)["lock_error"].startswith("cards/drift.lock: ")
