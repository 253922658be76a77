"""What an early-payment discount really costs, in the language of a treasurer.

Offering "2/10 net 30" means: a customer who pays 20 days sooner may keep 2% of the invoice. Seen from
the customer, giving up the discount is borrowing 98 for 20 days at a cost of 2, which is about 37% a
year; seen from us, it is paying that rate to get our money 20 days earlier. If our cost of capital is
8%, money that cheap to us is not worth buying at 37% - unless the discount also buys something else
(less bad debt, fewer reminders, a happier customer). The functions here give the closed-form half of
that argument; the simulation (``collectsim.experiments.sweep`` over ``discount.rate``) gives the other half.

Conventions: rates are fractions (0.02 is 2%), a year is ``basis`` days (365 unless said otherwise),
interest on the discount is simple unless ``compound=True``. Functions work on floats and NumPy arrays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ArrayLike = float | np.ndarray


def days_gained(window_days: ArrayLike, net_days: ArrayLike) -> ArrayLike:
    """Days by which a customer taking the discount pays sooner than one paying on the net date.

    Use the day customers really pay (terms plus their habitual lateness) as ``net_days`` to see what a
    discount buys from a portfolio that pays late: the days gained are more, so the cost per year is less.
    """
    gained = np.asarray(net_days, dtype=float) - np.asarray(window_days, dtype=float)
    if np.any(gained <= 0):
        raise ValueError("net_days must be later than window_days: a discount must buy at least one day")
    return gained if isinstance(gained, np.ndarray) and gained.ndim else float(gained)


def implied_annual_cost(rate: ArrayLike, window_days: ArrayLike, net_days: ArrayLike, basis: int = 365,
                        compound: bool = False) -> ArrayLike:
    """Annual rate implied by a discount: d/(1-d) x basis/(N-D) (simple) or (1+d/(1-d))^(basis/(N-D))-1.

    ``implied_annual_cost(0.02, 10, 30)`` is 0.3724 (37.2%), the figure quoted for 2/10 net 30.
    """
    d = np.asarray(rate, dtype=float)
    if np.any((d < 0) | (d >= 1)):
        raise ValueError("rate must be at least 0 and below 1 (0.02 means 2%)")
    periods = basis / np.asarray(days_gained(window_days, net_days), dtype=float)
    per_period = d / (1.0 - d)
    out = np.power(1.0 + per_period, periods) - 1.0 if compound else per_period * periods
    return out if out.ndim else float(out)


def break_even_discount(cost_of_capital: ArrayLike, window_days: ArrayLike, net_days: ArrayLike,
                        basis: int = 365) -> ArrayLike:
    """The discount whose implied annual cost (simple) equals the cost of capital.

    Solves d/(1-d) x basis/(N-D) = r for d: with k = r (N-D)/basis, d = k/(1+k). A discount above it costs
    more than borrowing the same money for the same days; below it, it is cheaper finance.
    """
    r = np.asarray(cost_of_capital, dtype=float)
    if np.any(r < 0):
        raise ValueError("cost_of_capital must not be negative")
    k = r * np.asarray(days_gained(window_days, net_days), dtype=float) / basis
    out = k / (1.0 + k)
    return out if out.ndim else float(out)


def terms_table(rates: list[float], window_days: int, net_days: int, cost_of_capital: float,
                paid_day: float | None = None, basis: int = 365) -> pd.DataFrame:
    """One row per discount rate: its implied annual cost, and whether it is dearer than our capital.

    With ``paid_day`` (the day after issue customers actually pay), a second cost column uses the days
    really gained from a late-paying portfolio.
    """
    rows = []
    for rate in rates:
        row = {"discount": rate, "terms": f"{rate * 100:g}/{window_days} net {net_days}",
               "implied_annual_cost": implied_annual_cost(rate, window_days, net_days, basis)}
        if paid_day is not None:
            row["implied_cost_vs_actual_payment"] = implied_annual_cost(rate, window_days, paid_day, basis)
        row["dearer_than_capital"] = row["implied_annual_cost"] > cost_of_capital
        rows.append(row)
    return pd.DataFrame(rows)


def sweep_effects(frame: pd.DataFrame, key: str, gross_margin: float) -> pd.DataFrame:
    """A discount sweep's means as one row per value of ``key``, in a finance manager's units.

    ``frame`` is :attr:`collectsim.SweepResult.frame`. Money in currency units (not cents); the discount's
    cost is also shown as a share of the gross margin earned on the cohort's sales.
    """
    means = frame.pivot_table(index=key, columns="metric", values="mean", sort=False)
    out = pd.DataFrame(index=means.index)
    out["DSO (days)"] = means["dso"]
    out["mean days late"] = means["mean_days_late"]
    out["cash collected"] = means["cash_collected"] / 100.0
    out["discounts granted"] = means["discounts_granted"] / 100.0
    out["discount cost as share of margin"] = means["discounts_granted"] / (means["invoiced"] * gross_margin)
    out["bad-debt ratio"] = means["bad_debt_ratio"]
    out["net value"] = means["net_value"] / 100.0
    out["mean goodwill"] = means["mean_goodwill"]
    out = out.round(4)
    for money in ("cash collected", "discounts granted", "net value"):
        out[money] = out[money].round(0).astype("int64")
    return out
