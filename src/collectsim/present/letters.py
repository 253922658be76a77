"""Letters a credit controller can send: one per customer, a statement of every overdue invoice.

A good collection letter reads like a bank statement with a request attached: who is writing and how to
reach them, the invoices in question with what is still open on each, what is asked and by when, how to
pay, and, where the tone has hardened, what the law adds to a late debt. This module puts those parts
around the wording in ``collectsim/templates/<name>.txt`` and renders the result as plain text and as a
small HTML page.

The wording is editable. A template's first line is ``Subject: ...``; the rest are paragraphs, separated
by blank lines, with ``{placeholders}`` from :data:`INLINE` inside them, and tables from :data:`BLOCKS`
each alone in a paragraph (``{statement}``, ``{charges}``, ...). The frame (letterhead, date, addressee,
salutation, how to pay, signature) is not in the templates: it comes from the company profile
(:class:`~collectsim.config.company.Company`), so no letter can go out without it.

Nothing internal reaches the customer: the letter is addressed by the customer's name and contact as the
caller gives them (never a segment or a simulation label), and "Dear Sir or Madam" when no contact is known.

:func:`compose` is the one entry point: a template, a customer, the invoices, the policy and a date. The
``letters`` command calls it for the first letter of each kind a simulated run sent; a day's action list
can call it for each customer to contact (:func:`template_for_step` picks the template for a policy step).
"""

from __future__ import annotations

import html
import string
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources

from collectsim.calibration.ledger import pseudonym
from collectsim.config.company import SAMPLE_COMPANY, Company
from collectsim.config.policy_spec import PolicySpec, ReminderStep
from collectsim.config.schema import ScenarioError
from collectsim.model import behaviour as rules
from collectsim.model import late_payment_law as lpl
from collectsim.results.letters import TEMPLATES

#: Days a letter gives the customer to pay or answer (the dated deadline of firm and final letters, fee
#: claims and the first payment of a plan). Wording, not a legal period: an assumption, easy to change.
DEADLINE_DAYS = 10
#: Days a settlement offer stays open (wording only).
SETTLEMENT_DAYS = 14

#: Placeholders a template may use inside its paragraphs.
INLINE = ("supplier_name", "customer_name", "as_of", "invoices_below", "invoice_count", "total_amount",
          "total_open", "first_due_date", "days_to_due", "max_days_overdue", "oldest", "deadline", "law",
          "interest_rate", "rate_basis", "interest_total", "compensation_total", "charges_total", "claim_total",
          "charges_stance",
          "discount_rate", "discount_deadline", "discounted_amount", "down_payment", "instalments",
          "instalment_amount", "interval_days", "settlement_amount", "settlement_deadline", "handed_to",
          "handed_to_contact", "contact_name", "phone", "email")
#: Tables a template may place, each alone in its own paragraph.
BLOCKS = ("statement", "charges", "plan_schedule", "milestone_schedule")
#: Templates that state the late-payment charges (and so need the law's currency).
CHARGING = ("firm", "final-notice", "fee-claim")
_FRIENDLY = ("discount-offer", "friendly-pre-due", "friendly-overdue", "terms-offer", "plan-offer")


class LetterError(ValueError):
    """A letter that cannot be rendered: unknown template, unknown placeholder, unusable input."""


# --- the inputs --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Addressee:
    """Who the letter is to: the customer's name, and a contact person and postal address when known."""

    name: str
    contact: str = ""
    address: str = ""

    def pseudonymised(self, key: bytes) -> Addressee:
        """The same addressee with name, contact and address replaced by keyed pseudonyms."""
        return Addressee(*(pseudonym(v, key) if v.strip() else v for v in (self.name, self.contact, self.address)))


@dataclass(frozen=True)
class OpenInvoice:
    """One invoice on a letter: number, dates, the amount invoiced and what is still open (cents)."""

    number: str
    issue_date: date
    due_date: date
    amount_cents: int
    open_cents: int


@dataclass(frozen=True)
class Charge:
    """Statutory charges on one invoice as of the letter's date (cents)."""

    number: str
    open_cents: int
    days_late: int
    interest_cents: int
    compensation_cents: int


@dataclass(frozen=True)
class Letter:
    """A rendered letter: what it is, to whom, its date and deadline, its text and HTML, and its sums."""

    template: str
    customer: str
    as_of: date
    deadline: date
    subject: str
    text: str
    html: str
    total_open_cents: int
    charges: tuple[Charge, ...]
    schedule: tuple[tuple[str, date, int], ...]  # (label, date, cents) of a plan or extended terms

    @property
    def interest_cents(self) -> int:
        return sum(c.interest_cents for c in self.charges)

    @property
    def compensation_cents(self) -> int:
        return sum(c.compensation_cents for c in self.charges)


# --- templates ---------------------------------------------------------------------------------------------

def template_text(name: str) -> str:
    """The text of template ``name`` as shipped in ``collectsim/templates/<name>.txt``."""
    if name not in TEMPLATES:
        raise LetterError(f"unknown template {name!r}; templates are: {', '.join(TEMPLATES)}")
    return resources.files("collectsim").joinpath("templates", f"{name}.txt").read_text(encoding="utf-8")


def placeholders(text: str) -> set[str]:
    """The placeholder names used in a template text."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def parse_template(name: str, text: str | None = None) -> tuple[str, list[str]]:
    """(subject, paragraphs) of template ``name`` (or of ``text``), checked: a subject line first, only known
    placeholders, and tables alone in their paragraphs."""
    text = template_text(name) if text is None else text
    first, _, body = text.partition("\n")
    if not first.startswith("Subject:"):
        raise LetterError(f"templates/{name}.txt: the first line must be 'Subject: ...'")
    unknown = sorted(placeholders(text) - set(INLINE) - set(BLOCKS))
    if unknown:
        raise LetterError(f"templates/{name}.txt: unknown placeholder {{{unknown[0]}}}; allowed: "
                          f"{', '.join(INLINE)}; and alone in a paragraph: {', '.join(BLOCKS)}")
    paragraphs = [" ".join(p.split()) for p in body.strip().split("\n\n") if p.strip()]
    for p in paragraphs:
        blocks = placeholders(p) & set(BLOCKS)
        if blocks and p != "{" + next(iter(blocks)) + "}":
            raise LetterError(f"templates/{name}.txt: {{{sorted(blocks)[0]}}} is a table and must be alone in "
                              "its paragraph")
    return first[len("Subject:"):].strip(), paragraphs


def template_for_step(step: ReminderStep | str, days_overdue: int) -> str:
    """The template for a policy step: a reminder step (by tone, and side of the due date for a friendly
    one) or an action named 'discount', 'fees', 'terms', 'plan', 'settlement', 'agency' or 'legal'."""
    if isinstance(step, ReminderStep):
        if step.tone == "friendly":
            return "friendly-pre-due" if days_overdue < 0 else "friendly-overdue"
        return "firm" if step.tone == "firm" else "final-notice"
    named = {"discount": "discount-offer", "fees": "fee-claim", "terms": "terms-offer", "plan": "plan-offer",
             "settlement": "settlement-offer", "agency": "handover-notice", "legal": "handover-notice"}
    if step not in named:
        raise LetterError(f"unknown step {step!r}; a reminder step or one of {', '.join(named)}")
    return named[step]


# --- formatting --------------------------------------------------------------------------------------------

def money(cents: int, currency: str) -> str:
    """Integer cents as '1,234.56 EUR'."""
    return f"{cents / 100:,.2f} {currency}"


def long_date(d: date) -> str:
    """'7 December 2026'."""
    return f"{d.day} {d:%B %Y}"


def _days(n: int) -> str:
    n = max(0, int(n))
    return f"{n} day" if n == 1 else f"{n} days"


def _percent(rate: float) -> str:
    return f"{rate * 100:.2f}%"


# --- sums --------------------------------------------------------------------------------------------------

def charges_on(invoices: Sequence[OpenInvoice], jurisdiction: str, reference_rate: float, as_of: date) -> list[Charge]:
    """Statutory interest and fixed compensation on each invoice past its due date on ``as_of``."""
    rate = lpl.statutory_rate(reference_rate)
    out = []
    for inv in invoices:
        late = (as_of - inv.due_date).days
        if late <= 0:
            continue
        out.append(Charge(inv.number, inv.open_cents, late, lpl.interest_cents(inv.open_cents, rate, late),
                          lpl.fixed_compensation_cents(jurisdiction, inv.open_cents)))
    return out


def plan_schedule(balance: int, spec: PolicySpec, first: date) -> list[tuple[str, date, int]]:
    """A plan on ``balance`` cents as (label, date, cents): the down payment on ``first`` (when the policy asks
    for one), then the instalments every ``interval_days``, each an equal part of what is left and the last
    clearing it, as the engine pays them. The amounts add up to the balance."""
    plans = spec.plans
    down = rules.plan_down_payment(balance, plans.down_payment)
    out = [("Down payment", first, down)] if down else []
    left, when = balance - down, first
    for k in range(plans.instalments):
        if not down and k == 0:
            when = first
        else:
            when = when + timedelta(days=plans.interval_days)
        part = rules.instalment_amount(left, 0, plans.instalments - k, -1.0, 0)
        out.append((f"Instalment {k + 1}", when, part))
        left -= part
    return out


def milestone_schedule(balance: int, spec: PolicySpec, agreed: date) -> list[tuple[str, date, int]]:
    """Extended terms on ``balance`` cents: each milestone's share, the last taking what is left."""
    stones = spec.extended_terms.milestones
    parts = [rules.share_of(balance, m.share) for m in stones[:-1]]
    parts.append(balance - sum(parts))
    return [(f"Stage {i + 1}", agreed + timedelta(days=m.after_days), part)
            for i, (m, part) in enumerate(zip(stones, parts))]


# --- tables ------------------------------------------------------------------------------------------------

def _table(header: list[str], rows: list[list[str]], total: list[str] | None, right: set[int]) -> tuple[str, str]:
    """(text, html) of a table; columns in ``right`` are right-aligned."""
    body = rows + ([total] if total else [])
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  " + "  ".join(c.rjust(w) if i in right else c.ljust(w)
                                for i, (c, w) in enumerate(zip(cells, widths))).rstrip()
    text = [line(header), "  " + "-" * (sum(widths) + 2 * (len(widths) - 1))]
    text += [line(r) for r in rows]
    if total:
        text += ["  " + "-" * (sum(widths) + 2 * (len(widths) - 1)), line(total)]

    def cells(tag: str, row: list[str]) -> str:
        num = ' class="num"'
        return "".join(f"<{tag}{num if i in right else ''}>{html.escape(c)}</{tag}>" for i, c in enumerate(row))
    out = ["<table>", f"<thead><tr>{cells('th', header)}</tr></thead>", "<tbody>"]
    out += [f"<tr>{cells('td', r)}</tr>" for r in rows]
    out.append("</tbody>")
    if total:
        out.append(f"<tfoot><tr>{cells('th', total)}</tr></tfoot>")
    out.append("</table>")
    return "\n".join(text), "\n".join(out)


def _statement(invoices: Sequence[OpenInvoice], as_of: date, currency: str) -> tuple[str, str]:
    rows = [[i.number, i.issue_date.isoformat(), i.due_date.isoformat(), money(i.amount_cents, currency),
             money(i.open_cents, currency), str(max(0, (as_of - i.due_date).days)) if as_of > i.due_date else "-"]
            for i in invoices]
    total = ["Total", "", "", money(sum(i.amount_cents for i in invoices), currency),
             money(sum(i.open_cents for i in invoices), currency), ""]
    return _table(["Invoice", "Date", "Due date", "Amount", "Open", "Days overdue"], rows, total, {3, 4, 5})


def _charges_table(charges: Sequence[Charge], currency: str, rate: float) -> tuple[str, str]:
    rows = [[c.number, money(c.open_cents, currency), str(c.days_late), money(c.interest_cents, currency),
             money(c.compensation_cents, currency)] for c in charges]
    total = ["Total", money(sum(c.open_cents for c in charges), currency), "",
             money(sum(c.interest_cents for c in charges), currency),
             money(sum(c.compensation_cents for c in charges), currency)]
    return _table(["Invoice", "Open", "Days late", f"Interest at {_percent(rate)}", "Compensation"], rows, total,
                  {1, 2, 3, 4})


def _schedule_table(schedule: Sequence[tuple[str, date, int]], currency: str) -> tuple[str, str]:
    rows = [[label, long_date(when), money(cents, currency)] for label, when, cents in schedule]
    return _table(["Payment", "Due by", "Amount"], rows, ["Total", "", money(sum(c for *_, c in schedule), currency)],
                  {2})


# --- the letter --------------------------------------------------------------------------------------------

def compose(template: str, customer: Addressee, invoices: Sequence[OpenInvoice], *, company: Company,
            policy: PolicySpec, as_of: date, currency: str, reference_rate: float,
            deadline_days: int = DEADLINE_DAYS, handed_to: str = "agency", sample: bool = False,
            company_source: str = "company", pseudonym_key: bytes | None = None) -> Letter:
    """The letter ``template`` to ``customer`` about ``invoices`` on ``as_of``, as text and HTML.

    ``policy`` is the policy as it applies to this customer (``spec.for_segment(...)``): its offers (plan,
    extended terms, settlement, discount) and whether it claims the statutory charges. ``reference_rate`` is
    the central bank rate the statutory interest is built on (``economics.reference_rate``); the charges
    follow ``company.jurisdiction`` (:mod:`collectsim.model.late_payment_law`). ``handed_to`` is 'agency' or
    'legal' for a hand-over. Unless ``sample`` is set, every field of the company profile the letter prints
    must be filled, or a ScenarioError names the missing key (``company_source`` names the file). With
    ``pseudonym_key`` the customer's name, contact and address are replaced by keyed pseudonyms.
    """
    if not invoices:
        raise LetterError(f"{template}: a letter needs at least one invoice")
    for inv in invoices:
        if not 0 < inv.open_cents <= inv.amount_cents:
            raise LetterError(f"invoice {inv.number}: open balance {inv.open_cents} cents is not between 1 cent "
                              f"and its amount ({inv.amount_cents} cents)")
    if deadline_days < 1:
        raise LetterError(f"the deadline must be at least one day after the letter (got {deadline_days})")
    subject_text, paragraphs = parse_template(template)
    if not sample:
        company.check_sendable(company_source, handed_to=handed_to if template == "handover-notice" else "")
    if pseudonym_key is not None:
        customer = customer.pseudonymised(pseudonym_key)
    law = lpl.law(company.jurisdiction)
    if template in CHARGING and currency != law.currency:
        raise ScenarioError(company_source, "company.jurisdiction", company.jurisdiction,
                            f"the fixed sums of {law.title} are in {law.currency}, but the letters are in {currency}")
    invoices = sorted(invoices, key=lambda i: (i.due_date, i.number))
    deadline = as_of + timedelta(days=deadline_days)
    total = sum(i.open_cents for i in invoices)
    charges = charges_on(invoices, company.jurisdiction, reference_rate, as_of) if template in CHARGING else []
    rate = lpl.statutory_rate(reference_rate)
    interest = sum(c.interest_cents for c in charges)
    compensation = sum(c.compensation_cents for c in charges)
    schedule: list[tuple[str, date, int]] = []
    if template == "plan-offer":
        schedule = plan_schedule(total, policy, deadline)
    elif template == "terms-offer":
        schedule = milestone_schedule(total, policy, as_of)
    firsts = invoices[0]
    late = max((as_of - i.due_date).days for i in invoices)
    claimed = policy.fees.enforce and late >= policy.fees.claim_at_days_overdue
    if claimed:
        stance = ("We now claim these charges in addition to the open invoices: "
                  f"{money(total + interest + compensation, currency)} in all, payable by {long_date(deadline)}.")
    elif template == "firm":
        stance = f"We have not charged them so far, and will not if the balance is paid by {long_date(deadline)}."
    else:
        stance = f"If the balance is not paid by {long_date(deadline)}, we will claim them in addition to it."
    settle = total - max(0, min(total - 1, round(total * policy.settlement.forgive)))
    disc = policy.discount
    agency = handed_to != "legal"
    count = len(invoices)
    values = {
        "supplier_name": company.name, "customer_name": customer.name, "as_of": long_date(as_of),
        "invoices_below": "the invoice listed below" if count == 1 else f"the {count} invoices listed below",
        "invoice_count": "one invoice" if count == 1 else f"{count} invoices",
        "total_amount": money(sum(i.amount_cents for i in invoices), currency), "total_open": money(total, currency),
        "first_due_date": long_date(firsts.due_date), "days_to_due": _days((firsts.due_date - as_of).days),
        "max_days_overdue": _days(late), "oldest": "the invoice" if count == 1 else "the oldest invoice",
        "deadline": long_date(deadline), "law": law.title,
        "interest_rate": _percent(rate),
        "rate_basis": f"{law.reference} of {_percent(reference_rate)} plus 8 percentage points",
        "interest_total": money(interest, currency), "compensation_total": money(compensation, currency),
        "charges_total": money(interest + compensation, currency),
        "claim_total": money(total + interest + compensation, currency), "charges_stance": stance,
        "discount_rate": f"{disc.rate:.1%}".replace(".0%", "%"),
        "discount_deadline": long_date(firsts.issue_date + timedelta(days=disc.window_days)),
        "discounted_amount": money(total - round(total * disc.rate), currency),
        "down_payment": money(schedule[0][2] if template == "plan-offer" and schedule else 0, currency),
        "instalments": policy.plans.instalments,
        "instalment_amount": money((total - rules.plan_down_payment(total, policy.plans.down_payment))
                                   // max(1, policy.plans.instalments), currency),
        "interval_days": policy.plans.interval_days, "settlement_amount": money(settle, currency),
        "settlement_deadline": long_date(as_of + timedelta(days=SETTLEMENT_DAYS)),
        "handed_to": company.agency_name if agency else company.solicitor_name,
        "handed_to_contact": (company.agency_contact if agency else "") or "through the details they will send you",
        "contact_name": company.contact_name, "phone": company.phone, "email": company.email,
    }
    blocks = {"statement": _statement(invoices, as_of, currency),
              "charges": _charges_table(charges, currency, rate) if charges else ("", ""),
              "plan_schedule": _schedule_table(schedule, currency) if template == "plan-offer" else ("", ""),
              "milestone_schedule": _schedule_table(schedule, currency) if template == "terms-offer" else ("", "")}
    subject = subject_text.format_map(values)
    body_text, body_html = [], []
    for p in paragraphs:
        name = p[1:-1]
        if name in blocks:
            if blocks[name][0]:
                body_text.append(blocks[name][0])
                body_html.append(blocks[name][1])
            continue
        filled = p.format_map(values)
        body_text.append(textwrap.fill(filled, width=100))
        body_html.append(f"<p>{html.escape(filled)}</p>")
    text, page = _frame(template, customer, company, as_of, subject, body_text, body_html, sample)
    return Letter(template, customer.name, as_of, deadline, subject, text, page, total, tuple(charges),
                  tuple(schedule))


def _frame(template: str, customer: Addressee, company: Company, as_of: date, subject: str,
           body_text: list[str], body_html: list[str], sample: bool) -> tuple[str, str]:
    """The letter around the body: letterhead, addressee, date, subject, salutation, how to pay, signature."""
    head = [company.name, *[line.strip() for line in company.address.splitlines() if line.strip()]]
    reach = " | ".join(x for x in (f"Tel {company.phone}" if company.phone else "", company.email) if x)
    if reach:
        head.append(reach)
    legal = " | ".join(x for x in (company.registration, f"VAT {company.vat_number}" if company.vat_number else "")
                       if x)
    if legal:
        head.append(legal)
    if customer.contact.strip():
        to = [customer.contact.strip(), customer.name]
        salutation = f"Dear {customer.contact.strip()},"
    else:
        to = [f"To the accounts payable team of {customer.name}"]
        salutation = "Dear Sir or Madam,"
    to += [line.strip() for line in customer.address.splitlines() if line.strip()]
    pay = [] if template == "handover-notice" else company.pay_lines()
    ask = (f"Questions about the account: {company.contact_name}, {company.phone}, {company.email}."
           if company.contact_name else "")
    close = "Kind regards," if template in _FRIENDLY else "Yours sincerely,"
    sign = [company.contact_name, f"{company.contact_role}, {company.name}" if company.contact_role else company.name]
    banner = "SAMPLE LETTER: made-up company details; not for sending" if sample else ""

    text = ([banner, ""] if banner else []) + head + ["", long_date(as_of), "", *to, "", f"Subject: {subject}", "",
                                                      salutation, ""]
    for part in body_text:
        text += [part, ""]
    if pay:
        text += ["How to pay (please quote the invoice numbers):", *(f"  {line}" for line in pay), ""]
    if ask:
        text += [textwrap.fill(ask, width=100), ""]
    text += [close, "", *[s for s in sign if s]]

    e = html.escape
    page = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">', f"<title>{e(subject)}</title>",
            "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;line-height:1.4}"
            "table{border-collapse:collapse;margin:1em 0}th,td{padding:.2em .6em;border-bottom:1px solid #ccc;"
            "text-align:left}.num{text-align:right}.head{color:#333}.sample{background:#fee;padding:.5em;"
            "font-weight:bold}</style>", "</head>", "<body>"]
    if banner:
        page.append(f'<p class="sample">{e(banner)}</p>')
    page.append('<div class="head">' + "<br>".join(e(x) for x in head) + "</div>")
    page.append(f"<p>{e(long_date(as_of))}</p>")
    page.append("<p>" + "<br>".join(e(x) for x in to) + "</p>")
    page.append(f"<p><strong>{e(subject)}</strong></p>")
    page.append(f"<p>{e(salutation)}</p>")
    page += body_html
    if pay:
        page.append("<p>How to pay (please quote the invoice numbers):<br>" + "<br>".join(e(x) for x in pay) + "</p>")
    if ask:
        page.append(f"<p>{e(ask)}</p>")
    page.append(f"<p>{e(close)}</p>")
    page.append("<p>" + "<br>".join(e(s) for s in sign if s) + "</p>")
    page += ["</body>", "</html>"]
    return "\n".join(text).rstrip() + "\n", "\n".join(page) + "\n"


def letter_for_step(step: ReminderStep | str, customer: Addressee, invoices: Sequence[OpenInvoice], *,
                    as_of: date, **options) -> Letter:
    """The letter a policy step sends to ``customer`` about ``invoices`` on ``as_of`` (see :func:`compose` for
    the options); ``step`` is a reminder step or an action name (:func:`template_for_step`)."""
    late = max((as_of - i.due_date).days for i in invoices) if invoices else 0
    if step in ("agency", "legal"):
        options.setdefault("handed_to", step)
    return compose(template_for_step(step, late), customer, invoices, as_of=as_of, **options)


# --- sample letters from a run ------------------------------------------------------------------------------

def sample_letters(result, company: Company | None = None, *, company_source: str = "company",
                   deadline_days: int = DEADLINE_DAYS, pseudonym_key: bytes | None = None,
                   names: dict[int, str] | None = None) -> tuple[list[Letter], list[str]]:
    """The first letter of each kind ``result``'s policy sent, and the templates it never used.

    ``result`` is a :class:`~collectsim.results.run.RunResult`. The company profile is ``company``, else the
    scenario's ``[company]``, else :data:`SAMPLE_COMPANY` (and the letters are marked as samples). Simulated
    customers have no names: they are called "Customer 0261" unless ``names`` maps their ids to names.
    """
    from collectsim.results.letters import sample_cases

    scenario, invoices = result.scenario, result.invoices
    if company is None:
        company = scenario.company
        company_source = scenario.source
    sample = not company.given
    if sample:
        company = SAMPLE_COMPANY
    spec = scenario.policy(result.policy)
    segments = [s.name for s in scenario.portfolio.segments]
    start, econ = scenario.horizon.start_date, scenario.economics
    cases = sample_cases(result.events, invoices)
    letters = []
    for case in cases:
        seg = segments[int(invoices["segment"][case.rows[0]])]
        on = [OpenInvoice(f"INV-{int(invoices['customer'][r]):04d}-{int(invoices['seq'][r]):03d}",
                          start + timedelta(days=int(invoices["issue_day"][r])),
                          start + timedelta(days=int(invoices["due_day"][r])), int(invoices["amount"][r]), o)
              for r, o in zip(case.rows, case.open_cents)]
        who = Addressee((names or {}).get(case.customer, f"Customer {case.customer:04d}"))
        letters.append(compose(case.template, who, on, company=company, policy=spec.for_segment(seg),
                               as_of=start + timedelta(days=case.day), currency=econ.currency,
                               reference_rate=econ.reference_rate, deadline_days=deadline_days,
                               handed_to=case.handed_to or "agency", sample=sample, company_source=company_source,
                               pseudonym_key=pseudonym_key))
    sent = {c.template for c in cases}
    return letters, [n for n in TEMPLATES if n not in sent]

