"""Cash forecast from the open ledger: what comes in week by week under each policy, with bands.

``forecast(ledger, scenario, policies, weeks=13, replications=200)`` starts the scenario from the ledger's open
book (:func:`collectsim.calibration.opening.from_open_ledger`) and runs each policy ``replications`` times (common
random numbers: replication j of every policy has the same seed). Each run is one possible next quarter; the
forecast is their spread:

- **cash** per week (week 1 is the 7 days after the ledger's as-of date, whatever the weekday) is every
  payment, fee, agency and court collection of that week, split into cash **from the open ledger** (invoices
  issued before the as-of date) and **from new sales** (invoices the order process issues from it on);
- **bands**: 80% (10th to 90th percentile) and 95% (2.5th to 97.5th) of the replications' weekly cash, and the
  expected value (their mean);
- **receivables** at each week's end (principal still open), and **DSO** at each week's end by the simple method
  over the last 91 days: receivables / credit sales of the 91 days before x 91, those sales being the ledger's
  own before the as-of date and the simulated ones after it.

The bands are the model's spread (which customer pays when, who fails, who is moved by a reminder) for a
scenario taken as right; the uncertainty of the fitted parameters themselves is not in them.

A **backtest** (:func:`backtest`) cuts a ledger at earlier dates (:func:`collectsim.calibration.opening.cut_ledger`),
forecasts from each cut and counts how often the actual cash of the following weeks falls inside the 80% band.
It measures cash as a ledger shows it: an invoice's amount on the day it was settled (by payment, agency or
court), so the simulated runs are read the same way (:func:`ledger_cash`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from collectsim.calibration.ledger import Ledger
from collectsim.calibration.opening import cut_ledger, first_day, from_open_ledger
from collectsim.config.policy_spec import PolicySpec
from collectsim.config.scenario import Scenario
from collectsim.engines.simulate import simulate_batch
from collectsim.experiments.executors import run_all
from collectsim.model.draws import derive_seed
from collectsim.results.eventlog import BALANCE_REDUCING, EventKind
from collectsim.results.metrics import CASH_KINDS, is_kind
from collectsim.results.run import RunResult

#: Days of sales DSO is measured over.
DSO_DAYS = 91
#: Runs per batch of the compiled engine (a progress bar step).
_BATCH = 32
_SETTLING_CASH = (EventKind.PAYMENT, EventKind.AGENCY_COLLECTED, EventKind.LEGAL_COLLECTED)
_LOSSES = (EventKind.WRITE_OFF, EventKind.INSOLVENCY_LOSS)
#: Percentiles of the bands: 95% low, 80% low, 80% high, 95% high.
BANDS = (2.5, 10.0, 90.0, 97.5)


@dataclass(frozen=True)
class Forecast:
    """Weekly cash under each policy: ``frame`` one row per (policy, week); ``runs`` the replications' values."""

    frame: pd.DataFrame
    runs: pd.DataFrame
    as_of: dt.date
    weeks: int
    currency: str
    policies: tuple[str, ...]
    replications: int
    opening_invoices: int
    opening_balance: float  # currency units
    notes: tuple[str, ...] = field(default=())

    def total(self, policy: str, weeks: int = 4) -> tuple[float, float, float]:
        """(expected, 80% low, 80% high) cash over the first ``weeks`` weeks under ``policy`` (currency units)."""
        runs = self.runs[(self.runs["policy"] == policy) & (self.runs["week"] <= weeks)]
        sums = runs.groupby("replication")["cash"].sum().to_numpy()
        return float(sums.mean()), float(np.percentile(sums, 10)), float(np.percentile(sums, 90))

    def summary(self, weeks: int = 4) -> str:
        """Plain sentences: under each policy, the cash expected over the first ``weeks`` weeks and its 80% band."""
        weeks = min(weeks, self.weeks)
        lines = [f"Forecast from the ledger as of {self.as_of}: {self.opening_invoices} open invoices, "
                 f"{_money(self.opening_balance)} {self.currency} open; {self.replications} replications per policy."]
        for p in self.policies:
            mean, lo, hi = self.total(p, weeks)
            lines.append(f"under {p}, {_money(mean)} {self.currency} expected in the next {weeks} weeks "
                         f"({_money(lo)} to {_money(hi)}, 80% band)")
        for p in self.policies:
            mean, lo, hi = self.total(p, self.weeks)
            last = self.frame[(self.frame["policy"] == p)].iloc[-1]
            lines.append(f"under {p}, {_money(mean)} {self.currency} in {self.weeks} weeks ({_money(lo)} to "
                         f"{_money(hi)}); receivables {_money(last[self._col('receivables_end')])} "
                         f"{self.currency} and DSO {last['dso_days']:.0f} days at the end")
        return "\n".join(lines + list(self.notes))

    def _col(self, name: str) -> str:
        return f"{name}_{self.currency}"

    def to_csv(self, path: str | Path) -> Path:
        from collectsim.files.exports import write_csv
        return write_csv(self.frame, path)

    def fan_chart(self):
        """A matplotlib Figure: weekly cash per policy, expected line with 80% and 95% bands."""
        from matplotlib.figure import Figure
        from matplotlib.ticker import StrMethodFormatter

        fig = Figure(figsize=(9, 4.5))
        ax = fig.subplots()
        colours = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")
        c = self._col
        for k, p in enumerate(self.policies):
            f = self.frame[self.frame["policy"] == p]
            x = pd.to_datetime(f["week_end"]).to_numpy()
            colour = colours[k % len(colours)]
            ax.fill_between(x, f[c("cash_low95")], f[c("cash_high95")], color=colour, alpha=0.12, linewidth=0)
            ax.fill_between(x, f[c("cash_low80")], f[c("cash_high80")], color=colour, alpha=0.25, linewidth=0)
            ax.plot(x, f[c("cash_expected")], color=colour, marker="o", markersize=3,
                    label=f"{p}: expected (bands 80%, 95%)")
        ax.set_xlabel("week ending (date)")
        ax.set_ylabel(f"cash collected per week ({self.currency})")
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.set_ylim(bottom=0)
        ax.set_title(f"Cash forecast from the ledger as of {self.as_of}")
        ax.legend(fontsize="small")
        fig.autofmt_xdate()
        fig.tight_layout()
        return fig

    def write_png(self, path: str | Path) -> Path:
        from collectsim.files.safe_output import atomic
        path = Path(path)
        with atomic(path) as tmp:
            self.fan_chart().savefig(tmp, format="png", dpi=100)
        return path


def _money(x: float) -> str:
    """1.24M, 310k, 950."""
    a = abs(x)
    if a >= 1e6:
        return f"{x / 1e6:.2f}M"
    if a >= 1e4:
        return f"{x / 1e3:.0f}k"
    return f"{x:,.0f}"


# --- what one run says ------------------------------------------------------------------------------------------

def weekly_cash(result: RunResult, start: int, weeks: int) -> tuple[np.ndarray, np.ndarray]:
    """(cash from the open ledger, cash from new sales) per week from day ``start``, in cents."""
    ev, inv = result.events, result.invoices
    kind, day, row = ev["kind"], ev["day"], ev["invoice"]
    keep = is_kind(kind, CASH_KINDS) & (day >= start) & (day < start + 7 * weeks) & (row >= 0)
    week = (day[keep] - start) // 7
    opening = inv["issue_day"][row[keep]] < start
    amount = ev["amount"][keep].astype(np.float64)
    return (np.bincount(week[opening], amount[opening], minlength=weeks)[:weeks],
            np.bincount(week[~opening], amount[~opening], minlength=weeks)[:weeks])


def ledger_cash(result: RunResult, start: int, weeks: int) -> np.ndarray:
    """Cash per week as a ledger shows it (cents): each invoice's amount on the day its balance reached zero, when
    money was collected for it and none of it was lost (as :func:`collectsim.calibration.history.run_ledger`)."""
    ev, inv = result.events, result.invoices
    kind, day, row = ev["kind"], ev["day"], ev["invoice"]
    n = len(inv)
    on = row >= 0
    reducing = is_kind(kind, BALANCE_REDUCING) & on
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, row[reducing], day[reducing])
    cash = np.zeros(n, dtype=bool)
    cash[row[is_kind(kind, _SETTLING_CASH) & on]] = True
    lost = np.zeros(n, dtype=bool)
    lost[row[is_kind(kind, _LOSSES) & on]] = True
    paid = (inv["balance"] == 0) & cash & ~lost & (last >= start) & (last < start + 7 * weeks)
    return np.bincount((last[paid] - start) // 7, inv["amount"][paid].astype(np.float64), minlength=weeks)[:weeks]


def _week_ends(result: RunResult, start: int, weeks: int) -> tuple[np.ndarray, np.ndarray]:
    """(receivables at each week's end, credit sales per day from ``start``) in cents."""
    daily = result.daily
    ar = daily["receivables"].to_numpy()
    ends = start + 7 * np.arange(1, weeks + 1) - 1
    return ar[ends].astype(np.float64), daily["credit_sales"].to_numpy()[start:start + 7 * weeks].astype(np.float64)


def history_sales(ledger: Ledger, as_of: dt.date, days: int = DSO_DAYS) -> np.ndarray:
    """The ledger's credit sales (cents) on each of the ``days`` days before ``as_of``, oldest first."""
    f = ledger.frame
    offset = (pd.Timestamp(as_of) - f["issue_date"]).dt.days.to_numpy()
    keep = (offset >= 1) & (offset <= days)
    return np.bincount(days - offset[keep], f["amount_cents"].to_numpy(dtype=np.float64)[keep], minlength=days)


# --- the forecast ----------------------------------------------------------------------------------------------

def forecast(ledger: Ledger, scenario: Scenario, policies: Sequence[str | PolicySpec] | None = None, weeks: int = 13,
             replications: int = 200, as_of: dt.date | None = None, seed: int | None = None,
             segments: Mapping[str, str] | None = None, progress: bool = False,
             past_policy: str | PolicySpec | None = None) -> Forecast:
    """Weekly cash expected from ``ledger``'s open book and from new sales under each policy (module docstring).

    ``policies``: names or specs (default: every policy of the scenario); ``as_of`` the ledger's date (default
    the ledger's export date; the forecast starts the day after); ``segments`` maps customer ids to segments
    (default: calibration's); ``past_policy`` is the firm's practice before it (see ``from_open_ledger``).
    """
    if weeks < 1 or replications < 2:
        raise ValueError("a forecast needs at least 1 week and 2 replications")
    as_of = ledger.as_of if as_of is None else as_of
    seed = scenario.seed if seed is None else int(seed)
    specs = [p if isinstance(p, PolicySpec) else scenario.policy(p)
             for p in (policies if policies else [p.name for p in scenario.policies])]
    scn = from_open_ledger(scenario, ledger, as_of, segments=segments, measured_days=7 * weeks, runoff_days=0,
                           past_policy=past_policy)
    book = scn.opening
    start = book.day
    outcomes = _run(scn, specs, replications, seed, progress, lambda r: _outcome(r, start, weeks))
    past = history_sales(ledger, first_day(as_of))
    currency = scenario.economics.currency
    rows, runs = [], []
    for k, spec in enumerate(specs):
        opening = np.stack([outcomes[(k, j)][0] for j in range(replications)]) / 100.0
        new = np.stack([outcomes[(k, j)][1] for j in range(replications)]) / 100.0
        receivables = np.stack([outcomes[(k, j)][2] for j in range(replications)]) / 100.0
        sales = np.stack([outcomes[(k, j)][3] for j in range(replications)])
        dso = _dso(receivables * 100.0, sales, past, weeks)
        cash = opening + new
        bands = np.percentile(cash, BANDS, axis=0)
        ar_bands = np.percentile(receivables, (10.0, 90.0), axis=0)
        for w in range(weeks):
            first = first_day(as_of) + dt.timedelta(days=7 * w)
            rows.append({
                "policy": spec.name, "week": w + 1, "week_start": first.isoformat(),
                "week_end": (first + dt.timedelta(days=6)).isoformat(),
                f"cash_expected_{currency}": cash[:, w].mean(),
                f"cash_low80_{currency}": bands[1, w], f"cash_high80_{currency}": bands[2, w],
                f"cash_low95_{currency}": bands[0, w], f"cash_high95_{currency}": bands[3, w],
                f"from_open_ledger_{currency}": opening[:, w].mean(), f"from_new_sales_{currency}": new[:, w].mean(),
                f"receivables_end_{currency}": receivables[:, w].mean(),
                f"receivables_low80_{currency}": ar_bands[0, w], f"receivables_high80_{currency}": ar_bands[1, w],
                "dso_days": float(dso[:, w].mean()),
            })
        for j in range(replications):
            for w in range(weeks):
                runs.append((spec.name, j, w + 1, cash[j, w], opening[j, w], new[j, w], receivables[j, w],
                             outcomes[(k, j)][4][w] / 100.0))
    frame = pd.DataFrame(rows)
    for c in frame.columns:
        if c.endswith(f"_{currency}"):
            frame[c] = frame[c].round(2)
    frame["dso_days"] = frame["dso_days"].round(1)
    runs_frame = pd.DataFrame(runs, columns=["policy", "replication", "week", "cash", "from_open_ledger",
                                             "from_new_sales", "receivables_end", "ledger_cash"])
    return Forecast(frame, runs_frame, as_of, weeks, currency, tuple(s.name for s in specs), replications,
                    book.invoices, float(book.balance.sum()) / 100.0)


def _outcome(result: RunResult, start: int, weeks: int) -> tuple[np.ndarray, ...]:
    opening, new = weekly_cash(result, start, weeks)
    receivables, sales = _week_ends(result, start, weeks)
    return opening, new, receivables, sales, ledger_cash(result, start, weeks)


def _dso(receivables: np.ndarray, sales: np.ndarray, past: np.ndarray, weeks: int) -> np.ndarray:
    """DSO (simple, last DSO_DAYS days) at each week's end, per replication."""
    out = np.empty(receivables.shape)
    for w in range(weeks):
        end = 7 * (w + 1)
        recent = sales[:, max(0, end - DSO_DAYS):end].sum(axis=1)
        before = past[len(past) - max(0, DSO_DAYS - end):].sum() if end < DSO_DAYS else 0.0
        total = recent + before
        out[:, w] = np.where(total > 0, receivables[:, w] / np.where(total > 0, total, 1.0) * DSO_DAYS, np.nan)
    return out


def _run(scn: Scenario, specs: list[PolicySpec], replications: int, seed: int, progress: bool, outcome) -> dict:
    """``outcome(result)`` for replication j of every policy (seed derive_seed(seed, j)), keyed (policy, j)."""
    runs = [(k, j) for j in range(replications) for k in range(len(specs))]
    chunks = [runs[i:i + _BATCH] for i in range(0, len(runs), _BATCH)]
    out: dict = {}

    def work(chunk):
        results = simulate_batch(scn, specs, [derive_seed(seed, j) for _, j in chunk],
                                 policy_of=[k for k, _ in chunk])
        return [outcome(r) for r in results]

    def keep(chunk, values):
        out.update(zip(chunk, values))

    interrupted = run_all(work, chunks, None, keep, progress=progress, description="forecast", runs_in=len)
    if interrupted:
        raise KeyboardInterrupt
    return out


# --- backtest --------------------------------------------------------------------------------------------------

def calibrated_coverage(replications: int) -> float:
    """The share of weeks a forecast right by construction holds in its 80% band drawn from ``replications`` runs.

    The band is the 10th to 90th percentile of the runs (``numpy.percentile``, linear between order statistics):
    a new draw from the same distribution falls below the k-th of n sorted runs with chance k / (n + 1), so the
    band holds it with chance 0.8 (n - 1) / (n + 1) on average: 76.9% with 50 runs, 78.4% with 100, 79.2% with 200.
    A backtest's share is to be read against this, not against 80%.
    """
    n = int(replications)
    return 0.8 * (n - 1) / (n + 1) if n > 1 else 0.0


@dataclass(frozen=True)
class Backtest:
    """Actual against forecast weekly ledger cash at several cut dates: ``frame`` one row per (cut, week)."""

    frame: pd.DataFrame
    policy: str
    replications: int = 100  # runs per forecast (the band's precision: see calibrated_coverage)

    @property
    def coverage(self) -> float:
        """Share of weeks whose actual cash lies in the forecast's 80% band."""
        return float(self.frame["inside80"].mean()) if len(self.frame) else float("nan")

    def summary(self) -> str:
        f = self.frame
        return (f"backtest under {self.policy}: {len(f)} weeks from {f['cut'].nunique()} cut dates; the 80% band held "
                f"the actual weekly cash in {self.coverage:.0%} of weeks ({int(f['inside80'].sum())} of {len(f)}; "
                f"a forecast right by construction holds {calibrated_coverage(self.replications):.0%} with "
                f"{self.replications} runs)")


def actual_ledger_cash(ledger: Ledger, at: dt.date, weeks: int) -> np.ndarray:
    """Cash per week after ``at`` as the full ledger shows it (amounts of invoices paid in each week, cents)."""
    f = ledger.frame
    offset = (f["paid_date"] - pd.Timestamp(first_day(at))).dt.days
    keep = (offset >= 0) & (offset < 7 * weeks)
    return np.bincount((offset[keep] // 7).to_numpy(dtype=np.int64), f["amount_cents"][keep].to_numpy(np.float64),
                       minlength=weeks)[:weeks]


def backtest(ledger: Ledger, scenario: Scenario, cuts: Sequence[dt.date], policy: str | None = None,
             weeks: int = 8, replications: int = 100, seed: int | None = None,
             segments: Mapping[str, str] | None = None, progress: bool = False,
             ledger_at: Callable[[dt.date], Ledger] | None = None) -> Backtest:
    """Forecast from ``ledger`` cut at each date and compare with what the full ledger shows happened.

    ``policy`` is the firm's practice over the backtest period (default: the scenario's ``as-is`` policy when it
    has one, else its first). Only weeks the full ledger covers (ending on or before its export date) count.
    ``ledger_at(date)`` is the ledger as exported on a cut date, when known (default: ``cut_ledger``, which keeps
    the full ledger's ``disputed`` flags, so a dispute raised after the cut shows before it).
    """
    name = policy or ("as-is" if any(p.name == "as-is" for p in scenario.policies) else scenario.policies[0].name)
    rows = []
    for at in cuts:
        usable = min(weeks, (ledger.as_of - at).days // 7)
        if usable < 1:
            continue
        book = cut_ledger(ledger, at) if ledger_at is None else ledger_at(at)
        fc = forecast(book, scenario, [name], weeks=usable, replications=replications,
                      as_of=at, seed=seed, segments=segments, progress=progress, past_policy=name)
        sims = fc.runs.pivot(index="replication", columns="week", values="ledger_cash").to_numpy()
        actual = actual_ledger_cash(ledger, at, usable) / 100.0
        lo, hi = np.percentile(sims, (10.0, 90.0), axis=0)
        cur = scenario.economics.currency
        for w in range(usable):
            first = first_day(at) + dt.timedelta(days=7 * w)
            rows.append({"cut": at.isoformat(), "week": w + 1, "week_start": first.isoformat(),
                         f"actual_cash_{cur}": round(actual[w], 2), f"expected_cash_{cur}": round(sims[:, w].mean(), 2),
                         f"low80_{cur}": round(lo[w], 2), f"high80_{cur}": round(hi[w], 2),
                         "inside80": bool(lo[w] <= actual[w] <= hi[w])})
    return Backtest(pd.DataFrame(rows), name, replications)


def sample_backtest(ledger: Ledger, scenario: Scenario, n_cuts: int = 4, weeks: int = 8, replications: int = 100,
                    seed: int | None = None, progress: bool = False) -> Backtest:
    """The backtest at ``n_cuts`` dates spaced ``weeks`` weeks apart, the last ``weeks`` weeks before the ledger's
    export date (so every forecast week has actual cash to compare with); cuts with less than DSO_DAYS of history
    before them are left out."""
    last = ledger.as_of - dt.timedelta(days=7 * weeks)
    earliest = ledger.frame["issue_date"].min().date() + dt.timedelta(days=DSO_DAYS)  # a quarter of history at least
    cuts = [c for c in (last - dt.timedelta(days=7 * weeks * k) for k in range(n_cuts)) if c >= earliest][::-1]
    return backtest(ledger, scenario, cuts, weeks=weeks, replications=replications, seed=seed, progress=progress)


def synthetic_backtest(scenario: Scenario, policy: str, seeds: Sequence[int], cut_days: Sequence[int],
                       weeks: int = 8, replications: int = 100, progress: bool = False) -> Backtest:
    """The backtest on ledgers the model generated itself, so the model is right by construction.

    For each seed: simulate ``scenario`` under ``policy`` (the truth), export its invoices as a ledger on the
    last day forecast (the actual cash), and backtest a forecast from each of ``cut_days`` (simulation days) with
    the true scenario, each from the ledger exported on its cut day (as a firm would have it then: its dispute flags
    are those raised by the cut). The weeks of every (seed, cut) are pooled.
    """
    from collectsim.calibration.history import as_of_date, simulated_ledger
    from collectsim.engines.simulate import simulate

    frames = []
    for s in seeds:
        truth = simulate(scenario, policy, seed=s)
        last = max(cut_days) + 7 * weeks
        ledger = simulated_ledger(truth, last)
        cuts = [as_of_date(truth, d) for d in cut_days]
        test = backtest(ledger, scenario, cuts, policy=policy, weeks=weeks, replications=replications,
                        seed=10_000 + s, progress=progress,
                        ledger_at=lambda at, run=truth: simulated_ledger(run, (at - scenario.horizon.start_date).days))
        frames.append(test.frame.assign(truth_seed=s))
    return Backtest(pd.concat(frames, ignore_index=True), policy, replications)
