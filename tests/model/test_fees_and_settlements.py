"""Statutory interest and compensation, and settlement offers on old debt."""

import numpy as np

import collectsim
from collectsim import EventKind
from helpers import small_data


def _scenario(policy_changes, **segment):
    data = small_data()
    data["policies"]["ladder"].update(policy_changes)
    for seg in data["portfolio"]["segments"]:
        seg.update({"partial_share": 0.0, "dispute_rate": 0.0, "strain_rate": 0.0, **segment})  # no part payments
    data["economics"] = {"reference_rate": 0.03}
    return collectsim.parse_scenario(data)


def test_claimed_fees_are_compensation_plus_simple_interest_from_the_due_date():
    scenario = _scenario({"fees": {"enforce": True, "claim_at_days_overdue": 10, "interest_margin": 0.08,
                                   "fixed_compensation": 40.0}})
    result = collectsim.simulate(scenario)
    ev, inv = result.events, result.invoices
    closing = np.isin(ev["kind"], (EventKind.FEES_PAID, EventKind.FEES_WAIVED))
    claimed = ev["invoice"][ev["kind"] == EventKind.FEES_CLAIMED]
    assert len(claimed) > 50
    assert set(ev["invoice"][closing]) <= set(claimed)
    for row, day, owed in zip(ev["invoice"][closing], ev["day"][closing], ev["amount"][closing]):
        interest = inv["amount"][row] * 0.11 * (day - inv["due_day"][row]) / 365.0  # one payment: full balance
        assert owed == 4000 + round(interest), (row, owed, interest)
    m = result.metrics
    assert m.fees_collected > 0 and m.fees_waived > 0
    assert m.invoiced == m.cash_collected - m.fees_collected + m.discounts_granted + m.credit_notes \
        + m.settlements_forgiven + m.written_off + m.outstanding


def test_fees_are_claimed_only_when_enforced_and_cost_goodwill():
    plain = _scenario({})
    enforced = plain.policy().with_values({"fees.enforce": True})
    for seed in (1, 2, 3):
        a = collectsim.simulate(plain, seed=seed).metrics
        b = collectsim.simulate(plain, enforced, seed=seed).metrics
        assert a.fees_collected == a.fees_waived == 0
        assert b.fees_collected > 0
        assert b.mean_goodwill < a.mean_goodwill  # (and so, slightly fewer orders: goodwill drives ordering)


def test_an_accepted_settlement_forgives_part_and_the_rest_is_paid():
    scenario = _scenario({"settlement": {"offer": True, "after_days_overdue": 20, "forgive": 0.3}},
                         ignore_share=1.0, responsiveness=0.0, settlement_acceptance=1.0)
    result = collectsim.simulate(scenario)
    ev = result.events.to_frame()
    settled = ev[ev["kind"] == "settlement"]
    assert len(settled) > 50
    for _, row in settled.iterrows():
        same = ev[(ev["invoice"] == row["invoice"]) & (ev["day"] == row["day"])]
        payment = same[same["kind"] == "payment"]["amount"].sum()
        amount = result.invoices["amount"][row["invoice"]]
        assert row["amount"] == round(amount * 0.3) and row["amount"] + payment == amount
    offered = ev[ev["kind"] == "settlement_offered"]
    assert offered["invoice"].is_unique
    assert result.metrics.settlements_forgiven == settled["amount"][
        result.invoices["issue_day"][settled["invoice"]] >= scenario.horizon.warmup_days].sum()


def test_declined_settlements_forgive_nothing():
    scenario = _scenario({"settlement": {"offer": True, "after_days_overdue": 20}}, settlement_acceptance=0.0)
    result = collectsim.simulate(scenario)
    assert result.events.count(EventKind.SETTLEMENT_OFFERED) > 0
    assert result.metrics.settlements_forgiven == 0
