"""The vectorised engine's levers beyond the core: plans, extended terms, fees, settlements, escalation.

A mixin of :class:`collectsim.vector_engine.VectorEngine`, split off to keep each module to one concept:
each method is the array form of the SimPy engine's method of the same name (``_offer_plan``,
``_agree_plan``, ``_pay_instalment``, ``_end_escalation``, ``_claim_fees``, ``_accrue_interest``,
``_settle_fees``, ``_offer_settlement``, ``_mediate``, ``_escalate``), applied to a round of invoices of
distinct customers, with the same draws and the same arithmetic.
"""

from __future__ import annotations

import numpy as np

from . import behaviour as rules
from .decisions import Point
from .draws import Purpose, exponential
from .eventlog import EventKind
from .liquidity import HEALTHY
from .vector_policy import NEVER

PHASE_CHURN, PHASE_ORDER, PHASE_RESOLVE, PHASE_PAY, PHASE_DISPUTE, PHASE_REVIEW = -1, 0, 1, 2, 3, 4


class LeverActions:
    """Plans, extended terms, fees and interest, settlements, mediation, agency and court, for arrays."""

    # --- fees and interest ----------------------------------------------------------------------------

    def _accrue(self, ix: np.ndarray, day: int) -> None:
        """Simple statutory interest on the unpaid principal up to ``day`` (``SimpyEngine._accrue_interest``)."""
        v = self._inv
        m = ix[v.fees_claimed[ix] & (day > v.interest_day[ix])]
        if len(m):
            v.interest[m] = v.interest[m] + v.balance[m] * v.fee_rate[m] * (day - v.interest_day[m]) / 365.0
            v.interest_day[m] = day

    def _settle_fees(self, ix: np.ndarray, day: int, paying: bool, phase: int, k1, sub: int, g=None) -> None:
        """Claimed fees are paid with the principal (by chance) or waived (``SimpyEngine._settle_fees``)."""
        v = self._inv
        m = v.fees_claimed[ix]
        if not m.any():
            return
        sel = ix[m]
        k1 = np.broadcast_to(np.asarray(k1), ix.shape)[m]
        owed = v.fee_compensation[sel] + np.maximum(0, np.rint(v.interest[sel]).astype(np.int64))
        v.fees_claimed[sel] = False
        g = self._goodwill_on(v.cust[sel], day) if g is None else np.broadcast_to(g, ix.shape)[m]
        pays = np.zeros(len(sel), dtype=bool)
        if paying:
            pays = self._u(Purpose.FEE_PAYMENT, v.cust[sel], v.seq[sel]) < \
                self._seg["fee_payment_share"][v.seg[sel]]
        kind = np.where(pays, int(EventKind.FEES_PAID), int(EventKind.FEES_WAIVED))
        self._record(day, phase, v.cust[sel], k1, sub, kind, v.row[sel], owed, before=g, after=g)

    # --- plans, extended terms and escalations ending (phase 2) ----------------------------------------

    def _instalment(self, ix: np.ndarray, day: int) -> None:
        """An instalment falls due: paid (the next is scheduled) or missed (tried again, or the plan breaks)."""
        v, b = self._inv, self._b
        cx = v.cust[ix]
        g = self._goodwill_on(cx, day)
        self._accrue(ix, day)
        ok = self._u(Purpose.INSTALMENT, v.cust[ix], v.seq[ix], v.plan_attempts[ix]) < \
            self._seg["instalment_reliability"][v.seg[ix]]
        v.plan_attempts[ix] += 1
        p = ix[ok]
        if len(p):
            down = v.plan_down[p]
            balance = v.balance[p]
            left = v.plan_left[p]
            regular = np.where(left <= 1, balance, balance // np.maximum(left, 1))
            terms = v.plan_terms[p]
            if terms.any():  # extended terms: this milestone's share of the balance agreed, the rest at the last
                P, pseg = self.policy, v.pseg[p]
                k = np.clip(P.milestones[pseg] - left, 0, P.milestone_share.shape[1] - 1)
                share = rules.share_of(np.maximum(v.plan_base[p], 1), P.milestone_share[pseg, k])
                regular = np.where(terms & (left > 1), share, regular)
            amount = np.where(down > 0, down, regular)
            v.plan_left[p] = np.where(down > 0, left, left - 1)
            v.plan_down[p] = 0
            amount = np.maximum(1, np.minimum(amount, balance))
            v.balance[p] = balance - amount
            v.payments[p] += 1
            self._record(day, PHASE_PAY, cx[ok], v.seq[p], 2, EventKind.PAYMENT, v.row[p], amount, before=g[ok],
                         after=g[ok])
            done = p[v.balance[p] == 0]
            v.in_plan[done] = False
            self._settle_fees(done, day, True, PHASE_PAY, v.seq[done], 3)
            left = v.plan_left[p]
            next_day = day + v.plan_interval[p]
            milestone = v.plan_terms[p] & (left > 0)
            if milestone.any():
                P, pseg = self.policy, v.pseg[p]
                k = np.clip(P.milestones[pseg] - left, 0, P.milestone_day.shape[1] - 1)
                next_day = np.where(milestone, v.plan_start[p] + P.milestone_day[pseg, k], next_day)
            v.plan_day[p] = next_day
        m = ix[~ok]
        if len(m):
            v.plan_missed[m] += 1
            self._record(day, PHASE_PAY, cx[~ok], v.seq[m], 4, EventKind.PLAN_MISSED, v.row[m], before=g[~ok],
                         after=g[~ok])
            tolerated = v.plan_missed[m] <= v.plan_tolerance[m]
            t = m[tolerated]
            v.plan_day[t] = day + v.plan_interval[t]
            br = m[~tolerated]
            v.in_plan[br] = False
            v.plan_day[br] = NEVER
            v.plan_broken_day[br] = day
            if b.set_aside_pay_days > 0 and len(br):
                late = self._set_aside_days(self._u(Purpose.PLAN_DEFAULT_PAY_DAY, v.cust[br], v.seq[br]))
                v.pay_day[br] = np.where(late >= 0, day + 1 + late, v.pay_day[br])
            before, after = self._change_goodwill(v.cust[br], b.plan_default_goodwill, day)
            self._record(day, PHASE_PAY, v.cust[br], v.seq[br], 5, EventKind.PLAN_DEFAULTED, v.row[br], v.balance[br],
                         before=before, after=after)
            v.pending[br] = int(Point.PLAN_DEFAULTED)
            v.review_day[br] = day

    def _end_escalation(self, ix: np.ndarray, day: int) -> None:
        """The agency or court is done: the balance is collected (cash, gross), or the policy decides again."""
        v = self._inv
        cx = v.cust[ix]
        g = self._goodwill_on(cx, day)
        agency = v.escalation[ix] == 1
        v.escalation[ix] = 0
        v.escalation_day[ix] = NEVER
        self._accrue(ix, day)
        pays = v.escalation_pays[ix]
        p = ix[pays]
        amount = v.balance[p]
        fee = np.where(agency[pays], np.rint(amount * v.agency_fee[p]).astype(np.int64), 0)
        kind = np.where(agency[pays], int(EventKind.AGENCY_COLLECTED), int(EventKind.LEGAL_COLLECTED))
        v.balance[p] = 0
        self._record(day, PHASE_PAY, cx[pays], v.seq[p], 6, kind, v.row[p], amount, cost=fee, before=g[pays],
                     after=g[pays])
        self._settle_fees(p, day, True, PHASE_PAY, v.seq[p], 7)
        n = ix[~pays]
        kind = np.where(agency[~pays], int(EventKind.AGENCY_RETURNED), int(EventKind.LEGAL_ENDED))
        self._record(day, PHASE_PAY, cx[~pays], v.seq[n], 8, kind, v.row[n], v.balance[n], before=g[~pays],
                     after=g[~pays])
        v.pending[n] = int(Point.ESCALATION_ENDED)
        v.review_day[n] = day
        late = n[v.disputed[n] & (v.resolve_day[n] <= day)]
        v.resolve_day[late] = day + 1  # see SimpyEngine._end_escalation

    # --- policy actions beyond reminders and write-offs (phase 4) ---------------------------------------

    def _offer_plan(self, ix: np.ndarray, day: int, terms: np.ndarray) -> None:
        """Propose a plan (or extended terms); if the customer agrees, payments replace its own intentions."""
        v = self._inv
        seg = v.seg[ix]
        g = self._goodwill_on(v.cust[ix], day)
        offers = [self.policy.rules[s].terms_offer if t else self.policy.rules[s].plan_offer
                  for s, t in zip(v.pseg[ix].tolist(), terms.tolist())]
        channel = np.array([a.channel for a in offers], dtype=np.int64)
        tone = np.array([a.tone for a in offers], dtype=np.int64)
        cost = np.array([a.cost for a in offers], dtype=np.int64)
        kind = np.where(terms, int(EventKind.TERMS_OFFERED), int(EventKind.PLAN_OFFERED))
        self._record(day, PHASE_REVIEW, v.cust[ix], v.seq[ix], 10, kind, v.row[ix], 0, channel, tone, cost, g, g,
                     self._minutes_call)
        v.had_terms[ix[terms]] = True
        v.had_plan[ix[~terms]] = True
        acceptance = self._seg["plan_acceptance"][seg]
        strained = self._liquidity_on(v.cust[ix], day) != HEALTHY
        acceptance = np.where(strained, np.minimum(1.0, acceptance + self._b.strained_plan_acceptance), acceptance)
        agrees = ~v.disputed[ix] & ~v.in_plan[ix] & ~(
            self._u(Purpose.PLAN_ACCEPTANCE, v.cust[ix], v.seq[ix]) >= acceptance)
        if agrees.any():
            self._agree_plan(ix[agrees], day, 11, terms[agrees])

    def _agree_plan(self, ix: np.ndarray, day: int, sub: int, terms: np.ndarray | None = None) -> None:
        """The customer is on the segment's plan (or extended terms): its payments replace its own intentions."""
        v = self._inv
        terms = np.zeros(len(ix), dtype=bool) if terms is None else terms
        before, after = self._change_goodwill(v.cust[ix], self._b.plan_goodwill, day)
        kind = np.where(terms, int(EventKind.TERMS_AGREED), int(EventKind.PLAN_AGREED))
        self._record(day, PHASE_REVIEW, v.cust[ix], v.seq[ix], sub, kind, v.row[ix], v.balance[ix],
                     before=before, after=after)
        plans = [self.policy.rules[s].terms_offer if t else self.policy.rules[s].plan_offer
                 for s, t in zip(v.pseg[ix].tolist(), terms.tolist())]
        v.in_plan[ix] = True
        v.pay_day[ix] = NEVER
        v.review_day[ix] = NEVER
        v.plan_left[ix] = [a.instalments for a in plans]
        interval = np.array([a.interval_days for a in plans], dtype=np.int64)
        v.plan_interval[ix] = interval
        v.plan_tolerance[ix] = [a.tolerance for a in plans]
        v.plan_missed[ix] = 0
        v.plan_attempts[ix] = 0
        v.plan_terms[ix] = terms
        down = np.array([a.down_payment for a in plans], dtype=np.float64)
        balance = v.balance[ix]
        with_down = ~terms & (down > 0) & (balance >= 2)
        share = rules.share_of(np.maximum(balance, 1), np.where(with_down, down, 0.5))
        v.plan_down[ix] = np.where(with_down, np.minimum(share, balance - 1), 0)
        first = np.array([a.milestones[0][0] if a.milestones else 0 for a in plans], dtype=np.int64)
        v.plan_day[ix] = np.where(terms, day + first, np.where(with_down, day + 1, day + interval))
        t = ix[terms]
        v.plan_start[t] = day
        v.plan_base[t] = v.balance[t]

    def _claim_fees(self, ix: np.ndarray, day: int) -> None:
        """Claim compensation now and interest from the due date (once per invoice)."""
        v = self._inv
        ix = ix[~v.fees_claimed[ix]]
        if len(ix) == 0:
            return
        claims = [self.policy.rules[s].fee_claim for s in v.pseg[ix].tolist()]
        v.fees_claimed[ix] = True
        v.fee_rate[ix] = [a.interest_rate for a in claims]
        compensation = np.array([a.compensation for a in claims], dtype=np.int64)
        v.fee_compensation[ix] = compensation
        v.interest_day[ix] = v.due[ix]
        self._accrue(ix, day)
        before, after = self._change_goodwill(v.cust[ix], self._b.fee_goodwill, day)
        self._record(day, PHASE_REVIEW, v.cust[ix], v.seq[ix], 30, EventKind.FEES_CLAIMED, v.row[ix], compensation,
                     before=before, after=after, minutes=self._minutes_letter)

    def _offer_settlement(self, ix: np.ndarray, day: int) -> None:
        """Offer to forgive part of the balance; if accepted the customer pays the rest soon."""
        v = self._inv
        offers = [self.policy.rules[s].settle_offer for s in v.pseg[ix].tolist()]
        v.had_settlement_offer[ix] = True
        accepted = ~v.disputed[ix] & ~v.in_plan[ix] & (
            self._u(Purpose.SETTLEMENT_ACCEPTANCE, v.cust[ix], v.seq[ix])
            < self._seg["settlement_acceptance"][v.seg[ix]])
        before, after = self._change_goodwill(v.cust[ix], np.where(accepted, self._b.settlement_goodwill, 0.0), day)
        self._record(day, PHASE_REVIEW, v.cust[ix], v.seq[ix], 40, EventKind.SETTLEMENT_OFFERED, v.row[ix], 0,
                     [a.channel for a in offers], [a.tone for a in offers], [a.cost for a in offers], before, after,
                     self._minutes_letter)
        a = ix[accepted]
        if len(a):
            v.settle_forgive[a] = [o.forgive for o, ok in zip(offers, accepted) if ok]
            delay = exponential(self._u(Purpose.SETTLEMENT_DELAY, v.cust[a], v.seq[a]),
                                self._b.response_delay_days)
            v.pay_day[a] = np.minimum(v.pay_day[a], day + 1 + delay.astype(np.int64))

    def _mediate(self, ix: np.ndarray, day: int) -> None:
        """A mediator hears the dispute; if it works, the dispute ends within the mediation's length."""
        v, b = self._inv, self._b
        ix = ix[v.disputed[ix] & ~v.mediated[ix]]
        if len(ix) == 0:
            return
        v.mediated[ix] = True
        cost = [self.policy.rules[s].mediation.cost for s in v.pseg[ix].tolist()]
        before, after = self._change_goodwill(v.cust[ix], b.mediation_goodwill, day)
        self._record(day, PHASE_REVIEW, v.cust[ix], v.seq[ix], 50, EventKind.MEDIATION, v.row[ix], 0, cost=cost,
                     before=before, after=after, minutes=self._minutes_letter)
        works = self._u(Purpose.MEDIATION, v.cust[ix], v.seq[ix]) < b.mediation_success
        m = ix[works]
        if len(m):
            length = exponential(self._u(Purpose.MEDIATION_DAYS, v.cust[m], v.seq[m]), b.mediation_days)
            v.resolve_day[m] = np.minimum(v.resolve_day[m], day + 1 + length.astype(np.int64))

    def _escalate(self, ix: np.ndarray, day: int, agency: bool) -> None:
        """Hand invoices to an agency or to court; the outcome and its day are drawn now."""
        v, b = self._inv, self._b
        seg = v.seg[ix]
        cx, seq = v.cust[ix], v.seq[ix]
        actions = [self.policy.rules[s].agency if agency else self.policy.rules[s].legal for s in v.pseg[ix].tolist()]
        before, after = self._change_goodwill(v.cust[ix], b.agency_goodwill if agency else b.legal_goodwill, day)
        kind = EventKind.AGENCY_PLACED if agency else EventKind.LEGAL_FILED
        self._record(day, PHASE_REVIEW, v.cust[ix], seq, 60, kind, v.row[ix], v.balance[ix],
                     cost=[a.cost for a in actions], before=before, after=after, minutes=self._minutes_letter)
        v.pay_day[ix] = NEVER
        v.dispute_day[ix] = NEVER
        v.review_day[ix] = NEVER
        recover = self._seg["recoverability"][seg]
        if agency:
            v.escalation[ix] = 1
            v.was_at_agency[ix] = True
            v.agency_fee[ix] = [a.rate for a in actions]
            collects = self._u(Purpose.AGENCY, cx, seq) < np.minimum(1.0, b.agency_success * recover)
            days = 1 + exponential(self._u(Purpose.AGENCY_DAYS, cx, seq), b.agency_days).astype(np.int64)
            pays = collects & (days <= b.agency_max_days)
            v.escalation_pays[ix] = pays
            v.escalation_day[ix] = day + np.where(pays, days, b.agency_max_days)
        else:
            v.escalation[ix] = 2
            v.was_in_court[ix] = True
            wins = self._u(Purpose.JUDGMENT, cx, seq) < b.judgment_success
            paid = self._u(Purpose.JUDGMENT_PAID, cx, seq) < np.minimum(1.0, b.judgment_paid_share * recover)
            v.escalation_pays[ix] = wins & paid
            v.escalation_day[ix] = day + 1 + exponential(self._u(Purpose.LEGAL_DAYS, cx, seq),
                                                         b.legal_days).astype(np.int64)
        self._note_spill(ix, agency)
