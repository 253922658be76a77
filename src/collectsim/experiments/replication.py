"""One replication as a unit of work: what a worker process receives and what it sends back.

A worker gets a scenario, a policy and a seed, runs :func:`collectsim.simulate`, and returns a compact
outcome: the metrics, the cumulative cash and receivables-by-aging curves, and every customer's final
goodwill. The full event log stays in the worker, so results travel cheaply between processes or
machines. Everything here is plain data that pickles.

A :class:`Batch` is several replications, of one or several policies, run together by the compiled
engine (side by side on threads); each of its replications is the same as the one a :class:`Task` with
that policy and seed would give.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from collectsim.config.policy_spec import PolicySpec
from collectsim.config.scenario import Scenario
from collectsim.engines.base import ENGINES, choose_engine
from collectsim.engines.simulate import simulate, simulate_batch
from collectsim.model.rule_policy import RuleBasedPolicy
from collectsim.results.eventlog import EventKind
from collectsim.results.metrics import AGING_BUCKETS
from collectsim.results.run import RunResult

#: At most this many customer-runs go in one batch (customers x runs): the memory of a batch grows with it
#: (measured on the baseline's policies: 50,000 peak at 0.96 GB, 100,000 at 1.8 GB), its speed-up hardly
#: beyond a few thousand.
BATCH_CUSTOMER_RUNS = 50_000
#: And at most this many runs, so that a long job's progress bar moves every few seconds (a batch of 64
#: baseline runs takes about 4 s; most of a batch's speed-up is there by 20 runs).
BATCH_RUNS = 64

#: Engines a comparison may ask for (see collectsim.engines.base); the results are the same either way.
ENGINE_CHOICES = ENGINES


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
    mean_goodwill: np.ndarray  # float64, customers' mean goodwill, one value per day
    churned: np.ndarray  # int32, customers lost so far, one value per day


@dataclass(frozen=True)
class Batch:
    """Runs on ``scenario`` as one batch on ``engine``: run i is replication ``reps[i]`` of policy
    ``policies[which[i]]`` (filed under ``labels[which[i]]``) with ``seeds[i]``."""

    scenario: Scenario
    policies: tuple[PolicySpec, ...]
    labels: tuple[str, ...]
    which: tuple[int, ...]
    reps: tuple[int, ...]
    seeds: tuple[int, ...]
    engine: str = "compiled"


def run_task(task: Task) -> Replication:
    """Run one replication (the function executors call in their workers)."""
    return _replication(task.label, task.rep, simulate(task.scenario, task.policy, seed=task.seed))


def run_batch_task(batch: Batch) -> list[Replication]:
    """Run a batch of replications (a function executors call in their workers), in the order of ``reps``."""
    results = simulate_batch(batch.scenario, list(batch.policies), list(batch.seeds), engine=batch.engine,
                             policy_of=batch.which)
    return [_replication(batch.labels[k], rep, result) for k, rep, result in zip(batch.which, batch.reps, results)]


def _replication(label: str, rep: int, result: RunResult) -> Replication:
    daily = result.daily
    aging = np.vstack([daily[f"ar_{b}"].to_numpy() for b in AGING_BUCKETS])
    ev = result.events
    lost = np.bincount(ev["day"][ev["kind"] == EventKind.CHURNED], minlength=len(daily))[:len(daily)]
    return Replication(label, rep, result.seed, result.metrics.to_dict(), np.cumsum(daily["cash"].to_numpy()),
                       aging, np.asarray(result.final_goodwill), daily["mean_goodwill"].to_numpy(dtype=np.float64),
                       np.cumsum(lost).astype(np.int32))


def replication_of(label: str, rep: int, result: RunResult) -> Replication:
    """A finished run as replication ``rep`` of ``label`` (what a worker would send back for it)."""
    return _replication(label, rep, result)


def batches_run(engine: str, scenario: Scenario, policy: PolicySpec, batch_size: int) -> bool:
    """Whether replications of ``policy`` go in batches on the compiled engine (True) or one SimPy run each."""
    if engine not in ENGINE_CHOICES:
        raise ValueError(f"engine {engine!r} is not one of {', '.join(ENGINE_CHOICES)}")
    return choose_engine(engine, RuleBasedPolicy(policy, scenario)) == "compiled"


def work_units(scenario: Scenario, specs_labels, reps: range, seed_of, engine: str, chunks: int) -> list:
    """Tasks or batches for replications ``reps`` of every (policy, label).

    The replications are cut into ``chunks`` parts (one per worker). In each part, the policies that run
    batched share batches -- replication j of every policy side by side -- of at most ``BATCH_RUNS`` runs
    and ``BATCH_CUSTOMER_RUNS`` customer-runs; the others get one task per replication. Units are ordered so
    that every policy advances together (what an interrupted job keeps is paired).
    """
    size = -(-len(reps) // max(1, chunks))
    batched = [(s, lab) for s, lab in specs_labels if batches_run(engine, scenario, s, size * len(specs_labels))]
    single = [(s, lab) for s, lab in specs_labels if (s, lab) not in batched]
    most = max(1, min(BATCH_RUNS, BATCH_CUSTOMER_RUNS // max(1, scenario.portfolio.customer_count)))
    units: list[Task | Batch] = []
    for start in range(reps.start, reps.stop, size):
        part = range(start, min(start + size, reps.stop))
        runs = [(k, j) for j in part for k in range(len(batched))]
        for first in range(0, len(runs), most):
            piece = runs[first:first + most]
            units.append(Batch(scenario, tuple(s for s, _ in batched), tuple(lab for _, lab in batched),
                               tuple(k for k, _ in piece), tuple(j for _, j in piece),
                               tuple(seed_of(j) for _, j in piece)))
        units.extend(Task(scenario, s, lab, j, seed_of(j)) for j in part for s, lab in single)
    return units


def warm_up() -> None:
    """Sent to a new worker process: it imports the engines and loads (or compiles) the compiled one before the
    first real task."""
    from collectsim.engines.compiled_engine import warm_up as warm_compiled

    warm_compiled()


def runs_in(unit: Task | Batch) -> int:
    """How many replications a unit of work holds (for progress bars)."""
    return len(unit.reps) if isinstance(unit, Batch) else 1


def run_unit(unit: Task | Batch) -> list[Replication]:
    """Run a task or a batch; always a list of replications (what executors call)."""
    return run_batch_task(unit) if isinstance(unit, Batch) else [run_task(unit)]
