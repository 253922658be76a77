"""The engines, behind one contract: which one runs, and what every engine returns.

Two engines run the same model. The SimPy engine (:mod:`collectsim.engines.simpy_engine`) is the reference a reader
learns the model from, and it runs any decision maker. The compiled engine (:mod:`collectsim.engines.compiled_engine`)
runs the rule-based policy through the same rule functions compiled with numba, many runs at once, and gives
the same numbers to the last bit. This is the one place that chooses between them:

- ``"auto"`` (the default everywhere): the compiled engine whenever it covers the decision maker, the SimPy
  engine otherwise (the training desk's trainee), silently;
- ``"compiled"``: the compiled engine, or the SimPy engine with an :class:`EngineFallbackWarning` saying why;
- ``"simpy"``: the reference;
- ``"vectorised"``: the name of an earlier engine, now an alias of ``"compiled"`` for one release (with a
  ``DeprecationWarning``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

from collectsim.config.scenario import Scenario
from collectsim.model.decisions import DecisionMaker
from collectsim.model.rule_policy import RuleBasedPolicy
from collectsim.results.run import EngineOutput

ENGINES = ("auto", "simpy", "compiled", "vectorised")


class EngineFallbackWarning(UserWarning):
    """``engine="compiled"`` was asked for but the SimPy engine ran (the message says why)."""


def supports(decider: DecisionMaker) -> str | None:
    """None if the compiled engine covers this decision maker; otherwise why not (one line)."""
    if type(decider) is not RuleBasedPolicy:
        return f"decision maker {type(decider).__name__} is not the rule-based policy"
    return None


def choose_engine(engine: str, decider: DecisionMaker) -> str:
    """The engine that will run, "simpy" or "compiled" (see the module docstring)."""
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
    if engine == "vectorised":
        warnings.warn('engine "vectorised" is now the compiled engine; ask for "compiled" (the old name goes in '
                      "the next release)", DeprecationWarning, stacklevel=3)
        engine = "compiled"
    if engine == "simpy":
        return "simpy"
    reason = supports(decider)
    if reason is None:
        return "compiled"
    if engine == "compiled":
        warnings.warn(f"compiled engine not used, running the SimPy engine: {reason}", EngineFallbackWarning,
                      stacklevel=3)
    return "simpy"


def run_engine(engine: str, scenario: Scenario, deciders: Sequence[DecisionMaker], seeds: Sequence[int],
               policy_of: Sequence[int] | None = None, finish: Callable[[int, EngineOutput], object] | None = None
               ) -> list:
    """Run seed i under ``deciders[policy_of[i]]`` on ``engine`` ("simpy" or "compiled"), outputs in order.

    With ``finish``, the list holds ``finish(i, output)`` for each run instead (on the compiled engine, called
    on the thread that ran it, so one run's results are worked out while the next runs).
    """
    which = [0] * len(seeds) if policy_of is None else list(policy_of)
    done = (lambda i, out: EngineOutput(*out)) if finish is None else (lambda i, out: finish(i, EngineOutput(*out)))
    if engine == "compiled":
        from collectsim.engines.compiled_engine import run_batch

        return run_batch(scenario, [d.tables for d in deciders], list(seeds), which, finish=done)
    from collectsim.engines.simpy_engine import SimpyEngine

    return [done(i, SimpyEngine(scenario, deciders[k], seed).run()) for i, (k, seed) in enumerate(zip(which, seeds))]
