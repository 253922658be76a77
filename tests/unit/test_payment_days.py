"""Payments as they cluster: the due-date spike, payment-run weekdays and a mix of terms (issue 22)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectsim import simulate
from collectsim.config.scaled import scaled_scenario
from collectsim.config.scenario import ScenarioError, terms_choices, weekday_cumulative, weekday_mask
from collectsim.model import behaviour as rules
from collectsim.model.behaviour import DISTRESSED, HEALTHY, STRAINED
from collectsim.results.eventlog import EventKind
from helpers import ROOT


def test_a_healthy_customer_pays_on_the_due_date_with_the_share_s_chance():
    assert rules.pays_on_due_date(0.29, 0.3, HEALTHY)
    assert not rules.pays_on_due_date(0.31, 0.3, HEALTHY)
    assert not rules.pays_on_due_date(0.01, 0.0, HEALTHY)
    assert not rules.pays_on_due_date(0.01, 0.9, STRAINED)  # a customer short of cash does not keep to it
    assert not rules.pays_on_due_date(0.01, 0.9, DISTRESSED)


def test_pick_share_draws_from_a_discrete_mix():
    cumulative = (0.2, 0.2, 0.7, 1.0)  # the second option has no weight
    assert [rules.pick_share(p, cumulative) for p in (0.1, 0.2, 0.5, 0.69, 0.7, 0.99)] == [0, 2, 2, 2, 3, 3]
    picks = np.array([rules.pick_share(p, cumulative) for p in (np.arange(10_000) + 0.5) / 10_000])
    assert np.bincount(picks, minlength=4).tolist() == [2000, 0, 5000, 3000]


@given(st.integers(0, 2000), st.integers(0, 6), st.integers(1, 127))
def test_next_weekday_in_is_the_first_day_on_or_after_in_the_mask(day, first, mask):
    out = rules.next_weekday_in(day, first, mask)
    assert day <= out <= day + 6
    assert (mask >> ((out + first) % 7)) & 1
    assert all(not (mask >> ((d + first) % 7)) & 1 for d in range(day, out))


def test_no_mask_means_any_day():
    assert rules.next_weekday_in(17, 3, 0) == 17
    assert rules.release_day(17, 10, 3, 0, 0) == 17


def test_a_payment_waits_for_the_customer_s_run_day_and_a_due_date_payment_for_a_business_day():
    # day 0 is a Monday (first weekday 0); business days Monday to Friday; the customer runs on Thursdays
    business, thursday = 0b0011111, 1 << 3
    assert rules.release_day(8, 2, 0, thursday, business) == 10  # a Tuesday payment waits for Thursday
    assert rules.release_day(10, 2, 0, thursday, business) == 10
    assert rules.release_day(11, 2, 0, thursday, business) == 17  # Friday: next Thursday
    assert rules.release_day(8, 8, 0, thursday, business) == 8  # due on a Tuesday and paid then: it goes
    assert rules.release_day(5, 5, 0, thursday, business) == 7  # due on a Saturday: the next Monday...
    assert rules.release_day(7, 5, 0, thursday, business) == 7  # ...and on that Monday it goes
    assert rules.release_day(6, 5, 0, thursday, business) == 7


def test_segment_tables_of_weekdays_and_terms():
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 20, segments={
        "prompt": {"payment_weekdays": [1, 0, 3, 0, 0, 0, 0], "terms_mix": {"60": 1, "14": 3}}})
    prompt, other = scenario.portfolio.segments[0], scenario.portfolio.segments[1]
    assert weekday_cumulative(prompt) == (0.25, 0.25, 1.0, 1.0, 1.0, 1.0, 1.0)
    assert weekday_mask(prompt) == 0b101
    assert terms_choices(prompt) == ((14, 60), (0.75, 1.0))
    assert weekday_cumulative(other) == () and weekday_mask(other) == 0
    assert terms_choices(other) == ((other.terms_days,), (1.0,))


@pytest.mark.parametrize("values,problem", [
    ({"payment_weekdays": [1, 1, 1]}, "7 weights"),
    ({"payment_weekdays": [0] * 7}, "7 weights"),
    ({"payment_weekdays": [1] * 7, "payment_run": "weekly"}, "not both"),
    ({"terms_mix": {"thirty": 1.0}}, "whole days"),
    ({"terms_mix": {"400": 1.0}}, "whole days"),
    ({"terms_mix": {"30": -1}}, "each share"),
    ({"terms_mix": {"30": "a lot"}}, "each share"),
    ({"terms_mix": {"30": 0}}, "above 0"),
    ({"terms_mix": {str(d): 1 for d in range(9)}}, "at most 8"),
])
def test_bad_payment_days_get_a_one_line_error_naming_the_key(values, problem):
    with pytest.raises(ScenarioError, match=problem) as err:
        scaled_scenario(ROOT / "scenarios" / "baseline.toml", 20, segments={"prompt": values})
    assert "portfolio.segments[0]." in str(err.value) and "\n" not in str(err.value)


def _payments(result):
    ev = result.events
    paid = ev["kind"] == EventKind.PAYMENT
    return ev["invoice"][paid], ev["day"][paid]


def test_simulated_payments_cluster_on_the_due_date_and_the_run_weekdays():
    weights = [1, 0, 2, 0, 1, 0, 0]  # Monday, Wednesday, Friday
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 200, segments={
        s: {"on_due_date_share": 0.4, "payment_weekdays": weights, "terms_mix": {"30": 0.5, "60": 0.5}}
        for s in ("prompt", "habitually-late", "late-on-purpose", "cash-strained", "admin-heavy")})
    result = simulate(scenario, "as-is", seed=3)
    rows, days = _payments(result)
    inv = result.invoices
    due = np.asarray(inv["due_day"])[rows]
    weekday = (days + scenario.horizon.start_date.weekday()) % 7
    on_due = days == due
    counts = np.bincount(weekday[~on_due], minlength=7)
    assert counts[[1, 3, 5, 6]].sum() == 0  # only on run weekdays, apart from scheduled due-date payments
    shares = counts / counts.sum()
    assert abs(shares[2] - 0.5) < 0.05 and abs(shares[0] - 0.25) < 0.05
    assert np.isin(weekday[on_due], [0, 2, 4]).all()  # a due date on another day is paid on the next payment day
    due_on_run_day = np.isin((due + scenario.horizon.start_date.weekday()) % 7, [0, 2, 4])
    assert 0.3 < on_due[due_on_run_day].mean() < 0.45  # 0.4 of invoices, less those set aside or paid late in strain
    terms = np.asarray(inv["due_day"]) - np.asarray(inv["issue_day"])
    assert set(np.unique(terms)) == {30, 60} and abs((terms == 30).mean() - 0.5) < 0.05


def test_the_defaults_leave_payment_days_as_they_were():
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 60)
    same = scenario.with_values({"portfolio.segments.prompt.on_due_date_share": 0.0,
                                 "portfolio.segments.prompt.payment_weekdays": [],
                                 "portfolio.segments.prompt.terms_mix": {}})
    a, b = simulate(scenario, "as-is", seed=1), simulate(same, "as-is", seed=1)
    np.testing.assert_array_equal(a.events["day"], b.events["day"])
    assert a.metrics.dso == b.metrics.dso


def test_the_start_date_s_weekday_sets_the_run_days():
    weights = [0, 0, 0, 0, 1, 0, 0]  # Fridays only
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 40, tables={"horizon": {
        "start_date": dt.date(2025, 1, 4)}}, segments={"prompt": {"payment_weekdays": weights}})
    result = simulate(scenario, "as-is", seed=1)
    rows, days = _payments(result)
    prompt = np.asarray(result.invoices["segment"])[rows] == 0
    dates = [scenario.horizon.start_date + dt.timedelta(days=int(d)) for d in days[prompt]]
    assert dates and {d.isoweekday() for d in dates} == {5}
