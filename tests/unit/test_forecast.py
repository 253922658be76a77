"""The cash forecast from an open ledger: its frame, bands, units, summary and fan chart."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from collectsim import forecast
from collectsim.calibration.forecast import actual_ledger_cash, history_sales, ledger_cash, weekly_cash
from collectsim.calibration.opening import from_open_ledger
from collectsim.engines.simulate import simulate
from helpers import small_data, small_history


@pytest.fixture(scope="module")
def history():
    data = small_data()
    data["policies"]["firm"] = {"reminders": {"steps": [{"offset": 1, "channel": "phone", "tone": "firm"}]}}
    return small_history(seed=3, days=300, data=data)


@pytest.fixture(scope="module")
def result(history):
    scenario, ledger = history
    return forecast(ledger, scenario, ["ladder", "firm"], weeks=6, replications=30, seed=5)


def test_one_row_per_policy_and_week_with_ordered_bands_in_the_currency(result, history):
    f = result.frame
    assert len(f) == 12 and list(f["week"][:6]) == [1, 2, 3, 4, 5, 6]
    assert set(f["policy"]) == {"ladder", "firm"}
    assert f["week_start"].iloc[0] == (history[1].as_of + dt.timedelta(days=1)).isoformat()
    c = {k: f[f"{k}_EUR"] for k in ("cash_low95", "cash_low80", "cash_expected", "cash_high80", "cash_high95")}
    assert (c["cash_low95"] <= c["cash_low80"]).all() and (c["cash_low80"] <= c["cash_high80"]).all()
    assert (c["cash_high80"] <= c["cash_high95"]).all()
    assert np.allclose(f["from_open_ledger_EUR"] + f["from_new_sales_EUR"], c["cash_expected"], atol=0.02)
    assert (f["from_new_sales_EUR"].iloc[:1] == 0).all()  # nothing sold after as-of is due in the first week
    assert f["dso_days"].between(1, 365).all() and (f["receivables_end_EUR"] > 0).all()


def test_the_runs_behind_the_bands_are_paired_across_policies(result):
    runs = result.runs
    assert set(runs["replication"]) == set(range(30))
    ladder = runs[runs["policy"] == "ladder"].groupby("week")["cash"].apply(lambda x: np.percentile(x, 90))
    table = result.frame[result.frame["policy"] == "ladder"].set_index("week")["cash_high80_EUR"]
    np.testing.assert_allclose(ladder.to_numpy(), table.to_numpy(), atol=0.01)


def test_the_summary_says_what_is_expected_and_its_band(result):
    text = result.summary(4)
    mean, lo, hi = result.total("firm", 4)
    assert lo <= mean <= hi
    assert "under firm, " in text and "expected in the next 4 weeks (" in text and "80% band" in text
    assert "EUR" in text


def test_the_fan_chart_is_labelled_with_units(result, tmp_path):
    fig = result.fan_chart()
    ax = fig.axes[0]
    assert "EUR" in ax.get_ylabel() and "date" in ax.get_xlabel()
    path = result.write_png(tmp_path / "fan.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_csv_is_spreadsheet_safe_with_units_in_the_headers(result, tmp_path):
    path = result.to_csv(tmp_path / "forecast.csv")
    back = pd.read_csv(path)
    assert "cash_expected_EUR" in back.columns and "dso_days" in back.columns
    assert len(back) == len(result.frame)


def test_weekly_cash_splits_every_cash_event_between_the_open_book_and_new_sales(history):
    scenario, ledger = history
    opened = from_open_ledger(scenario, ledger, measured_days=42, runoff_days=0)
    run = simulate(opened, "ladder", seed=9)
    start = opened.opening.day
    old, new = weekly_cash(run, start, 6)
    total = run.daily["cash"].to_numpy()[start:start + 42].sum()
    assert old.sum() + new.sum() == total
    assert ledger_cash(run, start, 6).sum() <= run.invoices["amount"].sum()


def test_history_and_actual_cash_come_from_the_ledgers_dates(history):
    _, ledger = history
    f = ledger.frame
    first = ledger.as_of + dt.timedelta(days=1)
    sales = history_sales(ledger, first, days=10)
    recent = f[(f["issue_date"] > pd.Timestamp(first - dt.timedelta(days=11)))
               & (f["issue_date"] <= pd.Timestamp(ledger.as_of))]
    assert sales.sum() == recent["amount_cents"].sum()
    at = ledger.as_of - dt.timedelta(days=14)
    paid = f[(f["paid_date"] > pd.Timestamp(at)) & (f["paid_date"] <= pd.Timestamp(at + dt.timedelta(days=14)))]
    assert actual_ledger_cash(ledger, at, 2).sum() == paid["amount_cents"].sum()


def test_a_forecast_needs_weeks_and_replications(history):
    scenario, ledger = history
    with pytest.raises(ValueError):
        forecast(ledger, scenario, ["ladder"], weeks=0, replications=10)


@pytest.mark.parametrize("runs", [20, 50, 100])
def test_a_band_from_few_runs_holds_a_new_draw_as_often_as_calibrated_coverage_says(runs):
    """The 80% band of n runs (numpy's percentiles) holds another draw of the same distribution 0.8 (n-1)/(n+1) of
    the time, not 80%: the yardstick of a backtest."""
    from collectsim.calibration.forecast import calibrated_coverage

    rng = np.random.default_rng(7)
    draws = rng.gamma(2.0, 10.0, size=(20_000, runs + 1))  # skewed, as weekly cash can be
    lo, hi = np.percentile(draws[:, :runs], (10.0, 90.0), axis=1)
    held = float(np.mean((lo <= draws[:, runs]) & (draws[:, runs] <= hi)))
    assert held == pytest.approx(calibrated_coverage(runs), abs=0.01)
    assert calibrated_coverage(runs) < 0.8 - 0.01  # and short of 80% by more than the check's tolerance
