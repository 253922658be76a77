"""The rule-based decision maker: a policy file's ladder of steps, applied day by day.

It keeps no memory of its own: what to do on a day follows from the invoice's due date, whether it
is disputed, and the version of the policy (the profile) chosen for it when it was issued: the first of the
policy's targets that the customer's standing on the ledger met then, or the base policy. The decision itself is
:func:`collectsim.model.policy_tables.rule_decision`, the one function the compiled engine also runs; this
class only reads the policy's tables as plain lists and turns action codes into :class:`Action` values.
"""

from __future__ import annotations

from collectsim.config.policy_spec import CHANNELS, TONES, PolicySpec
from collectsim.config.scenario import Scenario
from collectsim.model.decisions import Action, Decision, DecisionMaker, InvoiceView, Point, Standing
from collectsim.model.policy_tables import (
    A_AGENCY,
    A_DISCOUNT,
    A_FEES,
    A_LEGAL,
    A_MEDIATE,
    A_PLAN,
    A_SETTLE,
    A_TERMS,
    A_WRITE_OFF,
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
    MAX_ACTIONS,
    MEDIATION_COST,
    N_MILESTONES,
    N_STEPS,
    NO_REVIEW,
    ONBOARDING_COST,
    ONBOARDING_LIMIT,
    ONBOARDING_THRESHOLD,
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
    PolicyTables,
    choose_target,
    next_review,
    profile_row,
    rule_decision,
    tables_of,
)


def segment_actions(tables: PolicyTables, s: int) -> dict[int, Action]:
    """Every action the policy can take on the invoices of profile ``s`` (a row of the tables), by action code."""
    ints, floats = tables.ints[s].tolist(), tables.floats[s].tolist()
    actions = {
        A_DISCOUNT: Action.offer_discount(floats[DISCOUNT_RATE], ints[DISCOUNT_WINDOW]),
        A_WRITE_OFF: Action.write_off(),
        A_PLAN: Action.offer_plan(CHANNELS[ints[PLAN_CHANNEL]], ints[PLAN_COST], ints[PLAN_INSTALMENTS],
                                  ints[PLAN_INTERVAL], floats[PLAN_DOWN], ints[PLAN_TOLERANCE]),
        A_TERMS: Action.offer_terms(CHANNELS[ints[TERMS_CHANNEL]], ints[TERMS_COST],
                                    tuple(zip(tables.milestone_days[s, :ints[N_MILESTONES]].tolist(),
                                              tables.milestone_share[s, :ints[N_MILESTONES]].tolist()))),
        A_FEES: Action.claim_fees(floats[FEE_RATE], ints[FEE_COMPENSATION]),
        A_SETTLE: Action.offer_settlement(floats[SETTLE_FORGIVE], CHANNELS[ints[SETTLE_CHANNEL]], ints[SETTLE_COST]),
        A_MEDIATE: Action.mediate(ints[MEDIATION_COST]),
        A_AGENCY: Action.place_with_agency(floats[AGENCY_FEE]),
        A_LEGAL: Action.file_legal(ints[LEGAL_COST], floats[COURT_FEE_RATE], floats[COSTS_RECOVERABLE]),
    }
    for k in range(ints[N_STEPS]):
        actions[ACTION_STRIDE * k] = Action.remind(CHANNELS[int(tables.step_channel[s, k])],
                                                   TONES[int(tables.step_tone[s, k])], int(tables.step_cost[s, k]))
    return actions


class RuleBasedPolicy(DecisionMaker):
    """Decision maker for a :class:`PolicySpec`, with per-segment overrides applied."""

    def __init__(self, spec: PolicySpec, scenario: Scenario) -> None:
        self.spec = spec
        self.name = spec.name
        self.tables = tables_of(spec, scenario)
        n = len(self.tables.ints)  # profiles: (segment, target) pairs
        self.reads_standing = len(spec.targets) > 0
        self._selectors = self.tables.selectors.tolist()
        self._ints = [self.tables.ints[s].tolist() for s in range(n)]
        self._offsets = [self.tables.step_offset[s].tolist() for s in range(n)]
        self._actions = [segment_actions(self.tables, s) for s in range(n)]
        self._out = [0] * MAX_ACTIONS

    def profile(self, segment: int, standing: Standing | None) -> int:
        """The row of the segment's policy for the first target the customer's standing meets (the base's if none)."""
        if standing is None:
            return profile_row(self._selectors, segment, 0)
        return profile_row(self._selectors, segment, choose_target(self._selectors, *standing))

    def plan_on_request(self, profile: int) -> Action | None:
        """The plan granted when a strained customer asks for one (None: requests are refused)."""
        return self._actions[profile][A_PLAN] if self._ints[profile][PLAN_ON_REQUEST] else None

    def onboarding(self, profile: int) -> tuple[float, int, int] | None:
        """(refusal threshold on the credit report, check cost in cents, credit limit in cents or 0), or None."""
        ints = self._ints[profile]
        if not ints[HAS_ONBOARDING]:
            return None
        return (float(self.tables.floats[profile, ONBOARDING_THRESHOLD]), ints[ONBOARDING_COST],
                ints[ONBOARDING_LIMIT])

    def credit_hold_after(self, profile: int) -> int | None:
        """Days past due beyond which the profile's customers are refused new orders (None: never)."""
        ints = self._ints[profile]
        return ints[HOLD_AFTER] if ints[HAS_HOLD] else None

    def invoicing(self, profile: int) -> tuple[bool, bool]:
        """(clear terms, electronic invoicing) for the profile's invoices."""
        ints = self._ints[profile]
        return bool(ints[CLEAR_TERMS]), bool(ints[E_INVOICING])

    def contact_gap(self, profile: int) -> int:
        """The policy's least days between two contacts (for an invoice of the profile)."""
        return self._ints[profile][CONTACT_GAP]

    def decide(self, point: Point, day: int, invoice: InvoiceView, goodwill: float) -> Decision:
        s = invoice.profile
        out = self._out
        n, review = rule_decision(self._ints[s], self._offsets[s], out, int(point), day, invoice.due_day,
                                  invoice.balance, invoice.disputed, invoice.in_plan, invoice.had_plan,
                                  invoice.had_terms, invoice.plan_terms, invoice.fees_claimed,
                                  invoice.had_settlement_offer, invoice.disputed_since, invoice.mediated,
                                  invoice.was_at_agency, invoice.was_in_court, invoice.plan_broken_day)
        actions = self._actions[s]
        return Decision(tuple(actions[out[k]] for k in range(n)), None if review == NO_REVIEW else review)

    def next_review(self, invoice: InvoiceView, after_day: int) -> int | None:
        """The policy's next review day of ``invoice`` strictly after ``after_day`` (None: none)."""
        s = invoice.profile
        review = next_review(self._ints[s], self._offsets[s], after_day, invoice.due_day, invoice.disputed,
                             invoice.had_plan, invoice.had_terms, invoice.plan_terms, invoice.fees_claimed,
                             invoice.had_settlement_offer, invoice.disputed_since, invoice.mediated,
                             invoice.was_at_agency, invoice.was_in_court, invoice.plan_broken_day)
        return None if review == NO_REVIEW else review
