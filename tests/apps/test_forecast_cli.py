"""``collectsim forecast``: files written, a plain summary, one-line errors."""

from __future__ import annotations

import pandas as pd
import pytest

from collectsim.apps.cli import main
from collectsim.calibration.history import write_ledger
from helpers import ROOT, small_history, write_small_scenario


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("forecast")
    _, ledger = small_history(seed=3, days=300)
    f = ledger.frame
    frame = pd.DataFrame({"customer_id": f["customer_id"], "invoice_id": f["invoice_id"],
                          "issue_date": f["issue_date"], "due_date": f["due_date"],
                          "amount": f["amount_cents"] / 100.0, "paid_date": f["paid_date"],
                          "disputed": f["disputed"].map({True: "yes", False: "no"}), "segment": f["segment"]})
    return write_small_scenario(folder), write_ledger(frame, folder / "ledger.csv"), folder


def test_the_command_writes_the_csv_and_fan_chart_and_prints_the_summary(files, capsys):
    scenario, ledger, folder = files
    out = folder / "out"
    code = main(["forecast", str(ledger), "--scenario", str(scenario), "--weeks", "4", "--replications", "20",
                 "--out", str(out)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "under ladder, " in printed.out and "expected in the next 4 weeks (" in printed.out
    frame = pd.read_csv(out / "forecast.csv")
    assert len(frame) == 4 and "cash_low80_EUR" in frame.columns
    assert (out / "forecast.png").read_bytes()[:4] == b"\x89PNG"


def test_a_playbook_strategy_is_forecast_unchanged_since_it_targets_by_the_ledger(files, capsys):
    """firm-and-fair selects its firmer ladder by what the ledger shows (a target), so nothing of it is dropped."""
    scenario, ledger, folder = files
    strategy = ROOT / "scenarios" / "strategies" / "firm-and-fair.toml"
    code = main(["forecast", str(ledger), "--scenario", str(scenario), "--policies", f"ladder,{strategy}",
                 "--weeks", "2", "--replications", "10", "--out", str(folder / "two"), "--as-of", "2025-10-01"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "under firm-and-fair, " in printed.out and "as of 2025-10-01" in printed.out
    assert "are not used" not in printed.err


def test_a_strategys_overrides_for_segments_the_fitted_scenario_lacks_are_said(files, capsys):
    scenario, ledger, folder = files
    strategy = folder / "by-segment.toml"
    strategy.write_text('[policy]\nname = "by-segment"\n[policy.reminders]\nsteps = [{offset = 7, channel = '
                        '"email", tone = "friendly"}]\n[policy.segments.late-on-purpose.reminders]\nsteps = '
                        '[{offset = 3, channel = "phone", tone = "firm"}]\n', encoding="utf-8")
    code = main(["forecast", str(ledger), "--scenario", str(scenario), "--policies", str(strategy),
                 "--weeks", "2", "--replications", "10", "--out", str(folder / "three")])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert "under by-segment, " in printed.out and "are not used" in printed.err


@pytest.mark.parametrize("args,fragment", [
    (["--policies", "nosuch"], "nosuch"),
    (["--weeks", "0"], "--weeks"),
])
def test_bad_input_is_one_line(files, capsys, args, fragment):
    scenario, ledger, folder = files
    with pytest.raises(SystemExit) if "--weeks" in args else _nothing():
        code = main(["forecast", str(ledger), "--scenario", str(scenario), "--out", str(folder / "bad"), *args])
        assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert any(fragment in line for line in err)
    assert not (folder / "bad" / "forecast.csv").exists()


def test_a_missing_ledger_is_one_line(files, capsys):
    scenario, _, folder = files
    assert main(["forecast", str(folder / "none.csv"), "--scenario", str(scenario), "--out", str(folder)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not found" in err[0]


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
