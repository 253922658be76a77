"""The compiled engine reproduces the SimPy engine exactly, or says it cannot and lets SimPy run.

Exactly means: the same invoice table (issue and due days, amounts, discounts, final balances), the
same event log row for row (so the same per-invoice payments, credit notes, write-offs, the same
goodwill before and after every event, the same churn day per customer and the same counts by kind),
the same final goodwill, and every metric equal (cents exactly, ratios to 1e-9, via golden.differences).
"""

from __future__ import annotations

import json
import warnings

import pytest
from engine_checks import STEP as _STEP
from engine_checks import TARGETS, assert_same
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import golden
from collectsim import simulate
from collectsim.config.scaled import scaled_scenario
from collectsim.engines.base import EngineFallbackWarning, supports
from collectsim.engines.compiled_engine import run_batch
from collectsim.engines.simulate import simulate_batch
from collectsim.model.decisions import NO_DECISION, DecisionMaker
from collectsim.model.rule_policy import RuleBasedPolicy
from collectsim.results.eventlog import EventKind
from collectsim.results.run import result_of
from helpers import ROOT

SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))
CUSTOMERS = 40


def _cases():
    for path in SCENARIOS:
        scenario = scaled_scenario(path, CUSTOMERS)
        for spec in scenario.policies:
            yield pytest.param(scenario, spec, id=f"{path.stem}-{spec.name}")


@pytest.mark.parametrize("scenario,spec", list(_cases()))
def test_every_bundled_scenario_and_strategy_is_reproduced(scenario, spec):
    assert supports(RuleBasedPolicy(spec, scenario)) is None
    for seed in (1, 2):
        ref = simulate(scenario, spec, seed=seed, engine="simpy")
        with warnings.catch_warnings():
            warnings.simplefilter("error", EngineFallbackWarning)
            vec = simulate(scenario, spec, seed=seed, engine="compiled")
        assert vec.engine == "compiled"
        assert_same(ref, vec)


def test_a_batch_of_seeds_gives_each_seed_its_own_run():
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 30)
    spec = scenario.policy("firm-and-fair")
    seeds = [5, 6, 7]
    batch = run_batch(scenario, [RuleBasedPolicy(spec, scenario).tables], seeds)
    for seed, outputs in zip(seeds, batch):
        assert_same(simulate(scenario, spec, seed=seed, engine="simpy"), result_of(scenario, spec.name, seed, outputs))
    results = simulate_batch(scenario, "aggressive", seeds)
    assert [r.engine for r in results] == ["compiled"] * 3
    for seed, result in zip(seeds, results):
        assert result.seed == seed
        assert_same(simulate(scenario, "aggressive", seed=seed, engine="simpy"), result)


def test_every_golden_case_is_reproduced():
    """The golden cases cover every lever: fees, settlements, mediation, agency, court, credit hold, onboarding
    checks and limits, plans offered, on request and restarting, extended terms, payment runs, end-of-month
    terms, arrivals, a small team and reputation spill-over."""
    for name, scenario, spec in golden.cases(40):
        for seed in golden.SEEDS:
            vec = simulate(scenario, spec, seed=seed, engine="compiled")
            assert vec.engine == "compiled", name
            assert_same(simulate(scenario, spec, seed=seed, engine="simpy"), vec)


_TEAMS = {
    "a team far too small": {"team": {"staff": 0.03}},
    "fractional minutes": {"team": {"staff": 0.037, "minutes_call": 7.3, "minutes_letter": 2.9,
                                    "minutes_email": 0.7, "minutes_dispute": 33.3}},
    "emails and disputes take no time, with spill-over": {"team": {"staff": 0.02, "minutes_email": 0,
                                                                   "minutes_dispute": 0},
                                                          "behaviour": {"reputation_spillover": 1.0}},
    "a dispute case longer than a day": {"team": {"staff": 0.01, "minutes_dispute": 400},
                                         "behaviour": {"reputation_spillover": 0.3}},
    "spill-over, unlimited team": {"behaviour": {"reputation_spillover": 1.0}},
}


@pytest.mark.parametrize("name", list(_TEAMS))
def test_a_limited_team_and_reputation_spill_over_are_reproduced(name):
    """Where customers meet: the team's strict daily queue and an escalation's spill-over, in the SimPy order."""
    tables = _TEAMS[name]
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 80, tables)
    for policy, gap in (("firm-and-fair", 0), ("aggressive", 6)):
        spec = scenario.policy(policy).with_values({**golden.LEVERS_POLICY, "reminders.min_gap_days": gap})
        for seed in (1, 2):
            vec = simulate(scenario, spec, seed=seed, engine="compiled")
            assert vec.engine == "compiled"
            assert_same(simulate(scenario, spec, seed=seed, engine="simpy"), vec)
            events = vec.events
            if tables.get("team", {}).get("staff"):
                assert (events["wait"] > 0).sum() > 50  # the queue really held work back
            if tables.get("behaviour", {}).get("reputation_spillover"):
                assert (events["kind"] == EventKind.REPUTATION).sum() > 10


def test_a_run_that_outgrows_its_arrays_is_repeated_with_more(monkeypatch):
    """The compiled engine reserves rows for the invoices, log, heap and queue it expects; a run that needs more
    stops and runs again with twice the room, and gives the same result."""
    from collectsim.engines import compiled_engine

    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 60,
                               {"team": {"staff": 0.05}, "behaviour": {"reputation_spillover": 0.5}})
    spec = scenario.policy("aggressive").with_values(golden.LEVERS_POLICY)
    ref = simulate(scenario, spec, seed=4, engine="simpy")
    sizes = []
    real = compiled_engine._capacity

    def tiny(scenario, segment, arrival_day):
        sizes.append(real(scenario, segment, arrival_day))
        return sizes[-1] // sizes[-1] * 4  # four rows of each: every array overflows at first

    monkeypatch.setattr(compiled_engine, "_capacity", tiny)
    assert_same(ref, simulate(scenario, spec, seed=4, engine="compiled"))
    assert sizes, "the capacity was not asked for"


def test_a_batch_pays_for_outgrown_arrays_once_per_policy(monkeypatch):
    """The later runs of a batch start with the room its earlier runs of the same policy needed: only the first
    run of each policy is repeated, and every run is the one it would be alone."""
    from collectsim.engines import compiled_engine
    from collectsim.engines.jit import kernels

    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 40, {"team": {"staff": 0.05}})
    specs = [scenario.policy("aggressive"), scenario.policy(scenario.policies[0].name)]
    tables = [RuleBasedPolicy(spec, scenario).tables for spec in specs]
    seeds, policy_of = [21, 22, 23, 24, 25, 26], [0, 1, 0, 1, 0, 1]
    alone = [compiled_engine.run_one(scenario, tables[p], seed) for seed, p in zip(seeds, policy_of)]
    real = compiled_engine._capacity
    monkeypatch.setattr(compiled_engine, "_capacity", lambda scn, *customers: real(scn, *customers) // real(
        scn, *customers) * 4)  # four rows of each: every array overflows at first
    ns, calls = kernels(), []
    kernel = ns.run_kernel

    def counted(*args):
        calls.append(args[4].copy())  # the capacity
        return kernel(*args)

    monkeypatch.setattr(ns, "run_kernel", counted)
    batch = run_batch(scenario, tables, seeds, policy_of, threads=1)
    starts = [k for k, rows in enumerate(calls) if (rows == 4).all()]  # a run's first try, with the estimate
    assert len(starts) == 2, "runs after the first of their policy started without the room it needed"
    assert starts == [0, starts[1]] and len(calls) > len(seeds) + 2  # the first of each policy was repeated
    for one, other in zip(alone, batch):
        assert one[1].to_frame().equals(other[1].to_frame()) and one[2].to_frame().equals(other[2].to_frame())


def test_a_batch_with_a_team_and_spill_over_gives_each_seed_its_own_run():
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 60,
                               {"team": {"staff": 0.05}, "behaviour": {"reputation_spillover": 0.5}})
    spec = scenario.policy("aggressive").with_values(golden.LEVERS_POLICY)
    seeds = [11, 12, 13]
    for seed, outputs in zip(seeds, run_batch(scenario, [RuleBasedPolicy(spec, scenario).tables], seeds)):
        assert_same(simulate(scenario, spec, seed=seed, engine="simpy"), result_of(scenario, spec.name, seed, outputs))


def test_other_decision_makers_fall_back_visibly():
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 20)

    class Scripted(DecisionMaker):
        name = "scripted"

        def decide(self, point, day, invoice, goodwill):
            return NO_DECISION

    with pytest.warns(EngineFallbackWarning, match="Scripted is not the rule-based policy"):
        result = simulate(scenario, decider=Scripted(), seed=1, engine="compiled")
    assert result.engine == "simpy"
    assert_same(simulate(scenario, decider=Scripted(), seed=1, engine="simpy"), result)
    assert simulate(scenario, decider=Scripted(), seed=1).engine == "simpy"  # auto: silently


def test_an_unknown_engine_is_refused():
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 10)
    with pytest.raises(ValueError, match="engine 'fast' is not one of auto, simpy, compiled"):
        simulate(scenario, "as-is", seed=1, engine="fast")


def test_vectorised_is_an_old_name_of_the_compiled_engine():
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 10)
    with pytest.warns(DeprecationWarning, match="ask for \"compiled\""):
        result = simulate(scenario, "as-is", seed=1, engine="vectorised")
    assert result.engine == "compiled"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**40), customers=st.integers(8, 30),
       steps=st.lists(_STEP, max_size=4, unique_by=lambda s: s["offset"]), pause=st.booleans(),
       discount=st.sampled_from([0.0, 0.01, 0.03]), window=st.integers(0, 20), write_off=st.integers(20, 400),
       slope=st.sampled_from([0.0, 3.0, 14.0]), recovery=st.sampled_from([30.0, 120.0]),
       halflife=st.sampled_from([0.0, 60.0]), set_aside=st.sampled_from([0.0, 90.0]),
       request=st.sampled_from([0.0, 0.5]), run=st.sampled_from(["any", "weekly", "monthly"]),
       eom=st.booleans(), arrivals=st.sampled_from([0.0, 15.0]), shock=st.booleans(),
       strained=st.fixed_dictionaries({"partial_share": st.sampled_from([0.0, 0.6]),
                                       "insolvency_rate": st.sampled_from([0.0, 0.3]),
                                       "churn_per_year": st.sampled_from([0.0, 0.3]),
                                       "dispute_rate": st.sampled_from([0.0, 0.3])}),
       levers=st.fixed_dictionaries({
           "plans.offer": st.booleans(), "plans.after_days_overdue": st.integers(0, 60),
           "plans.instalments": st.integers(1, 4), "plans.interval_days": st.integers(1, 40),
           "plans.down_payment": st.sampled_from([0.0, 0.3]), "plans.missed_tolerance": st.integers(0, 2),
           "plans.on_default": st.sampled_from(["resume", "restart", "escalate", "write_off"]),
           "plans.on_request": st.booleans(), "fees.enforce": st.booleans(),
           "fees.claim_at_days_overdue": st.integers(0, 60), "settlement.offer": st.booleans(),
           "settlement.after_days_overdue": st.integers(10, 150), "escalation.mediation": st.booleans(),
           "escalation.mediation_after_days": st.integers(1, 30), "escalation.agency": st.booleans(),
           "escalation.agency_after_days_overdue": st.integers(10, 120), "escalation.legal": st.booleans(),
           "escalation.legal_after_days_overdue": st.integers(20, 200),
           "escalation.court_fee_rate": st.sampled_from([0.0, 0.05, 0.2]),
           "escalation.costs_recoverable": st.sampled_from([0.0, 0.25, 1.0]),
           "escalation.legal_min_balance": st.sampled_from([0.0, 500.0]),
           "invoicing.clear_terms": st.booleans(), "invoicing.e_invoicing": st.booleans(),
           "escalation.credit_hold": st.booleans(), "onboarding.credit_check": st.booleans(),
           "onboarding.credit_limit": st.sampled_from([0.0, 3000.0]),
           "extended_terms.offer": st.booleans(), "extended_terms.after_days_overdue": st.integers(0, 60),
           "extended_terms.milestones": st.sampled_from([[{"after_days": 30, "share": 1.0}],
                                                         [{"after_days": 20, "share": 0.3},
                                                          {"after_days": 50, "share": 0.7}]]),
           "extended_terms.on_default": st.sampled_from(["resume", "restart", "escalate", "write_off"]),
           "targets": TARGETS}),
       staff=st.sampled_from([0.0, 0.01, 0.05]), spillover=st.sampled_from([0.0, 0.5]),
       gap=st.sampled_from([0, 3, 10]), cap=st.sampled_from([0.02, 0.1, 1.0]),
       courts=st.fixed_dictionaries({"default_judgment_days": st.sampled_from([5.0, 45.0]),
                                     "agency_success": st.sampled_from([0.2, 0.9]),
                                     "agency_max_days": st.sampled_from([30, 180]),
                                     "judgment_paid_share": st.sampled_from([0.3, 0.9]),
                                     "e_invoicing_days_faster": st.sampled_from([0.0, 2.5, 9.0]),
                                     "clear_terms_dispute_cut": st.sampled_from([0.5, 1.0])}))
def test_generated_scenarios_are_reproduced(seed, customers, steps, pause, discount, window, write_off, slope,
                                            recovery, halflife, set_aside, request, run, eom, arrivals, shock,
                                            strained, levers, staff, spillover, gap, cap, courts):
    behaviour = {**courts, "churn_goodwill_slope": slope, "goodwill_recovery_days": recovery,
                 "contact_goodwill_cap": cap,
                 "response_halflife_days": halflife, "set_aside_pay_days": set_aside, "plan_request_share": request,
                 "reputation_spillover": spillover}
    segments = {"prompt": {"payment_run": run, "payment_run_day": 3 if run == "weekly" else 25},
                "habitually-late": {"terms_end_of_month": eom, "new_customers_per_year": arrivals},
                "cash-strained": {"new_customers_per_year": arrivals, **strained}}
    tables = {"behaviour": behaviour, "economy": {"shock": shock, "shock_start_day": 200}, "team": {"staff": staff}}
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", customers, tables, segments)
    spec = scenario.policy("as-is").with_values({
        "reminders.steps": sorted(steps, key=lambda s: s["offset"]), "reminders.pause_on_dispute": pause,
        "discount.rate": discount, "discount.window_days": window, "write_off.age_days": write_off,
        "reminders.min_gap_days": gap, **levers})
    assert supports(RuleBasedPolicy(spec, scenario)) is None
    ref = simulate(scenario, spec, seed=seed, engine="simpy")
    vec = simulate(scenario, spec, seed=seed, engine="compiled")
    assert vec.engine == "compiled"
    assert_same(ref, vec)


def test_the_command_line_runs_either_engine_with_the_same_metrics(tmp_path, capsys):
    from collectsim.apps.cli import main
    from helpers import write_small_scenario

    path = write_small_scenario(tmp_path)
    outputs = {}
    for engine in ("simpy", "compiled"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", EngineFallbackWarning)  # the small scenario is one it supports
            assert main(["run", str(path), "--seed", "3", "--json", "--engine", engine]) == 0
        outputs[engine] = json.loads(capsys.readouterr().out)
    assert golden.differences(outputs["simpy"], outputs["compiled"]) == []
    assert outputs["simpy"]["metrics"]["invoices"] > 0


def test_the_command_line_says_a_fallback_in_one_line(tmp_path, capsys, monkeypatch):
    """Every run the command line can ask for is one the compiled engine supports (even with a limited team);
    should that change, the fallback is said in one line."""
    from collectsim.apps.cli import main
    from collectsim.engines import base as engines
    from helpers import write_small_scenario

    path = write_small_scenario(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + "\n[team]\nstaff = 1\n", encoding="utf-8")
    outputs = {}
    for engine in ("simpy", "compiled"):
        assert main(["run", str(path), "--seed", "3", "--json", "--engine", engine]) == 0
        captured = capsys.readouterr()
        assert captured.err == ""
        outputs[engine] = json.loads(captured.out)
    assert golden.differences(outputs["simpy"], outputs["compiled"]) == []
    monkeypatch.setattr(engines, "supports", lambda decider: "a reason given by the engine")
    assert main(["run", str(path), "--seed", "3", "--json", "--engine", "compiled"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["warning: compiled engine not used, running the SimPy engine: a reason given by the engine"]


#: Payments as they cluster (issue 22): a spike on the due date, payment-run weekdays, a mix of terms per segment
#: (with end-of-month terms in one of them).
_CLUSTERED = {
    "prompt": {"on_due_date_share": 0.5, "payment_weekdays": [1, 0, 3, 0, 2, 0, 0],
               "terms_mix": {"14": 0.3, "30": 0.5, "60": 0.2}},
    "habitually-late": {"on_due_date_share": 0.2, "payment_weekdays": [1, 1, 1, 1, 1, 0, 0]},
    "late-on-purpose": {"terms_mix": {"30": 1, "45": 1}, "terms_end_of_month": True},
    "admin-heavy": {"terms_mix": {"45": 1.0}},  # a mix of one: not the segment's terms_days
    "cash-strained": {"on_due_date_share": 0.9},
}


@pytest.mark.parametrize("policy", ["as-is", "firm-and-fair", "aggressive"])
def test_due_date_spikes_payment_weekdays_and_terms_mixes_are_reproduced(policy):
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 60, segments=_CLUSTERED)
    spec = scenario.policy(policy).with_values(golden.LEVERS_POLICY) if policy == "firm-and-fair" else policy
    for seed in (1, 2):
        vec = simulate(scenario, spec, seed=seed, engine="compiled")
        assert vec.engine == "compiled"
        assert_same(simulate(scenario, spec, seed=seed, engine="simpy"), vec)


#: Disputes that take at least a few weeks (issue 22: ``dispute_min_days``), frequent enough to matter, a whole
#: number in one segment and a fraction in another; one segment keeps the plain exponential wait.
_SLOW_DISPUTES = {
    "prompt": {"dispute_rate": 0.3, "dispute_min_days": 21.0, "dispute_resolution_days": 10.0},
    "habitually-late": {"dispute_rate": 0.25, "dispute_min_days": 7.5},
    "admin-heavy": {"dispute_rate": 0.4},
}


@pytest.mark.parametrize("policy", ["as-is", "firm-and-fair"])
def test_disputes_with_a_minimum_length_are_reproduced(policy):
    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 60, segments=_SLOW_DISPUTES)
    shortest = {s.name: s.dispute_min_days for s in scenario.portfolio.segments}
    assert shortest["prompt"] == 21.0 and shortest["habitually-late"] == 7.5
    for seed in (1, 2):
        vec = simulate(scenario, policy, seed=seed, engine="compiled")
        assert vec.engine == "compiled"
        ref = simulate(scenario, policy, seed=seed, engine="simpy")
        assert_same(ref, vec)
        # the minimum holds: no dispute of the prompt segment ends within 21 days of being raised
        ev, seg = ref.events, ref.invoices["segment"]
        prompt = [s.name for s in scenario.portfolio.segments].index("prompt")
        row = ev["invoice"]
        first = {}
        for kind, r, day in zip(ev["kind"], row, ev["day"]):
            if r >= 0 and seg[r] == prompt and kind == EventKind.DISPUTE_RAISED:
                first.setdefault(int(r), int(day))
        ends = [(int(day) - first[int(r)]) for kind, r, day in zip(ev["kind"], row, ev["day"])
                if kind == EventKind.DISPUTE_RESOLVED and int(r) in first]
        assert len(ends) > 10 and min(ends) >= 22
