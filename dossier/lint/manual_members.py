"""D635: a backticked `Class.method` in cards/lanes.yaml or a finding that today's SGLang's class lacks (its bases
included) while another class of it has the method (D622's reading, for the manual's own pages)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.lint.claims import _locate, _nth, surface, tree_has_word
from dossier.lint.code_names import _members
from dossier.lint.flag_releases import lanes_and_finding_texts
from dossier.lint.name_files import dated_elsewhere, sentence_before
from dossier.lint.registry import Finding, rule
from dossier.mentions import MARK_ATTRIBUTED

#: "`KVCacheConfigurator._handle_max_mamba_cache`", "`ScheduleBatch.mix_with_running()`": a backticked CamelCase class
#: and one member
_PAIR = re.compile(r"`([A-Z]\w*[a-z]\w*)\.([a-z_]\w*)(?:\(\))?`")


@rule("D635", "a backticked `Class.method` in cards/lanes.yaml or a finding that today's SGLang's class lacks (its "
              "bases included), while the tree has the method elsewhere", scope="project")
def manual_member_missing(ctx) -> Iterator[Finding]:
    """"solved jointly (`ModelRunner._handle_max_mamba_cache`)" where 0.5.23 defines the method on
    KVCacheConfigurator: the reader opens the wrong class. The manual's pages speak of today's SGLang, so a
    backticked Class.member in cards/lanes.yaml or a finding is read against today's tree: the class's methods,
    class attributes, `self.x = ...` assignments, nested classes and those of its bases (D622's reading, which
    judges a card only in a sentence about today). Judged only where the tree has the member as a word somewhere
    (a member no source holds is D625's) and the class is defined in it; not judged: a dunder, a class with a base
    from outside SGLang, a sentence dated to another release or put in the past ("was", "the then", "0.5.14's"), a
    PR's or thread's own wording, a text marked historical."""
    s = surface(ctx)
    if s is None:
        return
    for doc, path, text, historical in lanes_and_finding_texts(ctx.project):
        if historical:
            continue
        for m in _PAIR.finditer(text):
            cls, member = m.group(1), m.group(2)
            if member.startswith("__") or not tree_has_word(s.tree, member):
                continue
            members = _members(s.tree, cls)
            if members is None or member in members:
                continue
            sentence = sentence_before(text, m.start())
            if dated_elsewhere(sentence, s.tree.version) or MARK_ATTRIBUTED.search(sentence):
                continue
            yield Finding(path, f"`{cls}.{member}`: SGLang {s.tree.version}'s {cls} has no {member} (nor any base "
                                "of it), though the tree defines it elsewhere",
                          hint=f"name the class that defines {member} (grep today's SGLang)", doc=doc,
                          at=_locate(doc, path, m.group(0), _nth(text, m)))
