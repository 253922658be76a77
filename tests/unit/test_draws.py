"""Counter-based draws: bit-identical scalar and array paths, uniform, independent across neighbours."""

from statistics import NormalDist

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from collectsim.model.draws import (
    Purpose,
    elementwise,
    exponential,
    geometric_days,
    lognormal,
    normal_ppf_array,
    u,
    uniform_int,
    uniform_int_array,
)

KEY = st.integers(min_value=0, max_value=2**63 - 1)
N = 200_000
# Chi-square critical value, 99 degrees of freedom, upper tail 0.001.
CHI2_99_P001 = 148.23


@given(KEY, st.integers(0, 40), KEY, KEY, KEY)
def test_scalar_and_array_paths_are_bit_identical(seed, purpose, customer, invoice, step):
    scalar = u(seed, purpose, customer, invoice, step)
    array = u(np.array([seed]), purpose, customer, invoice, step)
    assert isinstance(scalar, float)
    assert 0.0 < scalar < 1.0
    assert array.dtype == np.float64 and array[0] == scalar


def test_array_of_keys_matches_scalars_one_by_one():
    customers = np.arange(500)
    values = u(11, Purpose.RESPONSE, customers, 3, 2)
    assert [u(11, Purpose.RESPONSE, int(c), 3, 2) for c in customers] == values.tolist()


def _chi2_uniform(values: np.ndarray, bins: int = 100) -> float:
    counts = np.bincount((values * bins).astype(int), minlength=bins)
    expected = len(values) / bins
    return float(((counts - expected) ** 2 / expected).sum())


def test_uniformity_over_consecutive_invoices():
    values = u(2024, Purpose.PAYMENT_LATENESS, 5, np.arange(N), 0)
    assert abs(values.mean() - 0.5) < 4 * np.sqrt(1 / 12 / N)
    assert abs(values.var() - 1 / 12) < 0.002
    assert _chi2_uniform(values) < CHI2_99_P001


def test_independence_across_neighbouring_keys_in_every_field():
    k = np.arange(N, dtype=np.int64)
    base = dict(seed=1, purpose=3, customer=10, invoice=20, step=30)
    for field in base:
        a = u(**{**base, field: k})
        b = u(**{**base, field: k + 1})
        r = np.corrcoef(a, b)[0, 1]
        assert abs(r) < 4 / np.sqrt(N), (field, r)
        # Joint uniformity of neighbouring pairs on a 10 x 10 grid.
        cells = (a * 10).astype(int) * 10 + (b * 10).astype(int)
        counts = np.bincount(cells, minlength=100)
        chi2 = float(((counts - N / 100) ** 2 / (N / 100)).sum())
        assert chi2 < CHI2_99_P001, (field, chi2)


def test_different_purposes_are_different_streams():
    a = u(5, Purpose.RESPONSE, np.arange(10_000))
    b = u(5, Purpose.RESPONSE_DELAY, np.arange(10_000))
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.04
    assert not np.any(a == b)


def test_normal_quantile_is_accurate():
    p = np.linspace(1e-6, 1 - 1e-6, 2001)
    exact = np.array([NormalDist().inv_cdf(x) for x in p])
    assert np.max(np.abs(normal_ppf_array(p) - exact)) < 1e-8


def test_array_helpers_give_the_scalar_variates():
    p = u(9, 1, np.arange(1000))
    assert uniform_int_array(p, 0, 10).tolist() == [uniform_int(x, 0, 10) for x in p.tolist()]
    assert elementwise(exponential, p, 3.0).tolist() == [exponential(x, 3.0) for x in p.tolist()]


def test_variates_have_their_intended_means():
    p = u(3, 2, np.arange(N))
    assert abs(elementwise(exponential, p, 4.0).mean() - 4.0) < 0.05
    assert abs(elementwise(geometric_days, p, 30.0).mean() - 30.0) < 0.3
    assert abs(np.median(elementwise(lognormal, p, 1500.0, 0.8)) - 1500.0) < 15
    ints = uniform_int_array(p, 0, 10)
    assert ints.min() == 0 and ints.max() == 10
    assert elementwise(geometric_days, p[:100], 1.0).tolist() == [1] * 100
