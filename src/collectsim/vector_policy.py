"""The rule-based policy in array form: what ``RuleBasedPolicy`` decides, for many invoices at once.

The vectorised engine asks about a whole round of invoices in one call. The answers must be the
ones :class:`collectsim.rule_policy.RuleBasedPolicy` gives one invoice at a time, so this module
reads that policy's own per-segment rules (step offsets, the actions with their costs) and only
rewrites the walk over them as array operations. The equivalence tests hold the two together.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .decisions import ActionKind
from .rule_policy import RuleBasedPolicy

NEVER = 1 << 62
_FAR = 1 << 40  # a padded step offset that never matches a day and never is the next review


class VectorPolicy:
    """Per-segment arrays of a :class:`RuleBasedPolicy`'s ladder, write-off age and plan offer.

    Given several policies, the arrays hold each policy's segments one policy after another: the rules of
    segment s under policy k are at *policy segment* k x (number of segments) + s.
    """

    def __init__(self, policy: RuleBasedPolicy | Sequence[RuleBasedPolicy]) -> None:
        policies = [policy] if isinstance(policy, RuleBasedPolicy) else list(policy)
        # The policies' own resolved rules: the same numbers, not a re-reading of the spec.
        rules = [r for p in policies for r in p._rules]
        self.rules = rules
        width = max([len(r.offsets) for r in rules] + [1])
        n = len(rules)
        self.offsets = np.full((n, width), _FAR, dtype=np.int64)
        self.channel = np.full((n, width), -1, dtype=np.int64)
        self.tone = np.full((n, width), -1, dtype=np.int64)
        self.cost = np.zeros((n, width), dtype=np.int64)
        for i, r in enumerate(rules):
            for j, (offset, action) in enumerate(zip(r.offsets, r.reminders)):
                assert action.kind is ActionKind.REMIND
                self.offsets[i, j] = offset
                self.channel[i, j], self.tone[i, j], self.cost[i, j] = action.channel, action.tone, action.cost
        self.has_step = self.offsets != _FAR
        self.pause = np.array([r.pause_on_dispute for r in rules], dtype=bool)
        self.write_off_age = np.array([r.write_off_age for r in rules], dtype=np.int64)
        self.discount_rate = np.array([r.issue_actions[0].rate if r.issue_actions else 0.0 for r in rules])
        self.discount_window = np.array([r.issue_actions[0].window_days if r.issue_actions else 0 for r in rules],
                                        dtype=np.int64)
        self.offers_discount = np.array([bool(r.issue_actions) for r in rules], dtype=bool)
        self.plan_offset = np.array([-1 if r.plan_offset is None else r.plan_offset for r in rules], dtype=np.int64)
        self.plan_offered = np.array([r.plan_offset is not None for r in rules], dtype=bool)
        choices = ("resume", "restart", "escalate", "write_off")
        self.on_default = np.array([choices.index(r.plan_on_default) for r in rules], dtype=np.int64)
        self.terms_on_default = np.array([choices.index(r.terms_on_default) for r in rules], dtype=np.int64)
        self.terms_offered = np.array([r.terms_offset is not None for r in rules], dtype=bool)
        self.terms_offset = np.array([0 if r.terms_offset is None else r.terms_offset for r in rules], dtype=np.int64)
        steps = max([len(r.terms_offer.milestones) for r in rules] + [1])
        self.milestones = np.array([len(r.terms_offer.milestones) for r in rules], dtype=np.int64)
        self.milestone_day = np.zeros((n, steps), dtype=np.int64)
        self.milestone_share = np.zeros((n, steps), dtype=np.float64)
        for i, r in enumerate(rules):
            for j, (after, share) in enumerate(r.terms_offer.milestones):
                self.milestone_day[i, j], self.milestone_share[i, j] = after, share
        self.on_request = np.array([r.plan_on_request for r in rules], dtype=bool)

        def offset(name: str) -> tuple[np.ndarray, np.ndarray]:
            values = [getattr(r, name) for r in rules]
            return (np.array([v is not None for v in values], dtype=bool),
                    np.array([0 if v is None else v for v in values], dtype=np.int64))

        self.fee_on, self.fee_offset = offset("fee_offset")
        self.settle_on, self.settle_offset = offset("settle_offset")
        self.mediation_on, self.mediation_after = offset("mediation_after")
        self.agency_on, self.agency_offset = offset("agency_offset")
        self.legal_on, self.legal_offset = offset("legal_offset")
        self.legal_min = np.array([r.legal_min for r in rules], dtype=np.int64)
        # Which levers any segment uses at all (array work for the others is skipped; the answers are the same).
        self.uses = {name: bool(getattr(self, name).any()) for name in (
            "plan_offered", "terms_offered", "fee_on", "settle_on", "mediation_on", "agency_on", "legal_on")}
        self.uses["escalation"] = self.uses["agency_on"] or self.uses["legal_on"]

    def on_default_of(self, seg: np.ndarray, terms: np.ndarray) -> np.ndarray:
        """What the policy does when the invoice's plan or extended terms break (``_SegmentRules.on_default``)."""
        return np.where(terms, self.terms_on_default[seg], self.on_default[seg])

    def ladder_start(self, seg: np.ndarray, due: np.ndarray, broken: np.ndarray, terms: np.ndarray) -> np.ndarray:
        """Day the reminder offsets count from (``_SegmentRules.ladder_start``)."""
        return np.where((broken >= 0) & (self.on_default_of(seg, terms) == 1), broken, due)

    def next_review(self, seg: np.ndarray, due: np.ndarray, broken: np.ndarray, had_plan: np.ndarray,
                    after: np.ndarray | int, state: dict[str, np.ndarray]) -> np.ndarray:
        """First step, plan-offer or write-off day strictly after ``after`` (NEVER if none).

        The array form of ``_SegmentRules.next_review``.
        """
        after = np.broadcast_to(np.asarray(after, dtype=np.int64), seg.shape)
        start = self.ladder_start(seg, due, broken, state["plan_terms"])
        days = start[:, None] + self.offsets[seg]
        days = np.where(self.has_step[seg] & (days > after[:, None]), days, NEVER).min(axis=1, initial=NEVER)
        if self.uses["plan_offered"]:
            plan_day = due + self.plan_offset[seg]
            plan = self.plan_offered[seg] & ~had_plan & (plan_day > after)
            days = np.where(plan, np.minimum(days, plan_day), days)
        for name, day_of, done in (("terms_offered", self.terms_offset, "had_terms"),
                                   ("fee_on", self.fee_offset, "fees_claimed"),
                                   ("settle_on", self.settle_offset, "had_settlement_offer"),
                                   ("agency_on", self.agency_offset, "was_at_agency"),
                                   ("legal_on", self.legal_offset, "was_in_court")):
            if self.uses[name]:
                lever_day = due + day_of[seg]
                lever = getattr(self, name)[seg] & ~state[done] & (lever_day > after)
                days = np.where(lever, np.minimum(days, lever_day), days)
        if self.uses["mediation_on"]:
            mediation = self.mediation_on[seg] & state["disputed"] & ~state["mediated"]
            mediation_day = np.maximum(state["disputed_since"] + self.mediation_after[seg], after + 1)
            days = np.where(mediation, np.minimum(days, mediation_day), days)
        write_off_day = due + self.write_off_age[seg]
        return np.where(write_off_day > after, np.minimum(days, write_off_day), days)

    def step_today(self, seg: np.ndarray, start: np.ndarray, day: int) -> np.ndarray:
        """Index of the first step dated ``day`` (the one the policy takes), -1 if none."""
        hit = self.has_step[seg] & (start[:, None] + self.offsets[seg] == day)
        return np.where(hit.any(axis=1), hit.argmax(axis=1), -1)
