"""The six playbook strategies and the three portfolio archetypes: they load, each archetype has them all, and they
run unchanged on a portfolio calibrated from a ledger (whose segments are named by the calibration)."""

from __future__ import annotations

import numpy as np
import pytest

import collectsim
from collectsim.apps.cli import main
from collectsim.results.eventlog import EventKind
from helpers import SAMPLE_LEDGER, SCENARIOS

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


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory) -> collectsim.Scenario:
    """The scenario ``collectsim calibrate examples/sample_ledger.csv`` fits."""
    out = tmp_path_factory.mktemp("calibrated") / "mine.toml"
    assert main(["calibrate", str(SAMPLE_LEDGER), "--out", str(out)]) == 0
    return collectsim.load_scenario(out)


@pytest.mark.parametrize("name", STRATEGIES)
def test_no_strategy_targets_a_hidden_behaviour_segment(name):
    assert collectsim.load_strategy(SCENARIOS / "strategies" / f"{name}.toml").segments == {}


@pytest.mark.parametrize("name", STRATEGIES)
def test_every_strategy_runs_unchanged_on_a_calibrated_portfolio(calibrated, name):
    spec = collectsim.load_strategy(SCENARIOS / "strategies" / f"{name}.toml")
    result = collectsim.simulate(calibrated, spec, seed=1)
    m = result.metrics
    assert m.cash_collected > 0.5 * m.invoiced
    assert 0 < m.dso < 365


def test_firm_and_fair_is_firmer_with_the_calibrated_customers_who_pay_late(calibrated):
    """Its pays-late target (recent invoices 21+ days late on average) finds customers on a fitted portfolio: their
    invoices get its firm call the day after the due date, which the base ladder never makes."""
    spec = collectsim.load_strategy(SCENARIOS / "strategies" / "firm-and-fair.toml")
    result = collectsim.simulate(calibrated, spec, seed=1)
    ev, inv = result.events, result.invoices
    reminded = ev["kind"] == EventKind.REMINDER
    days_after_due = ev["day"][reminded] - np.asarray(inv["due_day"])[ev["invoice"][reminded]]
    firm_call = (ev["channel"][reminded] == 2) & (ev["tone"][reminded] == 1) & (days_after_due == 1)
    assert 0 < firm_call.sum() < reminded.sum()
