"""A policy exported for its dunning tool: the file parses, its levels are the policy's steps, and what the
target cannot hold is said on stderr and in a side file."""

from __future__ import annotations

import csv
import json
import re

import pytest

import collectsim
from collectsim.apps.cli import main
from collectsim.config.company import Company
from collectsim.present.policy_export import CSV_COLUMNS, ODOO_COLUMNS, export_policy, schedule, unsupported
from helpers import SCENARIOS

STRATEGIES = SCENARIOS / "strategies"


def _steps(policy):
    return [(s.offset, s.channel, s.tone) for s in policy.reminders.steps]


@pytest.mark.parametrize("name", ["firm-and-fair", "aggressive", "flexible-plans", "discount-led"])
def test_odoo_csv_has_one_follow_up_level_per_reminder_step(tmp_path, name):
    policy = collectsim.load_strategy(STRATEGIES / f"{name}.toml")
    written = export_policy(policy, "odoo", tmp_path / "levels.csv")
    with open(tmp_path / "levels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == ODOO_COLUMNS
    assert [int(r["delay"]) for r in rows] == [s.offset for s in policy.reminders.steps]
    for row, step in zip(rows, policy.reminders.steps):
        assert row["send_email"] == str(step.channel == "email") and row["send_letter"] == str(step.channel == "letter")
        assert row["create_activity"] == str(step.channel == "phone")
        assert (row["activity_type_id"] == "Call") == (step.channel == "phone")
        assert step.tone in row["name"]
        assert re.search(r"\((friendly-(pre-due|overdue)|firm|final-notice)\)$", row["name"])
    assert len({r["name"] for r in rows}) == len(rows)  # Odoo wants level names unique
    assert len(written.levels) == len(rows)


def test_erpnext_json_has_one_dunning_type_per_step_with_fee_and_interest(tmp_path):
    policy = collectsim.load_strategy(STRATEGIES / "aggressive.toml")  # claims fees from day 1
    company = Company(name="Brightwater Supplies GmbH", contact_name="Jana Weber", phone="+49 40 1", jurisdiction="eu")
    export_policy(policy, "erpnext", tmp_path / "dunning.json", company=company, reference_rate=0.0215)
    docs = json.loads((tmp_path / "dunning.json").read_text(encoding="utf-8"))
    assert [d["doctype"] for d in docs] == ["Dunning Type"] * len(policy.reminders.steps)
    assert [d["dunning_type"] for d in docs] == ["aggressive +1d firm email", "aggressive +7d firm phone",
                                                 "aggressive +14d final letter"]
    assert all(d["company"] == "Brightwater Supplies GmbH" for d in docs)
    assert [d["rate_of_interest"] for d in docs] == [10.15] * 3  # 2.15% + 8 points, from the claim day on
    assert [d["dunning_fee"] for d in docs] == [40.0, 0.0, 0.0]  # the fixed sum once, with the claim
    text = docs[0]["dunning_letter_text"][0]
    assert text["language"] == "en" and text["is_default_language"] == 1
    body = text["body_text"]
    assert "{{ total_outstanding }}" in body and "{{ rate_of_interest }}%" in body and "Jana Weber" in body
    assert not re.search(r"(?<!\{)\{[a-z_]+\}(?!\})", body)  # every collectsim placeholder was replaced


def test_erpnext_without_fees_claims_no_interest(tmp_path):
    policy = collectsim.load_strategy(STRATEGIES / "firm-and-fair.toml")
    written = export_policy(policy, "erpnext", tmp_path / "d.json")
    docs = json.loads((tmp_path / "d.json").read_text(encoding="utf-8"))
    assert all(d["rate_of_interest"] == 0 and d["dunning_fee"] == 0 for d in docs)
    assert "company" not in docs[0] and any("no company profile" in w for w in written.warnings)


def test_neutral_csv_holds_the_whole_schedule(tmp_path):
    policy = collectsim.load_strategy(STRATEGIES / "aggressive.toml")
    export_policy(policy, "csv", tmp_path / "s.csv")
    with open(tmp_path / "s.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS
    reminders = [(int(r["day"]), r["channel"], r["tone"]) for r in rows if r["action"] == "reminder"]
    assert reminders == _steps(policy)
    actions = [(int(r["day"]), r["action"]) for r in rows]
    assert (1, "fee-claim") in actions and (30, "agency") in actions and (90, "legal") in actions
    assert actions[-1] == (365, "write-off") and [d for d, _ in actions] == sorted(d for d, _ in actions)
    fee = next(r for r in rows if r["action"] == "fee-claim")
    assert float(fee["fee"]) == 40.0 and fee["template"] == "fee-claim"


def test_warnings_list_the_levers_the_target_cannot_hold():
    plans = collectsim.load_strategy(STRATEGIES / "flexible-plans.toml")
    said = " | ".join(unsupported(plans, "odoo"))
    assert "instalment plans" in said and "pausing reminders on disputed invoices" in said
    agg = " | ".join(unsupported(collectsim.load_strategy(STRATEGIES / "aggressive.toml"), "erpnext"))
    assert "collection agency at day 30" in agg and "legal action at day 90" in agg and "has no day" in agg
    disc = " | ".join(unsupported(collectsim.load_strategy(STRATEGIES / "discount-led.toml"), "odoo"))
    assert "early-payment discount" in disc
    fair = collectsim.load_strategy(STRATEGIES / "firm-and-fair.toml")
    assert any("pays-late" in w and "--target" in w for w in unsupported(fair, "odoo"))
    assert any("pays-late" in w for w in unsupported(fair, "csv"))
    by_segment = fair.with_values({"segments": {"slow": {"write_off": {"age_days": 200}}}})
    assert any("slow" in w and "--segment" in w for w in unsupported(by_segment, "odoo"))
    assert not unsupported(collectsim.load_strategy(STRATEGIES / "aggressive.toml"), "csv")


def test_the_schedule_follows_the_policy_levers():
    policy = collectsim.PolicySpec(name="p").with_values({
        "plans.offer": True, "plans.after_days_overdue": 21, "settlement.offer": True,
        "extended_terms.offer": True, "escalation.agency": True})
    actions = {lv.action: lv.day for lv in schedule(policy)}
    assert actions == {"terms-offer": 15, "plan-offer": 21, "agency": 90, "settlement-offer": 120, "write-off": 365}


def test_export_command_writes_the_file_and_the_warnings(tmp_path, capsys):
    out = tmp_path / "followup.csv"
    assert main(["export", str(STRATEGIES / "flexible-plans.toml"), "--to", "odoo", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert "4 follow-up levels of policy 'flexible-plans' written" in captured.out
    assert "warning: instalment plans" in captured.err
    notes = (tmp_path / "followup.csv.warnings.txt").read_text(encoding="utf-8")
    assert "instalment plans" in notes and notes.startswith("# What the odoo export")


def test_export_command_takes_a_scenario_and_a_policy_name_or_a_target(tmp_path, capsys):
    out = tmp_path / "d.json"
    argv = ["export", str(SCENARIOS / "baseline.toml"), "--policy", "firm-and-fair", "--to", "erpnext",
            "--out", str(out), "--target", "pays-late"]
    assert main(argv) == 0
    docs = json.loads(out.read_text(encoding="utf-8"))
    assert [d["dunning_type"] for d in docs][1] == "firm-and-fair +1d firm phone"  # the target's ladder
    assert main([*argv[:-2], "--target", "nobody"]) == 2
    assert "no target of this name; targets: pays-late" in capsys.readouterr().err
    assert main([*argv[:-2], "--segment", "nobody"]) == 2
    assert "no override for this segment" in capsys.readouterr().err
    assert main(["export", str(STRATEGIES / "gentle.toml"), "--policy", "x", "--to", "csv", "--out", str(out)]) == 2
    assert main(["export", str(SCENARIOS / "baseline.toml"), "--policy", "nope", "--to", "csv", "--out",
                 str(out)]) == 2
    assert main(["export", str(STRATEGIES / "gentle.toml"), "--to", "csv", "--out", str(tmp_path / "no" / "x")]) == 2
    assert "does not exist" in capsys.readouterr().err
