"""Golden outputs: the baseline (reduced) gives exactly the pinned metrics, event counts and event digest.

A failure here means the model's output changed. If that was intended (a model change, not a speed-up),
regenerate with ``python tools/golden.py --write`` and commit the new files with the change.
"""

from __future__ import annotations

import pytest

import golden
from collectsim import simulate
from collectsim.config.scaled import scaled_scenario
from collectsim.config.scenario import split_customers

CASES = list(golden.cases())


@pytest.mark.parametrize("name,scenario,spec", CASES, ids=[c[0] for c in CASES])
def test_golden_outputs_unchanged(name, scenario, spec):
    expected = golden.load(name)
    assert expected["customers"] == scenario.portfolio.customer_count == golden.CUSTOMERS
    for seed in golden.SEEDS:
        actual = golden.outcome(simulate(scenario, spec, seed=seed))
        assert golden.differences(expected["runs"][str(seed)], actual) == []


def test_every_golden_file_is_a_case():
    names = sorted(p.name for p in golden.GOLDEN_DIR.glob("*.json"))
    assert names == sorted(golden.path_for(c[0]).name for c in CASES)


def test_differences_finds_a_change_beyond_tolerance_only():
    base = {"metrics": {"cash": 1000, "dso": 41.5, "cei": float("nan")}, "event_counts": {"payment": 3}}
    assert golden.differences(base, base) == []
    near = {"metrics": {"cash": 1000, "dso": 41.5 * (1 + 1e-12), "cei": float("nan")}, "event_counts": {"payment": 3}}
    assert golden.differences(base, near) == []
    off_cent = {"metrics": {"cash": 1001, "dso": 41.5, "cei": float("nan")}, "event_counts": {"payment": 3}}
    assert golden.differences(base, off_cent) == [".metrics.cash: 1000 != 1001"]
    off_ratio = {"metrics": {"cash": 1000, "dso": 41.5 * (1 + 1e-8), "cei": 1.0}, "event_counts": {"payment": 4}}
    assert len(golden.differences(base, off_ratio)) == 3


def test_split_customers_keeps_proportions_and_total():
    assert split_customers([140, 120, 50, 50, 40], 100) == [35, 30, 13, 12, 10]  # the tie goes to the first
    for total in (5, 7, 100, 1000, 100_000):
        out = split_customers([140, 120, 50, 50, 40], total)
        assert sum(out) == total and min(out) >= 1
    with pytest.raises(ValueError):
        split_customers([1, 2, 3], 2)


def test_resized_scales_staff_and_arrivals_with_the_customers():
    """A portfolio ten times larger has ten times the team and ten times the new customers a year, so the
    queue per customer and the yearly turnover of accounts stay as in the file."""
    base = scaled_scenario(golden.SCENARIO, 400)
    big = base.resized(4000)
    assert big.portfolio.customer_count == 4000
    assert big.team.staff == pytest.approx(10 * base.team.staff)
    for small_seg, big_seg in zip(base.portfolio.segments, big.portfolio.segments):
        assert big_seg.customers == 10 * small_seg.customers
        assert big_seg.new_customers_per_year == pytest.approx(10 * small_seg.new_customers_per_year)
    unlimited = base.with_values({"team.staff": 0}).resized(4000)
    assert unlimited.team.staff == 0  # unlimited capacity stays unlimited


def test_scaled_scenario_keeps_keys_set_explicitly():
    small = scaled_scenario(golden.SCENARIO, 40, {"team": {"staff": 2}})
    assert small.portfolio.customer_count == 40
    assert small.team.staff == 2
    assert [p.name for p in small.policies] == ["as-is", "firm-and-fair", "discount-led", "flexible-plans", "gentle",
                                               "aggressive"]
