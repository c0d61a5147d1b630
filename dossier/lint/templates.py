"""D22x: cards written from a template, or copied from each other (project scope).

A template shows once the card-specific parts are masked (title words, paths, numbers, identifiers, model
names, diff statistics): what is left is the frame, and a frame shared by several cards was filled in, not
written. A copy shows as shared word 5-grams, between two cards or between the fields of one card.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import combinations

from dossier import prose
from dossier.errors import DossierError
from dossier.files import read_bytes
from dossier.lint.depth import ALL_FIELDS, card_texts, text_of
from dossier.lint.registry import Finding, rule
from dossier.render.markdown import LINK_DESTINATION, LINK_TEXT

MIN_SHARED_SKELETON = 3  # cards sharing one masked skeleton
SKELETON_SIMILAR = 0.7  # trigram Jaccard of two skeletons that count as one
MAX_COPY = 0.5  # word 5-gram Jaccard between two texts
MAX_CONTAINED = 0.8  # share of one text's word 5-grams found in a longer text (a copy padded with other prose)
MIN_CONTAINED = 20  # 5-grams (about 24 words): shorter texts share stock phrases by chance
MIN_SKELETON = 6  # tokens; shorter skeletons say too little to compare


def _cards(ctx):
    """(card, doc) for every valid card, first file per PR."""
    docs = {d.data["pr"]: d for d in reversed(ctx.project.valid_docs())}
    return [(c, docs[c.pr]) for c in ctx.project.cards]


def _trigrams(tokens: tuple[str, ...]) -> set[tuple[str, ...]]:
    return {tokens[i:i + 3] for i in range(len(tokens) - 2)}


@rule("D220", "three or more cards share one masked skeleton (filled from a template)", scope="project")
def shared_skeleton(ctx) -> Iterator[Finding]:
    cards = _cards(ctx)
    for name in ALL_FIELDS:
        skels = [(c, d, prose.skeleton(text_of(c, name), c.title)) for c, d in cards]
        skels = [(c, d, s, _trigrams(s)) for c, d, s in skels if len(s) >= MIN_SKELETON]
        peers: dict[int, set[int]] = {c.pr: set() for c, *_ in skels}
        for (a, _, sa, ta), (b, _, sb, tb) in combinations(skels, 2):
            # Jaccard is at most the smaller set's size over the larger's: most pairs need no intersection
            if sa == sb or (min(len(ta), len(tb)) >= SKELETON_SIMILAR * max(len(ta), len(tb))
                            and prose.jaccard(ta, tb) >= SKELETON_SIMILAR):
                peers[a.pr].add(b.pr)
                peers[b.pr].add(a.pr)
        for c, d, *_ in skels:
            if len(peers[c.pr]) + 1 >= MIN_SHARED_SKELETON:
                others = ", ".join(f"#{p}" for p in sorted(peers[c.pr])[:4])
                more = f" and {len(peers[c.pr]) - 4} more" if len(peers[c.pr]) > 4 else ""
                yield Finding(f"{name}#value",
                              f"{name} has the same frame as {others}{more} once titles, paths, numbers and "
                              "identifiers are masked: a filled template, not a description of this change",
                              hint="write what this PR's diff does, in your own words", doc=d)


def _copied(a: set, b: set) -> str:
    """How two texts' word 5-grams show a copy ("" if they do not): most of both shared, or nearly all of one
    (at least ``MIN_CONTAINED`` 5-grams) inside the other, however much other prose surrounds it."""
    j = prose.jaccard(a, b)
    if j > MAX_COPY:
        return f"shares {j:.0%} of its word 5-grams with"
    small, large = sorted((a, b), key=len)
    if len(small) >= MIN_CONTAINED and len(small & large) / len(small) >= MAX_CONTAINED:
        return f"contains {len(small & large) / len(small):.0%} of the word 5-grams of" if small is b else \
            f"has {len(small & large) / len(small):.0%} of its word 5-grams inside"
    return ""


def _sharing(grams: dict[int, dict[str, set]]) -> set[tuple[tuple[int, str], tuple[int, str]]]:
    """Both orders of each pair of (PR, field) whose word 5-grams share one or more: only those can be copies (a
    field holds no stock 5-gram of many cards, so this is far fewer than every pair)."""
    holders: dict[tuple[str, ...], set[tuple[int, str]]] = {}
    for pr, fields in grams.items():
        for name, g in fields.items():
            for gram in g:
                holders.setdefault(gram, set()).add((pr, name))
    return {(x, y) for held in holders.values() if len(held) > 1 for x in held for y in held if x[0] != y[0]}


#: validation lanes two cards may share word for word (real cards of one lane share at most one)
MIN_SHARED_LANES = 3


@rule("D221", "a field (or the claims) nearly copies another card's (word 5-gram Jaccard > 0.5, or 80% of one "
              "inside the other), or its validation lanes repeat another card's", scope="project")
def cross_copy(ctx) -> Iterator[Finding]:
    """Prose fields and claims are compared by word 5-grams; validation lanes item by item: three checks the same
    word for word, or the same list of two, are another PR's checks taken over (real cards of one lane share at
    most one standard check, such as the lane's model test)."""
    cards = _cards(ctx)
    grams = {c.pr: {name: prose.shingles(text_of(c, name)) for name in ALL_FIELDS} for c, _ in cards}
    claims = {c.pr: prose.shingles(" ".join(c.claims)) for c, _ in cards}
    lanes = {c.pr: {" ".join(t.lower().split()) for t in c.validation_lanes} for c, _ in cards}
    sharing = _sharing(grams)
    for pair in combinations(cards, 2):
        # the copy is the later card, unless only the earlier one is being judged (a named file, a draft)
        (a, _), (b, db) = pair if ctx.project.in_scope(pair[1][1].path) else pair[::-1]
        for na in ALL_FIELDS:
            for nb in ALL_FIELDS:
                if ((b.pr, nb), (a.pr, na)) in sharing and (how := _copied(grams[b.pr][nb], grams[a.pr][na])):
                    yield Finding(f"{nb}#value", f"{nb} {how} {na} of #{a.pr}", doc=db,
                                  hint="each card describes its own PR in its own words")
        # a PR's numbers and setup are its own: claims copied from another card are that PR's evidence (a
        # short stock sentence, "the PR gave no numbers", may recur)
        if min(len(claims[a.pr]), len(claims[b.pr])) >= MIN_CONTAINED and (how := _copied(claims[b.pr], claims[a.pr])):
            yield Finding("validation.claims", f"validation.claims {how} validation.claims of #{a.pr}", doc=db,
                          hint="record this PR's own numbers and setup, or say that it gave none")
        # cards of one lane share a standard check or two; a whole list taken over is another PR's checks
        same = lanes[a.pr] & lanes[b.pr]
        if len(same) >= MIN_SHARED_LANES or (len(same) >= 2 and lanes[a.pr] == lanes[b.pr]):
            yield Finding("validation.lanes", f"validation.lanes repeats {len(same)} of the checks of #{a.pr} word "
                                              "for word", doc=db,
                          hint="name the checks that exercise this PR's change (a shared standard check is fine)")


@rule("D222", "a card's motivation, implementation and explain copy each other", scope="project")
def self_copy(ctx) -> Iterator[Finding]:
    for c, d in _cards(ctx):
        grams = {name: prose.shingles(text_of(c, name)) for name in ALL_FIELDS}
        for na, nb in combinations(ALL_FIELDS, 2):
            j = prose.jaccard(grams[na], grams[nb])
            if j > MAX_COPY:
                yield Finding(f"{nb}#value", f"{nb} shares {j:.0%} of its word 5-grams with {na}", doc=d,
                              hint="motivation is the problem, implementation the code change, explain the "
                                   "matched lines")



MIN_SENTENCE_SELF = 8  # 5-grams (about 12 words) of a sentence repeated in another field of its card
MIN_SENTENCE_CROSS = 10  # 5-grams (about 14 words) of a sentence found in another card: shorter stock sentences
#: recur ("Unverified: no source we hold shows a line of this PR.", "no kernel ... of its own to reproduce")
CROSS_FIELDS = ("motivation", "implementation", "key_fragment.explain", "validation.claims", "corrections")


@rule("D223", "a sentence pasted into a second field of the card, or from another card's prose", scope="project")
def pasted_sentence(ctx) -> Iterator[Finding]:
    """A field's sentence whose word 5-grams are 80% inside another field of its card (any text: claims,
    validation lanes, corrections, runtime.none too), or inside another card's prose (validation lanes and
    runtime.none excepted: cards of one lane share their checks). Whole-field copies are D221/D222's. Which of
    two cards is the copy is :func:`_pasted`'s to say."""
    cards = _cards(ctx)
    docs = {c.pr: d for c, d in cards}
    texts = {c.pr: list(card_texts(c)) for c, _ in cards}
    prose_grams: dict[tuple[str, ...], set[int]] = {}
    for c, _ in cards:
        for path, text in texts[c.pr]:
            if path.partition("[")[0] in CROSS_FIELDS:
                for g in prose.shingles(text):
                    prose_grams.setdefault(g, set()).add(c.pr)
    for c, d in cards:
        own = [(path, prose.shingles(text)) for path, text in texts[c.pr]]
        for path, text in texts[c.pr]:
            for s in prose.sentences(text):
                g = prose.shingles(s)
                if len(g) < MIN_SENTENCE_SELF:
                    continue
                other = next((p for p, og in own if p != path and _holds(og, g)), None)
                if other:
                    yield Finding(f"{path}#value", f"{path} repeats a sentence of {other}: {_short(s)}", doc=d,
                                  hint="each field says its own thing: the problem, the change, the lines, the evidence")
                    break
                if len(g) < MIN_SENTENCE_CROSS or path.partition("[")[0] not in CROSS_FIELDS:
                    continue
                hits: dict[int, int] = {}
                for gram in g:
                    for pr in prose_grams.get(gram, ()):
                        hits[pr] = hits.get(pr, 0) + 1
                src = sorted(pr for pr, n in hits.items() if pr != c.pr and n >= MAX_CONTAINED * len(g))
                # the card judged alone (a named file, a draft) stands as the later one
                later = {pr: pr < c.pr or not ctx.project.in_scope(docs[pr].path) for pr in src}
                how = {pr: h for pr in src if (h := _pasted(ctx, g, c.pr, pr, later[pr]))}
                if how:
                    pr = next((pr for pr, h in how.items() if h == COPIED), next(iter(how)))
                    yield Finding(f"{path}#value", f"{path} {how[pr]} #{pr}'s card: {_short(s)}", doc=d,
                                  hint="each card describes its own PR in its own words")
                    break


COPIED, SHARED = "has a sentence of", "shares a sentence with"
#: the committed manual's pages that show a card's prose (CROSS_FIELDS), and the line opening a card's part of each
MANUAL_CARDS = {"pr-history.md": re.compile(r'^<a id="pr-(\d+)"></a>$', re.MULTILINE),
                "corrections.md": re.compile(r"^## #(\d+) ", re.MULTILINE)}
#: what render adds to a card's prose: a link on "#N" ([#N](pr-history.md#pr-N)), and backslash escapes
_LINK = re.compile(r"\[(" + LINK_TEXT + r")\]\(" + LINK_DESTINATION + r"\)")
_ESCAPE = re.compile(r"\\(.)")


def _pasted(ctx, g: set, pr: int, other: int, later: bool) -> str:
    """How card ``pr`` holds a sentence (word 5-grams ``g``) found in card ``other``'s prose, "" if it is not to
    blame. The committed manual, which `render --check` keeps equal to the cards, shows which card had it at the
    last render: shown only under ``other``, ``pr`` has a sentence of that card; only under ``pr``, ``pr`` is the
    original (pasted from since). Shown under neither or both (a project not rendered yet, a new card, a copy
    rendered before), the manual cannot tell: the ``later`` card (the higher-numbered, or the one judged alone)
    shares a sentence with the other. One finding, worded so, and not one on each card: one edit clears it, and an
    original is not rewritten along with its copy."""
    shown = {p for p in (pr, other) if _holds(_manual(ctx).get(p, set()), g)}
    if len(shown) == 1:
        return COPIED if other in shown else ""
    return SHARED if later else ""


def _holds(grams: set, g: set) -> bool:
    """Whether a text's word 5-grams ``grams`` hold a sentence's ``g`` (80% of them)."""
    return len(g & grams) >= MAX_CONTAINED * len(g)


def _manual(ctx) -> dict[int, set]:
    """PR -> the word 5-grams of its parts of the committed manual (:data:`MANUAL_CARDS`), render's links and
    escapes undone; {} for a project not rendered yet."""
    if "manual-prose" not in ctx.memo:
        from dossier.render import skill_dir

        out: dict[int, set] = {}
        for page, heading in MANUAL_CARDS.items():
            try:
                text = read_bytes(skill_dir(ctx.project) / "references" / page).decode(errors="replace")
            except (OSError, DossierError):  # none, or not a regular file: nothing shown
                continue
            heads = list(heading.finditer(text))
            for h, end in zip(heads, [*(n.start() for n in heads[1:]), len(text)], strict=True):
                part = _ESCAPE.sub(r"\1", _LINK.sub(r"\1", text[h.end():end]))
                out.setdefault(int(h[1]), set()).update(prose.shingles(part))
        ctx.memo["manual-prose"] = out
    return ctx.memo["manual-prose"]


def _short(s: str, n: int = 90) -> str:
    return repr(s if len(s) <= n else s[:n - 3] + "...")
