"""Customers' cash position month by month: healthy, strained, distressed, or insolvent.

A customer's ability to pay is not ours to change: it follows its own business, the season, and the
economy. So each customer's liquidity path is drawn once, before the run, from counter-based draws
keyed by (customer, month). It is a monthly Markov chain over 30-day blocks: healthy customers may
become strained (more often in their season's peak and during an economy-wide shock), strained ones
recover or slide into distress, and distressed ones recover, stay, or become insolvent on a day within
that month. Because the path depends on nothing the policy does, every policy meets the same
fortunes (common random numbers). The chain's one rule is :func:`liquidity_step`; both engines walk it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from collectsim.config.scenario import Scenario
from collectsim.model.draws import Purpose, u, uniform_int

HEALTHY, STRAINED, DISTRESSED, INSOLVENT = range(4)
BLOCK_DAYS = 30
NEVER = 1 << 62

__jit__ = ("liquidity_step",)


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


def block_probabilities(scenario: Scenario) -> tuple[np.ndarray, np.ndarray]:
    """The chances, per (30-day block, segment), that a healthy customer becomes strained (season and shock
    applied) and that a strained one slides into distress (shock applied)."""
    segs = scenario.portfolio.segments
    blocks = scenario.horizon.total_days // BLOCK_DAYS + 1

    def per_segment(name: str) -> np.ndarray:
        return np.array([getattr(s, name) for s in segs], dtype=np.float64)

    strain, distress = per_segment("strain_rate"), per_segment("distress_rate")
    amplitude, peak = per_segment("seasonality"), per_segment("seasonal_peak_month")
    economy = scenario.economy
    p_strain = np.empty((blocks, len(segs)))
    p_distress = np.empty((blocks, len(segs)))
    for b in range(blocks):
        start = b * BLOCK_DAYS
        shock = economy.shock and economy.shock_start_day <= start < (
            economy.shock_start_day + economy.shock_months * BLOCK_DAYS)
        boost = economy.shock_strain_multiplier if shock else 1.0
        p_strain[b] = np.minimum(strain * _seasonal_factor(scenario, b, amplitude, peak) * boost, 1.0)
        p_distress[b] = np.minimum(distress * boost, 1.0)
    return p_strain, p_distress


def liquidity_step(state: int, p: float, p_strain: float, recover: float, p_distress: float, undistress: float,
                   p_insolvency: float, insolvency: float) -> int:
    """A customer's state next month, from this month's: the one rule of the chain, for both engines.

    ``p`` is the month's liquidity draw, ``p_insolvency`` its insolvency draw (read only when distressed).
    Insolvent is final.
    """
    if state == HEALTHY:
        return STRAINED if p < p_strain else HEALTHY
    if state == STRAINED:
        if p < recover:
            return HEALTHY
        return DISTRESSED if p < min(recover + p_distress, 1.0) else STRAINED
    if state == DISTRESSED:
        if p < undistress:
            return STRAINED
        return INSOLVENT if p_insolvency < insolvency else DISTRESSED
    return state


def liquidity_paths(scenario: Scenario, seed: int, segment: np.ndarray) -> Liquidity:
    """Draw every customer's monthly liquidity path and insolvency day (:func:`liquidity_step` month by month).

    The draws of every (customer, block) are taken at once (a draw depends on its key alone); the chain then
    walks each customer's months. The compiled engine walks the same chain with the same rule, compiled.
    """
    segs = scenario.portfolio.segments
    n = len(segment)
    p_strain, p_distress = block_probabilities(scenario)
    blocks = p_strain.shape[0]
    recover = [s.strain_recovery_rate for s in segs]
    undistress = [s.distress_recovery_rate for s in segs]
    insolvency = [s.insolvency_rate for s in segs]
    ids = np.arange(n, dtype=np.int64)[:, None]
    block_ids = np.arange(blocks, dtype=np.int64)[None, :]
    liquid = u(seed, Purpose.LIQUIDITY, ids, block_ids).tolist()
    failing = u(seed, Purpose.INSOLVENCY, ids, block_ids).tolist()
    failing_day = u(seed, Purpose.INSOLVENCY_DAY, ids, block_ids).tolist()
    ps, pd_ = p_strain.tolist(), p_distress.tolist()
    states = np.zeros((n, blocks), dtype=np.int8)
    insolvent_day = np.full(n, NEVER, dtype=np.int64)
    for c, s in enumerate(np.asarray(segment).tolist()):
        state, row = HEALTHY, states[c]
        path = [0] * blocks
        for b in range(blocks):
            new = liquidity_step(state, liquid[c][b], ps[b][s], recover[s], pd_[b][s], undistress[s],
                                 failing[c][b], insolvency[s])
            if new == INSOLVENT and state != INSOLVENT:
                insolvent_day[c] = b * BLOCK_DAYS + uniform_int(failing_day[c][b], 0, BLOCK_DAYS - 1)
            path[b] = state = new
        row[:] = path
    return Liquidity(states, insolvent_day)
