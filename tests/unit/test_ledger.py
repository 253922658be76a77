"""Ledger import: the malformed corpus in tests/ledgers/, unseen export shapes, and kept + rejected = input."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectsim.calibration.ledger import LedgerError, LedgerOptions, detect_date_format, parse_amount, read_ledger
from helpers import LEDGERS

HERE = LEDGERS

# file, (line, column) of the first problem in strict mode, words in the message,
# lines rejected in lenient mode (None: a whole-file problem that fails in both modes)
CASES = [
    ("missing_column.csv", 1, None, "missing required column(s) 'paid_date'", None),
    ("bad_date.csv", 4, "issue_date", "'2025-13-45' cannot be read", [4]),
    ("non_numeric_amount.csv", 3, "amount", "'five hundred' is not a number", [3]),
    ("negative_amount.csv", 5, "amount", "is negative", [5]),
    ("zero_amount.csv", 3, "amount", "is zero", [3]),
    ("duplicate_invoice.csv", 5, "invoice_id", "duplicate invoice id '1002' (first on line 3)", [5]),
    ("paid_before_issued.csv", 4, "paid_date", "paid 2024-12-31 before issued 2025-01-09", [4]),
    ("due_before_issued.csv", 2, "due_date", "due 2024-12-03 before issued 2025-01-03", [2]),
    ("empty.csv", None, None, "the file is empty", None),
    ("blank_lines_only.csv", None, None, "the file is empty", None),
    ("header_only.csv", 1, None, "no invoices", None),
    ("latin1.csv", 2, None, "is not utf-8 text", None),
    ("utf16.csv", None, None, "is UTF-16 text", None),
    ("stray_header.csv", 4, None, "header row repeated", [4]),
    ("preamble.csv", 1, None, "before the header row", [1, 2]),
    ("ambiguous_dates.csv", None, None, "refusing to guess", None),
    ("bad_disputed.csv", 4, "disputed", "'maybe' is not yes/no", [4]),
    ("bad_channel.csv", 3, "channel", "'fax' is not paper or electronic", [3]),
    ("wrong_field_count.csv", 4, None, "has 4 fields where the header has 8", [4]),
    ("empty_customer.csv", 3, "customer_id", "customer_id is empty", [3]),
    ("empty_issue_date.csv", 5, "issue_date", "issue_date is empty", [5]),
    ("mixed_currency.csv", 3, "currency", "mixes currencies (EUR, USD)", None),
    ("mixed_problems.csv", 3, "amount", "'abc' is not a number", [3, 5, 7]),
]


def test_the_corpus_has_at_least_fifteen_malformed_ledgers():
    assert len({c[0] for c in CASES}) >= 15
    assert {c[0] for c in CASES} == {p.name for p in HERE.glob("*.csv")}


@pytest.mark.parametrize("name, line, column, words, _", CASES, ids=[c[0] for c in CASES])
def test_strict_mode_fails_on_the_first_problem_naming_file_line_and_column(name, line, column, words, _):
    with pytest.raises(LedgerError) as info:
        read_ledger(HERE / name, strict=True)
    message = str(info.value)
    assert name in message
    assert words.lower() in message.lower()
    assert info.value.line == line
    assert info.value.column == column
    if line is not None:
        assert f"line {line}" in message


@pytest.mark.parametrize("name, line, column, words, rejected", CASES, ids=[c[0] for c in CASES])
def test_lenient_mode_rejects_exactly_the_bad_rows_and_loses_none(name, line, column, words, rejected, tmp_path):
    if rejected is None:
        with pytest.raises(LedgerError, match="(?i)" + words.replace("(", r"\(").replace(")", r"\)")):
            read_ledger(HERE / name, strict=False)
        return
    ledger = read_ledger(HERE / name, strict=False)
    assert sorted(ledger.rejects["line"]) == rejected
    assert words.lower() in ledger.rejects["reason"].iloc[0].lower()
    assert len(ledger.frame) + len(ledger.rejects) == ledger.input_rows
    assert not set(ledger.frame["line"]) & set(rejected)
    written = ledger.write_rejects(tmp_path / "rejects.csv").read_text(encoding="utf-8")
    assert written.count("\n") == len(rejected) + 1


def test_an_explicit_encoding_reads_a_windows_1252_export():
    ledger = read_ledger(HERE / "latin1.csv", LedgerOptions(encoding="cp1252"))
    assert ledger.frame["customer_id"].iloc[0] == "Café Dupré"


def test_ambiguous_dates_read_once_the_format_is_given():
    ledger = read_ledger(HERE / "ambiguous_dates.csv", LedgerOptions(date_format="day-first"))
    assert ledger.frame["issue_date"].iloc[1].date() == dt.date(2025, 1, 5)
    ledger = read_ledger(HERE / "ambiguous_dates.csv", LedgerOptions(date_format="month-first"))
    assert ledger.frame["issue_date"].iloc[1].date() == dt.date(2025, 5, 1)


def test_an_unseen_us_export_shape_reads_with_a_mapping_file():
    """Mapped names, month-first dates, '$1,234.50' amounts, Y/N disputes, only settled invoices."""
    good = HERE / "good"
    ledger = read_ledger(good / "us_export.csv", LedgerOptions.from_toml(good / "us_export.toml"))
    f = ledger.frame
    assert ledger.date_format == "month-first"
    assert list(f["amount_cents"]) == [123450, 53000, 1200000, 7525]
    assert f["issue_date"].iloc[1].date() == dt.date(2025, 1, 15)
    assert list(f["disputed"]) == [False, False, True, False]
    assert list(f["channel"]) == ["electronic", "paper", "electronic", "paper"]
    assert f["paid_date"].notna().all() and len(ledger.rejects) == 0
    assert f["customer_name"].iloc[0] == "Acme Supply, Inc."


def test_a_european_export_with_semicolons_decimal_commas_and_an_open_invoice():
    good = HERE / "good"
    ledger = read_ledger(good / "de_export.csv", LedgerOptions.from_toml(good / "de_export.toml"))
    f = ledger.frame
    assert ledger.date_format == "day-first"
    assert list(f["amount_cents"]) == [123456, 9990, 1200000]
    assert ledger.as_of == dt.date(2025, 3, 31)
    assert f["paid_date"].isna().tolist() == [False, True, False]


def test_a_mapping_file_with_an_unknown_column_is_refused(tmp_path):
    bad = tmp_path / "map.toml"
    bad.write_text('[columns]\ninvoice_number = "No."\n', encoding="utf-8")
    with pytest.raises(LedgerError, match="invoice_number.*not a ledger column"):
        LedgerOptions.from_toml(bad)


@pytest.mark.parametrize("text, decimal, cents", [
    ("1,234.56", ".", 123456), ("€ 1.234,56", ",", 123456), ("1 234,56 EUR", ",", 123456),
    ("$12", ".", 1200), ("GBP 7.5", ".", 750), ("1'000.00", ".", 100000), ("£0.01", ".", 1),
])
def test_amounts_with_separators_and_currency_symbols(text, decimal, cents):
    assert parse_amount(text, decimal) == cents


@pytest.mark.parametrize("text", ["(12.00)", "-5", "12-", "abc", "", "1.2.3"])
def test_amounts_that_are_not_positive_numbers_are_refused(text):
    with pytest.raises(ValueError):
        parse_amount(text)


def test_date_detection_picks_month_first_only_when_a_date_shows_it():
    assert detect_date_format(["01/15/2025", "02/01/2025"]) == "month-first"
    assert detect_date_format(["15/01/2025", "02/01/2025"]) == "day-first"
    assert detect_date_format(["2025-01-02"]) == "iso"
    with pytest.raises(LedgerError, match="refusing to guess"):
        detect_date_format(["01/02/2025", "03/04/2025"])


_good_row = st.tuples(st.sampled_from("ABCD"), st.integers(0, 60), st.integers(0, 60), st.integers(1, 10**7),
                      st.one_of(st.none(), st.integers(0, 200)))
_bad_row = st.sampled_from([
    "X,{id},2025-01-01,2025-01-31,abc,,no",       # non-numeric amount
    "X,{id},2025-02-30,2025-03-31,10.00,,no",     # no such date
    "X,{id},2025-01-10,2025-01-01,10.00,,no",     # due before issued
    "X,{id},2025-01-10,2025-02-01,-4.00,,no",     # negative
    "X,{id},2025-01-10,2025-02-01,4.00,2025-01-01,no",  # paid before issued
    "X,{id},2025-01-10,2025-02-01,4.00,,perhaps",  # disputed unreadable
    "X,{id},2025-01-10",                          # too few fields
    "X,1,2025-01-10,2025-02-01,4.00,,no",         # duplicate of the first invoice id
    "customer_id,invoice_id,issue_date,due_date,amount,paid_date,disputed",  # stray header
])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(_good_row.map(lambda r: ("good", r)), _bad_row.map(lambda r: ("bad", r))),
                min_size=1, max_size=40))
def test_kept_plus_rejected_equals_input_for_any_mix_of_rows(tmp_path_factory, rows):
    start = dt.date(2025, 1, 1)
    lines = ["customer_id,invoice_id,issue_date,due_date,amount,paid_date,disputed",
             "A,1,2025-01-01,2025-01-31,1.00,,no"]
    for i, (kind, r) in enumerate(rows, start=2):
        if kind == "bad":
            lines.append(r.format(id=i))
            continue
        cust, issue, terms, cents, paid = r
        issued = start + dt.timedelta(days=issue)
        paid_s = "" if paid is None else (issued + dt.timedelta(days=paid)).isoformat()
        lines.append(f"{cust},{i},{issued},{issued + dt.timedelta(days=terms)},{cents / 100:.2f},{paid_s},no")
    path = tmp_path_factory.mktemp("l") / "ledger.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ledger = read_ledger(path, strict=False)
    n_bad = sum(kind == "bad" for kind, _ in rows)
    assert len(ledger.frame) + len(ledger.rejects) == ledger.input_rows == len(lines) - 1
    assert len(ledger.rejects) == n_bad
    assert set(ledger.frame["line"]).isdisjoint(ledger.rejects["line"])


def test_a_title_line_does_not_hide_a_semicolon_delimiter(tmp_path):
    path = tmp_path / "titled.csv"
    path.write_text("Offene Posten Export\ncustomer_id;invoice_id;issue_date;due_date;amount;paid_date\n"
                    "K1;R1;2025-01-02;2025-02-01;1.234,50;\n", encoding="utf-8")
    ledger = read_ledger(path, strict=False)
    assert list(ledger.rejects["line"]) == [1]
    assert list(ledger.frame["amount_cents"]) == [123450]
