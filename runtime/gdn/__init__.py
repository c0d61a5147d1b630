"""Gated DeltaNet (Qwen3-Next linear attention) kernels beside their plain PyTorch references.

``naive`` (fp32 references), ``gating`` (#12508), ``gated_norm`` (#19434), ``decode`` (packed decode on the
``[slots, HV, V, K]`` pool, #15631/#17981, L2 epsilon per #10466), ``deferred_decode`` (deferred-write decode on
checkpoint + per-slot ring, ReplaySSM-class, #28451), ``verify`` (MTP verify and commit, #23273; also on checkpoint
+ ring), ``prefill`` (chunked prefill, delegated to fla-core), ``bench`` (``python -m runtime.gdn.bench``, with
``bench_deferred`` and ``sglang_peers``: SGLang's own kernels as peers). Measurements and tile choices: ``NOTES.md``.
"""
