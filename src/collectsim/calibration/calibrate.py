"""Fitting a scenario to a firm's own invoice history.

``Calibrator().fit(ledger)`` turns a ledger into the scenario keys the model has (see
docs/scenario-keys.md): per segment the number of customers, ordering rate, invoice-amount
distribution, payment terms, habitual lateness (its mean, and its spread between and within
customers), the share of invoices set aside, the dispute rate and how long disputes hold payment.

**Groups.** A group is the ledger's ``segment`` (``all`` when absent), split by invoice channel
(paper / electronic) when the ledger has both: the model has no per-invoice channel, so the
electronic-versus-paper effect becomes a difference between segments. With ``segment_by="habit"``
customers are instead grouped by their fitted habit (earliest third, middle, latest third).

**Small groups.** A group with fewer than ``MIN_GROUP_CUSTOMERS`` customers or ``MIN_GROUP_INVOICES``
invoices is merged into the group whose median days past due is closest (``merged_``): a handful of
invoices cannot give a segment's keys, and a tiny segment simulated on them misleads.

**How payments cluster** (issue 22). Many invoices are paid exactly on the due date (scheduled
payments): when more invoices pay on the due date than a day either side of it beyond chance,
``on_due_date_share`` starts at that spike and is corrected by simulation like the habit; the
lateness statistics below leave the invoices paid on the due date out, in the history and the
simulation alike. Payments clear on the
customers' payment-run weekdays: ``payment_weekdays`` are the weekday shares of payments outside the
due date's scheduled window, fitted when they differ from an even spread beyond chance. A segment's
``terms_mix`` holds its invoices' terms with at least ``MIN_TERMS_SHARE`` of them.

**Censoring.** Payment time is measured in days past due (negative: early). Open invoices are
censored at the export date and enter through Kaplan-Meier estimates (``survival.py``): the
median and quartiles of days past due, and the share still unpaid well after the bulk has paid.
An export of settled invoices only is selected on payment (the slowest payers are missing); the
simulated ledgers are then selected the same way, so the fit compares like with like.

**The history already contains the current chasing.** Reminders pull payments earlier, so the
lateness seen in a ledger is lateness *after* the firm's current practice. Feeding it to the model
and then simulating reminders again would count them twice. The current practice is therefore an
input (``as_is``; default :data:`DEFAULT_AS_IS`, an assumption stated there), and the habit is
fitted by indirect inference: simulate the fitted scenario under ``as_is``, export its invoices as a
ledger with the same window and censoring, measure the same statistics, and move each parameter by
the gap between history and simulation (a few rounds, common random numbers). What is left is the
behaviour *before* chasing, which reproduces the history once the as-is reminders act on it.

**Uncertainty.** 95% intervals are t intervals (n - 1 degrees of freedom, n customers) on standard
errors from a bootstrap over customers (invoices of one customer are not independent); the dispute
rate uses a Wilson interval on invoices divided by the bootstrap's design effect. Disputes hold
payment until resolved: one resolution time for the portfolio is fitted to the disputed invoices'
mean extra days past due (only when the ledger has a dispute column; without one, disputes are part
of the lateness and the scenario has none). When the history's disputed invoices are paid later at
their lower quartile than the simulated ones beyond chance (DISPUTE_MIN_Z), too few disputes end
soon for a plain exponential wait: disputes get a shortest length (``dispute_min_days``), fitted to
that quartile while the gap fits the whole wait (issue 22).
A corrected value is history statistic + (parameter - simulated statistic), so its interval is the
statistic's, widened for the simulation's own noise (a factor sqrt(1 + 1/sim_scale)) and divided by
the statistic's response to the parameter, measured after the fit by moving the parameter either
side of its value (``_measure_slopes``): chasing pulls late payments earlier, so a habit a day later
moves the median by about 0.7 days for a segment two weeks late, and the set-aside tail and the
disputed gap respond less than one for one too. The habit's total spread (``days_late_sd_total``)
gets an interval this way; its split between and within customers, the due-date share, the weekdays
and the terms mix get none. On 50 ledgers from scenarios with freshly drawn parameters
(tests/statistical/test_calibrate.py, marked slow) the intervals of orders per year, amount median
and spread, dispute rate, habit mean and set-aside share each covered the truth in 94-95% of cases;
on 50 messy exports that also have a due-date spike, payment runs, mixed terms and long disputes
(tests/statistical/test_fit_recovery.py) those, the total spread and the dispute resolution time
covered it in 91-99% (the habit and the amount spread 91%).

**Per-customer habit.** ``customers_`` holds each customer's mean days past due and a habit shrunk
toward its group's mean in proportion to how few invoices it has (the empirical-Bayes weight
n tau^2 / (n tau^2 + sigma^2), tau the between- and sigma the within-customer spread).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from collectsim.calibration.history import run_ledger
from collectsim.calibration.ledger import Ledger, LedgerError
from collectsim.calibration.survival import km_quantile, km_survival_at
from collectsim.config.policy_spec import PolicySpec, parse_policy
from collectsim.config.scenario import MAX_TERMS_MIX, Scenario, parse_scenario
from collectsim.config.schema import as_raw
from collectsim.engines.simulate import simulate
from collectsim.experiments.stats import t_quantile
from collectsim.model.behaviour import next_weekday_in

#: The as-is policy assumed when none is given: a reactive firm that sends a friendly email a week
#: after the due date, a firm letter at 30 days and calls at 60, and writes off after a year.
#: This is an assumption (the common pattern of small firms without a dunning tool); pass the
#: firm's real practice with ``--as-is POLICY.toml`` for a fit that matches it.
DEFAULT_AS_IS: dict[str, Any] = {
    "name": "as-is",
    "description": "Assumed current practice: friendly email at +7 days, firm letter at +30, call at +60",
    "reminders": {"pause_on_dispute": False, "steps": [
        {"offset": 7, "channel": "email", "tone": "friendly"},
        {"offset": 30, "channel": "letter", "tone": "firm"},
        {"offset": 60, "channel": "phone", "tone": "firm"}]},
    "write_off": {"age_days": 365},
}

#: Days past due beyond the bulk (median + TAIL_SDS robust sds) that mark a set-aside invoice.
TAIL_SDS = 2.5
#: A group of the ledger with fewer customers or invoices than these is merged into its nearest neighbour (the
#: group whose median days past due is closest): too few to fit a segment's keys (issue 22).
MIN_GROUP_CUSTOMERS = 10
MIN_GROUP_INVOICES = 100
#: Payment terms with a smaller share of a group's invoices are counted with the nearest more common terms.
MIN_TERMS_SHARE = 0.05
#: Payment weekdays are fitted when the weekdays of payments not on the due date differ from an even spread
#: beyond chance: a chi-square statistic above this (6 degrees of freedom, p = 0.001), from at least
#: MIN_WEEKDAY_PAYMENTS payments. A weekday with less than WEEKDAY_FLOOR of them gets no weight (a stray booking).
WEEKDAY_CHI2 = 22.46
MIN_WEEKDAY_PAYMENTS = 70
WEEKDAY_FLOOR = 0.02
#: The due-date spike is fitted when the share paid on the due date exceeds the share one day either side of it by
#: more than this many standard errors; otherwise the fitted scenario has none (on_due_date_share 0).
SPIKE_Z = 3.0
#: How each corrected parameter's interval learns the response of its statistic: (statistic, step of a central
#: difference around the fitted value, bounds of the parameter, bounds of the slope). See Calibrator._measure_slopes.
SLOPE_STEPS: dict[str, tuple[str, float, tuple[float, float], tuple[float, float]]] = {
    "days_late_mean": ("q50", 3.0, (-60.0, 365.0), (0.2, 1.5)),
    # the total spread sqrt(between^2 + within^2), moved keeping the split between and within customers
    "days_late_sd_total": ("sd", 2.0, (0.0, 365.0), (0.2, 1.5)),
    "ignore_share": ("tail", 0.03, (0.0, 0.9), (0.2, 1.5)),
    "dispute_resolution_days": ("dispute_gap", 10.0, (1.0, 365.0), (0.1, 1.0)),
    # the disputed invoices' lower quartile of days past due: a later shortest dispute moves it less than one for one
    # (some are paid later still, on their own habit)
    "dispute_min_days": ("disputed_q25", 5.0, (0.0, 365.0), (0.1, 1.5)),
}
#: The shortest dispute (dispute_min_days) is fitted when the ledger has at least MIN_DISPUTED_FOR_MINIMUM disputed
#: invoices and, after a round of the fit without it, their lower quartile of days past due is later in the history
#: than in the simulation by more than DISPUTE_MIN_Z standard errors (as the due-date spike: beyond chance; the
#: history's error from a bootstrap over customers, DISPUTE_MIN_BOOTSTRAP resamples); otherwise disputes get no
#: minimum (a plain exponential wait).
MIN_DISPUTED_FOR_MINIMUM = 20
DISPUTE_MIN_Z = 3.0
DISPUTE_MIN_BOOTSTRAP = 100
#: Largest move of the shortest dispute (and of the whole wait) in one round of the fit, in days.
MAX_MIN_DAYS_STEP = 20.0
#: Rounds of the dispute keys alone after the fit's rounds, when disputes got a shortest length during them: two keys
#: moved together from a late start need more rounds than the others.
DISPUTE_EXTRA_ROUNDS = 3
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_IQR_PER_SD = 1.349
_Z95 = 1.959964


@dataclass
class GroupFit:
    """Fitted keys of one segment of the scenario, with the counts they came from."""

    name: str
    customers: int
    invoices: int
    settled: int
    disputed_invoices: int
    values: dict[str, float] = field(default_factory=dict)
    #: keys that are not numbers: the payment weekdays' weights and the terms mix, when the history shows them
    tables: dict[str, Any] = field(default_factory=dict)
    #: the ledger's groups merged into this one for being small
    merged: list[str] = field(default_factory=list)
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    history: dict[str, float] = field(default_factory=dict)
    #: d(simulated statistic) / d(parameter): secant steps between rounds (1 until then), then measured after the
    #: rounds for the intervals (Calibrator._measure_slopes)
    slopes: dict[str, float] = field(default_factory=dict)
    _last: dict[str, tuple[float, float]] = field(default_factory=dict)

    def slope(self, key: str, value: float, simulated: float) -> float:
        """The statistic's response to the parameter, from this round and the last (kept in 0.2-1.5).

        Chasing pays part of a set-aside invoice early, so raising ignore_share by 0.01 raises the
        tail by less than 0.01; stepping by the raw gap would under-correct, and the interval of the
        parameter is the statistic's interval divided by this slope.
        """
        last = self._last.get(key)
        if last is not None and abs(value - last[0]) > 1e-9 and np.isfinite(simulated - last[1]):
            self.slopes[key] = float(np.clip((simulated - last[1]) / (value - last[0]), 0.2, 1.5))
        self._last[key] = (value, simulated)
        return self.slopes.get(key, 1.0)


def _days(frame: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Per invoice: days past due at payment (or at the export date, censored), terms, log amount."""
    due = frame["due_date"]
    as_of_ts = pd.Timestamp(as_of)
    paid = frame["paid_date"]
    out = pd.DataFrame({
        "customer_id": frame["customer_id"].astype(str).to_numpy(),
        "late": np.where(paid.notna(), (paid - due).dt.days, (as_of_ts - due).dt.days).astype(np.float64),
        "settled": paid.notna().to_numpy(),
        "terms": (due - frame["issue_date"]).dt.days.to_numpy(),
        "log_amount": np.log(frame["amount_cents"].to_numpy() / 100.0),
        "issue": frame["issue_date"].to_numpy(),
        "weekday": np.where(paid.notna(), paid.dt.day_of_week.fillna(-1), -1).astype(np.int64),
    })
    out["disputed"] = (frame["disputed"].fillna(False).to_numpy(dtype=bool)
                       if "disputed" in frame else np.zeros(len(frame), dtype=bool))
    return out


def group_statistics(d: pd.DataFrame, customer_years: float, thresholds: dict[str, float] | None = None
                     ) -> dict[str, float]:
    """The statistics the fit matches: order rate, amounts, terms, lateness quantiles, tail, disputes.

    ``thresholds`` fixes where the tail starts (taken from the history, so simulation is measured
    against the same line).
    """
    return _statistics(d["late"].to_numpy(), d["settled"].to_numpy(dtype=bool), d["disputed"].to_numpy(dtype=bool),
                       d["log_amount"].to_numpy(), d["terms"].to_numpy(), customer_years,
                       thresholds["tail_at"] if thresholds else None)


def _statistics(late: np.ndarray, settled: np.ndarray, disputed: np.ndarray, log_amount: np.ndarray,
                terms: np.ndarray, customer_years: float, tail_at: float | None) -> dict[str, float]:
    n = late.size
    plain = ~disputed
    # Invoices paid exactly on the due date are a spike of their own (on_due_date_share); the lateness of the rest
    # is measured without them, in the history and in the simulation alike.
    on_due = settled & (late == 0)
    could = plain & (settled | (late >= 0))  # paid, or due by the export date: could have been paid on the due date
    near = plain & settled & (np.abs(late) == 1)
    rest = plain & ~on_due
    pl, ps = late[rest], settled[rest]
    q25, q50, q75 = (km_quantile(pl, ps, q) for q in (0.25, 0.5, 0.75))
    sd = (q75 - q25) / _IQR_PER_SD if np.isfinite(q75) and np.isfinite(q25) else float("nan")
    if tail_at is None:
        tail_at = q50 + TAIL_SDS * max(sd, 1.0)
    dl, ds = late[disputed], settled[disputed]
    return {
        "orders_per_year": n / customer_years if customer_years > 0 else float("nan"),
        "log_amount_mean": float(log_amount.mean()) if n else float("nan"),
        "log_amount_sd": float(log_amount.std(ddof=1)) if n > 1 else 0.0,
        "terms": float(np.median(terms)) if n else float("nan"),
        "q50": q50, "sd": sd, "tail_at": tail_at,
        "tail": km_survival_at(pl, ps, tail_at) if pl.size else float("nan"),
        "on_due": float((on_due & plain).sum() / could.sum()) if could.any() else float("nan"),
        # the continuous part's density at the due date: the mean share one day either side of it
        "near_due": float(near.sum() / 2 / could.sum()) if could.any() else float("nan"),
        "could_pay_on_due": float(could.sum()),
        "dispute_rate": float(disputed.mean()) if n else float("nan"),
        "disputed_q50": km_quantile(dl, ds, 0.5) if dl.size >= 5 else float("nan"),
        # mean extra days past due of settled disputed invoices: responds to the resolution time's tail
        "dispute_gap": (float(dl[ds].mean() - pl[ps].mean()) if ds.sum() >= 5 and ps.any() else float("nan")),
        # the disputed invoices' lower quartile of days past due (open ones censored): where the shortest disputes
        # put their payments (dispute_min_days)
        "disputed_q25": km_quantile(dl, ds, 0.25) if dl.size >= 5 else float("nan"),
    }


def _variance_split(d: pd.DataFrame, q50: float, sd: float) -> float:
    """Share of the lateness variance that lies between customers (one-way random effects)."""
    core = d[d["settled"] & ~d["disputed"] & (d["late"] != 0) & (np.abs(d["late"] - q50) <= 3 * max(sd, 1.0))]
    g = core.groupby("customer_id")["late"]
    n, mean, var = g.count(), g.mean(), g.var(ddof=1)
    multi = n >= 2
    if multi.sum() < 3:
        return 0.5
    within = float(np.average(var[multi], weights=n[multi] - 1))
    between = float(mean[multi].var(ddof=1) - np.mean(within / n[multi]))
    between = max(between, 0.0)
    return between / (between + within) if between + within > 0 else 0.5


def ledger_segments(frame: pd.DataFrame) -> pd.Series:
    """The segment ``segment_by="ledger"`` puts each customer in, indexed by customer id (text).

    A customer belongs to one group: its most frequent ``segment`` (``all`` when the ledger has none), split
    by its most frequent invoice channel when the ledger has both paper and electronic invoices
    (``paper``, ``electronic``, or ``<segment>-<channel>``). ``frame`` is a :class:`Ledger`'s frame; the
    fitted scenario's segments carry these names, so a day's plan finds a ledger customer's segment here.
    """
    ids = frame["customer_id"].astype(str).to_numpy()
    seg = frame["segment"].astype(str).to_numpy() if "segment" in frame else np.full(len(frame), "all")
    cust = pd.DataFrame({"c": ids, "s": seg})
    seg_of = cust.groupby("c")["s"].agg(lambda x: x.value_counts().index[0])
    name = seg_of.copy()
    if "channel" in frame:
        ch = frame["channel"].astype(str).to_numpy()
        known = ch != "unknown"
        if {"paper", "electronic"} <= set(ch[known]):
            cust["ch"] = ch
            ch_of = cust[known].groupby("c")["ch"].agg(lambda x: x.value_counts().index[0])
            ch_of = ch_of.reindex(seg_of.index).fillna("unknown")
            name = pd.Series(np.where(seg_of == "all", ch_of, seg_of + "-" + ch_of), index=seg_of.index)
    return name


class Calibrator:
    """Fit a scenario to a ledger (estimator style: ``fit`` returns self; ``summary`` is a DataFrame).

    ``as_is`` is the firm's current practice (a PolicySpec, or None for :data:`DEFAULT_AS_IS`).
    ``iterations`` rounds of the chasing correction (0: take the history at face value);
    ``sim_scale`` simulated customers per ledger customer; ``bootstrap`` resamples for intervals;
    ``segment_by``: "ledger" (segment column and channel) or "habit" (thirds of fitted habit).
    """

    def __init__(self, as_is: PolicySpec | None = None, *, iterations: int = 4, sim_scale: int = 3,
                 bootstrap: int = 200, seed: int = 1, segment_by: str = "ledger", warmup_days: int = 180,
                 progress: bool = False) -> None:
        if segment_by not in ("ledger", "habit"):
            raise ValueError(f"segment_by must be 'ledger' or 'habit', not {segment_by!r}")
        self.as_is = as_is if as_is is not None else parse_policy(DEFAULT_AS_IS, "as-is", "DEFAULT_AS_IS")
        self.as_is_assumed = as_is is None
        self.iterations, self.sim_scale, self.bootstrap = iterations, sim_scale, bootstrap
        self.seed, self.segment_by, self.warmup_days, self.progress = seed, segment_by, warmup_days, progress

    # --- fitting -------------------------------------------------------------------------------

    def fit(self, ledger: Ledger) -> Calibrator:
        """Fit every group's keys; returns self with ``groups_``, ``summary``, ``customers_``, ``scenario_``."""
        frame = ledger.frame
        if len(frame) == 0:
            raise LedgerError(ledger.source, "no invoices to fit"
                              + (f"; every row was rejected: {ledger.diagnosis}" if ledger.diagnosis else ""))
        self.ledger_ = ledger
        #: an export of settled invoices only (no open ones) is selected on payment; the simulated
        #: ledger is selected the same way, so the slow payers missing from both are matched
        self.settled_only_ = bool(frame["paid_date"].notna().all())
        d = _days(frame, ledger.as_of)
        first, last = frame["issue_date"].min(), frame["issue_date"].max()
        self.first_issue_ = first.date()
        self.span_days_ = int((last - first).days) + 1
        if self.span_days_ > 3650:
            raise LedgerError(ledger.source, f"invoices are issued over {self.span_days_} days; a scenario's measured "
                              "period is at most 3650 days, so export the last ten years or less")
        self.tail_days_ = max(0, (pd.Timestamp(ledger.as_of) - last).days)
        if self.tail_days_ >= 3650:
            raise LedgerError(ledger.source, f"the as-of date {ledger.as_of} is {self.tail_days_} days after the last "
                              f"invoice ({last.date()}); a scenario's run-off is at most 3650 days, so give the real "
                              "date of the export (--as-of)")
        #: whether the ledger says which invoices were disputed; without it disputes are part of the lateness
        self.has_disputes_ = "disputed" in frame and bool(frame["disputed"].notna().any())
        d["group"] = self._groups(frame, d)
        self.merged_: dict[str, str] = {}
        if self.segment_by == "ledger":
            d["group"] = self._merge_small(d)
        self.customers_ = self._customer_habits(d)
        if self.segment_by == "habit":
            d["group"] = d["customer_id"].map(self._habit_groups())
        self._d = d
        years = self.span_days_ / 365.0
        fits: list[GroupFit] = []
        for name, gd in d.groupby("group", sort=True):
            customers = gd["customer_id"].nunique()
            fit = GroupFit(str(name), customers, len(gd), int(gd["settled"].sum()), int(gd["disputed"].sum()))
            fit.history = group_statistics(gd, customers * years)
            fit.history["between_share"] = _variance_split(gd, fit.history["q50"], fit.history["sd"])
            fit.merged = sorted(k for k, v in self.merged_.items() if v == name)
            fit.tables = _payment_tables(gd)
            fits.append(fit)
        self._initial_values(fits)
        self.q25_sd_ = self._disputed_q25_sd(d) if self.has_disputes_ else {}
        self._correct_for_chasing(fits)
        if self.bootstrap >= 2 and self.iterations > 0:
            self._measure_slopes(fits)
        self._intervals(fits, years)
        self.groups_ = fits
        self.scenario_ = parse_scenario(self.raw_scenario(), "<calibrated>")
        self.summary = self._summary_frame()
        return self

    def _groups(self, frame: pd.DataFrame, d: pd.DataFrame) -> np.ndarray:
        return d["customer_id"].map(ledger_segments(frame)).to_numpy()

    def _merge_small(self, d: pd.DataFrame) -> np.ndarray:
        """The groups with each small one (MIN_GROUP_CUSTOMERS, MIN_GROUP_INVOICES) merged into its nearest neighbour.

        Nearest: the group whose median days past due (plain invoices, open ones censored) is closest, the larger
        on a tie. The smallest group goes first, and the merged group is judged again, until none is small or one is
        left. ``merged_`` says which ledger group went where.
        """
        group = d["group"].astype(str).to_numpy().copy()
        while True:
            sizes = pd.DataFrame({"g": group, "c": d["customer_id"].to_numpy()}).groupby("g")
            customers, invoices = sizes["c"].nunique(), sizes.size()
            small = [g for g in customers.index
                     if customers[g] < MIN_GROUP_CUSTOMERS or invoices[g] < MIN_GROUP_INVOICES]
            if not small or len(customers) < 2:
                break
            g = min(small, key=lambda k: (invoices[k], k))

            def median(k: str) -> float:
                m = (group == k) & ~d["disputed"].to_numpy()
                q = km_quantile(d["late"].to_numpy()[m], d["settled"].to_numpy()[m], 0.5)
                return q if np.isfinite(q) else 0.0
            here = median(g)
            into = min((k for k in customers.index if k != g), key=lambda k: (abs(median(k) - here), -invoices[k], k))
            group[group == g] = into
            for k, v in list(self.merged_.items()):
                if v == g:
                    self.merged_[k] = into
            self.merged_[g] = into
        return group

    def _customer_habits(self, d: pd.DataFrame) -> pd.DataFrame:
        rows = []
        for g, gd in d.groupby("group", sort=True):
            plain = gd[~gd["disputed"] & ~(gd["settled"] & (gd["late"] == 0))]  # the rest, without the due-date spike
            q25, q50, q75 = (km_quantile(plain["late"].to_numpy(), plain["settled"].to_numpy(), q)
                             for q in (0.25, 0.5, 0.75))
            sd = (q75 - q25) / _IQR_PER_SD if np.isfinite(q75 - q25) else 7.0
            share = _variance_split(gd, q50, sd)
            tau2, sigma2 = share * sd ** 2, (1 - share) * sd ** 2
            core = plain[plain["settled"] & (np.abs(plain["late"] - q50) <= 3 * max(sd, 1.0))]
            per = gd.groupby("customer_id").agg(invoices=("late", "size"), open=("settled", lambda s: int((~s).sum())))
            stats = core.groupby("customer_id")["late"].agg(["count", "mean"])
            per = per.join(stats, how="left")
            n = per["count"].fillna(0).to_numpy()
            weight = n * tau2 / (n * tau2 + sigma2) if tau2 > 0 else np.zeros(len(per))
            habit = q50 + weight * (per["mean"].fillna(q50).to_numpy() - q50)
            for cid, inv, op, k, m, w, h in zip(per.index, per["invoices"], per["open"], n, per["mean"],
                                                weight, habit):
                rows.append({"customer_id": cid, "group": g, "invoices": int(inv), "open": int(op),
                             "settled_used": int(k), "mean_days_late": m, "weight": float(w),
                             "habit_observed": float(h)})
        return pd.DataFrame(rows)

    def _habit_groups(self) -> dict[str, str]:
        c = self.customers_
        cuts = np.quantile(c["habit_observed"], [1 / 3, 2 / 3])
        labels = np.where(c["habit_observed"] <= cuts[0], "early",
                          np.where(c["habit_observed"] <= cuts[1], "middle", "late"))
        self.customers_["group"] = labels
        return dict(zip(c["customer_id"], labels))

    def _disputed_q25_sd(self, d: pd.DataFrame) -> dict[str, float]:
        """Per group, the bootstrap (over customers) standard error of the disputed invoices' lower quartile of days
        past due: how far chance moves it, for the test of whether disputes need a shortest length."""
        rng = np.random.default_rng(self.seed + 2)
        out = {}
        for name, gd in d[d["disputed"]].groupby("group", sort=True):
            late, settled = gd["late"].to_numpy(), gd["settled"].to_numpy(dtype=bool)
            rows_of = list(gd.groupby("customer_id", sort=True).indices.values())
            if len(gd) < 5 or len(rows_of) < 2:
                continue
            draws = []
            for _ in range(DISPUTE_MIN_BOOTSTRAP):
                idx = np.concatenate([rows_of[i] for i in rng.integers(0, len(rows_of), size=len(rows_of))])
                draws.append(km_quantile(late[idx], settled[idx], 0.25) if idx.size >= 5 else np.nan)
            x = np.asarray(draws, dtype=float)
            x = x[np.isfinite(x)]
            if x.size >= 2:
                out[str(name)] = float(x.std(ddof=1))
        return out

    def _initial_values(self, fits: list[GroupFit]) -> None:
        pooled = [f.history["dispute_gap"] for f in fits if np.isfinite(f.history["dispute_gap"])]
        resolution = float(np.clip(np.median(pooled) + 7.0, 1.0, 365.0)) if pooled else 20.0
        for f in fits:
            h = f.history
            sd = h["sd"] if np.isfinite(h["sd"]) else 7.0
            share = h["between_share"]
            f.values = {
                "orders_per_year": float(np.clip(h["orders_per_year"], 0.01, 3650)),
                "amount_median": float(np.clip(math.exp(h["log_amount_mean"]), 0.01, 1e9)),
                "amount_sigma": float(np.clip(h["log_amount_sd"], 0.0, 3.0)),
                "terms_days": int(np.clip(round(h["terms"]), 0, 365)),
                "days_late_mean": float(np.clip(h["q50"] if np.isfinite(h["q50"]) else 10.0, -60, 365)),
                "days_late_sd_between": float(np.clip(sd * math.sqrt(share), 0, 365)),
                "days_late_sd_within": float(np.clip(sd * math.sqrt(1 - share), 0, 365)),
                "ignore_share": float(np.clip(h["tail"] if np.isfinite(h["tail"]) else 0.0, 0.0, 0.9)),
            }
            if _has_spike(h):  # the spike above what the lateness of the rest puts there (refined by the rounds)
                f.values["on_due_date_share"] = float(np.clip(h["on_due"] - h["near_due"], 0.0, 0.95))
            if self.has_disputes_:
                f.values["dispute_rate"] = float(np.clip(h["dispute_rate"], 0.0, 1.0))
                f.values["dispute_resolution_days"] = resolution

    def _simulated_statistics(self, fits: list[GroupFit], seed: int) -> dict[str, dict[str, float]]:
        raw = self.raw_scenario(fits, scale=self.sim_scale, runoff=self.tail_days_ + 1)
        scn = parse_scenario(raw, "<calibration round>")
        result = simulate(scn, "as-is", seed=seed)
        h = scn.horizon
        sim = run_ledger(result, h.measured_start, h.measured_start + self.span_days_ - 1,
                         h.measured_start + self.span_days_ - 1 + self.tail_days_)
        frame = _ledger_like(sim)
        if self.settled_only_:  # the export left open invoices out: leave them out of the simulation too
            frame = frame[frame["paid_date"].notna()].reset_index(drop=True)
        as_of = scn.horizon.start_date + dt.timedelta(days=h.measured_start + self.span_days_ - 1 + self.tail_days_)
        d = _days(frame, as_of)
        d["group"] = frame["segment"].to_numpy()
        out = {}
        years = self.span_days_ / 365.0
        for f in fits:
            gd = d[d["group"] == f.name]
            # customers who appear in the window, as in the history (not those who left before it)
            out[f.name] = group_statistics(gd, gd["customer_id"].nunique() * years, {"tail_at": f.history["tail_at"]})
        return out

    def _correct_for_chasing(self, fits: list[GroupFit]) -> None:
        self.rounds_ = []
        #: d(simulated disputed gap) / d(resolution days), as last used (0.5 before a secant step)
        self.dispute_slope_ = 0.5
        #: d(simulated lower quartile of disputed days past due) / d(shortest dispute), as last used
        self.min_days_slope_ = 0.7
        rounds = range(self.iterations)
        if self.progress and self.iterations > 0:
            from tqdm.auto import tqdm
            rounds = tqdm(rounds, desc="calibrating", unit="round")
        previous: tuple[float, float] | None = None  # (resolution days, simulated gap) of the last round
        for k in rounds:
            disputed_gap, disputed_q25 = [], []
            sim = self._simulated_statistics(fits, self.seed)
            for f in fits:
                h, s, v = f.history, sim[f.name], f.values
                self.rounds_.append({"round": k, "group": f.name,
                                     **{f"history_{x}": h[x] for x in ("q50", "sd", "tail")},
                                     **{f"simulated_{x}": s[x] for x in ("q50", "sd", "tail", "orders_per_year")}})
                # shifting every habit shifts the median about one for one: step by the gap
                if np.isfinite(h["q50"]) and np.isfinite(s["q50"]):
                    v["days_late_mean"] = float(np.clip(v["days_late_mean"] + h["q50"] - s["q50"], -60, 365))
                # chasing pays part of the set-aside invoices early: step by the gap over the learnt slope
                if np.isfinite(h["tail"]) and np.isfinite(s["tail"]):
                    step = (h["tail"] - s["tail"]) / f.slope("ignore_share", v["ignore_share"], s["tail"])
                    v["ignore_share"] = float(np.clip(v["ignore_share"] + step, 0.0, 0.9))
                # the due-date spike: step by the gap over the learnt slope (payment days move some off the due date)
                if "on_due_date_share" in v and np.isfinite(s["on_due"]):
                    step = (h["on_due"] - s["on_due"]) / f.slope("on_due_date_share", v["on_due_date_share"],
                                                                  s["on_due"])
                    v["on_due_date_share"] = float(np.clip(v["on_due_date_share"] + step, 0.0, 0.95))
                if np.isfinite(h["sd"]) and np.isfinite(s["sd"]) and s["sd"] > 0:
                    ratio = float(np.clip(h["sd"] / s["sd"], 0.5, 2.0))
                    v["days_late_sd_between"] = float(np.clip(v["days_late_sd_between"] * ratio, 0, 365))
                    v["days_late_sd_within"] = float(np.clip(v["days_late_sd_within"] * ratio, 0, 365))
                if s["orders_per_year"] > 0:
                    v["orders_per_year"] = float(np.clip(v["orders_per_year"] * h["orders_per_year"]
                                                         / s["orders_per_year"], 0.01, 3650))
                if np.isfinite(h["dispute_gap"]) and np.isfinite(s["dispute_gap"]):
                    disputed_gap.append((h["dispute_gap"], s["dispute_gap"], f.disputed_invoices, np.nan))
                if np.isfinite(h["disputed_q25"]) and np.isfinite(s["disputed_q25"]):
                    disputed_q25.append((h["disputed_q25"], s["disputed_q25"], f.disputed_invoices,
                                         self.q25_sd_.get(f.name, np.nan)))
            previous = self._dispute_steps(fits, disputed_gap, disputed_q25, previous, k >= 1)
        if self.iterations > 0 and "dispute_min_days" in fits[0].values:
            # the shortest dispute came in during the rounds: a few more rounds for the dispute keys alone
            for _ in range(DISPUTE_EXTRA_ROUNDS):
                sim = self._simulated_statistics(fits, self.seed)
                pooled: dict[str, list] = {"dispute_gap": [], "disputed_q25": []}
                for f in fits:
                    h, s = f.history, sim[f.name]
                    for stat, rows in pooled.items():
                        if np.isfinite(h[stat]) and np.isfinite(s[stat]):
                            rows.append((h[stat], s[stat], f.disputed_invoices, np.nan))
                self._dispute_steps(fits, pooled["dispute_gap"], pooled["disputed_q25"], previous, False)

    def _needs_minimum(self, disputed_q25: list[tuple[float, float, float, float]]) -> bool:
        """Is the disputed invoices' lower quartile of days past due later in the history than in the simulation,
        beyond chance (DISPUTE_MIN_Z)? Pooled over the groups (weighted by disputed invoices), the history's standard
        error from the bootstrap (``q25_sd_``, the rows' last item) and the simulation's its 1/sim_scale share."""
        hs, ss, weights, sds = (np.asarray(x, dtype=float) for x in zip(*disputed_q25))
        if weights.sum() < MIN_DISPUTED_FOR_MINIMUM or not np.isfinite(sds).all():
            return False
        gap = float(np.average(hs - ss, weights=weights))
        se = math.sqrt(float((weights ** 2 * sds ** 2).sum()) * (1.0 + 1.0 / self.sim_scale)) / float(weights.sum())
        return gap > DISPUTE_MIN_Z * se

    def _dispute_steps(self, fits: list[GroupFit], disputed_gap: list, disputed_q25: list,
                       previous: tuple[float, float] | None, may_add_minimum: bool) -> tuple[float, float] | None:
        """One round's steps of the portfolio's dispute keys; returns the (resolution days, simulated gap) to remember.

        The resolution time moves by a secant step on the disputed gap. Once the history's disputed invoices are
        paid later at their lower quartile than the simulation's beyond chance (``_needs_minimum``, from the second
        round), disputes get a shortest length too, moved by a step on the disputed invoices' lower quartile of days
        past due; from then on the gap's step moves the whole wait (minimum + mean) and the minimum's step takes its
        move out of the mean, so the gap follows the one and the lower quartile the other, both at fixed slopes
        (secants of two keys moved together are mostly noise), at most MAX_MIN_DAYS_STEP a round.
        """
        values = fits[0].values
        if may_add_minimum and disputed_q25 and "dispute_min_days" not in values and self._needs_minimum(disputed_q25):
            for f in fits:
                f.values["dispute_min_days"] = 0.0
        shortest = values.get("dispute_min_days")
        if disputed_gap:
            hs, ss, weights, _ = zip(*disputed_gap)
            target, now = float(np.average(hs, weights=weights)), float(np.average(ss, weights=weights))
            if shortest is None:
                r = values.get("dispute_resolution_days", 20.0)
                slope = 0.5
                if previous is not None and abs(r - previous[0]) > 1e-9:
                    slope = float(np.clip((now - previous[1]) / (r - previous[0]), 0.1, 1.0))
                previous = (r, now)
                self.dispute_slope_ = slope
                new_r = float(np.clip(r + (target - now) / slope, 1.0, 365.0))
            else:
                total = values["dispute_resolution_days"] + shortest
                step = float(np.clip((target - now) / self.dispute_slope_, -MAX_MIN_DAYS_STEP, MAX_MIN_DAYS_STEP))
                new_r = float(np.clip(total + step - shortest, 1.0, 365.0))
            for f in fits:
                f.values["dispute_resolution_days"] = new_r
        if disputed_q25 and shortest is not None:
            hs, ss, weights, _ = zip(*disputed_q25)
            target, now = float(np.average(hs, weights=weights)), float(np.average(ss, weights=weights))
            step = float(np.clip((target - now) / self.min_days_slope_, -MAX_MIN_DAYS_STEP, MAX_MIN_DAYS_STEP))
            new_m = float(np.clip(shortest + step, 0.0, 365.0))
            mean = float(np.clip(values["dispute_resolution_days"] - (new_m - shortest), 1.0, 365.0))
            for f in fits:
                f.values["dispute_min_days"], f.values["dispute_resolution_days"] = new_m, mean
        return previous

    def _measure_slopes(self, fits: list[GroupFit]) -> None:
        """d(simulated statistic) / d(parameter) at the fitted values, for the intervals (SLOPE_STEPS).

        A corrected parameter's interval is its statistic's interval over this slope. The secant steps between
        rounds move by tiny amounts once the fit has converged, so simulation noise swamps them (and the habit's
        median was taken to move one for one): chasing pulls late payments earlier, so under the default as-is
        a habit two weeks late moves the median by about 0.7 days a day, and intervals that assumed 1 covered the
        truth in 84% of messy ledgers (issue 22). Here each parameter is moved by its step either side of the fitted
        value, every group at once, with the fit's seed (common random numbers), and the slope is kept within its
        bounds. The dispute resolution time is one for the portfolio: its slope is that of the pooled gap.
        """
        #: d(disputed gap, disputed lower quartile) / d(whole wait, minimum): rows the statistics, columns the whole
        #: wait (the mean moved at the same minimum) and the minimum (moved at the same whole wait)
        self.dispute_jacobian_ = np.full((2, 2), np.nan)
        for key, (stat, step, (low, high), (s_low, s_high)) in SLOPE_STEPS.items():
            if key not in fits[0].values and key != "days_late_sd_total":
                continue
            moved, sims = [], []
            for sign in (-1.0, 1.0):
                copies = [copy.copy(f) for f in fits]
                for c in copies:
                    c.values = {**c.values, **_moved(c.values, key, sign * step, low, high)}
                    if key == "dispute_min_days":  # the whole wait kept: the mean gives what the minimum takes
                        c.values["dispute_resolution_days"] = max(1.0, c.values["dispute_resolution_days"] - (
                            c.values[key] - fits[0].values[key]))
                moved.append(copies)
                sims.append(self._simulated_statistics(copies, self.seed))
            if key in ("dispute_resolution_days", "dispute_min_days"):
                # pooled responses of both dispute statistics (weighted by disputed invoices): the column of the
                # Jacobian d(gap, lower quartile) / d(whole wait, minimum at the same whole wait) this key moves
                weights = np.array([f.disputed_invoices for f in fits], dtype=float)
                spread = moved[1][0].values[key] - moved[0][0].values[key]
                column = []
                for name in ("dispute_gap", "disputed_q25"):
                    x = [np.array([sim[f.name][name] for f in fits]) for sim in sims]
                    ok = np.isfinite(x[0]) & np.isfinite(x[1]) & (weights > 0)
                    column.append(float(np.average(x[1][ok] - x[0][ok], weights=weights[ok])) / spread
                                  if ok.any() and spread > 0 else np.nan)
                if key == "dispute_resolution_days":
                    if np.isfinite(column[0]):
                        self.dispute_slope_ = float(np.clip(column[0], *SLOPE_STEPS[key][3]))
                    self.dispute_jacobian_[:, 0] = column
                else:
                    if np.isfinite(column[1]):
                        self.min_days_slope_ = float(np.clip(column[1], s_low, s_high))
                    self.dispute_jacobian_[:, 1] = column
                continue
            for f, lower, upper in zip(fits, moved[0], moved[1]):
                spread = _value(upper.values, key) - _value(lower.values, key)
                change = sims[1][f.name][stat] - sims[0][f.name][stat]
                if spread > 0 and np.isfinite(change):
                    f.slopes[key] = float(np.clip(change / spread, s_low, s_high))

    def _intervals(self, fits: list[GroupFit], years: float) -> None:
        """Bootstrap over customers; each corrected value carries the interval of its history statistic."""
        rng = np.random.default_rng(self.seed)
        d = self._d
        if self.bootstrap < 2:
            return
        gaps = []  # (disputed invoices, bootstrap sd of the disputed gap) per group
        lows = []  # (disputed invoices, bootstrap covariance of the disputed gap and lower quartile) per group
        for f in fits:
            gd = d[d["group"] == f.name]
            cols = (gd["late"].to_numpy(), gd["settled"].to_numpy(dtype=bool), gd["disputed"].to_numpy(dtype=bool),
                    gd["log_amount"].to_numpy(), gd["terms"].to_numpy())
            rows_of = list(gd.groupby("customer_id", sort=True).indices.values())
            draws = []
            for _ in range(self.bootstrap):
                pick = rng.integers(0, len(rows_of), size=len(rows_of))
                idx = np.concatenate([rows_of[i] for i in pick])
                draws.append(_statistics(*(c[idx] for c in cols), len(rows_of) * years, f.history["tail_at"]))
            b = pd.DataFrame(draws)
            h, v = f.history, f.values
            n = len(rows_of)
            # t interval from the bootstrap standard error (few customers: t with n - 1 degrees of
            # freedom, bootstrap variance scaled by n / (n - 1)). A corrected value is history statistic
            # + (parameter - simulated statistic); the simulated statistic's noise (1/sim_scale of the
            # history's variance) widens its interval.
            t = t_quantile(0.975, max(n - 1, 1))
            widen = math.sqrt(1.0 + 1.0 / self.sim_scale) if self.iterations > 0 else 1.0

            def interval(col: str, corrected: bool = False, b=b, h=h, t=t, n=n, widen=widen) -> tuple[float, float]:
                x = b[col].to_numpy(dtype=float)
                x = x[np.isfinite(x)]
                if x.size < 2 or not np.isfinite(h[col]):
                    return (np.nan, np.nan)
                half = t * float(x.std(ddof=1)) * math.sqrt(n / max(n - 1, 1)) * (widen if corrected else 1.0)
                return float(h[col]) - half, float(h[col]) + half

            lo, hi = interval("q50", corrected=True)
            slope = f.slopes.get("days_late_mean", 1.0)
            f.intervals["days_late_mean"] = (v["days_late_mean"] - (h["q50"] - lo) / slope,
                                             v["days_late_mean"] + (hi - h["q50"]) / slope)
            lo, hi = interval("sd", corrected=True)
            total = _value(v, "days_late_sd_total")
            slope = f.slopes.get("days_late_sd_total", 1.0)
            f.intervals["days_late_sd_total"] = (max(0.0, total - (h["sd"] - lo) / slope),
                                                 total + (hi - h["sd"]) / slope)
            lo, hi = interval("tail", corrected=True)
            slope = f.slopes.get("ignore_share", 1.0)
            f.intervals["ignore_share"] = (max(0.0, v["ignore_share"] - (h["tail"] - lo) / slope),
                                           min(1.0, v["ignore_share"] + (hi - h["tail"]) / slope))
            lo, hi = interval("orders_per_year", corrected=True)
            ratio = v["orders_per_year"] / h["orders_per_year"]
            f.intervals["orders_per_year"] = (lo * ratio, hi * ratio)
            lo, hi = interval("log_amount_mean")
            f.intervals["amount_median"] = (math.exp(lo), math.exp(hi))
            lo, hi = interval("log_amount_sd")
            f.intervals["amount_sigma"] = (max(0.0, lo), hi)
            if self.has_disputes_:
                f.intervals["dispute_rate"] = _wilson(h["dispute_rate"], f.invoices,
                                                      b["dispute_rate"].to_numpy(float))
            f.intervals["terms_days"] = interval("terms")
            x = b["dispute_gap"].to_numpy(dtype=float)
            x = x[np.isfinite(x)]
            if self.has_disputes_ and x.size >= 2 and np.isfinite(h["dispute_gap"]):
                gaps.append((f.disputed_invoices, float(x.std(ddof=1)) * math.sqrt(n / max(n - 1, 1)) * widen))
            pair = b[["dispute_gap", "disputed_q25"]].to_numpy(dtype=float)
            pair = pair[np.isfinite(pair).all(axis=1)]
            if self.has_disputes_ and len(pair) >= 3 and np.isfinite([h["disputed_q25"], h["dispute_gap"]]).all():
                lows.append((f.disputed_invoices, np.cov(pair.T) * n / max(n - 1, 1) * widen ** 2))
        if gaps and "dispute_resolution_days" in fits[0].values:
            # one resolution time fitted to the disputed invoices' mean extra days past due, pooled over the groups
            # (weighted by disputed invoices as in the fit): its interval is the pooled gap's over the learnt slope
            weights, sds = np.array(gaps).T
            half = _Z95 * math.sqrt(float((weights ** 2 * sds ** 2).sum())) / float(weights.sum()) / self.dispute_slope_
            r = fits[0].values["dispute_resolution_days"]
            for f in fits:
                f.intervals["dispute_resolution_days"] = (max(1.0, r - half), min(365.0, r + half))
        jacobian = getattr(self, "dispute_jacobian_", np.full((2, 2), np.nan))
        if lows and "dispute_min_days" in fits[0].values and np.isfinite(jacobian).all() \
                and abs(np.linalg.det(jacobian)) > 1e-6:
            # the shortest dispute and the wait beyond it move together (both statistics answer to both), so their
            # intervals come from the delta method: the pooled statistics' bootstrap covariance through the inverse of
            # the measured Jacobian gives the covariance of (whole wait, minimum); the mean is their difference
            weights = np.array([w for w, _ in lows])
            cov = sum(w ** 2 * c for w, c in lows) / weights.sum() ** 2
            inverse = np.linalg.inv(jacobian)
            params = inverse @ cov @ inverse.T
            m, r = fits[0].values["dispute_min_days"], fits[0].values["dispute_resolution_days"]
            half_m = _Z95 * math.sqrt(max(params[1, 1], 0.0))
            half_r = _Z95 * math.sqrt(max(params[0, 0] - 2 * params[0, 1] + params[1, 1], 0.0))
            for f in fits:
                f.intervals["dispute_min_days"] = (max(0.0, m - half_m), min(365.0, m + half_m))
                f.intervals["dispute_resolution_days"] = (max(1.0, r - half_r), min(365.0, r + half_r))


    # --- results --------------------------------------------------------------------------------

    def _summary_frame(self) -> pd.DataFrame:
        rows = []
        for f in self.groups_:
            base = {"segment": f.name, "customers": f.customers, "invoices": f.invoices, "settled": f.settled}
            for key, value in f.values.items():
                lo, hi = f.intervals.get(key, (np.nan, np.nan))
                rows.append({**base, "parameter": key, "estimate": value, "ci_low": lo, "ci_high": hi,
                             "observed": _observed(f, key)})
            for key, table in f.tables.items():  # the payment weekdays and the terms mix, one row a share
                named = zip(_WEEKDAYS, table) if isinstance(table, list) else table.items()
                rows.extend({**base, "parameter": f"{key}.{name}", "estimate": share, "ci_low": np.nan,
                             "ci_high": np.nan, "observed": share} for name, share in named)
        rows.extend(self._effects())
        return pd.DataFrame(rows)

    def _effects(self) -> list[dict]:
        """Portfolio-level effects as seen in the history: disputes and channel on days past due."""
        d, out = self._d, []
        frame = self.ledger_.frame
        rng = np.random.default_rng(self.seed + 1)

        def median_gap(mask_a: np.ndarray, mask_b: np.ndarray) -> tuple[float, float, float]:
            def gap(idx: np.ndarray) -> float:
                a, b = idx[mask_a[idx]], idx[mask_b[idx]]
                return (km_quantile(d["late"].to_numpy()[a], d["settled"].to_numpy()[a], 0.5)
                        - km_quantile(d["late"].to_numpy()[b], d["settled"].to_numpy()[b], 0.5))
            every = np.arange(len(d))
            point = gap(every)
            boots = [gap(rng.choice(every, len(every))) for _ in range(min(self.bootstrap, 200))]
            boots = np.asarray([x for x in boots if np.isfinite(x)])
            if boots.size < 10:
                return point, np.nan, np.nan
            return point, float(np.quantile(boots, 0.025)), float(np.quantile(boots, 0.975))

        if "disputed" in frame and d["disputed"].sum() >= 5:
            est, lo, hi = median_gap(d["disputed"].to_numpy(), ~d["disputed"].to_numpy())
            out.append({"segment": "(portfolio)", "customers": d["customer_id"].nunique(), "invoices": len(d),
                        "settled": int(d["settled"].sum()), "parameter": "dispute_effect_days",
                        "estimate": est, "ci_low": lo, "ci_high": hi, "observed": est})
        if "channel" in frame:
            ch = frame["channel"].to_numpy()
            if (ch == "electronic").sum() >= 5 and (ch == "paper").sum() >= 5:
                est, lo, hi = median_gap(ch == "electronic", ch == "paper")
                out.append({"segment": "(portfolio)", "customers": d["customer_id"].nunique(), "invoices": len(d),
                            "settled": int(d["settled"].sum()), "parameter": "electronic_vs_paper_days",
                            "estimate": est, "ci_low": lo, "ci_high": hi, "observed": est})
        return out

    def raw_scenario(self, fits: list[GroupFit] | None = None, scale: int = 1, runoff: int | None = None,
                     name: str = "calibrated") -> dict[str, Any]:
        """The fitted scenario as plain tables (what ``to_toml`` writes)."""
        fits = fits if fits is not None else self.groups_
        write_off = self.as_is.write_off.age_days
        start = self.first_issue_ - dt.timedelta(days=self.warmup_days)
        segments = []
        for f in fits:
            v = f.values
            segments.append({"name": f.name, "customers": max(1, f.customers * scale), **{
                k: (int(v[k]) if k == "terms_days" else round(float(v[k]), 4)) for k in v}, **f.tables})
            if not self.has_disputes_:
                segments[-1]["dispute_rate"] = 0.0  # the ledger's lateness already holds what disputes did to it
        policy = as_raw(self.as_is)
        policy.pop("name", None)
        for key in ("segments", "targets"):
            if not policy.get(key):
                policy.pop(key, None)
        frame = self.ledger_.frame
        codes = sorted({c for c in frame["currency"].str.upper() if c}) if "currency" in frame else []
        return {
            **({"economics": {"currency": codes[0]}} if codes else {}),
            "name": name,
            "description": f"Fitted to {Path(self.ledger_.source).name}: {sum(f.invoices for f in fits)} invoices, "
                           f"{sum(f.customers for f in fits)} customers",
            "seed": self.seed,
            "horizon": {"start_date": start, "warmup_days": self.warmup_days, "measured_days": self.span_days_,
                        "runoff_days": runoff if runoff is not None else int(min(3650, max(400, write_off + 35)))},
            "portfolio": {"segments": segments},
            "policies": {"as-is": policy},
        }

    def to_toml(self, ledger_name: str | None = None) -> str:
        """The fitted scenario as a commented TOML file that ``collectsim.load_scenario`` reads."""
        from collectsim.calibration.toml_out import scenario_toml
        return scenario_toml(self, ledger_name)

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(self.to_toml(), encoding="utf-8")
        return path


def _value(values: dict[str, float], key: str) -> float:
    """A fitted value by key; ``days_late_sd_total`` is sqrt(between^2 + within^2)."""
    if key == "days_late_sd_total":
        return math.hypot(values["days_late_sd_between"], values["days_late_sd_within"])
    return values[key]


def _moved(values: dict[str, float], key: str, by: float, low: float, high: float) -> dict[str, float]:
    """The values to change to move ``key`` by ``by`` (within low-high); the total spread keeps its split."""
    if key != "days_late_sd_total":
        return {key: float(np.clip(values[key] + by, low, high))}
    total = _value(values, key)
    if total <= 0:
        return {"days_late_sd_between": max(0.0, by) / math.sqrt(2), "days_late_sd_within": max(0.0, by) / math.sqrt(2)}
    factor = float(np.clip(total + by, low, high)) / total
    return {k: values[k] * factor for k in ("days_late_sd_between", "days_late_sd_within")}


def _has_spike(h: dict[str, float]) -> bool:
    """Do more invoices pay exactly on the due date than one day either side, beyond chance (SPIKE_Z)?"""
    n, on, near = h["could_pay_on_due"], h["on_due"], h["near_due"]
    if not (n > 0 and np.isfinite(on) and np.isfinite(near)):
        return False
    p = max(near, 1.0 / n)
    return on - near > SPIKE_Z * math.sqrt(p * (1.0 - p) / n)


def _payment_tables(gd: pd.DataFrame) -> dict[str, Any]:
    """A group's payment weekdays and terms mix, where its history shows them (see the constants above)."""
    out: dict[str, Any] = {}
    paid = gd[gd["settled"] & (gd["weekday"] >= 0)]
    weekday, late = paid["weekday"].to_numpy(), paid["late"].to_numpy().astype(np.int64)
    every = np.bincount(weekday, minlength=7)
    mask = sum(1 << k for k in range(7) if every[k] >= WEEKDAY_FLOOR * max(every.sum(), 1))
    # A payment meant for the due date goes on it, or on the next payment day after it (behaviour.release_day):
    # the weekdays of the others show the payment runs.
    due_weekday = (weekday - late) % 7
    scheduled = np.array([next_weekday_in(int(w), 0, mask) - int(w) for w in range(7)])[due_weekday]
    counts = np.bincount(weekday[(late < 0) | (late > scheduled)], minlength=7).astype(float)
    n = counts.sum()
    if n >= MIN_WEEKDAY_PAYMENTS:
        chi2 = float(((counts - n / 7) ** 2 / (n / 7)).sum())
        shares = counts / n
        if chi2 > WEEKDAY_CHI2:
            shares = np.where(shares < WEEKDAY_FLOOR, 0.0, shares)
            out["payment_weekdays"] = [round(float(x / shares.sum()), 4) for x in shares]
    terms = gd["terms"].to_numpy()
    values, counts = np.unique(terms, return_counts=True)
    shares = counts / counts.sum()
    order = np.argsort(-shares, kind="stable")
    kept = sorted(int(np.clip(values[i], 0, 365)) for i in order[:MAX_TERMS_MIX] if shares[i] >= MIN_TERMS_SHARE)
    if len(kept) > 1:
        mix = dict.fromkeys(kept, 0.0)
        for value, share in zip(values, shares):  # rarer terms count with the nearest kept ones
            mix[min(kept, key=lambda k: (abs(k - value), k))] += float(share)  # noqa: B023 (used at once)
        out["terms_mix"] = {str(k): round(v, 4) for k, v in mix.items()}
    return out


def _observed(f: GroupFit, key: str) -> float:
    h = f.history
    return {"orders_per_year": h["orders_per_year"], "amount_median": math.exp(h["log_amount_mean"]),
            "amount_sigma": h["log_amount_sd"], "terms_days": h["terms"], "days_late_mean": h["q50"],
            "days_late_sd_between": h["sd"] * math.sqrt(h["between_share"]),
            "days_late_sd_within": h["sd"] * math.sqrt(1 - h["between_share"]),
            "ignore_share": h["tail"], "dispute_rate": h["dispute_rate"], "on_due_date_share": h["on_due"],
            "dispute_resolution_days": h["dispute_gap"], "dispute_min_days": h["disputed_q25"]}.get(key, float("nan"))


def _ledger_like(frame: pd.DataFrame) -> pd.DataFrame:
    """A canonical export frame (from history.run_ledger) in Ledger.frame's typed shape."""
    out = pd.DataFrame({"customer_id": frame["customer_id"], "invoice_id": frame["invoice_id"],
                        "issue_date": pd.to_datetime(frame["issue_date"]),
                        "due_date": pd.to_datetime(frame["due_date"]),
                        "paid_date": pd.to_datetime(frame["paid_date"]),
                        "amount_cents": np.rint(frame["amount"].to_numpy() * 100).astype(np.int64),
                        "disputed": (frame["disputed"] == "yes").astype("boolean"),
                        "segment": frame["segment"]})
    if "channel" in frame:
        out["channel"] = frame["channel"]
    return out


def fit_scenario(ledger: Ledger, as_is: PolicySpec | None = None, **options: Any) -> Scenario:
    """Shortcut: the fitted scenario of ``ledger``."""
    return Calibrator(as_is, **options).fit(ledger).scenario_


def _wilson(rate: float, invoices: int, boot: np.ndarray) -> tuple[float, float]:
    """Wilson score interval for a share, on the effective number of invoices.

    Disputes of one customer may go together; the bootstrap over customers measures how much, and the
    sample size is divided by that design effect (never below 1). Wilson behaves at small counts,
    where a percentile bootstrap of a rare event is too narrow.
    """
    if invoices == 0 or not np.isfinite(rate):
        return (np.nan, np.nan)
    binomial = rate * (1 - rate) / invoices
    boot = boot[np.isfinite(boot)]
    deff = max(1.0, float(boot.var(ddof=1)) / binomial) if binomial > 0 and boot.size > 1 else 1.0
    n = invoices / deff
    z2 = _Z95 ** 2
    centre = (rate + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z95 * math.sqrt(rate * (1 - rate) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)
