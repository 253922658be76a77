"""The scalar fast paths of the draws and behaviour rules give the very bits their NumPy array paths give.

The SimPy engine calls these functions one value at a time, through shortcuts that skip NumPy's
plumbing; a vectorised engine calls them on arrays. Results are only the same if both paths agree
bit for bit, for every uniform the draws can produce.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from collectsim import behaviour as rules
from collectsim.draws import Purpose, _word_int, exponential, geometric_days, lognormal, u, uniform_int

P = u(2026, 5, np.arange(20_000))  # uniforms as the engine sees them
SCALARS = P.tolist()


def _same(scalar_fn, array_fn):
    array = array_fn(P)
    scalar = [scalar_fn(x) for x in SCALARS]
    assert all(type(v) is type(scalar[0]) for v in scalar)
    assert scalar == array.tolist()


@given(st.integers(0, 2**63 - 1), st.integers(0, 200), st.integers(0, 2**63 - 1), st.integers(0, 2**40),
       st.integers(0, 2**20))
def test_uniform_fast_path_is_the_mixer(seed, purpose, customer, invoice, step):
    word = _word_int(seed, purpose, customer, invoice, step)
    assert u(seed, purpose, customer, invoice, step) == ((word >> 11) + 0.5) * 2.0**-53
    assert u(seed, Purpose(purpose) if purpose in Purpose._value2member_map_ else purpose, customer, invoice,
             step) == u(np.array([seed]), purpose, customer, invoice, step)[0]


def test_variates_fast_paths_match_arrays():
    for mean in (0.5, 1.0, 3.0, 21.7, 365.0):
        _same(lambda x, m=mean: exponential(x, m), lambda p, m=mean: exponential(p, m))
        _same(lambda x, m=mean: geometric_days(x, m), lambda p, m=mean: geometric_days(p, m))
    _same(lambda x: exponential(x, 7), lambda p: exponential(p, 7))
    for mu, sd in ((1500.0, 0.8), (1200.0, 0.0), (90.0, 1.2)):
        _same(lambda x, m=mu, s=sd: lognormal(x, m, s), lambda p, m=mu, s=sd: lognormal(p, m, s))
    for lo, hi in ((0, 0), (0, 10), (3, 30)):
        _same(lambda x, a=lo, b=hi: uniform_int(x, a, b), lambda p, a=lo, b=hi: uniform_int(p, a, b))


def test_behaviour_fast_paths_match_arrays():
    g = SCALARS
    for weight in (0.0, 0.5):
        _same(lambda x, w=weight: rules.response_probability(0.3, 1.3, 1.1, x, w, 0.6),
              lambda p, w=weight: rules.response_probability(0.3, 1.3, 1.1, p, w, 0.6))
    _same(lambda x: rules.order_rate_factor(x, 0.7, 3.0), lambda p: rules.order_rate_factor(p, 0.7, 3.0))
    _same(lambda x: rules.clip01(x * 3.0 - 1.0), lambda p: rules.clip01(p * 3.0 - 1.0))
    _same(lambda x: rules.goodwill_after(x, -0.2, 1.5), lambda p: rules.goodwill_after(p, -0.2, 1.5))
    _same(lambda x: rules.unmoved_after(0.7, x), lambda p: rules.unmoved_after(0.7, p))
    _same(lambda x: rules.responds(x, 0.4), lambda p: rules.responds(p, 0.4))
    _same(lambda x: rules.discount_take_probability(0.6, x * 0.04, 0.02),
          lambda p: rules.discount_take_probability(0.6, p * 0.04, 0.02))
    _same(lambda x: rules.unchased_pay_day(30, 0, x * 80.0 - 40.0),
          lambda p: rules.unchased_pay_day(30, 0, p * 80.0 - 40.0))
    _same(lambda x: rules.unchased_pay_day(30, 0, round(x * 8.0) / 2 - 0.5),  # exact halves: round half to even
          lambda p: rules.unchased_pay_day(30, 0, np.round(p * 8.0) / 2 - 0.5))
    days = [int(x * 60) for x in g]
    assert [rules.prompted_pay_day(d, 30, x * 9.0) for d, x in zip(days, g)] == \
        rules.prompted_pay_day(np.array(days), 30, P * 9.0).tolist()
    for mean in (0.1, 0.5, 0.9):
        _same(lambda x, m=mean: rules.part_payment_fraction(x, m), lambda p, m=mean: rules.part_payment_fraction(p, m))
        _same(lambda x, m=mean: rules.credit_note_fraction(x, m), lambda p, m=mean: rules.credit_note_fraction(p, m))
    _same(lambda x: rules.cents_of(x * 5000.0), lambda p: rules.cents_of(p * 5000.0))
    _same(lambda x: rules.cents_of(round(x * 8.0) / 800 + 0.005),  # exact half cents where representable
          lambda p: rules.cents_of(np.round(p * 8.0) / 800 + 0.005))
    for cents in (1, 2, 999, 123_456_789):
        _same(lambda x, b=cents: rules.share_of(b, x), lambda p, b=cents: rules.share_of(b, p))


def test_churn_hazard_scalar_matches_array():
    for gap in (-0.3, -0.01, 0.0, 0.05, 0.4):
        days = [int(x * 400) for x in SCALARS[:2000]]
        scalar = [rules.churn_hazard_integral(0.001, 4.0, gap, d, 60.0) for d in days]
        array = rules.churn_hazard_integral(0.001, 4.0, gap, np.array(days), 60.0)
        np.testing.assert_allclose(scalar, array, rtol=1e-13, atol=0)  # the scalar sum may stop early
