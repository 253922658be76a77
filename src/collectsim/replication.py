"""One replication as a unit of work: what a worker process receives and what it sends back.

A worker gets a scenario, a policy and a seed, runs :func:`collectsim.simulate`, and returns a compact
outcome: the metrics, the cumulative cash and receivables-by-aging curves, and every customer's final
goodwill. The full event log stays in the worker, so results travel cheaply between processes or
machines. Everything here is plain data that pickles.

A :class:`Batch` is several replications of one policy run together by the vectorised engine, which is
where that engine is faster (it walks the days once for all of them); each of its replications is the
same as the one a :class:`Task` with that seed would give.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .metrics import AGING_BUCKETS
from .policy_spec import PolicySpec
from .rule_policy import RuleBasedPolicy
from .run import RunResult, pick_engine, simulate, simulate_batch
from .scenario import Scenario

#: Engines a comparison may ask for: "auto" runs batches on the vectorised engine where it reproduces the
#: run and the SimPy engine otherwise (the results are the same either way).
ENGINE_CHOICES = ("auto", "simpy", "vectorised")


@dataclass(frozen=True)
class Task:
    """Run ``policy`` on ``scenario`` with ``seed``; ``label`` and ``rep`` say where the result goes."""

    scenario: Scenario
    policy: PolicySpec
    label: str
    rep: int
    seed: int


@dataclass(frozen=True)
class Replication:
    """What one replication produced, small enough to send between processes."""

    label: str
    rep: int
    seed: int
    metrics: dict[str, float]
    cumulative_cash: np.ndarray  # int64 cents, one value per day
    aging: np.ndarray  # int64 cents, (buckets, days), in the order of metrics.AGING_BUCKETS
    final_goodwill: np.ndarray  # float64, one value per customer


@dataclass(frozen=True)
class Batch:
    """Run ``policy`` on ``scenario`` once per seed, as one batch on ``engine``; ``reps`` say where each goes."""

    scenario: Scenario
    policy: PolicySpec
    label: str
    reps: tuple[int, ...]
    seeds: tuple[int, ...]
    engine: str = "vectorised"


def run_task(task: Task) -> Replication:
    """Run one replication (the function executors call in their workers)."""
    return _replication(task.label, task.rep, simulate(task.scenario, task.policy, seed=task.seed))


def run_batch_task(batch: Batch) -> list[Replication]:
    """Run a batch of replications (a function executors call in their workers), in the order of ``reps``."""
    results = simulate_batch(batch.scenario, batch.policy, list(batch.seeds), engine=batch.engine)
    return [_replication(batch.label, rep, result) for rep, result in zip(batch.reps, results)]


def _replication(label: str, rep: int, result: RunResult) -> Replication:
    daily = result.daily
    aging = np.vstack([daily[f"ar_{b}"].to_numpy() for b in AGING_BUCKETS])
    return Replication(label, rep, result.seed, result.metrics.to_dict(), np.cumsum(daily["cash"].to_numpy()),
                       aging, np.asarray(result.final_goodwill))


def batches_run(engine: str, scenario: Scenario, policy: PolicySpec, batch_size: int) -> bool:
    """Whether replications of ``policy`` go in vectorised batches (True) or one SimPy run each (False).

    "auto" batches when the vectorised engine reproduces the run and a batch is large enough for it to be
    the faster (see ``run.AUTO_VECTORISED_FROM``); "vectorised" always batches (a run it cannot reproduce
    then falls back to SimPy inside the batch, with its warning).
    """
    if engine not in ENGINE_CHOICES:
        raise ValueError(f"engine {engine!r} is not one of {', '.join(ENGINE_CHOICES)}")
    if engine == "simpy":
        return False
    return engine == "vectorised" or pick_engine("auto", scenario, RuleBasedPolicy(policy, scenario),
                                                 batch_size) == "vectorised"


def work_units(scenario: Scenario, specs_labels, reps: range, seed_of, engine: str, chunks: int) -> list:
    """Tasks or batches for replications ``reps`` of every (policy, label).

    Batched policies get ``chunks`` batches each (one per worker), the others one task per replication;
    units are ordered so that every policy advances together (what an interrupted job keeps is paired).
    """
    size = -(-len(reps) // max(1, chunks))
    batched = [(s, lab) for s, lab in specs_labels if batches_run(engine, scenario, s, size)]
    single = [(s, lab) for s, lab in specs_labels if (s, lab) not in batched]
    units: list[Task | Batch] = []
    for start in range(reps.start, reps.stop, size):
        part = range(start, min(start + size, reps.stop))
        units.extend(Batch(scenario, s, lab, tuple(part), tuple(seed_of(j) for j in part)) for s, lab in batched)
        units.extend(Task(scenario, s, lab, j, seed_of(j)) for j in part for s, lab in single)
    return units


def warm_up() -> None:
    """Nothing: sent to a new worker process so that it imports the engines before the first real task."""


def runs_in(unit: Task | Batch) -> int:
    """How many replications a unit of work holds (for progress bars)."""
    return len(unit.reps) if isinstance(unit, Batch) else 1


def run_unit(unit: Task | Batch) -> list[Replication]:
    """Run a task or a batch; always a list of replications (what executors call)."""
    return run_batch_task(unit) if isinstance(unit, Batch) else [run_task(unit)]
