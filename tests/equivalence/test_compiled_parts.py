"""A run whose customers never meet, run in parts and merged, is the run made all at once, to the last bit.

Every test runs the same scenario, policy and seed whole and in small parts (a few customers each, so that many
parts meet in the merge) and compares the invoice table, the event log row for row, and the final goodwill.
"""

from __future__ import annotations

import numpy as np
import pytest
from engine_checks import TARGETS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import golden
from collectsim import from_open_ledger, simulate
from collectsim.config.scaled import scaled_scenario
from collectsim.engines import compiled_engine
from collectsim.model.rule_policy import RuleBasedPolicy
from collectsim.results.eventlog import COLUMNS
from collectsim.results.invoices import COLUMNS as INVOICE_COLUMNS
from helpers import ROOT, small_history

SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
APART = {"team": {"staff": 0}, "behaviour": {"reputation_spillover": 0}}  # customers who never meet
WHOLE = 10**9  # more customers than any test has: one part


def assert_same_outputs(whole, parts) -> None:
    _, invoices, events, goodwill = whole
    _, invoices_p, events_p, goodwill_p = parts
    for name in INVOICE_COLUMNS:
        assert np.array_equal(invoices[name], invoices_p[name], equal_nan=invoices[name].dtype.kind == "f"), name
        assert invoices[name].dtype == invoices_p[name].dtype, name
    assert len(events) == len(events_p)
    for name in COLUMNS:
        assert np.array_equal(events[name], events_p[name], equal_nan=events[name].dtype.kind == "f"), name
        assert events[name].dtype == events_p[name].dtype, name
    assert np.array_equal(goodwill, goodwill_p)


def run(scenario, spec, seed, size, threads=1):
    return compiled_engine.run_one(scenario, RuleBasedPolicy(spec, scenario).tables, seed, threads=threads,
                                   part_customers=size)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_bundled_strategy_in_parts_is_the_whole_run(path):
    scenario = scaled_scenario(path, 60, APART)
    assert compiled_engine.customers_never_meet(scenario)
    for spec in scenario.policies:
        whole = run(scenario, spec, 3, WHOLE)
        assert len(whole[2]) > 500 and (whole[2]["kind"] != whole[2]["kind"][0]).any()
        assert_same_outputs(whole, run(scenario, spec, 3, 7, threads=2))


def test_every_golden_case_in_parts_is_the_whole_run():
    """The golden cases switch every lever on (fees, settlements, mediation, agency, court, credit hold,
    onboarding, plans, extended terms, payment runs, end-of-month terms, arrivals), here without a team."""
    for _name, scenario, spec in golden.cases(50):
        apart = scenario.with_values({"team.staff": 0, "behaviour.reputation_spillover": 0})
        for seed in golden.SEEDS[:2]:
            whole = run(apart, spec, seed, WHOLE)
            for size in (1, 9):
                assert_same_outputs(whole, run(apart, spec, seed, size))


def test_the_whole_run_in_parts_is_still_the_simpy_engine_s():
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 30, APART)
    spec = scenario.policy("firm-and-fair").with_values(golden.LEVERS_POLICY)
    ref = simulate(scenario, spec, seed=8, engine="simpy")
    _, invoices, events, goodwill = run(scenario, spec, 8, 4)
    assert ref.invoices.to_frame().equals(invoices.to_frame())
    assert ref.events.to_frame().equals(events.to_frame())
    assert np.array_equal(ref.final_goodwill, goodwill)


def test_a_run_from_an_open_ledger_in_parts_is_the_whole_run():
    """The opening book's invoices keep their numbers (the book's order) when their customers are in parts."""
    scenario, ledger = small_history(seed=3, days=300)
    opened = from_open_ledger(scenario, ledger, measured_days=120, runoff_days=60)
    assert compiled_engine.customers_never_meet(opened) and opened.opening.invoices > 10
    spec = opened.policy("ladder")
    whole = run(opened, spec, 2, WHOLE)
    for size in (1, 3):
        assert_same_outputs(whole, run(opened, spec, 2, size, threads=2))


def test_a_part_that_outgrows_its_arrays_is_repeated_with_more(monkeypatch):
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 40, APART)
    spec = scenario.policy("aggressive").with_values(golden.LEVERS_POLICY)
    whole = run(scenario, spec, 4, WHOLE)
    real, asked = compiled_engine._capacity, []

    def tiny(scenario, segment, arrival_day):
        asked.append(len(segment))
        return real(scenario, segment, arrival_day) // real(scenario, segment, arrival_day) * 4

    monkeypatch.setattr(compiled_engine, "_capacity", tiny)
    assert_same_outputs(whole, run(scenario, spec, 4, 6))
    n = len(whole[0])  # customers, with those who arrive during the run
    assert asked == [6] * (n // 6) + [n % 6] * (n % 6 > 0)  # each part sized for its own customers, once


@pytest.mark.parametrize("tables", [{"team": {"staff": 0.05}}, {"behaviour": {"reputation_spillover": 0.2}}],
                         ids=["a team", "spill-over"])
def test_customers_who_meet_are_never_run_in_parts(monkeypatch, tables):
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 30, tables)
    assert not compiled_engine.customers_never_meet(scenario)

    def refuse(*args, **kwargs):
        raise AssertionError("split a run whose customers meet")

    monkeypatch.setattr(compiled_engine, "run_parts", refuse)
    run(scenario, scenario.policy("firm-and-fair"), 1, 3)


def test_a_run_no_larger_than_a_part_is_run_whole(monkeypatch):
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 20, APART)
    n = len(run(scenario, scenario.policy(), 1, WHOLE)[0])  # customers, with those who arrive during the run
    monkeypatch.setattr(compiled_engine, "run_parts", lambda *a, **k: pytest.fail("split a run of one part"))
    run(scenario, scenario.policy(), 1, n)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**40), customers=st.integers(5, 40), size=st.integers(1, 12), targets=TARGETS,
       policy=st.sampled_from(["as-is", "firm-and-fair", "flexible-plans", "aggressive"]),
       arrivals=st.sampled_from([0.0, 15.0]), insolvency=st.sampled_from([0.0, 0.3]),
       levers=st.fixed_dictionaries({}, optional={
           "plans.on_request": st.booleans(), "fees.enforce": st.booleans(), "settlement.offer": st.booleans(),
           "escalation.mediation": st.booleans(), "escalation.agency": st.booleans(),
           "escalation.legal": st.booleans(), "escalation.credit_hold": st.booleans(),
           "onboarding.credit_check": st.booleans(), "extended_terms.offer": st.booleans()}))
def test_generated_runs_in_parts_are_the_whole_run(seed, customers, size, targets, policy, arrivals, insolvency,
                                                   levers):
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", customers, APART,
                               {"cash-strained": {"new_customers_per_year": arrivals, "insolvency_rate": insolvency}})
    spec = scenario.policy(policy).with_values({**levers, **({"targets": targets} if targets else {})})
    assert_same_outputs(run(scenario, spec, seed, WHOLE), run(scenario, spec, seed, size, threads=2))
