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
1500 x exp(0.8^2 / 2) x margin 0.25 x annuity factor (1 - 1.1^-5) / 0.1 over 5 years at 10%.
"""

import numpy as np
import pytest

import collectsim
from collectsim.results.eventlog import EventKind, EventLog
from collectsim.results.invoices import InvoiceTable
from collectsim.results.metrics import (
    aging_by_day,
    cei,
    collectability_by_age,
    compute_metrics,
    count_back_dso,
    daily_series,
    dso_count_back_at,
    month_ends,
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
    clv = round(12 * 1500 * 100 * np.exp(0.8**2 / 2) * 0.25 * (1 - 1.1**-5) / 0.1)
    assert m.churned_customers == 1 and m.margin_lost_to_churn == clv
    cash = [(70, 5000), (65, 29400), (72, 3000), (75, 5000)]
    npv = sum(a * 1.1 ** (-(d - 31) / 365) for d, a in cash)
    assert m.npv == pytest.approx(npv)
    assert m.net_value == pytest.approx(npv - 50 * 1.1 ** (-(68 - 31) / 365) - m.margin_lost_to_churn)


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
