"""The compiled engine: the SimPy engine's model, run by a numba-compiled event loop.

It runs the rule-based policy (the tables of :mod:`collectsim.model.policy_tables`) on the very rule functions the
SimPy engine calls, compiled (see :mod:`collectsim.engines.jit` and :mod:`collectsim.engines.compiled_kernel`),
and gives the same results to the last bit: the same invoices, the same event log row for row, the same final goodwill.
This module prepares a run's inputs as arrays (customers, liquidity paths, the scenario's parameters, the
policy's tables), calls the loop, and turns its arrays into an invoice table and an event log. The runs of a
batch go to a pool of threads: the compiled loop releases the interpreter's lock, so they run side by side.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from collectsim.config import business_calendar
from collectsim.config.scenario import Scenario, terms_choices, weekday_cumulative, weekday_mask
from collectsim.engines import compiled_kernel as K
from collectsim.engines import parts
from collectsim.engines.jit import kernels
from collectsim.model import behaviour as rules
from collectsim.model.draws import _prefixes
from collectsim.model.liquidity import BLOCK_DAYS, NEVER, Liquidity, block_probabilities
from collectsim.model.opening import O_CUSTOMER, opening_gone, opening_invoices
from collectsim.model.policy_tables import PolicyTables
from collectsim.model.portfolio import Customers, make_customers
from collectsim.model.standing import NO_DISPUTE, RECENT_INVOICES
from collectsim.results.eventlog import COLUMN_DTYPES, COLUMNS, EventKind, EventLog
from collectsim.results.invoices import COLUMNS as INVOICE_COLUMNS
from collectsim.results.invoices import InvoiceTable

Outputs = tuple[Customers, InvoiceTable, EventLog, np.ndarray]


def scenario_tables(scenario: Scenario) -> tuple:
    """The parts of the kernel's model tuple that depend on the scenario alone (segments, behaviour, team, calendar)."""
    segs = scenario.portfolio.segments
    end = scenario.horizon.total_days
    start = scenario.horizon.start_date
    SG = np.zeros((len(segs), K.S_WIDTH))
    runs = np.zeros((len(segs), end + 1), dtype=np.int64)
    for s, seg in enumerate(segs):
        row = SG[s]
        row[K.S_TERMS], row[K.S_EOM] = seg.terms_days, seg.terms_end_of_month
        row[K.S_DISPUTE_RATE], row[K.S_IGNORE], row[K.S_SD_WITHIN] = (seg.dispute_rate, seg.ignore_share,
                                                                        seg.days_late_sd_within)
        row[K.S_AMOUNT_MEDIAN], row[K.S_AMOUNT_SIGMA] = seg.amount_median, seg.amount_sigma
        row[K.S_MEAN_GAP] = 365.0 / seg.orders_per_year
        row[K.S_MONTHLY] = rules.monthly_purchases(seg.amount_median, seg.orders_per_year)
        row[K.S_DISPUTE_DAYS], row[K.S_DISPUTE_MIN] = seg.dispute_resolution_days, seg.dispute_min_days
        row[K.S_CREDIT_NOTE_SHARE], row[K.S_CREDIT_NOTE_FRACTION] = seg.credit_note_share, seg.credit_note_fraction
        row[K.S_PARTIAL_SHARE], row[K.S_PARTIAL_GAP] = seg.partial_share, seg.partial_gap_days
        row[K.S_PLAN_ACCEPTANCE], row[K.S_INSTALMENT_RELIABILITY] = seg.plan_acceptance, seg.instalment_reliability
        row[K.S_FEE_PAYMENT_SHARE], row[K.S_SETTLEMENT_ACCEPTANCE] = seg.fee_payment_share, seg.settlement_acceptance
        row[K.S_RECOVERABILITY], row[K.S_RESPONSIVENESS] = seg.recoverability, seg.responsiveness
        row[K.S_DISCOUNT_APPETITE], row[K.S_SENSITIVITY] = seg.discount_appetite, seg.goodwill_sensitivity
        row[K.S_DAILY_CHURN] = rules.daily_churn_hazard(seg.churn_per_year)
        row[K.S_ON_DUE], row[K.S_FIRST_WEEKDAY], row[K.S_WEEKDAY_MASK] = (seg.on_due_date_share, start.weekday(),
                                                                          weekday_mask(seg))
        shares = weekday_cumulative(seg)
        row[K.S_WEEKDAY_CUM:K.S_WEEKDAY_CUM + len(shares)] = shares
        terms, cumulative = terms_choices(seg)
        row[K.S_TERMS_COUNT] = len(terms)
        row[K.S_TERMS_MIX:K.S_TERMS_MIX + len(terms)] = terms
        row[K.S_TERMS_CUM:K.S_TERMS_CUM + len(terms)] = cumulative
        table = business_calendar.next_run_days(end, seg.payment_run, seg.payment_run_day, start)
        row[K.S_HAS_RUNS] = table is not None
        if table is not None:
            runs[s] = table
    b = scenario.behaviour
    BH = np.zeros(K.B_WIDTH)
    for k, name in enumerate(("email", "letter", "phone")):
        BH[K.B_RESPONSE + k] = getattr(b.response, name)
        BH[K.B_CHANNEL_GOODWILL + k] = getattr(b.channel_goodwill, name)
    for k, name in enumerate(("friendly", "firm", "final")):
        BH[K.B_TONE_RESPONSE + k] = getattr(b.tone_response, name)
        BH[K.B_TONE_GOODWILL + k] = getattr(b.tone_goodwill, name)
    for index, name in ((K.B_GOODWILL_WEIGHT, "goodwill_response_weight"),
                        (K.B_MAX_RESPONSE, "max_response_probability"), (K.B_RESPONSE_DELAY, "response_delay_days"),
                        (K.B_DISCOUNT_REFERENCE, "discount_reference_rate"),
                        (K.B_DISCOUNT_GOODWILL, "discount_goodwill"), (K.B_DISPUTE_GOODWILL, "dispute_goodwill"),
                        (K.B_CREDIT_NOTE_GOODWILL, "credit_note_goodwill"), (K.B_FEE_GOODWILL, "fee_goodwill"),
                        (K.B_SETTLEMENT_GOODWILL, "settlement_goodwill"), (K.B_MEDIATION_SUCCESS, "mediation_success"),
                        (K.B_MEDIATION_DAYS, "mediation_days"), (K.B_MEDIATION_GOODWILL, "mediation_goodwill"),
                        (K.B_AGENCY_SUCCESS, "agency_success"), (K.B_AGENCY_DAYS, "agency_days"),
                        (K.B_AGENCY_MAX_DAYS, "agency_max_days"), (K.B_AGENCY_GOODWILL, "agency_goodwill"),
                        (K.B_LEGAL_DAYS, "legal_days"), (K.B_DEFAULT_JUDGMENT_DAYS, "default_judgment_days"),
                        (K.B_JUDGMENT_PAID, "judgment_paid_share"), (K.B_LEGAL_GOODWILL, "legal_goodwill"),
                        (K.B_STRAINED_EXTRA, "strained_extra_days"), (K.B_STRAINED_RESPONSE, "strained_response"),
                        (K.B_DISTRESSED_RESPONSE, "distressed_response"), (K.B_STRAINED_PART, "strained_part_payment"),
                        (K.B_STRAINED_PLAN, "strained_plan_acceptance"), (K.B_DISTRESSED_IGNORE, "distressed_ignore"),
                        (K.B_RECOVERY_DAYS, "goodwill_recovery_days"), (K.B_ELASTICITY, "order_goodwill_elasticity"),
                        (K.B_CHURN_SLOPE, "churn_goodwill_slope"), (K.B_PLAN_GOODWILL, "plan_goodwill"),
                        (K.B_PLAN_DEFAULT_GOODWILL, "plan_default_goodwill"),
                        (K.B_DISPUTE_RAISE_DAYS, "dispute_raise_days"), (K.B_PART_FRACTION, "part_payment_fraction"),
                        (K.B_HALFLIFE, "response_halflife_days"), (K.B_SET_ASIDE_DAYS, "set_aside_pay_days"),
                        (K.B_SET_ASIDE_NEVER, "set_aside_never_share"), (K.B_SET_ASIDE_SIGMA, "set_aside_pay_sigma"),
                        (K.B_PLAN_REQUEST, "plan_request_share"), (K.B_PLAN_REFUSED_GOODWILL, "plan_refused_goodwill"),
                        (K.B_HOLD_GOODWILL, "credit_hold_goodwill"), (K.B_SPILLOVER, "reputation_spillover"),
                        (K.B_CONTACT_CAP, "contact_goodwill_cap"), (K.B_CLEAR_TERMS_CUT, "clear_terms_dispute_cut"),
                        (K.B_E_INVOICING_CUT, "e_invoicing_dispute_cut"),
                        (K.B_E_INVOICING_DAYS, "e_invoicing_days_faster")):
        BH[index] = getattr(b, name)
    team = scenario.team
    T = np.zeros(K.T_WIDTH)
    T[K.T_LIMITED] = team.daily_minutes is not None
    T[K.T_DAILY_MINUTES] = team.daily_minutes or 0.0
    T[K.T_MINUTES_EMAIL], T[K.T_MINUTES_LETTER] = team.minutes_email, team.minutes_letter
    T[K.T_MINUTES_CALL], T[K.T_MINUTES_DISPUTE] = team.minutes_call, team.minutes_dispute
    eom = np.asarray([business_calendar.due_day(day, 0, True, start) for day in range(end + 1)], dtype=np.int64)
    return SG, BH, T, runs, eom, block_probabilities(scenario)


def policy_arrays(tables: PolicyTables) -> tuple:
    """The kernel's policy tuple."""
    return (tables.ints, tables.floats, tables.step_offset, tables.step_cost, tables.step_channel, tables.step_tone,
            tables.milestone_days, tables.milestone_share, tables.selectors)


class Room:
    """The rows that sufficed for earlier runs of a batch, per policy, so later runs start with them.

    A run that runs out of room in one of its arrays stops and is repeated with twice the room (the numbers do
    not depend on it); a batch's runs of one policy need about as much, so each repeat is paid once per batch, not
    once per run. Shared by a batch's threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[int, np.ndarray] = {}

    def start(self, key: int, estimate: np.ndarray) -> np.ndarray:
        with self._lock:
            known = self._rows.get(key)
        return estimate if known is None else np.maximum(estimate, known)

    def sufficed(self, key: int, capacity: np.ndarray) -> None:
        with self._lock:
            known = self._rows.get(key)
            self._rows[key] = capacity if known is None else np.maximum(known, capacity)


def run_one(scenario: Scenario, tables: PolicyTables, seed: int, prepared: tuple | None = None,
            room: Room | None = None, key: int = 0, threads: int = 1,
            part_customers: int = parts.PART_CUSTOMERS) -> Outputs:
    """One run of the compiled engine; equal to ``SimpyEngine(scenario, RuleBasedPolicy(...), seed).run()``.
    ``room`` (with this run's policy as ``key``) holds the rows earlier runs of the batch needed. A run of more than
    ``part_customers`` customers who never meet runs in parts of that many (see :mod:`collectsim.engines.parts`),
    on ``threads`` threads."""
    SG, BH, T, runs, eom, blocks = prepared if prepared is not None else scenario_tables(scenario)
    horizon = scenario.horizon
    end = horizon.total_days
    customers = make_customers(scenario, seed)
    liquidity = _liquidity(scenario, seed, customers.segment, blocks)
    book = scenario.opening
    opening = opening_invoices(scenario, seed, customers.segment, customers.habit_days_late, liquidity)
    members = np.argsort(customers.segment, kind="stable").astype(np.int64)
    starts = np.searchsorted(customers.segment[members], np.arange(len(scenario.portfolio.segments) + 1)).astype(
        np.int64)
    prefix = np.asarray(_prefixes(int(seed)), dtype=np.uint64)
    X = np.asarray([end, horizon.measured_end, BLOCK_DAYS, liquidity.states.shape[1] - 1,
                    book.day if book is not None else 0], dtype=np.int64)
    M = (SG, BH, T, members, starts, liquidity.states, runs, eom, prefix, X, opening)
    if customers_never_meet(scenario) and len(customers) > part_customers:
        invoices, events, CF = run_parts(scenario, seed, customers, liquidity, M, policy_arrays(tables),
                                         part_customers, threads)
        return customers, invoices, events, CF[:, K.CF_GOODWILL].copy()
    capacity = (_capacity(scenario, customers.segment, customers.arrival_day)
                + np.asarray([1, 3, 1, 0], dtype=np.int64) * len(opening))
    if room is not None:
        capacity = room.start(key, capacity)
    while True:  # the arrays are sized from the expected number of invoices; a run that needs more is repeated
        C, CF = _customer_state(scenario, seed, customers, liquidity)  # made afresh: the loop changes them
        table, log, counts, _ = kernels().run_kernel(M, policy_arrays(tables), C, CF, capacity, 0, len(customers),
                                                     False)
        over = int(counts[K.N_OVERFLOW])
        if not over:
            if room is not None:
                room.sufficed(key, capacity)
            break
        capacity = capacity * np.where(np.asarray([over & flag for flag in (K.OVER_ROWS, K.OVER_LOG, K.OVER_HEAP,
                                                                            K.OVER_QUEUE)]) != 0, 2, 1)
        table = log = C = CF = None  # the stopped run's arrays go before the next run makes its own
    if counts[K.N_PAST]:
        raise RuntimeError("compiled engine: a wake-up was queued for a day already past (a bug)")
    columns, log = list(log), None  # _event_log lets each column go once it is copied
    invoices = InvoiceTable(**dict(zip(INVOICE_COLUMNS, table)))  # the loop's columns, in the table's dtypes
    return customers, invoices, _event_log(columns, C, end), CF[:, K.CF_GOODWILL].copy()


def _customer_state(scenario: Scenario, seed: int, customers: Customers, liquidity: Liquidity
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The customers' state at the start of a run: the loop's C (integers) and CF (floats) tables."""
    n = len(customers)
    C = np.zeros((n, K.C_WIDTH), dtype=np.int64)
    C[:, K.C_SEGMENT] = customers.segment
    C[:, K.C_ARRIVAL] = customers.arrival_day
    C[:, K.C_ANCHOR] = customers.arrival_day
    C[:, K.C_CHURN_DAY] = K.NEVER
    C[:, K.C_INSOLVENT_DAY] = liquidity.insolvency_day
    C[:, K.C_CONTACT_DAY] = -K.NEVER  # no contact yet
    C[:, K.C_CAP_PERIOD] = -1
    C[:, K.C_CHANGE_PERIOD] = -1
    C[:, K.C_LAST_DISPUTE] = NO_DISPUTE  # never disputed
    C[:, K.C_SINCE] = customers.arrival_day
    CF = np.zeros((n, K.CF_WIDTH))
    CF[:, K.CF_GOODWILL] = customers.goodwill_baseline
    CF[:, K.CF_BASELINE] = customers.goodwill_baseline
    CF[:, K.CF_HABIT] = customers.habit_days_late
    CF[:, K.CF_REPORT] = customers.credit_report
    book = scenario.opening
    if book is not None:  # new orders follow the open invoices' sequence numbers
        C[:book.customers, K.C_SEQ] = book.first_seq()
        if book.since is not None:  # what the ledger shows of the opening customers' past
            m = book.customers
            C[:m, K.C_SINCE], C[:m, K.C_PAID], C[:m, K.C_LAST_DISPUTE] = book.since, book.paid_count, book.last_dispute
            C[:m, K.C_LATE:K.C_LATE + RECENT_INVOICES] = book.late_ring
        gone = opening_gone(scenario, seed)  # customers gone before the as-of day start as churned
        C[:book.customers, K.C_CHURN_DAY] = np.where(gone >= 0, gone, K.NEVER)
    return C, CF


def _liquidity(scenario: Scenario, seed: int, segment: np.ndarray,
               blocks: tuple[np.ndarray, np.ndarray] | None = None) -> Liquidity:
    """``collectsim.model.liquidity.liquidity_paths(scenario, seed, segment)``, walked by the compiled loop with
    the same rule and the same block probabilities (tests/equivalence check that the paths are identical)."""
    assert BLOCK_DAYS == 30  # the loop's block length
    segs = scenario.portfolio.segments
    p_strain, p_distress = block_probabilities(scenario) if blocks is None else blocks  # the batch's, made once

    def per_segment(name: str) -> np.ndarray:
        return np.array([getattr(s, name) for s in segs], dtype=np.float64)

    states = np.empty((len(segment), p_strain.shape[0]), dtype=np.int8)
    insolvent_day = np.full(len(segment), NEVER, dtype=np.int64)
    kernels().liquidity_kernel(np.asarray(_prefixes(int(seed)), dtype=np.uint64), np.asarray(segment, dtype=np.int64),
                               p_strain, p_distress, per_segment("strain_recovery_rate"),
                               per_segment("distress_recovery_rate"), per_segment("insolvency_rate"), states,
                               insolvent_day)
    return Liquidity(states, insolvent_day)


def _capacity(scenario: Scenario, segment: np.ndarray, arrival_day: np.ndarray) -> np.ndarray:
    """Rows to reserve for (invoices, log, heap, queue) for these customers: somewhat more than the run is
    expected to need (a run that needs more is repeated with twice the room; the rows are not touched until used)."""
    segs = scenario.portfolio.segments
    rate = np.asarray([s.orders_per_year for s in segs])[segment]
    days = np.maximum(scenario.horizon.measured_end - arrival_day, 0)
    invoices = int(1.3 * float((rate * days).sum()) / 365.0) + 64
    n = len(segment)
    # A team overloaded all run (a policy of calls with few staff) holds more than one task per invoice waiting:
    # firm-and-fair on the dashboard's 1,000 customers queued up to 22,000 with 21,500 invoices expected, and
    # every such batch ran one of its runs twice. Rows not used are never touched, so room costs no memory.
    queue = 256 + 2 * invoices if scenario.team.daily_minutes is not None else 16
    return np.asarray([invoices, 3 * invoices + 2 * n + 256, n + invoices // 2 + 64, queue], dtype=np.int64)


def customers_never_meet(scenario: Scenario) -> bool:
    """Whether no customer's events depend on another's: no limited team (a queue they share) and no reputation
    spill-over. Then a run can go in parts (see :mod:`collectsim.engines.parts`)."""
    return scenario.team.daily_minutes is None and scenario.behaviour.reputation_spillover == 0


def run_parts(scenario: Scenario, seed: int, customers: Customers, liquidity: Liquidity, M: tuple, P: tuple,
              size: int, threads: int) -> tuple[InvoiceTable, EventLog, np.ndarray]:
    """A run whose customers never meet, ``size`` customers at a time on ``threads`` threads, merged into the whole
    run's invoice table and event log (equal to running them all at once); also the customers' float state CF."""
    n = len(customers)
    size = max(size, -(-n // 32_000))  # the merge numbers the parts in 16 bits
    C, CF = _customer_state(scenario, seed, customers, liquidity)
    opening = M[10]
    bounds = list(range(0, n, size)) + [n]

    def part(j: int):
        first, last = bounds[j], bounds[j + 1]
        rows = np.flatnonzero((opening[:, O_CUSTOMER] >= first) & (opening[:, O_CUSTOMER] < last))
        model = M[:10] + (np.ascontiguousarray(opening[rows]),)
        capacity = (_capacity(scenario, customers.segment[first:last], customers.arrival_day[first:last])
                    + np.asarray([1, 3, 1, 0], dtype=np.int64) * len(rows))
        while True:
            table, log, counts, phases = kernels().run_kernel(model, P, C, CF, capacity, first, last, True)
            over = int(counts[K.N_OVERFLOW])
            if not over:
                break
            capacity = capacity * np.where(np.asarray([over & flag for flag in (K.OVER_ROWS, K.OVER_LOG, K.OVER_HEAP,
                                                                                K.OVER_QUEUE)]) != 0, 2, 1)
            fresh_C, fresh_CF = _customer_state(scenario, seed, customers, liquidity)  # the part's start, again
            C[first:last], CF[first:last] = fresh_C[first:last], fresh_CF[first:last]
            del fresh_C, fresh_CF
        if counts[K.N_PAST]:
            raise RuntimeError("compiled engine: a wake-up was queued for a day already past (a bug)")
        # Copies of the rows used: the loop's arrays have room to spare, which a million customers' parts would
        # otherwise keep (the allocator hands out pages other arrays have touched).
        return [[c.copy() for c in table], [c.copy() for c in log], phases.copy(), rows]

    if threads <= 1:
        done = [part(j) for j in range(len(bounds) - 1)]
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            done = list(pool.map(part, range(len(bounds) - 1)))
    numbers = _number_invoices(done, len(opening))
    tables = [d[0] for d in done]
    invoices = InvoiceTable(**{name: _place(tables, j, numbers) for j, name in enumerate(INVOICE_COLUMNS)})
    return invoices, _merge_logs(done, numbers, C, scenario.horizon.total_days), CF


def _merged(sizes: list[int], keys_of: Callable[[int], np.ndarray], what: str) -> tuple[np.ndarray, np.ndarray]:
    """Where each part's rows go when the parts (part p has ``sizes[p]`` rows, sorted by ``keys_of(p)``) are merged;
    and the parts' starts in the merged rows' numbering."""
    starts = np.zeros(len(sizes) + 1, dtype=np.int64)
    starts[1:] = np.cumsum(sizes)
    keys = np.empty(starts[-1], dtype=np.int64)
    for p in range(len(sizes)):
        keys[starts[p]:starts[p + 1]] = keys_of(p)
    positions = np.empty(starts[-1], dtype=np.int64)
    if not kernels().merge_positions(keys, starts, positions):
        raise RuntimeError(f"compiled engine: a part's {what} are not in the order one loop makes (a bug)")
    return positions, starts


def _number_invoices(done: list, book: int) -> list[np.ndarray]:
    """Each part's invoices' numbers in the whole run: the opening book's by their place in the book, then the
    others in the order the whole run issues them (by issue day, then customer)."""
    issue, customer = INVOICE_COLUMNS.index("issue_day"), INVOICE_COLUMNS.index("customer")
    opening = [len(rows) for *_, rows in done]
    positions, starts = _merged([len(d[0][0]) - k for d, k in zip(done, opening, strict=True)],
                                lambda p: parts.issue_keys(done[p][0][issue][opening[p]:],
                                                           done[p][0][customer][opening[p]:]), "invoices")
    positions += book
    return [np.concatenate([rows, positions[starts[j]:starts[j + 1]]]) for j, (*_, rows) in enumerate(done)]


def _place(tables: list[list], j: int, positions: list[np.ndarray]) -> np.ndarray:
    """Column j of the parts' tables (lists of columns) as one column, each part's row k at ``positions[part][k]``.
    The parts' column j is let go, and the memory it held given back to the system."""
    out = np.empty(sum(len(table[j]) for table in tables), dtype=tables[0][j].dtype)
    for table, where in zip(tables, positions, strict=True):
        out[where] = table[j]
        table[j] = None
    give_back_freed_memory()
    return out


def _libc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to call
        return None


_MALLOC_TRIM = _libc_trim() if sys.platform.startswith("linux") else None


def give_back_freed_memory() -> None:
    """Have the C allocator return the memory of freed arrays to the system. A part's arrays are small, so they
    come from the allocator's own heap, which keeps freed memory for later use: merging a million customers'
    parts into new columns doubled the process's memory without this."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


def _merge_logs(done: list, numbers: list[np.ndarray], C: np.ndarray, end: int) -> EventLog:
    """The parts' logs and the churn rows (each before its day's events, by customer) as the whole run's log, in
    the order one loop writes it. Each part's column is let go once it is placed."""
    churned, days = _churned(C, end)
    churn = _churn_rows(churned, days)
    logs = [[churn[name] for name in COLUMNS]] + [d[1] for d in done]
    phases = [np.full(len(churned), -1, dtype=np.int8)] + [d[2] for d in done]
    for d in done:
        d[1] = d[2] = None
    day, customer, invoice = COLUMNS.index("day"), COLUMNS.index("customer"), COLUMNS.index("invoice")
    positions, starts = _merged([len(log[0]) for log in logs],
                                lambda p: parts.log_keys(logs[p][day], phases[p], logs[p][customer]), "logs")
    phases.clear()  # the parts' phases are used up
    for log, number in zip(logs[1:], numbers, strict=True):  # the parts' invoices by their numbers in the run
        local = log[invoice]
        has = local >= 0
        local[has] = number[local[has]]  # in place: the part's column is its own
    where = [positions[starts[p]:starts[p + 1]] for p in range(len(logs))]
    return EventLog.from_columns(**{name: _place(logs, j, where) for j, name in enumerate(COLUMNS)})


def _churned(C: np.ndarray, end: int) -> tuple[np.ndarray, np.ndarray]:
    """The customers who churned before the end (and before failing), by day then customer, and their days."""
    churn_day = C[:, K.C_CHURN_DAY]
    churned = np.flatnonzero(churn_day < np.minimum(end, C[:, K.C_INSOLVENT_DAY]))
    churned = churned[np.lexsort((churned, churn_day[churned]))]
    return churned, churn_day[churned]


def _churn_rows(churned: np.ndarray, days: np.ndarray) -> dict[str, np.ndarray]:
    """The log's churn rows, column by column in the log's dtypes."""
    values = {"day": days, "kind": int(EventKind.CHURNED), "customer": churned, "invoice": -1, "amount": 0,
              "channel": -1, "tone": -1, "cost": 0, "goodwill_before": np.nan, "goodwill_after": np.nan,
              "minutes": 0.0, "wait": 0}
    return {name: np.broadcast_to(np.asarray(values[name]), len(churned)).astype(COLUMN_DTYPES[name])
            for name in COLUMNS}


def _event_log(columns: list[np.ndarray], C: np.ndarray, end: int) -> EventLog:
    """The log's columns (in ``COLUMNS`` order; emptied as they are used), with churn placed at the start of its day
    (it is found when a customer is next touched).

    The loop records events day by day, so the log is ordered by day, and a churn row goes in before the first
    event of its day (churns of one day by customer), as SimpyEngine's stable reordering puts it. The loop's
    columns have the event log's dtypes; each is let go as soon as its copy with the churn rows is made, so a
    large run holds one extra column at a time, not a second log.
    """
    churned, days = _churned(C, end)
    if len(churned) == 0:
        return EventLog.from_columns(**dict(zip(COLUMNS, columns, strict=True)))
    where = np.searchsorted(columns[0], days, side="left") + np.arange(len(churned))  # their rows in the new log
    kept = np.ones(len(columns[0]) + len(churned), dtype=bool)
    kept[where] = False
    churn_row = _churn_rows(churned, days)
    out = {}
    for j, name in enumerate(COLUMNS):
        values, columns[j] = columns[j], None
        assert values.dtype == COLUMN_DTYPES[name], name
        out[name] = column = np.empty(len(kept), dtype=values.dtype)
        column[where] = churn_row[name]
        column[kept] = values
        del values
    return EventLog.from_columns(**out)


def run_batch(scenario: Scenario, tables: Sequence[PolicyTables], seeds: Sequence[int],
              policy_of: Sequence[int] | None = None, threads: int | None = None,
              finish: Callable[[int, Outputs], object] | None = None) -> list:
    """Run seed i under ``tables[policy_of[i]]`` for every i, on a pool of threads; results in the seeds' order.
    A single run that goes in parts (see :func:`run_one`) runs its parts on the threads instead.

    With ``finish``, each thread hands its run's outputs to ``finish(i, outputs)`` and the list holds what that
    returns: a run's metrics are then worked out while other runs are still in the compiled loop.
    """
    which = [0] * len(seeds) if policy_of is None else list(policy_of)
    prepared = scenario_tables(scenario)
    kernels()
    room = Room()
    part_threads = (threads or os.cpu_count() or 1) if len(seeds) <= 1 else 1

    def job(i: int):
        out = run_one(scenario, tables[which[i]], seeds[i], prepared, room, which[i], part_threads)
        return out if finish is None else finish(i, out)

    threads = threads or min(len(seeds), os.cpu_count() or 1)
    if threads <= 1 or len(seeds) <= 1:
        return [job(i) for i in range(len(seeds))]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(job, range(len(seeds))))


_TINY = {"name": "warm-up", "seed": 1,
         "horizon": {"warmup_days": 0, "measured_days": 40, "runoff_days": 20},
         "team": {"staff": 1.0},
         "portfolio": {"segments": [{"name": "warm-up", "customers": 3, "orders_per_year": 24}]},
         "policies": {"warm-up": {"reminders": {"steps": [{"offset": 1}]}}}}


def warm_up() -> None:
    """Compile the engine (or load it from the disk cache) by running one tiny simulation: after this, the first
    real run does not wait for numba."""
    from collectsim.config.scenario import parse_scenario
    from collectsim.model.rule_policy import RuleBasedPolicy

    scenario = parse_scenario(_TINY)
    run_one(scenario, RuleBasedPolicy(scenario.policies[0], scenario).tables, 1)


def warm_up_in_background() -> threading.Thread:
    """``warm_up`` on a daemon thread (for the dashboard and notebooks: the interface stays usable meanwhile)."""
    thread = threading.Thread(target=warm_up, name="collectsim-compile", daemon=True)
    thread.start()
    return thread
