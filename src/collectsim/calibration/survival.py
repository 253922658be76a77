"""Kaplan-Meier estimates for payment times with open (censored) invoices.

An invoice still open on the export date has not been paid *yet*: all we know is that its payment
comes later than the days it has been open. Dropping such invoices would make a portfolio look
faster than it is (the slow payers are the ones still open); counting them as paid on the export
date would also understate. The product-limit (Kaplan-Meier) estimator uses each open invoice for
exactly what it says: at risk up to its censoring time, unknown after.
"""

from __future__ import annotations

import numpy as np


def km_curve(times: np.ndarray, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct event times and the survival just after each (share not yet paid).

    ``times``: days (any real axis, e.g. days past due, negative for early); ``observed``: True
    where the payment was seen, False where the invoice was open (censored) at that time.
    """
    t = np.asarray(times, dtype=np.float64)
    d = np.asarray(observed, dtype=bool)
    if t.size == 0:
        return np.empty(0), np.empty(0)
    order = np.lexsort((~d, t))  # events before censorings at the same time
    t, d = t[order], d[order]
    uniq, first = np.unique(t, return_index=True)
    events = np.add.reduceat(d.astype(np.int64), first)
    at_risk = t.size - first
    factors = 1.0 - events / at_risk
    surv = np.cumprod(factors)
    keep = events > 0
    return uniq[keep], surv[keep]


def km_quantile(times: np.ndarray, observed: np.ndarray, q: float, whole_days: bool = True) -> float:
    """The time by which a share ``q`` of invoices is paid; NaN if the data never get that far.

    With ``whole_days`` the payments of day t are taken as spread evenly over (t - 0.5, t + 0.5), so
    the quantile moves smoothly rather than jumping a whole day when one invoice changes; a fit
    that matches quantiles then lands on the right place between two days.
    """
    t, s = km_curve(times, observed)
    hit = np.nonzero(s <= 1.0 - q + 1e-12)[0]
    if not hit.size:
        return float("nan")
    k = hit[0]
    if not whole_days:
        return float(t[k])
    before = s[k - 1] if k > 0 else 1.0
    drop = before - s[k]
    fraction = (before - (1.0 - q)) / drop if drop > 0 else 1.0
    return float(t[k] - 0.5 + fraction)


def km_survival_at(times: np.ndarray, observed: np.ndarray, at: float) -> float:
    """Share of invoices not yet paid at time ``at`` (1 before the first payment)."""
    t, s = km_curve(times, observed)
    i = np.searchsorted(t, at, side="right")
    return float(s[i - 1]) if i > 0 else 1.0
