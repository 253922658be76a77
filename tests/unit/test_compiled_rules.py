"""Every rule and variate gives the same bits in Python and compiled with numba.

The SimPy engine calls the behaviour rules, the variates and the policy's decision as plain Python; the
compiled engine calls the same functions compiled (collectsim.engines.jit). The engines can only agree to the last
bit if each function does, for every input the engines can give it: uniforms from the counter-based draws,
and the integers and floats around them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from collectsim.engines.jit import kernels
from collectsim.model import behaviour as rules
from collectsim.model import draws, policy_tables
from collectsim.model.draws import u

P = u(2026, 5, np.arange(4_000)).tolist()  # uniforms as the engines see them
Q = u(2027, 6, np.arange(4_000)).tolist()


@pytest.fixture(scope="module")
def k():
    return kernels()


def _same(python_fn, compiled_fn, args_list) -> None:
    for args in args_list:
        a, b = python_fn(*args), compiled_fn(*args)
        assert a == b or (a != a and b != b), (python_fn.__name__, args, a, b)  # equal, or both NaN
        assert type(a) is type(b) or isinstance(a, tuple), (python_fn.__name__, type(a), type(b))


def test_variates(k):
    for mean in (0.5, 1.0, 3.0, 21.7, 365.0, 1e6):
        _same(draws.exponential, k.exponential, [(p, mean) for p in P])
        _same(draws.geometric_days, k.geometric_days, [(p, mean) for p in P])
    for median, sigma in ((1500.0, 0.8), (1200.0, 0.0), (90.0, 1.2)):
        _same(draws.lognormal, k.lognormal, [(p, median, sigma) for p in P])
    _same(draws.normal_ppf, k.normal_ppf, [(p,) for p in P + [1e-300, 0.02425, 0.97575, 1 - 2**-53]])
    for low, high in ((0, 0), (0, 10), (3, 30)):
        _same(draws.uniform_int, k.uniform_int, [(p, low, high) for p in P])


def test_normal_quantile_over_arrays_is_the_scalar_one():
    p = np.asarray(P + [1e-12, 0.01, 0.99, 1 - 1e-12])
    assert draws.normal_ppf_array(p).tolist() == [draws.normal_ppf(x) for x in p.tolist()]


def test_the_compiled_mixer_is_the_draws_mixer(k):
    for seed in (0, 1, 7, 2**40 + 3, 2**63 - 1):
        prefix = np.asarray(draws._prefixes(seed), dtype=np.uint64)
        for purpose in (1, 14, 40):
            for customer, invoice, step in ((0, 0, 0), (5, 17, 3), (2**40, 2**30, 2**20), (999_999, 1, 0)):
                assert k.draw(prefix, purpose, customer, invoice, step) == u(seed, purpose, customer, invoice, step)


def test_behaviour_rules(k):
    g = [(p, q) for p, q in zip(P, Q)]
    _same(rules.recovered_goodwill, k.recovered_goodwill, [(p, q, int(q * 400), 60.0) for p, q in g])
    _same(rules.order_rate_factor, k.order_rate_factor, [(p, q, 3.0) for p, q in g])
    for gap in (-0.3, -0.01, 0.0, 0.05, 0.4):
        _same(rules.churn_hazard_integral, k.churn_hazard_integral,
              [(0.001, 4.0, gap, int(p * 400), 60.0) for p in P[:500]])
        _same(rules.first_churn_day, k.first_churn_day, [(0.0, 0.01, 4.0, gap, 1 + int(p * 400), 60.0, 0.5)
                                                         for p in P[:200]])
    _same(rules.daily_churn_hazard, k.daily_churn_hazard, [(p,) for p in P[:500]] + [(0.0,), (1.0,)])
    _same(rules.churn_threshold, k.churn_threshold, [(p,) for p in P])
    _same(rules.goodwill_after, k.goodwill_after, [(p, q - 0.5, 1.5) for p, q in g])
    for weight in (0.0, 0.5):
        _same(rules.response_probability, k.response_probability, [(0.3, 1.3, 1.1, p, weight, 0.6) for p in P])
    for halflife in (0.0, 60.0, 45.5):
        _same(rules.age_factor, k.age_factor, [(int(p * 300) - 20, halflife) for p in P])
    _same(rules.set_aside_days, k.set_aside_days, [(p, 0.3, 90.0, 1.1) for p in P])
    _same(rules.unmoved_after, k.unmoved_after, g)
    _same(rules.responds, k.responds, g)
    _same(rules.discount_take_probability, k.discount_take_probability, [(0.6, p * 0.04, 0.02) for p in P])
    _same(rules.unchased_pay_day, k.unchased_pay_day, [(30, 0, p * 80.0 - 40.0) for p in P]
          + [(30, 0, round(p * 8.0) / 2 - 0.5) for p in P])  # exact halves: round half to even
    _same(rules.prompted_pay_day, k.prompted_pay_day, [(int(q * 60), 30, p * 9.0) for p, q in g])
    _same(rules.prompted_delay_day, k.prompted_delay_day, [(int(q * 60), p, 3.0) for p, q in g])
    for mean in (0.1, 0.5, 0.9):
        _same(rules.part_payment_fraction, k.part_payment_fraction, [(p, mean) for p in P])
        _same(rules.credit_note_fraction, k.credit_note_fraction, [(p, mean) for p in P])
    _same(rules.cents_of, k.cents_of, [(p * 5000.0,) for p in P] + [(round(p * 8.0) / 800 + 0.005,) for p in P])
    for cents in (1, 2, 999, 123_456_789):
        _same(rules.share_of, k.share_of, [(cents, p) for p in P])
    for liquidity in range(4):
        _same(rules.unchased_lateness, k.unchased_lateness, [(p * 30, 5.0, q - 0.5, liquidity, 15.0) for p, q in g])
        _same(rules.ignore_share_on, k.ignore_share_on, [(p, liquidity, q) for p, q in g])
        _same(rules.part_share_on, k.part_share_on, [(p, liquidity, q) for p, q in g])
        _same(rules.plan_acceptance_on, k.plan_acceptance_on, [(p, liquidity, q) for p, q in g])
        _same(rules.responsiveness_on, k.responsiveness_on, [(p * 2, liquidity, 0.6, 0.2) for p in P])
    _same(rules.discount_amount, k.discount_amount, [(int(p * 1e6) + 1, int(q * 1e6) + 1, 0.02) for p, q in g])
    _same(rules.settlement_forgiven, k.settlement_forgiven, [(int(p * 1e6) + 1, q) for p, q in g])
    _same(rules.accrued_interest, k.accrued_interest, [(p * 100, int(q * 1e6), 0.1, int(p * 90)) for p, q in g])
    _same(rules.fees_owed, k.fees_owed, [(4000, p * 1e4) for p in P])
    _same(rules.agency_fee, k.agency_fee, [(int(p * 1e7), q * 0.5) for p, q in g])
    _same(rules.mediation_end, k.mediation_end, [(10, p, q, 0.7, 14.0) for p, q in g])
    never = 1 << 62
    _same(rules.agency_outcome, k.agency_outcome,
          [(10, p, q, 0.5, 1.2, 60.0, 180, a, own) for p, q in g for a in (1.0, 0.3)
           for own in (never, 11, 10 + int(q * 300))])
    _same(rules.legal_outcome, k.legal_outcome,
          [(10, p, defended, own, 45.0, 350.0) for p, q in g for defended in (False, True)
           for own in (never, 10 + int(q * 200))])
    _same(rules.judgment_paid, k.judgment_paid,
          [(p, 0.6, q * 2, f, would) for p, q in g for f in (1.0, 0.2) for would in (False, True)])
    _same(rules.court_fee, k.court_fee, [(int(p * 1e7), q * 0.1) for p, q in g])
    _same(rules.costs_recovered, k.costs_recovered,
          [(int(p * 1e5), q, int(p * 1e6), int(p * 1e6) + int(q * 1e5)) for p, q in g] + [(100, 0.5, 0, 0)])
    _same(rules.has_merit, k.has_merit, [(p, q) for p, q in g])
    _same(rules.dispute_prevented, k.dispute_prevented,
          [(p, merit, terms, e, q, 0.15) for p, q in g[:500] for merit in (False, True) for terms in (False, True)
           for e in (False, True)])
    _same(rules.dispute_end_day, k.dispute_end_day, [(10, p, 20.0, m) for p in P for m in (0.0, 0.6, 12.5)])
    _same(rules.plan_down_payment, k.plan_down_payment, [(int(p * 1e6), q) for p, q in g] + [(1, 0.5), (2, 0.0)])
    _same(rules.instalment_amount, k.instalment_amount,
          [(int(p * 1e6) + 1, 0, 1 + int(q * 4), -1.0, 0) for p, q in g]
          + [(int(p * 1e6) + 1, 0, 1 + int(q * 3), q, int(p * 2e6)) for p, q in g]
          + [(int(p * 1e6) + 2, 17, 3, -1.0, 0) for p in P[:100]])
    for kind in range(9):
        for channel in range(3):
            assert rules.work_class(kind, channel) == k.work_class(kind, channel)
            assert rules.work_minutes(kind, channel, 1.0, 5.5, 10.25) == k.work_minutes(kind, channel, 1.0, 5.5, 10.25)
            for balance, escalation, in_plan in ((0, 0, False), (5, 0, True), (5, 1, False), (5, 0, False)):
                assert rules.still_needed(kind, balance, escalation, in_plan) == \
                    k.still_needed(kind, balance, escalation, in_plan)


def test_the_policy_decision(k, baseline):
    """rule_decision over lists (as the SimPy engine's policy calls it) and compiled over arrays."""
    from collectsim.model.rule_policy import RuleBasedPolicy

    rng = np.random.default_rng(3)
    for spec in baseline.policies:
        tables = RuleBasedPolicy(spec.with_values({"fees.enforce": True, "settlement.offer": True,
                                                   "escalation.mediation": True, "escalation.agency": True,
                                                   "escalation.legal": True, "plans.offer": True}), baseline).tables
        for _ in range(400):
            s = int(rng.integers(len(baseline.portfolio.segments)))
            state = (int(rng.integers(5)), int(rng.integers(0, 600)), int(rng.integers(0, 400)),
                     int(rng.integers(1, 10**7)), *(bool(b) for b in rng.integers(0, 2, 6)),
                     int(rng.integers(-1, 400)), *(bool(b) for b in rng.integers(0, 2, 4)),
                     int(rng.integers(-1, 400)))
            point, day, due, balance, disputed, in_plan, had_plan, had_terms, plan_terms, fees = state[:10]
            settled, since, mediated, agency, court, broken = state[10:16]
            args = (point, day, due, balance, disputed, in_plan, had_plan, had_terms, plan_terms, fees, settled, since,
                    mediated, agency, court, broken)
            out_py, out_c = [0] * policy_tables.MAX_ACTIONS, np.zeros(policy_tables.MAX_ACTIONS, dtype=np.int64)
            a = policy_tables.rule_decision(tables.ints[s].tolist(), tables.step_offset[s].tolist(), out_py, *args)
            b = k.rule_decision(tables.ints[s], tables.step_offset[s], out_c, *args)
            assert a == b and out_py[:a[0]] == out_c[:b[0]].tolist(), (spec.name, args)


def test_the_standing_and_the_choice_of_target(k):
    """choose_target over lists (as RuleBasedPolicy.profile calls it) and compiled over arrays; the ring of recent
    days late updated in a list and in a row of an array."""
    import collectsim
    from collectsim.model import standing

    rng = np.random.default_rng(4)
    ring_py, ring_c = [0] * standing.RECENT_INVOICES, np.zeros(standing.RECENT_INVOICES, np.int64)
    paid_py = paid_c = 0
    for _ in range(300):
        paid_day, due_day = int(rng.integers(0, 200)), int(rng.integers(0, 200))
        late = standing.days_late(paid_day, due_day)
        assert late == k.days_late(paid_day, due_day)
        paid_py = standing.push_days_late(ring_py, paid_py, late)
        paid_c = k.push_days_late(ring_c, paid_c, late)
        assert paid_py == paid_c and ring_py == ring_c.tolist()
        total = standing.recent_total(ring_py, paid_py)
        assert total == k.recent_total(ring_c, paid_c) and standing.recent_count(paid_py) == k.recent_count(paid_c)
        assert standing.risk_band(total, 3) == k.risk_band(total, 3)
    spec = collectsim.PolicySpec(name="p").with_values({"targets": [
        {"name": "a", "when": {"disputes_min": 1, "open_balance_min": 1000.0}},
        {"name": "b", "when": {"recent_days_late_min": 20, "tenure_days_max": 300}},
        {"name": "c", "when": {"risk_band": "medium", "disputed_within_days": 60, "overdue_days_min": 10}},
        {"name": "d", "when": {"recent_days_late_max": 5, "open_balance_max": 4000.0, "tenure_days_min": 100}}]})
    table = policy_tables.selector_table(spec)
    chosen = set()
    for _ in range(3000):
        count = int(rng.integers(0, standing.RECENT_INVOICES + 1))
        args = (int(rng.integers(0, 600)), int(rng.integers(0, 800_000)), int(rng.integers(0, 60 * count + 1)), count,
                int(rng.integers(0, 90)), int(rng.integers(0, 3)), int(rng.choice([1 << 62, *range(0, 120)])))
        a = policy_tables.choose_target(table.tolist(), *args)
        assert a == k.choose_target(table, *args), args
        chosen.add(a)
    assert chosen == {0, 1, 2, 3, 4}


def test_the_c_library_is_what_both_call():
    """The draws' transcendental functions are math's: the same routines numba compiles."""
    assert draws.exponential(0.3, 2.0) == -2.0 * math.log1p(-0.3)
    assert draws.lognormal(0.7, 10.0, 0.5) == 10.0 * math.exp(0.5 * draws.normal_ppf(0.7))


def _queue_world(size: int):
    from types import SimpleNamespace

    from collectsim.engines import compiled_kernel as K

    counts = np.zeros(K.N_WIDTH, dtype=np.int64)
    counts[K.N_QUEUE_FREE] = -1
    return SimpleNamespace(Q=np.zeros((size, K.Q_WIDTH), dtype=np.int64), QF=np.zeros(size),
                           QH=np.zeros((size, K.H_WIDTH), dtype=np.int64), counts=counts,
                           R=np.zeros((size, K.R_WIDTH), dtype=np.int64))


@pytest.mark.parametrize("highs", [(3, 20, 5, 4), (64, 1 << 26, 1 << 30, 1 << 23)], ids=["small", "widest"])
def test_the_team_queue_gives_its_tasks_in_service_order_however_pushes_and_pops_interleave(highs):
    """The team's queue is a heap: whatever was pushed, the top is the first task in service order (class,
    request day, customer, invoice, then arrival), as the SimPy engine's sorted list has it, also with every
    field at the widest its packed keys hold. Run as plain Python over the kernel's own functions; the
    engines' equality tests cover the compiled version."""
    from collectsim.engines import compiled_kernel as K

    rng = np.random.default_rng(7)
    for size in (1, 9, 40, 300):
        w = _queue_world(size)
        held, popped, pushed = [], 0, 0
        for _ in range(3 * size):
            if held and (len(held) == size or rng.random() < 0.4):
                first = min(held)
                task = w.QH[0, K.H_TASK]
                assert (w.Q[task, K.Q_ACTION], w.Q[task, K.Q_REQUESTED]) == (first[-1], first[1]), (size, popped)
                held.remove(first)
                K._queue_pop(w)
                popped += 1
            else:
                work, requested, customer, seq = (int(rng.integers(0, h)) for h in highs)
                held.append((work, requested, customer, seq, int(w.counts[K.N_QUEUED_EVER]), pushed))
                K._queue_push(w, work, requested, customer, seq, int(rng.integers(0, size)), pushed, 1.0)
                pushed += 1
            assert w.counts[K.N_QUEUE] == len(held)
            assert w.counts[K.N_QUEUE_TOP] <= size  # rows of tasks served are used again
        assert popped > size // 3
        assert w.R[:, K.R_QUEUED].sum() == len(held)  # every row's count of queued tasks is kept


@pytest.mark.parametrize("field", range(4))
def test_a_task_beyond_the_queue_keys_range_is_an_error_not_a_wrong_order(field):
    from collectsim.engines import compiled_kernel as K

    values = [1, 1, 1, 1]
    values[field] = (64, 1 << 26, 1 << 30, 1 << 23)[field]
    with pytest.raises(ValueError, match="team queue"):
        K._queue_push(_queue_world(4), *values, 0, 0, 1.0)


def test_a_settled_invoice_lets_its_row_go_while_the_queue_still_holds_tasks_for_it(monkeypatch):
    """With firm-and-fair's calls and a small team the queue stays thousands of tasks long, most of them for
    invoices settled since they were queued. Their rows of state are let go at settlement all the same (the
    queue finds those tasks void by the invoice number), so the rows in use stay near the most invoices open
    at once; rows kept until the queue reached their tasks were about six times as many."""
    from collectsim import simulate
    from collectsim.config.scaled import scaled_scenario
    from collectsim.engines import compiled_kernel as K
    from collectsim.results.eventlog import BALANCE_REDUCING
    from helpers import ROOT

    scenario = scaled_scenario(ROOT / "scenarios" / "baseline.toml", 300)
    ns, seen = kernels(), {}
    kernel = ns.run_kernel

    def spy(*args):
        out = kernel(*args)
        seen["counts"] = out[2].copy()
        return out

    monkeypatch.setattr(ns, "run_kernel", spy)
    result = simulate(scenario, "firm-and-fair", seed=3, engine="compiled")
    counts = seen["counts"]
    invoices, events = result.invoices, result.events
    end = scenario.horizon.total_days
    reducing = np.isin(events["kind"], BALANCE_REDUCING)
    closed = np.full(len(invoices), end, dtype=np.int64)  # open to the end unless settled
    settled = invoices["balance"] == 0
    last = np.zeros(len(invoices), dtype=np.int64)
    np.maximum.at(last, events["invoice"][reducing], events["day"][reducing])
    closed[settled] = last[settled]
    open_on = np.cumsum(np.bincount(invoices["issue_day"], minlength=end + 2)[:end + 1]
                        - np.bincount(closed + 1, minlength=end + 2)[:end + 1])  # open during day t
    assert counts[K.N_QUEUE_TOP] > 5 * open_on.max()  # the queue is long: the case this is about
    assert counts[K.N_ROW_TOP] <= 1.1 * open_on.max() + 10
