"""The one GPU-name pattern the lint rules read devices with: real model names, not tags that look like them."""

import pytest

from dossier.lint.gpu_names import gpu_names


@pytest.mark.parametrize("text, names", [
    ("measured on an H20-3e and on 8x H100s", {"H20-3e", "H100"}),
    ("GB200, GH200, B200 and B300 NVL", {"GB200", "GH200", "B200", "B300"}),
    ("a GB10 (DGX Spark)", {"GB10"}),  # a claim naming it named no device (D233), session 50
    ("A100-80GB, A10G, an RTX A6000, L40S, L4 and V100", {"A100", "A10G", "A6000", "L40S", "L4", "V100"}),
    ("MI300X and MI355X", {"MI300X", "MI355X"}),
    ("an RTX 4090 and an RTX PRO 6000", {"RTX4090", "RTXPRO6000"}),
    # not GPUs: a model's active parameters, a batch, a file's lower-case tag, a cache level, an identifier
    ("Qwen3.5-397B-A17B and Qwen3-235B-A22B", set()),
    ("over a fixed B28 target-step window", set()),
    ("results/cuda/finding-padded-rows-h200.log", set()),
    ("inputs spanning 3x L2", set()),
    ("device_name=NVIDIA_H200.json", set()),
    ("a 10 GB buffer, 80GB of HBM", set()),
])
def test_gpu_names_reads_model_names_only(text, names):
    assert gpu_names(text) == names
