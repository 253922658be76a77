"""One run: a scenario, a policy and a seed in; metrics, daily series and the audit trail out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .decisions import DecisionMaker
from .engines import choose_engine, run_engine
from .eventlog import EventKind, EventLog
from .exports import write_csv
from .invoices import InvoiceTable
from .letters import event_templates
from .metrics import Metrics, check_conservation, compute_metrics, daily_series
from .policy_spec import PolicySpec
from .portfolio import Customers
from .rule_policy import RuleBasedPolicy
from .safe_output import remove, write_text
from .scenario import Scenario


@dataclass(frozen=True)
class RunResult:
    """Everything one run produced. ``metrics`` money is integer cents."""

    scenario: Scenario
    policy: str
    seed: int
    metrics: Metrics
    customers: Customers
    invoices: InvoiceTable
    events: EventLog
    daily: pd.DataFrame
    final_goodwill: np.ndarray
    engine: str = "simpy"  # the engine that actually ran ("simpy" or "compiled")

    def to_dict(self) -> dict:
        return {"scenario": self.scenario.name, "policy": self.policy, "seed": self.seed,
                "money_unit": "cents", "metrics": self.metrics.to_dict()}

    def to_json(self) -> str:
        """One JSON object; byte-identical for the same scenario, policy and seed."""
        return json.dumps(self.to_dict(), indent=2)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write metrics (JSON), daily series, invoices, customers and the event log (CSV) to ``out_dir``.

        Each file is complete or absent; metrics.json is written last (an earlier one is removed first), so
        a folder holding metrics.json holds the whole run.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        remove([out / "metrics.json"])
        customers = self.customers.to_frame(self.scenario)
        customers["final_goodwill"] = self.final_goodwill
        churn = self.events["kind"] == EventKind.CHURNED
        churn_day = np.full(len(customers), -1)
        churn_day[self.events["customer"][churn]] = self.events["day"][churn]
        customers["churn_day"] = churn_day  # -1: still a customer at the end
        names = np.asarray([s.name for s in self.scenario.portfolio.segments], dtype=object)
        invoices = self.invoices.to_frame()
        invoices["segment"] = names[invoices["segment"].to_numpy()]
        events = self.events.to_frame()
        rows = events["invoice"].to_numpy()
        names = invoices["invoice"].to_numpy()
        events.insert(3, "invoice_no", np.where(rows >= 0, names[np.maximum(rows, 0)] if len(names) else "", ""))
        events["template"] = event_templates(self.events, self.invoices)  # the message each action sent
        paths = []
        for name, frame in (("daily", self.daily), ("invoices", invoices), ("customers", customers),
                            ("events", events)):
            paths.append(write_csv(frame, out / f"{name}.csv"))
        return [write_text(out / "metrics.json", self.to_json() + "\n"), *paths]


def pick_engine(engine: str, scenario: Scenario, decider: DecisionMaker, runs: int = 1) -> str:
    """The engine that will run ("simpy" or "compiled"): see :mod:`collectsim.engines`."""
    return choose_engine(engine, decider)


def simulate(scenario: Scenario, policy: str | PolicySpec | None = None, seed: int | None = None,
             decider: DecisionMaker | None = None, engine: str = "auto") -> RunResult:
    """Run ``scenario`` under a policy (name, spec, or the first one) or any decision maker.

    ``seed`` defaults to the scenario's. The run checks conservation of money for every invoice
    and raises :class:`~collectsim.metrics.ConservationError` if it fails. ``engine`` is "auto" (the
    compiled engine for the rule-based policy, SimPy for any other decision maker), "compiled" (falls back
    to SimPy with an :class:`~collectsim.engines.EngineFallbackWarning` when it cannot) or "simpy" (the
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


def result_of(scenario: Scenario, name: str, seed: int, outputs: tuple, engine: str = "simpy") -> RunResult:
    """A run's result from an engine's (customers, invoices, events, final goodwill): checks and metrics."""
    customers, invoices, events, goodwill = outputs
    check_conservation(invoices, events)
    daily = daily_series(scenario, invoices, events, customers.goodwill_baseline)
    metrics = compute_metrics(scenario, invoices, events, customers.goodwill_baseline, daily, customers.segment)
    return RunResult(scenario, name, seed, metrics, customers, invoices, events, daily, goodwill, engine)
