"""Plans for strained customers versus chasing them harder (baseline portfolio, paired replications).

Both policies are the baseline's as-is ladder for every segment but cash-strained. "harder" sends the
cash-strained three more final-tone contacts (phone +45, letter +75, phone +90); "plan" offers them an
instalment plan at +30, grants plans they ask for, and restarts the ladder if a plan breaks.
"""

import numpy as np
import pytest

import collectsim
from conftest import SCENARIOS

LADDER = [{"offset": 7, "channel": "email", "tone": "friendly"}, {"offset": 30, "channel": "letter", "tone": "firm"},
          {"offset": 60, "channel": "phone", "tone": "firm"}]
HARDER = sorted(LADDER + [{"offset": 45, "channel": "phone", "tone": "final"},
                          {"offset": 75, "channel": "letter", "tone": "final"},
                          {"offset": 90, "channel": "phone", "tone": "final"}], key=lambda s: s["offset"])
PLAN = {"offer": True, "after_days_overdue": 30, "on_request": True, "instalments": 4, "interval_days": 30,
        "down_payment": 0.1, "missed_tolerance": 1, "on_default": "restart"}


@pytest.fixture(scope="module")
def paired():
    scenario = collectsim.load_scenario(SCENARIOS / "baseline.toml")
    base = scenario.policy("as-is")
    harder = base.with_values({"name": "harder", "segments": {"cash-strained": {"reminders": {"steps": HARDER}}}})
    plan = base.with_values({"name": "plan", "segments": {"cash-strained": {"plans": PLAN}}})
    return collectsim.compare(scenario, [plan, harder], reps=6, seed=3, progress=False)


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
    "Model disagrees with issue 3's stylised fact (steering decision needed). Measured, 6 paired reps: plan has "
    "a bad-debt ratio about 0.4 points higher than harder chasing (write-offs +35%). Broken plans leave aged "
    "debt that reminders no longer move (response halves every 90 days past due), customers kept by the plan "
    "order more from a strained position, insolvency is exogenous (chasing does not push anyone under), and a "
    "prompted payment from a strained customer is a full payment, not limited by ability to pay."))
def test_a_plan_for_strained_customers_means_less_bad_debt_than_chasing_harder(paired):
    assert _diff(paired, "bad_debt_ratio")[1] < 0
