"""Fuzzing `collectsim calibrate` with mutated ledgers: success or a one-line error, never a traceback.

Each example takes a 50-line slice of examples/sample_ledger.csv, applies a few mutations (columns
dropped or renamed, garbage, negative, huge and non-numeric amounts, bad, swapped and far-future
dates, duplicate invoice numbers, short rows, preambles, formula-injection strings, control
characters and HTML in names) and writes it in some encoding (UTF-8, BOM, Latin-1, UTF-16, CRLF, an
empty file, the header only). The calibrate command runs in-process, strict and lenient. Either it
succeeds (exit 0) or it prints one line on stderr with exit code 2; in lenient mode the kept and
rejected rows add up to the data rows of the file. The fit's bootstrap is cut to 10 resamples and
the chasing correction to 0 rounds: what is fuzzed is the reading, checking and writing, not the fit.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import io
import re
import tempfile
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collectsim.apps import calibrate_cli
from collectsim.apps.cli import main
from collectsim.calibration.calibrate import Calibrator
from collectsim.calibration.ledger import _sniff_delimiter
from helpers import SAMPLE_LEDGER

SAMPLE = SAMPLE_LEDGER
ROWS = list(csv.reader(SAMPLE.read_text(encoding="utf-8").splitlines()[:50]))
HEADER = ROWS[0]
N = len(ROWS) - 1
SECRETS = {r[i] for r in ROWS[1:] for i in (HEADER.index("customer_id"), HEADER.index("customer_name"))}
KEY = Path(tempfile.mkdtemp()) / "pseudonym.key"
KEY.write_text("a-key-for-the-fuzz-tests-only", encoding="utf-8")

AMOUNTS = ["abc", "", "-12.00", "(3.00)", "12-", "0", "0.001", "92233720368547758.07", "1" * 30, "1e5", "NaN",
           "inf", "1.234,56", "12,5", "1,2,3", "$ 1,234.50", "€", "١٢٣", "10000000000000.01", "  7 ", "1 000"]
DATES = ["", "2900-01-01", "1066-10-14", "2199-12-31", "9999-12-31", "0001-01-01", "2024-02-30", "31/12/2024",
         "12/31/2024", "2024-13-01", "yesterday", "20240701", "2024-07-01T10:00", "1900-01-01"]
TEXT = ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-2", "@SUM(A1)", "\x01\x02", "tab\there", "cr\rhere",
        "new\nline", "<script>alert(1)</script>", "<b>bold</b>", "\u202eevil", '"quoted"', "back\\slash",
        "é", "日本", "", " ", "customer_id", ";", "|", "\x7f"]
NAMES = ["", "Amount (EUR)", "=cmd", "customer id", "AMOUNT", "amount", "paid_date", "\ufeffcustomer_id"]



def _values(column: str) -> st.SearchStrategy[str]:
    """Bad values for one column: mostly of its own kind (amounts, dates), sometimes anything."""
    own = AMOUNTS if column == "amount" else DATES if column.endswith("_date") else TEXT
    return st.one_of(st.sampled_from(own), st.sampled_from(own), st.sampled_from(AMOUNTS + DATES + TEXT),
                     st.text(max_size=10))


_cell = st.sampled_from(HEADER).flatmap(
    lambda column: st.tuples(st.just("cell"), st.integers(1, N), st.just(column), _values(column)))
_row_change = st.one_of(
    st.tuples(st.just("duplicate"), st.integers(1, N)),
    st.tuples(st.just("swap"), st.integers(1, N), st.sampled_from([("issue_date", "paid_date"),
                                                                    ("issue_date", "due_date"),
                                                                    ("amount", "paid_date")])),
    st.tuples(st.just("fields"), st.integers(1, N), st.integers(0, 12)),
    st.tuples(st.just("insert"), st.integers(0, N + 1),
              st.sampled_from(["Aged debt report", ",".join(HEADER), ",,,,", "x;y;z;w", '"unterminated'])),
    st.tuples(st.just("drop_row"), st.integers(1, N)),
)
_column_change = st.one_of(
    st.tuples(st.just("drop_column"), st.sampled_from(HEADER)),
    st.tuples(st.just("rename_column"), st.sampled_from(HEADER), st.sampled_from(NAMES)),
)
# mostly cell and row edits: a missing column stops every run at the header, so columns change less often
_mutations = st.tuples(st.lists(_cell, max_size=4), st.lists(_row_change, max_size=2),
                       st.lists(_column_change, max_size=1)).map(lambda t: [*t[0], *t[1], *t[2][:1]])
_column_odds = st.integers(0, 3)
_variant = st.one_of(st.just("utf-8"), st.sampled_from(["bom", "latin-1", "utf-16", "crlf", "empty",
                                                          "header-only", "utf-8"]))


def mutate(rows: list[list[str]], mutation: tuple) -> list[list[str]]:
    """One mutation applied to a copy of ``rows`` (the header first)."""
    rows = [list(r) for r in rows]
    kind, *args = mutation
    header = rows[0]
    if kind == "cell" and args[1] in header and args[0] < len(rows):
        row = rows[args[0]]
        i = header.index(args[1])
        if i < len(row):
            row[i] = args[2]
    elif kind == "drop_column" and args[0] in header:
        i = header.index(args[0])
        rows = [r[:i] + r[i + 1:] for r in rows]
    elif kind == "rename_column" and args[0] in header:
        header[header.index(args[0])] = args[1]
    elif kind == "duplicate" and args[0] < len(rows):
        rows.append(list(rows[args[0]]))
    elif kind == "swap" and args[0] < len(rows) and all(c in header for c in args[1]):
        a, b = (header.index(c) for c in args[1])
        row = rows[args[0]]
        if max(a, b) < len(row):
            row[a], row[b] = row[b], row[a]
    elif kind == "fields" and args[0] < len(rows):
        row = rows[args[0]]
        rows[args[0]] = (row + ["x"] * args[1])[:args[1]]
    elif kind == "insert":
        rows.insert(min(args[0], len(rows)), next(csv.reader([args[1]])))
    elif kind == "drop_row" and args[0] < len(rows) and len(rows) > 2:
        del rows[args[0]]
    return rows


def serialise(rows: list[list[str]], variant: str) -> bytes:
    """The rows as a CSV file's bytes in one of the encodings or shapes of ``_variant``."""
    if variant == "empty":
        return b""
    if variant == "header-only":
        rows = rows[:1]
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n" if variant == "crlf" else "\n").writerows(rows)
    text = out.getvalue()
    if variant == "latin-1":
        return (text.replace("Customer 0", "Café 0")).encode("latin-1", errors="replace")
    if variant == "utf-16":
        return text.encode("utf-16")
    return (b"\xef\xbb\xbf" if variant == "bom" else b"") + text.encode("utf-8")


def data_rows(raw: bytes) -> int:
    """Non-blank CSV records after the header, counted independently of the ledger reader."""
    text = raw.decode("utf-8-sig")
    records = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
               if any(c.strip() for c in r)]
    return len(records) - 1


def run_calibrate(argv: list[str]) -> tuple[int, str, str]:
    """``collectsim calibrate ARGV`` in-process with a quick fit; exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    quick = functools.partial(Calibrator, bootstrap=10)
    with mock.patch.object(calibrate_cli, "Calibrator", quick), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        code = main(["calibrate", *argv, "--iterations", "0"])
    return code, out.getvalue(), err.getvalue()


def check_outcome(code: int, err: str) -> None:
    """Exit 0, or exit 2 with exactly one line on stderr, and never a traceback."""
    assert "Traceback" not in err
    assert code in (0, 2), err
    if code == 2:
        assert err.startswith("error: ") and err.count("\n") == 1 and err.endswith("\n"), err


def check_ledger(raw: bytes, folder: Path, pseudonymise: bool = False) -> None:
    """Strict and lenient runs of one ledger's bytes: outcomes, and kept + rejected = data rows.

    With ``pseudonymise`` the lenient run pseudonymises, and no customer id or name of the sample
    may appear in its rejects file.
    """
    ledger = folder / "ledger.csv"
    ledger.write_bytes(raw)
    code, _, err = run_calibrate([str(ledger), "--out", str(folder / "strict.toml")])
    check_outcome(code, err)
    out = folder / "lenient.toml"
    private = ["--pseudonymise", "--key-file", str(KEY)] if pseudonymise else []
    code, stdout, err = run_calibrate([str(ledger), "--out", str(out), "--lenient",
                                       "--rejects", str(folder / "rejects.csv"), *private])
    check_outcome(code, err)
    if code == 0 and pseudonymise and (folder / "rejects.csv").exists():
        written = (folder / "rejects.csv").read_text(encoding="utf-8")
        assert not [s for s in SECRETS if s in written]
    if code == 0:
        assert out.is_file()
        rejected = re.search(r"^(\d+) of (\d+) rows rejected", stdout, re.M)
        kept = int(re.search(r"^fitted (\d+) invoices", stdout, re.M).group(1))
        expected = data_rows(raw)
        if rejected:
            assert int(rejected.group(2)) == expected
            with (folder / "rejects.csv").open(encoding="utf-8", newline="") as f:
                assert sum(1 for _ in csv.reader(f)) - 1 == int(rejected.group(1))
        assert kept + (int(rejected.group(1)) if rejected else 0) == expected


@settings(max_examples=120, deadline=None)
@given(_mutations, _column_odds, _variant, st.booleans())
def test_mutated_ledgers_end_in_success_or_a_one_line_error(tmp_path_factory, mutations, column_odds, variant,
                                                            pseudonymise):
    rows = ROWS
    for m in mutations:
        if m[0] in ("drop_column", "rename_column") and column_odds:
            continue  # a column change in one example of four
        rows = mutate(rows, m)
    check_ledger(serialise(rows, variant), tmp_path_factory.mktemp("fuzz"), pseudonymise)


@pytest.mark.parametrize("variant", ["utf-8", "bom", "latin-1", "utf-16", "crlf", "empty", "header-only"])
def test_each_encoding_and_shape_of_the_untouched_slice(variant, tmp_path):
    check_ledger(serialise(ROWS, variant), tmp_path)


@pytest.mark.parametrize("raw", [b"\x00\x01\x02", b"\n\n\n", b"\xff\xfe", b",,,,\n,,,\n", b'"', b"a\r\nb\rc\n",
                                 b"customer_id,invoice_id\n" + b"x," * 5000 + b"\n"])
def test_files_that_are_not_ledgers_at_all(raw, tmp_path):
    check_ledger(raw, tmp_path)
