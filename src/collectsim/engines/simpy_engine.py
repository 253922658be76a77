"""The SimPy engine: a receivables portfolio lived through day by day.

Picture the credit controller's desk. Each morning new invoices go out; during the day disputes get
settled, payments arrive, customers raise disputes, and the controller works through the invoices
the policy says to look at today: reminders, write-offs. Each customer orders in its own rhythm and
each invoice is a SimPy process that sleeps until its next event: a payment the customer intends, a
dispute, a resolution, or the next review the policy asked for. Only that next event is in the heap.

**Same-day order** (fixed, so results never depend on the order SimPy happened to schedule things).
Within a day events run by phase, and within a phase by customer id, then invoice sequence number:

  0. orders: new invoices are issued (and the policy decides the terms, e.g. a discount offer);
  1. disputes are resolved (a credit note, or the customer accepts the invoice);
  2. payments arrive (in full, in part, in full less an early-payment discount, or as a plan
     instalment); instalments are missed and plans broken;
  3. customers raise disputes;
  4. reviews: the policy acts (reminders, plan offers, write-offs, its answer to a broken plan);
  5. with a limited team (``[team] staff`` > 0): the team works through the day's queue.

**Team capacity.** With unlimited capacity (the default) every action is done when the policy asks.
With ``staff`` people, each action that takes staff time (calls, letters and other paperwork, emails,
taking up a dispute case) joins a queue, and at the end of each day the team serves it from that day's
minutes in a fixed priority order: dispute cases, then calls, then letters and paperwork, then emails;
within a class the oldest request first, then by customer id and invoice sequence. Service is strict:
the first item that does not fit ends the day, and the rest waits (a task longer than a whole day's
time is done on a day the team has not yet touched, and uses it up). Items no longer needed (the invoice
was paid, escalated or put on a plan) are dropped. The log records each item's minutes and wait.

**Contact per customer.** A customer's reminders on one day are one contact: it costs, takes staff time and moves
goodwill as its dearest or harshest step does (the others add nothing). A policy may ask for a least gap between
contacts (``reminders.min_gap_days``); a reminder due sooner waits, and goes out on the first day the gap allows.

**What the policy sees of a customer.** A policy may treat customers differently by their standing on the ledger
(``[[policy.targets]]``: open balance, recent days late, days overdue, disputes, risk band, tenure; see
:mod:`collectsim.model.standing`). The engine keeps each customer's payment history (the days late of its last
invoices paid in full, recorded when the last payment comes) and the day of its last dispute, reads the rest from
its open invoices, and asks the decision maker for a profile when an invoice is issued (phase 0, so from the
standing left by the days before; the invoice keeps it to the end), when a new customer arrives and at each order.

**Goodwill follows the account.** Within a 30-day period a customer minds its worst experience, not how many it had:
a reminder, fee claim or dispute moves goodwill only by what it adds beyond the period's worst so far (gains alike),
each weighed by the invoice against the customer's usual month of purchases (at most 1), and losses to chasing and
friction are capped per period. A hand-over to an agency or court hurts once while the account is there.

**Customers over time.** Goodwill moves with events and between them relaxes back toward
the customer's baseline. It sets the pace of ordering (the gap to the next order is drawn at each
order from the current goodwill) and a churn hazard; each customer leaves once its integrated hazard
passes its own exponential threshold (a counter-based draw), at the start of that day: it orders no
more, while its open invoices are still collected. Goodwill and hazard are brought up to date only
when a customer is touched, using the exact recovery curve, so no daily process per customer is needed.

Anything an event causes happens on a later (day, phase): a reminder that works brings the payment
the next day at the earliest. Every random number is a counter-based draw keyed by
(seed, purpose, customer, invoice sequence, step), so no event order or policy choice shifts another
invoice's draws. Money is integer cents throughout.
"""

from __future__ import annotations

from array import array

import numpy as np
import simpy
from simpy.events import Event

from collectsim.config import business_calendar
from collectsim.config.policy_spec import CHANNELS, TONES
from collectsim.config.scenario import Scenario, terms_choices, weekday_cumulative, weekday_mask
from collectsim.model import behaviour as rules
from collectsim.model import standing as ledger
from collectsim.model.behaviour import WORK_DISPUTE
from collectsim.model.decisions import Action, ActionKind, Decision, DecisionMaker, Point, Standing
from collectsim.model.draws import Purpose, exponential, geometric_days, lognormal, normal_ppf, u, uniform_int
from collectsim.model.liquidity import BLOCK_DAYS, DISTRESSED, HEALTHY, INSOLVENT, STRAINED, liquidity_paths
from collectsim.model.opening import (
    O_BALANCE,
    O_CUSTOMER,
    O_DISPUTED,
    O_DISPUTED_SINCE,
    O_DUE,
    O_ISSUE,
    O_PAY_DAY,
    O_RESOLVE_DAY,
    O_SEQ,
    opening_gone,
    opening_invoices,
)
from collectsim.model.portfolio import Customers, make_customers
from collectsim.results.eventlog import EventKind, EventLog
from collectsim.results.invoices import COLUMNS as INVOICE_COLUMNS
from collectsim.results.invoices import InvoiceTable

NEVER = 1 << 62
PHASE_ORDER, PHASE_RESOLVE, PHASE_PAY, PHASE_DISPUTE, PHASE_REVIEW, PHASE_TEAM = range(6)

_PRIORITY_BASE = 2  # above SimPy's URGENT (0) and NORMAL (1)


class EngineError(RuntimeError):
    """A decision maker asked for something the engine cannot do."""


#: Draws every order takes, keyed by (customer, order number) alone: looked up in _OrderDraws blocks.
_ORDER_PURPOSES = (Purpose.ORDER_GAP, Purpose.INVOICE_AMOUNT, Purpose.DISPUTE, Purpose.IGNORES_INVOICE,
                   Purpose.PAYMENT_LATENESS, Purpose.RESPONSE, Purpose.PARTIAL_PAYMENT, Purpose.DISCOUNT_TAKE_UP)
D_GAP, D_AMOUNT, D_DISPUTE, D_IGNORES, D_LATENESS, D_RESPONSE, D_PARTIAL, D_DISCOUNT = range(len(_ORDER_PURPOSES))


class _OrderDraws:
    """``u(seed, purpose, customer, seq)`` for the purposes in ``_ORDER_PURPOSES``, computed a block at a time.

    One by one, these Python big-integer mixes were the engine's costliest step (about 8 per invoice). A
    block covers 64 customers x 16 order numbers and is computed by u's array path, which gives the same
    bits as its scalar path (see collectsim.model.draws and its tests), so no number changes. Blocks are needed
    while orders are placed (later draws are copied onto the invoice), so a bounded first-in-first-out
    cache suffices; a block dropped too early is simply computed again (a draw is a function of its key).
    """

    __slots__ = ("_seed", "_blocks", "_limit", "_purposes")
    _C_BITS, _S_BITS = 6, 4  # 64 customers, 16 order numbers

    def __init__(self, seed: int, customers: int) -> None:
        self._seed = seed
        self._blocks: dict[tuple[int, int], array] = {}
        self._limit = 4 * ((customers >> self._C_BITS) + 1) + 16
        self._purposes = np.asarray([int(p) for p in _ORDER_PURPOSES], dtype=np.int64)[:, None, None]

    def __call__(self, k: int, customer: int, seq: int) -> float:
        """The uniform of purpose ``_ORDER_PURPOSES[k]`` for the customer's order number ``seq``."""
        key = (customer >> 6, seq >> 4)
        block = self._blocks.get(key) or self._fill(key)
        return block[(k << 10) | ((customer & 63) << 4) | (seq & 15)]

    def _fill(self, key: tuple[int, int]) -> array:
        if len(self._blocks) >= self._limit:
            del self._blocks[next(iter(self._blocks))]  # the oldest block
        c0, s0 = key[0] << self._C_BITS, key[1] << self._S_BITS
        customers = np.arange(c0, c0 + 64, dtype=np.int64)[None, :, None]
        seqs = np.arange(s0, s0 + 16, dtype=np.int64)[None, None, :]
        block = self._blocks[key] = array("d", u(self._seed, self._purposes, customers, seqs).tobytes())
        return block


class _Wake(Event):
    """A timeout that sorts by (day, our phase/customer/invoice key) instead of insertion order."""

    def __init__(self, env: simpy.Environment, delay: int, priority: int) -> None:
        if delay < 0:  # the same-day order would not hold (SimPy itself would go back in time)
            raise EngineError(f"an event was scheduled {-delay} day(s) before today, day {env.now}")
        self.env = env
        self.callbacks = []
        self._value = None
        self._ok = True
        env.schedule(self, priority, delay)


def _priority(phase: int, customer: int, seq: int) -> int:
    return _PRIORITY_BASE + (phase << 60) + (customer << 28) + seq


class Invoice:
    """An invoice's state while the run goes on (also the view a decision maker reads)."""

    __slots__ = ("row", "customer", "seq", "segment", "profile", "amount", "balance", "issue_day", "due_day",
                 "disputed", "reminders_sent", "actions_taken", "payments", "pay_day", "dispute_day",
                 "resolve_day", "review_day", "discount_rate", "discount_deadline", "unmoved", "responses",
                 "in_plan", "had_plan", "plan_day", "plan_left", "plan_interval", "plan_tolerance",
                 "plan_missed", "plan_attempts", "plan_down",
                 "fees_claimed", "fee_rate", "fee_compensation", "interest", "interest_day",
                 "had_settlement_offer", "settle_forgive", "disputed_since", "mediated", "escalation",
                 "was_at_agency", "was_in_court", "escalation_day", "escalation_pays", "agency_fee", "pending",
                 "proc", "taken_up", "plan_requested", "plan_broken_day", "had_terms", "plan_terms", "plan_schedule",
                 "plan_start", "plan_base", "u_response", "u_partial", "held_action", "held_day", "legal_costs",
                 "legal_recoverable")

    def __init__(self, row: int, customer: int, seq: int, segment: int, amount: int,
                 issue_day: int, due_day: int) -> None:
        self.row, self.customer, self.seq, self.segment = row, customer, seq, segment
        self.profile = segment  # the version of the policy that applies (set at issue: DecisionMaker.profile)
        self.amount = self.balance = amount
        self.issue_day, self.due_day = issue_day, due_day
        self.disputed = False
        self.reminders_sent = self.actions_taken = self.payments = 0
        self.pay_day = self.dispute_day = self.resolve_day = self.review_day = NEVER
        self.discount_rate = 0.0
        self.discount_deadline = -1
        self.unmoved = 1.0  # chance that no reminder so far would have moved the customer
        self.responses = 0
        self.in_plan = self.had_plan = False
        self.plan_day = NEVER
        self.plan_left = self.plan_interval = self.plan_tolerance = self.plan_missed = self.plan_attempts = 0
        self.plan_down = 0  # cents due as down payment at the first plan day (0: none)
        self.had_terms = self.plan_terms = False
        self.plan_schedule: tuple[tuple[int, float], ...] = ()  # extended terms' milestones (empty for a plan)
        self.plan_start = self.plan_base = 0  # day the terms were agreed, balance then
        self.pending = Point.REVIEW  # what the next review tells the policy (a broken plan, an ended escalation)
        self.fees_claimed = self.had_settlement_offer = False
        self.fee_rate = 0.0
        self.fee_compensation = 0
        self.interest = 0.0  # statutory interest accrued, in (fractional) cents, up to interest_day
        self.interest_day = 0
        self.settle_forgive = 0.0  # share of the balance forgiven at the next payment (accepted settlement)
        self.disputed_since = -1
        self.mediated = self.was_at_agency = self.was_in_court = False
        self.escalation = 0  # 0 with us, 1 with an agency, 2 in court
        self.escalation_day = NEVER  # when the agency or the court case ends
        self.escalation_pays = False
        self.agency_fee = 0.0
        self.legal_costs = 0  # cents paid at filing (lawyer and court fee), part of which a paid claim repays
        self.legal_recoverable = 0.0
        self.proc = None  # the SimPy process living this invoice
        self.taken_up = True  # False while a dispute waits for a collector (limited team only)
        self.plan_requested = False
        self.plan_broken_day = -1
        self.u_response = self.u_partial = 0.0  # its RESPONSE and first PARTIAL_PAYMENT uniforms (set at issue)
        self.held_action: Action | None = None  # a reminder waiting for the customer's contact gap to pass
        self.held_day = NEVER  # the day it goes out

    def final_row(self) -> tuple:
        """This invoice's row of the invoice table, in the order of ``invoices.COLUMNS``."""
        return (self.customer, self.seq, self.segment, self.issue_day, self.due_day, self.amount,
                self.discount_rate, self.discount_deadline, self.balance)

    def next_event(self) -> tuple[int, int]:
        """(day, phase) of the earliest pending event; NEVER if none.

        The earliest (day, phase) pair among the candidates below and (NEVER, review); written out as
        comparisons rather than a min() over tuples because it runs once per event.
        """
        if self.escalation:
            return (self.escalation_day, PHASE_PAY)  # out of our hands until the agency or court is done
        review = self.review_day if self.review_day <= self.held_day else self.held_day
        if self.disputed:
            if self.taken_up and self.resolve_day <= review:
                best = (self.resolve_day, PHASE_RESOLVE)
            else:
                best = (review, PHASE_REVIEW)
        else:
            pay = self.plan_day if self.in_plan else self.pay_day
            dispute = self.dispute_day
            if pay <= dispute and pay <= review:
                best = (pay, PHASE_PAY)
            elif dispute <= review:
                best = (dispute, PHASE_DISPUTE)
            else:
                best = (review, PHASE_REVIEW)
        return best if best[0] <= NEVER else (NEVER, PHASE_REVIEW)


class SimpyEngine:
    """Runs one scenario under one decision maker with one seed."""

    def __init__(self, scenario: Scenario, decider: DecisionMaker, seed: int,
                 customers: Customers | None = None) -> None:
        self.scenario = scenario
        self.decider = decider
        self.seed = int(seed)
        self.customers = customers if customers is not None else make_customers(scenario, self.seed)
        self.env = simpy.Environment()
        self.log = EventLog()
        n = len(self.customers)
        self.goodwill = self.customers.goodwill_baseline.astype(float).tolist()  # as of _anchor_day
        self._baseline = self.customers.goodwill_baseline.astype(float).tolist()
        self._arrival = self.customers.arrival_day.tolist()
        self._anchor_day = list(self._arrival)  # goodwill and churn start when the customer does
        self._refused = [False] * n  # applicants turned down at their credit check
        self._limit = [0] * n  # credit limit in cents set at onboarding (0: none)
        self._hazard = [0.0] * n  # integrated churn hazard up to _anchor_day
        churn_draws = u(self.seed, Purpose.CHURN, np.arange(n, dtype=np.int64)).tolist()
        self._threshold = [rules.churn_threshold(p) for p in churn_draws]
        self.churn_day = [NEVER] * n
        self._rows: list[Invoice | tuple] = []  # an Invoice, or once settled its final_row()
        self._end = scenario.horizon.total_days
        self._issue_end = scenario.horizon.measured_end
        segs = scenario.portfolio.segments
        self._segments = segs
        self._members = [np.flatnonzero(self.customers.segment == i).tolist() for i in range(len(segs))]
        self._start_date = scenario.horizon.start_date
        runs = [business_calendar.next_run_days(self._end, seg.payment_run, seg.payment_run_day, self._start_date)
                for seg in segs]
        self._next_run = [None if r is None else r.tolist() for r in runs]  # first run day on or after each day
        # Payment weekdays (running shares, the mask of weekdays anyone pays on) and each segment's terms mix.
        self._weekdays = [(weekday_cumulative(seg), weekday_mask(seg)) for seg in segs]
        self._first_weekday = self._start_date.weekday()
        self._terms = [terms_choices(seg) for seg in segs]
        self._habit = self.customers.habit_days_late.tolist()
        self._segment_of = self.customers.segment.tolist()
        b = scenario.behaviour
        self._response_by_channel = tuple(getattr(b.response, c) for c in CHANNELS)
        self._response_by_tone = tuple(getattr(b.tone_response, t) for t in TONES)
        self._goodwill_by_tone = tuple(getattr(b.tone_goodwill, t) for t in TONES)
        self._goodwill_by_channel = tuple(getattr(b.channel_goodwill, c) for c in CHANNELS)
        self._b = b
        team = scenario.team
        self._daily_minutes = team.daily_minutes
        self._team = team
        self._queue: list[tuple] = []
        self._work = (0.0, 0)  # (minutes, wait) of the action being carried out, for the log
        self._tau = b.goodwill_recovery_days
        self._liquidity = liquidity_paths(scenario, self.seed, self.customers.segment)
        # Plain lists for per-event look-ups, the failing month read as distressed (insolvency starts on its day).
        states = self._liquidity.states
        self._liquidity_states = np.where(states == INSOLVENT, DISTRESSED, states).tolist()
        self._insolvent_day = self._liquidity.insolvency_day.tolist()
        self._last_block = self._liquidity.states.shape[1] - 1
        self._open: list[list[Invoice]] = [[] for _ in range(n)]  # invoices per customer, for insolvency
        self._daily_churn = [rules.daily_churn_hazard(seg.churn_per_year) for seg in segs]
        # Per-customer copies of segment parameters read at nearly every event (plain list look-ups).
        self._customer_churn = [self._daily_churn[s] for s in self._segment_of]
        self._sensitivity = [segs[s].goodwill_sensitivity for s in self._segment_of]
        self._churn_slope = b.churn_goodwill_slope
        self._draw = _OrderDraws(self.seed, n)
        # Contact with each customer (see rules.contact_waits): the day of the last one, what today's has cost,
        # taken in staff minutes and done to goodwill so far, and goodwill lost to contacts in the cap's period.
        self._gap: dict[int, int] = {}  # the decider's contact_gap and invoicing by profile, asked once each
        self._invoicing: dict[int, tuple[bool, bool]] = {}
        # What the ledger shows of each customer beyond its open invoices (collectsim.model.standing): the days late
        # of its last invoices paid in full (a ring), how many it has paid, the day of its last dispute.
        self._late = [[0] * ledger.RECENT_INVOICES for _ in range(n)]
        self._paid = [0] * n
        self._last_dispute = [ledger.NO_DISPUTE] * n
        self._since = list(self._arrival)  # the day its tenure counts from
        self._contact_day = [-NEVER] * n
        self._contact_cost = [0] * n
        self._contact_minutes = [0.0] * n
        self._monthly = [rules.monthly_purchases(seg.amount_median, seg.orders_per_year) for seg in segs]
        self._period_worst = [0.0] * n  # the worst goodwill loss and best gain on the account in _change_period
        self._period_best = [0.0] * n
        self._change_period = [-1] * n
        self._cap_period = [-1] * n
        self._cap_used = [0.0] * n
        # An opening book (collectsim.model.opening): its customers trade from the as-of day, after their open
        # invoices' sequence numbers.
        book = scenario.opening
        self._start_day = book.day if book is not None else 0
        self._first_seq = [0] * n
        if book is not None:
            self._first_seq[:book.customers] = book.first_seq().tolist()
            if book.since is not None:  # what the ledger shows of the opening customers' past
                m = book.customers
                self._since[:m], self._paid[:m] = book.since.tolist(), book.paid_count.tolist()
                self._last_dispute[:m] = book.last_dispute.tolist()
                self._late[:m] = book.late_ring.tolist()
            for c, day in enumerate(opening_gone(scenario, self.seed).tolist()):
                if day >= 0:  # gone before the as-of day: churned, it orders no more (collectsim.model.opening)
                    self.churn_day[c] = day

    # --- running -------------------------------------------------------------------------------------

    def run(self) -> tuple[Customers, InvoiceTable, EventLog, np.ndarray]:
        """Simulate the whole horizon; return customers, invoices, the frozen log and final goodwill."""
        self._open_book()
        for customer in range(len(self.customers)):
            self.env.process(self._orders(customer))
        if self._daily_minutes is not None:
            self.env.process(self._team_days())
        for customer, day in enumerate(self._liquidity.insolvency_day.tolist()):
            if day < self._end:
                self.env.process(self._insolvency(customer, day))
        self.env.run(until=self._end)
        for customer in range(len(self.customers)):
            if not self._refused[customer]:
                self._advance(customer, self._end - 1)  # churns after the last touch, goodwill at the end
        self._record_churn()
        return self.customers, self._invoice_table(), self.log.freeze(), np.asarray(self.goodwill)

    def _record_churn(self) -> None:
        """Churn events, placed at the start of their day (they were found when the customer was next touched)."""
        insolvent = self._liquidity.insolvency_day
        churned = [(day, c) for c, day in enumerate(self.churn_day) if day < min(self._end, insolvent[c])]
        if not churned:
            return
        nan = float("nan")
        for day, c in sorted(churned):
            self.log.record(day, EventKind.CHURNED, c, -1, goodwill_before=nan, goodwill_after=nan)
        self.log.reorder_by_day(churn_kind=EventKind.CHURNED)

    def _invoice_table(self) -> InvoiceTable:
        rows = [r if type(r) is tuple else r.final_row() for r in self._rows]
        columns = list(zip(*rows)) if rows else [()] * len(INVOICE_COLUMNS)
        return InvoiceTable(**dict(zip(INVOICE_COLUMNS, columns)))

    def _open_book(self) -> None:
        """The opening book's invoices enter on the as-of day (see collectsim.model.opening), before any order."""
        table = opening_invoices(self.scenario, self.seed, self.customers.segment, self.customers.habit_days_late,
                                 self._liquidity)
        for row in table.tolist():
            c, seq = row[O_CUSTOMER], row[O_SEQ]
            inv = Invoice(len(self._rows), c, seq, self._segment_of[c], row[O_BALANCE], row[O_ISSUE], row[O_DUE])
            inv.profile = self._profile(c, self._start_day)  # no history yet: the book is the first the run knows
            self._rows.append(inv)
            self._open[c].append(inv)
            inv.u_response = self._draw(D_RESPONSE, c, seq)
            inv.u_partial = self._draw(D_PARTIAL, c, seq)
            inv.pay_day = row[O_PAY_DAY]
            if row[O_DISPUTED]:
                inv.disputed = True
                inv.disputed_since = row[O_DISPUTED_SINCE]
                inv.resolve_day = row[O_RESOLVE_DAY]
            inv.review_day = self._start_day  # the ladder goes on from the as-of day
            inv.proc = self.env.process(self._life(inv))

    def _orders(self, customer: int):
        """Issue this customer's invoices until the measured period ends (no new invoices in run-off)."""
        seg_index = self._segment_of[customer]
        seg = self._segments[seg_index]
        mean_gap = 365.0 / seg.orders_per_year
        decider = self.decider
        hold = None if decider.reads_standing else decider.credit_hold_after(decider.profile(seg_index, None))
        elasticity = self._b.order_goodwill_elasticity
        seq = self._first_seq[customer]
        priority = _priority(PHASE_ORDER, customer, 0)
        arrival = self._arrival[customer]
        if arrival > self._start_day:  # a new customer: it applies, and may be checked and refused
            yield _Wake(self.env, arrival - self.env.now, priority)
            if self._insolvent_day[customer] <= arrival or not self._onboard(customer, seg_index, arrival):
                return
        day = arrival + geometric_days(self._draw(D_GAP, customer, 0), mean_gap) - 1
        limit = self._limit[customer]
        while day < self._issue_end:
            yield _Wake(self.env, day - self.env.now, priority)
            self._advance(customer, day)
            if self.churn_day[customer] <= day or self._insolvent_day[customer] <= day:
                return  # the customer has left, or can no longer trade
            if decider.reads_standing:
                hold = decider.credit_hold_after(self._profile(customer, day))
            if ((hold is not None and self._overdue_beyond(customer, day, hold))
                    or (limit and self._open_balance(customer) + self._amount(customer, seq) > limit)):
                self._refuse(customer, seq, day)
            else:
                self._issue(customer, seq, day)
            seq += 1  # a refused order keeps its number, so later orders are the same ones under every policy
            factor = rules.order_rate_factor(self.goodwill[customer], self._baseline[customer], elasticity)
            if factor <= 0:
                return  # goodwill so low the customer orders nothing more
            day += geometric_days(self._draw(D_GAP, customer, seq), mean_gap / factor)

    def _onboard(self, customer: int, segment: int, day: int) -> bool:
        """A new customer applies: checked (and perhaps refused) if the policy says so; True if it may trade."""
        rule = self.decider.onboarding(self._profile(customer, day))
        nan = float("nan")
        if rule is None:
            self.log.record(day, EventKind.CUSTOMER_ONBOARDED, customer, -1, goodwill_before=nan, goodwill_after=nan)
            return True
        threshold, cost, limit = rule
        if self.customers.credit_report[customer] > threshold:
            self._refused[customer] = True
            self.log.record(day, EventKind.CUSTOMER_REFUSED, customer, -1, cost=cost, goodwill_before=nan,
                            goodwill_after=nan)
            return False
        self._limit[customer] = limit
        self.log.record(day, EventKind.CUSTOMER_ONBOARDED, customer, -1, cost=cost, goodwill_before=nan,
                        goodwill_after=nan)
        return True

    def _profile(self, customer: int, day: int) -> int:
        """The decider's profile for the customer today, from its standing on the ledger if the decider reads it."""
        segment = self._segment_of[customer]
        if not self.decider.reads_standing:
            return self.decider.profile(segment, None)
        return self.decider.profile(segment, self._standing(customer, day))

    def _standing(self, customer: int, day: int) -> Standing:
        """What the ledger shows of the customer on ``day`` (see collectsim.model.standing)."""
        still_open = [inv for inv in self._open[customer] if inv.balance > 0]
        self._open[customer] = still_open
        ring, paid = self._late[customer], self._paid[customer]
        return Standing(day - self._since[customer], sum(inv.balance for inv in still_open),
                        ledger.recent_total(ring, paid), ledger.recent_count(paid),
                        max([0] + [day - inv.due_day for inv in still_open]),
                        sum(1 for inv in still_open if inv.disputed), day - self._last_dispute[customer])

    def _contact_gap(self, profile: int) -> int:
        gap = self._gap.get(profile)
        if gap is None:
            gap = self._gap[profile] = self.decider.contact_gap(profile)
        return gap

    def _open_balance(self, customer: int) -> int:
        """What the customer owes now (principal on its open invoices)."""
        still_open = [inv for inv in self._open[customer] if inv.balance > 0]
        self._open[customer] = still_open
        return sum(inv.balance for inv in still_open)

    def _amount(self, customer: int, seq: int) -> int:
        """Amount of the customer's order number ``seq`` (the same draw whether it is supplied or refused)."""
        seg = self._segments[self._segment_of[customer]]
        return rules.cents_of(lognormal(self._draw(D_AMOUNT, customer, seq),
                                        seg.amount_median, seg.amount_sigma))

    def _overdue_beyond(self, customer: int, day: int, days_overdue: int) -> bool:
        """Whether the customer has an undisputed invoice outside a plan more than ``days_overdue`` past due."""
        still_open = [inv for inv in self._open[customer] if inv.balance > 0]
        self._open[customer] = still_open  # settled invoices need no more looking at
        return any(day - inv.due_day > days_overdue and not inv.disputed and not inv.in_plan for inv in still_open)

    def _refuse(self, customer: int, seq: int, day: int) -> None:
        """Credit hold: the order is not supplied (the sale is lost) and the customer takes it badly."""
        amount = self._amount(customer, seq)
        change = self._b.credit_hold_goodwill * rules.stake_factor(amount, self._monthly[self._segment_of[customer]])
        before, after = self._change_goodwill(customer, self._account_change(customer, change, day, True), day)
        self.log.record(day, EventKind.ORDER_REFUSED, customer, -1, amount, goodwill_before=before,
                        goodwill_after=after)

    def _issue(self, customer: int, seq: int, day: int) -> None:
        seed = self.seed
        seg_index = self._segment_of[customer]
        seg = self._segments[seg_index]
        amount = self._amount(customer, seq)
        terms, shares = self._terms[seg_index]
        terms = terms[rules.pick_share(u(seed, Purpose.INVOICE_TERMS, customer, seq), shares)] if len(terms) > 1 \
            else terms[0]  # the invoice's own terms, from the segment's mix
        due = day + terms if not seg.terms_end_of_month else business_calendar.due_day(
            day, terms, True, self._start_date)
        inv = Invoice(len(self._rows), customer, seq, seg_index, amount, day, due)
        inv.profile = profile = self._profile(customer, day)  # from the standing before this invoice
        self._rows.append(inv)
        self._open[customer].append(inv)
        # The customer's intentions, before any chasing.
        draw = self._draw
        inv.u_response = draw(D_RESPONSE, customer, seq)
        inv.u_partial = draw(D_PARTIAL, customer, seq)
        if profile not in self._invoicing:
            self._invoicing[profile] = self.decider.invoicing(profile)
        clear_terms, e_invoicing = self._invoicing[profile]
        b = self._b
        if draw(D_DISPUTE, customer, seq) < seg.dispute_rate and not (
                (clear_terms or e_invoicing) and rules.dispute_prevented(
                    u(seed, Purpose.DISPUTE_PREVENTED, customer, seq),
                    rules.has_merit(u(seed, Purpose.CREDIT_NOTE, customer, seq), seg.credit_note_share), clear_terms,
                    e_invoicing, b.clear_terms_dispute_cut, b.e_invoicing_dispute_cut)):
            latest = min(terms, self._b.dispute_raise_days)
            inv.dispute_day = day + uniform_int(u(seed, Purpose.DISPUTE_DAY, customer, seq), 0, latest)
        liquidity = self._liquidity_on(customer, day)
        ignore = rules.ignore_share_on(seg.ignore_share, liquidity, self._b.distressed_ignore)
        if draw(D_IGNORES, customer, seq) >= ignore:
            if seg.on_due_date_share > 0 and rules.pays_on_due_date(u(seed, Purpose.ON_DUE_DATE, customer, seq),
                                                                     seg.on_due_date_share, liquidity):
                lateness = 0.0  # scheduled for the due date
            else:
                lateness = rules.unchased_lateness(self._habit[customer], seg.days_late_sd_within,
                                                   normal_ppf(draw(D_LATENESS, customer, seq)),
                                                   liquidity, self._b.strained_extra_days)
                if e_invoicing:
                    lateness -= b.e_invoicing_days_faster  # approved sooner
            inv.pay_day = rules.unchased_pay_day(inv.due_day, day, lateness)
        elif self._b.set_aside_pay_days > 0:
            # Set aside, not always for ever: some is paid of the customer's own accord much later.
            late = rules.set_aside_days(u(seed, Purpose.SET_ASIDE_PAY_DAY, customer, seq), b.set_aside_never_share,
                                        b.set_aside_pay_days, b.set_aside_pay_sigma)
            if late >= 0:
                inv.pay_day = inv.due_day + 1 + late
        # The first review may fall on the issue day itself (phase 4 comes after phase 0).
        self._apply(inv, day, self.decider.decide(Point.ISSUED, day, inv, self._goodwill_on(customer, day)),
                    earliest_review=day)
        inv.proc = self.env.process(self._life(inv))

    def _life(self, inv: Invoice):
        """The invoice's process: sleep until its next event, handle it, until settled or the run ends."""
        env = self.env
        key = (inv.customer << 28) + inv.seq + _PRIORITY_BASE
        handlers = (None, self._resolve_dispute, self._pay, self._raise_dispute, self._review)
        while inv.balance > 0:
            day, phase = inv.next_event()
            if day >= self._end:
                break
            try:
                yield _Wake(env, day - env.now, key + (phase << 60))
            except simpy.Interrupt:
                continue  # the team changed this invoice: work out its next event again
            handlers[phase](inv, day)
        # Ended: drop the reference so SimPy's process and generator can be freed. _wake treats None like
        # a process that has ended.
        inv.proc = None
        if inv.balance == 0:
            # Settled for good: nothing changes it any more, so keep only its row of the invoice table
            # (a large portfolio would otherwise hold every settled invoice's full state to the end).
            self._rows[inv.row] = inv.final_row()
            still_open = self._open[inv.customer]
            if inv in still_open:
                still_open.remove(inv)

    # --- what happens ---------------------------------------------------------------------------------

    def _advance(self, customer: int, day: int) -> float:
        """Bring the customer's goodwill and integrated churn hazard up to ``day`` (exact, memoryless).

        Returns the goodwill on ``day``; it runs at nearly every event, so it reads plain per-customer lists.
        """
        last = self._anchor_day[customer]
        if day <= last:
            return self.goodwill[customer]
        goodwill = self.goodwill[customer]
        baseline = self._baseline[customer]
        tau = self._tau
        h0 = self._customer_churn[customer]
        if h0 > 0 and self.churn_day[customer] == NEVER:
            slope, gap = self._churn_slope, baseline - goodwill
            already = self._hazard[customer]
            total = already + rules.churn_hazard_integral(h0, slope, gap, day - last, tau)
            threshold = self._threshold[customer]
            if total >= threshold:  # churned on the first whole day the integrated hazard reaches the threshold
                self.churn_day[customer] = last + rules.first_churn_day(already, h0, slope, gap, day - last, tau,
                                                                        threshold)
            self._hazard[customer] = total
        goodwill = self.goodwill[customer] = rules.recovered_goodwill(goodwill, baseline, day - last, tau)
        self._anchor_day[customer] = day
        return goodwill

    #: The customer's goodwill on ``day`` (brought up to date first).
    _goodwill_on = _advance

    def _change_goodwill(self, customer: int, change: float, day: int) -> tuple[float, float]:
        before = self._advance(customer, day)
        after = self.goodwill[customer] = rules.goodwill_after(before, change, self._sensitivity[customer])
        return before, after

    def _resolve_dispute(self, inv: Invoice, day: int) -> None:
        seed, c, s = self.seed, inv.customer, inv.seq
        seg = self._segments[inv.segment]
        inv.disputed = False
        inv.resolve_day = NEVER
        g = self._goodwill_on(c, day)
        self.log.record(day, EventKind.DISPUTE_RESOLVED, c, inv.row, goodwill_before=g, goodwill_after=g)
        if rules.has_merit(u(seed, Purpose.CREDIT_NOTE, c, s), seg.credit_note_share):
            credit = self._disputed_part(inv)
            change = self._b.credit_note_goodwill * rules.stake_factor(inv.amount, self._monthly[inv.segment])
            before, after = self._change_goodwill(c, self._account_change(c, change, day, False), day)
            self._accrue_interest(inv, day)
            inv.balance -= credit
            self.log.record(day, EventKind.CREDIT_NOTE, c, inv.row, credit,
                            goodwill_before=before, goodwill_after=after)
            if inv.balance == 0:
                self._settle_fees(inv, day, paying=False)
        if inv.pay_day != NEVER:
            delay = exponential(u(seed, Purpose.RESOLUTION_PAY_DELAY, c, s), self._b.response_delay_days)
            inv.pay_day = max(inv.pay_day, rules.prompted_pay_day(day, inv.due_day, delay))

    def _disputed_part(self, inv: Invoice) -> int:
        """Cents of the balance the invoice's dispute is about (what a dispute with merit credits)."""
        seg = self._segments[inv.segment]
        fraction = rules.credit_note_fraction(u(self.seed, Purpose.CREDIT_NOTE_FRACTION, inv.customer, inv.seq),
                                              seg.credit_note_fraction)
        return rules.share_of(inv.balance, fraction)

    def _pay(self, inv: Invoice, day: int) -> None:
        if inv.escalation:
            self._end_escalation(inv, day)
            return
        if inv.in_plan:
            self._pay_instalment(inv, day)
            return
        runs = self._next_run[inv.segment]
        if runs is not None and runs[day] != day:
            inv.pay_day = runs[day]  # the customer's accounts payable releases it in the next payment run
            return
        shares, business = self._weekdays[inv.segment]
        if business:
            run_mask = 1 << rules.pick_share(u(self.seed, Purpose.PAYMENT_WEEKDAY, inv.customer), shares)
            release = rules.release_day(day, inv.due_day, self._first_weekday, run_mask, business)
            if release != day:
                inv.pay_day = release  # paid in the customer's payment run (or the due date's next payment day)
                return
        seed, c, s = self.seed, inv.customer, inv.seq
        seg = self._segments[inv.segment]
        g = self._goodwill_on(c, day)
        self._accrue_interest(inv, day)
        if inv.settle_forgive > 0:
            forgiven = rules.settlement_forgiven(inv.balance, inv.settle_forgive)
            inv.settle_forgive = 0.0
            if forgiven > 0:
                inv.balance -= forgiven
                self.log.record(day, EventKind.SETTLEMENT, c, inv.row, forgiven, goodwill_before=g, goodwill_after=g)
            paid = inv.balance
        elif inv.discount_rate > 0 and day <= inv.discount_deadline:
            discount = rules.discount_amount(inv.balance, inv.amount, inv.discount_rate)
            if discount > 0:
                change = self._b.discount_goodwill * rules.stake_factor(inv.amount, self._monthly[inv.segment])
                before, after = self._change_goodwill(c, self._account_change(c, change, day, capped=False), day)
                inv.balance -= discount
                self.log.record(day, EventKind.DISCOUNT, c, inv.row, discount,
                                goodwill_before=before, goodwill_after=after)
                g = after
            paid = inv.balance
        elif inv.balance >= 2 and (inv.u_partial if inv.payments == 0 else u(
                seed, Purpose.PARTIAL_PAYMENT, c, s, inv.payments)) < rules.part_share_on(
                seg.partial_share, self._liquidity_on(c, day), self._b.strained_part_payment):
            fraction = rules.part_payment_fraction(u(seed, Purpose.PARTIAL_FRACTION, c, s, inv.payments),
                                                   self._b.part_payment_fraction)
            paid = min(rules.share_of(inv.balance, fraction), inv.balance - 1)
        else:
            paid = inv.balance
        inv.balance -= paid
        inv.payments += 1
        self.log.record(day, EventKind.PAYMENT, c, inv.row, paid, goodwill_before=g, goodwill_after=g)
        if inv.balance > 0:
            inv.pay_day = day + geometric_days(u(seed, Purpose.PARTIAL_GAP, c, s, inv.payments),
                                               seg.partial_gap_days)
        else:
            inv.pay_day = NEVER
            self._settle_fees(inv, day, paying=True)

    def _liquidity_on(self, customer: int, day: int) -> int:
        """The customer's liquidity state on ``day`` (see collectsim.model.liquidity)."""
        if day >= self._insolvent_day[customer]:
            return INSOLVENT
        return self._liquidity_states[customer][min(day // BLOCK_DAYS, self._last_block)]

    def _insolvency(self, customer: int, day: int):
        """The customer fails: every open balance is lost, and it orders no more."""
        yield _Wake(self.env, day - self.env.now, _priority(PHASE_ORDER, customer, 0) - 1)
        if self._arrival[customer] > day or self._refused[customer]:
            return  # never became our customer: its failure is not ours to record
        nan = float("nan")
        self.log.record(day, EventKind.INSOLVENT, customer, -1, goodwill_before=nan, goodwill_after=nan)
        g = self._goodwill_on(customer, day)
        for inv in self._open[customer]:
            if inv.balance == 0:
                continue
            self._accrue_interest(inv, day)
            self.log.record(day, EventKind.INSOLVENCY_LOSS, customer, inv.row, inv.balance, goodwill_before=g,
                            goodwill_after=g)
            inv.balance = 0
            inv.escalation = 0
            self._settle_fees(inv, day, paying=False)
            self._wake(inv)
        self._open[customer] = []

    def _raise_dispute(self, inv: Invoice, day: int) -> None:
        c, seg = inv.customer, self._segments[inv.segment]
        inv.disputed = True
        inv.dispute_day = NEVER
        self._last_dispute[c] = day
        change = self._b.dispute_goodwill * rules.stake_factor(inv.amount, self._monthly[inv.segment])
        before, after = self._change_goodwill(c, self._account_change(c, change, day, True), day)
        self.log.record(day, EventKind.DISPUTE_RAISED, c, inv.row, goodwill_before=before, goodwill_after=after)
        inv.resolve_day = rules.dispute_end_day(day, u(self.seed, Purpose.DISPUTE_RESOLUTION_DAYS, c, inv.seq),
                                                seg.dispute_resolution_days, seg.dispute_min_days)
        inv.disputed_since = day
        if self._daily_minutes is not None and self._team.minutes_dispute > 0:
            inv.taken_up = False  # resolution waits until a collector takes up the case
            self._queue.append((WORK_DISPUTE, day, inv.customer, inv.seq, inv, None, self._team.minutes_dispute))
        if not inv.in_plan:
            self._apply(inv, day, self.decider.decide(Point.DISPUTE_RAISED, day, inv, after), earliest_review=day)

    def _review(self, inv: Invoice, day: int) -> None:
        if inv.held_day == day:
            action, inv.held_action, inv.held_day = inv.held_action, None, NEVER
            if not (inv.disputed or inv.in_plan):  # a dispute or a plan since it was held: it is dropped
                self._do(inv, day, action)
            if inv.review_day != day:
                return  # not a day the policy asked to look again
        inv.review_day = NEVER
        point, inv.pending = inv.pending, Point.REVIEW
        self._apply(inv, day, self.decider.decide(point, day, inv, self._goodwill_on(inv.customer, day)),
                    earliest_review=day + 1)

    def _apply(self, inv: Invoice, day: int, decision: Decision, earliest_review: int) -> None:
        for action in decision.actions:
            if inv.balance == 0:
                break
            self._do(inv, day, action)
        review = decision.review_day
        if inv.in_plan or inv.escalation:
            inv.review_day = NEVER  # the plan, agency or court runs the invoice until it ends
            return
        if review is not None and inv.balance > 0:
            if review < earliest_review:
                raise EngineError(f"decision maker asked to review invoice {inv.customer}-{inv.seq} "
                                  f"on day {review}; the earliest possible is day {earliest_review}")
            inv.review_day = review

    def _do(self, inv: Invoice, day: int, action: Action) -> None:
        """Carry out an action now, or put it in the team's queue when it takes staff time and the team is limited."""
        minutes = self._minutes(action)
        if self._daily_minutes is not None and minutes > 0:
            self._queue.append((self._work_class(action), day, inv.customer, inv.seq, inv, action, minutes))
            return
        self._work = (minutes, 0)
        self._execute(inv, day, action)
        self._work = (0.0, 0)

    def _execute(self, inv: Invoice, day: int, action: Action) -> None:
        """Carry out one action now."""
        if inv.balance == 0:
            return
        kind = action.kind
        if kind is ActionKind.REMIND:
            c = inv.customer
            gap = self._contact_gap(inv.profile)
            if rules.contact_waits(day, self._contact_day[c], gap):
                inv.held_action, inv.held_day = action, self._contact_day[c] + gap  # a later step replaces it
                return
            self._remind(inv, day, action)
        elif kind is ActionKind.OFFER_DISCOUNT:
            self._offer_discount(inv, day, action)
        elif kind is ActionKind.OFFER_PLAN:
            self._offer_plan(inv, day, action)
        elif kind is ActionKind.CLAIM_FEES:
            self._claim_fees(inv, day, action)
        elif kind is ActionKind.OFFER_SETTLEMENT:
            self._offer_settlement(inv, day, action)
        elif kind is ActionKind.MEDIATE:
            self._mediate(inv, day, action)
        elif kind is ActionKind.PLACE_WITH_AGENCY:
            self._escalate(inv, day, action, agency=True)
        elif kind is ActionKind.FILE_LEGAL:
            self._escalate(inv, day, action, agency=False)
        elif kind is ActionKind.WRITE_OFF:
            self._accrue_interest(inv, day)
            g = self._goodwill_on(inv.customer, day)
            self.log.record(day, EventKind.WRITE_OFF, inv.customer, inv.row, inv.balance,
                            goodwill_before=g, goodwill_after=g)
            inv.balance = 0
            self._settle_fees(inv, day, paying=False)
        else:
            raise EngineError(f"unknown action kind {kind!r}")
        inv.actions_taken += 1

    # --- the team ---------------------------------------------------------------------------------------

    def _minutes(self, action: Action) -> float:
        team = self._team
        return rules.work_minutes(int(action.kind), action.channel, team.minutes_email, team.minutes_letter,
                                  team.minutes_call)

    @staticmethod
    def _work_class(action: Action) -> int:
        return rules.work_class(int(action.kind), action.channel)

    def _team_days(self):
        """The team's day: after all reviews, serve the queue from the day's minutes."""
        priority = _priority(PHASE_TEAM, 0, 0)
        for day in range(self._end):
            yield _Wake(self.env, day - self.env.now, priority)
            self._serve(day)

    def _serve(self, day: int) -> None:
        left = self._daily_minutes
        self._queue.sort(key=lambda item: item[:4])  # class, request day, customer, invoice sequence
        waiting, full = [], False
        for item in self._queue:
            work_class, requested, _, _, inv, action, minutes = item
            if full:
                waiting.append(item)
                continue
            if not self._still_needed(inv, action):
                continue
            needed = minutes
            if action is not None and action.kind is ActionKind.REMIND:
                c = inv.customer
                if rules.contact_waits(day, self._contact_day[c], self._contact_gap(inv.profile)):
                    needed = 0.0  # it will wait for the gap (held by _execute), taking no time today
                else:
                    needed = rules.contact_extra(self._contact_day[c] == day, minutes, self._contact_minutes[c])
            if needed > left and left < self._daily_minutes:
                full = True  # strict priority: nothing overtakes the first item that does not fit
                waiting.append(item)
                continue
            left -= needed  # a task longer than a whole day takes a day nobody has touched yet
            self._work = (minutes, day - requested)
            if action is None:
                self._take_up_dispute(inv, day)
            else:
                self._execute(inv, day, action)
            self._work = (0.0, 0)
            self._wake(inv)
        self._queue = waiting

    @staticmethod
    def _still_needed(inv: Invoice, action: Action | None) -> bool:
        if action is None:
            return inv.disputed and not inv.taken_up
        return rules.still_needed(int(action.kind), inv.balance, inv.escalation, inv.in_plan)

    def _take_up_dispute(self, inv: Invoice, day: int) -> None:
        inv.taken_up = True
        inv.resolve_day = max(inv.resolve_day, day + 1)
        g = self._goodwill_on(inv.customer, day)
        self.log.record(day, EventKind.DISPUTE_TAKEN_UP, inv.customer, inv.row, goodwill_before=g,
                        goodwill_after=g, minutes=self._work[0], wait=self._work[1])

    def _wake(self, inv: Invoice) -> None:
        """Make the invoice work out its next event again, after the team changed it."""
        proc = inv.proc
        if proc is not None and proc.is_alive:
            proc.interrupt()
        elif inv.balance > 0:
            inv.proc = self.env.process(self._life(inv))

    def _remind(self, inv: Invoice, day: int, action: Action) -> None:
        c, seg, b = inv.customer, self._segments[inv.segment], self._b
        # One contact a day per customer: this step adds to today's only what it costs, takes and does beyond it.
        same = self._contact_day[c] == day
        change = self._goodwill_by_tone[action.tone] + self._goodwill_by_channel[action.channel]
        cost = rules.contact_extra_cents(same, action.cost, self._contact_cost[c])
        minutes = rules.contact_extra(same, self._work[0], self._contact_minutes[c])
        if same:
            self._contact_cost[c] += cost
            self._contact_minutes[c] += minutes
        else:
            self._contact_day[c], self._contact_cost[c], self._contact_minutes[c] = day, cost, minutes
        stake = rules.stake_factor(inv.amount, self._monthly[inv.segment])
        before, after = self._change_goodwill(c, self._account_change(c, change * stake, day, capped=True), day)
        self.log.record(day, EventKind.REMINDER, c, inv.row, 0, action.channel, action.tone, cost,
                        before, after, minutes=minutes, wait=self._work[1])
        inv.reminders_sent += 1
        if inv.disputed or inv.pay_day <= day:
            return
        liquidity = self._liquidity_on(c, day)
        if (liquidity != HEALTHY and day > inv.due_day and not inv.plan_requested and not inv.in_plan
                and u(self.seed, Purpose.PLAN_REQUEST, c, inv.seq) < b.plan_request_share):
            if self._plan_requested(inv, day):
                return
        responsiveness = seg.responsiveness * (b.strained_response if liquidity == STRAINED else
                                               b.distressed_response if liquidity == DISTRESSED else 1.0)
        p = rules.response_probability(self._response_by_channel[action.channel],
                                       self._response_by_tone[action.tone], responsiveness, after,
                                       b.goodwill_response_weight, b.max_response_probability)
        p *= rules.age_factor(day - inv.due_day, b.response_halflife_days)
        # One latent threshold per invoice (see rules.responds): the same invoice reacts alike under
        # every policy, which is what makes common random numbers effective.
        inv.unmoved = rules.unmoved_after(inv.unmoved, p)
        if rules.responds(inv.u_response, inv.unmoved):
            delay = exponential(u(self.seed, Purpose.RESPONSE_DELAY, c, inv.seq, inv.responses),
                                b.response_delay_days)
            inv.responses += 1
            inv.pay_day = min(inv.pay_day, rules.prompted_pay_day(day, inv.due_day, delay))

    def _invoice_change(self, inv: Invoice, change: float, day: int) -> float:
        """The goodwill change of an event about ``inv``: weighed by its stake, then as _account_change (capped)."""
        stake = rules.stake_factor(inv.amount, self._monthly[inv.segment])
        return self._account_change(inv.customer, change * stake, day, capped=True)

    def _account_change(self, c: int, change: float, day: int, capped: bool) -> float:
        """The goodwill change an event on the account makes: beyond the period's worst loss or best gain so far
        (rules.period_goodwill_extra), and for chasing and friction within the period's cap."""
        period = day // rules.CAP_PERIOD_DAYS
        if self._change_period[c] != period:
            self._change_period[c], self._period_worst[c], self._period_best[c] = period, 0.0, 0.0
        extra = rules.period_goodwill_extra(change, self._period_worst[c], self._period_best[c])
        self._period_worst[c] = min(self._period_worst[c], change)
        self._period_best[c] = max(self._period_best[c], change)
        return self._within_cap(c, extra, day) if capped else extra

    def _within_cap(self, c: int, change: float, day: int) -> float:
        """The part of a goodwill loss to chasing or friction (a reminder, a fee claim, a dispute raised) that the
        customer's cap for the period allows."""
        period = day // rules.CAP_PERIOD_DAYS
        used = rules.cap_used_on(period, self._cap_period[c], self._cap_used[c])
        applied = rules.capped_goodwill_loss(change, used, self._b.contact_goodwill_cap)
        self._cap_period[c], self._cap_used[c] = period, used - applied if applied < 0.0 else used
        return applied

    def _mediate(self, inv: Invoice, day: int, action: Action) -> None:
        """A mediator hears the dispute; if it works, the dispute ends within the mediation's length."""
        if not inv.disputed or inv.mediated:
            return
        c, b = inv.customer, self._b
        inv.mediated = True
        before, after = self._change_goodwill(c, self._invoice_change(inv, b.mediation_goodwill, day), day)
        self.log.record(day, EventKind.MEDIATION, c, inv.row, 0, cost=action.cost, goodwill_before=before,
                        goodwill_after=after, minutes=self._work[0], wait=self._work[1])
        end = rules.mediation_end(day, u(self.seed, Purpose.MEDIATION, c, inv.seq),
                                  u(self.seed, Purpose.MEDIATION_DAYS, c, inv.seq), b.mediation_success,
                                  b.mediation_days)
        if end >= 0:
            inv.resolve_day = min(inv.resolve_day, end)

    def _escalate(self, inv: Invoice, day: int, action: Action, agency: bool) -> None:
        """Hand the invoice to an agency or to court; the outcome and its day are drawn now."""
        c, seg, b = inv.customer, self._segments[inv.segment], self._b
        seed, s = self.seed, inv.seq
        # The agency or the court takes the account: the customer minds the first invoice handed over, not each one
        # while the account is there.
        level = 1 if agency else 2
        news = not any(o is not inv and o.balance > 0 and o.escalation == level for o in self._open[c])
        change = (b.agency_goodwill if agency else b.legal_goodwill) if news else 0.0
        before, after = self._change_goodwill(c, change, day)
        kind = EventKind.AGENCY_PLACED if agency else EventKind.LEGAL_FILED
        cost = action.cost if agency else action.cost + rules.court_fee(inv.balance, action.rate)
        self.log.record(day, kind, c, inv.row, inv.balance, cost=cost, goodwill_before=before,
                        goodwill_after=after, minutes=self._work[0], wait=self._work[1])
        # The customer now deals with the agency or court; the day it would have paid of its own accord (none while
        # it disputes the invoice) still counts.
        own = NEVER if inv.disputed else inv.pay_day
        inv.dispute_day = inv.review_day = NEVER
        inv.held_action, inv.held_day = None, NEVER
        if news and b.reputation_spillover > 0:
            self._spill_over(c, inv.segment, b.reputation_spillover * change, day)
        if agency:
            inv.escalation, inv.was_at_agency, inv.agency_fee = 1, True, action.rate
            inv.escalation_pays, inv.escalation_day = rules.agency_outcome(
                day, u(seed, Purpose.AGENCY, c, s), u(seed, Purpose.AGENCY_DAYS, c, s), b.agency_success,
                seg.recoverability, b.agency_days, b.agency_max_days,
                rules.age_factor(day - inv.due_day, b.response_halflife_days), own)
        else:
            inv.escalation, inv.was_in_court = 2, True
            inv.legal_costs, inv.legal_recoverable = cost, action.recoverable
            inv.escalation_pays, inv.escalation_day = rules.legal_outcome(
                day, u(seed, Purpose.LEGAL_DAYS, c, s), inv.disputed, own, b.default_judgment_days, b.legal_days)

    def _spill_over(self, customer: int, segment: int, change: float, day: int) -> None:
        """The other active customers of the segment hear of an escalation: each one's goodwill moves a little."""
        for other in self._members[segment]:
            if other == customer or self._arrival[other] > day or self._refused[other]:
                continue
            self._advance(other, day)
            if self.churn_day[other] <= day or self._insolvent_day[other] <= day:
                continue
            before, after = self._change_goodwill(other, change, day)
            if after != before:
                self.log.record(day, EventKind.REPUTATION, other, -1, 0, goodwill_before=before, goodwill_after=after)

    def _end_escalation(self, inv: Invoice, day: int) -> None:
        """The agency or court is done: the balance is collected (cash, gross), or the policy decides again.

        A court case ends in one of three ways: the debtor pays the claim before judgment; a judgment (after trial,
        the court first decides the dispute of a defended claim: the disputed part of a dispute with merit is
        credited) that is enforced; or one that is not.
        """
        c = inv.customer
        g = self._goodwill_on(c, day)
        agency = inv.escalation == 1
        inv.escalation, inv.escalation_day = 0, NEVER
        self._accrue_interest(inv, day)
        pays = inv.escalation_pays
        claimed = inv.balance
        if not agency and not pays:  # judgment day
            if inv.disputed and not self._court_decides(inv, day, g):
                return  # the court credited the whole balance
            b, seg = self._b, self._segments[inv.segment]
            factor = rules.responsiveness_on(1.0, self._liquidity_on(c, day), b.strained_response,
                                             b.distressed_response)
            pays = rules.judgment_paid(u(self.seed, Purpose.JUDGMENT_PAID, c, inv.seq), b.judgment_paid_share,
                                       seg.recoverability, factor, inv.pay_day != NEVER)
        if pays:
            amount = inv.balance
            fee = rules.agency_fee(amount, inv.agency_fee) if agency else 0
            kind = EventKind.AGENCY_COLLECTED if agency else EventKind.LEGAL_COLLECTED
            inv.balance = 0
            inv.pay_day = NEVER
            self.log.record(day, kind, c, inv.row, amount, cost=fee, goodwill_before=g, goodwill_after=g)
            if not agency:
                recovered = rules.costs_recovered(inv.legal_costs, inv.legal_recoverable, amount, claimed)
                if recovered > 0:
                    self.log.record(day, EventKind.COSTS_RECOVERED, c, inv.row, recovered, goodwill_before=g,
                                    goodwill_after=g)
            self._settle_fees(inv, day, paying=True)
            return
        kind = EventKind.AGENCY_RETURNED if agency else EventKind.LEGAL_ENDED
        self.log.record(day, kind, c, inv.row, inv.balance, goodwill_before=g, goodwill_after=g)
        inv.pending = Point.ESCALATION_ENDED  # the policy hears of it in today's reviews (phase 4)
        inv.review_day = day
        if inv.disputed and inv.resolve_day <= day:
            # A dispute still open when the invoice went to an agency (only a hand-picked action does that) is
            # settled once the invoice is back, not on a day already gone.
            inv.resolve_day = day + 1

    def _court_decides(self, inv: Invoice, day: int, g: float) -> bool:
        """At trial the court resolves a defended claim's dispute: the disputed part of a dispute with merit is
        credited. True if a balance is left to enforce."""
        c, seg = inv.customer, self._segments[inv.segment]
        inv.disputed = False
        inv.resolve_day = NEVER
        self.log.record(day, EventKind.DISPUTE_RESOLVED, c, inv.row, goodwill_before=g, goodwill_after=g)
        if rules.has_merit(u(self.seed, Purpose.CREDIT_NOTE, c, inv.seq), seg.credit_note_share):
            credit = self._disputed_part(inv)
            inv.balance -= credit
            self.log.record(day, EventKind.CREDIT_NOTE, c, inv.row, credit, goodwill_before=g, goodwill_after=g)
            if inv.balance == 0:
                self._settle_fees(inv, day, paying=False)
                return False
        return True

    def _claim_fees(self, inv: Invoice, day: int, action: Action) -> None:
        """Claim compensation now and interest from the day after the due date (once per invoice)."""
        if inv.fees_claimed:
            return
        inv.fees_claimed = True
        inv.fee_rate = action.interest_rate
        inv.fee_compensation = action.compensation
        inv.interest_day = inv.due_day  # interest on the balance outstanding now, from the due date
        self._accrue_interest(inv, day)
        change = self._b.fee_goodwill * rules.stake_factor(inv.amount, self._monthly[inv.segment])
        change = self._account_change(inv.customer, change, day, capped=True)
        before, after = self._change_goodwill(inv.customer, change, day)
        self.log.record(day, EventKind.FEES_CLAIMED, inv.customer, inv.row, action.compensation,
                        goodwill_before=before, goodwill_after=after, minutes=self._work[0], wait=self._work[1])

    def _accrue_interest(self, inv: Invoice, day: int) -> None:
        """Simple statutory interest on the unpaid principal up to ``day`` (kept in fractional cents)."""
        if inv.fees_claimed and day > inv.interest_day:
            inv.interest = rules.accrued_interest(inv.interest, inv.balance, inv.fee_rate, day - inv.interest_day)
            inv.interest_day = day

    def _settle_fees(self, inv: Invoice, day: int, paying: bool) -> None:
        """When the principal is closed, claimed fees are paid with it (by chance) or waived.

        Paid in full, the invoice joins the customer's recent payment history (its standing on the ledger).
        """
        if paying:
            c = inv.customer
            self._paid[c] = ledger.push_days_late(self._late[c], self._paid[c], ledger.days_late(day, inv.due_day))
        if not inv.fees_claimed:
            return
        owed = rules.fees_owed(inv.fee_compensation, inv.interest)
        inv.fees_claimed = False  # settled: nothing more to pay or waive
        g = self._goodwill_on(inv.customer, day)
        pays = paying and u(self.seed, Purpose.FEE_PAYMENT, inv.customer, inv.seq) < \
            self._segments[inv.segment].fee_payment_share
        kind = EventKind.FEES_PAID if pays else EventKind.FEES_WAIVED
        self.log.record(day, kind, inv.customer, inv.row, owed, goodwill_before=g, goodwill_after=g)

    def _offer_settlement(self, inv: Invoice, day: int, action: Action) -> None:
        """Offer to forgive part of the balance; if accepted the customer pays the rest soon."""
        c, seg = inv.customer, self._segments[inv.segment]
        inv.had_settlement_offer = True
        accepted = (not inv.disputed and not inv.in_plan
                    and u(self.seed, Purpose.SETTLEMENT_ACCEPTANCE, c, inv.seq) < seg.settlement_acceptance)
        change = self._b.settlement_goodwill if accepted else 0.0
        before, after = self._change_goodwill(c, self._invoice_change(inv, change, day), day)
        self.log.record(day, EventKind.SETTLEMENT_OFFERED, c, inv.row, 0, action.channel, action.tone,
                        action.cost, before, after, *self._work)
        if not accepted:
            return
        inv.settle_forgive = action.forgive
        inv.pay_day = min(inv.pay_day, rules.prompted_delay_day(day, u(self.seed, Purpose.SETTLEMENT_DELAY, c, inv.seq),
                                                                self._b.response_delay_days))

    def _plan_requested(self, inv: Invoice, day: int) -> bool:
        """A strained customer asks to pay in instalments: the policy grants the plan or refuses it."""
        inv.plan_requested = True
        c = inv.customer
        plan = self.decider.plan_on_request(inv.profile)
        if plan is None or inv.disputed:
            before, after = self._change_goodwill(c, self._invoice_change(inv, self._b.plan_refused_goodwill, day), day)
            self.log.record(day, EventKind.PLAN_REQUESTED, c, inv.row, 0, goodwill_before=before, goodwill_after=after)
            return False
        g = self._goodwill_on(c, day)
        self.log.record(day, EventKind.PLAN_REQUESTED, c, inv.row, 0, goodwill_before=g, goodwill_after=g)
        inv.had_plan = True
        self._agree_plan(inv, day, plan)
        return True

    def _offer_plan(self, inv: Invoice, day: int, action: Action) -> None:
        """Propose a plan (or extended terms); if the customer agrees, payments replace its own intentions."""
        c, seg = inv.customer, self._segments[inv.segment]
        g = self._goodwill_on(c, day)
        terms = bool(action.milestones)
        self.log.record(day, EventKind.TERMS_OFFERED if terms else EventKind.PLAN_OFFERED, c, inv.row, 0,
                        action.channel, action.tone, action.cost, g, g, *self._work)
        if terms:
            inv.had_terms = True
        else:
            inv.had_plan = True
        acceptance = rules.plan_acceptance_on(seg.plan_acceptance, self._liquidity_on(c, day),
                                              self._b.strained_plan_acceptance)
        if inv.disputed or inv.in_plan or u(self.seed, Purpose.PLAN_ACCEPTANCE, c, inv.seq) >= acceptance:
            return
        self._agree_plan(inv, day, action)

    def _agree_plan(self, inv: Invoice, day: int, action: Action) -> None:
        """The customer is on a plan: instalments replace its own intentions."""
        c = inv.customer
        before, after = self._change_goodwill(c, self._invoice_change(inv, self._b.plan_goodwill, day), day)
        terms = bool(action.milestones)
        self.log.record(day, EventKind.TERMS_AGREED if terms else EventKind.PLAN_AGREED, c, inv.row, inv.balance,
                        goodwill_before=before, goodwill_after=after)
        inv.in_plan = True
        inv.pay_day = inv.review_day = NEVER
        inv.plan_left = action.instalments
        inv.plan_interval = action.interval_days
        inv.plan_tolerance = action.tolerance
        inv.plan_missed = inv.plan_attempts = 0
        inv.plan_terms = terms
        inv.plan_schedule = action.milestones
        if terms:
            inv.plan_start, inv.plan_base, inv.plan_down = day, inv.balance, 0
            inv.plan_day = day + action.milestones[0][0]
        else:
            inv.plan_down = rules.plan_down_payment(inv.balance, action.down_payment)
            inv.plan_day = day + 1 if inv.plan_down else day + action.interval_days

    def _pay_instalment(self, inv: Invoice, day: int) -> None:
        """An instalment falls due: paid (then the next is scheduled) or missed (tried again, or default)."""
        c, seg = inv.customer, self._segments[inv.segment]
        g = self._goodwill_on(c, day)
        self._accrue_interest(inv, day)
        paid_ok = u(self.seed, Purpose.INSTALMENT, c, inv.seq, inv.plan_attempts) < seg.instalment_reliability
        inv.plan_attempts += 1
        if paid_ok:
            schedule = inv.plan_schedule
            # Extended terms pay this milestone's share of the balance agreed (the rest at the last).
            share = schedule[len(schedule) - inv.plan_left][1] if schedule and not inv.plan_down else -1.0
            amount = rules.instalment_amount(inv.balance, inv.plan_down, inv.plan_left, share, inv.plan_base)
            if inv.plan_down:
                inv.plan_down = 0
            else:
                inv.plan_left -= 1
            inv.balance -= amount
            inv.payments += 1
            self.log.record(day, EventKind.PAYMENT, c, inv.row, amount, goodwill_before=g, goodwill_after=g)
            if inv.balance == 0:
                inv.in_plan = False
                self._settle_fees(inv, day, paying=True)
            if schedule and inv.plan_left > 0:
                inv.plan_day = inv.plan_start + schedule[len(schedule) - inv.plan_left][0]
            else:
                inv.plan_day = day + inv.plan_interval
            return
        inv.plan_missed += 1
        self.log.record(day, EventKind.PLAN_MISSED, c, inv.row, goodwill_before=g, goodwill_after=g)
        if inv.plan_missed <= inv.plan_tolerance:
            inv.plan_day = day + inv.plan_interval
            return
        inv.in_plan = False
        inv.plan_day = NEVER
        inv.plan_broken_day = day
        self._set_aside_after_default(inv, day)
        before, after = self._change_goodwill(c, self._invoice_change(inv, self._b.plan_default_goodwill, day), day)
        self.log.record(day, EventKind.PLAN_DEFAULTED, c, inv.row, inv.balance, goodwill_before=before,
                        goodwill_after=after)
        # The policy hears of it in today's reviews (phase 4), keeping the same-day order.
        inv.pending = Point.PLAN_DEFAULTED
        inv.review_day = day

    def _set_aside_after_default(self, inv: Invoice, day: int) -> None:
        """A broken plan leaves the rest set aside: like an invoice ignored at issue, it may be paid much later.

        The plan had replaced the customer's own intentions; without this the rest would be paid only when
        chased, unlike any other set-aside debt. The delay counts from the day the plan broke.
        """
        b = self._b
        if b.set_aside_pay_days <= 0:
            return
        late = rules.set_aside_days(u(self.seed, Purpose.PLAN_DEFAULT_PAY_DAY, inv.customer, inv.seq),
                                    b.set_aside_never_share, b.set_aside_pay_days, b.set_aside_pay_sigma)
        if late >= 0:
            inv.pay_day = day + 1 + late

    def _offer_discount(self, inv: Invoice, day: int, action: Action) -> None:
        """Anyone paying within the window deducts the discount; take-up pulls the payment into it."""
        inv.discount_rate = action.rate
        inv.discount_deadline = day + action.window_days
        if inv.dispute_day != NEVER:
            return  # a customer about to dispute the invoice does not rush to pay it
        seg, c = self._segments[inv.segment], inv.customer
        p = rules.discount_take_probability(seg.discount_appetite, action.rate, self._b.discount_reference_rate)
        if self._draw(D_DISCOUNT, c, inv.seq) < p:
            pay = day + uniform_int(u(self.seed, Purpose.DISCOUNT_PAY_DAY, c, inv.seq), 0, action.window_days)
            inv.pay_day = min(inv.pay_day, pay)
