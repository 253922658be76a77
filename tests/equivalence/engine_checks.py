"""Checks shared by the equivalence tests: two runs agree on everything an engine produces."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import golden
from collectsim.results.eventlog import COLUMNS, EventKind

#: A reminder step, for generated policies.
STEP = st.fixed_dictionaries({"offset": st.integers(-10, 90), "channel": st.sampled_from(["email", "letter", "phone"]),
                               "tone": st.sampled_from(["friendly", "firm", "final"])})

#: What a target may select on (every selector, each sometimes), for generated policies.
WHEN = st.fixed_dictionaries({}, optional={
    "open_balance_min": st.sampled_from([0.0, 2000.0, 10000.0]), "open_balance_max": st.sampled_from([1500.0, 50000.0]),
    "recent_days_late_min": st.sampled_from([0, 5, 20]), "recent_days_late_max": st.sampled_from([3, 30]),
    "overdue_days_min": st.sampled_from([1, 20]), "disputes_min": st.sampled_from([1, 2]),
    "disputed_within_days": st.sampled_from([0, 30, 200]),
    "risk_band": st.sampled_from(["new", "low", "medium", "high"]),
    "tenure_days_min": st.sampled_from([0, 100]), "tenure_days_max": st.sampled_from([60, 400])}).filter(
    lambda when: when and all(when.get(f"{k}_min", 0) <= when.get(f"{k}_max", 1e12)
                              for k in ("open_balance", "recent_days_late", "tenure_days")))
#: Targets with a few levers of their own, for generated policies.
TARGETS = st.lists(st.fixed_dictionaries({"when": WHEN}, optional={
    "reminders": st.fixed_dictionaries({}, optional={
        "steps": st.lists(STEP, min_size=1, max_size=3, unique_by=lambda s: s["offset"]).map(
            lambda steps: sorted(steps, key=lambda s: s["offset"])),
        "min_gap_days": st.sampled_from([0, 5])}),
    "discount": st.fixed_dictionaries({"rate": st.sampled_from([0.0, 0.02])}),
    "plans": st.fixed_dictionaries({"offer": st.booleans(), "on_request": st.booleans()}),
    "fees": st.fixed_dictionaries({"enforce": st.booleans()}),
    "escalation": st.fixed_dictionaries({"agency": st.booleans(), "credit_hold": st.booleans()}),
    "onboarding": st.fixed_dictionaries({"credit_check": st.booleans()}),
    "invoicing": st.fixed_dictionaries({"e_invoicing": st.booleans()}),
    "extended_terms": st.fixed_dictionaries({"offer": st.booleans()})}), max_size=3).map(
    lambda targets: [{"name": f"t{i}", **t} for i, t in enumerate(targets)])


def assert_same(ref, vec) -> None:
    """Two RunResults agree on everything the engines produce."""
    assert len(ref.invoices) == len(vec.invoices)
    for name in ("customer", "seq", "segment", "issue_day", "due_day", "amount", "discount_rate",
                 "discount_deadline", "balance"):
        np.testing.assert_array_equal(ref.invoices[name], vec.invoices[name], err_msg=f"invoice column {name}")
    assert len(ref.events) == len(vec.events)
    for name in COLUMNS:
        np.testing.assert_array_equal(ref.events[name], vec.events[name], err_msg=f"event column {name}")
    np.testing.assert_array_equal(ref.final_goodwill, vec.final_goodwill)
    churn_ref = ref.events["customer"][ref.events["kind"] == EventKind.CHURNED]
    churn_vec = vec.events["customer"][vec.events["kind"] == EventKind.CHURNED]
    np.testing.assert_array_equal(churn_ref, churn_vec)
    assert golden.outcome(ref)["event_counts"] == golden.outcome(vec)["event_counts"]
    assert golden.differences(ref.metrics.to_dict(), vec.metrics.to_dict()) == []
