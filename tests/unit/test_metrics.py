"""Metrics against a hand-computed example.

Calendar: day 0 = 2025-01-01. Warm-up is January (days 0-30), the measured period February and
March (days 31-89, 59 days), run-off days 90-119. Two customers (goodwill 0.5 and 0.7).

  invoice  cust  issued  due  amount  what happens
  A        0     0       30   10000   paid in full day 40                      (warm-up: not in cohort)
  B        0     31      61   20000   5000 paid day 70; 15000 written off day 100
  C        1     59      89   30000   600 discount + 29400 paid day 65
  D        1     80      110  10000   nothing: outstanding at the end
  E        1     40      70    8000   3000 paid day 72, 5000 day 75

Reminders: on A day 35 (cost 70, not cohort), on B day 68 (cost 50), and on B day 50 (cost 0), which
drops customer 0's goodwill from 0.5 to 0.4.

Cohort (issued days 31-89) = B, C, D, E: invoiced 68000; cash 5000 + 29400 + 3000 + 5000 = 42400;
discounts 600; written off 15000; outstanding 10000 (42400 + 600 + 15000 + 10000 = 68000).
Credit sales in the period = 68000.

Receivables summed over days 31-89: A 9 days x 10000 = 90000; B 39 x 20000 + 20 x 15000 = 1080000;
C 6 x 30000 = 180000; D 10 x 10000 = 100000; E 32 x 8000 + 3 x 5000 = 271000; total 1721000.
  dso_simple = (1721000 / 59) / 68000 x 59 = 1721000 / 68000 = 25.3088...
Current (not past-due) receivables summed: B 31 x 20000 = 620000; C 180000; D 100000;
E 31 x 8000 = 248000; total 1148000. best_possible_dso = 1148000 / 68000 = 16.8823...
CEI: opening AR (day 30) 10000; closing AR (day 89) B 15000 + D 10000 = 25000; closing current
10000 (D). CEI = (10000 + 68000 - 25000) / (10000 + 68000 - 10000) x 100 = 53000 / 68000 x 100.
Count-back DSO at month-ends: 28 Feb (day 58): AR = B 20000 + E 8000 = 28000 = February's sales
(B + E) -> 28 days. 31 Mar (day 89): AR 25000 against March sales C + D = 40000 -> 25000/40000 x 31
= 19.375 days. dso = (28 + 19.375) / 2 = 23.6875.
Lateness: cohort invoices fully paid by the customer: C (day 65, due 89: 0 days late) and
E (last payment day 75, due 70: 5 days late) -> mean 2.5, share late 0.5. B was written off.
Mean goodwill: 0.6 on days 31-49; from day 50 customer 0 is 0.1 below its baseline and recovers with
time constant tau = 180 days, so the mean is 0.6 - 0.05 exp(-(t - 50) / 180) on day t >= 50.
Churn: customer 1 leaves on day 60 (in the period). Its lifetime margin: 12 orders a year x mean invoice
1500 x exp(0.8^2 / 2) x margin 0.25 x annuity factor (1 - 1.1^-5) / 0.1 over 5 years at 10%, starting at the
end of the measured period (59 days after its start) so discounted by 1.1^(-59/365).
Net value, discounted to day 31 at 10%: cash (B 5000 day 70, C 29400 day 65, E 3000 day 72 and 5000 day 75),
less cost of goods 0.75 x (B 20000 day 31, C 30000 day 59, D 10000 day 80, E 8000 day 40), less the reminder
on B (50 on day 68), less that future margin; no fees, no team, no new customers.
"""

import dataclasses
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import collectsim
from collectsim.results import metrics as metrics_module
from collectsim.results.eventlog import EventKind, EventLog
from collectsim.results.invoices import InvoiceTable
from collectsim.results.metrics import (
    NET_VALUE_COMPONENTS,
    aging_by_day,
    balance_changes,
    cei,
    collectability_by_age,
    compute_metrics,
    count_back_dso,
    customer_lifetime_margin,
    daily_series,
    dso_count_back_at,
    month_ends,
    net_value_of,
)

P, D, W, R = EventKind.PAYMENT, EventKind.DISCOUNT, EventKind.WRITE_OFF, EventKind.REMINDER


@pytest.fixture
def example():
    scenario = collectsim.parse_scenario({
        "horizon": {"start_date": "2025-01-01", "warmup_days": 31, "measured_days": 59, "runoff_days": 30},
        "economics": {"cost_of_capital": 0.10},
        "portfolio": {"segments": [{"name": "s", "customers": 2}]},
        "policies": {"p": {}},
    })
    invoices = InvoiceTable(
        customer=[0, 0, 1, 1, 1], seq=[0, 1, 0, 1, 2], segment=[0] * 5,
        issue_day=[0, 31, 59, 80, 40], due_day=[30, 61, 89, 110, 70],
        amount=[10000, 20000, 30000, 10000, 8000], discount_rate=[0, 0, 0.02, 0, 0],
        discount_deadline=[-1, -1, 69, -1, -1], balance=[0, 0, 0, 10000, 0])
    #            A   A   B   B   B   C   C   E   E   goodwill
    events = EventLog.from_columns(
        day=[35, 40, 68, 70, 100, 65, 65, 72, 75, 50, 60],
        kind=[R, P, R, P, W, D, P, P, P, R, EventKind.CHURNED],
        customer=[0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 1],
        invoice=[0, 0, 1, 1, 1, 2, 2, 4, 4, 1, -1],
        amount=[0, 10000, 0, 5000, 15000, 600, 29400, 3000, 5000, 0, 0],
        cost=[70, 0, 50, 0, 0, 0, 0, 0, 0, 0, 0],
        goodwill_before=[np.nan] * 9 + [0.5, np.nan], goodwill_after=[np.nan] * 9 + [0.4, np.nan])
    baseline = np.array([0.5, 0.7])
    return scenario, invoices, events, baseline


def test_money_totals_follow_the_cohort(example):
    m = compute_metrics(*example)
    assert (m.invoiced, m.cash_collected, m.discounts_granted, m.written_off, m.outstanding) == \
        (68000, 42400, 600, 15000, 10000)
    assert m.fees_collected == m.credit_notes == m.settlements_forgiven == 0
    assert m.bad_debt_ratio == pytest.approx(15000 / 68000)
    assert m.collection_costs == 50 + 600
    assert m.cost_to_collect == pytest.approx(650 / 42400)
    assert m.invoices == 4 and m.customers == 2 and m.reminders_sent == 2


def test_dso_family_and_cei(example):
    m = compute_metrics(*example)
    assert m.dso_simple == pytest.approx(1721000 / 68000)
    assert m.best_possible_dso == pytest.approx(1148000 / 68000)
    assert m.dso == pytest.approx((28 + 19.375) / 2)
    assert m.add == pytest.approx(m.dso - 1148000 / 68000)
    assert m.cei == pytest.approx(53000 / 68000 * 100)


def test_lateness_goodwill_and_npv(example):
    m = compute_metrics(*example)
    assert m.mean_days_late == pytest.approx(2.5)
    assert m.share_paid_late == pytest.approx(0.5)
    days = np.arange(31, 90)
    expected = np.where(days < 50, 0.6, 0.6 - 0.05 * np.exp(-(days - 50) / 180.0))
    assert m.mean_goodwill == pytest.approx(expected.mean(), rel=1e-12)
    assert m.churned_customers == 1
    cash = [(70, 5000), (65, 29400), (72, 3000), (75, 5000)]
    npv = sum(a * 1.1 ** (-(d - 31) / 365) for d, a in cash)
    assert m.npv == pytest.approx(npv)


def _at_day_31(amount, day):
    return amount * 1.1 ** (-(day - 31) / 365)


def test_net_value_by_hand(example):
    m = compute_metrics(*example)
    cash = sum(_at_day_31(a, d) for d, a in [(70, 5000), (65, 29400), (72, 3000), (75, 5000)])
    goods = 0.75 * sum(_at_day_31(a, d) for d, a in [(31, 20000), (59, 30000), (80, 10000), (40, 8000)])
    future = round(12 * 1500 * 100 * np.exp(0.8**2 / 2) * 0.25 * (1 - 1.1**-5) / 0.1 * 1.1 ** (-59 / 365))
    expected = {"cash_collected": cash, "fees": 0.0, "cost_of_goods": -goods,
                "collection_costs": -_at_day_31(50, 68), "staff_cost": 0.0, "acquisition_costs": 0.0,
                "future_margin_lost": -future}
    assert m.net_value_components == pytest.approx(expected, rel=1e-12)
    assert m.margin_lost_to_churn == future
    assert m.net_value == pytest.approx(sum(expected.values()), rel=1e-12)


def test_net_value_is_its_components_added_up_exactly(example):
    m = compute_metrics(*example)
    parts = m.net_value_components
    assert list(parts) == list(NET_VALUE_COMPONENTS)
    total = 0.0
    for name in NET_VALUE_COMPONENTS:
        total += parts[name]
    assert total == m.net_value  # exactly, not approximately
    assert net_value_of(parts) == m.net_value
    assert parts == {name: m.to_dict()[f"nv_{name}"] for name in NET_VALUE_COMPONENTS}


def _without_invoice(example, row):
    """The example with invoice ``row`` never ordered: its row and its events gone."""
    scenario, invoices, events, baseline = example
    keep_rows = np.arange(len(invoices)) != row
    new_row = np.cumsum(keep_rows) - 1
    frame = {name: np.asarray(invoices[name])[keep_rows] for name in
             ("customer", "seq", "segment", "issue_day", "due_day", "amount", "discount_rate", "discount_deadline",
              "balance")}
    keep = events["invoice"] != row
    columns = {name: events[name][keep] for name in ("day", "kind", "customer", "invoice", "amount", "cost",
                                                        "goodwill_before", "goodwill_after")}
    columns["invoice"] = np.where(columns["invoice"] >= 0, new_row[np.maximum(columns["invoice"], 0)], -1)
    return scenario, InvoiceTable(**frame), EventLog.from_columns(**columns), baseline


def test_a_sale_lost_costs_its_margin_not_its_revenue(example):
    """Invoice C (30000, issued day 59, 600 discount and 29400 paid day 65) never ordered: net value falls by
    the cash it brought less what its goods would have cost -- the margin, not the revenue."""
    scenario, *_ = example
    with_c = compute_metrics(*example)
    without_c = compute_metrics(*_without_invoice(example, 2))
    lost = with_c.net_value - without_c.net_value
    assert lost == pytest.approx(_at_day_31(29400, 65) - 0.75 * _at_day_31(30000, 59), rel=1e-9)
    # Paid in full on its issue day and with money worth the same every day, it is exactly the margin.
    flat = dataclasses.replace(scenario, economics=dataclasses.replace(scenario.economics, cost_of_capital=0.0))
    _, invoices, events, baseline = example
    paid_on_issue = events["amount"].copy()
    paid_on_issue[(events["invoice"] == 2) & (events["kind"] == D)] = 0  # no discount: 30000 paid
    paid = (events["invoice"] == 2) & (events["kind"] == P)
    paid_on_issue[paid] = 30000
    log = EventLog.from_columns(**{name: events[name] for name in ("kind", "customer", "invoice", "cost",
                                                                  "goodwill_before", "goodwill_after")},
                                day=np.where(paid, 59, events["day"]), amount=paid_on_issue)
    full = compute_metrics(flat, invoices, log, baseline)
    none = compute_metrics(flat, *_without_invoice((flat, invoices, log, baseline), 2)[1:])
    assert full.net_value - none.net_value == pytest.approx(0.25 * 30000, abs=1e-6)
    assert full.cash_collected - none.cash_collected == 30000  # the revenue, which net value does not lose


def test_a_churned_customer_is_charged_once_for_the_margin_after_the_period(example):
    scenario, invoices, events, baseline = example
    m = compute_metrics(*example)
    lifetime = customer_lifetime_margin(scenario, np.array([0]))[0]
    assert m.margin_lost_to_churn == round(lifetime * 1.1 ** (-59 / 365)) < lifetime
    assert m.nv_future_margin_lost == -m.margin_lost_to_churn
    # Churning earlier in the period loses more sales inside it (missing from cash and cost of goods), but
    # the charge for the time after the period is the same: nothing is counted twice.
    for day in (31, 45, 89):
        moved = events["day"].copy()
        moved[events["kind"] == EventKind.CHURNED] = day
        log = EventLog.from_columns(**{name: events[name] for name in ("kind", "customer", "invoice", "amount",
                                                                      "cost", "goodwill_before", "goodwill_after")},
                                    day=moved)
        assert compute_metrics(scenario, invoices, log, baseline).nv_future_margin_lost == m.nv_future_margin_lost
    # Leaving in the run-off is not the measured period's loss.
    late = EventLog.from_columns(**{name: events[name] for name in ("kind", "customer", "invoice", "amount", "cost",
                                                                   "goodwill_before", "goodwill_after")},
                                 day=np.where(events["kind"] == EventKind.CHURNED, 95, events["day"]))
    after = compute_metrics(scenario, invoices, late, baseline)
    assert after.churned_customers == 0 and after.nv_future_margin_lost == 0.0
    assert after.net_value - m.net_value == pytest.approx(m.margin_lost_to_churn)


def test_acquisition_costs_and_customers_at_start(example):
    """Customer 2 is onboarded in the warm-up (day 10, check 300), customer 3 in the period (day 45, check 300),
    applicant 4 refused in the period (day 50, check 300); customer 0 churns in the warm-up (day 20) and
    customer 1 in the period (day 60). Acquisition cost 100.00 a customer."""
    scenario, invoices, events, _ = example
    scenario = dataclasses.replace(scenario, economics=dataclasses.replace(scenario.economics,
                                                                           acquisition_cost=100.0))
    on, off, churn = EventKind.CUSTOMER_ONBOARDED, EventKind.CUSTOMER_REFUSED, EventKind.CHURNED
    extra = {"day": [10, 45, 50, 20], "kind": [on, on, off, churn], "customer": [2, 3, 4, 0],
             "invoice": [-1] * 4, "amount": [0] * 4, "cost": [300, 300, 300, 0]}
    names = ("day", "kind", "customer", "invoice", "amount", "cost")
    log = EventLog.from_columns(**{name: np.concatenate([events[name], extra[name]]) for name in names})
    m = compute_metrics(scenario, invoices, log, np.full(5, 0.6))
    assert m.nv_acquisition_costs == pytest.approx(-(10000 * _at_day_31(1, 45) + _at_day_31(300, 45)
                                                     + _at_day_31(300, 50)), rel=1e-12)
    assert m.nv_collection_costs == pytest.approx(-_at_day_31(50, 68), rel=1e-12)  # the checks are not here
    assert m.collection_costs == 50 + 600 + 600  # the money total still counts the period's checks
    # At the start: opening customers 0 and 1 and customer 2 onboarded in the warm-up, less customer 0 (left).
    assert m.customers_at_start == 2 and m.new_customers == 1 and m.churned_customers == 1
    assert m.net_value == net_value_of(m.net_value_components)


def test_aging_buckets_by_day(example):
    scenario, invoices, events, _ = example
    aging = aging_by_day(invoices, events, 120)  # rows: current, 1-30, 31-60, 61-90, 90+
    assert aging[:, 30].tolist() == [10000, 0, 0, 0, 0]  # A on its due day is still current
    assert aging[:, 31].tolist() == [20000, 10000, 0, 0, 0]  # A one day past due
    assert aging[:, 89].tolist() == [10000, 15000, 0, 0, 0]  # B 28 days past due, D current
    assert aging[:, 95].tolist() == [10000, 0, 15000, 0, 0]  # B 34 days past due
    assert aging[:, 100].tolist() == [10000, 0, 0, 0, 0]  # B written off
    assert aging[:, 115].tolist() == [0, 10000, 0, 0, 0]  # D past due in the run-off
    daily = daily_series(scenario, invoices, events, np.array([0.5, 0.7]))
    assert (daily["receivables"] == aging.sum(axis=0)).all()
    assert daily["cash"].sum() == 10000 + 42400


def _aging_by_definition(invoices: InvoiceTable, events: EventLog, total_days: int) -> np.ndarray:
    """Each day's open balance of each invoice, put in the bucket of its age that day (slow, plain)."""
    bounds = ((-10**9, 0), (1, 30), (31, 60), (61, 90), (91, 10**9))
    rows, days, deltas = balance_changes(invoices, events)
    out = np.zeros((len(bounds), total_days), dtype=np.int64)
    for t in range(total_days):
        balance = np.zeros(len(invoices), dtype=np.int64)
        np.add.at(balance, rows[days <= t], deltas[days <= t])
        age = t - invoices["due_day"].astype(np.int64)
        for b, (lo, hi) in enumerate(bounds):
            out[b, t] = balance[(age >= lo) & (age <= hi)].sum()
    return out


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(-150, 150), st.integers(1, 10**6)), min_size=1,
                max_size=12),
       st.lists(st.tuples(st.integers(0, 11), st.integers(0, 90), st.integers(1, 10**6),
                          st.sampled_from([P, R, W])), max_size=20),
       st.integers(1, 100), st.integers(1, 8), st.sampled_from(["moves", "table", None]))
def test_aging_by_day_matches_its_definition(issued, reductions, total_days, part_rows, method):
    """Both ways of summing (and the default choice) equal bucketing every invoice's balance day by day, including
    invoices due long before day 0 or after the last day, changes after the last day, events that change no
    balance, and a log taken a few rows at a time."""
    issue = [i for i, _, _ in issued]
    invoices = InvoiceTable(customer=np.zeros(len(issued)), seq=np.arange(len(issued)), segment=np.zeros(len(issued)),
                            issue_day=issue, due_day=[i + terms for i, terms, _ in issued],
                            amount=[a for _, _, a in issued], discount_rate=np.zeros(len(issued)),
                            discount_deadline=issue, balance=np.zeros(len(issued)))
    picked = sorted((issue[row % len(issued)] + later, row % len(issued), amount, int(kind))
                    for row, later, amount, kind in reductions)
    events = EventLog.from_columns(day=[d for d, _, _, _ in picked], kind=[k for _, _, _, k in picked],
                                   customer=[0] * len(picked), invoice=[r for _, r, _, _ in picked],
                                   amount=[a for _, _, a, _ in picked])
    with mock.patch.object(metrics_module, "_PART_ROWS", part_rows):
        aging = aging_by_day(invoices, events, total_days, method)
    assert np.array_equal(aging, _aging_by_definition(invoices, events, total_days))


def test_aging_by_day_names_an_unknown_method(example):
    _, invoices, events, _ = example
    with pytest.raises(ValueError, match="'moves', 'table' or None, not 'fast'"):
        aging_by_day(invoices, events, 120, "fast")


def test_count_back_dso_walks_back_through_months():
    # AR 150 against months (newest first) of sales 100 over 30 days, then 100 over 31 days.
    assert count_back_dso(150, [(100, 30), (100, 31)]) == pytest.approx(30 + 0.5 * 31)
    assert count_back_dso(0, [(100, 30)]) == 0.0
    assert count_back_dso(500, [(100, 30), (100, 31)]) == 61  # runs out of history: a lower bound
    import datetime as dt
    start = dt.date(2025, 1, 1)
    assert month_ends(start, 0, 90) == [30, 58, 89]
    sales = np.zeros(90)
    sales[[10, 40, 70]] = 100  # one sale a month
    assert dso_count_back_at(89, start, sales, 150) == pytest.approx(31 + 0.5 * 28)


def test_cei_of_a_perfect_period_is_100():
    assert cei(opening_ar=100, credit_sales=1000, closing_ar=50, closing_current_ar=50) == 100.0


def test_collectability_by_age_by_hand(example):
    """Age 0 (end of the due day): open A 10000, B 20000, D 10000, E 8000 (C was paid before its due date);
    later collected A 10000, B 5000, E 8000 -> 23000 / 48000. Age 30: B 15000 and D 10000 open, nothing
    collected later -> 0."""
    _, invoices, events, _ = example
    curve = collectability_by_age(invoices, events, (0, 30))
    assert curve[0] == pytest.approx(23000 / 48000)
    assert curve[30] == 0.0
    only_a = collectability_by_age(invoices, events, (0, 30), rows=np.array([0]))
    assert only_a[0] == 1.0 and np.isnan(only_a[30])
