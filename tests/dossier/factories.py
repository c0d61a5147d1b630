"""Build valid cards and projects for tests; each test breaks exactly one thing."""

from __future__ import annotations

import copy
import datetime as dt
import re
from pathlib import Path

import yaml

#: a pid no process can have (above Linux's largest pid_max): the writer of a leftover that is not running
DEAD_PID = 2**22 + 1

LANES = {
    "investigation_order": ["Reproduce without speculative decoding."],
    "lanes": [
        {
            "id": "gdn-projection",
            "title": "Fused projections",
            "symptoms": ["GDN projection overhead in decode"],
            "first_files": ["python/sglang/srt/models/qwen3_next.py"],
            "investigation": ["Profile the projection GEMMs."],
            "flags": ["--tp-size"],
            "change_rules": ["Prove split and packed checkpoints load the same."],
            "validation": ["python -m pytest test/registered/4-gpu-models/test_qwen3_next_models.py"],
        }
    ],
}


#: four unrelated stories, so that cards made here are not copies of each other (lint D221/D220)
PROSE = [
    {
        "motivation": (
            "Decode ran two GEMMs per layer over the same hidden states at TP4, because in_proj_qkvz and "
            "in_proj_ba were separate column-parallel layers that each read the activations from HBM; at batch 1 "
            "the second launch was pure overhead in every GDN layer's step, paid again on every decode token."
        ),
        "implementation": (
            "Qwen3GatedDeltaNet now builds one MergedColumnParallelLinear, in_proj_qkvzba, whose weight_loader "
            "accepts tuple shard ids so split checkpoints still load, and forward() splits the single output "
            "into mixed_qkv, z, b and a with the Triton kernel fused_qkvzba_split_reshape_cat."
        ),
        "explain": (
            "in_proj_qkvzba is the merged projection: its output_sizes list the qkvz slots first and the two "
            "ba slots after them, so one GEMM produces every input of the gated delta rule."
        ),
    },
    {
        "motivation": (
            "With radix cache on at TP 2, the second turn of a conversation produced garbage tokens on Qwen3-Next "
            "in 3 of 20 runs because the conv window restored from a cached prefix belonged to a different "
            "request: the mamba slot was freed at the end of the first turn and reused before the cache insert "
            "copied it."
        ),
        "implementation": (
            "The finished-request path now copies the conv and SSM state into a fresh slot from "
            "HybridReqToTokenPool.alloc "
            "before free_mamba_cache releases the request's own slot, and HybridReqToTokenPool records the "
            "copied index in mamba_index_mapping so later lookups read the snapshot, not the reused slot; "
            "the layer's in_proj_qkvzba MergedColumnParallelLinear is not involved."
        ),
        "explain": (
            "The new MergedColumnParallelLinear construction sits beside the cache fix in this file; the line "
            "marks where the layer's projections are created before any state is cached or restored."
        ),
    },
    {
        "motivation": (
            "Loading the FP8 checkpoint crashed with an AttributeError in the weight loader: the quantized "
            "parameter class had no weight_loader attribute to assign, so every FP8 and NVFP4 deployment of "
            "the model failed at startup while BF16 loaded fine."
        ),
        "implementation": (
            "The loader of in_proj_qkvzba, a MergedColumnParallelLinear, now calls set_weight_attrs on "
            "BlockQuantScaleParameter and ModelWeightParameter instead of assigning weight_loader directly, and "
            "load_weights maps weight_scale_inv through the same stacked_params_mapping as the weights, keeping "
            "each scale next to its shard."
        ),
        "explain": (
            "MergedColumnParallelLinear receives the quant_config here, which is why its parameters become the "
            "quantized classes whose loader attribute the fix sets through set_weight_attrs."
        ),
    },
    {
        "motivation": (
            "Speculative decoding with NEXTN hung in an NCCL all-gather at TP 4 when sampling was on: each rank "
            "drew its own draft tokens, so ranks disagreed on how many tokens to verify and the collective "
            "never completed; greedy runs were unaffected."
        ),
        "implementation": (
            "eagle_sample now broadcasts the accepted token ids and accept_length from rank 0 with "
            "broadcast_pyobj before verify, and the target-verify path reads accept_index from that broadcast "
            "so every rank commits the same number of Mamba states; the draft head's in_proj_qkvzba "
            "MergedColumnParallelLinear then sees identical inputs."
        ),
        "explain": (
            "The draft head reuses this MergedColumnParallelLinear projection, so its output is identical on all "
            "ranks only once the sampled inputs are broadcast as the fix does."
        ),
    },
]


def make_card(pr: int = 100, **overrides) -> dict:
    """A card that passes every foundation rule (its prose is one of :data:`PROSE`, by PR number)."""
    story = PROSE[pr % len(PROSE)]
    card = {
        "pr": pr,
        "title": f"Fuse the widget projection in layer {pr}",
        "state": "merged",
        "merged_at": dt.date(2026, 3, 20),
        "lane": "gdn-projection",
        "status": "current",
        "superseded_by": [],
        "motivation": story["motivation"],
        "implementation": story["implementation"],
        "key_fragment": {
            "file": "python/sglang/srt/models/qwen3_next.py",
            "match": "self.in_proj_qkvzba = MergedColumnParallelLinear(",
            "explain": story["explain"],
        },
        "files": {"runtime": ["python/sglang/srt/models/qwen3_next.py"], "tests": [], "docs": []},
        "validation": {
            "claims": ["TTFT -2.6% (PR description; tp4 dp4, NEXTN, 200 prompts; device not stated)"],
            "lanes": ["python -m pytest test/registered/4-gpu-models/test_qwen3_next_models.py"],
        },
        "runtime": {"none": "no reference for this test card"},
    }
    card.update(copy.deepcopy(overrides))
    for pr in card["superseded_by"] if "implementation" not in overrides else ():  # lint D519: successors are named
        card["implementation"] += f" #{pr} later replaced this change."
    return card


def write_project(root: Path, cards: list[dict], lanes: dict | None = None, config: str = "") -> Path:
    (root / "cards").mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f'[tool.dossier]\nrepo = "example/repo"\n{config}')
    (root / "cards" / "lanes.yaml").write_text(yaml.safe_dump(lanes or LANES, sort_keys=False))
    for card in cards:
        (root / "cards" / f"{card['pr']}.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    return root


def factory_names_module() -> str:
    """Python source naming every code-like word (snake_case with an inner ``_``, CamelCase) of the factory cards'
    prose: a fake SGLang tree holds it so that lint D621 (a code name no source holds) judges only a test's own names."""
    words = " ".join(" ".join(story.values()) for story in PROSE) + " self.in_proj_qkvzba = MergedColumnParallelLinear("
    names = sorted(set(re.findall(r"\b_*[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b|\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+\b",
                                  words)))
    return "".join(f"{name} = None\n" for name in names)


#: where a fake SGLang tree keeps :func:`factory_names_module`
FACTORY_NAMES = "srt/layers/factory_names.py"


def record_installed(pkg: Path) -> Path:
    """pip's RECORD for the package at ``pkg`` (as :func:`sglang_package` makes it): every .py file with its sha256
    and size, in ``sglang-9.9.9.dist-info/`` beside it; returns the RECORD."""
    import base64
    import hashlib

    info = pkg.parent / "sglang-9.9.9.dist-info"
    info.mkdir()
    rows = []
    for path in sorted(pkg.rglob("*.py")):
        data = path.read_bytes()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        rows.append(f"sglang/{path.relative_to(pkg).as_posix()},sha256={digest},{len(data)}\n")
    (info / "RECORD").write_text("".join(rows) + "sglang-9.9.9.dist-info/RECORD,,\n")
    return info / "RECORD"


def sglang_package(root: Path, files: dict[str, str]) -> Path:
    """An installed-looking ``sglang`` package (version 9.9.9) under ``root`` holding ``files`` (path -> text) and the
    factory cards' code names (:data:`FACTORY_NAMES`)."""
    pkg = root / "sglang"
    for rel, text in {"__init__.py": "", "version.py": '__version__ = "9.9.9"\n',
                      FACTORY_NAMES: factory_names_module(), **files}.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    return pkg


def unsealed(text: str) -> str:
    """A recorded lock's text without its seal line: a lock written before seals, which readers take as it is."""
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith("# sha256: "))
