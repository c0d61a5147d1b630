"""Spare Triton's interpreter the work it repeats on every call of a ``@triton.jit`` helper inside a kernel.

The interpreter (triton 3.x, ``triton.runtime.interpreter``) patches ``triton.language`` when a kernel launches
and restores it when the launch ends. Each call of a jit helper from the kernel body (``gdn_gate``, a row
picker, ...) calls ``_patch_lang`` again: an ``inspect.getmembers`` scan of ``tl`` and ``tl.core`` that finds
every builtin already patched by the launch, then re-sets the same replacements in a scope nobody restores.
Under TRITON_INTERPRET=1 that scan was more than half the time of the GDN kernel tests. This wraps
``_patch_lang`` so that a call inside a launch whose patch already covers the helper's language modules
does nothing; anything else (the launch itself, a helper reaching a module the launch did not patch) runs
Triton's own code unchanged. The kernels compute exactly what they computed before: the same replacement
functions are in place either way.
"""

from __future__ import annotations

import inspect

_MARK = "_dossier_skips_nested_repatch"


def skip_nested_repatch() -> bool:
    """Install the wrapper (once); False when this Triton has no interpreter of the expected shape."""
    try:
        import triton.language as tl
        from triton.runtime import interpreter
    except ImportError:
        return False
    original = getattr(interpreter, "_patch_lang", None)
    scope_cls = getattr(interpreter, "_LangPatchScope", None)
    if original is None or scope_cls is None or not hasattr(scope_cls, "restore"):
        return False
    if getattr(original, _MARK, False):
        return True
    launch: list[set[int]] = []  # the language modules patched since the launch in progress began

    def langs(fn) -> set[int]:
        return {id(v) for v in fn.__globals__.values() if inspect.ismodule(v) and v in (tl, tl.core)}

    def patch_lang(fn):
        if launch:  # a helper called from a kernel body (launches never nest)
            if langs(fn) <= launch[0]:
                return scope_cls()  # all in place already; nothing to restore
            launch[0] |= langs(fn)  # e.g. tl.sum reaches tl.core, which a kernel importing tl alone leaves
            return original(fn)
        scope = original(fn)  # a launch: GridExecutor restores this scope when the grid has run
        launch.append(langs(fn))
        restore = scope.restore

        def restore_and_forget() -> None:
            launch.clear()
            restore()

        scope.restore = restore_and_forget
        return scope

    setattr(patch_lang, _MARK, True)
    interpreter._patch_lang = patch_lang
    return True
