"""The six playbook strategies and the three portfolio archetypes: they load, and each archetype has them all."""

from __future__ import annotations

import pytest

import collectsim
from helpers import SCENARIOS

STRATEGIES = ("as-is", "firm-and-fair", "discount-led", "flexible-plans", "gentle", "aggressive")
ARCHETYPES = ("baseline", "large-manufacturers", "seasonal")


@pytest.mark.parametrize("name", STRATEGIES)
def test_every_strategy_file_loads_and_says_where_its_numbers_come_from(name):
    path = SCENARIOS / "strategies" / f"{name}.toml"
    assert collectsim.load_strategy(path).name == name
    text = path.read_text(encoding="utf-8")
    assert "assumption" in text.lower()  # each file states its assumptions


@pytest.mark.parametrize("name", ARCHETYPES)
def test_every_archetype_includes_all_strategies_with_as_is_first(name):
    scenario = collectsim.load_scenario(SCENARIOS / f"{name}.toml")
    assert [p.name for p in scenario.policies][0] == "as-is"
    assert sorted(p.name for p in scenario.policies) == sorted(STRATEGIES)
    assert "assumption" in (SCENARIOS / f"{name}.toml").read_text(encoding="utf-8").lower()


def test_baseline_as_is_is_the_policy_that_used_to_be_inline(baseline):
    """Moving as-is into a strategy file must not change the baseline's default policy."""
    spec = baseline.policy("as-is")
    assert [(s.offset, s.channel, s.tone) for s in spec.reminders.steps] == [
        (7, "email", "friendly"), (30, "letter", "firm"), (60, "phone", "firm")]
    assert spec.reminders.pause_on_dispute is False
    assert spec.discount.rate == 0.0 and spec.write_off.age_days == 1095
    assert not spec.plans.offer and not spec.fees.enforce and not spec.escalation.agency


def test_large_manufacturers_have_few_big_invoices_on_long_terms(baseline):
    big = collectsim.load_scenario(SCENARIOS / "large-manufacturers.toml")
    assert big.portfolio.customer_count < baseline.portfolio.customer_count / 10
    assert min(s.terms_days for s in big.portfolio.segments) >= 60
    assert min(s.amount_median for s in big.portfolio.segments) > 4 * max(
        s.amount_median for s in baseline.portfolio.segments)


def test_seasonal_customers_have_liquidity_cycles_peaking_in_different_months():
    seasonal = collectsim.load_scenario(SCENARIOS / "seasonal.toml")
    cyclical = [s for s in seasonal.portfolio.segments if s.seasonality > 0]
    assert len(cyclical) >= 2
    assert len({s.seasonal_peak_month for s in cyclical}) == len(cyclical)
