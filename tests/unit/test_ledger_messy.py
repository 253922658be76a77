"""Real exports as they come (issue 22): a date format per column, a duplicated header, two currencies,
customer ids with and without leading zeros, a row due before it was issued, and what each error says.

The fixture is tests/ledgers/good/messy_export.csv with its mapping messy_export.toml: 13 rows, 10 in
EUR and 3 in USD; "Document Date" heads two columns (a day-first posting date, then the invoice date);
issue dates are ISO, due dates numbers such as 20190501.0, paid dates date-times at 00:00:00; customers
0000123/123 and 0042/42 are one each; line 7 is due a month before it was issued.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from collectsim.apps.cli import main
from collectsim.calibration.calibrate import Calibrator
from collectsim.calibration.ledger import LedgerError, LedgerOptions, read_ledger, suggest_date_pattern
from helpers import LEDGERS

GOOD = LEDGERS / "good"
MESSY = GOOD / "messy_export.csv"
MAPPING = GOOD / "messy_export.toml"


@pytest.fixture(scope="module")
def options() -> LedgerOptions:
    return LedgerOptions.from_toml(MAPPING)


def day(ts) -> dt.date | None:
    return None if ts is None or ts != ts else ts.date()


def test_the_messy_export_imports_with_its_mapping(options):
    ledger = read_ledger(MESSY, options, strict=False)
    f = ledger.frame.set_index("line")
    assert (len(ledger.frame), len(ledger.rejects), len(ledger.skipped)) == (9, 1, 3)
    assert len(ledger.frame) + len(ledger.rejects) + len(ledger.skipped) == ledger.input_rows == 13
    assert list(ledger.skipped["line"]) == [5, 9, 13] and set(ledger.skipped["currency"]) == {"USD"}
    assert ledger.date_formats == {"issue_date": "iso", "due_date": "%Y%m%d.0", "paid_date": "%Y-%m-%d %H:%M:%S"}
    # the issue date is the second "Document Date" (ISO), not the first (a day-first posting date)
    assert [day(f.loc[2, c]) for c in ("issue_date", "due_date", "paid_date")] == [
        dt.date(2019, 4, 1), dt.date(2019, 5, 1), dt.date(2019, 5, 1)]
    assert day(f.loc[3, "issue_date"]) == dt.date(2019, 4, 3) and day(f.loc[11, "paid_date"]) == dt.date(2019, 6, 3)
    assert f["paid_date"].isna().sum() == 2 and f.loc[4, "paid_date"] != f.loc[4, "paid_date"]
    assert f.loc[3, "amount_cents"] == 53050 and set(f["currency"]) == {"EUR"}
    assert sorted(ledger.frame["customer_id"].unique()) == ["123", "42", "456"]
    assert f.loc[12, "customer_id"] == "42" and f.loc[2, "customer_name"] == "Alpha GmbH"
    assert ledger.notes == ("3 rows in other currencies than EUR skipped (USD: 3)",)
    (warning,) = ledger.warnings
    assert "2 customer(s)" in warning and "'0000123' and '123' -> '123'" in warning and "'0042' and '42'" in warning


def test_a_row_due_before_it_was_issued_is_rejected_with_its_row_and_stops_strict_mode(options):
    ledger = read_ledger(MESSY, options, strict=False)
    (reject,) = ledger.rejects.to_dict("records")
    assert reject["line"] == 7 and reject["column"] == "Due Date"
    assert reject["reason"] == "due 2019-03-10 before issued 2019-04-10"
    assert "INV-1006" in reject["row"] and "20190310.0" in reject["row"]
    assert 7 not in set(ledger.frame["line"])
    with pytest.raises(LedgerError) as info:
        read_ledger(MESSY, options)
    assert str(info.value).startswith(f"{MESSY}, line 7, column 'Due Date': due 2019-03-10 before issued")


def test_an_fx_table_converts_the_other_currencies_into_the_ledger_currency(options):
    fx = dataclasses.replace(options, currency=None, fx={"USD": 0.9})
    ledger = read_ledger(MESSY, fx, strict=False)
    f = ledger.frame.set_index("line")
    assert (len(ledger.frame), len(ledger.rejects), len(ledger.skipped)) == (12, 1, 0)
    assert set(f["currency"]) == {"EUR"} and f.loc[5, "amount_cents"] == 216000 and f.loc[2, "amount_cents"] == 120000
    assert ledger.notes == ("3 rows converted into EUR at the [fx] rates (USD 0.9)",)
    assert "789" in set(f["customer_id"])


def test_auto_per_date_column_detects_each_columns_own_format(options):
    auto = dataclasses.replace(options, date_formats={c: "auto" for c in ("issue_date", "due_date", "paid_date")})
    ledger = read_ledger(MESSY, auto, strict=False)
    assert ledger.date_formats == {"issue_date": "iso", "due_date": "%Y%m%d.0", "paid_date": "%Y-%m-%d %H:%M:%S"}
    assert len(ledger.frame) == 9


@pytest.mark.parametrize("change, line, column, words", [
    ({"currency": None}, 5, "Currency",
     ["mixes currencies (EUR, USD): 10 rows in EUR, 3 rows in USD", "--currency EUR", 'currency = "EUR"', "[fx] USD"]),
    ({"currency": "GBP"}, None, "Currency", ["currency GBP was asked for but no row is in it", "EUR (10 rows)"]),
    ({"currency": None, "fx": {"GBP": 1.1}}, None, None, ['give currency = "CODE"', "USD (3 rows)"]),
    ({"fx": {"GBP": 1.1}}, None, "Currency", ["currencies USD have no rate in [fx]", "[fx] USD = "]),
    ({"issue_date": "Document Date"}, 1, "Document Date",
     ["2 columns headed 'Document Date' (fields 4, 6)", "[columns] issue_date does not say which",
      '[columns] issue_date = "Document Date#1"', '--column issue_date="Document Date#2"']),
    ({"issue_date": "Document Date#3"}, 1, None,
     ["[columns] issue_date names 'Document Date#3', but the header has 2 column(s) headed 'Document Date'"]),
])
def test_each_import_error_names_the_file_line_and_what_to_do(options, change, line, column, words):
    if "issue_date" in change:
        changed = dataclasses.replace(options, columns={**options.columns, **change})
    else:
        changed = dataclasses.replace(options, **change)
    for strict in (True, False):  # whole-file problems: both modes
        with pytest.raises(LedgerError) as info:
            read_ledger(MESSY, changed, strict=strict)
        message = str(info.value)
        assert message.startswith(str(MESSY)) and "\n" not in message
        assert (info.value.line, info.value.column) == (line, column)
        for w in words:
            assert w in message, (w, message)


def test_a_duplicated_canonical_header_without_a_mapping_is_an_error_not_a_shadow(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("customer_id,invoice_id,issue_date,due_date,amount,paid_date,due_date\n"
                    "A,1,2025-01-01,2025-01-31,10.00,,2025-03-01\n", encoding="utf-8")
    with pytest.raises(LedgerError, match=r"line 1, column 'due_date': the header has 2 columns headed 'due_date' "
                                          r"\(fields 4, 7\) and the due_date column \(read by its canonical name\)"):
        read_ledger(path)
    second = read_ledger(path, LedgerOptions(columns={"due_date": "due_date#2"}))
    assert second.frame["due_date"].iloc[0].date() == dt.date(2025, 3, 1)
    first = read_ledger(path, LedgerOptions(columns={"due_date": "due_date#1"}))
    assert first.frame["due_date"].iloc[0].date() == dt.date(2025, 1, 31)


def test_lenient_mode_reports_every_bad_column_of_a_rejected_row(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("customer_id,invoice_id,issue_date,due_date,amount,paid_date,disputed\n"
                    "A,1,2025-01-10,2025-02-09,10.00,,no\n"
                    ",2,2025-01-10,2025-01-01,abc,2025-01-05,maybe\n", encoding="utf-8")
    ledger = read_ledger(path, strict=False)
    (reject,) = ledger.rejects.to_dict("records")
    assert reject["column"] == "customer_id; due_date; paid_date; amount; disputed"
    assert reject["reason"] == ("customer_id is empty; due 2025-01-01 before issued 2025-01-10; paid 2025-01-05 "
                                "before issued 2025-01-10; amount 'abc' is not a number; disputed 'maybe' is not "
                                "yes/no, true/false or 1/0")
    with pytest.raises(LedgerError, match="line 3, column 'customer_id': customer_id is empty$"):
        read_ledger(path)


def test_when_every_row_is_rejected_the_message_names_the_commonest_reason_and_the_key_that_fixes_it(
        options, tmp_path, capsys):
    one_format = dataclasses.replace(options, date_formats={})
    ledger = read_ledger(MESSY, one_format, strict=False)
    assert len(ledger.frame) == 0 and len(ledger.rejects) == 10
    assert ledger.diagnosis == (
        "the most common reason (10 of 10 rows; column 'Due Date', first on line 2) is a due_date such as "
        "'20190501.0' that the format iso cannot read; set that column's format in the mapping file: "
        '[date_formats] due_date = "%Y%m%d.0"')
    with pytest.raises(LedgerError, match=r"no invoices to fit; every row was rejected: .*\[date_formats\] due_date"):
        Calibrator(iterations=0, bootstrap=0).fit(ledger)
    mapping = tmp_path / "map.toml"
    mapping.write_text(MAPPING.read_text(encoding="utf-8").split("[date_formats]")[0], encoding="utf-8")
    code = main(["calibrate", str(MESSY), "--mapping", str(mapping), "--out", str(tmp_path / "x.toml"),
                 "--lenient", "--iterations", "0"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "no invoice survived the checks; nothing to fit; the most common reason (10 of 10 rows" in err
    assert '[date_formats] due_date = "%Y%m%d.0"' in err


def test_the_command_reads_the_messy_export_and_says_what_it_skipped_and_merged(tmp_path, capsys):
    out = tmp_path / "messy.toml"
    code = main(["calibrate", str(MESSY), "--mapping", str(MAPPING), "--out", str(out), "--lenient",
                 "--iterations", "0"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "3 rows in other currencies than EUR skipped (USD: 3)" in printed
    assert "warning: 2 customer(s) appear under several raw ids" in printed
    assert "1 of 13 rows rejected" in printed and "fitted 9 invoices of 3 customers" in printed
    text = out.read_text(encoding="utf-8")
    assert "1 rows rejected, 3 in other currencies skipped" in text and 'currency = "EUR"' in text


def test_currency_on_the_command_line_overrides_the_mapping(tmp_path, capsys):
    out = tmp_path / "usd.toml"
    code = main(["calibrate", str(MESSY), "--mapping", str(MAPPING), "--currency", "usd", "--out", str(out),
                 "--lenient", "--iterations", "0"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "10 rows in other currencies than USD skipped (EUR: 10)" in printed
    assert "fitted 3 invoices of 1 customers" in printed and 'currency = "USD"' in out.read_text(encoding="utf-8")


def test_an_empty_currency_in_a_ledger_of_several_is_a_row_problem(tmp_path):
    path = tmp_path / "cur.csv"
    path.write_text("customer_id,invoice_id,issue_date,due_date,amount,paid_date,currency\n"
                    "A,1,2025-01-01,2025-01-31,10.00,,EUR\nB,2,2025-01-02,2025-02-01,12.00,,USD\n"
                    "C,3,2025-01-02,2025-02-01,12.00,,\n", encoding="utf-8")
    ledger = read_ledger(path, LedgerOptions(currency="EUR"), strict=False)
    assert list(ledger.frame["line"]) == [2] and list(ledger.skipped["line"]) == [3]
    assert list(ledger.rejects["reason"]) == ["currency is empty, and the ledger has several (EUR, USD)"]


def test_a_currency_choice_without_a_currency_column_is_an_error():
    with pytest.raises(LedgerError, match="currency is given but the ledger has no currency column"):
        read_ledger(GOOD / "us_export.csv", LedgerOptions.from_toml(GOOD / "us_export.toml", currency="USD"))


def test_id_merges_are_counted_but_not_shown_under_pseudonymise(options):
    hidden = read_ledger(MESSY, dataclasses.replace(options, pseudonym_key=b"k" * 16), strict=False)
    (warning,) = hidden.warnings
    assert "2 customer(s)" in warning and "123" not in warning and "not shown" in warning
    assert hidden.frame["customer_id"].nunique() == 3


@pytest.mark.parametrize("value, pattern", [
    ("20190405.0", "%Y%m%d.0"), ("2019-04-05 00:00:00", "%Y-%m-%d %H:%M:%S"),
    ("2019-04-05T00:00:00", "%Y-%m-%dT%H:%M:%S"),
    ("25/12/2024", "%d/%m/%Y"), ("03/04/2025", None), ("yesterday", None),
])
def test_a_pattern_is_suggested_only_when_every_pattern_that_reads_the_value_agrees(value, pattern):
    assert suggest_date_pattern(value) == pattern


def test_the_readme_shows_the_fixtures_mapping_file_as_it_is():
    readme = (LEDGERS.parent.parent / "README.md").read_text(encoding="utf-8")
    passage = readme[readme.index("**Exports as they come.**"):]
    start = passage.index("```toml\n") + len("```toml\n")
    assert passage[start:passage.index("```", start)] == MAPPING.read_text(encoding="utf-8")
    assert "keeps 9 euro invoices of 3 customers, skips the 3 dollar rows" in passage


def test_auto_reads_a_file_of_date_times_and_a_per_column_ambiguity_names_the_key(tmp_path):
    path = tmp_path / "times.csv"
    path.write_text("customer_id,invoice_id,issue_date,due_date,amount,paid_date\n"
                    "A,1,2025-01-01 00:00:00,2025-01-31 00:00:00,10.00,2025-02-03 00:00:00\n", encoding="utf-8")
    ledger = read_ledger(path)  # no named format reads these: a common export pattern does
    assert ledger.date_format == "%Y-%m-%d %H:%M:%S" and ledger.frame["paid_date"].iloc[0].date() == dt.date(2025, 2, 3)
    path.write_text("customer_id,invoice_id,issue_date,Due,amount,paid_date\n"
                    "A,1,2025-01-13,02/03/2025,10.00,\n", encoding="utf-8")
    with pytest.raises(LedgerError, match=r"column 'Due': dates such as '02/03/2025' read both day-first and "
                                          r"month-first .* Give \[date_formats\] due_date = \"day-first\""):
        read_ledger(path, LedgerOptions(columns={"due_date": "Due"}, date_formats={"due_date": "auto"}))
