"""The validation block shows only what the ledger has (issue 22, point 3).

A ledger without a dispute column gets no dispute split, on the history's side nor the simulation's
(a simulated ledger always has a dispute flag); groups without invoices are left out; and a
settled-only export is compared with settled-only simulated invoices, out of time too.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from collectsim.calibration.calibrate import Calibrator
from collectsim.calibration.ledger import LedgerOptions, read_ledger
from collectsim.calibration.validation import MIN_TERMS_SPLIT, payment_figures, simulated_history, validate
from helpers import LEDGERS


def frame(disputed: bool | None = None, channel: bool = False) -> pd.DataFrame:
    f = pd.DataFrame({"issue_date": pd.to_datetime(["2025-01-01"] * 4),
                      "due_date": pd.to_datetime(["2025-01-31"] * 4),
                      "paid_date": pd.to_datetime(["2025-01-20", "2025-02-10", None, "2025-03-01"])})
    if disputed is not None:
        f["disputed"] = pd.array([disputed, False, False, False], dtype="boolean")
    if channel:
        f["channel"] = ["paper", "paper", "unknown", "paper"]
    return f


def test_no_dispute_column_no_dispute_split_even_when_the_simulation_has_one():
    history = payment_figures(frame())
    assert "by_disputed" not in history and "by_channel" not in history
    simulated = payment_figures(frame(disputed=True, channel=True), like=history)
    assert "by_disputed" not in simulated and "by_channel" not in simulated


def test_splits_keep_only_groups_with_invoices_and_the_simulation_mirrors_them():
    history = payment_figures(frame(disputed=False, channel=True))
    assert list(history["by_disputed"]) == ["no"] and list(history["by_channel"]) == ["paper"]
    simulated = payment_figures(frame(disputed=True), like=history)
    assert list(simulated["by_disputed"]) == ["no"]
    assert simulated["by_channel"] == {"paper": {"invoices": 0, "settled": 0, "share_late": None,
                                                 "days_to_pay_p50": None, "days_to_pay_p90": None,
                                                 "share_on_due_date": None, "weekday_profile": None}}
    both = payment_figures(frame(disputed=True))
    assert both["by_disputed"]["yes"]["invoices"] == 1 and both["by_disputed"]["no"]["invoices"] == 3


def test_the_messy_export_validates_without_a_dispute_split_and_settled_only_simulations():
    options = dataclasses.replace(LedgerOptions.from_toml(LEDGERS / "good" / "messy_export.toml"),
                                  currency=None, fx={"USD": 0.9})
    ledger = read_ledger(LEDGERS / "good" / "messy_export.csv", options, strict=False)
    cal = Calibrator(iterations=0, bootstrap=0).fit(ledger)
    v = validate(cal, ledger, seed=3, out_of_time=False).to_dict()
    for side in ("history", "simulated"):
        assert not [k for k in v[side] if k.startswith("by_")], v[side]
    assert "dispute" not in v["judgement"]
    settled = simulated_history(cal, 0, cal.span_days_, cal.tail_days_, 3, settled_only=True)
    assert len(settled) and settled["paid_date"].notna().all()
    everything = simulated_history(cal, 0, cal.span_days_, cal.tail_days_, 3)
    assert not cal.settled_only_ and len(everything) > len(settled)


def test_a_settled_only_export_is_checked_out_of_time_against_settled_only_simulated_invoices(tmp_path):
    sample = pd.read_csv(LEDGERS.parent.parent / "examples" / "sample_ledger.csv", dtype=str, keep_default_na=False)
    path = tmp_path / "settled.csv"
    sample[sample["paid_date"] != ""].to_csv(path, index=False)
    ledger = read_ledger(path)
    cal = Calibrator(iterations=0, bootstrap=0).fit(ledger)
    assert cal.settled_only_
    oot = validate(cal, ledger, seed=5).out_of_time
    for side in ("history", "simulated"):
        assert oot[side]["invoices"] == oot[side]["settled"] > 0, side


def terms_frame(terms: list[int], paid_late: list[int]) -> pd.DataFrame:
    issue = pd.Timestamp("2025-01-06")  # a Monday
    due = [issue + pd.Timedelta(days=t) for t in terms]
    return pd.DataFrame({"issue_date": [issue] * len(terms), "due_date": due,
                         "paid_date": [d + pd.Timedelta(days=k) for d, k in zip(due, paid_late)]})


def test_the_share_on_the_due_date_and_the_weekday_profile():
    f = terms_frame([30] * 4, [0, 0, 1, 7])  # due on a Wednesday
    figures = payment_figures(f)
    assert figures["share_on_due_date"] == 0.5 and figures["share_late"] == 0.5
    assert figures["weekday_profile"] == {"mon": 0, "tue": 0, "wed": 0.75, "thu": 0.25, "fri": 0, "sat": 0,
                                          "sun": 0}


def test_a_terms_split_appears_only_with_two_terms_of_enough_invoices_and_the_simulation_mirrors_it():
    one = terms_frame([30] * 30 + [60] * (MIN_TERMS_SPLIT - 1), [3] * (29 + MIN_TERMS_SPLIT))
    assert "by_terms" not in payment_figures(one)
    two = terms_frame([30] * 30 + [60] * MIN_TERMS_SPLIT + [45] * 3, [3] * (33 + MIN_TERMS_SPLIT))
    history = payment_figures(two)
    assert list(history["by_terms"]) == ["30", "60"]
    assert history["by_terms"]["60"]["invoices"] == MIN_TERMS_SPLIT
    simulated = payment_figures(terms_frame([30] * 5, [1] * 5), like=history)
    assert list(simulated["by_terms"]) == ["30", "60"] and simulated["by_terms"]["60"]["invoices"] == 0


def test_the_table_has_the_weekday_profile_and_the_judgement_names_a_weekday_gap():
    from collectsim.calibration.validation import Validation, judge
    history = payment_figures(terms_frame([30] * 40, [0] * 20 + [2] * 20))
    simulated = payment_figures(terms_frame([30] * 40, [0] * 20 + [1] * 20))
    v = Validation(history, simulated, None, "", np.array([1.0]), np.array([1.0]))
    table = v.table()
    assert table.query("figure == 'paid_on_fri'")["gap"].item() == -0.5
    assert table.query("figure == 'share_on_due_date'")["within"].item()
    text = judge(v)
    # the weekday profile is told apart, beside the verdict on the portfolio's figures
    assert text.startswith("The fitted scenario pays like the history")
    assert ("Payments fall on other weekdays than in the history (chance, or payment runs the fit did not find): "
            "in-sample weekday profile (largest gap Thu +50.0 points, tolerance 5.0).") in text
    same = Validation(history, history, None, "", np.array([1.0]), np.array([1.0]))
    assert "Payments fall on other weekdays" not in judge(same)
