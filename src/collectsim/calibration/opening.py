"""A ledger on a date as a scenario's starting state: ``from_open_ledger``, and ``cut_ledger`` for backtests.

``from_open_ledger(scenario, ledger, as_of)`` returns the scenario with an opening book
(:class:`collectsim.config.opening_book.OpeningBook`): its runs start on ``as_of`` from the ledger's open
invoices and customers, and new sales come from the scenario's order process as usual.

**Dates.** ``as_of`` is the ledger's date (its export date, as ``collectsim calibrate --as-of``; default
``ledger.as_of``), taken as the end of that day: invoices issued and payments made on or before it are history,
later rows of the file are ignored (so ``as_of`` also cuts a ledger at an earlier date), and the simulation starts
the day after. An invoice issued on or before ``as_of`` and not paid by then is open.

**Customers.** Every customer with an invoice issued on or before ``as_of`` is an opening customer, in the segment
calibration puts it in (:func:`collectsim.calibration.calibrate.ledger_segments`: its most frequent ledger
segment, joined with its channel when the ledger has both channels), or as ``segments`` maps it.

**Habits, shrunk.** A customer's habitual lateness is its segment's ``days_late_mean`` plus how much later than
its segment the customer paid in the ledger, shrunk toward nothing when it has few invoices. With n settled,
undisputed invoices paid on average m days past due (invoices more than 3 segment spreads from the segment's
median are left out as set-aside ones), and M the median of the segment's such invoices in the ledger,

    habit = days_late_mean + w (m - M),   w = n tau^2 / (n tau^2 + sigma^2)

with tau = ``days_late_sd_between`` and sigma = ``days_late_sd_within`` of the segment: the posterior mean of a
customer's habit when habits vary by tau between customers and invoices by sigma around them (empirical Bayes,
as calibration's per-customer habits). A customer with no settled invoice gets its segment's mean (w = 0).
The habit is not known exactly: its posterior spread is ``sqrt(tau^2 sigma^2 / (n tau^2 + sigma^2))`` (tau for a
customer with no settled invoice), and each run draws the habit from it (``OpeningBook.habit_sd``), so the
forecast's bands hold that uncertainty as a replication of the truth would. The
deviation is measured in the ledger (after the firm's chasing), the level comes from the fitted scenario (before
chasing, see :mod:`collectsim.calibration.calibrate`).

**Customers who stopped ordering.** A customer whose last invoice was issued long before ``as_of``, for its
segment's order rate, has probably churned: the book keeps the days since each customer's last order
(``OpeningBook.days_since_order``), and each run draws whether the customer had gone, with the chance the model's
own rules give (:func:`collectsim.model.behaviour.gone_probability`). A gone customer orders nothing more; its
open invoices are collected as any churned customer's.

**Open invoices.** Each enters with its amount as its open balance (the ledger format has no part payments: an
invoice is open in full until its paid date), its issue and due dates and its ``disputed`` flag (unknown: not
disputed). What happens to them from ``as_of`` on, and what is assumed about the reminders already sent, is in
:mod:`collectsim.model.opening`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from collectsim.calibration.calibrate import ledger_segments
from collectsim.calibration.ledger import Ledger, LedgerError, LedgerOptions, read_ledger
from collectsim.config.opening_book import OpeningBook
from collectsim.config.policy_spec import CHANNELS, TONES, PolicySpec
from collectsim.config.scenario import Scenario
from collectsim.model.standing import NO_DISPUTE, RECENT_INVOICES, ledger_history, seeded_ring

#: Invoices further than this many segment spreads from the segment's median are left out of a customer's habit.
TRIM_SDS = 3.0


def load_ledger(path: str | Path, options: LedgerOptions | None = None, *, strict: bool = True,
                **option_values: Any) -> Ledger:
    """Read a ledger CSV (``read_ledger``): ``options``, or its fields as keywords (``as_of=``, ``columns=``...)."""
    if option_values:
        options = LedgerOptions(**{**(options.__dict__ if options is not None else {}), **option_values})
    return read_ledger(path, options, strict=strict)


def first_day(as_of: dt.date) -> dt.date:
    """The first day simulated from a ledger as of ``as_of`` (the day after)."""
    return as_of + dt.timedelta(days=1)


def from_open_ledger(scenario: Scenario, ledger: Ledger, as_of: dt.date | None = None,
                     segments: Mapping[str, str] | None = None, measured_days: int | None = None,
                     runoff_days: int | None = None, past_policy: str | PolicySpec | None = None) -> Scenario:
    """``scenario`` starting after ``as_of`` from ``ledger``'s open invoices and customers (module docstring).

    ``segments`` maps a customer id to a segment name (default: calibration's grouping). ``measured_days`` and
    ``runoff_days`` replace the scenario's (the measured period starts the day after ``as_of``). ``past_policy`` is
    the firm's practice up to ``as_of``, whose reminders were sent (default: the scenario's ``as-is`` policy, else
    its first). Raises LedgerError when the ledger cannot be placed in the scenario (a customer in a segment it
    does not have, an empty segment).
    """
    as_of = ledger.as_of if as_of is None else as_of
    cut = pd.Timestamp(first_day(as_of))
    frame = ledger.frame[ledger.frame["issue_date"] < cut]
    if len(frame) == 0:
        raise LedgerError(ledger.source, f"no invoice issued on or before {as_of}: nothing to start from")
    ids = frame["customer_id"].astype(str)
    group = pd.Series(segments) if segments is not None else ledger_segments(frame)
    names = [s.name for s in scenario.portfolio.segments]
    index = {name: i for i, name in enumerate(names)}
    customers = sorted(ids.unique())
    missing = [c for c in customers if c not in group.index]
    if missing:
        raise LedgerError(ledger.source, f"customer {missing[0]!r} has no segment ({len(missing)} customers lack one)")
    unknown = sorted({str(group[c]) for c in customers} - set(names))
    if unknown:
        raise LedgerError(ledger.source, f"the ledger's customers fall in segment(s) {', '.join(unknown)} that the "
                          f"scenario does not have (its segments: {', '.join(names)}); use the scenario calibrated "
                          "from this ledger (collectsim calibrate), or map customers to segments")
    seg_of = {c: index[str(group[c])] for c in customers}
    counts = np.bincount([seg_of[c] for c in customers], minlength=len(names))
    if (counts == 0).any():
        empty = [names[i] for i in np.flatnonzero(counts == 0)]
        raise LedgerError(ledger.source, f"no customer of the ledger as of {as_of} is in segment(s) "
                          f"{', '.join(empty)}; a scenario's segment needs at least one customer")
    order = sorted(customers, key=lambda c: (seg_of[c], c))
    sim_id = {c: i for i, c in enumerate(order)}
    segment = np.asarray([seg_of[c] for c in order], dtype=np.int32)
    habit, habit_sd = _habits(scenario, frame, order, segment, cut)

    paid = frame["paid_date"]
    is_open = (paid.isna() | (paid >= cut)).to_numpy()
    open_rows = frame[is_open]
    first = open_rows["issue_date"].min() if len(open_rows) else cut - pd.Timedelta(days=1)  # as-of is day >= 0
    start_day = int((cut - first).days)
    if start_day > 3650:
        raise LedgerError(ledger.source, f"an invoice open on {as_of} was issued {start_day} days before it "
                          f"({first.date()}); at most 3650 days are simulated before the as-of date")
    start = first_day(as_of) - dt.timedelta(days=start_day)
    start_ts = pd.Timestamp(start)
    disputed = (open_rows["disputed"].fillna(False).to_numpy(dtype=bool) if "disputed" in open_rows
                else np.zeros(len(open_rows), dtype=bool))
    book = OpeningBook(
        as_of=as_of, day=start_day, customer_ids=tuple(order), segment=segment, habit=habit,
        invoice_ids=tuple(open_rows["invoice_id"].astype(str)),
        customer=np.asarray([sim_id[c] for c in open_rows["customer_id"].astype(str)], dtype=np.int64),
        issue_day=(open_rows["issue_date"] - start_ts).dt.days.to_numpy(dtype=np.int64),
        due_day=(open_rows["due_date"] - start_ts).dt.days.to_numpy(dtype=np.int64),
        balance=open_rows["amount_cents"].to_numpy(dtype=np.int64), disputed=disputed,
        disputed_since=np.full(len(open_rows), start_day, dtype=np.int64),
        past_steps=past_steps(scenario, past_policy), habit_sd=habit_sd,
        days_since_order=_days_since_order(frame, order, cut), **_histories(frame, order, cut, start_ts))
    values: dict[str, Any] = {"horizon.start_date": start, "horizon.warmup_days": start_day}
    if measured_days is not None:
        values["horizon.measured_days"] = int(measured_days)
    if runoff_days is not None:
        values["horizon.runoff_days"] = int(runoff_days)
    for name, n in zip(names, counts.tolist()):
        values[f"portfolio.segments.{name}.customers"] = n
    return scenario.with_values(values, f"opening book {as_of}").with_opening(book)


def past_steps(scenario: Scenario, policy: str | PolicySpec | None = None) -> tuple:
    """Per segment, the reminder steps of the firm's practice as (offset, channel index, tone index), by offset."""
    if policy is None:
        policy = "as-is" if any(p.name == "as-is" for p in scenario.policies) else None
    spec = policy if isinstance(policy, PolicySpec) else scenario.policy(policy)
    out = []
    for seg in scenario.portfolio.segments:
        steps = spec.for_segment(seg.name).reminders.steps if seg.name in spec.segments else spec.reminders.steps
        out.append(tuple(sorted((int(st.offset), CHANNELS.index(st.channel), TONES.index(st.tone)) for st in steps)))
    return tuple(out)


def _habits(scenario: Scenario, frame: pd.DataFrame, order: list[str], segment: np.ndarray,
            cut: pd.Timestamp) -> tuple[np.ndarray, np.ndarray]:
    """Each opening customer's habit (the segment's mean plus its shrunk deviation) and its posterior spread
    (module docstring)."""
    segs = scenario.portfolio.segments
    disputed = frame["disputed"].fillna(False).to_numpy(dtype=bool) if "disputed" in frame else np.zeros(len(frame),
                                                                                                           dtype=bool)
    settled = (frame["paid_date"] < cut).to_numpy() & ~disputed
    late = (frame["paid_date"] - frame["due_date"]).dt.days.to_numpy(dtype=np.float64)
    pos = {c: i for i, c in enumerate(order)}
    who = np.asarray([pos[c] for c in frame["customer_id"].astype(str)], dtype=np.int64)
    seg = segment[who]
    habit = np.asarray([segs[s].days_late_mean for s in segment], dtype=np.float64)
    sd = np.asarray([segs[s].days_late_sd_between for s in segment], dtype=np.float64)  # n = 0: the prior's
    for s, spec in enumerate(segs):
        tau2, sigma2 = spec.days_late_sd_between ** 2, spec.days_late_sd_within ** 2
        rows = settled & (seg == s)
        if not rows.any() or tau2 <= 0:
            continue
        centre = float(np.median(late[rows]))
        rows &= np.abs(late - centre) <= TRIM_SDS * max(np.sqrt(tau2 + sigma2), 1.0)
        n = np.bincount(who[rows], minlength=len(order)).astype(np.float64)
        total = np.bincount(who[rows], weights=late[rows] - centre, minlength=len(order))
        mine = (segment == s) & (n > 0)
        weight = n[mine] * tau2 / (n[mine] * tau2 + sigma2)
        habit[mine] += weight * total[mine] / n[mine]
        sd[mine] = np.sqrt(tau2 * sigma2 / (n[mine] * tau2 + sigma2))
    return habit, sd


def _histories(frame: pd.DataFrame, order: list[str], cut: pd.Timestamp, start: pd.Timestamp) -> dict[str, np.ndarray]:
    """The opening customers' past as the ledger shows it on the first day simulated (``OpeningBook.since`` and
    the rest), by :func:`collectsim.model.standing.ledger_history`, the plan's reading, in simulation days."""
    day = lambda column: (frame[column] - start).dt.days  # noqa: E731
    issue, due = day("issue_date").to_numpy(np.int64), day("due_date").to_numpy(np.int64)
    paid = day("paid_date").fillna(np.iinfo(np.int32).min).to_numpy(np.int64)  # not paid: before its issue
    disputed = (frame["disputed"].fillna(False).to_numpy(dtype=bool) if "disputed" in frame
                else np.zeros(len(frame), dtype=bool))
    today = int((cut - start).days)
    rows_of = pd.Series(np.arange(len(frame))).groupby(frame["customer_id"].astype(str).to_numpy()).indices
    n = len(order)
    out = {"since": np.zeros(n, np.int64), "paid_count": np.zeros(n, np.int64),
           "last_dispute": np.full(n, NO_DISPUTE, np.int64), "late_ring": np.zeros((n, RECENT_INVOICES), np.int64)}
    for i, customer in enumerate(order):
        k = rows_of[customer]
        first, late, paid_count, last = ledger_history(issue[k].tolist(), due[k].tolist(), paid[k].tolist(),
                                                       disputed[k].tolist(), today)
        out["since"][i] = today if first is None else first
        out["paid_count"][i], out["last_dispute"][i] = paid_count, last
        out["late_ring"][i] = seeded_ring(late, paid_count)
    return out


def _days_since_order(frame: pd.DataFrame, order: list[str], cut: pd.Timestamp) -> np.ndarray:
    """Days from each opening customer's last order (its latest invoice's issue date) to as-of (module docstring)."""
    last = frame.groupby(frame["customer_id"].astype(str))["issue_date"].max()
    return ((cut - pd.Timedelta(days=1)) - last.reindex(order)).dt.days.to_numpy(dtype=np.int64)


def cut_ledger(ledger: Ledger, at: dt.date) -> Ledger:
    """The ledger as it was exported at the end of day ``at``: invoices issued and payments made on or before
    ``at`` (later payments are dropped: those invoices are open again). For backtests."""
    cut = pd.Timestamp(first_day(at))
    frame = ledger.frame[ledger.frame["issue_date"] < cut].copy()
    frame.loc[frame["paid_date"] >= cut, "paid_date"] = pd.NaT
    return Ledger(frame=frame.reset_index(drop=True), rejects=ledger.rejects.iloc[0:0], source=f"{ledger.source} "
                  f"(cut at {at})", as_of=at, date_format=ledger.date_format,
                  input_rows=len(frame))
