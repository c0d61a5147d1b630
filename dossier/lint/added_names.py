"""D334: prose says the PR added a name that its cached diff holds only on context or removed lines."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier import prose
from dossier.lint.registry import Finding, rule
from dossier.model import Card

#: a code name as prose writes it: `backticked`, snake_case, camelCase or CamelCase or dotted (its last part is looked up)
_NAME = r"`?(?P<name>[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)*)`?(?:\(\))?"
_CODE_LIKE = re.compile(r"_|[a-z][A-Z]|[A-Z]\w*[a-z]\w*[A-Z]|\.")
#: the PR as the clause's subject, then a verb of adding, then (a few words of a noun phrase at most) the name; or
#: "a new <kind> <name>"
_SUBJECT = r"(?:\b(?:[Tt]he|[Tt]his) (?:PR|patch|change|diff)|\bIt|#(?P<pr>\d+))"
_KIND = r"(?:(?:small|private|public|separate|dedicated|standalone|module-level) )?(?:helper|function|method|class|kernel|" \
        r"argument|parameter|field|attribute|flag|option|wrapper|branch|check|variable|constant|buffer|tensor|path)"
_SAYS_ADDED = re.compile(rf"{_SUBJECT} (?:also |now )?(?:adds|added|introduces|introduced|defines|defined|creates|created)"
                         rf" (?:(?:a|an|the|its|one) )?(?:new )?(?:{_KIND} )?{_NAME}")
_NEW_NAME = re.compile(rf"\b(?:a|an) new (?:{_KIND} )?{_NAME}")


def _on(lines: list[str], name: str) -> bool:
    return any(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", ln) for ln in lines)


@rule("D334", "prose says the PR added a name that its cached diff holds only on context or removed lines",
      scope="card")
def said_added_but_context(card: Card, doc, ctx) -> Iterator[Finding]:
    """"The PR adds output_sizes to the loader" where the cached diff shows output_sizes only on unchanged
    (context) lines or on lines it removed: the reader is told the PR wrote code that was already there, or that it
    deleted. Judged where the clause's subject is the PR ("the PR", "this change", "it", the card's own #N) and the
    verb adds, introduces, defines or creates the name, or where "a new <kind> <name>" stands, and only with the PR's
    diff cached (CI has none: not judged there); a name on any added line of the diff passes, as does a name the
    diff never shows (D213 judges grounding)."""
    from dossier.lint.depth import card_texts, text_location
    from dossier.lint.evidence import evidence

    files = evidence(card, ctx).files
    if files is None:
        return
    added = [ln.text for f in files for h in f.hunks for ln in h.lines if ln.kind == "+"]
    kept = [ln.text for f in files for h in f.hunks for ln in h.lines if ln.kind != "+"]
    for path, text in card_texts(card):
        if path.startswith(("validation.", "corrections")):
            continue
        flat = " ".join(text.split())
        for sentence in prose.sentences(flat):
            for m in [*_SAYS_ADDED.finditer(sentence), *_NEW_NAME.finditer(sentence)]:
                name, pr = m.group("name"), m.groupdict().get("pr")
                if (pr and int(pr) != card.pr) or not (_CODE_LIKE.search(name) or f"`{name}" in m.group(0)):
                    continue
                last = name.rsplit(".", 1)[-1]
                if _on(added, last) or not _on(kept, last):
                    continue
                yield Finding(text_location(path),
                              f"says the PR added {name!r}, but its diff has {last} only on unchanged or removed "
                              "lines: it was there before",
                              hint="name what the added lines hold (`dossier show --diff`), or say the PR used or "
                                   "changed it")
                break
