"""Plans for strained customers versus chasing them harder (baseline portfolio, paired replications).

Both policies are the baseline's as-is ladder for every segment but cash-strained. "harder" sends the
cash-strained three more final-tone contacts (phone +45, letter +75, phone +90); "plan" offers them an
instalment plan at +30, grants plans they ask for, and restarts the ladder if a plan breaks.
"""

import numpy as np
import pytest

import collectsim
from collectsim.experiments.stats import paired_interval
from collectsim.model.draws import derive_seed
from helpers import SCENARIOS

LADDER = [{"offset": 7, "channel": "email", "tone": "friendly"}, {"offset": 30, "channel": "letter", "tone": "firm"},
          {"offset": 60, "channel": "phone", "tone": "firm"}]
HARDER = sorted(LADDER + [{"offset": 45, "channel": "phone", "tone": "final"},
                          {"offset": 75, "channel": "letter", "tone": "final"},
                          {"offset": 90, "channel": "phone", "tone": "final"}], key=lambda s: s["offset"])
PLAN = {"offer": True, "after_days_overdue": 30, "on_request": True, "instalments": 4, "interval_days": 30,
        "down_payment": 0.1, "missed_tolerance": 1, "on_default": "restart"}
REPS_PER_DEBT = 12


@pytest.fixture(scope="module")
def paired():
    scenario = collectsim.load_scenario(SCENARIOS / "baseline.toml")
    base = scenario.policy("as-is")
    harder = base.with_values({"name": "harder", "segments": {"cash-strained": {"reminders": {"steps": HARDER}}}})
    plan = base.with_values({"name": "plan", "segments": {"cash-strained": {"plans": PLAN}}})
    return collectsim.compare(scenario, [plan, harder], reps=6, seed=3, progress=False)


LOSSES = ("write_off", "insolvency_loss")
PRINCIPAL_MOVES = ("payment", "discount", "credit_note", "write_off", "settlement", "agency_collected",
                   "legal_collected", "insolvency_loss")


def _open_debt_and_losses(result, segment: int, days_overdue: int):
    """Per (customer, seq) of the segment: balance still open at ``days_overdue`` past due, and what was lost later."""
    invoices = result.invoices.to_frame()
    invoices["row"] = np.arange(len(invoices))
    invoices = invoices[invoices["segment"] == segment]
    events = result.events.to_frame()
    moves = events[events["kind"].isin(PRINCIPAL_MOVES)].merge(invoices[["row", "due_day"]], left_on="invoice",
                                                               right_on="row")
    before = moves[moves["day"] <= moves["due_day"] + days_overdue].groupby("invoice")["amount"].sum()
    lost = moves[moves["kind"].isin(LOSSES)].groupby("invoice")["amount"].sum()
    invoices["open"] = invoices["amount"] - invoices["row"].map(before).fillna(0)
    invoices["lost"] = invoices["row"].map(lost).fillna(0)
    return invoices.set_index(["customer", "seq"])[["open", "lost"]]


@pytest.fixture(scope="module")
def lost_shares():
    """Share of the debt open on the plan-offer day later lost (written off or to insolvency), per replication.

    Only invoices that exist and are still open on that day under both policies count: the same debts, so the
    comparison is about what each policy does with them, not about the orders a kept customer places later.
    """
    scenario = collectsim.load_scenario(SCENARIOS / "baseline.toml")
    base = scenario.policy("as-is")
    harder = base.with_values({"name": "harder", "segments": {"cash-strained": {"reminders": {"steps": HARDER}}}})
    plan = base.with_values({"name": "plan", "segments": {"cash-strained": {"plans": PLAN}}})
    segment = [s.name for s in scenario.portfolio.segments].index("cash-strained")
    shares = []
    for rep in range(REPS_PER_DEBT):
        seed = derive_seed(3, rep)
        a, b = (_open_debt_and_losses(collectsim.simulate(scenario, p, seed=seed), segment, PLAN["after_days_overdue"])
                for p in (plan, harder))
        both = a.merge(b, left_index=True, right_index=True, suffixes=("_plan", "_harder"))
        both = both[(both["open_plan"] > 0) & (both["open_harder"] > 0)]
        assert len(both) > 100  # enough debts to compare
        shares.append((both["lost_plan"].sum() / both["open_plan"].sum(),
                       both["lost_harder"].sum() / both["open_harder"].sum()))
    plan_share, harder_share = np.array(shares).T
    interval = paired_interval(plan_share, harder_share)
    print(f"\nshare of open debt lost: plan {plan_share.mean():.4f}, harder {harder_share.mean():.4f}, "
          f"difference {interval.mean:.4f} (95% CI {interval.lo:.4f} to {interval.hi:.4f})")
    return interval


def test_a_plan_for_strained_customers_loses_less_of_their_overdue_debt_than_chasing_harder(lost_shares):
    assert lost_shares.hi < 0


def _diff(comparison, metric):
    d = comparison.difference("plan", "harder", metric)
    return d.lo, d.hi


def test_a_plan_for_strained_customers_keeps_more_goodwill_customers_and_value_than_chasing_harder(paired):
    assert _diff(paired, "mean_goodwill")[0] > 0
    assert _diff(paired, "churned_customers")[1] < 0
    assert _diff(paired, "cash_collected")[0] > 0
    assert _diff(paired, "net_value")[0] > 0
    assert np.mean(paired.values("plan", "plans_agreed")) > 0


@pytest.mark.xfail(strict=True, reason=(
    "Portfolio-wide, the plan's bad-debt ratio is higher (measured: +0.19 points, 95% CI 0.14 to 0.23, 6 paired "
    "reps), although it loses less of the debts it is offered on (test above). The plan keeps strained customers "
    "trading: about 26 fewer churned per run, about 50% more invoiced to the cash-strained segment, and with those "
    "later orders about three times the insolvency losses (38.8 invoices per run against 11.5). Chasing harder "
    "drives strained customers away before they fail. Recorded, not tuned away; see the issue 3 note."))
def test_a_plan_for_strained_customers_means_less_bad_debt_than_chasing_harder(paired):
    assert _diff(paired, "bad_debt_ratio")[1] < 0
