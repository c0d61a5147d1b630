"""The committed manual keeps the shape an agent can read: a short routing SKILL.md, a playbook that fits
in one read, no boilerplate repeated across the references, every PR linked, and nothing on the routing
path (SKILL.md, playbook, answers) that SGLang 0.5.23 does not have."""

from __future__ import annotations

import re
import statistics
from collections import Counter
from pathlib import Path

import pytest

from dossier.render.markdown import plain_pr_mentions
from dossier.render.sections import SECTION_WORDS

ROOT = Path(__file__).resolve().parents[2]
SKILL = next((ROOT / "skills").glob("*/SKILL.md")).parent
ROUTING = ("SKILL.md", "references/playbook.md", "references/answers.md", "references/errors.md")
_LABEL = re.compile(r"\*\*[^*\n]{1,40}?[.:]\*\*")  # "**Motivation.**", "**SGLang 0.5.23:**": structure, not text


#: the structured lists after an answer item ("Flags: `--x` (from 0.5.14).", "PRs: ..."), and a card's status line
#: ("· superseded by [#30359](#pr-30359)", as many cards as one PR replaced have it): data, not prose
_DATA = re.compile(r"^(?:(?:Flags|Where|PRs): |· )")


def sentences(text: str) -> list[str]:
    """Sentences of at least four words (markdown labels, an item's Flags/Where/PRs lists and a card's status line
    dropped)."""
    parts = re.split(r"(?<=[.!?])\s+|\n", _LABEL.sub("", text))
    return [p.strip() for p in parts if len(p.split()) >= 4 and not _DATA.match(p.strip())]


def test_skill_md_routes_in_at_most_150_lines():
    assert len((SKILL / "SKILL.md").read_text().splitlines()) <= 150


def anchored_sections(page: str) -> dict[str, str]:
    """Anchor -> text of every `<a id>` section of a rendered page (to the next anchor)."""
    parts = re.split(r'^<a id="([\w-]+)"></a>$', page, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def without_pr_trails(page: str) -> str:
    """The playbook without its `**PRs.**` lines: one link per card of the lane, which pr-history.md holds."""
    return "\n".join(line for line in page.splitlines() if not line.startswith("**PRs.** "))


def test_playbook_prose_fits_in_2500_words_each_lane_in_600_and_corrections_stay_out():
    """The playbook is read whole: its prose stays within 2500 words; the PR trails, which grow by one link per
    new card, are bounded per lane (a lane section, trail included, is one short read)."""
    playbook = (SKILL / "references/playbook.md").read_text()
    assert len(without_pr_trails(playbook).split()) <= 2500
    lanes = {a: len(t.split()) for a, t in anchored_sections(playbook).items()}
    assert len(lanes) >= 10 and max(lanes.values()) <= 600, lanes
    assert "earlier manual" not in playbook.lower()


def test_pr_trail_lines_are_all_that_the_prose_count_leaves_out():
    page = "## Lane\n\n**Symptoms.** slow decode.\n\n**PRs.** [#1](x), [#2](y).\n"
    assert without_pr_trails(page).split() == ["##", "Lane", "**Symptoms.**", "slow", "decode."]


#: the most words an answer or error section holds when rendered: 100 under the 1200 a question may read, so a
#: block is split (its own row in SKILL.md) before one more fact pushes it past what an agent reads in one go
SECTION_BUDGET = SECTION_WORDS  # what render's continued parts are cut to


def test_every_linked_section_is_one_short_read():
    """What a symptom row, the error index or a release link leads to is at most SECTION_BUDGET words, asked about by
    a test or not (a reference-kernels lane ends where its benchmark's own anchored section starts)."""
    from tests.dossier.test_manual_questions import SECTION_WORD_LIMIT

    assert SECTION_BUDGET < SECTION_WORD_LIMIT
    for page in ("answers.md", "errors.md", "reference-kernels.md", "findings.md", "flags.md", "by-release.md",
                 "by-file.md"):
        sections = anchored_sections((SKILL / "references" / page).read_text())
        long = {a: len(t.split()) for a, t in sections.items() if len(t.split()) > SECTION_BUDGET}
        assert sections and not long, (page, long)


def test_error_index_sends_each_message_to_a_section_that_quotes_it():
    """references/errors.md is read through its index: every row's words are in the section it links, every
    section is indexed, and the index stays a table to scan (at most 150 rows)."""
    from tests.dossier.test_manual_questions import _INDEX_ROW

    sections = anchored_sections((SKILL / "references/errors.md").read_text())
    rows = _INDEX_ROW.findall(sections.pop("by-message"))
    assert 10 <= len(rows) <= 150, len(rows)
    for _, words, anchor in rows:
        assert words.replace("\\|", "|") in " ".join(sections[anchor].split()), (words, anchor)
    assert {anchor for *_, anchor in rows} == set(sections)


def card_section_words(history: str) -> list[int]:
    """Words of each card section of pr-history.md: from its `### #NNNN` heading to the next heading."""
    sections = re.split(r"^(?=#{1,3} )", history, flags=re.M)
    return [len(re.sub(r'<a id="[^"]*"></a>\s*$', "", s.strip()).split()) for s in sections if re.match(r"### #\d+ ", s)]


def test_median_card_section_is_at_most_350_words():
    words = sorted(card_section_words((SKILL / "references/pr-history.md").read_text()))
    assert words, "no card sections found"
    assert statistics.median(words) <= 350, (statistics.median(words), words[len(words) // 2:])


def test_card_section_counting_stops_at_the_next_heading():
    page = ("## Lane\n\n<a id=\"pr-1\"></a>\n### #1 One two\n\nthree four\n\n<a id=\"pr-2\"></a>\n"
            "### #2 Five\n\nsix\n\n## Other lane\n\nnot counted here\n")
    assert card_section_words(page) == [6, 4]


def test_no_sentence_repeats_more_than_five_times_across_the_references():
    counts = Counter(s for page in sorted((SKILL / "references").glob("*.md")) for s in sentences(page.read_text()))
    repeated = [(n, s[:80]) for s, n in counts.items() if n > 5]
    assert not repeated, repeated


def test_sentence_counting_sees_boilerplate():
    page = "**Evidence.** Unverified: run the fetch command first.\n" * 6
    assert Counter(sentences(page)).most_common(1)[0][1] == 6
    item = "1. Keep it on. Flags: `--mamba-radix-cache-strategy` (from 0.5.14). PRs: [#1](x) (0.5.2), [#2](y) (0.5.3).\n"
    assert sentences(item * 6) == []  # an item's lists are data; its four-word prose would count
    assert sentences("Keep overlap scheduling on here.\n" * 6) == ["Keep overlap scheduling on here."] * 6


def test_every_pr_mention_in_the_manual_is_a_link():
    for page in [SKILL / "SKILL.md", *sorted((SKILL / "references").glob("*.md"))]:
        assert plain_pr_mentions(page.read_text()) == [], page.name


@pytest.fixture(scope="module")
def sglang_surface():
    from dossier.drift import DriftError, locate
    from dossier.surface import read_surface

    try:
        return read_surface(locate(None))
    except DriftError as exc:
        pytest.skip(f"SGLang source not installed: {exc}")


@pytest.mark.parametrize("page", ROUTING)
def test_routing_path_names_only_what_sglang_has(page, sglang_surface):
    """Every flag, env var, path and module on the routing path exists in the installed SGLang (0.5.23) or
    is marked historical where it is written."""
    from dossier.lint.claims import stale_mentions

    stale = stale_mentions((SKILL / page).read_text(), sglang_surface, SKILL)
    assert not stale, [(m.text, code, msg) for m, code, msg in stale]


def test_every_card_is_found_by_the_grep_skill_md_teaches():
    from dossier.project import Project

    history = (SKILL / "references/pr-history.md").read_text()
    for card in Project.load(ROOT).cards:
        assert len(re.findall(rf"^### #{card.pr} ", history, re.M)) == 1, card.pr


def test_skill_md_routes_to_every_lane_and_every_answer_block():
    skill = (SKILL / "SKILL.md").read_text()
    linked = set(re.findall(r"\]\(references/([\w.-]+\.md#[\w-]+)\)", skill))
    for page in ("playbook.md", "answers.md"):
        anchors = re.findall(r'<a id="([\w-]+)"></a>', (SKILL / "references" / page).read_text())
        assert anchors and {f"{page}#{a}" for a in anchors} <= linked, page
    assert "errors.md#by-message" in linked  # its sections are reached through its index (test above)


def test_every_release_has_a_stable_anchor_that_skill_md_and_the_cards_link():
    """'What changed in 0.5.21' is one link: each release section of by-release.md opens with the anchor
    `release-0-5-21`, SKILL.md links every release that is not a post release, and every link to a release
    section, from any page, lands on one."""
    from dossier.render.markdown import release_anchor

    page = (SKILL / "references/by-release.md").read_text()
    headed = re.findall(r'^<a id="([\w-]+)"></a>\n## SGLang (\S+)', page, flags=re.M)
    assert len(headed) >= 20 and len(headed) == len(re.findall(r"^## SGLang ", page, flags=re.M))
    assert all(anchor == release_anchor(version) for anchor, version in headed), headed
    anchors = {a for a, _ in headed}
    skill = (SKILL / "SKILL.md").read_text()
    linked = set(re.findall(r"\(references/by-release\.md#(release-[\w-]+)\)", skill))
    assert {release_anchor(v) for _, v in headed if "post" not in v} <= linked, sorted(anchors - linked)
    for other in [SKILL / "SKILL.md", *sorted((SKILL / "references").glob("*.md"))]:
        targets = set(re.findall(r"by-release\.md#(release-[\w-]+)\)", other.read_text()))
        assert targets <= anchors, (other.name, sorted(targets - anchors))
    history = (SKILL / "references/pr-history.md").read_text()
    assert "0.5.21 ([built 2026-10-01](by-release.md#release-0-5-21))" in history


def test_release_links_keep_the_words_and_skip_code_and_unknown_versions():
    from dossier.render.markdown import link_releases, release_anchor

    assert release_anchor("0.5.5.post3") == "release-0-5-5-post3"
    text = "in 0.5.10 (built 2026-04-05), `0.5.10 (built x)`, 0.9.9 (built 2027-01-01)"
    assert link_releases(text, "by-release.md", {"0.5.10"}) == (
        "in 0.5.10 ([built 2026-04-05](by-release.md#release-0-5-10)), `0.5.10 (built x)`, 0.9.9 (built 2027-01-01)")


def test_every_anchor_of_a_page_is_defined_once():
    """A link to an anchor a page defines twice lands on the first: the second section cannot be reached."""
    for page in sorted(SKILL.rglob("*.md")):
        twice = [a for a, n in Counter(re.findall(r'<a id="([^"]+)"></a>', page.read_text())).items() if n > 1]
        assert not twice, (page.name, twice)


def test_every_link_to_an_anchor_lands_on_one_the_page_defines():
    """SKILL.md teaches reading a section with `sed -n '/id="X"/,/^<a id=/p'`: a link that lands only on a heading's
    slug (GitHub makes one, a plain reader does not) prints nothing that way."""
    pages = {p.relative_to(SKILL).as_posix(): p.read_text() for p in sorted(SKILL.rglob("*.md"))}
    anchors = {name: set(re.findall(r'<a id="([^"]+)"></a>', text)) for name, text in pages.items()}
    dead = []
    for name, text in pages.items():
        for target, anchor in re.findall(r"\]\(<?((?:references/)?[\w.-]+\.md)?#([\w-]+)>?\)", text):
            page = (f"references/{target}" if name.startswith("references/") and target else target) or name
            if anchor not in anchors.get(page, ()):
                dead.append((name, page, anchor))
    assert not dead, dead[:10]


def test_directories_whose_names_slug_alike_get_their_own_anchors(tmp_path):
    """`unified_cache/components/` and `unified_cache_components/` both slug to ...-unified-cache-components: the
    later one is numbered, and the index links each to its own section."""
    from typer.testing import CliRunner

    from dossier.cli import app
    from dossier.project import Project
    from dossier.render.documents import skill_dir
    from tests.dossier.factories import make_card, write_project

    files = ["python/sglang/srt/cache/components/a.py", "python/sglang/srt/cache_components/b.py",
             "python/sglang/srt/cache-components-2/c.py"]
    cards = [make_card(100 + i) for i in range(3)]
    for card, file in zip(cards, files, strict=True):
        card["files"]["runtime"].append(file)
    root = write_project(tmp_path / "p", cards)
    assert CliRunner().invoke(app, ["render", "--root", str(root)]).exit_code == 0
    page = (skill_dir(Project.load(root)) / "references/by-file.md").read_text()
    sections = anchored_sections(page)
    owner = {d: a for a, text in sections.items() for d in ("cache/components/", "cache_components/",
                                                                "cache-components-2/") if f"srt/{d}`" in text}
    assert len(set(owner.values())) == 3, owner
