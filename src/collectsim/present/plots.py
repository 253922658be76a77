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
    from collectsim.experiments.optimise import OptimiseResult
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


def _window(comp: Comparison, runoff: bool) -> tuple[int, int]:
    """The days a figure shows: the measured period, or with ``runoff`` the whole run from its start."""
    start, stop = comp.measured
    length = len(comp.runs(comp.policies[0])[0].cumulative_cash)
    if runoff or stop <= start:
        return 0, length
    return start, min(stop, length)


def _since(running_total: np.ndarray, first: int, stop: int) -> np.ndarray:
    """A running total over days ``first`` to ``stop``, counted from the start of ``first``."""
    return running_total[first:stop] - (running_total[first - 1] if first else 0)


def _shade_measured(ax, comp: Comparison, label: bool = True) -> None:
    """Grey band over the measured period (before it: warm-up; after it: run-off, no new invoices)."""
    start, stop = comp.measured
    if stop > start:
        ax.axvspan(start, stop, color="grey", alpha=0.08, label="measured period" if label else None)


def _days_axis(ax, comp: Comparison, runoff: bool) -> None:
    ax.set_xlabel("day of the run" if runoff else "day of the run (measured period)")
    if runoff:
        _shade_measured(ax, comp, label=False)


def cash_curve(comp: Comparison, runoff: bool = False) -> Figure:
    """Cash collected since the measured period began, mean and 95% band per policy."""
    first, stop = _window(comp, runoff)
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    for policy in comp.policies:
        curves = np.vstack([_since(r.cumulative_cash, first, stop) for r in comp.runs(policy)]) / 100.0
        mean, lo, hi = _band(curves)
        days = np.arange(first, stop)
        ax.plot(days, mean, label=policy)
        ax.fill_between(days, lo, hi, alpha=0.25)
    _days_axis(ax, comp, runoff)
    ax.set_ylabel(f"cash collected ({comp.currency})")
    ax.yaxis.set_major_formatter(_MONEY)
    ax.set_title(f"{comp.scenario}: cash collected ({comp.reps} replications, 95% band)")
    ax.legend()
    fig.tight_layout()
    return fig


def cash_difference(comp: Comparison, runoff: bool = False) -> Figure:
    """Cash collected by the first policy minus the second, day by day, with its paired 95% band."""
    a, b = comp.policies[0], comp.policies[1] if len(comp.policies) > 1 else comp.policies[0]
    first, stop = _window(comp, runoff)
    runs_b = {r.rep: r for r in comp.runs(b)}
    pairs = [(r, runs_b[r.rep]) for r in comp.runs(a) if r.rep in runs_b]
    gaps = np.vstack([_since(ra.cumulative_cash - rb.cumulative_cash, first, stop) for ra, rb in pairs]) / 100.0
    mean, lo, hi = _band(gaps)
    days = np.arange(first, stop)
    fig = Figure(figsize=(8, 4.5))
    ax = fig.subplots()
    ax.plot(days, mean, color="C0", label=f"{a} minus {b}")
    ax.fill_between(days, lo, hi, alpha=0.25, color="C0", label="95% band (paired replications)")
    ax.axhline(0, color="black", linewidth=0.8)
    _days_axis(ax, comp, runoff)
    ax.set_ylabel(f"difference in cash collected ({comp.currency})")
    ax.yaxis.set_major_formatter(_MONEY)
    ax.set_title(f"{a} minus {b}: cash collected, {len(pairs)} paired replications")
    ax.legend()
    fig.tight_layout()
    return fig


def aging_over_time(comp: Comparison, runoff: bool = False) -> Figure:
    """Mean receivables by aging bucket over time as stacked areas, one panel per policy."""
    first, stop = _window(comp, runoff)
    n = len(comp.policies)
    fig = Figure(figsize=(8, 2.6 * n))
    axes = np.atleast_1d(fig.subplots(n, 1, sharex=True, sharey=True))
    for ax, policy in zip(axes, comp.policies):
        mean = np.mean([r.aging[:, first:stop] for r in comp.runs(policy)], axis=0) / 100.0
        ax.stackplot(np.arange(first, stop), mean, labels=AGING_BUCKETS)
        if runoff:
            _shade_measured(ax, comp, label=False)
        ax.set_title(policy)
        ax.set_ylabel(f"receivables ({comp.currency})")
        ax.yaxis.set_major_formatter(_MONEY)
    axes[0].legend(title="days past due", loc="upper right", fontsize="small")
    axes[-1].set_xlabel("day of the run" if runoff else "day of the run (measured period)")
    fig.tight_layout()
    return fig


def relationships_over_time(comp: Comparison, runoff: bool = False) -> Figure:
    """Customers' mean goodwill and the customers lost so far, over time, mean and 95% band per policy."""
    first, stop = _window(comp, runoff)
    fig = Figure(figsize=(8, 6))
    top, bottom = fig.subplots(2, 1, sharex=True)
    days = np.arange(first, stop)
    for policy in comp.policies:
        runs = comp.runs(policy)
        for ax, curves in ((top, np.vstack([r.mean_goodwill[first:stop] for r in runs])),
                           (bottom, np.vstack([_since(r.churned, first, stop) for r in runs]).astype(float))):
            mean, lo, hi = _band(curves)
            ax.plot(days, mean, label=policy)
            ax.fill_between(days, lo, hi, alpha=0.25)
    top.set_ylabel("mean goodwill (0-1)")
    top.set_title(f"{comp.scenario}: relationships ({comp.reps} replications, 95% band)")
    top.legend()
    bottom.set_ylabel("customers lost since the start" if runoff else "customers lost in the measured period")
    _days_axis(bottom, comp, runoff)
    if runoff:
        _shade_measured(top, comp, label=False)
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
    "cash_curve": ("Cash", cash_curve), "cash_difference": ("Cash A - B", cash_difference),
    "aging": ("Aging", aging_over_time), "relationships": ("Goodwill and customers lost", relationships_over_time),
    "cash_vs_goodwill": ("Cash vs relationship", cash_vs_relationship),
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


def optimise_figure(result: OptimiseResult) -> Figure:
    """The optimiser's race: each candidate's objective minus the start's on the same replications, round by round
    (95% paired interval for the best)."""
    history = result.history
    what = info(result.objective)
    unit = what.display_unit(result.currency)
    fig = Figure(figsize=(7, 5))
    ax = fig.subplots()
    ax.axhline(0, color="black", lw=1.5, label=f"start: {result.start.name}")
    for cid, rows in history.groupby("candidate", sort=True):
        if cid in (result.best_candidate, 0):
            continue
        gone = rows["eliminated"].to_numpy()
        x, y = rows["rung"].to_numpy(), rows["vs_start"].map(what.in_display_units).to_numpy()
        ax.plot(x, y, color="0.6", lw=0.8, alpha=0.7, marker=".", ms=5)
        ax.plot(x[gone], y[gone], color="0.6", lw=0, marker="x", ms=5)
    if result.best_candidate != 0:
        rows = history[history["candidate"] == result.best_candidate]
        x = rows["rung"].to_numpy()
        y, lo, hi = (rows[c].map(what.in_display_units).to_numpy() for c in ("vs_start", "vs_start_lo", "vs_start_hi"))
        ax.errorbar(x, y, yerr=[y - lo, hi - y], color="tab:red", marker="o", lw=2, capsize=3,
                    label=f"best: {result.best_policy.name}")
    rungs = history.groupby("rung")["reps"].max()
    ax.set_xticks(rungs.index, [f"{r}\n{n} reps" for r, n in rungs.items()])
    ax.set_xlabel("round of the race (replications per candidate so far)")
    ax.set_ylabel(f"{what.words} minus the start's" + (f" ({unit})" if unit else ""))
    if what.kind in ("money", "value"):
        ax.yaxis.set_major_formatter(_MONEY)
    ax.plot([], [], color="0.6", lw=0.8, marker=".", label="other candidates (x: eliminated)")
    ax.legend(loc="best", fontsize="small")
    better = "higher" if what.better == "higher" else "lower"
    ax.set_title(f"Optimising {result.start.name}: {what.words}, {better} is better")
    fig.tight_layout()
    return fig
