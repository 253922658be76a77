"""Runs that start from an open ledger: the compiled engine reproduces the SimPy engine exactly."""

from __future__ import annotations

import datetime as dt

import pytest
from engine_checks import assert_same

from collectsim import from_open_ledger, simulate
from helpers import small_data, small_history


@pytest.fixture(scope="module")
def history():
    return small_history(seed=3, days=300)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_run_from_the_open_ledger_is_reproduced(history, seed):
    scenario, ledger = history
    opened = from_open_ledger(scenario, ledger, measured_days=120, runoff_days=60)
    assert opened.opening.invoices > 10 and opened.opening.disputed.any()
    ref = simulate(opened, "ladder", seed=seed, engine="simpy")
    vec = simulate(opened, "ladder", seed=seed, engine="compiled")
    assert vec.engine == "compiled"
    assert_same(ref, vec)


def test_an_earlier_cut_with_a_team_new_customers_and_another_policy_is_reproduced():
    data = small_data()
    data["team"] = {"staff": 0.05}
    data["portfolio"]["segments"][0]["new_customers_per_year"] = 6.0
    data["policies"]["firm"] = {"reminders": {"steps": [{"offset": 1, "channel": "phone", "tone": "firm"}]},
                                "plans": {"offer": True, "after_days_overdue": 20}, "write_off": {"age_days": 90}}
    scenario, ledger = small_history(seed=5, days=320, data=data)
    opened = from_open_ledger(scenario, ledger, as_of=ledger.as_of - dt.timedelta(days=40), measured_days=90,
                              runoff_days=30)
    for policy in ("ladder", "firm"):
        assert_same(simulate(opened, policy, seed=4, engine="simpy"), simulate(opened, policy, seed=4,
                                                                                engine="compiled"))
