"""D5xx: do cards point at things that exist: lanes, other cards, runtime code, tests?"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from dossier import prose
from dossier.cards import strings
from dossier.files import read_bytes
from dossier.lint.gpu_names import gpu_names
from dossier.lint.registry import Finding, rule
from dossier.model import REPLACED, UPGRADE_ANSWER, Card, answer_titles
from dossier.project import is_valid
from dossier.pytest_ids import id_problem
from dossier.python_modules import module_exists

#: another project's PR by word ("vLLM PR 12345", "sgl-kernel-npu PR 1747"): not this repository's
_OTHER_PROJECT = "".join(f"(?<!{name} )" for name in ("vllm", "flashinfer", "fla", "triton", "pytorch", "torch",
                                                        "transformers", "sgl-kernel-npu", "mooncake", "aiter", "lmcache"))
# "#19321" and "PR 19321" cite a PR, and so does each number of a pair "#22876/#24613" (prose.PAIR_NEXT);
# "issue #39342" names an issue, which needs no card
PR_REF = re.compile(r"(?:(?:(?<![\w/&])|" + prose.PAIR_NEXT + r")(?<!issue )(?<!issues )#|" + _OTHER_PROJECT + r"\bPRs?\s#?)("
                    + prose.PR_DIGITS + r")\b", re.IGNORECASE)
#: a "PRs" list goes on with bare numbers: "PRs 28451 and 28695", "PRs 28451, 28695 or #30000"
_LIST_NEXT = re.compile(r"(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or|&)\s+)#?(" + prose.PR_DIGITS + r")\b",
                        re.IGNORECASE)


def citations(text: str) -> Iterator[tuple[int, int]]:
    """Each PR ``text`` cites as (number, where its citation ends): PR_REF's, and the rest of a "PRs" list."""
    for m in PR_REF.finditer(text):
        yield int(m[1]), m.end()
        if m[0][:3].lower() == "prs":
            end = m.end()
            while (more := _LIST_NEXT.match(text, end)) is not None:
                end = more.end()
                yield int(more[1]), end


def cited_prs(text: str) -> set[int]:
    """The PRs ``text`` cites by number (see citations)."""
    return {pr for pr, _ in citations(text)}


#: a PR's URL cites it as "#N" does: [https://][www.]github.com/<owner>/<repo>/pull/N[/files#...]
PR_URL = re.compile(r"(?:https?://)?(?:www\.)?github\.com/(?P<repo>[\w.-]+/[\w.-]+)/pulls?/(?P<url_n>\d+)[\w/#-]*",
                    re.IGNORECASE)


def _cards_by_pr(ctx) -> dict[int, list]:
    out: dict[int, list] = {}
    for doc in ctx.project.valid_docs():
        out.setdefault(doc.data["pr"], []).append(doc)
    return out


def _no_card(ctx, pr: int, none: str) -> tuple[str, str]:
    """What to say when ``pr`` has no usable card (``none`` when there is no file at all), and the hint."""
    bad = ctx.project.invalid_card_for(pr)
    if bad is not None:
        rel = ctx.project.rel(bad.path)
        return f"#{pr}: card invalid ({rel})", f"dossier lint {rel}"
    return none, f"dossier new {pr}"


@rule("D501", "lane is not defined in cards/lanes.yaml", scope="card")
def unknown_lane(card: Card, doc, ctx) -> Iterator[Finding]:
    yield from lane_problem(card.lane, ctx)


def lane_problem(lane: str, ctx) -> Iterator[Finding]:
    """A finding on ``lane`` when cards/lanes.yaml does not define it (cards and findings alike)."""
    doc = ctx.project.lanes_doc
    if doc is None or not is_valid(doc):
        return  # cards/lanes.yaml missing or unreadable: D1xx says so once
    lanes = [x.id for x in ctx.project.lanes]
    if lane not in lanes:
        yield Finding("lane#value", f"unknown lane {lane!r}",
                      hint=f"lanes: {', '.join(lanes)}" if lanes else "cards/lanes.yaml defines no lane (`lanes: []`)")


@rule("D502", "superseded_by names a PR that has no card", scope="card")
def dangling_supersession(card: Card, doc, ctx) -> Iterator[Finding]:
    known = _cards_by_pr(ctx)
    for i, pr in enumerate(card.superseded_by):
        if pr not in known:
            message, hint = _no_card(ctx, pr, f"#{pr} has no card")
            yield Finding(f"superseded_by[{i}]", message, hint=hint)


@rule("D503", "supersession forms a cycle", scope="project")
def supersession_cycle(ctx) -> Iterator[Finding]:
    edges = {c.pr: [n for n in c.superseded_by] for c in ctx.project.cards}
    docs = {d.data["pr"]: d for d in reversed(ctx.project.valid_docs())}
    reported: set[frozenset] = set()
    for cycle in _cycles(edges):
        key = frozenset(cycle)
        if key not in reported:
            reported.add(key)
            chain = " -> ".join(f"#{p}" for p in [*cycle, cycle[0]])
            yield Finding("superseded_by", f"supersession cycle {chain}", doc=docs[min(cycle)])


def _cycles(edges: dict[int, list[int]]) -> Iterator[list[int]]:
    """One cycle through each back edge of a depth-first walk that follows every successor."""
    state: dict[int, int] = {}  # 1: on the current path, 2: done
    path: list[int] = []

    def visit(node: int) -> Iterator[list[int]]:
        state[node] = 1
        path.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in edges:
                continue
            if state.get(nxt) == 1:
                yield path[path.index(nxt):]
            elif nxt not in state:
                yield from visit(nxt)
        path.pop()
        state[node] = 2

    for start in sorted(edges):
        if start not in state:
            yield from visit(start)


@rule("D504", "superseded/reverted card without superseded_by", scope="card")
def replaced_without_successor(card: Card, doc, ctx) -> Iterator[Finding]:
    if card.status in REPLACED and not card.superseded_by:
        yield Finding("superseded_by", f"status {card.status} needs superseded_by: the PR(s) that replaced it")


@rule("D505", "superseded_by set on a card that is neither superseded nor reverted", scope="card")
def successor_without_status(card: Card, doc, ctx) -> Iterator[Finding]:
    if card.superseded_by and card.status not in REPLACED:
        yield Finding("superseded_by", f"superseded_by is set but status is {card.status}",
                      hint="set status to superseded or reverted, or empty superseded_by")


@rule("D506", "two cards for the same PR", scope="project")
def duplicate_pr(ctx) -> Iterator[Finding]:
    for pr, docs in _cards_by_pr(ctx).items():
        for doc in docs[1:]:
            first = ctx.project.rel(docs[0].path)
            yield Finding("pr#value", f"#{pr} already has a card in {first}", doc=doc)


@rule("D507", "pr number differs from the file name", scope="card")
def file_name(card: Card, doc, ctx) -> Iterator[Finding]:
    if doc.path.stem != str(card.pr):
        yield Finding("pr#value", f"card for #{card.pr} is in {doc.path.name}", hint=f"rename to {card.pr}.yaml")


@rule("D508", "runtime reference or bench module does not exist", scope="card")
def runtime_module(card: Card, doc, ctx) -> Iterator[Finding]:
    for key in ("reference", "bench"):
        name = getattr(card.runtime, key)
        if name and not module_exists(name, ctx.project.root):
            yield Finding(f"runtime.{key}#value", f"module {name!r} not found")


@rule("D509", "runtime test node id does not exist", scope="card")
def runtime_tests(card: Card, doc, ctx) -> Iterator[Finding]:
    for i, node in enumerate(card.runtime.tests):
        problem = missing_test(node, ctx.project.root)
        if problem:
            yield Finding(f"runtime.tests[{i}]", problem)


#: a runtime lane is a package runtime/<lane>/ (reference code, bench) with its tests in tests/runtime/<lane>/;
#: a lane of cards/lanes.yaml names the runtime lanes it runs in its repo_checks ("pytest tests/runtime/gdn")
_RUNTIME_LANE = re.compile(r"(?<![\w/.])(?:tests/)?runtime[/.]([a-z_]\w*)")


def runtime_lane(module: str | None, root: Path) -> str | None:
    """``gdn`` for ``runtime.gdn.decode`` or ``runtime.gdn``; None for a shared module (``runtime.benchkit``)."""
    parts = (module or "").split(".")
    return parts[1] if len(parts) >= 2 and parts[0] == "runtime" and (root / "runtime" / parts[1]).is_dir() else None


def _test_lane(node: str, root: Path, lane: str) -> str | None:
    """Why the test ``node`` is not a test of the runtime lane ``lane`` (None when it is)."""
    file = node.partition("::")[0]
    parts = Path(file).parts
    if parts[:2] != ("tests", "runtime"):
        return f"{file} is not a runtime test (tests/runtime/{lane}/ holds runtime/{lane}'s)"
    if len(parts) > 3 and parts[2] != lane:
        return f"{file} tests runtime/{parts[2]}/, not runtime/{lane}/ where the reference is"
    path = root / file
    if len(parts) == 3 and path.is_file() and lane not in {
            m.group(1) for m in _RUNTIME_LANE.finditer(read_bytes(path).decode(errors="replace"))}:
        return f"{file} is a shared runtime test that never names runtime.{lane}"
    return None


def lane_runtimes(lane, root: Path) -> set[str]:
    """The runtime lanes a lane of cards/lanes.yaml runs in its repo_checks (empty: it names none)."""
    return {m.group(1) for check in lane.repo_checks for m in _RUNTIME_LANE.finditer(check)
            if (root / "runtime" / m.group(1)).is_dir()}


def lane_test_files(lane, root: Path) -> dict[str, set[str] | None]:
    """Per runtime lane a lane's repo_checks run: the test files they name in it, or None when a check runs the
    whole runtime lane (``pytest tests/runtime/gdn``, ``python -m runtime.gdn.bench``)."""
    out: dict[str, set[str] | None] = {}
    for check in lane.repo_checks:
        for m in _RUNTIME_LANE.finditer(check):
            name = m.group(1)
            if not (root / "runtime" / name).is_dir():
                continue
            rest = re.match(r"/[\w/]+\.py\b", check[m.end():])
            if m.group(0).startswith("tests/") and rest:
                if out.get(name, set()) is not None:
                    out.setdefault(name, set()).add(f"tests/runtime/{name}{rest.group(0)}")
            else:
                out[name] = None
    return out


def _names_module(path: Path, module: str | None) -> bool:
    """Whether the file at ``path`` imports ``module`` (``import a.b.c``, ``from a.b import c``, ``from a.b.c import``)."""
    if module is None or not path.is_file():
        return False
    head, _, last = module.rpartition(".")
    text = path.read_text(encoding="utf-8", errors="replace")
    return re.search(rf"\b{re.escape(module)}\b|\bfrom {re.escape(head)} import [^\n]*\b{re.escape(last)}\b", text) is not None


def runtime_of_other_lanes(lane_id: str, reference: str | None, bench: str | None, tests: Iterable[str], ctx,
                           tests_at: str) -> Iterator[Finding]:
    """Bench and tests outside the reference's runtime lane, and a runtime lane the card lane ``lane_id`` does
    not run (``tests_at``: the YAML path of the test list)."""
    root = ctx.project.root
    lane = runtime_lane(reference, root)
    if lane is None:
        return
    other = runtime_lane(bench, root)
    if other is not None and other != lane:
        yield Finding("runtime.bench#value", f"bench {bench} is runtime/{other}'s; the reference {reference} is "
                                             f"runtime/{lane}'s")
    for i, node in enumerate(tests):
        if problem := _test_lane(node, root, lane):
            yield Finding(f"{tests_at}[{i}]", problem, hint=f"name tests of runtime/{lane}/ (tests/runtime/{lane}/)")
    card_lane = next((x for x in ctx.project.lanes if x.id == lane_id), None)
    declared = lane_runtimes(card_lane, root) if card_lane is not None else set()
    if declared and lane not in declared:
        yield Finding("runtime.reference#value",
                      f"lane {lane_id} runs runtime/{', runtime/'.join(sorted(declared))} (its repo_checks in "
                      f"cards/lanes.yaml), not runtime/{lane}/ where this reference is",
                      hint="move it to the lane whose runtime it uses, or add the check to that lane's repo_checks")
    elif declared and (only := lane_test_files(card_lane, root).get(lane)) is not None:
        # the card lane runs only these test files of runtime/<lane>/: its tests are among them, its reference
        # is what they test
        named = ", ".join(sorted(only))
        for i, node in enumerate(tests):
            if node.partition("::")[0] not in only:
                yield Finding(f"{tests_at}[{i}]", f"lane {lane_id} runs only {named} of runtime/{lane}/ (its "
                                                  f"repo_checks), not {node.partition('::')[0]}",
                              hint="name the tests the card's lane runs, or move the card to the lane that runs these")
        if not any(_names_module(root / f, reference) for f in only):
            yield Finding("runtime.reference#value", f"lane {lane_id} runs only {named} of runtime/{lane}/ (its "
                                                     f"repo_checks), which never import {reference}",
                          hint="name the reference those tests check, or move the card to the lane that runs it")


@rule("D525", "the card's stored GPU result (results/cuda/<pr>.json) cannot be read as render reads it (not JSON, "
              "another card's run, another benchmark's, a field of the wrong kind)", scope="card")
def unreadable_gpu_result(card: Card, doc, ctx) -> Iterator[Finding]:
    """Render reads each card's GPU result into reference-kernels.md and stops (exit 2) on one it cannot read, rather
    than say "no GPU result" for it or show another card's run as this one's: lint says so too, as for every input
    that stops render, so a clean lint means a manual that renders."""
    from dossier.regress import RegressError, read_result

    if not card.runtime.reference:
        return
    try:
        read_result(ctx.project.root / "results", card.pr, bench=card.runtime.bench)
    except RegressError as exc:
        yield Finding("runtime.reference#value", str(exc), hint="restore the file from git, or run the card's "
                                                               "regression job on a GPU again")


@rule("D515", "runtime tests or bench of another lane (not the reference's runtime/<lane>, or not run by the card's lane)",
      scope="card")
def runtime_of_another_lane(card: Card, doc, ctx) -> Iterator[Finding]:
    yield from runtime_of_other_lanes(card.lane, card.runtime.reference, card.runtime.bench, card.runtime.tests, ctx,
                                      "runtime.tests")


@rule("D510", "prose cites a PR that has no card", scope="card", severity="warning")
def cited_without_card(card: Card, doc, ctx) -> Iterator[Finding]:
    known = _cards_by_pr(ctx)
    repo = ctx.project.repo.lower()
    for name in ("motivation", "implementation"):
        text = getattr(card, name)
        urls = {int(m.group("url_n")) for m in PR_URL.finditer(text) if m.group("repo").lower() == repo}
        for pr in sorted(cited_prs(text) | urls):
            if pr not in known and pr != card.pr:
                message, hint = _no_card(ctx, pr, f"#{pr}, which has no card")
                yield Finding(f"{name}#value", f"cites {message}", hint=hint)


@rule("D511", "a PR the manual must cover has no card", scope="project")
def coverage(ctx) -> Iterator[Finding]:
    known = _cards_by_pr(ctx)
    lanes_doc = ctx.project.lanes_doc
    cover = ctx.project.config.get("cover", [])
    required = [n for n in cover if isinstance(n, int) and not isinstance(n, bool)] if isinstance(cover, list) else []
    missing = [pr for pr in required if pr not in known]
    invalid = [pr for pr in missing if ctx.project.invalid_card_for(pr) is not None]
    absent = [pr for pr in missing if pr not in invalid]
    if lanes_doc is not None:
        if absent:
            yield Finding("", f"{len(absent)} PR(s) listed in [tool.dossier] cover have no card: "
                          + ", ".join(f"#{p}" for p in absent), doc=lanes_doc)
        if invalid:
            yield Finding("", f"{len(invalid)} PR(s) listed in [tool.dossier] cover have an invalid card: "
                          + ", ".join(f"#{p}" for p in invalid), doc=lanes_doc, hint="dossier lint")
        if not isinstance(cover, list) or len(required) != len(cover):
            yield Finding("", f"pyproject.toml's [tool.dossier] cover must be a list of PR numbers, got {cover!r:.60} "
                          "(reported here, beside the lanes it covers)", doc=lanes_doc)
    if lanes_doc is not None and is_valid(lanes_doc):
        first: dict[int, str] = {}  # each PR without a card at the first text that cites it
        for path, text in strings(lanes_doc.data):
            for pr in cited_prs(text) - known.keys():
                first.setdefault(pr, path)
        for pr in sorted(first):
            message, hint = _no_card(ctx, pr, f"#{pr}, which has no card")
            yield Finding(first[pr], f"lanes.yaml cites {message}", hint=hint, doc=lanes_doc)


def missing_test(node: str, root: Path) -> str | None:
    """Why the pytest node id ``path::[Class::]func[params]`` does not exist, or None when it does."""
    file, sep, rest = node.partition("::")
    path = root / file
    if not sep and path.is_dir():  # a folder: pytest runs the test files in it
        return None
    if not path.is_file():
        return f"test file {file} not found"
    if not sep:
        return None
    head, bracket, wanted = rest.partition("[")  # an id may hold "::" or "[" itself
    if bracket and not wanted.endswith("]"):
        return f"unclosed '[' in {node}"
    names = head.split("::")
    if not all(names):
        return f"empty test name after '::' in {node}"
    try:
        tree = _test_module(read_bytes(path))
    except (SyntaxError, ValueError, OSError) as exc:
        why = f"{exc.msg} (line {exc.lineno})" if isinstance(exc, SyntaxError) and exc.lineno else str(exc)
        return f"test file {file} is not Python pytest can read ({why})"
    scope: list[ast.stmt] = tree.body
    for n in names:
        found = next((s for s in scope if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                      and s.name == n), None)
        if found is None:
            return f"{n!r} not found in {file}"
        scope = found.body if isinstance(found, ast.ClassDef) else []
    return id_problem(path, names, wanted[:-1], root) if bracket else None


@functools.lru_cache(maxsize=64)  # every card names tests in the same few files, and each lint run reads them again
def _test_module(source: bytes) -> ast.Module:
    """A test file's syntax tree (read, never changed), decoded as an import does (its coding declaration, else
    UTF-8, strictly)."""
    return ast.parse(importlib.util.decode_source(source))


@rule("D512", "an answer block in lanes.yaml cites a PR that has no card", scope="project")
def answer_prs(ctx) -> Iterator[Finding]:
    doc = ctx.project.lanes_doc
    if doc is None or not is_valid(doc):
        return
    known = _cards_by_pr(ctx)
    for path, pr in _answer_prs(doc.data.get("answers") or {}, "answers"):
        if pr not in known:
            message, hint = _no_card(ctx, pr, f"#{pr}, which has no card")
            yield Finding(path, f"answer cites {message}", hint=hint, doc=doc)


def _answer_prs(value, path: str) -> Iterator[tuple[str, int]]:
    """(dotted path, PR) for every entry of an answer-block item's `prs` list (every mapping that holds one holds an
    item's text: a row, a step, a checklist or error item, a release note)."""
    for item_path, item in _answer_items(value, path):
        if isinstance(item.get("prs"), list):
            yield from ((f"{item_path}.prs[{i}]", pr) for i, pr in enumerate(item["prs"]))


#: "#N" as context, not as the change's author: "#N's thread credits ...", "the [#N](...) card", "#N's author counts"
CONTEXT_AFTER = re.compile(r"(?:\]\([^)]*\))?'s (?:thread|author|account|description|review|reviewers?|discussion|"
                            r"comments?|title|page|report)\b|(?:\]\([^)]*\))? card\b")
#: the text an answer-block item says its PRs did in (a row's cells, a checklist item, a path step, a release note)
_ITEM_TEXT = ("check", "step", "note", "default", "select", "requires")


@rule("D526", "an answer-block item credits a change to a PR (one with a card) that its prs list leaves out",
      scope="project")
def answer_item_prs(ctx) -> Iterator[Finding]:
    """An item's `prs` list is what the manual prints beside it ("PRs: #N (release)") and what the item's claims are
    held to; a PR the text credits with a change ("removed in 0.5.14 (#27964)") but the list leaves out gets neither.
    A PR cited for context ("#N's thread credits ...", "the #N card") needs no entry."""
    doc = ctx.project.lanes_doc
    if doc is None or not is_valid(doc):
        return
    known = _cards_by_pr(ctx)
    for path, item in _answer_items(doc.data.get("answers") or {}, "answers"):
        listed = item.get("prs") if isinstance(item.get("prs"), list) else []
        for key in _ITEM_TEXT:
            text = item.get(key)
            if not isinstance(text, str):
                continue
            credited = {pr for pr, end in citations(text) if not CONTEXT_AFTER.match(text, end)}
            for pr in sorted(credited - set(listed)):
                if pr in known:
                    yield Finding(f"{path}.{key}", f"credits #{pr} with a change, but the item's prs list leaves it out",
                                  hint=f"add {pr} to the item's prs (or cite it as context: \"#{pr}'s thread ...\")",
                                  doc=doc)


def _answer_items(value, path: str) -> Iterator[tuple[str, dict]]:
    """(dotted path, item) for every mapping under the answers that holds an item's text."""
    if isinstance(value, dict):
        if any(isinstance(value.get(key), str) for key in _ITEM_TEXT):
            yield path, value
        for key, sub in value.items():
            yield from _answer_items(sub, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _answer_items(item, f"{path}[{i}]")


#: words that say a change was taken back, or put it in the past: "[#31369] reverted", "#21313 (backed out the next
#: day)", "before #N was superseded"
_TAKEN_BACK = re.compile(r"\b(?:revert\w*|backed out|taken out|undone|undid|rolled back|replaced|superseded|was|were|"
                         r"then|before|until|earlier|briefly)\b", re.IGNORECASE)


@rule("D527", "cards/lanes.yaml cites a reverted PR with no word of its revert in the clause (or item) that cites it",
      scope="project")
def reverted_as_current(ctx) -> Iterator[Finding]:
    """"([#31369](...), [#29792])" in an investigation step, where #31369 was reverted: the reader takes a change
    that left SGLang for one that holds. The clause that cites the PR (from the last `;`, `(` or sentence end to the
    next), or the answer-block item whose `prs` lists it, must say it was reverted, replaced or is history. Cards,
    whose prose tells each PR's history, are not judged."""
    from dossier.lint.flag_releases import lanes_and_finding_texts

    doc = ctx.project.lanes_doc
    if doc is None or not is_valid(doc):
        return
    reverted = {c.pr for c in ctx.project.cards if c.status == "reverted"}
    if not reverted:
        return
    for path, item in _answer_items(doc.data.get("answers") or {}, "answers"):
        told = prose.link_targets_dropped(" ".join(str(item.get(k, "")) for k in _ITEM_TEXT))
        for pr in [p for p in item.get("prs") or [] if p in reverted]:
            if not _TAKEN_BACK.search(told):
                yield Finding(path, f"lists #{pr}, which was reverted, and its text never says so", doc=doc,
                              hint="say the PR was reverted (and by what), or drop it from prs")
    for lanes_doc, path, text, historical in lanes_and_finding_texts(ctx.project):
        if lanes_doc is not doc or historical or path.startswith("answers"):
            continue
        flat = prose.link_targets_dropped(" ".join(text.split()))
        for m in re.finditer(r"(?<![\w/])\[?#(\d{1,7})\b", flat):
            if int(m.group(1)) not in reverted:
                continue
            start = max(flat.rfind(";", 0, m.start()), flat.rfind(". ", 0, m.start()), flat.rfind("(", 0, m.start()))
            ends = [i for i in (flat.find(";", m.end()), flat.find(". ", m.end()), flat.find(")", m.end())) if i != -1]
            clause = flat[start + 1:min(ends, default=len(flat))]
            if not _TAKEN_BACK.search(clause):
                yield Finding(path, f"cites #{m.group(1)}, which was reverted, with no word of it: {clause.strip()!r}",
                              doc=doc, hint="say it was reverted (and by what), or cite the change that holds")


@rule("D513", "a lane names an answer block that lanes.yaml does not define", scope="project")
def lane_answers(ctx) -> Iterator[Finding]:
    doc = ctx.project.lanes_doc
    if doc is None or not is_valid(doc):
        return
    known = answer_titles(doc.data.get("answers") or {})
    for i, lane in enumerate(doc.data["lanes"]):
        for j, name in enumerate(lane.get("answers") or []):
            if name not in known:
                yield Finding(f"lanes[{i}].answers[{j}]", f"lane {lane['id']!r} names answer {name!r}, which is "
                              "not defined", hint="answers: " + ", ".join(sorted(known)), doc=doc)


@rule("D514", "an answer-block item names a finding that cards/findings/ does not hold, or a release note a release "
              "cards/evidence.lock does not record (by-release.md has no section to show it in), or release notes "
              "with no upgrade checklist to link to", scope="project")
def answer_findings(ctx) -> Iterator[Finding]:
    from dossier.lint.releases import release_lock

    doc = ctx.project.lanes_doc
    if doc is None or not is_valid(doc):
        return
    known = {f.name for f in ctx.project.findings}
    for i, checklist in enumerate((doc.data.get("answers") or {}).get("checklists") or []):
        for j, item in enumerate(checklist["items"]):
            for k, name in enumerate(item.get("findings") or []):
                if name not in known:
                    yield Finding(f"answers.checklists[{i}].items[{j}].findings[{k}]",
                                  f"answer names finding {name!r}, which cards/findings/ does not hold",
                                  hint="findings: " + (", ".join(sorted(known)) or "none"), doc=doc)
    answers = doc.data.get("answers") or {}
    if answers.get("release_notes") and not any(c["id"] == UPGRADE_ANSWER for c in answers.get("checklists") or []):
        yield Finding("answers.release_notes", f"release notes, which by-release.md links to the upgrade block, but no "
                      f"checklist has the id {UPGRADE_ANSWER!r} (renamed or removed?): the notes would lose their link",
                      hint=f"give the upgrade checklist the id {UPGRADE_ANSWER!r} back", doc=doc)
    lock, error = release_lock(ctx)
    if error:  # D311/D316 say why
        return
    for i, note in enumerate(answers.get("release_notes") or []):
        if note["version"] not in lock.built:  # by-release.md shows a note in its release's section: it was dropped
            newest = list(lock.built)[-3:]
            yield Finding(f"answers.release_notes[{i}].version#value",
                          f"release note for SGLang {note['version']}, which cards/evidence.lock does not record: "
                          "by-release.md has no section for it, and the note would be left out",
                          hint=f"the releases recorded end {', '.join(newest)}" if newest else
                          "no release evidence recorded: `dossier releases verify --record`", doc=doc)


@rule("D522", "an error-page message is not quoted in its item's text, or is another item's message too", scope="project")
def error_messages_indexed(ctx) -> Iterator[Finding]:
    """references/errors.md is read through its index, message -> section: a message its item never quotes sends a
    reader to a section without it, and one message under two items (or one inside another) sends them to two."""
    doc = ctx.project.lanes_doc
    if doc is None or not is_valid(doc):
        return
    seen: dict[str, tuple[str, tuple[int, int]]] = {}
    for i, group in enumerate((doc.data.get("answers") or {}).get("errors") or []):
        for j, item in enumerate(group["items"]):
            for k, message in enumerate(item["messages"]):
                path = f"answers.errors[{i}].items[{j}].messages[{k}]"
                if message not in item["check"]:
                    yield Finding(path, f"message {message!r} is not quoted in its item's text",
                                  hint="copy the message's words into `check` as the log prints them", doc=doc)
                clash = next((other for other, (_, item_at) in seen.items()
                              if item_at != (i, j) and (message in other or other in message)), None)
                if clash is not None:
                    yield Finding(path, f"message {message!r} also matches {clash!r} ({seen[clash][0]}): a quoted "
                                  "log line would lead to two items", hint="quote more of the message", doc=doc)
                seen[message] = (path, (i, j))


#: a results file of this project cited in prose
_RESULTS = re.compile(r"(?<![\w/.-])(results/[\w./-]*\w\.(?:json|txt|log))\b")
_SHAPE_KEYS = {"TP": ("tp", "tp_size"), "B": ("tokens", "batch", "bs", "batch_size")}


#: a parenthesis with no other inside it: where a sentence may cite a results file with its run's details
_CITING = re.compile(r"\(([^()]*)\)")


@rule("D517", "a sentence citing a results/ file (or giving figures to runtime.<lane>.bench: results/bench/<lane>.json) "
              "quotes a value, a TP/batch row or a GPU that file does not hold", scope="project")
def result_not_in_file(ctx) -> Iterator[Finding]:
    """"(results/bench/projections.json): ... 65.6 us against a 28.3 us floor (TP1 B=512)": every decimal the
    sentence gives is a value of that file at the precision written, and a TPn or B=n it names is a row's tp or
    batch/tokens (a ``TPn B=m`` pair: one row's). A number the sentence's shape pairs with one row (a clause naming
    one row; ``2.32x (TP1 B=512)``; "TP1 B=64 and TP4 B=256 reach 1.15x and 1.16x": see
    :mod:`dossier.lint.result_rows`) is that row's value or one outside every row (ceilings, notes), not another
    row's; a number the shape does not pair is checked against the whole file. A sentence that names GPUs names
    the one the file was measured on (its ``device``), among others if it compares; so does one giving this card's
    `dossier regress` run a GPU without citing results/cuda/<pr>.json; the parenthesis citing the file, when it
    names GPUs, names the file's ("(NVIDIA H200, ...; results/bench/gdn.json)"). A missing file is D604's. A
    sentence that gives its figures to this project's bench by module, citing no file ("This project (H200,
    runtime.projections.bench): the fused split runs 3.7x faster at TP1 B=64"), is judged against what that bench
    writes, results/bench/<lane>.json; one crediting the PR's author, description or thread is not. Read in every
    card, cards/lanes.yaml and the findings."""
    from dossier.lint.depth import card_texts, text_location
    from dossier.lint.flag_releases import lanes_and_finding_texts

    for doc in ctx.project.valid_docs():
        card = Card.from_data(doc.data, doc.path)
        for path, text in card_texts(card):
            for sentence in prose.sentences(text):
                for finding in _results_said(sentence, text_location(path), card, ctx):
                    yield finding._replace(doc=doc)
    for doc, path, text, _ in lanes_and_finding_texts(ctx.project):
        for sentence in prose.sentences(text):
            for finding in _results_said(sentence, path, None, ctx):
                yield finding._replace(doc=doc)


def _results_said(sentence: str, where: str, card: Card | None, ctx) -> Iterator[Finding]:
    """D517's findings in one sentence of ``card`` (None: lanes.yaml or a finding), placed at ``where``."""
    from dossier.lint.result_rows import DECIMAL, ROW, SHAPE, bindings

    files = [ctx.project.root / p for p in dict.fromkeys(_RESULTS.findall(sentence))]
    files = [f for f in files if f.is_file()]
    if not files:
        if card is not None:
            yield from _regress_device(card, sentence, where, ctx)
        files = [f] if (f := _bench_file(sentence, ctx)) is not None else []
        if not files:
            return
    keyed, rows = _result_values(files, ctx)
    names = ", ".join(f.name for f in files)
    named, measured = gpu_names(sentence), _devices(files, ctx)
    # the parenthesis that cites the file, when it names GPUs, names the file's ("(..., NVIDIA H200, ...;
    # results/bench/gdn.json)"): another GPU elsewhere in the sentence may be a comparison's, not this one
    cited = next((gpu_names(p[:r.start()]) for p in _CITING.findall(sentence) if (r := _RESULTS.search(p))
                  and gpu_names(p[:r.start()])), None)  # the run's details come before the file it cites
    if measured and ((named and not named & measured) or (cited and not cited & measured)):
        yield Finding(where, f"names {', '.join(sorted(cited or named))}, but {names} was measured on "
                             f"{', '.join(sorted(measured))} (its device)", hint="name the GPU the results file records")
    everywhere = [v for vals in rows.values() for v in vals]
    bound = bindings(sentence)
    for m in DECIMAL.finditer(sentence):
        digits = len(m.group(1).split(".")[1])
        row = bound.get(m.start())
        if row is not None and row in rows:
            if not _holds(rows[None] + rows[row], m.group(1)):
                others = [r for r in rows if r and _holds(rows[r], m.group(1))]
                yield Finding(where, f"{m.group(1)} is not a value of {names}'s TP{row[0]} B={row[1]} row, "
                                     "which the sentence gives it to" + (
                                         f" (TP{others[0][0]} B={others[0][1]} has it)" if others else ""),
                              hint="quote the row's own number, or name the row it comes from")
        elif not _holds(everywhere, m.group(1)):
            yield Finding(where, f"{m.group(1)} is not a value of {names} "
                                 f"(to {digits} decimal place{'s' if digits > 1 else ''})",
                          hint="quote the number as the results file has it, or cite the file it comes from")
    shape_bad = False
    for m in SHAPE.finditer(sentence):
        kind = "TP" if m.group(1) == "TP" else "B"
        held = {v for k in _SHAPE_KEYS[kind] for v in keyed.get(k, ())}
        if held and int(m.group(2)) not in held:
            shape_bad = True
            yield Finding(where, f"{m.group(0)}: no row of {names} has "
                                 f"{'/'.join(_SHAPE_KEYS[kind][:2])} {m.group(2)} (it has {sorted(held)})",
                          hint="name a row the results file holds")
    for m in ROW.finditer(sentence):
        row = (int(m.group(1)), int(m.group(2)))
        if not shape_bad and len(rows) > 1 and row not in rows:
            yield Finding(where, f"{m.group(0)}: {names} has no row of tp {row[0]} with batch/tokens "
                                 f"{row[1]}", hint="name a row the results file holds")


#: this project's GPU regression run of a card, named without its results file
_OWN_REGRESS = re.compile(r"\bdossier regress\b|\b(?:this project's|our) (?:GPU |CUDA )?regression (?:jobs?|runs?|tests?)\b",
                          re.IGNORECASE)


def _regress_device(card: Card, sentence: str, where: str, ctx) -> Iterator[Finding]:
    """A clause giving this card's regression run ("This project's dossier regress run of this card passed on an
    H100") to a GPU that the stored result, results/cuda/<pr>.json, does not record: the file is cited by name. A
    clause that names the author, the description or the thread gives the GPU to them."""
    from dossier.lint.depth import _THEIRS

    stored = ctx.project.root / "results" / "cuda" / f"{card.pr}.json"
    if not stored.is_file():
        return
    measured = _devices([stored], ctx)
    for clause in re.split(r";|, but\b|, while\b", sentence):  # the run and its GPU in one clause, not the author's
        named = gpu_names(clause)
        if named and measured and _OWN_REGRESS.search(clause) and not _THEIRS.search(clause) and not named & measured:
            yield Finding(where, f"gives this card's regression run to {', '.join(sorted(named))}, "
                                 f"but results/cuda/{card.pr}.json records {', '.join(sorted(measured))}",
                          hint="name the GPU the stored result records, and cite the file")


#: this project's bench named as a figure's source: "runtime.projections.bench", "python -m runtime.gdn.bench"
_BENCH = re.compile(r"(?<![\w.])runtime\.(\w+)\.bench\b")


def _bench_file(sentence: str, ctx) -> Path | None:
    """The stored results of the bench a sentence gives its figures to by module ("This project (H200,
    runtime.projections.bench): ... 3.7x"): results/bench/<lane>.json, what `python -m runtime.<lane>.bench --json`
    writes (None: no bench named, the figures given to the PR's author, description or thread, or no such file)."""
    from dossier.lint.depth import _THEIRS

    m = _BENCH.search(sentence)
    if m is None or _THEIRS.search(sentence):
        return None
    f = ctx.project.root / "results" / "bench" / f"{m.group(1)}.json"
    return f if f.is_file() else None


def _devices(files: list[Path], ctx) -> set[str]:
    """The GPUs ``files`` were measured on: a JSON document's ``device`` (its name), a log's from its header (the
    comment lines it opens with, and a ``device:`` line). Each file is read once a run."""
    memo = ctx.memo.setdefault("result-devices", {})
    for f in files:
        if f not in memo:
            memo[f] = _device_of(f)
    return set().union(*(memo[f] for f in files))


def _device_of(f: Path) -> set[str]:
    """The GPUs one results file names as its device (see :func:`_devices`)."""
    import json

    text = f.read_text(encoding="utf-8", errors="replace")
    if f.suffix != ".json":
        return gpu_names(re.match(r"(?:#.*\n|\s*\n)*(?:device:.*\n)?", text)[0])
    try:
        device = json.loads(text).get("device")
    except (ValueError, AttributeError, RecursionError):
        return set()
    name = device.get("name") if isinstance(device, dict) else device
    return gpu_names(name) if isinstance(name, str) else set()


def _holds(values: list[float], written: str) -> bool:
    """Whether a value rounds to the number as written (to its decimal places)."""
    digits = len(written.split(".")[1])
    return any(round(v, digits) == float(written) for v in values)


def _result_values(files: list[Path], ctx) -> tuple[dict[str, set], dict]:
    """The integer values under each JSON key of the files, and every number in them (JSON values and numbers inside
    strings, or numbers of a text file) by row: ``(tp, batch or tokens)`` for each JSON object holding both
    (everything under it), ``None`` for what no such object holds."""
    import json

    memo = ctx.memo.setdefault("result-values", {})
    keyed: dict[str, set] = {}
    rows: dict = {None: []}
    for f in files:
        if f not in memo:
            text = f.read_text(encoding="utf-8", errors="replace")
            try:
                doc = json.loads(text) if f.suffix == ".json" else None
            except (ValueError, RecursionError):  # not JSON, or nested too deeply to read: its numbers as text
                doc = None
            keys: dict[str, set] = {}
            by_row: dict = {None: []}
            try:
                if doc is not None:
                    _walk(doc, None, keys, by_row)
            except RecursionError:
                doc, keys, by_row = None, {}, {None: []}
            if doc is None:
                by_row[None] = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)]
            memo[f] = (keys, by_row)
        for k, v in memo[f][0].items():
            keyed.setdefault(k, set()).update(v)
        for k, v in memo[f][1].items():
            rows.setdefault(k, []).extend(v)
    return keyed, rows


def _walk(node, row, keys: dict[str, set], by_row: dict) -> None:
    """Numbers under ``node`` into ``by_row[row]``; a JSON object naming a tp and a batch/tokens starts a row."""
    if isinstance(node, dict):
        tp = next((node[k] for k in _SHAPE_KEYS["TP"] if isinstance(node.get(k), int)), None)
        b = next((node[k] for k in _SHAPE_KEYS["B"] if isinstance(node.get(k), int)), None)
        if row is None and tp is not None and b is not None:
            row = (tp, b)
        items = node.items()
    elif isinstance(node, list):
        items = enumerate(node)
    else:
        return
    out = by_row.setdefault(row, [])
    for k, v in items:
        if isinstance(v, (dict, list)):
            _walk(v, row, keys, by_row)
        elif isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) <= sys.float_info.max:  # 10**400: none
            out.append(float(v))
            if isinstance(k, str) and float(v).is_integer():
                keys.setdefault(k, set()).add(int(v))
        elif isinstance(v, str):
            out += [float(x) for x in re.findall(r"\d+(?:\.\d+)?", v)]


@rule("D518", "a card's title is another card's (a PR and the one that superseded it excepted)", scope="card")
def shared_title(card: Card, doc, ctx) -> Iterator[Finding]:
    """A card copied from another keeps its title unless someone changes it: GitHub titles name one PR. A PR
    reopened under the same title is linked to its successor by superseded_by, and may share it."""
    key = " ".join(card.title.lower().split())
    for other in ctx.project.cards:
        if other.pr == card.pr or " ".join(other.title.lower().split()) != key:
            continue
        if other.pr in card.superseded_by or card.pr in other.superseded_by:
            continue
        yield Finding("title#value", f"#{other.pr}'s card has the same title: {card.title!r}",
                      hint="take this PR's title from its thread")
        return


#: a PR named in a card's prose, to say what replaced what: "#90", "#22876/#90", "PR 90", "PRs #90"
_NAMES_PR = re.compile(r"(?:(?:(?<![\w/])|" + prose.PAIR_NEXT + r")#|\bPRs?\s#?)(\d{1,7})\b")


@rule("D519", "superseded_by names a PR that the card's prose never mentions (what replaced it is unexplained)",
      scope="card")
def unexplained_successor(card: Card, doc, ctx) -> Iterator[Finding]:
    """A superseded or reverted card says which PR replaced it and how; a successor its prose never names was
    likely set by mistake (a neighbouring card's number, a PR of the same area). Every real card names each of
    its successors (#N, "PR N" or the PR's URL) somewhere in its prose."""
    from dossier.lint.depth import card_texts

    said = {int(n) for _, text in card_texts(card) for n in _NAMES_PR.findall(text)}
    said |= {int(m.group("url_n")) for _, text in card_texts(card) for m in PR_URL.finditer(text)}
    for i, pr in enumerate(card.superseded_by):
        if pr not in said:
            yield Finding(f"superseded_by[{i}]", f"#{pr} is named as this PR's successor, but the card never says "
                                                 f"what #{pr} did", hint=f"say how #{pr} replaced this PR, or fix the number")


@rule("D520", "superseded_by names a PR whose own card never mentions the PR it replaced", scope="card")
def successor_silent(card: Card, doc, ctx) -> Iterator[Finding]:
    """"Superseded by #34763" on #31942's card while #34763's card never names #31942: either the link is wrong
    (a neighbouring number, a PR of the same area) or the successor's reader is never told what it replaced. The
    successor's card names the PR it replaced (#N, "PR N" or the PR's URL) somewhere in its prose; a successor without a
    card is D502's."""
    from dossier.lint.depth import card_texts

    for i, pr in enumerate(card.superseded_by):
        successor = ctx.project.card(pr)
        if successor is None or successor.pr == card.pr:
            continue
        texts = [text for _, text in card_texts(successor)] + [successor.title]
        said = {int(n) for text in texts for n in _NAMES_PR.findall(text)}
        said |= {int(m.group("url_n")) for text in texts for m in PR_URL.finditer(text)}
        if card.pr not in said:
            yield Finding(f"superseded_by[{i}]", f"#{pr} is named as this PR's successor, but #{pr}'s card never "
                                                 f"mentions #{card.pr}",
                          hint=f"say in #{pr}'s card what it replaced (#{card.pr}), or fix the number")
