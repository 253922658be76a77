"""The engine's mechanics, driven by scripted decision makers and extreme behaviour settings."""

import numpy as np
import pytest

import collectsim
from collectsim import Action, Decision, EventKind, Point
from collectsim.engines.simpy_engine import EngineError
from helpers import small_data

PHASE_OF_KIND = {EventKind.DISPUTE_RESOLVED: 1, EventKind.CREDIT_NOTE: 1, EventKind.DISCOUNT: 2,
                 EventKind.PAYMENT: 2, EventKind.DISPUTE_RAISED: 3, EventKind.REMINDER: 4,
                 EventKind.WRITE_OFF: 4, EventKind.PLAN_OFFERED: 4, EventKind.PLAN_AGREED: 4,
                 EventKind.PLAN_MISSED: 2, EventKind.PLAN_DEFAULTED: 2, EventKind.CHURNED: -1,
                 EventKind.FEES_CLAIMED: 4, EventKind.FEES_PAID: 2, EventKind.SETTLEMENT_OFFERED: 4,
                 EventKind.SETTLEMENT: 2, EventKind.MEDIATION: 4, EventKind.AGENCY_PLACED: 4,
                 EventKind.AGENCY_COLLECTED: 2, EventKind.AGENCY_RETURNED: 2, EventKind.LEGAL_FILED: 4,
                 EventKind.LEGAL_COLLECTED: 2, EventKind.LEGAL_ENDED: 2, EventKind.INSOLVENT: 0,
                 EventKind.INSOLVENCY_LOSS: 0, EventKind.ORDER_REFUSED: 0, EventKind.PLAN_REQUESTED: 4,
                 EventKind.COSTS_RECOVERED: 2}
# FEES_WAIVED follows whatever closed the invoice (a write-off, a credit note), in that event's phase (COSTS_RECOVERED
# follows a paid claim);
# REPUTATION events of other customers are recorded with the escalation that caused them.


class WriteOffAtDue(collectsim.DecisionMaker):
    """Scripted: write every invoice off on its due date."""

    name = "write-off-at-due"

    def decide(self, point, day, invoice, goodwill):
        if point is Point.ISSUED:
            return Decision((), invoice.due_day)
        return Decision((Action.write_off(),), None)


class RemindDayAfterDue(collectsim.DecisionMaker):
    """Scripted: one firm phone call the day after the due date, nothing else."""

    def decide(self, point, day, invoice, goodwill):
        if point is Point.ISSUED:
            return Decision((), invoice.due_day + 1)
        if day == invoice.due_day + 1:
            return Decision((Action.remind("phone", "firm", 600),), None)
        return Decision()


class ReviewInThePast(collectsim.DecisionMaker):
    def decide(self, point, day, invoice, goodwill):
        return Decision((), day - 1)


def _scenario(**segment_changes):
    data = small_data()
    for seg in data["portfolio"]["segments"]:
        seg.update(segment_changes)
    return collectsim.parse_scenario(data)


def test_scripted_write_off_on_due_date_writes_off_everything_unpaid():
    result = collectsim.simulate(_scenario(ignore_share=1.0, dispute_rate=0.0, churn_per_year=0.0,
                                           insolvency_rate=0.0), decider=WriteOffAtDue())
    events = result.events.to_frame()
    assert set(events["kind"]) == {"write_off"}
    due = result.invoices["due_day"][events["invoice"]]
    assert (events["day"].to_numpy() == due).all()
    m = result.metrics
    assert m.written_off == m.invoiced > 0 and m.cash_collected == 0
    assert result.policy == "write-off-at-due"


def test_a_reminder_that_works_brings_payment_later_never_the_same_day():
    data = small_data()
    for seg in data["portfolio"]["segments"]:
        seg.update(ignore_share=1.0, dispute_rate=0.0, partial_share=0.0, responsiveness=5.0, strain_rate=0.0)
    data["behaviour"] = {"response": {"phone": 1.0}, "max_response_probability": 1.0}
    scenario = collectsim.parse_scenario(data)
    result = collectsim.simulate(scenario, decider=RemindDayAfterDue())
    ev = result.events.to_frame()
    reminders = ev[ev["kind"] == "reminder"].set_index("invoice")["day"]
    payments = ev[ev["kind"] == "payment"].set_index("invoice")["day"]
    assert len(reminders) > 50
    # Every reminded invoice that the run had time for is paid, strictly after the reminder.
    paid = payments.reindex(reminders.index)
    assert (paid.dropna() > reminders[paid.notna()]).all()
    assert paid.notna().mean() > 0.95
    assert (ev.loc[ev["kind"] == "reminder", "cost"] == 600).all()


def test_review_day_in_the_past_is_refused():
    with pytest.raises(EngineError, match="earliest possible"):
        collectsim.simulate(_scenario(), decider=ReviewInThePast())


def test_same_day_events_run_in_the_documented_order(small):
    """(day, phase, customer, invoice sequence) never goes backwards; churn comes first in its day."""
    data = small_data()
    data["policies"]["ladder"]["discount"] = {"rate": 0.02, "window_days": 10}
    data["policies"]["ladder"]["reminders"]["pause_on_dispute"] = False
    data["policies"]["ladder"]["plans"] = {"offer": True, "after_days_overdue": 10, "missed_tolerance": 0,
                                           "on_default": "write_off", "on_request": True}
    for seg in data["portfolio"]["segments"]:
        seg.update(instalment_reliability=0.7, churn_per_year=0.5, strain_rate=0.1, distress_rate=0.2,
                   insolvency_rate=0.1)
    data["policies"]["ladder"]["fees"] = {"enforce": True, "claim_at_days_overdue": 5}
    data["policies"]["ladder"]["settlement"] = {"offer": True, "after_days_overdue": 15}
    data["policies"]["ladder"]["escalation"] = {"mediation": True, "mediation_after_days": 5, "agency": True,
                                                "agency_after_days_overdue": 25, "legal": True,
                                                "legal_after_days_overdue": 40, "legal_min_balance": 100.0,
                                                "credit_hold": True, "credit_hold_after_days_overdue": 20}
    data["policies"]["ladder"]["write_off"] = {"age_days": 300}
    data["horizon"]["runoff_days"] = 700
    data["behaviour"] = {"legal_days": 60.0, "reputation_spillover": 0.1, "agency_success": 0.2,
                         "judgment_paid_share": 0.3, "set_aside_never_share": 0.8}
    result = collectsim.simulate(collectsim.parse_scenario(data))
    ev = result.events
    assert ev.count(EventKind.REPUTATION) > 0
    ordered = (ev["kind"] != EventKind.FEES_WAIVED) & (ev["kind"] != EventKind.REPUTATION)
    ev = {name: ev[name][ordered] for name in ("day", "kind", "customer", "invoice")}
    seq = np.where(ev["invoice"] >= 0, result.invoices["seq"][ev["invoice"]], -1)  # -1: customer events
    phase = np.array([PHASE_OF_KIND[EventKind(k)] for k in ev["kind"]])
    keys = list(zip(ev["day"], phase, ev["customer"], seq))
    assert keys == sorted(keys)
    missing = set(PHASE_OF_KIND) - {EventKind(k) for k in set(ev["kind"].tolist())}
    assert not missing  # every kind occurred


def test_disputes_block_payment_until_resolved():
    result = collectsim.simulate(_scenario(dispute_rate=1.0, partial_share=0.0))
    ev = result.events.to_frame()
    raised = ev[ev["kind"] == "dispute_raised"].set_index("invoice")["day"]
    resolved = ev[ev["kind"] == "dispute_resolved"].set_index("invoice")["day"]
    payments = ev[ev["kind"] == "payment"]
    assert len(raised) > 100
    for inv, pay_day in zip(payments["invoice"], payments["day"]):
        if inv in raised.index:
            assert not (raised[inv] <= pay_day < resolved.get(inv, 10**9)), inv
    assert (ev["kind"] == "credit_note").sum() > 0


@pytest.mark.parametrize("pause", [True, False])
def test_pause_on_dispute_skips_reminders_while_disputed(pause):
    data = small_data()
    for seg in data["portfolio"]["segments"]:
        seg.update(dispute_rate=1.0, dispute_resolution_days=60.0)
    data["policies"]["ladder"]["reminders"]["pause_on_dispute"] = pause
    ev = collectsim.simulate(collectsim.parse_scenario(data)).events.to_frame()
    raised = ev[ev["kind"] == "dispute_raised"].set_index("invoice")["day"]
    resolved = ev[ev["kind"] == "dispute_resolved"].set_index("invoice")["day"]
    reminders = ev[ev["kind"] == "reminder"]
    during = sum(raised.get(i, 10**9) <= d < resolved.get(i, 10**9)
                 for i, d in zip(reminders["invoice"], reminders["day"]))
    assert (during == 0) if pause else (during > 0)


def test_event_log_frame_is_readable(small):
    frame = collectsim.simulate(small).events.to_frame()
    assert list(frame.columns) == ["day", "kind", "customer", "invoice", "amount", "channel", "tone",
                                   "cost", "goodwill_before", "goodwill_after", "minutes", "wait"]
    reminders = frame[frame["kind"] == "reminder"]
    assert set(reminders["channel"]) <= {"email", "letter", "phone"}
    assert set(reminders["tone"]) <= {"friendly", "firm"}
    assert (frame.loc[frame["kind"] == "payment", "channel"] == "").all()


def test_partial_payments_happen_and_add_up(small):
    result = collectsim.simulate(small)
    ev = result.events.to_frame()
    per_invoice = ev[ev["kind"] == "payment"].groupby("invoice").size()
    assert (per_invoice > 1).sum() > 5


def test_an_event_dated_before_today_is_refused():
    """The same-day order relies on time moving forward; SimPy itself would go back in time."""
    import simpy

    from collectsim.engines.simpy_engine import _Wake

    env = simpy.Environment(initial_time=5)
    with pytest.raises(EngineError, match="1 day\\(s\\) before today, day 5"):
        _Wake(env, -1, 0)
