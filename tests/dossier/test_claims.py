"""Claims (D6xx): flags, env vars, paths and modules a reader is handed, against a small SGLang tree."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from dossier.drift import locate
from dossier.lint import LintContext, run_lint
from dossier.mentions import find_mentions
from dossier.project import Project
from dossier.surface import read_surface
from tests.dossier.factories import (
    FACTORY_NAMES,
    LANES,
    factory_names_module,
    make_card,
    sglang_package,
    write_project,
)

SERVER_ARGS = '''
class ServerArgs:
    @staticmethod
    def add_cli_args(parser):
        parser.add_argument("--sampling-backend", type=str, choices=["flashinfer", "pytorch"])
        parser.add_argument("--enable-dp-attention", action=DeprecatedStoreTrueAction,
                            new_flag="--attn-dp-size <dp-size>", help="Deprecated.")
'''
FIELDS = '''
BACKENDS = ["triton", "cutedsl"]

class Exec(msgspec.Struct):
    tp_size: A[int, Arg(help="TP size.", aliases=["--tensor-parallel-size"])] = 1
    mamba_radix_cache_strategy: A[str, Arg(help="s", choices=["auto", "no_buffer", "extra_buffer"])] = "auto"
    linear_attn_backend: A[str, Arg(help="b", choices=BACKENDS + ["flashinfer"])] = "triton"
    cuda_graph_max_bs_decode: A[int, "decode"] = 8
    cuda_graph_max_bs_prefill: A[int, "prefill"] = 8
    uses_mamba: A[bool, Arg(help="derived", no_cli=True)] = False
    kind: A[Literal["a", "b"], "literal choices"] = "a"
    enable_tf32: A[Optional[bool], Arg(help="x", action=argparse.BooleanOptionalAction)] = None
'''
ENVIRON = '''
class Envs:
    SGLANG_ENABLE_JIT_DEEPGEMM = EnvBool(True)
    SGLANG_NEW_NAME = EnvBool(False, deprecated_name="SGLANG_OLD_NAME")
'''


@pytest.fixture
def sglang_tree(tmp_path: Path) -> Path:
    pkg = tmp_path / "site" / "sglang"
    files = {
        "__init__.py": "",
        "version.py": '__version__ = "9.9.9"\n',
        "bench_serving.py": 'import os\nos.environ.get("SGLANG_BENCH_SEED")\n'
                            'p.add_argument("--num-prompts", type=int)\n',
        "srt/server_args.py": SERVER_ARGS,
        "srt/arg_groups/fields/exec_.py": FIELDS,
        "srt/environ.py": ENVIRON,
        "srt/models/qwen3_next.py": "# model\n",
        "srt/layers/linear.py": "# linear\n",
        FACTORY_NAMES: factory_names_module(),
    }
    for rel, text in files.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(textwrap.dedent(text))
    return pkg


def test_surface_reads_flags_choices_aliases_and_env(sglang_tree):
    s = read_surface(locate(sglang_tree))
    assert s.tree.version == "9.9.9"
    assert s.flags["--tensor-parallel-size"].name == "--tensor-parallel-size"
    assert s.flags["--linear-attn-backend"].choices == {"triton", "cutedsl", "flashinfer"}
    assert s.flags["--kind"].choices == {"a", "b"}
    assert "--uses-mamba" not in s.flags and "--no-enable-tf32" in s.flags
    assert s.flags["--enable-dp-attention"].deprecated == "--attn-dp-size <dp-size>"
    assert s.env["SGLANG_OLD_NAME"] == "SGLANG_NEW_NAME" and s.env["SGLANG_BENCH_SEED"] == ""
    assert s.flag("--tp") == (s.flags["--tp-size"], ["--tp-size"])  # argparse takes a unique prefix
    assert s.flag("--cuda-graph-max-bs")[0] is None  # an ambiguous prefix is an argparse error


def test_surface_reads_annotated_fields_still_in_server_args(sglang_tree):
    """0.5.14 .. 0.5.19 declared the annotated argument fields in srt/server_args.py itself (the CLI derived
    from them), before they moved under srt/arg_groups/fields/: their flags count from that release on."""
    (sglang_tree / "srt/arg_groups/fields/exec_.py").unlink()
    (sglang_tree / "srt/server_args.py").write_text(textwrap.dedent(SERVER_ARGS) + textwrap.dedent("""
        @dataclasses.dataclass
        class ServerArgs:
            mamba_radix_cache_strategy: A[str, Arg(help="s", choices=["auto", "no_buffer"])] = "auto"
            enable_linear_replayssm: A[bool, "ReplaySSM decode"] = False
        """))
    s = read_surface(locate(sglang_tree))
    assert s.flags["--mamba-radix-cache-strategy"].choices == {"auto", "no_buffer"}
    assert "--enable-linear-replayssm" in s.flags and "--sampling-backend" in s.flags


def _lint(root: Path, tree: Path, cards: list[dict], lanes: dict | None = None):
    write_project(root, cards, lanes)
    return run_lint(LintContext(Project.load(root), sglang_src=tree), select=["D6"])


STALE_PROSE = [
    ("D601", "Launch with `--enable-piecewise-cuda-graph` to capture the prefill."),
    ("D601", "Raise `--cuda-graph-max-bs` to 64 for larger decode batches."),
    ("D602", "Run with `--mamba-radix-cache-strategy extra_buffer_v2` for prefix reuse."),
    ("D602", "Pick the decode kernel with `--linear-attn-backend=flashkda` on SM100."),
    ("D603", "Export SGLANG_ENABLE_SPEC_V2=1 before starting the server with MTP."),
    ("D604", "The kernel lives in python/sglang/srt/layers/attention/fla/fused_recurrent.py today."),
    ("D604", "Start from layers/attention/gdn_backend.py when the decode is slow."),
    ("D605", "Benchmark with python -m sglang.bench_offline_serving and compare."),
    ("D606", "Serve with `--enable-dp-attention` and dp 4 for the attention layers."),
    ("D606", "Set SGLANG_OLD_NAME=1 to turn it on."),
    ("D605", "Run python -m runtime.gdn.no_such_bench for the table."),
]


@pytest.mark.parametrize("code,text", STALE_PROSE, ids=[f"{c}-{i}" for i, (c, _) in enumerate(STALE_PROSE)])
def test_stale_mention_in_a_validation_lane_is_reported_with_its_line(tmp_path, sglang_tree, code, text):
    card = make_card(100)
    card["validation"]["lanes"].append(text)
    diags = _lint(tmp_path / "p", sglang_tree, [card])
    assert [d.code for d in diags] == [code], diags
    d = diags[0]
    line = (tmp_path / "p" / d.file).read_text().splitlines()[d.line - 1]
    assert text.split()[1].strip("`") in line or any(w in line for w in text.split() if "/" in w or "--" in w)


TRUE_PROSE = [
    "Serve with `--tp 4` and `--mamba-radix-cache-strategy no_buffer` plus `--sampling-backend pytorch`.",
    "Use --tensor-parallel-size 4 and `--linear-attn-backend cutedsl`; see python/sglang/srt/layers/linear.py.",
    "The loader in layers/linear.py and models/qwen3_next.py; env SGLANG_ENABLE_JIT_DEEPGEMM=0.",
    "python -m sglang.bench_serving --num-prompts 200, then python -m pytest test/registered/x/test_y.py -k tp.",
    "lm_eval --model local-completions --tasks gsm8k --num_fewshot 5 against the server.",
    "The PR removed `--enable-piecewise-cuda-graph`, which no longer exists.",
    "The split op was python/sglang/srt/layers/attention/fla/chunk.py (historical) before the move.",
    "`--cuda-graph-max-bs` (renamed since to --cuda-graph-max-bs-decode) bounded the captured batch sizes.",
    "The value of `--mamba-radix-cache-strategy` in this setup is no_buffer.",
]


@pytest.mark.parametrize("text", TRUE_PROSE)
def test_true_or_historical_mentions_pass(tmp_path, sglang_tree, text):
    card = make_card(100)
    card["implementation"] = card["implementation"] + " " + text
    assert _lint(tmp_path / "p", sglang_tree, [card]) == []


def test_card_evidence_fields_are_the_prs_record_not_claims(tmp_path, sglang_tree):
    card = make_card(100)
    card["files"]["runtime"].append("python/sglang/srt/layers/attention/fla/old_kernel.py")
    card["validation"]["claims"] = ["Author ran --enable-piecewise-cuda-graph with SGLANG_ENABLE_SPEC_V2=1."]
    card["motivation"] += " The kernel in python/sglang/srt/layers/attention/fla/old_kernel.py was slow."
    assert _lint(tmp_path / "p", sglang_tree, [card]) == []


def test_today_file_must_exist(tmp_path, sglang_tree):
    card = make_card(100)
    card["key_fragment"]["today"] = {"file": "python/sglang/srt/models/qwen3_gone.py", "match": "x = 1"}
    assert [d.code for d in _lint(tmp_path / "p", sglang_tree, [card])] == ["D604"]


def test_today_match_must_be_in_its_file(tmp_path, sglang_tree):
    card = make_card(100)
    card["key_fragment"]["today"] = {"file": "python/sglang/srt/layers/linear.py", "match": "@turbo_on_graph(x)"}
    assert [d.code for d in _lint(tmp_path / "p", sglang_tree, [card])] == ["D608"]


def test_a_match_common_in_todays_sglang_identifies_nothing(tmp_path, sglang_tree, monkeypatch):
    from dossier.lint import claims

    monkeypatch.setattr(claims, "COMMON_MATCH", 2)
    card = make_card(100)
    card["key_fragment"]["match"] = 'add_argument("--'  # in two files of the fixture tree
    assert "D609" in [d.code for d in _lint(tmp_path / "p", sglang_tree, [card])]
    assert "D609" not in [d.code for d in _lint(tmp_path / "q", sglang_tree, [make_card(100)])]


def test_flags_of_other_tools_are_not_sglangs_and_command_values_are_checked():
    ms = find_mentions("nvidia-smi --query-gpu=name --format=csv; curl -s host --max-time 60; "
                       "bash scripts/ci/run_asr.sh --skip-download; accelerate launch --num-processes 2")
    assert [m.command for m in ms if m.kind == "flag"] == ["nvidia-smi", "nvidia-smi", "curl",
                                                            "scripts/ci/run_asr.sh", "accelerate"]
    ms = find_mentions("python -m sglang.launch_server --model-path X --mamba-radix-cache-strategy turbo")
    assert [(m.text, m.value) for m in ms if m.kind == "flag"] == [("--model-path", "X"),
                                                                   ("--mamba-radix-cache-strategy", "turbo")]


def test_lanes_yaml_historical_key_and_prefix_are_exempt(tmp_path, sglang_tree):
    lanes = {**LANES, "lanes": [dict(LANES["lanes"][0])]}
    lane = lanes["lanes"][0]
    lane["flags"] = ["`--enable-piecewise-cuda-graph`", "historical: `--cuda-graph-max-bs` before 0.5.x",
                     "`SGLANG_ENABLE_SPEC_V2`"]
    lane["historical"] = ["`--piecewise-cuda-graph-compiler` was the compiler switch"]
    diags = _lint(tmp_path / "p", sglang_tree, [make_card(100)], lanes)
    assert sorted((d.code, d.file, d.line) for d in diags) == [
        ("D601", "cards/lanes.yaml", _line(tmp_path / "p/cards/lanes.yaml", "--enable-piecewise-cuda-graph")),
        ("D603", "cards/lanes.yaml", _line(tmp_path / "p/cards/lanes.yaml", "SGLANG_ENABLE_SPEC_V2")),
    ]


def _line(path: Path, what: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if what in line)


def test_no_sglang_source_is_a_warning(tmp_path):
    write_project(tmp_path / "p", [make_card(100)])
    ctx = LintContext(Project.load(tmp_path / "p"), sglang_src=tmp_path)
    diags = run_lint(ctx, select=["D6"])
    assert [(d.code, d.severity) for d in diags] == [("D600", "warning")]


def test_mentions_split_commands_and_values():
    ms = find_mentions("Run `python -m sglang.launch_server --tp 4 --page-size=64` then "
                       "pytest test/a/test_b.py --maxfail 1, and SGLANG_X_* is a family.")
    flags = [(m.text, m.value, m.command) for m in ms if m.kind == "flag"]
    assert flags == [("--tp", "4", "sglang.launch_server"), ("--page-size", "64", "sglang.launch_server"),
                     ("--maxfail", None, "pytest")]
    assert [m.text for m in ms if m.kind == "env var"] == []
    assert [m.text for m in ms if m.kind == "path"] == ["test/a/test_b.py"]


def test_the_projects_manual_has_no_stale_mentions():
    root = Path(__file__).resolve().parents[2]
    diags = run_lint(LintContext(Project.load(root)), select=["D60"])
    assert [d.text() for d in diags if d.severity == "error"] == []


def test_answer_step_symbols_must_exist_in_their_file(tmp_path, sglang_tree):
    (sglang_tree / "srt/models/qwen3_next.py").write_text("class Qwen3GatedDeltaNet:\n    def forward(self):\n        pass\n")
    steps = [{"step": "s", "file": "python/sglang/srt/models/qwen3_next.py", "symbol": name, "prs": []}
             for name in ("Qwen3GatedDeltaNet.forward", "Qwen3GatedDeltaNet.forward_decode, Qwen3NextModel")]
    lanes = {**LANES, "answers": {"mtp_verify_path": {"summary": "s", "steps": steps}}}
    found = [d for d in _lint(tmp_path, sglang_tree, [make_card(100)], lanes) if d.code == "D607"]
    assert [d.message.split(":")[0] for d in found] == ["Qwen3GatedDeltaNet.forward_decode", "Qwen3NextModel"]
    assert all(d.file == "cards/lanes.yaml" for d in found)


def test_findings_prose_is_checked_but_not_their_code_places(tmp_path):
    """Against the installed SGLang: the finding's own flags are real there, the stale one is not."""
    from tests.dossier.test_findings import FINDING

    root = write_project(tmp_path / "p", [make_card(100)])
    finding = {**FINDING, "fix": FINDING["fix"] + " Also set `--mamba-scheduler-strategy extra_buffer`.",
               "code": [{**FINDING["code"][0], "file": "python/sglang/srt/gone.py"}]}
    (root / "cards" / "findings").mkdir()
    (root / "cards" / "findings" / f"{FINDING['name']}.yaml").write_text(yaml.safe_dump(finding, sort_keys=False))
    diags = run_lint(LintContext(Project.load(root)), select=["D601"])
    assert [(d.code, d.file) for d in diags] == [("D601", f"cards/findings/{FINDING['name']}.yaml")]
    assert "--mamba-scheduler-strategy" in diags[0].message  # python/sglang/srt/gone.py (code) is D704's


TYPESET = [
    # (prose, codes expected): a dash for "--" is still the flag (checked as one) and is typography (D611)
    ("Launch with \u2014enable-piecewise-cuda-graph to capture the prefill.", ["D601", "D611"]),
    ("Run with `\u2013mamba-radix-cache-strategy extra_buffer_v2` for prefix reuse.", ["D602", "D611"]),
    ("Serve with `\u2014tp 4` on four GPUs.", ["D611"]),
    ("Serve with \u2013\u2013tp 4 on four GPUs.", ["D611"]),
    ("python -m sglang.bench_serving \u2013\u2013tp-size 4 \u2212-sampling-backend pytorch", ["D611", "D611"]),
    ("It was \u2014enable-piecewise-cuda-graph before the rename.", ["D611"]),
    ("A pause \u2014then the decode resumes; pages 2\u20133 and x\u2014y-z are prose.", []),
]


@pytest.mark.parametrize("text,codes", TYPESET, ids=[f"typeset-{i}" for i in range(len(TYPESET))])
def test_a_flag_typeset_with_a_dash_is_the_flag_and_its_typography_is_reported(tmp_path, sglang_tree, text, codes):
    card = make_card(100)
    card["validation"]["lanes"].append(text)
    root = write_project(tmp_path / "p", [card])
    (root / "cards/100.yaml").write_text(yaml.safe_dump(card, sort_keys=False, allow_unicode=True))  # as typed
    diags = run_lint(LintContext(Project.load(root), sglang_src=sglang_tree), select=["D6"])
    assert sorted(d.code for d in diags) == codes, diags
    for d in diags:
        line = (tmp_path / "p" / d.file).read_text().splitlines()[d.line - 1]
        assert line[d.col - 1] in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212", (d, line)
        if d.code == "D611":
            assert "typeset with a dash (U+2" in d.message, d.message


GENERIC_MATCHES = [
    ("return out", True),  # every name common
    ("if x is None:", True),  # keywords and a common name
    ("len(range(3))", True),  # builtins only
    ("self.fused_gate(", True),  # a bare call of a callee in more files than CALLEE_FILES
    ("return fused_widget_out", False),
    ("self.fused_gate(mixed_qkv, cache_indices=idx)", False),  # the call with its arguments
    ("def fused_gate(", False),  # a definition is one line
]


@pytest.mark.parametrize("match,generic", GENERIC_MATCHES)
def test_a_match_that_names_nothing_distinctive_is_d612(tmp_path, match, generic, monkeypatch):
    from dossier.lint import claims

    monkeypatch.setattr(claims, "CALLEE_FILES", 3)
    monkeypatch.setattr(claims, "DF_STRIDE", 1)
    files = {f"srt/layers/mod{i}.py": "def forward(x):\n    out = x + 1\n    return out\n" for i in range(50)}
    files |= {f"srt/layers/gate{i}.py": "y = self.fused_gate(h)\n" for i in range(4)}  # with the card's file, 5 of 57: not common
    files["srt/models/qwen3_next.py"] = f"def widget(mixed_qkv, idx):\n    {match}\n"
    tree = sglang_package(tmp_path / "site", files)
    card = make_card(100)
    card["key_fragment"]["match"] = match
    write_project(tmp_path / "p", [card])
    found = run_lint(LintContext(Project.load(tmp_path / "p"), sglang_src=tree), select=["D612"])
    assert bool(found) is generic, [d.text() for d in found]


def _moved_project(tmp_path: Path, kf_file: str, state: str = "merged", holder: str = "srt/layers/linear.py"):
    tree = sglang_package(tmp_path / "site", {holder: "if isinstance(loaded_shard_id, tuple):\n    pass\n",
                                     "srt/models/qwen3_next.py": "# model\n"})
    card = make_card(100, state=state)
    if state != "merged":
        card.update(merged_at=None, status="candidate")
    card["key_fragment"].update(file=kf_file, match="isinstance(loaded_shard_id, tuple)")
    card["files"]["runtime"] = ["python/sglang/srt/models/qwen3_next.py", "python/sglang/srt/layers/linear.py"]
    write_project(tmp_path / "p", [card])
    return [d for d in run_lint(LintContext(Project.load(tmp_path / "p"), sglang_src=tree), select=["D318"])]


def test_a_match_in_another_file_of_the_pr_and_never_in_its_named_file_is_d318(tmp_path):
    found = _moved_project(tmp_path / "a", "python/sglang/srt/models/qwen3_next.py")
    assert [d.code for d in found] == ["D318"] and "python/sglang/srt/layers/linear.py" in found[0].message
    assert _moved_project(tmp_path / "b", "python/sglang/srt/layers/linear.py") == []  # where it is
    assert _moved_project(tmp_path / "c", "python/sglang/srt/models/qwen3_next.py", state="open") == []
    # the named file moved (same name, another folder): the line moved with it
    assert _moved_project(tmp_path / "d", "python/sglang/srt/old/linear.py", holder="kernels/linear.py") == []


@pytest.mark.parametrize("text,made_up", [
    ("The loader now calls `fused_widget_gate_v9` before the split.", True),
    ("`TestQwen3NextFp4.test_gsm8k` in test/registered covers it.", False),  # SGLang's test/ tree is not installed
    ("It moved into `ServerArgs.no_such_hook` last.", True),
    ("`ServerArgs.add_cli_args` gained the flag, and `qwen3_next` reads it.", False),  # in the tree (a module path)
    ("The gate was `fused_widget_gate_v9` before it was renamed.", False),  # marked as gone
    ("The PR's description calls it `proposed_gate_fn`, a name that never shipped.", False),  # the PR's wording
    ("Values `today`, `cutedsl` and `SGLANG_WHATEVER_FLAG` are words, values and env vars (D603's).", False),
])
def test_a_backticked_code_name_no_source_holds_is_d613(tmp_path, sglang_tree, text, made_up):
    card = make_card(100)
    card["implementation"] += " " + text
    write_project(tmp_path / "p", [card])
    found = run_lint(LintContext(Project.load(tmp_path / "p"), sglang_src=sglang_tree), select=["D613"])
    assert bool(found) is made_up, [d.text() for d in found]
    if made_up:
        assert found[0].line == _line(tmp_path / "p" / "cards" / "100.yaml", text.split("`")[1].split(".")[-1])


@pytest.mark.parametrize("text,wrong", [
    ("Measured on Qwen3-Next-70B-A3B at TP4.", True),  # no 70B Qwen3-Next
    ("Measured on Qwen3-Next-80B-A10B at TP4.", True),  # the 80B has 3B active
    ("Measured on qwen3.5-27B at TP1.", True),
    ("Measured on Qwen3-Next-80B (Instruct) and Qwen/Qwen3-Next-80B-A3B-Thinking-FP8.", False),
    ("Measured on Qwen3.5-397B-A17B-NVFP4 and Qwen3-ASR-1.7B.", False),  # the ASR size from [tool.dossier] models
    ("Measured on Qwen3.5-122B/397B and qwen3_5_35b_a3b test names.", False),  # no sized name but the 397B's prefix
])
def test_a_qwen_model_of_a_size_no_source_knows_is_d614(tmp_path, text, wrong):
    tree = sglang_package(tmp_path / "site", {"test/models.py": 'M = ["Qwen/Qwen3-Next-80B-A3B-Instruct", "Qwen3.5-397B-A17B"]\n'
                                                      'N = "Qwen3.5-122B"\n'})
    card = make_card(100)
    card["validation"]["claims"] = [text]
    write_project(tmp_path / "p", [card], config='models = ["Qwen/Qwen3-ASR-1.7B"]\n')
    found = run_lint(LintContext(Project.load(tmp_path / "p"), sglang_src=tree), select=["D614"])
    assert bool(found) is wrong, [d.text() for d in found]


def test_a_lock_that_recorded_the_same_match_in_another_file_is_d318_whatever_the_state(tmp_path):
    import hashlib

    tree = sglang_package(tmp_path / "site", {"srt/models/qwen3_next.py": "# model\n"})
    card = make_card(100, state="open", merged_at=None, status="candidate")
    card["key_fragment"].update(file="python/sglang/srt/layers/linear.py", match="def gone_since(")
    root = write_project(tmp_path / "p", [card])
    sha = hashlib.sha256(b"python/sglang/srt/models/qwen3_next.py\ndef gone_since(").hexdigest()
    (root / "cards" / "drift.lock").write_text(yaml.safe_dump({"version": 1, "sglang": "9.9.9", "cards": {100: {
        "file": "python/sglang/srt/models/qwen3_next.py", "key_fragment": sha, "verdict": "missing"}}}))
    found = run_lint(LintContext(Project.load(root), sglang_src=tree), select=["D318"])
    assert [d.message for d in found] == ["cards/drift.lock recorded this match in python/sglang/srt/models/qwen3_next.py, "
                                          "not in python/sglang/srt/layers/linear.py"]
