"""The README's sample output is what the command it names really prints."""

from __future__ import annotations

import re
import shlex

import pytest

from collectsim.apps.cli import main
from helpers import ROOT


def _quoted_verdicts() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    passage = text[text.index("`compare` prints each policy's mean metrics and verdicts"):]
    passage = passage[:passage.index("(`tests/apps/test_readme.py`")]
    return [" ".join(q.split()) for q in re.findall(r'"([^"]+\(95% CI [^"]+\))"', passage)]


def test_the_sample_verdicts_are_printed_by_the_first_compare_command(capsys, monkeypatch):
    quoted = _quoted_verdicts()
    assert len(quoted) == 2
    monkeypatch.chdir(ROOT)
    assert main(["compare", "scenarios/baseline.toml", "--policies", "as-is,firm-and-fair", "--reps", "20"]) == 0
    printed = capsys.readouterr().out
    for sentence in quoted:
        assert sentence in printed, sentence


def test_the_sample_recommendation_is_what_its_command_prints(capsys, monkeypatch):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    passage = text[text.index("`collectsim compare scenarios/baseline.toml --reps 10` printed first:"):]
    start = passage.index("```text\n") + len("```text\n")
    quoted = passage[start:passage.index("\n```", start)]
    assert quoted.startswith("Recommendation: ")
    monkeypatch.chdir(ROOT)
    assert main(["compare", "scenarios/baseline.toml", "--reps", "10"]) == 0
    assert capsys.readouterr().out.startswith(quoted + "\n")


def test_the_sample_optimisation_is_what_its_command_prints(capsys, monkeypatch, tmp_path):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    passage = text[text.index("## Optimising a policy"):]
    begin = passage.index("```sh\n") + len("```sh\n")
    command = passage[begin:passage.index("\n```", begin)]
    start = passage.index("```text\n") + len("```text\n")
    quoted = passage[start:passage.index("\n```", start)]
    assert quoted.startswith("Optimisation: ")
    args = [a.strip('"') for a in command.split()[1:]]
    args[args.index("--out") + 1] = str(tmp_path / "optimise")
    monkeypatch.chdir(ROOT)
    assert main(args) == 0
    assert capsys.readouterr().out.startswith(quoted + "\n")


def test_every_image_the_readme_shows_is_in_the_repository():
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (ROOT / "README.md").read_text(encoding="utf-8"))
    assert "docs/images/app.png" in images  # the app's screenshot, taken by tests/ui/test_app.py
    for image in images:
        data = (ROOT / image).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, image


def _quoted_block(marker: str, nth: int = 0) -> str:
    """The ``nth`` ```text block after ``marker`` in the README."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    at = text.index(marker)
    for _ in range(nth + 1):
        start = text.index("```text\n", at) + len("```text\n")
        at = text.index("\n```", start)
    return text[start:at]


def test_the_sample_letter_is_what_the_letters_command_writes(capsys, monkeypatch, tmp_path):
    quoted = _quoted_block("## Letters and export")
    monkeypatch.chdir(ROOT)
    assert main(["letters", "scenarios/baseline.toml", "--policy", "firm-and-fair", "--company",
                 "examples/company.toml", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "firm.txt").read_text(encoding="utf-8") == quoted + "\n"


def test_the_sample_export_is_what_the_export_command_writes(capsys, monkeypatch, tmp_path):
    said, rows = _quoted_block("The chosen policy goes to the dunning tool"), \
        _quoted_block("The chosen policy goes to the dunning tool", 1)
    monkeypatch.chdir(tmp_path)
    assert main(["export", str(ROOT / "scenarios/strategies/firm-and-fair.toml"), "--to", "odoo",
                 "--out", "followup.csv"]) == 0
    assert capsys.readouterr().out == said + "\n"
    assert (tmp_path / "followup.csv").read_text(encoding="utf-8") == rows + "\n"


def test_the_plan_walk_through_prints_what_its_command_prints(capsys, monkeypatch, tmp_path):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    passage = text[text.index("### Today's work from the open ledger"):]
    begin = passage.index("```sh\n") + len("```sh\n")
    command = passage[begin:passage.index("\n```", begin)]
    start = passage.index("```text\n") + len("```text\n")
    quoted = passage[start:passage.index("\n```", start)]
    monkeypatch.chdir(ROOT)
    fitted = tmp_path / "fitted.toml"  # the plan reads the fit's segments, team and policy, not its habits
    assert main(["calibrate", "examples/sample_ledger.csv", "--out", str(fitted), "--iterations", "0", "--json"]) == 0
    capsys.readouterr()
    args = command.split()[1:]
    args[args.index("--scenario") + 1] = str(fitted)
    args[args.index("--out") + 1] = str(tmp_path / "today")
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert printed == quoted.replace("written to today/", f"written to {tmp_path / 'today'}/") + "\n"
    assert "plan-offer" in (tmp_path / "today" / "actions.csv").read_text(encoding="utf-8")
    assert "Instalment 3" in (tmp_path / "today" / "letters" / "005-K0040.txt").read_text(encoding="utf-8")


def _forecast_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    passage = text[text.index("## Forecasting cash from your open ledger"):text.index("## What the model covers now")]
    return [shlex.split(line)[1:] for line in passage.splitlines() if line.startswith(".venv/bin/collectsim ")]


def test_the_forecast_sections_commands_are_ones_the_command_line_accepts():
    from collectsim.apps.cli import _parser

    commands = _forecast_commands()
    assert [c[0] for c in commands] == ["calibrate", "forecast", "forecast"]
    for args in commands:
        _parser().parse_args(args)


@pytest.mark.slow
def test_the_sample_forecast_and_backtest_are_what_the_commands_print(capsys, monkeypatch, tmp_path):
    calibrate, fan, back = _forecast_commands()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "sample_ledger.csv").write_bytes((ROOT / "examples" / "sample_ledger.csv").read_bytes())
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    assert main(calibrate) == 0
    capsys.readouterr()
    assert main(fan) == 0
    assert capsys.readouterr().out == _quoted_block("## Forecasting cash from your open ledger") + "\n"
    assert main(back) == 0
    assert _quoted_block("## Forecasting cash from your open ledger", 1) in capsys.readouterr().out
