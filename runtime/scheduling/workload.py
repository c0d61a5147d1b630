"""Workloads: shared prefixes, multi-turn conversations, arrivals over time, and the #39342 reproduction.

Follow-up turns are built from the oracle's own replies, so a conversation's second prompt extends the
first prompt plus the tokens the model really generated, as a chat client would send it.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from runtime.scheduling.model import oracle_generate
from runtime.scheduling.request import ReqSpec

VOCAB = 64


def _tokens(rng: random.Random, n: int) -> tuple[int, ...]:
    return tuple(rng.randrange(VOCAB) for _ in range(n))


def expected_outputs(specs: list[ReqSpec]) -> dict[int, tuple[int, ...]]:
    """What every request must return: the oracle's greedy tokens, cut after the first stop token."""
    out = {}
    for spec in specs:
        toks = oracle_generate(spec.prompt, spec.max_new)
        cut = next((i + 1 for i, t in enumerate(toks) if t in spec.stop), len(toks))
        out[spec.rid] = toks[:cut]
    return out


def random_workload(rng: random.Random, *, n_requests: int = 6, n_prefixes: int = 2,
                    prefix_len: tuple = (8, 28), suffix_len: tuple = (1, 14), max_new: tuple = (1, 14),
                    spread: int = 12, follow_ups: int = 2, stop_prob: float = 0.25) -> list[ReqSpec]:
    """Requests over a few shared prefixes arriving over ``spread`` steps, some with follow-up turns and
    some with a stop token taken from their own oracle reply (a finish the scheduler cannot foresee)."""
    prefixes = [_tokens(rng, rng.randint(*prefix_len)) for _ in range(n_prefixes)] + [()]
    specs: list[ReqSpec] = []
    for rid in range(n_requests):
        prompt = rng.choice(prefixes) + _tokens(rng, rng.randint(*suffix_len))
        specs.append(_with_stop(rng, ReqSpec(rid, prompt, rng.randint(*max_new), rng.randrange(spread)),
                                stop_prob))
    for turn in range(follow_ups):
        parent = rng.choice(specs)
        reply = expected_outputs([parent])[parent.rid]
        prompt = parent.prompt + reply + _tokens(rng, rng.randint(*suffix_len))
        specs.append(ReqSpec(n_requests + turn, prompt, rng.randint(*max_new), parent.arrival,
                             after=parent.rid))
    return specs


def _with_stop(rng: random.Random, spec: ReqSpec, prob: float) -> ReqSpec:
    if spec.max_new < 3 or rng.random() >= prob:
        return spec
    reply = oracle_generate(spec.prompt, spec.max_new)
    stop = (reply[rng.randrange(1, len(reply))],)
    return ReqSpec(spec.rid, spec.prompt, spec.max_new, spec.arrival, spec.after, stop)


def shared_prefix(seed: int = 0) -> list[ReqSpec]:
    """Eight requests over two system prompts, arriving two steps apart."""
    rng = random.Random(seed)
    systems = [_tokens(rng, 26), _tokens(rng, 37)]
    return [ReqSpec(i, systems[i % 2] + _tokens(rng, rng.randint(3, 12)), rng.randint(4, 18), arrival=2 * i)
            for i in range(8)]


def multi_turn(seed: int = 0, conversations: int = 3, turns: int = 3) -> list[ReqSpec]:
    """Conversations whose every turn resends the whole history plus a new user message."""
    rng = random.Random(seed)
    specs: list[ReqSpec] = []
    for c in range(conversations):
        prompt, parent = _tokens(rng, rng.randint(10, 24)), None
        for _ in range(turns):
            spec = ReqSpec(len(specs), prompt, rng.randint(3, 10), arrival=c, after=parent)
            specs.append(spec)
            prompt = prompt + expected_outputs([spec])[spec.rid] + _tokens(rng, rng.randint(2, 8))
            parent = spec.rid
    return specs


def mixed_repro(seed: int = 3) -> list[ReqSpec]:
    """#39342 in three requests: A decodes while B's prefill is mixed in (and tracked at depth 16), then C
    shares B's first 18 tokens and restores the state B donated at depth 16."""
    rng = random.Random(seed)
    a = ReqSpec(0, _tokens(rng, 6), 24, arrival=0)
    b = ReqSpec(1, _tokens(rng, 19), 3, arrival=3)
    c = ReqSpec(2, b.prompt[:18] + _tokens(rng, 5), 6, arrival=3, after=1)
    return [a, b, c]


WORKLOADS: dict[str, Callable[[int], list[ReqSpec]]] = {
    "shared-prefix": shared_prefix,
    "multi-turn": multi_turn,
    "mixed-repro": lambda seed: mixed_repro(),
    "random": lambda seed: random_workload(random.Random(seed), n_requests=8, follow_ups=3),
}
