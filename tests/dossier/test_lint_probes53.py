"""Session 53's review of its own rule changes (a helper wrote 80 sentences against D621, D240, D319, D619, D639 and
D335): each true sentence here was rejected by the first version of a change, each wrong one passed it. Every case
lints one real card with the sentence appended and its rule alone (`lint --select`)."""

from __future__ import annotations

import pytest

from tests.dossier.test_lint_probes15 import _append, _errors
from tests.dossier.test_lint_probes22 import _project

#: the cards a rule's sentences cite, which the project must hold for the rule to read them
CITED = {"D319": (19002, 28451)}
# (rule, card, sentence, caught)
CASES = [
    # D621: a handle beside what its person did or wrote is no code name; a class-like name stays code
    ("D621", 19321, "JustinTong0323 also benchmarked it on H200 and saw the same gain.", False),
    ("D621", 19321, "JustinTong0323, the PR author, reported the same gain.", False),
    ("D621", 19321, "According to JustinTong0323, the gain is noise.", False),
    ("D621", 19321, "JustinTong0323 and HyeonjeCho reviewed it.", False),
    ("D621", 19321, "JustinTong0323's follow-up PR moved the loader.", False),
    ("D621", 19321, "Loading happens once (per TupleShardLoader) for each layer.", True),
    ("D621", 19321, "The new TupleShardLoader requested the slot sizes from output_sizes.", True),
    ("D621", 19321, "TupleShardLoader's test covers the (0, 1, 2) tuple.", True),
    # D240: a setting set against another (64 requests against 8) is no figure of the metric; a denied multiple
    ("D240", 12508, "Decode throughput is about twice as high at 64 requests against 8.", False),
    ("D240", 12508, "The state pool needs twice the memory with 16 layers against 4.", False),
    ("D240", 12508, "The split path is not twice as fast: 139 us vs 120 us.", False),
    ("D240", 12508, "Decode throughput doubled: 2,048 tok/s against 1,024.", False),
    ("D240", 12508, "It takes 139 us for the old path against 17 us for the fused one, four times as fast.", True),
    # D319: the release a problem was seen in, or of what the PR replaced, is not the PR's
    ("D319", 18917, "#19002 fixed the OOM in 0.5.8.post1.", False),
    ("D319", 18917, "#28451 replaced the recurrent kernel that shipped in 0.5.14.", False),
    ("D319", 18917, "#28451 replaced the kernel added in 0.5.14 with a buffered one.", False),
    ("D319", 18917, "#28451 replaced the recurrent decode kernel with a buffered one in 0.5.15.", False),
    ("D319", 18917, "#28451 replaced the recurrent decode kernel with a buffered one in 0.5.14.", True),
    ("D319", 18917, "#28451 replaces the recurrent decode kernel in 0.5.14.", True),
    # D619: a flag given to another PR, or to a time before or after this one, is not the PR's
    ("D619", 19321, "The PR predates the new --enable-linear-replayssm flag, so its decode path is unchanged.", False),
    ("D619", 19321, "Another PR adds --enable-linear-replayssm, which does not touch this loader.", False),
    ("D619", 19321, "The new --enable-linear-replayssm flag (from #28451) does not change this loader.", False),
    ("D619", 19321, "It adds `--enable-linear-replayssm` to select the fused path.", True),
    ("D619", 19321, "The PR adds a new flag, --enable-linear-replayssm, to turn it on.", True),
    # D639: a subset, a rank's share or a setup clause is not the model's count
    ("D639", 19321, "Qwen3-Next interleaves its layers 3:1, so only 12 layers keep a KV cache.", False),
    ("D639", 19321, "In Qwen3-Next, 36 layers are GDN and 12 are full attention.", False),
    ("D639", 19321, "Qwen3-Next has 512 experts, of which 10 experts are routed per token.", False),
    ("D639", 19321, "Qwen3-Next's 32 value heads split into 8 value heads on each of four GPUs.", False),
    ("D639", 19321, "The 64-layer Qwen3-Next model is the default.", True),
    ("D639", 19321, "Qwen3-Next has 64 layers, and the TP4 run used all of them.", True),
    ("D639", 19321, "Qwen3-Next has a hidden dimension of 4096.", True),
    # D335: presence denied, reworked code, or a count is no claim that the card's line holds
    ("D335", 19002, "Today the key fragment's caller still has no fallback.", False),
    ("D335", 19002, "The Qwen3.5 decode path still has the same line count as the PR's code today.", False),
    ("D335", 19002, "0.5.23 still has this exact line.", True),
]


@pytest.mark.parametrize("rule,pr,sentence,caught", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_a_reviewed_sentence_is_judged_as_written(tmp_path, no_release_cache, rule, pr, sentence, caught):
    root = _project(tmp_path, pr, CITED.get(rule, ()), _append("implementation", sentence))
    assert (rule in _errors(root, pr, select=[rule])) == caught
