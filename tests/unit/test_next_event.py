"""Invoice.next_event: the earliest (day, phase) among its pending events, as a min() over tuples would give."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from collectsim.engines.simpy_engine import NEVER, PHASE_DISPUTE, PHASE_PAY, PHASE_RESOLVE, PHASE_REVIEW, Invoice

DAY = st.one_of(st.integers(0, 40), st.just(NEVER))


def _reference(inv: Invoice) -> tuple[int, int]:
    """The definition: min over the candidate (day, phase) pairs and (NEVER, review)."""
    if inv.escalation:
        return (inv.escalation_day, PHASE_PAY)
    best = (NEVER, PHASE_REVIEW)
    if inv.disputed:
        if inv.taken_up:
            best = min(best, (inv.resolve_day, PHASE_RESOLVE))
    elif inv.in_plan:
        best = min(best, (inv.plan_day, PHASE_PAY), (inv.dispute_day, PHASE_DISPUTE))
    else:
        best = min(best, (inv.pay_day, PHASE_PAY), (inv.dispute_day, PHASE_DISPUTE))
    return min(best, (inv.review_day, PHASE_REVIEW))


@given(DAY, DAY, DAY, DAY, DAY, DAY, st.booleans(), st.booleans(), st.booleans(), st.integers(0, 2))
def test_next_event_is_the_earliest_candidate(pay, plan, dispute, resolve, review, escalation_day,
                                              disputed, in_plan, taken_up, escalation):
    inv = Invoice(0, 1, 2, 0, 1000, 0, 30)
    inv.pay_day, inv.plan_day, inv.dispute_day, inv.resolve_day, inv.review_day = pay, plan, dispute, resolve, review
    inv.disputed, inv.in_plan, inv.taken_up = disputed, in_plan, taken_up
    inv.escalation, inv.escalation_day = escalation, escalation_day
    assert inv.next_event() == _reference(inv)
