"""The open ledger on a date, as a scenario's starting state: who owes what, since when, and how each customer pays.

A scenario normally starts empty and fills its receivables during a warm-up. A scenario with an opening book
starts from a real book instead: on the as-of date its customers are the ledger's customers, and its open
invoices are the ledger's open invoices, with their issue and due dates and whether they are disputed. The
book is plain data, made by :func:`collectsim.calibration.opening.from_open_ledger`; the model reads it
(:mod:`collectsim.model.opening`) and both engines start from it.

**Days.** The ledger is as of the end of its ``as_of`` date, so the run starts the day after, on simulation day
``day``; day 0 is the issue day of the oldest open invoice, so every open invoice is issued on a day >= 0. The
scenario's warm-up is exactly those days and holds nothing but the opening book's invoices (no orders, no
reminders); the measured period starts on day ``day``. Below, "the as-of day" is that first day simulated.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class OpeningBook:
    """Opening customers (in simulation-id order) and open invoices (in ledger order), as arrays."""

    as_of: dt.date  # the ledger's date (end of day): the run starts the day after
    day: int  # simulation day of the day after as_of, the first day simulated (= the scenario's warm-up days)
    customer_ids: tuple[str, ...]  # the ledger's customer id of simulation customer i
    segment: np.ndarray  # int32 per opening customer: index into scenario.portfolio.segments
    habit: np.ndarray  # float64 per opening customer: habitual days late (unchased), shrunk (see from_open_ledger)
    invoice_ids: tuple[str, ...]  # the ledger's invoice id of open invoice k
    customer: np.ndarray  # int64 per open invoice: simulation customer
    issue_day: np.ndarray  # int64, >= 0
    due_day: np.ndarray  # int64
    balance: np.ndarray  # int64 cents still open at the as-of date (the invoice's amount in the run)
    disputed: np.ndarray  # bool: in dispute at the as-of date
    disputed_since: np.ndarray  # int64: day the dispute was raised as far as known (the as-of day when not)
    #: Per segment, the reminder steps of the firm's practice before the as-of date: (offset from the due date,
    #: channel index, tone index) in offset order (see collectsim.model.opening).
    past_steps: tuple[tuple[tuple[int, int, int], ...], ...] = ()
    #: float64 per opening customer: the spread of what its habit may be around ``habit`` (the posterior's standard
    #: deviation); each run draws the habit from it (:func:`collectsim.model.portfolio.make_customers`). None: 0.
    habit_sd: np.ndarray | None = None
    #: What the ledger shows of each opening customer's past (:func:`collectsim.model.standing.ledger_history`),
    #: so a policy target sees it from the first day: int64 per opening customer, the day of its first invoice
    #: (its tenure counts from it; may be before day 0), how many invoices it paid in full, the day of its last
    #: dispute (``NO_DISPUTE``: none); ``late_ring`` (customers x RECENT_INVOICES) its recent days late as the
    #: engines keep them (:func:`collectsim.model.standing.seeded_ring`). None: no history (a new customer's).
    since: np.ndarray | None = None
    paid_count: np.ndarray | None = None
    last_dispute: np.ndarray | None = None
    late_ring: np.ndarray | None = None
    #: int64 per opening customer: days from its last order (its latest invoice's issue date) to as-of; a customer
    #: quiet for long may have churned before as-of, and each run draws whether it had
    #: (:func:`collectsim.model.opening.opening_gone`). None: no customer is taken as gone.
    days_since_order: np.ndarray | None = None

    def __post_init__(self) -> None:
        n, k = len(self.customer_ids), len(self.invoice_ids)
        history = ("since", "paid_count", "last_dispute", "late_ring")
        given = [name for name in history if getattr(self, name) is not None]
        if given and len(given) != len(history):
            raise ValueError(f"opening book: the customers' history needs all of {', '.join(history)}")
        optional = tuple(name for name in ("habit_sd", "days_since_order") if getattr(self, name) is not None)
        for name in ("segment", "habit") + optional + tuple(given):
            if len(getattr(self, name)) != n:
                raise ValueError(f"opening book: {name} has {len(getattr(self, name))} entries for {n} customers")
        for name in ("customer", "issue_day", "due_day", "balance", "disputed", "disputed_since"):
            if len(getattr(self, name)) != k:
                raise ValueError(f"opening book: {name} has {len(getattr(self, name))} entries for {k} invoices")
        if k and (self.issue_day.min() < 0 or self.issue_day.max() > self.day):
            raise ValueError("opening book: open invoices must be issued between day 0 and the as-of day")
        if self.days_since_order is not None and n and self.days_since_order.min() < 0:
            raise ValueError("opening book: a customer's last order cannot be after the as-of date")
        if self.days_since_order is not None and self.day < 1:
            raise ValueError("opening book: a book that may start customers as gone needs the as-of day in its warm-up")
        if k and self.balance.min() <= 0:
            raise ValueError("opening book: an open invoice's balance must be at least one cent")

    @property
    def customers(self) -> int:
        return len(self.customer_ids)

    @property
    def invoices(self) -> int:
        return len(self.invoice_ids)

    def first_seq(self) -> np.ndarray:
        """Per opening customer, the sequence number its first new order takes (after its open invoices)."""
        return np.bincount(self.customer, minlength=self.customers).astype(np.int64)

    def seq(self) -> np.ndarray:
        """Each open invoice's sequence number among its customer's invoices (0, 1, ... in ledger order)."""
        out = np.zeros(self.invoices, dtype=np.int64)
        seen = np.zeros(self.customers, dtype=np.int64)
        for k, c in enumerate(self.customer.tolist()):
            out[k] = seen[c]
            seen[c] += 1
        return out
