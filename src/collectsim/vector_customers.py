"""Customers in the vectorised engine: goodwill, its recovery, the churn hazard and liquidity, for arrays.

A mixin of :class:`collectsim.vector_engine.VectorEngine`. A customer's goodwill and integrated churn
hazard are brought up to date only when the customer is touched, exactly as ``SimpyEngine._advance``
does, using the SimPy engine's per-event arithmetic: the recovery factor ``math.exp(-days / tau)`` comes
from a table by whole-day gap, and the hazard's exponential-integral series stops, element by element,
at the term the scalar loop stops at.
"""

from __future__ import annotations

import numpy as np

from .liquidity import BLOCK_DAYS, DISTRESSED, INSOLVENT
from .vector_policy import NEVER

_SERIES_BLOCKS = (16, 24)  # terms per block (40 in all): most elements stop within the first 16


class CustomerState:
    """Goodwill, churn and liquidity of many customers at once (state arrays live on the engine)."""

    def _hazard_integral(self, h0, gap, days):
        """``behaviour.churn_hazard_integral``'s per-event path, element-wise (math.exp via the decay table).

        The series stops per element at the term that can no longer change its sum, as the scalar path does.
        """
        slope, tau = self._b.churn_goodwill_slope, self._tau
        d = slope * gap
        out_series = np.zeros(len(d))
        idx = np.flatnonzero(d != 0.0)
        if len(idx):
            dd = d[idx]
            out_series[idx] = self._series(dd, dd * self._decay[days[idx]])
        return np.where(d == 0.0, h0 * days, h0 * (days + tau * out_series))

    def _series(self, d: np.ndarray, w: np.ndarray) -> np.ndarray:
        """The scalar loop's ``sum_k (d^k - w^k) / k!``, stopped per element where it stops, a block of terms at once.

        Each block of terms is a matrix (term k by element): the powers by ``multiply.accumulate`` and the partial
        sums by ``add.accumulate`` repeat the loop's operations in the loop's order, so every partial sum is the
        loop's to the bit; each element then takes the partial sum at its first negligible term.
        """
        k_fact = self._k_fact_column
        total = len(k_fact)
        out = np.empty(len(d))
        todo = np.arange(len(d))
        d_pow, w_pow, series = np.ones(len(d)), np.ones(len(d)), np.zeros(len(d))
        k0 = 0
        for width in _SERIES_BLOCKS:
            k1 = min(k0 + width, total)
            dk = np.empty((k1 - k0, len(d)))
            dk[:] = d
            dk[0] = d_pow * d
            np.multiply.accumulate(dk, axis=0, out=dk)
            wk = np.empty_like(dk)
            wk[:] = w
            wk[0] = w_pow * w
            np.multiply.accumulate(wk, axis=0, out=wk)
            term = (dk - wk) / k_fact[k0:k1]
            sums = term.copy()
            sums[0] = series + term[0]
            np.add.accumulate(sums, axis=0, out=sums)
            done = np.abs(term) < 1e-17 * np.abs(sums)  # the scalar path's -tol < term < tol, tol >= 0
            if k1 == total:  # the loop ran out of terms: the last partial sum
                done[-1] = True
            hit = done.any(axis=0)
            first = done.argmax(axis=0)
            cols = np.flatnonzero(hit)
            out[todo[cols]] = sums[first[cols], cols]
            if hit.all():
                break
            keep = ~hit
            todo, d, w = todo[keep], d[keep], w[keep]
            d_pow, w_pow, series = dk[-1, keep], wk[-1, keep], sums[-1, keep]
            k0 = k1
        return out

    def _advance(self, cx: np.ndarray, day: int) -> None:
        """``SimpyEngine._advance`` for distinct customers ``cx``."""
        cx = cx[day > self.anchor[cx]]
        if len(cx) == 0:
            return
        last = self.anchor[cx]
        g = self.goodwill[cx]
        base = self.baseline[cx]
        gap = base - g
        days = day - last
        h0 = self.h0[cx]
        live = (h0 > 0) & (self.churn_day[cx] == NEVER)
        if live.any():
            lc, lgap, ldays, lh0 = cx[live], gap[live], days[live], h0[live]
            already = self.hazard[lc]
            total = already + self._hazard_integral(lh0, lgap, ldays)
            thr = self.threshold[lc]
            hit = total >= thr
            if hit.any():
                hc, ha, hg, hh0, ht = lc[hit], already[hit], lgap[hit], lh0[hit], thr[hit]
                self.churn_day[hc] = last[live][hit] + self._churn_days(ha, hg, hh0, ht, ldays[hit])
            self.hazard[lc] = total
        self.goodwill[cx] = base + (g - base) * self._decay[days]
        self.anchor[cx] = day

    def _churn_days(self, already, gap, h0, threshold, spans) -> np.ndarray:
        """The SimPy engine's bisection for the first whole day the integrated hazard reaches the threshold.

        Element-wise the same integrals at the same days: short spans evaluate every day of the span in one
        call and bisect over that table; long ones (the end of the run) bisect in lockstep.
        """
        lo = np.zeros(len(spans), dtype=np.int64)
        hi = spans.copy()
        if spans.sum() <= 4096:
            owner = np.repeat(np.arange(len(spans)), spans)
            starts = np.cumsum(spans) - spans
            at = np.arange(len(owner)) - starts[owner] + 1
            values = already[owner] + self._hazard_integral(h0[owner], gap[owner], at)
            busy = np.flatnonzero(hi - lo > 1)
            while len(busy):
                mid = (lo[busy] + hi[busy]) // 2
                reached = values[starts[busy] + mid - 1] >= threshold[busy]
                hi[busy[reached]] = mid[reached]
                lo[busy[~reached]] = mid[~reached]
                busy = busy[hi[busy] - lo[busy] > 1]
            return hi
        busy = np.flatnonzero(hi - lo > 1)
        while len(busy):
            mid = (lo[busy] + hi[busy]) // 2
            reached = already[busy] + self._hazard_integral(h0[busy], gap[busy], mid) >= threshold[busy]
            hi[busy[reached]] = mid[reached]
            lo[busy[~reached]] = mid[~reached]
            busy = busy[hi[busy] - lo[busy] > 1]
        return hi

    def _goodwill_on(self, cx: np.ndarray, day: int) -> np.ndarray:
        self._advance(cx, day)
        return self.goodwill[cx]

    def _change_goodwill(self, cx: np.ndarray, change, day: int) -> tuple[np.ndarray, np.ndarray]:
        before = self._goodwill_on(cx, day)
        after = np.clip(before + change * self._seg["goodwill_sensitivity"][self.cseg[cx]], 0.0, 1.0)
        self.goodwill[cx] = after
        return before, after

    def _liquidity_on(self, cx: np.ndarray, day: int) -> np.ndarray:
        state = self.states[cx, min(day // BLOCK_DAYS, self._last_block)]
        state = np.where(state == INSOLVENT, DISTRESSED, state)
        return np.where(day >= self.insolvent_day[cx], INSOLVENT, state)
