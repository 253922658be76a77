"""The opening book's invoices as the engines start them: the same state for both engines, from the same rules.

An open invoice enters the run on the as-of day with its open balance as its amount (what was paid before is
history: it is neither cash nor sales of the run), its issue and due dates, and its dispute. What the customer
will do about it is drawn as for any invoice, knowing one thing more: it was still unpaid at the start of the
as-of day (not paid in full: it may have been paid in part). So its own payment day is
:func:`collectsim.model.behaviour.open_pay_and_resolve_day`, the unchased payment day (with the part payments the
ledger cannot show) conditional on the invoice not being settled before the as-of day; for an invoice the ledger
flags as disputed, jointly with when its dispute was raised and ends: one that ended before the as-of day leaves
the invoice undisputed, one still running starts the run in dispute.

What the ledger does not say is assumed:

- the reminders of the firm's practice (``OpeningBook.past_steps``, the scenario's ``as-is`` policy by default)
  dated before the as-of day were sent, each moving the customer with the model's chance (channel, tone, the
  segment's responsiveness in the customer's liquidity on the as-of day, baseline goodwill, the debt's age), except
  those dated while a flagged invoice's drawn dispute ran (paused, or finding the invoice disputed). A
  customer moved by one pays after the usual delay; when that day is before the as-of day the history is
  impossible (the invoice is open) and is redrawn with the rest (:func:`collectsim.model.behaviour.open_pay_day`),
  so a reminder that worked just before the as-of day brings a payment in the first days;
- under the policy simulated, its steps and one-off actions (plan, terms, fee claim, settlement offer, agency,
  legal) dated before the as-of day are taken as done and are not repeated: the ladder continues with its next
  step, and the invoice is first reviewed on the as-of day (an invoice already past the policy's write-off age is
  written off at that review);
- an undisputed open invoice raises no new dispute; its customer's liquidity is as drawn for the as-of day (part
  payments before it are decided in that state);
- opening invoices were issued under the firm's past practice: a policy's electronic invoicing does not speed them.

A customer may have stopped ordering before the as-of day: the ledger shows how long since its last order
(``OpeningBook.days_since_order``), and :func:`opening_gone` draws, in each run, whether it had churned, with the
chance the model's own order and churn rules give (:func:`collectsim.model.behaviour.gone_probability`). A gone
customer starts the run as churned on the as-of day (the last day of the warm-up): it orders nothing more, while
its open invoices are collected as any churned customer's.

Sequence numbers: a customer's open invoices take numbers 0, 1, ... in ledger order, and its new orders follow
(``OpeningBook.first_seq``), so every draw keyed by (customer, invoice) stays distinct.
"""

from __future__ import annotations

import numpy as np

from collectsim.config.policy_spec import CHANNELS, TONES
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
    steps = np.arange(6 * rules.OPEN_PAY_TRIES, dtype=np.int64)
    dispute_steps = np.arange(3 * rules.OPEN_PAY_TRIES, dtype=np.int64)
    part_steps = np.arange(2 * rules.OPEN_PAY_TRIES * rules.OPEN_PART_CHAIN, dtype=np.int64)
    by_channel = [getattr(b.response, ch) for ch in CHANNELS]
    by_tone = [getattr(b.tone_response, t) for t in TONES]
    for k in range(book.invoices):
        c, s = int(book.customer[k]), int(out[k, O_SEGMENT])
        seg = segs[s]
        state = liquidity.state(c, as_of)
        past = book.past_steps[s] if book.past_steps else ()
        responsiveness = rules.responsiveness_on(seg.responsiveness, state, b.strained_response, b.distressed_response)
        offsets = np.asarray([st[0] for st in past], dtype=np.int64)
        probability = np.asarray([rules.response_probability(by_channel[st[1]], by_tone[st[2]], responsiveness,
                                                             seg.goodwill_baseline, b.goodwill_response_weight,
                                                             b.max_response_probability) for st in past])
        uniforms = u(seed, Purpose.OPEN_PAY_DAY, c, int(seq[k]), steps).reshape(rules.OPEN_PAY_TRIES, 6)
        part_uniforms = u(seed, Purpose.OPEN_PART_PAYMENT, c, int(seq[k]), part_steps).reshape(
            rules.OPEN_PAY_TRIES, 2 * rules.OPEN_PART_CHAIN)
        disputes = (u(seed, Purpose.OPEN_DISPUTE, c, int(seq[k]), dispute_steps).reshape(rules.OPEN_PAY_TRIES, 3)
                    if book.disputed[k] else None)
        pay, resolve = rules.open_pay_and_resolve_day(
            as_of, int(book.issue_day[k]), int(book.due_day[k]), float(habit[c]), seg.days_late_sd_within, state,
            b.strained_extra_days, rules.ignore_share_on(seg.ignore_share, state, b.distressed_ignore),
            seg.on_due_date_share, uniforms,
            b.set_aside_pay_days, b.set_aside_never_share, b.set_aside_pay_sigma, offsets, probability,
            b.response_halflife_days, b.response_delay_days,
            rules.part_share_on(seg.partial_share, state, b.strained_part_payment), seg.partial_gap_days, part_uniforms,
            disputes, b.dispute_raise_days, seg.dispute_resolution_days, seg.dispute_min_days)
        out[k, O_PAY_DAY], out[k, O_RESOLVE_DAY] = pay, resolve
        out[k, O_DISPUTED] = resolve != rules.NO_PAY_DAY  # a flagged dispute may have ended before the as-of day
        if not out[k, O_DISPUTED]:
            out[k, O_DISPUTED_SINCE] = -1
    return out


def opening_gone(scenario: Scenario, seed: int) -> np.ndarray:
    """Per opening customer, the day it churned if it had gone before the as-of day (the as-of day, ``book.day - 1``),
    else -1: both engines start a gone customer as churned on that day (module docstring).

    Each customer's draw is ``u(seed, Purpose.OPEN_GONE, customer)``; it is gone when the draw falls below
    :func:`collectsim.model.behaviour.gone_probability` for its days since its last order, at its segment's
    baseline churn hazard and mean gap between orders. Empty without an opening book.
    """
    book = scenario.opening
    if book is None:
        return np.zeros(0, dtype=np.int64)
    out = np.full(book.customers, -1, dtype=np.int64)
    if book.days_since_order is None or not book.customers:
        return out
    segs = scenario.portfolio.segments
    draws = u(seed, Purpose.OPEN_GONE, np.arange(book.customers, dtype=np.int64))
    for c in range(book.customers):
        seg = segs[int(book.segment[c])]
        p = rules.gone_probability(int(book.days_since_order[c]), rules.daily_churn_hazard(seg.churn_per_year),
                                   365.0 / seg.orders_per_year if seg.orders_per_year > 0 else np.inf)
        if draws[c] < p:
            out[c] = book.day - 1
    return out
