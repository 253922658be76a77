"""Saying a difference between two policies in plain words.

"firm-and-fair collects 0.9% more cash than as-is (95% CI 0.7% to 1.1%)". Money is compared in
percent of the second policy's mean (the interval is the paired interval divided by that mean, taken
as fixed); days, points and counts in their own units. When the interval contains zero the verdict
says there is no significant difference and gives the interval of a - b.
"""

from __future__ import annotations

import math

from collectsim.experiments.stats import Interval
from collectsim.results.metric_info import info

_UNIT = {"days": (" days", 1.0, 1), "share": (" percentage points", 100.0, 2), "percent": (" points", 1.0, 2),
         "score": ("", 1.0, 3), "count": ("", 1.0, 1)}


def _fmt(x: float, digits: int) -> str:
    return f"{x:,.{digits}f}"


def verdict(a: str, b: str, metric: str, diff: Interval, mean_b: float, currency: str | None = None) -> str:
    """One sentence comparing policy ``a`` with ``b`` on ``metric`` from the paired interval of a - b.

    Amounts of money are named in ``currency`` (the scenario's, e.g. "EUR"); without it, "(currency)".
    """
    words, kind = info(metric).words, info(metric).kind
    if math.isnan(diff.lo):
        return f"{a} minus {b} in {words}: {diff.mean:,.4g} (one replication: no interval)"
    # Money reads best as a percentage of b, unless b is so small that the change dwarfs it ("7,017% more"):
    # then the amount itself says more.
    relative = (kind in ("money", "value") and mean_b != 0
                and max(abs(diff.lo), abs(diff.hi)) <= abs(mean_b))
    if relative:
        scale, unit, digits = 100.0 / abs(mean_b), "%", 1
    elif kind in ("money", "value"):
        scale, unit = 0.01, f" {currency}" if currency else " (currency)"  # both kinds are held in cents
        digits = 0 if max(abs(diff.lo), abs(diff.hi)) * scale >= 1000 else 2
    else:
        unit, scale, digits = _UNIT[kind]
    mean, lo, hi = diff.mean * scale, diff.lo * scale, diff.hi * scale
    # A percent sign goes on both ends ("2.4% to 3.8%"); a spelled-out unit once, at the end.
    lo_unit = unit if unit == "%" else ""
    if not diff.excludes_zero:
        return (f"no significant difference in {words} between {a} and {b} "
                f"(95% CI of {a} minus {b}: {_fmt(lo, digits)}{lo_unit} to {_fmt(hi, digits)}{unit})")
    up = mean > 0
    size, ci_lo, ci_hi = abs(mean), (lo if up else -hi), (hi if up else -lo)
    ci = f"(95% CI {_fmt(ci_lo, digits)}{lo_unit} to {_fmt(ci_hi, digits)}{unit})"
    if metric == "cash_collected" and relative:
        return f"{a} collects {_fmt(size, digits)}% {'more' if up else 'less'} cash than {b} {ci}"
    if relative:
        return f"{a} has {_fmt(size, digits)}% {'more' if up else 'less'} {words} than {b} {ci}"
    return f"{a} has {words} {_fmt(size, digits)}{unit} {'higher' if up else 'lower'} than {b} {ci}"


def verdict_kind(diff: Interval, metric: str) -> str:
    """The verdict of :func:`verdict` in one word, for policy ``a`` of the interval of a - b: "better" or "worse"
    (by the direction a finance manager prefers for ``metric``), "higher" or "lower" for a metric without one,
    and "not significant" when the interval contains zero (or there is none)."""
    if not diff.excludes_zero:
        return "not significant"
    up = diff.mean > 0
    better = info(metric).better
    if not better:
        return "higher" if up else "lower"
    return "better" if up == (better == "higher") else "worse"
