"""Confidence intervals for replicated runs: Student-t intervals on means and paired differences.

With common random numbers, replication j of every policy sees the same customers, orders and
draws, so the difference between two policies in replication j is mostly the policy's effect.
The t-interval on those paired differences is therefore much narrower than one built from two
independent sets of runs. The t quantile is computed here (regularised incomplete beta by continued
fraction, then bisection) so that the runtime needs no SciPy.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction for the incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """Student-t cumulative distribution function."""
    tail = 0.5 * _incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


@functools.lru_cache(maxsize=1024)
def t_quantile(p: float, df: float) -> float:
    """Student-t quantile (inverse CDF) for 0 < p < 1, by bisection to machine precision.

    Cached: an interval needs the same few quantiles over and over (one per replication count), and each
    costs some hundred evaluations of the CDF.
    """
    if not 0.0 < p < 1.0:
        raise ValueError("p must be in (0, 1)")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class Interval:
    """A mean with its 95% confidence interval; lo and hi are NaN with fewer than two values."""

    mean: float
    lo: float
    hi: float
    n: int

    @property
    def halfwidth(self) -> float:
        return (self.hi - self.lo) / 2.0

    @property
    def excludes_zero(self) -> bool:
        return bool(self.lo > 0.0 or self.hi < 0.0)


def mean_interval(values, level: float = 0.95) -> Interval:
    """Mean and t-interval of independent values (replications)."""
    x = np.asarray(values, dtype=np.float64)
    n = len(x)
    if n == 0:
        return Interval(math.nan, math.nan, math.nan, 0)
    mean = float(x.mean())
    if n < 2:
        return Interval(mean, math.nan, math.nan, n)
    sd = float(x.std(ddof=1))
    if sd == 0.0:
        return Interval(mean, mean, mean, n)
    half = t_quantile(0.5 + level / 2.0, n - 1) * sd / math.sqrt(n)
    return Interval(mean, mean - half, mean + half, n)


def paired_interval(a, b, level: float = 0.95) -> Interval:
    """t-interval on the per-replication differences a - b (common random numbers)."""
    return mean_interval(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64), level)


def paired_halfwidth_floor(a, b, level: float = 0.95) -> float:
    """The least half-width a paired interval of these two samples can have, however their values are paired.

    The sd of a - b is at least |sd(a) - sd(b)| (reached only at correlation 1), so when one policy's metric
    varies much more across replications than the other's, common random numbers cannot narrow the interval
    of their difference below this, however well the random numbers line up.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if len(a) != len(b) or len(a) < 2:
        raise ValueError("need two samples of the same length, at least 2")
    floor_sd = abs(float(a.std(ddof=1)) - float(b.std(ddof=1)))
    return t_quantile(0.5 + level / 2.0, len(a) - 1) * floor_sd / math.sqrt(len(a))


def welch_interval(a, b, level: float = 0.95) -> Interval:
    """Interval on mean(a) - mean(b) for independent samples (Welch); the no-CRN reference."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    diff = float(a.mean() - b.mean())
    se = math.sqrt(va + vb)
    if se == 0.0:
        return Interval(diff, diff, diff, min(len(a), len(b)))
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    half = t_quantile(0.5 + level / 2.0, df) * se
    return Interval(diff, diff - half, diff + half, min(len(a), len(b)))
