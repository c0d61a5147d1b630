"""D334: prose says the PR added a name that its change (cached diff, else the shipping release diff) did not add."""

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


@rule("D334", "prose says the PR added a name that its change (cached diff, else the release that shipped it) holds "
              "only on context or removed lines, or not at all", scope="card")
def said_added_but_context(card: Card, doc, ctx) -> Iterator[Finding]:
    """"The PR adds output_sizes to the loader" where the cached diff shows output_sizes only on unchanged
    (context) lines or on lines it removed: the reader is told the PR wrote code that was already there, or that it
    deleted. Judged where the clause's subject is the PR ("the PR", "this change", "it", the card's own #N) and the
    verb adds, introduces, defines or creates the name, or where "a new <kind> <name>" stands, with the PR's diff
    cached (a name on any added line passes, one the diff never shows is D213's), else with the release cache
    synced: the release diff that shipped the PR (evidence.lock's `added` event) of the card's listed files must add
    the name, and a name that the release the PR reached does not hold anywhere ("The PR adds a new kernel
    fused_qkvz_split_kernel") is made up. CI has neither: not judged there."""
    from dossier.lint.depth import card_texts, text_location

    change = _change_lines(card, ctx)
    if change is None:
        return
    added, kept, source, nowhere = change
    for path, text in card_texts(card):
        if path.startswith(("validation.", "corrections")):
            continue
        flat = " ".join(text.split())
        for sentence in prose.sentences(flat):
            # with only a release diff, "a new <name>" without the PR as its subject may be another PR's
            found = [*_SAYS_ADDED.finditer(sentence), *(_NEW_NAME.finditer(sentence) if nowhere is None else ())]
            for m in found:
                name, pr = m.group("name"), m.groupdict().get("pr")
                if (pr and int(pr) != card.pr) or not (_CODE_LIKE.search(name) or f"`{name}" in m.group(0)):
                    continue
                last = name.rsplit(".", 1)[-1]
                if _on(added, last):
                    continue
                if _on(kept, last):
                    why = f"{source} has {last} only on unchanged or removed lines: it was there before"
                elif nowhere is not None and nowhere(last):
                    why = f"neither {source} nor the release it reached has {last}"
                else:
                    continue
                yield Finding(text_location(path), f"says the PR added {name!r}, but {why}",
                              hint="name what the added lines hold (`dossier show --diff`, `dossier releases "
                                   "verify`), or say the PR used or changed it")
                break


def _change_lines(card: Card, ctx):
    """(added lines, lines that were there before, what they come from, a test for a name the change never has or
    None) from the cached PR diff, else from the diff of the release that shipped the PR (the card's listed files
    in the two releases of evidence.lock's `added` event, release cache synced); None when neither is at hand."""
    from dossier.lint.evidence import evidence
    from dossier.lint.grounds import _release_trees, _shipping_event
    from dossier.release_evidence import unified

    files = evidence(card, ctx).files
    if files is not None:
        added = [ln.text for f in files for h in f.hunks for ln in h.lines if ln.kind == "+"]
        kept = [ln.text for f in files for h in f.hunks for ln in h.lines if ln.kind != "+"]
        return added, kept, "its diff", None
    event = _shipping_event(card, ctx)
    trees = _release_trees(ctx) if event is not None else {}
    if event is None or event.new.version not in trees or event.old.version not in trees:
        return None
    old, new = trees[event.old.version], trees[event.new.version]
    added: list[str] = []
    kept: list[str] = []
    for p in dict.fromkeys((*card.all_files, card.key_fragment.file, event.file)):
        before, after = old.text(p), new.text(p)
        kept += (before or "").splitlines()
        if before != after:
            added += [ln.text for f in unified(p, before, p, after) for h in f.hunks for ln in h.lines if ln.kind == "+"]

    def nowhere(name: str) -> bool:  # in no file of the release the PR reached (read once per run)
        from dossier.lint.claims import source_has_word

        return not source_has_word(new, name)

    return added, kept, f"the {old.version} -> {new.version} release diff of its files", nowhere
