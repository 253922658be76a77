"""The compiled engine's event loop: the SimPy engine's model, one run, state in arrays.

Where the SimPy engine gives every invoice a process that sleeps until its next event, this loop keeps
(day, key) wake-ups, where the key is the SimPy engine's same-day order (phase, customer, invoice sequence;
see :mod:`collectsim.engines.simpy_engine`): a list per day, and a heap on the key for the day being processed
(a day's list goes into it when the day comes). Taking the earliest wake-up therefore visits the events in the
very order SimPy does, and a heap of one day's entries stays small. An invoice whose next event changes (the
team acted on it, its customer failed) gets a
new wake-up and a new generation number; a wake-up of an older generation is skipped, as SimPy skips an
interrupted process's timeout. The team's queue is served when a day is over.

Every rule is a call to :mod:`collectsim.model.behaviour`, every decision a call to
:func:`collectsim.model.policy_tables.rule_decision`, every random number :func:`draw` (the counter-based mixer of
:mod:`collectsim.model.draws`, over ``uint64``), every variate a function of :mod:`collectsim.model.draws`: this module
holds only the bookkeeping. It is plain Python in the subset numba compiles; :mod:`collectsim.engines.jit` compiles
it, and :mod:`collectsim.engines.compiled_engine` prepares its inputs and turns its arrays into results.
"""

from __future__ import annotations

import math

import numpy as np
from numba.core import types
from numba.experimental import structref

from collectsim.config.scenario import MAX_TERMS_MIX
from collectsim.engines.borrowed import borrowed, unowned
from collectsim.model.behaviour import (
    CAP_PERIOD_DAYS,
    DISTRESSED,
    HEALTHY,
    INSOLVENT,
    WORK_DISPUTE,
    accrued_interest,
    age_factor,
    agency_fee,
    agency_outcome,
    cap_used_on,
    capped_goodwill_loss,
    cents_of,
    churn_hazard_integral,
    churn_threshold,
    contact_extra,
    contact_extra_cents,
    contact_waits,
    costs_recovered,
    court_fee,
    credit_note_fraction,
    discount_amount,
    discount_take_probability,
    dispute_end_day,
    dispute_prevented,
    fees_owed,
    first_churn_day,
    goodwill_after,
    has_merit,
    ignore_share_on,
    instalment_amount,
    judgment_paid,
    legal_outcome,
    mediation_end,
    order_rate_factor,
    part_payment_fraction,
    part_share_on,
    pays_on_due_date,
    period_goodwill_extra,
    pick_share,
    plan_acceptance_on,
    plan_down_payment,
    prompted_delay_day,
    prompted_pay_day,
    recovered_goodwill,
    release_day,
    responds,
    response_probability,
    responsiveness_on,
    set_aside_days,
    settlement_forgiven,
    share_of,
    stake_factor,
    still_needed,
    unchased_lateness,
    unchased_pay_day,
    unmoved_after,
    work_class,
    work_minutes,
)
from collectsim.model.draws import exponential, geometric_days, lognormal, normal_ppf, uniform_int
from collectsim.model.liquidity import liquidity_step
from collectsim.model.opening import (
    O_BALANCE,
    O_CUSTOMER,
    O_DISPUTED,
    O_DISPUTED_SINCE,
    O_DUE,
    O_ISSUE,
    O_PAY_DAY,
    O_RESOLVE_DAY,
    O_SEGMENT,
    O_SEQ,
)
from collectsim.model.policy_tables import (
    A_AGENCY,
    A_DISCOUNT,
    A_FEES,
    A_LEGAL,
    A_MEDIATE,
    A_PLAN,
    A_REMIND,
    A_SETTLE,
    A_TERMS,
    ACTION_STRIDE,
    AGENCY_FEE,
    CLEAR_TERMS,
    CONTACT_GAP,
    COSTS_RECOVERABLE,
    COURT_FEE_RATE,
    DISCOUNT_RATE,
    DISCOUNT_WINDOW,
    E_INVOICING,
    FEE_COMPENSATION,
    FEE_RATE,
    HAS_HOLD,
    HAS_ONBOARDING,
    HOLD_AFTER,
    LEGAL_COST,
    MEDIATION_COST,
    N_MILESTONES,
    NO_REVIEW,
    ONBOARDING_COST,
    ONBOARDING_LIMIT,
    ONBOARDING_THRESHOLD,
    P_DISPUTE_RAISED,
    P_ESCALATION_ENDED,
    P_ISSUED,
    P_PLAN_DEFAULTED,
    P_REVIEW,
    PLAN_CHANNEL,
    PLAN_COST,
    PLAN_DOWN,
    PLAN_INSTALMENTS,
    PLAN_INTERVAL,
    PLAN_ON_REQUEST,
    PLAN_TOLERANCE,
    SETTLE_CHANNEL,
    SETTLE_COST,
    SETTLE_FORGIVE,
    TERMS_CHANNEL,
    TERMS_COST,
    choose_target,
    profile_row,
    rule_decision,
)
from collectsim.model.standing import RECENT_INVOICES, days_late, push_days_late, recent_count, recent_total

__jit__ = ("draw", "_mix", "run_kernel", "_heap_push", "_day_push", "_day_pop", "_load_day", "_next_day",
           "_record", "_advance", "_goodwill_on",
           "_change_goodwill", "_liquidity_on", "_next_event", "_schedule", "_order", "_onboard", "_amount",
           "_issue", "_open_balance", "_profile", "_overdue_beyond", "_invoice_event", "_resolve_dispute", "_pay",
           "_pay_instalment", "_raise_dispute", "_review", "_apply", "_execute", "_remind", "_plan_requested",
           "_offer_plan", "_agree_plan", "_offer_discount", "_claim_fees", "_accrue_interest", "_settle_fees",
           "_offer_settlement", "_mediate", "_escalate", "_spill_over", "_end_escalation", "_court_decides",
           "_disputed_part", "_insolvency",
           "_serve", "_queue_push", "_decide", "_do", "_within_cap", "_account_change", "_invoice_change",
           "_release", "_write_out", "_order_key", "_action_channel", "_action_kind", "_queue_before", "_queue_swap",
           "_queue_pop", "_new_row", "_open_book", "_still_alive",
           "liquidity_kernel")

__jit_entry__ = ("run_kernel", "draw", "liquidity_kernel")  # called from Python; the others only from compiled code

NEVER = 1 << 62
UNLINKED = -2  # R_PREV_OPEN of a closed invoice no longer in its customer's list
_PRIORITY_BASE = 2
PHASE_ORDER, PHASE_RESOLVE, PHASE_PAY, PHASE_DISPUTE, PHASE_REVIEW = range(5)
EV_ORDER, EV_INSOLVENCY, EV_INVOICE = range(3)  # what a wake-up wakes
NAN = math.nan

# Event kinds (collectsim.results.eventlog.EventKind).
(K_REMINDER, K_PAYMENT, K_DISCOUNT, K_DISPUTE_RAISED, K_DISPUTE_RESOLVED, K_CREDIT_NOTE, K_WRITE_OFF,
 K_PLAN_OFFERED, K_PLAN_AGREED, K_PLAN_MISSED, K_PLAN_DEFAULTED, K_CHURNED, K_FEES_CLAIMED, K_FEES_PAID,
 K_FEES_WAIVED, K_SETTLEMENT_OFFERED, K_SETTLEMENT, K_MEDIATION, K_AGENCY_PLACED, K_AGENCY_COLLECTED,
 K_AGENCY_RETURNED, K_LEGAL_FILED, K_LEGAL_COLLECTED, K_LEGAL_ENDED, K_DISPUTE_TAKEN_UP, K_INSOLVENT,
 K_INSOLVENCY_LOSS, K_REPUTATION, K_ORDER_REFUSED, K_PLAN_REQUESTED, K_CUSTOMER_ONBOARDED, K_CUSTOMER_REFUSED,
 K_TERMS_OFFERED, K_TERMS_AGREED, K_COSTS_RECOVERED) = range(35)

# Purposes of draws (collectsim.model.draws.Purpose).
(U_HABIT, U_RESPONSIVENESS, U_ORDER_GAP, U_AMOUNT, U_LATENESS, U_IGNORES, U_DISPUTE, U_DISPUTE_DAY,
 U_DISPUTE_DAYS, U_CREDIT_NOTE, U_CREDIT_NOTE_FRACTION, U_TAKE_UP, U_DISCOUNT_PAY_DAY, U_RESPONSE,
 U_RESPONSE_DELAY, U_PARTIAL, U_PARTIAL_FRACTION, U_PARTIAL_GAP, U_RESOLUTION_PAY_DELAY, U_PLAN_ACCEPTANCE,
 U_INSTALMENT, U_CHURN, U_FEE_PAYMENT, U_SETTLEMENT_ACCEPTANCE, U_SETTLEMENT_DELAY, U_MEDIATION,
 U_MEDIATION_DAYS, U_AGENCY, U_AGENCY_DAYS, U_JUDGMENT, U_JUDGMENT_PAID, U_LEGAL_DAYS, U_LIQUIDITY,
 U_INSOLVENCY, U_INSOLVENCY_DAY, U_SET_ASIDE, U_PLAN_REQUEST, U_ARRIVAL, U_CREDIT_REPORT,
 U_PLAN_DEFAULT_PAY_DAY, U_DISPUTE_PREVENTED, U_ON_DUE_DATE, U_PAYMENT_WEEKDAY, U_INVOICE_TERMS) = range(1, 45)

# Columns of the invoices' integer state (R) and float state (RF): one row per open invoice, reused once it is
# closed (R_ID is the invoice's number, its row in the invoice table; R_NEXT_OPEN and R_PREV_OPEN link the
# customer's invoices, or free rows; R_QUEUED counts its items in the team's queue).
(R_CUSTOMER, R_SEQ, R_SEGMENT, R_AMOUNT, R_BALANCE, R_ISSUE, R_DUE, R_DISPUTED, R_REMINDERS, R_ACTIONS,
 R_PAYMENTS, R_PAY_DAY, R_DISPUTE_DAY, R_RESOLVE_DAY, R_REVIEW_DAY, R_DISCOUNT_DEADLINE, R_RESPONSES, R_IN_PLAN,
 R_HAD_PLAN, R_PLAN_DAY, R_PLAN_LEFT, R_PLAN_INTERVAL, R_PLAN_TOLERANCE, R_PLAN_MISSED, R_PLAN_ATTEMPTS,
 R_PLAN_DOWN, R_HAD_TERMS, R_PLAN_TERMS, R_PLAN_MILESTONES, R_PLAN_START, R_PLAN_BASE, R_PENDING,
 R_FEES_CLAIMED, R_FEE_COMPENSATION, R_INTEREST_DAY, R_HAD_SETTLEMENT, R_DISPUTED_SINCE, R_MEDIATED,
 R_ESCALATION, R_WAS_AT_AGENCY, R_WAS_IN_COURT, R_ESCALATION_DAY, R_ESCALATION_PAYS, R_TAKEN_UP,
 R_PLAN_REQUESTED, R_PLAN_BROKEN_DAY, R_GEN, R_NEXT_OPEN, R_ID, R_PREV_OPEN, R_QUEUED, R_HELD_ACTION, R_HELD_DAY,
 R_LEGAL_COSTS, R_PROFILE, R_WIDTH) = range(56)
(RF_DISCOUNT_RATE, RF_UNMOVED, RF_FEE_RATE, RF_INTEREST, RF_SETTLE_FORGIVE, RF_AGENCY_FEE, RF_RECOVERABLE,
 RF_WIDTH) = range(8)
# The invoice table the run returns is kept as InvoiceTable's columns (World's inv_* fields), one row per invoice.

# R_PROFILE: the row of the policy's tables that applies to the invoice (its segment's, for the target its
# customer's standing met at issue).
# Columns of the customers' integer state (C) and float state (CF).
# The contact columns: the day of the last contact, what today's contact has cost and taken in staff minutes, the
# worst goodwill loss and best gain on the account in the period C_CHANGE_PERIOD, and the goodwill lost to chasing
# in the cap's current period (see SimpyEngine.__init__).
(C_SEGMENT, C_ARRIVAL, C_ANCHOR, C_REFUSED, C_LIMIT, C_CHURN_DAY, C_INSOLVENT_DAY, C_SEQ, C_STARTED,
 C_OPEN_HEAD, C_OPEN_TAIL, C_CONTACT_DAY, C_CONTACT_COST, C_CAP_PERIOD, C_CHANGE_PERIOD, C_PAID, C_LAST_DISPUTE,
 C_SINCE, C_LATE) = range(19)
# The customer's standing (collectsim.model.standing): invoices paid in full, the day of its last dispute, the day
# its tenure counts from (its arrival, or its first invoice in an opening book's ledger), and from C_LATE the ring
# of the last RECENT_INVOICES paid invoices' days late.
C_WIDTH = C_LATE + RECENT_INVOICES
(CF_GOODWILL, CF_BASELINE, CF_HAZARD, CF_THRESHOLD, CF_HABIT, CF_REPORT, CF_CONTACT_MINUTES, CF_PERIOD_WORST,
 CF_PERIOD_BEST, CF_CAP_USED, CF_WIDTH) = range(11)

# Segment parameters (one row per segment).
(S_TERMS, S_EOM, S_DISPUTE_RATE, S_IGNORE, S_SD_WITHIN, S_AMOUNT_MEDIAN, S_AMOUNT_SIGMA, S_MEAN_GAP,
 S_DISPUTE_DAYS, S_CREDIT_NOTE_SHARE, S_CREDIT_NOTE_FRACTION, S_PARTIAL_SHARE, S_PARTIAL_GAP, S_PLAN_ACCEPTANCE,
 S_INSTALMENT_RELIABILITY, S_FEE_PAYMENT_SHARE, S_SETTLEMENT_ACCEPTANCE, S_RECOVERABILITY, S_RESPONSIVENESS,
 S_DISCOUNT_APPETITE, S_SENSITIVITY, S_DAILY_CHURN, S_HAS_RUNS, S_MONTHLY, S_ON_DUE, S_FIRST_WEEKDAY, S_WEEKDAY_MASK,
 S_TERMS_COUNT, S_DISPUTE_MIN, S_WEEKDAY_CUM) = range(30)
S_TERMS_MIX = S_WEEKDAY_CUM + 7  # the payment weekdays' running shares, Monday first; then the terms of the mix
S_TERMS_CUM = S_TERMS_MIX + MAX_TERMS_MIX  # and their running shares
S_WIDTH = S_TERMS_CUM + MAX_TERMS_MIX

# Behaviour parameters.
(B_RESPONSE, B_TONE_RESPONSE, B_TONE_GOODWILL, B_CHANNEL_GOODWILL) = (0, 3, 6, 9)  # three values each
(B_GOODWILL_WEIGHT, B_MAX_RESPONSE, B_RESPONSE_DELAY, B_DISCOUNT_REFERENCE, B_DISCOUNT_GOODWILL,
 B_DISPUTE_GOODWILL, B_CREDIT_NOTE_GOODWILL, B_FEE_GOODWILL, B_SETTLEMENT_GOODWILL, B_MEDIATION_SUCCESS,
 B_MEDIATION_DAYS, B_MEDIATION_GOODWILL, B_AGENCY_SUCCESS, B_AGENCY_DAYS, B_AGENCY_MAX_DAYS, B_AGENCY_GOODWILL,
 B_LEGAL_DAYS, B_DEFAULT_JUDGMENT_DAYS, B_JUDGMENT_PAID, B_LEGAL_GOODWILL, B_STRAINED_EXTRA, B_STRAINED_RESPONSE,
 B_DISTRESSED_RESPONSE, B_STRAINED_PART, B_STRAINED_PLAN, B_DISTRESSED_IGNORE, B_RECOVERY_DAYS, B_ELASTICITY,
 B_CHURN_SLOPE, B_PLAN_GOODWILL, B_PLAN_DEFAULT_GOODWILL, B_DISPUTE_RAISE_DAYS, B_PART_FRACTION, B_HALFLIFE,
 B_SET_ASIDE_DAYS, B_SET_ASIDE_NEVER, B_SET_ASIDE_SIGMA, B_PLAN_REQUEST, B_PLAN_REFUSED_GOODWILL,
 B_HOLD_GOODWILL, B_SPILLOVER, B_CONTACT_CAP, B_CLEAR_TERMS_CUT, B_E_INVOICING_CUT, B_E_INVOICING_DAYS,
 B_WIDTH) = range(12, 58)

# Team parameters and run scalars.
T_LIMITED, T_DAILY_MINUTES, T_MINUTES_EMAIL, T_MINUTES_LETTER, T_MINUTES_CALL, T_MINUTES_DISPUTE, T_WIDTH = range(7)
X_END, X_ISSUE_END, X_BLOCK_DAYS, X_LAST_BLOCK, X_START, X_WIDTH = range(6)  # X_START: the opening book's day

# Counters, and what ran out of room (the run is then repeated with more: see compiled_engine.run_one).
(N_ROWS, N_LOG, N_QUEUE, N_DH, N_QUEUED_EVER, N_OVERFLOW, N_DAY, N_FREE, N_TOP, N_PAST, N_ROW_FREE, N_ROW_TOP, N_GEN,
 N_QUEUE_FREE, N_QUEUE_TOP, N_LATEST, N_WIDTH) = range(17)  # N_LATEST: the day's largest key handled so far
OVER_ROWS, OVER_LOG, OVER_HEAP, OVER_QUEUE = 1, 2, 4, 8

# The log is kept as the event log's columns (World's log_* fields, in EventLog's dtypes: a row is 59 bytes, and the
# columns become the run's event log without a copy). The team's queue:
# a task's row in Q (Q_INVOICE its invoice's row of state, Q_ID the invoice's number: when the row has been let go
# the two no longer match; Q_NEXT links free rows), and its entry in the queue's heap QH: the service order as two
# keys (see _queue_before) and the task's row.
Q_REQUESTED, Q_INVOICE, Q_ACTION, Q_NEXT, Q_ID, Q_WIDTH = range(6)
H_FIRST, H_SECOND, H_TASK, H_WIDTH = range(4)
# Wake-ups (E): one row each, on its day's list (E_NEXT) until the day comes, then in today's heap (DH).
E_KEY, E_KIND, E_INDEX, E_GEN, E_NEXT, E_WIDTH = range(6)

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)


# --- the run's world: every table and state array behind one reference ----------------------------------

@structref.register
class WorldType(types.StructRef):
    """The numba type of :class:`World` (its fields' types as given, constants made plain)."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(typ)) for name, typ in fields)


class World(structref.StructRefProxy):
    """Everything a run's handlers read and change, passed as one reference (passing the arrays themselves
    from call to call cost far more than the work the calls do)."""


WORLD_FIELDS = ("SG", "BH", "T", "members", "starts", "liq", "runs", "eom", "pref", "X",
                "p_ints", "p_floats", "p_offsets", "p_costs", "p_channels", "p_tones", "m_days", "m_shares",
                "p_selectors",
                "C", "CF", "R", "RF", "Q", "QF", "QH", "E", "DH", "head", "out", "counts",
                "inv_customer", "inv_seq", "inv_segment", "inv_issue", "inv_due", "inv_amount", "inv_rate",
                "inv_deadline", "inv_balance",
                "log_day", "log_kind", "log_customer", "log_invoice", "log_amount", "log_channel", "log_tone",
                "log_cost", "log_before", "log_after", "log_minutes", "log_wait", "log_phase")
structref.define_proxy(World, WorldType, list(WORLD_FIELDS))



def _still_alive(world, state) -> None:
    """Nothing: a use of the run's world and state at its end, so that they outlive the references borrowed from
    them."""


# --- draws -----------------------------------------------------------------------------------------------------

def _mix(z):
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def draw(prefix, purpose: int, customer: int, invoice: int, step: int) -> float:
    """``collectsim.model.draws.u(seed, purpose, customer, invoice, step)`` (``prefix``: per purpose)."""
    z = _mix(prefix[purpose] + np.uint64(customer) + _GOLDEN)
    z = _mix(z + np.uint64(invoice) + _GOLDEN)
    z = _mix(z + np.uint64(step) + _GOLDEN)
    return (float(z >> _S11) + 0.5) * 2.0**-53


# --- containers -----------------------------------------------------------------------------------------------

def _heap_push(w, day: int, key: int, kind: int, index: int, gen: int) -> None:
    """Queue a wake-up at (``day``, ``key``): onto its day's list, or into today's heap when ``day`` is the day
    being processed (a later event of the same day). Wake-ups at or after the end are never reached: dropped."""
    counts = w.counts
    if day >= w.X[X_END]:
        return
    E = w.E
    slot = counts[N_FREE]
    if slot >= 0:
        counts[N_FREE] = E[slot, E_NEXT]
    else:
        slot = counts[N_TOP]
        if slot == E.shape[0]:
            counts[N_OVERFLOW] |= OVER_HEAP
            return
        counts[N_TOP] = slot + 1
    E[slot, E_KEY], E[slot, E_KIND], E[slot, E_INDEX], E[slot, E_GEN] = key, kind, index, gen
    if day > counts[N_DAY]:
        head = w.head
        E[slot, E_NEXT] = head[day]
        head[day] = slot
        return
    if day < counts[N_DAY]:
        counts[N_PAST] += 1  # a wake-up in the past: never expected (tests check that this stays 0)
    _day_push(w, key, slot)


def _day_push(w, key: int, slot: int) -> None:
    """Add an entry to today's heap (a binary heap on the same-day order key)."""
    heap, counts = w.DH, w.counts
    i = counts[N_DH]
    counts[N_DH] = i + 1
    while i > 0:
        parent = (i - 1) >> 1
        if heap[parent, 0] <= key:
            break
        heap[i, 0], heap[i, 1] = heap[parent, 0], heap[parent, 1]
        i = parent
    heap[i, 0], heap[i, 1] = key, slot


def _day_pop(w) -> int:
    """Remove today's earliest entry; its slot in the wake-up table."""
    heap, counts = w.DH, w.counts
    top = heap[0, 1]
    n = counts[N_DH] - 1
    counts[N_DH] = n
    if n == 0:
        return top
    key, slot = heap[n, 0], heap[n, 1]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= n:
            break
        if child + 1 < n and heap[child + 1, 0] < heap[child, 0]:
            child += 1
        if key <= heap[child, 0]:
            break
        heap[i, 0], heap[i, 1] = heap[child, 0], heap[child, 1]
        i = child
    heap[i, 0], heap[i, 1] = key, slot
    return top


def _load_day(w, day: int) -> None:
    """Make ``day`` the day being processed: its list of wake-ups goes into today's heap."""
    E, head = w.E, w.head
    w.counts[N_DAY] = day
    slot = head[day]
    head[day] = -1
    while slot >= 0:
        nxt = E[slot, E_NEXT]
        _day_push(w, E[slot, E_KEY], slot)
        slot = nxt


def _next_day(w, end: int) -> int:
    """The day of the earliest queued wake-up (``end`` when there is none before it)."""
    counts = w.counts
    if counts[N_DH] > 0:
        return counts[N_DAY]
    head = w.head
    day = counts[N_DAY] + 1
    while day < end and head[day] < 0:
        day += 1
    return day


def _record(w, day: int, kind: int, customer: int, invoice: int, amount: int, channel: int,
            tone: int, cost: int, before: float, after: float, minutes: float, wait: int) -> None:
    """Append one row to the log, straight into the columns (and dtypes) of the run's event log."""
    counts = w.counts
    n = counts[N_LOG]
    if n == w.log_day.shape[0]:
        counts[N_OVERFLOW] |= OVER_LOG
        return
    if invoice >= 0:
        invoice = w.R[invoice, R_ID]  # the invoice's number (``invoice`` is its row of state)
    w.log_day[n], w.log_kind[n], w.log_customer[n], w.log_invoice[n] = day, kind, customer, invoice
    w.log_amount[n], w.log_channel[n], w.log_tone[n], w.log_cost[n], w.log_wait[n] = amount, channel, tone, cost, wait
    w.log_before[n], w.log_after[n], w.log_minutes[n] = before, after, minutes
    if w.log_phase.shape[0]:  # a part of a run (see compiled_engine.run_parts): what its rows are merged by
        w.log_phase[n] = counts[N_LATEST] >> 60
    counts[N_LOG] = n + 1


def _queue_push(w, work: int, requested: int, customer: int, seq: int, row: int, action: int,
                minutes: float) -> None:
    """Put a task on the team's queue: its details in a free row of Q, its keys into the heap (service order,
    see :func:`_queue_before`)."""
    queue, queuef, heap, counts = w.Q, w.QF, w.QH, w.counts
    n = counts[N_QUEUE]
    if n == heap.shape[0]:
        counts[N_OVERFLOW] |= OVER_QUEUE
        return
    if not (0 <= work < 1 << 6 and 0 <= requested < 1 << 26 and 0 <= customer < 1 << 30 and 0 <= seq < 1 << 23):
        raise ValueError("compiled engine: a task beyond the range of the team queue's keys")
    task = counts[N_QUEUE_FREE]
    if task >= 0:
        counts[N_QUEUE_FREE] = queue[task, Q_NEXT]
    else:
        task = counts[N_QUEUE_TOP]
        counts[N_QUEUE_TOP] = task + 1
    queue[task, Q_REQUESTED], queue[task, Q_INVOICE], queue[task, Q_ACTION] = requested, row, action
    queue[task, Q_ID] = w.R[row, R_ID]
    queuef[task] = minutes
    heap[n, H_FIRST] = (work << 56) + (requested << 30) + customer
    heap[n, H_SECOND] = (seq << 40) + counts[N_QUEUED_EVER]
    heap[n, H_TASK] = task
    w.R[row, R_QUEUED] += 1  # the row is kept until the queue is done with it
    counts[N_QUEUE] = n + 1
    counts[N_QUEUED_EVER] += 1
    while n > 0:  # sift up
        parent = (n - 1) // 2
        if not _queue_before(heap, n, parent):
            break
        _queue_swap(heap, n, parent)
        n = parent


def _queue_before(heap, a: int, b: int) -> bool:
    """Whether the heap's entry ``a`` is served before ``b``: by class, request day, customer, invoice, then
    arrival, the first three packed into one key and the last two into another."""
    return heap[a, H_FIRST] < heap[b, H_FIRST] or (heap[a, H_FIRST] == heap[b, H_FIRST]
                                                   and heap[a, H_SECOND] < heap[b, H_SECOND])


def _queue_swap(heap, a: int, b: int) -> None:
    for col in range(H_WIDTH):
        heap[a, col], heap[b, col] = heap[b, col], heap[a, col]


def _queue_pop(w) -> None:
    """Take the first task in service order off the team's queue (the heap's top); its row is free again."""
    queue, heap, counts = w.Q, w.QH, w.counts
    task = heap[0, H_TASK]
    row = queue[task, Q_INVOICE]
    if w.R[row, R_ID] == queue[task, Q_ID]:
        w.R[row, R_QUEUED] -= 1  # out of the queue (unless the row was let go: see _release)
    queue[task, Q_NEXT] = counts[N_QUEUE_FREE]
    counts[N_QUEUE_FREE] = task
    n = counts[N_QUEUE] - 1
    counts[N_QUEUE] = n
    if n == 0:
        return
    heap[0, H_FIRST], heap[0, H_SECOND], heap[0, H_TASK] = heap[n, H_FIRST], heap[n, H_SECOND], heap[n, H_TASK]
    i = 0
    while True:  # sift down
        first, left, right = i, 2 * i + 1, 2 * i + 2
        if left < n and _queue_before(heap, left, first):
            first = left
        if right < n and _queue_before(heap, right, first):
            first = right
        if first == i:
            return
        _queue_swap(heap, i, first)
        i = first


# --- customers --------------------------------------------------------------------------------------------

def _advance(w, c: int, day: int) -> None:
    """Bring the customer's goodwill and integrated churn hazard up to ``day`` (as SimpyEngine._advance)."""
    C, CF = w.C, w.CF
    SG, BH = w.SG, w.BH
    last = C[c, C_ANCHOR]
    if day <= last:
        return
    goodwill = CF[c, CF_GOODWILL]
    baseline = CF[c, CF_BASELINE]
    gap = baseline - goodwill
    h0 = SG[C[c, C_SEGMENT], S_DAILY_CHURN]
    tau = BH[B_RECOVERY_DAYS]
    if h0 > 0 and C[c, C_CHURN_DAY] == NEVER:
        slope = BH[B_CHURN_SLOPE]
        already = CF[c, CF_HAZARD]
        total = already + churn_hazard_integral(h0, slope, gap, day - last, tau)
        threshold = CF[c, CF_THRESHOLD]
        if total >= threshold:
            C[c, C_CHURN_DAY] = last + first_churn_day(already, h0, slope, gap, day - last, tau, threshold)
        CF[c, CF_HAZARD] = total
    CF[c, CF_GOODWILL] = recovered_goodwill(goodwill, baseline, day - last, tau)
    C[c, C_ANCHOR] = day


def _goodwill_on(w, c: int, day: int) -> float:
    _advance(w, c, day)
    return w.CF[c, CF_GOODWILL]


def _change_goodwill(w, c: int, change: float, day: int) -> tuple[float, float]:
    before = _goodwill_on(w, c, day)
    after = goodwill_after(before, change, w.SG[w.C[c, C_SEGMENT], S_SENSITIVITY])
    w.CF[c, CF_GOODWILL] = after
    return before, after


def _liquidity_on(w, c: int, day: int) -> int:
    if day >= w.C[c, C_INSOLVENT_DAY]:
        return INSOLVENT
    X = w.X
    state = w.liq[c, min(day // X[X_BLOCK_DAYS], X[X_LAST_BLOCK])]
    return DISTRESSED if state == INSOLVENT else state


# --- invoices' next events ----------------------------------------------------------------------------------

def _next_event(R, i: int) -> tuple[int, int]:
    """(day, phase) of the invoice's earliest pending event (as Invoice.next_event)."""
    if R[i, R_ESCALATION]:
        return R[i, R_ESCALATION_DAY], PHASE_PAY
    review = min(R[i, R_REVIEW_DAY], R[i, R_HELD_DAY])
    if R[i, R_DISPUTED]:
        if R[i, R_TAKEN_UP] and R[i, R_RESOLVE_DAY] <= review:
            day, phase = R[i, R_RESOLVE_DAY], PHASE_RESOLVE
        else:
            day, phase = review, PHASE_REVIEW
    else:
        pay = R[i, R_PLAN_DAY] if R[i, R_IN_PLAN] else R[i, R_PAY_DAY]
        dispute = R[i, R_DISPUTE_DAY]
        if pay <= dispute and pay <= review:
            day, phase = pay, PHASE_PAY
        elif dispute <= review:
            day, phase = dispute, PHASE_DISPUTE
        else:
            day, phase = review, PHASE_REVIEW
    if day > NEVER:
        return NEVER, PHASE_REVIEW
    return day, phase


def _schedule(w, i: int) -> None:
    """Wake the invoice at its next event (a new generation: any earlier wake-up is void); a closed invoice's row
    is released. Generations are numbered across the run, so a wake-up never matches a later tenant of the row."""
    R = w.R
    counts = w.counts
    counts[N_GEN] += 1
    R[i, R_GEN] = counts[N_GEN]
    if R[i, R_BALANCE] <= 0:
        _release(w, i)
        return
    day, phase = _next_event(R, i)
    if day >= w.X[X_END]:
        return
    key = _PRIORITY_BASE + (phase << 60) + (R[i, R_CUSTOMER] << 28) + R[i, R_SEQ]
    _heap_push(w, day, key, EV_INVOICE, i, R[i, R_GEN])


def _release(w, i: int) -> None:
    """A closed invoice (nothing left to collect): its final state goes to the invoice table and it leaves its
    customer's open invoices at once. Its row is freed for the next invoice then too: the team's queue finds its
    tasks for the invoice void (no action is still needed on a settled invoice; see ``still_needed``) by the row's
    invoice number. Only an open dispute the queue may still take up keeps the row until the queue is done with
    it. (Closed invoices kept in the list made a busy team's customers' lists long, and rows kept for a long
    queue made the rows in use several times the open invoices.)"""
    R, C, counts = w.R, w.C, w.counts
    if R[i, R_ID] < 0:
        return
    prev = R[i, R_PREV_OPEN]
    if prev != UNLINKED:
        _write_out(w, i)
        nxt, c = R[i, R_NEXT_OPEN], R[i, R_CUSTOMER]
        if prev >= 0:
            R[prev, R_NEXT_OPEN] = nxt
        else:
            C[c, C_OPEN_HEAD] = nxt
        if nxt >= 0:
            R[nxt, R_PREV_OPEN] = prev
        else:
            C[c, C_OPEN_TAIL] = prev
        R[i, R_PREV_OPEN] = UNLINKED
    if R[i, R_QUEUED] > 0 and R[i, R_DISPUTED] != 0 and R[i, R_TAKEN_UP] == 0:
        return  # the queue may still take up its dispute (see _serve): the row stays until the queue is done
    R[i, R_ID] = -1  # the queue's other tasks for it are void (nothing is still needed on a settled invoice)
    R[i, R_NEXT_OPEN] = counts[N_ROW_FREE]
    counts[N_ROW_FREE] = i


def _write_out(w, i: int) -> None:
    """The invoice's state that the invoice table shows and that may change after issue."""
    R = w.R
    inv = R[i, R_ID]
    w.inv_balance[inv] = R[i, R_BALANCE]
    w.inv_deadline[inv] = R[i, R_DISCOUNT_DEADLINE]
    w.inv_rate[inv] = w.RF[i, RF_DISCOUNT_RATE]


# --- orders ------------------------------------------------------------------------------------------------

def _order_key(c: int) -> int:
    return _PRIORITY_BASE + (c << 28)


def _amount(w, c: int, seq: int) -> int:
    SG = w.SG
    s = w.C[c, C_SEGMENT]
    return cents_of(lognormal(draw(w.pref, U_AMOUNT, c, seq, 0), SG[s, S_AMOUNT_MEDIAN], SG[s, S_AMOUNT_SIGMA]))


def _open_balance(w, c: int) -> int:
    R = w.R
    total = 0
    i = w.C[c, C_OPEN_HEAD]
    while i >= 0:
        total += R[i, R_BALANCE]
        i = R[i, R_NEXT_OPEN]
    return total


def _profile(w, c: int, day: int) -> int:
    """The row of the policy's tables for the customer today: its segment's, for the first target its standing
    meets (as SimpyEngine._profile with RuleBasedPolicy.profile)."""
    C, R = w.C, w.R
    selectors = w.p_selectors
    s = C[c, C_SEGMENT]
    if len(selectors) == 0:
        return profile_row(selectors, s, 0)
    balance = 0
    overdue = 0
    disputes = 0
    i = C[c, C_OPEN_HEAD]
    while i >= 0:
        if R[i, R_BALANCE] > 0:
            balance += R[i, R_BALANCE]
            overdue = max(overdue, day - R[i, R_DUE])
            if R[i, R_DISPUTED]:
                disputes += 1
        i = R[i, R_NEXT_OPEN]
    paid = C[c, C_PAID]
    ring = C[c, C_LATE:C_LATE + RECENT_INVOICES]
    target = choose_target(selectors, day - C[c, C_SINCE], balance, recent_total(ring, paid), recent_count(paid),
                           overdue, disputes, day - C[c, C_LAST_DISPUTE])
    return profile_row(selectors, s, target)


def _overdue_beyond(w, c: int, day: int, days_overdue: int) -> bool:
    R = w.R
    i = w.C[c, C_OPEN_HEAD]
    while i >= 0:
        if (R[i, R_BALANCE] > 0 and day - R[i, R_DUE] > days_overdue and not R[i, R_DISPUTED]
                and not R[i, R_IN_PLAN]):
            return True
        i = R[i, R_NEXT_OPEN]
    return False


def _onboard(w, c: int, s: int, day: int) -> bool:
    """A new customer applies (as SimpyEngine._onboard); ``s`` is its profile, the row of the policy's tables."""
    C, CF = w.C, w.CF
    ints = w.p_ints[s]
    if not ints[HAS_ONBOARDING]:
        _record(w, day, K_CUSTOMER_ONBOARDED, c, -1, 0, -1, -1, 0, NAN, NAN, 0.0, 0)
        return True
    cost = ints[ONBOARDING_COST]
    if CF[c, CF_REPORT] > w.p_floats[s, ONBOARDING_THRESHOLD]:
        C[c, C_REFUSED] = 1
        _record(w, day, K_CUSTOMER_REFUSED, c, -1, 0, -1, -1, cost, NAN, NAN, 0.0, 0)
        return False
    C[c, C_LIMIT] = ints[ONBOARDING_LIMIT]
    _record(w, day, K_CUSTOMER_ONBOARDED, c, -1, 0, -1, -1, cost, NAN, NAN, 0.0, 0)
    return True


def _order(w, c: int, day: int) -> None:
    """The customer's order process at ``day`` (as SimpyEngine._orders): onboarding, then one order each wake."""
    C, CF = w.C, w.CF
    SG, BH, X = w.SG, w.BH, w.X
    s = C[c, C_SEGMENT]
    mean_gap = SG[s, S_MEAN_GAP]
    if not C[c, C_STARTED]:
        C[c, C_STARTED] = 1
        if C[c, C_ARRIVAL] > X[X_START]:  # a new customer applies, and may be checked and refused
            if C[c, C_INSOLVENT_DAY] <= day or not _onboard(w, c, _profile(w, c, day), day):
                return
        first = C[c, C_ARRIVAL] + geometric_days(draw(w.pref, U_ORDER_GAP, c, 0, 0), mean_gap) - 1
        if first < X[X_ISSUE_END]:
            _heap_push(w, first, _order_key(c), EV_ORDER, c, 0)
        return
    _advance(w, c, day)
    if C[c, C_CHURN_DAY] <= day or C[c, C_INSOLVENT_DAY] <= day:
        return  # the customer has left, or can no longer trade
    seq = C[c, C_SEQ]
    ints = w.p_ints[_profile(w, c, day)]
    limit = C[c, C_LIMIT]
    if ((ints[HAS_HOLD] and _overdue_beyond(w, c, day, ints[HOLD_AFTER]))
            or (limit and _open_balance(w, c) + _amount(w, c, seq) > limit)):
        amount = _amount(w, c, seq)
        change = BH[B_HOLD_GOODWILL] * stake_factor(amount, w.SG[s, S_MONTHLY])
        before, after = _change_goodwill(w, c, _account_change(w, c, change, day, True), day)
        _record(w, day, K_ORDER_REFUSED, c, -1, amount, -1, -1, 0, before, after, 0.0, 0)
    else:
        _issue(w, c, seq, day)
    seq += 1  # a refused order keeps its number, so later orders are the same ones under every policy
    C[c, C_SEQ] = seq
    factor = order_rate_factor(CF[c, CF_GOODWILL], CF[c, CF_BASELINE], BH[B_ELASTICITY])
    if factor <= 0:
        return  # goodwill so low the customer orders nothing more
    nxt = day + geometric_days(draw(w.pref, U_ORDER_GAP, c, seq, 0), mean_gap / factor)
    if nxt < X[X_ISSUE_END]:
        _heap_push(w, nxt, _order_key(c), EV_ORDER, c, 0)


def _issue(w, c: int, seq: int, day: int) -> None:
    C = w.C
    SG, BH = w.SG, w.BH
    pref = w.pref
    s = C[c, C_SEGMENT]
    profile = _profile(w, c, day)  # from the standing before this invoice
    amount = _amount(w, c, seq)
    terms = int(SG[s, S_TERMS_MIX])
    count = int(SG[s, S_TERMS_COUNT])
    if count > 1:  # the invoice's own terms, from the segment's mix
        terms = int(SG[s, S_TERMS_MIX + pick_share(draw(pref, U_INVOICE_TERMS, c, seq, 0),
                                                   SG[s, S_TERMS_CUM:S_TERMS_CUM + count])])
    due = day + terms if not SG[s, S_EOM] else w.eom[day] + terms
    R = w.R
    i = _new_row(w, c, seq, s, amount, day, due, profile)
    if i < 0:
        return
    # The customer's intentions, before any chasing.
    clear_terms = w.p_ints[profile, CLEAR_TERMS] != 0
    e_invoicing = w.p_ints[profile, E_INVOICING] != 0
    if draw(pref, U_DISPUTE, c, seq, 0) < SG[s, S_DISPUTE_RATE] and not (
            (clear_terms or e_invoicing) and dispute_prevented(
                draw(pref, U_DISPUTE_PREVENTED, c, seq, 0),
                has_merit(draw(pref, U_CREDIT_NOTE, c, seq, 0), SG[s, S_CREDIT_NOTE_SHARE]), clear_terms, e_invoicing,
                BH[B_CLEAR_TERMS_CUT], BH[B_E_INVOICING_CUT])):
        latest = min(terms, int(BH[B_DISPUTE_RAISE_DAYS]))
        R[i, R_DISPUTE_DAY] = day + uniform_int(draw(pref, U_DISPUTE_DAY, c, seq, 0), 0, latest)
    liquidity = _liquidity_on(w, c, day)
    ignore = ignore_share_on(SG[s, S_IGNORE], liquidity, BH[B_DISTRESSED_IGNORE])
    if draw(pref, U_IGNORES, c, seq, 0) >= ignore:
        if SG[s, S_ON_DUE] > 0 and pays_on_due_date(draw(pref, U_ON_DUE_DATE, c, seq, 0), SG[s, S_ON_DUE],
                                                    liquidity):
            lateness = 0.0  # scheduled for the due date
        else:
            z = normal_ppf(draw(pref, U_LATENESS, c, seq, 0))
            lateness = unchased_lateness(w.CF[c, CF_HABIT], SG[s, S_SD_WITHIN], z, liquidity, BH[B_STRAINED_EXTRA])
            if e_invoicing:
                lateness -= BH[B_E_INVOICING_DAYS]  # approved sooner
        R[i, R_PAY_DAY] = unchased_pay_day(due, day, lateness)
    elif BH[B_SET_ASIDE_DAYS] > 0:
        late = set_aside_days(draw(pref, U_SET_ASIDE, c, seq, 0), BH[B_SET_ASIDE_NEVER], BH[B_SET_ASIDE_DAYS],
                              BH[B_SET_ASIDE_SIGMA])
        if late >= 0:
            R[i, R_PAY_DAY] = due + 1 + late
    # The first review may fall on the issue day itself (phase 4 comes after phase 0).
    g = _goodwill_on(w, c, day)
    _decide(w, i, P_ISSUED, day, g, day)
    _schedule(w, i)


def _new_row(w, c: int, seq: int, s: int, amount: int, day: int, due: int, profile: int) -> int:
    """A new invoice's row, cleared and linked to its customer's open invoices (-1 when the table is full)."""
    C = w.C
    counts = w.counts
    R, RF = w.R, w.RF
    inv = counts[N_ROWS]
    if inv == w.inv_customer.shape[0]:
        counts[N_OVERFLOW] |= OVER_ROWS
        return -1
    i = counts[N_ROW_FREE]
    if i >= 0:
        counts[N_ROW_FREE] = R[i, R_NEXT_OPEN]
    else:
        i = counts[N_ROW_TOP]
        counts[N_ROW_TOP] = i + 1  # never beyond the invoice table's rows, which R has as many of
    counts[N_ROWS] = inv + 1
    for col in range(R_WIDTH):  # the arrays are not cleared in advance: only rows in use are touched
        R[i, col] = 0
    for col in range(RF_WIDTH):
        RF[i, col] = 0.0
    R[i, R_CUSTOMER], R[i, R_SEQ], R[i, R_SEGMENT], R[i, R_AMOUNT], R[i, R_BALANCE] = c, seq, s, amount, amount
    R[i, R_ISSUE], R[i, R_DUE] = day, due
    R[i, R_ID] = inv
    R[i, R_PROFILE] = profile
    w.inv_customer[inv], w.inv_seq[inv], w.inv_segment[inv], w.inv_issue[inv] = c, seq, s, day
    w.inv_due[inv], w.inv_amount[inv] = due, amount
    for col in (R_PAY_DAY, R_DISPUTE_DAY, R_RESOLVE_DAY, R_REVIEW_DAY, R_PLAN_DAY, R_ESCALATION_DAY, R_HELD_DAY):
        R[i, col] = NEVER
    R[i, R_DISCOUNT_DEADLINE] = -1
    R[i, R_PENDING] = P_REVIEW
    R[i, R_DISPUTED_SINCE] = -1
    R[i, R_TAKEN_UP] = 1
    R[i, R_PLAN_BROKEN_DAY] = -1
    R[i, R_PLAN_MILESTONES] = 0
    R[i, R_NEXT_OPEN] = -1
    R[i, R_HELD_ACTION] = -1
    RF[i, RF_UNMOVED] = 1.0
    # The customer's open invoices, in issue order.
    R[i, R_PREV_OPEN] = C[c, C_OPEN_TAIL]
    if C[c, C_OPEN_HEAD] < 0:
        C[c, C_OPEN_HEAD] = i
    else:
        R[C[c, C_OPEN_TAIL], R_NEXT_OPEN] = i
    C[c, C_OPEN_TAIL] = i
    return i


def _open_book(w, O) -> None:  # noqa: E741 - O holds the O_* columns
    """The opening book's invoices enter on the as-of day (as SimpyEngine._open_book), before any order.

    Each takes the target its customer's standing selects on that day (no history yet: the book's invoices are
    the first the run knows of)."""
    R = w.R
    start = w.X[X_START]
    for k in range(O.shape[0]):
        c = O[k, O_CUSTOMER]
        i = _new_row(w, c, O[k, O_SEQ], O[k, O_SEGMENT], O[k, O_BALANCE], O[k, O_ISSUE], O[k, O_DUE],
                     _profile(w, c, start))
        if i < 0:
            return
        R[i, R_PAY_DAY] = O[k, O_PAY_DAY]
        if O[k, O_DISPUTED]:
            R[i, R_DISPUTED] = 1
            R[i, R_DISPUTED_SINCE] = O[k, O_DISPUTED_SINCE]
            R[i, R_RESOLVE_DAY] = O[k, O_RESOLVE_DAY]
        R[i, R_REVIEW_DAY] = start  # the ladder goes on from the as-of day
        _schedule(w, i)


# --- decisions ----------------------------------------------------------------------------------------------

def _decide(w, i: int, point: int, day: int, goodwill: float, earliest_review: int) -> None:
    """Ask the policy and act on its answer (as SimpyEngine._apply of the rule-based policy's decision)."""
    R = w.R
    s = R[i, R_PROFILE]
    out = w.out
    n, review = rule_decision(w.p_ints[s], w.p_offsets[s], out, point, day, R[i, R_DUE], R[i, R_BALANCE],
                              R[i, R_DISPUTED] != 0, R[i, R_IN_PLAN] != 0, R[i, R_HAD_PLAN] != 0,
                              R[i, R_HAD_TERMS] != 0, R[i, R_PLAN_TERMS] != 0, R[i, R_FEES_CLAIMED] != 0,
                              R[i, R_HAD_SETTLEMENT] != 0, R[i, R_DISPUTED_SINCE], R[i, R_MEDIATED] != 0,
                              R[i, R_WAS_AT_AGENCY] != 0, R[i, R_WAS_IN_COURT] != 0, R[i, R_PLAN_BROKEN_DAY])
    _apply(w, i, day, n, review, earliest_review)  # nothing in carrying the actions out decides again


def _action_channel(w, s: int, action: int) -> int:
    """The channel of an action of profile ``s`` (a row of the policy's tables), -1 if it has none."""
    code = action % ACTION_STRIDE
    if code == A_REMIND:
        return w.p_channels[s, action // ACTION_STRIDE]
    if code == A_PLAN:
        return w.p_ints[s, PLAN_CHANNEL]
    if code == A_TERMS:
        return w.p_ints[s, TERMS_CHANNEL]
    if code == A_SETTLE:
        return w.p_ints[s, SETTLE_CHANNEL]
    return -1


def _action_kind(action: int) -> int:
    code = action % ACTION_STRIDE
    return A_PLAN if code == A_TERMS else code  # extended terms are a plan offer with milestones


def _do(w, i: int, day: int, action: int) -> None:
    """Carry out an action now, or queue it when it takes staff time and the team is limited (as SimpyEngine._do)."""
    T = w.T
    s = w.R[i, R_PROFILE]
    kind = _action_kind(action)
    minutes = work_minutes(kind, _action_channel(w, s, action), T[T_MINUTES_EMAIL], T[T_MINUTES_LETTER],
                           T[T_MINUTES_CALL])
    if T[T_LIMITED] and minutes > 0:
        _queue_push(w, work_class(kind, _action_channel(w, s, action)), day, w.R[i, R_CUSTOMER],
                    w.R[i, R_SEQ], i, action, minutes)
        return
    _execute(w, i, day, action, minutes, 0)


def _apply(w, i: int, day: int, n: int, review: int, earliest_review: int) -> None:
    """Carry out the ``n`` actions in the decision buffer, then set the next review (as SimpyEngine._apply)."""
    R = w.R
    for k in range(n):
        if R[i, R_BALANCE] == 0:
            break
        _do(w, i, day, w.out[k])
    if R[i, R_IN_PLAN] or R[i, R_ESCALATION]:
        R[i, R_REVIEW_DAY] = NEVER  # the plan, agency or court runs the invoice until it ends
        return
    if review != NO_REVIEW and R[i, R_BALANCE] > 0:
        if review < earliest_review:
            raise RuntimeError("the policy asked for a review before the earliest possible day")
        R[i, R_REVIEW_DAY] = review


def _execute(w, i: int, day: int, action: int, minutes: float, wait: int) -> None:
    """Carry out one action now (as SimpyEngine._execute)."""
    R = w.R
    p = R[i, R_PROFILE]  # the row of the policy's tables
    if R[i, R_BALANCE] == 0:
        return
    code = action % ACTION_STRIDE
    if code == A_REMIND:
        c = R[i, R_CUSTOMER]
        gap = w.p_ints[p, CONTACT_GAP]
        if contact_waits(day, w.C[c, C_CONTACT_DAY], gap):
            R[i, R_HELD_ACTION] = action  # a later step replaces it
            R[i, R_HELD_DAY] = w.C[c, C_CONTACT_DAY] + gap
            return
        _remind(w, i, day, action // ACTION_STRIDE, minutes, wait)
    elif code == A_DISCOUNT:
        _offer_discount(w, i, day)
    elif code == A_PLAN or code == A_TERMS:
        _offer_plan(w, i, day, code == A_TERMS, minutes, wait)
    elif code == A_FEES:
        _claim_fees(w, i, day, minutes, wait)
    elif code == A_SETTLE:
        _offer_settlement(w, i, day, minutes, wait)
    elif code == A_MEDIATE:
        _mediate(w, i, day, minutes, wait)
    elif code == A_AGENCY:
        _escalate(w, i, day, True, minutes, wait)
    elif code == A_LEGAL:
        _escalate(w, i, day, False, minutes, wait)
    else:  # a write-off
        _accrue_interest(w, i, day)
        R = w.R
        c = R[i, R_CUSTOMER]
        g = _goodwill_on(w, c, day)
        _record(w, day, K_WRITE_OFF, c, i, R[i, R_BALANCE], -1, -1, 0, g, g, 0.0, 0)
        R[i, R_BALANCE] = 0
        _settle_fees(w, i, day, False)
    w.R[i, R_ACTIONS] += 1


# --- what happens to an invoice ------------------------------------------------------------------------------

def _invoice_event(w, i: int, day: int, phase: int) -> None:
    if phase == PHASE_RESOLVE:
        _resolve_dispute(w, i, day)
    elif phase == PHASE_PAY:
        _pay(w, i, day)
    elif phase == PHASE_DISPUTE:
        _raise_dispute(w, i, day)
    else:
        _review(w, i, day)


def _resolve_dispute(w, i: int, day: int) -> None:
    R = w.R
    SG, BH, pref = w.SG, w.BH, w.pref
    c, q, s = R[i, R_CUSTOMER], R[i, R_SEQ], R[i, R_SEGMENT]
    R[i, R_DISPUTED] = 0
    R[i, R_RESOLVE_DAY] = NEVER
    g = _goodwill_on(w, c, day)
    _record(w, day, K_DISPUTE_RESOLVED, c, i, 0, -1, -1, 0, g, g, 0.0, 0)
    if has_merit(draw(pref, U_CREDIT_NOTE, c, q, 0), SG[s, S_CREDIT_NOTE_SHARE]):
        credit = _disputed_part(w, i)
        change = BH[B_CREDIT_NOTE_GOODWILL] * stake_factor(R[i, R_AMOUNT], SG[R[i, R_SEGMENT], S_MONTHLY])
        before, after = _change_goodwill(w, c, _account_change(w, c, change, day, False), day)
        _accrue_interest(w, i, day)
        R[i, R_BALANCE] -= credit
        _record(w, day, K_CREDIT_NOTE, c, i, credit, -1, -1, 0, before, after, 0.0, 0)
        if R[i, R_BALANCE] == 0:
            _settle_fees(w, i, day, False)
    if R[i, R_PAY_DAY] != NEVER:
        delay = exponential(draw(pref, U_RESOLUTION_PAY_DELAY, c, q, 0), BH[B_RESPONSE_DELAY])
        R[i, R_PAY_DAY] = max(R[i, R_PAY_DAY], prompted_pay_day(day, R[i, R_DUE], delay))


def _disputed_part(w, i: int) -> int:
    """Cents of the balance the invoice's dispute is about (as SimpyEngine._disputed_part)."""
    R = w.R
    c, q, s = R[i, R_CUSTOMER], R[i, R_SEQ], R[i, R_SEGMENT]
    fraction = credit_note_fraction(draw(w.pref, U_CREDIT_NOTE_FRACTION, c, q, 0), w.SG[s, S_CREDIT_NOTE_FRACTION])
    return share_of(R[i, R_BALANCE], fraction)


def _pay(w, i: int, day: int) -> None:
    R, RF = w.R, w.RF
    if R[i, R_ESCALATION]:
        _end_escalation(w, i, day)
        return
    if R[i, R_IN_PLAN]:
        _pay_instalment(w, i, day)
        return
    SG, BH, pref = w.SG, w.BH, w.pref
    s = R[i, R_SEGMENT]
    if SG[s, S_HAS_RUNS]:
        run_day = w.runs[s, day]
        if run_day != day:
            R[i, R_PAY_DAY] = run_day  # the customer's accounts payable releases it in the next payment run
            return
    c, q = R[i, R_CUSTOMER], R[i, R_SEQ]
    business = int(SG[s, S_WEEKDAY_MASK])
    if business:
        run_mask = 1 << pick_share(draw(pref, U_PAYMENT_WEEKDAY, c, 0, 0), SG[s, S_WEEKDAY_CUM:S_WEEKDAY_CUM + 7])
        release = release_day(day, R[i, R_DUE], int(SG[s, S_FIRST_WEEKDAY]), run_mask, business)
        if release != day:
            R[i, R_PAY_DAY] = release  # paid in the customer's payment run (or the due date's next payment day)
            return
    g = _goodwill_on(w, c, day)
    _accrue_interest(w, i, day)
    balance = R[i, R_BALANCE]
    if RF[i, RF_SETTLE_FORGIVE] > 0:
        forgiven = settlement_forgiven(balance, RF[i, RF_SETTLE_FORGIVE])
        RF[i, RF_SETTLE_FORGIVE] = 0.0
        if forgiven > 0:
            balance -= forgiven
            R[i, R_BALANCE] = balance
            _record(w, day, K_SETTLEMENT, c, i, forgiven, -1, -1, 0, g, g, 0.0, 0)
        paid = balance
    elif RF[i, RF_DISCOUNT_RATE] > 0 and day <= R[i, R_DISCOUNT_DEADLINE]:
        discount = discount_amount(balance, R[i, R_AMOUNT], RF[i, RF_DISCOUNT_RATE])
        if discount > 0:
            change = BH[B_DISCOUNT_GOODWILL] * stake_factor(R[i, R_AMOUNT], SG[R[i, R_SEGMENT], S_MONTHLY])
            before, after = _change_goodwill(w, c, _account_change(w, c, change, day, False), day)
            balance -= discount
            R[i, R_BALANCE] = balance
            _record(w, day, K_DISCOUNT, c, i, discount, -1, -1, 0, before, after, 0.0, 0)
            g = after
        paid = balance
    elif balance >= 2 and draw(pref, U_PARTIAL, c, q, R[i, R_PAYMENTS]) < part_share_on(
            SG[s, S_PARTIAL_SHARE], _liquidity_on(w, c, day), BH[B_STRAINED_PART]):
        fraction = part_payment_fraction(draw(pref, U_PARTIAL_FRACTION, c, q, R[i, R_PAYMENTS]), BH[B_PART_FRACTION])
        paid = min(share_of(balance, fraction), balance - 1)
    else:
        paid = balance
    R[i, R_BALANCE] = balance - paid
    R[i, R_PAYMENTS] += 1
    _record(w, day, K_PAYMENT, c, i, paid, -1, -1, 0, g, g, 0.0, 0)
    if R[i, R_BALANCE] > 0:
        R[i, R_PAY_DAY] = day + geometric_days(draw(pref, U_PARTIAL_GAP, c, q, R[i, R_PAYMENTS]),
                                               SG[s, S_PARTIAL_GAP])
    else:
        R[i, R_PAY_DAY] = NEVER
        _settle_fees(w, i, day, True)


def _pay_instalment(w, i: int, day: int) -> None:
    R = w.R
    p = R[i, R_PROFILE]  # the row of the policy's tables
    SG, BH, pref = w.SG, w.BH, w.pref
    c, q, s = R[i, R_CUSTOMER], R[i, R_SEQ], R[i, R_SEGMENT]
    g = _goodwill_on(w, c, day)
    _accrue_interest(w, i, day)
    paid_ok = draw(pref, U_INSTALMENT, c, q, R[i, R_PLAN_ATTEMPTS]) < SG[s, S_INSTALMENT_RELIABILITY]
    R[i, R_PLAN_ATTEMPTS] += 1
    n_ms = R[i, R_PLAN_MILESTONES]
    if paid_ok:
        # Extended terms pay this milestone's share of the balance agreed (the rest at the last).
        share = w.m_shares[p, n_ms - R[i, R_PLAN_LEFT]] if n_ms > 0 and not R[i, R_PLAN_DOWN] else -1.0
        amount = instalment_amount(R[i, R_BALANCE], R[i, R_PLAN_DOWN], R[i, R_PLAN_LEFT], share, R[i, R_PLAN_BASE])
        if R[i, R_PLAN_DOWN]:
            R[i, R_PLAN_DOWN] = 0
        else:
            R[i, R_PLAN_LEFT] -= 1
        R[i, R_BALANCE] -= amount
        R[i, R_PAYMENTS] += 1
        _record(w, day, K_PAYMENT, c, i, amount, -1, -1, 0, g, g, 0.0, 0)
        if R[i, R_BALANCE] == 0:
            R[i, R_IN_PLAN] = 0
            _settle_fees(w, i, day, True)
        if n_ms > 0 and R[i, R_PLAN_LEFT] > 0:
            R[i, R_PLAN_DAY] = R[i, R_PLAN_START] + w.m_days[p, n_ms - R[i, R_PLAN_LEFT]]
        else:
            R[i, R_PLAN_DAY] = day + R[i, R_PLAN_INTERVAL]
        return
    R[i, R_PLAN_MISSED] += 1
    _record(w, day, K_PLAN_MISSED, c, i, 0, -1, -1, 0, g, g, 0.0, 0)
    if R[i, R_PLAN_MISSED] <= R[i, R_PLAN_TOLERANCE]:
        R[i, R_PLAN_DAY] = day + R[i, R_PLAN_INTERVAL]
        return
    R[i, R_IN_PLAN] = 0
    R[i, R_PLAN_DAY] = NEVER
    R[i, R_PLAN_BROKEN_DAY] = day
    # What a broken plan leaves is set aside, like an invoice ignored at issue: it may be paid much later.
    if BH[B_SET_ASIDE_DAYS] > 0:
        late = set_aside_days(draw(pref, U_PLAN_DEFAULT_PAY_DAY, c, q, 0), BH[B_SET_ASIDE_NEVER],
                              BH[B_SET_ASIDE_DAYS], BH[B_SET_ASIDE_SIGMA])
        if late >= 0:
            R[i, R_PAY_DAY] = day + 1 + late
    before, after = _change_goodwill(w, c, _invoice_change(w, i, BH[B_PLAN_DEFAULT_GOODWILL], day), day)
    _record(w, day, K_PLAN_DEFAULTED, c, i, R[i, R_BALANCE], -1, -1, 0, before, after, 0.0, 0)
    R[i, R_PENDING] = P_PLAN_DEFAULTED  # the policy hears of it in today's reviews (phase 4)
    R[i, R_REVIEW_DAY] = day


def _raise_dispute(w, i: int, day: int) -> None:
    R = w.R
    SG, BH, T = w.SG, w.BH, w.T
    c, q, s = R[i, R_CUSTOMER], R[i, R_SEQ], R[i, R_SEGMENT]
    R[i, R_DISPUTED] = 1
    R[i, R_DISPUTE_DAY] = NEVER
    w.C[c, C_LAST_DISPUTE] = day
    change = BH[B_DISPUTE_GOODWILL] * stake_factor(R[i, R_AMOUNT], SG[s, S_MONTHLY])
    before, after = _change_goodwill(w, c, _account_change(w, c, change, day, True), day)
    _record(w, day, K_DISPUTE_RAISED, c, i, 0, -1, -1, 0, before, after, 0.0, 0)
    R[i, R_RESOLVE_DAY] = dispute_end_day(day, draw(w.pref, U_DISPUTE_DAYS, c, q, 0), SG[s, S_DISPUTE_DAYS],
                                        SG[s, S_DISPUTE_MIN])
    R[i, R_DISPUTED_SINCE] = day
    if T[T_LIMITED] and T[T_MINUTES_DISPUTE] > 0:
        R[i, R_TAKEN_UP] = 0  # resolution waits until a collector takes up the case
        _queue_push(w, WORK_DISPUTE, day, c, q, i, -1, T[T_MINUTES_DISPUTE])
    if not R[i, R_IN_PLAN]:
        _decide(w, i, P_DISPUTE_RAISED, day, after, day)


def _review(w, i: int, day: int) -> None:
    R = w.R
    if R[i, R_HELD_DAY] == day:
        action = R[i, R_HELD_ACTION]
        R[i, R_HELD_ACTION] = -1
        R[i, R_HELD_DAY] = NEVER
        if not (R[i, R_DISPUTED] or R[i, R_IN_PLAN]):  # a dispute or a plan since it was held: it is dropped
            _do(w, i, day, action)
        if R[i, R_REVIEW_DAY] != day:
            return  # not a day the policy asked to look again
    R[i, R_REVIEW_DAY] = NEVER
    point = R[i, R_PENDING]
    R[i, R_PENDING] = P_REVIEW
    g = _goodwill_on(w, R[i, R_CUSTOMER], day)
    _decide(w, i, point, day, g, day + 1)


def _remind(w, i: int, day: int, step: int, minutes: float, wait: int) -> None:
    R, RF = w.R, w.RF
    p = R[i, R_PROFILE]  # the row of the policy's tables
    SG, BH, pref = w.SG, w.BH, w.pref
    c, q, s = R[i, R_CUSTOMER], R[i, R_SEQ], R[i, R_SEGMENT]
    channel, tone = w.p_channels[p, step], w.p_tones[p, step]
    # One contact a day per customer: this step adds to today's only what it costs, takes and does beyond it.
    C, CF = w.C, w.CF
    same = C[c, C_CONTACT_DAY] == day
    change = BH[B_TONE_GOODWILL + tone] + BH[B_CHANNEL_GOODWILL + channel]
    cost = contact_extra_cents(same, w.p_costs[p, step], C[c, C_CONTACT_COST])
    extra_minutes = contact_extra(same, minutes, CF[c, CF_CONTACT_MINUTES])
    if same:
        C[c, C_CONTACT_COST] += cost
        CF[c, CF_CONTACT_MINUTES] += extra_minutes
    else:
        C[c, C_CONTACT_DAY], C[c, C_CONTACT_COST] = day, cost
        CF[c, CF_CONTACT_MINUTES] = extra_minutes
    stake = stake_factor(R[i, R_AMOUNT], SG[s, S_MONTHLY])
    before, after = _change_goodwill(w, c, _account_change(w, c, change * stake, day, True), day)
    _record(w, day, K_REMINDER, c, i, 0, channel, tone, cost, before, after, extra_minutes, wait)
    R[i, R_REMINDERS] += 1
    if R[i, R_DISPUTED] or R[i, R_PAY_DAY] <= day:
        return
    liquidity = _liquidity_on(w, c, day)
    if (liquidity != HEALTHY and day > R[i, R_DUE] and not R[i, R_PLAN_REQUESTED] and not R[i, R_IN_PLAN]
            and draw(pref, U_PLAN_REQUEST, c, q, 0) < BH[B_PLAN_REQUEST]):
        if _plan_requested(w, i, day):
            return
    responsiveness = responsiveness_on(SG[s, S_RESPONSIVENESS], liquidity, BH[B_STRAINED_RESPONSE],
                                       BH[B_DISTRESSED_RESPONSE])
    p = response_probability(BH[B_RESPONSE + channel], BH[B_TONE_RESPONSE + tone], responsiveness, after,
                             BH[B_GOODWILL_WEIGHT], BH[B_MAX_RESPONSE])
    p *= age_factor(day - R[i, R_DUE], BH[B_HALFLIFE])
    # One latent threshold per invoice (see behaviour.responds): the same invoice reacts alike under every policy.
    RF[i, RF_UNMOVED] = unmoved_after(RF[i, RF_UNMOVED], p)
    if responds(draw(pref, U_RESPONSE, c, q, 0), RF[i, RF_UNMOVED]):
        delay = exponential(draw(pref, U_RESPONSE_DELAY, c, q, R[i, R_RESPONSES]), BH[B_RESPONSE_DELAY])
        R[i, R_RESPONSES] += 1
        R[i, R_PAY_DAY] = min(R[i, R_PAY_DAY], prompted_pay_day(day, R[i, R_DUE], delay))


def _invoice_change(w, i: int, change: float, day: int) -> float:
    """The goodwill change of an event about invoice row ``i`` (as SimpyEngine._invoice_change)."""
    R = w.R
    stake = stake_factor(R[i, R_AMOUNT], w.SG[R[i, R_SEGMENT], S_MONTHLY])
    return _account_change(w, R[i, R_CUSTOMER], change * stake, day, True)


def _account_change(w, c: int, change: float, day: int, capped: bool) -> float:
    """The goodwill change an event on the account makes (as SimpyEngine._account_change)."""
    C, CF = w.C, w.CF
    period = day // CAP_PERIOD_DAYS
    if C[c, C_CHANGE_PERIOD] != period:
        C[c, C_CHANGE_PERIOD] = period
        CF[c, CF_PERIOD_WORST] = 0.0
        CF[c, CF_PERIOD_BEST] = 0.0
    extra = period_goodwill_extra(change, CF[c, CF_PERIOD_WORST], CF[c, CF_PERIOD_BEST])
    CF[c, CF_PERIOD_WORST] = min(CF[c, CF_PERIOD_WORST], change)
    CF[c, CF_PERIOD_BEST] = max(CF[c, CF_PERIOD_BEST], change)
    return _within_cap(w, c, extra, day) if capped else extra


def _within_cap(w, c: int, change: float, day: int) -> float:
    """The part of a goodwill change the customer's cap for the period lets through (as SimpyEngine._within_cap)."""
    C, CF = w.C, w.CF
    period = day // CAP_PERIOD_DAYS
    used = cap_used_on(period, C[c, C_CAP_PERIOD], CF[c, CF_CAP_USED])
    applied = capped_goodwill_loss(change, used, w.BH[B_CONTACT_CAP])
    C[c, C_CAP_PERIOD] = period
    CF[c, CF_CAP_USED] = used - applied if applied < 0.0 else used
    return applied


def _plan_requested(w, i: int, day: int) -> bool:
    """A strained customer asks to pay in instalments: the policy grants the plan or refuses it."""
    R = w.R
    p = R[i, R_PROFILE]  # the row of the policy's tables
    BH = w.BH
    R[i, R_PLAN_REQUESTED] = 1
    c = R[i, R_CUSTOMER]
    if not w.p_ints[p, PLAN_ON_REQUEST] or R[i, R_DISPUTED]:
        before, after = _change_goodwill(w, c, _invoice_change(w, i, BH[B_PLAN_REFUSED_GOODWILL], day), day)
        _record(w, day, K_PLAN_REQUESTED, c, i, 0, -1, -1, 0, before, after, 0.0, 0)
        return False
    g = _goodwill_on(w, c, day)
    _record(w, day, K_PLAN_REQUESTED, c, i, 0, -1, -1, 0, g, g, 0.0, 0)
    R[i, R_HAD_PLAN] = 1
    _agree_plan(w, i, day, False)
    return True


def _offer_plan(w, i: int, day: int, terms: bool, minutes: float, wait: int) -> None:
    R = w.R
    p = R[i, R_PROFILE]  # the row of the policy's tables
    SG, BH = w.SG, w.BH
    c, q, s = R[i, R_CUSTOMER], R[i, R_SEQ], R[i, R_SEGMENT]
    ints = w.p_ints[p]
    g = _goodwill_on(w, c, day)
    if terms:
        _record(w, day, K_TERMS_OFFERED, c, i, 0, ints[TERMS_CHANNEL], 0, ints[TERMS_COST], g, g,
                minutes, wait)
        R[i, R_HAD_TERMS] = 1
    else:
        _record(w, day, K_PLAN_OFFERED, c, i, 0, ints[PLAN_CHANNEL], 0, ints[PLAN_COST], g, g,
                minutes, wait)
        R[i, R_HAD_PLAN] = 1
    acceptance = plan_acceptance_on(SG[s, S_PLAN_ACCEPTANCE], _liquidity_on(w, c, day), BH[B_STRAINED_PLAN])
    if R[i, R_DISPUTED] or R[i, R_IN_PLAN] or draw(w.pref, U_PLAN_ACCEPTANCE, c, q, 0) >= acceptance:
        return
    _agree_plan(w, i, day, terms)


def _agree_plan(w, i: int, day: int, terms: bool) -> None:
    R = w.R
    p = R[i, R_PROFILE]  # the row of the policy's tables
    BH = w.BH
    c = R[i, R_CUSTOMER]
    ints = w.p_ints[p]
    before, after = _change_goodwill(w, c, _invoice_change(w, i, BH[B_PLAN_GOODWILL], day), day)
    _record(w, day, K_TERMS_AGREED if terms else K_PLAN_AGREED, c, i, R[i, R_BALANCE], -1, -1, 0,
            before, after, 0.0, 0)
    R[i, R_IN_PLAN] = 1
    R[i, R_PAY_DAY] = NEVER
    R[i, R_REVIEW_DAY] = NEVER
    R[i, R_PLAN_MISSED] = 0
    R[i, R_PLAN_ATTEMPTS] = 0
    R[i, R_PLAN_TERMS] = terms
    if terms:
        n_ms = ints[N_MILESTONES]
        R[i, R_PLAN_LEFT], R[i, R_PLAN_INTERVAL], R[i, R_PLAN_TOLERANCE] = n_ms, 0, 0
        R[i, R_PLAN_MILESTONES] = n_ms
        R[i, R_PLAN_START], R[i, R_PLAN_BASE], R[i, R_PLAN_DOWN] = day, R[i, R_BALANCE], 0
        R[i, R_PLAN_DAY] = day + w.m_days[p, 0]
    else:
        R[i, R_PLAN_LEFT] = ints[PLAN_INSTALMENTS]
        R[i, R_PLAN_INTERVAL] = ints[PLAN_INTERVAL]
        R[i, R_PLAN_TOLERANCE] = ints[PLAN_TOLERANCE]
        R[i, R_PLAN_MILESTONES] = 0
        down = plan_down_payment(R[i, R_BALANCE], w.p_floats[p, PLAN_DOWN])
        R[i, R_PLAN_DOWN] = down
        R[i, R_PLAN_DAY] = day + 1 if down else day + ints[PLAN_INTERVAL]


def _offer_discount(w, i: int, day: int) -> None:
    R, RF = w.R, w.RF
    p = R[i, R_PROFILE]  # the row of the policy's tables
    SG, BH = w.SG, w.BH
    c, q, s = R[i, R_CUSTOMER], R[i, R_SEQ], R[i, R_SEGMENT]
    rate, window = w.p_floats[p, DISCOUNT_RATE], w.p_ints[p, DISCOUNT_WINDOW]
    RF[i, RF_DISCOUNT_RATE] = rate
    R[i, R_DISCOUNT_DEADLINE] = day + window
    if R[i, R_DISPUTE_DAY] != NEVER:
        return  # a customer about to dispute the invoice does not rush to pay it
    p = discount_take_probability(SG[s, S_DISCOUNT_APPETITE], rate, BH[B_DISCOUNT_REFERENCE])
    if draw(w.pref, U_TAKE_UP, c, q, 0) < p:
        pay = day + uniform_int(draw(w.pref, U_DISCOUNT_PAY_DAY, c, q, 0), 0, window)
        R[i, R_PAY_DAY] = min(R[i, R_PAY_DAY], pay)


def _claim_fees(w, i: int, day: int, minutes: float, wait: int) -> None:
    R, RF = w.R, w.RF
    p = R[i, R_PROFILE]  # the row of the policy's tables
    if R[i, R_FEES_CLAIMED]:
        return
    s = R[i, R_SEGMENT]
    compensation = w.p_ints[p, FEE_COMPENSATION]
    R[i, R_FEES_CLAIMED] = 1
    RF[i, RF_FEE_RATE] = w.p_floats[p, FEE_RATE]
    R[i, R_FEE_COMPENSATION] = compensation
    R[i, R_INTEREST_DAY] = R[i, R_DUE]  # interest on the balance outstanding now, from the due date
    _accrue_interest(w, i, day)
    c = R[i, R_CUSTOMER]
    change = w.BH[B_FEE_GOODWILL] * stake_factor(R[i, R_AMOUNT], w.SG[s, S_MONTHLY])
    before, after = _change_goodwill(w, c, _account_change(w, c, change, day, True), day)
    _record(w, day, K_FEES_CLAIMED, c, i, compensation, -1, -1, 0, before, after, minutes, wait)


def _accrue_interest(w, i: int, day: int) -> None:
    R, RF = w.R, w.RF
    if R[i, R_FEES_CLAIMED] and day > R[i, R_INTEREST_DAY]:
        RF[i, RF_INTEREST] = accrued_interest(RF[i, RF_INTEREST], R[i, R_BALANCE], RF[i, RF_FEE_RATE],
                                              day - R[i, R_INTEREST_DAY])
        R[i, R_INTEREST_DAY] = day


def _settle_fees(w, i: int, day: int, paying: bool) -> None:
    """Claimed fees paid with the principal or waived; paid in full, the invoice joins its customer's history."""
    R, RF = w.R, w.RF
    if paying:
        C = w.C
        c = R[i, R_CUSTOMER]
        C[c, C_PAID] = push_days_late(C[c, C_LATE:C_LATE + RECENT_INVOICES], C[c, C_PAID],
                                      days_late(day, R[i, R_DUE]))
    if not R[i, R_FEES_CLAIMED]:
        return
    owed = fees_owed(R[i, R_FEE_COMPENSATION], RF[i, RF_INTEREST])
    R[i, R_FEES_CLAIMED] = 0  # settled: nothing more to pay or waive
    c, q, s = R[i, R_CUSTOMER], R[i, R_SEQ], R[i, R_SEGMENT]
    g = _goodwill_on(w, c, day)
    pays = paying and draw(w.pref, U_FEE_PAYMENT, c, q, 0) < w.SG[s, S_FEE_PAYMENT_SHARE]
    _record(w, day, K_FEES_PAID if pays else K_FEES_WAIVED, c, i, owed, -1, -1, 0, g, g, 0.0, 0)


def _offer_settlement(w, i: int, day: int, minutes: float, wait: int) -> None:
    R, RF = w.R, w.RF
    p = R[i, R_PROFILE]  # the row of the policy's tables
    SG, BH = w.SG, w.BH
    c, q, s = R[i, R_CUSTOMER], R[i, R_SEQ], R[i, R_SEGMENT]
    R[i, R_HAD_SETTLEMENT] = 1
    accepted = (not R[i, R_DISPUTED] and not R[i, R_IN_PLAN]
                and draw(w.pref, U_SETTLEMENT_ACCEPTANCE, c, q, 0) < SG[s, S_SETTLEMENT_ACCEPTANCE])
    change = BH[B_SETTLEMENT_GOODWILL] if accepted else 0.0
    before, after = _change_goodwill(w, c, _invoice_change(w, i, change, day), day)
    _record(w, day, K_SETTLEMENT_OFFERED, c, i, 0, w.p_ints[p, SETTLE_CHANNEL], 0, w.p_ints[p, SETTLE_COST],
            before, after, minutes, wait)
    if not accepted:
        return
    RF[i, RF_SETTLE_FORGIVE] = w.p_floats[p, SETTLE_FORGIVE]
    R[i, R_PAY_DAY] = min(R[i, R_PAY_DAY], prompted_delay_day(day, draw(w.pref, U_SETTLEMENT_DELAY, c, q, 0),
                                                              BH[B_RESPONSE_DELAY]))


def _mediate(w, i: int, day: int, minutes: float, wait: int) -> None:
    R = w.R
    p = R[i, R_PROFILE]  # the row of the policy's tables
    BH = w.BH
    if not R[i, R_DISPUTED] or R[i, R_MEDIATED]:
        return
    c, q = R[i, R_CUSTOMER], R[i, R_SEQ]
    R[i, R_MEDIATED] = 1
    before, after = _change_goodwill(w, c, _invoice_change(w, i, BH[B_MEDIATION_GOODWILL], day), day)
    _record(w, day, K_MEDIATION, c, i, 0, -1, -1, w.p_ints[p, MEDIATION_COST], before, after, minutes,
            wait)
    end = mediation_end(day, draw(w.pref, U_MEDIATION, c, q, 0), draw(w.pref, U_MEDIATION_DAYS, c, q, 0),
                        BH[B_MEDIATION_SUCCESS], BH[B_MEDIATION_DAYS])
    if end >= 0:
        R[i, R_RESOLVE_DAY] = min(R[i, R_RESOLVE_DAY], end)


def _escalate(w, i: int, day: int, agency: bool, minutes: float, wait: int) -> None:
    R, RF = w.R, w.RF
    p = R[i, R_PROFILE]  # the row of the policy's tables
    SG, BH, pref = w.SG, w.BH, w.pref
    c, q, s = R[i, R_CUSTOMER], R[i, R_SEQ], R[i, R_SEGMENT]
    # The agency or the court takes the account: the customer minds the first invoice handed over, not each one
    # while the account is there (as SimpyEngine._escalate).
    level = 1 if agency else 2
    news = True
    j = w.C[c, C_OPEN_HEAD]
    while j >= 0:
        if j != i and R[j, R_BALANCE] > 0 and R[j, R_ESCALATION] == level:
            news = False
            break
        j = R[j, R_NEXT_OPEN]
    change = (BH[B_AGENCY_GOODWILL] if agency else BH[B_LEGAL_GOODWILL]) if news else 0.0
    before, after = _change_goodwill(w, c, change, day)
    cost = 0 if agency else w.p_ints[p, LEGAL_COST] + court_fee(R[i, R_BALANCE], w.p_floats[p, COURT_FEE_RATE])
    _record(w, day, K_AGENCY_PLACED if agency else K_LEGAL_FILED, c, i, R[i, R_BALANCE], -1, -1,
            cost, before, after, minutes, wait)
    # The day the customer would have paid of its own accord (none while it disputes the invoice) still counts.
    own = NEVER if R[i, R_DISPUTED] else R[i, R_PAY_DAY]
    R[i, R_DISPUTE_DAY] = NEVER
    R[i, R_REVIEW_DAY] = NEVER
    R[i, R_HELD_ACTION] = -1
    R[i, R_HELD_DAY] = NEVER
    if news and BH[B_SPILLOVER] > 0:
        _spill_over(w, c, s, BH[B_SPILLOVER] * change, day)
    R = w.R
    if agency:
        R[i, R_ESCALATION], R[i, R_WAS_AT_AGENCY] = 1, 1
        RF[i, RF_AGENCY_FEE] = w.p_floats[p, AGENCY_FEE]
        pays, end = agency_outcome(day, draw(pref, U_AGENCY, c, q, 0), draw(pref, U_AGENCY_DAYS, c, q, 0),
                                   BH[B_AGENCY_SUCCESS], SG[s, S_RECOVERABILITY], BH[B_AGENCY_DAYS],
                                   int(BH[B_AGENCY_MAX_DAYS]), age_factor(day - R[i, R_DUE], BH[B_HALFLIFE]), own)
    else:
        R[i, R_ESCALATION], R[i, R_WAS_IN_COURT] = 2, 1
        R[i, R_LEGAL_COSTS] = cost
        RF[i, RF_RECOVERABLE] = w.p_floats[p, COSTS_RECOVERABLE]
        pays, end = legal_outcome(day, draw(pref, U_LEGAL_DAYS, c, q, 0), R[i, R_DISPUTED] != 0, own,
                                  BH[B_DEFAULT_JUDGMENT_DAYS], BH[B_LEGAL_DAYS])
    R[i, R_ESCALATION_PAYS] = pays
    R[i, R_ESCALATION_DAY] = end


def _spill_over(w, c: int, s: int, change: float, day: int) -> None:
    """The other active customers of the segment hear of an escalation: each one's goodwill moves a little."""
    C = w.C
    members, starts = w.members, w.starts
    for k in range(starts[s], starts[s + 1]):
        other = members[k]
        if other == c or C[other, C_ARRIVAL] > day or C[other, C_REFUSED]:
            continue
        _advance(w, other, day)
        if C[other, C_CHURN_DAY] <= day or C[other, C_INSOLVENT_DAY] <= day:
            continue
        before, after = _change_goodwill(w, other, change, day)
        if after != before:
            _record(w, day, K_REPUTATION, other, -1, 0, -1, -1, 0, before, after, 0.0, 0)


def _end_escalation(w, i: int, day: int) -> None:
    """The agency or court is done (as SimpyEngine._end_escalation)."""
    R, RF = w.R, w.RF
    c = R[i, R_CUSTOMER]
    g = _goodwill_on(w, c, day)
    agency = R[i, R_ESCALATION] == 1
    R[i, R_ESCALATION] = 0
    R[i, R_ESCALATION_DAY] = NEVER
    _accrue_interest(w, i, day)
    pays = R[i, R_ESCALATION_PAYS] != 0
    claimed = R[i, R_BALANCE]
    if not agency and not pays:  # judgment day
        if R[i, R_DISPUTED] and not _court_decides(w, i, day, g):
            return  # the court credited the whole balance
        BH, s = w.BH, R[i, R_SEGMENT]
        factor = responsiveness_on(1.0, _liquidity_on(w, c, day), BH[B_STRAINED_RESPONSE], BH[B_DISTRESSED_RESPONSE])
        pays = judgment_paid(draw(w.pref, U_JUDGMENT_PAID, c, R[i, R_SEQ], 0), BH[B_JUDGMENT_PAID],
                             w.SG[s, S_RECOVERABILITY], factor, R[i, R_PAY_DAY] != NEVER)
    if pays:
        amount = R[i, R_BALANCE]
        fee = agency_fee(amount, RF[i, RF_AGENCY_FEE]) if agency else 0
        R[i, R_BALANCE] = 0
        R[i, R_PAY_DAY] = NEVER
        _record(w, day, K_AGENCY_COLLECTED if agency else K_LEGAL_COLLECTED, c, i, amount, -1, -1,
                fee, g, g, 0.0, 0)
        if not agency:
            recovered = costs_recovered(R[i, R_LEGAL_COSTS], RF[i, RF_RECOVERABLE], amount, claimed)
            if recovered > 0:
                _record(w, day, K_COSTS_RECOVERED, c, i, recovered, -1, -1, 0, g, g, 0.0, 0)
        _settle_fees(w, i, day, True)
        return
    _record(w, day, K_AGENCY_RETURNED if agency else K_LEGAL_ENDED, c, i, R[i, R_BALANCE], -1, -1,
            0, g, g, 0.0, 0)
    R[i, R_PENDING] = P_ESCALATION_ENDED  # the policy hears of it in today's reviews (phase 4)
    R[i, R_REVIEW_DAY] = day
    if R[i, R_DISPUTED] and R[i, R_RESOLVE_DAY] <= day:
        R[i, R_RESOLVE_DAY] = day + 1


def _court_decides(w, i: int, day: int, g: float) -> bool:
    """The court resolves a defended claim's dispute (as SimpyEngine._court_decides)."""
    R = w.R
    c, q, s = R[i, R_CUSTOMER], R[i, R_SEQ], R[i, R_SEGMENT]
    R[i, R_DISPUTED] = 0
    R[i, R_RESOLVE_DAY] = NEVER
    _record(w, day, K_DISPUTE_RESOLVED, c, i, 0, -1, -1, 0, g, g, 0.0, 0)
    if has_merit(draw(w.pref, U_CREDIT_NOTE, c, q, 0), w.SG[s, S_CREDIT_NOTE_SHARE]):
        credit = _disputed_part(w, i)
        R[i, R_BALANCE] -= credit
        _record(w, day, K_CREDIT_NOTE, c, i, credit, -1, -1, 0, g, g, 0.0, 0)
        if R[i, R_BALANCE] == 0:
            _settle_fees(w, i, day, False)
            return False
    return True


def _insolvency(w, c: int, day: int) -> None:
    """The customer fails: every open balance is lost, and it orders no more."""
    C = w.C
    if C[c, C_ARRIVAL] > day or C[c, C_REFUSED]:
        return  # never became our customer: its failure is not ours to record
    _record(w, day, K_INSOLVENT, c, -1, 0, -1, -1, 0, NAN, NAN, 0.0, 0)
    g = _goodwill_on(w, c, day)
    i = C[c, C_OPEN_HEAD]
    while i >= 0:
        R = w.R
        nxt = R[i, R_NEXT_OPEN]  # read first: a closed invoice's row is released
        if R[i, R_BALANCE] != 0:
            _accrue_interest(w, i, day)
            _record(w, day, K_INSOLVENCY_LOSS, c, i, R[i, R_BALANCE], -1, -1, 0, g, g, 0.0, 0)
            R[i, R_BALANCE] = 0
            R[i, R_ESCALATION] = 0
            _settle_fees(w, i, day, False)
            _schedule(w, i)
        i = nxt


# --- the team -------------------------------------------------------------------------------------------

def _serve(w, day: int) -> None:
    """Serve the day's queue from the team's minutes (as SimpyEngine._serve).

    The queue is a heap in service order, so a day costs the tasks it serves (times the log of the backlog)
    and a backlog of thousands (a team overloaded for months) is not walked once a day."""
    T = w.T
    counts = w.counts
    queue, queuef, heap = w.Q, w.QF, w.QH
    daily = T[T_DAILY_MINUTES]
    left = daily
    while counts[N_QUEUE] > 0:
        task = heap[0, H_TASK]
        row = queue[task, Q_INVOICE]
        R = w.R
        if R[row, R_ID] != queue[task, Q_ID]:
            _queue_pop(w)  # its invoice closed with nothing left for the team to do, and its row was let go
            continue
        action = queue[task, Q_ACTION]
        minutes = queuef[task]
        if action < 0:
            needed = R[row, R_DISPUTED] != 0 and R[row, R_TAKEN_UP] == 0
        else:
            needed = still_needed(_action_kind(action), R[row, R_BALANCE], R[row, R_ESCALATION],
                                  R[row, R_IN_PLAN] != 0)
        if not needed:
            _queue_pop(w)
            if R[row, R_BALANCE] <= 0:
                _release(w, row)
            continue
        needed = minutes
        if action >= 0 and action % ACTION_STRIDE == A_REMIND:
            c = R[row, R_CUSTOMER]
            if contact_waits(day, w.C[c, C_CONTACT_DAY], w.p_ints[R[row, R_PROFILE], CONTACT_GAP]):
                needed = 0.0  # it will wait for the gap (held by _execute), taking no time today
            else:
                needed = contact_extra(w.C[c, C_CONTACT_DAY] == day, minutes, w.CF[c, CF_CONTACT_MINUTES])
        if needed > left and left < daily:
            return  # strict priority: nothing overtakes the first item that does not fit; the rest wait
        left -= needed  # a task longer than a whole day takes a day nobody has touched yet
        wait = day - queue[task, Q_REQUESTED]
        _queue_pop(w)
        if action < 0:
            R[row, R_TAKEN_UP] = 1
            R[row, R_RESOLVE_DAY] = max(R[row, R_RESOLVE_DAY], day + 1)
            c = R[row, R_CUSTOMER]
            g = _goodwill_on(w, c, day)
            _record(w, day, K_DISPUTE_TAKEN_UP, c, row, 0, -1, -1, 0, g, g, minutes, wait)
        else:
            _execute(w, row, day, action, minutes, wait)
        _schedule(w, row)


# --- liquidity ------------------------------------------------------------------------------------------

def liquidity_kernel(pref, segment, p_strain, p_distress, recover, undistress, insolvency, states, insolvent_day):
    """Every customer's monthly liquidity path, as :func:`collectsim.model.liquidity.liquidity_paths` walks it:
    the same rule (:func:`~collectsim.model.liquidity.liquidity_step`, compiled) on the same draws, one
    customer at a time. ``p_strain`` and ``p_distress`` per (block, segment), the others per segment. Fills
    ``states`` (customers x blocks) and ``insolvent_day`` (NEVER where none)."""
    n, blocks = states.shape
    block_days = 30
    for c in range(n):
        s = segment[c]
        state = HEALTHY
        for b in range(blocks):
            new = liquidity_step(state, draw(pref, U_LIQUIDITY, c, b, 0), p_strain[b, s], recover[s],
                                 p_distress[b, s], undistress[s], draw(pref, U_INSOLVENCY, c, b, 0), insolvency[s])
            if new == INSOLVENT and state != INSOLVENT:
                insolvent_day[c] = b * block_days + uniform_int(draw(pref, U_INSOLVENCY_DAY, c, b, 0), 0,
                                                                block_days - 1)
            states[c, b] = new
            state = new


# --- the run ------------------------------------------------------------------------------------------------

def run_kernel(M, P, C, CF, capacity, first, last, part):
    """One run: ``M`` the model's tables, ``P`` the policy's, ``C``/``CF`` the customers' state (changed in place),
    for the customers ``first`` to ``last - 1``: all of them, or (``part`` true) a part of a run whose customers do
    not meet (see :func:`collectsim.engines.compiled_engine.run_parts`); a part's log also records each row's phase.

    ``M`` = (segment parameters, behaviour, team, segment members, members' starts, liquidity states,
    payment-run days, end-of-month days, the seed's draw prefixes, run scalars, the opening book's invoices as
    :func:`collectsim.model.opening.opening_invoices` gives them); ``P`` = (policy ints, policy floats, step
    offsets, step costs, step channels, step tones, milestone days, milestone shares, targets' selectors);
    ``capacity`` = rows of (invoices, log, heap, queue); the open invoices' state takes at most as many rows as
    the invoices (only those ever open at once are touched).

    Returns the invoice table and the log, each a tuple of columns in the order and dtypes of ``InvoiceTable`` and
    ``EventLog`` (the loop writes them so, one row per invoice and per event: no copy is made of them afterwards),
    the counters, and (a part only; else empty) each log row's phase; when ``counters[N_OVERFLOW]`` is not 0 an
    array ran out of room and the run stopped early, to be repeated with more.
    """
    X = M[9]
    end = X[X_END]
    for c in range(first, last):
        CF[c, CF_THRESHOLD] = churn_threshold(draw(M[8], U_CHURN, c, 0, 0))
    R = np.empty((capacity[0], R_WIDTH), dtype=np.int64)
    invoices, rows = capacity[0], capacity[1]
    counts = np.zeros(N_WIDTH, dtype=np.int64)
    counts[N_DAY] = -1
    counts[N_FREE] = -1
    counts[N_ROW_FREE] = -1
    counts[N_QUEUE_FREE] = -1
    phase_rows = rows if part else 0
    # The arrays the run owns (its state, the invoice table's and the log's columns): alive until it returns.
    state = (R, np.empty((capacity[0], RF_WIDTH), dtype=np.float64), np.empty((capacity[3], Q_WIDTH), dtype=np.int64),
             np.empty(capacity[3], dtype=np.float64), np.empty((capacity[3], H_WIDTH), dtype=np.int64),
             np.empty((capacity[2], E_WIDTH), dtype=np.int64), np.empty((capacity[2], 2), dtype=np.int64),
             np.full(end + 1, -1, dtype=np.int64), np.zeros(8, dtype=np.int64), counts)
    table = (np.empty(invoices, dtype=np.int32), np.empty(invoices, dtype=np.int32),
             np.empty(invoices, dtype=np.int32), np.empty(invoices, dtype=np.int32),
             np.empty(invoices, dtype=np.int32), np.empty(invoices, dtype=np.int64),
             np.empty(invoices, dtype=np.float64), np.empty(invoices, dtype=np.int32),
             np.empty(invoices, dtype=np.int64))
    log = (np.empty(rows, dtype=np.int32), np.empty(rows, dtype=np.int8), np.empty(rows, dtype=np.int32),
           np.empty(rows, dtype=np.int32), np.empty(rows, dtype=np.int64), np.empty(rows, dtype=np.int8),
           np.empty(rows, dtype=np.int8), np.empty(rows, dtype=np.int64), np.empty(rows, dtype=np.float64),
           np.empty(rows, dtype=np.float64), np.empty(rows, dtype=np.float64), np.empty(rows, dtype=np.int32),
           np.empty(phase_rows, dtype=np.int8))
    b = borrowed
    world = World(b(M[0]), b(M[1]), b(M[2]), b(M[3]), b(M[4]), b(M[5]), b(M[6]), b(M[7]), b(M[8]), b(X),
              b(P[0]), b(P[1]), b(P[2]), b(P[3]), b(P[4]), b(P[5]), b(P[6]), b(P[7]), b(P[8]),
              b(C), b(CF), b(state[0]), b(state[1]), b(state[2]), b(state[3]), b(state[4]), b(state[5]),
              b(state[6]), b(state[7]), b(state[8]), b(state[9]),
              b(table[0]), b(table[1]), b(table[2]), b(table[3]), b(table[4]), b(table[5]), b(table[6]),
              b(table[7]), b(table[8]),
              b(log[0]), b(log[1]), b(log[2]), b(log[3]), b(log[4]), b(log[5]), b(log[6]), b(log[7]), b(log[8]),
              b(log[9]), b(log[10]), b(log[11]), b(log[12]))
    w = unowned(world)  # what the handlers are given: see collectsim.engines.borrowed
    for c in range(first, last):
        C[c, C_OPEN_HEAD] = -1
        C[c, C_OPEN_TAIL] = -1
        if C[c, C_INSOLVENT_DAY] < end:
            _heap_push(w, C[c, C_INSOLVENT_DAY], _order_key(c) - 1, EV_INSOLVENCY, c, 0)
        if C[c, C_ARRIVAL] > X[X_START]:
            _heap_push(w, C[c, C_ARRIVAL], _order_key(c), EV_ORDER, c, 0)
        else:
            _order(w, c, 0)  # the opening portfolio: its first order is drawn at the start
    _open_book(w, M[10])
    limited = w.T[T_LIMITED] != 0
    team_day = 0
    E = w.E
    while counts[N_OVERFLOW] == 0:
        next_day = _next_day(w, end)
        if limited and team_day < next_day:
            _serve(w, team_day)  # the team's day, after all of the day's other events
            team_day += 1
            continue
        if next_day >= end:
            break
        if counts[N_DH] == 0:
            _load_day(w, next_day)
            counts[N_LATEST] = 0
        slot = _day_pop(w)
        day, key, kind, index, gen = next_day, E[slot, E_KEY], E[slot, E_KIND], E[slot, E_INDEX], E[slot, E_GEN]
        E[slot, E_NEXT] = counts[N_FREE]  # the row is free for the next wake-up
        counts[N_FREE] = slot
        counts[N_LATEST] = max(counts[N_LATEST], key)  # a wake-up queued for today below it is handled next
        if kind == EV_INVOICE:
            if gen != R[index, R_GEN]:
                continue  # superseded: the invoice was rescheduled
            _invoice_event(w, index, day, key >> 60)
            _schedule(w, index)
        elif kind == EV_ORDER:
            _order(w, index, day)
        else:
            _insolvency(w, index, day)
    for c in range(first, last):
        if not C[c, C_REFUSED]:
            _advance(w, c, end - 1)  # churns after the last touch, goodwill at the end
    for i in range(counts[N_ROW_TOP]):
        if R[i, R_ID] >= 0:
            _write_out(w, i)  # still open at the end
    m = counts[N_LOG]
    k = counts[N_ROWS]
    _still_alive(world, state)  # the world and its state's arrays, which the handlers borrow, outlive them
    return ((table[0][:k], table[1][:k], table[2][:k], table[3][:k], table[4][:k], table[5][:k], table[6][:k],
             table[7][:k], table[8][:k]),
            (log[0][:m], log[1][:m], log[2][:m], log[3][:m], log[4][:m], log[5][:m], log[6][:m], log[7][:m],
             log[8][:m], log[9][:m], log[10][:m], log[11][:m]), counts, log[12][:m])
