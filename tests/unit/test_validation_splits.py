"""The validation block shows only what the ledger has (issue 22, point 3).

A ledger without a dispute column gets no dispute split, on the history's side nor the simulation's
(a simulated ledger always has a dispute flag); groups without invoices are left out; and a
settled-only export is compared with settled-only simulated invoices, out of time too.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from collectsim.calibration.calibrate import Calibrator
from collectsim.calibration.ledger import LedgerOptions, read_ledger
from collectsim.calibration.validation import payment_figures, simulated_history, validate
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
                                                 "days_to_pay_p50": None, "days_to_pay_p90": None}}
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
