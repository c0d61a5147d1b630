"""Build valid cards and projects for tests; each test breaks exactly one thing."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import yaml

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


def make_card(pr: int = 100, **overrides) -> dict:
    """A card that passes every foundation rule."""
    card = {
        "pr": pr,
        "title": f"Fuse the widget projection in layer {pr}",
        "state": "merged",
        "merged_at": dt.date(2026, 3, 20),
        "lane": "gdn-projection",
        "status": "current",
        "superseded_by": [],
        "motivation": (
            "Decode spent 10.1 us per layer in two GEMMs over the same hidden states at TP4, because "
            "in_proj_qkvz and in_proj_ba were separate column-parallel layers reading the input twice."
        ),
        "implementation": (
            "Qwen3GatedDeltaNet now builds one MergedColumnParallelLinear in qwen3_next.py whose weight_loader "
            "accepts tuple shard ids, and the forward splits the single output with a Triton kernel."
        ),
        "key_fragment": {
            "file": "python/sglang/srt/models/qwen3_next.py",
            "match": "self.in_proj_qkvzba = MergedColumnParallelLinear(",
            "explain": "One merged linear replaces the two projections; output sizes list qkvz then ba.",
        },
        "files": {"runtime": ["python/sglang/srt/models/qwen3_next.py"], "tests": [], "docs": []},
        "validation": {
            "claims": ["TTFT -2.6% (PR description; tp4 dp4, NEXTN)"],
            "lanes": ["python -m pytest test/registered/4-gpu-models/test_qwen3_next_models.py"],
        },
        "runtime": {"none": "no reference for this test card"},
    }
    card.update(copy.deepcopy(overrides))
    return card


def write_project(root: Path, cards: list[dict], lanes: dict | None = None, config: str = "") -> Path:
    (root / "cards").mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f'[tool.dossier]\nrepo = "example/repo"\n{config}')
    (root / "cards" / "lanes.yaml").write_text(yaml.safe_dump(lanes or LANES, sort_keys=False))
    for card in cards:
        (root / "cards" / f"{card['pr']}.yaml").write_text(yaml.safe_dump(card, sort_keys=False))
    return root
