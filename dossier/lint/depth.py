"""D2xx: does the prose say something a reader could not get from the title, grounded in the change?

Measured in words and identifiers, not characters (:mod:`dossier.prose`): a card must state a problem,
name the code it changed beyond what the title, its files and the model's name give away, and explain
its key fragment in terms of the lines it matched. Project-wide template and copy detection is in
:mod:`dossier.lint.templates`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath

from dossier import prose
from dossier.diff import IMPORT_LINE
from dossier.lint.gpu_names import GPU
from dossier.lint.grounds import ground_texts
from dossier.lint.registry import Finding, rule
from dossier.model import CARD, MAX_MATCH, Card

MIN_WORDS = 30  # motivation and implementation
MIN_EXPLAIN_WORDS = 15
MIN_CLAIM_WORDS = 6
MIN_IDENTIFIERS = 3  # own identifiers in implementation
MIN_GROUNDED = 2  # of them found in the diff / release when one is cached
MIN_DISTINCT = 0.6  # moving-average share of distinct words
MIN_ENGLISH = 0.08  # share of English function words in prose
MIN_SPECIFIC = 0.03  # share of specific words (numbers, identifiers, acronyms, paths) in motivation/implementation
#: files whose change has functions, classes or kernels to name
CODE_SUFFIXES = {".py", ".pyi", ".cu", ".cuh", ".c", ".cc", ".cpp", ".h", ".hpp", ".hip", ".rs", ".jinja2"}
PROSE_FIELDS = ("motivation", "implementation")
ALL_FIELDS = ("motivation", "implementation", "key_fragment.explain")

SHALLOW = {"follow-up", "followup", "bugfix", "bug", "fix", "fixes", "fixed", "fixing", "optimization",
           "optimizations", "optimize", "optimizes", "optimized", "refactor", "refactors", "refactored", "cleanup",
           "clean", "up", "improve", "improves", "improved", "improvement", "improvements", "update", "updates",
           "updated", "misc", "support", "supports", "perf", "performance", "better", "things", "change", "changes",
           "changed", "works", "work", "key"}
STOP = {"a", "an", "the", "of", "for", "to", "in", "on", "and", "or", "with", "this", "that", "it", "is", "was",
        "be", "by", "as", "at", "pr", "from", "into", "its", "are", "which", "so", "also", "when"}
#: a word or mark left where text should be: TODO, XXXXXXX, an unfilled "{{ pr_url }}", a number written "N%", an
#: instruction in brackets ("[Insert the benchmark table here]")
PLACEHOLDER_WORD = re.compile(r"\b(TODO|TBD|FIXME|X{3,}|lorem ipsum|fill (?:me|in)|to be written|placeholder)\b|"
                              r"\{\{[^{}]*\}\}|\{%[^{}]*%\}|(?<![\w.])(?:N ?%|X ?%|Nx\b)|"
                              # an instruction left in brackets: "[Insert the benchmark table here]", "<your numbers>"
                              r"[\[<] ?(?:insert|add|paste|put|enter|describe|your)\b[^\]>]{0,80}[\]>]", re.IGNORECASE)
PLACEHOLDER = re.compile(rf"{PLACEHOLDER_WORD.pattern}|^\s*(\.\.\.|-|n/?a|none|pending)\s*\.?\s*$", re.IGNORECASE)
#: a labelled field of a filled-in form ("Title: ...; category: ...; main diff: ...")
FORM_LABEL = re.compile(r"(?:^|;)\s*[A-Za-z][\w /-]{0,24}:\s")
MAX_LABELS = 2
#: the sections of a PR description (SGLang's template and common ones)
_SECTIONS = (r"Motivation|Modifications?|Accuracy Tests?|Benchmark(?:ing)?(?: and| &) Profiling|Speed Tests?(?: and "
             r"Profiling)?|Checklist|Test Plan")
_SECTION = rf"(?:{_SECTIONS})"
#: ... and, only when bold, more common words
_BOLD_SECTION = rf"(?:{_SECTIONS}|Test Results?|Summary|Description|Changes|Related Issues?)"
#: what pasted PR-description text carries: a markdown heading, a checkbox, an HTML comment, a sign-off, a review
#: request, the author's "I"
TEMPLATE_RESIDUE = re.compile(r"(?:^|\s)#{2,6} ?[A-Z][a-z]+|(?:^|\s)[-*] \[[ xX]\](?=\s)|<!--|"
                              # a section of SGLang's PR template, bold or as a label: "**Modifications**", "Accuracy
                              # Tests: ..."
                              rf"\*\*{_BOLD_SECTION}:?\*\*|(?:^|(?<=[.!?]\s))\**{_SECTION}\**:|"
                              r"\b(?:Co-authored-by|Signed-off-by):|\bPTAL\b|\bcc @[\w-]+|\b[Pp]lease (?:help )?(?:review|take "
                              r"a look)\b|\b[Ii]n this PR,? we\b|"
                              # a row of a markdown table: "| bs | triton | cutedsl |"
                              r"(?:^|\s)\|(?: ?[^|\n\[\]()]{1,24} ?\|){3,}(?=\s|$)|"
                              # the author's own voice, outside a quotation: "I added", "I tested"
                              r"(?<![\w\"'\u201c/#.-])I (?:have |also |then |just )?(?:add|added|tested|ran|fixed|changed|"
                              r"implemented|refactored|modified|think|found|use|used|will|am|could|couldn't|cannot|can't|"
                              r"was|did|didn't|do|don't|hope|believe|guess|assume|would)\b|"
                              # a chat assistant's voice: "Sure! Here is the card", "As an AI model"
                              r"\b(?:Sure|Certainly|Absolutely)[,!] (?:here|I)\b|\bHere(?:'s| is) (?:the|a|an|your) "
                              r"(?:updated |revised |completed |filled[- ]in )?(?:card|summary|dossier|YAML)\b|"
                              r"\b[Aa]s an AI\b|\bAI (?:language )?model\b|\bI hope this helps\b|\b[Ll]et me know if\b|"
                              # ... its contractions and its limits: "I'm not able to", "my knowledge cutoff"
                              r"(?<![\w\"'\u201c/#.-])I(?:'m|\u2019m|'ve|'d|'ll)\b|\bknowledge cut-?off\b|"
                              r"\b[Aa]s a (?:large )?language model\b|"
                              # a markdown code fence, and the check marks and emoji of PR descriptions and chat replies
                              r"```|[\u2705\u2714\u2716\u274c\u274e\u2611\U0001F300-\U0001FAFF]")
#: padding: one word four times in a row, one character eight times in a row
PADDING = re.compile(r"\b(\w+)(?:\W+\1\b){3,}|(\S)\2{7,}", re.IGNORECASE)
#: identifier-like tokens of a code line (3+ characters, not Python keywords)
_CODE_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


def text_of(card: Card, name: str) -> str:
    return card.key_fragment.explain if name == "key_fragment.explain" else getattr(card, name)


def card_texts(card: Card) -> Iterator[tuple[str, str]]:
    """(YAML path, text) for every prose text of a card: the three prose fields, claims, validation lanes,
    corrections and runtime.none."""
    for name in ALL_FIELDS:
        yield name, text_of(card, name)
    for key, items in (("validation.claims", card.claims), ("validation.lanes", card.validation_lanes),
                       ("corrections", card.corrections)):
        yield from ((f"{key}[{i}]", t) for i, t in enumerate(items))
    if card.runtime.none:
        yield "runtime.none", card.runtime.none


def prose_texts(card: Card) -> Iterator[tuple[str, str]]:
    """(YAML path, whitespace-folded text) of the card's prose other than its claims, the ledger the prose is judged
    against."""
    for path, text in card_texts(card):
        if not path.startswith("validation.claims"):
            yield path, " ".join(text.split())


def text_location(path: str) -> str:
    """Where a finding on a :func:`card_texts` text points: a list item as it is, a field at its value."""
    return path if path.endswith("]") else f"{path}#value"


def clause_before(flat: str, end: int) -> str:
    """The text of ``flat`` from the start of the clause (after the last ``;`` or sentence end) up to ``end``."""
    return flat[max(flat.rfind(";", 0, end), flat.rfind(". ", 0, end), 0):end]


def clause_after(flat: str, start: int) -> str:
    """The text of ``flat`` from ``start`` to the end of its clause (a ``;`` or a sentence end)."""
    return re.split(r";|\.\s", flat[start:], maxsplit=1)[0]


def content_words(text: str) -> list[str]:
    """Words of ``text`` without diff statistics, hunk headers and generic phrases."""
    return prose.words(prose.GENERIC.sub(" ", prose.clean(text)))


def adds_to_title(text: str, title: str, needed: int = 6) -> bool:
    """True when ``text`` has at least ``needed`` distinct content words that the title lacks."""
    title_words = set(prose.words(title))
    new = {w for w in content_words(text) if w not in title_words and w not in STOP and w not in SHALLOW}
    return len(new) >= needed


def card_paths(card: Card) -> tuple[str, ...]:
    return card.all_files + (card.key_fragment.file,)


#: the fewest words a title needs before a copy of it is a paste rather than a common phrase
_TITLE_WORDS = 4
#: a quotation mark: a title quoted as the title ("the PR, titled '...'") is cited, not passed off as the card's words
_QUOTES = "\"'`\u2018\u2019\u201c\u201d"


def _folded(text: str) -> str:
    return " ".join(text.split()).casefold()


def pasted_title(text: str, title: str) -> bool:
    """Whether ``text`` holds the PR title (its "[Tag]" prefixes dropped, case and spacing folded, 4 words or more)
    word for word outside quotation marks."""
    bare = re.sub(r"^(?:\s*\[[^\]]*\]\s*)+", "", title).strip().rstrip(".!:;")
    if len(bare.split()) < _TITLE_WORDS:
        return False
    needle, flat = _folded(bare), _folded(text)
    for m in re.finditer(re.escape(needle), flat):
        before, after = flat[:m.start()].rstrip()[-1:], flat[m.end():].lstrip(".!?,;: ")[:1]
        edges = (flat[m.start() - 1:m.start()], flat[m.end():m.end() + 1])
        if any(c.isalnum() or c == "_" for c in edges):
            continue  # inside a longer word
        if not (before and before in _QUOTES and after and after in _QUOTES):
            return True
    return False


@rule("D201", "motivation or implementation only repeats the PR title, or a text of the card pastes it word for word",
      scope="card")
def repeats_title(card: Card, doc, ctx) -> Iterator[Finding]:
    """A motivation or implementation with fewer than six content words the title lacks says nothing the title
    does not. A text that holds the whole title word for word (4 words or more, "[Tag]" prefixes dropped, any case;
    "Fuse Qwen3-Next GDN's qkvz_proj and ba_proj. This PR makes it faster.") is a summary pasted from the PR page:
    the reader gets the author's words, not what the card checked. A title in quotation marks is a citation and
    passes ('the PR, titled "Fuse Qwen3-Next GDN's qkvz_proj and ba_proj", ...'); no real card pastes its title."""
    for name in PROSE_FIELDS:
        if not adds_to_title(getattr(card, name), card.title):
            yield Finding(f"{name}#value", f"{name} repeats the PR title without adding the concrete problem",
                          hint="say what broke or was slow, with numbers, and where")
    for path, text in card_texts(card):
        if (path not in PROSE_FIELDS or adds_to_title(text, card.title)) and pasted_title(text, card.title):
            yield Finding(text_location(path), f"{path} pastes the PR title word for word",
                          hint="say what the change does in the card's own words (quote the title only as a title)")


@rule("D202", "prose is a placeholder, or holds one (TODO, TBD, XXX, an unfilled {{ template }} field, 'N%')",
      scope="card")
def placeholder(card: Card, doc, ctx) -> Iterator[Finding]:
    """A field that is only "TBD" or "n/a", or any text of the card (claims, lanes, corrections too) holding a word
    or mark left for later: the reader takes the rest of the card as finished."""
    for name in ALL_FIELDS:
        m = PLACEHOLDER.search(text_of(card, name))
        if m:
            yield Finding(f"{name}#value", f"{name} is a placeholder ({m.group(0).strip()!r})")
    for path, text in card_texts(card):
        m = PLACEHOLDER_WORD.search(text) if path not in ALL_FIELDS else None
        if m:
            yield Finding(text_location(path), f"{path} holds a placeholder ({m.group(0).strip()!r})")


@rule("D204", "prose is shorter than a useful minimum (words, after diff statistics and generic phrases)",
      scope="card")
def too_short(card: Card, doc, ctx) -> Iterator[Finding]:
    """Also runtime.none, the reason no runtime lane reproduces the PR: "nothing" or "n/a" says no reason."""
    for name in PROSE_FIELDS:
        n = len(content_words(getattr(card, name)))
        if n < MIN_WORDS:
            yield Finding(f"{name}#value", f"{name} has {n} words of content; write at least {MIN_WORDS}",
                          hint="diff statistics, hunk headers and generic phrases do not count")
    if card.runtime.none is not None and len(prose.words(card.runtime.none)) < MIN_NONE_WORDS:
        yield Finding("runtime.none#value", f"runtime.none gives no reason ({card.runtime.none.strip()!r}): say in "
                                            f"{MIN_NONE_WORDS} words or more why no runtime lane reproduces the PR",
                      hint="e.g. 'A dependency pin; nothing to model.', or point runtime at a lane that does")


@rule("D205", "key_fragment.explain is missing substance", scope="card")
def thin_explain(card: Card, doc, ctx) -> Iterator[Finding]:
    kf = card.key_fragment
    n = len(content_words(kf.explain))
    if n < MIN_EXPLAIN_WORDS or kf.explain.strip("` ") == kf.match.strip():
        yield Finding("key_fragment.explain#value",
                      f"explain has {n} words of content; say what the changed lines do in >= {MIN_EXPLAIN_WORDS} "
                      "words, not repeat the match")


@rule("D206", "key_fragment.match quotes an import line", scope="card")
def import_match(card: Card, doc, ctx) -> Iterator[Finding]:
    if IMPORT_LINE.match(card.key_fragment.match):
        yield Finding("key_fragment.match#value", "key fragment is an import line; an import carries no change",
                      hint="match the line that uses the imported name")


@rule("D207", "key_fragment.match is too short or too long to identify a changed line", scope="card")
def match_size(card: Card, doc, ctx) -> Iterator[Finding]:
    n = len(card.key_fragment.match.strip())
    if n < 4 or n > MAX_MATCH:
        yield Finding("key_fragment.match#value",
                      f"match is {n} characters; use 4..{MAX_MATCH} (a distinctive piece of one changed line)")


#: a claim's measured number (a percentage, a ratio, a time or a rate) ...
_MEASURED = re.compile(r"(?<![\w.])\d(?:[\d.,]*)\s*(?:%|x\b|×|ms\b|us\b|µs\b|s\b|tok/s|tokens/s|req/s|GB/s|TB/s|TFLOPS)", re.I)
#: ... and what says where it comes from: hardware, model, parallelism, batch (not a "small-batch kernel"), benchmark,
#: or who measured it
_SETUP = re.compile(rf"(?-i:{GPU.pattern})|\b(?:RTX|SM\d+|GPUs?|NPUs?|TP\s?=?\s?\d+|DP\s?=?\s?\d+|EP\s?\d+|"
                    r"(?<!-)batch(?!-)|B\s?=|bs|concurrency|Qwen[\w.-]*|model|checkpoint|author|PR|description|review\w*|thread|"
                    r"comment|bench\w*|GSM8K|MMLU|GPQA|CI|tests?|profil\w*|nsys|ncu|reported|measured by)\b", re.I)
#: a validation lane that can be run: a command, a module, a test path or a flag
_RUNNABLE = re.compile(r"python3? |pytest|--[a-z]|/|\.py\b")
MIN_LANE_WORDS = 4
#: the fewest words runtime.none takes to give a reason ("A dependency pin; nothing to model.")
MIN_NONE_WORDS = 4


@rule("D208", "validation not recorded: no claims (or statement that the PR gave none), no lanes", scope="card")
def no_validation(card: Card, doc, ctx) -> Iterator[Finding]:
    if not card.claims:
        yield Finding("validation.claims", "no validation claims",
                      hint="record the PR's numbers with their setup, or say the PR gave none and what it did "
                           "validate (CI tests, a manual check)")
    for i, claim in enumerate(card.claims):
        if len(prose.words(claim)) < MIN_CLAIM_WORDS:
            yield Finding(f"validation.claims[{i}]", f"claim has fewer than {MIN_CLAIM_WORDS} words",
                          hint="a claim gives the number, the setup and its source; 'none' says what was "
                               "validated instead")
        elif _MEASURED.search(claim) and not _SETUP.search(claim):
            yield Finding(f"validation.claims[{i}]", "a measured number without its setup or source",
                          hint="say on what (GPU, model, TP, batch, benchmark) and who measured it (PR description, "
                               "author, review, CI)")
    if not card.validation_lanes:
        yield Finding("validation.lanes", "no validation lanes: what must a change here be validated on?",
                      hint="a test to run (the PR's own, `python -m pytest ...`), a benchmark, or what to compare on "
                           "which setup (greedy outputs with and without the change)")
    for i, lane in enumerate(card.validation_lanes):
        if len(prose.words(lane)) < MIN_LANE_WORDS and not _RUNNABLE.search(lane):
            yield Finding(f"validation.lanes[{i}]", "a lane that names nothing to run or check",
                          hint="a command, a test path, or what to compare on which setup")


@rule("D209", "motivation states no problem (symptom, measured cost, or missing capability with its reason)",
      scope="card")
def no_problem(card: Card, doc, ctx) -> Iterator[Finding]:
    if not prose.states_problem(card.motivation):
        yield Finding("motivation#value", "motivation states no problem",
                      hint="name the symptom (crash, hang, OOM, NaN, wrong output, accuracy drop), the cost with "
                           "a number and unit (us, ms, tok/s, %), or the missing capability and why it mattered")


@rule("D210", "prose repeats its own words (low share of distinct words)", scope="card")
def low_variety(card: Card, doc, ctx) -> Iterator[Finding]:
    for name in ALL_FIELDS:
        ws = prose.words(prose.clean(text_of(card, name)))
        share = prose.distinct_share(ws)
        if len(ws) >= 20 and share < MIN_DISTINCT:
            yield Finding(f"{name}#value", f"{name}: only {share:.0%} distinct words per stretch "
                          f"(minimum {MIN_DISTINCT:.0%}); it says the same thing again")


@rule("D211", "filler: repeated sentences, padding, a form of labelled fields, pasted PR-description text (## "
              "headings, [x] boxes, sign-offs, the author's 'I added'), or text that is not English prose", scope="card")
def filler(card: Card, doc, ctx) -> Iterator[Finding]:
    for name in ALL_FIELDS:
        text = text_of(card, name)
        repeated = prose.repeated_sentences(text)
        if repeated:
            yield Finding(f"{name}#value", f"{name} repeats a sentence: {repeated[0][:60]!r}")
            continue
        if TEMPLATE_RESIDUE.search(text):
            continue  # below
        labels = FORM_LABEL.findall(text) if name in PROSE_FIELDS else []
        if len(labels) > MAX_LABELS:
            yield Finding(f"{name}#value", f"{name} is a form of labelled fields "
                          f"({', '.join(x.strip(' ;') for x in labels[:4])} ...), not prose",
                          hint="say in sentences what the problem was and how the code changed")
            continue
        pad = PADDING.search(text)
        if pad:
            yield Finding(f"{name}#value", f"{name} is padded ({pad.group(0)[:40]!r})")
            continue
        ws = prose.words(prose.clean(text))
        alpha = [w for w in ws if w.isalpha()]
        # explain may be mostly pseudo-code; motivation and implementation are prose
        if name in PROSE_FIELDS and len(alpha) >= 15 and prose.english_share(ws) < MIN_ENGLISH:
            yield Finding(f"{name}#value", f"{name} does not read as English prose")
    for path, text in card_texts(card):
        residue = TEMPLATE_RESIDUE.search(re.sub(r"\"[^\"]*\"|\u201c[^\u201d]*\u201d", " ", text))  # not in quotes
        if residue:
            yield Finding(text_location(path), f"{path} holds "
                          f"{residue.group(0).strip()!r}: PR-description text pasted as the card's own",
                          hint="say in your own words what the problem was and how the code changed; cite the "
                               "description for its numbers")


@rule("D215", "prose leans on generic phrases ('works better', 'improves performance', 'the key change'), or a "
              "sentence is only one", scope="card")
def generic_phrases(card: Card, doc, ctx) -> Iterator[Finding]:
    for name in ALL_FIELDS:
        found = prose.generic_phrases(text_of(card, name))
        # a motivation may quote one stock phrase ("fixes issue #123" is not one); the others say what changed
        if len(found) > (1 if name == "motivation" else 0):
            yield Finding(f"{name}#value", f"{name} says {', '.join(repr(f) for f in found[:3])}: "
                          "a phrase that fits any PR", hint="replace it with what the code does and how")
    # a sentence that is only a stock phrase says nothing anywhere (the motivation's one allowance is for a
    # phrase inside a sentence that names something)
    for path, text in card_texts(card):
        if path not in ("implementation", "key_fragment.explain"):  # any phrase there is a finding already
            for s in prose.empty_sentences(text)[:1]:
                yield Finding(f"{path}#value", f"{path} says {s!r}: a sentence that fits any PR and names no "
                              "code, number or setup", hint="say what this PR changed and what it measured, or drop it")


@rule("D216", "prose is generic: almost no numbers, identifiers, acronyms or paths", scope="card")
def generic_prose(card: Card, doc, ctx) -> Iterator[Finding]:
    for name in PROSE_FIELDS:
        text = getattr(card, name)
        share = prose.specific_share(text)
        if len(prose.words(text)) >= MIN_WORDS and share < MIN_SPECIFIC:
            yield Finding(f"{name}#value", f"{name}: only {share:.1%} of its words are specific (numbers, "
                          f"identifiers, acronyms, paths; minimum {MIN_SPECIFIC:.0%}): it could be about any PR",
                          hint="say what was measured and which code, flag or setting it concerns")


#: the card's own field names (merged_at, superseded_by, key_fragment.explain): words of the card, not of the change
CARD_FIELDS = CARD.field_names()


def _card_field(ident: str) -> bool:
    """``merged_at`` or ``key_fragment.explain``; a plain word (`state`, `tests`) may well be SGLang's own name."""
    return ("_" in ident or "." in ident) and set(ident.lower().split(".")) <= CARD_FIELDS


def own_identifiers(card: Card) -> set[str]:
    """The identifiers implementation names beyond its title, paths, model names and the card's own field names."""
    return {i for i in prose.own_identifiers(card.implementation, card.title, card_paths(card)) if not _card_field(i)}


@rule("D212", "implementation names too few identifiers of its own (not title words, paths or model names)",
      scope="card")
def few_identifiers(card: Card, doc, ctx) -> Iterator[Finding]:
    own = own_identifiers(card)
    # a PR that changed no source file (a Dockerfile, a CI script) has one setting to name, not three
    needed = MIN_IDENTIFIERS if any(PurePosixPath(p).suffix in CODE_SUFFIXES for p in card_paths(card)) else 1
    if len(own) < needed:
        said = f" ({', '.join(sorted(own))})" if own else ""
        yield Finding("implementation#value",
                      f"implementation names {len(own)} identifier(s) of its own{said}; name at least "
                      f"{needed} functions, classes, flags, env vars, kernels or tensors the change touched",
                      hint="title words, file paths, model names, the card's own field names (merged_at, key_fragment), hunk "
                           "headers and +a/-b statistics do not count")


@rule("D213", "implementation's identifiers are not in the changed hunks (cached diff or release)", scope="card")
def ungrounded(card: Card, doc, ctx) -> Iterator[Finding]:
    texts = ground_texts(card, ctx)
    if not texts:
        return
    own = own_identifiers(card)
    found = {i for i in own if any(_names(i, t) for t in texts)}
    if len(found) < min(MIN_GROUNDED, len(own)):
        missing = sorted(own - found)[:4]
        yield Finding("implementation#value",
                      f"only {len(found)} of the identifiers named in implementation occur in the change "
                      f"(need {min(MIN_GROUNDED, len(own))}); not found: {', '.join(missing)}",
                      hint="name what the changed hunks contain; `dossier show --diff` prints them")


@rule("D214", "key_fragment.explain names nothing from the match line or its hunk", scope="card")
def explain_unanchored(card: Card, doc, ctx) -> Iterator[Finding]:
    """The explain must name an identifier of the match line or of its hunk: the cached diff's, else the code around
    the match in the SGLang tree lint reads. With neither (no cached diff, no SGLang installed) the hunk is unknown
    and the card is not judged; D600 says the tree is missing."""
    from dossier.lint.claims import surface

    kf = card.key_fragment
    hunks = ground_texts(card, ctx, hunk_of_match=True)
    if not hunks and surface(ctx) is None:
        return
    texts = [kf.match, *(hunks or [around_match(kf.file, kf.match, ctx)])]
    if not any(_names(t, kf.explain) for text in texts for t in code_tokens(text)):
        shown = ", ".join(sorted(code_tokens(kf.match))[:4]) or kf.match
        yield Finding("key_fragment.explain#value",
                      "explain names no identifier of the matched line (or its hunk)",
                      hint=f"say what {shown} does")


#: lines either side of the match that stand in for its hunk when no diff is cached
HUNK_REACH = 60


def around_match(file: str, match: str, ctx) -> str:
    """The code around ``match`` in the SGLang tree lint reads (the installed one unless --sglang-src): in
    ``file``, else wherever the fragment moved. It stands in for the match's hunk when no diff is cached
    ("" when the fragment is in neither)."""
    from dossier.lint.claims import surface

    s = surface(ctx)
    if s is None:
        return ""
    text = s.tree.text(file)
    if not text or match not in text:
        moved = s.tree.search(match)
        text = s.tree.text(moved[0].file) if moved else None
    if not text:
        return ""
    lines = text.splitlines()
    hits = [i for i, line in enumerate(lines) if match in line]
    return "\n".join("\n".join(lines[max(0, i - HUNK_REACH):i + HUNK_REACH + 1]) for i in hits[:3])


def code_tokens(code: str) -> set[str]:
    """Identifier-like tokens of code (3+ characters), without Python keywords and generic names."""
    return {t for t in _CODE_TOKEN.findall(code) if t.lower() not in prose.GENERIC_CODE and not t.isdigit()}


def _names(ident: str, text: str) -> bool:
    """Whether ``text`` names ``ident`` as a whole word (a dotted name counts by its last part)."""
    last = ident.removeprefix("--").rsplit(".", 1)[-1]
    return bool(re.search(rf"(?<![\w]){re.escape(last)}(?![\w])", text))


#: this project's own measurements: a results/ file, a runtime module (its bench), `dossier regress`
_OUR_RESULTS = re.compile(r"(?<![\w/.-])results/[\w./-]+|\bruntime\.[a-z_]\w*(?:\.\w+)*|\bdossier regress\b")
#: who measured: this project named as such
_OURS = re.compile(r"\b(?:this|our) (?:project|repo(?:sitory)?|runtime|reference|bench(?:mark)?)\b|\bours\b|"
                   r"\bthe runtime's\b|\bruntime\.[a-z_]\w*", re.IGNORECASE)
#: a number the sentence gives to the PR's people or text is theirs, whatever of ours it also mentions
_THEIRS = re.compile(r"\b(?:author|PR description|the description|reviewer|review comment|thread)\b", re.IGNORECASE)
#: on what: a GPU or CPU named
DEVICE = re.compile(rf"{GPU.pattern}|(?i:\bCPU\b|\bTRITON_INTERPRET\b)")


@rule("D217", "a number from this project's results or runtime bench does not name this project and the device",
      scope="card")
def own_numbers_unattributed(card: Card, doc, ctx) -> Iterator[Finding]:
    """A measured number that cites this project's measurement (a results/ path, a runtime bench) is ours, not
    the PR's nor SGLang's: its sentence says so ("this project", "our reference", a runtime module) and names
    the device it ran on, as every number must."""
    fields = [("motivation", card.motivation), ("implementation", card.implementation),
              ("key_fragment.explain", card.key_fragment.explain),
              *((f"validation.claims[{i}]", c) for i, c in enumerate(card.claims)),
              *((f"validation.lanes[{i}]", c) for i, c in enumerate(card.validation_lanes)),
              *((f"corrections[{i}]", c) for i, c in enumerate(card.corrections))]
    for path, text in fields:
        for sentence in prose.sentences(text):
            if not (_OUR_RESULTS.search(sentence) and _MEASURED.search(sentence)) or _THEIRS.search(sentence):
                continue
            missing = [what for what, pattern in (("this project as the one measuring", _OURS),
                                                   ("the device", DEVICE)) if not pattern.search(sentence)]
            if missing:
                yield Finding(text_location(path),
                              f"quotes this project's measurement ({_OUR_RESULTS.search(sentence).group(0)}) "
                              f"without naming {' or '.join(missing)}: a reader takes it for the PR's or SGLang's",
                              hint="say whose code ran where: 'this project's runtime.<lane>.bench on an NVIDIA H200: ...'")
    yield from _own_rows_unattributed(fields, ctx)


def _own_rows_unattributed(fields: list[tuple[str, str]], ctx) -> Iterator[Finding]:
    """A sentence that cites nothing of ours but gives a TP/batch row the very number a results/ file the card cites
    holds for that row ("The author measured 65.4 us at TP1 B=512 on an H200", "SGLang's kernel runs at 2.28x its
    floor at TP1 B=512"): our measurement, handed to the PR or SGLang. Only numbers the sentence's shape pairs
    with one row are judged (:mod:`dossier.lint.result_rows`): a PR's number matching our row by chance is rare."""
    from dossier.lint.links import _RESULTS, _holds, _result_values
    from dossier.lint.result_rows import DECIMAL, bindings

    files = [ctx.project.root / p for p in dict.fromkeys(p for _, text in fields for p in _RESULTS.findall(text))]
    files = [f for f in files if f.is_file()]
    if not files:
        return
    rows = _result_values(files, ctx)[1]
    for path, text in fields:
        for sentence in prose.sentences(text):
            if _OUR_RESULTS.search(sentence) or _OURS.search(sentence):
                continue
            bound = bindings(sentence)
            ours = next(((m.group(1), row) for m in DECIMAL.finditer(sentence)
                        if (row := bound.get(m.start())) is not None and row in rows and _holds(rows[row], m.group(1))), None)
            if ours:
                value, (tp, batch) = ours
                yield Finding(text_location(path),
                              f"{value} at TP{tp} B={batch} is this project's measurement "
                              f"({', '.join(f.name for f in files)} holds it for that row), given without naming this "
                              "project: a reader takes it for the PR's or SGLang's",
                              hint="say whose code ran where: 'this project's runtime.<lane>.bench on an NVIDIA H200: ...'")


#: whose code: this project's words for itself, and SGLang's (or the PR's, or a peer library's) ...
_OUR_WORDS = r"(?:\bour|\bthis (?:project|repo(?:sitory)?)'s|\bthe runtime's)"
_THEIR_WORDS = r"(?:\bSGLang(?: v?\d+\.\d+\.\d+)?'s|\bupstream(?:'s)?|\bthe PR's|\bFlashInfer's|\bvLLM's|\bfla's)"
#: ... then the code named in apposition ("our kernel, python/sglang/...", "SGLang's reference (runtime.gdn...)")
_APPOSED = r"(?:\s+|(?:\s+[\w-]+){1,3}?(?:\s*[,(:]\s*|\s+(?:is|lives in|sits in)\s+))`?"
_SGLANG_CODE = r"((?:python/)?sglang[/.][\w./]*\w)"
#: this project's code: a runtime module, or a file under runtime/ or tests/runtime/ (not inside a longer path)
_OUR_CODE = r"((?<![\w/.-])(?:runtime\.[a-z_]\w*(?:\.\w+)*|(?:tests/)?runtime/[\w./-]*\w))"
_SGLANG_CODE_AS_OURS = re.compile(_OUR_WORDS + _APPOSED + _SGLANG_CODE, re.IGNORECASE)
_OUR_CODE_AS_THEIRS = re.compile(_THEIR_WORDS + _APPOSED + _OUR_CODE, re.IGNORECASE)
#: a verb that makes its subject the code's author ("we implemented ...", "the PR added ..."), or its shipper
#: ("SGLang 0.5.23 ships ...", "SGLang's CI runs ...")
_AUTHORED = r"(?:implement(?:s|ed)?|wr(?:ote|ites?)|add(?:s|ed)?|author(?:s|ed)|buil(?:t|ds?)|contribut(?:es|ed)|" \
            r"chang(?:es|ed)|fix(?:es|ed)|land(?:s|ed)|merg(?:es|ed)|introduc(?:es|ed)|refactor(?:s|ed)?)"
_SHIPPED = r"(?:" + _AUTHORED[3:-1] + r"|ship(?:s|ped)?|carr(?:ies|ied)|runs?|ran|include(?:s|d)?|contain(?:s|ed)?|" \
           r"provide(?:s|d)?|has|had)"
#: where the clause turns (a negation, another clause, a comparison, this project's own word): the code after it is
#: not the object ("SGLang 0.5.23 has the same layout as runtime.projections.linear")
_ANOTHER_CLAUSE = r"\b(?:no|not|never|nothing|none|without|which|that|where|while|whereas|and|but|our|ours|" \
                  r"this project|as|like|than|same|unlike|versus|vs)\b"
#: the clause's subject and its verb, then (in the same clause, no negation, no other owner's code first) the code
_WE_AUTHORED_SGLANG = re.compile(r"\b(?:we|this (?:project|repo(?:sitory)?))(?:\s+\w+)?\s+" + _AUTHORED + r"\b"
                                 + r"(?:(?!" + _ANOTHER_CLAUSE + r"|runtime[./])[^.,;:()])*?"
                                 + _SGLANG_CODE, re.IGNORECASE)
_THEY_AUTHORED_OURS = re.compile(r"(?:\bSGLang(?: v?\d+\.\d+\.\d+(?:\.post\d+)?)?(?:'s)?|\bupstream(?:'s)?|"
                                 r"\b(?:the|this) PR(?:'s)?|(?<![\w&])(?:PR )?#\d+(?:'s)?)(?:\s+[A-Za-z]\w*){0,2}?\s+"
                                 + _SHIPPED + r"\b"
                                 + r"(?:(?!" + _ANOTHER_CLAUSE + r"|sglang[./])[^.,;:()])*?"
                                 + _OUR_CODE, re.IGNORECASE)
#: "our <name> in python/sglang/...": this project's word for code SGLang's tree holds (the name written as code:
#: backticked, snake_case, camelCase or dotted; "our test covers code in python/sglang/..." names no code of ours)
_OURS_IN_SGLANG = re.compile(_OUR_WORDS + r"\s+(?:`[\w.]+`|\w*(?:_|[a-z][A-Z]|\.\w)[\w.]*)(?:\(\))?(?:\s+[a-z]+)?"
                             r"\s+(?:in|inside|under|at)\s+`?" + _SGLANG_CODE, re.IGNORECASE)


#: this project's word, or SGLang's, right before a code name: "our fused_gdn_gating kernel", "SGLang's `ring_commit`"
_CODE_NAME = r"\s+(?:own\s+)?`?([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)`?"
_OUR_NAME = re.compile(_OUR_WORDS + _CODE_NAME, re.IGNORECASE)
_SGLANGS_NAME = re.compile(r"(?:\bSGLang(?: v?\d+\.\d+\.\d+)?'s|\bupstream(?:'s)?|\bthe PR's)" + _CODE_NAME, re.IGNORECASE)
_CODE_LIKE = re.compile(r"_|[a-z][A-Z]")


def _runtime_text(ctx) -> str:
    """This project's runtime/ sources and module paths, as one text (read once per run)."""
    if "runtime-text" not in ctx.memo:
        root = ctx.project.root / "runtime"
        ctx.memo["runtime-text"] = "\n".join(
            [".".join(p.relative_to(ctx.project.root).with_suffix("").parts) + "\n" + p.read_text(encoding="utf-8", errors="replace")
             for p in sorted(root.rglob("*.py"))] if root.is_dir() else [])
    return ctx.memo["runtime-text"]


def _swapped_names(card: Card, text: str, ctx) -> Iterator[tuple[str, str, str]]:
    """(as written, name, whose it is) for "our <name>" where only SGLang's tree defines the name, and "SGLang's
    <name>" where only this project's runtime/ does (nor a synced release, nor the PR's change)."""
    from dossier.lint.claims import _has_word, _in_a_release, surface, tree_has_word
    from dossier.lint.grounds import ground_texts

    s = surface(ctx)
    if s is None:
        return
    for pattern, ours in ((_OUR_NAME, True), (_SGLANGS_NAME, False)):
        for m in pattern.finditer(text):
            name = m.group(1).rsplit(".", 1)[-1]
            if not _CODE_LIKE.search(name):
                continue
            in_sglang = tree_has_word(s.tree, name)
            in_ours = _has_word(_runtime_text(ctx), name)
            if ours and in_sglang and not in_ours:
                yield m.group(0), m.group(1), "SGLang's"
            elif not ours and in_ours and not in_sglang and not any(_has_word(t, name) for t in ground_texts(card, ctx)) \
                    and not _in_a_release(name, ctx):
                yield m.group(0), m.group(1), "this project's"


@rule("D219", "a clause gives SGLang's code (a python/sglang path, an sglang.* module) to this project, or this "
              "project's runtime.<lane> code to SGLang or the PR", scope="card")
def swapped_owner(card: Card, doc, ctx) -> Iterator[Finding]:
    """"Our reference kernel, python/sglang/jit_kernel/cutedsl_gdn.py, ..." or "SGLang's own reference,
    runtime.gdn.replayssm, ...": the reader credits the wrong code base, and looks for the code in the wrong
    repository. Judged only where the owner word and the code stand together: "our python/sglang/...", or at
    most three words, then a comma, a parenthesis, a colon, "is" or "lives in", then the code; "our <name> in
    python/sglang/..."; this project as the author of SGLang code in its clause ("we implemented ... in
    python/sglang/..."), SGLang, upstream, the PR or a #N as the author or shipper of ours ("SGLang 0.5.23 ships
    runtime.projections.linear", "the PR added runtime/projections/linear.py", "SGLang's CI runs tests/runtime/...").
    "Our runtime.gdn.decode mirrors python/sglang/..." names both owners rightly and passes, as does a clause that
    turns before the code ("#19321 added the branch, which our runtime.projections.linear models"). By name: "our
    _load_fused_module_from_checkpoint" where only today's SGLang has the name (runtime/ never spells it), "SGLang's
    split_conv_rows" where only runtime/ does (no release, no PR change either)."""
    for path, text in card_texts(card):
        flat = " ".join(text.split())
        for pattern, owner, real in ((_SGLANG_CODE_AS_OURS, "this project", "SGLang's"),
                                     (_WE_AUTHORED_SGLANG, "this project", "SGLang's"),
                                     (_OURS_IN_SGLANG, "this project", "SGLang's"),
                                     (_OUR_CODE_AS_THEIRS, "SGLang or the PR", "this project's"),
                                     (_THEY_AUTHORED_OURS, "SGLang or the PR", "this project's")):
            for m in pattern.finditer(flat):
                yield Finding(text_location(path),
                              f"{m.group(0)!r} gives {m.group(m.lastindex)} to {owner}, but it is {real} code",
                              hint="name the owner rightly: SGLang's code lives under python/sglang, this project's "
                                   "under runtime/")
        for said, name, real in _swapped_names(card, flat, ctx):
            owner = "this project" if real == "SGLang's" else "SGLang"
            yield Finding(text_location(path), f"{said!r} gives {name} to {owner}, but only {real} code has it",
                          hint="name the owner rightly: SGLang's code lives under python/sglang, this project's "
                               "under runtime/")


#: a setup or source beyond _SETUP's: a GPU generation or vendor platform named by its architecture
_PLATFORM = re.compile(r"\b(?:Hopper|Blackwell|Ampere|Ada|Ascend|ROCm|CUDA|XPU|MUSA|claims?)\b")


#: a share shown beside the two numbers it is of: "0.9 / 1.9 of it (about 47%)", "12/48 layers (25%)"
_SHARE = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?) ?/ ?(\d+(?:\.\d+)?)(?![\d.])(?P<gap>[^()\d]{0,40}?)\("
                    r"(?:[A-Za-z]+ ){0,3}?~?(\d+(?:\.\d+)?) ?%")
#: between the a / b and the share, a word that turns to what is left: "0.9 / 1.9 of it, leaving the rest (53%)"
_REST = re.compile(r"\b(?:rest|remainder|remaining|leaving|leaves|left|other)\b", re.IGNORECASE)


def shown_shares(sentence: str) -> list[tuple[int, int]]:
    """Where a sentence gives a percentage beside the a / b it is (or, after "the rest", "leaving", the share a / b
    leaves), to its rounding (half its last digit) and 3% for a and b's own: arithmetic the reader can check, not a
    measurement ("0.9 / 1.9 (about 47%)", "0.9 / 1.9 of it, leaving the rest (about 53%)"; not "(about 52%)")."""
    out = []
    for m in _SHARE.finditer(sentence):
        a, b, given = float(m.group(1)), float(m.group(2)), m.group(4)
        if not b:
            continue
        share = 100 * a / b
        places = len(given.partition(".")[2])
        if any(abs(float(given) - p) <= 0.5 * 10 ** -places + 0.03 * share
               for p in (share, *((100 - share,) if _REST.search(m.group("gap")) else ()))):
            out.append(m.span(4))
    return out


@rule("D218", "a measured number in the card's prose (not a claim: D208's) names no setup or source (device, "
              "model, batch, benchmark, who measured)", scope="card")
def unsourced_number(card: Card, doc, ctx) -> Iterator[Finding]:
    """"The merged layers cut the projection time by 18%" says neither where nor who: a number in the prose
    (motivation, implementation, explain, lanes, corrections) carries its setup or source in its own sentence, as a
    claim does (D208). "SM10x" is an architecture, not a measured 10x; "0.9 / 1.9 of it (about 47%)" is arithmetic."""
    for name, text in card_texts(card):
        if name.startswith("validation.claims"):
            continue
        for s in prose.sentences(text):
            shown = shown_shares(s)
            m = next((m for m in _MEASURED.finditer(s) if not any(a <= m.start() < b for a, b in shown)), None)
            if m and not (_SETUP.search(s) or _PLATFORM.search(s)):
                yield Finding(text_location(name), f"{name}: {m.group(0).strip()!r} in {_short(s)} names no device, "
                              "model, batch, benchmark or who measured it",
                              hint="give the setup and source (e.g. 'on H200, TP4, batch 64 (author, PR description)'), "
                                   "or move the number into validation.claims with them")
                break


def _short(s: str, n: int = 90) -> str:
    return repr(s if len(s) <= n else s[:n - 3] + "...")


#: units of one kind: a number written with two of them in one card has one of them wrong
_UNIT_KINDS = {"time": ("ns", "us", "µs", "μs", "ms", "s", "sec", "seconds", "milliseconds", "millisecond",
                        "microseconds", "microsecond", "nanoseconds", "nanosecond"),
               "ratio": ("%", "percent", "x", "×", "fold"),
               "size": ("KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"),
               "rate": ("tok/s", "tokens/s", "req/s")}
_UNIT_OF = {u.lower(): kind for kind, units in _UNIT_KINDS.items() for u in units}
_CANON = {"sec": "s", "seconds": "s", "milliseconds": "ms", "microseconds": "us", "µs": "us", "μs": "us", "×": "x",
          "percent": "%", "fold": "x", "tokens/s": "tok/s", "millisecond": "ms", "microsecond": "us",
          "nanoseconds": "ns", "nanosecond": "ns"}
#: a number precise enough to be one measurement (a decimal, three digits, thousands) and its unit: "965.52 ms",
#: "2.6%", "248 us", "15,733.74 tok/s", "2.6-fold", "2.6 percent"
_NUMBER_UNIT = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+|\d{3,})"
                          r"(?:\s?(%|×|tok(?:ens)?/s|req/s|[A-Za-zµμ]+)|-(fold))(?![\w/])")


def measured_numbers(text: str) -> Iterator[tuple[str, str, str]]:
    """(number, unit, kind) for each number of ``text`` precise enough to be one measurement, with a unit of time,
    ratio, size or rate: the number without its thousands commas, the unit in one spelling ("microseconds" is us,
    "percent" %, "-fold" x, "GiB" GiB whatever its case)."""
    for m in _NUMBER_UNIT.finditer(text):
        unit = m.group(2) or m.group(3)
        kind = _UNIT_OF.get(unit.lower()) if unit not in ("S", "Ms") else None  # siemens, megaseconds: no measure here
        if kind is not None:
            unit = unit.upper().replace("I", "i") if kind == "size" else _CANON.get(unit.lower(), unit.lower())
            yield m.group(1).replace(",", ""), unit, kind


@rule("D224", "one number is given two units of one kind in a card (2.6% and 2.6x, 965.52 ms and 965.52 s)",
      scope="card")
def unit_changes(card: Card, doc, ctx) -> Iterator[Finding]:
    """A measurement copied from one field to another keeps its unit; "about 2.6x better TTFT" in the motivation
    and "TTFT about -2.6%" in the claims, or "965.52 ms" in a claim and "965.52 s" in the motivation, tell the
    reader two different things, one of them wrong by a factor. Only numbers with a decimal point or three digits
    are compared (small integers recur for unrelated things), and only units of one kind (time, ratio, size, rate)."""
    seen: dict[tuple[str, str], tuple[str, str]] = {}  # (number, kind) -> (unit, where)
    for path, text in card_texts(card):
        for number, unit, kind in measured_numbers(" ".join(text.split())):
            first = seen.setdefault((number, kind), (unit, path))
            if first[0] != unit:
                yield Finding(text_location(path), f"gives {number} {unit}, but {first[1]} gives the same number "
                                                   f"as {number} {first[0]}: one of the two units is wrong",
                              hint="take the unit from the source (PR description, benchmark log) and use it everywhere")
                seen[(number, kind)] = (unit, path)


#: a sentence saying the source named no device for its numbers: "GPU type not stated", "GPU not named", "the device
#: and how many launches each number covers are not stated", "the hardware is not given in the excerpt"
NO_DEVICE = re.compile(r"\b(?:GPU|device|hardware|setup)s?\b[^.;]{0,60}?\b(?:not stated|not named|not given|not shown|"
                       r"unstated|unnamed|unknown|cut off|not in the stored|not visible)", re.IGNORECASE)


@rule("D225", "a number the card says came with no device is given a device in another sentence of the card",
      scope="card")
def device_added(card: Card, doc, ctx) -> Iterator[Finding]:
    """A claim says "2.6% better TTFT ... GPU type not stated" (the source named none) and the motivation says
    "about 2.6% better TTFT on H100": the device was made up, or the claim is wrong. Judged on the numbers of
    D224 (a decimal or three digits, with a unit of time, ratio or size) of a sentence saying its GPU (device,
    hardware) was not stated / not named / unknown, against every other sentence of the card that holds the same
    number and unit and names a device (H100, A100, B200, MI300X, RTX 4090, CPU) in the same clause (a sentence's
    "; ..." or ", while ..." is another run's) without saying so itself."""
    unnamed: dict[tuple[str, str], str] = {}  # (number, unit) -> where the card says no device was named
    named: list[tuple[str, str, set[tuple[str, str]]]] = []  # (where, device, numbers) of sentences naming one
    for path, text in card_texts(card):
        for s in prose.sentences(" ".join(text.split())):
            if NO_DEVICE.search(s):
                for p in _measured(s):
                    unnamed.setdefault(p, path)
                continue
            for clause in _DEVICE_CLAUSE.split(s):  # "... took 113.9 s, while the table's row (H100, --tp 4) reads ..."
                if (d := DEVICE.search(clause)) and (pairs := _measured(clause)):
                    named.append((path, d.group(0), pairs))
    for path, device, pairs in named:
        for (number, unit), (other, other_unit) in sorted((p, q) for p in pairs for q in unnamed):
            if unit == other_unit and one_measure(number, other):
                yield Finding(text_location(path), f"gives {number}{unit} on {device}, but {unnamed[(other, unit)]} "
                                                   "says the source named no device for it",
                              hint="drop the device, or say where the source names it (and fix the other field)")
                break


#: where a sentence turns to another run: the device one clause names is not the other's
_DEVICE_CLAUSE = re.compile(r";|, (?:while|whereas|but)\b")


def _measured(text: str) -> set[tuple[str, str]]:
    """The (number, unit) pairs of ``text`` D225 judges."""
    return {(number, unit) for number, unit, _ in measured_numbers(text)}


def one_measure(a: str, b: str) -> bool:
    """Whether two written numbers are one measurement: equal, or the shorter the longer rounded ("44.4" and
    "44.42"; "113.9" and "113.899"), when the shorter keeps three significant digits."""
    if a == b:
        return True
    short, full = sorted((a.replace(",", ""), b.replace(",", "")), key=len)
    places = len(short.partition(".")[2])
    if len(short.replace(".", "").lstrip("0")) < 3 or places >= len(full.partition(".")[2]):
        return False
    return abs(round(float(full), places) - float(short)) < 10 ** -(places + 3)


#: a measured value: "965.52", "15,314.80", "89"
_VAL = r"(\d[\d,]*(?:\.\d+)?)"
_UNIT = r"(?:\s?(?:%|[A-Za-zµμ]+(?:/[A-Za-z]+)?))?"
#: what the values are counted in, after the pair: "121 us -> 60 us per call (-50%)"
_PER = r"(?: per [a-z]+(?: [a-z]+)?)?"
#: a stated change: "+1.8%", "-10%", "about +10%", "-0.31 pp", "6.4x"
_CHANGE = r"(about |~|roughly |approximately |nearly |almost )?([+\-\u2212]?)(\d+(?:\.\d+)?) ?(%|pp|x|×)"
#: "A -> B unit (+P%)", "A -> B unit, Nx" (the change right after the pair)
#: what leads from a pair to its change: "(", "(a ", ", an ", ", i.e. ", ", which is a "
_TO_CHANGE = r"(?:\((?:a |an )?|, (?:a |an |or |i\.e\.,? |which is (?:a |an )?)?)"
_PAIR_THEN_CHANGE = re.compile(rf"(?<![\w.]){_VAL}{_UNIT} ?(?:->|\u2192) ?{_VAL}{_UNIT}{_PER} ?{_TO_CHANGE}{_CHANGE}(?!\w|\.\d)"
                               # the change itself, not "(55% of the aggregated score)"
                               r"(?=[),;]|\.(?:\s|$)|$| (?:faster|slower|less|more|lower|higher|fewer|better|worse|smaller|"
                               r"larger|speed-?up|reduction|drop|gain|increase|decrease|cut)\b)")
#: "from 121 us (down) to 60 us, a 50% cut": the pair in words, the change right after it
_FROM_TO_THEN_CHANGE = re.compile(rf"(?<![\w.])from {_VAL}{_UNIT} (?:down |up )?to {_VAL}{_UNIT}{_PER} ?{_TO_CHANGE}{_CHANGE}"
                                  r"(?!\w|\.\d)(?=[),;.]|$| (?:faster|slower|less|more|lower|higher|fewer|better|worse|"
                                  r"smaller|larger|speed-?up|reduction|drop|gain|increase|decrease|cut)\b)")
#: "-9.2% (965.52 -> 876.80 ms)" (the pair in a parenthesis right after the change)
_CHANGE_THEN_PAIR = re.compile(rf"(?<![\w.]){_CHANGE} \({_VAL}{_UNIT} ?(?:->|\u2192) ?{_VAL}{_UNIT}\)")
#: "2.24x (TP1 B=512: 63.9 us against a 28.5 us floor)": a factor and the two values it divides
_FACTOR_OF = re.compile(rf"(?<![\w.])(about |~)?()(\d+(?:\.\d+)?) ?(x|×) \([^()]*?(?<![\w.=]){_VAL} ?([A-Za-zµμ]+(?:/[A-Za-z]+)?) "
                        rf"(?:against|vs\.?|versus|over|compared to) (?:a |an |the )?{_VAL} ?([A-Za-zµμ]+(?:/[A-Za-z]+)?)\b")


def _span(number: str) -> tuple[float, float]:
    """The interval a number written so stands for (half a unit of its last digit either side)."""
    number = number.replace(",", "")
    half = 0.5 * 10 ** -(len(number.split(".")[1]) if "." in number else 0)
    return float(number) - half, float(number) + half


def _change_span(a: tuple[float, float], b: tuple[float, float], unit: str) -> tuple[float, float] | None:
    """Every change "a -> b" can be, given the rounding of a and b: percent, percentage points or factor."""
    if unit == "%":
        if a[0] <= 0:
            return None
        ends = [(y - x) / x * 100 for x in a for y in b]
    elif unit == "pp":
        scale = 100 if max(a[1], b[1]) <= 1 else 1  # fractions (0.8746) or percentages (87.46)
        ends = [(y - x) * scale for x in a for y in b]
    else:  # a factor, either way round ("6.4x less memory", "1.6x faster")
        if min(a[0], b[0]) <= 0:
            return None
        ends = [max(x / y, y / x) for x in a for y in b]
    return min(ends), max(ends)


@rule("D226", "a change given with its two values (A -> B) states a percentage or factor those values do not give",
      scope="card")
def change_arithmetic(card: Card, doc, ctx) -> Iterator[Finding]:
    """"median TTFT -19.2% (965.52 -> 876.80 ms)", "89 us -> 79 us (1.6x)", "2.84x (63.9 us against a 28.5 us
    floor)": the values and the change cannot all be right, and a reader who quotes either is misled. Judged
    only where the change sits right beside its pair (in the parenthesis after "A -> B", or with the pair in
    one right after it); a change passes when any rounding of the written values gives it (half a unit of each
    last digit), "about" allows 10% more, a sign must agree (a percentage with none is a size), a factor may
    read either way round, and "pp" is a difference of fractions or percentages."""
    for path, text in card_texts(card):
        flat = " ".join(text.split())
        for m in [*_PAIR_THEN_CHANGE.finditer(flat), *_FROM_TO_THEN_CHANGE.finditer(flat)]:
            yield from _check_change(path, m.group(0), m.group(1), m.group(2), *m.group(3, 4, 5, 6))
        for m in _CHANGE_THEN_PAIR.finditer(flat):
            yield from _check_change(path, m.group(0), m.group(5), m.group(6), *m.group(1, 2, 3, 4))
        for m in _FACTOR_OF.finditer(flat):
            if m.group(6) == m.group(8):  # "63.9 us against a 28.5 us": one unit, so one ratio
                yield from _check_change(path, m.group(0), m.group(5), m.group(7), *m.group(1, 2, 3, 4))


def _check_change(path: str, said: str, a: str, b: str, about: str | None, sign: str, size: str,
                  unit: str) -> Iterator[Finding]:
    unit = "x" if unit == "×" else unit
    span = _change_span(_span(a), _span(b), unit)
    if span is None:
        return
    low, high = _span(size)
    if unit != "x" and sign:
        low, high = (-high, -low) if sign in "-\u2212" else (low, high)
    elif unit != "x":
        span = (min(abs(span[0]), abs(span[1])) if span[0] * span[1] > 0 else 0.0, max(abs(span[0]), abs(span[1])))
    if about:
        low, high = low - 0.1 * abs(low), high + 0.1 * abs(high)
    if high < span[0] or low > span[1]:
        ends = [f"{v:+.3g}" if unit != "x" and sign else f"{v:.3g}" for v in span]  # unsigned: a size
        got = ends[0] if ends[0] == ends[1] else "..".join(ends)
        yield Finding(text_location(path), f"{said!r}: {a} -> {b} is {got}{unit}, not {sign}{size}{unit}",
                      hint="take the values and the change from the source and make them agree (or drop the "
                           "change and keep the values)")
