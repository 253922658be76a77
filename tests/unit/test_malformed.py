"""Every malformed scenario or strategy file gives one clear line and exit code 2, never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest

from collectsim.apps.cli import main
from helpers import MALFORMED, SCENARIOS

CORPUS = sorted((MALFORMED).glob("*.toml"))


def _expected(path: Path) -> str:
    first = path.read_bytes().split(b"\n", 1)[0].decode("ascii")
    assert first.startswith("# expect: "), f"{path.name} must start with '# expect: <text of the error>'"
    return first.removeprefix("# expect: ")


def test_corpus_covers_the_listed_kinds_of_mistake():
    assert len(CORPUS) >= 15
    names = {p.stem for p in CORPUS}
    for kind in ("wrong_type", "unknown_key", "negative_amount", "probability_above_one", "empty_portfolio",
                 "no_policy", "duplicate_policy", "bad_date", "bad_include_path"):
        assert any(kind in n for n in names), kind


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
@pytest.mark.parametrize("command", ["validate", "run"])
def test_malformed_file_gives_one_line_naming_the_problem(path, command, capsys):
    code = main([command, str(path)])
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"error: {path}")
    if command == "run" and path.stem.startswith("strategy_"):
        assert "this is a strategy file" in lines[0]  # run is for scenarios; it says so first
    else:
        assert _expected(path) in lines[0]
    assert captured.out == ""


def test_console_script_reports_every_bad_file_without_traceback():
    bad = [str(p) for p in CORPUS[:3]]
    good = str(SCENARIOS / "baseline.toml")
    proc = subprocess.run([sys.executable, "-m", "collectsim.apps.cli", "validate", good, *bad],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 3
    assert "baseline.toml: ok" in proc.stdout


def test_missing_file_is_a_clear_error(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "nope.toml: file not found" in capsys.readouterr().err
