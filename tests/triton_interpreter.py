"""Spare Triton's interpreter the work it repeats on every call of a ``@triton.jit`` helper inside a kernel.

The interpreter (triton 3.x, ``triton.runtime.interpreter``) patches ``triton.language`` when a kernel launches
and restores it when the launch ends. Each call of a jit helper from the kernel body (``gdn_gate``, a row
picker, ...) calls ``_patch_lang`` again: an ``inspect.getmembers`` scan of ``tl`` and ``tl.core`` that finds
every builtin already patched by the launch, then re-sets the same replacements in a scope nobody restores.
Under TRITON_INTERPRET=1 that scan was more than half the time of the GDN kernel tests. This wraps
``_patch_lang`` so that a call inside a launch whose patch already covers the helper's language modules
does nothing; anything else (the launch itself, a helper reaching a module the launch did not patch) runs
Triton's own code unchanged. The kernels compute exactly what they computed before: the same replacement
functions are in place either way. :func:`skip_dead_overflow_checks` drops another repeated cost with no effect.
"""

from __future__ import annotations

import contextlib
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


def skip_dead_overflow_checks() -> bool:
    """Turn off the integer-overflow sanitizing of the interpreter's builder where its asserts are off anyway.

    With ``sanitize_overflow`` on (the interpreter's default), every int32 add, sub and mul in a kernel is redone in
    int64 and compared against int32's range, and the result handed to ``device_assert``, which returns without
    looking unless the options say ``debug`` (the interpreter's never do). That dead work was about a third of the
    GDN kernel tests' time. Where ``debug`` is on, the checks stay. False when this Triton has no such builder.
    """
    import dataclasses

    try:
        from triton.runtime import interpreter
    except ImportError:
        return False
    builder = getattr(interpreter, "interpreter_builder", None)
    options = getattr(builder, "options", None)
    if not dataclasses.is_dataclass(options) or not hasattr(options, "sanitize_overflow"):
        return False
    if not options.debug:
        builder.options = dataclasses.replace(options, sanitize_overflow=False)
    return True


@contextlib.contextmanager
def boolean_masks():
    """While active, a load or store mask the interpreter holds as integers is read as ``mask != 0``.

    Triton 3.x's interpreter can carry the ``&`` of a block mask and a scalar comparison (``mask_k & (pos < L)``)
    as an int32 array, which its native load and store refuse (``mask has unsupported dtype``); compiled, the same
    mask is an ``i1``. SGLang's ReplaySSM decode and fused split + conv kernels build such masks, so the parity
    tests that run them on the CPU hold this. Boolean masks pass through untouched.
    """
    import numpy as np
    from triton.runtime import interpreter

    builder = interpreter.InterpreterBuilder
    load, store = builder.create_masked_load, builder.create_masked_store

    def as_bool(mask):
        if mask.data.dtype == np.bool_:
            return mask
        return interpreter.TensorHandle(mask.data != 0, mask.dtype)

    builder.create_masked_load = lambda self, ptrs, mask, *rest: load(self, ptrs, as_bool(mask), *rest)
    builder.create_masked_store = lambda self, ptrs, value, mask, *rest: store(self, ptrs, value, as_bool(mask), *rest)
    try:
        yield
    finally:
        builder.create_masked_load, builder.create_masked_store = load, store
