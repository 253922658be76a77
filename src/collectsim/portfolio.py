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

from .draws import Purpose, normal_ppf, u
from .scenario import Scenario


@dataclass(frozen=True)
class Customers:
    """One entry per customer, as arrays indexed by customer id."""

    segment: np.ndarray  # int32: index into scenario.portfolio.segments
    habit_days_late: np.ndarray  # float64: mean days late when not chased
    goodwill_baseline: np.ndarray  # float64: starting goodwill

    def __len__(self) -> int:
        return len(self.segment)

    def to_frame(self, scenario: Scenario) -> pd.DataFrame:
        names = np.asarray([s.name for s in scenario.portfolio.segments], dtype=object)
        return pd.DataFrame({"customer": np.arange(len(self)), "segment": names[self.segment],
                             "habit_days_late": self.habit_days_late,
                             "goodwill_baseline": self.goodwill_baseline})


def make_customers(scenario: Scenario, seed: int) -> Customers:
    """Draw every customer's traits from its segment (counter-based, keyed by customer id)."""
    segments = scenario.portfolio.segments
    seg = np.repeat(np.arange(len(segments), dtype=np.int32), [s.customers for s in segments])
    ids = np.arange(len(seg), dtype=np.int64)
    mean = np.array([s.days_late_mean for s in segments])[seg]
    spread = np.array([s.days_late_sd_between for s in segments])[seg]
    habit = mean + spread * normal_ppf(u(seed, Purpose.CUSTOMER_HABIT, ids))
    baseline = np.array([s.goodwill_baseline for s in segments])[seg]
    return Customers(seg, habit, baseline)
