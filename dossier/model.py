"""The card and lane schema, and the typed objects built from valid YAML. The one place that knows the schema."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from dossier.spec import Spec

STATES = ("merged", "open", "closed")
STATUSES = ("current", "superseded", "reverted", "candidate", "adjacent")
#: statuses that must name the PR(s) that replaced them
REPLACED = ("superseded", "reverted")

#: PR numbers outside 1..MAX_PR are typos (GitHub's numbers are far below it)
MAX_PR = 9_999_999
#: how a key_fragment.explain declares its match a pointer, not the PR's own line
POINTER = "Unverified:"

#: key_fragment.match / today.match: a piece of one line (D207 holds the card's own match to it)
MAX_MATCH = 120
#: the most characters a card or finding text holds, by kind of text: the longest value in cards/ on 2026-12-01
#: (title 150, motivation 1327, implementation 2402, explain 1083, correction 854, claim 536, validation lane 307,
#: runtime.none 236, test id 128, path 93; findings: cause 1637, symptom 767, fix 593) with about 2x headroom;
#: a title stops where GitHub's does (256)
LIMITS = {"a title": 256, "a name": 64, "a path or test id": 256, "a module": 128, "a match": MAX_MATCH,
          "a list item": 1000, "a paragraph": 2500, "prose": 5000}


def _str(kind: str, **kw) -> Spec:
    """Text capped at the limit for its ``kind`` (see :data:`LIMITS`)."""
    return Spec("str", max_len=LIMITS[kind], max_len_of=kind, **kw)


_text = Spec("str")
#: a name, path, flag, title or version: one line of the manual
_line = Spec("str", one_line=True)
_item = _str("a list item")
_paths = Spec("list", items=_str("a path or test id", relpath=True), required=False, distinct=True)

CARD = Spec(
    "map",
    doc="One PR of the manual (cards/<pr>.yaml).",
    fields={
        "pr": Spec("int", doc="PR number; equals the file name", min_value=1, max_value=MAX_PR),
        "title": _str("a title", doc="The PR title exactly as GitHub has it"),
        "state": Spec("enum", choices=STATES, doc="GitHub's state of the PR"),
        "merged_at": Spec("date", nullable=True, doc="Merge date (YYYY-MM-DD); null unless merged"),
        "lane": _str("a name", one_line=True, doc="A lane id from cards/lanes.yaml"),
        "status": Spec("enum", choices=STATUSES, doc="What the PR means for today's SGLang"),
        "superseded_by": Spec(
            "list", items=Spec("int", min_value=1, max_value=MAX_PR), distinct=True,
            doc="PRs that superseded or reverted this one (cards)"
        ),
        "motivation": _str("prose", doc="The concrete problem: symptom, numbers, root cause"),
        "implementation": _str("prose", doc="Which code path changed and how (files, functions, flags)"),
        "key_fragment": Spec(
            "map",
            doc="The changed line(s) that carry the change",
            fields={
                "file": _str("a path or test id", doc="A file the PR changed (path in the PR diff)", relpath=True),
                "match": Spec("str", one_line=True, doc="A short string found on a changed line of that file (with an explain "
                                              "starting 'Unverified:', on the code the PR targeted)"),
                "explain": _str("a paragraph", doc="Our own pseudo-fragment / explanation of those lines"),
                "today": Spec(
                    "map",
                    required=False,
                    doc="Where the behaviour lives in today's SGLang when later PRs rewrote or moved the changed lines "
                    "(dossier drift checks it when the PR's own match is gone)",
                    fields={
                        "file": _str("a path or test id", doc="Path in today's SGLang (python/sglang/...)",
                                     relpath=True),
                        "match": _str("a match", one_line=True, doc="A short string on the line that carries the behaviour today"),
                    },
                ),
            },
        ),
        "files": Spec(
            "map",
            doc="Files the PR changed, grouped",
            fields={"runtime": _paths, "tests": _paths, "docs": _paths},
        ),
        "validation": Spec(
            "map",
            fields={
                "claims": Spec("list", items=_item, distinct=True, doc="Claims with numbers, setup and source"),
                "lanes": Spec("list", items=_item, distinct=True, doc="What a change here must be validated on"),
            },
        ),
        "runtime": Spec(
            "map",
            doc="The runnable reference in runtime/, or why there is none",
            fields={
                "reference": _str("a module", one_line=True, doc="Import path of the reference module"),
                "tests": Spec("list", items=_str("a path or test id"), min_items=1, distinct=True, doc="pytest node ids"),
                "bench": _str("a module", one_line=True, doc="Module run with `python -m` for the benchmark"),
                "none": _str("a list item", doc="Why this card has no runnable reference"),
            },
            one_of_keys=(frozenset({"reference", "tests", "bench"}), frozenset({"none"})),
        ),
        "corrections": Spec(
            "list", items=_str("a paragraph"), required=False, distinct=True,
            doc="Where the earlier manual was wrong about this PR"
        ),
    },
)

FINDING = Spec(
    "map",
    doc="An upstream bug this project's runtime model finds, with no upstream PR yet "
    "(cards/findings/<name>.yaml). It becomes a PR card once a fix is opened upstream.",
    fields={
        "name": _str("a name", doc="Slug; equals the file name", slug=True),
        "title": _str("a title", doc="One line: what goes wrong, where"),
        "status": Spec("enum", choices=("candidate",), doc="Always candidate: no upstream PR exists yet"),
        "lane": _str("a name", one_line=True, doc="A lane id from cards/lanes.yaml"),
        "sglang": _str("a name", one_line=True, doc="The SGLang release the finding was read in (e.g. 0.5.23)"),
        "symptom": _str("a paragraph", doc="What a user sees, under which flags"),
        "cause": _str("prose", doc="The code path, step by step, naming files and functions"),
        "code": Spec(
            "list",
            doc="The places in that release the cause runs through",
            items=Spec("map", fields={
                "file": _str("a path or test id", doc="Path in SGLang (python/sglang/...)"),
                "function": _str("a name", doc="Function or Class.method"),
                "match": _str("a match", doc="A short string on the line that carries the behaviour"),
            }),
            distinct=True,
        ),
        "reproduction": Spec(
            "map",
            doc="How to see it fail",
            fields={
                "command": _str("a list item", doc="A command that shows the failure"),
                "tests": Spec("list", items=_str("a path or test id"), min_items=1, distinct=True,
                              doc="pytest node ids that pin the failing schedule and the fix"),
            },
        ),
        "fix": _str("a paragraph", doc="The proposed change, in the files above"),
        "runtime": Spec(
            "map",
            doc="The runnable model that finds it",
            fields={
                "reference": _str("a module", one_line=True, doc="Import path of the module the finding lives in"),
                "variant": _str("a name", doc="The fix variant that makes the reproduction pass"),
            },
        ),
        "limits": Spec("list", items=_item, required=False, distinct=True,
                       doc="Where the evidence is weaker (model only, not run on a server, ...)"),
    },
)

LANE = Spec(
    "map",
    fields={
        "id": Spec("str", doc="Lane id cards refer to", slug=True),
        "title": Spec("str", one_line=True),
        "symptoms": Spec("list", items=_text, distinct=True, min_items=1, doc="What an engineer observes when this lane is at fault"),
        "first_files": Spec("list", items=_line, distinct=True, doc="Files to inspect first (SGLang paths)"),
        "investigation": Spec("list", items=_text, distinct=True, doc="Investigation order"),
        "flags": Spec("list", items=_line, distinct=True, doc="Flags and environment to record (as spelled in SGLang 0.5.23)"),
        "change_rules": Spec("list", items=_text, distinct=True),
        "validation": Spec("list", items=_text, distinct=True, doc="SGLang-native validation: commands and scripts that exist "
                           "in SGLang 0.5.23, or measurements to take on a server"),
        "answers": Spec("list", items=_text, required=False, distinct=True,
                        doc="Ids of the answer blocks this lane's readers need (gdn-backends, mtp-verify-path, "
                        "or a checklist id)"),
        "repo_checks": Spec("list", items=_text, distinct=True, required=False,
                            doc="Commands that need this repository (its runtime/ reference kernels, tests/)"),
        "repo_notes": Spec("list", items=_text, distinct=True, required=False,
                           doc="What this repository's reference kernels measured for this lane (name the device)"),
    },
)

_prs = Spec("list", items=Spec("int", min_value=1), distinct=True, doc="PRs that shaped this entry (each must have a card)")
PHASES = ("prefill", "decode", "verify")
HARDWARE = ("SM80", "SM90", "SM100", "SM120", "AMD", "NPU", "XPU", "CPU")
#: the GPUs most launches of these models run on: the backend matrix's first section; the other rows get their own
#: (one table of every phase on every hardware outgrew one short read)
PRIMARY_HARDWARE = ("SM90", "SM100")
#: anchor and title of the backend matrix's second section
OTHER_HARDWARE_ANSWER = ("gdn-backends-other",
                         "GDN kernel backends on A100/L40S (SM80), SM120 (RTX PRO 6000, GB10), AMD, Ascend NPU and Intel XPU/CPU")

#: the checklist by-release.md's release notes link to ("Without a card" lines come from the upgrade block)
UPGRADE_ANSWER = "upgrade-defaults"

#: answer blocks: short structured facts about SGLang 0.5.23 that render as tables and lists (references/answers.md)
ANSWERS = Spec(
    "map",
    required=False,
    doc="Answer blocks rendered into references/answers.md; every fact as SGLang 0.5.23's source shows it",
    fields={
        "gdn_backends": Spec(
            "map",
            required=False,
            doc="GDN kernel backend matrix: which kernel runs each phase on each hardware",
            fields={
                "summary": _text,
                "source": Spec("list", items=_text, distinct=True, doc="Files in SGLang 0.5.23 that decide the backend"),
                "rows": Spec("list", items=Spec("map", fields={
                    "phase": Spec("enum", choices=PHASES),
                    "hardware": Spec("enum", choices=HARDWARE),
                    "default": Spec("str", doc="What runs when no flag is given"),
                    "select": Spec("str", doc="Flag (and values) that choose another kernel"),
                    "requires": Spec("str", doc="Conditions 0.5.23 enforces or needs; '-' if none"),
                    "prs": _prs,
                }), row_key=("phase", "hardware"), min_items=1),
            },
        ),
        "mtp_verify_path": Spec(
            "map",
            required=False,
            doc="Where MTP/NEXTN target verify runs for a GDN layer, in call order",
            fields={
                "summary": _text,
                "steps": Spec("list", items=Spec("map", fields={
                    "step": Spec("str", doc="What happens"),
                    "file": Spec("str", one_line=True, doc="Path in SGLang 0.5.23 (python/sglang/...)"),
                    "symbol": Spec("str", one_line=True, doc="Function or class in that file"),
                    "prs": _prs,
                }), distinct=True, min_items=1),
            },
        ),
        "checklists": Spec(
            "list",
            required=False,
            unique="id",
            taken=("gdn-backends", OTHER_HARDWARE_ANSWER[0], "mtp-verify-path"),
            doc="Ordered first-check lists and constraint lists",
            items=Spec("map", fields={
                "id": Spec("str", doc="Anchor of the list", slug=True),
                "title": Spec("str", one_line=True),
                "summary": _text,
                "items": Spec("list", items=Spec("map", fields={
                    "check": Spec("str", doc="What to check or what 0.5.23 enforces"),
                    "flags": Spec("list", items=_line, distinct=True, required=False, doc="Flags / env vars involved"),
                    "where": Spec("str", one_line=True, required=False, doc="File in SGLang 0.5.23 that enforces or decides it"),
                    "prs": Spec("list", items=Spec("int", min_value=1), distinct=True, required=False),
                    "findings": Spec("list", items=_line, distinct=True, required=False,
                                     doc="Names of findings (cards/findings/) about this item"),
                }), distinct=True, min_items=1),
            }),
        ),
        "release_notes": Spec(
            "list",
            required=False,
            unique="version",
            doc="What a release changed on the GDN path that no card covers (the upgrade block's findings from release "
                "diffs), shown in that release's section of references/by-release.md",
            items=Spec("map", fields={
                "version": Spec("str", one_line=True, doc="The SGLang release, as by-release.md heads it (0.5.23)"),
                "note": Spec("str", doc="What changed there, in a sentence or two"),
            }),
        ),
        "errors": Spec(
            "list",
            required=False,
            unique="id",
            taken=("by-message",),
            doc="Error messages users quote, one section per subsystem (references/errors.md, indexed by message)",
            items=Spec("map", fields={
                "id": Spec("str", doc="Anchor of the section", slug=True),
                "title": Spec("str", one_line=True),
                "summary": _text,
                "items": Spec("list", items=Spec("map", fields={
                    "messages": Spec("list", items=_text, distinct=True, min_items=1,
                                     doc="Fixed words of each message this item explains, as the log prints "
                                         "them and as the item's text quotes them (the page's index)"),
                    "not_sglang": Spec("list", items=_text, distinct=True, required=False,
                                       doc="Those of the messages that Python or a library prints, not SGLang "
                                           "(an AttributeError's, torch's): lint looks for the others in SGLang's "
                                           "releases (D626)"),
                    "check": Spec("str", doc="What the message means and the fix, by release"),
                    "flags": Spec("list", items=_line, distinct=True, required=False, doc="Flags / env vars involved"),
                    "where": Spec("str", one_line=True, required=False, doc="File in SGLang 0.5.23 that raises it"),
                    "prs": Spec("list", items=Spec("int", min_value=1), distinct=True, required=False),
                }), min_items=1),
            }),
        ),
    },
)

def answer_titles(answers: dict) -> dict[str, str]:
    """Anchor -> title of every answer block in valid ``answers`` data (the names a lane's `answers` may use)."""
    backends = answers.get("gdn_backends")
    titles = {"gdn-backends": "GDN kernel backends (H100/H200 SM90, B200 SM100)"} if backends else {}
    if backends and any(r["hardware"] not in PRIMARY_HARDWARE for r in backends["rows"]):
        titles[OTHER_HARDWARE_ANSWER[0]] = OTHER_HARDWARE_ANSWER[1]
    if answers.get("mtp_verify_path"):
        titles["mtp-verify-path"] = "MTP verify path"
    return {**titles, **{c["id"]: c["title"] for c in answers.get("checklists") or []}}


LANES_FILE = Spec(
    "map",
    doc="The playbook's structure (cards/lanes.yaml).",
    fields={
        "investigation_order": Spec("list", items=_text, distinct=True, doc="Global order in which to bisect a problem"),
        "answers": ANSWERS,
        "lanes": Spec("list", items=LANE, unique="id"),
    },
)


@dataclass(frozen=True)
class Place:
    """A line in a source file, found by a short match string."""

    file: str
    match: str


@dataclass(frozen=True)
class KeyFragment:
    file: str
    match: str
    explain: str
    #: where the behaviour lives today, when later PRs rewrote or moved the changed lines
    today: Place | None = None

    @property
    def moved(self) -> bool:
        """``today`` holds the PR's own line: later PRs moved the code to another file, unchanged."""
        return self.today is not None and self.today.match == self.match

    @property
    def pointer(self) -> bool:
        """The card says no source holds the PR's own lines (explain starts "Unverified:"): the match points at
        the existing code the PR targeted, not at a line it wrote."""
        return self.explain.lstrip().startswith(POINTER)


@dataclass(frozen=True)
class Runtime:
    reference: str | None = None
    tests: tuple[str, ...] = ()
    bench: str | None = None
    none: str | None = None


#: words in a PR title that mark it as repairing a bug
_FIX = re.compile(r"\b(fix(es|ed)?|bugs?|bugfix|crash(es)?|leaks?|hangs?|nan|wrong|incorrect|errors?|races?)\b",
                  re.IGNORECASE)


#: a revert's title: 'Revert "..."', "... by reverting ...", "... (reverts #N)"
_REVERT_TITLE = re.compile(r"^\W*revert\b|\bby reverting\b|\breverts\b", re.IGNORECASE)


@dataclass(frozen=True)
class Card:
    """A valid card. Built only from data that passed :data:`CARD`."""

    pr: int
    title: str
    state: str
    merged_at: dt.date | None
    lane: str
    status: str
    superseded_by: tuple[int, ...]
    motivation: str
    implementation: str
    key_fragment: KeyFragment
    files: dict[str, tuple[str, ...]]
    claims: tuple[str, ...]
    validation_lanes: tuple[str, ...]
    runtime: Runtime
    corrections: tuple[str, ...] = ()
    path: Path | None = field(default=None, compare=False)

    @property
    def is_revert(self) -> bool:
        """Whether the PR is a revert: GitHub titles one 'Revert "..."'; an author may say so in another title ("Fix
        flaky KL tests by reverting mamba slot release", #18910)."""
        return _REVERT_TITLE.search(self.title) is not None

    @property
    def is_fix(self) -> bool:
        """Whether the PR's title says it repairs a bug."""
        return bool(_FIX.search(self.title))

    @classmethod
    def from_data(cls, data: dict, path: Path | None = None) -> Card:
        files = data["files"]
        return cls(
            pr=data["pr"],
            title=data["title"],
            state=data["state"],
            merged_at=data["merged_at"],
            lane=data["lane"],
            status=data["status"],
            superseded_by=tuple(data["superseded_by"]),
            motivation=data["motivation"].strip(),
            implementation=data["implementation"].strip(),
            key_fragment=_key_fragment(data["key_fragment"]),
            files={k: tuple(files.get(k) or ()) for k in ("runtime", "tests", "docs")},
            claims=tuple(data["validation"]["claims"]),
            validation_lanes=tuple(data["validation"]["lanes"]),
            runtime=Runtime(**{k: tuple(v) if k == "tests" else v for k, v in data["runtime"].items()}),
            corrections=tuple(data.get("corrections") or ()),
            path=path,
        )

    @property
    def all_files(self) -> tuple[str, ...]:
        return self.files["runtime"] + self.files["tests"] + self.files["docs"]

    @property
    def manual_files(self) -> tuple[str, ...]:
        """The SGLang files references/by-file.md lists the card under: its runtime files, its key fragment's file
        and that fragment's `today` place (render adds the file drift found the fragment moved to)."""
        today = (self.key_fragment.today.file,) if self.key_fragment.today else ()
        return tuple(dict.fromkeys((*self.files["runtime"], self.key_fragment.file, *today)))


def _key_fragment(data: dict) -> KeyFragment:
    today = data.get("today")
    return KeyFragment(data["file"], data["match"], data["explain"].strip(),
                       Place(**today) if today else None)


@dataclass(frozen=True)
class CodePlace:
    file: str
    function: str
    match: str


@dataclass(frozen=True)
class FindingCard:
    """A valid finding (an upstream bug without a PR). Built only from data that passed :data:`FINDING`."""

    name: str
    title: str
    status: str
    lane: str
    sglang: str
    symptom: str
    cause: str
    code: tuple[CodePlace, ...]
    command: str
    tests: tuple[str, ...]
    fix: str
    reference: str
    variant: str
    limits: tuple[str, ...] = ()
    path: Path | None = field(default=None, compare=False)

    @classmethod
    def from_data(cls, data: dict, path: Path | None = None) -> FindingCard:
        return cls(
            name=data["name"], title=data["title"], status=data["status"], lane=data["lane"],
            sglang=data["sglang"], symptom=data["symptom"].strip(), cause=data["cause"].strip(),
            code=tuple(CodePlace(**c) for c in data["code"]),
            command=data["reproduction"]["command"], tests=tuple(data["reproduction"]["tests"]),
            fix=data["fix"].strip(), reference=data["runtime"]["reference"], variant=data["runtime"]["variant"],
            limits=tuple(data.get("limits") or ()), path=path,
        )


@dataclass(frozen=True)
class Lane:
    id: str
    title: str
    symptoms: tuple[str, ...] = ()
    first_files: tuple[str, ...] = ()
    investigation: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    change_rules: tuple[str, ...] = ()
    validation: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    repo_checks: tuple[str, ...] = ()
    repo_notes: tuple[str, ...] = ()

    @classmethod
    def from_data(cls, data: dict) -> Lane:
        return cls(**{k: v if isinstance(v, str) else tuple(v) for k, v in data.items()})


def json_schema() -> dict:
    """The card schema as a JSON Schema document (for editors; committed as dossier/schema/card.schema.json)."""
    doc = CARD.json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "dossier card", **doc}
