"""Ledger and calibration input that used to pass silently or end in a traceback (issue 25).

Each test names the defect it covers: mapping values of the wrong type, a decimal mark that
contradicts the data, amounts beyond the representable range, dates far outside any ledger,
pseudonyms in the rejects file, TOML escaping of segment names, and the rejects file's folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from collectsim.apps.cli import main
from collectsim.calibration.ledger import LedgerError, LedgerOptions
from helpers import TESTS

HERE = TESTS
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
    ('date_format = "dd/mm/yyyy"', "'date_format'", "strptime pattern"),
    ("date_formats = 3", "'date_formats'", "must be a table"),
    ('[date_formats]\ndue = "%Y%m%d"', "'due'", "not a date column; date columns are: issue_date, due_date"),
    ("[date_formats]\ndue_date = 5", "'due_date'", "not 5 (an integer)"),
    ('[date_formats]\npaid_date = "yyyymmdd"', "'paid_date'", "strptime pattern"),
    ("[fx]\nUSD = -0.9", "'USD'", "must be a positive number"),
    ('[fx]\nUSD = "0.9"', "'USD'", "not '0.9' (a string)"),
    ("currency = 978", "'currency'", "such as \"EUR\""),
    ('normalise_ids = "zeros"', "'normalise_ids'", '"none" or "strip-leading-zeros"'),
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
    rows = list(csv.reader(sample_lines(10_000)))  # the whole sample: each segment big enough not to be merged
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

    from collectsim.calibration.toml_out import toml_value
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


# --- 2. a decimal mark that contradicts the data ----------------------------------------------------

def test_a_given_decimal_comma_on_dot_decimals_is_an_error_saying_what_was_seen(tmp_path, capsys):
    ledger = write_ledger(tmp_path / "dots.csv", sample_lines(60))
    code, err = calibrate([str(ledger), "--decimal", ",", "--out", str(tmp_path / "x.toml"), "--iterations", "0"],
                          capsys)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "dots.csv" in err and "column 'amount'" in err
    assert "decimal ',' given but amounts such as '5983.38' (line 2) use '.' as the decimal point" in err
    assert not (tmp_path / "x.toml").exists()


def test_a_mapping_files_decimal_that_contradicts_the_data_is_an_error(tmp_path):
    from collectsim.calibration.ledger import read_ledger
    good = HERE / "ledgers" / "good"
    options = LedgerOptions.from_toml(good / "de_export.toml", decimal=".")
    with pytest.raises(LedgerError, match=r"decimal '\.' given but amounts such as '1\.234,56 €' \(line 2\) use ','"):
        read_ledger(good / "de_export.csv", options, strict=False)
    mapping = tmp_path / "us.toml"
    mapping.write_text((good / "us_export.toml").read_text(encoding="utf-8").replace(
        'date_format = "auto"', 'date_format = "auto"\ndecimal = ","'), encoding="utf-8")
    with pytest.raises(LedgerError, match=r"decimal ',' given but amounts such as '\$1,234\.50'"):
        read_ledger(good / "us_export.csv", LedgerOptions.from_toml(mapping))


@pytest.mark.parametrize("text, decimal", [("1234.56", ","), ("12.50", ","), ("1.234,5", "."), ("1,2345", "."),
                                           ("12,5", "."), ("1,23,4.00", ".")])
def test_an_amount_that_reads_only_with_the_other_decimal_mark_is_refused(text, decimal):
    from collectsim.calibration.ledger import parse_amount
    with pytest.raises(ValueError, match="decimal mark"):
        parse_amount(text, decimal)


@pytest.mark.parametrize("text, decimal, cents", [
    ("12,34,567.00", ".", 1_234_567_00), ("1 234 567,8", ",", 1_234_567_80), ("1'234.5", ".", 123450),
    ("1.234", ",", 123400)])
def test_grouped_amounts_still_read(text, decimal, cents):
    from collectsim.calibration.ledger import parse_amount
    assert parse_amount(text, decimal) == cents


def test_one_amount_with_the_other_mark_is_rejected_on_its_row_not_read_100_times_larger(tmp_path):
    from collectsim.calibration.ledger import read_ledger
    lines = ["customer_id;invoice_id;issue_date;due_date;amount;paid_date",
             "K1;R1;2025-01-02;2025-02-01;1.234,50;", "K1;R2;2025-01-03;2025-02-01;99,90;",
             "K2;R3;2025-01-04;2025-02-01;12.50;"]
    ledger = read_ledger(write_ledger(tmp_path / "eu.csv", lines), strict=False)
    assert list(ledger.frame["amount_cents"]) == [123450, 9990]
    assert list(ledger.rejects["line"]) == [4] and "decimal mark" in ledger.rejects["reason"][0]


# --- 3. amounts beyond the representable range ------------------------------------------------------

def test_an_amount_near_the_int64_limit_is_refused_with_file_line_and_column(tmp_path, capsys):
    lines = sample_lines(40) + ["K0001,Big Co,HUGE-1,2024-07-01,2024-07-31,92233720368547758.07,,no,paper"]
    ledger = write_ledger(tmp_path / "huge.csv", lines)
    code, err = calibrate([str(ledger), "--out", str(tmp_path / "x.toml"), "--iterations", "0"], capsys)
    assert code == 2 and err.count("\n") == 1
    assert "huge.csv, line 41, column 'amount': amount '92233720368547758.07' is above 10,000,000,000,000" in err
    from collectsim.calibration.ledger import read_ledger
    lenient = read_ledger(ledger, strict=False)
    assert list(lenient.rejects["line"]) == [41] and (lenient.frame["amount_cents"] > 0).all()


def test_the_largest_amount_accepted_is_documented_and_exact():
    from collectsim.calibration.ledger import MAX_AMOUNT, parse_amount
    assert MAX_AMOUNT == 10**13
    assert parse_amount(f"{MAX_AMOUNT}.00") == MAX_AMOUNT * 100
    assert parse_amount("9999999999999.99") == 999999999999999
    for text in (f"{MAX_AMOUNT}.01", "1" + "0" * 40, "9" * 400):
        with pytest.raises(ValueError, match="largest invoice amount"):
            parse_amount(text)


# --- 4. dates centuries away ------------------------------------------------------------------------

FAR = "K0001,Far Co,FAR-1,{issue},{due},10.00,{paid},no,paper"


@pytest.mark.parametrize("issue, due, paid, column, words", [
    ("2024-07-01", "2024-07-31", "2900-01-01", "paid_date",
     "paid_date '2900-01-01' is outside 1900-01-01 to 2199-12-31"),
    ("1066-10-14", "2024-07-31", "", "issue_date", "issue_date '1066-10-14' is outside"),
    ("2024-07-01", "3024-07-31", "", "due_date", "due_date '3024-07-31' is outside"),
    ("2024-07-01", "2024-07-31", "2199-01-01", "paid_date", "paid 2199-01-01, more than ten years after issued"),
    ("2024-07-01", "2150-07-31", "", "due_date", "due 2150-07-31, more than ten years after issued"),
])
def test_dates_far_from_any_ledger_are_refused_on_their_row(issue, due, paid, column, words, tmp_path, capsys):
    ledger = write_ledger(tmp_path / "far.csv", sample_lines(40) + [FAR.format(issue=issue, due=due, paid=paid)])
    code, err = calibrate([str(ledger), "--out", str(tmp_path / "x.toml"), "--iterations", "0"], capsys)
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1
    assert f"far.csv, line 41, column '{column}'" in err and words in err
    code, err = calibrate([str(ledger), "--out", str(tmp_path / "x.toml"), "--iterations", "0", "--lenient"], capsys)
    assert code == 0, err
    rejects = (tmp_path / "x.rejects.csv").read_text(encoding="utf-8")
    assert rejects.count("\n") == 2 and words in rejects


def test_rows_issued_or_paid_after_a_given_as_of_date_are_rejected_on_their_row(tmp_path):
    import datetime as dt

    from collectsim.calibration.ledger import read_ledger
    lines = ["customer_id,invoice_id,issue_date,due_date,amount,paid_date",
             "A,1,2024-07-01,2024-07-31,10.00,2024-07-20", "A,2,2024-07-01,2024-07-31,10.00,2024-09-01",
             "B,3,2024-08-05,2024-09-04,10.00,", "B,4,2024-07-15,2024-08-14,10.00,"]
    ledger = write_ledger(tmp_path / "l.csv", lines)
    as_of = LedgerOptions(as_of=dt.date(2024, 8, 1))
    read = read_ledger(ledger, as_of, strict=False)
    assert list(read.rejects["line"]) == [3, 4] and list(read.rejects["column"]) == ["paid_date", "issue_date"]
    assert "paid 2024-09-01, after the as-of date 2024-08-01" in read.rejects["reason"][0]
    assert list(read.frame["line"]) == [2, 5]
    with pytest.raises(LedgerError, match="line 3, column 'paid_date': paid 2024-09-01, after the as-of"):
        read_ledger(ledger, as_of)


@pytest.mark.parametrize("as_of, words", [("2900-01-01", "outside 1900-01-01 to 2199-12-31"),
                                          ("2150-01-01", "days after the last invoice")])
def test_an_as_of_date_far_after_the_ledger_is_a_one_line_error(as_of, words, tmp_path, capsys):
    ledger = write_ledger(tmp_path / "l.csv", sample_lines(40))
    code, err = calibrate([str(ledger), "--out", str(tmp_path / "x.toml"), "--iterations", "0", "--as-of", as_of],
                          capsys)
    assert code == 2 and words in err and err.count("\n") == 1 and "Traceback" not in err


# --- 1. pseudonyms in the rejects file --------------------------------------------------------------

def test_pseudonymise_hides_ids_and_names_of_every_rejected_row(tmp_path, capsys, monkeypatch):
    """Rows before the header, rows with a wrong field count and reasons quoting a name carry no real id or name."""
    monkeypatch.setenv("COLLECTSIM_PSEUDONYM_KEY", "a-secret-key-of-the-finance-team")
    lines = sample_lines(60)
    before = lines[1:3]                                                  # two data rows above the header
    shifted = "K0999,Shifted, Name Ltd,INV-99998,2024-07-01,2024-07-31,10.00,,no,paper"  # 10 fields
    swapped = "K0998,Swapped Co,INV-99999,2024-07-01,2024-07-31,Swapped Co,,no,paper"    # name in the amount
    ledger = write_ledger(tmp_path / "l.csv", before + lines + [shifted, swapped, lines[0]])
    out = tmp_path / "x.toml"
    code, err = calibrate([str(ledger), "--out", str(out), "--pseudonymise", "--lenient", "--iterations", "0"], capsys)
    assert code == 0, err
    import pandas as pd
    rejects = pd.read_csv(out.with_suffix(".rejects.csv"), dtype=str, keep_default_na=False)
    assert sorted(rejects["line"], key=int) == ["1", "2", "63", "64", "65"]
    text = out.with_suffix(".rejects.csv").read_text(encoding="utf-8")
    secrets = {c for line in before + lines[1:] for c in line.split(",")[:2]}
    secrets |= {"K0999", "Shifted", "Name Ltd", "K0998", "Swapped Co"}
    assert not [s for s in secrets if s in text]
    assert text.count("P-") >= 2 * 9 + 10 + 3
    assert "Swapped Co" not in err
    # without pseudonyms the same rows are written as they are
    code, _ = calibrate([str(ledger), "--out", str(tmp_path / "plain.toml"), "--lenient", "--iterations", "0"],
                        capsys)
    plain = (tmp_path / "plain.rejects.csv").read_text(encoding="utf-8")
    assert code == 0 and "K0999" in plain and "Swapped Co" in plain


def test_strict_errors_under_pseudonymise_do_not_quote_a_name(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLLECTSIM_PSEUDONYM_KEY", "a-secret-key-of-the-finance-team")
    swapped = "K0998,Swapped Co,INV-99999,2024-07-01,2024-07-31,Swapped Co,,no,paper"
    ledger = write_ledger(tmp_path / "l.csv", sample_lines(20) + [swapped])
    code, err = calibrate([str(ledger), "--out", str(tmp_path / "x.toml"), "--pseudonymise"], capsys)
    assert code == 2 and "line 21, column 'amount': amount 'P-" in err and "Swapped" not in err


def test_pseudonymise_hides_columns_the_reader_does_not_know(tmp_path, monkeypatch):
    """A names column under an unknown header (found by the fuzz tests) is not written in clear either."""
    from collectsim.calibration.ledger import read_ledger
    lines = sample_lines(20)
    lines[0] = lines[0].replace("customer_name", "Kundenname")
    lines.append(lines[1])                                               # a duplicate invoice: one reject
    ledger = write_ledger(tmp_path / "l.csv", lines)
    read = read_ledger(ledger, LedgerOptions(pseudonym_key=b"a-secret-key-of-the-finance-team"), strict=False)
    assert list(read.rejects["line"]) == [21]
    row = read.rejects["row"][0]
    assert "Customer" not in row and "K00" not in row
    assert "INV-00001" in row and "5983.38" in row                       # invoice number and amount stay readable


def test_a_file_without_a_header_does_not_show_its_first_row_under_pseudonymise(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLLECTSIM_PSEUDONYM_KEY", "a-secret-key-of-the-finance-team")
    ledger = write_ledger(tmp_path / "l.csv", sample_lines(20)[1:])
    code, err = calibrate([str(ledger), "--out", str(tmp_path / "x.toml"), "--pseudonymise"], capsys)
    assert code == 2 and "missing required column" in err and "not shown" in err
    assert "K0010" not in err and "Customer 010" not in err


def test_amounts_that_read_with_a_decimal_point_or_a_thousands_dot_are_not_guessed(tmp_path):
    """'1.234' alone could be 1.234 or 1234: read as the former it would be 1000 times too small."""
    from collectsim.calibration.ledger import read_ledger
    lines = ["customer_id,invoice_id,issue_date,due_date,amount,paid_date",
             "K1,R1,2025-01-02,2025-02-01,1.234,", "K1,R2,2025-01-03,2025-02-01,250,"]
    path = write_ledger(tmp_path / "dots.csv", lines)
    with pytest.raises(LedgerError, match=r"'1\.234' \(line 2\).*refusing to guess"):
        read_ledger(path, strict=False)
    assert list(read_ledger(path, LedgerOptions(decimal=",")).frame["amount_cents"]) == [123400, 25000]
    assert list(read_ledger(path, LedgerOptions(decimal=".")).frame["amount_cents"]) == [123, 25000]
    write_ledger(path, lines + ["K2,R3,2025-01-04,2025-02-01,99.50,"])  # one amount shows the decimal point
    assert list(read_ledger(path).frame["amount_cents"]) == [123, 25000, 9950]


def test_pseudonymise_keeps_the_same_rows_when_an_id_equals_another_cell(tmp_path):
    """A customer id '1' and a disputed flag '1', or an id equal to an amount, change nothing but the ids."""
    from collectsim.calibration.ledger import read_ledger
    lines = ["customer_id,invoice_id,issue_date,due_date,amount,paid_date,disputed",
             "1,R1,2025-01-02,2025-02-01,250,,1", "250,R2,2025-01-03,2025-02-01,1,,0",
             "250,R2,2025-01-03,2025-02-01,1,,0"]
    path = write_ledger(tmp_path / "ids.csv", lines)
    plain = read_ledger(path, strict=False)
    hidden = read_ledger(path, LedgerOptions(pseudonym_key=b"a-secret-key-of-the-finance-team"), strict=False)
    assert list(hidden.frame["line"]) == list(plain.frame["line"]) == [2, 3]
    assert list(hidden.frame["amount_cents"]) == [25000, 100]
    assert list(hidden.frame["disputed"]) == [True, False]
    assert hidden.frame["customer_id"].str.startswith("P-").all()
    assert list(hidden.rejects["line"]) == [4] and ",250," not in hidden.rejects["row"][0]


def test_merged_segment_names_with_control_characters_are_escaped_in_the_file(tmp_path, capsys):
    import csv

    import collectsim
    rows = list(csv.reader(sample_lines(400)))
    header = [h for h in rows[0] if h != "channel"] + ["segment"]
    keep = [i for i, h in enumerate(rows[0]) if h != "channel"]
    small = sorted({r[0] for r in rows[1:]})[:3]  # three customers in a segment of their own: merged
    path = tmp_path / "segments.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows([r[i] for i in keep] + ["del\x7f\nnew" if r[0] in small else "big"] for r in rows[1:])
    out = tmp_path / "seg.toml"
    code = main(["calibrate", str(path), "--out", str(out), "--iterations", "0"])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    assert {s.name for s in collectsim.load_scenario(out).portfolio.segments} == {"big"}
    assert "# with the ledger's del\\u007F\\nnew: fewer than" in out.read_text(encoding="utf-8")
    assert "small groups merged into the nearest: 'del\\x7f\\nnew' into 'big'" in printed.out
