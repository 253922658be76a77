"""The rule-based decision maker: a policy file's ladder of steps, applied day by day.

It keeps no memory of its own: what to do on a day follows from the invoice's due date, whether it
is disputed, and the policy that applies to the customer's segment. So the same invoice gets the same
treatment whichever engine asks and in whatever order.
"""

from __future__ import annotations

import math

from .decisions import Action, Decision, InvoiceView, Point
from .draws import normal_ppf
from .policy_spec import Onboarding, PolicySpec
from .scenario import Economics, Scenario


class _SegmentRules:
    """A policy resolved for one segment, with step days and costs precomputed."""

    __slots__ = ("offsets", "reminders", "pause_on_dispute", "issue_actions", "write_off_age", "plan_offset",
                 "plan_offer", "plan_on_default", "plan_on_request", "terms_offset", "terms_offer", "terms_on_default",
                 "fee_offset", "fee_claim", "settle_offset",
                 "settle_offer", "mediation_after", "mediation", "agency_offset", "agency", "legal_offset",
                 "legal", "legal_min")

    def __init__(self, spec: PolicySpec, economics: Economics) -> None:
        channel_cost = {"email": economics.cost_email, "letter": economics.cost_letter,
                        "phone": economics.cost_phone}
        steps = spec.reminders.steps
        self.offsets = tuple(s.offset for s in steps)
        self.reminders = tuple(
            Action.remind(s.channel, s.tone, round(100 * (channel_cost[s.channel] if s.cost is None else s.cost)))
            for s in steps)
        self.pause_on_dispute = spec.reminders.pause_on_dispute
        self.write_off_age = spec.write_off.age_days
        rate = spec.discount.rate
        self.issue_actions = (Action.offer_discount(rate, spec.discount.window_days),) if rate > 0 else ()
        plans = spec.plans
        self.plan_offset = plans.after_days_overdue if plans.offer else None
        # The offer goes through the channel of the step it replaces (email when no step falls that day).
        channel = next((st.channel for st in steps if st.offset == plans.after_days_overdue), "email")
        cost = next((r.cost for r, o in zip(self.reminders, self.offsets) if o == plans.after_days_overdue),
                    round(100 * channel_cost[channel]))
        self.plan_offer = Action.offer_plan(channel, cost, plans.instalments, plans.interval_days,
                                            plans.down_payment, plans.missed_tolerance)
        self.plan_on_default = plans.on_default
        self.plan_on_request = plans.on_request
        terms = spec.extended_terms
        self.terms_offset = terms.after_days_overdue if terms.offer else None
        channel = next((st.channel for st in steps if st.offset == terms.after_days_overdue), "email")
        cost = next((r.cost for r, o in zip(self.reminders, self.offsets) if o == terms.after_days_overdue),
                    round(100 * channel_cost[channel]))
        self.terms_offer = Action.offer_terms(channel, cost, tuple((m.after_days, m.share) for m in terms.milestones))
        self.terms_on_default = terms.on_default
        fees = spec.fees
        self.fee_offset = fees.claim_at_days_overdue if fees.enforce else None
        self.fee_claim = Action.claim_fees(economics.reference_rate + fees.interest_margin,
                                           round(100 * fees.fixed_compensation))
        settle = spec.settlement
        self.settle_offset = settle.after_days_overdue if settle.offer else None
        self.settle_offer = Action.offer_settlement(settle.forgive, "letter", round(100 * economics.cost_letter))
        esc = spec.escalation
        self.mediation_after = esc.mediation_after_days if esc.mediation else None
        self.mediation = Action.mediate(round(100 * esc.mediation_cost))
        self.agency_offset = esc.agency_after_days_overdue if esc.agency else None
        self.agency = Action.place_with_agency(esc.agency_fee)
        self.legal_offset = esc.legal_after_days_overdue if esc.legal else None
        self.legal = Action.file_legal(round(100 * esc.legal_cost))
        self.legal_min = round(100 * esc.legal_min_balance)

    def on_default(self, invoice: InvoiceView) -> str:
        """What the policy does when the invoice's plan or extended terms break."""
        return self.terms_on_default if invoice.plan_terms else self.plan_on_default

    def ladder_start(self, invoice: InvoiceView) -> int:
        """Day the reminder offsets count from: the due date, or the day a plan broke when the ladder restarts."""
        if invoice.plan_broken_day >= 0 and self.on_default(invoice) == "restart":
            return invoice.plan_broken_day
        return invoice.due_day

    def next_review(self, invoice: InvoiceView, after_day: int) -> int | None:
        """First step day, plan-offer day or write-off day strictly after ``after_day``."""
        due = invoice.due_day
        start = self.ladder_start(invoice)
        days = [start + o for o in self.offsets if start + o > after_day]
        if self.plan_offset is not None and not invoice.had_plan and due + self.plan_offset > after_day:
            days.append(due + self.plan_offset)
        if self.terms_offset is not None and not invoice.had_terms and due + self.terms_offset > after_day:
            days.append(due + self.terms_offset)
        if self.fee_offset is not None and not invoice.fees_claimed and due + self.fee_offset > after_day:
            days.append(due + self.fee_offset)
        if (self.settle_offset is not None and not invoice.had_settlement_offer
                and due + self.settle_offset > after_day):
            days.append(due + self.settle_offset)
        if self.mediation_after is not None and invoice.disputed and not invoice.mediated:
            days.append(max(invoice.disputed_since + self.mediation_after, after_day + 1))
        if self.agency_offset is not None and not invoice.was_at_agency and due + self.agency_offset > after_day:
            days.append(due + self.agency_offset)
        if self.legal_offset is not None and not invoice.was_in_court and due + self.legal_offset > after_day:
            days.append(due + self.legal_offset)
        write_off_day = due + self.write_off_age
        if write_off_day > after_day:
            days.append(write_off_day)
        return min(days) if days else None

    def offers_plan(self, invoice: InvoiceView, day: int) -> bool:
        return (self.plan_offset is not None and not invoice.had_plan and not invoice.disputed
                and day == invoice.due_day + self.plan_offset)

    def offers_terms(self, invoice: InvoiceView, day: int) -> bool:
        return (self.terms_offset is not None and not invoice.had_terms and not invoice.disputed
                and not invoice.in_plan and day == invoice.due_day + self.terms_offset)


class RuleBasedPolicy:
    """Decision maker for a :class:`PolicySpec`, with per-segment overrides applied."""

    def __init__(self, spec: PolicySpec, scenario: Scenario) -> None:
        self.spec = spec
        self._rules = [_SegmentRules(spec.for_segment(seg.name), scenario.economics)
                       for seg in scenario.portfolio.segments]
        escalations = [spec.for_segment(seg.name).escalation for seg in scenario.portfolio.segments]
        self._onboarding = [_onboarding_rule(spec.for_segment(seg.name).onboarding)
                            for seg in scenario.portfolio.segments]
        self._hold = [e.credit_hold_after_days_overdue if e.credit_hold else None for e in escalations]

    def plan_on_request(self, segment: int) -> Action | None:
        """The plan granted when a strained customer of the segment asks for one (None: requests are refused)."""
        rules = self._rules[segment]
        return rules.plan_offer if rules.plan_on_request else None

    def onboarding(self, segment: int) -> tuple[float, int, int] | None:
        """(refusal threshold on the credit report, check cost in cents, credit limit in cents or 0), or None."""
        return self._onboarding[segment]

    def credit_hold_after(self, segment: int) -> int | None:
        """Days past due beyond which the segment's customers are refused new orders (None: never)."""
        return self._hold[segment]

    def decide(self, point: Point, day: int, invoice: InvoiceView, goodwill: float) -> Decision:
        rules = self._rules[invoice.segment]
        if point is Point.ISSUED:
            # Steps dated before issue (pre-due steps on short terms) are skipped.
            return Decision(rules.issue_actions, rules.next_review(invoice, day - 1))
        due = invoice.due_day
        write_off_due = day >= due + rules.write_off_age
        if point is Point.DISPUTE_RAISED:
            # Reviews come after new disputes in the day, so today's step, if any, still stands.
            return Decision((), rules.next_review(invoice, day - 1))
        if point is Point.ESCALATION_ENDED:
            return self._after_escalation(rules, invoice, day, write_off_due)
        if point is Point.PLAN_DEFAULTED:
            # A broken plan or extended terms: write off if the policy says so or the write-off age has passed
            # meanwhile; otherwise the ladder resumes with its next step.
            on_default = rules.on_default(invoice)
            if on_default == "write_off" or write_off_due:
                return Decision((Action.write_off(),), None)
            if on_default == "escalate" and not invoice.disputed:
                if rules.agency_offset is not None and not invoice.was_at_agency:
                    return Decision((rules.agency,), rules.next_review(invoice, day))
                if rules.legal_offset is not None and not invoice.was_in_court:
                    return Decision((rules.legal if invoice.balance >= rules.legal_min else Action.write_off(),),
                                    rules.next_review(invoice, day))
                return Decision((Action.write_off(),), None)
            return Decision((), rules.next_review(invoice, day))
        actions: tuple[Action, ...] = ()
        if rules.offers_terms(invoice, day):
            actions = (rules.terms_offer,)  # the offer replaces the step (and a plan offer) due today
        elif rules.offers_plan(invoice, day):
            actions = (rules.plan_offer,)  # the offer replaces the step due today
        else:
            start = rules.ladder_start(invoice)
            for offset, reminder in zip(rules.offsets, rules.reminders):
                if start + offset == day and not (invoice.disputed and rules.pause_on_dispute):
                    actions = (reminder,)
                    break
        if rules.fee_offset is not None and day == due + rules.fee_offset and not invoice.fees_claimed:
            actions = (*actions, rules.fee_claim)
        if (rules.settle_offset is not None and day == due + rules.settle_offset
                and not invoice.had_settlement_offer and not invoice.disputed):
            actions = (*actions, rules.settle_offer)
        if (rules.mediation_after is not None and invoice.disputed and not invoice.mediated
                and day >= invoice.disputed_since + rules.mediation_after):
            actions = (*actions, rules.mediation)
        if not write_off_due and not invoice.disputed:
            if rules.legal_offset is not None and day == due + rules.legal_offset and not invoice.was_in_court:
                # Legal day: sue for what is worth it, write off the rest.
                escalate = rules.legal if invoice.balance >= rules.legal_min else Action.write_off()
                return Decision((escalate,), rules.next_review(invoice, day))
            if rules.agency_offset is not None and day == due + rules.agency_offset and not invoice.was_at_agency:
                return Decision((rules.agency,), rules.next_review(invoice, day))  # instead of today's step
        if write_off_due:
            actions = (*actions, Action.write_off())
        return Decision(actions, rules.next_review(invoice, day))

    @staticmethod
    def _after_escalation(rules: _SegmentRules, invoice: InvoiceView, day: int, write_off_due: bool) -> Decision:
        """The agency gave up or the court case brought nothing: sue, write off, or resume the ladder."""
        can_sue = rules.legal_offset is not None and not invoice.was_in_court
        if can_sue and day >= invoice.due_day + rules.legal_offset:
            return Decision((rules.legal if invoice.balance >= rules.legal_min else Action.write_off(),), None)
        if write_off_due or invoice.was_in_court:
            return Decision((Action.write_off(),), None)
        return Decision((), rules.next_review(invoice, day))


def _onboarding_rule(onboarding: Onboarding) -> tuple[float, int, int] | None:
    """The engine's view of an onboarding policy: refuse reports above the threshold, the cost, the limit."""
    limit = round(100 * onboarding.credit_limit)
    if not onboarding.credit_check:
        return (math.inf, 0, limit) if limit else None
    keep = 1.0 - onboarding.refuse_share  # share of applicants taken on
    threshold = math.inf if keep >= 1 - 1e-15 else -math.inf if keep <= 1e-15 else float(normal_ppf(keep))
    return threshold, round(100 * onboarding.check_cost), limit
