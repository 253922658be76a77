"""`collectsim calibrate`: the written scenario, --validate --json, bad input, lenient rejects, pseudonyms."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import collectsim
from collectsim.apps.cli import main
from collectsim.calibration.survival import km_curve, km_quantile, km_survival_at
from helpers import TESTS

HERE = TESTS
SAMPLE = HERE.parent / "examples" / "sample_ledger.csv"


def test_calibrate_writes_a_loadable_scenario_and_prints_validation_json(tmp_path, capsys):
    out = tmp_path / "mine.toml"
    code = main(["calibrate", str(SAMPLE), "--out", str(out), "--validate", "--json", "--iterations", "1",
                 "--report-dir", str(tmp_path / "report")])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    payload = json.loads(captured.out)
    for side in ("history", "simulated"):
        for key in ("invoices", "share_late", "days_to_pay_p50", "days_to_pay_p90"):
            assert key in payload[side]
        assert set(payload[side]["by_disputed"]) == {"yes", "no"}
        assert set(payload[side]["by_channel"]) == {"paper", "electronic"}
    scn = collectsim.load_scenario(out)
    assert scn.policy("as-is") is not None
    assert "ASSUMED practice" in out.read_text(encoding="utf-8")
    for name in ("summary.csv", "customers.csv", "rounds.csv", "validation.csv", "qq.png"):
        assert (tmp_path / "report" / name).is_file()


def test_an_unseen_export_shape_calibrates_through_a_mapping_file(tmp_path, capsys):
    """Mapped column names, month-first dates, '$1,234.50' amounts, only settled invoices."""
    good = HERE / "ledgers" / "good"
    out = tmp_path / "us.toml"
    code = main(["calibrate", str(good / "us_export.csv"), "--mapping", str(good / "us_export.toml"),
                 "--out", str(out), "--iterations", "1"])
    assert code == 0, capsys.readouterr().err
    text = out.read_text(encoding="utf-8")
    assert "4 invoices (4 settled, 0 open" in text and "rough values" in text
    # two channels of two invoices each: too small to fit apart, merged into one segment (issue 22) that says so
    assert {s.name for s in collectsim.load_scenario(out).portfolio.segments} == {"paper"}
    assert "with the ledger's electronic: fewer than 10 customers or 100 invoices" in text


def test_a_given_as_is_policy_is_the_written_scenarios_as_is(tmp_path, capsys):
    policy = tmp_path / "ours.toml"
    policy.write_text('[policy]\nname = "ours"\nreminders.steps = [{ offset = -3, channel = "email" }]\n',
                      encoding="utf-8")
    out = tmp_path / "mine.toml"
    assert main(["calibrate", str(SAMPLE), "--out", str(out), "--as-is", str(policy), "--iterations", "1"]) == 0
    steps = collectsim.load_scenario(out).policy("as-is").reminders.steps
    assert [s.offset for s in steps] == [-3]
    assert "given with --as-is" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("name, words", [("bad_date.csv", "line 4, column 'issue_date'"),
                                          ("ambiguous_dates.csv", "refusing to guess"),
                                          ("missing_column.csv", "missing required column")])
def test_bad_ledgers_are_one_line_errors_with_exit_code_2(name, words, tmp_path, capsys):
    code = main(["calibrate", str(HERE / "ledgers" / name), "--out", str(tmp_path / "x.toml")])
    err = capsys.readouterr().err
    assert code == 2
    assert words in err and "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "x.toml").exists()


def test_lenient_mode_writes_every_rejected_row_and_fits_the_rest(tmp_path, capsys):
    import pandas as pd
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()  # customer_id,customer_name,invoice_id,...
    rows = [line.split(",") for line in lines[:40]]
    rows[3][5] = "-12.00"                                       # line 4: negative amount
    dup = list(rows[5])
    dup[0] = "X"                                                # line 41: invoice id of line 6 again
    when = ["Y", "New Co", "NEW-1", "2025-99-01", "2025-01-01", "5", "", "no", "paper"]  # line 42: no such date
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("\n".join(",".join(r) for r in rows + [dup, when]) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    code = main(["calibrate", str(ledger), "--out", str(tmp_path / "x.toml"), "--lenient", "--rejects", str(rejects),
                 "--iterations", "0"])
    assert code == 0, capsys.readouterr().err
    table = pd.read_csv(rejects)
    assert list(table["line"]) == [4, 41, 42]
    assert list(table["column"]) == ["amount", "invoice_id", "issue_date"]
    assert "negative" in table["reason"][0] and "duplicate" in table["reason"][1]
    assert "cannot be read" in table["reason"][2]


def test_pseudonymise_replaces_customer_ids_everywhere_and_never_writes_the_key(tmp_path, capsys, monkeypatch):
    key = "a-secret-key-of-the-finance-team"
    monkeypatch.setenv("COLLECTSIM_PSEUDONYM_KEY", key)
    ledger = tmp_path / "ledger.csv"
    shutil.copy(SAMPLE, ledger)
    with ledger.open("a", encoding="utf-8") as f:  # one bad row, so the rejects file exists too
        f.write("ACME-SECRET,Acme Secret Ltd,ZZ-1,2025-01-01,2024-01-01,10.00,,no,paper\n")
    out, report = tmp_path / "mine.toml", tmp_path / "report"
    code = main(["calibrate", str(ledger), "--out", str(out), "--pseudonymise", "--lenient", "--iterations", "0",
                 "--report-dir", str(report)])
    assert code == 0, capsys.readouterr().err
    rows = [line.split(",") for line in SAMPLE.read_text(encoding="utf-8").splitlines()[1:]]
    ids = {r[0] for r in rows} | {r[1] for r in rows} | {"ACME-SECRET"}
    written = [out, out.with_suffix(".rejects.csv"), *report.glob("*.csv")]
    for path in written:
        text = path.read_text(encoding="utf-8")
        assert key not in text
        assert not any(i in text for i in ids), path
    customers = (report / "customers.csv").read_text(encoding="utf-8")
    assert customers.count("P-") >= 10
    # stable: the same key gives the same pseudonyms
    again = tmp_path / "again"
    main(["calibrate", str(ledger), "--out", str(tmp_path / "m2.toml"), "--pseudonymise", "--lenient",
          "--iterations", "0", "--report-dir", str(again)])
    assert (again / "customers.csv").read_text(encoding="utf-8") == customers


def test_pseudonymise_without_a_key_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("COLLECTSIM_PSEUDONYM_KEY", raising=False)
    code = main(["calibrate", str(SAMPLE), "--out", str(tmp_path / "x.toml"), "--pseudonymise"])
    assert code == 2 and "key" in capsys.readouterr().err


def test_kaplan_meier_uses_open_invoices_as_censored():
    # four paid on days 1..4, four still open after day 2: the median is not reached by the paid alone
    t = np.array([1, 2, 3, 4, 2, 2, 2, 2], dtype=float)
    seen = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
    times, surv = km_curve(t, seen)
    assert list(times) == [1, 2, 3, 4]
    assert surv[0] == pytest.approx(7 / 8) and surv[1] == pytest.approx(7 / 8 * 6 / 7)
    assert surv[2] == pytest.approx(0.75 * 0.5) and surv[3] == 0
    assert km_survival_at(t, seen, 2.5) == pytest.approx(0.75)
    assert km_quantile(t, seen, 0.5, whole_days=False) == 3
    assert 2.5 <= km_quantile(t, seen, 0.5) <= 3.5
    # dropping the open ones would say half are paid by day 2
    assert km_quantile(t[seen], seen[seen], 0.5, whole_days=False) == 2


def test_the_ledgers_currency_becomes_the_scenarios(tmp_path, capsys):
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    ledger = tmp_path / "gbp.csv"
    ledger.write_text("\n".join([lines[0] + ",currency"] + [line + ",gbp" for line in lines[1:300]]) + "\n",
                      encoding="utf-8")
    out = tmp_path / "gbp.toml"
    assert main(["calibrate", str(ledger), "--out", str(out), "--iterations", "0"]) == 0, capsys.readouterr().err
    assert collectsim.load_scenario(out).economics.currency == "GBP"


def test_a_ledger_longer_than_a_scenario_can_hold_is_refused_clearly(tmp_path, capsys):
    ledger = tmp_path / "long.csv"
    ledger.write_text("customer_id,invoice_id,issue_date,due_date,amount,paid_date\n"
                      "A,1,2010-01-01,2010-01-31,10.00,2010-02-01\nA,2,2024-01-01,2024-01-31,10.00,2024-02-01\n",
                      encoding="utf-8")
    assert main(["calibrate", str(ledger), "--out", str(tmp_path / "x.toml"), "--iterations", "0"]) == 2
    assert "at most 3650 days" in capsys.readouterr().err
