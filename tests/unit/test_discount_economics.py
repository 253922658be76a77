"""Closed-form discount economics: the quoted 2/10 net 30 figure, break-even, and their consistency."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from collectsim.model.discount_economics import break_even_discount, days_gained, implied_annual_cost, terms_table


def test_two_ten_net_thirty_costs_about_37_percent_a_year():
    assert implied_annual_cost(0.02, 10, 30) == pytest.approx(0.3724, abs=5e-5)
    assert implied_annual_cost(0.02, 10, 30, compound=True) == pytest.approx(0.4459, abs=5e-4)


def test_late_payers_make_a_discount_cheaper_per_year():
    # Customers who really pay on day 44 give 34 days for the discount, not 20.
    assert implied_annual_cost(0.02, 10, 44) < implied_annual_cost(0.02, 10, 30)


@given(r=st.floats(0.0, 0.5), window=st.integers(0, 60), extra=st.integers(1, 300))
def test_break_even_discount_costs_exactly_the_cost_of_capital(r, window, extra):
    d = break_even_discount(r, window, window + extra)
    assert 0 <= d < 1
    assert implied_annual_cost(d, window, window + extra) == pytest.approx(r, rel=1e-9, abs=1e-12)


def test_arrays_work_like_scalars():
    rates = np.array([0.01, 0.02])
    out = implied_annual_cost(rates, 10, 30)
    assert out == pytest.approx([implied_annual_cost(0.01, 10, 30), implied_annual_cost(0.02, 10, 30)])


def test_bad_terms_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="later than window_days"):
        days_gained(30, 30)
    with pytest.raises(ValueError, match="below 1"):
        implied_annual_cost(1.0, 10, 30)


def test_terms_table_flags_discounts_dearer_than_capital():
    table = terms_table([0.005, 0.02], 10, 30, 0.08, paid_day=44)
    assert table["terms"].tolist() == ["0.5/10 net 30", "2/10 net 30"]
    assert table["dearer_than_capital"].tolist() == [True, True]
    assert (table["implied_cost_vs_actual_payment"] < table["implied_annual_cost"]).all()
    assert not terms_table([0.001], 10, 30, 0.08)["dearer_than_capital"].iloc[0]
