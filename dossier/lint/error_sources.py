"""D624: an error page item's `where` file, against the file of today's SGLang that prints its messages."""

from __future__ import annotations

from collections.abc import Iterator

from dossier.lint.claims import surface
from dossier.lint.registry import Finding, rule
from dossier.project import is_valid


@rule("D624", "an error-page item's `where` holds none of its messages in today's SGLang, while another file does",
      scope="project")
def where_prints_none(ctx) -> Iterator[Finding]:
    """references/errors.md sends a reader from a log line to the file that raises it: an item of cards/lanes.yaml's
    `answers.errors` whose `where` (a file of SGLang 0.5.23) holds none of the item's messages as code, while some
    other file of today's tree holds one, names the wrong file. Not judged: an item whose messages no file of today's
    tree holds (a message of an older release, or one torch or Python prints), or a project without an SGLang tree
    (D600)."""
    s, doc = surface(ctx), ctx.project.lanes_doc
    if s is None or doc is None or not is_valid(doc):
        return
    for i, group in enumerate((doc.data.get("answers") or {}).get("errors") or []):
        for j, item in enumerate(group["items"]):
            where = item.get("where")
            if not where:
                continue
            held = {m: [w.file for w in s.tree.search(m)] for m in item["messages"]}
            if any(where in files for files in held.values()):
                continue
            elsewhere = sorted({f for files in held.values() for f in files})
            if elsewhere:
                shown = ", ".join(elsewhere[:3]) + (f" and {len(elsewhere) - 3} more" if len(elsewhere) > 3 else "")
                yield Finding(f"answers.errors[{i}].items[{j}].where#value",
                              f"{where} prints none of this item's messages in SGLang {s.tree.version}; {shown} "
                              "does", hint="name the file that raises the message", doc=doc)
