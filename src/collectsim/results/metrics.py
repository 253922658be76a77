"""Metrics of a run, from the invoice table and the event log alone.

Conventions (also in the playbook's metrics chapter):

*Windows.* Period metrics (DSO, CEI, aging, goodwill) cover the measured period: days
``warmup_days`` to ``warmup_days + measured_days - 1``. Money totals follow the *cohort* of invoices
issued in the measured period, to the end of the run-off, so that they satisfy exactly, in cents::

    invoiced = (cash_collected - fees_collected) + discounts_granted + credit_notes
               + settlements_forgiven + written_off + outstanding

*Balances* are taken at the end of each day, after that day's events.

*DSO* (count-back, the primary figure): at each calendar month-end in the measured period, take total
receivables and count back through the credit sales of that month and the months before until they
are used up; a partly used month counts its days pro rata. ``dso`` is the mean over those month-ends
(the period's last day when the period holds none). ``dso_simple`` = average receivables over the
period / credit sales of the period x days in the period. ``best_possible_dso`` is the same with
current (not past-due) receivables only, and ``add`` (average days delinquent) = ``dso`` -
``best_possible_dso``.

*CEI* = (opening AR + credit sales - closing total AR) / (opening AR + credit sales - closing current
AR) x 100, with opening AR at the end of the day before the period, closing AR at the end of its last
day, and credit sales for the whole period (not divided by the number of months).

*Fees.* Statutory interest and compensation, when claimed, are paid on top of the principal
(``fees_collected``, part of ``cash_collected``) or waived (``fees_waived``); the court fee and legal costs a
debtor repays with a paid claim are counted with them; settlements forgive part of the principal
(``settlements_forgiven``).

*Costs.* Collection costs are action costs (reminders; in core II also agency fees, legal costs and
staff time, and new customers' credit checks) plus discounts granted. ``cost_to_collect`` = collection
costs / cash collected. ``npv`` discounts the cohort's cash to the start of the measured period at the
cost of capital (``(1 + r) ** (days / 365)``).

*Net value*, the one bottom line, counts every euro once. It is the sum of seven parts, each discounted to
the start of the measured period (costs negative; ``nv_<part>`` in the record, :data:`NET_VALUE_COMPONENTS`,
added up in that order so that they give ``net_value`` exactly):

- ``cash_collected``: the cohort's principal received (customers' payments, agencies' and courts' collections),
  at the day it came in; ``fees``: interest and compensation paid on top, and court fees and legal costs the
  debtor repaid with a claim (``COSTS_RECOVERED``), likewise;
- ``cost_of_goods``: (1 - gross margin) x every cohort invoice's amount, at its issue day. Cash minus cost of
  goods is the margin, so an order lost inside the period (refused, or never placed by a customer who left or
  ordered less) costs its margin, not its whole revenue;
- ``collection_costs``: the costs of the actions on cohort invoices (reminders, calls, letters, mediators,
  agencies' fees, legal costs), at their day; ``staff_cost``: staff x hours x hourly cost for each measured day;
- ``acquisition_costs``: ``economics.acquisition_cost`` for each customer onboarded in the measured period plus
  the credit checks of the period's applicants (taken on or refused), at their day;
- ``future_margin_lost``: for each customer lost (churned) in the measured period, its expected yearly margin at
  baseline over ``customer_lifetime_years`` starting at the end of the measured period -- what it would have
  brought after the window, whose own lost sales are already missing from cash less cost of goods. This is
  ``margin_lost_to_churn`` with its sign turned.

Discounts, credit notes, settlements and write-offs are not subtracted: they are already missing from the
cash. The checks of new customers are in ``acquisition_costs`` here and in ``collection_costs`` (the money
total) above; discounts are in that total but not in net value's ``collection_costs``.

*Bad debt.* ``written_off`` includes balances lost when a customer becomes insolvent;
``insolvencies`` counts customers that failed during the measured period.

*Escalation.* ``recovery_rate`` = principal collected by agencies and courts / the balance at each
cohort invoice's first hand-over (0 when nothing was escalated). Agency fees, legal and mediation
costs are collection costs; what an agency collects counts gross in cash.

*Team.* With a limited team (``[team] staff`` > 0), ``staff_utilisation`` = staff minutes worked in
the measured period / minutes available (above 1 when tasks longer than a whole day were done: overtime),
and ``mean_wait_days`` = mean days an item of work waited
for a collector, over the items done in the period. Staff cost (staff x hours x hourly cost for each
measured day) is a collection cost and a part of ``net_value``; with unlimited capacity both are 0.

*Relationship.* ``mean_goodwill`` is the mean over customers and over the measured days of each
customer's goodwill at the end of the day (it relaxes toward the baseline between actions). Customers
who have churned stay in the mean, their goodwill relaxing toward the baseline after the last action as
everyone's does; customers not yet arrived, or refused, count at their baseline. So the time after a
customer left is not marked down: read ``mean_goodwill`` beside ``churned_customers``.
``churned_customers`` counts customers who left during the measured period, and
``margin_lost_to_churn`` adds up the margin they would have brought after it: their lifetime margin (see
:func:`customer_lifetime_margin`) starting at the end of the measured period, discounted to its start.
``sales_refused`` adds up the orders refused during the measured period, on credit hold or beyond a new
customer's credit limit (the invoices they would have been); they are not invoiced, so they reduce sales
and cash rather than count as debt.
``customers_at_start`` counts the customers trading at the start of the measured period: the opening portfolio
and those onboarded during the warm-up, less those who churned or became insolvent before it.
``new_customers`` and ``customers_refused`` count applicants taken on and turned down at their credit
check in the measured period; the checks' cost is a collection cost (and an acquisition cost in net value).
``customers`` counts everyone who was or applied to be a customer during the run.

*Lateness.* ``mean_days_late`` is, over cohort invoices fully paid by the customer, the mean of
max(0, day of last payment - due day); ``share_paid_late`` is the share of those paid after the due day.

All money is integer cents (``npv``, ``net_value`` and its parts: cents as floats).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from collectsim.config.scenario import Scenario
from collectsim.results.eventlog import BALANCE_REDUCING, EventKind, EventLog
from collectsim.results.invoices import InvoiceTable

#: Kinds whose amount is cash received: principal payments, and on top interest, compensation and legal costs repaid.
CASH_KINDS = (EventKind.PAYMENT, EventKind.FEES_PAID, EventKind.AGENCY_COLLECTED, EventKind.LEGAL_COLLECTED,
              EventKind.COSTS_RECOVERED)
#: Kinds whose amount is cash on top of the principal (``fees_collected``).
FEE_KINDS = (EventKind.FEES_PAID, EventKind.COSTS_RECOVERED)

AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
#: Inclusive ranges of days past due for each aging bucket (None: open-ended).
_BUCKET_RANGES = ((None, 0), (1, 30), (31, 60), (61, 90), (91, None))
#: Days past due at which a balance moves from one aging bucket to the next.
_MOVE_AGES = np.asarray([lo for lo, _ in _BUCKET_RANGES[1:]], dtype=np.int64)
_EXACT = 2**53  # integers of float64 up to here are exact, and so are sums that stay below it


def is_kind(kind: np.ndarray, kinds) -> np.ndarray:
    """``np.isin(kind, kinds)`` for event kinds, by table look-up (kinds are small non-negative integers)."""
    table = np.zeros(max(len(EventKind), int(kind.max(initial=0)) + 1), dtype=bool)
    table[np.asarray(kinds, dtype=np.int64)] = True
    return table[kind]


def add_at(length: int, index: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``np.add.at(zeros(length), index, values)`` for integer values, as int64 (exact).

    ``np.bincount`` adds in float64, which is exact while every partial sum stays below 2**53 cents in
    magnitude: then it is used (it is far faster than ``np.add.at``); otherwise ``np.add.at`` on int64.
    """
    values = np.asarray(values, dtype=np.int64)
    if len(values) == 0 or int(np.abs(values).sum(dtype=np.float64)) < _EXACT // 2:
        return np.bincount(index, weights=values, minlength=length)[:length].astype(np.int64)
    out = np.zeros(length, dtype=np.int64)
    np.add.at(out, index, values)
    return out


#: The parts of net value, in the order they are added up (each is the Metrics field ``nv_<part>``).
NET_VALUE_COMPONENTS = ("cash_collected", "fees", "cost_of_goods", "collection_costs", "staff_cost",
                        "acquisition_costs", "future_margin_lost")


def net_value_of(components: dict[str, float]) -> float:
    """Net value from its components: their sum, added in :data:`NET_VALUE_COMPONENTS`' order (so it is exact
    to the bit whoever adds them that way)."""
    total = 0.0
    for name in NET_VALUE_COMPONENTS:
        total += components[name]
    return total


class ConservationError(AssertionError):
    """Money was created or lost: a bug in the engine, never the user's fault."""


@dataclass(frozen=True)
class Metrics:
    """Headline metrics of one run. Money in integer cents; ratios as plain numbers."""

    dso: float
    dso_simple: float
    best_possible_dso: float
    add: float
    cei: float
    bad_debt_ratio: float
    cost_to_collect: float
    cash_collected: int
    fees_collected: int
    fees_waived: int
    invoiced: int
    discounts_granted: int
    credit_notes: int
    settlements_forgiven: int
    written_off: int
    outstanding: int
    collection_costs: int
    staff_cost: int  # staff x hours x hourly cost for each measured day (part of collection_costs); 0: unlimited team
    npv: float
    net_value: float  # the sum of the nv_* components below, added in NET_VALUE_COMPONENTS' order
    nv_cash_collected: float
    nv_fees: float
    nv_cost_of_goods: float
    nv_collection_costs: float
    nv_staff_cost: float
    nv_acquisition_costs: float
    nv_future_margin_lost: float
    mean_goodwill: float
    churned_customers: int
    margin_lost_to_churn: int
    recovery_rate: float
    staff_utilisation: float
    mean_wait_days: float
    mean_days_late: float
    share_paid_late: float
    reminders_sent: int
    reminders_per_customer: float
    disputes: int
    escalated_invoices: int
    insolvencies: int
    plans_agreed: int
    terms_agreed: int  # extended terms with milestones agreed
    plans_defaulted: int  # instalment plans and extended terms broken
    sales_refused: int
    customers_at_start: int
    new_customers: int
    customers_refused: int
    invoices: int
    customers: int

    def to_dict(self) -> dict[str, float | int]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @property
    def net_value_components(self) -> dict[str, float]:
        """The parts of ``net_value`` (cents, discounted; costs negative), which add up to it exactly."""
        return {name: getattr(self, f"nv_{name}") for name in NET_VALUE_COMPONENTS}

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([self.to_dict()])


# --- balances over time ------------------------------------------------------------------------------


def balance_changes(invoices: InvoiceTable, events: EventLog) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every change of principal balance as (invoice row, day, delta cents): issue +, reductions -."""
    reducing = is_kind(events["kind"], BALANCE_REDUCING)
    rows = np.concatenate([np.arange(len(invoices)), events["invoice"][reducing]])
    days = np.concatenate([invoices["issue_day"], events["day"][reducing]]).astype(np.int64)
    deltas = np.concatenate([invoices["amount"], -events["amount"][reducing]])
    return rows, days, deltas


_PART_ROWS = 1 << 19  # rows handled at a time where a whole column's temporary copies would cost too much memory


def _parts(length: int) -> list[slice]:
    """Consecutive slices of at most ``_PART_ROWS`` rows covering ``length`` rows."""
    return [slice(start, min(start + _PART_ROWS, length)) for start in range(0, length, _PART_ROWS)]


def aging_by_day(invoices: InvoiceTable, events: EventLog, total_days: int, method: str | None = None) -> np.ndarray:
    """Receivables at the end of each day by aging bucket: array (buckets, days) of cents.

    A balance change on day d of an invoice due on day u counts in a bucket on every day t >= d whose age t - u
    falls in the bucket's range. Two ways to sum that, with the same result: ``"moves"`` (a change enters the
    bucket of its age on day d and moves on to the next bucket on each later day u + 1, u + 31, u + 61, u + 91)
    costs a few entries per change; ``"table"`` (the changes summed by day and due day, then running sums over
    both) costs one entry per change plus days x due days. By default the cheaper one for the run's size.
    The changes are taken a part at a time, so a large log is not copied whole.
    """
    n = total_days
    oldest = -_BUCKET_RANGES[-1][0]  # due this long before day 0: 90+ on every day of the run
    width = n - oldest + 1  # the table's due days: oldest..n (earlier and later ones are put at its edges)
    if method is None:
        method = "table" if 4 * (len(invoices) + len(events)) > n * width else "moves"
    elif method not in ("moves", "table"):
        raise ValueError(f"aging_by_day: method must be 'moves', 'table' or None, not {method!r}")
    buckets = len(AGING_BUCKETS)
    cells = buckets * n if method == "moves" else n * width
    sums = np.zeros(cells, dtype=np.int64)
    due_of = invoices["due_day"].astype(np.int64)

    def add(days: np.ndarray, due: np.ndarray, deltas: np.ndarray) -> None:
        inside = days < n
        days = np.maximum(days[inside].astype(np.int64), 0)  # an opening balance counts from day 0
        due, deltas = due[inside], deltas[inside].astype(np.int64)
        if method == "table":
            index, values = [days * width + np.clip(due, oldest, n) - oldest], [deltas]
        else:
            index, values = [np.searchsorted(_MOVE_AGES, days - due, side="right") * n + days], [deltas]
            for bucket, age in enumerate(_MOVE_AGES):
                moves = due + age
                moving = (moves > days) & (moves < n)
                index += [bucket * n + moves[moving], (bucket + 1) * n + moves[moving]]
                values += [-deltas[moving], deltas[moving]]
        sums[:] += add_at(cells, np.concatenate(index), np.concatenate(values))

    for part in _parts(len(invoices)):
        add(invoices["issue_day"][part], due_of[part], invoices["amount"][part])
    reducing = is_kind(events["kind"], BALANCE_REDUCING)
    for part in _parts(len(events)):
        rows = np.flatnonzero(reducing[part]) + part.start
        add(events["day"][rows], due_of[events["invoice"][rows]], -events["amount"][rows])
    if method == "moves":
        return np.cumsum(sums.reshape(buckets, n), axis=1)
    upto = np.zeros((n, width + 1), dtype=np.int64)  # [t, j]: balances at the end of day t, due before column j
    np.cumsum(np.cumsum(sums.reshape(n, width), axis=0), axis=1, out=upto[:, 1:])
    t = np.arange(n)
    out = np.empty((buckets, n), dtype=np.int64)
    for b, (lo, hi) in enumerate(_BUCKET_RANGES):
        # Due days u with lo <= t - u <= hi, i.e. t - hi <= u <= t - lo (open ends: all of them), as columns.
        first = np.zeros(n, dtype=np.int64) if hi is None else np.clip(t - hi - oldest, 0, width)
        stop = np.full(n, width) if lo is None else np.clip(t - lo - oldest + 1, 0, width)
        out[b] = upto[t, stop] - upto[t, first]
    return out


def goodwill_gap_path(jumps: np.ndarray, recovery_days: float) -> np.ndarray:
    """Summed goodwill above baseline at the end of each day, from the day's summed jumps.

    Every customer's gap to its baseline shrinks by exp(-1 / recovery_days) a day, so the sum over
    customers does too: gap(t) = gap(t - 1) x exp(-1/tau) + jumps(t). Exact at whole days.
    """
    decay = math.exp(-1.0 / recovery_days)
    out = np.empty(len(jumps))
    gap = 0.0
    for t, jump in enumerate(jumps.tolist()):
        gap = gap * decay + jump
        out[t] = gap
    return out


def customer_lifetime_margin(scenario: Scenario, segment: np.ndarray, after_days: int = 0) -> np.ndarray:
    """Margin a customer would still have brought (cents): yearly margin at baseline x discounted lifetime.

    Yearly margin = orders per year x mean invoice (median x exp(sigma^2 / 2)) x gross margin; the
    lifetime of ``customer_lifetime_years`` is discounted at the cost of capital (an annuity factor).
    With ``after_days``, the lifetime starts that many days from now and is discounted back to now (net
    value uses the end of the measured period: the margin inside the period already shows as sales lost).
    """
    econ = scenario.economics
    segs = scenario.portfolio.segments
    yearly = np.array([s.orders_per_year * s.amount_median * math.exp(s.amount_sigma**2 / 2) for s in segs]) * 100.0
    years, rate = econ.customer_lifetime_years, econ.cost_of_capital
    annuity = (1 - (1 + rate) ** -years) / rate if rate > 0 else years
    later = float(discount_factors(rate, np.array([after_days]))[0])
    return np.rint(yearly[segment] * econ.gross_margin * annuity * later).astype(np.int64)


@functools.lru_cache(maxsize=64)
def _discount_table(rate: float, first: int, last: int) -> np.ndarray:
    table = np.array([(1.0 + rate) ** (-d / 365.0) for d in range(first, last + 1)])
    table.flags.writeable = False
    return table


def discount_factors(rate: float, days: np.ndarray) -> np.ndarray:
    """``(1 + rate) ** (-days / 365)`` for whole ``days``, each value from Python's float power.

    NumPy's array power runs a different routine on CPUs with AVX-512 than on others, and the two can differ
    in the last bit, which reached NPV; Python's (the C library's) power, computed once per day, is the same on
    both. It can still differ with and without FMA, rarely (see README, "Randomness";
    ``tests/test_portability.py`` checks both switches).
    """
    days = np.asarray(days)
    if days.dtype.kind not in "iu":
        days = days.astype(np.int64)
    if len(days) == 0:
        return np.empty(0)
    first, last = int(days.min()), int(days.max())
    return _discount_table(float(rate), first, last)[days - first]  # days keep their integer type: no copy


def _daily_event_sums(events: EventLog, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per day of ``n``: cash received, the sum of goodwill's jumps, and reminders sent. The log is taken a part
    at a time (a part's selections are copies: a whole large log's would be gigabytes)."""
    sums = None
    for part in _parts(len(events)) or [slice(0, 0)]:
        day, kind = events["day"][part], events["kind"][part]
        is_cash = is_kind(kind, CASH_KINDS)
        before, after = events["goodwill_before"][part], events["goodwill_after"][part]
        moved = ~np.isnan(before)
        these = (np.bincount(day[is_cash], weights=events["amount"][part][is_cash], minlength=n)[:n],
                 np.bincount(day[moved], weights=after[moved] - before[moved], minlength=n)[:n],
                 np.bincount(day[kind == EventKind.REMINDER], minlength=n)[:n])
        sums = these if sums is None else tuple(total + more for total, more in zip(sums, these))
    return sums


def daily_series(scenario: Scenario, invoices: InvoiceTable, events: EventLog,
                 goodwill_baseline: np.ndarray) -> pd.DataFrame:
    """One row per day: credit sales, cash, receivables by aging bucket, mean goodwill, reminders."""
    horizon = scenario.horizon
    n = horizon.total_days
    sales = np.bincount(invoices["issue_day"], weights=invoices["amount"], minlength=n)[:n]
    cash, jumps, reminders = _daily_event_sums(events, n)
    aging = aging_by_day(invoices, events, n)
    customers = max(len(goodwill_baseline), 1)
    mean_goodwill = (goodwill_baseline.sum() + goodwill_gap_path(jumps, scenario.behaviour.goodwill_recovery_days)
                     ) / customers
    frame = pd.DataFrame({
        "day": np.arange(n),
        "date": pd.date_range(horizon.start_date, periods=n, freq="D"),
        "period": np.where(np.arange(n) < horizon.measured_start, "warm-up",
                           np.where(np.arange(n) < horizon.measured_end, "measured", "run-off")),
        "credit_sales": sales.astype(np.int64),
        "cash": cash.astype(np.int64),
        "receivables": aging.sum(axis=0),
    })
    for b, name in enumerate(AGING_BUCKETS):
        frame[f"ar_{name}"] = aging[b]
    frame["mean_goodwill"] = mean_goodwill
    frame["reminders"] = reminders
    return frame


def collectability_by_age(invoices: InvoiceTable, events: EventLog, ages: tuple[int, ...],
                          rows: np.ndarray | None = None) -> dict[int, float]:
    """Share of debt still unpaid at each age (days past due) that is collected afterwards.

    For every invoice (or the given ``rows``) with a balance open at the end of day ``due + age``,
    the principal received later (payments, agency and court collections) is divided by that open
    balance, summed over invoices. NaN where no debt reached that age. This is the curve collection
    surveys quote ("about 70% of debt three months past due is recovered").
    """
    parts = collectability_parts(invoices, events, ages, rows)
    return {age: collected / open_ if open_ > 0 else float("nan") for age, (collected, open_) in parts.items()}


def collectability_parts(invoices: InvoiceTable, events: EventLog, ages: tuple[int, ...],
                         rows: np.ndarray | None = None) -> dict[int, tuple[int, int]]:
    """(collected later, open) in cents at each age: the two sums behind :func:`collectability_by_age`.

    Summing them over replications before dividing pools the runs, weighting each by its debt.
    """
    collected_kinds = (EventKind.PAYMENT, EventKind.AGENCY_COLLECTED, EventKind.LEGAL_COLLECTED)
    rows_all, days, deltas = balance_changes(invoices, events)
    chosen = np.ones(len(invoices), dtype=bool) if rows is None else np.isin(np.arange(len(invoices)), rows)
    is_collection = is_kind(events["kind"], collected_kinds)
    out = {}
    for age in ages:
        cutoff = invoices["due_day"].astype(np.int64) + age
        # Balance at the end of the cut-off day: all changes on or before it.
        upto = days <= cutoff[rows_all]
        open_at = np.bincount(rows_all[upto], weights=deltas[upto], minlength=len(invoices))
        later = is_collection & (events["day"] > cutoff[np.maximum(events["invoice"], 0)]) & (events["invoice"] >= 0)
        collected = np.bincount(events["invoice"][later], weights=events["amount"][later], minlength=len(invoices))
        mask = chosen & (open_at > 0)
        out[age] = (int(round(collected[mask].sum())), int(round(open_at[mask].sum())))
    return out


# --- DSO, CEI -------------------------------------------------------------------------------------------


def count_back_dso(receivables: int, monthly_sales: list[tuple[int, int]]) -> float:
    """Count-back DSO: walk back through (sales, days) per month, newest first, until AR is used up.

    If receivables exceed all the sales given, every month's days are counted (a lower bound).
    """
    remaining = float(receivables)
    days = 0.0
    for sales, month_days in monthly_sales:
        if remaining <= 0:
            break
        if sales >= remaining:
            return days + remaining / sales * month_days
        remaining -= sales
        days += month_days
    return days


def month_ends(start: dt.date, first_day: int, stop_day: int) -> list[int]:
    """Simulation days in [first_day, stop_day) that are the last day of a calendar month."""
    return list(_month_ends(start, first_day, stop_day))


@functools.lru_cache(maxsize=64)
def _month_ends(start: dt.date, first_day: int, stop_day: int) -> tuple[int, ...]:
    out = []
    for d in range(first_day, stop_day):
        date = start + dt.timedelta(days=d)
        if date.day == calendar.monthrange(date.year, date.month)[1]:
            out.append(d)
    return tuple(out)


def dso_count_back_at(day: int, start: dt.date, sales_by_day: np.ndarray, receivables: int) -> float:
    """Count-back DSO at the end of ``day``, over calendar months going back to day 0."""
    months: list[tuple[int, int]] = []
    end = day + 1  # exclusive
    while end > 0:
        date = start + dt.timedelta(days=end - 1)
        month_start_day = end - date.day  # first day of that calendar month, in simulation days
        first = max(month_start_day, 0)
        months.append((int(sales_by_day[first:end].sum()), end - first))
        end = first
    return count_back_dso(receivables, months)


def cei(opening_ar: int, credit_sales: int, closing_ar: int, closing_current_ar: int) -> float:
    """Collection effectiveness index, in percent (100 = everything collectable was collected)."""
    denominator = opening_ar + credit_sales - closing_current_ar
    return 100.0 * (opening_ar + credit_sales - closing_ar) / denominator if denominator else 100.0


# --- all together --------------------------------------------------------------------------------------------


def check_conservation(invoices: InvoiceTable, events: EventLog) -> None:
    """Per invoice: amount = reductions + final balance, with no negative balance. Raise if not."""
    reducing = is_kind(events["kind"], BALANCE_REDUCING)
    reduced = np.bincount(events["invoice"][reducing], weights=events["amount"][reducing],
                          minlength=len(invoices)).astype(np.int64)
    balance = invoices["balance"]
    bad = np.flatnonzero((reduced + balance != invoices["amount"]) | (balance < 0))
    if len(bad):
        i = bad[0]
        raise ConservationError(
            f"money not conserved on invoice {invoices['customer'][i]}-{invoices['seq'][i]}: amount "
            f"{invoices['amount'][i]} != reductions {reduced[i]} + balance {balance[i]} ({len(bad)} invoices)")
    if np.any(events["amount"] < 0):
        raise ConservationError("negative amount in the event log")


def compute_metrics(scenario: Scenario, invoices: InvoiceTable, events: EventLog,
                    goodwill_baseline: np.ndarray, daily: pd.DataFrame | None = None,
                    customer_segments: np.ndarray | None = None) -> Metrics:
    """All headline metrics of a run (see the module docstring for the conventions)."""
    h = scenario.horizon
    if customer_segments is None:
        customer_segments = np.zeros(len(goodwill_baseline), dtype=np.int64)
    if daily is None:
        daily = daily_series(scenario, invoices, events, goodwill_baseline)
    w, e, m = h.measured_start, h.measured_end, h.measured_days
    period = slice(w, e)

    credit_sales = int(daily["credit_sales"].to_numpy()[period].sum())
    ar = daily["receivables"].to_numpy()
    current = daily["ar_current"].to_numpy()
    opening = int(ar[w - 1]) if w > 0 else 0
    closing, closing_current = int(ar[e - 1]), int(current[e - 1])
    if credit_sales > 0:
        dso_simple = float(ar[period].mean()) / credit_sales * m
        bpdso = float(current[period].mean()) / credit_sales * m
    else:
        dso_simple = bpdso = 0.0
    sales_by_day = daily["credit_sales"].to_numpy()
    checkpoints = month_ends(h.start_date, w, e) or [e - 1]
    dso = float(np.mean([dso_count_back_at(d, h.start_date, sales_by_day, int(ar[d])) for d in checkpoints]))

    # The cohort: invoices issued in the measured period, followed to the end of the run.
    cohort = (invoices["issue_day"] >= w) & (invoices["issue_day"] < e)
    in_cohort = np.append(cohort, False)[events["invoice"]]  # customer events (churn) carry invoice -1: False
    kind, amount = events["kind"], events["amount"]

    def total(k: EventKind) -> int:
        return int(amount[in_cohort & (kind == k)].sum())

    invoiced = int(invoices["amount"][cohort].sum())
    recovered = total(EventKind.AGENCY_COLLECTED) + total(EventKind.LEGAL_COLLECTED)
    principal_paid = total(EventKind.PAYMENT) + recovered
    fees = total(EventKind.FEES_PAID) + total(EventKind.COSTS_RECOVERED)
    cash = principal_paid + fees
    discounts, credit_notes = total(EventKind.DISCOUNT), total(EventKind.CREDIT_NOTE)
    written_off = total(EventKind.WRITE_OFF) + total(EventKind.INSOLVENCY_LOSS)  # bad debt either way
    outstanding = int(invoices["balance"][cohort].sum())
    forgiven = total(EventKind.SETTLEMENT)
    if invoiced != principal_paid + discounts + credit_notes + forgiven + written_off + outstanding:
        raise ConservationError("cohort totals do not add up to the amount invoiced")
    in_measured = (events["day"] >= w) & (events["day"] < e)
    onboarded = in_measured & (kind == EventKind.CUSTOMER_ONBOARDED)
    onboarding = in_measured & is_kind(kind, (EventKind.CUSTOMER_ONBOARDED, EventKind.CUSTOMER_REFUSED))
    action_costs = int(events["cost"].sum(where=in_cohort)) + int(events["cost"].sum(where=onboarding))
    team = scenario.team
    daily_staff_cost = round(team.staff * team.hours_per_day * team.hourly_cost * 100)
    staff_cost = daily_staff_cost * m
    collection_costs = action_costs + discounts + staff_cost

    # Escalated: the balance at each cohort invoice's first hand-over (agency, or court without agency).
    handed = in_cohort & is_kind(kind, (EventKind.AGENCY_PLACED, EventKind.LEGAL_FILED))
    first = np.unique(events["invoice"][handed], return_index=True)[1]
    escalated = int(amount[handed][first].sum())
    churn = (kind == EventKind.CHURNED) & (events["day"] >= w) & (events["day"] < e)
    churned = events["customer"][churn]
    margin_lost = (int(customer_lifetime_margin(scenario, customer_segments[churned], after_days=m).sum())
                   if len(churned) else 0)

    econ = scenario.economics
    rate = econ.cost_of_capital
    is_cash = in_cohort & is_kind(kind, CASH_KINDS)

    def factor(where: np.ndarray) -> np.ndarray:
        """The discount factors of the events ``where`` is true (made for those rows only: a log can be large)."""
        return discount_factors(rate, events["day"][where] - w)

    def discounted(values: np.ndarray, where: np.ndarray) -> float:
        """The sum of ``values`` where ``where`` is true, each discounted from its day (a part of the log at a
        time: the selections are copies)."""
        total = None
        for part in _parts(len(values)) or [slice(0, 0)]:
            rows = where[part]
            factors = discount_factors(rate, events["day"][part][rows] - w)
            subtotal = float(np.multiply(values[part][rows], factors, out=factors).sum())  # in place: one array less
            total = subtotal if total is None else total + subtotal
        return total

    npv = discounted(amount, is_cash)

    # Net value: the cohort's cash, less what the goods cost and what collecting and acquiring customers cost,
    # less the margin customers lost in the period would have brought after it. Discounted to the period's start.
    is_fee = in_cohort & is_kind(kind, FEE_KINDS)
    goods = (1.0 - econ.gross_margin) * float(
        (invoices["amount"][cohort] * discount_factors(rate, invoices["issue_day"][cohort] - w)).sum())
    acquired = round(econ.acquisition_cost * 100) * float(factor(onboarded).sum())
    components = {
        "cash_collected": discounted(amount, is_cash & ~is_fee),
        "fees": discounted(amount, is_fee),
        "cost_of_goods": -goods,
        "collection_costs": -discounted(events["cost"], in_cohort),
        "staff_cost": -daily_staff_cost * float(discount_factors(rate, np.arange(m)).sum()),
        "acquisition_costs": -(acquired + discounted(events["cost"], onboarding)),
        "future_margin_lost": -float(margin_lost),
    }
    components = {name: value + 0.0 for name, value in components.items()}  # -0.0 (no cost) reads as 0.0
    net_value = net_value_of(components)

    # Team: minutes worked and waits in the measured period (whichever invoice the work was for).
    in_period = (events["day"] >= w) & (events["day"] < e) & (events["minutes"] > 0)
    available = (team.daily_minutes or 0.0) * m
    utilisation = float(events["minutes"][in_period].sum()) / available if available else 0.0
    mean_wait = float(events["wait"][in_period].mean()) if in_period.any() else 0.0

    # Lateness over cohort invoices closed by the customer's own payment.
    is_principal = in_cohort & (kind == EventKind.PAYMENT)
    last_pay = np.full(len(invoices), -1, dtype=np.int64)
    np.maximum.at(last_pay, events["invoice"][is_principal], events["day"][is_principal])
    closed_by_other = np.zeros(len(invoices), dtype=bool)
    closing_kinds = in_cohort & (kind == EventKind.WRITE_OFF)
    closed_by_other[events["invoice"][closing_kinds]] = True
    settled = cohort & (invoices["balance"] == 0) & (last_pay >= 0) & ~closed_by_other
    late_days = np.maximum(last_pay[settled] - invoices["due_day"][settled], 0)
    mean_days_late = float(late_days.mean()) if len(late_days) else 0.0
    share_late = float((late_days > 0).mean()) if len(late_days) else 0.0

    reminders = int(np.count_nonzero(in_cohort & (kind == EventKind.REMINDER)))
    n_customers = len(goodwill_baseline)
    # Customers at the start of the period: the opening portfolio and those onboarded since, less those who left
    # (churned or failed) before it.
    first_customers = sum(s.customers for s in scenario.portfolio.segments)
    before = events["day"] < w
    arrived = np.zeros(max(n_customers, first_customers), dtype=bool)
    arrived[:first_customers] = True
    arrived[events["customer"][before & (kind == EventKind.CUSTOMER_ONBOARDED)]] = True
    arrived[events["customer"][before & is_kind(kind, (EventKind.CHURNED, EventKind.INSOLVENT))]] = False
    return Metrics(
        dso=dso, dso_simple=dso_simple, best_possible_dso=bpdso, add=dso - bpdso,
        cei=cei(opening, credit_sales, closing, closing_current),
        bad_debt_ratio=written_off / invoiced if invoiced else 0.0,
        cost_to_collect=collection_costs / cash if cash else 0.0,
        cash_collected=cash, fees_collected=fees, fees_waived=total(EventKind.FEES_WAIVED),
        invoiced=invoiced, discounts_granted=discounts,
        credit_notes=credit_notes, settlements_forgiven=forgiven, written_off=written_off,
        outstanding=outstanding, collection_costs=collection_costs, staff_cost=staff_cost, npv=npv,
        net_value=net_value,
        **{f"nv_{name}": value for name, value in components.items()},
        mean_goodwill=float(daily["mean_goodwill"].to_numpy()[period].mean()),
        churned_customers=len(churned), margin_lost_to_churn=margin_lost,
        recovery_rate=recovered / escalated if escalated else 0.0, staff_utilisation=utilisation,
        mean_wait_days=mean_wait, mean_days_late=mean_days_late, share_paid_late=share_late,
        reminders_sent=reminders, reminders_per_customer=reminders / n_customers if n_customers else 0.0,
        disputes=int(np.count_nonzero(in_cohort & (kind == EventKind.DISPUTE_RAISED))),
        escalated_invoices=len(first),
        insolvencies=int(np.count_nonzero((kind == EventKind.INSOLVENT) & (events["day"] >= w)
                                          & (events["day"] < e))),
        plans_agreed=int(np.count_nonzero(in_cohort & (kind == EventKind.PLAN_AGREED))),
        terms_agreed=int(np.count_nonzero(in_cohort & (kind == EventKind.TERMS_AGREED))),
        plans_defaulted=int(np.count_nonzero(in_cohort & (kind == EventKind.PLAN_DEFAULTED))),
        sales_refused=int(events["amount"][(kind == EventKind.ORDER_REFUSED) & (events["day"] >= w)
                                          & (events["day"] < e)].sum()),
        customers_at_start=int(np.count_nonzero(arrived)),
        new_customers=int(np.count_nonzero(onboarded)),
        customers_refused=int(np.count_nonzero(in_measured & (kind == EventKind.CUSTOMER_REFUSED))),
        invoices=int(cohort.sum()), customers=n_customers)
