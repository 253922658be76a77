"""The decision interface: the engine asks, a decision maker answers.

The engine knows how invoices, customers and money move; it does not know what a policy is. At each
decision point (an invoice is issued; a review day the decision maker asked for arrives) it hands the
decision maker a read-only view of the invoice and acts on the answer: a tuple of actions to take now
and the day on which to be asked again. The rule-based policy from TOML is one decision maker; a
scripted one drives tests; the training notebook's trainee and, later, an optimiser are others.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import NamedTuple, Protocol

from collectsim.config.policy_spec import CHANNELS, TONES


class Point(IntEnum):
    """Why the engine is asking."""

    ISSUED = 0  # the invoice has just been issued
    REVIEW = 1  # a review day the decision maker asked for has come
    PLAN_DEFAULTED = 2  # the customer broke an instalment plan; the invoice is back with the policy
    DISPUTE_RAISED = 3  # the customer has just disputed the invoice
    ESCALATION_ENDED = 4  # an agency gave the invoice back, or legal action ended without payment


class ActionKind(IntEnum):
    """What can be done to an invoice. Core II appends kinds; numbers never change."""

    REMIND = 0
    OFFER_DISCOUNT = 1
    WRITE_OFF = 2
    OFFER_PLAN = 3
    CLAIM_FEES = 4
    OFFER_SETTLEMENT = 5
    MEDIATE = 6
    PLACE_WITH_AGENCY = 7
    FILE_LEGAL = 8


@dataclass(frozen=True, slots=True)
class Action:
    """One action. Money in integer cents; ``channel``/``tone`` index ``CHANNELS``/``TONES``."""

    kind: ActionKind
    channel: int = -1
    tone: int = -1
    cost: int = 0
    rate: float = 0.0
    window_days: int = 0
    instalments: int = 0
    interval_days: int = 0
    down_payment: float = 0.0
    tolerance: int = 0
    interest_rate: float = 0.0
    compensation: int = 0
    forgive: float = 0.0
    milestones: tuple[tuple[int, float], ...] = ()  # extended terms: (days after agreement, share of balance)
    recoverable: float = 0.0  # legal action: share of the case's costs a paid claim repays

    @staticmethod
    def remind(channel: str, tone: str, cost_cents: int) -> Action:
        return Action(ActionKind.REMIND, CHANNELS.index(channel), TONES.index(tone), int(cost_cents))

    @staticmethod
    def offer_discount(rate: float, window_days: int) -> Action:
        return Action(ActionKind.OFFER_DISCOUNT, rate=float(rate), window_days=int(window_days))

    @staticmethod
    def write_off() -> Action:
        return Action(ActionKind.WRITE_OFF)

    @staticmethod
    def claim_fees(interest_rate: float, compensation_cents: int) -> Action:
        """Claim statutory interest (yearly rate, simple, from the day after due) and fixed compensation."""
        return Action(ActionKind.CLAIM_FEES, interest_rate=float(interest_rate), compensation=int(compensation_cents))

    @staticmethod
    def offer_settlement(forgive: float, channel: str = "letter", cost_cents: int = 0) -> Action:
        """Offer to forgive ``forgive`` of the balance if the customer pays the rest soon."""
        return Action(ActionKind.OFFER_SETTLEMENT, CHANNELS.index(channel), TONES.index("friendly"),
                      int(cost_cents), forgive=float(forgive))

    @staticmethod
    def mediate(cost_cents: int) -> Action:
        """Bring a mediator into the invoice's dispute."""
        return Action(ActionKind.MEDIATE, cost=int(cost_cents))

    @staticmethod
    def place_with_agency(fee: float) -> Action:
        """Hand the invoice to a collection agency working for a contingency ``fee`` (share of what it collects)."""
        return Action(ActionKind.PLACE_WITH_AGENCY, rate=float(fee))

    @staticmethod
    def file_legal(cost_cents: int, court_fee_rate: float = 0.05, costs_recoverable: float = 0.25) -> Action:
        """Start legal action, paying ``cost_cents`` (the lawyer) and a court fee of ``court_fee_rate`` of the claim
        now; a paid claim or judgment repays ``costs_recoverable`` of both."""
        return Action(ActionKind.FILE_LEGAL, cost=int(cost_cents), rate=float(court_fee_rate),
                      recoverable=float(costs_recoverable))

    @staticmethod
    def offer_plan(channel: str, cost_cents: int, instalments: int, interval_days: int, down_payment: float,
                   tolerance: int) -> Action:
        """Propose an instalment plan through ``channel`` (a friendly contact that costs ``cost_cents``)."""
        return Action(ActionKind.OFFER_PLAN, CHANNELS.index(channel), TONES.index("friendly"), int(cost_cents),
                      instalments=int(instalments), interval_days=int(interval_days),
                      down_payment=float(down_payment), tolerance=int(tolerance))


    @staticmethod
    def offer_terms(channel: str, cost_cents: int, milestones: tuple[tuple[int, float], ...]) -> Action:
        """Propose extended terms: the balance paid at ``milestones`` (days after agreement, share), no tolerance."""
        return Action(ActionKind.OFFER_PLAN, CHANNELS.index(channel), TONES.index("friendly"), int(cost_cents),
                      instalments=len(milestones), tolerance=0,
                      milestones=tuple((int(d), float(s)) for d, s in milestones))


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer at a decision point: actions now, and when to ask again (None: not again)."""

    actions: tuple[Action, ...] = ()
    review_day: int | None = None


NO_DECISION = Decision()


class Standing(NamedTuple):
    """What the ledger shows of a customer on a day (kept as :mod:`collectsim.model.standing` says)."""

    tenure: int  # days since the customer arrived
    open_balance: int  # cents of principal on its open invoices
    late_total: int  # total days late of its recent invoices paid in full ...
    late_count: int  # ... and how many (0 to RECENT_INVOICES; 0: no history yet)
    overdue_days: int  # most days past due among its open invoices (0: none past due)
    open_disputes: int  # its open invoices disputed now
    days_since_dispute: int  # days since it last raised a dispute (very large if never)


class InvoiceView(Protocol):
    """What a decision maker may read about an invoice (attributes; it must not change them)."""

    customer: int
    seq: int
    segment: int
    profile: int  # the version of the policy that applies to it (DecisionMaker.profile when it was issued)
    amount: int
    balance: int
    issue_day: int
    due_day: int
    disputed: bool
    in_plan: bool  # paying by instalments or by the milestones of extended terms
    had_plan: bool  # an instalment plan was offered (or granted on request)
    had_terms: bool  # extended terms were offered
    plan_terms: bool  # the arrangement agreed last (running or broken) is extended terms, not a plan
    fees_claimed: bool
    had_settlement_offer: bool
    disputed_since: int
    mediated: bool
    escalation: int  # 0 with us, 1 with an agency, 2 in court
    was_at_agency: bool
    was_in_court: bool
    reminders_sent: int
    actions_taken: int
    plan_broken_day: int  # day the customer broke a plan or extended terms on this invoice; -1 if not


class DecisionMaker:
    """Anything that answers the engine's questions: subclass it and define :meth:`decide`.

    The optional hooks below do nothing by default (no credit hold, plan requests refused, no onboarding
    checks); a decision maker that wants them overrides them. They take a *profile*: the version of the policy
    that applies, as :meth:`profile` chose it (the segment's number, unless a decision maker targets customers
    by their standing).
    """

    #: Whether :meth:`profile` reads the customer's standing (the engine works it out only then).
    reads_standing: bool = False

    def profile(self, segment: int, standing: Standing | None) -> int:
        """The profile for a customer of ``segment`` with this ``standing`` (None unless :attr:`reads_standing`).

        Asked when an invoice is issued (the invoice keeps it as ``profile`` for its life), when a new customer
        arrives (for :meth:`onboarding`) and when a customer orders (for :meth:`credit_hold_after`). By default
        the segment.
        """
        return segment

    def decide(self, point: Point, day: int, invoice: InvoiceView, goodwill: float) -> Decision:
        """Return the actions to take on ``invoice`` today and the next day to be asked."""
        raise NotImplementedError

    def credit_hold_after(self, profile: int) -> int | None:
        """Days past due beyond which the profile's customers are refused new orders (None: never)."""
        return None

    def plan_on_request(self, profile: int) -> Action | None:
        """The plan (an ``offer_plan`` action) granted when a strained customer asks for one; None refuses."""
        return None

    def onboarding(self, profile: int) -> tuple[float, int, int] | None:
        """(refusal threshold on the credit report, check cost in cents, credit limit in cents or 0), or None.

        New customers whose credit report exceeds the threshold are refused; the limit (0: none) caps what
        they may owe.
        """
        return None

    def invoicing(self, profile: int) -> tuple[bool, bool]:
        """(clear terms, electronic invoicing) for the profile's invoices; neither by default."""
        return False, False

    def contact_gap(self, profile: int) -> int:
        """Least days between two contacts about an invoice of the profile (0: reminders never wait).

        Reminders due the same day always go out as one contact, whatever the gap.
        """
        return 0
