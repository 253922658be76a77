"""A chosen policy, written for the dunning tool that will run it: Odoo, ERPNext, or a neutral CSV.

A simulation picks the policy; an accounting system sends the reminders. Both Odoo and ERPNext hold a
reminder ladder as a list of levels, so the policy's reminder steps become levels and everything else is
either carried where the target has a place for it or listed as something to set up by hand.

- **Odoo** (Accounting > Configuration > Follow-up Levels, model ``account_followup.followup.line``):
  a CSV for the standard import, one row per step, with the columns of the Odoo 16-17 model: ``name``,
  ``delay`` (days after the due date, negative before it), ``send_email``, ``send_letter`` (the snailmail
  module), ``create_activity`` with ``activity_type_id`` "Call" and an ``activity_summary`` for a phone step,
  ``join_invoices`` and ``auto_execute``. Each level's name carries the collectsim template it stands for.
  A level holds no fee or interest.
- **ERPNext** (Accounts > Dunning Type): a JSON list of ``Dunning Type`` documents, one per step, with the
  fields of the doctype: ``dunning_type`` (the name, with its day), ``company``, ``dunning_fee``,
  ``rate_of_interest`` (percent a year) and a ``dunning_letter_text`` row (``language``, ``body_text``,
  ``closing_text``) whose wording is the collectsim template with its placeholders turned into the Jinja
  fields of a Dunning (``customer_name``, ``total_outstanding``, ``total_interest``, ``dunning_fee``,
  ``grand_total``, ...). A Dunning Type has no day: the day is in its name and the user picks the type.
- **CSV**: the whole schedule, one row per action and day (reminders, the fee claim, offers, hand-overs,
  write-off), with channel, tone, template and fee; spreadsheet-safe.

What a target cannot hold is returned as warnings (the command prints them on stderr) and written to a
side file ``<out>.warnings.txt`` beside the export, so the person importing it sees what is left to do.
"""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import dataclass
from pathlib import Path

from collectsim.config.company import Company
from collectsim.config.policy_spec import PolicySpec
from collectsim.files.exports import neutralise
from collectsim.files.safe_output import write_text
from collectsim.model import late_payment_law as lpl
from collectsim.present.letters import BLOCKS, DEADLINE_DAYS, parse_template, template_for_step

TARGETS = ("odoo", "erpnext", "csv")
#: Reference rate used for the interest of an export when neither the scenario nor the user gives one.
DEFAULT_REFERENCE_RATE = 0.02
ODOO_COLUMNS = ("name", "delay", "send_email", "send_letter", "create_activity", "activity_type_id",
                "activity_summary", "join_invoices", "auto_execute")
CSV_COLUMNS = ("day", "action", "channel", "tone", "template", "fee", "interest_rate", "note")


@dataclass(frozen=True)
class Level:
    """One row of the schedule: a day (from the due date), what happens, and what it costs the customer."""

    day: int
    action: str  # reminder, fee-claim, terms-offer, plan-offer, settlement-offer, agency, legal, write-off
    channel: str = ""
    tone: str = ""
    template: str = ""
    fee: float = 0.0  # fixed compensation claimed at this level (currency per invoice)
    interest_rate: float = 0.0  # yearly, claimed from this level on
    note: str = ""


@dataclass(frozen=True)
class Exported:
    """What was written: the file, its levels, the warnings and the side file holding them (or None)."""

    path: Path
    levels: tuple[Level, ...]
    warnings: tuple[str, ...]
    notes: Path | None


def schedule(policy: PolicySpec, reference_rate: float = DEFAULT_REFERENCE_RATE) -> list[Level]:
    """Every scheduled action of ``policy`` by day past due (the base policy; see ``for_segment``)."""
    fees = policy.fees
    claim_day = fees.claim_at_days_overdue if fees.enforce else None
    rate = reference_rate + fees.interest_margin
    out = []
    for step in policy.reminders.steps:
        charged = claim_day is not None and step.offset >= claim_day
        out.append(Level(step.offset, "reminder", step.channel, step.tone, template_for_step(step, step.offset),
                         interest_rate=rate if charged else 0.0))
    if claim_day is not None:
        out.append(Level(claim_day, "fee-claim", "letter", "firm", "fee-claim", fees.fixed_compensation, rate,
                         "statutory interest and fixed compensation claimed"))
    if policy.extended_terms.offer:
        out.append(Level(policy.extended_terms.after_days_overdue, "terms-offer", "letter", "", "terms-offer",
                         note=f"{len(policy.extended_terms.milestones)} milestones"))
    if policy.plans.offer:
        p = policy.plans
        out.append(Level(p.after_days_overdue, "plan-offer", "phone", "", "plan-offer",
                         note=f"{p.down_payment:.0%} down, {p.instalments} instalments every {p.interval_days} days"))
    if policy.settlement.offer:
        out.append(Level(policy.settlement.after_days_overdue, "settlement-offer", "letter", "", "settlement-offer",
                         note=f"{policy.settlement.forgive:.0%} of the balance forgiven"))
    esc = policy.escalation
    if esc.agency:
        out.append(Level(esc.agency_after_days_overdue, "agency", "letter", "", "handover-notice",
                         note=f"collection agency, contingency fee {esc.agency_fee:.0%}"))
    if esc.legal:
        out.append(Level(esc.legal_after_days_overdue, "legal", "letter", "", "handover-notice",
                         note=f"legal action on balances of {esc.legal_min_balance:g} or more"))
    out.append(Level(policy.write_off.age_days, "write-off", note="remaining balance written off"))
    order = {"reminder": 0, "fee-claim": 1}
    return sorted(out, key=lambda lv: (lv.day, order.get(lv.action, 2)))


def unsupported(policy: PolicySpec, target: str) -> list[str]:
    """What ``target`` cannot express of ``policy``, one sentence each (set it up by hand)."""
    out = []
    if target == "csv":
        if policy.segments:
            out.append(f"per-segment overrides ({', '.join(policy.segments)}) are not in this schedule; export each "
                       "with --segment NAME")
        if policy.targets:
            out.append(f"targets ({', '.join(policy.target_names())}) are not in this schedule; export each with "
                       "--target NAME")
        return out
    tool = {"odoo": "Odoo", "erpnext": "ERPNext"}[target]
    if not policy.reminders.steps:
        out.append("the policy has no reminder steps: nothing to export as levels")
    if target == "erpnext":
        out.append("an ERPNext Dunning Type has no day: each type's name says its day past due; choose the type when "
                   "you create a Dunning")
        if any(s.channel == "phone" for s in policy.reminders.steps):
            out.append("phone steps become Dunning Types too; ERPNext does not schedule the call (log it as a task)")
    if policy.fees.enforce:
        if target == "odoo":
            out.append(f"statutory interest and compensation (claimed from day {policy.fees.claim_at_days_overdue}): "
                       "Odoo follow-up levels carry no fee or interest; charge them on an invoice by hand")
        else:
            out.append("ERPNext's dunning fee is one amount per type: the UK's 40/70/100 bands by debt size and the "
                       "per-invoice EUR 40 of the EU directive are not expressed exactly")
    else:
        out.append("the policy does not claim statutory interest or compensation: the levels carry none")
    if policy.discount.rate > 0:
        out.append(f"early-payment discount ({policy.discount.rate:.1%} within {policy.discount.window_days} days): "
                   f"set it in the payment terms, not in {tool}'s follow-up")
    if policy.plans.offer or policy.plans.on_request:
        out.append(f"instalment plans ({policy.plans.instalments} instalments every {policy.plans.interval_days} days, "
                   f"{policy.plans.down_payment:.0%} down, offered at day {policy.plans.after_days_overdue}): "
                   f"{tool} has no plan offer in its follow-up")
    if policy.extended_terms.offer:
        out.append(f"extended terms with milestones (offered at day {policy.extended_terms.after_days_overdue}) "
                   "cannot be expressed")
    if policy.settlement.offer:
        out.append(f"settlement offers ({policy.settlement.forgive:.0%} forgiven at day "
                   f"{policy.settlement.after_days_overdue}) cannot be expressed")
    esc = policy.escalation
    if esc.agency:
        out.append(f"hand-over to a collection agency at day {esc.agency_after_days_overdue}: do it by hand "
                   "(the handover-notice letter of `collectsim letters` names the agency)")
    if esc.legal:
        out.append(f"legal action at day {esc.legal_after_days_overdue}: do it by hand")
    if esc.mediation:
        out.append("mediation of long disputes cannot be expressed")
    if esc.credit_hold:
        out.append(f"credit hold after {esc.credit_hold_after_days_overdue} days past due: set it on the customer "
                   "(credit limit / blocked) by hand")
    if policy.reminders.pause_on_dispute:
        out.append("pausing reminders on disputed invoices: exclude a disputed invoice from follow-up by hand")
    if policy.reminders.min_gap_days:
        out.append(f"at least {policy.reminders.min_gap_days} days between contacts: {tool} follows each level's day")
    if policy.onboarding.credit_check or policy.onboarding.credit_limit:
        out.append("credit checks and credit limits for new customers are set outside the follow-up")
    if policy.segments:
        out.append(f"per-segment overrides ({', '.join(policy.segments)}) are not exported; export each with "
                   "--segment NAME")
    if policy.targets:
        out.append(f"targets ({', '.join(policy.target_names())}) are not exported; export each with --target NAME "
                   "(and assign its customers to it)")
    out.append(f"write-off at {policy.write_off.age_days} days past due is an accounting decision, not a level")
    return out


# --- the targets -------------------------------------------------------------------------------------------

def _odoo(policy: PolicySpec, levels: list[Level]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(ODOO_COLUMNS)
    for lv in (lv for lv in levels if lv.action == "reminder"):
        name = f"{policy.name} {lv.day:+d}d: {lv.tone} {lv.channel} ({lv.template})"
        phone = lv.channel == "phone"
        w.writerow([neutralise(name), lv.day, "False" if phone else str(lv.channel == "email"),
                    str(lv.channel == "letter"), str(phone), "Call" if phone else "",
                    neutralise(f"{lv.tone.capitalize()} call about overdue invoices") if phone else "",
                    "True", "False"])
    return buf.getvalue()


#: How each placeholder reads in an ERPNext dunning letter: a Jinja field of the Dunning (and of its
#: ``overdue_payments`` rows, whose ``overdue_days`` is text, hence ``int``), or plain words.
ERPNEXT_FIELDS = {
    "supplier_name": "{{ company }}", "customer_name": "{{ customer_name }}", "as_of": "{{ posting_date }}",
    "invoices_below": "the invoices listed below", "invoice_count": "the invoices listed below",
    "total_amount": "{{ total_outstanding }} {{ currency }}", "total_open": "{{ total_outstanding }} {{ currency }}",
    "first_due_date": "the due date", "days_to_due": "a few days",
    "max_days_overdue": "{{ overdue_payments | map(attribute='overdue_days') | map('int') | max }} days",
    "oldest": "the oldest invoice", "interest_rate": "{{ rate_of_interest }}%",
    "interest_total": "{{ total_interest }} {{ currency }}", "compensation_total": "{{ dunning_fee }} {{ currency }}",
    "charges_total": "{{ dunning_amount }} {{ currency }}", "claim_total": "{{ grand_total }} {{ currency }}",
    "discount_rate": "the early-payment discount", "discount_deadline": "the discount date",
    "discounted_amount": "the discounted amount", "down_payment": "a down payment", "instalments": "several",
    "instalment_amount": "equal amounts", "interval_days": "30", "settlement_amount": "a reduced amount",
    "settlement_deadline": "the date we agree", "handed_to": "our collection agency",
    "handed_to_contact": "as they will tell you",
}


def erpnext_letter_text(template: str, company: Company | None, rate_basis: str, law_title: str, deadline_days: int,
                  claimed: bool) -> str:
    """The template's paragraphs as ERPNext body text (HTML with Jinja fields); tables left to ERPNext."""
    contact = html.escape(company.contact_name) if company and company.contact_name else "our credit control team"
    phone = html.escape(company.phone) if company and company.phone else "the number on this letter"
    deadline = f"{{{{ frappe.utils.formatdate(frappe.utils.add_days(posting_date, {deadline_days})) }}}}"
    stance = ("We now claim these charges in addition to the open invoices: {{ grand_total }} {{ currency }} in all."
              if claimed else f"If the balance is not paid by {deadline}, we will claim them in addition to it.")
    values = {**ERPNEXT_FIELDS, "deadline": deadline, "law": law_title, "rate_basis": rate_basis,
              "charges_stance": stance, "contact_name": contact, "phone": phone,
              "email": html.escape(company.email) if company and company.email else "our accounts address"}
    _, paragraphs = parse_template(template)
    out = []
    for i, p in enumerate(paragraphs):
        if p.startswith("{") and p.endswith("}") and p[1:-1] in BLOCKS:
            continue  # a table: ERPNext prints the overdue payments itself
        following = paragraphs[i + 1] if i + 1 < len(paragraphs) else ""
        if p.endswith(":") and following[1:-1] in BLOCKS:
            p = p[:-1] + "."  # the table it introduced is not there
        # escape the wording, then put the Jinja fields in (they must stay as written)
        filled = html.escape(p).format_map(values)
        out.append(f"<p>{filled}</p>")
    return "\n".join(out)


def _erpnext(policy: PolicySpec, levels: list[Level], company: Company | None, reference_rate: float) -> str:
    law = lpl.law(company.jurisdiction if company else "eu")
    rate_basis = f"{law.reference} of {reference_rate * 100:.2f}% plus {policy.fees.interest_margin * 100:g} points"
    docs = []
    reminders = [lv for lv in levels if lv.action == "reminder"]
    claiming = [lv.day for lv in reminders if lv.interest_rate > 0]  # the fee goes with the first claiming level
    for lv in reminders:
        claimed = lv.interest_rate > 0
        fee = policy.fees.fixed_compensation if claiming and lv.day == claiming[0] else 0.0
        doc = {"doctype": "Dunning Type",
               "dunning_type": f"{policy.name} {lv.day:+d}d {lv.tone} {lv.channel}",
               "is_default": 0,
               "dunning_fee": round(fee, 2),
               "rate_of_interest": round(lv.interest_rate * 100, 4),
               "dunning_letter_text": [{
                   "doctype": "Dunning Letter Text", "language": "en", "is_default_language": 1,
                   "body_text": erpnext_letter_text(lv.template, company, rate_basis, law.title, DEADLINE_DAYS,
                                                    claimed),
                   "closing_text": ("<p>Kind regards,</p>" if lv.tone == "friendly" else "<p>Yours sincerely,</p>")
                   + (f"<p>{html.escape(company.contact_name)}<br>{html.escape(company.name)}</p>"
                      if company and company.name else
                      "<p>{{ company }}</p>")}]}
        if company and company.name:
            doc["company"] = company.name
        docs.append(doc)
    return json.dumps(docs, indent=2, ensure_ascii=False) + "\n"


def _csv(levels: list[Level]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for lv in levels:
        w.writerow([lv.day, lv.action, lv.channel, lv.tone, lv.template, f"{lv.fee:.2f}",
                    f"{lv.interest_rate:.4f}", neutralise(lv.note)])
    return buf.getvalue()


def export_policy(policy: PolicySpec, target: str, out: str | Path, *, company: Company | None = None,
                  reference_rate: float | None = None) -> Exported:
    """Write ``policy`` for ``target`` ('odoo', 'erpnext' or 'csv') to ``out``, and the warnings beside it."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; one of {', '.join(TARGETS)}")
    out = Path(out)
    rate = DEFAULT_REFERENCE_RATE if reference_rate is None else reference_rate
    levels = schedule(policy, rate)
    warnings = unsupported(policy, target)
    if target == "erpnext" and not (company and company.name):
        warnings.insert(0, "no company profile: the Dunning Types have no `company` (required by ERPNext); add it "
                           "before importing, or pass --company FILE")
    text = {"odoo": lambda: _odoo(policy, levels), "erpnext": lambda: _erpnext(policy, levels, company, rate),
            "csv": lambda: _csv(levels)}[target]()
    write_text(out, text)
    notes = None
    if warnings:
        notes = out.with_name(out.name + ".warnings.txt")
        write_text(notes, f"# What the {target} export of policy {policy.name!r} cannot hold; set it up by hand.\n"
                   + "".join(f"- {w}\n" for w in warnings))
    shown = tuple(lv for lv in levels if target == "csv" or lv.action == "reminder")
    return Exported(out, shown, tuple(warnings), notes)
