"""Letters that can be sent: every template renders as a statement, with the company's details, the law's
charges worked out by hand here, a dated deadline, and nothing internal; the event log says which was used."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from datetime import date

import numpy as np
import pytest

import collectsim
from collectsim.apps.cli import main
from collectsim.config.company import SAMPLE_COMPANY, Company
from collectsim.config.schema import ScenarioError
from collectsim.model import late_payment_law as lpl
from collectsim.present.letters import (
    BLOCKS,
    INLINE,
    Addressee,
    LetterError,
    OpenInvoice,
    compose,
    letter_for_step,
    money,
    parse_template,
    placeholders,
    sample_letters,
    template_for_step,
    template_text,
)
from collectsim.results.eventlog import BALANCE_REDUCING, EventKind
from collectsim.results.letters import TEMPLATES, balance_before, event_templates, sample_cases, template_for
from helpers import SCENARIOS

STRATEGIES = ("as-is", "firm-and-fair", "discount-led", "flexible-plans", "gentle", "aggressive")

EU = Company(name="Brightwater Supplies GmbH", address="Hafenstrasse 1\n20457 Hamburg", registration="HRB 1234",
             contact_name="Jana Weber", phone="+49 40 1234 5678", email="ar@brightwater.example",
             iban="DE89 3704 0044 0532 0130 00", bic="COBADEFFXXX", jurisdiction="eu",
             agency_name="Nordinkasso GmbH", agency_contact="+49 40 999 0000", solicitor_name="Weber & Co")
UK = replace(EU, name="Brightwater Supplies Ltd", address="1 Quay Street\nBristol BS1 1AA",
             registration="Registered in England and Wales no. 01234567", iban="", bic="",
             account="Sort code 12-34-56, account 12345678", jurisdiction="uk")
CUSTOMER = Addressee("Harbour Hotels Ltd")
AS_OF = date(2025, 3, 17)
#: Two overdue invoices: 45 and 14 days late on 17 March 2025.
OVERDUE = (OpenInvoice("INV-0042", date(2025, 1, 1), date(2025, 1, 31), 150_000, 123_456),
           OpenInvoice("INV-0057", date(2025, 2, 1), date(2025, 3, 3), 250_000, 250_000))
NOT_YET_DUE = (OpenInvoice("INV-0063", date(2025, 3, 1), date(2025, 3, 31), 80_000, 80_000),)


def letter(name: str, policy: collectsim.PolicySpec, company: Company = EU, invoices=OVERDUE, **kw):
    kw.setdefault("currency", "GBP" if company.jurisdiction == "uk" else "EUR")
    kw.setdefault("reference_rate", 0.0215)
    return compose(name, kw.pop("customer", CUSTOMER), invoices, company=company, policy=policy,
                   as_of=kw.pop("as_of", AS_OF), **kw)


def _internal_labels(scenario) -> list[str]:
    return [s.name for s in scenario.portfolio.segments]


# --- every template, every strategy -------------------------------------------------------------------------

@pytest.mark.parametrize("policy", STRATEGIES)
@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_renders_a_sendable_statement_with_nothing_left_unfilled(baseline, name, policy):
    invoices = NOT_YET_DUE if name in ("discount-offer", "friendly-pre-due") else OVERDUE
    out = letter(name, baseline.policy(policy), invoices=invoices)
    for text in (out.text, out.subject):
        assert not re.search(r"[{}<>]", text), text  # no placeholder, no markup left in the text
    body = re.sub(r"<[^>]+>", "", re.sub(r"<style>.*?</style>", "", out.html, flags=re.S))  # the words only
    assert not re.search(r"[{}<>]", body), body
    for label in _internal_labels(baseline):  # no segment name reaches a customer
        assert not re.search(rf"\b{re.escape(label)}\b", out.text + out.html, re.IGNORECASE), label
    assert "Harbour Hotels Ltd" in out.text and "Dear Sir or Madam," in out.text
    assert "To the accounts payable team of Harbour Hotels Ltd" in out.text
    for inv in invoices:  # a statement of the invoices: number, dates, amount and what is open
        row = next(line for line in out.text.splitlines()
                   if line.strip().startswith(inv.number) and inv.issue_date.isoformat() in line)
        assert inv.due_date.isoformat() in row
        assert money(inv.open_cents, "EUR") in row and money(inv.amount_cents, "EUR") in row
    assert "Brightwater Supplies GmbH" in out.text and "HRB 1234" in out.text and "Jana Weber" in out.text
    if name != "handover-notice":
        assert "IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX" in out.text
    if invoices is OVERDUE:
        assert "Total" in out.text and money(373_456, "EUR") in out.text


def test_the_statement_table_lists_days_overdue_and_a_total():
    out = letter("friendly-overdue", collectsim.PolicySpec(name="p"))
    rows = {line.split()[0]: line.split() for line in out.text.splitlines() if line.strip().startswith("INV-")}
    assert rows["INV-0042"][-1] == "45" and rows["INV-0057"][-1] == "14"
    total = next(line for line in out.text.splitlines() if line.strip().startswith("Total"))
    assert total.split()[-2:] == ["3,734.56", "EUR"]


def test_templates_use_only_known_placeholders_and_each_lists_its_invoices():
    for name in TEMPLATES:
        used = placeholders(template_text(name))
        assert used <= set(INLINE) | set(BLOCKS), name
        assert "statement" in used, name
        parse_template(name)  # a subject line, tables alone in their paragraphs


def test_a_broken_template_fails_naming_the_file_and_the_placeholder():
    with pytest.raises(LetterError, match=r"templates/firm.txt: unknown placeholder \{colour\}"):
        parse_template("firm", "Subject: x\n\nDear {colour}")
    with pytest.raises(LetterError, match="first line must be 'Subject"):
        parse_template("firm", "Dear you")
    with pytest.raises(LetterError, match=r"\{statement\} is a table and must be alone"):
        parse_template("firm", "Subject: x\n\nSee {statement} here")
    with pytest.raises(LetterError, match="unknown template"):
        template_text("rude")


def test_a_known_contact_is_greeted_by_name_with_the_customers_address():
    out = letter("friendly-overdue", collectsim.PolicySpec(name="p"),
                 customer=Addressee("Harbour Hotels Ltd", "Ms Priya Shah", "2 Dock Road\nCardiff CF10 1AA"))
    assert "Dear Ms Priya Shah," in out.text and "Sir or Madam" not in out.text
    assert "Cardiff CF10 1AA" in out.text and "accounts payable team" not in out.text


# --- the law's charges, worked out by hand ------------------------------------------------------------------

def test_eu_interest_and_compensation_are_worked_out_per_invoice():
    # 10.15% a year (2.15% + 8 points), simple, 365-day year:
    #   INV-0042: 1,234.56 x 10.15% x 45 / 365 = 15.4489... -> 15.45; INV-0057: 2,500.00 x 10.15% x 14 / 365 = 9.73
    out = letter("final-notice", collectsim.PolicySpec(name="p"))
    assert [(c.number, c.days_late, c.interest_cents, c.compensation_cents) for c in out.charges] == [
        ("INV-0042", 45, 1545, 4000), ("INV-0057", 14, 973, 4000)]
    assert "10.15% a year" in out.text and "Directive 2011/7/EU" in out.text
    assert "25.18 EUR in interest and 80.00 EUR in compensation" in " ".join(out.text.split())


def test_uk_fixed_sums_follow_the_debt_bands_at_their_boundaries():
    assert [lpl.fixed_compensation_cents("uk", c) for c in (1, 99_999, 100_000, 999_999, 1_000_000, 10**9)] == [
        4_000, 4_000, 7_000, 7_000, 10_000, 10_000]
    assert lpl.fixed_compensation_cents("eu", 1) == lpl.fixed_compensation_cents("eu", 10**9) == 4_000
    due = date(2025, 1, 31)
    invoices = [OpenInvoice(f"UK-{c}", date(2025, 1, 1), due, c, c) for c in (99_999, 100_000, 999_999, 1_000_000)]
    out = letter("fee-claim", collectsim.PolicySpec(name="p"), company=UK, invoices=invoices,
                 as_of=date(2025, 3, 2), reference_rate=0.0475)
    # 12.75% a year for 30 days: 999.99 -> 10.48, 1,000.00 -> 10.48, 9,999.99 -> 104.79, 10,000.00 -> 104.79
    charges = {c.number: (c.interest_cents, c.compensation_cents) for c in out.charges}
    assert charges == {"UK-99999": (1048, 4000), "UK-100000": (1048, 7000), "UK-999999": (10479, 7000),
                       "UK-1000000": (10479, 10000)}
    text = " ".join(out.text.split())
    assert "Late Payment of Commercial Debts (Interest) Act 1998" in text and "12.75% a year" in text
    assert "Interest: 230.54 GBP. Compensation: 280.00 GBP." in text
    assert "Bank of England base rate of 4.75%" in text and "Sort code 12-34-56, account 12345678" in text


def test_interest_is_simple_rounded_half_up_and_nothing_before_the_due_date():
    assert lpl.interest_cents(36_500, 0.10, 1) == 10  # exactly 10 cents a day
    assert lpl.interest_cents(100, 0.0365, 5) == 0  # 0.05 cents
    assert lpl.interest_cents(1000, 0.0365, 5) == 1  # 0.5 cents, half up
    assert lpl.interest_cents(123_456, 0.10, 0) == lpl.interest_cents(123_456, 0.10, -3) == 0
    assert lpl.statutory_rate(0.0215) == pytest.approx(0.1015)


def test_charges_are_claimed_only_where_the_policy_claims_them(baseline):
    claims = letter("firm", baseline.policy("aggressive"))  # enforce, from day 1
    waives = letter("firm", baseline.policy("as-is"))
    assert "We now claim these charges" in claims.text and "3,839.74 EUR in all" in " ".join(claims.text.split())
    assert "We have not charged them so far" in waives.text and "We now claim" not in waives.text


def test_a_letter_stating_charges_in_the_wrong_currency_for_the_law_is_refused():
    with pytest.raises(ScenarioError, match=r"company.jurisdiction = 'uk'.*in GBP, but the letters are in EUR"):
        letter("firm", collectsim.PolicySpec(name="p"), company=UK, currency="EUR")
    letter("friendly-overdue", collectsim.PolicySpec(name="p"), company=UK, currency="EUR")  # no charges: fine


# --- deadlines and offers -----------------------------------------------------------------------------------

def test_final_notice_and_fee_claim_carry_a_dated_deadline():
    policy = collectsim.PolicySpec(name="p")
    assert "by 27 March 2025" in letter("final-notice", policy).text  # 17 March + 10 days
    late = letter("final-notice", policy, deadline_days=21)
    assert "by 7 April 2025" in late.text and late.deadline == date(2025, 4, 7)
    assert "by 27 March 2025" in " ".join(letter("fee-claim", policy).text.split())
    with pytest.raises(LetterError, match="at least one day"):
        letter("final-notice", policy, deadline_days=0)


@pytest.mark.parametrize("down, instalments, interval", [(0.2, 3, 30), (0.0, 4, 14), (0.5, 1, 60), (0.1, 7, 30)])
def test_plan_offer_lists_dated_instalments_that_add_up_to_the_balance(down, instalments, interval):
    policy = collectsim.PolicySpec(name="p").with_values({"plans.offer": True, "plans.down_payment": down,
                                                          "plans.instalments": instalments,
                                                          "plans.interval_days": interval})
    out = letter("plan-offer", policy)
    assert sum(cents for *_, cents in out.schedule) == 373_456
    assert len(out.schedule) == instalments + (1 if down else 0)
    days = [(when - AS_OF).days for _, when, _ in out.schedule]
    assert days == [10 + k * interval for k in range(len(days))]  # first by the deadline, then each interval
    for label, when, cents in out.schedule:
        row = next(line for line in out.text.splitlines() if line.strip().startswith(label))
        assert f"{when.day} {when:%B %Y}" in row and money(cents, "EUR") in row


def test_terms_and_settlement_offers_are_worked_out_from_the_open_balance(baseline):
    policy = baseline.policy("flexible-plans").with_values({"extended_terms.offer": True, "settlement.offer": True,
                                                            "settlement.forgive": 0.25})
    terms = letter("terms-offer", policy)
    assert sum(cents for *_, cents in terms.schedule) == 373_456
    settle = letter("settlement-offer", policy)
    assert "pay 2,800.92 EUR by 31 March 2025" in " ".join(settle.text.split())  # 3,734.56 less 25%


def test_handover_names_the_agency_or_the_solicitors_and_needs_them():
    policy = collectsim.PolicySpec(name="p")
    agency = letter("handover-notice", policy)
    assert "passed to Nordinkasso GmbH" in agency.subject and "+49 40 999 0000" in agency.text
    legal = letter("handover-notice", policy, handed_to="legal")
    assert "Weber & Co" in legal.text
    with pytest.raises(ScenarioError, match=r"company.agency_name: missing"):
        letter("handover-notice", policy, company=replace(EU, agency_name=""))


def test_a_step_of_the_policy_picks_its_letter():
    firm, final, friendly = (collectsim.config.policy_spec.ReminderStep(offset=o, tone=t)
                             for o, t in ((14, "firm"), (45, "final"), (-3, "friendly")))
    assert template_for_step(firm, 14) == "firm" and template_for_step(final, 45) == "final-notice"
    assert template_for_step(friendly, -3) == "friendly-pre-due"
    assert template_for_step(friendly, 2) == "friendly-overdue"
    assert template_for_step("plan", 30) == "plan-offer" and template_for_step("legal", 200) == "handover-notice"
    out = letter_for_step("legal", CUSTOMER, OVERDUE, as_of=AS_OF, company=EU, policy=collectsim.PolicySpec(name="p"),
                          currency="EUR", reference_rate=0.02)
    assert out.template == "handover-notice" and "Weber & Co" in out.text
    with pytest.raises(LetterError, match="unknown step"):
        template_for_step("shout", 3)


# --- the company profile ------------------------------------------------------------------------------------

@pytest.mark.parametrize("key", ["name", "address", "registration", "contact_name", "phone", "email"])
def test_a_sendable_letter_without_a_required_profile_field_names_the_key(key):
    with pytest.raises(ScenarioError, match=rf"^my.toml: company.{key}: missing"):
        letter("firm", collectsim.PolicySpec(name="p"), company=replace(EU, **{key: ""}), company_source="my.toml")


def test_payment_details_may_be_an_iban_an_account_or_a_link_but_one_is_needed():
    none = replace(EU, iban="", bic="")
    with pytest.raises(ScenarioError, match=r"company.iban: missing.*account or payment_link"):
        letter("firm", collectsim.PolicySpec(name="p"), company=none)
    linked = letter("firm", collectsim.PolicySpec(name="p"), company=replace(none, payment_link="https://pay.example/x"))
    assert "Online at https://pay.example/x" in linked.text


def test_a_company_table_in_a_scenario_is_validated_and_documented(tmp_path):
    text = (SCENARIOS / "baseline.toml").read_text(encoding="utf-8")
    path = tmp_path / "with-company.toml"
    path.write_text(text + '\n[company]\nname = "A Ltd"\njurisdiction = "uk"\n', encoding="utf-8")
    (tmp_path / "strategies").symlink_to(SCENARIOS / "strategies")
    scenario = collectsim.load_scenario(path)
    assert scenario.company.name == "A Ltd" and scenario.company.jurisdiction == "uk" and scenario.company.given
    path.write_text(text + '\n[company]\njurisdiction = "us"\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"company.jurisdiction = 'us': must be one of 'eu', 'uk'"):
        collectsim.load_scenario(path)


def test_pseudonymised_letters_hide_the_customer_but_keep_the_sums():
    key = b"0123456789abcdef-test"
    who = Addressee("Harbour Hotels Ltd", "Ms Priya Shah", "2 Dock Road")
    out = letter("firm", collectsim.PolicySpec(name="p"), customer=who, pseudonym_key=key)
    for private in ("Harbour Hotels", "Priya", "Dock Road"):
        assert private not in out.text and private not in out.html
    assert re.search(r"P-[0-9a-f]{16}", out.text) and money(373_456, "EUR") in out.text


def test_user_text_in_the_html_letter_is_escaped():
    evil = replace(EU, name="<script>alert(1)</script> Ltd")
    out = letter("firm", collectsim.PolicySpec(name="p"), company=evil, customer=Addressee("<b>bold</b> plc"))
    assert "<script>" not in out.html and "<b>bold</b>" not in out.html
    assert "&lt;script&gt;" in out.html


# --- which letter each event sent, and samples from a run ---------------------------------------------------

def test_template_follows_kind_tone_and_side_of_the_due_date():
    friendly, firm, final = (collectsim.config.policy_spec.TONES.index(t) for t in ("friendly", "firm", "final"))
    assert template_for(EventKind.REMINDER, friendly, 27, 30) == "friendly-pre-due"
    assert template_for(EventKind.REMINDER, friendly, 30, 30) == "friendly-overdue"
    assert template_for(EventKind.REMINDER, firm, 44, 30) == "firm"
    assert template_for(EventKind.REMINDER, final, 75, 30) == "final-notice"
    assert template_for(EventKind.FEES_CLAIMED, -1, 31, 30) == "fee-claim"
    assert template_for(EventKind.AGENCY_PLACED, -1, 75, 30) == "handover-notice"
    assert template_for(EventKind.PAYMENT, -1, 75, 30) == ""


def test_event_templates_label_every_message_and_only_messages(small):
    result = collectsim.simulate(small, seed=3)
    labels = event_templates(result.events, result.invoices)
    kinds = result.events["kind"]
    messages = np.isin(kinds, [EventKind.REMINDER, EventKind.PLAN_OFFERED, EventKind.SETTLEMENT_OFFERED,
                               EventKind.AGENCY_PLACED, EventKind.LEGAL_FILED, EventKind.FEES_CLAIMED,
                               EventKind.TERMS_OFFERED])
    assert (labels[messages] != "").all() and (labels[~messages] == "").all()
    # the small scenario's ladder: friendly email before due, friendly call, firm letter
    assert set(labels[messages]) == {"friendly-pre-due", "friendly-overdue", "firm"}


def test_sample_letters_are_marked_samples_with_no_internal_label(baseline):
    result = collectsim.simulate(baseline, "aggressive", seed=2)
    letters, unused = sample_letters(result)
    sent = [x.template for x in letters]
    assert {"firm", "final-notice", "fee-claim", "handover-notice"} <= set(sent)
    assert "plan-offer" in unused and "discount-offer" in unused
    for x in letters:
        assert x.text.startswith("SAMPLE LETTER") and SAMPLE_COMPANY.name in x.text
        assert not re.search(r"[{}]", x.text)
        assert re.search(r"Customer \d{4}\b", x.text) and not re.search(r"Customer \d{4} \(", x.text)
        for label in _internal_labels(baseline):
            assert not re.search(rf"\b{re.escape(label)}\b", x.text, re.IGNORECASE), (x.template, label)


def test_sample_letters_use_the_given_profile_and_are_then_not_samples(baseline):
    result = collectsim.simulate(baseline, "aggressive", seed=2)
    letters, _ = sample_letters(result, EU)
    assert letters and all("SAMPLE" not in x.text and "Brightwater Supplies GmbH" in x.text for x in letters)


def test_a_statement_from_a_run_lists_what_was_open_on_each_invoice_that_day(baseline):
    result = collectsim.simulate(baseline, "flexible-plans", seed=3)
    events, invoices = result.events, result.invoices
    before = balance_before(events, invoices)
    partly = 0
    for case in sample_cases(events, invoices):
        assert all(invoices["customer"][r] == case.customer for r in case.rows)
        for row, left in zip(case.rows, case.open_cents):
            assert 0 < left <= invoices["amount"][row]
            if case.template != "discount-offer":
                assert invoices["due_day"][row] < case.day or case.template == "friendly-pre-due"
            at = np.flatnonzero((events["invoice"] == row) & (events["day"] == case.day))
            if len(at) and case.template != "discount-offer":
                assert before[at[0]] == left
            partly += left < invoices["amount"][row]
    assert partly >= 1


def test_balance_before_each_event_follows_the_invoice_down_to_its_final_balance(baseline):
    result = collectsim.simulate(baseline, "flexible-plans", seed=3)
    events, invoices = result.events, result.invoices
    before = balance_before(events, invoices)
    reducing = np.isin(events["kind"], BALANCE_REDUCING)
    seen = {}
    for i, row in enumerate(events["invoice"]):  # the slow way: walk the log in order
        if row < 0:
            assert before[i] == 0
            continue
        open_now = seen.get(row, int(invoices["amount"][row]))
        assert before[i] == open_now
        if reducing[i]:
            assert 0 < events["amount"][i] <= open_now
            seen[row] = open_now - int(events["amount"][i])
    assert any(v < invoices["amount"][r] for r, v in seen.items())  # part payments did happen
    for row, left in seen.items():
        assert left == invoices["balance"][row]


def test_exported_event_log_names_the_template_of_each_message(small, tmp_path):
    import pandas as pd

    result = collectsim.simulate(small, seed=3)
    result.write(tmp_path)
    events = pd.read_csv(tmp_path / "events.csv", keep_default_na=False)
    reminders = events[events["kind"] == "reminder"]
    assert len(reminders) and set(reminders["template"]) <= {"friendly-pre-due", "friendly-overdue", "firm"}
    assert (events.loc[events["kind"] == "payment", "template"] == "").all()


# --- the command --------------------------------------------------------------------------------------------

def _company_file(tmp_path, **changes):
    fields = {k: v for k, v in vars(replace(EU, **changes)).items() if v}
    lines = ["[company]"] + [f"{k} = {v!r}".replace("'", '"') if "\n" not in v else f'{k} = """{v}"""'
                             for k, v in fields.items()]
    path = tmp_path / "company.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_letters_command_prints_each_sample_and_writes_text_and_html(capsys, tmp_path):
    assert main(["letters", str(SCENARIOS / "baseline.toml"), "--policy", "discount-led", "--seed", "1",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "=== discount-offer" in out and "2% off if paid by" in out and "SAMPLE LETTER" in out
    assert (tmp_path / "discount-offer.txt").is_file()
    page = (tmp_path / "discount-offer.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<table>" in page
    assert main(["letters", str(SCENARIOS / "baseline.toml"), "--policy", "nope"]) == 2


def test_letters_command_fills_the_given_company_and_names_a_missing_key(capsys, tmp_path):
    path = _company_file(tmp_path)
    argv = ["letters", str(SCENARIOS / "baseline.toml"), "--policy", "aggressive", "--company", str(path),
            "--deadline-days", "14"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "Brightwater Supplies GmbH" in out and "SAMPLE" not in out and "Nordinkasso GmbH" in out
    path = _company_file(tmp_path, phone="")
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {path}: company.phone: missing; letters that can be sent print it (or leave the whole " \
                  "profile out for marked sample letters)"


def test_letters_command_pseudonymises_on_request(capsys, monkeypatch):
    argv = ["letters", str(SCENARIOS / "baseline.toml"), "--policy", "aggressive", "--pseudonymise"]
    monkeypatch.delenv("COLLECTSIM_PSEUDONYM_KEY", raising=False)
    assert main(argv) == 2
    assert "at least 16 characters" in capsys.readouterr().err
    monkeypatch.setenv("COLLECTSIM_PSEUDONYM_KEY", "a-key-of-sixteen-or-more")
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert not re.search(r"Customer \d{4}", out) and re.search(r"accounts payable team of P-[0-9a-f]{16}", out)
    assert os.environ["COLLECTSIM_PSEUDONYM_KEY"] not in out
