"""Reputation spill-over: off by default; when on, an escalation moves the goodwill of the segment's other customers."""

import numpy as np

import collectsim
from collectsim import EventKind
from helpers import small_data


def _run(spillover):
    data = small_data()
    data["behaviour"] = {"reputation_spillover": spillover}
    data["policies"]["ladder"]["escalation"] = {"agency": True, "agency_after_days_overdue": 30}
    data["policies"]["ladder"]["write_off"] = {"age_days": 300}
    return collectsim.simulate(collectsim.parse_scenario(data), seed=3)


def test_spillover_is_off_by_default():
    assert collectsim.parse_scenario(small_data()).behaviour.reputation_spillover == 0.0
    result = _run(0.0)
    assert result.events.count(EventKind.AGENCY_PLACED) > 5
    assert result.events.count(EventKind.REPUTATION) == 0


def test_an_escalation_lowers_the_goodwill_of_the_same_segment_only():
    result = _run(0.2)
    ev = result.events.to_frame()
    placed = ev[ev["kind"] == "agency_placed"]
    heard = ev[ev["kind"] == "reputation"]
    segment = result.customers.segment
    assert len(placed) > 5 and len(heard) > len(placed)
    assert (heard["goodwill_after"] < heard["goodwill_before"]).all()
    # Every spill-over happens on a placement day, to a different customer of the placing customer's segment.
    for day, group in heard.groupby("day"):
        sources = placed[placed["day"] == day]
        assert len(sources) > 0
        assert set(segment[group["customer"]]) <= set(segment[sources["customer"]])
    assert result.metrics.mean_goodwill < _run(0.0).metrics.mean_goodwill


def test_spillover_keeps_money_conserved():
    m = _run(0.5).metrics
    assert m.invoiced == (m.cash_collected - m.fees_collected) + m.discounts_granted + m.credit_notes \
        + m.settlements_forgiven + m.written_off + m.outstanding
    assert np.isfinite(m.mean_goodwill)
