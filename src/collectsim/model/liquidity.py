"""Customers' cash position month by month: healthy, strained, distressed, or insolvent.

A customer's ability to pay is not ours to change: it follows its own business, the season, and the
economy. So each customer's liquidity path is drawn once, before the run, from counter-based draws
keyed by (customer, month). It is a monthly Markov chain over 30-day blocks: healthy customers may
become strained (more often in their season's peak and during an economy-wide shock), strained ones
recover or slide into distress, and distressed ones recover, stay, or become insolvent on a day within
that month. Because the path depends on nothing the policy does, every policy meets the same
fortunes (common random numbers), and the whole portfolio is drawn in a few array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from collectsim.config.scenario import Scenario
from collectsim.model.draws import Purpose, u, uniform_int_array

HEALTHY, STRAINED, DISTRESSED, INSOLVENT = range(4)
BLOCK_DAYS = 30
NEVER = 1 << 62


@dataclass(frozen=True)
class Liquidity:
    """States (customers x 30-day blocks) and each customer's insolvency day (NEVER if none)."""

    states: np.ndarray  # int8
    insolvency_day: np.ndarray  # int64

    def state(self, customer: int, day: int) -> int:
        """The customer's state on ``day`` (insolvent from its insolvency day on)."""
        if day >= self.insolvency_day[customer]:
            return INSOLVENT
        state = int(self.states[customer, min(day // BLOCK_DAYS, self.states.shape[1] - 1)])
        return DISTRESSED if state == INSOLVENT else state  # the failing month, before the day itself


def _seasonal_factor(scenario: Scenario, block: int, amplitude: np.ndarray, peak: np.ndarray) -> np.ndarray:
    month = (scenario.horizon.start_date.month - 1 + (block * BLOCK_DAYS + BLOCK_DAYS // 2) * 12 // 365) % 12 + 1
    return 1.0 + amplitude * np.cos(2 * np.pi * (month - peak) / 12.0)


def liquidity_paths(scenario: Scenario, seed: int | np.ndarray, segment: np.ndarray,
                    ids: np.ndarray | None = None) -> Liquidity:
    """Draw every customer's monthly liquidity path and insolvency day (vectorised over customers).

    ``ids`` (default 0, 1, ...) are the customers' ids in the draws; with ``seed`` an array of one seed per
    customer, the customers of several runs are drawn in one call.
    """
    segs = scenario.portfolio.segments
    n = len(segment)
    blocks = scenario.horizon.total_days // BLOCK_DAYS + 1

    def per_customer(name: str) -> np.ndarray:
        return np.array([getattr(s, name) for s in segs], dtype=np.float64)[segment]

    strain, recover = per_customer("strain_rate"), per_customer("strain_recovery_rate")
    distress, undistress = per_customer("distress_rate"), per_customer("distress_recovery_rate")
    insolvency = per_customer("insolvency_rate")
    amplitude, peak = per_customer("seasonality"), per_customer("seasonal_peak_month")
    economy = scenario.economy
    ids = np.arange(n, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
    states = np.zeros((n, blocks), dtype=np.int8)
    insolvent_day = np.full(n, NEVER, dtype=np.int64)
    state = np.full(n, HEALTHY, dtype=np.int8)
    # Every (customer, block) draw at once: a draw depends on its key alone, so this is the same as block by block.
    seeds = np.asarray(seed)[..., None] if np.ndim(seed) else seed
    block_ids = np.arange(blocks, dtype=np.int64)[None, :]
    draws = {purpose: u(seeds, purpose, ids[:, None], block_ids) for purpose in (
        Purpose.LIQUIDITY, Purpose.INSOLVENCY, Purpose.INSOLVENCY_DAY)}
    for b in range(blocks):
        start = b * BLOCK_DAYS
        shock = economy.shock and economy.shock_start_day <= start < (
            economy.shock_start_day + economy.shock_months * BLOCK_DAYS)
        boost = economy.shock_strain_multiplier if shock else 1.0
        p = draws[Purpose.LIQUIDITY][:, b]
        p_strain = np.minimum(strain * _seasonal_factor(scenario, b, amplitude, peak) * boost, 1.0)
        p_distress = np.minimum(distress * boost, 1.0)
        new = state.copy()
        new[(state == HEALTHY) & (p < p_strain)] = STRAINED
        strained = state == STRAINED
        new[strained & (p < recover)] = HEALTHY
        new[strained & (p >= recover) & (p < np.minimum(recover + p_distress, 1.0))] = DISTRESSED
        distressed = state == DISTRESSED
        new[distressed & (p < undistress)] = STRAINED
        fails = distressed & (p >= undistress) & (draws[Purpose.INSOLVENCY][:, b] < insolvency)
        days = start + uniform_int_array(draws[Purpose.INSOLVENCY_DAY][:, b], 0, BLOCK_DAYS - 1)
        first = fails & (insolvent_day == NEVER)
        insolvent_day[first] = days[first]
        new[fails] = INSOLVENT
        state = np.where(state == INSOLVENT, INSOLVENT, new).astype(np.int8)
        states[:, b] = state
    return Liquidity(states, insolvent_day)
