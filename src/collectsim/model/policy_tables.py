"""The rule-based policy held once, as tables, and its decision as one pure function over them.

A policy file says, per profile (a segment's customers, or those of them a target selects), which reminder
steps fall on which day, when a plan, extended terms, a fee claim, a settlement, mediation, an agency or a
lawyer come in, and when a balance is written off. :func:`tables_of` turns a
:class:`~collectsim.config.policy_spec.PolicySpec` into integer and float tables (one row per profile);
:func:`choose_target` picks an invoice's target from its customer's standing on the ledger; :func:`rule_decision`
reads the profile's row and an invoice's state and says what to do today and when to look again. Both engines
call :func:`choose_target` and :func:`rule_decision`: the SimPy engine (through
:class:`~collectsim.model.rule_policy.RuleBasedPolicy`) as plain Python over lists, the compiled engine compiled
with numba over arrays. So the policy's logic exists once.

An action comes out as a code (``A_*``) and, for a reminder, the index of its step; the parameters of
each action (channel, cost, rate, instalments, ...) are looked up in the tables by whoever carries it out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from collectsim.config.policy_spec import CHANNELS, RISK_BANDS, SELECTORS, TONES, PolicySpec
from collectsim.config.scenario import Scenario
from collectsim.model.draws import normal_ppf
from collectsim.model.standing import risk_band

__jit__ = ("rule_decision", "_decision", "next_review", "ladder_start", "_add", "choose_target", "target_matches",
           "profile_row")

# Decision points (as collectsim.model.decisions.Point).
P_ISSUED, P_REVIEW, P_PLAN_DEFAULTED, P_DISPUTE_RAISED, P_ESCALATION_ENDED = range(5)

# Action codes: the ActionKind numbers, plus extended terms (an OFFER_PLAN with milestones).
A_REMIND, A_DISCOUNT, A_WRITE_OFF, A_PLAN, A_FEES, A_SETTLE, A_MEDIATE, A_AGENCY, A_LEGAL, A_TERMS = range(10)
ACTION_STRIDE = 16  # an action is coded as code + ACTION_STRIDE * step (the step of a reminder)

ON_DEFAULT = ("resume", "restart", "escalate", "write_off")
D_RESUME, D_RESTART, D_ESCALATE, D_WRITE_OFF = range(4)

#: Columns of the integer table (one row per segment).
INT_COLUMNS = (
    "n_steps", "pause_on_dispute", "write_off_age", "has_discount", "discount_window",
    "has_plan", "plan_offset", "plan_channel", "plan_cost", "plan_instalments", "plan_interval", "plan_tolerance",
    "plan_on_default", "plan_on_request",
    "has_terms", "terms_offset", "terms_channel", "terms_cost", "n_milestones", "terms_on_default",
    "has_fees", "fee_offset", "fee_compensation",
    "has_settle", "settle_offset", "settle_channel", "settle_cost",
    "has_mediation", "mediation_after", "mediation_cost",
    "has_agency", "agency_offset", "has_legal", "legal_offset", "legal_cost", "legal_min",
    "has_hold", "hold_after", "has_onboarding", "onboarding_cost", "onboarding_limit", "contact_gap",
    "clear_terms", "e_invoicing",
)
#: Columns of the float table.
FLOAT_COLUMNS = ("discount_rate", "plan_down", "fee_rate", "settle_forgive", "agency_fee", "onboarding_threshold",
                 "court_fee_rate", "costs_recoverable")
I = {name: i for i, name in enumerate(INT_COLUMNS)}  # noqa: E741 - column index by name
F = {name: i for i, name in enumerate(FLOAT_COLUMNS)}
# Column indices as module constants, so compiled code sees them as constants.
(N_STEPS, PAUSE_ON_DISPUTE, WRITE_OFF_AGE, HAS_DISCOUNT, DISCOUNT_WINDOW, HAS_PLAN, PLAN_OFFSET, PLAN_CHANNEL,
 PLAN_COST, PLAN_INSTALMENTS, PLAN_INTERVAL, PLAN_TOLERANCE, PLAN_ON_DEFAULT, PLAN_ON_REQUEST, HAS_TERMS,
 TERMS_OFFSET, TERMS_CHANNEL, TERMS_COST, N_MILESTONES, TERMS_ON_DEFAULT, HAS_FEES, FEE_OFFSET, FEE_COMPENSATION,
 HAS_SETTLE, SETTLE_OFFSET, SETTLE_CHANNEL, SETTLE_COST, HAS_MEDIATION, MEDIATION_AFTER, MEDIATION_COST,
 HAS_AGENCY, AGENCY_OFFSET, HAS_LEGAL, LEGAL_OFFSET, LEGAL_COST, LEGAL_MIN, HAS_HOLD, HOLD_AFTER,
 HAS_ONBOARDING, ONBOARDING_COST, ONBOARDING_LIMIT, CONTACT_GAP, CLEAR_TERMS, E_INVOICING) = range(len(INT_COLUMNS))
(DISCOUNT_RATE, PLAN_DOWN, FEE_RATE, SETTLE_FORGIVE, AGENCY_FEE, ONBOARDING_THRESHOLD, COURT_FEE_RATE,
 COSTS_RECOVERABLE) = range(len(FLOAT_COLUMNS))

#: Columns of the targets' selector table (one row per target, in priority order; UNSET where not given).
SELECTOR_COLUMNS = ("open_balance_min", "open_balance_max", "recent_days_late_min", "recent_days_late_max",
                    "overdue_days_min", "disputes_min", "disputed_within_days", "risk_band", "tenure_days_min",
                    "tenure_days_max")
(SEL_BALANCE_MIN, SEL_BALANCE_MAX, SEL_LATE_MIN, SEL_LATE_MAX, SEL_OVERDUE_MIN, SEL_DISPUTES_MIN,
 SEL_DISPUTED_WITHIN, SEL_BAND, SEL_TENURE_MIN, SEL_TENURE_MAX) = range(len(SELECTOR_COLUMNS))
assert set(SELECTOR_COLUMNS) == set(SELECTORS)
UNSET = -1  # a selector not given (every selector's value is >= 0)

NO_REVIEW = -1  # rule_decision's "do not ask again"
_NOT_AGAIN = -(1 << 62)  # _decision's "do not ask again"
MAX_ACTIONS = 8  # more than a decision can hold (a step, fees, a settlement, mediation, a write-off)


@dataclass(frozen=True)
class PolicyTables:
    """A rule-based policy for every profile of a scenario, as arrays.

    A profile is a (segment, target) pair: the policy as it applies to the invoices of a segment's customers that
    target ``t`` selects (t = 0: none does, the base policy). Its row is :func:`profile_row`; with no targets the
    rows are the segments.
    """

    name: str
    ints: np.ndarray  # int64 (profiles, len(INT_COLUMNS))
    floats: np.ndarray  # float64 (segments, len(FLOAT_COLUMNS))
    step_offset: np.ndarray  # int64 (segments, max steps): days from the ladder's start
    step_channel: np.ndarray  # int64: index into CHANNELS
    step_tone: np.ndarray  # int64: index into TONES
    step_cost: np.ndarray  # int64: cents
    milestone_days: np.ndarray  # int64 (segments, max milestones): days after the terms were agreed
    milestone_share: np.ndarray  # float64: share of the balance agreed
    selectors: np.ndarray  # int64 (targets, len(SELECTOR_COLUMNS)): what each target selects, UNSET if not given


def selector_table(spec: PolicySpec) -> np.ndarray:
    """The targets' selectors as integers (money in cents, the risk band as its code), UNSET where not given."""
    table = np.full((len(spec.targets), len(SELECTOR_COLUMNS)), UNSET, dtype=np.int64)
    for t, when in enumerate(spec.selectors()):
        for k, key in enumerate(SELECTOR_COLUMNS):
            value = getattr(when, key)
            if value is None:
                continue
            if key == "risk_band":
                value = RISK_BANDS.index(value)
            elif key.startswith("open_balance"):
                value = round(100 * value)
            table[t, k] = value
    return table


def tables_of(spec: PolicySpec, scenario: Scenario) -> PolicyTables:
    """The tables of ``spec`` with its per-segment overrides and targets applied: one row per profile (segment,
    target) of ``scenario``, at :func:`profile_row`."""
    segments = scenario.portfolio.segments
    economics = scenario.economics
    channel_cost = {"email": economics.cost_email, "letter": economics.cost_letter, "phone": economics.cost_phone}
    selectors = selector_table(spec)
    resolved = [spec.for_target(seg.name, t) for seg in segments for t in range(len(spec.targets) + 1)]
    n = len(resolved)
    width = max([1] + [len(r.reminders.steps) for r in resolved])
    mwidth = max([1] + [len(r.extended_terms.milestones) for r in resolved])
    ints = np.zeros((n, len(INT_COLUMNS)), dtype=np.int64)
    floats = np.zeros((n, len(FLOAT_COLUMNS)), dtype=np.float64)
    steps = {k: np.zeros((n, width), dtype=np.int64) for k in ("offset", "channel", "tone", "cost")}
    m_days = np.zeros((n, mwidth), dtype=np.int64)
    m_share = np.zeros((n, mwidth), dtype=np.float64)
    for s, r in enumerate(resolved):
        row, frow = ints[s], floats[s]
        costs = []
        for k, st in enumerate(r.reminders.steps):
            cost = round(100 * (channel_cost[st.channel] if st.cost is None else st.cost))
            costs.append(cost)
            steps["offset"][s, k], steps["channel"][s, k] = st.offset, CHANNELS.index(st.channel)
            steps["tone"][s, k], steps["cost"][s, k] = TONES.index(st.tone), cost
        row[N_STEPS] = len(r.reminders.steps)
        row[PAUSE_ON_DISPUTE] = r.reminders.pause_on_dispute
        row[CONTACT_GAP] = r.reminders.min_gap_days
        row[WRITE_OFF_AGE] = r.write_off.age_days
        row[HAS_DISCOUNT] = r.discount.rate > 0
        row[DISCOUNT_WINDOW] = r.discount.window_days
        frow[DISCOUNT_RATE] = r.discount.rate

        plans = r.plans
        row[HAS_PLAN], row[PLAN_OFFSET] = plans.offer, plans.after_days_overdue
        row[PLAN_CHANNEL], row[PLAN_COST] = _offer_channel(r, costs, channel_cost, plans.after_days_overdue)
        row[PLAN_INSTALMENTS], row[PLAN_INTERVAL] = plans.instalments, plans.interval_days
        row[PLAN_TOLERANCE] = plans.missed_tolerance
        row[PLAN_ON_DEFAULT] = ON_DEFAULT.index(plans.on_default)
        row[PLAN_ON_REQUEST] = plans.on_request
        frow[PLAN_DOWN] = plans.down_payment
        terms = r.extended_terms
        row[HAS_TERMS], row[TERMS_OFFSET] = terms.offer, terms.after_days_overdue
        row[TERMS_CHANNEL], row[TERMS_COST] = _offer_channel(r, costs, channel_cost, terms.after_days_overdue)
        row[N_MILESTONES] = len(terms.milestones)
        row[TERMS_ON_DEFAULT] = ON_DEFAULT.index(terms.on_default)
        for j, m in enumerate(terms.milestones):
            m_days[s, j], m_share[s, j] = m.after_days, m.share
        fees = r.fees
        row[HAS_FEES], row[FEE_OFFSET] = fees.enforce, fees.claim_at_days_overdue
        row[FEE_COMPENSATION] = round(100 * fees.fixed_compensation)
        frow[FEE_RATE] = economics.reference_rate + fees.interest_margin
        settle = r.settlement
        row[HAS_SETTLE], row[SETTLE_OFFSET] = settle.offer, settle.after_days_overdue
        row[SETTLE_CHANNEL], row[SETTLE_COST] = CHANNELS.index("letter"), round(100 * economics.cost_letter)
        frow[SETTLE_FORGIVE] = settle.forgive
        esc = r.escalation
        row[HAS_MEDIATION], row[MEDIATION_AFTER] = esc.mediation, esc.mediation_after_days
        row[MEDIATION_COST] = round(100 * esc.mediation_cost)
        row[HAS_AGENCY], row[AGENCY_OFFSET] = esc.agency, esc.agency_after_days_overdue
        frow[AGENCY_FEE] = esc.agency_fee
        row[HAS_LEGAL], row[LEGAL_OFFSET] = esc.legal, esc.legal_after_days_overdue
        row[LEGAL_COST], row[LEGAL_MIN] = round(100 * esc.legal_cost), round(100 * esc.legal_min_balance)
        frow[COURT_FEE_RATE], frow[COSTS_RECOVERABLE] = esc.court_fee_rate, esc.costs_recoverable
        row[HAS_HOLD], row[HOLD_AFTER] = esc.credit_hold, esc.credit_hold_after_days_overdue
        row[CLEAR_TERMS], row[E_INVOICING] = r.invoicing.clear_terms, r.invoicing.e_invoicing
        onboarding = _onboarding_rule(r.onboarding)
        if onboarding is not None:
            row[HAS_ONBOARDING] = 1
            frow[ONBOARDING_THRESHOLD], row[ONBOARDING_COST], row[ONBOARDING_LIMIT] = onboarding
    return PolicyTables(spec.name, ints, floats, steps["offset"], steps["channel"], steps["tone"], steps["cost"],
                        m_days, m_share, selectors)


def _offer_channel(spec: PolicySpec, costs: list[int], channel_cost: dict, offset: int) -> tuple[int, int]:
    """An offer goes through the channel of the step it replaces, at its cost (email when no step falls that day)."""
    for st, cost in zip(spec.reminders.steps, costs):
        if st.offset == offset:
            return CHANNELS.index(st.channel), cost
    return CHANNELS.index("email"), round(100 * channel_cost["email"])


def _onboarding_rule(onboarding) -> tuple[float, int, int] | None:
    """Refuse reports above the threshold, at the check's cost, with the limit (None: no rule at all)."""
    limit = round(100 * onboarding.credit_limit)
    if not onboarding.credit_check:
        return (math.inf, 0, limit) if limit else None
    keep = 1.0 - onboarding.refuse_share  # share of applicants taken on
    threshold = math.inf if keep >= 1 - 1e-15 else -math.inf if keep <= 1e-15 else float(normal_ppf(keep))
    return threshold, round(100 * onboarding.check_cost), limit


# --- which profile applies (pure; compiled as it is) ------------------------------------------------------

def profile_row(selectors, segment: int, target: int) -> int:
    """Row of the tables for the customers of ``segment`` that target ``target`` selects (0: the base policy)."""
    return segment * (len(selectors) + 1) + target


def target_matches(sel, tenure: int, open_balance: int, late_total: int, late_count: int, overdue_days: int,
                   open_disputes: int, days_since_dispute: int) -> bool:
    """Whether a customer with this standing shows everything the target's selector row ``sel`` asks for.

    ``late_total`` is the total days late of the customer's ``late_count`` recent invoices paid in full
    (collectsim.model.standing); a mean is compared as a total, so no rounding enters.
    """
    if sel[SEL_BALANCE_MIN] != UNSET and open_balance < sel[SEL_BALANCE_MIN]:
        return False
    if sel[SEL_BALANCE_MAX] != UNSET and open_balance > sel[SEL_BALANCE_MAX]:
        return False
    if sel[SEL_LATE_MIN] != UNSET and (late_count == 0 or late_total < sel[SEL_LATE_MIN] * late_count):
        return False
    if sel[SEL_LATE_MAX] != UNSET and (late_count == 0 or late_total > sel[SEL_LATE_MAX] * late_count):
        return False
    if sel[SEL_OVERDUE_MIN] != UNSET and overdue_days < sel[SEL_OVERDUE_MIN]:
        return False
    if sel[SEL_DISPUTES_MIN] != UNSET and open_disputes < sel[SEL_DISPUTES_MIN]:
        return False
    if sel[SEL_DISPUTED_WITHIN] != UNSET and days_since_dispute > sel[SEL_DISPUTED_WITHIN]:
        return False
    if sel[SEL_BAND] != UNSET and risk_band(late_total, late_count) != sel[SEL_BAND]:
        return False
    if sel[SEL_TENURE_MIN] != UNSET and tenure < sel[SEL_TENURE_MIN]:
        return False
    if sel[SEL_TENURE_MAX] != UNSET and tenure > sel[SEL_TENURE_MAX]:
        return False
    return True


def choose_target(selectors, tenure: int, open_balance: int, late_total: int, late_count: int, overdue_days: int,
                  open_disputes: int, days_since_dispute: int) -> int:
    """The first target (1, 2, ... in the policy's order) whose selectors the customer's standing meets; 0: none.

    The engines ask when an invoice is issued (from the standing that morning, before the invoice is added), when a
    customer arrives (onboarding) and when it orders (credit hold); an invoice keeps its target for its whole life.
    Why at issue and not at each review: an invoice then follows one ladder from start to end (a customer that
    changed band between two reviews would otherwise skip or repeat steps of two ladders), and orders come first
    in the day, so the choice reads only what earlier days left (no same-day order of events can change it). A
    customer's new standing reaches its next invoices, as a dunning tool's customer-level setting would.
    """
    for t in range(len(selectors)):
        if target_matches(selectors[t], tenure, open_balance, late_total, late_count, overdue_days, open_disputes,
                          days_since_dispute):
            return t + 1
    return 0


# --- the decision (pure; compiled as it is) ---------------------------------------------------------------

def ladder_start(ints, due: int, plan_terms: bool, plan_broken_day: int) -> int:
    """Day the reminder offsets count from: the due date, or the day a plan broke when the ladder restarts."""
    on_default = ints[TERMS_ON_DEFAULT] if plan_terms else ints[PLAN_ON_DEFAULT]
    if plan_broken_day >= 0 and on_default == D_RESTART:
        return plan_broken_day
    return due


def _add(best: int, day: int) -> int:
    return day if best == NO_REVIEW or day < best else best


def next_review(ints, offsets, after_day: int, due: int, disputed: bool, had_plan: bool, had_terms: bool,
                plan_terms: bool, fees_claimed: bool, had_settlement_offer: bool, disputed_since: int,
                mediated: bool, was_at_agency: bool, was_in_court: bool, plan_broken_day: int) -> int:
    """First step day, offer day, escalation day or write-off day strictly after ``after_day`` (NO_REVIEW: none)."""
    best = NO_REVIEW
    start = ladder_start(ints, due, plan_terms, plan_broken_day)
    for k in range(ints[N_STEPS]):
        if start + offsets[k] > after_day:
            best = _add(best, start + offsets[k])
    if ints[HAS_PLAN] and not had_plan and due + ints[PLAN_OFFSET] > after_day:
        best = _add(best, due + ints[PLAN_OFFSET])
    if ints[HAS_TERMS] and not had_terms and due + ints[TERMS_OFFSET] > after_day:
        best = _add(best, due + ints[TERMS_OFFSET])
    if ints[HAS_FEES] and not fees_claimed and due + ints[FEE_OFFSET] > after_day:
        best = _add(best, due + ints[FEE_OFFSET])
    if ints[HAS_SETTLE] and not had_settlement_offer and due + ints[SETTLE_OFFSET] > after_day:
        best = _add(best, due + ints[SETTLE_OFFSET])
    if ints[HAS_MEDIATION] and disputed and not mediated:
        best = _add(best, max(disputed_since + ints[MEDIATION_AFTER], after_day + 1))
    if ints[HAS_AGENCY] and not was_at_agency and due + ints[AGENCY_OFFSET] > after_day:
        best = _add(best, due + ints[AGENCY_OFFSET])
    if ints[HAS_LEGAL] and not was_in_court and due + ints[LEGAL_OFFSET] > after_day:
        best = _add(best, due + ints[LEGAL_OFFSET])
    if due + ints[WRITE_OFF_AGE] > after_day:
        best = _add(best, due + ints[WRITE_OFF_AGE])
    return best


def rule_decision(ints, offsets, out, point: int, day: int, due: int, balance: int, disputed: bool,
                  in_plan: bool, had_plan: bool, had_terms: bool, plan_terms: bool, fees_claimed: bool,
                  had_settlement_offer: bool, disputed_since: int, mediated: bool, was_at_agency: bool,
                  was_in_court: bool, plan_broken_day: int) -> tuple[int, int]:
    """The policy's answer at a decision point: writes action codes into ``out``, returns (count, review day).

    ``ints`` and ``offsets`` are the segment's rows of the integer table and of the step offsets.
    The review day is NO_REVIEW when the policy need not be asked again.
    """
    n, after = _decision(ints, offsets, out, point, day, due, balance, disputed, in_plan, had_plan, had_terms,
                       plan_terms, fees_claimed, had_settlement_offer, disputed_since, mediated, was_at_agency,
                       was_in_court, plan_broken_day)
    if after == _NOT_AGAIN:
        return n, NO_REVIEW
    return n, next_review(ints, offsets, after, due, disputed, had_plan, had_terms, plan_terms, fees_claimed,
                          had_settlement_offer, disputed_since, mediated, was_at_agency, was_in_court,
                          plan_broken_day)


def _decision(ints, offsets, out, point: int, day: int, due: int, balance: int, disputed: bool, in_plan: bool,
            had_plan: bool, had_terms: bool, plan_terms: bool, fees_claimed: bool, had_settlement_offer: bool,
            disputed_since: int, mediated: bool, was_at_agency: bool, was_in_court: bool,
            plan_broken_day: int) -> tuple[int, int]:
    """rule_decision's actions, and the day after which the next review is sought (_NOT_AGAIN: none)."""
    if point == P_ISSUED:
        # Steps dated before issue (pre-due steps on short terms) are skipped.
        if ints[HAS_DISCOUNT]:
            out[0] = A_DISCOUNT
            return 1, day - 1
        return 0, day - 1
    if point == P_DISPUTE_RAISED:
        # Reviews come after new disputes in the day, so today's step, if any, still stands.
        return 0, day - 1
    write_off_due = day >= due + ints[WRITE_OFF_AGE]
    can_sue = ints[HAS_LEGAL] and not was_in_court
    sue = A_LEGAL if balance >= ints[LEGAL_MIN] else A_WRITE_OFF  # sue for what is worth it, write off the rest
    if point == P_ESCALATION_ENDED:
        # The agency gave up or the court case brought nothing: sue, write off, or resume the ladder.
        if can_sue and day >= due + ints[LEGAL_OFFSET]:
            out[0] = sue
            return 1, _NOT_AGAIN
        if write_off_due or was_in_court:
            out[0] = A_WRITE_OFF
            return 1, _NOT_AGAIN
        return 0, day
    if point == P_PLAN_DEFAULTED:
        # A broken plan or extended terms: write off if the policy says so or the write-off age has passed
        # meanwhile; escalate if it says so; otherwise the ladder resumes with its next step.
        on_default = ints[TERMS_ON_DEFAULT] if plan_terms else ints[PLAN_ON_DEFAULT]
        if on_default == D_WRITE_OFF or write_off_due:
            out[0] = A_WRITE_OFF
            return 1, _NOT_AGAIN
        if on_default == D_ESCALATE and not disputed:
            if ints[HAS_AGENCY] and not was_at_agency:
                out[0] = A_AGENCY
                return 1, day
            if can_sue:
                out[0] = sue
                return 1, day
            out[0] = A_WRITE_OFF
            return 1, _NOT_AGAIN
        return 0, day
    # A review day.
    n = 0
    if ints[HAS_TERMS] and not had_terms and not disputed and not in_plan and day == due + ints[TERMS_OFFSET]:
        out[0] = A_TERMS  # the offer replaces the step (and a plan offer) due today
        n = 1
    elif ints[HAS_PLAN] and not had_plan and not disputed and day == due + ints[PLAN_OFFSET]:
        out[0] = A_PLAN  # the offer replaces the step due today
        n = 1
    elif not (disputed and ints[PAUSE_ON_DISPUTE]):
        start = ladder_start(ints, due, plan_terms, plan_broken_day)
        for k in range(ints[N_STEPS]):
            if start + offsets[k] == day:
                out[0] = A_REMIND + ACTION_STRIDE * k
                n = 1
                break
    if ints[HAS_FEES] and day == due + ints[FEE_OFFSET] and not fees_claimed:
        out[n] = A_FEES
        n += 1
    if ints[HAS_SETTLE] and day == due + ints[SETTLE_OFFSET] and not had_settlement_offer and not disputed:
        out[n] = A_SETTLE
        n += 1
    if ints[HAS_MEDIATION] and disputed and not mediated and day >= disputed_since + ints[MEDIATION_AFTER]:
        out[n] = A_MEDIATE
        n += 1
    if not write_off_due and not disputed:
        if can_sue and day == due + ints[LEGAL_OFFSET]:
            out[0] = sue  # instead of today's actions
            return 1, day
        if ints[HAS_AGENCY] and day == due + ints[AGENCY_OFFSET] and not was_at_agency:
            out[0] = A_AGENCY  # instead of today's actions
            return 1, day
    if write_off_due:
        out[n] = A_WRITE_OFF
        n += 1
    return n, day
