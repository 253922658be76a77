"""Opening customers who have stopped ordering: the chance they had churned, the book's days since the last order,
and runs that start such a customer as churned."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectsim import from_open_ledger, parse_scenario, simulate
from collectsim.calibration.ledger import Ledger
from collectsim.model import behaviour as rules
from collectsim.model.draws import NEVER_GAP, Purpose, geometric_days, u
from collectsim.model.opening import opening_gone
from helpers import small_data

_SPAN = 100_000  # days over which a churn day is looked for (every threshold below is reached within it)


def _quiet_and_gone(days: int, churn_per_year: float, mean_gap: float, n: int) -> tuple[int, int]:
    """Simulate the model's rules from a last order on day 0: how many customers placed no order on days 1..days,
    and how many of those had churned by day days + 1 (the engines' draws: geometric gaps, exponential thresholds)."""
    h = rules.daily_churn_hazard(churn_per_year)
    gaps = u(5, Purpose.ORDER_GAP, np.arange(n, dtype=np.int64)).tolist()
    thresholds = u(5, Purpose.CHURN, np.arange(n, dtype=np.int64)).tolist()
    quiet = gone = 0
    for p, q in zip(gaps, thresholds):
        order = geometric_days(p, mean_gap)
        threshold = rules.churn_threshold(q)
        churn = (rules.first_churn_day(0.0, h, 3.0, 0.0, _SPAN, 180.0, threshold)
                 if rules.churn_hazard_integral(h, 3.0, 0.0, _SPAN, 180.0) >= threshold else NEVER_GAP)
        if order > days or churn <= order:  # the next order is not in the ledger: not due yet, or never placed
            quiet += 1
            gone += churn <= days + 1
    return quiet, gone


@pytest.mark.parametrize("days", [30, 90, 150])
def test_the_chance_a_quiet_customer_had_gone_is_what_the_models_order_and_churn_rules_give(days):
    """Monte Carlo over the rules themselves, against the closed form (churn made frequent to be seen)."""
    quiet, gone = _quiet_and_gone(days, 0.6, 365.0 / 12, 40_000)
    p = rules.gone_probability(days, rules.daily_churn_hazard(0.6), 365.0 / 12)
    assert quiet > 200
    assert abs(gone / quiet - p) < 4 * np.sqrt(p * (1 - p) / quiet) + 1e-3, (gone, quiet, p)


@settings(max_examples=200, deadline=None)
@given(days=st.integers(0, 3000), churn=st.just(0.0) | st.floats(1e-4, 0.99), orders=st.floats(0.5, 365))
def test_the_chance_is_a_probability_growing_with_the_quiet_days(days, churn, orders):
    h, gap = rules.daily_churn_hazard(churn), 365.0 / orders
    p, later = rules.gone_probability(days, h, gap), rules.gone_probability(days + 10, h, gap)
    assert 0.0 <= p <= later + 1e-12 and later <= 1.0  # (the closed form's rounding is below 1e-15)
    assert p >= -np.expm1(-h * (days + 1)) - 1e-12  # at least the chance of churning by then, whatever the orders
    if churn == 0:
        assert p == 0.0


def test_the_chance_is_small_for_a_customer_who_ordered_lately_and_near_one_after_years():
    h, gap = rules.daily_churn_hazard(0.07), 365.0 / 12
    assert rules.gone_probability(0, h, gap) == pytest.approx(-np.expm1(-h))  # churned on the first day simulated
    assert rules.gone_probability(30, h, gap) < 0.02  # a month without an order: a usual gap
    assert rules.gone_probability(730, h, gap) > 0.999


def _scenario(churn_per_year: float = 0.3):
    data = small_data()
    data["portfolio"]["segments"] = [{**data["portfolio"]["segments"][0], "churn_per_year": churn_per_year}]
    return parse_scenario(data)


def _ledger(last_issue: dict[str, int], as_of: int = 400) -> Ledger:
    """Each customer ordered every 30 days up to its last issue day (days from 2025-01-01); all paid but the last."""
    day0 = pd.Timestamp("2025-01-01")
    rows = []
    for c, last in last_issue.items():
        for k, day in enumerate(range(last % 30, last + 1, 30)):
            issue = day0 + pd.Timedelta(days=day)
            rows.append((c, f"{c}-{k}", issue, issue + pd.Timedelta(days=30),
                         pd.NaT if day == last else issue + pd.Timedelta(days=31)))
    frame = pd.DataFrame(rows, columns=["customer_id", "invoice_id", "issue_date", "due_date", "paid_date"])
    frame["amount_cents"], frame["disputed"], frame["segment"] = 50_000, False, "steady"
    return Ledger(frame, frame.iloc[0:0], "test", (day0 + pd.Timedelta(days=as_of)).date(), "iso", len(frame))


def test_the_book_keeps_the_days_since_each_customers_last_order():
    ledger = _ledger({"recent": 400, "quiet": 250, "gone": 10}, as_of=400)
    book = from_open_ledger(_scenario(), ledger).opening
    assert dict(zip(book.customer_ids, book.days_since_order.tolist())) == {"recent": 0, "quiet": 150, "gone": 390}
    earlier = from_open_ledger(_scenario(), ledger, as_of=ledger.as_of - dt.timedelta(days=100)).opening  # day 300
    assert dict(zip(earlier.customer_ids, earlier.days_since_order.tolist())) == {"recent": 20, "quiet": 50,
                                                                                   "gone": 290}


def test_each_run_draws_whether_a_quiet_customer_had_gone_with_its_chance():
    opened = from_open_ledger(_scenario(), _ledger({"recent": 400, "quiet": 250, "gone": 10}))
    book = opened.opening
    gone = np.array([opening_gone(opened, seed) for seed in range(600)]) >= 0
    assert set(np.unique(np.array([opening_gone(opened, s) for s in range(50)]))) <= {-1, book.day - 1}
    h, gap = rules.daily_churn_hazard(0.3), 365.0 / 12
    for c, days in enumerate(book.days_since_order.tolist()):
        p = rules.gone_probability(days, h, gap)
        assert abs(gone[:, c].mean() - p) < 4 * np.sqrt(p * (1 - p) / 600) + 0.01, (book.customer_ids[c], p)
    assert gone[:, book.customer_ids.index("quiet")].any() and not gone[:, book.customer_ids.index("quiet")].all()


@pytest.mark.parametrize("engine", ["simpy", "compiled"])
def test_a_gone_customer_orders_nothing_more_and_still_pays_its_open_invoice(engine):
    scenario = _scenario(0.9).with_values({"portfolio.segments.steady.days_late_mean": 50.0}, "late payers")
    opened = from_open_ledger(scenario, _ledger({"recent": 400, "gone": 350, "also": 360}), measured_days=200,
                              runoff_days=200)  # the quiet ones' last invoices are 10 and 20 days past due
    book = opened.opening
    seed = next(s for s in range(200) if (opening_gone(opened, s) >= 0).sum() == 2)  # both quiet ones gone
    result = simulate(opened, "ladder", seed=seed, engine=engine)
    unaware = simulate(opened.with_opening(replace(book, days_since_order=None)), "ladder", seed=seed, engine=engine)
    ev, inv = result.events.to_frame(), result.invoices.to_frame()
    for name in ("gone", "also"):
        c = book.customer_ids.index(name)
        assert not (inv["customer"].iloc[book.invoices:] == c).any()  # no new order
        assert (unaware.invoices.to_frame()["customer"].iloc[book.invoices:] == c).any()  # where it would have
        churn = ev[(ev["kind"] == "churned") & (ev["customer"] == c)]
        assert churn["day"].tolist() == [book.day - 1]  # churned on the as-of day, before the measured period
        paid = ev[(ev["kind"] == "payment") & ev["invoice"].isin(np.flatnonzero(book.customer == c))]
        assert paid["amount"].sum() == book.balance[book.customer == c].sum()  # its open invoice is paid all the same
    assert opening_gone(opened, seed)[book.customer_ids.index("recent")] == -1  # it ordered on the as-of day
    assert result.metrics.customers_at_start == 1  # the gone ones are not counted as the period's customers
    assert unaware.metrics.customers_at_start == 3
