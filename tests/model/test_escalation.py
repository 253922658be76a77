"""Escalation: mediation for disputes, a collection agency, and legal action as the last resort."""


import pytest

import collectsim
from collectsim import Decision, Point
from helpers import paired_t, small_data


def _scenario(escalation, write_off=400, **segment):
    data = small_data()
    data["horizon"]["runoff_days"] = 900
    data["policies"]["ladder"]["escalation"] = escalation
    data["policies"]["ladder"]["write_off"] = {"age_days": write_off}
    for seg in data["portfolio"]["segments"]:
        seg.update(segment)
    return collectsim.parse_scenario(data)


def test_agency_collections_count_gross_and_the_fee_is_a_cost():
    scenario = _scenario({"agency": True, "agency_after_days_overdue": 30, "agency_fee": 0.3},
                         ignore_share=1.0, responsiveness=0.0, dispute_rate=0.0, recoverability=1.5)
    result = collectsim.simulate(scenario)
    ev = result.events.to_frame()
    collected = ev[ev["kind"] == "agency_collected"]
    assert len(collected) > 20
    assert (collected["cost"] == (collected["amount"] * 0.3).round().astype(int)).all()
    placed = ev[ev["kind"] == "agency_placed"].set_index("invoice")
    assert (collected["amount"].to_numpy() == placed.loc[collected["invoice"], "amount"].to_numpy()).all()
    # The hand-over hurts once while the account is with the agency (then goodwill may be at 0 already).
    assert (placed["goodwill_after"] <= placed["goodwill_before"]).all()
    assert (placed["goodwill_after"] < placed["goodwill_before"]).any()
    m = result.metrics
    assert 0 < m.recovery_rate <= 1 and m.escalated_invoices == len(placed[
        result.invoices["issue_day"][placed.index] >= scenario.horizon.warmup_days])
    # No reminders while the agency holds an invoice.
    reminders = ev[ev["kind"] == "reminder"]
    for inv, day in placed["day"].items():
        end = ev[(ev["invoice"] == inv) & ev["kind"].isin(["agency_collected", "agency_returned"])]["day"]
        if len(end):
            mine = reminders[reminders["invoice"] == inv]
            assert mine[(mine["day"] > day) & (mine["day"] < end.iloc[0])].empty


def test_when_the_agency_gives_up_the_policy_sues_or_writes_off():
    scenario = _scenario({"agency": True, "agency_after_days_overdue": 30, "legal": True,
                          "legal_after_days_overdue": 60, "legal_min_balance": 1500.0},
                         ignore_share=1.0, responsiveness=0.0, dispute_rate=0.0, recoverability=0.2)
    ev = collectsim.simulate(scenario).events.to_frame()
    returned = ev[ev["kind"] == "agency_returned"]
    assert len(returned) > 20
    for _, row in returned.iterrows():
        same_day = ev[(ev["invoice"] == row["invoice"]) & (ev["day"] == row["day"])]["kind"].tolist()
        expected = "legal_filed" if row["amount"] >= 150000 else "write_off"
        assert expected in same_day, (row, same_day)
    ended = ev[ev["kind"] == "legal_ended"]
    for _, row in ended.iterrows():
        assert "write_off" in ev[(ev["invoice"] == row["invoice"]) & (ev["day"] == row["day"])]["kind"].tolist()


def test_mediation_shortens_disputes():
    durations = {}
    for mediation in (False, True):
        scenario = _scenario({"mediation": mediation, "mediation_after_days": 10}, dispute_rate=0.5,
                             dispute_resolution_days=90.0)
        ev = collectsim.simulate(scenario).events.to_frame()
        raised = ev[ev["kind"] == "dispute_raised"].set_index("invoice")["day"]
        resolved = ev[ev["kind"] == "dispute_resolved"].set_index("invoice")["day"]
        durations[mediation] = (resolved - raised.reindex(resolved.index)).mean()
        assert ((ev["kind"] == "mediation").sum() > 0) == mediation
    assert durations[True] < durations[False] - 20


class Recorder(collectsim.DecisionMaker):
    """Scripted: note every DISPUTE_RAISED question, otherwise do nothing."""

    def __init__(self):
        self.points = []

    def decide(self, point, day, invoice, goodwill):
        if point is Point.DISPUTE_RAISED:
            self.points.append((day, invoice.disputed, invoice.disputed_since))
        return Decision()


def test_a_new_dispute_is_put_to_the_decision_maker():
    recorder = Recorder()
    collectsim.simulate(_scenario({}, dispute_rate=0.3), decider=recorder)
    assert len(recorder.points) > 20 and all(disputed and since == day for day, disputed, since in recorder.points)


def _escalation_pairs():
    """(plain ladder, the same with an agency and legal action) metrics over 10 CRN seeds, bad-faith payers."""
    data = small_data()
    data["horizon"]["runoff_days"] = 900
    data["portfolio"]["segments"] = [{"name": "bad-faith", "customers": 60, "orders_per_year": 10,
                                      "days_late_mean": 60.0, "ignore_share": 0.6, "responsiveness": 0.3}]
    data["policies"] = {"ladder": {"write_off": {"age_days": 150}, "reminders": {"steps": [
        {"offset": 7, "channel": "email"}, {"offset": 30, "channel": "letter", "tone": "firm"}]}}}
    scenario = collectsim.parse_scenario(data)
    plain = scenario.policy()
    escalate = plain.with_values({"name": "escalate", "escalation": {
        "agency": True, "agency_after_days_overdue": 45, "legal": True, "legal_after_days_overdue": 100,
        "legal_min_balance": 200.0}, "write_off.age_days": 700})
    pairs = []
    for seed in range(1, 11):
        a = collectsim.simulate(scenario, plain, seed=seed).metrics
        b = collectsim.simulate(scenario, escalate, seed=seed).metrics
        assert a.recovery_rate == 0 and b.recovery_rate > 0
        pairs.append((a, b))
    return pairs


def test_agency_and_legal_cost_goodwill():
    """Stylised fact over 10 CRN seeds: escalation costs goodwill."""
    assert paired_t([a.mean_goodwill - b.mean_goodwill for a, b in _escalation_pairs()]) > 3


@pytest.mark.xfail(strict=True, reason="a hand-over cancels the payment the debtor would have made of its own accord, "
                                       "and the agency recovers a flat share whatever the debt's age")
def test_agency_and_legal_recover_debt_bound_for_write_off():
    """Stylised fact over 10 CRN seeds: escalation turns some write-offs into cash.

    Not met since set-aside debt was recalibrated to the published collectability by age (2026-12-07): much of the
    debt handed over at 45 days would have been paid by the debtor by about 85 days, and escalation throws that away.
    """
    assert paired_t([a.written_off - b.written_off for a, b in _escalation_pairs()]) > 3
