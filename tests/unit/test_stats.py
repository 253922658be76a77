"""Interval arithmetic and the words of a verdict."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectsim.experiments.stats import (
    Interval,
    mean_interval,
    paired_halfwidth_floor,
    paired_interval,
    t_quantile,
    welch_interval,
)
from collectsim.experiments.verdicts import verdict


@pytest.mark.parametrize("df, expected", [(1, 12.7062), (2, 4.3027), (5, 2.5706), (10, 2.2281), (29, 2.0452),
                                          (120, 1.9799)])
def test_t_quantile_matches_tables(df, expected):
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-4)
    assert t_quantile(0.025, df) == pytest.approx(-expected, abs=1e-4)


def test_mean_interval_by_hand():
    iv = mean_interval([1.0, 2.0, 3.0, 4.0])  # sd = 1.29099, se = 0.645497, t(3) = 3.18245
    assert iv.mean == 2.5 and iv.halfwidth == pytest.approx(3.182446 * 0.6454972, rel=1e-6)
    assert math.isnan(mean_interval([3.0]).lo)
    assert mean_interval([2.0, 2.0]) == Interval(2.0, 2.0, 2.0, 2)


def test_paired_beats_welch_when_runs_are_correlated():
    a = [10.0, 20.0, 30.0, 40.0]
    b = [11.0, 21.5, 30.5, 41.0]
    assert paired_interval(a, b).halfwidth < welch_interval(a, b).halfwidth / 10


def test_verdict_words():
    up = Interval(3.1e5, 2.4e5, 3.8e5, 10)
    assert verdict("A", "B", "cash_collected", up, 1e7) == "A collects 3.1% more cash than B (95% CI 2.4% to 3.8%)"
    down = Interval(-3.1e5, -3.8e5, -2.4e5, 10)
    assert verdict("A", "B", "cash_collected", down, 1e7) == "A collects 3.1% less cash than B (95% CI 2.4% to 3.8%)"
    # Against a base smaller than the change, an amount instead of a meaningless percentage.
    big = Interval(7.0e8, 6.8e8, 7.2e8, 10)
    assert verdict("A", "B", "net_value", big, 1.0e7) == \
        "A has net value 7,000,000 (currency) higher than B (95% CI 6,800,000 to 7,200,000 (currency))"
    assert verdict("A", "B", "net_value", big, 1.0e7, "EUR") == \
        "A has net value 7,000,000 EUR higher than B (95% CI 6,800,000 to 7,200,000 EUR)"
    assert verdict("A", "B", "dso", Interval(-4.0, -5.0, -3.0, 10), 50) == \
        "A has DSO 4.0 days lower than B (95% CI 3.0 to 5.0 days)"
    assert verdict("A", "B", "dso", Interval(0.5, -1.0, 2.0, 10), 50).startswith(
        "no significant difference in DSO between A and B (95% CI of A minus B: -1.0 to 2.0 days)")


def test_paired_floor_is_reached_by_perfectly_correlated_runs():
    a = [10.0, 20.0, 30.0, 40.0]
    b = [5.0 + x / 2 for x in a]  # correlation 1, half the spread
    assert paired_interval(a, b).halfwidth == pytest.approx(paired_halfwidth_floor(a, b), rel=1e-12)
    assert paired_halfwidth_floor(a, a) == 0.0
    with pytest.raises(ValueError):
        paired_halfwidth_floor(a, b[:3])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)), min_size=2, max_size=40), st.randoms())
def test_no_pairing_narrows_the_interval_below_the_floor(pairs, rnd):
    a = [x for x, _ in pairs]
    b = [y for _, y in pairs]
    rnd.shuffle(b)  # any pairing of the same values
    assert paired_interval(a, b).halfwidth >= paired_halfwidth_floor(a, b) * (1 - 1e-9) - 1e-9
