"""Message templates: the words behind each action, personalised for one invoice.

A reminder ladder in a policy file says *when* to write and in what tone; a credit controller also
needs *what* to write. The templates in ``collectsim/templates/`` are plain-text files, one per stage
and tone, with ``{placeholders}`` for the customer's name, the invoice number, the amount, the due date
and the days overdue (plus the terms of an offer where there is one). Edit them freely: any
placeholder of :data:`FIELDS` may be used, and a template naming anything else fails with an error
that names the file and the field. ``{amount}`` is the invoice as issued; ``{balance}`` is what is still
open on the letter's day (less any part payment or credit note), and the offers in a letter (down payment,
instalments, milestones, settlement) are worked out from that balance, as the engine works them out.

Which template an event used is a pure function of what the event log already holds (its kind, its
tone, and its day against the invoice's due date), so :func:`event_templates` recovers it for every
row without the engine having to store it; ``RunResult.write`` adds it to ``events.csv`` as the
``template`` column. The discount offer is the exception: it goes out with the invoice itself, which
the log records as the issue, not as an event.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources

import numpy as np
import pandas as pd

from collectsim.config.policy_spec import TONES, PolicySpec
from collectsim.model import behaviour as rules
from collectsim.results.eventlog import BALANCE_REDUCING, EventKind, EventLog
from collectsim.results.invoices import InvoiceTable

#: Every template, in the order a customer would meet them.
TEMPLATES = ("discount-offer", "friendly-pre-due", "friendly-overdue", "firm", "final-notice", "terms-offer",
             "plan-offer", "settlement-offer", "handover-notice")

#: Placeholders a template may use.
FIELDS = ("customer_name", "supplier_name", "invoice_number", "amount", "balance", "due_date", "days_overdue",
          "days_to_due", "discount_rate", "discount_deadline", "discounted_amount", "down_payment", "instalments",
          "instalment_amount", "interval_days", "milestone_schedule", "settlement_amount", "settlement_deadline",
          "handed_to")

SETTLEMENT_DAYS = 14  # days the letter gives the customer to accept a settlement (wording only)


class LetterError(ValueError):
    """A template that cannot be rendered: unknown template, unknown or unfilled placeholder."""


def template_text(name: str) -> str:
    """The text of template ``name`` as shipped in ``collectsim/templates/<name>.txt``."""
    if name not in TEMPLATES:
        raise LetterError(f"unknown template {name!r}; templates are: {', '.join(TEMPLATES)}")
    return resources.files("collectsim").joinpath("templates", f"{name}.txt").read_text(encoding="utf-8")


def placeholders(text: str) -> set[str]:
    """The placeholder names used in a template text."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def render(name: str, values: Mapping[str, object], text: str | None = None) -> str:
    """Template ``name`` (or the given ``text``) with its placeholders filled from ``values``."""
    text = template_text(name) if text is None else text
    used = placeholders(text)
    unknown = sorted(f for f in used if f not in FIELDS)
    if unknown:
        raise LetterError(f"templates/{name}.txt: unknown placeholder {{{unknown[0]}}}; "
                          f"allowed: {', '.join(FIELDS)}")
    missing = sorted(f for f in used if f not in values)
    if missing:
        raise LetterError(f"templates/{name}.txt: no value for placeholder {{{missing[0]}}}")
    return text.format_map({f: values[f] for f in used})


def template_for(kind: int, tone: int, day: int, due_day: int) -> str:
    """The template an event of ``kind`` (and ``tone``, on ``day``) used; '' when it sends no message."""
    if kind == EventKind.REMINDER:
        tone_name = TONES[tone] if tone >= 0 else "friendly"
        if tone_name == "friendly":
            return "friendly-pre-due" if day < due_day else "friendly-overdue"
        return "firm" if tone_name == "firm" else "final-notice"
    return {EventKind.PLAN_OFFERED: "plan-offer", EventKind.TERMS_OFFERED: "terms-offer",
            EventKind.SETTLEMENT_OFFERED: "settlement-offer",
            EventKind.AGENCY_PLACED: "handover-notice", EventKind.LEGAL_FILED: "handover-notice"}.get(kind, "")


def event_templates(events: EventLog, invoices: InvoiceTable) -> np.ndarray:
    """The template used by every row of the event log ('' for events that send no message)."""
    rows = events["invoice"]
    due = np.where(rows >= 0, invoices["due_day"][np.maximum(rows, 0)] if len(invoices) else 0, 0)
    return np.asarray([template_for(int(k), int(t), int(d), int(dd))
                       for k, t, d, dd in zip(events["kind"], events["tone"], events["day"], due)], dtype=object)


def _days(n: int) -> str:
    """'1 day', '14 days' (never negative: the wording only uses the side of the due date it is on)."""
    n = max(0, int(n))
    return f"{n} day" if n == 1 else f"{n} days"


def money(cents: int, currency: str) -> str:
    """Integer cents as '1,234.56 EUR'."""
    return f"{cents / 100:,.2f} {currency}"


@dataclass(frozen=True)
class Letter:
    """One rendered message: which template, for which invoice and day, and its text."""

    template: str
    invoice_number: str
    day: int
    text: str


def letter_values(*, customer_name: str, invoice_number: str, amount_cents: int, currency: str,
                  start_date: date, issue_day: int, due_day: int, day: int, spec: PolicySpec,
                  handed_to: str = "our collection agency", supplier_name: str = "Example Supplies Ltd",
                  balance_cents: int | None = None) -> dict:
    """Every placeholder's value for one invoice on ``day`` under the policy ``spec`` (for its segment).

    ``balance_cents`` is the principal still open on ``day`` (the whole amount when not given); offers are
    worked out from it with the engine's arithmetic.
    """
    def on(d: int) -> str:
        return (start_date + timedelta(days=int(d))).isoformat()

    balance = amount_cents if balance_cents is None else int(balance_cents)
    if not 0 < balance <= amount_cents:
        raise LetterError(f"invoice {invoice_number}: open balance {balance} cents is not between 1 cent and "
                          f"its amount ({amount_cents} cents)")
    plans, disc = spec.plans, spec.discount
    milestones = spec.extended_terms.milestones
    parts = [rules.share_of(balance, m.share) for m in milestones[:-1]]
    parts.append(balance - sum(parts))  # the last stage takes what is left, as the engine does
    schedule = "\n".join(f"  - {money(part, currency)} by {on(day + m.after_days)}"
                         for part, m in zip(parts, milestones))
    down = (min(rules.share_of(balance, plans.down_payment), balance - 1)
            if plans.down_payment > 0 and balance >= 2 else 0)
    settle = balance - max(0, min(balance - 1, round(balance * spec.settlement.forgive)))
    return {
        "customer_name": customer_name, "supplier_name": supplier_name, "invoice_number": invoice_number,
        "amount": money(amount_cents, currency), "balance": money(balance, currency), "due_date": on(due_day),
        "days_overdue": _days(day - due_day), "days_to_due": _days(due_day - day),
        "discount_rate": f"{disc.rate:.1%}".replace(".0%", "%"), "discount_deadline": on(issue_day + disc.window_days),
        "discounted_amount": money(round(amount_cents * (1 - disc.rate)), currency),
        "down_payment": money(down, currency), "instalments": plans.instalments,
        "instalment_amount": money((balance - down) // max(1, plans.instalments), currency),
        "interval_days": plans.interval_days, "milestone_schedule": schedule,
        "settlement_amount": money(settle, currency),
        "settlement_deadline": on(day + SETTLEMENT_DAYS), "handed_to": handed_to,
    }


def balance_before(events: EventLog, invoices: InvoiceTable) -> np.ndarray:
    """The principal still open on each event's invoice just before the event (0 for customer events).

    It is the invoice's amount less the balance-reducing events (payments, discounts, credit notes, ...)
    logged before this one; the log is in the order things happened.
    """
    rows = np.asarray(events["invoice"], dtype=np.int64)
    out = np.zeros(len(rows), dtype=np.int64)
    idx = np.flatnonzero(rows >= 0)
    if len(idx) == 0:
        return out
    r = rows[idx]
    reducing = np.where(np.isin(events["kind"][idx], BALANCE_REDUCING), events["amount"][idx], 0).astype(np.int64)
    done = pd.Series(reducing).groupby(r).cumsum().to_numpy() - reducing  # each invoice's, in log order
    out[idx] = np.asarray(invoices["amount"], dtype=np.int64)[r] - done
    return out


def sample_letters(result, names: Mapping[int, str] | None = None) -> tuple[list[Letter], list[str]]:
    """One letter per template that ``result``'s policy actually sent (its first use), and the unused ones.

    ``result`` is a :class:`~collectsim.results.run.RunResult`. Customers are named by segment and number
    unless ``names`` maps customer ids to names. The discount offer is taken from the first invoice
    issued with a discount when the policy offers one.
    """
    scenario, events, invoices = result.scenario, result.events, result.invoices
    spec = scenario.policy(result.policy)
    segments = [s.name for s in scenario.portfolio.segments]
    currency, start = scenario.economics.currency, scenario.horizon.start_date
    used = event_templates(events, invoices)
    open_before = balance_before(events, invoices)
    first: dict[str, tuple[int, int, str, int]] = {}  # template -> (invoice row, day, handed_to, open balance)
    discounted = np.flatnonzero(invoices["discount_rate"] > 0)
    if len(discounted):
        row = int(discounted[0])
        first["discount-offer"] = (row, int(invoices["issue_day"][row]), "", int(invoices["amount"][row]))
    for i in np.flatnonzero(used != ""):
        name = used[i]
        if name not in first:
            handed = "our solicitors" if events["kind"][i] == EventKind.LEGAL_FILED else "our collection agency"
            first[name] = (int(events["invoice"][i]), int(events["day"][i]), handed, int(open_before[i]))
    letters = []
    for name in TEMPLATES:
        if name not in first:
            continue
        row, day, handed, balance = first[name]
        customer = int(invoices["customer"][row])
        seg = segments[int(invoices["segment"][row])]
        number = f"{customer}-{int(invoices['seq'][row])}"
        values = letter_values(
            customer_name=(names or {}).get(customer, f"Customer {customer:04d} ({seg})"),
            invoice_number=number, amount_cents=int(invoices["amount"][row]), currency=currency,
            start_date=start, issue_day=int(invoices["issue_day"][row]), due_day=int(invoices["due_day"][row]),
            day=day, spec=spec.for_segment(seg), handed_to=handed or "our collection agency", balance_cents=balance)
        letters.append(Letter(name, number, day, render(name, values)))
    unused = [n for n in TEMPLATES if n not in first]
    return letters, unused
