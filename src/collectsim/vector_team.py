"""The vectorised engine's team queue and reputation spill-over: where customers meet.

A mixin of :class:`collectsim.vector_engine.VectorEngine`. Everywhere else the customers of a run are
independent within a phase, so the engine handles a phase in rounds (the k-th due invoice of every
customer at once). Two things couple them, and this module keeps the SimPy engine's order for both:

* **A limited team** (``[team] staff`` > 0). Actions that take staff time join a queue, and after the
  day's reviews the team serves it from the day's minutes in the order of
  :meth:`collectsim.engine.SimpyEngine._serve`: class, request day, customer, invoice, strictly, so the
  first item that does not fit ends the day. Which items fit depends on the ones before them (an item no
  longer needed is dropped and takes no time), so the day's service is found in *passes*: assume every
  item still needed today is served, take the longest prefix that fits each run's minutes, carry it out,
  and look again from where it stopped, now with what was really used and what is really still needed.
  Within a pass the items of different customers are independent, so they are carried out in rounds again
  (the k-th served item of every customer), each customer's in queue order.
* **Reputation spill-over.** An escalation moves the goodwill of the segment's other customers at once,
  so it must fall between the events before it and after it in the SimPy engine's order. A phase's events
  are therefore cut into *blocks* that end at a possible escalation; each block runs in rounds, and the
  spill-over of the escalations carried out in it is applied before the next block starts.
"""

from __future__ import annotations

import numpy as np

from .decisions import Point
from .eventlog import EventKind
from .vector_levers import PHASE_REVIEW

PHASE_TEAM = 5
# Work classes served first to last (as in the SimPy engine) and what an item of the queue asks for.
WORK_DISPUTE, WORK_CALL, WORK_LETTER, WORK_EMAIL = range(4)
A_DISPUTE, A_REMIND, A_PLAN, A_FEE, A_SETTLE, A_MEDIATE, A_AGENCY, A_LEGAL = range(8)
# The queue: one row of int64 per field (a column per item), kept in service order (run, class, request
# day, customer, invoice, the decision's order), and the items' minutes beside it.
F_REP, F_CLS, F_REQ, F_CX, F_SEQ, F_DEC, F_INV, F_ACT, F_ARG = range(9)
_ESCALATIONS = (A_AGENCY, A_LEGAL)
_FIRST_LOOK = 64  # items per run looked at in a pass at first (doubled while whole prefixes fit)


class TeamQueue:
    """The limited team's queue and reputation spill-over, for arrays of runs."""

    def _init_team(self) -> None:
        team = self.scenario.team
        self._daily = team.daily_minutes  # None: unlimited capacity, nothing queues
        self._minutes_dispute = float(team.minutes_dispute)
        self._serving = False
        n = len(self.rep)
        self._serve_pos = np.zeros(n, dtype=np.int64)
        self._serve_wait = np.zeros(n, dtype=np.int64)
        self._qi = np.zeros((9, 0), dtype=np.int64)
        self._qm = np.zeros(0)
        self._queue_parts: list[tuple[np.ndarray, np.ndarray]] = []
        minutes = [team.minutes_call, team.minutes_letter, team.minutes_email, team.minutes_dispute]
        self._whole_minutes = self._daily is None or all(float(m).is_integer() for m in [self._daily, *minutes])
        self._spill = float(self._b.reputation_spillover)
        self._spill_pending: list[tuple] = []
        if self._spill > 0:
            members: dict[tuple[int, int], np.ndarray] = {}
            order = np.lexsort((np.arange(n), self.cseg, self.rep))
            keys = self.rep[order] * (len(self._segs) + 1) + self.cseg[order]
            cuts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1], True])
            for a, b in zip(cuts[:-1], cuts[1:]):
                members[(int(self.rep[order[a]]), int(self.cseg[order[a]]))] = order[a:b]
            self._members = members

    # --- queueing -------------------------------------------------------------------------------------

    def _queues(self, minutes: float) -> bool:
        """Whether an action taking ``minutes`` of staff time waits for the team (instead of being done now)."""
        return self._daily is not None and minutes > 0

    def _enqueue(self, ix: np.ndarray, day: int, act: int, arg, cls, minutes, dec: int) -> None:
        """Queue action ``act`` for invoices ``ix`` (``arg``: the reminder's step, or 1 for extended terms)."""
        v, n = self._inv, len(ix)
        items = np.empty((9, n), dtype=np.int64)
        items[F_REP], items[F_CLS], items[F_REQ] = v.rep[ix], cls, day
        items[F_CX], items[F_SEQ], items[F_DEC] = v.cust[ix], v.seq[ix], dec
        items[F_INV], items[F_ACT], items[F_ARG] = ix, act, arg
        self._queue_parts.append((items, np.broadcast_to(np.asarray(minutes, dtype=np.float64), n).copy()))

    def _merge_new_items(self) -> None:
        """Put the day's new items into the queue in service order.

        They were all asked for today, later than anything waiting, so each goes to the end of its run's
        class; among themselves they sort by customer, invoice and the decision's order.
        """
        items = np.concatenate([i for i, _ in self._queue_parts], axis=1)
        minutes = np.concatenate([m for _, m in self._queue_parts])
        self._queue_parts = []
        order = np.lexsort((items[F_DEC], items[F_SEQ], items[F_CX], items[F_CLS], items[F_REP]))
        items, minutes = items[:, order], minutes[order]
        old = self._qi[F_REP] * 4 + self._qi[F_CLS]
        at = np.searchsorted(old, items[F_REP] * 4 + items[F_CLS], side="right")
        self._qi = np.insert(self._qi, at, items, axis=1)
        self._qm = np.insert(self._qm, at, minutes)

    def _still_needed(self, inv: np.ndarray, act: np.ndarray) -> np.ndarray:
        """``SimpyEngine._still_needed``: a dispute not yet taken up; an action on an invoice still ours to chase."""
        v = self._inv
        dispute = act == A_DISPUTE
        chase = (v.balance[inv] > 0) & (v.escalation[inv] == 0) & ~(
            v.in_plan[inv] & ((act == A_REMIND) | (act == A_PLAN) | (act == A_SETTLE) | (act == A_AGENCY)
                              | (act == A_LEGAL)))
        return np.where(dispute, v.disputed[inv] & ~v.taken_up[inv], chase)

    # --- the team's day -------------------------------------------------------------------------------

    def _serve(self, day: int) -> None:
        """The team's day (phase 5): serve each run's queue from the day's minutes, strictly in order.

        Each pass looks at the next items of every run (a growing number), assumes every one still needed
        is served, and carries out those before the first that would not fit; the next pass starts there,
        with the minutes really used and what is really still needed. The day ends when no run can go on.
        """
        if self._queue_parts:
            self._merge_new_items()
        qi, qm = self._qi, self._qm
        n, runs = qm.shape[0], len(self.seeds)
        if n == 0:
            return
        rep = qi[F_REP]
        bounds = np.searchsorted(rep, np.arange(runs + 1))
        ends = bounds[1:]
        cut = bounds[:-1].copy()  # per run: the first item not yet served or dropped
        left = np.full(runs, float(self._daily))
        served: list[np.ndarray] = []
        look = _FIRST_LOOK
        while True:
            active = np.flatnonzero(cut < ends)
            if len(active) == 0:
                break
            first, lim = cut[active], np.minimum(cut[active] + look, ends[active])
            counts = lim - first
            pend = np.repeat(first - (np.cumsum(counts) - counts), counts) + np.arange(counts.sum())
            prep = rep[pend]
            needed = self._still_needed(qi[F_INV, pend], qi[F_ACT, pend])
            minutes = qm[pend]
            before = self._left_before(left, prep, np.where(needed, minutes, 0.0))
            fail = needed & (minutes > before) & (before < self._daily)
            stop = cut.copy()
            stop[active] = lim  # what was looked at all fits, unless an item before it does not
            np.minimum.at(stop, prep[fail], pend[fail])
            window = pend < stop[prep]
            if not window.any():
                break
            todo = pend[window & needed]
            done = self._carry_out(qi, todo, rep[todo], day)
            served.append(done)
            left = self._left_after(left, rep[done], qm[done])
            cut = stop
            look = min(2 * look, 1 << 16)
        keep = np.arange(n) >= cut[rep]
        self._qi, self._qm = qi[:, keep], qm[keep]
        if served:
            inv = qi[F_INV, np.concatenate(served)]
            back = np.unique(inv[~self._inv.listed[inv]])  # dropped from ``_open`` while nothing was due
            self._inv.listed[back] = True
            self._open = np.concatenate([self._open, back])

    def _left_before(self, left: np.ndarray, rep: np.ndarray, minutes: np.ndarray) -> np.ndarray:
        """Minutes left before each item (items in queue order, grouped by run), subtracted one by one.

        Whole minutes add up exactly in any order, so a cumulative sum serves; otherwise each run's items are
        subtracted in sequence, as the SimPy engine does, so the last bit agrees.
        """
        if len(rep) == 0:
            return np.zeros(0)
        if self._whole_minutes:
            total = np.cumsum(minutes)
            start = group_starts(rep)
            excl = total - minutes - (total[start] - minutes[start])
            return left[rep] - excl
        out = np.empty(len(rep))
        cuts = np.flatnonzero(np.r_[True, rep[1:] != rep[:-1], True])
        for a, b in zip(cuts[:-1], cuts[1:]):
            seq = np.subtract.accumulate(np.r_[left[rep[a]], minutes[a:b]])
            out[a:b] = seq[:-1]
        return out

    def _left_after(self, left: np.ndarray, rep: np.ndarray, minutes: np.ndarray) -> np.ndarray:
        """Each run's minutes left after the items served (in queue order, grouped by run)."""
        out = left.copy()
        if len(rep) == 0:
            return out
        before = self._left_before(left, rep, minutes)
        last = np.r_[rep[1:] != rep[:-1], True]
        out[rep[last]] = before[last] - minutes[last]
        return out

    def _carry_out(self, qi: np.ndarray, todo: np.ndarray, rep: np.ndarray, day: int) -> np.ndarray:
        """Serve items ``todo`` (queue positions, in order) that still need doing; return those served."""
        if len(todo) == 0:
            return todo
        blocks = self._blocks(rep, np.isin(qi[F_ACT, todo], _ESCALATIONS)) if self._spill > 0 else None
        served = []
        self._serving = True
        try:
            for block in ([todo] if blocks is None else [todo[blocks == b] for b in range(int(blocks.max()) + 1)]):
                for items in _rounds(block, qi[F_CX, block]):
                    items = items[self._still_needed(qi[F_INV, items], qi[F_ACT, items])]
                    if len(items) == 0:
                        continue
                    served.append(items)
                    self._serve_items(qi, items, day)
                self._apply_spill(day)
        finally:
            self._serving = False
        return np.sort(np.concatenate(served)) if served else np.zeros(0, dtype=np.int64)

    def _serve_items(self, qi: np.ndarray, items: np.ndarray, day: int) -> None:
        """Carry out one round of items (distinct customers), then let their invoices find their next event."""
        icx = qi[F_CX, items]
        self._serve_pos[icx] = items
        self._serve_wait[icx] = day - qi[F_REQ, items]
        act, inv, arg = qi[F_ACT, items], qi[F_INV, items], qi[F_ARG, items]
        for code in np.unique(act).tolist():
            m = act == code
            sel = inv[m]
            if code == A_DISPUTE:
                self._take_up_dispute(sel, day, self._minutes_dispute)
            elif code == A_REMIND:
                self._remind(sel, day, arg[m])
            elif code == A_PLAN:
                self._offer_plan(sel, day, arg[m] == 1)
            elif code == A_FEE:
                self._claim_fees(sel, day)
            elif code == A_SETTLE:
                self._offer_settlement(sel, day)
            elif code == A_MEDIATE:
                self._mediate(sel, day)
            else:
                self._escalate(sel, day, code == A_AGENCY)
        self._schedule(inv)

    def _take_up_dispute(self, ix: np.ndarray, day: int, minutes: float) -> None:
        """A collector takes up the dispute case: it can be resolved from the next day on."""
        v = self._inv
        v.taken_up[ix] = True
        v.resolve_day[ix] = np.maximum(v.resolve_day[ix], day + 1)
        g = self._goodwill_on(v.cust[ix], day)
        self._record(day, PHASE_REVIEW, v.cust[ix], v.seq[ix], 0, EventKind.DISPUTE_TAKEN_UP, v.row[ix], before=g,
                     after=g, minutes=minutes)

    # --- reputation spill-over ------------------------------------------------------------------------

    def _blocks(self, rep: np.ndarray, ends_block: np.ndarray) -> np.ndarray:
        """Block number of each item (items grouped by run, in order): a block ends at each item in ``ends_block``."""
        count = np.cumsum(ends_block) - ends_block
        return count - count[group_starts(rep)]

    def _may_escalate(self, ix: np.ndarray, day: int) -> np.ndarray:
        """Reviews that may hand an invoice to an agency or court now (a superset is fine: it only cuts blocks)."""
        v, P = self._inv, self.policy
        if self._queues(self._minutes_letter):
            return np.zeros(len(ix), dtype=bool)  # escalations wait for the team: no spill-over in phase 4
        pseg, due = v.pseg[ix], v.due[ix]
        return ((v.pending[ix] != int(Point.REVIEW))
                | (P.legal_on[pseg] & (day == due + P.legal_offset[pseg]))
                | (P.agency_on[pseg] & (day == due + P.agency_offset[pseg])))

    def _note_spill(self, ix: np.ndarray, agency: bool) -> None:
        """Remember escalations carried out now; their spill-over is applied at the end of the block."""
        if self._spill <= 0 or len(ix) == 0:
            return
        b = self._b
        cx = self._inv.cust[ix]
        pos = self._serve_pos[cx].copy() if self._serving else np.zeros(len(ix), dtype=np.int64)
        change = self._spill * (b.agency_goodwill if agency else b.legal_goodwill)
        self._spill_pending.append((cx, self._inv.seq[ix], np.full(len(ix), change), pos, self._serving))

    def _apply_spill(self, day: int) -> None:
        """``SimpyEngine._spill_over`` for the escalations of a block (at most one per run)."""
        if not self._spill_pending:
            return
        pending, self._spill_pending = self._spill_pending, []
        for cx, seq, change, pos, serving in pending:
            parts = []
            for c, s, ch, p in zip(cx.tolist(), seq.tolist(), change.tolist(), pos.tolist()):
                others = self._members[(int(self.rep[c]), int(self.cseg[c]))]
                others = others[(others != c) & (self.arrival[others] <= day) & ~self.refused[others]]
                parts.append((others, c, s, ch, p))
            if len(np.unique(self.rep[cx])) != len(cx):
                raise AssertionError("spill-over of two escalations of one run applied at once")
            others = np.concatenate([o for o, *_ in parts])
            self._advance(others, day)
            live = (self.churn_day[others] > day) & (self.insolvent_day[others] > day)
            counts = [len(o) for o, *_ in parts]
            source = np.repeat(np.arange(len(parts)), counts)
            others, source = others[live], source[live]
            before, after = self._change_goodwill(others, np.array([ch for _, _, _, ch, _ in parts])[source], day)
            moved = after != before
            others, source, before, after = others[moved], source[moved], before[moved], after[moved]
            if len(others) == 0:
                continue
            owner = np.array([c for _, c, _, _, _ in parts], dtype=np.int64)[source]
            k1 = np.array([s for _, _, s, _, _ in parts], dtype=np.int64)[source]
            at = np.array([p for *_, p in parts], dtype=np.int64)[source]
            self._record(day, PHASE_TEAM if serving else PHASE_REVIEW, others, k1, 60, EventKind.REPUTATION, -1,
                         before=before, after=after, pos=at, okey=owner, tail=1 + self.local[others])


def group_starts(keys: np.ndarray) -> np.ndarray:
    """For keys grouped into runs of equal values: the index where each element's run starts."""
    first = np.r_[True, keys[1:] != keys[:-1]]
    return np.maximum.accumulate(np.where(first, np.arange(len(keys)), 0))


def _rounds(items: np.ndarray, cx: np.ndarray):
    """Items (in order) as rounds: round k holds each customer's k-th item, so a customer's stay in order."""
    order = np.argsort(cx, kind="stable")
    rank = np.empty(len(items), dtype=np.int64)
    rank[order] = np.arange(len(cx)) - group_starts(cx[order])
    for k in range(int(rank.max()) + 1 if len(items) else 0):
        yield items[rank == k]
