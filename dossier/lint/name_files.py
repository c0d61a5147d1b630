"""D628: a code name the manual places in a file of today's SGLang ("`GDNKernelDispatcher.__init__` (`gdn_backend.py`)")
that the file's code lacks."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.code_lines import code_only
from dossier.lint.claims import _field_texts, _locate, _nth, surface, tree_has_word
from dossier.lint.registry import Finding, rule

_NAME = r"`(?P<name>[A-Za-z_]\w*(?:\.\w+)*)(?:\(\))?`"
_FILE = r"`(?P<file>(?:[\w.-]+/)*[\w-]+\.(?:py|cu|cuh|cpp|h|hpp))`"
#: "`name` (`file`", "`name()` (in `file`", "`name` in `file`", "`name` of `file`", "`name` (defined in `file`",
#: "`name` lives in `file`", "`name` is in `file`", "`file`'s `name`", "`file` defines `name`": a backticked name and
#: the file of today's SGLang the text puts it in
#: ("moved `name` from `file`" says where it was, not where it is)
_PLACED = (r",?\s+(?:\((?:(?:defined |declared |found )?in\s+)?|(?:(?:is |are )?(?:defined|declared|found) )?in\s+|of\s+|"
           r"(?:which )?(?:lives|sits) in\s+|(?:is|are) in\s+)")
#: the same without backticks, for a name that reads as code (snake_case, CamelCase) and a Python file:
#: "handle_linear_attn_backend (arg_groups/attention_hook.py)", "commit_gdn_replayssm_circular, defined in
#: kernels/ops/attention/linear/gdn_replayssm_spec_decode.py", "Qwen3_5GatedDeltaNet.forward (models/qwen3_5.py)"
_BARE_NAME = r"(?<![\w.`/-])(?P<name>(?:[A-Za-z_]\w*_\w+|[A-Z][a-z0-9]+[A-Z]\w*)(?:\.(?!(?:py|pyi|cu|cuh|h|cpp)\b)[a-z_]\w*)?)(?:\(\))?"
_BARE_FILE = r"(?P<file>(?:[\w.-]+/)*[\w-]+\.py)(?![\w/`'])"
_PAIRS = (re.compile(_NAME + _PLACED + _FILE), re.compile(_FILE + r"(?:'s|\s+defines)\s+" + _NAME),
          re.compile(_BARE_NAME + r",?\s+(?:\((?:(?:defined |declared |found )?in\s+)?|(?:is |are )?(?:defined|declared) "
                                  r"in\s+)" + _BARE_FILE))
#: the words of a pair's sentence before it that date it to an older release: "0.5.10's", "before 0.5.14" (a
#: release other than today's; not one that opens a span to today, "since 0.5.19", "from 0.5.17 on")
_DATED = re.compile(r"(?<!since )(?<!from )(?<!as of )\d+\.\d+\.\d+(?:\.post\d+)?|"
                    r"\d+\.\d+\.\d+(?:\.post\d+)?(?=\s*(?:->|\u2192|to|through|until|-)\s*\d)", re.IGNORECASE)
#: the words of the pair's own clause that put it in the past: "was", "the then", "formerly" ("The log line that was
#: added by #19150 is printed by `f` (`file`)": its "was" is another clause's)
_PAST = re.compile(r"\b(?:was|were|the then|older|earlier|formerly)\b[^,;:()]{0,15}$", re.IGNORECASE)


def sentence_before(text: str, at: int) -> str:
    """The sentence of ``text`` up to ``at`` (from its start when no ". " comes before)."""
    start = text.rfind(". ", 0, at)
    return text[start + 2 if start >= 0 else 0:at]


def dated_elsewhere(sentence: str, today: str) -> bool:
    """Whether ``sentence`` is dated to a release other than ``today`` or put in the past (:data:`_DATED`,
    :data:`_PAST`): a name in it may be that release's, not today's."""
    return any(d.group(0) != today for d in _DATED.finditer(sentence)) or _PAST.search(sentence) is not None


#: after a bare pair, words that put it in the PR's own time: "(hybrid_linear_attn_backend.py in the PR)"
_AS_MERGED = re.compile(r"\s*(?:in the PR|as merged|at (?:the )?merge|then|at the time)\b", re.IGNORECASE)


def _bare_pair_today(text: str, m: re.Match, card: bool, tree) -> bool | None:
    """Whether a bare "name (file.py)" pair speaks of today's tree (True), or of the PR's code as it merged or any
    release since (False: a card's pair outside a clause naming today's release or "today"; its prose tells the
    PR's code as it merged, "now sets" is the PR's change); None: not judged. A CamelCase name must be a class the
    tree defines ("ReplaySSM (...py)" names a technique, "PyTorch (...py)" a library), and a pair followed by "in
    the PR" is the PR's alone."""
    from dossier.lint.code_names import _class_files

    name = m.group("name").split(".")[0]
    if "_" not in name and name not in _class_files(tree):
        return None
    if _AS_MERGED.match(text, m.end()):
        return None
    start = max(text.rfind(". ", 0, m.start()), text.rfind(";", 0, m.start()), -1) + 1
    ends = [i for i in (text.find(". ", m.end()), text.find(";", m.end())) if i >= 0]
    clause = text[start:min(ends, default=len(text))]
    return not card or re.search(rf"{re.escape(tree.version)}|\btoday\b", clause, re.IGNORECASE) is not None


def _in_code(name: str, text: str, path: str) -> bool:
    """Whether ``name`` stands whole in the code of ``text`` (the file at ``path``), not in a comment or docstring."""
    return name in text and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", code_only(text, path)) is not None


def held_in_a_release(ctx, names: tuple[str, ...], file: str) -> bool | None:
    """Whether a synced release holds all of ``names`` in the code of one file whose path ends in ``file`` (None: no
    release synced; each release is read a file at a time)."""
    from dossier.lint.grounds import _release_trees

    trees = _release_trees(ctx)
    if not trees:
        return None
    memo = ctx.memo.setdefault("release-name-files", {})
    if (names, file) not in memo:
        memo[names, file] = any(
            all(_in_code(n, text, p) for n in names)
            for tree in trees.values() for found in tree.package.rglob(file.rsplit("/", 1)[-1])
            if ((p := tree.repo_path(found)) == file or p.endswith("/" + file)) and (text := tree.text(p)))
    return memo[names, file]


def shipped_before_the_releases(ctx, doc) -> bool:
    """Whether the card ``doc`` is of a PR that merged on or before the day the newest synced release was built: its
    code as merged is code some synced release can hold (a closed or open PR's, or one merged later, no release has)."""
    from dossier.releases import cache_dir, synced

    if "newest-release-built" not in ctx.memo:
        releases = synced(cache_dir(ctx.project.root))
        ctx.memo["newest-release-built"] = max((r.built for r in releases), default=None)
    built, merged = ctx.memo["newest-release-built"], doc.data.get("merged_at")
    return doc.data.get("state") == "merged" and merged is not None and built is not None \
        and str(merged)[:10] <= built


def _texts(ctx) -> Iterator[tuple[object, str, str, bool]]:
    """(doc, path, text, whether a card's) of every card's prose, cards/lanes.yaml and the findings (not a text marked
    historical)."""
    from dossier.lint.flag_releases import lanes_and_finding_texts

    for doc in ctx.project.valid_docs():
        for path, text in _field_texts(doc.data):
            yield doc, path, text, True
    for doc, path, text, historical in lanes_and_finding_texts(ctx.project):
        if not historical:
            yield doc, path, text, False


@rule("D628", "a backticked code name placed in a file of today's SGLang (`name` (`file`)) that the file's code "
              "lacks, while another file has it", scope="project")
def name_not_in_its_file(ctx) -> Iterator[Finding]:
    """"logged by `resolve_linear_attn_backends` (`layers/attention/linear/utils.py`)": the reader opens the file
    to find the function. A name written this way, "`name` (`file`)", "`name` in `file`", "`name` of `file`",
    "`name` (defined in `file`)" or "`file`'s `name`", or without backticks a code-like name and a Python file
    ("handle_linear_attn_backend (arg_groups/attention_hook.py)", "name, defined in file.py": a CamelCase name only
    when a class of today's tree; in a card's prose, which tells the PR's code as it merged, only in a clause naming
    today's release or "today"), must
    be in the code of that file of today's SGLang (every part of a dotted name; a file named by its tail,
    `gdn_backend.py`, is any file of the tree it ends; comments and docstrings do not count). Judged only where
    some other file of today's tree has the name, so a name the tree lacks is D613's and D625's, and a file it
    lacks is D604's; a pair dated to an older release ("was", "the then", a release other than today's earlier in
    its sentence) or in a text marked historical is not judged. A name is matched whole, in code (not comments or
    docstrings). A card's bare pair outside a clause about today (the PR's code as it merged) is judged where a
    release cache is synced: the file must have held the name in some release ("Qwen3_5GatedDeltaNet.forward
    (models/qwen3_next.py)", a class no qwen3_next.py ever had); without a cache it is not judged, nor on the card of
    a PR that did not merge (its proposed code never shipped) or merged after the newest synced release was built."""
    s = surface(ctx)
    if s is None:
        return
    texts = s.tree.texts
    for doc, path, text, card in _texts(ctx):
        for m in (m for pair in _PAIRS for m in pair.finditer(text)):
            name, file = m.group("name"), m.group("file")
            if dated_elsewhere(sentence_before(text, m.start()), s.tree.version):
                continue
            today = _bare_pair_today(text, m, card, s.tree) if m.re is _PAIRS[2] else True
            if today is None:
                continue
            files = [f for f in texts if f == file or f.endswith("/" + file)]
            parts = [p for p in name.split(".") if p]
            if not files or not all(tree_has_word(s.tree, p) for p in parts):
                continue
            missing = [p for p in parts if not any(_in_code(p, texts[f], f) for f in files)]
            if missing and not today and (not shipped_before_the_releases(ctx, doc)
                                          or held_in_a_release(ctx, tuple(missing), file) is not False):
                continue
            if missing:
                yield Finding(path, f"`{name}` ({file}): {file} of SGLang {s.tree.version} has no "
                                    f"{', '.join(missing)} in its code" + ("" if today else ", nor had it in any "
                                                                           "synced release"),
                              hint="name the file that defines it (grep today's SGLang), or date the pair to the "
                                   "release that had it", doc=doc, at=_locate(doc, path, m.group(0), _nth(text, m)))
