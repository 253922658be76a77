"""Customers over time: goodwill recovers toward baseline, sets the pace of orders, and drives churn."""

import numpy as np

import collectsim
from helpers import paired_t, small_data


def _scenario(policy=None, **segment):
    data = small_data()
    data["horizon"]["measured_days"] = 240
    for seg in data["portfolio"]["segments"]:
        seg.update(segment)
    if policy is not None:
        data["policies"] = {"p": policy}
    return collectsim.parse_scenario(data)


def test_goodwill_follows_the_recovery_curve_between_events():
    scenario = _scenario(dispute_rate=0.2)
    result = collectsim.simulate(scenario)
    tau = scenario.behaviour.goodwill_recovery_days
    ev = result.events.to_frame()
    ev = ev[ev["goodwill_before"].notna()]
    baseline = result.customers.goodwill_baseline
    checked = 0
    for customer, rows in ev.groupby("customer"):
        b = baseline[customer]
        days = rows["day"].to_numpy()
        before, after = rows["goodwill_before"].to_numpy(), rows["goodwill_after"].to_numpy()
        expected = b + (after[:-1] - b) * np.exp(-(days[1:] - days[:-1]) / tau)
        assert np.allclose(before[1:], expected, rtol=0, atol=1e-12)
        checked += len(expected)
    assert checked > 500


def test_churn_at_baseline_goodwill_matches_the_yearly_rate():
    """No actions at all: goodwill stays at baseline, so churn is a constant hazard of 30% a year."""
    data = small_data()
    data["horizon"] = {"warmup_days": 0, "measured_days": 365, "runoff_days": 0}
    data["portfolio"]["segments"] = [{"name": "all", "customers": 3000, "orders_per_year": 4, "churn_per_year": 0.3,
                                      "dispute_rate": 0.0}]
    data["policies"] = {"none": {}}
    result = collectsim.simulate(collectsim.parse_scenario(data))
    churned = result.metrics.churned_customers
    sd = np.sqrt(3000 * 0.3 * 0.7)
    assert abs(churned - 900) < 4 * sd, churned
    assert result.metrics.margin_lost_to_churn > 0


def test_churned_customers_order_no_more():
    scenario = _scenario(churn_per_year=0.9)
    result = collectsim.simulate(scenario)
    ev = result.events
    churn = ev["kind"] == collectsim.EventKind.CHURNED
    churn_day = dict(zip(ev["customer"][churn].tolist(), ev["day"][churn].tolist()))
    assert len(churn_day) > 10
    issued = result.invoices
    for customer, day in churn_day.items():
        assert not np.any((issued["customer"] == customer) & (issued["issue_day"] >= day))


def test_higher_goodwill_brings_more_orders_and_less_churn():
    """Stylised fact over 10 CRN seeds: friendly reminders keep goodwill, orders and customers."""
    steps = [{"offset": o, "channel": "letter"} for o in (1, 7, 14, 21, 30)]
    scenario = _scenario(churn_per_year=0.3)
    base = scenario.policy()
    friendly = base.with_values({"reminders": {"steps": [{**s, "tone": "friendly"} for s in steps]}})
    final = base.with_values({"reminders": {"steps": [{**s, "tone": "final"} for s in steps]}})
    more_orders, less_churn = [], []
    for seed in range(1, 11):
        a = collectsim.simulate(scenario, friendly, seed=seed).metrics
        b = collectsim.simulate(scenario, final, seed=seed).metrics
        assert a.mean_goodwill > b.mean_goodwill
        more_orders.append(a.invoices - b.invoices)
        less_churn.append(b.churned_customers - a.churned_customers)
    for diffs in (more_orders, less_churn):
        assert paired_t(diffs) > 3, diffs
