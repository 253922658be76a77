"""One run, or many with different seeds: a scenario, a policy and a seed in, a :class:`RunResult` out."""

from __future__ import annotations

from collections.abc import Sequence

from collectsim.config.policy_spec import PolicySpec
from collectsim.config.scenario import Scenario
from collectsim.engines.base import choose_engine, run_engine
from collectsim.model.decisions import DecisionMaker
from collectsim.model.rule_policy import RuleBasedPolicy
from collectsim.results.run import RunResult, result_of


def simulate(scenario: Scenario, policy: str | PolicySpec | None = None, seed: int | None = None,
             decider: DecisionMaker | None = None, engine: str = "auto") -> RunResult:
    """Run ``scenario`` under a policy (name, spec, or the first one) or any decision maker.

    ``seed`` defaults to the scenario's. The run checks conservation of money for every invoice
    and raises :class:`~collectsim.results.metrics.ConservationError` if it fails. ``engine`` is "auto" (the
    compiled engine for the rule-based policy, SimPy for any other decision maker), "compiled" (falls back
    to SimPy with an :class:`~collectsim.engines.base.EngineFallbackWarning` when it cannot) or "simpy" (the
    reference); the numbers are the same whichever runs. ``result.engine`` records which one ran.
    """
    spec = policy if isinstance(policy, PolicySpec) else scenario.policy(policy)
    seed = scenario.seed if seed is None else int(seed)
    if decider is None:
        decider = RuleBasedPolicy(spec, scenario)
        name = spec.name
    else:
        name = getattr(decider, "name", type(decider).__name__)
    used = choose_engine(engine, decider)
    return result_of(scenario, name, seed, run_engine(used, scenario, [decider], [seed])[0], used)


def simulate_batch(scenario: Scenario, policy: str | PolicySpec | None | Sequence[str | PolicySpec],
                   seeds: list[int], engine: str = "auto",
                   policy_of: Sequence[int] | None = None) -> list[RunResult]:
    """``simulate`` for many seeds, run side by side on the compiled engine (on threads).

    ``policy`` may also be a list of policies; then seed i runs under ``policy[policy_of[i]]``. Each result
    equals ``simulate(scenario, that policy, seed)``.
    """
    many = isinstance(policy, Sequence) and not isinstance(policy, str)
    specs = [p if isinstance(p, PolicySpec) else scenario.policy(p) for p in (policy if many else [policy])]
    deciders = [RuleBasedPolicy(spec, scenario) for spec in specs]
    seeds = [int(s) for s in seeds]
    which = [0] * len(seeds) if policy_of is None else [int(k) for k in policy_of]
    if len(which) != len(seeds) or not all(0 <= k < len(specs) for k in which):
        raise ValueError(f"policy_of must name one of {len(specs)} policies for each of {len(seeds)} seeds")
    used = choose_engine(engine, deciders[0])
    return run_engine(used, scenario, deciders, seeds, which,
                      finish=lambda i, out: result_of(scenario, specs[which[i]].name, seeds[i], out, used))
