"""Reading a firm's invoice history (a ledger CSV) into clean, typed columns.

An accounting system's export is the raw material for calibration. Like a new credit controller
going through the aged-debt report line by line, this module checks every row before believing it:
dates that parse, amounts that are numbers above zero, invoice numbers that are unique, payments
that come after the invoice. A row that fails is never dropped silently: in strict mode the first
problem stops the import with a message naming the file, line and column; in lenient mode the row
goes to ``rejects`` with its reason, so that kept + rejected = the rows of the file.

Canonical columns (used when no mapping is given)::

    customer_id, invoice_id, issue_date, due_date, amount, paid_date   (paid_date empty: still open)
    optional: disputed (yes/no, true/false, 1/0), channel (paper/electronic), segment, currency,
              customer_name

Open invoices are kept: they are censored observations (paid some time after ``as_of``), which the
calibration uses as such. Money is held in integer cents, at most :data:`MAX_AMOUNT` per invoice;
dates lie in :data:`EARLIEST_DATE` to :data:`LATEST_DATE`, due and paid at most ten years after
issue. A decimal mark that the amounts contradict, or cannot show, is never guessed silently.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import hmac
import io
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REQUIRED = ("customer_id", "invoice_id", "issue_date", "due_date", "amount", "paid_date")
OPTIONAL = ("disputed", "channel", "segment", "currency", "customer_name")
CANONICAL = REQUIRED + OPTIONAL
DATE_COLUMNS = ("issue_date", "due_date", "paid_date")

#: Date formats tried, by name. Day-first and month-first are told apart only by a day above 12.
DATE_FORMATS: dict[str, tuple[str, ...]] = {
    "iso": ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d"),
    "day-first": ("%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y"),
    "month-first": ("%m/%d/%Y", "%m-%d-%Y", "%m.%d.%Y", "%m/%d/%y"),
}
#: Dates outside these are refused on their row: no ledger holds them, and they would overflow
#: the nanosecond timestamps the frame is kept in (1677 to 2262).
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2199, 12, 31)
#: A due or paid date more than this many days after its issue date is refused (ten years).
MAX_DAYS_AFTER_ISSUE = 3653
_TRUE = {"yes", "y", "true", "t", "1"}
_FALSE = {"no", "n", "false", "f", "0", ""}
_CHANNELS = {"electronic": "electronic", "e-invoice": "electronic", "einvoice": "electronic", "edi": "electronic",
             "email": "electronic", "e-mail": "electronic", "pdf": "electronic", "portal": "electronic",
             "online": "electronic", "paper": "paper", "post": "paper", "postal": "paper", "letter": "paper",
             "mail": "paper"}
_CURRENCY = re.compile(r"^(?:[A-Za-z]{3}|[€$£¥₹₩₽]|CHF|kr)\s*|\s*(?:[A-Za-z]{3}|[€$£¥₹₩₽]|kr)$")


class LedgerError(ValueError):
    """A ledger problem: names the file, and the line and column when there is one."""

    def __init__(self, source: str, message: str, line: int | None = None, column: str | None = None) -> None:
        where = source
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")
        self.source, self.line, self.column, self.reason = source, line, column, message


@dataclass(frozen=True)
class LedgerOptions:
    """How to read an export: column names, date format, decimal mark, encoding, as-of date.

    ``columns`` maps a canonical name to the export's header (``{"invoice_id": "Invoice No."}``).
    ``date_format`` is ``"auto"``, ``"iso"``, ``"day-first"``, ``"month-first"`` or a strptime
    pattern. ``decimal`` is ``"auto"``, ``"."`` or ``","``. ``as_of`` is the date of the export
    (default: the latest date in the file), the day open invoices are censored at.
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    date_format: str = "auto"
    decimal: str = "auto"
    encoding: str = "utf-8"
    delimiter: str = "auto"
    as_of: date | None = None
    pseudonym_key: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_toml(cls, path: str | Path, **overrides: Any) -> LedgerOptions:
        """Read a mapping file: ``[columns]`` canonical = "their header", and the other fields at top level."""
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise LedgerError(str(path), "mapping file not found") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise LedgerError(str(path), f"mapping file is not valid UTF-8 TOML: {exc}") from None
        allowed = {"columns", "date_format", "decimal", "encoding", "delimiter", "as_of"}
        for key in data:
            if key not in allowed:
                raise LedgerError(str(path), f"unknown key {key!r} in the mapping file; allowed: "
                                  + ", ".join(sorted(allowed)))
        columns = data.get("columns", {})
        if not isinstance(columns, dict):
            raise LedgerError(str(path), f"key 'columns' must be a table ([columns] canonical = \"your header\"), "
                              f"not {_kind(columns)}")
        for key, header in columns.items():
            if key not in CANONICAL:
                raise LedgerError(str(path), f"[columns] key {key!r} is not a ledger column; columns are: "
                                  + ", ".join(CANONICAL))
            if not isinstance(header, str) or not header.strip():
                raise LedgerError(str(path), f"[columns] key {key!r} must be the export's header as a non-empty "
                                  f"string such as \"Invoice No.\", not {_kind(header)}")
        for key in ("date_format", "decimal", "encoding", "delimiter"):
            if key in data:
                _check_option(str(path), key, data[key])
        as_of = data.get("as_of")
        if as_of is not None and (not isinstance(as_of, date) or isinstance(as_of, datetime)):
            raise LedgerError(str(path), f"key 'as_of' must be a TOML date such as 2025-06-30, not {_kind(as_of)}")
        values = {"columns": columns, **{k: data[k] for k in ("date_format", "decimal", "encoding", "delimiter")
                                          if k in data}, "as_of": as_of}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def _kind(value: Any) -> str:
    """A value and its TOML type, for messages: ``3 (an integer)``."""
    kinds = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array",
             dict: "a table", datetime: "a date-time", date: "a date"}
    kind = next((k for t, k in kinds.items() if isinstance(value, t)), type(value).__name__)
    shown = str(value).lower() if isinstance(value, bool) else repr(value)
    return f"{shown} ({kind})"


def _check_option(source: str, key: str, value: Any) -> None:
    """Raise LedgerError unless ``value`` is allowed for the mapping key ``key``."""
    if key == "decimal" and value not in ("auto", ".", ","):
        raise LedgerError(source, f"key 'decimal' must be \".\", \",\" or \"auto\", not {_kind(value)}")
    if key == "delimiter" and not (isinstance(value, str) and (value == "auto" or len(value) == 1)
                                   and value not in ('"', "\n", "\r")):
        raise LedgerError(source, "key 'delimiter' must be one character such as \";\" or \"auto\", "
                          f"not {_kind(value)}")
    if key in ("date_format", "encoding") and not (isinstance(value, str) and value.strip()):
        allowed = ("\"auto\", \"iso\", \"day-first\", \"month-first\" or a pattern such as \"%d %b %Y\""
                   if key == "date_format" else "a text encoding such as \"utf-8\" or \"cp1252\"")
        raise LedgerError(source, f"key {key!r} must be {allowed}, not {_kind(value)}")
    if key == "encoding":
        try:
            codecs.lookup(value)
        except LookupError:
            raise LedgerError(source, f"key 'encoding' names an unknown encoding {value!r}; "
                              "use one such as \"utf-8\" or \"cp1252\"") from None


@dataclass(frozen=True)
class Ledger:
    """Clean invoices (``frame``) and the rows left out with their reasons (``rejects``).

    ``frame`` columns: line, customer_id, invoice_id, issue_date, due_date, paid_date (NaT when
    open), amount_cents, disputed (boolean, NA when unknown), channel, segment, currency,
    customer_name. ``input_rows`` counts the data rows of the file (everything after the header);
    ``len(frame) + len(rejects) == input_rows`` always holds.
    """

    frame: pd.DataFrame
    rejects: pd.DataFrame
    source: str
    as_of: date
    date_format: str
    input_rows: int

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def open(self) -> pd.Series:
        return self.frame["paid_date"].isna()

    def days(self, start: date | None = None) -> pd.DataFrame:
        """Issue, due and paid as day numbers from ``start`` (default the first issue date); paid -1 when open."""
        f = self.frame
        start = pd.Timestamp(start if start is not None else f["issue_date"].min())
        out = pd.DataFrame({"customer_id": f["customer_id"], "invoice_id": f["invoice_id"],
                            "issue": (f["issue_date"] - start).dt.days, "due": (f["due_date"] - start).dt.days})
        out["paid"] = (f["paid_date"] - start).dt.days.fillna(-1).astype(np.int64)
        return out

    def write_rejects(self, path: str | Path) -> Path:
        """Write every rejected row with its line, column and reason (spreadsheet-safe CSV)."""
        from collectsim.files.exports import write_csv
        return write_csv(self.rejects, Path(path))


# --- parsing single values ------------------------------------------------------------------------


def parse_amount(text: str, decimal: str = ".") -> int:
    """Cents from '1,234.56', '€ 1.234,56', '1 234,56 EUR', '$12'. Raises ValueError with the reason.

    Thousands separators must stand before groups of three digits ('1,234,567', or the Indian
    '12,34,567'), so an amount written with the other decimal mark ('1234.56' read with decimal ',')
    is refused rather than read 100 times too large. Amounts above :data:`MAX_AMOUNT` are refused.
    """
    s = text.strip().replace("\u00a0", " ").replace("\u202f", " ")
    if not s:
        raise ValueError("amount is empty")
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1].strip()
    if s.startswith("-") or s.endswith("-"):
        negative, s = True, s.strip("-").strip()
    s = _CURRENCY.sub("", s).strip()
    if s.startswith("-"):
        negative, s = True, s[1:].strip()
    s = _ungrouped(s, text, decimal)
    if decimal == ",":
        s = s.replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d*)?|\.\d+", s):
        raise ValueError(f"amount {text!r} is not a number")
    value = Decimal(s)
    if negative:
        raise ValueError(f"amount {text!r} is negative; credit notes are not invoices (leave them out of the export)")
    if value > MAX_AMOUNT:
        raise ValueError(f"amount {text!r} is above {MAX_AMOUNT:,} (the largest invoice amount accepted); "
                         "check the column and the decimal mark")
    cents = int(value.scaleb(2).to_integral_value(ROUND_HALF_EVEN))
    if cents <= 0:
        raise ValueError(f"amount {text!r} is zero; an invoice must be for more than nothing")
    return cents


#: The largest invoice amount accepted, in currency units (10^13): far above any real invoice, and
#: small enough that its cents, and the sum of thousands of them, fit in a 64-bit integer.
MAX_AMOUNT = 10**13


def _ungrouped(s: str, text: str, decimal: str) -> str:
    """``s`` without thousands separators (the other mark, spaces, apostrophes), which must group by three."""
    thousands = "," if decimal == "." else "."
    if not re.fullmatch(r"[\d ',.]*\d[\d ',.]*", s):
        return s  # not digits and separators: the caller says it is not a number
    whole, mark, fraction = s.partition(decimal)
    if any(c in fraction for c in (thousands, " ", "'")):
        raise ValueError(f"amount {text!r} has a separator after the decimal mark {decimal!r}; "
                         f"is the decimal mark {thousands!r}? (--decimal or decimal in the mapping file)")
    groups = re.split(r"[ ']|" + re.escape(thousands), whole)
    if len(groups) > 1 and not (1 <= len(groups[0]) <= 3 and len(groups[-1]) == 3
                                and all(len(g) in (2, 3) for g in groups[1:-1])):
        raise ValueError(f"amount {text!r} does not read with decimal mark {decimal!r}: thousands separators "
                         f"must stand before groups of three digits; is the decimal mark {thousands!r}? "
                         "(--decimal or decimal in the mapping file)")
    return "".join(groups) + mark + fraction


def _decimal_evidence(value: str) -> str | None:
    """The decimal mark one amount shows ('.' or ','), or None when it could be either."""
    v = value.strip()
    if "," in v and "." in v:
        return "," if v.rfind(",") > v.rfind(".") else "."
    if re.search(r",(\d{1,2}|\d{4,})\D*$", v):
        return ","
    if re.search(r"\.(\d{1,2}|\d{4,})\D*$", v):
        return "."
    return None


def detect_decimal(values: list[str]) -> str:
    """The decimal mark of a column of amounts: '.' unless the values show a decimal comma.

    A value with both marks shows it (the last one is the decimal); a mark followed by one, two
    or more than three digits at the end is a decimal mark; '1,234' alone reads as a thousands comma.
    """
    shown = [_decimal_evidence(v) for v in values]
    return "," if shown.count(",") > shown.count(".") else "."


def check_decimal(rows: list[tuple[int, str]], decimal: str, source: str, column: str) -> None:
    """Raise LedgerError when most amounts that show a decimal mark show the other one than ``decimal``.

    ``rows`` are (line, amount text). A given decimal mark that contradicts the data would read
    every amount 100 times too large or too small; a few odd rows are left to the row checks.
    """
    other = "," if decimal == "." else "."
    shown = [(line, v) for line, v in rows if _decimal_evidence(v) == other]
    agree = sum(_decimal_evidence(v) == decimal for _, v in rows)
    if shown and len(shown) > agree:
        line, v = shown[0]
        raise LedgerError(source, f"decimal {decimal!r} given but amounts such as {v!r} (line {line}) use "
                          f"{other!r} as the decimal point ({len(shown)} of {len(rows)} amounts); give "
                          f"--decimal {other} (or decimal = \"{other}\" in the mapping file), or leave it out to "
                          "detect it", column=column)


def check_thousands_dot(rows: list[tuple[int, str]], source: str, column: str) -> None:
    """Refuse to guess when no amount shows its decimal mark and some read as '1.234' (1.234 or 1234?).

    Read with the default decimal point such an amount would be a thousand times too small if the
    dot is a thousands separator, so, as with ambiguous dates, the mark must be given.
    """
    if any(_decimal_evidence(v) for _, v in rows):
        return
    for line, v in rows:
        if re.fullmatch(r"\D*\d{1,3}(\.\d{3})+\D*", v.strip()):
            raise LedgerError(source, f"amounts such as {v!r} (line {line}) read either with a decimal point or "
                              "with a thousands dot, and no amount in the file shows which; refusing to guess. "
                              "Give --decimal . or --decimal , (or decimal in the mapping file)", column=column)


def _try_formats(value: str, formats: tuple[str, ...]) -> date | None:
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def detect_date_format(values: list[str], source: str = "<ledger>") -> str:
    """Name the date format of ``values`` (non-empty strings): 'iso', 'day-first' or 'month-first'.

    Refuses to guess: when every value reads both day-first and month-first (no day above 12), it
    raises LedgerError saying so. The format that reads the most values wins; values it cannot read
    are reported row by row later.
    """
    sample = [v.strip() for v in values if v.strip()]
    if not sample:
        return "iso"
    counts = {name: sum(_try_formats(v, fmts) is not None for v in sample) for name, fmts in DATE_FORMATS.items()}
    best = max(counts.values())
    if best == 0:
        raise LedgerError(source, f"no date could be read (e.g. {sample[0]!r}); give the format with "
                          "--date-format (iso, day-first, month-first or a pattern such as %d %b %Y)")
    winners = [name for name, n in counts.items() if n == best]
    if "iso" in winners:
        return "iso"
    if len(winners) > 1:
        example = next(v for v in sample if _try_formats(v, DATE_FORMATS["day-first"]))
        raise LedgerError(source, f"dates such as {example!r} read both day-first and month-first and no date in "
                          f"the file has a day above 12, so the format cannot be told; refusing to guess. "
                          "Give --date-format day-first or --date-format month-first "
                          "(or date_format in the mapping file)")
    return winners[0]


def _formats_for(name: str) -> tuple[str, ...]:
    return DATE_FORMATS.get(name, (name,))


# --- reading the file -----------------------------------------------------------------------------


def _decode(raw: bytes, encoding: str, source: str) -> str:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff") and not encoding.lower().startswith("utf-16"):
        raise LedgerError(source, f"is UTF-16 text, not {encoding}; save it as UTF-8 CSV or pass --encoding utf-16")
    try:
        text = raw.decode("utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding)
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise LedgerError(source, f"is not {encoding} text (byte 0x{raw[exc.start]:02x} at position {exc.start}); "
                          "exports from older accounting systems are often Windows-1252: try --encoding cp1252",
                          line=line) from None
    except LookupError:
        raise LedgerError(source, f"unknown encoding {encoding!r}") from None
    if "\x00" in text:
        raise LedgerError(source, "contains NUL bytes: it looks like UTF-16 or a binary file; save it as UTF-8 CSV")
    return text


def _sniff_delimiter(text: str) -> str:
    """The delimiter used most on the busiest of the first ten lines (a title line may have none)."""
    lines = [ln for ln in text.splitlines() if ln.strip()][:10]
    counts = {d: max((ln.count(d) for ln in lines), default=0) for d in (",", ";", "\t", "|")}
    return max(counts, key=counts.get) if max(counts.values()) > 0 else ","


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")


def read_ledger(path: str | Path, options: LedgerOptions | None = None, strict: bool = True) -> Ledger:
    """Read and check a ledger CSV; strict mode raises LedgerError on the first bad row.

    Whole-file problems (missing file, wrong encoding, empty file, missing required columns,
    ambiguous dates) raise in both modes, since no row could be trusted.
    """
    options = options or LedgerOptions()
    path = Path(path)
    source = str(path)
    if options.as_of is not None and not EARLIEST_DATE <= options.as_of <= LATEST_DATE:
        raise LedgerError(source, f"the as-of date {options.as_of} is outside {EARLIEST_DATE} to {LATEST_DATE}")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LedgerError(source, "file not found") from None
    except OSError as exc:
        raise LedgerError(source, f"cannot be read ({exc.strerror})") from None
    text = _decode(raw, options.encoding, source)
    if not text.strip():
        raise LedgerError(source, "the file is empty: no header and no invoices")
    delimiter = _sniff_delimiter(text) if options.delimiter == "auto" else options.delimiter
    numbered = _records(text, delimiter, source)
    if not numbered:
        raise LedgerError(source, "the file is empty: no header and no invoices")
    wanted = {canon: options.columns.get(canon, canon) for canon in CANONICAL}
    header_at = _find_header(numbered, wanted)
    if header_at is None:
        first_line, first = numbered[0]
        found = [h for h in first if h.strip()]
        missing = [c for c in REQUIRED if _norm(wanted[c]) not in {_norm(h) for h in first}]
        if options.pseudonym_key is not None:  # the first row may be data: a customer's id and name
            found = f"{len(found)} fields (not shown: --pseudonymise)"
        raise LedgerError(source, "missing required column(s) " + ", ".join(repr(wanted[c]) for c in missing)
                          + f"; the header has {found!r}. Name them in a mapping file ([columns] "
                          "canonical = \"your header\") or with --column canonical=header", line=first_line)
    rejects: list[dict] = []
    header_line, header = numbered[header_at]
    index = {_norm(h): i for i, h in enumerate(header)}
    col = {canon: index.get(_norm(wanted[canon])) for canon in CANONICAL}
    public = [i for c, i in col.items() if c not in ("customer_id", "customer_name")]
    private = _Private(options.pseudonym_key, [col["customer_id"], col["customer_name"]], public, numbered)
    for line, r in numbered[:header_at]:
        problem = LedgerError(source, "text before the header row (a report title or preamble)", line=line)
        if strict:
            raise problem
        rejects.append(_reject(line, None, problem.reason, private.row(r, fits=False)))
    body = numbered[header_at + 1:]

    if not body and not rejects:
        raise LedgerError(source, "no invoices: the file has a header and nothing else", line=header_line)
    header_norm = [_norm(h) for h in header]

    def cell(r: list[str], canon: str) -> str:
        i = col[canon]
        return r[i].strip() if i is not None and i < len(r) else ""

    good: list[tuple[int, list[str]]] = []
    for line, r in body:
        fits = len(r) == len(header) or (len(r) > len(header) and not any(c.strip() for c in r[len(header):]))
        stray = [_norm(c) for c in r[:len(header)]] == header_norm
        if stray:
            reason, column = "the header row repeated inside the data (a stray header row)", None
        elif not fits:
            reason, column = f"has {len(r)} fields where the header has {len(header)}", None
        else:
            good.append((line, r))
            continue
        if strict:
            raise LedgerError(source, reason, line=line, column=column)
        rejects.append(_reject(line, column, reason, r if stray else private.row(r, fits)))

    fmt = options.date_format
    if fmt == "auto":
        values = [cell(r, c) for _, r in good for c in DATE_COLUMNS]
        fmt = detect_date_format(values, source)
    formats = _formats_for(fmt)
    amounts = [(line, cell(r, "amount")) for line, r in good]
    decimal = options.decimal if options.decimal != "auto" else detect_decimal([v for _, v in amounts])
    if options.decimal != "auto":
        check_decimal(amounts, decimal, source, wanted["amount"])
    else:
        check_thousands_dot(amounts, source, wanted["amount"])

    records: list[dict] = []
    seen: dict[str, int] = {}
    for line, r in good:
        try:
            rec = _check_row(r, cell, formats, fmt, decimal, seen, line, options.as_of)
        except _RowProblem as p:
            reason = private.text(p.reason)
            if strict:
                raise LedgerError(source, reason, line=line, column=wanted.get(p.column, p.column)) from None
            rejects.append(_reject(line, wanted.get(p.column, p.column), reason, private.row(r, fits=True)))
            continue
        seen[rec["invoice_id"]] = line
        records.append(private.record(rec))

    frame = pd.DataFrame.from_records(records, columns=["line", "customer_id", "invoice_id", "issue_date",
                                                        "due_date", "paid_date", "amount_cents", "disputed",
                                                        "channel", "segment", "currency", "customer_name"])
    for c in ("issue_date", "due_date", "paid_date"):
        frame[c] = pd.to_datetime(frame[c]).astype("datetime64[ns]")
    frame["amount_cents"] = frame["amount_cents"].astype(np.int64)
    frame["disputed"] = frame["disputed"].astype("boolean")
    if col["disputed"] is None:
        frame = frame.drop(columns="disputed")
    for c in ("channel", "segment", "currency", "customer_name"):
        if col[c] is None:
            frame = frame.drop(columns=c)
    if "currency" in frame:
        codes = sorted({c.upper() for c in frame["currency"] if c})
        if len(codes) > 1:
            first = frame.loc[frame["currency"].str.upper() != codes[0], "line"].iloc[0]
            raise LedgerError(source, f"the ledger mixes currencies ({', '.join(codes)}); amounts cannot be "
                              "added up: export one currency at a time or convert first", line=int(first),
                              column=wanted["currency"])
    as_of = options.as_of
    if as_of is None and len(frame):
        as_of = max(frame[c].max() for c in ("issue_date", "paid_date") if frame[c].notna().any()).date()
    rej = pd.DataFrame(rejects, columns=["line", "column", "reason", "row"])
    return Ledger(frame, rej, source, as_of or date.today(), fmt, len(body) + header_at)


class _RowProblem(Exception):
    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column, self.reason = column, reason


def _check_row(r, cell, formats, fmt, decimal, seen, line, as_of=None) -> dict:
    """The typed record of one row, or _RowProblem naming the column and the reason."""
    rec: dict[str, Any] = {"line": line}
    for c in ("customer_id", "invoice_id"):
        rec[c] = cell(r, c)
        if not rec[c]:
            raise _RowProblem(c, f"{c} is empty")
    if rec["invoice_id"] in seen:
        raise _RowProblem("invoice_id", f"duplicate invoice id {rec['invoice_id']!r} (first on line "
                          f"{seen[rec['invoice_id']]})")
    for c in DATE_COLUMNS:
        v = cell(r, c)
        if not v and c == "paid_date":
            rec[c] = None
            continue
        if not v:
            raise _RowProblem(c, f"{c} is empty")
        d = _try_formats(v, formats)
        if d is None:
            raise _RowProblem(c, f"date {v!r} cannot be read as {fmt}")
        if not EARLIEST_DATE <= d <= LATEST_DATE:
            raise _RowProblem(c, f"{c} {v!r} is outside {EARLIEST_DATE} to {LATEST_DATE}, the dates a ledger can hold")
        rec[c] = d
    _check_date_order(rec, as_of)
    try:
        rec["amount_cents"] = parse_amount(cell(r, "amount"), decimal)
    except ValueError as exc:
        raise _RowProblem("amount", str(exc)) from None
    v = cell(r, "disputed").lower()
    if v in _TRUE:
        rec["disputed"] = True
    elif v in _FALSE:
        rec["disputed"] = False
    else:
        raise _RowProblem("disputed", f"disputed {v!r} is not yes/no, true/false or 1/0")
    v = cell(r, "channel").lower()
    if v and v not in _CHANNELS:
        raise _RowProblem("channel", f"channel {v!r} is not paper or electronic")
    rec["channel"] = _CHANNELS.get(v, "unknown")
    rec["segment"] = cell(r, "segment") or "all"
    rec["currency"] = cell(r, "currency")
    rec["customer_name"] = cell(r, "customer_name")
    return rec


def _check_date_order(rec: dict, as_of: date | None) -> None:
    """Due and paid on or after issue and at most ten years later; nothing issued or paid after ``as_of``."""
    issued, due, paid = rec["issue_date"], rec["due_date"], rec["paid_date"]
    if as_of is not None and issued > as_of:
        raise _RowProblem("issue_date", f"issued {issued}, after the as-of date {as_of} (the date of the export)")
    if due < issued:
        raise _RowProblem("due_date", f"due {due} before issued {issued}")
    if (due - issued).days > MAX_DAYS_AFTER_ISSUE:
        raise _RowProblem("due_date", f"due {due}, more than ten years after issued {issued}")
    if paid is None:
        return
    if paid < issued:
        raise _RowProblem("paid_date", f"paid {paid} before issued {issued}")
    if (paid - issued).days > MAX_DAYS_AFTER_ISSUE:
        raise _RowProblem("paid_date", f"paid {paid}, more than ten years after issued {issued}")
    if as_of is not None and paid > as_of:
        raise _RowProblem("paid_date", f"paid {paid}, after the as-of date {as_of} (the date of the export)")


def pseudonym(value: str, key: bytes) -> str:
    """A stable pseudonym for a customer id or name: keyed HMAC-SHA256, so it cannot be reversed
    or recomputed without the key, and the same customer always gets the same pseudonym."""
    return "P-" + hmac.new(key, value.strip().encode("utf-8"), hashlib.sha256).hexdigest()[:16]


class _Private:
    """Pseudonymisation of everything a run writes about rows: the kept rows, rejected rows and reasons.

    Without a key it changes nothing. With one, only cells of the columns known to hold no person
    (invoice number, dates, amount, disputed, channel, segment, currency) stay readable, unless they
    hold a value seen in the customer id or name column; every other cell (customer id and name,
    columns the reader does not know, every cell of a row whose columns cannot be trusted: text
    before the header, a wrong number of fields) is replaced by its pseudonym. Quoted values in
    reasons are replaced the same way.
    """

    _QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")

    def __init__(self, key: bytes | None, columns: list[int | None], public: list[int | None],
                 rows: list[tuple[int, list[str]]]) -> None:
        self.key, self.public = key, {i for i in public if i is not None}
        columns = [i for i in columns if i is not None]
        self.known = set() if key is None else {
            r[i].strip() for _, r in rows for i in columns if i < len(r) and r[i].strip()}

    def _hide(self, value: str) -> str:
        return pseudonym(value, self.key) if value.strip() else value

    def row(self, r: list[str], fits: bool) -> list[str]:
        """The row as it may be written: private cells pseudonymised (every cell when ``fits`` is False)."""
        if self.key is None:
            return r
        return [c if fits and i in self.public and c.strip() not in self.known else self._hide(c)
                for i, c in enumerate(r)]

    def record(self, rec: dict) -> dict:
        """A checked record with its customer id and name pseudonymised (nothing else is read from a row)."""
        if self.key is None:
            return rec
        return {**rec, **{c: self._hide(rec[c]) for c in ("customer_id", "customer_name")}}

    def text(self, message: str) -> str:
        """``message`` with every quoted value seen in a private column replaced by its pseudonym."""
        if self.key is None:
            return message

        def swap(m: re.Match) -> str:
            value = m.group(1) if m.group(1) is not None else m.group(2)
            return repr(pseudonym(value, self.key)) if value.strip() in self.known else m.group(0)
        return self._QUOTED.sub(swap, message)


def _reject(line: int, column: str | None, reason: str, row: list[str]) -> dict:
    return {"line": line, "column": column or "", "reason": reason, "row": ",".join(row)}


def _records(text: str, delimiter: str, source: str) -> list[tuple[int, list[str]]]:
    """Non-blank CSV records with the line each starts on (a quoted field may span lines)."""
    out: list[tuple[int, list[str]]] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    prev = 0
    try:
        for r in reader:
            if any(c.strip() for c in r):
                out.append((prev + 1, r))
            prev = reader.line_num
    except csv.Error as exc:
        raise LedgerError(source, f"is not readable CSV ({exc})", line=prev + 1) from None
    return out


def _find_header(numbered: list[tuple[int, list[str]]], wanted: dict[str, str]) -> int | None:
    """Index of the first of the first 20 rows holding every required column name."""
    need = {_norm(wanted[c]) for c in REQUIRED}
    for i, (_, r) in enumerate(numbered[:20]):
        if need <= {_norm(h) for h in r}:
            return i
    return None
