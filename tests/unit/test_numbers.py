"""Numbers for people: no scientific notation, no NaN."""

import math

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from collectsim.present.numbers import plain, plain_table


def test_significant_digits_without_scientific_notation():
    assert [plain(x) for x in (1830.4, 0.0232, 9.24, 30.0, 0.000123, -2_500_000.0, 0.0)] == [
        "1,830", "0.0232", "9.24", "30", "0.000123", "-2,500,000", "0"]
    assert plain(float("nan")) == "n/a" and plain(None) == "n/a" and plain(7) == "7" and plain(True) == "True"


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e15, max_value=1e15))
def test_never_scientific_and_close_to_the_value(x):
    text = plain(x)
    assert "e" not in text.lower()
    back = float(text.replace(",", ""))
    assert math.isclose(back, x, rel_tol=6e-3, abs_tol=1e-300) or abs(x) < 1e-300


def test_a_table_keeps_flags_and_text():
    out = plain_table(pd.DataFrame({"name": ["a", "b"], "value": [1830.4, float("nan")], "ok": [True, False]}))
    assert "1,830" in out and "n/a" in out and "True" in out and "e+" not in out
