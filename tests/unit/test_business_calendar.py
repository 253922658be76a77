"""End-of-month terms and payment-run days: the calendar rules, and the engine keeping to them."""

import datetime as dt

import pytest

import collectsim
from collectsim.config.business_calendar import due_day, is_run_day, next_run_days
from helpers import small_data

START = dt.date(2025, 1, 1)


def test_end_of_month_terms_run_from_the_last_day_of_the_issue_month():
    assert due_day(9, 30, False, START) == 39
    assert due_day(9, 30, True, START) == 30 + 30  # issued 10 January: 31 January + 30 days
    assert due_day(30, 30, True, START) == 30 + 30  # issued on the 31st itself
    assert due_day(31, 0, True, START) == 58  # issued 1 February 2025: due 28 February
    assert due_day(31, 0, True, dt.date(2024, 1, 1)) == 59  # leap year: 29 February 2024


def test_run_days_fall_on_the_chosen_weekday_or_day_of_month():
    thursdays = [d for d in range(60) if is_run_day(d, "weekly", 4, START)]
    assert all((START + dt.timedelta(days=d)).isoweekday() == 4 for d in thursdays) and len(thursdays) >= 8
    assert all(b - a == 7 for a, b in zip(thursdays, thursdays[1:]))
    fortnightly = [d for d in range(120) if is_run_day(d, "fortnightly", 4, START)]
    assert all(b - a == 14 for a, b in zip(fortnightly, fortnightly[1:]))
    monthly = [d for d in range(365) if is_run_day(d, "monthly", 25, START)]
    assert len(monthly) == 12 and all((START + dt.timedelta(days=d)).day == 25 for d in monthly)
    nxt = next_run_days(60, "weekly", 4, START)
    assert all(is_run_day(int(nxt[d]), "weekly", 4, START) and 0 <= nxt[d] - d < 7 for d in range(50))
    assert next_run_days(60, "any", 4, START) is None


def _payments(**segment_keys):
    data = small_data()
    for seg in data["portfolio"]["segments"]:
        seg.update(segment_keys)
    result = collectsim.simulate(collectsim.parse_scenario(data))
    ev = result.events.to_frame()
    return result, ev[ev["kind"] == "payment"]


@pytest.mark.parametrize("run, day, field", [("weekly", 2, "isoweekday"), ("monthly", 15, "day")])
def test_customers_with_a_payment_run_pay_only_on_run_days(run, day, field):
    _, paid = _payments(payment_run=run, payment_run_day=day)
    dates = [START + dt.timedelta(days=int(d)) for d in paid["day"]]
    values = {getattr(date, field)() if callable(getattr(date, field)) else getattr(date, field) for date in dates}
    assert len(paid) > 100 and values == {day}


def test_payment_runs_make_payments_later_and_end_of_month_terms_later_still():
    any_day, _ = _payments()
    weekly, _ = _payments(payment_run="weekly", payment_run_day=5)
    eom, _ = _payments(terms_end_of_month=True)
    assert weekly.metrics.dso > any_day.metrics.dso
    assert (eom.invoices["due_day"] - eom.invoices["issue_day"]).mean() > 40  # 30 days + about half a month
    assert eom.metrics.dso > any_day.metrics.dso


def test_a_weekly_run_needs_a_weekday():
    data = small_data()
    data["portfolio"]["segments"][0].update(payment_run="weekly", payment_run_day=12)
    with pytest.raises(collectsim.ScenarioError, match="payment_run_day.*weekday"):
        collectsim.parse_scenario(data)
