"""numba for the model's functions: the rules written once in plain Python, compiled as they are.

The behaviour rules (:mod:`collectsim.model.behaviour`), the variates (:mod:`collectsim.model.draws`), a customer's
standing on the ledger (:mod:`collectsim.model.standing`), the rule-based policy's choice of target and decision
(:mod:`collectsim.model.policy_tables`), the compiled engine's event loop
(:mod:`collectsim.engines.compiled_kernel`) and the merge of a run's parts (:mod:`collectsim.engines.parts`) each
list in ``__jit__`` the functions to compile (and in ``__jit_entry__``, when not all of them, those that Python
calls directly). :func:`kernels` compiles each of them with ``numba.njit`` from its own source, in a copy of its
module's namespace in which every other listed function is the compiled one, so compiled code calls compiled code
all the way down, while the SimPy engine goes on calling the very same functions as plain Python.

Compiled code is cached on disk (``cache=True``) in a folder named after a digest of these modules' source,
so a changed rule never meets a stale cache: ``$NUMBA_CACHE_DIR`` when it is set, the user's cache folder
otherwise, or a temporary folder when neither can be written (a read-only install).
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import tempfile
import threading
import types
from pathlib import Path

_MODULES = ("model.draws", "model.behaviour", "model.liquidity", "model.standing", "model.policy_tables",
            "engines.borrowed", "engines.compiled_kernel", "engines.parts")
_lock = threading.Lock()
_compiled: types.SimpleNamespace | None = None


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
        return True
    except OSError:
        return False


def cache_dir(digest: str) -> Path:
    """Where compiled code for sources with this digest is cached (created; the first writable candidate)."""
    name = f"collectsim-{digest}"
    candidates = []
    if os.environ.get("NUMBA_CACHE_DIR"):
        candidates.append(Path(os.environ["NUMBA_CACHE_DIR"]) / name)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    candidates.append(Path(base) / "collectsim" / name)
    candidates.append(Path(tempfile.gettempdir()) / f"collectsim-numba-{os.getuid() if hasattr(os, 'getuid') else 0}"
                      / name)
    for folder in candidates:
        if _writable(folder):
            return folder
    return candidates[-1]


def source_digest() -> str:
    """A digest of the compiled modules' source: a new one for any change to a rule or the loop."""
    h = hashlib.sha256()
    for name in _MODULES:
        h.update(inspect.getsource(importlib.import_module(f"collectsim.{name}")).encode())
    return h.hexdigest()[:16]


def kernels() -> types.SimpleNamespace:
    """Every listed function, compiled (lazily: numba compiles, or loads from the cache, at the first call)."""
    global _compiled
    with _lock:
        if _compiled is None:
            _compiled = _compile()
        return _compiled


def _unliteral_dispatcher(dispatcher):
    """The dispatcher, made to compile one version for all constant arguments.

    numba compiles a separate version of a function for each combination of constants it is called with
    from compiled code (``record(..., -1, 0, ...)`` and ``record(..., row, amount, ...)`` would be two), which
    multiplied the compile time of the engine by about ten. Typing calls with the constants' plain types
    gives one version per function.
    """
    from numba.core import types as nbtypes

    base = type(dispatcher)

    class Unliteral(base):
        def get_call_template(self, args, kws):
            return base.get_call_template(self, tuple(nbtypes.unliteral(a) for a in args),
                                          {k: nbtypes.unliteral(v) for k, v in kws.items()})

    dispatcher.__class__ = Unliteral
    return dispatcher


def _compile() -> types.SimpleNamespace:
    import numba
    from numba.core import config

    config.CACHE_DIR = str(cache_dir(source_digest()))
    modules = [importlib.import_module(f"collectsim.{name}") for name in _MODULES]
    dispatchers: dict[str, object] = {}
    namespaces = []
    for module in modules:
        namespace = dict(vars(module))
        namespaces.append(namespace)
        for name in module.__jit__:
            if name in dispatchers:
                raise RuntimeError(f"{module.__name__}.{name}: a compiled function of that name already exists")
            fn = getattr(module, name)
            copy = types.FunctionType(fn.__code__, namespace, fn.__name__, fn.__defaults__, fn.__closure__)
            copy.__qualname__, copy.__module__, copy.__doc__ = fn.__qualname__, fn.__module__, fn.__doc__
            # Functions only ever called from compiled code need no wrapper for calls from Python.
            internal = name not in getattr(module, "__jit_entry__", module.__jit__)
            options = {"no_cpython_wrapper": True, "no_cfunc_wrapper": True} if internal else {}
            dispatchers[name] = _unliteral_dispatcher(numba.njit(cache=True, nogil=True, **options)(copy))
    for namespace in namespaces:
        namespace.update(dispatchers)
    return types.SimpleNamespace(**dispatchers)
