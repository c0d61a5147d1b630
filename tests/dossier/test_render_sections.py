"""A long anchored section of a rendered page goes on in "(continued)" parts, each one short read."""

import re

from dossier.render.sections import continued


def _page(items: int, words: int = 10) -> str:
    body = "".join(f"- `f{i}`: " + " ".join(["w"] * (words - 2)) + "\n\n" for i in range(items))
    return f'intro\n\n<a id="a"></a>\n## `x/`\n\n{body}<a id="b"></a>\n## `y/`\n\n- `g`: short\n'


def _sections(page: str) -> dict[str, str]:
    parts = re.split(r'^<a id="([\w-]+)"></a>$', page, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_a_long_section_is_cut_between_items_and_loses_none():
    page = _page(12)
    out = continued(page, limit=35)
    sections = _sections(out)
    assert list(sections) == ["a", "a-part-2", "a-part-3", "a-part-4", "b"]  # 3 items of 10 words a part
    assert all(len(t.split()) <= 35 for t in sections.values()), {a: len(t.split()) for a, t in sections.items()}
    assert all(t.startswith("\n## `x/` (continued)\n\n- `f") for a, t in sections.items() if "part" in a)
    # every item once, in order, whole; the next anchor opens after a blank line
    items = re.findall(r"^- `(\w+)`: (.*)$", out, flags=re.M)
    assert [i for i, _ in items] == [f"f{i}" for i in range(12)] + ["g"]
    assert all(text.split() == ["w"] * 8 for i, text in items if i != "g")
    assert all(out[m.start() - 2:m.start()] == "\n\n" for m in re.finditer("<a id=", out))


def test_short_sections_and_an_item_longer_than_the_limit_stay_whole():
    page = _page(3)
    assert continued(page, limit=1100) == page
    out = continued(_page(2, words=50), limit=35)  # each item alone is over the limit: one item a part, none cut
    assert list(_sections(out)) == ["a", "a-part-2", "b"]
    assert out.count(" w" * 48) == 2
