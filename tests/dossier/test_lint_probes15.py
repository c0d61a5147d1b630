"""Rules added against lint15's probes (session 13): made-up pytest ids, typo'd SGLang paths outside the wheel,
release evidence deleted from the lock, flags given to a release that did not have them; then a round of bad cards
made by hand from real cards (each mutation beside the real card, which must stay clean)."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import os
import re
import shutil
import tomllib
from pathlib import Path

import pytest
import yaml

from dossier.lint import LintContext, run_lint
from dossier.lint.links import missing_test
from dossier.project import Project
from tests.dossier.factories import LANES, make_card, write_project
from tests.dossier.test_lint_probes import _codes, _project
from tests.dossier.yaml_support import dump_yaml, load_yaml

REAL = Path(__file__).resolve().parents[2]


# ---- made-up parametrize ids (D509, D604) -------------------------------------------------------------------

HELPER = '''import pytest

SHAPES = [pytest.param(1, id="small"), pytest.param(2, id="odd"), pytest.param(3, id="tp4", marks=pytest.mark.gpu)]
'''
TESTS = '''import pytest
import torch

from ._cases import SHAPES

BASE = [(1, "a"), (2, "b")]


class Shape:
    def __init__(self, n):
        self.n = n


def helper():
    return 1


@pytest.mark.parametrize("s", SHAPES)
def test_steps(s):
    pass


@pytest.mark.parametrize("pdl", [False, True])
@pytest.mark.parametrize(("t", "name"), [*BASE, (3, "c-d")])
def test_stacked(t, name, pdl):
    pass


@pytest.mark.parametrize("fn", [helper, Shape, Shape(2), None, 1.5])
def test_objects(fn):
    pass


@pytest.mark.parametrize("x", [1, 1, 2], ids=["one", None, "two"])
def test_ids_list(x):
    pass


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_unresolved(dtype):
    pass


@pytest.mark.parametrize("x", [1, 2], ids=str)
def test_id_callable(x):
    pass


@pytest.mark.parametrize("x", [i for i in range(3)])
def test_comprehension(x):
    pass


@pytest.mark.parametrize("x", ["same", "same"])
def test_duplicates(x):
    pass


def test_plain():
    pass


class TestK:
    @pytest.mark.parametrize("m", ["bf16", "fp8"])
    def test_m(self, m):
        pass


@pytest.fixture(params=[1, 2])
def mode(request):
    return request.param


def test_fixture_params(mode):
    pass
'''


@pytest.fixture
def test_tree(tmp_path):
    folder = tmp_path / "tests" / "runtime" / "x"
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "_cases.py").write_text(HELPER)
    (folder / "test_a.py").write_text(TESTS)
    return tmp_path


@pytest.mark.parametrize("node,wrong", [
    ("test_steps[bogus]", True),  # probe: an id the pytest.param list (imported from a helper) lacks
    ("test_steps[tp4]", False),
    ("test_stacked[1-a-False]", False),  # the nearest decorator's id first
    ("test_stacked[3-c-d-True]", False),
    ("test_stacked[False-1-a]", True),  # the wrong order
    ("test_stacked[4-a-False]", True),
    ("test_objects[helper]", False),  # a function or class by its name
    ("test_objects[Shape]", False),
    ("test_objects[fn2]", False),  # an instance by argname and index
    ("test_objects[None]", False),
    ("test_objects[1.5]", False),
    ("test_objects[Shape2]", True),
    ("test_ids_list[one]", False),
    ("test_ids_list[1]", False),  # an ids entry of None falls back to the value
    ("test_ids_list[two]", False),
    ("test_ids_list[2]", True),
    ("test_duplicates[same0]", False),  # pytest's counter for repeated ids
    ("test_duplicates[same1]", False),
    ("test_duplicates[same]", True),
    ("test_plain[x]", True),  # a test with no parametrize mark has no ids
    ("TestK::test_m[fp8]", False),
    ("TestK::test_m[int4]", True),
    # ids this reader cannot evaluate are never refused: honest limits, not guesses
    ("test_unresolved[dtype0]", False),
    ("test_unresolved[torch.bfloat16]", False),
    ("test_id_callable[anything]", False),
    ("test_comprehension[7]", False),
    ("test_fixture_params[9]", False),
])
def test_a_parametrize_id_is_checked_against_the_test_file(test_tree, node, wrong):
    problem = missing_test(f"tests/runtime/x/test_a.py::{node}", test_tree)
    assert bool(problem) is wrong, problem


def test_real_parametrize_ids_of_this_repository_are_accepted_and_a_made_up_one_refused():
    verify = "tests/runtime/gdn/test_gdn_verify.py::test_commit_accepted_steps"
    assert missing_test(f"{verify}[tp4]", REAL) is None
    problem = missing_test(f"{verify}[bogus]", REAL)  # the brief's probe
    assert problem and "small, odd, tp4, tp1" in problem
    assert missing_test("tests/runtime/projections/test_proj_context.py::test_gpu_norm_real_sizes[True]", REAL) is None
    assert missing_test("tests/runtime/projections/test_proj_context.py::test_gpu_norm_real_sizes[on]", REAL)


def test_a_made_up_id_in_runtime_tests_is_d509_and_in_a_lane_check_d604(test_tree):
    def edit(card):
        card["runtime"] = {"reference": "runtime.x.ref", "tests": ["tests/runtime/x/test_a.py::test_steps[bogus]"],
                           "bench": "runtime.x.bench"}
    root = test_tree / "p"
    root.mkdir()
    card = make_card(100)
    edit(card)
    write_project(root, [card])
    shutil.copytree(test_tree / "tests", root / "tests")
    found = run_lint(LintContext(Project.load(root)), select=["D509"])
    assert [d.code for d in found] == ["D509"] and "[bogus] is not an id of test_steps" in found[0].message

    lanes = {**LANES, "lanes": [{**LANES["lanes"][0], "validation": [
        "python -m pytest tests/runtime/x/test_a.py::test_steps[bogus]",
        "python -m pytest tests/runtime/x/test_a.py::test_steps[odd]"]}]}
    write_project(root, [make_card(100)], lanes)
    found = [d for d in run_lint(LintContext(Project.load(root)), select=["D604"]) if d.file == "cards/lanes.yaml"]
    assert len(found) == 1 and "test_steps[bogus]" in found[0].message


# ---- SGLang paths outside the wheel: a typo of a path another source holds (D617) ---------------------------------

KNOWN = "test/registered/4-gpu-models/test_qwen3_next_models.py"


@pytest.mark.parametrize("where,path,wrong", [
    ("prose", "test/registered/4-gpu-models/test_qwen3_next_model.py", True),  # probe: one letter short
    ("tests", "test/registered/4-gpu-models/test_qwen3_nexT_models.py", True),
    ("prose", "test/registerd/4-gpu-models/test_qwen3_next_models.py", True),  # a folder one letter off
    ("tests", "scripts/ci/ci_install_deepe.sh", True),
    # near misses: the known path itself, a path nothing held is near (it may be real: nothing here can say),
    # and a file beside a known one that differs by more than a keystroke
    ("prose", KNOWN, False),
    ("tests", "test/srt/models/test_qwen3_nxt.py", False),
    ("prose", "test/registered/4-gpu-models/test_qwen35_models.py", False),
])
def test_a_path_outside_the_wheel_one_keystroke_off_a_held_one_is_d617(tmp_path, where, path, wrong):
    other = make_card(90, merged_at=dt.date(2026, 3, 1))
    other["files"]["tests"] = [KNOWN, "scripts/ci/ci_install_deepep.sh"]

    def edit(card):
        if where == "prose":
            card["implementation"] += f" The PR also runs {path} in CI."
        else:
            card["files"]["tests"].append(path)
    assert (_codes(_project(tmp_path, edit, [other]), select=["D617"]) == ["D617"]) is wrong


def test_a_prose_path_typo_of_the_cards_own_listed_test_is_d617(tmp_path):
    def edit(card):
        card["files"]["tests"] = [KNOWN]
        card["implementation"] += " CI runs test/registered/4-gpu-models/test_qwen3_next_modles.py on four GPUs."
    assert _codes(_project(tmp_path, edit), select=["D617"]) == ["D617"]


# ---- release evidence deleted from evidence.lock (D326) -----------------------------------------------------------

def _with_release_lock(root: Path, cards: dict[int, str]) -> Path:
    """A releases section recorded for the given cards (by PR: the key file's path)."""
    entries = {pr: {"first": "0.1.0", "last": "0.2.0", "key_fragment": "0" * 64, "kind": "release-scan",
                    "present": [], "events": [], "recorded": "2026-11-30"} for pr in cards}
    lock = {"version": 1, "cards": {}, "releases": {"built": [["0.1.0", "2026-01-05"], ["0.2.0", "2026-04-01"]],
                                                    "cards": entries}}
    (root / "cards" / "evidence.lock").write_text(yaml.safe_dump(lock))
    return root


@pytest.mark.parametrize("keyfile,recorded,wrong", [
    ("python/sglang/srt/models/qwen3_next.py", False, True),  # probe: the card's entry removed from the lock
    ("python/sglang/srt/models/qwen3_next.py", True, False),
    ("docker/Dockerfile", False, False),  # no wheel holds it: releases verify records nothing for it
    ("test/registered/4-gpu-models/test_qwen35_models.py", False, False),
])
def test_a_card_missing_from_the_recorded_release_evidence_is_d326(tmp_path, keyfile, recorded, wrong):
    def edit(card):
        card["key_fragment"]["file"] = keyfile
        card["files"]["runtime"] = [keyfile]
        card["implementation"] += " The 0.2.0 wheel carries it."
    root = _project(tmp_path, edit, [make_card(90, merged_at=dt.date(2026, 3, 1))])
    _with_release_lock(root, [90, 100] if recorded else [90])
    found = [d for d in run_lint(LintContext(Project.load(root)), select=["D326"]) if d.file == "cards/100.yaml"]
    assert bool(found) is wrong, [d.text() for d in found]
    if wrong:
        assert "status current" in found[0].message and "(0.2.0)" in found[0].message
        assert "dossier releases verify --record" in found[0].hint


def test_a_project_that_never_recorded_releases_is_not_d326(tmp_path):
    root = _project(tmp_path, lambda card: None)
    assert _codes(root, select=["D326"]) == []


# ---- a flag given to a release that did not have it (D618) ----------------------------------------------------------

SURFACE = {"version": 1, "releases": ["0.5.10", "0.5.12", "0.5.17", "0.5.19", "0.5.20", "0.5.23"],
           "flags": {"--linear-attn-verify-backend": "0.5.17..0.5.23", "--mamba-scheduler-strategy": "0.5.10..0.5.19",
                     "--linear-attn-decode-backend": "0.5.10..0.5.23"},
           "env": {"SGLANG_ENABLE_SPEC_V2": "0.5.10..0.5.20"}, "names": {"flags": 3, "env": 1}}


@pytest.mark.parametrize("text,wrong", [
    ("On SGLang 0.5.12, start the server with --linear-attn-verify-backend triton.", True),  # probe
    ("The per-phase switch `--linear-attn-verify-backend` from 0.5.12 picks the verify kernel.", True),
    ("In SGLang 0.5.23 set SGLANG_ENABLE_SPEC_V2=1 first.", True),
    # near misses: the right release; a clause that moves on to another release; a historical mention
    ("On SGLang 0.5.17, start the server with --linear-attn-verify-backend triton.", False),
    ("The per-phase switch `--linear-attn-verify-backend` from 0.5.17 picks the verify kernel.", False),
    ("On SGLang 0.5.12 the verify kernel is fixed; from 0.5.17 --linear-attn-verify-backend picks it.", False),
    ("On SGLang 0.5.23 the old --mamba-scheduler-strategy (removed in 0.5.20) no longer parses.", False),
    ("`--linear-attn-decode-backend` from 0.5.10 picks the decode kernel.", False),
])
def test_a_flag_given_to_a_release_without_it_is_d618(tmp_path, text, wrong):
    root = _project(tmp_path, lambda card: card.update(implementation=card["implementation"] + " " + text))
    (root / "cards" / "surface.lock").write_text(yaml.safe_dump(SURFACE))
    assert (_codes(root, select=["D618"]) == ["D618"]) is wrong


# ---- the probe round: hand-made bad cards from real ones -------------------------------------------------------------

def _append(field, text):
    def edit(card):
        if field == "explain":
            card["key_fragment"]["explain"] += " " + text
        elif field == "lanes":
            card["validation"]["lanes"].append(text)
        else:
            card[field] += " " + text
    return edit


def _set(path, value):
    def edit(card):
        node = card
        *head, last = path.split(".")
        for key in head:
            node = node[key]
        node[last] = value
    return edit


def _both(*edits):
    def edit(card):
        for e in edits:
            e(card)
    return edit


def _copy_field(donor: int, field: str):
    def edit(card):
        card[field] = yaml.safe_load((REAL / "cards" / f"{donor}.yaml").read_text())[field]
    return edit


def _reworded(donor: int, field: str, words):
    def edit(card):
        text = yaml.safe_load((REAL / "cards" / f"{donor}.yaml").read_text())[field]
        for a, b in words:
            text = text.replace(a, b)
        card[field] = text
    return edit


def _drop_release_entry(pr: int):
    def edit(lock: dict):
        del lock["releases"]["cards"][pr]
    return edit


# (id, card, other real cards in the project, edit of the card, edit of evidence.lock or None, the code expected)
PROBES = [
    # made-up parametrize ids
    ("made-up-param-id", 18088, (), _set("runtime.tests", ["tests/runtime/gdn/test_gdn_verify.py::"
                                                             "test_commit_accepted_steps[bogus]"]), None, "D509"),
    ("param-id-on-a-plain-test", 12508, (), _set("runtime.tests", ["tests/runtime/gdn/test_gdn_gating.py::"
                                                                     "test_fused_gating_matches_reference[bf16]"]),
     None, "D509"),
    ("made-up-id-in-a-lane", 19321, (), _append("lanes", "python -m pytest tests/runtime/projections/test_proj_context."
                                                        "py::test_gpu_norm_real_sizes[on]"), None, "D604"),
    # typo'd SGLang paths outside the wheel
    ("test-path-typo-prose", 19434, (10233,), _append("implementation", "CI covers it in test/registered/4-gpu-models/"
                                                                        "test_qwen3_next_model.py."), None, "D617"),
    ("test-path-typo-files", 18489, (20110,), lambda c: c["files"]["tests"].append(
        "test/registered/4-gpu-models/test_qwen35_modles.py"), None, "D617"),
    # release evidence removed from the lock
    ("release-entry-deleted-current", 10466, (), lambda c: None, _drop_release_entry(10466), "D326"),
    ("release-entry-deleted-superseded", 14502, (17613,), lambda c: None, _drop_release_entry(14502), "D326"),
    # a flag of a later release given for an earlier one
    ("later-flag-for-earlier-release", 19775, (), _append("implementation", "On SGLang 0.5.12, start the server with "
                                                                            "--linear-attn-verify-backend triton."),
     None, "D618"),
    ("flag-said-to-start-early", 28451, (), _append("implementation", "`--enable-linear-replayssm` from 0.5.12 "
                                                                      "turns it on."), None, "D618"),
    # stale and made-up flags and env vars
    ("stale-flag", 22458, (), _append("lanes", "python -m sglang.launch_server --model Qwen/Qwen3-Next-80B-A3B-Instruct "
                                               "--mamba-scheduler-strategy extra_buffer"), None, "D601"),
    ("stale-graph-flag", 19220, (), _append("implementation", "Turn it off with --disable-piecewise-cuda-graph."),
     None, "D601"),
    ("made-up-flag", 20627, (), _append("implementation", "Enable it with --enable-gdn-packed-decode."), None, "D601"),
    ("made-up-env", 17094, (), _append("implementation", "Set SGLANG_GDN_WIDE_TILE=1 to get the wide tile."), None,
     "D603"),
    ("env-of-a-later-version", 27964, (), _append("implementation", "SGLANG_ENABLE_SPEC_V3=1 replaces it."), None,
     "D603"),
    ("flag-value-not-a-choice", 29734, (), _append("lanes", "python -m sglang.launch_server --linear-attn-decode-backend "
                                                            "cutlass"), None, "D602"),
    # status against the superseded_by chain
    ("current-with-successor", 10466, (), _set("superseded_by", [17094]), None, "D505"),
    ("superseded-without-successor", 21496, (21662,), _both(_set("status", "superseded"), _set("superseded_by", [])), None,
     "D504"),
    ("current-though-reverted", 21313, (21496, 21662), _both(_set("status", "current"), _set("superseded_by", [])),
     None, "D408"),
    ("reverted-by-the-wrong-pr", 21313, (21496, 21662), _set("superseded_by", [21662]), None, "D412"),
    ("successor-without-a-card", 19002, (20858, 22462), _set("superseded_by", [99999]), None, "D502"),
    # key fragments that identify nothing
    ("import-only-match", 19321, (), _set("key_fragment.match", "from sglang.srt.layers.linear import "
                                                                "MergedColumnParallelLinear"), None, "D206"),
    ("whitespace-match", 10466, (), _set("key_fragment.match", "    "), None, "D104"),
    ("keyword-only-match", 18271, (), _set("key_fragment.match", "return None"), None, "D612"),
    # numbers that contradict each other
    ("arithmetic", 18271, (), _append("motivation", "The call went from 121 us to 60 us, a 20% cut."), None, "D226"),
    ("one-number-two-units", 19321, (), _append("implementation", "The 2.6% gain is 2.6x on long prompts."), None,
     "D224"),
    ("fall-over-100", 17094, (), _append("motivation", "The author measured the recurrent call 150% shorter on B200 "
                                                       "at batch 512."), None, "D228"),
    # dates
    ("merged-before-opened", 32919, (), _set("merged_at", dt.date(2025, 8, 30)), None, "D405"),
    ("prose-merge-day", 19321, (), _append("implementation", "Merged 2026-03-02 after review."), None, "D406"),
    ("thread-day-after-merge", 21662, (), _append("motivation", "The issue was opened on 2026-04-11."), None, "D411"),
    ("merged-in-the-future", 18271, (), _set("merged_at", dt.date(2027, 2, 4)), None, "D403"),
    # copied prose and titles
    ("motivation-copied", 18271, (17094,), _copy_field(17094, "motivation"), None, "D221"),
    ("title-copied", 18271, (17094,), _copy_field(17094, "title"), None, "D518"),
    # template cards with the placeholders reworded
    ("template-motivation", 20283, (), _set("motivation", "TODO: describe the problem this PR solves."), None, "D202"),
    ("template-reworded", 20283, (), _set("implementation", "Describe what changed here."), None, "D204"),
    # releases and lanes
    ("release-never-published", 17094, (), _append("implementation", "Backported to SGLang 0.5.17.post4."), None,
     "D322"),
    ("shipped-too-early", 20627, (), _append("implementation", "It first shipped in SGLang 0.5.2."), None, "D319"),
    ("unknown-lane", 19321, (), _set("lane", "gdn-decode"), None, "D501"),
    ("key-file-typo", 19321, (), _both(_set("key_fragment.file", "python/sglang/srt/layers/linaer.py"),
                                       _set("files.runtime", ["python/sglang/srt/layers/linaer.py"])), None, "D616"),
    ("flag-on-a-bare-release", 19775, (), _append("lanes", "On 0.5.12: python -m sglang.launch_server --model "
                                                            "Qwen/Qwen3.5-35B-A3B --linear-attn-verify-backend triton"),
     None, "D618"),
    ("change-beside-its-pair", 18271, (), _append("motivation", "121 us -> 60 us per call (-20%) on 4x B200 (author)."),
     None, "D226"),
    ("template-stock-sentences", 20283, (), _set("motivation", "This PR addresses an issue in the codebase that "
                                                               "affected performance. The problem is described in the "
                                                               "linked issue and the fix resolves it."), None, "D209"),
    ("template-angle-brackets", 20283, (), _set("motivation", "<Explain the problem: symptom, cost, who hit it, on "
                                                              "which hardware.>"), None, "D204"),
    ("claims-placeholder", 20627, (), _set("validation.claims", ["<benchmark numbers here>"]), None, "D208"),
    ("opened-after-merged-prose", 19321, (), _append("implementation", "The PR was opened on 2026-03-25 and merged on "
                                                                       "2026-03-20."), None, "D411"),
    ("successor-never-merged", 21496, (21662, 14502), _set("superseded_by", [14502]), None, "D404"),
    ("reworded-copy", 18271, (17094,), _reworded(17094, "motivation", [("visible", "noticeable"), ("measured", "found"),
                                                                       ("about", "roughly")]), None, "D221"),
    ("historical-env-never-shipped", 27964, (), _append("implementation", "The old SGLANG_ENABLE_SPEC_V9 was removed "
                                                                          "earlier."), None, "D610"),
    ("made-up-runtime-module", 12508, (), _set("runtime.reference", "runtime.gdn.gating_fast"), None, "D508"),
    ("comment-only-match", 20627, (), _set("key_fragment.match", "# packed decode"), None, "D612"),
    ("regress-run-on-another-gpu", 19321, (), _append("implementation", "This project's dossier regress run of this "
                                                                        "card passed on an NVIDIA B200."), None, "D517"),
    ("made-up-sglang-path", 10466, (), _append("implementation", "The kernel lives in python/sglang/srt/layers/"
                                                                 "attention/fla/fused_recurrent_fast.py."), None, "D604"),
]


@functools.cache
def _locks() -> dict[str, dict]:
    """The real locks and lanes, parsed once (callers copy what they change)."""
    return {name: load_yaml((REAL / "cards" / name).read_text())
            for name in ("evidence.lock", "drift.lock", "surface.lock", "lanes.yaml", "checked.lock")}


def _real_project(root: Path, pr: int, others, edit=None, lock_edit=None) -> Path:
    """The real card ``pr`` (edited) with the real ``others``, lanes and locks, and this repository's runtime and
    tests (for test ids), as a project of its own."""
    (root / "cards").mkdir(parents=True)
    config = tomllib.loads((REAL / "pyproject.toml").read_text())["tool"]["dossier"]
    (root / "pyproject.toml").write_text('[tool.dossier]\nrepo = "sgl-project/sglang"\n' + "".join(
        f"{key} = {config[key]!r}\n" for key in ("models", "other_names") if key in config))
    # D621's offline sources of names beside today's SGLang: the older releases' names the cards use, the PR facts
    for name in ("opened.lock", "names.lock", "pr-facts.json"):
        shutil.copy(REAL / "cards" / name, root / "cards" / name)
    for name in ("runtime", "tests", "results"):
        os.symlink(REAL / name, root / name)
    texts = []
    for n in (pr, *others):
        text = (REAL / "cards" / f"{n}.yaml").read_text()
        if n == pr and edit is not None:
            card = yaml.safe_load(text)
            edit(card)
            text = dump_yaml(card, width=120)
        (root / "cards" / f"{n}.yaml").write_text(text)
        texts.append(text)
    # the locks and lanes cut to these cards (whole, they take seconds to parse on every run): the releases and
    # drift recorded for them, the surface entries their text names, the lanes without their answer blocks
    locks = _locks()
    releases = locks["evidence.lock"]["releases"]
    evidence = copy.deepcopy({**locks["evidence.lock"], "releases": {
        **releases, "cards": {n: h for n, h in releases["cards"].items() if n in (pr, *others)}}})
    if lock_edit is not None:
        lock_edit(evidence)
    drift = {**locks["drift.lock"], "cards": {n: h for n, h in locks["drift.lock"]["cards"].items() if n in (pr, *others)}}
    text = "\n".join(texts)
    surface = {**locks["surface.lock"], **{kind: {k: v for k, v in locks["surface.lock"].get(kind, {}).items() if k in text}
                                           for kind in ("flags", "env", "warned")}}
    # the defaults of the names kept (a default of no listed name is an unreadable lock)
    surface["defaults"] = {k: v for k, v in surface.get("defaults", {}).items() if k in surface["flags"] or k in surface["env"]}
    surface["names"] = {kind: len(surface[kind]) for kind in ("flags", "env", "warned", "defaults")}
    lanes = {k: v for k, v in locks["lanes.yaml"].items() if k != "answers"}
    lanes["lanes"] = [{k: v for k, v in lane.items() if k != "answers"} for lane in lanes["lanes"]]
    for name, data in (("evidence.lock", evidence), ("drift.lock", drift), ("surface.lock", surface),
                       ("lanes.yaml", lanes)):
        (root / "cards" / name).write_text(dump_yaml(data))
    return root


def _errors(root: Path, pr: int, select: list[str] | None = None) -> set[str]:
    """The error codes lint gives the card of ``pr`` (only ``select``'s rules run: a bad card needs its own rule
    alone, which is also what `lint --select` runs; a near miss needs every rule)."""
    ctx = LintContext(Project.load(root, [root / "cards" / f"{pr}.yaml"]))
    return {d.code for d in run_lint(ctx, select=select) if d.severity == "error" and d.file == f"cards/{pr}.yaml"}


def test_the_real_cards_the_probes_start_from_lint_clean(tmp_path, no_release_cache):
    prs = sorted({n for p in PROBES for n in (p[1], *p[2])})
    root = _real_project(tmp_path, prs[0], prs[1:])
    ctx = LintContext(Project.load(root))
    errors = [d.text() for d in run_lint(ctx) if d.severity == "error" and re.fullmatch(r"cards/\d+\.yaml", d.file)]
    assert errors == []


@pytest.mark.parametrize("name,pr,others,edit,lock_edit,code", PROBES, ids=[p[0] for p in PROBES])
def test_a_hand_made_bad_card_is_caught(tmp_path, no_release_cache, name, pr, others, edit, lock_edit, code):
    bad = _errors(_real_project(tmp_path, pr, others, edit, lock_edit), pr, select=[code])
    assert code in bad, bad


def test_the_probe_round_has_thirty_cards_or_more():
    assert len(PROBES) >= 30 and len({p[0] for p in PROBES}) == len(PROBES)
