"""Scenario files: a portfolio, its economics, a time horizon and the policies to try on it.

A scenario is the finance manager's "what if" written down: who the customers are (segments with
their ordering and paying habits), what money costs, how long to simulate, and which policies to
compare. It is a TOML file, read with the standard library and validated into frozen dataclasses;
loading never executes code. Policies are written inline as ``[policies.<name>]`` tables or pulled
from strategy files (one ``[policy]`` each) listed in ``include_policies``, relative to the file.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from collectsim.config.business_calendar import PAYMENT_RUNS
from collectsim.config.company import Company
from collectsim.config.opening_book import OpeningBook
from collectsim.config.policy_spec import PolicySpec, parse_policy
from collectsim.config.schema import NO_VALUE, ScenarioError, as_raw, build, join, set_dotted, setting, table

# --- the portfolio ----------------------------------------------------------------------------------

SME_LATENESS = "SME invoices are paid about 1-2 weeks late on average (accounting-software vendor data)"
B2B_CHURN = ("about 7-8% of business customer-supplier links end each year (Japanese inter-firm network data, "
             "2008-12; docs/sources.md)")
CONTACT_MINUTES = ("accounts-receivable software vendors' rules of thumb, weak: about 5 minutes to write an email "
                   "by hand, up to 20 for a connected call with notes; a tool-sent email and an average call attempt "
                   "take less (docs/sources.md)")
STAFF_COST = ("labour cost per hour including employer's costs: EU average EUR 33.5 (2024); US bill and account "
              "collectors about USD 29 (docs/sources.md)")
DEBT_AGE = ("assumption, calibrated so the baseline's as-is collectability by age of debt lands in "
            "the ranges of commercial collection surveys (docs/sources.md)")
PAYMENT_DAYS = ("accounts-receivable ledgers show a spike of payments on the due date and payments on business "
                "days, many in weekly payment runs (issue 22; fitted by `collectsim calibrate`); 0 and any day by "
                "default, so a scenario without them pays as before")
#: Most distinct payment terms a segment's ``terms_mix`` may hold.
MAX_TERMS_MIX = 8
DISPUTE_TIME = "disputes take 15-30 days to resolve (collections-software vendor pages; assumption)"
DISPUTE_MIN = ("no minimum by default (a dispute may end the next day, as before the key existed); calibration fits "
               "one from a ledger's disputed invoices (assumption)")
DISPUTE_CAUSES = ("disputes are mostly about price (35-40%), quantity or scope (25-30%), paperwork (15-20%) and "
                  "quality (10-15%) (collections-software vendor pages; the share prevented is an assumption)")


@dataclass(frozen=True)
class Segment:
    """A group of customers who order and pay alike."""

    name: str = setting(required=True, source="", doc="Segment name, used in reports and policy overrides.")
    customers: int = setting(100, unit="customers", low=1, high=1_000_000, doc="Number of customers.")
    orders_per_year: float = setting(12.0, unit="invoices per customer-year", low=0, high=3650,
                                     low_exclusive=True, doc="Mean ordering rate of one customer.")
    amount_median: float = setting(1500.0, unit="currency", low=0.01, high=1e9,
                                   doc="Median invoice amount (log-normal).")
    amount_sigma: float = setting(0.8, unit="log scale", low=0, high=3,
                                  doc="Spread of invoice amounts: sigma of log(amount).")
    terms_days: int = setting(30, unit="days", low=0, high=365, doc="Payment terms: due date = issue + terms.")
    new_customers_per_year: float = setting(0.0, unit="customers per year", low=0, high=100_000,
                                            doc="New customers who apply during the warm-up and measured period "
                                                "(a Poisson stream; they are like the segment's others).")
    terms_end_of_month: bool = setting(False, source="",
                                       doc="Terms run from the end of the issue month (\"30 days end of month\").")
    payment_run: str = setting("any", choices=PAYMENT_RUNS, source="",
                               doc="When the customer releases payments: any day, or only in a weekly, "
                                   "fortnightly or monthly payment run (payments wait for the next run day).")
    payment_run_day: int = setting(4, unit="weekday 1-7 (Mon-Sun), or day of month 1-28 for monthly", low=1,
                                   high=28, doc="Day of the payment run.")
    payment_weekdays: tuple[float, ...] = setting(
        (), unit="7 weights, Monday to Sunday", low=0, high=1e6, source=PAYMENT_DAYS,
        doc="Weekdays the segment's customers pay on (empty: any day). Each customer has one payment-run weekday, "
            "drawn with these weights; a payment meant for another day waits for its next run day. A payment meant "
            "for the due date goes that day when it is a weekday with a weight, else on the next such day.")
    terms_mix: dict[str, float] = setting(
        {}, unit="terms in days = share", source="",
        doc="Mix of payment terms of the segment's invoices, e.g. {30 = 0.6, 60 = 0.4} (shares are normalised; at "
            f"most {MAX_TERMS_MIX} terms): each invoice draws its own. Empty: every invoice has terms_days.")
    on_due_date_share: float = setting(
        0.0, unit="probability", low=0, high=1, source=PAYMENT_DAYS,
        doc="Share of invoices a healthy customer pays exactly on the due date (scheduled payments), not on its "
            "habitual lateness; the others are paid as days_late_* say.")
    days_late_mean: float = setting(10.0, unit="days after due", low=-60, high=365, source=SME_LATENESS,
                                    doc="Mean of customers' habitual lateness when nobody chases them.")
    days_late_sd_between: float = setting(7.0, unit="days", low=0, high=365,
                                          doc="How much habitual lateness varies between customers.")
    days_late_sd_within: float = setting(5.0, unit="days", low=0, high=365,
                                         doc="How much one customer's lateness varies between invoices.")
    ignore_share: float = setting(0.05, unit="probability", low=0, high=1,
                                  doc="Share of invoices the customer sets aside: not paid on its habit, only "
                                      "when chased or, much later, of its own accord (see behaviour.set_aside_*).")
    responsiveness: float = setting(1.0, unit="multiplier", low=0, high=5,
                                    doc="Scales every reminder's response probability for this segment.")
    discount_appetite: float = setting(0.4, unit="probability", low=0, high=1,
                                       doc="Chance of taking an early-payment discount at the reference rate.")
    dispute_rate: float = setting(0.05, unit="probability", low=0, high=1,
                                  doc="Share of invoices the customer disputes.")
    dispute_resolution_days: float = setting(20.0, unit="days", low=1, high=365, source=DISPUTE_TIME,
                                             doc="Mean days from a dispute being raised to its resolution (beyond "
                                                 "dispute_min_days: the wait is that minimum plus an exponential "
                                                 "of this mean).")
    dispute_min_days: float = setting(0.0, unit="days", low=0, high=365, source=DISPUTE_MIN,
                                      doc="Days every dispute takes at least before it can be resolved (checking, "
                                          "credit approval); the rest is exponential with mean "
                                          "dispute_resolution_days. 0: a dispute may end the next day.")
    credit_note_share: float = setting(0.5, unit="probability", low=0, high=1,
                                       doc="Share of disputes with merit (the customer is right about the disputed "
                                           "part): they end in a credit note for that part, whether we, a mediator or "
                                           "a court resolve them; the others end with the customer accepting the "
                                           "invoice.")
    credit_note_fraction: float = setting(0.3, unit="fraction of balance", low=0, high=1,
                                          doc="Mean share of the balance a dispute is about (uniform on 0 to twice "
                                              "this, at most all of it): the credit note of a dispute with merit.")
    partial_share: float = setting(0.05, unit="probability", low=0, high=1,
                                   doc="Share of payments made in part, the rest later.")
    partial_gap_days: float = setting(14.0, unit="days", low=1, high=365,
                                      doc="Mean days between a part payment and the next payment.")
    plan_acceptance: float = setting(0.5, unit="probability", low=0, high=1,
                                     doc="Chance that the customer agrees to an instalment plan offered to it.")
    instalment_reliability: float = setting(0.9, unit="probability", low=0, high=1,
                                            doc="Chance that each instalment of an agreed plan is paid on its day.")
    fee_payment_share: float = setting(0.5, unit="probability", low=0, high=1,
                                       doc="Chance that a customer pays claimed interest and compensation with "
                                           "its last payment (otherwise they are waived).")
    settlement_acceptance: float = setting(0.5, unit="probability", low=0, high=1,
                                           doc="Chance that the customer accepts a settlement offer and pays.")
    recoverability: float = setting(1.0, unit="multiplier", low=0, high=5,
                                    doc="Scales the chance that an agency or a court judgment gets money from "
                                        "this segment's customers.")
    strain_rate: float = setting(0.02, unit="probability per month", low=0, high=1,
                                 doc="Chance a healthy customer becomes cash-strained in a month.")
    strain_recovery_rate: float = setting(0.25, unit="probability per month", low=0, high=1,
                                          doc="Chance a strained customer is healthy again the next month.")
    distress_rate: float = setting(0.05, unit="probability per month", low=0, high=1,
                                   doc="Chance a strained customer becomes distressed in a month.")
    distress_recovery_rate: float = setting(0.1, unit="probability per month", low=0, high=1,
                                            doc="Chance a distressed customer is back to strained the next month.")
    insolvency_rate: float = setting(0.05, unit="probability per month", low=0, high=1,
                                     doc="Chance a distressed customer becomes insolvent in a month.")
    seasonality: float = setting(0.0, unit="0-1", low=0, high=1,
                                 doc="Seasonal swing of the strain rate: x (1 + s cos(2 pi (month - peak) / 12)).")
    seasonal_peak_month: int = setting(1, unit="calendar month", low=1, high=12,
                                       doc="Month of the year in which strain is most likely.")
    churn_per_year: float = setting(0.07, unit="probability per year", low=0, high=1, source=B2B_CHURN,
                                    doc="Chance a customer leaves within a year at its baseline goodwill.")
    goodwill_baseline: float = setting(0.7, unit="0-1", low=0, high=1,
                                       doc="Relationship health a customer starts at and returns to over time.")
    goodwill_sensitivity: float = setting(1.0, unit="multiplier", low=0, high=5,
                                          doc="Scales how much every action moves this segment's goodwill.")


#: The largest invoice a segment may draw (currency): its cents must be exact in a float64 (below 2**53).
MAX_INVOICE = 9e13
#: A log-normal draw's largest normal quantile: uniforms are above 2**-53, whose quantile is about -8.1.
LARGEST_DRAW_SIGMAS = 8.5
#: Most money one run may expect to invoice (currency), so that sums of cents stay far inside int64.
MAX_RUN_INVOICED = 1e15
#: Days the calendar must hold after the horizon's end: due dates (terms up to 365 days, end of month) and the
#: dates letters quote for offers (milestones up to 730 days after the letter) fall after the last day.
CALENDAR_MARGIN_DAYS = 1200


def _check_payment_days(seg: Segment, path: str, source: str) -> None:
    """The payment weekdays and the terms mix: well-formed, and not together with a payment_run."""
    days = seg.payment_weekdays
    if days:
        if len(days) != 7 or sum(days) <= 0:
            raise ScenarioError(source, join(path, "payment_weekdays"), list(days),
                                "must be 7 weights, Monday to Sunday, at least one above 0 (or [] for any day)")
        if seg.payment_run != "any":
            raise ScenarioError(source, join(path, "payment_weekdays"), list(days),
                                f"give either payment_weekdays or payment_run (here {seg.payment_run!r}), not both")
    mix = seg.terms_mix
    if mix:
        if len(mix) > MAX_TERMS_MIX:
            raise ScenarioError(source, join(path, "terms_mix"), mix, f"at most {MAX_TERMS_MIX} terms")
        for key, share in mix.items():
            if not (key.isdigit() and 0 <= int(key) <= 365):
                raise ScenarioError(source, join(join(path, "terms_mix"), key), share,
                                    "each key must be terms in whole days, 0 to 365")
            if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 <= share <= 1e6:
                raise ScenarioError(source, join(join(path, "terms_mix"), key), share,
                                    "each share must be a number from 0 to 1000000")
        if sum(mix.values()) <= 0:
            raise ScenarioError(source, join(path, "terms_mix"), mix, "needs at least one share above 0")


def weekday_cumulative(seg: Segment) -> tuple[float, ...]:
    """Running shares of the segment's payment weekdays (Monday first), or () for any day."""
    return _cumulative(seg.payment_weekdays)


def weekday_mask(seg: Segment) -> int:
    """The weekdays anyone in the segment pays on, as bits (bit 0: Monday); 0 for any day."""
    return sum(1 << k for k, w in enumerate(seg.payment_weekdays) if w > 0)


def terms_choices(seg: Segment) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """The segment's terms (days) and their running shares; a single ``terms_days`` when it has no mix."""
    if not seg.terms_mix:
        return (seg.terms_days,), (1.0,)
    keys = sorted(seg.terms_mix, key=int)
    return tuple(int(k) for k in keys), _cumulative([seg.terms_mix[k] for k in keys])


def _cumulative(weights) -> tuple[float, ...]:
    total = float(sum(weights))
    if total <= 0:
        return ()
    out, running = [], 0.0
    for w in weights:
        running += float(w)
        out.append(running / total)
    out[-1] = 1.0
    return tuple(out)


@dataclass(frozen=True)
class Portfolio:
    """The customers, as segments."""

    segments: tuple[Segment, ...] = setting(
        (), doc="Customer segments, as `[[portfolio.segments]]` tables.", required=True, source="")

    def check(self, path: str, source: str) -> None:
        if not self.segments:
            raise ScenarioError(source, join(path, "segments"), [], "needs at least one segment")
        seen: set[str] = set()
        for i, seg in enumerate(self.segments):
            if seg.name in seen:
                raise ScenarioError(source, join(join(join(path, "segments"), i), "name"), seg.name,
                                    "duplicate segment name; each segment needs its own name")
            seen.add(seg.name)
            if seg.payment_run in ("weekly", "fortnightly") and seg.payment_run_day > 7:
                raise ScenarioError(source, join(join(join(path, "segments"), i), "payment_run_day"),
                                    seg.payment_run_day, f"a {seg.payment_run} run needs a weekday, 1 (Monday) to 7")
            _check_payment_days(seg, join(join(path, "segments"), i), source)
            largest = seg.amount_median * math.exp(LARGEST_DRAW_SIGMAS * seg.amount_sigma)
            if largest > MAX_INVOICE:
                raise ScenarioError(source, join(join(join(path, "segments"), i), "amount_sigma"), seg.amount_sigma,
                                    f"with amount_median {seg.amount_median:g} an invoice could reach about "
                                    f"{largest:.3g}, more than the {MAX_INVOICE:.0e} that whole cents hold exactly; "
                                    "lower amount_median or amount_sigma")

    @property
    def customer_count(self) -> int:
        return sum(s.customers for s in self.segments)


@dataclass(frozen=True)
class Economics:
    """What money and actions cost."""

    currency: str = setting("EUR", source="", doc="Currency code used in reports.")
    gross_margin: float = setting(0.25, unit="fraction of sales", low=0, high=1,
                                  doc="Gross margin on sales: net value charges the rest (1 - gross margin) of "
                                      "every invoice as cost of goods, and values customers lost by it.")
    cost_of_capital: float = setting(0.08, unit="per year", low=0, high=1,
                                     doc="Annual rate for NPV and the financing cost of receivables.")
    cost_email: float = setting(0.5, unit="currency", low=0, high=10_000, doc="Cost of one email reminder.")
    cost_letter: float = setting(2.0, unit="currency", low=0, high=10_000, doc="Cost of one letter.")
    cost_phone: float = setting(6.0, unit="currency", low=0, high=10_000,
                                doc="Cost of one collection call (about 10 minutes of a collector's time).")
    reference_rate: float = setting(0.02, unit="per year", low=-0.05, high=0.5,
                                    doc="Central-bank reference rate for statutory interest (ECB main "
                                        "refinancing rate, Bank of England base rate); set to the current one.")
    customer_lifetime_years: float = setting(
        5.0, unit="years", low=0, high=50,
        doc="Years of margin a customer would still have brought; a churned customer's lost margin is its "
            "expected yearly margin at baseline over this many years after the measured period, discounted at "
            "the cost of capital.")
    acquisition_cost: float = setting(
        0.0, unit="currency", low=0, high=1_000_000,
        doc="Cost of taking on one new customer (sales effort, set-up), charged in net value for each customer "
            "onboarded in the measured period, on top of any credit check.")


@dataclass(frozen=True)
class Horizon:
    """The calendar of a run: warm-up, measured period, run-off."""

    start_date: dt.date = setting(dt.date(2025, 1, 1), unit="date", source="", doc="Calendar date of day 0.")
    warmup_days: int = setting(180, unit="days", low=0, high=3650,
                               doc="Days simulated before measuring, so receivables reach steady state.")
    measured_days: int = setting(365, unit="days", low=1, high=3650, doc="Length of the measured period.")
    runoff_days: int = setting(400, unit="days", low=0, high=3650,
                               doc="Days after the measured period with no new invoices, so chasing can finish.")

    def check(self, path: str, source: str) -> None:
        latest = dt.date.max - dt.timedelta(days=self.total_days + CALENDAR_MARGIN_DAYS)
        if self.start_date > latest:
            raise ScenarioError(source, join(path, "start_date"), self.start_date,
                                f"the horizon ({self.total_days} days, plus {CALENDAR_MARGIN_DAYS} for due dates "
                                f"and offers after it) must end by {dt.date.max}; start on {latest} or earlier")

    @property
    def measured_start(self) -> int:
        return self.warmup_days

    @property
    def measured_end(self) -> int:
        """First day after the measured period."""
        return self.warmup_days + self.measured_days

    @property
    def total_days(self) -> int:
        return self.warmup_days + self.measured_days + self.runoff_days


@dataclass(frozen=True)
class Team:
    """The collections team: how many people, how long tasks take, what their time costs."""

    staff: float = setting(0.0, unit="full-time staff", low=0, high=10_000,
                           doc="People working collections; 0 means unlimited capacity (no queue, no staff cost).")
    hours_per_day: float = setting(7.5, unit="hours", low=0.5, high=24, doc="Working hours per person per day.")
    minutes_call: float = setting(12.0, unit="minutes", low=0, high=600, source=CONTACT_MINUTES,
                                  doc="Staff time for a call (reminder call or plan offer).")
    minutes_letter: float = setting(5.0, unit="minutes", low=0, high=600,
                                    doc="Staff time for a letter or other paperwork (fee claim, settlement offer, "
                                        "hand-over to an agency or lawyer, mediation request).")
    minutes_email: float = setting(2.0, unit="minutes", low=0, high=600, source=CONTACT_MINUTES,
                                   doc="Staff time for an email reminder (sent by a tool, checked by a person).")
    minutes_dispute: float = setting(45.0, unit="minutes", low=0, high=6000,
                                     doc="Staff time to take up a dispute case; a dispute cannot be resolved "
                                         "before the day after it is taken up.")
    hourly_cost: float = setting(30.0, unit="currency per hour", low=0, high=10_000, source=STAFF_COST,
                                 doc="Cost of an hour of staff time; staff cost is part of the cost to collect.")

    @property
    def daily_minutes(self) -> float | None:
        """Minutes of staff time each day, or None for unlimited capacity."""
        return self.staff * self.hours_per_day * 60.0 if self.staff > 0 else None


@dataclass(frozen=True)
class Economy:
    """An optional economy-wide shock that strains many customers at once."""

    shock: bool = setting(False, doc="Apply the shock.")
    shock_start_day: int = setting(365, unit="day", low=0, high=36_500, doc="Simulation day the shock begins.")
    shock_months: int = setting(6, unit="months", low=1, high=120, doc="How long the shock lasts.")
    shock_strain_multiplier: float = setting(5.0, unit="multiplier", low=1, high=100,
                                             doc="Strain and distress rates are multiplied by this during the shock.")


# --- behaviour effect sizes ----------------------------------------------------------------------------

FIELD_EXPERIMENTS = ("reminder letters raise payment and deterrent wording beats plain wording "
                     "(tax and fine field experiments): direction solid, size an assumption")


SMALL_CLAIMS = "small claims in England & Wales take about 50 weeks from issue to trial (official statistics 2024-25)"
DEFAULT_JUDGMENT = ("an undefended money claim in England & Wales can end in default judgment about a month "
                    "after issue (14 days to respond after service); the European Small Claims Procedure's time "
                    "limits add up to about 2-3 months (docs/sources.md)")
MEDIATION = ("about three quarters of commercial mediations settle on the day, 89% in all (CEDR mediation audit "
             "2018; docs/sources.md): the default is below it")
AGENCY_RECOVERY = ("agencies quote recovering about three quarters of commercial debt placed within three months, "
                   "about half at six months, a third at a year (the debtor's own payments included; "
                   "docs/sources.md): indicative")
CHURN_RISK = ("assumption: no B2B study measures it; half the log-effect of a consumer billing vendor's figures "
              "(churn about 2x after a past-due reminder, 5x after collections; B2C, confounded), since business "
              "customers face high switching costs (docs/sources.md)")
ORDER_RISK = ("assumption, kept below the one identified B2B effect: suppliers given 60 days less credit were 9% "
              "less likely to sell (docs/sources.md)")


@dataclass(frozen=True)
class ResponseByChannel:
    """Chance that one reminder makes a customer pay soon, before tone, goodwill and segment scaling."""

    email: float = setting(0.20, unit="probability", low=0, high=1, doc="Email reminder.")
    letter: float = setting(0.25, unit="probability", low=0, high=1, doc="Posted letter.")
    phone: float = setting(0.40, unit="probability", low=0, high=1, doc="Phone call.")


@dataclass(frozen=True)
class ResponseByTone:
    """Multiplier of the response chance by tone."""

    friendly: float = setting(1.0, unit="multiplier", low=0, high=5, doc="Friendly wording.")
    firm: float = setting(1.3, unit="multiplier", low=0, high=5, source=FIELD_EXPERIMENTS, doc="Firm wording.")
    final: float = setting(1.6, unit="multiplier", low=0, high=5, source=FIELD_EXPERIMENTS,
                           doc="Final notice.")


@dataclass(frozen=True)
class GoodwillByTone:
    """Goodwill change caused by one reminder of each tone (before segment sensitivity)."""

    friendly: float = setting(-0.002, unit="goodwill points", low=-1, high=1, doc="Friendly wording.")
    firm: float = setting(-0.03, unit="goodwill points", low=-1, high=1, doc="Firm wording.")
    final: float = setting(-0.08, unit="goodwill points", low=-1, high=1, doc="Final notice.")


@dataclass(frozen=True)
class GoodwillByChannel:
    """Goodwill change added for the channel (a call is personal; a letter is formal)."""

    email: float = setting(0.0, unit="goodwill points", low=-1, high=1, doc="Email.")
    letter: float = setting(0.0, unit="goodwill points", low=-1, high=1, doc="Letter.")
    phone: float = setting(0.01, unit="goodwill points", low=-1, high=1, doc="Phone call.")


@dataclass(frozen=True)
class Behaviour:
    """Effect sizes of the behaviour model; each is an assumption unless a source is given."""

    response: ResponseByChannel = table(ResponseByChannel, doc="Response chance by channel.")
    tone_response: ResponseByTone = table(ResponseByTone, doc="Response multiplier by tone.")
    tone_goodwill: GoodwillByTone = table(GoodwillByTone, doc="Goodwill change by tone.")
    channel_goodwill: GoodwillByChannel = table(GoodwillByChannel, doc="Goodwill change by channel.")
    goodwill_response_weight: float = setting(
        0.5, unit="0-1", low=0, high=1,
        doc="How strongly goodwill scales response: factor = 1 - w + 2 w goodwill (1 at goodwill 0.5).")
    max_response_probability: float = setting(0.95, unit="probability", low=0, high=1,
                                              doc="Cap on the response chance of one reminder.")
    response_delay_days: float = setting(3.0, unit="days", low=0, high=60,
                                         doc="Mean days from a reminder that works to the payment.")
    discount_reference_rate: float = setting(
        0.02, unit="fraction", low=0, high=0.2, low_exclusive=True,
        doc="Discount rate at which take-up equals the segment's discount appetite (linear below).")
    discount_goodwill: float = setting(0.01, unit="goodwill points", low=-1, high=1,
                                       doc="Goodwill change when a customer takes a discount.")
    dispute_goodwill: float = setting(-0.02, unit="goodwill points", low=-1, high=1,
                                      doc="Goodwill change when a customer raises a dispute.")
    credit_note_goodwill: float = setting(0.02, unit="goodwill points", low=-1, high=1,
                                          doc="Goodwill change when a dispute ends in a credit note.")
    fee_goodwill: float = setting(-0.05, unit="goodwill points", low=-1, high=1,
                                  doc="Goodwill change when interest and compensation are claimed.")
    settlement_goodwill: float = setting(0.02, unit="goodwill points", low=-1, high=1,
                                         doc="Goodwill change when a customer accepts a settlement.")
    mediation_success: float = setting(0.7, unit="probability", low=0, high=1, source=MEDIATION,
                                       doc="Chance a mediation settles the dispute within mediation_days; it ends "
                                           "as the dispute's merit says (a credit note for the disputed part of a "
                                           "dispute with merit, none otherwise).")
    mediation_days: float = setting(14.0, unit="days", low=1, high=365, doc="Mean length of a mediation.")
    mediation_goodwill: float = setting(0.01, unit="goodwill points", low=-1, high=1,
                                        doc="Goodwill change when a mediator is brought in (a fair hearing).")
    agency_success: float = setting(
        0.5, unit="probability", low=0, high=1, source=AGENCY_RECOVERY,
        doc="The agency's own effect: chance it collects, within its placement, a debt handed to it on the due date "
            "that the debtor would not otherwise have paid then; it fades with the debt's age as a reminder's response "
            "does (response_halflife_days) and scales with the segment's recoverability. The debtor's own payment "
            "still comes while the agency holds the claim (and the agency takes its fee on it).")
    agency_days: float = setting(60.0, unit="days", low=1, high=3650,
                                 doc="Mean days an agency takes to collect, when it does.")
    agency_max_days: int = setting(180, unit="days", low=1, high=3650,
                                   doc="Days after which an agency that has not collected returns the invoice.")
    agency_goodwill: float = setting(-0.15, unit="goodwill points", low=-1, high=1,
                                     doc="Goodwill change when an invoice goes to an agency.")
    default_judgment_days: float = setting(
        45.0, unit="days", low=1, high=3650, source=DEFAULT_JUDGMENT,
        doc="Mean days from filing to a default judgment on an undefended claim (the invoice is not disputed); a "
            "debtor that would have paid before then pays the claim instead.")
    legal_days: float = setting(350.0, unit="days", low=1, high=3650, source=SMALL_CLAIMS,
                                doc="Mean days from filing to judgment on a defended claim (the invoice is disputed). "
                                    "The court finds for us on the part of the claim without merit: a dispute with "
                                    "merit loses the disputed part (a credit note), one without merit nothing.")
    judgment_paid_share: float = setting(0.6, unit="probability", low=0, high=1,
                                         doc="Chance a judgment against a healthy debtor that would not have paid of "
                                             "its own accord is enforced (many are never recorded as paid); times "
                                             "recoverability, and times strained_response or distressed_response "
                                             "when the debtor is short of cash on judgment day. A debtor that meant "
                                             "to pay pays the judgment.")
    legal_goodwill: float = setting(-0.3, unit="goodwill points", low=-1, high=1,
                                    doc="Goodwill change when we sue a customer.")
    strained_extra_days: float = setting(15.0, unit="days", low=0, high=365,
                                         doc="Extra lateness of an invoice issued while the customer is strained "
                                             "(twice that when distressed).")
    strained_response: float = setting(0.6, unit="multiplier", low=0, high=5,
                                       doc="Reminder response multiplier while strained.")
    distressed_response: float = setting(0.2, unit="multiplier", low=0, high=5,
                                         doc="Reminder response multiplier while distressed.")
    strained_part_payment: float = setting(0.25, unit="probability", low=0, high=1,
                                           doc="Added to the part-payment share while strained or distressed.")
    strained_plan_acceptance: float = setting(0.3, unit="probability", low=0, high=1,
                                              doc="Added to plan acceptance while strained or distressed: a plan "
                                                  "that fits its cash is what a strained customer needs.")
    distressed_ignore: float = setting(0.5, unit="probability", low=0, high=1,
                                       doc="Extra chance that an invoice issued while distressed is not paid "
                                           "unless chased.")
    goodwill_recovery_days: float = setting(
        180.0, unit="days", low=1, high=36_500,
        doc="Time constant of goodwill's return to baseline: the gap shrinks by a factor e in this many days.")
    order_goodwill_elasticity: float = setting(
        0.3, unit="per goodwill point", low=0, high=10, source=ORDER_RISK,
        doc="Ordering rate multiplier is 1 + e x (goodwill - baseline): lower goodwill, fewer orders.")
    churn_goodwill_slope: float = setting(
        3.0, unit="per goodwill point", low=0, high=50, source=CHURN_RISK,
        doc="Churn hazard multiplier is exp(s x (baseline - goodwill)): 0.1 below baseline raises it by a third; "
            "goodwill heals, so the effect on a year's churn is smaller.")
    contact_goodwill_cap: float = setting(
        0.1, unit="goodwill points per 30 days", low=0, high=1,
        doc="Most goodwill a customer loses to reminders, fee claims and disputes in a 30-day period (before the "
            "segment's sensitivity). Within the period reminders already count only their harshest; the cap bounds "
            "the rest. 1: no cap in practice.")
    plan_goodwill: float = setting(0.03, unit="goodwill points", low=-1, high=1,
                                   doc="Goodwill change when a customer agrees to an instalment plan.")
    plan_default_goodwill: float = setting(-0.03, unit="goodwill points", low=-1, high=1,
                                           doc="Goodwill change when a plan ends in default.")
    dispute_raise_days: int = setting(14, unit="days after issue", low=0, high=365,
                                      doc="A dispute is raised on a uniformly drawn day from issue to this many "
                                          "days after it (not after the due date).")
    part_payment_fraction: float = setting(0.5, unit="fraction of balance", low=0.05, high=0.95,
                                           doc="Mean share of the balance paid in a part payment "
                                               "(uniform within +/- 0.2).")
    response_halflife_days: float = setting(
        90.0, unit="days past due", low=0, high=36_500, source=DEBT_AGE,
        doc="Days past due after which a reminder's response chance has halved: old debt is harder to "
            "collect. 0 means reminders work alike at every age.")
    set_aside_pay_days: float = setting(
        85.0, unit="days past due", low=0, high=36_500, source=DEBT_AGE,
        doc="Median days past due at which the customer pays an invoice it had set aside (see ignore_share) "
            "of its own accord, unless a reminder moves it sooner; 0 means only chasing gets it paid. A broken "
            "plan or extended terms leave the rest set aside in the same way, counted from the day they broke.")
    set_aside_never_share: float = setting(
        0.15, unit="probability", low=0, high=1, source=DEBT_AGE,
        doc="Share of set-aside invoices the customer never pays of its own accord (bad faith, or money that "
            "is not there); only chasing, an agency or a court can still collect them.")
    set_aside_pay_sigma: float = setting(
        0.8, unit="log scale", low=0, high=10, source=DEBT_AGE,
        doc="Spread of those days (log-normal sigma); a wide spread means some set-aside debt is paid after "
            "months and some effectively never.")

    plan_request_share: float = setting(
        0.5, unit="probability", low=0, high=1,
        doc="Chance that a strained or distressed customer, reminded about an overdue invoice, asks to pay it "
            "in instalments (once per invoice); granted only where the policy has `plans.on_request`.")
    plan_refused_goodwill: float = setting(-0.03, unit="goodwill points", low=-1, high=1,
                                           doc="Goodwill change when a customer's request for a plan is refused.")
    credit_hold_goodwill: float = setting(-0.03, unit="goodwill points", low=-1, high=1,
                                          doc="Goodwill change of a customer each time an order is refused "
                                              "on credit hold.")
    clear_terms_dispute_cut: float = setting(
        0.5, unit="fraction of disputes without merit", low=0, high=1, source=DISPUTE_CAUSES,
        doc="Under a policy with invoicing.clear_terms, this share of the disputes without merit (misunderstandings "
            "about price, quantity or scope) is never raised.")
    e_invoicing_dispute_cut: float = setting(
        0.15, unit="fraction of disputes", low=0, high=1, source=DISPUTE_CAUSES,
        doc="Under a policy with invoicing.e_invoicing, this share of all disputes (paperwork: wrong reference, "
            "address or copy) is never raised.")
    e_invoicing_days_faster: float = setting(
        2.0, unit="days", low=0, high=60,
        doc="Under a policy with invoicing.e_invoicing, an invoice nobody chases is paid this many days earlier "
            "(it reaches the right desk and is approved sooner).")
    credit_check_accuracy: float = setting(
        0.6, unit="correlation", low=0, high=1,
        doc="How well a credit report predicts a new customer's habitual lateness (0: not at all, 1: exactly).")
    reputation_spillover: float = setting(
        0.0, unit="fraction", low=0, high=1,
        doc="Word gets around: when an invoice goes to an agency or to court, every other active customer of "
            "the same segment takes this fraction of that customer's goodwill change (0, the default, is off).")


# --- the scenario ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: portfolio, economics, horizon, behaviour, seed and policies."""

    name: str = setting("", source="", doc="Scenario name for reports; defaults to the file name.")
    description: str = setting("", source="", doc="What the scenario represents.")
    seed: int = setting(1, low=0, high=2**63 - 1, source="", doc="Default run seed (`--seed` overrides it).")
    include_policies: tuple[str, ...] = setting(
        (), source="", doc="Strategy files to include, as paths relative to this file.")
    portfolio: Portfolio = table(Portfolio, doc="The customers.", required=True)
    economics: Economics = table(Economics, doc="Costs and rates.")
    horizon: Horizon = table(Horizon, doc="Time horizon.")
    team: Team = table(Team, doc="The collections team (capacity).")
    economy: Economy = table(Economy, doc="Economy-wide shock.")
    behaviour: Behaviour = table(Behaviour, doc="Behaviour effect sizes.")
    company: Company = table(Company, doc="The supplier's profile for letters (letterhead, contact, bank details, "
                                         "jurisdiction); not used by the simulation.")
    policies: tuple[PolicySpec, ...] = field(default=(), metadata={"spec": None}, init=False)
    source: str = field(default="<memory>", init=False, compare=False)
    #: The open ledger the runs start from (None: they start empty and warm up); see :meth:`with_opening`.
    opening: OpeningBook | None = field(default=None, init=False, compare=False, metadata={"spec": None})

    def check(self, path: str, source: str) -> None:
        years = (self.horizon.warmup_days + self.horizon.measured_days) / 365.0
        for i, seg in enumerate(self.portfolio.segments):
            mean_amount = seg.amount_median * math.exp(seg.amount_sigma ** 2 / 2)
            customers = seg.customers + seg.new_customers_per_year * years
            invoiced = customers * seg.orders_per_year * years * mean_amount
            if invoiced > MAX_RUN_INVOICED:
                raise ScenarioError(source, f"portfolio.segments[{i}]", seg.name,
                                    f"would invoice about {invoiced:.3g} in one run, more than the "
                                    f"{MAX_RUN_INVOICED:.0e} the money sums hold safely; lower customers, "
                                    "orders_per_year, amount_median or the horizon")

    def policy(self, name: str | None = None) -> PolicySpec:
        """The named policy (the first one when ``name`` is None)."""
        if name is None:
            return self.policies[0]
        for p in self.policies:
            if p.name == name:
                return p
        raise ScenarioError(self.source, "policies", name,
                            "no such policy; available: " + ", ".join(p.name for p in self.policies))

    def with_values(self, values: Mapping[str, Any], label: str = "changed",
                    add_segments: Sequence[Mapping[str, Any]] = ()) -> Scenario:
        """A copy with dotted keys replaced (and ``add_segments``, segment tables as in a file, appended),
        validated again like a file; its source says ``(label)``.

        Keys are as in a scenario file (``"horizon.runoff_days"``, ``"economics.cost_of_capital"``); a
        segment's key is addressed by the segment's name: ``"portfolio.segments.prompt.customers"``.
        """
        raw = self._as_tables()
        raw["portfolio"]["segments"] = [*raw["portfolio"]["segments"], *(dict(s) for s in add_segments)]
        for dotted, value in values.items():
            try:
                raw = _set_key(raw, dotted, as_raw(value), self.source)
            except IndexError as exc:
                raise ScenarioError(self.source, dotted, value, str(exc)) from None
        return parse_scenario(raw, f"{self.source} ({label})")

    def resized(self, customers: int) -> Scenario:
        """A copy with exactly ``customers`` customers, split over the segments in the same proportions
        (largest remainder, at least one per segment).

        What grows with the portfolio grows with it, so that a resized portfolio behaves like the file's:
        each segment's new customers a year in proportion to its customers, and the collections team's
        staff in proportion to all customers (a team sized for 400 customers would face an endless queue
        at a million). Everything else is kept.
        """
        counts = [s.customers for s in self.portfolio.segments]
        if int(customers) < len(counts):
            raise ScenarioError(self.source, "portfolio.customers", customers,
                                f"at least one customer per segment: {len(counts)} or more")
        new = split_customers(counts, int(customers))
        values: dict[str, Any] = {}
        for seg, n in zip(self.portfolio.segments, new):
            values[f"portfolio.segments.{seg.name}.customers"] = n
            if seg.new_customers_per_year:
                values[f"portfolio.segments.{seg.name}.new_customers_per_year"] = (
                    seg.new_customers_per_year * n / seg.customers)
        if self.team.staff:
            values["team.staff"] = self.team.staff * sum(new) / sum(counts)
        return self.with_values(values, "resized")

    def _as_tables(self) -> dict[str, Any]:
        """The scenario as the tables of a file, its policies inline."""
        raw = as_raw(self)
        raw.pop("include_policies", None)
        raw["policies"] = {p.name: as_raw(p) for p in self.policies}
        return raw

    def with_policies(self, *policies: PolicySpec) -> Scenario:
        """The same scenario with another list of policies (checked against its segments)."""
        out = replace(self)
        _finish(out, tuple(policies), self.source)
        object.__setattr__(out, "opening", self.opening)
        return out

    def with_opening(self, book: OpeningBook | None) -> Scenario:
        """The same scenario, its runs starting from ``book`` (see :mod:`collectsim.config.opening_book`).

        The book must fit: its customers are the segments' customers, in order, and the warm-up ends on its
        as-of day. :func:`collectsim.from_open_ledger` makes such a scenario from a ledger. Changing the scenario
        again with :meth:`with_values` or :meth:`resized` drops the book (they rebuild it from its tables).
        """
        if book is not None:
            counts = [s.customers for s in self.portfolio.segments]
            have = np.bincount(book.segment, minlength=len(counts)).tolist() if book.customers else [0] * len(counts)
            if have != counts or np.any(np.diff(book.segment) < 0):
                raise ScenarioError(self.source, "portfolio.segments", counts,
                                    f"the opening book has {have} customers by segment, in segment order; they must "
                                    "match the segments' customers")
            start = book.as_of + dt.timedelta(days=1 - book.day)
            if self.horizon.warmup_days != book.day or self.horizon.start_date != start:
                raise ScenarioError(self.source, "horizon", self.horizon.warmup_days,
                                    f"the opening book as of {book.as_of} needs start_date {start} and "
                                    f"warmup_days {book.day}")
        out = self.with_policies(*self.policies)
        object.__setattr__(out, "opening", book)
        return out


def _set_key(raw: dict[str, Any], dotted: str, value: Any, source: str) -> dict[str, Any]:
    """``raw`` with one dotted key set; ``portfolio.segments.<name>.<key>`` finds the segment by name."""
    prefix = "portfolio.segments."
    if not dotted.startswith(prefix):
        return set_dotted(raw, dotted, value)
    name, _, key = dotted[len(prefix):].partition(".")
    segments = [dict(s) for s in raw["portfolio"]["segments"]]
    found = [s for s in segments if s.get("name") == name]
    if not found or not key:
        raise ScenarioError(source, dotted, value, "name a segment and one of its keys: "
                            "portfolio.segments.<segment>.<key>; segments are: "
                            + ", ".join(str(s.get("name")) for s in segments))
    found[0].update(set_dotted(found[0], key, value))
    return {**raw, "portfolio": {**raw["portfolio"], "segments": segments}}


def split_customers(counts: list[int], total: int) -> list[int]:
    """``total`` customers split in proportion to ``counts`` (largest remainder, at least one each)."""
    if total < len(counts):
        raise ValueError(f"need at least one customer per segment ({len(counts)}), got {total}")
    whole = sum(counts)
    exact = [c * total / whole for c in counts]
    out = [max(1, int(x)) for x in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: (-(exact[i] - int(exact[i])), i))
    i = 0
    while sum(out) < total:
        out[by_remainder[i % len(counts)]] += 1
        i += 1
    while sum(out) > total:  # only when the one-customer floor pushed the sum over
        j = max(range(len(out)), key=lambda k: (out[k], -k))
        out[j] -= 1
    return out


def _finish(scn: Scenario, policies: tuple[PolicySpec, ...], source: str) -> None:
    segment_names = [s.name for s in scn.portfolio.segments]
    for i, pol in enumerate(policies):
        for seg in pol.segments:
            if seg not in segment_names:
                raise ScenarioError(source, f"policies.{pol.name}.segments.{seg}", seg,
                                    "unknown segment; segments are: " + ", ".join(segment_names))
        if any(p.name == pol.name for p in policies[:i]):
            raise ScenarioError(source, f"policies.{pol.name}", pol.name, "duplicate policy name")
    object.__setattr__(scn, "policies", policies)
    object.__setattr__(scn, "source", source)
    if not scn.name:
        object.__setattr__(scn, "name", Path(source).stem if source != "<memory>" else "scenario")


# --- reading files ----------------------------------------------------------------------------------------


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning every reading problem into a one-line ScenarioError."""
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(source, "", NO_VALUE, "file not found") from None
    except OSError as exc:
        raise ScenarioError(source, "", NO_VALUE, f"cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError(source, "", NO_VALUE,
                            f"is not UTF-8 text (bad byte at position {exc.start}); save it as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(source, "", NO_VALUE, f"is not valid TOML: {exc}") from None


def parse_scenario(data: dict[str, Any], source: str = "<memory>", base_dir: Path | None = None) -> Scenario:
    """Validate a parsed scenario table (policies inline and included) into a Scenario."""
    data = dict(data)
    inline = data.pop("policies", {})
    scn = build(Scenario, data, "", source)
    if not isinstance(inline, dict):
        raise ScenarioError(source, "policies", inline, "must be a table of [policies.<name>] tables")
    policies: list[PolicySpec] = []
    for name, table_ in inline.items():
        path = f"policies.{name}"
        if not isinstance(table_, dict):
            raise ScenarioError(source, path, table_, "must be a table")
        if "name" in table_ and table_["name"] != name:
            raise ScenarioError(source, f"{path}.name", table_["name"], f"must match the table name {name!r}")
        policies.append(parse_policy({**table_, "name": name}, path, source))
    for i, rel in enumerate(scn.include_policies):
        if base_dir is None:
            raise ScenarioError(source, join("include_policies", i), rel,
                                "includes need a scenario loaded from a file")
        path = (base_dir / rel)
        try:
            found = path.is_file()
        except (OSError, ValueError) as exc:  # a name too long, a NUL byte
            problem = getattr(exc, "strerror", None) or str(exc)
            raise ScenarioError(source, join("include_policies", i), rel, f"unusable file name ({problem})") from None
        if not found:
            raise ScenarioError(source, join("include_policies", i), rel,
                                f"file not found (looked for {path})")
        included = load_strategy(path)
        if any(p.name == included.name for p in policies):
            raise ScenarioError(source, join("include_policies", i), rel,
                                f"duplicate policy name {included.name!r}; policy names must be unique")
        policies.append(included)
    if not policies:
        raise ScenarioError(source, "policies", NO_VALUE,
                            "no policy; add a [policies.<name>] table or include_policies")
    _finish(scn, tuple(policies), source)
    return scn


def load_strategy(path: str | Path) -> PolicySpec:
    """Load a strategy file: one ``[policy]`` table with a name."""
    path = Path(path)
    data = read_toml(path)
    source = str(path)
    for key in data:
        if key != "policy":
            raise ScenarioError(source, key, data[key], "unknown key; a strategy file holds only [policy]")
    if "policy" not in data:
        raise ScenarioError(source, "policy", NO_VALUE, "missing [policy] table")
    return parse_policy(data["policy"], "policy", source)


def load_scenario(path: str | Path) -> Scenario:
    """Load and validate a scenario file, with the strategy files it includes."""
    path = Path(path)
    data = read_toml(path)
    if "policy" in data and "portfolio" not in data:
        raise ScenarioError(str(path), "policy", NO_VALUE,
                            "this is a strategy file; include it from a scenario with include_policies")
    return parse_scenario(data, str(path), path.parent)


def is_strategy_file(data: dict[str, Any]) -> bool:
    return "policy" in data and "portfolio" not in data
