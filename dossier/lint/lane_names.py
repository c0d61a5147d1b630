"""D521: prose that names a playbook lane by an id cards/lanes.yaml does not define."""

from __future__ import annotations

import re
from collections.abc import Iterator

from dossier.lint.registry import Finding, rule
from dossier.model import Card

#: a lane id (lowercase words joined by hyphens) written as one: "the gdn-decode lane", "lane gdn-decode",
#: "lane: `gdn-decode`"
_ID = r"`?([a-z][a-z0-9]*(?:-[a-z0-9]+)+)`?"
_LANE_ID = re.compile(rf"(?<![\w-]){_ID} lanes?\b|\blanes?:? {_ID}(?![\w-])")


@rule("D521", "prose names a playbook lane by an id that cards/lanes.yaml does not define", scope="card")
def unknown_lane_named(card: Card, doc, ctx) -> Iterator[Finding]:
    """"The playbook files this under the gdn-decode lane" sends a reader to a section the manual does not have
    (the lane is gdn-kernels). Only a hyphenated id beside the word "lane" is read: "the MTP lane", "the
    scheduling lane" (a runtime/ folder) and "the nightly H100 lane" (CI) are words, not ids."""
    from dossier.lint.depth import card_texts, text_location

    lanes = {x.id for x in ctx.project.lanes}
    if not lanes:
        return
    for path, text in card_texts(card):
        for m in _LANE_ID.finditer(" ".join(text.split())):
            name = m.group(1) or m.group(2)
            if name not in lanes:
                yield Finding(text_location(path), f"{path} names a lane {name!r} that cards/lanes.yaml does not "
                                                   "define", hint=f"lanes: {', '.join(sorted(lanes))}")
