"""What a credit controller can see of a customer: its standing on the ledger, as small pure functions.

A policy may treat customers differently (``[[policy.targets]]``), but only by what the ledger shows, never by
the hidden behaviour segment a customer was drawn from. The standing of a customer on a day is:

- **open balance**: principal still owed on its open invoices (cents);
- **recent days late**: the mean days late of its last :data:`RECENT_INVOICES` invoices paid in full (days late =
  the day of the last payment minus the due date, 0 when paid on time; invoices written off, credited in full or
  still open do not count), unknown until one invoice has been paid;
- **days overdue**: the most days past due among its open invoices (0 when none is past due);
- **disputes**: how many of its open invoices are disputed now, and the day it last raised a dispute;
- **risk band** from payment history: ``new`` until an invoice has been paid, then ``low`` when recent invoices
  averaged at most :data:`LOW_BAND_MAX_DAYS` days late, ``medium`` up to :data:`MEDIUM_BAND_MAX_DAYS`, ``high``
  beyond (thresholds set around the typical SME's one to two weeks late, docs/sources.md; an assumption);
- **tenure**: days since the customer arrived (customers of the opening portfolio count from day 0).

A run that starts from a ledger (an opening book) starts its customers with what the ledger shows of their past
(:func:`ledger_history`: tenure from the first invoice, the recent days late, the last dispute), as the plan reads
a ledger customer's standing, so a policy's targets select them from the first day.

Both engines keep the history (a ring of the last :data:`RECENT_INVOICES` days late and how many invoices have
been paid) per customer and update it with :func:`push_days_late` when an invoice is paid in full; the
choice of a policy target from a standing is :func:`collectsim.model.policy_tables.choose_target`.
Means are compared as integer totals (``total >= threshold * count``), so both engines agree to the bit.
"""

from __future__ import annotations

from collections.abc import Sequence

from collectsim.config.policy_spec import LOW_BAND_MAX_DAYS, MEDIUM_BAND_MAX_DAYS, RECENT_INVOICES, RISK_BANDS

# RECENT_INVOICES: how many of the customer's last invoices paid in full make up its recent days late;
# recent invoices averaging at most LOW_BAND_MAX_DAYS days late are band low, at most MEDIUM_BAND_MAX_DAYS medium.
BAND_NEW, BAND_LOW, BAND_MEDIUM, BAND_HIGH = range(len(RISK_BANDS))  # codes of RISK_BANDS
#: Day of the last dispute of a customer that never disputed.
NO_DISPUTE = -(1 << 62)

#: Functions the compiled engine compiles with numba (see :mod:`collectsim.engines.jit`).
__jit__ = ("days_late", "push_days_late", "recent_count", "recent_total", "risk_band")


def days_late(paid_day: int, due_day: int) -> int:
    """Days an invoice paid in full on ``paid_day`` was late (0 when on time or early)."""
    return max(0, paid_day - due_day)


def push_days_late(ring, paid: int, late: int) -> int:
    """Record one more invoice paid in full, ``late`` days late, in the customer's ring of recent ones.

    ``ring`` holds :data:`RECENT_INVOICES` entries (changed in place); ``paid`` is how many invoices the customer
    had paid before; returns the new count.
    """
    ring[paid % RECENT_INVOICES] = late
    return paid + 1


def recent_count(paid: int) -> int:
    """How many invoices the recent days late are a mean over (0: no history yet)."""
    return min(paid, RECENT_INVOICES)


def recent_total(ring, paid: int) -> int:
    """Total days late of the recent invoices (the ring fills from its start, so the first entries are used)."""
    total = 0
    for k in range(recent_count(paid)):
        total += ring[k]
    return total


def risk_band(total: int, count: int) -> int:
    """The customer's risk band (``BAND_*``) from the total days late of its ``count`` recent invoices."""
    if count == 0:
        return BAND_NEW
    if total <= LOW_BAND_MAX_DAYS * count:
        return BAND_LOW
    if total <= MEDIUM_BAND_MAX_DAYS * count:
        return BAND_MEDIUM
    return BAND_HIGH


def ledger_history(issue: Sequence[int], due: Sequence[int], paid: Sequence[int], disputed: Sequence[bool],
                   day: int) -> tuple[int | None, list[int], int, int]:
    """What one customer's ledger rows show of its past on the morning of ``day``, beyond its open invoices.

    Rows are its invoices: issue, due and paid days (any day numbering, the same for all; ``paid`` < ``issue`` for
    an invoice not paid), and whether each was disputed. Returns the day of its first invoice issued before ``day``
    (None: none), the days late of its last :data:`RECENT_INVOICES` invoices paid in full before ``day`` (oldest
    first, by payment day then due day), how many it has paid in full before ``day``, and the day of its last
    dispute (:data:`NO_DISPUTE` when none). A ledger dates no dispute: a disputed invoice counts as disputed from
    its due date. The plan reads a ledger customer's standing with it, and a forecast's opening customers start
    with it (so a policy target sees the same figures in both, and as the engines keep them).
    """
    before = [k for k in range(len(issue)) if issue[k] < day]
    if not before:
        return None, [], 0, NO_DISPUTE
    settled = sorted((paid[k], due[k]) for k in before if issue[k] <= paid[k] < day)
    late = [days_late(p, d) for p, d in settled[-RECENT_INVOICES:]]
    dispute_days = [due[k] for k in before if disputed[k] and due[k] < day]
    return min(issue[k] for k in before), late, len(settled), max(dispute_days, default=NO_DISPUTE)


def seeded_ring(late: Sequence[int], paid: int) -> list[int]:
    """The ring :func:`push_days_late` would hold after ``paid`` invoices paid in full, the last of them ``late``
    days late (oldest first)."""
    ring = [0] * RECENT_INVOICES
    for k, value in enumerate(late):
        ring[(paid - len(late) + k) % RECENT_INVOICES] = value
    return ring
