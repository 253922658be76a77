"""Stylised facts the model must reproduce, judged over many seeds with common random numbers.

Each test runs two policies on the same seeds and requires the paired difference to point the
expected way with a t-statistic above 3 (not just a lucky draw).
"""


import collectsim
from helpers import paired_t, small_data

SEEDS = range(1, 11)


def _scenario(**segment_changes):
    data = small_data()
    data["horizon"]["measured_days"] = 240
    for seg in data["portfolio"]["segments"]:
        seg.update(segment_changes)
    return collectsim.parse_scenario(data)


def _paired(scenario, policy_a, policy_b, metric):
    """Per-seed differences a - b of one metric, and their t-statistic."""
    diffs = [getattr(collectsim.simulate(scenario, policy_a, seed=s).metrics, metric)
             - getattr(collectsim.simulate(scenario, policy_b, seed=s).metrics, metric) for s in SEEDS]
    return diffs, paired_t(diffs)


def _steps(*offsets, tone="friendly", channel="email"):
    return {"steps": [{"offset": o, "channel": channel, "tone": tone} for o in offsets]}


def test_more_reminder_steps_mean_fewer_days_late():
    scenario = _scenario()
    base = scenario.policy()
    few = base.with_values({"reminders": _steps(14)})
    many = base.with_values({"reminders": _steps(-3, 1, 7, 14, 21)})
    diffs, t = _paired(scenario, few, many, "mean_days_late")
    assert t > 3, (diffs, t)


def test_firm_tone_costs_more_goodwill_than_friendly():
    scenario = _scenario()
    base = scenario.policy()
    friendly = base.with_values({"reminders": _steps(1, 7, 14, tone="friendly")})
    firm = base.with_values({"reminders": _steps(1, 7, 14, tone="firm")})
    diffs, t = _paired(scenario, friendly, firm, "mean_goodwill")
    assert t > 3, (diffs, t)


def test_a_discount_lowers_dso_at_a_positive_discount_cost():
    scenario = _scenario()
    base = scenario.policy()
    plain = base.with_values({"discount.rate": 0.0})
    discounted = base.with_values({"discount.rate": 0.02, "discount.window_days": 10})
    diffs, t = _paired(scenario, plain, discounted, "dso")
    assert t > 3, (diffs, t)
    for seed in SEEDS:
        assert collectsim.simulate(scenario, discounted, seed=seed).metrics.discounts_granted > 0
        assert collectsim.simulate(scenario, plain, seed=seed).metrics.discounts_granted == 0


def test_pausing_on_disputes_means_fewer_reminders():
    scenario = _scenario(dispute_rate=0.3)
    base = scenario.policy()
    chase = base.with_values({"reminders.pause_on_dispute": False})
    pause = base.with_values({"reminders.pause_on_dispute": True})
    diffs, t = _paired(scenario, chase, pause, "reminders_sent")
    assert t > 3, (diffs, t)
