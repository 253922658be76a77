"""The vectorised engine: the SimPy engine's model, walked through day by day over arrays.

Where the SimPy engine lets each invoice sleep until its next event, this engine keeps every invoice
of a batch of replications as a row of arrays and steps through the days. The SimPy engine's
same-day order (day, phase 0-5, customer id, invoice sequence; see :mod:`collectsim.engine`) is what
makes this possible: customers meet only through the team queue and reputation spill-over (both kept
in the SimPy order by :mod:`collectsim.vector_team`), so otherwise the events of different customers in
a phase are independent, and those of one customer are applied in sequence order. Each phase is
therefore processed in *rounds*: round k holds the k-th due invoice of every customer, and a round is a
handful of array operations. Replications are just more customers: every row carries its run's seed.

Both engines call the same rule functions (:mod:`collectsim.behaviour`) and the same counter-based
draws (:mod:`collectsim.draws`), so they agree to the last bit. Where the SimPy engine's per-event
arithmetic goes through the ``math`` module (``math.exp``, ``math.log``, ``**``), whose results can
differ in the last bit from NumPy's array kernels, this engine uses tables or element-wise fallbacks
built with that same scalar arithmetic. The result is an event log with the same rows in the same
order, so metrics come out of the same code.

Decision makers other than the rule-based policy (the training desk's) are refused by :func:`supports`;
``simulate(..., engine="vectorised")`` then runs the SimPy engine and says so. Companions:
:mod:`collectsim.vector_policy` (the rule-based policy in array form), :mod:`collectsim.vector_customers`
(goodwill, churn, liquidity), :mod:`collectsim.vector_levers` (plans, extended terms, fees, settlements,
escalation) and :mod:`collectsim.vector_team` (the limited team's queue, reputation spill-over).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np

from . import behaviour as rules
from . import business_calendar, draws
from .decisions import Point
from .draws import (
    _GOLDEN,
    _M1,
    _M2,
    _MASK,
    Purpose,
    _mix_array,
    exponential,
    geometric_days,
    normal_ppf,
    u,
    uniform_int,
)
from .engine import EngineError
from .eventlog import COLUMN_DTYPES as LOG_DTYPES
from .eventlog import COLUMNS as LOG_COLUMNS
from .eventlog import EventKind, EventLog
from .invoices import InvoiceTable
from .liquidity import DISTRESSED, HEALTHY, STRAINED, liquidity_paths
from .policy_spec import CHANNELS, TONES
from .portfolio import Customers, make_customers
from .rule_policy import RuleBasedPolicy
from .scenario import Scenario
from .vector_customers import CustomerState
from .vector_levers import PHASE_CHURN, PHASE_DISPUTE, PHASE_ORDER, PHASE_PAY, PHASE_RESOLVE, PHASE_REVIEW, LeverActions
from .vector_policy import NEVER, VectorPolicy
from .vector_team import (
    A_AGENCY,
    A_DISPUTE,
    A_FEE,
    A_LEGAL,
    A_MEDIATE,
    A_PLAN,
    A_REMIND,
    A_SETTLE,
    PHASE_TEAM,
    WORK_CALL,
    WORK_DISPUTE,
    WORK_EMAIL,
    WORK_LETTER,
    TeamQueue,
    group_starts,
)

_NAN = float("nan")


def supports(scenario: Scenario, decider: object) -> str | None:
    """None if the vectorised engine reproduces the SimPy engine for this run; otherwise why not (one line)."""
    if type(decider) is not RuleBasedPolicy:
        return f"decision maker {type(decider).__name__} is not the rule-based policy"
    return None


def exact_normal_ppf(p: np.ndarray) -> np.ndarray:
    """``draws.normal_ppf`` of an array as its scalar path computes it: the tails' logarithm by ``math.log``.

    NumPy's array log can differ from ``math.log`` in the last bit; the rest is the same IEEE arithmetic.
    """
    out = np.asarray(normal_ppf(p), dtype=np.float64)
    tail = (p < draws._P_LOW) | (p > 1.0 - draws._P_LOW)
    if tail.any():
        pt = p[tail]
        logs = np.fromiter(map(math.log, np.minimum(pt, 1.0 - pt).tolist()), dtype=np.float64, count=len(pt))
        q = np.sqrt(-2.0 * logs)
        value = draws._poly(draws._C, q) / (draws._poly(draws._D, q) * q + 1.0)
        out[tail] = np.where(pt < 0.5, value, -value)
    return out


def _lognormal(p: np.ndarray, median: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    return median * np.exp(sigma * exact_normal_ppf(p))


_GOLDEN_U64 = np.uint64(_GOLDEN)
_U11, _U27, _U30, _U31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
_M1_U64, _M2_U64 = np.uint64(_M1), np.uint64(_M2)


def _as_uint64(x) -> np.ndarray | np.uint64:
    """A counter field as uint64, as ``draws`` converts it (int64, then two's complement)."""
    if type(x) is np.ndarray and x.dtype == np.int64:
        return x.view(np.uint64)
    return np.asarray(x, dtype=np.int64).astype(np.uint64)


def _mix_in_place(z: np.ndarray) -> None:
    """``draws._mix_array`` on ``z`` itself (the same uint64 operations, no new arrays but one)."""
    t = z >> _U30
    z ^= t
    z *= _M1_U64
    np.right_shift(z, _U27, out=t)
    z ^= t
    z *= _M2_U64
    np.right_shift(z, _U31, out=t)
    z ^= t


def packed_sort_keys(keys: list[np.ndarray]) -> list[np.ndarray]:
    """``np.lexsort`` keys (the last sorts first) with the leading ones packed into one int64 key while they fit.

    Each key, less its minimum, takes its own bits, so the packed key orders rows as the keys it replaces did;
    lexsort then makes fewer passes (it sorts once per key) and gives the same order.
    """
    keys = list(keys)
    if not keys or len(keys[0]) == 0:
        return keys
    packed, bits = None, 0
    while keys:
        low, high = int(keys[-1].min()), int(keys[-1].max())
        need = max(high - low, 1).bit_length()
        if bits + need > 62:
            break
        k = keys.pop().astype(np.int64) - low
        packed = k if packed is None else (packed << need) | k
        bits += need
    return keys + ([] if packed is None else [packed])


class _Table:
    """Growable columns of fixed dtypes (the invoices of a batch)."""

    def __init__(self, spec: dict[str, tuple[type, object]], capacity: int = 1024) -> None:
        self._spec = spec
        self.n = 0
        self.cap = capacity
        for name, (dtype, fill) in spec.items():  # zeros are not written until used (a lever's columns often are not)
            setattr(self, name, np.zeros(capacity, dtype=dtype) if fill == 0 else np.full(capacity, fill, dtype=dtype))

    def add(self, count: int) -> np.ndarray:
        if self.n + count > self.cap:
            new = self.cap * 2
            while self.n + count > new:
                new *= 2
            for name, (dtype, fill) in self._spec.items():
                old = getattr(self, name)
                grown = np.empty(new, dtype=dtype)
                grown[: self.cap] = old
                grown[self.cap:] = fill
                setattr(self, name, grown)
            self.cap = new
        ids = np.arange(self.n, self.n + count)
        self.n += count
        return ids


_INVOICE = {
    "cust": (np.int64, 0), "local": (np.int64, 0), "seq": (np.int64, 0), "seg": (np.int64, 0),
    "pseg": (np.int64, 0),  # the policy's rules for the invoice: policy index x segments + segment
    "rep": (np.int64, 0), "row": (np.int64, 0),
    "amount": (np.int64, 0), "balance": (np.int64, 0), "issue": (np.int64, 0), "due": (np.int64, 0),
    "disputed": (bool, False), "pay_day": (np.int64, NEVER), "dispute_day": (np.int64, NEVER),
    "resolve_day": (np.int64, NEVER), "review_day": (np.int64, NEVER),
    "discount_rate": (np.float64, 0.0), "discount_deadline": (np.int64, -1), "unmoved": (np.float64, 1.0),
    "responses": (np.int64, 0), "payments": (np.int64, 0), "plan_requested": (bool, False),
    "disputed_since": (np.int64, -1), "had_plan": (bool, False), "in_plan": (bool, False),
    "plan_day": (np.int64, NEVER), "plan_broken_day": (np.int64, -1), "had_terms": (bool, False),
    "plan_terms": (bool, False), "plan_start": (np.int64, 0), "plan_base": (np.int64, 0),
    "plan_left": (np.int64, 0), "plan_interval": (np.int64, 0), "plan_tolerance": (np.int64, 0),
    "plan_missed": (np.int64, 0), "plan_attempts": (np.int64, 0), "plan_down": (np.int64, 0),
    "pending": (np.int64, 1), "fees_claimed": (bool, False), "fee_rate": (np.float64, 0.0),
    "fee_compensation": (np.int64, 0), "interest": (np.float64, 0.0), "interest_day": (np.int64, 0),
    "had_settlement_offer": (bool, False), "settle_forgive": (np.float64, 0.0), "mediated": (bool, False),
    "escalation": (np.int64, 0), "was_at_agency": (bool, False), "was_in_court": (bool, False),
    "escalation_day": (np.int64, NEVER), "escalation_pays": (bool, False), "agency_fee": (np.float64, 0.0),
    "nday": (np.int64, NEVER), "nphase": (np.int64, 0), "taken_up": (bool, True),
    "listed": (bool, True),  # in ``_open``
}


class VectorEngine(CustomerState, LeverActions, TeamQueue):
    """Runs one scenario for a batch of seeds at once, each run under one of the given rule-based policies.

    ``policy_of[i]`` says which of ``decider`` (one policy, or a sequence) run i follows (default: the first).
    Runs never meet, so a batch of several policies gives each run what a batch of its policy alone gives;
    the policy's rules are looked up by *policy segment*, policy index x number of segments + segment.
    """

    def __init__(self, scenario: Scenario, decider: RuleBasedPolicy | Sequence[RuleBasedPolicy],
                 seeds: list[int] | tuple[int, ...], customers: list[Customers] | None = None,
                 policy_of: Sequence[int] | None = None) -> None:
        deciders = [decider] if isinstance(decider, RuleBasedPolicy) or not isinstance(decider, Sequence) \
            else list(decider)
        for d in deciders:
            reason = supports(scenario, d)
            if reason is not None:
                raise ValueError(f"the vectorised engine cannot run this: {reason}")
        self.scenario = scenario
        self.policy = VectorPolicy(deciders)
        self.seeds = [int(s) for s in seeds]
        self._policy_of = np.zeros(len(self.seeds), dtype=np.int64) if policy_of is None \
            else np.asarray(policy_of, dtype=np.int64)
        known = (0 <= self._policy_of) & (self._policy_of < len(deciders))
        if self._policy_of.shape != (len(self.seeds),) or not known.all():
            raise ValueError(f"policy_of must name one of {len(deciders)} policies for each of {len(self.seeds)} seeds")
        self.customers = customers if customers is not None else [make_customers(scenario, s) for s in self.seeds]
        self._end = scenario.horizon.total_days
        self._issue_end = scenario.horizon.measured_end
        self._start_date = scenario.horizon.start_date
        b = self._b = scenario.behaviour
        segs = self._segs = scenario.portfolio.segments

        def per_seg(name: str, dtype=np.float64) -> np.ndarray:
            return np.array([getattr(s, name) for s in segs], dtype=dtype)

        self._seg = {name: per_seg(name) for name in (
            "responsiveness", "goodwill_sensitivity", "ignore_share", "days_late_sd_within", "dispute_rate",
            "amount_median", "amount_sigma", "discount_appetite", "partial_share", "partial_gap_days",
            "credit_note_share", "credit_note_fraction", "dispute_resolution_days", "orders_per_year",
            "plan_acceptance", "instalment_reliability", "fee_payment_share", "settlement_acceptance",
            "recoverability")}
        self._terms = per_seg("terms_days", np.int64)
        self._eom = per_seg("terms_end_of_month", bool)
        self._latest_dispute = np.minimum(self._terms, b.dispute_raise_days)
        self._mean_gap_of = np.array([365.0 / s.orders_per_year for s in segs], dtype=np.float64)
        self._daily_churn = [s.churn_per_year and -np.log1p(-min(s.churn_per_year, 1 - 1e-12)) / 365.0
                             for s in segs]
        runs = [business_calendar.next_run_days(self._end, s.payment_run, s.payment_run_day, self._start_date)
                for s in segs]
        self._runs = np.stack([np.arange(self._end + 1, dtype=np.int64) if r is None else r for r in runs])
        self._response_by_channel = np.array([getattr(b.response, c) for c in CHANNELS])
        self._response_by_tone = np.array([getattr(b.tone_response, t) for t in TONES])
        self._goodwill_by_tone = np.array([getattr(b.tone_goodwill, t) for t in TONES])
        self._goodwill_by_channel = np.array([getattr(b.channel_goodwill, c) for c in CHANNELS])
        team = scenario.team
        self._minutes_by_channel = np.array([{"email": team.minutes_email, "letter": team.minutes_letter,
                                              "phone": team.minutes_call}[c] for c in CHANNELS], dtype=np.float64)
        tau = b.goodwill_recovery_days
        self._tau = tau
        # The SimPy engine's per-event arithmetic, tabulated by whole-day gap (math.exp, 0.5 ** x).
        self._decay = np.array([math.exp(-g / tau) for g in range(self._end + 2)])
        self._age = np.array([rules.age_factor(a, b.response_halflife_days) for a in range(self._end + 2)])
        self._k_fact_column = np.array(rules._K_FACT[:40], dtype=np.float64)[:, None]
        self._deciders = deciders
        self._minutes_letter = float(team.minutes_letter)
        self._minutes_call = float(team.minutes_call)
        self._init_customers()
        self._init_team()
        work_class = {"phone": WORK_CALL, "email": WORK_EMAIL, "letter": WORK_LETTER}
        self._work_class_of_channel = np.array([work_class[c] for c in CHANNELS], dtype=np.int64)
        # Room for about the invoices the customers will order (their mean order gaps over the issuing days),
        # so the table seldom grows: growing copies every column.
        expected = np.clip(self._issue_end - self.arrival, 0, None) / self._mean_gap_of[self.cseg]
        self._inv = _Table(_INVOICE, capacity=max(1024, int(1.1 * expected.sum())))
        self._rows = np.zeros(len(self.seeds), dtype=np.int64)
        self._log: list[dict[str, np.ndarray]] = []
        self._open = np.zeros(0, dtype=np.int64)  # invoices that may still have an event (a superset)
        self._inv_of = np.full((len(self.rep), 16), -1, dtype=np.int32)  # [customer, order seq] -> invoice (-1: none)

    # --- set-up ---------------------------------------------------------------------------------------

    def _init_customers(self) -> None:
        cs = self.customers
        sizes = [len(c) for c in cs]
        self._n_of = sizes
        self._offset = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.rep = np.repeat(np.arange(len(cs)), sizes)
        self.local = np.concatenate([np.arange(n, dtype=np.int64) for n in sizes])
        self.seed = np.repeat(np.array(self.seeds, dtype=np.int64), sizes)
        self.cseg = np.concatenate([c.segment for c in cs]).astype(np.int64)
        self.cpseg = self._policy_of[self.rep] * len(self._segs) + self.cseg  # the customer's policy segment
        self.baseline = np.concatenate([c.goodwill_baseline for c in cs]).astype(np.float64)
        self.goodwill = self.baseline.copy()
        self.arrival = np.concatenate([c.arrival_day for c in cs]).astype(np.int64)
        self.anchor = self.arrival.copy()
        self.habit = np.concatenate([c.habit_days_late for c in cs]).astype(np.float64)
        self.hazard = np.zeros(len(self.rep))
        self.threshold = np.concatenate([-np.log(u(s, Purpose.CHURN, np.arange(n, dtype=np.int64)))
                                         for s, n in zip(self.seeds, sizes)])
        self.churn_day = np.full(len(self.rep), NEVER, dtype=np.int64)
        # Every run's liquidity paths in one call: its draws are element-wise in (seed, customer), so a seed per
        # customer and each run's own customer ids give each run's own paths.
        liq = liquidity_paths(self.scenario, self.seed, self.cseg, self.local)
        self.states = liq.states.astype(np.int64)
        self.insolvent_day = liq.insolvency_day.astype(np.int64)
        self._last_block = self.states.shape[1] - 1
        self.h0 = np.array([float(self._daily_churn[s]) for s in range(len(self._segs))])[self.cseg]
        self.refused = np.zeros(len(self.rep), dtype=bool)
        # The draws' mixer state after (seed, purpose, customer), per purpose and customer: a draw is then two
        # more mixing rounds (invoice, step), the very arithmetic of draws.u.
        golden = np.uint64(_GOLDEN)
        seeded = _mix_array(self.seed.astype(np.uint64) + golden)
        local = self.local.astype(np.uint64)
        self._prefix_golden = [_mix_array(_mix_array(seeded + np.uint64(p) + golden) + local + golden) + golden
                               for p in range(max(Purpose) + 1)]
        self.limit = np.zeros(len(self.rep), dtype=np.int64)  # credit limit in cents set at onboarding (0: none)
        holds = [d.credit_hold_after(i) for d in self._deciders for i in range(len(self._segs))]  # by policy segment
        self._hold = np.array([-1 if h is None else h for h in holds], dtype=np.int64)
        self._any_hold = any(h is not None for h in holds)
        # Ordering: 0 applying (arrives later), 1 ordering, 2 done. next_order is the next day it acts.
        self.order_seq = np.zeros(len(self.rep), dtype=np.int64)
        self.stage = np.where(self.arrival > 0, 0, 1)
        self.next_order = np.where(self.arrival > 0, self.arrival, NEVER)
        opening = np.flatnonzero(self.arrival == 0)
        self._start_ordering(opening)

    def _start_ordering(self, cx: np.ndarray) -> None:
        """The first order day of customers that start trading (``_orders`` before its loop)."""
        if len(cx) == 0:
            return
        gap = self._mean_gap_of[self.cseg[cx]]
        first = self.arrival[cx] + geometric_days(self._u(Purpose.ORDER_GAP, cx, 0), gap) - 1
        self.stage[cx] = 1
        self.next_order[cx] = np.where(first < self._issue_end, first, NEVER)
        self.stage[cx[first >= self._issue_end]] = 2

    def _u(self, purpose: int, cx: np.ndarray, invoice, step=0) -> np.ndarray:
        """``draws.u(seed, purpose, customer, invoice, step)`` for global customers ``cx`` (same bits, fewer steps).

        The prefixes carry the golden increment of the next field already (uint64 addition wraps, so the order
        of the additions does not matter), and the mixer runs in place.
        """
        z = self._prefix_golden[purpose][cx]
        z += _as_uint64(invoice)
        _mix_in_place(z)
        if type(step) is int:
            z += np.uint64((step + _GOLDEN) & _MASK)
        else:
            z += _as_uint64(step)
            z += _GOLDEN_U64
        _mix_in_place(z)
        z >>= _U11
        out = z.astype(np.float64)
        out += 0.5
        out *= 2.0**-53
        return out

    # --- the log --------------------------------------------------------------------------------------

    def _record(self, day: int, phase: int, cx: np.ndarray, k1, sub: int, kind, invoice,
                amount=0, channel=-1, tone=-1, cost=0, before=_NAN, after=_NAN, minutes=0.0, wait=0, pos=0,
                okey=-1, tail=0) -> None:
        """Keep one chunk of log rows (columns as scalars or arrays); expanded once at the end.

        Rows sort by (run, day, phase, ``pos``, ``okey`` or the customer, ``k1``, ``sub``, ``tail``): ``pos`` is an
        item's place in the team's queue (phase 5), ``okey`` and ``tail`` place a customer's reputation change
        right after the escalation that caused it. While the team serves its queue, rows recorded for phase 4
        belong to phase 5 at the item's place, and the rows that carry staff minutes carry its wait too.
        """
        if len(cx) == 0:
            return
        if self._serving and phase == PHASE_REVIEW:
            phase, pos = PHASE_TEAM, self._serve_pos[cx]
            wait = np.where(np.asarray(minutes) > 0, self._serve_wait[cx], 0)
        row = [len(cx), cx, day, phase, k1, sub, kind, invoice, amount, channel, tone, cost, before, after, minutes,
               wait, pos, okey, tail]
        for i in range(2, len(row)):  # keep each column value as a plain scalar or a 1-d array of the chunk's length
            x = row[i]
            if type(x) is not np.ndarray:
                if type(x) is list:
                    row[i] = np.asarray(x)
                continue
            if x.ndim == 0:
                row[i] = x.item()
            elif len(x) != len(cx):
                raise AssertionError("a log column does not match its chunk")
        self._log.append(tuple(row))

    # --- scheduling -----------------------------------------------------------------------------------

    def _schedule(self, ix: np.ndarray) -> None:
        """``Invoice.next_event`` for invoices ``ix``; settled ones and those past the horizon get none."""
        if len(ix) == 0:
            return
        v = self._inv
        review = v.review_day[ix]
        disputed = v.disputed[ix]
        in_plan = v.in_plan[ix]
        pay = np.where(in_plan, v.plan_day[ix], v.pay_day[ix]) if in_plan.any() else v.pay_day[ix]
        dispute = v.dispute_day[ix]
        # Undisputed: the earliest of payment, dispute and review; on a tie the earlier phase.
        u_pay = (pay <= dispute) & (pay <= review)
        u_dis = dispute <= review
        day = np.minimum(np.minimum(pay, dispute), review)
        phase = np.where(u_pay, PHASE_PAY, np.where(u_dis, PHASE_DISPUTE, PHASE_REVIEW))
        if disputed.any():  # disputed: the resolution or a review
            resolve = v.resolve_day[ix]
            first = v.taken_up[ix] & (resolve <= review)
            day = np.where(disputed, np.where(first, resolve, review), day)
            phase = np.where(disputed, np.where(first, PHASE_RESOLVE, PHASE_REVIEW), phase)
        escalated = v.escalation[ix] != 0
        if escalated.any():  # with an agency or in court: the day it ends
            day = np.where(escalated, v.escalation_day[ix], day)
            phase = np.where(escalated, PHASE_PAY, phase)
        day = np.where((v.balance[ix] > 0) & (day < self._end), day, NEVER)
        v.nday[ix] = day
        v.nphase[ix] = phase
        past = day < self._today
        if past.any():  # the same-day order would not hold: never silently go on
            i = ix[np.flatnonzero(past)[0]]
            raise EngineError(f"invoice {v.local[i]}-{v.seq[i]} (run {v.rep[i]}): its next event, day {day[past][0]}, "
                              f"falls before today, day {self._today}")

    # --- running --------------------------------------------------------------------------------------

    def run(self) -> list[tuple[Customers, InvoiceTable, EventLog, np.ndarray]]:
        """Simulate every seed; per seed the SimPy engine's (customers, invoices, frozen log, final goodwill)."""
        insolvent = {}
        for c, d in enumerate(self.insolvent_day.tolist()):
            if d < self._end:
                insolvent.setdefault(d, []).append(c)
        v = self._inv
        for day in range(self._end):
            self._today = day
            ins = insolvent.get(day)
            nday = v.nday[self._open]
            if day % 32 == 0:  # drop invoices that will have no more events (settled, or nothing pending)
                keep = nday != NEVER
                v.listed[self._open[~keep]] = False
                self._open, nday = self._open[keep], nday[keep]
            today = self._open[nday == day]
            ordering = np.flatnonzero(self.next_order == day) if day < self._issue_end else None
            self._advance_day(day, ins, today, ordering)
            if ins is not None:
                self._insolvency(np.array(ins, dtype=np.int64), day)
                today = today[v.nday[today] == day]  # a failing customer's invoices have no more events
            if ordering is not None:
                new = self._orders(day, ordering)
                if len(new):
                    today = np.concatenate([today, new[v.nday[new] == day]])
            for phase in (PHASE_RESOLVE, PHASE_PAY, PHASE_DISPUTE, PHASE_REVIEW):
                if len(today) == 0:
                    break
                ix = today[v.nphase[today] == phase]
                if len(ix):
                    self._phase(phase, ix, day)
                    today = today[(v.nday[today] == day) & (v.nphase[today] > phase)]
            if self._daily is not None:
                self._serve(day)
        everyone = np.flatnonzero(~self.refused)
        self._advance(everyone, self._end - 1)
        self._record_churn()
        return self._results()

    def _advance_day(self, day: int, insolvent: list[int] | None, today: np.ndarray,
                     ordering: np.ndarray | None) -> None:
        """Advance at once the customers the day will certainly touch: ordering or failing ones, and those whose
        invoices have an event today (``today``), except a payment held for the next payment run.

        The SimPy engine advances a customer at its first touch of the day; nothing changes its goodwill
        before that, so advancing earlier in the day gives the same numbers, provided the set holds only
        touched customers (an invoice's first event of the day decides whether it touches its customer).
        Customers of invoices issued today are ordering ones. Others advance lazily, at their first touch.
        """
        v = self._inv
        parts = [] if ordering is None else [ordering[self.stage[ordering] == 1]]
        if insolvent is not None:
            c = np.array(insolvent, dtype=np.int64)
            parts.append(c[(self.arrival[c] <= day) & ~self.refused[c]])
        if len(today):
            own = (v.nphase[today] == PHASE_PAY) & (v.escalation[today] == 0) & ~v.in_plan[today]
            held = own & (self._runs[v.seg[today], day] != day)
            parts.append(v.cust[today[~held]])
        if parts:
            self._advance(np.unique(np.concatenate(parts)), day)

    def _phase(self, phase: int, ix: np.ndarray, day: int) -> None:
        """Handle the phase's events in rounds: round k is the k-th due invoice of each customer.

        With reputation spill-over, reviews are cut into blocks ending at each possible escalation, and an
        escalation's spill-over reaches the other customers before the next block (see :mod:`vector_team`).
        """
        v = self._inv
        cust = v.cust[ix]
        order = np.lexsort((v.seq[ix], cust))
        ix, cust = ix[order], cust[order]
        handler = (None, self._resolve_dispute, self._pay, self._raise_dispute, self._review)[phase]
        if phase == PHASE_REVIEW and self._spill > 0:
            ends = self._may_escalate(ix, day)
            if ends.any():
                blocks = self._blocks(self.rep[cust], ends)
                for b in range(int(blocks.max()) + 1):
                    sel = blocks == b
                    self._rounds(handler, ix[sel], cust[sel], day)
                    self._apply_spill(day)
                return
        self._rounds(handler, ix, cust, day)
        if self._spill_pending:
            raise AssertionError("an escalation outside the reviews that may escalate")

    def _rounds(self, handler, ix: np.ndarray, cust: np.ndarray, day: int) -> None:
        """``handler`` on invoices ``ix`` (sorted by customer, then sequence), the k-th of each customer in round k."""
        rank = np.arange(len(ix)) - group_starts(cust)
        for k in range(int(rank.max()) + 1):
            sub = ix[rank == k]
            handler(sub, day)
            self._schedule(sub)

    def _record_churn(self) -> None:
        c = np.flatnonzero(self.churn_day < np.minimum(self._end, self.insolvent_day))
        self._record_days(self.churn_day[c], PHASE_CHURN, c, 0, 0, EventKind.CHURNED, -1)

    def _record_days(self, days, phase, cx, k1, sub, kind, invoice) -> None:
        self._record(np.asarray(days, dtype=np.int64), phase, cx, k1, sub, int(kind), invoice)

    def _log_columns(self) -> dict[str, np.ndarray]:
        """The kept chunks as whole columns (a scalar stands for its whole chunk).

        Columns of the event log take the log's own dtypes here (a byte for a kind), so sorting and splitting
        them by run moves less memory and the runs' logs are slices, not copies; the sort keys are int64.
        """
        names = ("cx", "day", "phase", "k1", "sub", "kind", "invoice", "amount", "channel", "tone", "cost",
                 "goodwill_before", "goodwill_after", "minutes", "wait", "pos", "okey", "tail")
        counts = np.array([c[0] for c in self._log], dtype=np.int64)
        cols = {}
        optional = {"wait": 0, "pos": 0, "okey": -1, "tail": 0}  # the team's and spill-over's: often unused
        for j, name in enumerate(names, start=1):
            dtype = LOG_DTYPES.get(name, np.dtype(np.int64))
            values = [c[j] for c in self._log]
            if name in optional and all(type(x) is not np.ndarray and x == optional[name] for x in values):
                continue  # every row has the neutral value: no column (a large run's memory)
            is_array = np.array([type(x) is np.ndarray for x in values], dtype=bool)
            if is_array.all():
                cols[name] = np.concatenate(values, dtype=dtype, casting="unsafe")
                continue
            scalars = np.array([0 if a else x for a, x in zip(is_array, values)], dtype=dtype)
            out = np.repeat(scalars, counts)
            if is_array.any():
                out[np.repeat(is_array, counts)] = np.concatenate([x for a, x in zip(is_array, values) if a],
                                                                  dtype=dtype, casting="unsafe")
            cols[name] = out
        cx = cols.pop("cx")
        cols["rep"] = self.rep[cx]
        cols["customer"] = self.local[cx].astype(LOG_DTYPES["customer"])
        if "okey" in cols:
            okey = cols["okey"]
            cols["okey"] = np.where(okey < 0, cols["customer"], self.local[np.maximum(okey, 0)])
        return cols

    def _results(self) -> list[tuple[Customers, InvoiceTable, EventLog, np.ndarray]]:
        v = self._inv
        n = v.n
        cols = self._log_columns()
        keys = ("tail", "sub", "k1", "okey", "pos", "phase", "day", "rep")  # last key sorts first
        order = np.lexsort(packed_sort_keys([cols[k] if k in cols else cols["customer"] for k in keys
                                             if k in cols or k == "okey"]))
        cols = {k: cols[k][order] for k in (*LOG_COLUMNS, "rep") if k in cols}
        bounds = np.searchsorted(cols["rep"], np.arange(len(self.seeds) + 1))
        by_run = np.lexsort((v.row[:n], v.rep[:n]))  # each run's invoices in table-row order
        inv_bounds = np.searchsorted(v.rep[:n][by_run], np.arange(len(self.seeds) + 1))
        out = []
        for r, customers in enumerate(self.customers):
            lo, hi = bounds[r], bounds[r + 1]
            log = EventLog.from_columns(**{k: cols[k][lo:hi] for k in LOG_COLUMNS if k in cols})
            ids = by_run[inv_bounds[r]:inv_bounds[r + 1]]
            table = InvoiceTable(customer=v.local[ids], seq=v.seq[ids], segment=v.seg[ids], issue_day=v.issue[ids],
                                 due_day=v.due[ids], amount=v.amount[ids], discount_rate=v.discount_rate[ids],
                                 discount_deadline=v.discount_deadline[ids], balance=v.balance[ids])
            a, b = self._offset[r], self._offset[r + 1]
            out.append((customers, table, log, self.goodwill[a:b].copy()))
        return out

    # --- phase 0: insolvency and orders ---------------------------------------------------------------

    def _insolvency(self, cx: np.ndarray, day: int) -> None:
        cx = cx[(self.arrival[cx] <= day) & ~self.refused[cx]]
        if len(cx) == 0:
            return
        self._record(day, PHASE_ORDER, cx, -(1 << 50), 0, EventKind.INSOLVENT, -1)
        g = self._goodwill_on(cx, day)
        v = self._inv
        ix = self._unpaid_of(cx)  # cx ascending (customer order)
        if len(ix):
            c = v.cust[ix]
            gc = g[np.searchsorted(cx, c)]
            self._accrue(ix, day)
            self._record(day, PHASE_ORDER, c, -(1 << 40) + v.seq[ix], 0, EventKind.INSOLVENCY_LOSS, v.row[ix],
                         v.balance[ix], before=gc, after=gc)
            v.balance[ix] = 0
            v.escalation[ix] = 0
            self._settle_fees(ix, day, False, PHASE_ORDER, -(1 << 40) + v.seq[ix], 1, g=gc)
            self._schedule(ix)

    def _unpaid_of(self, cx: np.ndarray) -> np.ndarray:
        """Invoices with a balance of customers ``cx`` (distinct), in ascending invoice order.

        Read from the customers' rows of the invoice index, not from a scan of every invoice: insolvencies
        and credit checks ask about a few customers on many days.
        """
        if len(cx) == 0:
            return np.zeros(0, dtype=np.int64)
        ix = self._inv_of[cx, : int(self.order_seq[cx].max())].ravel()
        ix = ix[ix >= 0].astype(np.int64)
        return np.sort(ix[self._inv.balance[ix] > 0])

    def _open_by_customer(self, cx: np.ndarray, day: int, hold: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Per customer in ``cx``: its open principal, and whether an invoice is overdue beyond ``hold`` days."""
        v = self._inv
        ix = self._unpaid_of(cx)
        pos = np.searchsorted(cx, v.cust[ix])
        owed = np.bincount(pos, weights=v.balance[ix], minlength=len(cx)).astype(np.int64)
        overdue = np.zeros(len(cx), dtype=bool)
        if hold is not None:
            late = (day - v.due[ix] > hold[pos]) & ~v.disputed[ix] & ~v.in_plan[ix]
            overdue[pos[late]] = True
        return owed, overdue

    def _onboard(self, cx: np.ndarray, day: int) -> np.ndarray:
        """New customers apply: checked (perhaps refused) if the policy says so; returns those who may trade."""
        rules = [self._deciders[p].onboarding(s) for p, s in zip(self._policy_of[self.rep[cx]].tolist(),
                                                                 self.cseg[cx].tolist())]
        checked = np.array([r is not None for r in rules], dtype=bool)
        threshold = np.array([np.inf if r is None else r[0] for r in rules], dtype=np.float64)
        cost = np.array([0 if r is None else r[1] for r in rules], dtype=np.int64)
        limit = np.array([0 if r is None else r[2] for r in rules], dtype=np.int64)
        report = np.concatenate([c.credit_report for c in self.customers])[cx] if len(cx) else np.zeros(0)
        refused = checked & (report > threshold)
        self.refused[cx[refused]] = True
        self._record(day, PHASE_ORDER, cx[refused], -(1 << 45), 0, EventKind.CUSTOMER_REFUSED, -1, cost=cost[refused])
        ok = cx[~refused]
        self.limit[ok] = limit[~refused]
        self._record(day, PHASE_ORDER, ok, -(1 << 45), 0, EventKind.CUSTOMER_ONBOARDED, -1, cost=cost[~refused])
        return ok

    def _orders(self, day: int, cx: np.ndarray) -> np.ndarray:
        """The day's orders of customers ``cx`` (those whose next order day it is); returns the new invoices."""
        none = np.zeros(0, dtype=np.int64)
        if len(cx) == 0:
            return none
        applying = cx[self.stage[cx] == 0]
        if len(applying):
            ok = applying[self.insolvent_day[applying] > day]
            self.stage[applying] = 2
            self.next_order[applying] = NEVER
            self._start_ordering(self._onboard(ok, day))
            cx = np.flatnonzero(self.next_order == day)
        cx = cx[self.stage[cx] == 1]
        if len(cx) == 0:
            return none
        self._advance(cx, day)
        gone = (self.churn_day[cx] <= day) | (self.insolvent_day[cx] <= day)
        self.stage[cx[gone]] = 2
        self.next_order[cx[gone]] = NEVER
        cx = cx[~gone]
        if len(cx) == 0:
            return none
        refuse = np.zeros(len(cx), dtype=bool)
        hold = self._hold[self.cpseg[cx]]
        limit = self.limit[cx]
        if self._any_hold or limit.any():
            amount = self._amount(cx)
            owed, overdue = self._open_by_customer(cx, day, hold if self._any_hold else None)
            refuse = (overdue & (hold >= 0)) | ((limit > 0) & (owed + amount > limit))
            r = cx[refuse]
            before, after = self._change_goodwill(r, self._b.credit_hold_goodwill, day)
            self._record(day, PHASE_ORDER, r, self.order_seq[r], 0, EventKind.ORDER_REFUSED, -1, amount[refuse],
                         before=before, after=after)
        new = self._issue(cx[~refuse], day)
        self.order_seq[cx] += 1
        factor = np.maximum(0.0, 1.0 + self._b.order_goodwill_elasticity * (self.goodwill[cx] - self.baseline[cx]))
        stop = factor <= 0
        live = cx[~stop]
        gap = self._mean_gap_of[self.cseg[live]] / factor[~stop]
        nxt = day + geometric_days(self._u(Purpose.ORDER_GAP, live, self.order_seq[live]), gap)
        self.next_order[cx[stop]] = NEVER
        self.stage[cx[stop]] = 2
        self.next_order[live] = np.where(nxt < self._issue_end, nxt, NEVER)
        self.stage[live[nxt >= self._issue_end]] = 2
        return new

    def _amount(self, cx: np.ndarray) -> np.ndarray:
        """Amount of each customer's next order (the same draw whether it is supplied or refused)."""
        seg = self.cseg[cx]
        return rules.cents_of(_lognormal(self._u(Purpose.INVOICE_AMOUNT, cx, self.order_seq[cx]),
                                         self._seg["amount_median"][seg], self._seg["amount_sigma"][seg]))

    def _index_invoices(self, cx: np.ndarray, seq: np.ndarray, ix: np.ndarray) -> None:
        """Enter new invoices ``ix`` (orders ``seq`` of customers ``cx``) in the per-customer invoice index."""
        width = self._inv_of.shape[1]
        if len(seq) and int(seq.max()) >= width:
            grown = np.full((len(self.rep), max(2 * width, int(seq.max()) + 1)), -1, dtype=np.int32)
            grown[:, :width] = self._inv_of
            self._inv_of = grown
        self._inv_of[cx, seq] = ix

    def _issue(self, cx: np.ndarray, day: int) -> np.ndarray:
        """New invoices for customers ``cx`` (sorted: table rows follow customer order within the day); their ids."""
        if len(cx) == 0:
            return np.zeros(0, dtype=np.int64)
        v, b, S = self._inv, self._b, self._seg
        ix = v.add(len(cx))
        seg = self.cseg[cx]
        local, seq = self.local[cx], self.order_seq[cx]
        v.cust[ix], v.local[ix], v.seq[ix], v.seg[ix], v.rep[ix] = cx, local, seq, seg, self.rep[cx]
        pseg = v.pseg[ix] = self.cpseg[cx]
        rep = self.rep[cx]  # ascending, as cx is: each run's new rows follow its customers' order
        counts = np.bincount(rep, minlength=len(self._rows))
        first = np.cumsum(counts) - counts
        v.row[ix] = self._rows[rep] + np.arange(len(cx)) - first[rep]
        self._rows += counts
        amount = self._amount(cx)
        v.amount[ix] = amount
        v.balance[ix] = amount
        v.issue[ix] = day
        due = day + self._terms[seg]
        if self._eom.any():
            eom = self._eom[seg]
            due[eom] = [business_calendar.due_day(day, int(t), True, self._start_date) for t in self._terms[seg][eom]]
        v.due[ix] = due
        disputes = self._u(Purpose.DISPUTE, cx, seq) < S["dispute_rate"][seg]
        d_day = day + uniform_int(self._u(Purpose.DISPUTE_DAY, cx, seq), 0, self._latest_dispute[seg])
        v.dispute_day[ix] = np.where(disputes, d_day, NEVER)
        liquidity = self._liquidity_on(cx, day)
        ignore = S["ignore_share"][seg]
        ignore = np.where(liquidity == DISTRESSED, ignore + (1.0 - ignore) * b.distressed_ignore, ignore)
        pays = self._u(Purpose.IGNORES_INVOICE, cx, seq) >= ignore
        lateness = self.habit[cx] + S["days_late_sd_within"][seg] * exact_normal_ppf(
            self._u(Purpose.PAYMENT_LATENESS, cx, seq))
        extra = b.strained_extra_days * np.where(liquidity == DISTRESSED, 2, 1)
        lateness = np.where(liquidity != HEALTHY, lateness + extra, lateness)
        pay_day = np.maximum(day, due + np.rint(lateness).astype(np.int64))
        if b.set_aside_pay_days > 0:
            late = self._set_aside_days(self._u(Purpose.SET_ASIDE_PAY_DAY, cx, seq))
            aside = np.where(late >= 0, due + 1 + late, NEVER)
        else:
            aside = np.full(len(cx), NEVER)
        v.pay_day[ix] = np.where(pays, pay_day, aside)
        # The policy's answer at issue: the discount offer, and the first review (may be today).
        P = self.policy
        offers = P.offers_discount[pseg]
        if offers.any():
            o = ix[offers]
            oseg = seg[offers]
            rate, window = P.discount_rate[pseg[offers]], P.discount_window[pseg[offers]]
            v.discount_rate[o] = rate
            v.discount_deadline[o] = day + window
            eligible = v.dispute_day[o] == NEVER
            prob = S["discount_appetite"][oseg] * np.minimum(rate / b.discount_reference_rate, 1.0)
            takes = eligible & (self._u(Purpose.DISCOUNT_TAKE_UP, v.cust[o], v.seq[o]) < prob)
            t = o[takes]
            pay = day + uniform_int(self._u(Purpose.DISCOUNT_PAY_DAY, v.cust[t], v.seq[t]), 0, window[takes])
            v.pay_day[t] = np.minimum(v.pay_day[t], pay)
        review = self._next_review(ix, day - 1)
        v.review_day[ix] = np.where(review != NEVER, review, v.review_day[ix])
        self._schedule(ix)
        self._open = np.concatenate([self._open, ix])
        self._index_invoices(cx, seq, ix)
        return ix

    def _set_aside_days(self, p: np.ndarray) -> np.ndarray:
        """``behaviour.set_aside_days`` as the SimPy engine computes it per invoice (tails via exact_normal_ppf)."""
        b = self._b
        never = b.set_aside_never_share
        rescaled = np.clip((p - never) / max(1.0 - never, 1e-300), 2.0**-53, 1.0 - 2.0**-53)
        late = np.minimum(_lognormal(rescaled, np.float64(b.set_aside_pay_days), np.float64(b.set_aside_pay_sigma)),
                          1e6).astype(np.int64)
        return np.where(p < never, -1, late)

    # --- phases 1-4 -----------------------------------------------------------------------------------

    def _resolve_dispute(self, ix: np.ndarray, day: int) -> None:
        v, S = self._inv, self._seg
        cx, seg, seq = v.cust[ix], v.seg[ix], v.seq[ix]
        v.disputed[ix] = False
        v.resolve_day[ix] = NEVER
        g = self._goodwill_on(cx, day)
        self._record(day, PHASE_RESOLVE, cx, seq, 0, EventKind.DISPUTE_RESOLVED, v.row[ix], before=g, after=g)
        note = self._u(Purpose.CREDIT_NOTE, cx, seq) < S["credit_note_share"][seg]
        if note.any():
            n, nseg = ix[note], seg[note]
            fraction = np.minimum(1.0, 2.0 * S["credit_note_fraction"][nseg] *
                                  self._u(Purpose.CREDIT_NOTE_FRACTION, v.cust[n], v.seq[n]))
            credit = rules.share_of(v.balance[n], fraction)
            before, after = self._change_goodwill(v.cust[n], self._b.credit_note_goodwill, day)
            self._accrue(n, day)
            v.balance[n] -= credit
            self._record(day, PHASE_RESOLVE, v.cust[n], v.seq[n], 1, EventKind.CREDIT_NOTE, v.row[n], credit,
                         before=before, after=after)
            closed = n[v.balance[n] == 0]
            self._settle_fees(closed, day, False, PHASE_RESOLVE, v.seq[closed], 2)
        waiting = v.pay_day[ix] != NEVER
        if waiting.any():
            w = ix[waiting]
            delay = exponential(self._u(Purpose.RESOLUTION_PAY_DELAY, v.cust[w], v.seq[w]),
                                self._b.response_delay_days)
            v.pay_day[w] = np.maximum(v.pay_day[w], self._prompted(day, v.due[w], delay))

    @staticmethod
    def _prompted(day: int, due: np.ndarray, delay: np.ndarray) -> np.ndarray:
        return np.where(day < due, due, day + 1 + np.floor(delay).astype(np.int64))

    # --- phase 2: payments, instalments, escalations ending ---------------------------------------------

    def _pay(self, ix: np.ndarray, day: int) -> None:
        v = self._inv
        esc = v.escalation[ix] != 0
        if esc.any():
            self._end_escalation(ix[esc], day)
        plan = ~esc & v.in_plan[ix]
        if plan.any():
            self._instalment(ix[plan], day)
        rest = ~esc & ~plan
        if rest.any():
            self._own_payment(ix[rest], day)

    def _own_payment(self, ix: np.ndarray, day: int) -> None:
        v, S, b = self._inv, self._seg, self._b
        seg = v.seg[ix]
        run = self._runs[seg, day]
        deferred = run != day
        if deferred.any():
            v.pay_day[ix[deferred]] = run[deferred]
            ix, seg = ix[~deferred], seg[~deferred]
            if len(ix) == 0:
                return
        cx, seq = v.cust[ix], v.seq[ix]
        g = self._goodwill_on(cx, day)
        self._accrue(ix, day)
        settle = v.settle_forgive[ix] > 0
        if settle.any():
            s = ix[settle]
            forgiven = np.minimum(v.balance[s] - 1, np.rint(v.balance[s] * v.settle_forgive[s]).astype(np.int64))
            v.settle_forgive[s] = 0.0
            f = forgiven > 0
            v.balance[s[f]] -= forgiven[f]
            self._record(day, PHASE_PAY, v.cust[s[f]], v.seq[s[f]], 0, EventKind.SETTLEMENT, v.row[s[f]], forgiven[f],
                         before=g[settle][f], after=g[settle][f])
        discount_on = ~settle & (v.discount_rate[ix] > 0) & (day <= v.discount_deadline[ix])
        if discount_on.any():
            d = ix[discount_on]
            discount = np.minimum(v.balance[d] - 1, np.rint(v.amount[d] * v.discount_rate[d]).astype(np.int64))
            gives = discount > 0
            if gives.any():
                dg = d[gives]
                before, after = self._change_goodwill(v.cust[dg], b.discount_goodwill, day)
                v.balance[dg] -= discount[gives]
                self._record(day, PHASE_PAY, v.cust[dg], v.seq[dg], 1, EventKind.DISCOUNT, v.row[dg], discount[gives],
                             before=before, after=after)
                pos = np.flatnonzero(discount_on)[gives]
                g[pos] = after
        balance = v.balance[ix]
        paid = balance.copy()
        rest = ~settle & ~discount_on & (balance >= 2)
        if rest.any():
            r = ix[rest]
            healthy = self._liquidity_on(v.cust[r], day) == HEALTHY
            share = np.where(healthy, S["partial_share"][seg[rest]],
                             np.minimum(1.0, S["partial_share"][seg[rest]] + b.strained_part_payment))
            part = self._u(Purpose.PARTIAL_PAYMENT, v.cust[r], v.seq[r], v.payments[r]) < share
            if part.any():
                pr = r[part]
                pm = v.payments[pr]
                mean = b.part_payment_fraction
                low, high = min(max(mean - 0.2, 0.05), 0.95), min(max(mean + 0.2, 0.05), 0.95)
                fraction = low + (high - low) * self._u(Purpose.PARTIAL_FRACTION, v.cust[pr], v.seq[pr], pm)
                amounts = np.minimum(rules.share_of(v.balance[pr], fraction), v.balance[pr] - 1)
                pos = np.flatnonzero(rest)[part]
                paid[pos] = amounts
        v.balance[ix] = balance - paid
        v.payments[ix] += 1
        self._record(day, PHASE_PAY, cx, seq, 2, EventKind.PAYMENT, v.row[ix], paid, before=g, after=g)
        left = v.balance[ix] > 0
        lx = ix[left]
        gap = geometric_days(self._u(Purpose.PARTIAL_GAP, v.cust[lx], v.seq[lx], v.payments[lx]),
                             S["partial_gap_days"][v.seg[lx]])
        v.pay_day[lx] = day + gap
        closed = ix[~left]
        v.pay_day[closed] = NEVER
        self._settle_fees(closed, day, True, PHASE_PAY, v.seq[closed], 3)

    # --- phase 3: disputes ----------------------------------------------------------------------------

    def _raise_dispute(self, ix: np.ndarray, day: int) -> None:
        v, S = self._inv, self._seg
        cx, seg = v.cust[ix], v.seg[ix]
        v.disputed[ix] = True
        v.dispute_day[ix] = NEVER
        before, after = self._change_goodwill(cx, self._b.dispute_goodwill, day)
        self._record(day, PHASE_DISPUTE, cx, v.seq[ix], 0, EventKind.DISPUTE_RAISED, v.row[ix], before=before,
                     after=after)
        wait = exponential(self._u(Purpose.DISPUTE_RESOLUTION_DAYS, v.cust[ix], v.seq[ix]),
                           S["dispute_resolution_days"][seg])
        v.resolve_day[ix] = day + 1 + wait.astype(np.int64)
        v.disputed_since[ix] = day
        if self._queues(self._minutes_dispute):  # resolution waits until a collector takes up the case
            v.taken_up[ix] = False
            self._enqueue(ix, day, A_DISPUTE, 0, WORK_DISPUTE, self._minutes_dispute, 0)
        a = ix[~v.in_plan[ix]]
        review = self._next_review(a, day - 1)
        keep = (review != NEVER) & (v.balance[a] > 0) & (v.escalation[a] == 0)
        v.review_day[a[keep]] = review[keep]

    # --- phase 4: reviews -----------------------------------------------------------------------------

    def _next_review(self, ix: np.ndarray, after) -> np.ndarray:
        v = self._inv
        state = {name: getattr(v, name)[ix] for name in (
            "fees_claimed", "had_settlement_offer", "was_at_agency", "was_in_court", "disputed", "mediated",
            "disputed_since", "had_terms", "plan_terms")}
        return self.policy.next_review(v.pseg[ix], v.due[ix], v.plan_broken_day[ix], v.had_plan[ix], after, state)

    def _review(self, ix: np.ndarray, day: int) -> None:
        """``RuleBasedPolicy.decide`` for a round of invoices, then its actions in the policy's order."""
        v, P = self._inv, self.policy
        v.review_day[ix] = NEVER
        point = v.pending[ix]
        v.pending[ix] = int(Point.REVIEW)
        cx, pseg, due = v.cust[ix], v.pseg[ix], v.due[ix]
        self._advance(cx, day)
        disputed, balance = v.disputed[ix], v.balance[ix]
        n = len(ix)
        R = point == Point.REVIEW
        D = point == Point.PLAN_DEFAULTED
        E = point == Point.ESCALATION_ENDED
        write_off_due = day >= due + P.write_off_age[pseg]
        nxt = self._next_review(ix, day)
        review = np.full(n, NEVER)
        wo = np.zeros(n, dtype=bool)
        escal = np.zeros(n, dtype=np.int64)  # 1 agency, 2 legal
        # An ordinary review: a plan offer or today's step, fees, settlement, mediation; or agency/legal alone.
        uses, no = P.uses, np.zeros(n, dtype=bool)
        offers_terms = (R & P.terms_offered[pseg] & ~v.had_terms[ix] & ~disputed & ~v.in_plan[ix]
                        & (day == due + P.terms_offset[pseg])) if uses["terms_offered"] else no
        offers_plan = (R & ~offers_terms & P.plan_offered[pseg] & ~v.had_plan[ix] & ~disputed
                       & (day == due + P.plan_offset[pseg])) if uses["plan_offered"] else no
        start = P.ladder_start(pseg, due, v.plan_broken_day[ix], v.plan_terms[ix])
        offers_plan = offers_plan | offers_terms
        step = np.where(R & ~offers_plan & ~(disputed & P.pause[pseg]), P.step_today(pseg, start, day), -1)
        fee = (R & P.fee_on[pseg] & (day == due + P.fee_offset[pseg]) & ~v.fees_claimed[ix]) if uses["fee_on"] else no
        settle = (R & P.settle_on[pseg] & (day == due + P.settle_offset[pseg]) & ~v.had_settlement_offer[ix]
                  & ~disputed) if uses["settle_on"] else no
        mediate = (R & P.mediation_on[pseg] & disputed & ~v.mediated[ix]
                   & (day >= v.disputed_since[ix] + P.mediation_after[pseg])) if uses["mediation_on"] else no
        sue = balance >= P.legal_min[pseg]
        if uses["escalation"]:
            free = R & ~write_off_due & ~disputed
            legal_day = free & P.legal_on[pseg] & (day == due + P.legal_offset[pseg]) & ~v.was_in_court[ix]
            agency_day = (free & ~legal_day & P.agency_on[pseg] & (day == due + P.agency_offset[pseg])
                          & ~v.was_at_agency[ix])
            alone = legal_day | agency_day
            offers_plan = offers_plan & ~alone
            step = np.where(alone, -1, step)
            fee, settle, mediate = fee & ~alone, settle & ~alone, mediate & ~alone
            escal = np.where(legal_day & sue, 2, np.where(agency_day, 1, escal))
            wo |= legal_day & ~sue
        else:
            alone = no
        wo |= R & ~alone & write_off_due
        review = np.where(R, nxt, review)
        # A broken plan: write off, escalate, or resume the ladder.
        on_default = P.on_default_of(pseg, v.plan_terms[ix])
        d_wo = D & ((on_default == 3) | write_off_due)
        d_esc = D & ~d_wo & (on_default == 2) & ~disputed
        d_agency = d_esc & P.agency_on[pseg] & ~v.was_at_agency[ix]
        d_legal = d_esc & ~d_agency & P.legal_on[pseg] & ~v.was_in_court[ix]
        d_none = d_esc & ~d_agency & ~d_legal
        escal = np.where(d_agency, 1, np.where(d_legal & sue, 2, escal))
        wo |= d_wo | (d_legal & ~sue) | d_none
        review = np.where(D & ~d_wo & ~d_none, nxt, review)
        # An agency gave up or a court case brought nothing: sue, write off, or resume the ladder.
        can_sue = E & P.legal_on[pseg] & ~v.was_in_court[ix] & (day >= due + P.legal_offset[pseg])
        e_wo = E & ~can_sue & (write_off_due | v.was_in_court[ix])
        escal = np.where(can_sue & sue, 2, escal)
        wo |= (can_sue & ~sue) | e_wo
        review = np.where(E & ~can_sue & ~e_wo, nxt, review)
        # Carry out the actions in the decision's order; an action finds the invoice as the last one left it.
        # With a limited team, an action that takes staff time joins the team's queue instead (phase 5).
        if offers_plan.any():
            sel, terms = ix[offers_plan], offers_terms[offers_plan]
            if self._queues(self._minutes_call):
                self._enqueue(sel, day, A_PLAN, terms.astype(np.int64), WORK_CALL, self._minutes_call, 0)
            else:
                self._offer_plan(sel, day, terms)
        if (step >= 0).any():
            sel, steps = ix[step >= 0], step[step >= 0]
            if self._daily is not None:
                channel = P.channel[v.pseg[sel], steps]
                minutes = self._minutes_by_channel[channel]
                q = minutes > 0
                if q.any():
                    work = self._work_class_of_channel[channel[q]]
                    self._enqueue(sel[q], day, A_REMIND, steps[q], work, minutes[q], 0)
                sel, steps = sel[~q], steps[~q]
            if len(sel):
                self._remind(sel, day, steps)
        for code, mask, act in ((A_FEE, fee, self._claim_fees), (A_SETTLE, settle, self._offer_settlement),
                                (A_MEDIATE, mediate, self._mediate)):
            sel = ix[mask]
            sel = sel[v.balance[sel] > 0]
            if len(sel):
                if self._queues(self._minutes_letter):
                    self._enqueue(sel, day, code, 0, WORK_LETTER, self._minutes_letter, code - A_FEE + 1)
                else:
                    act(sel, day)
        for level in (1, 2):
            sel = ix[escal == level]
            sel = sel[v.balance[sel] > 0]
            if len(sel):
                if self._queues(self._minutes_letter):
                    code = A_AGENCY if level == 1 else A_LEGAL
                    self._enqueue(sel, day, code, 0, WORK_LETTER, self._minutes_letter, 4)
                else:
                    self._escalate(sel, day, level == 1)
        w = ix[wo]
        w = w[v.balance[w] > 0]
        if len(w):
            self._write_off(w, day)
        busy = v.in_plan[ix] | (v.escalation[ix] != 0)
        keep = ~busy & (review != NEVER) & (v.balance[ix] > 0)
        v.review_day[ix[keep]] = review[keep]
        v.review_day[ix[busy]] = NEVER

    def _write_off(self, w: np.ndarray, day: int) -> None:
        v = self._inv
        self._accrue(w, day)
        g = self._goodwill_on(v.cust[w], day)
        self._record(day, PHASE_REVIEW, v.cust[w], v.seq[w], 70, EventKind.WRITE_OFF, v.row[w], v.balance[w],
                     before=g, after=g)
        v.balance[w] = 0
        self._settle_fees(w, day, False, PHASE_REVIEW, v.seq[w], 71)

    def _remind(self, ix: np.ndarray, day: int, step: np.ndarray) -> None:
        v, P, b, S = self._inv, self.policy, self._b, self._seg
        seg = v.seg[ix]
        cx = v.cust[ix]
        pseg = v.pseg[ix]
        channel, tone, cost = P.channel[pseg, step], P.tone[pseg, step], P.cost[pseg, step]
        change = self._goodwill_by_tone[tone] + self._goodwill_by_channel[channel]
        before, after = self._change_goodwill(cx, change, day)
        self._record(day, PHASE_REVIEW, cx, v.seq[ix], 20, EventKind.REMINDER, v.row[ix], 0, channel, tone, cost,
                     before, after, self._minutes_by_channel[channel])
        go = ~v.disputed[ix] & (v.pay_day[ix] > day)
        ix, seg, cx, channel, tone, after = ix[go], seg[go], cx[go], channel[go], tone[go], after[go]
        if len(ix) == 0:
            return
        liquidity = self._liquidity_on(cx, day)
        asks = ((liquidity != HEALTHY) & (day > v.due[ix]) & ~v.plan_requested[ix] & ~v.in_plan[ix])
        granted = np.zeros(len(ix), dtype=bool)
        if asks.any():
            a = np.flatnonzero(asks)
            a = a[self._u(Purpose.PLAN_REQUEST, v.cust[ix[a]], v.seq[ix[a]]) < b.plan_request_share]
            if len(a):
                ax = ix[a]
                v.plan_requested[ax] = True
                grant = P.on_request[v.pseg[ax]] & ~v.disputed[ax]
                refused = ax[~grant]
                pb, pa = self._change_goodwill(v.cust[refused], b.plan_refused_goodwill, day)
                self._record(day, PHASE_REVIEW, v.cust[refused], v.seq[refused], 21, EventKind.PLAN_REQUESTED,
                             v.row[refused], before=pb, after=pa)
                ok = ax[grant]
                if len(ok):
                    g = self._goodwill_on(v.cust[ok], day)
                    self._record(day, PHASE_REVIEW, v.cust[ok], v.seq[ok], 21, EventKind.PLAN_REQUESTED, v.row[ok],
                                 before=g, after=g)
                    v.had_plan[ok] = True
                    self._agree_plan(ok, day, 22)
                    granted[a[grant]] = True
        if granted.any():
            keep = ~granted
            ix, seg, cx, channel, tone, after, liquidity = (ix[keep], seg[keep], cx[keep], channel[keep], tone[keep],
                                                            after[keep], liquidity[keep])
        mult = np.where(liquidity == STRAINED, b.strained_response,
                        np.where(liquidity == DISTRESSED, b.distressed_response, 1.0))
        responsiveness = S["responsiveness"][seg] * mult
        w = b.goodwill_response_weight
        factor = 1.0 - w + 2.0 * w * after
        p = np.minimum(self._response_by_channel[channel] * self._response_by_tone[tone] * responsiveness * factor,
                       b.max_response_probability)
        p = p * self._age[np.maximum(day - v.due[ix], 0)]
        unmoved = v.unmoved[ix] * (1.0 - p)
        v.unmoved[ix] = unmoved
        moved = self._u(Purpose.RESPONSE, v.cust[ix], v.seq[ix]) > unmoved
        if moved.any():
            m = ix[moved]
            delay = exponential(self._u(Purpose.RESPONSE_DELAY, v.cust[m], v.seq[m], v.responses[m]),
                                b.response_delay_days)
            v.responses[m] += 1
            v.pay_day[m] = np.minimum(v.pay_day[m], self._prompted(day, v.due[m], delay))

def run_batch(scenario: Scenario, decider: RuleBasedPolicy | Sequence[RuleBasedPolicy], seeds,
              policy_of: Sequence[int] | None = None) -> list[tuple]:
    """Run ``seeds`` as one batch; per seed (customers, invoices, events, final goodwill).

    With several policies, ``policy_of[i]`` is the index of the policy seed i runs under.
    """
    return VectorEngine(scenario, decider, seeds, policy_of=policy_of).run()


def run_one(scenario: Scenario, decider: RuleBasedPolicy, seed: int) -> tuple:
    """The vectorised engine's answer for one seed, shaped like ``SimpyEngine.run``'s."""
    return run_batch(scenario, decider, [seed])[0]




ENGINES = ("simpy", "vectorised")


class EngineFallbackWarning(UserWarning):
    """``engine="vectorised"`` was asked for but the SimPy engine ran (the message says why)."""


def choose_engine(engine: str, scenario: Scenario, decider: object) -> str:
    """The engine that will run: ``engine``, or "simpy" with a one-line warning when vectorised cannot."""
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r} is not one of {', '.join(ENGINES)}")
    if engine == "vectorised":
        reason = supports(scenario, decider)
        if reason is not None:
            warnings.warn(f"vectorised engine not used, running the SimPy engine: {reason}",
                          EngineFallbackWarning, stacklevel=3)
            return "simpy"
    return engine
