"""New customers arrive during the run; credit checks refuse the riskiest and limits cap what the rest owe."""

import numpy as np

import collectsim
from collectsim.model.portfolio import make_customers
from helpers import small_data


def _data(**onboarding):
    data = small_data()
    data["portfolio"]["segments"][1].update(new_customers_per_year=40.0)
    data["policies"]["ladder"]["onboarding"] = onboarding
    return data


def test_no_arrivals_leave_the_opening_portfolio_as_it_was():
    plain = make_customers(collectsim.parse_scenario(small_data()), 7)
    grown = make_customers(collectsim.parse_scenario(_data()), 7)
    n = len(plain)
    assert (plain.arrival_day == 0).all() and len(grown) > n
    assert np.array_equal(plain.habit_days_late, grown.habit_days_late[:n])
    assert np.array_equal(plain.segment, grown.segment[:n])


def test_applicants_arrive_at_the_yearly_rate_and_only_then_trade():
    scenario = collectsim.parse_scenario(_data())
    result = collectsim.simulate(scenario, seed=3)
    new = np.flatnonzero(result.customers.arrival_day > 0)
    years = scenario.horizon.measured_end / 365
    assert 0.6 * 40 * years < len(new) < 1.4 * 40 * years
    assert (result.customers.segment[new] == 1).all()
    inv = result.invoices
    arrival = result.customers.arrival_day[inv["customer"]]
    assert (inv["issue_day"] >= arrival).all() and np.isin(new, inv["customer"]).sum() > 0.5 * len(new)
    ev = result.events.to_frame()
    onboarded = ev[ev["kind"] == "customer_onboarded"]
    # Every applicant is taken on (no credit check), unless it failed before it arrived.
    assert set(onboarded["customer"]) <= set(new) and len(onboarded) >= 0.9 * len(new)
    # Nothing happens to a customer before it arrives.
    assert (ev["day"].to_numpy() >= result.customers.arrival_day[ev["customer"].to_numpy()]).all()


def test_credit_checks_refuse_the_share_asked_and_the_refused_are_the_late_payers():
    result = collectsim.simulate(collectsim.parse_scenario(_data(credit_check=True, refuse_share=0.3)), seed=3)
    ev = result.events.to_frame()
    refused = ev.loc[ev["kind"] == "customer_refused", "customer"].to_numpy()
    taken = ev.loc[ev["kind"] == "customer_onboarded", "customer"].to_numpy()
    assert 0.15 < len(refused) / (len(refused) + len(taken)) < 0.45
    assert not np.isin(refused, result.invoices["customer"]).any()
    habit = result.customers.habit_days_late
    assert habit[refused].mean() > habit[taken].mean()  # the report is a noisy signal of lateness
    assert (ev.loc[ev["kind"].isin(["customer_refused", "customer_onboarded"]), "cost"] == 1500).all()
    assert result.metrics.customers_refused == np.count_nonzero(
        (ev["kind"] == "customer_refused") & (ev["day"] >= 60) & (ev["day"] < 240))


def test_a_credit_limit_refuses_orders_beyond_it_for_new_customers_only():
    result = collectsim.simulate(collectsim.parse_scenario(_data(credit_limit=2000.0)), seed=3)
    ev = result.events.to_frame()
    refused = ev[ev["kind"] == "order_refused"]
    assert len(refused) > 0
    assert (result.customers.arrival_day[refused["customer"].to_numpy()] > 0).all()
