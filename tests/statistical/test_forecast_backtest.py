"""Backtest of the cash forecast on ledgers the model generated itself (so the model is right by construction).

Simulate the small scenario under its policy (the truth), export its invoices as a ledger on each of three cut
dates, forecast 8 weeks from each with the true scenario, and count the weeks whose actual cash (as the full
ledger shows it: an invoice's amount on the day it was settled) falls inside the forecast's 80% band.

The yardstick is not 80%: a band drawn from 50 runs holds a new draw of the same distribution 76.9% of the time
(``calibrated_coverage``, checked in tests/unit/test_forecast.py). Pooled over 30 truths x 3 cuts = 720 weeks, the
share must lie within 6 points of it: a binomial share of 720 weeks has a standard error of 1.6 points, weeks of
one cut are correlated (about twice that), and the biases measured and left in docs/forecast.md (new sales of the
late segment are paid sooner in the forecast than in the truth) take a little. Measured 2026-12-07: 76% (549 of
720), against 76.9%; the first six truths alone give 72% (104 of 144 with 100 runs, against 78.4%), the others 77%.
"""

from __future__ import annotations

from collectsim import parse_scenario
from collectsim.calibration.forecast import calibrated_coverage, synthetic_backtest
from helpers import small_data


def test_the_80_percent_band_holds_as_many_weeks_as_a_forecast_right_by_construction():
    data = small_data()
    data["horizon"] = {"start_date": "2025-01-01", "warmup_days": 120, "measured_days": 400, "runoff_days": 0}
    result = synthetic_backtest(parse_scenario(data), "ladder", seeds=range(1, 31), cut_days=[200, 260, 320],
                                weeks=8, replications=50)
    assert len(result.frame) == 720
    print(result.summary())
    assert abs(result.coverage - calibrated_coverage(50)) <= 0.06, result.summary()
