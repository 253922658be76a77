"""Targets in a run: an invoice follows the target its customer's standing met when it was issued.

The standing is worked out again here from the run's own log (when each invoice was paid in full, how late),
independently of the engine's bookkeeping, and every reminder must come from the ladder that standing selects.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

import collectsim
from collectsim.config.policy_spec import RECENT_INVOICES
from collectsim.results.eventlog import EventKind
from helpers import small_data

THRESHOLD = 15  # days late on average over the recent invoices paid in full


def _scenario() -> collectsim.Scenario:
    data = small_data()
    for seg in data["portfolio"]["segments"]:
        seg.update(dispute_rate=0.0, ignore_share=0.0, partial_share=0.0, days_late_sd_within=12.0)
    data["portfolio"]["segments"][1]["days_late_mean"] = 18.0  # around the threshold: customers cross it both ways
    data["policies"] = {"watch": {
        "reminders": {"steps": [{"offset": 1, "channel": "email", "tone": "friendly"}]},
        "write_off": {"age_days": 400},
        "targets": [{"name": "pays-late", "when": {"recent_days_late_min": THRESHOLD},
                     "reminders": {"steps": [{"offset": 2, "channel": "letter", "tone": "final"}]}}]}}
    return collectsim.parse_scenario(data)


def _expected_target(result) -> dict[int, bool]:
    """Invoice -> whether its customer's last invoices paid in full before its issue day averaged >= THRESHOLD late."""
    ev, inv = result.events, result.invoices
    other_endings = (EventKind.WRITE_OFF, EventKind.CREDIT_NOTE, EventKind.INSOLVENCY_LOSS, EventKind.SETTLEMENT)
    closed_otherwise = set(ev["invoice"][np.isin(ev["kind"], other_endings)].tolist())
    paid_day: dict[int, int] = {}
    for day, kind, i in zip(ev["day"].tolist(), ev["kind"].tolist(), ev["invoice"].tolist()):
        if kind == EventKind.PAYMENT:
            paid_day[i] = day  # the last payment; the run has no part payments
    history = defaultdict(list)  # customer -> [(day paid in full, days late)], in log order
    for i, day in paid_day.items():
        if inv["balance"][i] == 0 and i not in closed_otherwise:
            history[int(inv["customer"][i])].append((day, max(0, day - int(inv["due_day"][i]))))
    for paid in history.values():
        paid.sort(key=lambda p: p[0])  # stable: same-day payments keep the log's order
    expected = {}
    for i in range(len(inv["customer"])):
        before = [late for day, late in history[int(inv["customer"][i])] if day < inv["issue_day"][i]]
        recent = before[-RECENT_INVOICES:]
        expected[i] = bool(recent) and sum(recent) >= THRESHOLD * len(recent)
    return expected


def test_each_invoice_gets_the_ladder_of_the_target_its_customer_met_when_it_was_issued():
    scenario = _scenario()
    result = collectsim.simulate(scenario, "watch", seed=3, engine="simpy")
    ev = result.events
    assert not (ev["kind"] == EventKind.WRITE_OFF).any() and not (ev["kind"] == EventKind.CREDIT_NOTE).any()
    expected = _expected_target(result)
    reminded = ev["kind"] == EventKind.REMINDER
    final = {int(i): int(t) == 2 for i, t in zip(ev["invoice"][reminded], ev["tone"][reminded])}
    assert final, "some invoices must be chased"
    for i, is_final in final.items():
        assert is_final == expected[i], f"invoice {i}"
    # Customers move between the two: some are chased gently, then firmly once their payments show it (and back).
    by_customer = defaultdict(list)
    for i in sorted(final, key=lambda i: result.invoices["issue_day"][i]):
        by_customer[int(result.invoices["customer"][i])].append(final[i])
    moved_up = [c for c, seq in by_customer.items() if False in seq and True in seq[seq.index(False):]]
    moved_down = [c for c, seq in by_customer.items() if True in seq and False in seq[seq.index(True):]]
    assert moved_up and moved_down
    # Every customer starts on the base ladder: no history, no mean to be late by.
    first = {}
    for i in range(len(result.invoices["customer"])):
        first.setdefault(int(result.invoices["customer"][i]), i)
    assert not any(final.get(i) for i in first.values())


def test_the_compiled_engine_makes_the_same_choices():
    scenario = _scenario()
    ref = collectsim.simulate(scenario, "watch", seed=3, engine="simpy")
    vec = collectsim.simulate(scenario, "watch", seed=3, engine="compiled")
    assert vec.engine == "compiled"
    for name in ("kind", "invoice", "tone", "day"):
        assert ref.events[name].tolist() == vec.events[name].tolist()
