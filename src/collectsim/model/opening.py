"""The opening book's invoices as the engines start them: the same state for both engines, from the same rules.

An open invoice enters the run on the as-of day with its open balance as its amount (what was paid before is
history: it is neither cash nor sales of the run), its issue and due dates, and its dispute. What the customer
will do about it is drawn as for any invoice, knowing one thing more: it was still unpaid at the start of the
as-of day. So its own payment day is :func:`collectsim.model.behaviour.open_pay_day`, the unchased payment day
conditional on not falling before the as-of day; a disputed invoice's resolution is drawn from the as-of day
(the resolution time is exponential, so the time a dispute has already lasted does not change what is left).

What the ledger does not say is assumed:

- reminders and one-off steps (plan, terms, fee claim, settlement offer, agency, legal) the policy dates before
  the as-of day were done, and did not move the customer (the invoice is still open), so the ladder continues
  with the policy's next step; the invoice is first reviewed on the as-of day. Because a reminder moves a
  customer with its own probability whatever came before, starting with no reminder "remembered" gives the same
  chances as remembering the ones that failed. An invoice already past the policy's write-off age is written off
  at that first review;
- an undisputed open invoice raises no new dispute; its customer's liquidity is as drawn for the as-of day;
- opening invoices were issued under the firm's past practice: a policy's electronic invoicing does not speed them.

Sequence numbers: a customer's open invoices take numbers 0, 1, ... in ledger order, and its new orders follow
(``OpeningBook.first_seq``), so every draw keyed by (customer, invoice) stays distinct.
"""

from __future__ import annotations

import numpy as np

from collectsim.config.scenario import Scenario
from collectsim.model import behaviour as rules
from collectsim.model.draws import Purpose, u
from collectsim.model.liquidity import Liquidity

#: Columns of :func:`opening_invoices`' table (one row per open invoice, int64).
(O_CUSTOMER, O_SEQ, O_SEGMENT, O_ISSUE, O_DUE, O_BALANCE, O_DISPUTED, O_DISPUTED_SINCE, O_PAY_DAY, O_RESOLVE_DAY,
 O_WIDTH) = range(11)


def opening_invoices(scenario: Scenario, seed: int, segment: np.ndarray, habit: np.ndarray,
                     liquidity: Liquidity) -> np.ndarray:
    """The open invoices as both engines inject them on the as-of day: an int64 table of O_* columns.

    ``segment`` and ``habit`` are the run's customers' (:func:`collectsim.model.portfolio.make_customers`),
    ``liquidity`` their paths. Empty (0 rows) without an opening book.
    """
    book = scenario.opening
    out = np.zeros((0 if book is None else book.invoices, O_WIDTH), dtype=np.int64)
    if book is None or not book.invoices:
        return out
    segs, b = scenario.portfolio.segments, scenario.behaviour
    as_of = book.day
    seq = book.seq()
    out[:, O_CUSTOMER], out[:, O_SEQ] = book.customer, seq
    out[:, O_SEGMENT] = segment[book.customer]
    out[:, O_ISSUE], out[:, O_DUE], out[:, O_BALANCE] = book.issue_day, book.due_day, book.balance
    out[:, O_DISPUTED] = book.disputed
    out[:, O_DISPUTED_SINCE] = np.where(book.disputed, book.disputed_since, -1)
    steps = np.arange(3 * rules.OPEN_PAY_TRIES, dtype=np.int64)
    for k in range(book.invoices):
        c, s = int(book.customer[k]), int(out[k, O_SEGMENT])
        seg = segs[s]
        state = liquidity.state(c, as_of)
        uniforms = u(seed, Purpose.OPEN_PAY_DAY, c, int(seq[k]), steps).reshape(rules.OPEN_PAY_TRIES, 3)
        out[k, O_PAY_DAY] = rules.open_pay_day(
            as_of, int(book.issue_day[k]), int(book.due_day[k]), float(habit[c]), seg.days_late_sd_within, state,
            b.strained_extra_days, rules.ignore_share_on(seg.ignore_share, state, b.distressed_ignore), uniforms,
            b.set_aside_pay_days, b.set_aside_never_share, b.set_aside_pay_sigma)
        out[k, O_RESOLVE_DAY] = (rules.dispute_end_day(as_of - 1, u(seed, Purpose.DISPUTE_RESOLUTION_DAYS, c,
                                                                     int(seq[k])), seg.dispute_resolution_days)
                                 if book.disputed[k] else rules.NO_PAY_DAY)
    return out
