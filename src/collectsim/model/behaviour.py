"""How customers react: the behaviour model's every rule, as small pure functions over scalars.

These functions are the whole of the behaviour model's arithmetic, written once. The SimPy engine calls
them as plain Python, one event at a time; the compiled engine compiles these very functions with numba
(:mod:`collectsim.engines.jit`) and calls them from its event loop, so the two engines share every rule and
differ only in how they keep their state. Randomness comes in as uniforms from
:mod:`collectsim.model.draws`, never from inside a rule; transcendental functions come from ``math`` (the
C library's), which numba compiles to the same routines.

The rules are written in the subset of Python that numba compiles: floats, ints and bools in, a
float, an int, a bool or a tuple of them out, no containers and no objects.
"""

from __future__ import annotations

import math

from collectsim.model.draws import exponential, geometric_days, lognormal, normal_ppf, uniform_int

HEALTHY, STRAINED, DISTRESSED, INSOLVENT = range(4)  # liquidity states (see collectsim.model.liquidity)

#: Functions the compiled engine compiles with numba (see :mod:`collectsim.engines.jit`).
__jit__ = ("recovered_goodwill", "order_rate_factor", "churn_hazard_integral", "first_churn_day", "daily_churn_hazard",
           "churn_threshold", "clip01", "goodwill_after", "response_probability", "age_factor", "set_aside_days",
           "unmoved_after", "responds", "discount_take_probability", "unchased_pay_day", "prompted_pay_day",
           "part_payment_fraction", "credit_note_fraction", "cents_of", "share_of", "unchased_lateness",
           "ignore_share_on", "part_share_on", "plan_acceptance_on", "responsiveness_on", "discount_amount",
           "settlement_forgiven", "accrued_interest", "fees_owed", "agency_outcome", "legal_outcome", "mediation_end",
           "judgment_paid", "court_fee", "costs_recovered", "has_merit", "dispute_prevented",
           "instalment_amount", "plan_down_payment", "agency_fee", "prompted_delay_day", "dispute_end_day",
           "work_class", "work_minutes", "still_needed", "contact_waits", "contact_extra", "stake_factor",
           "monthly_purchases", "contact_extra_cents", "period_goodwill_extra", "capped_goodwill_loss", "cap_used_on",
           "pays_on_due_date", "pick_share", "next_weekday_in", "release_day")


# --- goodwill, orders and churn -----------------------------------------------------------------------

def recovered_goodwill(goodwill: float, baseline: float, days: int, recovery_days: float) -> float:
    """Goodwill ``days`` after it was ``goodwill``, relaxing toward ``baseline`` with time constant ``recovery_days``.

    Relationships mend slowly when nothing new happens: the gap to the baseline shrinks by a factor
    e every ``recovery_days``.
    """
    return baseline + (goodwill - baseline) * math.exp(-days / recovery_days)


def order_rate_factor(goodwill: float, baseline: float, elasticity: float) -> float:
    """Multiplier of a customer's ordering rate: 1 at its baseline goodwill, ``1 + e x (g - b)`` around it."""
    out = 1.0 + elasticity * (goodwill - baseline)
    return out if out > 0.0 else 0.0


def _series_denominators() -> tuple[float, ...]:
    """``k x k!`` for k = 1..40, as floats computed in this order (the series below divides by them)."""
    out, fact = [], 1.0
    for k in range(1, 41):
        fact *= k
        out.append(k * fact)
    return tuple(out)


#: Computed once rather than in every call (the engine's most frequent rule); a constant to numba.
_SERIES_DENOMINATORS = _series_denominators()


def churn_hazard_integral(daily_hazard: float, slope: float, gap: float, days: int, recovery_days: float) -> float:
    """Integrated churn hazard over ``days`` while goodwill recovers from ``gap`` below baseline.

    The hazard is ``h0 exp(slope x (baseline - g(t)))`` with ``baseline - g(t) = gap exp(-t / tau)``.
    Its integral is ``h0 (X + tau sum_k (D^k - (D e^(-X/tau))^k) / (k k!))`` with ``D = slope x gap``
    (the exponential-integral series, at most 40 terms), exact for every gap of either sign.
    """
    d = slope * gap
    if d == 0.0:
        return daily_hazard * days  # goodwill at baseline: a constant hazard
    w = d * math.exp(-days / recovery_days)
    series, d_pow, w_pow = 0.0, 1.0, 1.0
    for denominator in _SERIES_DENOMINATORS:  # k k! for k = 1..40
        d_pow *= d
        w_pow *= w
        term = (d_pow - w_pow) / denominator
        series += term
        tol = 1e-17 * (series if series >= 0.0 else -series)
        if -tol < term < tol:
            break  # later terms are smaller still and cannot change the sum
    return daily_hazard * (days + recovery_days * series)


def first_churn_day(already: float, daily_hazard: float, slope: float, gap: float, span: int,
                    recovery_days: float, threshold: float) -> int:
    """Days after the last touch (1..span) on which the integrated hazard first reaches ``threshold`` (bisection).

    Called once the hazard over the whole ``span`` is known to reach it.
    """
    lo, hi = 0, span
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if already + churn_hazard_integral(daily_hazard, slope, gap, mid, recovery_days) >= threshold:
            hi = mid
        else:
            lo = mid
    return hi


def daily_churn_hazard(churn_per_year: float) -> float:
    """Daily hazard of a yearly churn probability (0 for none)."""
    if churn_per_year <= 0.0:
        return 0.0
    return -math.log1p(-min(churn_per_year, 1.0 - 1e-12)) / 365.0


def churn_threshold(p: float) -> float:
    """A customer's exponential threshold of integrated hazard, from its churn uniform."""
    return -math.log(p)


def gone_probability(days: int, daily_hazard: float, mean_gap: float) -> float:
    """Chance that a customer who last ordered ``days`` days before the as-of day had churned by the first day after.

    Derived from the model's own rules at baseline goodwill, day 0 being the day of the last order (the customer
    had not churned then: it ordered):

    - a customer still trading orders on each day with probability ``r = 1 / max(mean_gap, 1)`` (the gap to its
      next order is geometric, :func:`collectsim.model.draws.geometric_days`), so ``P(next order after day k) =
      a^k`` with ``a = 1 - r``;
    - it churns on the first whole day its integrated hazard reaches its exponential threshold
      (:func:`first_churn_day`): with the hazard ``h`` of baseline goodwill, ``P(still there on day k) = b^k``
      with ``b = exp(-h)``, and an order on a day it has churned is not placed.

    The ledger shows no order on days 1..g (g = ``days``). "Gone" is churned on or before day g + 1, the first
    day simulated: the engines' own churn clock for an opening customer starts on that day, so churn falls on day
    g + 2 at the earliest there, and the two together give the customer's churn day exactly (the hazard is
    memoryless). Then

        P(no order, not gone) = a^g b^(g+1)
        P(no order, gone)     = a^g (1 - b^(g+1)) + sum_{k=1..g} r a^(k-1) (1 - b^k)
                              = a^g (1 - b^(g+1)) + (1 - a^g) - r b (1 - (ab)^g) / (1 - ab)

    (the first term: no order was due by day g and it churned by g + 1; the sum: its next order fell on day k
    but it had churned by then), and the answer is P(no order, gone) / P(no order). It is the discrete form of
    ``q / (q + exp(-(h + r) g))`` with ``q = h / (h + r) (1 - exp(-(h + r) g))`` for small daily rates.

    What it leaves out: goodwill below baseline (fewer orders and a higher hazard; the forecast starts every
    customer at baseline), insolvency (drawn by the liquidity paths), and orders refused under a credit hold,
    which the ledger does not show either (so a customer on hold looks gone sooner than it is).
    """
    if daily_hazard <= 0.0 or days < 0:
        return 0.0
    r = 1.0 / max(mean_gap, 1.0)
    a, b = 1.0 - r, math.exp(-daily_hazard)
    quiet = a ** days
    stayed = quiet * b ** (days + 1)
    gone = quiet * -math.expm1(-daily_hazard * (days + 1)) + (1.0 - quiet) - r * b * (1.0 - (a * b) ** days) / (
        1.0 - a * b)
    gone = gone if gone > 0.0 else 0.0  # (rounding of the difference, below 1e-15)
    total = gone + stayed
    return gone / total if total > 0.0 else 1.0  # both below the smallest float: staying is the unlikelier by far


def clip01(x: float) -> float:
    """Clamp to the goodwill scale [0, 1]."""
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def goodwill_after(goodwill: float, change: float, sensitivity: float) -> float:
    """Goodwill after an action whose effect is ``change`` points, scaled by the segment's sensitivity."""
    return clip01(goodwill + change * sensitivity)


# --- contact with a customer ------------------------------------------------------------------------------

#: Length in days of the period over which a customer's goodwill loss to contacts is capped.
CAP_PERIOD_DAYS = 30


def contact_waits(day: int, last_contact: int, gap: int) -> bool:
    """Whether a reminder due today must wait: the customer was contacted fewer than ``gap`` days ago.

    Not when the last contact is today: a reminder due the same day joins that contact (one statement of
    every invoice at a step), which is how dunning tools write to a customer.
    """
    return last_contact < day < last_contact + gap


def contact_extra(same_contact: bool, value: float, so_far: float) -> float:
    """What a step adds to a contact's staff minutes: all of its own in a new contact; in today's contact only
    what it needs beyond the steps already in it (the contact takes as long as its longest step)."""
    if not same_contact:
        return value
    return value - so_far if value > so_far else 0.0


def contact_extra_cents(same_contact: bool, cost: int, so_far: int) -> int:
    """As :func:`contact_extra`, for a contact's cost in cents: a contact costs what its dearest step costs."""
    if not same_contact:
        return cost
    return cost - so_far if cost > so_far else 0


def monthly_purchases(amount_median: float, orders_per_year: float) -> float:
    """A segment's customer's usual purchases in a month, in cents: the scale an invoice's stake is read against."""
    return amount_median * 100.0 * orders_per_year / 12.0


def stake_factor(amount: int, monthly: float) -> float:
    """How much of a customer's goodwill an event about one invoice engages: the invoice against the customer's usual
    month of purchases.

    A firm letter about a small invoice is a routine nudge; about a month's business it is a warning. So the same
    revenue billed in four times as many invoices costs no more goodwill to chase than in one. Not capped at one
    month (that would favour few large invoices); the period's cap on losses (``contact_goodwill_cap``) bounds a
    large invoice's effect.
    """
    if monthly <= 0.0:
        return 1.0
    return amount / monthly


def period_goodwill_extra(change: float, worst: float, best: float) -> float:
    """What an event on the account adds to goodwill, given the period's worst loss and best gain so far.

    A customer minds the harshest experience of a month, not how many it had: a second firm letter or a second
    dispute in the same 30 days (about another invoice, say) costs no more goodwill, a final notice after a firm
    letter costs the difference. Gains alike: the second discount taken in a month pleases no more than the
    first. So goodwill follows the account, not the number of invoices on it. ``worst`` <= 0 and ``best`` >= 0
    are the period's extremes so far (both 0 when it starts).
    """
    if change < 0.0:
        return change - worst if change < worst else 0.0
    if change > 0.0:
        return change - best if change > best else 0.0
    return 0.0


def cap_used_on(period: int, cap_period: int, used: float) -> float:
    """Goodwill already lost to contacts in ``period`` (a new period starts from nothing)."""
    return used if period == cap_period else 0.0


def capped_goodwill_loss(change: float, used: float, cap: float) -> float:
    """The part of a contact's goodwill change the period's cap lets through.

    A customer who hears from us many times in a month does not think worse of us with every letter: losses to
    contacts add up to at most ``cap`` goodwill points per customer per period (before the segment's
    sensitivity). Gains are never capped.
    """
    if change >= 0.0:
        return change
    room = cap - used
    if room <= 0.0:
        return 0.0
    return change if -change <= room else -room


# --- reminders and their response -----------------------------------------------------------------------

def response_probability(base: float, tone_multiplier: float, responsiveness: float,
                         goodwill: float, goodwill_weight: float, cap: float) -> float:
    """Chance that one reminder prompts a payment soon.

    base (by channel) x tone multiplier x segment responsiveness x goodwill factor, where the
    goodwill factor is ``1 - w + 2 w goodwill``: 1 at goodwill 0.5, higher for customers who like
    dealing with us. Capped at ``cap``.
    """
    factor = 1.0 - goodwill_weight + 2.0 * goodwill_weight * goodwill
    p = base * tone_multiplier * responsiveness * factor
    return p if p <= cap else cap


def age_factor(days_past_due: int, halflife_days: float) -> float:
    """Multiplier of a reminder's response chance for debt ``days_past_due`` old: halves every ``halflife_days``.

    Debt gets harder to collect as it ages (the collectability-by-age curve collection surveys quote);
    1 up to the due date, and always 1 when ``halflife_days`` is 0 (no fading).
    """
    return 0.5 ** (days_past_due / halflife_days) if halflife_days > 0 and days_past_due > 0 else 1.0


def unmoved_after(unmoved: float, probability: float) -> float:
    """Chance that none of the reminders so far moved the customer, after one more with ``probability``."""
    return unmoved * (1.0 - probability)


def responds(threshold: float, unmoved: float) -> bool:
    """Has the customer been moved to pay? True once the invoice's uniform ``threshold`` exceeds ``unmoved``.

    Each reminder k moves a customer with probability p_k independently of the others, so the chance
    of no response through reminder k is the product of (1 - p_j). Drawing one uniform per invoice and
    responding at the first reminder where it exceeds that product gives exactly that distribution,
    and couples the invoice across policies: an invoice quick to respond under one ladder is quick
    under another. Once moved, later reminders find it moved too (they cannot delay the payment).
    """
    return threshold > unmoved


def responsiveness_on(responsiveness: float, liquidity: int, strained: float, distressed: float) -> float:
    """The segment's responsiveness to reminders, lowered while the customer is short of cash."""
    if liquidity == STRAINED:
        return responsiveness * strained
    if liquidity == DISTRESSED:
        return responsiveness * distressed
    return responsiveness * 1.0


def prompted_pay_day(now: int, due_day: int, delay_days: float) -> int:
    """Day a customer pays after a reminder works.

    Before the due date a reminder makes the customer pay on time (at the due date); after it, the
    payment arrives ``delay_days`` later, at the earliest the next day (same-day order stays fixed).
    """
    return due_day if now < due_day else now + 1 + math.floor(delay_days)


def prompted_delay_day(now: int, p: float, mean_delay: float) -> int:
    """Day a customer acts on something agreed today (a settlement): ``now + 1`` plus an exponential delay."""
    return now + 1 + int(exponential(p, mean_delay))


# --- paying ------------------------------------------------------------------------------------------------

def unchased_lateness(habit: float, sd_within: float, z: float, liquidity: int, strained_extra: float) -> float:
    """Days late an invoice would be paid unchased: the habit, this invoice's deviation, and cash strain."""
    lateness = habit + sd_within * z
    if liquidity != HEALTHY:
        lateness += strained_extra * (2 if liquidity == DISTRESSED else 1)
    return lateness


def ignore_share_on(ignore_share: float, liquidity: int, distressed_ignore: float) -> float:
    """Chance an invoice is set aside at issue: higher for a distressed customer."""
    if liquidity == DISTRESSED:
        return ignore_share + (1.0 - ignore_share) * distressed_ignore
    return ignore_share


def unchased_pay_day(due_day: int, issue_day: int, lateness_days: float) -> int:
    """Day an invoice is paid if nobody chases it: due date plus lateness, never before issue."""
    day = due_day + round(lateness_days)  # round() is round-half-even
    return day if day > issue_day else issue_day


def pays_on_due_date(p: float, share: float, liquidity: int) -> bool:
    """Does a healthy customer pay this invoice exactly on its due date (a scheduled payment)? From its uniform.

    Many accounts-payable teams schedule an invoice for its due date: a spike of payments on the due day itself
    that a continuous lateness cannot produce. A customer short of cash does not keep to it.
    """
    return liquidity == HEALTHY and p < share


def pick_share(p: float, cumulative) -> int:
    """The index of the first cumulative share above ``p``: a draw from a discrete mix (terms, run weekday).

    ``cumulative`` holds the mix's running totals, the last one 1 (entries past it are ignored).
    """
    for k in range(len(cumulative)):
        if p < cumulative[k]:
            return k
    return len(cumulative) - 1


def next_weekday_in(day: int, first_weekday: int, mask: int) -> int:
    """The first day on or after ``day`` whose weekday (0 = Monday) is in ``mask`` (bit k: weekday k).

    ``first_weekday`` is the weekday of day 0; a mask of 0 (no pattern) leaves the day as it is.
    """
    if mask == 0:
        return day
    for k in range(7):
        if (mask >> ((day + k + first_weekday) % 7)) & 1:
            return day + k
    return day


def release_day(day: int, due_day: int, first_weekday: int, run_mask: int, business_mask: int) -> int:
    """The day a payment meant for ``day`` leaves the customer's accounts payable.

    A customer pays in its payment run, on its run weekday (``run_mask``): a payment meant for another day waits
    for the next one. A payment meant for the due date itself is a scheduled one: it goes that day if it is one of
    the segment's payment days (``business_mask``, the weekdays anyone pays on), else on the next such day (and on
    that day it goes). Both masks 0: any day.
    """
    scheduled = next_weekday_in(due_day, first_weekday, business_mask)
    if due_day <= day <= scheduled:
        return scheduled
    return next_weekday_in(day, first_weekday, run_mask)


#: "Not of its own accord" for :func:`unchased_day` and :func:`open_pay_day` (the engines' NEVER).
NO_PAY_DAY = 1 << 62

#: How many times :func:`open_pay_day` redraws an opening invoice's payment day before it gives up.
OPEN_PAY_TRIES = 64
#: How many part payments before the as-of day :func:`open_pay_day` follows in one try (each needs a part payment).
OPEN_PART_CHAIN = 8


def unchased_day(issue_day: int, due_day: int, habit: float, sd_within: float, liquidity: int, strained_extra: float,
                 days_faster: float, ignore: float, on_due_share: float, p_ignore: float, p_on_due: float,
                 p_lateness: float, p_set_aside: float, set_aside_median: float, set_aside_never: float,
                 set_aside_sigma: float) -> int:
    """The day an invoice would be paid if nobody chased it (NO_PAY_DAY: not of the customer's own accord).

    The issue-time payment intention of the engines, as one function of its four uniforms: with chance
    ``ignore`` (:func:`ignore_share_on`) the invoice is set aside (:func:`set_aside_days`, when
    ``set_aside_median`` > 0); otherwise it is scheduled for its due date (:func:`pays_on_due_date`, with
    ``on_due_share``) or paid at :func:`unchased_pay_day` after :func:`unchased_lateness`, ``days_faster``
    earlier (electronic invoicing). The payment-run weekday is applied when the payment is made, as for any
    invoice.
    """
    if p_ignore >= ignore:
        if on_due_share > 0 and pays_on_due_date(p_on_due, on_due_share, liquidity):
            return unchased_pay_day(due_day, issue_day, 0.0)  # scheduled for the due date
        lateness = unchased_lateness(habit, sd_within, normal_ppf(p_lateness), liquidity, strained_extra)
        return unchased_pay_day(due_day, issue_day, lateness - days_faster)
    if set_aside_median > 0:
        late = set_aside_days(p_set_aside, set_aside_never, set_aside_median, set_aside_sigma)
        if late >= 0:
            return due_day + 1 + late
    return NO_PAY_DAY


def past_reminders_pay_day(as_of: int, issue_day: int, due_day: int, step_offsets, step_probability,
                           halflife_days: float, p_threshold: float, p_delay: float, delay_mean: float,
                           disputed_from: int = 0, disputed_until: int = 0) -> int:
    """The day a customer moved by one of the reminders sent before ``as_of`` pays (NO_PAY_DAY: none moved it).

    The reminders are the steps of the firm's practice dated from the issue day to the day before ``as_of``
    (``step_offsets`` from the due date, in order); step k moves the customer with ``step_probability[k]`` (its
    :func:`response_probability`) times :func:`age_factor` of the debt on its day, as :func:`responds` decides
    from one threshold uniform; the payment follows at :func:`prompted_pay_day` after an exponential delay.

    A step dated while the invoice was in dispute, from the day it was raised (``disputed_from``) to the day before it
    was resolved (``disputed_until``), moved nobody: the engines pause such a step (``pause_on_dispute``) or, when
    they send it, a disputed invoice does not respond (disputes are raised before the day's reviews and resolved
    before them). The default empty window is an invoice never disputed.
    """
    unmoved = 1.0
    for k in range(len(step_offsets)):
        day = due_day + step_offsets[k]
        if day >= as_of:
            break
        if day < issue_day or disputed_from <= day < disputed_until:
            continue
        unmoved = unmoved_after(unmoved, step_probability[k] * age_factor(day - due_day, halflife_days))
        if responds(p_threshold, unmoved):
            return prompted_pay_day(day, due_day, exponential(p_delay, delay_mean))
    return NO_PAY_DAY


def open_pay_day(as_of: int, issue_day: int, due_day: int, habit: float, sd_within: float, liquidity: int,
                 strained_extra: float, ignore: float, on_due_share: float, uniforms, set_aside_median: float,
                 set_aside_never: float, set_aside_sigma: float, step_offsets, step_probability, halflife_days: float,
                 delay_mean: float, part_share: float = 0.0, part_gap_days: float = 14.0, part_uniforms=None) -> int:
    """The payment day of an invoice known to be unpaid at the start of day ``as_of``: on or after it.

    Without knowing that, the invoice would be paid on the earlier of its unchased day (:func:`unchased_day`) and
    the day a reminder of the firm's practice sent before ``as_of`` moved the customer to pay
    (:func:`past_reminders_pay_day`). This draws that day conditional on it not falling before ``as_of``, by
    rejection: try k reads ``uniforms[k, 0..5]`` (ignore, lateness, set-aside, response threshold, response delay,
    due-date schedule: counter-keyed draws of ``Purpose.OPEN_PAY_DAY`` at steps 6k..6k+5) and the first day on or
    after ``as_of`` is kept. So a customer whose reminder worked a day before ``as_of`` pays in the first days, one
    that never pays unchased stays unpaid, and the conditional distribution stays exact whatever
    :func:`unchased_day` becomes (no closed form is assumed). An invoice whose every try falls before ``as_of``
    (``uniforms`` holds OPEN_PAY_TRIES rows; it happens when the invoice is already far later than its customer
    ever pays) is taken as set aside for good: NO_PAY_DAY, so only chasing, a plan or escalation can still collect
    it.

    "Unpaid" is what a ledger shows: open in full until the invoice is settled. A first payment before ``as_of``
    may have been a part payment (chance ``part_share``, :func:`part_share_on` in the customer's liquidity on the
    as-of day), after which the rest follows :func:`collectsim.model.draws.geometric_days` (mean
    ``part_gap_days``) later, as the engines pay it, possibly in part again. Try k follows that chain with
    ``part_uniforms[k, 2m]`` (part or full) and ``part_uniforms[k, 2m + 1]`` (the gap) for at most
    OPEN_PART_CHAIN payments: a full payment before ``as_of`` rejects the try, and the first payment on or after
    ``as_of`` is the day kept. So an invoice paid in part shortly before ``as_of``, which the ledger cannot
    show, has its rest come within weeks, as in the model. Without ``part_uniforms`` no part payment is assumed.
    """
    return open_pay_and_resolve_day(as_of, issue_day, due_day, habit, sd_within, liquidity, strained_extra, ignore,
                                    on_due_share, uniforms, set_aside_median, set_aside_never, set_aside_sigma,
                                    step_offsets, step_probability, halflife_days, delay_mean, part_share,
                                    part_gap_days, part_uniforms)[0]


def open_pay_and_resolve_day(as_of: int, issue_day: int, due_day: int, habit: float, sd_within: float,
                             liquidity: int, strained_extra: float, ignore: float, on_due_share: float, uniforms,
                             set_aside_median: float, set_aside_never: float, set_aside_sigma: float, step_offsets,
                             step_probability, halflife_days: float, delay_mean: float, part_share: float = 0.0,
                             part_gap_days: float = 14.0, part_uniforms=None, dispute_uniforms=None,
                             dispute_raise_days: int = 14, resolution_days: float = 20.0,
                             dispute_min_days: float = 0.0) -> tuple[int, int]:
    """(payment day, dispute resolution day) of an open invoice, as :func:`open_pay_day`; for one the ledger
    flags as disputed (``dispute_uniforms`` given), also when its dispute ends (NO_PAY_DAY: not in dispute).

    A ledger's ``disputed`` flag says a dispute was raised, not when, nor whether it is settled. In the model a
    dispute is raised within ``dispute_raise_days`` of issue (and before the due date) and lasts
    :func:`dispute_end_day` (``dispute_min_days`` plus an exponential of mean ``resolution_days``); a payment waits
    for it and follows the resolution after :func:`prompted_pay_day`'s delay. Try k draws the raise day (uniform
    over those days before ``as_of``) and the end from ``dispute_uniforms[k, 0..2]`` with the payment day: a dispute
    still running on ``as_of`` keeps the invoice open whatever its payment day (the engines pay it after the
    resolution); one resolved before it leaves the invoice undisputed, paid at the later of its own day and the
    resolution's prompted day, which must fall on or after ``as_of`` like any open invoice's (else the try is
    rejected). The reminders of the practice dated while the dispute ran moved nobody
    (:func:`past_reminders_pay_day`'s window). Without ``dispute_uniforms`` the invoice is not disputed. (A payment
    is taken not to fall before the dispute was raised: disputes come within the terms, before most payments.)
    """
    chain = 0 if part_uniforms is None else part_uniforms.shape[1] // 2
    for k in range(uniforms.shape[0]):
        day = unchased_day(issue_day, due_day, habit, sd_within, liquidity, strained_extra, 0.0, ignore, on_due_share,
                           uniforms[k, 0], uniforms[k, 5], uniforms[k, 1], uniforms[k, 2], set_aside_median,
                           set_aside_never, set_aside_sigma)
        raised, end = 0, 0  # not disputed: no step was paused
        if dispute_uniforms is not None:
            latest = min(due_day - issue_day, dispute_raise_days, as_of - 1 - issue_day)
            raised = issue_day + uniform_int(dispute_uniforms[k, 0], 0, max(latest, 0))
            end = dispute_end_day(raised, dispute_uniforms[k, 1], resolution_days, dispute_min_days)
        moved = past_reminders_pay_day(as_of, issue_day, due_day, step_offsets, step_probability, halflife_days,
                                       uniforms[k, 3], uniforms[k, 4], delay_mean, raised, end)
        if moved < day:
            day = moved
        if dispute_uniforms is not None:
            if end >= as_of:
                return (day if day >= as_of else as_of), end  # still in dispute: paid after it ends
            if day != NO_PAY_DAY:
                day = max(day, prompted_pay_day(end, due_day, exponential(dispute_uniforms[k, 2], delay_mean)))
        m = 0
        while day < as_of and m < chain and part_uniforms[k, 2 * m] < part_share:
            day += geometric_days(part_uniforms[k, 2 * m + 1], part_gap_days)  # paid in part: the rest follows
            m += 1
        if day >= as_of:
            return day, NO_PAY_DAY
    return NO_PAY_DAY, NO_PAY_DAY


def set_aside_days(p: float, never_share: float, median_days: float, sigma: float) -> int:
    """Days past due (>= 0) at which a set-aside invoice is paid unchased, or -1 for never.

    One uniform decides both: below ``never_share`` the customer never pays of its own accord; above
    it, the rescaled uniform gives a log-normal delay. The same invoice is thus as slow under every policy.
    """
    if p < never_share:
        return -1
    rescaled = (p - never_share) / max(1.0 - never_share, 1e-300)
    rescaled = min(max(rescaled, 2.0**-53), 1.0 - 2.0**-53)
    return int(min(lognormal(rescaled, median_days, sigma), 1e6))


def part_share_on(partial_share: float, liquidity: int, strained_part_payment: float) -> float:
    """Chance a payment is made in part: higher while the customer is short of cash."""
    if liquidity == HEALTHY:
        return partial_share
    return min(1.0, partial_share + strained_part_payment)


def part_payment_fraction(p: float, mean: float) -> float:
    """Share of the balance paid in a part payment: uniform on mean +/- 0.2 (within 0.05-0.95)."""
    low, high = min(max(mean - 0.2, 0.05), 0.95), min(max(mean + 0.2, 0.05), 0.95)
    return low + (high - low) * p


def discount_take_probability(appetite: float, rate: float, reference_rate: float) -> float:
    """Chance that a customer takes an early-payment discount of ``rate``.

    Linear in the rate up to the reference rate, where it equals the segment's appetite; a larger
    discount does not tempt more (assumption: customers who can pay early already do at the reference).
    """
    ratio = rate / reference_rate
    return appetite * (ratio if ratio <= 1.0 else 1.0)


def discount_amount(balance: int, amount: int, rate: float) -> int:
    """Cents deducted by a customer paying within the discount window (at least one cent is still paid)."""
    return min(balance - 1, round(amount * rate))


def settlement_forgiven(balance: int, forgive: float) -> int:
    """Cents forgiven when a customer who accepted a settlement pays (at least one cent is still paid)."""
    return min(balance - 1, round(balance * forgive))


def cents_of(amount: float) -> int:
    """Currency amount to whole cents (round half to even), at least one cent."""
    cents = round(amount * 100.0)
    return cents if cents > 1 else 1


def share_of(balance_cents: int, fraction: float) -> int:
    """A part of a balance in cents, at least one cent and at most the balance."""
    part = round(float(balance_cents) * fraction)
    return min(max(part, 1), balance_cents)


# --- disputes --------------------------------------------------------------------------------------------

def has_merit(p: float, merit_share: float) -> bool:
    """Does the dispute have merit (the customer is right about the disputed part)? From its CREDIT_NOTE uniform.

    A dispute with merit ends in a credit note for the disputed part, whoever resolves it (we, a mediator or a
    court); one without merit ends with the customer accepting the invoice.
    """
    return p < merit_share


def dispute_prevented(p: float, merit: bool, clear_terms: bool, e_invoicing: bool, terms_cut: float,
                      e_cut: float) -> bool:
    """Is a dispute the customer would raise never raised? E-invoicing prevents a share ``e_cut`` of all disputes
    (paperwork); clear terms a share ``terms_cut`` of the rest of those without merit (misunderstandings). From the
    invoice's DISPUTE_PREVENTED uniform; never when neither lever is on."""
    cut = e_cut if e_invoicing else 0.0
    if clear_terms and not merit:
        cut = cut + (1.0 - cut) * terms_cut
    return p < cut


def credit_note_fraction(p: float, mean: float) -> float:
    """Share of the balance a credit note covers: uniform on 0 to twice the mean, capped at 1."""
    share = 2.0 * mean * p
    return share if share < 1.0 else 1.0


def dispute_end_day(day: int, p: float, mean_days: float, min_days: float) -> int:
    """Day a dispute raised (or taken up) on ``day`` is resolved: at least ``1 + min_days`` days later.

    The time it takes is shifted exponential: ``min_days`` (the checking, credit approval or meeting no dispute is
    settled without) plus an exponential wait of mean ``mean_days``. With ``min_days`` 0 it is the plain exponential.
    """
    return day + 1 + int(min_days + exponential(p, mean_days))


# --- plans, fees and escalation -------------------------------------------------------------------------------

def plan_acceptance_on(acceptance: float, liquidity: int, strained_plan_acceptance: float) -> float:
    """Chance a customer agrees to a plan it is offered: higher while it is short of cash."""
    if liquidity != HEALTHY:
        return min(1.0, acceptance + strained_plan_acceptance)
    return acceptance


def plan_down_payment(balance: int, down_payment: float) -> int:
    """Cents due as a plan's down payment (0: none; never the whole balance)."""
    if down_payment > 0 and balance >= 2:
        return min(share_of(balance, down_payment), balance - 1)
    return 0


def instalment_amount(balance: int, down: int, left: int, milestone_share: float, base: int) -> int:
    """Cents paid at an instalment: the down payment, a milestone's share of the agreed balance (extended
    terms: ``milestone_share`` >= 0), or an equal part of what is left; the last one clears the balance."""
    if down:
        amount = down
    elif milestone_share >= 0.0:
        amount = balance if left <= 1 else share_of(base, milestone_share)
    else:
        amount = balance if left <= 1 else balance // left
    return max(1, min(amount, balance))


def accrued_interest(interest: float, balance: int, rate: float, days: int) -> float:
    """Simple statutory interest (fractional cents) after ``days`` more on the unpaid principal."""
    return interest + balance * rate * days / 365.0


def fees_owed(compensation: int, interest: float) -> int:
    """Compensation and accrued interest owed when the principal is closed, in whole cents."""
    return compensation + max(0, round(interest))


def agency_fee(amount: int, fee: float) -> int:
    """The agency's contingency fee on what it collects."""
    return round(amount * fee)


def mediation_end(day: int, works: float, length: float, success: float, mean_days: float) -> int:
    """Day a mediated dispute ends (or -1 when mediation fails), from its two uniforms."""
    if works < success:
        return day + 1 + int(exponential(length, mean_days))
    return -1


def agency_outcome(day: int, collects: float, length: float, success: float, recoverability: float,
                   mean_days: float, max_days: int, age: float, own_day: int) -> tuple[bool, int]:
    """(is the invoice collected while the agency holds it, the day it is collected or handed back).

    The agency's own effect: with chance ``success x recoverability x age`` (``age`` the debt's collectability
    factor at hand-over, :func:`age_factor`: old debt is as hard for an agency as for a reminder) it collects
    within ``1 + exponential`` days, if that is within ``max_days``. The debtor's own payment still comes: when the
    day it would have paid (``own_day``; NEVER-like when it would not) falls while the agency holds the claim, it
    pays then (to the agency, which takes its fee on it) unless the agency collected sooner.
    """
    p = success * recoverability * age
    collected = collects < (p if p < 1.0 else 1.0)
    days = 1 + int(exponential(length, mean_days))
    pays = collected and days <= max_days
    end = day + (days if pays else max_days)
    if own_day <= end:
        own = own_day if own_day > day else day + 1
        return True, own if own < end else end
    return pays, end


def legal_outcome(day: int, length: float, defended: bool, own_day: int, default_days: float,
                  defended_days: float) -> tuple[bool, int]:
    """(does the debtor pay the claim before judgment, the day that happens or the judgment is given).

    An undefended claim ends in default judgment after ``1 + exponential(default_days)`` days; a defended one (the
    invoice is disputed) goes to trial after ``1 + exponential(defended_days)``. A debtor that would have paid of its
    own accord (``own_day``) before an undefended claim's judgment pays the claim then.
    """
    judgment = day + 1 + int(exponential(length, defended_days if defended else default_days))
    if not defended and own_day <= judgment:
        return True, own_day if own_day > day else day + 1
    return False, judgment


def judgment_paid(paid: float, paid_share: float, recoverability: float, liquidity_factor: float,
                  would_pay: bool) -> bool:
    """Is a judgment enforced? Always when the debtor meant to pay anyway; otherwise with chance paid share x
    recoverability x the liquidity factor of the debtor on judgment day (enforcement fails against a debtor with no
    cash more often than against a healthy one)."""
    if would_pay:
        return True
    p = paid_share * recoverability * liquidity_factor
    return paid < (p if p < 1.0 else 1.0)


def court_fee(balance: int, rate: float) -> int:
    """The court fee on a claim for ``balance`` cents, at ``rate`` of the claim."""
    return round(balance * rate)


def costs_recovered(costs: int, recoverable: float, awarded: int, claimed: int) -> int:
    """Cents of the case's costs the debtor repays with a paid judgment: the recoverable share, in proportion to the
    part of the claim the court awarded."""
    if claimed <= 0:
        return 0
    return round(costs * recoverable * awarded / claimed)


# --- the team's service order ------------------------------------------------------------------------------

# Work classes, served first to last by a team with limited time; action kinds as collectsim.model.decisions.ActionKind;
# channels as collectsim.config.policy_spec.CHANNELS.
WORK_DISPUTE, WORK_CALL, WORK_LETTER, WORK_EMAIL = range(4)
_REMIND, _DISCOUNT, _WRITE_OFF, _PLAN, _FEES, _SETTLE, _MEDIATE, _AGENCY, _LEGAL = range(9)
_EMAIL, _LETTER, _PHONE = range(3)


def work_class(kind: int, channel: int) -> int:
    """The class in which the team serves an action: calls (and plan offers), letters and paperwork, emails."""
    if kind == _PLAN or (kind == _REMIND and channel == _PHONE):
        return WORK_CALL
    if kind == _REMIND and channel == _EMAIL:
        return WORK_EMAIL
    return WORK_LETTER


def work_minutes(kind: int, channel: int, minutes_email: float, minutes_letter: float, minutes_call: float) -> float:
    """Staff minutes an action takes; write-offs and discount terms take none."""
    if kind == _REMIND:
        return minutes_email if channel == _EMAIL else minutes_letter if channel == _LETTER else minutes_call
    if kind == _PLAN:
        return minutes_call
    if kind == _SETTLE or kind == _FEES or kind == _AGENCY or kind == _LEGAL or kind == _MEDIATE:
        return minutes_letter
    return 0.0


def still_needed(kind: int, balance: int, escalation: int, in_plan: bool) -> bool:
    """Whether a queued action is still worth doing when the team reaches it.

    Not once the invoice is settled or with an agency or in court; on a plan (agreed after the request) the
    plan runs the invoice, so no chasing, offers or hand-overs.
    """
    if balance == 0 or escalation != 0:
        return False
    return not (in_plan and (kind == _REMIND or kind == _PLAN or kind == _SETTLE or kind == _AGENCY
                             or kind == _LEGAL))
