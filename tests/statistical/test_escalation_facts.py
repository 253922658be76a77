"""Stylised facts of escalation and disputes, on seeds no other test uses (issue 21, point 5).

- An agency recovers less of older debt: placed at 90 days past due it recovers less than at 30, its recovery
  follows the debtor's own collectability at that age (the model's collectability curve), and what the creditor
  keeps of it after the fee is less than the debtor's own collectability would bring.
- Adding an agency step never raises bad debt by more than the agency's fee share of what it was handed.
- Suing over a disputed invoice whose dispute has merit brings in less than a mediator does.
- Pausing reminders while an invoice is disputed sends fewer reminders and does not raise bad debt.
"""

from __future__ import annotations

import functools

import numpy as np

import collectsim
from collectsim.engines.simulate import simulate_batch
from collectsim.model import behaviour as rules
from collectsim.model.draws import Purpose, u
from collectsim.results.eventlog import EventKind
from collectsim.results.metrics import collectability_parts
from helpers import SCENARIOS, paired_t, small_data

SEEDS = list(range(2101, 2111))  # fresh: no other test uses them
AGES = (30, 60, 90)
FEE = 0.25


@functools.lru_cache(maxsize=1)
def _baseline():
    """The baseline with goodwill's effect on orders and churn off, so that every policy sees the same invoices."""
    scenario = collectsim.load_scenario(SCENARIOS / "baseline.toml")
    return scenario.with_values({"behaviour.order_goodwill_elasticity": 0.0, "behaviour.churn_goodwill_slope": 0.0},
                                "goodwill off")


def _cohort_sum(result, kind: EventKind) -> int:
    """Sum of the amounts of ``kind`` events on invoices of the measured cohort."""
    h = result.scenario.horizon
    ev = result.events
    on = ev["invoice"] >= 0
    issue = np.full(len(ev), -1)
    issue[on] = result.invoices["issue_day"][ev["invoice"][on]]
    mask = (ev["kind"] == kind) & (issue >= h.measured_start) & (issue < h.measured_end)
    return int(ev["amount"][mask].sum())


@functools.cache
def _runs(age: int | None):
    """as-is (``age`` None) or as-is with an agency at ``age`` days past due, over SEEDS."""
    scenario = _baseline()
    spec = scenario.policy("as-is")
    if age is not None:
        spec = spec.with_values({"name": f"agency-{age}", "escalation.agency": True,
                                 "escalation.agency_after_days_overdue": age, "escalation.agency_fee": FEE})
    return simulate_batch(scenario, spec, SEEDS)


def _recovery(result) -> float:
    """Share of the balance handed to the agency that it collected (the debtor's own payments to it included)."""
    placed = _cohort_sum(result, EventKind.AGENCY_PLACED)
    return _cohort_sum(result, EventKind.AGENCY_COLLECTED) / placed if placed else float("nan")


def _pooled_collectability(age: int) -> float:
    got = owed = 0
    for result in _runs(None):
        a, b = collectability_parts(result.invoices, result.events, (age,))[age]
        got, owed = got + a, owed + b
    return got / owed


def _pooled_recovery(age: int) -> float:
    placed = sum(_cohort_sum(r, EventKind.AGENCY_PLACED) for r in _runs(age))
    return sum(_cohort_sum(r, EventKind.AGENCY_COLLECTED) for r in _runs(age)) / placed


def test_an_agency_recovers_less_of_older_debt_and_no_more_than_its_collectability():
    diffs = [_recovery(a) - _recovery(b) for a, b in zip(_runs(30), _runs(90))]
    assert paired_t(diffs) > 3, diffs
    curve = {age: (_pooled_recovery(age), _pooled_collectability(age)) for age in AGES}
    print("agency recovery and the debtor's own collectability by age:", curve)
    for age, (recovery, own) in curve.items():
        # Consistent with the model's collectability curve: within a few points of what is collectable at that age.
        assert abs(recovery - own) < 0.06, (age, recovery, own)
    recovery, own = curve[90]
    assert recovery * (1 - FEE) < own  # what the creditor keeps is less than the debtor's own payments would bring


def test_an_agency_step_never_raises_bad_debt_by_more_than_its_fee_share():
    for age in AGES:
        for plain, agency in zip(_runs(None), _runs(age)):
            more = agency.metrics.written_off - plain.metrics.written_off
            assert more <= FEE * _cohort_sum(agency, EventKind.AGENCY_PLACED), (age, agency.seed, more)


class _OnDispute(collectsim.DecisionMaker):
    """Scripted: the day a dispute is raised, sue (or bring in a mediator); no other action."""

    def __init__(self, action: collectsim.Action) -> None:
        self.action = action

    def decide(self, point, day, invoice, goodwill):
        if point is collectsim.Point.DISPUTE_RAISED:
            return collectsim.Decision((self.action,))
        return collectsim.Decision()


def _net_on_disputes_with_merit(result) -> tuple[int, int]:
    """(principal collected, principal and costs recovered less the costs of the action) on invoices whose dispute
    has merit."""
    seg = result.scenario.portfolio.segments
    inv = result.invoices
    merit = np.asarray([rules.has_merit(u(result.seed, Purpose.CREDIT_NOTE, int(c), int(q)),
                                        seg[int(s)].credit_note_share)
                        for c, q, s in zip(inv["customer"], inv["seq"], inv["segment"])])
    ev = result.events
    on = ev["invoice"] >= 0
    chosen = np.zeros(len(ev), dtype=bool)
    chosen[on] = merit[ev["invoice"][on]]
    disputed = np.zeros(len(inv), dtype=bool)
    disputed[ev["invoice"][ev["kind"] == EventKind.DISPUTE_RAISED]] = True
    chosen[on] &= disputed[ev["invoice"][on]]
    principal = chosen & np.isin(ev["kind"], [EventKind.PAYMENT, EventKind.LEGAL_COLLECTED])
    recovered = chosen & (ev["kind"] == EventKind.COSTS_RECOVERED)
    collected = int(ev["amount"][principal].sum())
    return collected, collected + int(ev["amount"][recovered].sum()) - int(ev["cost"][chosen].sum())


def test_suing_over_a_dispute_with_merit_brings_in_less_than_mediation():
    data = small_data()
    data["horizon"]["runoff_days"] = 900
    data["behaviour"] = {"order_goodwill_elasticity": 0.0, "churn_goodwill_slope": 0.0}
    for seg in data["portfolio"]["segments"]:
        seg.update(dispute_rate=0.3, credit_note_share=0.6)
    scenario = collectsim.parse_scenario(data)
    sue, mediate = _OnDispute(collectsim.Action.file_legal(60_000)), _OnDispute(collectsim.Action.mediate(30_000))
    principal, net = [], []
    for seed in SEEDS[:8]:
        a = _net_on_disputes_with_merit(collectsim.simulate(scenario, decider=sue, seed=seed))
        b = _net_on_disputes_with_merit(collectsim.simulate(scenario, decider=mediate, seed=seed))
        principal.append(b[0] - a[0])
        net.append(b[1] - a[1])
    assert paired_t(net) > 3, net
    assert np.mean(principal) > 0, principal  # less principal too: a year in court, and enforcement can fail


def test_pausing_reminders_on_disputes_sends_fewer_and_does_not_raise_bad_debt():
    data = small_data()
    for seg in data["portfolio"]["segments"]:
        seg.update(dispute_rate=0.3)
    scenario = collectsim.parse_scenario(data)
    chase = scenario.policy().with_values({"reminders.pause_on_dispute": False})
    pause = scenario.policy().with_values({"reminders.pause_on_dispute": True})
    reminders, bad_debt = [], []
    for seed in SEEDS:
        a = collectsim.simulate(scenario, chase, seed=seed).metrics
        b = collectsim.simulate(scenario, pause, seed=seed).metrics
        reminders.append(a.reminders_sent - b.reminders_sent)
        bad_debt.append(b.bad_debt_ratio - a.bad_debt_ratio)
    assert paired_t(reminders) > 3, reminders
    assert np.mean(bad_debt) < 0.002, bad_debt
    assert np.std(bad_debt) == 0 or paired_t(bad_debt) < 2, bad_debt


def test_clear_terms_and_e_invoicing_prevent_the_disputes_they_should():
    """Clear terms prevent misunderstandings (disputes without merit), e-invoicing paperwork disputes of either kind,
    and e-invoices are paid sooner."""
    data = small_data()
    for seg in data["portfolio"]["segments"]:
        seg.update(dispute_rate=0.3, credit_note_share=0.5)
    scenario = collectsim.parse_scenario(data)
    base = scenario.policy()
    terms = base.with_values({"invoicing.clear_terms": True})
    electronic = base.with_values({"invoicing.e_invoicing": True})
    fewer, merit_share, earlier = [], [], []
    for seed in SEEDS:
        plain = collectsim.simulate(scenario, base, seed=seed)
        clear = collectsim.simulate(scenario, terms, seed=seed)
        e = collectsim.simulate(scenario, electronic, seed=seed)
        fewer.append((plain.metrics.disputes - clear.metrics.disputes, plain.metrics.disputes - e.metrics.disputes))
        shares = []
        for result in (plain, clear):
            credited = int(np.count_nonzero(result.events["kind"] == EventKind.CREDIT_NOTE))
            shares.append(credited / max(1, int(np.count_nonzero(result.events["kind"] == EventKind.DISPUTE_RESOLVED))))
        merit_share.append(shares[1] - shares[0])
        earlier.append(plain.metrics.mean_days_late - e.metrics.mean_days_late)
    assert paired_t([a for a, _ in fewer]) > 3 and paired_t([b for _, b in fewer]) > 3, fewer
    assert paired_t(merit_share) > 3, merit_share  # what clear terms leave are mostly disputes with merit
    assert paired_t(earlier) > 3, earlier
