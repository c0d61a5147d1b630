"""Two PRs cited with each other's descriptions: "#A (does X), #B (does Y)" where X is what B's record says B did
and Y what A's says A did (D244)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator

from dossier import prose
from dossier.lint.claims import _locate
from dossier.lint.code_texts import flat_texts, nth, pr_titles
from dossier.lint.figures import _quote
from dossier.lint.links import CONTEXT_AFTER
from dossier.lint.registry import Finding, rule
from dossier.locks import LockError
from dossier.pr_facts import read_facts

#: a PR cited by number in plain text ("#21861"), not a markdown link's text ("[#21861](...)") nor an issue's
_CITED = re.compile(r"(?<![\w&\[/])(?<!issue )#(\d{4,6})\b(?!\]\()")
#: a state or date in parentheses right after a PR, which says nothing of what it did: "#12892 (open)"
_STATE = re.compile(r"^\s*\((?:open|closed|merged|reverted|unmerged|draft)[^)]*\)", re.IGNORECASE)
_STOP = frozenset("the and for with from into that this its their was were are has had not but also only then than "
                  "which when where while per via over under both each one two all any sglang gdn pr prs support "
                  "supports add adds added fix fixes fixed use uses make made".split())
#: how much more (in summed inverse document frequency) a description must share with the other PR's record than
#: with its own, each way and both together, for the two to count as swapped (real cards: at most 0.4 and 3.9)
_EACH, _BOTH = 2.0, 6.0


def _words(text: str) -> frozenset[str]:
    """The content words of ``text``, snake_case names split, each cut to five letters ("kernels" as "kerne")."""
    out = set()
    for word in re.findall(r"[a-z][a-z0-9_]{2,}", re.sub(r"\bcute[ -]?dsl\b", "cutedsl", text.lower())):
        out.update(p[:5] for p in (word, *word.split("_")) if len(p) >= 3 and p not in _STOP)
    return frozenset(out)


def _records(ctx) -> tuple[dict[int, frozenset[str]], dict[str, float]]:
    """Each PR's record as words (its titles, its key fragment's matched line, the files it lists, the names
    cards/pr-facts.json says its hunks touch) and each word's inverse document frequency over those records (read
    once per run)."""
    if "pr-records" not in ctx.memo:
        try:
            facts = read_facts(ctx.project.root)
        except LockError:
            facts = {}
        texts = {n: [title] for n, title in pr_titles(ctx).items()}
        for n, f in facts.items():
            texts[n] += [f.title, *f.symbols, *(p.rsplit("/", 1)[-1].removesuffix(".py") for p in f.files)]
        for card in ctx.project.cards:
            texts[card.pr] += [card.key_fragment.match, *(p.rsplit("/", 1)[-1].removesuffix(".py")
                                                          for p in card.all_files)]
        records = {n: _words(" ".join(t)) for n, t in texts.items()}
        df: dict[str, int] = {}
        for words in records.values():
            for w in words:
                df[w] = df.get(w, 0) + 1
        ctx.memo["pr-records"] = records, {w: math.log(len(records) / k) for w, k in df.items()}
    return ctx.memo["pr-records"]


def _described(sentence: str, records) -> list[tuple[int, re.Match, frozenset[str]]]:
    """(PR, its citation, the words of what the sentence says it did) of each PR with a record that the sentence
    describes right after citing it: "#A (what A did)", "#A what A did,", "#A, what A did;" (not a PR cited inside a
    parenthesis, whose description comes before it, nor one cited as a source: "#A's description credits B with X")."""
    cited = [m for m in _CITED.finditer(sentence) if int(m.group(1)) in records]
    out = []
    for i, m in enumerate(cited):
        if re.search(r"\(\s*(?:[\w-]+\s+)?$", sentence[:m.start()]) or CONTEXT_AFTER.match(sentence, m.end()):
            continue
        rest = _STATE.sub("", sentence[m.end():cited[i + 1].start() if i + 1 < len(cited) else len(sentence)])
        rest = re.sub(r"^\s*,\s*", "", rest)
        close = rest.find(")")  # none before the next citation: the bracket holds it, its text up to it describes
        said = (rest[:close + 1] if close >= 0 else rest) if rest.lstrip().startswith("(") \
            else re.split(r"[;,]|\.\s", rest)[0]
        out.append((int(m.group(1)), m, _words(said)))
    return out


@rule("D244", "two PRs cited with each other's descriptions (#A (what B did), #B (what A did)), by their titles, "
              "matched lines, files and touched names", scope="project", severity="warning")
def swapped_pr_descriptions(ctx) -> Iterator[Finding]:
    """"Later: #23273 SM100+ default, #21861 MTP verify" where #21861 is titled "... default to FlashInfer on SM100+"
    and #23273 "Enable FlashInfer MTP verify on SM100+": each PR is sent the other's change, and a reader who opens
    one finds the other's. Judged in a sentence citing two PRs that have a record (a card or cards/pr-facts.json),
    each followed by a description ("#A (X)", "#A X,"), where each description shares more words with the other PR's
    record than with its own by a margin (words weighed by how few records have them): a swap both ways, so a
    description that fits neither, or fits both, is not judged. One PR given another's description alone is not
    judged: a card's description of a PR often shares more words with a related PR's record than with its own. Read
    in every card's prose, cards/lanes.yaml and the findings."""
    records, idf = _records(ctx)

    def fit(words: frozenset[str], pr: int) -> float:
        return sum(idf[w] for w in words & records[pr])

    texts = flat_texts(ctx)
    for doc, where, path, flat in texts:
        for sentence in prose.sentences(flat):
            described = _described(sentence, records)
            for i, (a, m, said) in enumerate(described):
                for b, _, theirs in described[i + 1:]:
                    gains = (fit(said, b) - fit(said, a), fit(theirs, a) - fit(theirs, b)) if a != b else (0, 0)
                    if min(gains) >= _EACH and sum(gains) >= _BOTH:
                        cite = m.group(0)
                        yield Finding(where, f"{cite} and #{b} in {_quote(sentence, m.start())} are each described with "
                                             f"the other's change (by their titles, matched lines and files)",
                                      hint="give each PR the change its own card or title describes", doc=doc,
                                      at=_locate(doc, path, cite, nth(flat, sentence, cite, m.start())))
