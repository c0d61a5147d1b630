"""Gated DeltaNet (Qwen3-Next linear attention) kernels beside their plain PyTorch references.

``naive`` (fp32 references), ``gating`` (#12508), ``gated_norm`` (#19434), ``decode`` (packed decode on the
``[slots, HV, V, K]`` pool, #15631/#17981, L2 epsilon per #10466), ``verify`` (MTP verify and commit, #23273),
``prefill`` (chunked prefill, delegated to fla-core), ``bench`` (``python -m runtime.gdn.bench``).
Measurements and tile choices: ``NOTES.md``.
"""
