"""Giving one segment a different policy changes no outcome of any customer in another segment."""

import numpy as np

import collectsim
from helpers import small_data


def _outcomes(result, segment):
    """Every event and invoice of one segment's customers, keyed by customer and invoice sequence."""
    seg_index = [s.name for s in result.scenario.portfolio.segments].index(segment)
    inv, ev = result.invoices, result.events
    mine = result.customers.segment[ev["customer"]] == seg_index
    seq = np.where(ev["invoice"] >= 0, inv["seq"][ev["invoice"]], -1)
    events = sorted(zip(ev["day"][mine], ev["kind"][mine], ev["customer"][mine], seq[mine],
                        ev["amount"][mine], ev["channel"][mine], ev["tone"][mine], ev["cost"][mine],
                        # churn events have no goodwill change (NaN); NaN != NaN, so compare a stand-in
                        np.nan_to_num(ev["goodwill_before"][mine], nan=-1.0),
                        np.nan_to_num(ev["goodwill_after"][mine], nan=-1.0)))
    rows = inv["segment"] == seg_index
    invoices = sorted(zip(inv["customer"][rows], inv["seq"][rows], inv["amount"][rows], inv["balance"][rows],
                          inv["issue_day"][rows]))
    goodwill = result.final_goodwill[result.customers.segment == seg_index]
    return events, invoices, goodwill.tolist()


def test_overriding_one_segment_leaves_the_other_untouched():
    data = small_data()
    scenario = collectsim.parse_scenario(data)
    base = scenario.policy("ladder")
    changed = base.with_values({"segments": {"late": {
        "reminders": {"steps": [{"offset": 1, "channel": "phone", "tone": "final"},
                                {"offset": 5, "channel": "letter", "tone": "final"}]},
        "discount": {"rate": 0.05, "window_days": 20}, "write_off": {"age_days": 30}}}})
    for seed in (1, 2, 3):
        a = collectsim.simulate(scenario, base, seed=seed)
        b = collectsim.simulate(scenario, changed, seed=seed)
        assert _outcomes(a, "steady") == _outcomes(b, "steady")
        assert _outcomes(a, "late") != _outcomes(b, "late")  # the override did change its own segment
        assert not np.array_equal(a.final_goodwill, b.final_goodwill)
