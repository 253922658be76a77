"""Pictures of a comparison or a sweep, for people who would rather look than read.

Figures are built on ``matplotlib.figure.Figure`` directly (no pyplot state), so they are safe to make
in any process and need no display. Each function returns a Figure; ``save_*`` writes PNGs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from collectsim.experiments.stats import t_quantile
from collectsim.files.safe_output import save_figure
from collectsim.results.metric_info import info
from collectsim.results.metrics import AGING_BUCKETS

if TYPE_CHECKING:
    from collectsim.experiments.compare import Comparison
    from collectsim.experiments.sweep import SweepResult


_MONEY = StrMethodFormatter("{x:,.0f}")


def alt_text(plot: Callable[[Comparison], Figure], comp: Comparison) -> str:
    """A text alternative for the figure ``plot(comp)`` in a report: what it shows, for which policies.

    It is the plot function's own one-line description, so it stays true when the plot changes.
    """
    what = (plot.__doc__ or plot.__name__.replace("_", " ")).strip().splitlines()[0].rstrip(".")
    return f"{what}. Policies: {', '.join(comp.policies)}; portfolio: {comp.scenario}."


def _band(curves: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 95% t-band across replications (rows) of daily curves."""
    mean = curves.mean(axis=0)
    n = curves.shape[0]
    if n < 2:
        return mean, mean, mean
    half = t_quantile(0.975, n - 1) * curves.std(axis=0, ddof=1) / np.sqrt(n)
    return mean, mean - half, mean + half


def _shade_measured(ax, comp: Comparison, label: bool = True) -> None:
    """Grey band over the measured period (before it: warm-up; after it: run-off, no new invoices)."""
    start, stop = comp.measured
    if stop > start:
        ax.axvspan(start, stop, color="grey", alpha=0.08, label="measured period" if label else None)


def cash_curve(comp: Comparison) -> Figure:
    """Cumulative cash collected over the run, mean and 95% band per policy."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    for policy in comp.policies:
        curves = np.vstack([r.cumulative_cash for r in comp.runs(policy)]) / 100.0
        mean, lo, hi = _band(curves)
        days = np.arange(len(mean))
        ax.plot(days, mean, label=policy)
        ax.fill_between(days, lo, hi, alpha=0.25)
    _shade_measured(ax, comp)
    ax.set_xlabel("day")
    ax.set_ylabel(f"cumulative cash ({comp.currency}), invoices of the whole run")
    ax.yaxis.set_major_formatter(_MONEY)
    ax.set_title(f"{comp.scenario}: cash collected ({comp.reps} replications, 95% band)")
    ax.legend()
    fig.tight_layout()
    return fig


def aging_over_time(comp: Comparison) -> Figure:
    """Mean receivables by aging bucket over time, one panel per policy."""
    n = len(comp.policies)
    fig = Figure(figsize=(8, 2.6 * n))
    axes = np.atleast_1d(fig.subplots(n, 1, sharex=True, sharey=True))
    for ax, policy in zip(axes, comp.policies):
        mean = np.mean([r.aging for r in comp.runs(policy)], axis=0) / 100.0
        ax.stackplot(np.arange(mean.shape[1]), mean, labels=AGING_BUCKETS)
        _shade_measured(ax, comp, label=False)
        ax.set_title(policy)
        ax.set_ylabel(comp.currency)
        ax.yaxis.set_major_formatter(_MONEY)
    axes[0].legend(title="days past due", loc="upper right", fontsize="small")
    axes[-1].set_xlabel("day")
    fig.tight_layout()
    return fig


def goodwill_distribution(comp: Comparison) -> Figure:
    """Customers' goodwill at the end of the run, pooled over replications, per policy."""
    fig = Figure(figsize=(8, 4))
    ax = fig.subplots()
    bins = np.linspace(0, 1, 41)
    for policy in comp.policies:
        values = np.concatenate([r.final_goodwill for r in comp.runs(policy)])
        ax.hist(values, bins=bins, histtype="step", linewidth=1.5, label=policy, density=True)
    ax.set_xlabel("goodwill at the end of the run (0-1)")
    ax.set_ylabel("share of customers (density)")
    ax.set_title("Relationship health")
    ax.legend()
    fig.tight_layout()
    return fig


def cash_vs_relationship(comp: Comparison) -> Figure:
    """Each replication as a point: cash collected against mean goodwill, per policy."""
    fig = Figure(figsize=(7, 5))
    ax = fig.subplots()
    for policy in comp.policies:
        x = comp.values(policy, "mean_goodwill")
        y = np.asarray(comp.values(policy, "cash_collected")) / 100.0
        ax.scatter(x, y, label=policy, alpha=0.7)
    ax.set_xlabel("mean goodwill over the measured period")
    ax.set_ylabel(f"cash collected ({comp.currency})")
    ax.yaxis.set_major_formatter(_MONEY)
    ax.set_title("Cash versus relationship, one point per replication")
    ax.legend()
    fig.tight_layout()
    return fig


#: A comparison's figures: file stem -> (title, figure function). Written by ``collectsim compare --out``,
#: shown as the dashboard's tabs.
COMPARISON_FIGURES: dict[str, tuple[str, Callable[[Comparison], Figure]]] = {
    "cash_curve": ("Cash", cash_curve), "aging": ("Aging", aging_over_time),
    "goodwill": ("Goodwill", goodwill_distribution), "cash_vs_goodwill": ("Cash vs relationship", cash_vs_relationship),
}


def comparison_figures() -> dict[str, Callable[[Comparison], Figure]]:
    """File stem -> figure function, as :meth:`Comparison.write` takes them."""
    return {stem: draw for stem, (_title, draw) in COMPARISON_FIGURES.items()}


def save_comparison_plots(comp: Comparison, out: Path) -> list[Path]:
    """The comparison's figures as PNG files in ``out`` (each complete or absent)."""
    return [save_figure(draw(comp), out / f"{stem}.png") for stem, draw in comparison_figures().items()]


def sweep_figure(result: SweepResult, metric: str = "cash_collected") -> Figure:
    """The sweep's plot of ``metric`` (see :func:`sweep_plot`)."""
    return sweep_plot(result.frame, list(result.keys), metric)


def sweep_plot(frame: pd.DataFrame, keys: list[str], metric: str) -> Figure:
    """A heat map of the metric's mean over a two-key grid, or a line with its band for one key."""
    data = frame[frame["metric"] == metric]
    words = info(metric).words
    fig = Figure(figsize=(7, 5))
    ax = fig.subplots()
    if len(keys) == 2:
        table = data.pivot_table(index=keys[0], columns=keys[1], values="mean", sort=False)
        image = ax.imshow(table.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
        ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
        ax.set_xlabel(keys[1])
        ax.set_ylabel(keys[0])
        fig.colorbar(image, ax=ax, label=f"{words} (mean)")
        norm = image.norm
        for (i, j), value in np.ndenumerate(table.to_numpy()):
            colour = "black" if norm(value) > 0.6 else "white"  # readable on light and dark cells
            ax.text(j, i, f"{value:,.3g}", ha="center", va="center", color=colour, fontsize="small")
    else:
        x = np.arange(len(data))
        ax.plot(x, data["mean"], marker="o")
        ax.fill_between(x, data["lo"], data["hi"], alpha=0.25)
        ax.set_xticks(x, [", ".join(str(row[k]) for k in keys) for _, row in data.iterrows()], rotation=30)
        ax.set_xlabel(", ".join(keys))
        ax.set_ylabel(f"{words} (mean, 95% CI)")
    ax.set_title(f"Sweep: {words}")
    fig.tight_layout()
    return fig
