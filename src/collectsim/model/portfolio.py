"""Customers drawn from segments: who they are and how they habitually pay.

A segment says "about a hundred customers who pay a week late"; the portfolio turns it into a
hundred individual customers, each with its own habitual lateness. Customer ids run through the
segments in file order, and every customer's traits are draws keyed by its id alone, so adding a
policy, or giving another segment a different one, never changes who a customer is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from collectsim.config.scenario import Scenario
from collectsim.model.draws import Purpose, geometric_days, normal_ppf_array, u


@dataclass(frozen=True)
class Customers:
    """One entry per customer, as arrays indexed by customer id."""

    segment: np.ndarray  # int32: index into scenario.portfolio.segments
    habit_days_late: np.ndarray  # float64: mean days late when not chased
    goodwill_baseline: np.ndarray  # float64: starting goodwill
    arrival_day: np.ndarray  # int64: day the customer applies (0 for the opening portfolio)
    credit_report: np.ndarray  # float64: credit-report risk score (standard normal; higher = riskier)

    def __len__(self) -> int:
        return len(self.segment)

    def to_frame(self, scenario: Scenario) -> pd.DataFrame:
        names = np.asarray([s.name for s in scenario.portfolio.segments], dtype=object)
        return pd.DataFrame({"customer": np.arange(len(self)), "segment": names[self.segment],
                             "habit_days_late": self.habit_days_late,
                             "goodwill_baseline": self.goodwill_baseline, "arrival_day": self.arrival_day})


def arrival_days(rate_per_year: float, segment: int, last_day: int, seed: int) -> list[int]:
    """Days on which a segment's new customers apply: a Poisson stream before ``last_day`` (keyed by segment)."""
    if rate_per_year <= 0:
        return []
    days, day, k = [], 0, 0
    mean_gap = 365.0 / rate_per_year
    while True:
        day += int(geometric_days(u(seed, Purpose.ARRIVAL, segment, k), mean_gap))
        k += 1
        if day >= last_day:
            return days
        days.append(day)


def make_customers(scenario: Scenario, seed: int) -> Customers:
    """Draw every customer's traits from its segment (counter-based, keyed by customer id).

    The opening portfolio comes first, segment by segment; customers who apply during the run follow,
    also by segment, so a scenario without arrivals has exactly the customers it always had.

    With an opening book (:meth:`Scenario.with_opening`) the opening customers are the ledger's: their habits
    are the book's (``habit``, fitted from their own invoices, plus ``habit_sd`` times the customer's habit draw:
    a draw from the habit's posterior) instead of the segment's draws, they trade from the as-of day
    (``arrival_day``), and new customers apply only after it. Every other trait is drawn as usual.
    """
    segments = scenario.portfolio.segments
    book = scenario.opening
    start = book.day if book is not None else 0
    last_day = scenario.horizon.measured_end
    arrivals = [[start + d for d in arrival_days(s.new_customers_per_year, i, last_day - start, seed)]
                for i, s in enumerate(segments)]
    seg = np.concatenate([np.repeat(np.arange(len(segments), dtype=np.int32), [s.customers for s in segments]),
                          np.repeat(np.arange(len(segments), dtype=np.int32), [len(a) for a in arrivals])])
    arrival = np.concatenate([np.zeros(sum(s.customers for s in segments), dtype=np.int64),
                              np.asarray([d for a in arrivals for d in a], dtype=np.int64)])
    ids = np.arange(len(seg), dtype=np.int64)
    mean = np.array([s.days_late_mean for s in segments])[seg]
    spread = np.array([s.days_late_sd_between for s in segments])[seg]
    z = normal_ppf_array(u(seed, Purpose.CUSTOMER_HABIT, ids))
    habit = mean + spread * z
    if book is not None:
        habit[:book.customers] = book.habit
        if book.habit_sd is not None:  # the habit is known up to its posterior spread: each run draws one
            habit[:book.customers] += book.habit_sd * z[:book.customers]
        arrival[:book.customers] = start
    baseline = np.array([s.goodwill_baseline for s in segments])[seg]
    accuracy = scenario.behaviour.credit_check_accuracy
    report = accuracy * z + np.sqrt(1.0 - accuracy**2) * normal_ppf_array(u(seed, Purpose.CREDIT_REPORT, ids))
    return Customers(seg, habit, baseline, arrival, report)
