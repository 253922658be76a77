"""The collector's desk: a trainee chooses what to do about one overdue account and sees what follows.

A queue of overdue invoices is drawn from a run of the scenario under its usual policy, one per kind of
customer, each with its story (short of cash, paperwork problems, late on purpose, habitually late, a
good payer who slipped). The trainee picks an action; the whole portfolio is simulated again with the
same seed, identical to the first run except that on the desk day this invoice gets the trainee's
action instead of the policy's (the trainee is plugged into the engine's decision interface, like any
policy). The consequence - cash from the invoice, days until it is settled, the customer's goodwill,
whether they stay - is set beside what the playbook recommends for that story and why, and the same
runs score both choices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .decisions import Action, Decision, InvoiceView, Point
from .eventlog import BALANCE_REDUCING, EventKind
from .rule_policy import RuleBasedPolicy
from .run import RunResult, simulate
from .scenario import Scenario

#: segment -> (the customer's story, the playbook's choice, why). Segments of the bundled baseline.
STORIES: dict[str, tuple[str, str, str]] = {
    "cash-strained": ("Wants to pay but is short of cash this month; has part-paid before.", "offer a plan",
                      "A plan that fits the customer's cash cycle gets the debt paid in full more often than "
                      "pressure does, and keeps a customer who will be worth having when times improve."),
    "admin-heavy": ("Their accounts team is waiting on a purchase-order number and an approval.", "friendly call",
                    "The invoice is stuck in paperwork, not in the customer's wallet: a call finds out what is "
                    "missing and fixes it. A firm letter would only annoy the people who can release it."),
    "late-on-purpose": ("Pays suppliers as late as it can get away with, to finance itself.", "firm call",
                        "A customer who pays late by choice responds to firmness early; a polite email is "
                        "read as permission to wait. Be firm on the date, courteous in tone."),
    "habitually-late": ("Usually pays a week or two late; answers reminders.", "friendly email",
                        "A cheap, polite reminder is enough for a customer who simply pays when asked; "
                        "anything harsher costs goodwill for no extra cash."),
    "prompt": ("A reliable payer whose invoice has slipped through.", "friendly email",
               "Good payers who slip have usually mislaid the invoice: a courteous note resolves it and "
               "protects a valuable relationship."),
}


def choices(scenario: Scenario) -> dict[str, tuple[Action, ...]]:
    """What the trainee may do today, as engine actions (costs from the scenario's economics)."""
    e = scenario.economics
    email, letter, phone = (round(100 * c) for c in (e.cost_email, e.cost_letter, e.cost_phone))
    return {
        "wait": (),
        "friendly email": (Action.remind("email", "friendly", email),),
        "firm letter": (Action.remind("letter", "firm", letter),),
        "final notice": (Action.remind("letter", "final", letter),),
        "friendly call": (Action.remind("phone", "friendly", phone),),
        "firm call": (Action.remind("phone", "firm", phone),),
        "offer a plan": (Action.offer_plan("phone", phone, 3, 30, 0.2, 1),),
        "offer settlement (20% off)": (Action.offer_settlement(0.2, "letter", letter),),
        "collection agency": (Action.place_with_agency(0.25),),
        "legal action": (Action.file_legal(60_000),),
    }


class DeskDecider:
    """The scenario's policy, except that one invoice gets the trainee's actions on the desk day."""

    def __init__(self, base: RuleBasedPolicy, customer: int, seq: int, day: int, actions: tuple[Action, ...]):
        self.base, self.customer, self.seq, self.day, self.actions = base, customer, seq, day, actions
        self.name = base.spec.name
        self.done = False

    def decide(self, point: Point, day: int, invoice: InvoiceView, goodwill: float) -> Decision:
        decision = self.base.decide(point, day, invoice, goodwill)
        if self.done or invoice.customer != self.customer or invoice.seq != self.seq:
            return decision
        if day == self.day and point is Point.REVIEW:
            self.done = True
            rules = self.base._rules[invoice.segment]
            return Decision(self.actions, rules.next_review(invoice, day))
        if day < self.day and (decision.review_day is None or decision.review_day > self.day):
            return Decision(decision.actions, self.day)  # be asked on the desk day
        return decision


@dataclass(frozen=True)
class Case:
    """One overdue invoice on the desk."""

    segment: str
    story: str
    customer: int
    seq: int
    amount: int  # cents
    balance: int  # cents open on the desk day
    days_overdue: int
    recommended: str
    why: str


def _balance_on(result: RunResult, row: int, day: int) -> int:
    ev = result.events
    mask = (ev["invoice"] == row) & np.isin(ev["kind"], BALANCE_REDUCING) & (ev["day"] < day)
    return int(result.invoices["amount"][row] - ev["amount"][mask].sum())


class Desk:
    """A queue of overdue accounts on ``day`` of a run of ``scenario`` under ``policy``."""

    def __init__(self, scenario: Scenario, policy: str | None = None, seed: int | None = None,
                 day: int | None = None, min_days_overdue: int = 10) -> None:
        self.scenario = scenario
        self.spec = scenario.policy(policy)
        self.seed = scenario.seed if seed is None else int(seed)
        self.day = scenario.horizon.measured_start + 60 if day is None else int(day)
        self.base = simulate(scenario, self.spec, self.seed)
        self.choices = choices(scenario)
        self.cases = self._queue(min_days_overdue)

    def _queue(self, min_days_overdue: int) -> list[Case]:
        inv = self.base.invoices
        names = [s.name for s in self.scenario.portfolio.segments]
        cases = []
        for seg_index, name in enumerate(names):
            if name not in STORIES:
                continue
            overdue = np.flatnonzero((inv["segment"] == seg_index) & (inv["due_day"] <= self.day - min_days_overdue))
            for row in overdue[::-1]:  # the most recently overdue first
                balance = _balance_on(self.base, int(row), self.day)
                if balance > 0:
                    story, recommended, why = STORIES[name]
                    cases.append(Case(name, story, int(inv["customer"][row]), int(inv["seq"][row]),
                                      int(inv["amount"][row]), balance, self.day - int(inv["due_day"][row]),
                                      recommended, why))
                    break
        return cases

    def queue(self) -> pd.DataFrame:
        """The desk's accounts, money in currency units."""
        return pd.DataFrame([{"account": f"{c.customer}-{c.seq}", "kind of customer": c.segment, "story": c.story,
                              "open": c.balance / 100, "days overdue": c.days_overdue} for c in self.cases])

    def outcome(self, case: Case, choice: str) -> dict:
        """Simulate the portfolio with ``choice`` taken on ``case`` today; what followed for that account."""
        if choice not in self.choices:
            raise ValueError(f"unknown choice {choice!r}; choices are: {', '.join(self.choices)}")
        decider = DeskDecider(RuleBasedPolicy(self.spec, self.scenario), case.customer, case.seq, self.day,
                              self.choices[choice])
        result = simulate(self.scenario, self.spec, self.seed, decider=decider)
        inv, ev = result.invoices, result.events
        row = int(np.flatnonzero((inv["customer"] == case.customer) & (inv["seq"] == case.seq))[0])
        mine = (ev["invoice"] == row) & (ev["day"] >= self.day)
        kinds = ev["kind"][mine]
        cash = int(ev["amount"][mine][np.isin(kinds, (EventKind.PAYMENT, EventKind.AGENCY_COLLECTED,
                                                        EventKind.LEGAL_COLLECTED, EventKind.FEES_PAID))].sum())
        settled = ev["day"][mine][np.isin(kinds, BALANCE_REDUCING)]
        lost = int(ev["amount"][mine][np.isin(kinds, (EventKind.WRITE_OFF, EventKind.INSOLVENCY_LOSS))].sum())
        costs = int(ev["cost"][mine].sum())
        churned = bool(np.any((ev["kind"] == EventKind.CHURNED) & (ev["customer"] == case.customer)))
        goodwill = float(result.final_goodwill[case.customer])
        score = 100 * (cash - costs) / case.balance + 100 * goodwill - (25 if churned else 0)
        return {"choice": choice, "cash from this invoice": cash / 100, "action and escalation costs": costs / 100,
                "written off": lost / 100,
                "days until settled": int(settled.max() - self.day) if inv["balance"][row] == 0 and len(settled)
                else None,
                "customer's goodwill at the end": round(goodwill, 3), "customer left": churned,
                "score": round(score, 1)}

    def compare(self, case: Case, choice: str) -> pd.DataFrame:
        """The trainee's choice beside the playbook's, on the same simulated future."""
        rows = [self.outcome(case, choice)]
        if choice != case.recommended:
            rows.append(self.outcome(case, case.recommended))
        return pd.DataFrame(rows).set_index("choice")


class DeskWidget:
    """The desk in JupyterLab: pick an account and an action, press Act, read what followed and why."""

    def __init__(self, desk: Desk) -> None:
        import ipywidgets as w

        self.desk = desk
        self.account = w.Dropdown(options=[(f"{c.customer}-{c.seq} ({c.segment})", i)
                                           for i, c in enumerate(desk.cases)], description="account")
        self.choice = w.Dropdown(options=list(desk.choices), description="action")
        self.act = w.Button(description="Act", button_style="primary")
        self.story = w.HTML()
        self.result = w.HTML(layout=w.Layout(height="320px", overflow="auto"))
        self.total = 0.0
        self.turns = 0
        self.account.observe(lambda _change: self._show_story(), names="value")
        self.act.on_click(lambda _button: self.play())
        self._show_story()
        self.widget = w.VBox([w.HBox([self.account, self.choice, self.act]), self.story, self.result])

    def _show_story(self) -> None:
        c = self.desk.cases[self.account.value]
        self.story.value = (f"<b>{c.segment}</b>: {c.story} Open: {c.balance / 100:,.2f} "
                            f"{self.desk.scenario.economics.currency}, {c.days_overdue} days overdue.")

    def play(self) -> pd.DataFrame:
        """Simulate the chosen action on the chosen account and show it beside the playbook's choice."""
        case = self.desk.cases[self.account.value]
        table = self.desk.compare(case, self.choice.value)
        mine = table.iloc[0]["score"]
        best = table["score"].max()
        self.total += float(mine)
        self.turns += 1
        self.result.value = (table.to_html(border=0)
                             + f"<p><b>Playbook:</b> {case.recommended}. {case.why}</p>"
                             + f"<p>Your score {mine:.1f} (best of the two {best:.1f}); "
                             + f"running total {self.total:.1f} over {self.turns} account(s).</p>")
        return table
