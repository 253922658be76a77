"""Ledger and calibration input that used to pass silently or end in a traceback (issue 25).

Each test names the defect it covers: mapping values of the wrong type, a decimal mark that
contradicts the data, amounts beyond the representable range, dates far outside any ledger,
pseudonyms in the rejects file, TOML escaping of segment names, and the rejects file's folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from collectsim.cli import main
from collectsim.ledger import LedgerError, LedgerOptions

HERE = Path(__file__).parent
SAMPLE = HERE.parent / "examples" / "sample_ledger.csv"


def sample_lines(n: int = 60) -> list[str]:
    """The header and the first ``n - 1`` data lines of the bundled sample ledger."""
    return SAMPLE.read_text(encoding="utf-8").splitlines()[:n]


def write_ledger(path: Path, lines: list[str]) -> Path:
    """Write ``lines`` as a UTF-8 ledger CSV and return its path."""
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def calibrate(argv: list[str], capsys) -> tuple[int, str]:
    """Run ``collectsim calibrate`` in-process; the exit code and stderr."""
    code = main(["calibrate", *argv])
    return code, capsys.readouterr().err


# --- 5. mapping values of the wrong type ------------------------------------------------------------

@pytest.mark.parametrize("text, key, words", [
    ("decimal = 3", "'decimal'", "not 3 (an integer)"),
    ('decimal = ";"', "'decimal'", "not ';' (a string)"),
    ("[columns]\namount = 5", "'amount'", "not 5 (an integer)"),
    ('[columns]\namount = ""', "'amount'", "non-empty string"),
    ("columns = 3", "'columns'", "must be a table"),
    ("encoding = true", "'encoding'", "not true (a boolean)"),
    ('encoding = "no-such-codec"', "'encoding'", "unknown encoding"),
    ("date_format = []", "'date_format'", "not [] (an array)"),
    ("delimiter = 7", "'delimiter'", "one character"),
    ('delimiter = ";;"', "'delimiter'", "one character"),
    ("as_of = 2025-01-01T10:00:00", "'as_of'", "a date-time"),
])
def test_a_mapping_value_of_the_wrong_type_is_a_one_line_error_naming_file_and_key(text, key, words, tmp_path,
                                                                                     capsys):
    mapping = tmp_path / "map.toml"
    mapping.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(LedgerError) as info:
        LedgerOptions.from_toml(mapping)
    assert str(mapping) in str(info.value) and key in str(info.value) and words in str(info.value)
    ledger = write_ledger(tmp_path / "l.csv", sample_lines(20))
    code, err = calibrate([str(ledger), "--mapping", str(mapping), "--out", str(tmp_path / "x.toml"),
                           "--iterations", "0"], capsys)
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1
    assert key in err and "map.toml" in err


def test_an_empty_header_in_a_column_option_is_refused(tmp_path, capsys):
    code, err = calibrate([str(SAMPLE), "--column", "amount=", "--out", str(tmp_path / "x.toml")], capsys)
    assert code == 2 and "CANONICAL=HEADER" in err


# --- 6. segment names that need escaping in the written TOML ----------------------------------------

AWKWARD_SEGMENTS = ["tab\there", "ctrl\x01char", "new\nline", 'say "hi"', "back\\slash", "del\x7f", "wide é 日本"]


def test_segment_names_with_control_characters_quotes_and_backslashes_round_trip(tmp_path, capsys):
    """Written names read back unchanged (not sanitised): TOML escapes them, load_scenario unescapes."""
    import csv

    import collectsim
    rows = list(csv.reader(sample_lines(200)))
    header = [h for h in rows[0] if h != "channel"] + ["segment"]
    keep = [i for i, h in enumerate(rows[0]) if h != "channel"]
    customers = sorted({r[0] for r in rows[1:]})
    segment_of = {c: AWKWARD_SEGMENTS[i % len(AWKWARD_SEGMENTS)] for i, c in enumerate(customers)}
    path = tmp_path / "segments.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows([r[i] for i in keep] + [segment_of[r[0]]] for r in rows[1:])
    out = tmp_path / "seg.toml"
    code, err = calibrate([str(path), "--out", str(out), "--iterations", "0"], capsys)
    assert code == 0, err
    names = {s.name for s in collectsim.load_scenario(out).portfolio.segments}
    assert names == set(AWKWARD_SEGMENTS)


@pytest.mark.parametrize("text", ["plain", "tab\t", "\x00\x01\x1f\x7f", "line\r\nbreak", '"\\"', "é\u2028"])
def test_toml_strings_read_back_exactly(text):
    import tomllib

    from collectsim.toml_out import toml_value
    written = f"a = {toml_value(text)}\nt = {toml_value({text: 2})}\n"
    assert tomllib.loads(written) == {"a": text, "t": {text: 2}}


# --- 7. the rejects file's folder -------------------------------------------------------------------

def preamble_ledger(path: Path) -> Path:
    """The sample's first 40 lines with a report title above the header: one rejected row in lenient mode."""
    return write_ledger(path, ["Aged debt report"] + sample_lines(40))


def test_a_rejects_file_in_a_missing_folder_is_refused_before_the_import(tmp_path, capsys):
    ledger = preamble_ledger(tmp_path / "l.csv")
    out = tmp_path / "x.toml"
    code, err = calibrate([str(ledger), "--out", str(out), "--lenient", "--rejects", str(tmp_path / "no" / "r.csv"),
                           "--iterations", "0"], capsys)
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1
    assert "does not exist" in err and "r.csv" in err
    assert not out.exists()
    # checked before reading: even a ledger that does not exist reports the rejects folder first
    code, err = calibrate([str(tmp_path / "missing.csv"), "--out", str(out), "--lenient", "--rejects",
                           str(tmp_path / "no" / "r.csv")], capsys)
    assert code == 2 and "does not exist" in err and "rejects" in err


def test_a_rejects_path_that_is_a_folder_is_refused(tmp_path, capsys):
    ledger = preamble_ledger(tmp_path / "l.csv")
    code, err = calibrate([str(ledger), "--out", str(tmp_path / "x.toml"), "--lenient", "--rejects", str(tmp_path),
                           "--iterations", "0"], capsys)
    assert code == 2 and "is a folder" in err and err.count("\n") == 1


def test_the_default_rejects_file_goes_into_the_new_folder_of_out(tmp_path, capsys):
    ledger = preamble_ledger(tmp_path / "l.csv")
    out = tmp_path / "new" / "deeper" / "x.toml"
    code, err = calibrate([str(ledger), "--out", str(out), "--lenient", "--iterations", "0"], capsys)
    assert code == 0, err
    assert out.is_file() and out.with_suffix(".rejects.csv").is_file()
