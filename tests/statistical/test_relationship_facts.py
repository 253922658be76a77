"""Stylised facts a credit manager would check before believing the relationship economics.

Each runs the bundled baseline (or a variant of it) on seeds 101 and up, which were never used to set a
parameter, and compares policies with common random numbers:

- chasing, whether firm-and-fair or aggressive, lowers DSO against reactive as-is chasing;
- selling the same revenue in four times as many invoices barely changes churn or net value, now that
  contact and cost are per customer contact and goodwill follows the account, not the invoice count;
- with goodwill's effects on orders and churn switched off, two policies' net values differ by exactly the
  difference of their cash economics: nothing relational is left to tip the balance;
- collectability by age of debt under as-is sits inside the published ranges.
"""

from __future__ import annotations

import numpy as np
import pytest

import collectsim
from collectsim.config.scaled import scaled_scenario
from collectsim.experiments.stats import mean_interval
from collectsim.results.metrics import collectability_parts
from helpers import SCENARIOS

BASELINE = SCENARIOS / "baseline.toml"
SEEDS = tuple(range(101, 111))
#: The split scenario shares no draws with the whole one, so their difference is read from independent means: 40
#: replications keep its standard error near 2% of net value (one customer lost costs about 1.7%), well inside 5%.
SPLIT_SEEDS = tuple(range(101, 141))
CASH_PARTS = ("nv_cash_collected", "nv_fees", "nv_cost_of_goods", "nv_collection_costs", "nv_staff_cost",
              "nv_acquisition_costs")


def _metrics(scenario, policy: str, seeds=SEEDS) -> list:
    return [r.metrics for r in collectsim.simulate_batch(scenario, policy, list(seeds))]


def _values(runs, name: str) -> np.ndarray:
    return np.asarray([getattr(m, name) for m in runs], dtype=float)


def test_firm_and_fair_and_aggressive_both_lower_dso_against_as_is():
    scenario = collectsim.load_scenario(BASELINE)
    as_is = _values(_metrics(scenario, "as-is"), "dso")
    for policy in ("firm-and-fair", "aggressive"):
        chased = _values(_metrics(scenario, policy), "dso")
        interval = mean_interval(chased - as_is)
        mean, lo, hi = interval.mean, interval.lo, interval.hi
        print(f"{policy} - as-is DSO: {mean:.2f} days (95% CI {lo:.2f} to {hi:.2f})")
        assert hi < 0, f"{policy} does not lower DSO: {mean:.2f} days ({lo:.2f} to {hi:.2f})"


# Aggressive failed this until escalation kept what the debtor would have paid (2026-12-07): four times as many
# invoices brought four times the court cases paid per invoice. Now a debtor that would have paid pays the claim, few
# cases reach a judgment and the court fee is a share of the claim: net value 581,089 -> 577,519 on these seeds.
@pytest.mark.parametrize("policy", ["as-is", "firm-and-fair", "discount-led", "flexible-plans", "gentle", "aggressive"])
def test_the_same_revenue_in_four_times_as_many_invoices_changes_churn_and_net_value_little(policy):
    # The team is unlimited here: four times the invoices are more work for a part-time controller (a real
    # effect, shown by the team's utilisation), while this fact is about what one invoice more does to a customer.
    unlimited = {"team": {"staff": 0.0}}
    plain = collectsim.load_scenario(BASELINE)
    n = sum(s.customers for s in plain.portfolio.segments)
    scenario = scaled_scenario(BASELINE, n, unlimited)
    split = scaled_scenario(BASELINE, n, unlimited, segments={
        s.name: {"orders_per_year": 4 * s.orders_per_year, "amount_median": s.amount_median / 4}
        for s in plain.portfolio.segments})
    whole, parts = _metrics(scenario, policy, SPLIT_SEEDS), _metrics(split, policy, SPLIT_SEEDS)
    churn_whole = _values(whole, "churned_customers").mean()
    churn_split = _values(parts, "churned_customers").mean()
    value_whole, value_split = _values(whole, "net_value").mean(), _values(parts, "net_value").mean()
    print(f"{policy}: churned {churn_whole:.1f} -> {churn_split:.1f}; net value {value_whole / 100:,.0f} -> "
          f"{value_split / 100:,.0f}")
    assert abs(churn_split - churn_whole) <= max(0.25 * churn_whole, 3.0)
    assert abs(value_split - value_whole) <= 0.05 * abs(value_whole)


def test_without_goodwill_effects_net_value_differs_by_the_cash_economics_alone():
    scenario = scaled_scenario(BASELINE, 400, {"behaviour": {"order_goodwill_elasticity": 0.0,
                                                             "churn_goodwill_slope": 0.0}})
    seeds = SEEDS[:4]
    as_is = _metrics(scenario, "as-is", seeds)
    for policy in ("firm-and-fair", "aggressive", "discount-led"):
        other = _metrics(scenario, policy, seeds)
        for a, b in zip(as_is, other):
            assert a.churned_customers == b.churned_customers  # churn no longer depends on how we chase
            assert a.nv_future_margin_lost == b.nv_future_margin_lost
            cash = sum(getattr(b, k) - getattr(a, k) for k in CASH_PARTS)
            assert abs((b.net_value - a.net_value) - cash) < 1e-6  # cents: equal but for floating-point rounding


PUBLISHED = {0: (0.94, 1.0), 90: (0.69, 0.74), 180: (0.44, 0.54), 365: (0.10, 0.26)}


def test_collectability_by_age_under_as_is_is_inside_the_published_ranges():
    scenario = collectsim.load_scenario(BASELINE)
    collected = dict.fromkeys(PUBLISHED, 0)
    owed = dict.fromkeys(PUBLISHED, 0)
    for result in collectsim.simulate_batch(scenario, "as-is", list(SEEDS)):
        for age, (got, open_) in collectability_parts(result.invoices, result.events, tuple(PUBLISHED)).items():
            collected[age] += got
            owed[age] += open_
    curve = {age: collected[age] / owed[age] for age in PUBLISHED}
    print("collectability by age:", {age: round(share, 3) for age, share in curve.items()})
    for age, (low, high) in PUBLISHED.items():
        assert low <= curve[age] <= high, f"{age} days past due: {curve[age]:.3f} outside {low}-{high}"


def test_no_bundled_strategy_loses_a_fifth_of_its_customers_and_aggressive_at_most_two_and_a_half_times_as_is():
    scenario = collectsim.load_scenario(BASELINE)
    lost = {}
    for spec in scenario.policies:
        runs = _metrics(scenario, spec.name)
        share = _values(runs, "churned_customers") / _values(runs, "customers_at_start")
        lost[spec.name] = _values(runs, "churned_customers").mean()
        print(f"{spec.name}: {lost[spec.name]:.1f} customers lost, {share.mean():.1%} of those at the start")
        assert share.mean() <= 0.20, spec.name
    assert lost["aggressive"] <= 2.5 * lost["as-is"]


def test_every_bundled_scenario_has_a_costed_team_that_the_busiest_policies_keep_busy_and_new_customers():
    for path in sorted(SCENARIOS.glob("*.toml")):
        scenario = collectsim.load_scenario(path)
        assert scenario.team.staff > 0 and scenario.team.hourly_cost > 0, path.name
        assert all(seg.new_customers_per_year > 0 for seg in scenario.portfolio.segments), path.name
        runs = {spec.name: _metrics(scenario, spec.name, SEEDS[:3]) for spec in scenario.policies}
        for name, metrics in runs.items():
            assert _values(metrics, "staff_cost").min() > 0, (path.name, name)
            assert _values(metrics, "new_customers").mean() > 0, (path.name, name)
        if path.stem == "baseline":
            busy = {name: _values(metrics, "staff_utilisation").mean() for name, metrics in runs.items()}
            print("staff utilisation:", {k: round(v, 2) for k, v in busy.items()})
            assert busy["firm-and-fair"] > 0.9 and busy["aggressive"] > 0.9  # capacity binds for them
            assert busy["as-is"] < 0.8  # and not for reactive chasing
