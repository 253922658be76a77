"""A simulated run seen as an accounting system would export it: one ledger row per invoice.

Calibration is checked by going round the loop: simulate a known scenario, export its invoices as a
ledger, fit, and see the known values come back. Validation compares a fitted scenario's simulated
ledger with the real one. Both need the run's invoices in the ledger's shape, with the same blind
spots as a real export: an invoice still unpaid on the export date (``as_of``) shows no paid date.

An invoice counts as paid on the day its balance reached zero, if money was collected for it (by
payment, agency or court); written-off and insolvency-lost invoices stay without a paid date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from collectsim.calibration.ledger import Ledger, LedgerOptions
from collectsim.results.eventlog import BALANCE_REDUCING, EventKind
from collectsim.results.run import RunResult

_CASH = (EventKind.PAYMENT, EventKind.AGENCY_COLLECTED, EventKind.LEGAL_COLLECTED)
_LOSS = (EventKind.WRITE_OFF, EventKind.INSOLVENCY_LOSS)


def run_ledger(result: RunResult, first_day: int | None = None, last_issue_day: int | None = None,
               as_of_day: int | None = None, channels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Canonical ledger rows for invoices issued on days ``first_day`` to ``last_issue_day``.

    Defaults: the measured period, exported on its last day. ``channels`` maps a segment name to
    'paper' or 'electronic' (the model has no per-invoice channel; a channel split is a segment split).
    """
    scn = result.scenario
    h = scn.horizon
    first_day = h.measured_start if first_day is None else first_day
    last_issue_day = h.measured_end - 1 if last_issue_day is None else last_issue_day
    as_of_day = last_issue_day if as_of_day is None else as_of_day
    inv, ev = result.invoices, result.events
    n = len(inv)
    kind, row, day = ev["kind"], ev["invoice"], ev["day"]
    in_time = day <= as_of_day
    reducing = np.isin(kind, list(BALANCE_REDUCING)) & in_time & (row >= 0)
    last_day = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_day, row[reducing], day[reducing])
    reduced = np.zeros(n, dtype=np.int64)
    np.add.at(reduced, row[reducing], ev["amount"][reducing])
    got_cash = np.zeros(n, dtype=bool)
    cash = np.isin(kind, list(_CASH)) & in_time & (row >= 0)
    got_cash[row[cash]] = True
    lost = np.zeros(n, dtype=bool)
    loss = np.isin(kind, list(_LOSS)) & in_time & (row >= 0)
    lost[row[loss]] = True
    paid = (reduced == inv["amount"]) & got_cash & ~lost
    disputed = np.zeros(n, dtype=bool)
    d = (kind == EventKind.DISPUTE_RAISED) & in_time & (row >= 0)
    disputed[row[d]] = True
    keep = (inv["issue_day"] >= first_day) & (inv["issue_day"] <= last_issue_day)
    start = np.datetime64(scn.horizon.start_date, "D")
    names = np.asarray([s.name for s in scn.portfolio.segments], dtype=object)
    seg = names[inv["segment"][keep]]
    frame = pd.DataFrame({
        "customer_id": ["C" + str(c) for c in inv["customer"][keep]],
        "invoice_id": [f"{c}-{s}" for c, s in zip(inv["customer"][keep], inv["seq"][keep])],
        "issue_date": start + inv["issue_day"][keep].astype("timedelta64[D]"),
        "due_date": start + inv["due_day"][keep].astype("timedelta64[D]"),
        "amount": inv["amount"][keep] / 100.0,
        "paid_date": np.where(paid[keep], start + last_day[keep].astype("timedelta64[D]"), np.datetime64("NaT")),
        "disputed": np.where(disputed[keep], "yes", "no"),
        "segment": seg,
    })
    if channels:
        frame["channel"] = [channels.get(s, "") for s in seg]
    return frame.sort_values(["issue_date", "invoice_id"], kind="stable").reset_index(drop=True)


def as_of_date(result: RunResult, as_of_day: int) -> dt.date:
    return result.scenario.horizon.start_date + dt.timedelta(days=int(as_of_day))


def write_ledger(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a canonical ledger CSV (ISO dates, empty paid_date when open, amounts with cents)."""
    out = frame.copy()
    for c in ("issue_date", "due_date", "paid_date"):
        out[c] = pd.to_datetime(out[c]).dt.strftime("%Y-%m-%d").fillna("")
    out["amount"] = out["amount"].map(lambda a: f"{a:.2f}")
    path = Path(path)
    out.to_csv(path, index=False)
    return path


def simulated_ledger(result: RunResult, as_of_day: int, first_day: int = 0) -> Ledger:
    """The run's invoices issued from ``first_day`` up to ``as_of_day``, exported on that day and read back as a
    :class:`Ledger` (through a CSV file, as a real export would be): a ledger the model itself generated."""
    import tempfile

    from collectsim.calibration.ledger import read_ledger

    frame = run_ledger(result, first_day, as_of_day, as_of_day)
    with tempfile.TemporaryDirectory() as folder:
        path = write_ledger(frame, Path(folder) / "simulated_ledger.csv")
        ledger = read_ledger(path, LedgerOptions(as_of=as_of_date(result, as_of_day), date_format="iso"))
    return ledger
