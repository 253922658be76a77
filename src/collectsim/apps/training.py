"""The collector's desk: a trainee chooses what to do about one overdue account and sees what follows.

A queue of overdue invoices is drawn from a run of the scenario under its usual policy, one per story:
short of cash, paperwork problems, a disputed invoice, waiting on its own customer, a lean season, late on
purpose (bad faith), habitually late, a good payer who slipped. Two stories need customers the baseline
does not have, so the desk adds two small segments to the scenario (``DESK_SEGMENTS``), built only from
existing scenario keys; a disputed invoice is picked by its state (disputed on the desk day), whatever its
segment. The trainee picks an action; the whole portfolio is simulated again, identical to the first run
up to the trainee's action on the desk day, when this invoice gets the trainee's action instead of the
policy's (the trainee is plugged into the engine's decision interface, like any policy). The consequence -
cash from the invoice, days until it is settled, the customer's goodwill, its chance of leaving - is set
beside what the playbook recommends for that story and why, and the same runs score both.

Scoring: the score is money, what the action added to the account compared with waiting today (the policy
carrying on as usual): the account's value after the action less its value after waiting, where value = cash
within a year of the desk day discounted at the cost of capital - action and escalation costs + a balance still
in a performing plan at its expected recovery - the customer's expected future margin lost to lower goodwill
(fewer orders, a higher chance of leaving), all from the model's own economics
(:mod:`collectsim.apps.desk_score`). It is the mean over ``FUTURES`` simulated futures, the same for every
choice (common random numbers), so one lucky payment or one churn does not decide a lesson; the run goes on at
least ``MIN_FOLLOW_DAYS`` after the desk day.

What the futures keep: future 0 is the desk's own run; in the others every draw made once the trainee has acted
comes from another seed (how the customer responds, accepts a plan, pays instalments, what an agency or a court
achieves). Draws made before stay: the customer, its cash-strain path and churn threshold, its orders, and a
dispute's end (drawn when raised). What the collector cannot see on the desk day is drawn again in each of those
futures, given what the desk day shows: when the customer means to pay this invoice of its own accord (still unpaid
on the desk day: :func:`collectsim.model.behaviour.open_pay_day`, as for an opening book's invoice) and how easily a
reminder moves it (not moved by the reminders so far). So the futures are the accounts the collector may be
looking at, not only the one the desk's run happened to draw (future 0 is one of them): a customer whose own
payment happened to be two days off in the desk's run pays later in other futures, where chasing can matter.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
import pandas as pd

from collectsim.apps.desk_score import AccountValue, account_value
from collectsim.config.scenario import Scenario
from collectsim.engines.simpy_engine import SimpyEngine
from collectsim.engines.simulate import simulate
from collectsim.files.exports import write_csv
from collectsim.model import behaviour as rules
from collectsim.model.decisions import Action, ActionKind, Decision, DecisionMaker, InvoiceView, Point, Standing
from collectsim.model.draws import Purpose, u
from collectsim.model.rule_policy import RuleBasedPolicy
from collectsim.results.eventlog import BALANCE_REDUCING, EventKind
from collectsim.results.run import RunResult

#: The run goes on at least this many days after the desk day (the longest plan on offer takes 120; cash is counted
#: for a year, :data:`collectsim.apps.desk_score.HORIZON_DAYS`).
MIN_FOLLOW_DAYS = 365
#: Simulated futures after the desk day that a score averages over (see :meth:`Desk.values`).
FUTURES = 8

#: story key -> (the customer's story, the playbook's choice, why). Keys are segment names, or
#: "disputed" for an invoice that is disputed on the desk day, whatever its segment.
STORIES: dict[str, tuple[str, str, str]] = {
    "cash-strained": ("Wants to pay but is short of cash this month; has part-paid before.", "offer a plan",
                      "A plan that fits the customer's cash cycle gets the debt paid in full more often than "
                      "pressure does, and keeps a customer who will be worth having when times improve."),
    "admin-heavy": ("Admin problem: their accounts team is waiting on a purchase-order number and an approval.",
                    "friendly call",
                    "The invoice is stuck in paperwork, not in the customer's wallet: a call finds out what is "
                    "missing and fixes it. A firm letter would only annoy the people who can release it."),
    "disputed": ("Disputed: the customer says the invoice is wrong (quantity, price or delivery) and will not "
                 "pay until that is sorted out. In the model the dispute ends on its own after a while, with "
                 "a credit note if the customer was right; a mediator can end it sooner.",
                 "mediation",
                 "Chasing an invoice the customer disputes collects nothing and annoys: settle the "
                 "disagreement instead. Once a dispute has stayed open a month, a neutral mediator finds terms "
                 "both sides accept, far more cheaply than court, and a fair hearing keeps the customer."),
    "waiting-on-its-customer": (
        "Waiting on its own customer: a large client of theirs is paying them late, so they are short until "
        "it does. Modelled as a customer that often becomes short of cash and recovers quickly (its own "
        "customer's payment is not simulated; recovery is a monthly chance).",
        "offer a plan",
        "The money is coming, just not yet: agree instalments on dates that follow when their customer pays. "
        "Pressure cannot make a payment arrive that has not reached them, and costs a sound relationship."),
    "seasonal": (
        "Seasonal: their trade has a lean season and it is now; cash comes back when the season turns. "
        "Modelled as a segment whose chance of cash strain peaks in this calendar month (seasonality).",
        "offer a long plan",
        "A slow season is a real, temporary problem: spread the balance over dates after the season opens, "
        "with no down payment, rather than watch the invoice age. Harsh steps now cost a customer who pays "
        "well the rest of the year."),
    "late-on-purpose": ("Bad faith: pays suppliers as late as it can get away with, to finance itself.",
                        "firm call",
                        "A customer who pays late by choice responds to firmness early; a polite email is "
                        "read as permission to wait. Be firm on the date, courteous in tone."),
    "habitually-late": ("Usually pays a week or two late; answers reminders.", "friendly email",
                        "A cheap, polite reminder is enough for a customer who simply pays when asked; "
                        "anything harsher costs goodwill for no extra cash."),
    "prompt": ("A reliable payer whose invoice has slipped through.", "friendly email",
               "Good payers who slip have usually mislaid the invoice: a courteous note resolves it and "
               "protects a valuable relationship."),
}

#: While a dispute is younger than this (days), the playbook pauses and waits rather than mediate
#: (the default of the policy key ``escalation.mediation_after_days``).
MEDIATION_AFTER_DAYS = 30
WAIT_ON_DISPUTE_WHY = ("Chasing an invoice the customer disputes collects nothing and annoys; a young dispute "
                       "is best left to be sorted out (credit note or confirmation) before anything else. "
                       "Mediation comes in if it stays open about a month.")

#: Segments the desk adds to the scenario for the two stories the baseline has no customers for; only
#: existing scenario keys. ``seasonal_peak_month`` is set to the desk day's month when the desk is built.
DESK_SEGMENTS: tuple[dict, ...] = (
    {"name": "waiting-on-its-customer", "customers": 8, "orders_per_year": 10, "amount_median": 2000.0,
     "days_late_mean": 8.0, "days_late_sd_between": 5.0, "days_late_sd_within": 5.0, "ignore_share": 0.05,
     "responsiveness": 0.9, "discount_appetite": 0.1, "dispute_rate": 0.03, "plan_acceptance": 0.6,
     "instalment_reliability": 0.9, "strain_rate": 0.3, "strain_recovery_rate": 0.6, "distress_rate": 0.01,
     "insolvency_rate": 0.02, "goodwill_baseline": 0.7},
    {"name": "seasonal", "customers": 8, "orders_per_year": 10, "amount_median": 1500.0,
     "days_late_mean": 6.0, "days_late_sd_between": 5.0, "days_late_sd_within": 5.0, "ignore_share": 0.05,
     "responsiveness": 1.0, "discount_appetite": 0.2, "dispute_rate": 0.03, "plan_acceptance": 0.6,
     "instalment_reliability": 0.85, "strain_rate": 0.15, "seasonality": 1.0, "strain_recovery_rate": 0.34,
     "distress_rate": 0.03, "goodwill_baseline": 0.7},
)


def desk_scenario(scenario: Scenario, day: int, segments: tuple[dict, ...] = DESK_SEGMENTS) -> Scenario:
    """``scenario`` plus the desk's segments (those not already there), run at least ``MIN_FOLLOW_DAYS``
    past ``day``, with an unlimited team; validated like a file.

    The trainee is the collector and acts on the desk day: a team's queue (which could hold the action back
    for days in a small, resized portfolio) is not part of the lesson, so the desk's team has no limit.
    """
    names = {s.name for s in scenario.portfolio.segments}
    month = (scenario.horizon.start_date + dt.timedelta(days=day)).month
    added = [{**seg, "seasonal_peak_month": month} if "seasonality" in seg else dict(seg)
             for seg in segments if seg["name"] not in names]
    h = scenario.horizon
    end = h.warmup_days + h.measured_days + h.runoff_days
    longer = {"horizon.runoff_days": h.runoff_days + day + MIN_FOLLOW_DAYS - end} if end < day + MIN_FOLLOW_DAYS else {}
    return scenario.with_values({**longer, "team.staff": 0}, "desk", add_segments=added)


def choices(scenario: Scenario, policy: str | None = None) -> dict[str, tuple[Action, ...]]:
    """What the trainee may do today, as engine actions (costs from the scenario's economics and policy)."""
    e = scenario.economics
    email, letter, phone = (round(100 * c) for c in (e.cost_email, e.cost_letter, e.cost_phone))
    mediation = round(100 * scenario.policy(policy).escalation.mediation_cost)
    return {
        "wait": (),
        "friendly email": (Action.remind("email", "friendly", email),),
        "firm letter": (Action.remind("letter", "firm", letter),),
        "final notice": (Action.remind("letter", "final", letter),),
        "friendly call": (Action.remind("phone", "friendly", phone),),
        "firm call": (Action.remind("phone", "firm", phone),),
        "offer a plan": (Action.offer_plan("phone", phone, 3, 30, 0.2, 1),),
        "offer a long plan": (Action.offer_plan("phone", phone, 2, 60, 0.0, 1),),
        "discount for paying within 10 days (3%)": (Action.remind("email", "friendly", email),
                                                     Action.offer_discount(0.03, 10)),
        "offer settlement (20% off)": (Action.offer_settlement(0.2, "letter", letter),),
        "mediation": (Action.mediate(mediation),),
        "collection agency": (Action.place_with_agency(0.25),),
        "legal action": (Action.file_legal(60_000),),
    }


class DeskDecider(DecisionMaker):
    """The scenario's policy, except that one invoice gets the trainee's actions on the desk day."""

    def __init__(self, base: RuleBasedPolicy, customer: int, seq: int, day: int, actions: tuple[Action, ...]):
        self.base, self.customer, self.seq, self.day, self.actions = base, customer, seq, day, actions
        self.name = base.spec.name
        self.spec = base.spec
        self.done = False
        self.reads_standing = base.reads_standing

    # Targets, credit hold, plans on request, onboarding, invoicing, the contact gap: as the policy does (only
    # ``decide`` differs).
    def profile(self, segment: int, standing: Standing | None) -> int:
        return self.base.profile(segment, standing)

    def credit_hold_after(self, profile: int) -> int | None:
        return self.base.credit_hold_after(profile)

    def plan_on_request(self, profile: int) -> Action | None:
        return self.base.plan_on_request(profile)

    def onboarding(self, profile: int) -> tuple[float, int, int] | None:
        return self.base.onboarding(profile)

    def invoicing(self, profile: int) -> tuple[bool, bool]:
        return self.base.invoicing(profile)

    def contact_gap(self, profile: int) -> int:
        return self.base.contact_gap(profile)

    def decide(self, point: Point, day: int, invoice: InvoiceView, goodwill: float) -> Decision:
        decision = self.base.decide(point, day, invoice, goodwill)
        if self.done or invoice.customer != self.customer or invoice.seq != self.seq:
            return decision
        if day == self.day and point is Point.REVIEW:
            self.done = True
            return Decision(self.actions, self.base.next_review(invoice, day))
        if day < self.day and (decision.review_day is None or decision.review_day > self.day):
            return Decision(decision.actions, self.day)  # be asked on the desk day
        return decision


class _FutureEngine(SimpyEngine):
    """The SimPy engine whose draws, once the trainee has acted, come from ``future_seed``: one more future after the
    desk day. Until then it is the run of ``seed`` exactly. Draws made before (customers, order gaps, cash-strain
    paths, churn thresholds) stay those of ``seed``: they describe the customer as it is, while how it responds to
    what is done from now on varies. What the desk account's customer means to do about it, which the collector
    cannot see, is drawn again in each future other than the desk's own (:meth:`_redraw_intentions`)."""

    def __init__(self, scenario: Scenario, decider: DeskDecider, seed: int, future_seed: int) -> None:
        self._future_seed = int(future_seed)
        super().__init__(scenario, decider, seed)

    @property
    def seed(self) -> int:  # read at every draw by the engine
        return self._future_seed if self.decider.done else self._history_seed

    @seed.setter
    def seed(self, value: int) -> None:
        self._history_seed = int(value)

    def _review(self, inv, day: int) -> None:
        d = self.decider
        if (not d.done and day == d.day and inv.customer == d.customer and inv.seq == d.seq
                and self._future_seed != self._history_seed):
            self._redraw_intentions(inv, day)
        super()._review(inv, day)

    def _redraw_intentions(self, inv, day: int) -> None:
        """The desk account's own payment day and response threshold, drawn from ``future_seed`` given what the
        desk day shows: the invoice is still unpaid once the day's payments are in, and no reminder so far has
        moved the customer.

        The payment day is :func:`collectsim.model.behaviour.open_pay_day` (as for an opening book's invoice) from
        day + 1 on, with the invoice's issue-time liquidity, and no past reminders since none moved it; the
        threshold (:func:`collectsim.model.behaviour.responds`) is uniform below the chance, so far, of not being
        moved. Only an invoice still as issued is redrawn: never disputed, nothing paid, not moved by a reminder,
        no plan, terms, offer, discount or escalation, and not electronically invoiced (``open_pay_day`` has no
        e-invoicing); any other keeps the intentions the run gave it, as future 0 (the desk's own run, itself one
        draw of the same) always does. The payment run's weekday applies when the new day comes, as for any
        invoice.
        """
        if (inv.disputed or inv.disputed_since >= 0 or inv.payments or inv.responses or inv.had_plan or inv.had_terms
                or inv.plan_requested or inv.escalation or inv.was_at_agency or inv.was_in_court
                or inv.had_settlement_offer or inv.discount_rate > 0 or self.decider.invoicing(inv.profile)[1]):
            return
        c, s, seed = inv.customer, inv.seq, self._future_seed
        seg, b = self._segments[inv.segment], self._b
        liquidity = self._liquidity_on(c, inv.issue_day)
        uniforms = u(seed, Purpose.OPEN_PAY_DAY, c, s, np.arange(6 * rules.OPEN_PAY_TRIES, dtype=np.int64))
        inv.pay_day = rules.open_pay_day(
            day + 1, inv.issue_day, inv.due_day, self._habit[c], seg.days_late_sd_within, liquidity,
            b.strained_extra_days, rules.ignore_share_on(seg.ignore_share, liquidity, b.distressed_ignore),
            seg.on_due_date_share, uniforms.reshape(rules.OPEN_PAY_TRIES, 6), b.set_aside_pay_days,
            b.set_aside_never_share, b.set_aside_pay_sigma, np.zeros(0, dtype=np.int64), np.zeros(0),
            b.response_halflife_days, b.response_delay_days)
        inv.u_response = inv.unmoved * u(seed, Purpose.DESK_RESPONSE, c, s)


def future_seeds(seed: int, futures: int) -> list[int]:
    """The seeds of the desk's futures: the desk's own seed first, then seeds derived from it."""
    return [int(seed)] + [int(s) for s in np.random.SeedSequence([int(seed), 21]).generate_state(futures - 1,
                                                                                                    np.uint32)]


@dataclass(frozen=True)
class Case:
    """One overdue invoice on the desk."""

    story_key: str  # a key of STORIES
    segment: str
    story: str
    customer: int
    seq: int
    amount: int  # cents
    balance: int  # cents open on the desk day
    days_overdue: int
    recommended: str
    why: str
    disputed_days: int = -1  # days the invoice has been disputed on the desk day; -1: not disputed


def _balance_on(result: RunResult, row: int, day: int) -> int:
    ev = result.events
    mask = (ev["invoice"] == row) & np.isin(ev["kind"], BALANCE_REDUCING) & (ev["day"] < day)
    return int(result.invoices["amount"][row] - ev["amount"][mask].sum())


def _disputed_since(result: RunResult, row: int, day: int) -> int:
    """Day the invoice's dispute was raised if it is still open on ``day``; -1 if it is not disputed then."""
    ev = result.events
    mine = (ev["invoice"] == row) & (ev["day"] < day)
    raised = ev["day"][mine & (ev["kind"] == EventKind.DISPUTE_RAISED)]
    resolved = ev["day"][mine & (ev["kind"] == EventKind.DISPUTE_RESOLVED)]
    if len(raised) and (len(resolved) == 0 or resolved.max() < raised.max()):
        return int(raised.max())
    return -1


class Desk:
    """A queue of overdue accounts on ``day`` of a run of ``scenario`` (plus ``DESK_SEGMENTS``) under ``policy``."""

    def __init__(self, scenario: Scenario, policy: str | None = None, seed: int | None = None,
                 day: int | None = None, min_days_overdue: int = 10, futures: int = FUTURES) -> None:
        self.day = scenario.horizon.measured_start + 60 if day is None else int(day)
        self.scenario = desk_scenario(scenario, self.day)
        self.spec = self.scenario.policy(policy)
        self.seed = self.scenario.seed if seed is None else int(seed)
        self.base = simulate(self.scenario, self.spec, self.seed)
        self.choices = choices(self.scenario, self.spec.name)
        self.cases = self._queue(min_days_overdue)
        self.future_seeds = future_seeds(self.seed, futures)
        self._values: dict[tuple[int, int, str], list[AccountValue]] = {}

    def _case(self, key: str, row: int, balance: int, disputed_since: int = -1) -> Case:
        inv = self.base.invoices
        story, recommended, why = STORIES[key]
        disputed_days = self.day - disputed_since if disputed_since >= 0 else -1
        if key == "disputed" and disputed_days < MEDIATION_AFTER_DAYS:
            recommended, why = "wait", WAIT_ON_DISPUTE_WHY
        segment = self.scenario.portfolio.segments[int(inv["segment"][row])].name
        return Case(key, segment, story, int(inv["customer"][row]), int(inv["seq"][row]), int(inv["amount"][row]),
                    balance, self.day - int(inv["due_day"][row]), recommended, why, disputed_days)

    def _queue(self, min_days_overdue: int) -> list[Case]:
        inv = self.base.invoices
        names = [s.name for s in self.scenario.portfolio.segments]
        # a disputed invoice, from any segment: the one disputed longest, overdue or not
        disputed = None
        for row in np.flatnonzero(inv["issue_day"] < self.day):
            since = _disputed_since(self.base, int(row), self.day)
            balance = _balance_on(self.base, int(row), self.day) if since >= 0 else 0
            if balance > 0 and (disputed is None or since < disputed[2]):
                disputed = (int(row), balance, since)
        cases = []
        for seg_index, name in enumerate(names):
            if name not in STORIES:
                continue
            overdue = np.flatnonzero((inv["segment"] == seg_index) & (inv["due_day"] <= self.day - min_days_overdue))
            for row in overdue[::-1]:  # the most recently overdue first
                if disputed is not None and int(row) == disputed[0]:
                    continue
                balance = _balance_on(self.base, int(row), self.day)
                # Still open once the desk day's payments are in (the trainee acts after them): a case paid that
                # very morning would leave the trainee's action nothing to act on.
                still_open = _balance_on(self.base, int(row), self.day + 1) > 0
                if balance > 0 and still_open and _disputed_since(self.base, int(row), self.day) < 0:
                    cases.append(self._case(name, int(row), balance))
                    break
        if disputed is not None:
            cases.insert(min(2, len(cases)), self._case("disputed", *disputed))
        return cases

    def playbook(self) -> pd.DataFrame:
        """Each account's story key, the playbook's recommendation and why (the desk's answer sheet)."""
        return pd.DataFrame([{"account": f"{c.customer}-{c.seq}", "story": c.story_key,
                              "playbook recommends": c.recommended, "why": c.why} for c in self.cases])

    def queue(self) -> pd.DataFrame:
        """The desk's accounts, money in currency units."""
        return pd.DataFrame([{"account": f"{c.customer}-{c.seq}", "story": c.story_key, "kind of customer": c.segment,
                              "open": c.balance / 100, "days overdue": c.days_overdue} for c in self.cases])

    def run(self, case: Case, choice: str) -> tuple[RunResult, int]:
        """The portfolio simulated with ``choice`` taken on ``case`` on the desk day; and the invoice's row."""
        if choice not in self.choices:
            raise ValueError(f"unknown choice {choice!r}; choices are: {', '.join(self.choices)}")
        decider = DeskDecider(RuleBasedPolicy(self.spec, self.scenario), case.customer, case.seq, self.day,
                              self.choices[choice])
        result = simulate(self.scenario, self.spec, self.seed, decider=decider)
        inv = result.invoices
        return result, int(np.flatnonzero((inv["customer"] == case.customer) & (inv["seq"] == case.seq))[0])

    def values(self, case: Case, choice: str) -> list[AccountValue]:
        """The account's value (:mod:`collectsim.apps.desk_score`) after ``choice``, in each of the desk's futures.

        Future 0 is the desk's own run (``seed``); in future k the draws made once the trainee has acted come from
        another seed, the same for every choice (common random numbers), while everything before is the same run.
        """
        if choice not in self.choices:
            raise ValueError(f"unknown choice {choice!r}; choices are: {', '.join(self.choices)}")
        key = (case.customer, case.seq, choice)
        if key not in self._values:
            self._values[key] = [self._value(case, choice, future) for future in self.future_seeds]
        return self._values[key]

    def _value(self, case: Case, choice: str, future_seed: int) -> AccountValue:
        decider = DeskDecider(RuleBasedPolicy(self.spec, self.scenario), case.customer, case.seq, self.day,
                              self.choices[choice])
        customers, invoices, events, _ = _FutureEngine(self.scenario, decider, self.seed, future_seed).run()
        row = int(np.flatnonzero((invoices["customer"] == case.customer) & (invoices["seq"] == case.seq))[0])
        return account_value(self.scenario, invoices, events, customers.goodwill_baseline, row, self.day)

    def outcome(self, case: Case, choice: str) -> dict:
        """What followed for the account after ``choice``, on average over the desk's futures, and its score.

        Score = the account's value after ``choice`` less its value had the collector waited today (the policy
        carrying on as usual), in currency, the mean over the futures of that paired difference; value = cash -
        costs + plan - relationship, discounted to the desk day (see :mod:`collectsim.apps.desk_score`). The
        score's terms are in the ``score: ...`` entries; ``score +/-`` is the 95% half-width over the futures.
        """
        mine, wait = self.values(case, choice), self.values(case, "wait")
        k = len(mine)

        def mean(get) -> float:
            return float(np.mean([get(v) for v in mine]))

        def gain(get) -> float:
            return float(np.mean([get(a) - get(w) for a, w in zip(mine, wait)])) / 100

        diffs = np.array([a.value - w.value for a, w in zip(mine, wait)]) / 100
        half = 1.96 * float(diffs.std(ddof=1)) / np.sqrt(k) if k > 1 else float("nan")
        settled = [v.days_to_settle for v in mine if v.days_to_settle >= 0]
        notes = []
        if any(a.kind is ActionKind.MEDIATE for a in self.choices[choice]) and case.disputed_days < 0:
            notes.append("no dispute to mediate: the mediator is not called and nothing happens")
        defaulted = [v.plan_defaulted_day for v in mine if v.plan_defaulted_day >= 0]
        if defaulted:
            notes.append(f"the plan defaulted in {len(defaulted)} of {k} futures (after {min(defaulted)} days or more)")
        still = sum(1 for v in mine if v.open_at_horizon and not v.plan)
        if still:
            notes.append(f"still open a year on, outside a performing plan, in {still} of {k} futures: counted as "
                         "not collected")
        return {"choice": choice, "cash from this invoice": round(mean(lambda v: v.principal + v.fees) / 100, 2),
                "action and escalation costs": round(mean(lambda v: v.costs_paid - v.costs_recovered) / 100, 2),
                "written off": round(mean(lambda v: v.written_off) / 100, 2),
                "open in a performing plan, expected": round(mean(lambda v: v.plan) / 100, 2),
                "days until settled": round(float(np.mean(settled)), 1) if settled else None,
                "settled within a year": f"{len(settled)} of {k}",
                "customer's goodwill a month on": round(mean(lambda v: v.goodwill_after_30_days), 3),
                "chance the customer leaves": round(mean(lambda v: v.churn_chance), 4),
                "score: cash": round(gain(lambda v: v.cash), 2), "score: costs": round(gain(lambda v: v.costs), 2),
                "score: plan": round(gain(lambda v: v.plan), 2),
                "score: relationship": round(gain(lambda v: v.relationship), 2),
                "score": round(float(diffs.mean()), 2), "score +/-": round(half, 2), "note": "; ".join(notes)}

    def ranking(self, case: Case) -> pd.DataFrame:
        """Every choice on ``case``, best score first (the playbook's choice marked)."""
        table = pd.DataFrame([self.outcome(case, choice) for choice in self.choices]).set_index("choice")
        table["playbook"] = [c == case.recommended for c in table.index]
        return table.sort_values("score", ascending=False, kind="stable")

    def compare(self, case: Case, choice: str) -> pd.DataFrame:
        """The trainee's choice beside the playbook's, on the same simulated futures."""
        rows = [self.outcome(case, choice)]
        if choice != case.recommended:
            rows.append(self.outcome(case, case.recommended))
        return pd.DataFrame(rows).set_index("choice")


def score_explained(outcome: dict, balance_cents: int, currency: str) -> str:
    """The score of an outcome (:meth:`Desk.outcome`) worked out in words, term by term, in ``currency``."""
    o = outcome
    text = (f"Against waiting today, on average over the simulated futures, in {currency} on the desk day: "
            f"cash from the invoice within a year, discounted at the cost of capital for the days it took "
            f"{o['score: cash']:+,.2f}; action and escalation costs {-o['score: costs']:+,.2f}; "
            f"expected from a plan still performing a year on {o['score: plan']:+,.2f}; "
            f"the customer's expected future margin (fewer orders and a higher chance of leaving while goodwill "
            f"is below its baseline) {-o['score: relationship']:+,.2f}")
    return text + (f"; score {o['score']:+,.2f} {currency} (+/- {o['score +/-']:,.2f} over the futures), on "
                   f"{balance_cents / 100:,.2f} open.")


@dataclass(frozen=True)
class Turn:
    """One account played in a round: the trainee's choice and its score; the playbook's, for the answer sheet."""

    trainee: str
    account: str
    story: str
    choice: str
    score: float
    playbook_choice: str
    playbook_score: float


class Round:
    """A class round: the desk's accounts one at a time, each scored once (a replay of an account shows its
    outcome but does not count), the answer sheet only when every account has been played."""

    def __init__(self, desk: Desk, trainee: str = "", accounts: int | None = None) -> None:
        self.desk = desk
        self.trainee = trainee
        self.cases = desk.cases[:accounts] if accounts else list(desk.cases)
        self.position = 0
        self.turns: dict[int, Turn] = {}

    @property
    def case(self) -> Case:
        return self.cases[self.position]

    @property
    def finished(self) -> bool:
        return len(self.turns) == len(self.cases)

    @property
    def total(self) -> float:
        return round(sum(turn.score for turn in self.turns.values()), 2)

    def act(self, choice: str) -> dict:
        """Take ``choice`` on the current account; its outcome. Only the first choice on an account is scored."""
        case = self.case
        outcome = self.desk.outcome(case, choice)
        if self.position not in self.turns:
            playbook = outcome if choice == case.recommended else self.desk.outcome(case, case.recommended)
            self.turns[self.position] = Turn(self.trainee, f"{case.customer}-{case.seq}", case.story_key, choice,
                                             outcome["score"], case.recommended, playbook["score"])
        return outcome

    def next(self) -> bool:
        """Move to the next account; False when this was the last."""
        if self.position + 1 >= len(self.cases):
            return False
        self.position += 1
        return True

    def answer_sheet(self) -> pd.DataFrame:
        """Each account: the trainee's choice and score beside the playbook's choice, score and reason."""
        if not self.finished:
            raise RuntimeError(f"the answer sheet shows when the round ends: {len(self.turns)} of "
                               f"{len(self.cases)} accounts played")
        whys = {f"{c.customer}-{c.seq}": c.why for c in self.cases}
        return self.to_frame().assign(why=lambda f: f["account"].map(whys))

    def to_frame(self) -> pd.DataFrame:
        """The scored turns so far, one row per account (what a trainer collects from a class)."""
        columns = [f.name for f in fields(Turn)]
        return pd.DataFrame([self.turns[i] for i in sorted(self.turns)], columns=columns)

    def write_csv(self, path: str | Path) -> Path:
        """The trainee's choices and scores as CSV (complete or absent), to compare a class."""
        return write_csv(self.to_frame(), Path(path))


class DeskWidget:
    """The desk in JupyterLab for a class: one account at a time, choose, Act, read the outcome and how it was
    scored, Next; the playbook's answers and the total when the round ends; the choices exported to CSV."""

    def __init__(self, desk: Desk, trainee: str = "", accounts: int | None = None) -> None:
        import ipywidgets as w

        self.desk = desk
        self.round = Round(desk, trainee, accounts)
        self.name = w.Text(value=trainee, description="trainee", placeholder="your name")
        self.choice = w.Dropdown(options=list(desk.choices), description="action")
        self.act = w.Button(description="Act", button_style="primary")
        self.next_button = w.Button(description="Next account", disabled=True)
        self.export = w.Button(description="Export choices (CSV)", disabled=True)
        self.progress = w.HTML()
        self.story = w.HTML()
        self.result = w.HTML()
        self.sheet = w.HTML()
        self.act.on_click(lambda _button: self.play())
        self.next_button.on_click(lambda _button: self.advance())
        self.export.on_click(lambda _button: self.save())
        self._show_story()
        self.widget = w.VBox([w.HBox([self.name, self.progress]), self.story,
                              w.HBox([self.choice, self.act, self.next_button]), self.result,
                              w.HBox([self.export]), self.sheet])

    @property
    def turns(self) -> int:
        return len(self.round.turns)

    def _show_story(self) -> None:
        r = self.round
        c = r.case
        currency = html.escape(self.desk.scenario.economics.currency)
        self.progress.value = (f"account {r.position + 1} of {len(r.cases)}; "
                               f"score so far {r.total:+,.2f} {currency} over {len(r.turns)} account(s)")
        self.story.value = (f"<b>{html.escape(c.story_key)}</b> ({html.escape(c.segment)} customer): "
                            f"{html.escape(c.story)} Open: {c.balance / 100:,.2f} "
                            f"{html.escape(self.desk.scenario.economics.currency)}, {c.days_overdue} days overdue.")

    def play(self) -> dict:
        """Take the chosen action on the current account; show what followed and how it was scored."""
        r = self.round
        r.trainee = self.name.value
        replay = r.position in r.turns
        outcome = r.act(self.choice.value)
        shown = {k: v for k, v in outcome.items() if k not in ("choice", "note")}
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in shown.items())
        note = f"<p>{html.escape(outcome['note'])}</p>" if outcome["note"] else ""
        counted = ("<p><i>Played before: this outcome is shown, the first choice's score counts.</i></p>"
                   if replay else "")
        how = score_explained(outcome, r.case.balance, self.desk.scenario.economics.currency)
        self.result.value = (f"<p><b>{html.escape(outcome['choice'])}</b></p><table>{rows}</table>{note}"
                             f"<p>How the score is made: {html.escape(how)}</p>{counted}")
        self.next_button.disabled = r.position + 1 >= len(r.cases)
        self._show_story()
        if r.finished:
            self._show_answer_sheet()
        return outcome

    def advance(self) -> None:
        """The next account (its story; the last outcome cleared)."""
        if self.round.next():
            self.result.value = ""
            self.next_button.disabled = True
            self._show_story()

    def _show_answer_sheet(self) -> None:
        r = self.round
        self.export.disabled = False
        currency = html.escape(self.desk.scenario.economics.currency)
        self.sheet.value = (f"<h4>Round over: your total {r.total:+,.2f} {currency} over {len(r.cases)} accounts, "
                            f"against waiting; the playbook's {sum(t.playbook_score for t in r.turns.values()):+,.2f}"
                            f"</h4>"
                            + r.answer_sheet().to_html(index=False, border=0))

    def save(self, folder: str | Path = ".") -> Path:
        """The round's choices as ``desk-<trainee>.csv`` in ``folder``."""
        name = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in (self.name.value or "trainee"))
        path = self.round.write_csv(Path(folder) / f"desk-{name}.csv")
        self.sheet.value += f"<p>Choices written to {html.escape(str(path))}</p>"
        return path
