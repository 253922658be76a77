"""One compiled batch can hold runs of several policies; each run is the one its policy's own batch gives.

Runs never meet (each has its own customers, and its own team), so mixing policies in a batch only
changes where each run looks up its policy's rules. The check is exact: the same invoice table, event
log row for row, final goodwill and metrics as a batch of that policy alone (which the equivalence
tests in test_compiled_engine.py hold to the SimPy engine).
"""

from __future__ import annotations

import pytest
from engine_checks import STEP as _STEP
from engine_checks import TARGETS, assert_same
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import golden
from collectsim.config.scaled import scaled_scenario
from collectsim.engines.base import supports
from collectsim.engines.compiled_engine import run_batch
from collectsim.model.rule_policy import RuleBasedPolicy
from collectsim.results.run import result_of
from helpers import ROOT

SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
SEEDS = (5, 6)


def _check_mixed_against_alone(scenario, specs) -> None:
    deciders = [RuleBasedPolicy(spec, scenario) for spec in specs]
    # Policies interleaved, so neighbouring runs follow different rules: k0 s0, k1 s0, ..., k0 s1, ...
    policy_of = [k for _seed in SEEDS for k in range(len(specs))]
    seeds = [seed for seed in SEEDS for _k in range(len(specs))]
    mixed = run_batch(scenario, [d.tables for d in deciders], seeds, policy_of=policy_of)
    for k, (spec, decider) in enumerate(zip(specs, deciders)):
        alone = run_batch(scenario, [decider.tables], list(SEEDS))
        runs = [out for out, p in zip(mixed, policy_of) if p == k]
        for seed, ref, out in zip(SEEDS, alone, runs):
            assert_same(result_of(scenario, spec.name, seed, ref), result_of(scenario, spec.name, seed, out))


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_every_bundled_scenario_s_policies_in_one_batch(path):
    scenario = scaled_scenario(path, 40)
    specs = [s for s in scenario.policies if supports(RuleBasedPolicy(s, scenario)) is None]
    assert len(specs) >= 2
    _check_mixed_against_alone(scenario, specs)


#: The lever policy again with other amounts, so a run that read another policy's rules would differ.
OTHER_AMOUNTS = {**golden.LEVERS_POLICY, "fees.fixed_compensation": 70.0, "settlement.forgive": 0.5,
                 "escalation.mediation_cost": 450.0, "escalation.agency_fee": 0.35,
                 "escalation.court_fee_rate": 0.1, "escalation.costs_recoverable": 0.6,
                 "invoicing.clear_terms": True, "invoicing.e_invoicing": True}


@pytest.mark.parametrize("tables", [{"team": {"staff": 0.1}, "behaviour": {"reputation_spillover": 0.3}},
                                    {"behaviour": {"reputation_spillover": 0.5}}], ids=["team", "no-team"])
def test_policies_with_every_lever_a_team_and_spill_over_in_one_batch(tables):
    """Where customers of a run meet (the team's queue, an escalation's spill-over), with plans, fees,
    settlements, mediation and escalation on in two policies with different amounts, none in the first."""
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 60, tables)
    specs = [scenario.policy("as-is"), scenario.policy("aggressive").with_values(golden.LEVERS_POLICY),
             scenario.policy("aggressive").with_values({**OTHER_AMOUNTS, "name": "aggressive, other amounts"})]
    _check_mixed_against_alone(scenario, specs)


def test_policies_with_the_customer_side_levers_in_one_batch():
    """Credit hold, onboarding checks and limits, plans on request, extended terms: in one policy of three."""
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 60, segments=golden.CUSTOMER_LEVERS_SEGMENTS)
    specs = [scenario.policy("gentle"), scenario.policy("firm-and-fair").with_values(golden.CUSTOMER_LEVERS_POLICY),
             scenario.policy("as-is")]
    _check_mixed_against_alone(scenario, specs)


def test_compare_shares_batches_between_policies_within_the_memory_cap(monkeypatch):
    import collectsim
    from collectsim.experiments import replication
    from collectsim.model.draws import derive_seed

    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 40)
    specs = list(scenario.policies[:3])
    pairs = [(s, s.name) for s in specs]
    units = replication.work_units(scenario, pairs, range(4), lambda j: derive_seed(1, j), "compiled", 1)
    assert len(units) == 1 and units[0].which == (0, 1, 2) * 4 and units[0].reps == (0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3)
    shared = collectsim.compare(scenario, specs, reps=4, seed=1, engine="compiled", progress=False)
    monkeypatch.setattr(replication, "BATCH_CUSTOMER_RUNS", 40 * 5)  # at most 5 runs of 40 customers a batch
    units = replication.work_units(scenario, pairs, range(4), lambda j: derive_seed(1, j), "compiled", 1)
    assert [len(u.reps) for u in units] == [5, 5, 2]
    capped = collectsim.compare(scenario, specs, reps=4, seed=1, engine="compiled", progress=False)
    assert capped.to_json() == shared.to_json()
    monkeypatch.setattr(replication, "BATCH_RUNS", 4)  # and at most 4 runs a batch
    units = replication.work_units(scenario, pairs, range(4), lambda j: derive_seed(1, j), "compiled", 1)
    assert [len(u.reps) for u in units] == [4, 4, 4]


def test_simulate_batch_refuses_a_run_without_a_policy():
    from collectsim import simulate_batch

    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 10)
    with pytest.raises(ValueError, match="one of 2 policies for each of 2 seeds"):
        simulate_batch(scenario, ["as-is", "gentle"], [1, 2], policy_of=[0, 5])


_POLICY = st.fixed_dictionaries({
    "reminders.steps": st.lists(_STEP, max_size=4, unique_by=lambda s: s["offset"]).map(
        lambda steps: sorted(steps, key=lambda s: s["offset"])),
    "reminders.pause_on_dispute": st.booleans(), "reminders.min_gap_days": st.sampled_from([0, 4, 12]),
    "discount.rate": st.sampled_from([0.0, 0.02]),
    "write_off.age_days": st.integers(20, 400), "plans.offer": st.booleans(), "plans.on_request": st.booleans(),
    "plans.on_default": st.sampled_from(["resume", "restart", "escalate", "write_off"]),
    "fees.enforce": st.booleans(), "settlement.offer": st.booleans(), "escalation.mediation": st.booleans(),
    "escalation.agency": st.booleans(), "escalation.legal": st.booleans(),
    "escalation.credit_hold": st.booleans(), "onboarding.credit_check": st.booleans(),
    "extended_terms.offer": st.booleans(), "targets": TARGETS})


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customers=st.integers(8, 30), policies=st.lists(_POLICY, min_size=2, max_size=3),
       staff=st.sampled_from([0.0, 0.05]), spillover=st.sampled_from([0.0, 0.5]))
def test_generated_policies_in_one_batch(customers, policies, staff, spillover):
    segments = {"habitually-late": {"new_customers_per_year": 15.0}, "cash-strained": {"dispute_rate": 0.3}}
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", customers,
                               {"team": {"staff": staff}, "behaviour": {"reputation_spillover": spillover}}, segments)
    specs = [scenario.policy("as-is").with_values({**values, "name": f"p{i}"}) for i, values in enumerate(policies)]
    _check_mixed_against_alone(scenario, specs)
