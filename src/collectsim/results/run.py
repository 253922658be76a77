"""What one run produced: metrics, daily series and the audit trail, and how they are written to files.

:func:`~collectsim.engines.simulate.simulate` makes one; :func:`result_of` turns an engine's raw output into one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from collectsim.config.scenario import Scenario
from collectsim.files.exports import write_csv
from collectsim.files.safe_output import remove, write_text
from collectsim.model.portfolio import Customers
from collectsim.results.eventlog import EventKind, EventLog
from collectsim.results.invoices import InvoiceTable
from collectsim.results.letters import event_templates
from collectsim.results.metric_info import money_columns_for_people
from collectsim.results.metrics import Metrics, check_conservation, compute_metrics, daily_series


class EngineOutput(NamedTuple):
    """What an engine returns for one run (before metrics are computed from it)."""

    customers: Customers
    invoices: InvoiceTable
    events: EventLog
    final_goodwill: np.ndarray


#: Money columns of the daily series (besides the aging buckets ar_*), in integer cents.
_DAILY_MONEY = ("credit_sales", "cash", "receivables")


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
                "money_unit": "cents", "metrics": self.metrics.to_dict(),
                "net_value_components": self.metrics.net_value_components}

    def to_json(self) -> str:
        """One JSON object; byte-identical for the same scenario, policy and seed."""
        return json.dumps(self.to_dict(), indent=2)

    def write(self, out_dir: str | Path) -> list[Path]:
        """Write metrics (JSON), daily series, invoices, customers and the event log (CSV) to ``out_dir``.

        The CSV files give money in the scenario's currency, the currency in the column's name (``cash_EUR``,
        ``amount_EUR``); metrics.json keeps integer cents, as its ``money_unit`` says.

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
        currency = self.scenario.economics.currency
        daily = money_columns_for_people(self.daily, [c for c in self.daily.columns if c in _DAILY_MONEY
                                                      or c.startswith("ar_")], currency)
        invoices = money_columns_for_people(invoices, ["amount", "balance"], currency)
        events = money_columns_for_people(events, ["amount", "cost"], currency)
        paths = []
        for name, frame in (("daily", daily), ("invoices", invoices), ("customers", customers), ("events", events)):
            paths.append(write_csv(frame, out / f"{name}.csv"))
        return [write_text(out / "metrics.json", self.to_json() + "\n"), *paths]


def result_of(scenario: Scenario, name: str, seed: int, outputs: EngineOutput, engine: str = "simpy") -> RunResult:
    """A run's result from an engine's (customers, invoices, events, final goodwill): checks and metrics."""
    customers, invoices, events, goodwill = outputs
    check_conservation(invoices, events)
    daily = daily_series(scenario, invoices, events, customers.goodwill_baseline)
    metrics = compute_metrics(scenario, invoices, events, customers.goodwill_baseline, daily, customers.segment)
    return RunResult(scenario, name, seed, metrics, customers, invoices, events, daily, goodwill, engine)
