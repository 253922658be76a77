"""Fitting a scenario to a firm's own invoice history.

``Calibrator().fit(ledger)`` turns a ledger into the scenario keys the model has (see
docs/scenario-keys.md): per segment the number of customers, ordering rate, invoice-amount
distribution, payment terms, habitual lateness (its mean, and its spread between and within
customers), the share of invoices set aside, the dispute rate and how long disputes hold payment.

**Groups.** A group is the ledger's ``segment`` (``all`` when absent), split by invoice channel
(paper / electronic) when the ledger has both: the model has no per-invoice channel, so the
electronic-versus-paper effect becomes a difference between segments. With ``segment_by="habit"``
customers are instead grouped by their fitted habit (earliest third, middle, latest third).

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
rate uses a Wilson interval on invoices divided by the bootstrap's design effect. A corrected value
is history statistic + (parameter - simulated statistic), so its interval is widened for the
simulation's own noise (a factor sqrt(1 + 1/sim_scale)) and, for the set-aside share, divided by
the statistic's learnt response to the parameter. On 50 ledgers from scenarios with freshly drawn
parameters (tests/test_calibrate.py, marked slow) the intervals of orders per year, amount median
and spread, dispute rate, habit mean and set-aside share each covered the truth in 91-98% of cases.
The spreads between and within customers and the dispute resolution time get no interval.

**Per-customer habit.** ``customers_`` holds each customer's mean days past due and a habit shrunk
toward its group's mean in proportion to how few invoices it has (the empirical-Bayes weight
n tau^2 / (n tau^2 + sigma^2), tau the between- and sigma the within-customer spread).
"""

from __future__ import annotations

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
from collectsim.config.scenario import Scenario, parse_scenario
from collectsim.config.schema import as_raw
from collectsim.engines.simulate import simulate
from collectsim.experiments.stats import t_quantile

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
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    history: dict[str, float] = field(default_factory=dict)
    #: d(simulated statistic) / d(parameter), learnt by secant steps between rounds (1 until then)
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
    pl, ps = late[plain], settled[plain]
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
        "dispute_rate": float(disputed.mean()) if n else float("nan"),
        "disputed_q50": km_quantile(dl, ds, 0.5) if dl.size >= 5 else float("nan"),
        # mean extra days past due of settled disputed invoices: responds to the resolution time's tail
        "dispute_gap": (float(dl[ds].mean() - pl[ps].mean()) if ds.sum() >= 5 and ps.any() else float("nan")),
    }


def _variance_split(d: pd.DataFrame, q50: float, sd: float) -> float:
    """Share of the lateness variance that lies between customers (one-way random effects)."""
    core = d[d["settled"] & ~d["disputed"] & (np.abs(d["late"] - q50) <= 3 * max(sd, 1.0))]
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
        d["group"] = self._groups(frame, d)
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
            fits.append(fit)
        self._initial_values(fits)
        self._correct_for_chasing(fits)
        self._intervals(fits, years)
        self.groups_ = fits
        self.scenario_ = parse_scenario(self.raw_scenario(), "<calibrated>")
        self.summary = self._summary_frame()
        return self

    def _groups(self, frame: pd.DataFrame, d: pd.DataFrame) -> np.ndarray:
        return d["customer_id"].map(ledger_segments(frame)).to_numpy()

    def _customer_habits(self, d: pd.DataFrame) -> pd.DataFrame:
        rows = []
        for g, gd in d.groupby("group", sort=True):
            plain = gd[~gd["disputed"]]
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
                "dispute_rate": float(np.clip(h["dispute_rate"], 0.0, 1.0)),
                "dispute_resolution_days": resolution,
            }

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
        rounds = range(self.iterations)
        if self.progress and self.iterations > 0:
            from tqdm.auto import tqdm
            rounds = tqdm(rounds, desc="calibrating", unit="round")
        previous: tuple[float, float] | None = None  # (resolution days, simulated gap) of the last round
        for k in rounds:
            disputed_gap = []
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
                if np.isfinite(h["sd"]) and np.isfinite(s["sd"]) and s["sd"] > 0:
                    ratio = float(np.clip(h["sd"] / s["sd"], 0.5, 2.0))
                    v["days_late_sd_between"] = float(np.clip(v["days_late_sd_between"] * ratio, 0, 365))
                    v["days_late_sd_within"] = float(np.clip(v["days_late_sd_within"] * ratio, 0, 365))
                if s["orders_per_year"] > 0:
                    v["orders_per_year"] = float(np.clip(v["orders_per_year"] * h["orders_per_year"]
                                                         / s["orders_per_year"], 0.01, 3650))
                if np.isfinite(h["dispute_gap"]) and np.isfinite(s["dispute_gap"]):
                    disputed_gap.append((h["dispute_gap"], s["dispute_gap"], f.disputed_invoices))
            if disputed_gap:
                # one resolution time for the portfolio, moved by a secant step on the disputed gap
                hs, ss, weights = zip(*disputed_gap)
                target, now = float(np.average(hs, weights=weights)), float(np.average(ss, weights=weights))
                r = fits[0].values["dispute_resolution_days"]
                slope = 0.5
                if previous is not None and abs(r - previous[0]) > 1e-9:
                    slope = float(np.clip((now - previous[1]) / (r - previous[0]), 0.1, 1.0))
                previous = (r, now)
                new_r = float(np.clip(r + (target - now) / slope, 1.0, 365.0))
                for f in fits:
                    f.values["dispute_resolution_days"] = new_r

    def _intervals(self, fits: list[GroupFit], years: float) -> None:
        """Bootstrap over customers; each corrected value carries the interval of its history statistic."""
        rng = np.random.default_rng(self.seed)
        d = self._d
        if self.bootstrap < 2:
            return
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
            shift = v["days_late_mean"] - h["q50"]
            f.intervals["days_late_mean"] = (lo + shift, hi + shift)
            lo, hi = interval("sd", corrected=True)
            total = math.hypot(v["days_late_sd_between"], v["days_late_sd_within"])
            scale = total / h["sd"] if h["sd"] and np.isfinite(h["sd"]) else 1.0
            f.intervals["days_late_sd_total"] = (lo * scale, hi * scale)
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
            f.intervals["dispute_rate"] = _wilson(h["dispute_rate"], f.invoices, b["dispute_rate"].to_numpy(float))
            f.intervals["terms_days"] = interval("terms")


    # --- results --------------------------------------------------------------------------------

    def _summary_frame(self) -> pd.DataFrame:
        rows = []
        for f in self.groups_:
            base = {"segment": f.name, "customers": f.customers, "invoices": f.invoices, "settled": f.settled}
            for key, value in f.values.items():
                lo, hi = f.intervals.get(key, (np.nan, np.nan))
                rows.append({**base, "parameter": key, "estimate": value, "ci_low": lo, "ci_high": hi,
                             "observed": _observed(f, key)})
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
                k: (int(v[k]) if k == "terms_days" else round(float(v[k]), 4)) for k in v}})
        policy = as_raw(self.as_is)
        policy.pop("name", None)
        if not policy.get("segments"):
            policy.pop("segments", None)
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


def _observed(f: GroupFit, key: str) -> float:
    h = f.history
    return {"orders_per_year": h["orders_per_year"], "amount_median": math.exp(h["log_amount_mean"]),
            "amount_sigma": h["log_amount_sd"], "terms_days": h["terms"], "days_late_mean": h["q50"],
            "days_late_sd_between": h["sd"] * math.sqrt(h["between_share"]),
            "days_late_sd_within": h["sd"] * math.sqrt(1 - h["between_share"]),
            "ignore_share": h["tail"], "dispute_rate": h["dispute_rate"],
            "dispute_resolution_days": h["dispute_gap"]}.get(key, float("nan"))


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
