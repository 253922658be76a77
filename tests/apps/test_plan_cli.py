"""`collectsim plan` on the sample ledger: actions, invoices and letters written, pseudonyms everywhere, and
one-line errors for a day before the ledger, an unknown policy and a ledger with nothing open."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from collectsim.apps.cli import main
from helpers import ROOT, SAMPLE_LEDGER

COMPANY = ROOT / "examples" / "company.toml"
KEY = "a-test-key-of-more-than-sixteen-characters"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """The sample ledger's fitted scenario (no chasing correction: the plan needs its segments and policy)."""
    out = tmp_path_factory.mktemp("fit") / "fitted.toml"
    assert main(["calibrate", str(SAMPLE_LEDGER), "--out", str(out), "--iterations", "0", "--json"]) == 0
    return out


def _plan(fitted, out, *extra):
    return main(["plan", str(SAMPLE_LEDGER), "--scenario", str(fitted), "--as-of", "2025-06-30", "--out", str(out),
                 *extra])


def test_plan_on_the_sample_ledger_writes_actions_invoices_and_one_letter_per_contact(fitted, tmp_path, capsys):
    out = tmp_path / "today"
    assert _plan(fitted, out, "--company", str(COMPANY), "--since", "2025-06-23") == 0
    printed = capsys.readouterr().out
    actions = pd.read_csv(out / "actions.csv", keep_default_na=False)
    invoices = pd.read_csv(out / "invoices.csv", keep_default_na=False)
    assert len(invoices) == 176  # every open invoice of the sample ledger, with its stage
    assert len(actions) > 0 and list(actions["priority"]) == list(range(1, len(actions) + 1))
    assert {"overdue_EUR", "value_at_stake_EUR", "work_minutes", "within_capacity"} <= set(actions.columns)
    assert list(actions["value_at_stake_EUR"]) == sorted(actions["value_at_stake_EUR"], reverse=True)
    for file in actions["letter_file"]:
        text = (out / file).read_text(encoding="utf-8")
        assert "Northwind Components Ltd" in text and "{" not in text
        assert (out / file).with_suffix(".html").is_file()
    assert f"{len(actions)} customer contacts due from 2025-06-24 to 2025-06-30" in printed
    assert "nothing was sent" in printed and str(out) in printed


def test_a_strategy_file_is_a_policy_and_its_escalations_are_planned(fitted, tmp_path, capsys):
    out = tmp_path / "aggressive"
    strategy = ROOT / "scenarios" / "strategies" / "aggressive.toml"
    assert _plan(fitted, out, "--policy", str(strategy), "--company", str(COMPANY), "--since", "2025-06-01") == 0
    assert "policy 'aggressive'" in capsys.readouterr().out
    actions = pd.read_csv(out / "actions.csv", keep_default_na=False)
    assert "handover-notice" in set(actions["letter_template"])
    assert (actions["interest_EUR"] > 0).any()


def test_pseudonymised_outputs_hold_no_customer_name_or_id(fitted, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLLECTSIM_PSEUDONYM_KEY", KEY)
    out = tmp_path / "private"
    assert _plan(fitted, out, "--pseudonymise", "--since", "2025-06-20") == 0
    printed = capsys.readouterr().out
    with open(SAMPLE_LEDGER, encoding="utf-8") as f:
        raw = {v for r in csv.DictReader(f) for v in (r["customer_id"], r["customer_name"])}
    written = printed + "".join(p.read_text(encoding="utf-8") for p in out.rglob("*") if p.is_file())
    assert len(list((out / "letters").glob("*.txt"))) > 0
    leaked = sorted(v for v in raw if v in written)
    assert leaked == []
    assert "P-" in written


@pytest.mark.parametrize(("args", "message"), [
    (["--as-of", "2025-06-01"], "before the ledger's latest date 2025-06-28"),
    (["--policy", "no-such-policy"], "no such policy; available: as-is"),
    (["--since", "2025-06-30"], "must be before the as-of date"),
])
def test_bad_requests_are_one_line_errors(fitted, tmp_path, capsys, args, message):
    argv = ["plan", str(SAMPLE_LEDGER), "--scenario", str(fitted), "--as-of", "2025-06-30", "--out",
            str(tmp_path / "x"), *args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_ledger_without_open_invoices_is_a_one_line_error(fitted, tmp_path, capsys):
    paid = tmp_path / "paid.csv"
    paid.write_text("customer_id,invoice_id,issue_date,due_date,amount,paid_date\nA,1,2025-01-01,2025-01-31,10,"
                    "2025-02-01\n", encoding="utf-8")
    argv = ["plan", str(paid), "--scenario", str(fitted), "--as-of", "2025-06-30", "--out", str(tmp_path / "x")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "no open invoices" in err and err.count("\n") == 1


def test_an_output_path_that_is_a_file_stops_before_the_ledger_is_read(fitted, tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.write_text("", encoding="utf-8")
    assert _plan(fitted, taken) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and err.count("\n") == 1


def test_lenient_mode_writes_the_rejected_rows_beside_the_plan(fitted, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    lines = SAMPLE_LEDGER.read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join([*lines, "K0001,Customer 001 Ltd,INV-X,2025-06-01,2025-07-01,not-a-number,,no,paper"])
                   + "\n", encoding="utf-8")
    argv = ["plan", str(bad), "--scenario", str(fitted), "--as-of", "2025-06-30", "--out", str(tmp_path / "x")]
    assert main(argv) == 2  # strict: the first bad row stops it
    assert "INV-X" not in capsys.readouterr().out
    assert main([*argv, "--lenient"]) == 0
    assert "1 of 1568 rows rejected" in capsys.readouterr().out
    assert "not-a-number" in (tmp_path / "x" / "rejects.csv").read_text(encoding="utf-8")


def test_an_export_is_read_through_its_mapping_file_as_calibrate_reads_it(fitted, tmp_path, capsys):
    good = ROOT / "tests" / "ledgers" / "good"
    out = tmp_path / "de"
    argv = ["plan", str(good / "de_export.csv"), "--mapping", str(good / "de_export.toml"), "--scenario", str(fitted),
            "--as-of", "2025-04-07", "--since", "2025-03-01", "--out", str(out)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "the scenario has no segment 'all'" in printed  # no segment or channel column: base rules, said
    actions = pd.read_csv(out / "actions.csv", keep_default_na=False)
    assert list(actions["invoices_due"]) == ["R-2"] and list(actions["action"]) == ["reminder step 2"]
    assert list(actions["overdue_EUR"]) == [99.9]
