"""Which letter each action sent, and the letters worth showing from a run.

A reminder ladder in a policy file says *when* to write and in what tone; the templates in
``collectsim/templates/`` say *what* to write (they are filled in by :mod:`collectsim.present.letters`).
Which template an event used is a pure function of what the event log already holds (its kind, its
tone, and its day against the invoice's due date), so :func:`event_templates` recovers it for every
row without the engine having to store it; ``RunResult.write`` adds it to ``events.csv`` as the
``template`` column. The discount offer is the exception: it goes out with the invoice itself, which
the log records as the issue, not as an event.

:func:`sample_cases` picks, for each template a run used, its first use and what that letter is about:
the customer, the day, and the invoices with what was still open on each just before it went out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from collectsim.config.policy_spec import TONES
from collectsim.results.eventlog import BALANCE_REDUCING, EventKind, EventLog
from collectsim.results.invoices import InvoiceTable

#: Every template, in the order a customer would meet them.
TEMPLATES = ("discount-offer", "friendly-pre-due", "friendly-overdue", "firm", "final-notice", "fee-claim",
             "terms-offer", "plan-offer", "settlement-offer", "handover-notice")

#: Templates that cover every overdue invoice of the customer (a statement); the others are about the
#: invoice the action concerns (an offer or a hand-over is made on one invoice, a pre-due note on one).
STATEMENTS = ("friendly-overdue", "firm", "final-notice", "fee-claim")

#: How many uses of a statement template :func:`sample_cases` looks at for one listing several invoices.
STATEMENT_TRIES = 200

#: Events after which an invoice is out of the supplier's own chasing (handed over or closed).
_OUT_OF_HAND = (EventKind.AGENCY_PLACED, EventKind.LEGAL_FILED, EventKind.WRITE_OFF, EventKind.INSOLVENCY_LOSS)


def template_for(kind: int, tone: int, day: int, due_day: int) -> str:
    """The template an event of ``kind`` (and ``tone``, on ``day``) used; '' when it sends no message."""
    if kind == EventKind.REMINDER:
        tone_name = TONES[tone] if tone >= 0 else "friendly"
        if tone_name == "friendly":
            return "friendly-pre-due" if day < due_day else "friendly-overdue"
        return "firm" if tone_name == "firm" else "final-notice"
    return {EventKind.PLAN_OFFERED: "plan-offer", EventKind.TERMS_OFFERED: "terms-offer",
            EventKind.FEES_CLAIMED: "fee-claim",
            EventKind.SETTLEMENT_OFFERED: "settlement-offer",
            EventKind.AGENCY_PLACED: "handover-notice", EventKind.LEGAL_FILED: "handover-notice"}.get(kind, "")


def event_templates(events: EventLog, invoices: InvoiceTable) -> np.ndarray:
    """The template used by every row of the event log ('' for events that send no message)."""
    rows = events["invoice"]
    due = np.where(rows >= 0, invoices["due_day"][np.maximum(rows, 0)] if len(invoices) else 0, 0)
    return np.asarray([template_for(int(k), int(t), int(d), int(dd))
                       for k, t, d, dd in zip(events["kind"], events["tone"], events["day"], due)], dtype=object)


def balance_before(events: EventLog, invoices: InvoiceTable) -> np.ndarray:
    """The principal still open on each event's invoice just before the event (0 for customer events).

    It is the invoice's amount less the balance-reducing events (payments, discounts, credit notes, ...)
    logged before this one; the log is in the order things happened.
    """
    rows = np.asarray(events["invoice"], dtype=np.int64)
    out = np.zeros(len(rows), dtype=np.int64)
    idx = np.flatnonzero(rows >= 0)
    if len(idx) == 0:
        return out
    r = rows[idx]
    reducing = np.where(np.isin(events["kind"][idx], BALANCE_REDUCING), events["amount"][idx], 0).astype(np.int64)
    done = pd.Series(reducing).groupby(r).cumsum().to_numpy() - reducing  # each invoice's, in log order
    out[idx] = np.asarray(invoices["amount"], dtype=np.int64)[r] - done
    return out




@dataclass(frozen=True)
class SampleCase:
    """One letter a run sent: its template, customer, day, and the invoices it is about (rows of the
    invoice table, with the principal open on each just before it went out). ``handed_to`` is 'agency' or
    'legal' for a hand-over, else ''."""

    template: str
    customer: int
    day: int
    rows: tuple[int, ...]
    open_cents: tuple[int, ...]
    handed_to: str = ""


def _open_before(events: EventLog, invoices: InvoiceTable, rows: np.ndarray,
                 index: int) -> tuple[np.ndarray, np.ndarray]:
    """Principal open on each of ``rows`` just before event ``index``, and whether each is still in hand."""
    ev_rows = np.asarray(events["invoice"][:index], dtype=np.int64)
    kinds = events["kind"][:index]
    amounts = np.asarray(events["amount"][:index], dtype=np.int64)
    opened = np.asarray(invoices["amount"], dtype=np.int64)[rows].copy()
    in_hand = np.ones(len(rows), dtype=bool)
    for j, row in enumerate(rows):
        mine = ev_rows == row
        opened[j] -= int(amounts[mine & np.isin(kinds, BALANCE_REDUCING)].sum())
        in_hand[j] = not np.isin(kinds[mine], _OUT_OF_HAND).any()
    return opened, in_hand


def sample_cases(events: EventLog, invoices: InvoiceTable) -> list[SampleCase]:
    """A use of each template in the run (the first, or an early statement of several invoices), in the order
    of :data:`TEMPLATES`.

    A statement (:data:`STATEMENTS`) lists every invoice of the customer that was overdue, open and not yet
    handed over on the day; the first use that lists more than one invoice is preferred, among the first
    :data:`STATEMENT_TRIES` uses, so that the sample shows a statement. The other letters list the invoice
    their action concerns. The discount offer is the first invoice issued with a discount.
    """
    used = event_templates(events, invoices)
    found: dict[str, SampleCase] = {}
    tried: dict[str, int] = {}
    discounted = np.flatnonzero(invoices["discount_rate"] > 0)
    if len(discounted):
        row = int(discounted[0])
        found["discount-offer"] = SampleCase("discount-offer", int(invoices["customer"][row]),
                                             int(invoices["issue_day"][row]), (row,), (int(invoices["amount"][row]),))
    for i in np.flatnonzero(used != ""):
        name = str(used[i])
        settled = name in found and (name not in STATEMENTS or len(found[name].rows) > 1)
        if settled or tried.get(name, 0) >= STATEMENT_TRIES:
            continue
        tried[name] = tried.get(name, 0) + 1
        row, day = int(events["invoice"][i]), int(events["day"][i])
        customer = int(invoices["customer"][row])
        if name in STATEMENTS:
            rows = np.flatnonzero((invoices["customer"] == customer) & (invoices["issue_day"] <= day)
                                  & (invoices["due_day"] < day))
        else:
            rows = np.asarray([row])
        opened, in_hand = _open_before(events, invoices, rows, int(i))
        keep = (opened > 0) & (in_hand | (rows == row))
        if not keep[rows == row].all():  # the action's own invoice is always on its letter
            continue
        handed = {EventKind.AGENCY_PLACED: "agency", EventKind.LEGAL_FILED: "legal"}.get(int(events["kind"][i]), "")
        case = SampleCase(name, customer, day, tuple(int(r) for r in rows[keep]), tuple(int(o) for o in opened[keep]),
                          handed)
        if name not in found or len(case.rows) > 1:
            found[name] = case
    return [found[n] for n in TEMPLATES if n in found]
