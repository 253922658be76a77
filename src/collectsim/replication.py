"""One replication as a unit of work: what a worker process receives and what it sends back.

A worker gets a scenario, a policy and a seed, runs :func:`collectsim.simulate`, and returns a compact
outcome: the metrics, the cumulative cash and receivables-by-aging curves, and every customer's final
goodwill. The full event log stays in the worker, so results travel cheaply between processes or
machines. Everything here is plain data that pickles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .metrics import AGING_BUCKETS
from .policy_spec import PolicySpec
from .run import simulate
from .scenario import Scenario


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


def run_task(task: Task) -> Replication:
    """Run one replication (the function executors call in their workers)."""
    result = simulate(task.scenario, task.policy, seed=task.seed)
    daily = result.daily
    aging = np.vstack([daily[f"ar_{b}"].to_numpy() for b in AGING_BUCKETS])
    return Replication(task.label, task.rep, task.seed, result.metrics.to_dict(),
                       np.cumsum(daily["cash"].to_numpy()), aging, np.asarray(result.final_goodwill))
