"""What one account is worth after the collector's choice: the training desk's score, in money.

Think of the account as a small investment the collector manages for a year. What it returns is the cash
that comes in from the invoice, worth less the later it comes (the cost of capital), less what chasing it
cost; what it risks is the customer: goodwill lost makes a customer order less and leave sooner, and a
customer who leaves takes its lifetime margin with it. The desk values an account on the desk day as

    value = cash - costs + plan - relationship

each term in money, discounted to the desk day at ``economics.cost_of_capital``, with the model's own economics:

- ``cash``: what the customer (or an agency or a court for it) paid on the invoice within ``HORIZON_DAYS`` of
  the desk day: principal, and any statutory interest and compensation on top, each on the day it came in;
- ``costs``: the actions and escalations on the invoice in that time (reminders, calls, letters, mediator, agency
  fee, lawyer and court fee), less the court costs the debtor repaid with a judgment (``COSTS_RECOVERED``);
- ``plan``: a balance still in an agreed plan that has not defaulted at the horizon, at its expected recovery
  (``balance x instalment_reliability`` of the customer's segment), discounted from the horizon;
- ``relationship``: the customer's expected future margin lost because its goodwill sits below its baseline from
  the desk day on (negative: gained, above it). Goodwill's path is read from the run's events and relaxes toward
  the baseline between them (``behaviour.goodwill_recovery_days``) and after the run. It moves the churn hazard,
  ``h0 x exp(churn_goodwill_slope x gap)`` (h0 from the segment's ``churn_per_year``), so the expected margin lost
  to churn is the lifetime margin (:func:`collectsim.results.metrics.customer_lifetime_margin`, as net value
  counts a lost customer) times the extra chance of leaving on each day, discounted; and it moves the ordering
  rate, ``1 + order_goodwill_elasticity x (goodwill - baseline)``, so the margin of orders not placed is the
  yearly margin / 365 x that shortfall on each day the customer is still there. This is an expectation over the
  churn draw: whether this customer happened to leave in the run does not decide it.

Over ``RELATIONSHIP_DAYS`` (five goodwill time constants: the gap has shrunk to under 1%).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from collectsim.config.scenario import Scenario
from collectsim.model import behaviour as rules
from collectsim.results.eventlog import BALANCE_REDUCING, EventKind, EventLog
from collectsim.results.invoices import InvoiceTable
from collectsim.results.metrics import customer_lifetime_margin, discount_factors

#: Cash is counted this many days from the desk day (the desk's fixed horizon).
HORIZON_DAYS = 365
#: Days over which a goodwill change is followed (goodwill's gap to baseline shrinks by e every 180 days).
RELATIONSHIP_DAYS = 900
#: Kinds of event whose amount is cash on the invoice (principal; interest and compensation on top).
PRINCIPAL_KINDS = (EventKind.PAYMENT, EventKind.AGENCY_COLLECTED, EventKind.LEGAL_COLLECTED)
FEE_KINDS = (EventKind.FEES_PAID,)


@dataclass(frozen=True)
class AccountValue:
    """One account in one simulated future after the desk day: money in cents (discounted to the desk day where
    the name says so), and the plain figures the trainee reads."""

    cash: float  # discounted: principal and fees paid within the horizon
    costs: float  # discounted: action and escalation costs less costs the debtor repaid
    plan: float  # discounted: expected recovery of a balance still in a performing plan at the horizon
    relationship: float  # expected future margin lost to the goodwill gap (negative: gained)
    churn_margin: float  # the part of ``relationship`` from the churn hazard
    order_margin: float  # the part from fewer orders
    principal: int  # principal collected within the horizon (not discounted)
    fees: int  # interest and compensation paid within the horizon
    costs_paid: int  # action and escalation costs within the horizon (not discounted)
    costs_recovered: int  # court costs repaid by the debtor within the horizon
    written_off: int  # written off or lost to insolvency within the horizon
    open_at_horizon: int  # principal still open at the horizon
    days_to_settle: int  # days from the desk day until the balance was closed; -1: still open at the horizon
    last_cash_day: int  # days from the desk day to the last cash on the invoice within the horizon; -1: none
    churn_chance: float  # chance the customer leaves within RELATIONSHIP_DAYS, from its goodwill path
    goodwill_after_30_days: float
    plan_defaulted_day: int  # days from the desk day to a plan's default; -1: none

    @property
    def value(self) -> float:
        return self.cash - self.costs + self.plan - self.relationship


def goodwill_path(events: EventLog, customer: int, baseline: float, day: int, days: int, tau: float) -> np.ndarray:
    """The customer's goodwill at the end of each of ``days`` days from ``day``, from the run's events.

    After each event that moved it (``goodwill_after``), goodwill relaxes toward ``baseline`` with time constant
    ``tau``, as the engines do between events; before the first event, from the baseline.
    """
    mine = (events["customer"] == customer) & ~np.isnan(events["goodwill_after"])
    ev_days = events["day"][mine].astype(np.int64)
    after = events["goodwill_after"][mine]
    t = day + np.arange(days)
    last = np.searchsorted(ev_days, t, side="right") - 1  # the log is in day order
    anchor_day = np.where(last >= 0, ev_days[np.maximum(last, 0)], t)
    anchor = np.where(last >= 0, after[np.maximum(last, 0)], baseline)
    return baseline + (anchor - baseline) * np.exp(-(t - anchor_day) / tau)


def relationship_cost(scenario: Scenario, segment: int, baseline: float, goodwill: np.ndarray
                      ) -> tuple[float, float, float]:
    """(margin lost to churn, margin lost to fewer orders, chance of leaving), in cents discounted to the path's
    first day, of a customer whose goodwill follows ``goodwill`` (one value a day), against one at its baseline."""
    b, econ = scenario.behaviour, scenario.economics
    seg = scenario.portfolio.segments[segment]
    lifetime = float(customer_lifetime_margin(scenario, np.array([segment]))[0])
    daily_margin = seg.orders_per_year * seg.amount_median * np.exp(seg.amount_sigma**2 / 2) * 100.0 \
        * econ.gross_margin / 365.0
    factor = discount_factors(econ.cost_of_capital, np.arange(1, len(goodwill) + 1))
    h0 = rules.daily_churn_hazard(seg.churn_per_year)
    gap = baseline - goodwill

    def leaving(hazard: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        alive = np.exp(-np.cumsum(hazard))
        return alive, -np.diff(np.concatenate([[1.0], alive]))  # chance of leaving on each day

    alive, leave = leaving(h0 * np.exp(b.churn_goodwill_slope * gap))
    alive0, leave0 = leaving(np.full(len(gap), h0))
    churn = lifetime * float(((leave - leave0) * factor).sum())
    shortfall = 1.0 - np.maximum(0.0, 1.0 + b.order_goodwill_elasticity * (goodwill - baseline))
    orders = daily_margin * float((alive * shortfall * factor).sum())
    return churn, orders, float(1.0 - alive[-1])


def account_value(scenario: Scenario, invoices: InvoiceTable, events: EventLog, goodwill_baseline: np.ndarray,
                  row: int, day: int, horizon: int = HORIZON_DAYS) -> AccountValue:
    """The value of invoice ``row`` and its customer's relationship from ``day`` on, in one run (see the module)."""
    econ = scenario.economics
    rate = econ.cost_of_capital
    customer, segment = int(invoices["customer"][row]), int(invoices["segment"][row])
    kind, ev_day = events["kind"], events["day"].astype(np.int64)
    mine = (events["invoice"] == row) & (ev_day >= day) & (ev_day < day + horizon)
    k, when, amount, cost = kind[mine], ev_day[mine], events["amount"][mine], events["cost"][mine]
    factor = discount_factors(rate, when - day) if len(when) else np.empty(0)
    is_principal, is_fee = np.isin(k, PRINCIPAL_KINDS), np.isin(k, FEE_KINDS)
    is_cash = is_principal | is_fee
    recovered = k == EventKind.COSTS_RECOVERED
    cash = float((amount[is_cash] * factor[is_cash]).sum())
    costs = float((cost * factor).sum()) - float((amount[recovered] * factor[recovered]).sum())
    reduced = (events["invoice"] == row) & np.isin(kind, BALANCE_REDUCING) & (ev_day < day + horizon)
    open_at = int(invoices["amount"][row] - events["amount"][reduced].sum())
    closing = (events["invoice"] == row) & np.isin(kind, BALANCE_REDUCING) & (ev_day >= day)
    settled = int(ev_day[closing & reduced].max() - day) if open_at == 0 and np.any(closing & reduced) else -1
    agreed = np.any(k == EventKind.PLAN_AGREED)
    defaulted = when[k == EventKind.PLAN_DEFAULTED]
    plan = 0.0
    if open_at > 0 and agreed and not len(defaulted):
        reliability = scenario.portfolio.segments[segment].instalment_reliability
        plan = open_at * reliability * float(discount_factors(rate, np.array([horizon]))[0])
    baseline = float(goodwill_baseline[customer])
    tau = scenario.behaviour.goodwill_recovery_days
    path = goodwill_path(events, customer, baseline, day, RELATIONSHIP_DAYS, tau)
    churn, orders, leaves = relationship_cost(scenario, segment, baseline, path)
    lost = np.isin(k, (EventKind.WRITE_OFF, EventKind.INSOLVENCY_LOSS))
    return AccountValue(
        cash=cash, costs=costs, plan=plan, relationship=churn + orders, churn_margin=churn, order_margin=orders,
        principal=int(amount[is_principal].sum()), fees=int(amount[is_fee].sum()), costs_paid=int(cost.sum()),
        costs_recovered=int(amount[recovered].sum()), written_off=int(amount[lost].sum()), open_at_horizon=open_at,
        days_to_settle=settled, last_cash_day=int(when[is_cash].max() - day) if np.any(is_cash) else -1,
        churn_chance=leaves, goodwill_after_30_days=float(path[min(29, len(path) - 1)]),
        plan_defaulted_day=int(defaulted[0] - day) if len(defaulted) else -1)
