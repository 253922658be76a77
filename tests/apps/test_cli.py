"""The command line: run with --out, readable output, spreadsheet-safe CSV."""

import json

import pandas as pd
import pytest

import collectsim
from collectsim.apps.cli import main
from helpers import write_small_scenario


def _write_small(tmp_path, segment_name="steady"):
    return write_small_scenario(tmp_path, segment_names=(segment_name, "late"))


def test_run_writes_results_and_says_where(tmp_path, capsys):
    path = _write_small(tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "DSO (count-back)" in text and f"results written to {out}" in text
    for name in ("metrics.json", "daily.csv", "invoices.csv", "customers.csv", "events.csv"):
        assert (out / name).stat().st_size > 0
    daily = pd.read_csv(out / "daily.csv")
    assert {"day", "date", "period", "cash_EUR", "receivables_EUR", "ar_current_EUR", "ar_90+_EUR",
            "mean_goodwill"} <= set(daily)
    events = pd.read_csv(out / "events.csv")
    assert {"day", "kind", "invoice_no", "amount_EUR", "channel", "tone", "goodwill_after"} <= set(events)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["metrics"]["invoiced"] > 0
    # Money in currency units in the files: the run's own integer cents, divided by 100.
    result = collectsim.simulate(collectsim.load_scenario(path))  # what `run` ran: first policy, file's seed
    invoices = pd.read_csv(out / "invoices.csv")
    assert daily["cash_EUR"].mul(100).round().astype(int).tolist() == result.daily["cash"].tolist()
    assert invoices["amount_EUR"].mul(100).round().astype(int).tolist() == result.invoices["amount"].tolist()
    assert result.metrics.cash_collected == metrics["metrics"]["cash_collected"]


def test_run_all_compares_every_policy(tmp_path, capsys):
    assert main(["run", str(_write_small(tmp_path)), "--all", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["policy"] for r in runs] == ["ladder"]


def test_json_output_is_only_json_even_with_out(tmp_path, capsys):
    assert main(["run", str(_write_small(tmp_path)), "--json", "--out", str(tmp_path / "o")]) == 0
    captured = capsys.readouterr()
    json.loads(captured.out)
    assert "results written" in captured.err


def test_csv_exports_neutralise_spreadsheet_formulas(tmp_path, capsys):
    path = _write_small(tmp_path, segment_name="=HYPERLINK(\"http://x\")")
    assert main(["run", str(path), "--out", str(tmp_path / "o")]) == 0
    customers = (tmp_path / "o" / "customers.csv").read_text()
    assert "'=HYPERLINK" in customers
    assert "\n=HYPERLINK" not in customers and ",=HYPERLINK" not in customers
    # Negative numbers stay numbers.
    from collectsim.files.exports import neutralise
    assert neutralise(-5) == -5 and neutralise("-5") == "'-5" and neutralise("@x") == "'@x"


def test_version_and_the_metric_names_are_in_the_help(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"collectsim {collectsim.__version__}"
    for command in ("compare", "sweep"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        said = " ".join(capsys.readouterr().out.split())
        assert all(name in said for name in ("cash_collected", "bad_debt_ratio", "mean_goodwill", "net_value"))
