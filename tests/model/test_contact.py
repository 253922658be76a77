"""Contact is per customer: one statement a day, a least gap between contacts, a cap on goodwill lost to them.

Each check reads the event log of a real run and holds the engine to what the policy file promises a credit
manager: a customer with five overdue invoices gets one message, costed once, not five.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pytest

from collectsim import simulate
from collectsim.config.policy_spec import CHANNELS
from collectsim.config.scaled import scaled_scenario
from collectsim.model.behaviour import CAP_PERIOD_DAYS
from collectsim.results.eventlog import EventKind
from helpers import ROOT

BASELINE = ROOT / "scenarios" / "baseline.toml"
#: A ladder that writes often: most customers with several open invoices hear about more than one on a day.
BUSY_LADDER = [{"offset": -3, "channel": "email", "tone": "friendly"},
               {"offset": 1, "channel": "email", "tone": "friendly"},
               {"offset": 7, "channel": "letter", "tone": "firm"},
               {"offset": 14, "channel": "phone", "tone": "firm"},
               {"offset": 21, "channel": "letter", "tone": "final"}]


def _reminders(result, kinds=(EventKind.REMINDER,)):
    ev = result.events
    mask = np.isin(ev["kind"], kinds)
    return {name: ev[name][mask] for name in ("day", "customer", "channel", "cost", "minutes",
                                              "goodwill_before", "goodwill_after")}


def _run(gap: int, tables: dict | None = None, seed: int = 3, engine: str = "simpy", customers: int = 60,
         fees: bool = False):
    scenario = scaled_scenario(BASELINE, customers, tables or {})
    spec = scenario.policy("as-is").with_values({"reminders.steps": BUSY_LADDER, "reminders.min_gap_days": gap,
                                                 "fees.enforce": fees, "fees.claim_at_days_overdue": 3})
    return scenario, simulate(scenario, spec, seed=seed, engine=engine)


@pytest.mark.parametrize("engine", ["simpy", "compiled"])
def test_a_contact_costs_what_its_dearest_step_costs(engine):
    """All of a customer's reminders on one day are one contact: its cost is the dearest step's, once."""
    scenario, result = _run(gap=0, engine=engine)
    r = _reminders(result)
    econ = scenario.economics
    step_cost = np.asarray([round(100 * getattr(econ, f"cost_{c}")) for c in CHANNELS])[r["channel"]]
    by_contact = defaultdict(list)
    for k, key in enumerate(zip(r["customer"].tolist(), r["day"].tolist())):
        by_contact[key].append(k)
    shared = [rows for rows in by_contact.values() if len(rows) > 1]
    assert len(shared) > 20, "the ladder should put several invoices of a customer in one contact"
    for rows in by_contact.values():
        assert r["cost"][rows].sum() == step_cost[rows].max()


def test_staff_minutes_are_per_contact_too():
    scenario, result = _run(gap=0)
    r = _reminders(result)
    team = scenario.team
    minutes = np.asarray([team.minutes_email, team.minutes_letter, team.minutes_call])[r["channel"]]
    totals = defaultdict(float)
    longest = defaultdict(float)
    for customer, day, m_logged, m_step in zip(r["customer"].tolist(), r["day"].tolist(), r["minutes"].tolist(),
                                               minutes.tolist()):
        totals[customer, day] += m_logged
        longest[customer, day] = max(longest[customer, day], m_step)
    assert totals == pytest.approx(longest)


@pytest.mark.parametrize("gap", [5, 12])
@pytest.mark.parametrize("staff", [0.0, 0.05])
def test_contacts_with_a_customer_are_at_least_the_gap_apart(gap, staff):
    _, result = _run(gap=gap, tables={"team": {"staff": staff}})
    r = _reminders(result)
    for customer in np.unique(r["customer"]):
        days = np.unique(r["day"][r["customer"] == customer])
        assert (np.diff(days) >= gap).all(), (customer, days)


def test_a_gap_holds_reminders_back_rather_than_dropping_them():
    """With a gap, reminders go out later (and fewer contacts are made), but invoices still get their steps."""
    _, free = _run(gap=0)
    _, spaced = _run(gap=10)
    contacts = lambda r: len(set(zip(r["customer"].tolist(), r["day"].tolist())))  # noqa: E731
    assert contacts(_reminders(spaced)) < contacts(_reminders(free))
    assert len(_reminders(spaced)["day"]) > 0.5 * len(_reminders(free)["day"])


@pytest.mark.parametrize("cap", [0.02, 0.05])
@pytest.mark.parametrize("engine", ["simpy", "compiled"])
def test_goodwill_lost_to_reminders_and_fee_claims_is_capped_per_period(cap, engine):
    scenario, result = _run(gap=0, tables={"behaviour": {"contact_goodwill_cap": cap}}, fees=True, engine=engine)
    r = _reminders(result, (EventKind.REMINDER, EventKind.FEES_CLAIMED))
    sensitivity = {i: seg.goodwill_sensitivity for i, seg in enumerate(scenario.portfolio.segments)}
    segment = result.customers.segment
    loss = defaultdict(float)
    for customer, day, before, after in zip(r["customer"].tolist(), r["day"].tolist(), r["goodwill_before"].tolist(),
                                            r["goodwill_after"].tolist()):
        loss[customer, day // CAP_PERIOD_DAYS] += max(0.0, before - after)
    biggest = {key: value / sensitivity[int(segment[key[0]])] for key, value in loss.items()}
    assert max(biggest.values()) <= cap + 1e-12
    assert max(biggest.values()) > 0.9 * cap  # the cap binds for the busiest customers


def test_without_the_cap_the_same_ladder_costs_more_goodwill():
    _, capped = _run(gap=0, tables={"behaviour": {"contact_goodwill_cap": 0.02}})
    _, free = _run(gap=0, tables={"behaviour": {"contact_goodwill_cap": 1.0}})
    lost = lambda r: float(np.clip(r["goodwill_before"] - r["goodwill_after"], 0, None).sum())  # noqa: E731
    assert lost(_reminders(capped)) < lost(_reminders(free))


@pytest.mark.parametrize("engine", ["simpy", "compiled"])
def test_a_hand_over_hurts_once_while_the_account_is_with_the_agency(engine):
    """Several invoices of one customer at the agency together: only the first hand-over moves its goodwill."""
    scenario = scaled_scenario(BASELINE, 60)
    spec = scenario.policy("aggressive")
    result = simulate(scenario, spec, seed=5, engine=engine)
    ev = result.events
    placed = np.flatnonzero(ev["kind"] == EventKind.AGENCY_PLACED)
    ends = {int(ev["invoice"][k]): int(ev["day"][k]) for k in np.flatnonzero(np.isin(
        ev["kind"], [EventKind.AGENCY_COLLECTED, EventKind.AGENCY_RETURNED]))}
    hurt = quiet = 0
    for k in placed:
        customer, day = ev["customer"][k], ev["day"][k]
        earlier = [j for j in placed if j < k and ev["customer"][j] == customer
                   and ends.get(int(ev["invoice"][j]), 1 << 40) > day]
        moved = ev["goodwill_after"][k] != ev["goodwill_before"][k]
        if earlier:
            quiet += 1
            assert not moved, "a second invoice of an account already at the agency moved goodwill"
        else:
            hurt += 1
            assert moved or ev["goodwill_before"][k] == 0.0
    assert hurt > 5 and quiet > 5  # both cases occur
