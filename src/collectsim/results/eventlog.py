"""The event log: the audit trail of every action, payment, dispute, credit note and write-off.

A collections team is told to document every interaction; the simulator does the same. Each row
says on which day what happened to which customer's invoice, how much money moved (integer cents),
by which channel and in which tone, what it cost, and the customer's goodwill before and after.
Metrics are computed from this log alone (plus the invoice table), so every number in a report can
be traced back to rows here. While the engine runs, each event is appended as one tuple; every few
thousand events the tuples become a chunk of typed NumPy columns, and freezing joins the chunks once at
the end.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np
import pandas as pd

from collectsim.config.policy_spec import CHANNELS, TONES


class EventKind(IntEnum):
    """Kinds of event. Core II appends kinds; numbers never change."""

    REMINDER = 0
    PAYMENT = 1
    DISCOUNT = 2
    DISPUTE_RAISED = 3
    DISPUTE_RESOLVED = 4
    CREDIT_NOTE = 5
    WRITE_OFF = 6
    PLAN_OFFERED = 7
    PLAN_AGREED = 8
    PLAN_MISSED = 9
    PLAN_DEFAULTED = 10
    CHURNED = 11  # a customer leaves: no more orders (recorded at the start of its day)
    FEES_CLAIMED = 12  # amount: the fixed compensation claimed (interest accrues on top until paid)
    FEES_PAID = 13  # amount: interest and compensation paid, cash on top of the principal
    FEES_WAIVED = 14  # amount: interest and compensation given up
    SETTLEMENT_OFFERED = 15
    SETTLEMENT = 16  # amount: principal forgiven when a settled invoice is paid
    MEDIATION = 17  # cost: the mediator
    AGENCY_PLACED = 18  # amount: balance handed over
    AGENCY_COLLECTED = 19  # amount: principal collected (cash, gross); cost: the agency's fee
    AGENCY_RETURNED = 20  # the agency gives up; amount: balance handed back
    LEGAL_FILED = 21  # amount: balance sued for; cost: legal cost
    LEGAL_COLLECTED = 22  # amount: principal paid after judgment (cash)
    LEGAL_ENDED = 23  # no money from the court case; amount: balance left
    DISPUTE_TAKEN_UP = 24  # a collector takes up the dispute case (minutes, wait)
    INSOLVENT = 25  # a customer becomes insolvent (start of its day); it orders and pays no more
    INSOLVENCY_LOSS = 26  # amount: an open invoice's balance lost to the customer's insolvency
    REPUTATION = 27  # word of an escalation against another customer of the segment moves this one's goodwill
    ORDER_REFUSED = 28  # credit hold or credit limit: an order not supplied; amount: the invoice it would have been
    PLAN_REQUESTED = 29  # a strained customer asks for a plan; a refusal moves goodwill (granted: PLAN_AGREED follows)
    CUSTOMER_ONBOARDED = 30  # a new customer starts trading; cost: its credit check, if any
    CUSTOMER_REFUSED = 31  # an applicant refused after its credit check; cost: the check
    TERMS_OFFERED = 32  # extended terms with milestones proposed; cost: the contact
    TERMS_AGREED = 33  # amount: balance put on extended terms (its payments, misses and default: PLAN_* kinds)
    COSTS_RECOVERED = 34  # amount: court fee and legal costs the debtor repays with a paid claim (cash on top)


#: Kinds whose ``amount`` reduces the invoice's principal balance.
BALANCE_REDUCING = (EventKind.PAYMENT, EventKind.DISCOUNT, EventKind.CREDIT_NOTE, EventKind.WRITE_OFF,
                    EventKind.SETTLEMENT, EventKind.AGENCY_COLLECTED, EventKind.LEGAL_COLLECTED,
                    EventKind.INSOLVENCY_LOSS)

COLUMNS = ("day", "kind", "customer", "invoice", "amount", "channel", "tone", "cost",
           "goodwill_before", "goodwill_after", "minutes", "wait")
_DTYPES = (np.int32, np.int8, np.int32, np.int32, np.int64, np.int8, np.int8, np.int64,
           np.float64, np.float64, np.float64, np.int32)
#: Each column's dtype in a frozen log.
COLUMN_DTYPES = dict(zip(COLUMNS, (np.dtype(d) for d in _DTYPES)))
# Events recorded as tuples are turned into typed columns this many at a time: appending one tuple is the
# cheapest record there is, and a chunk's columns hold a few bytes per value rather than Python objects.
_CHUNK = 4096
_NAN = float("nan")


class EventLog:
    """Columns of events; ``invoice`` is the row of the invoice table (-1 for customer events)."""

    __slots__ = ("_rows", "_chunks", "_arrays")

    def __init__(self) -> None:
        self._rows: list[tuple] = []  # events recorded since the last chunk
        self._chunks: list[tuple[np.ndarray, ...]] = []  # each a tuple of columns
        self._arrays: dict[str, np.ndarray] | None = None

    def record(self, day: int, kind: EventKind, customer: int, invoice: int, amount: int = 0,
               channel: int = -1, tone: int = -1, cost: int = 0, goodwill_before: float = _NAN,
               goodwill_after: float = _NAN, minutes: float = 0.0, wait: int = 0) -> None:
        """Append one event (only while the log is open). ``minutes`` of staff time, after ``wait`` days."""
        if self._arrays is not None:
            raise RuntimeError("the event log is frozen; no more events can be recorded")
        rows = self._rows
        rows.append((day, kind, customer, invoice, amount, channel, tone, cost, goodwill_before, goodwill_after,
                     minutes, wait))
        if len(rows) >= _CHUNK:
            self._flush()

    def _flush(self) -> None:
        """Turn the events recorded since the last chunk into a chunk of typed columns."""
        if self._rows:
            self._chunks.append(tuple(np.array(values, dtype=dtype)
                                      for values, dtype in zip(zip(*self._rows), _DTYPES)))
            self._rows = []

    def _columns(self) -> tuple[np.ndarray, ...]:
        """Every event recorded so far, as one array per column (the open log becomes one chunk)."""
        self._flush()
        if not self._chunks:
            return tuple(np.empty(0, dtype=dtype) for dtype in _DTYPES)
        if len(self._chunks) > 1:
            self._chunks = [tuple(np.concatenate(parts) for parts in zip(*self._chunks))]
        return self._chunks[0]

    def reorder_by_day(self, churn_kind: EventKind) -> None:
        """Sort the open log by day, stably, with ``churn_kind`` events first within their day.

        Churn is found when a customer is next touched, so its events are appended late; this puts
        them back at the start of the day they happened, leaving every other event's order unchanged.
        """
        columns = self._columns()
        order = np.lexsort((columns[1] != churn_kind, columns[0]))  # lexsort is stable: ties keep their order
        self._chunks = [tuple(column[order] for column in columns)]

    def freeze(self) -> EventLog:
        """Turn the columns into arrays; no more events can be recorded."""
        if self._arrays is None:
            self._arrays = dict(zip(COLUMNS, self._columns()))
            self._chunks = []
        return self

    @classmethod
    def from_columns(cls, **columns) -> EventLog:
        """A frozen log from given columns (missing ones take their neutral value); for tests and imports."""
        n = len(columns["day"])
        neutral = {"amount": 0, "channel": -1, "tone": -1, "cost": 0, "invoice": -1,
                   "goodwill_before": np.nan, "goodwill_after": np.nan, "minutes": 0.0, "wait": 0}
        log = cls()
        log._arrays = {name: np.asarray(columns.get(name, np.full(n, neutral.get(name, 0))), dtype=dtype)
                       for name, dtype in zip(COLUMNS, _DTYPES)}
        return log

    def __getitem__(self, column: str) -> np.ndarray:
        if self._arrays is None:
            raise RuntimeError("the event log is still open; freeze() it first")
        return self._arrays[column]

    def __len__(self) -> int:
        if self._arrays is not None:
            return len(self._arrays["day"])
        return sum(len(chunk[0]) for chunk in self._chunks) + len(self._rows)

    def count(self, kind: EventKind) -> int:
        return int(np.count_nonzero(self["kind"] == kind))

    def to_frame(self) -> pd.DataFrame:
        """One row per event with readable kind, channel and tone."""
        df = pd.DataFrame({name: self[name] for name in COLUMNS})
        df["kind"] = pd.Categorical.from_codes(df["kind"], [k.name.lower() for k in EventKind])
        df["channel"] = _labels(df["channel"], CHANNELS)
        df["tone"] = _labels(df["tone"], TONES)
        return df


def _labels(codes: pd.Series, names: tuple[str, ...]) -> pd.Series:
    return pd.Series(np.where(codes >= 0, np.asarray(names + ("",))[codes.clip(lower=0)], ""), index=codes.index)
