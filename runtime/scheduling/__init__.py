"""An exact, runnable model of how SGLang 0.5.23 caches GatedDeltaNet/Mamba state for prefix reuse.

``config`` (knobs and start-up rules), ``model`` (tiny hybrid model and token-by-token oracle),
``track`` (where extra_buffer snapshots), ``pools`` / ``radix`` / ``request`` / ``batch`` / ``runner`` /
``scheduler`` (the simulated server), ``invariants`` (what must hold after every step), ``findings`` (the
0.5.23 bugs the model finds and their fix variants), ``workload`` and ``report`` (what
``python -m runtime.scheduling`` prints). Its centre in SGLang is the radix cache's Mamba component,
``sglang/srt/mem_cache/unified_cache/components/mamba.py: MambaComponent``; each module cites what it follows,
and ``FIDELITY.md`` tabulates every behaviour with its SGLang function and the test that checks it.
"""
