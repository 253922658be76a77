"""Message templates: every one renders for a sample invoice, and the event log says which was used."""

from __future__ import annotations

import re
from datetime import date

import numpy as np
import pytest

import collectsim
from collectsim.apps.cli import main
from collectsim.results.eventlog import BALANCE_REDUCING, EventKind
from collectsim.results.letters import (
    FIELDS,
    TEMPLATES,
    LetterError,
    balance_before,
    event_templates,
    letter_values,
    money,
    placeholders,
    render,
    sample_letters,
    template_for,
    template_text,
)
from helpers import SCENARIOS

STRATEGIES = ("as-is", "firm-and-fair", "discount-led", "flexible-plans", "gentle", "aggressive")


def sample_values(spec: collectsim.PolicySpec, day: int) -> dict:
    return letter_values(customer_name="Brightwater Hotels Ltd", invoice_number="INV-2025-0042",
                         amount_cents=123456, currency="EUR", start_date=date(2025, 1, 1), issue_day=10,
                         due_day=40, day=day, spec=spec)


@pytest.mark.parametrize("policy", STRATEGIES)
@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_renders_for_every_strategy_with_nothing_left_unfilled(baseline, name, policy):
    day = 37 if name == "friendly-pre-due" else 40 + 21
    text = render(name, sample_values(baseline.policy(policy), day))
    assert "{" not in text and "}" not in text
    assert "Brightwater Hotels Ltd" in text and "INV-2025-0042" in text
    if name != "discount-offer":  # the discount letter quotes the discounted amount and the deadline
        assert "1,234.56 EUR" in text and "2025-02-10" in text  # amount and due date (day 40)
    if name in ("friendly-overdue", "firm", "final-notice", "terms-offer", "plan-offer", "settlement-offer",
                "handover-notice"):
        assert "21 days" in text


def test_templates_use_only_known_placeholders_and_each_names_the_invoice():
    for name in TEMPLATES:
        used = placeholders(template_text(name))
        assert used <= set(FIELDS), name
        assert {"customer_name", "invoice_number"} <= used, name


def test_unknown_or_missing_placeholders_fail_naming_the_template():
    with pytest.raises(LetterError, match=r"templates/firm.txt: unknown placeholder \{colour\}"):
        render("firm", {}, text="Dear {customer_name}, {colour}")
    with pytest.raises(LetterError, match=r"no value for placeholder \{customer_name\}"):
        render("firm", {}, text="Dear {customer_name}")
    with pytest.raises(LetterError, match="unknown template"):
        template_text("rude")


def test_template_follows_kind_tone_and_side_of_the_due_date():
    friendly, firm, final = (collectsim.config.policy_spec.TONES.index(t) for t in ("friendly", "firm", "final"))
    assert template_for(EventKind.REMINDER, friendly, 27, 30) == "friendly-pre-due"
    assert template_for(EventKind.REMINDER, friendly, 30, 30) == "friendly-overdue"
    assert template_for(EventKind.REMINDER, firm, 44, 30) == "firm"
    assert template_for(EventKind.REMINDER, final, 75, 30) == "final-notice"
    assert template_for(EventKind.AGENCY_PLACED, -1, 75, 30) == "handover-notice"
    assert template_for(EventKind.PAYMENT, -1, 75, 30) == ""


def test_event_templates_label_every_message_and_only_messages(small):
    result = collectsim.simulate(small, seed=3)
    labels = event_templates(result.events, result.invoices)
    kinds = result.events["kind"]
    messages = np.isin(kinds, [EventKind.REMINDER, EventKind.PLAN_OFFERED, EventKind.SETTLEMENT_OFFERED,
                               EventKind.AGENCY_PLACED, EventKind.LEGAL_FILED])
    assert (labels[messages] != "").all() and (labels[~messages] == "").all()
    # the small scenario's ladder: friendly email before due, friendly call, firm letter
    assert set(labels[messages]) == {"friendly-pre-due", "friendly-overdue", "firm"}


def test_sample_letters_show_what_the_policy_sends(baseline):
    result = collectsim.simulate(baseline, "flexible-plans", seed=2)
    letters, unused = sample_letters(result)
    sent = [letter.template for letter in letters]
    assert "plan-offer" in sent and "friendly-overdue" in sent
    assert "handover-notice" in unused and "discount-offer" in unused
    for letter in letters:
        assert not re.search(r"[{}]", letter.text)


def test_letters_command_prints_each_sample(capsys, tmp_path):
    assert main(["letters", str(SCENARIOS / "baseline.toml"), "--policy", "discount-led", "--seed", "1",
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "=== discount-offer" in out and "2% off for early payment" in out
    assert (tmp_path / "discount-offer.txt").is_file()
    assert main(["letters", str(SCENARIOS / "baseline.toml"), "--policy", "nope"]) == 2


def test_exported_event_log_names_the_template_of_each_message(small, tmp_path):
    import pandas as pd

    result = collectsim.simulate(small, seed=3)
    result.write(tmp_path)
    events = pd.read_csv(tmp_path / "events.csv", keep_default_na=False)
    reminders = events[events["kind"] == "reminder"]
    assert len(reminders) and set(reminders["template"]) <= {"friendly-pre-due", "friendly-overdue", "firm"}
    assert (events.loc[events["kind"] == "payment", "template"] == "").all()


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


def test_a_letter_after_a_part_payment_asks_for_what_is_still_open(baseline):
    result = collectsim.simulate(baseline, "flexible-plans", seed=3)
    letters, _ = sample_letters(result)
    before = balance_before(result.events, result.invoices)
    partly_paid = 0
    for letter in letters:
        customer, seq = map(int, letter.invoice_number.split("-"))
        row = int(np.flatnonzero((result.invoices["customer"] == customer) & (result.invoices["seq"] == seq))[0])
        at = np.flatnonzero((result.events["invoice"] == row) & (result.events["day"] == letter.day))
        balance, amount = int(before[at[0]]), int(result.invoices["amount"][row])
        assert f"for {money(amount, 'EUR')}" in letter.text
        if letter.template != "discount-offer":
            assert money(balance, "EUR") in letter.text
        partly_paid += balance < amount
    assert partly_paid >= 1


def test_offers_are_worked_out_from_the_open_balance_as_the_engine_does():
    spec = collectsim.load_scenario(SCENARIOS / "baseline.toml").policy("flexible-plans")
    common = dict(customer_name="A Ltd", invoice_number="7-1", amount_cents=100_000, currency="EUR",
                  start_date=date(2025, 1, 1), issue_day=0, due_day=30, day=60, spec=spec)
    whole, part = letter_values(**common), letter_values(**common, balance_cents=40_000)
    assert whole["balance"] == whole["amount"] == "1,000.00 EUR" and part["balance"] == "400.00 EUR"
    down = min(round(40_000 * spec.plans.down_payment), 39_999)
    assert part["down_payment"] == money(down, "EUR")
    assert part["instalment_amount"] == money((40_000 - down) // spec.plans.instalments, "EUR")
    forgiven = min(39_999, round(40_000 * spec.settlement.forgive))
    assert part["settlement_amount"] == money(40_000 - forgiven, "EUR")
    stages = re.findall(r"([\d,]+\.\d\d) EUR", part["milestone_schedule"])
    assert sum(round(float(s.replace(",", "")) * 100) for s in stages) == 40_000
    with pytest.raises(LetterError, match="7-1: open balance 0 cents"):
        letter_values(**common, balance_cents=0)
