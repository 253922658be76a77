"""Checks shared by the equivalence tests: two runs agree on everything an engine produces."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import golden
from collectsim.results.eventlog import COLUMNS, EventKind

#: A reminder step, for generated policies.
STEP = st.fixed_dictionaries({"offset": st.integers(-10, 90), "channel": st.sampled_from(["email", "letter", "phone"]),
                               "tone": st.sampled_from(["friendly", "firm", "final"])})


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
