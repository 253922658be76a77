"""Pictures of one run: cash by month, receivables by age, goodwill over time.

A single run is one possible year, not a forecast; these pictures are for getting to know the model
(the quick-start notebook). Comparisons of policies have their own figures in :mod:`collectsim.present.plots`.
Figures are built without pyplot; ``figure_png`` turns one into PNG bytes for any display.
"""

from __future__ import annotations

import io

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from collectsim.results.metrics import AGING_BUCKETS
from collectsim.results.run import RunResult

_MONEY = StrMethodFormatter("{x:,.0f}")


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """A Figure as PNG bytes (for IPython.display.Image or an ipywidgets Image)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _measured(ax, result: RunResult) -> None:
    h = result.scenario.horizon
    ax.axvspan(h.measured_start, h.measured_end, color="grey", alpha=0.08, label="measured period")


def cash_and_sales(result: RunResult) -> Figure:
    """Credit sales and cash collected per 30 days: cash lags sales by the payment delay."""
    daily = result.daily
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    n = len(daily) // 30 * 30
    for column, label in (("credit_sales", "invoiced"), ("cash", "cash collected")):
        per_month = daily[column].to_numpy()[:n].reshape(-1, 30).sum(axis=1) / 100.0
        ax.step(np.arange(0, n, 30), per_month, where="post", label=label)
    _measured(ax, result)
    ax.set_xlabel("day")
    ax.set_ylabel(f"per 30 days ({result.scenario.economics.currency})")
    ax.yaxis.set_major_formatter(_MONEY)
    ax.set_title(f"{result.policy}: sales and cash")
    ax.legend()
    fig.tight_layout()
    return fig


def aging(result: RunResult) -> Figure:
    """Receivables by days past due, stacked, day by day."""
    daily = result.daily
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    ax.stackplot(daily["day"], *[daily[f"ar_{b}"] / 100.0 for b in AGING_BUCKETS], labels=AGING_BUCKETS)
    _measured(ax, result)
    ax.set_xlabel("day")
    ax.set_ylabel(result.scenario.economics.currency)
    ax.yaxis.set_major_formatter(_MONEY)
    ax.set_title(f"{result.policy}: receivables by days past due")
    ax.legend(title="days past due", fontsize="small")
    fig.tight_layout()
    return fig


def goodwill(result: RunResult) -> Figure:
    """Mean customer goodwill (relationship health, 0-1) day by day."""
    daily = result.daily
    fig = Figure(figsize=(8, 3))
    ax = fig.subplots()
    ax.plot(daily["day"], daily["mean_goodwill"])
    _measured(ax, result)
    ax.set_xlabel("day")
    ax.set_ylabel("mean goodwill (0-1)")
    ax.set_title(f"{result.policy}: relationship health")
    fig.tight_layout()
    return fig
