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

A mapping file (:meth:`LedgerOptions.from_toml`) reads exports as they come: a date format per
date column (``[date_formats]``), a duplicated header addressed by its occurrence
(``"Document Date#2"``), one currency kept (``currency``) or the others converted (``[fx]``), and
customer ids with and without leading zeros read as one (``normalise_ids``). Rows in another
currency than the one kept are *skipped* and counted, not rejected: kept + rejected + skipped = the
rows of the file.

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
    """How to read an export: column names, date formats, decimal mark, encoding, as-of date, currency.

    ``columns`` maps a canonical name to the export's header (``{"invoice_id": "Invoice No."}``); a
    header that occurs more than once is named by its occurrence, ``"Doc Date#2"`` for the second.
    ``date_format`` is ``"auto"``, ``"iso"``, ``"day-first"``, ``"month-first"`` or a strptime
    pattern, for every date column; ``date_formats`` overrides it per date column
    (``{"due_date": "%Y%m%d.0"}``; ``"auto"`` there detects that column on its own values).
    ``decimal`` is ``"auto"``, ``"."`` or ``","``. ``as_of`` is the date of the export (default: the
    latest date in the file), the day open invoices are censored at. ``currency`` keeps the rows of
    one currency (the others are skipped and counted); ``fx`` maps a currency to its rate into the
    ledger currency (``currency``, or the one currency in the file without a rate) and converts.
    ``normalise_ids="strip-leading-zeros"`` reads customer ids ``00042`` and ``42`` as one customer.
    """

    columns: Mapping[str, str] = field(default_factory=dict)
    date_format: str = "auto"
    decimal: str = "auto"
    encoding: str = "utf-8"
    delimiter: str = "auto"
    as_of: date | None = None
    pseudonym_key: bytes | None = field(default=None, repr=False)
    date_formats: Mapping[str, str] = field(default_factory=dict)
    currency: str | None = None
    fx: Mapping[str, float] = field(default_factory=dict)
    normalise_ids: str = "none"

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
        allowed = {"columns", "date_format", "date_formats", "decimal", "encoding", "delimiter", "as_of",
                   "currency", "fx", "normalise_ids"}
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
        for key in ("date_format", "decimal", "encoding", "delimiter", "currency", "normalise_ids"):
            if key in data:
                _check_option(str(path), key, data[key])
        for table in ("date_formats", "fx"):
            _check_table(str(path), table, data.get(table, {}))
        as_of = data.get("as_of")
        if as_of is not None and (not isinstance(as_of, date) or isinstance(as_of, datetime)):
            raise LedgerError(str(path), f"key 'as_of' must be a TOML date such as 2025-06-30, not {_kind(as_of)}")
        values = {"columns": columns, **{k: data[k] for k in ("date_format", "date_formats", "decimal", "encoding",
                                                              "delimiter", "currency", "fx", "normalise_ids")
                                          if k in data}, "as_of": as_of}
        if "currency" in values:
            values["currency"] = values["currency"].strip().upper()
        if "fx" in values:
            values["fx"] = {k.strip().upper(): float(v) for k, v in values["fx"].items()}
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
    if key == "date_format" and value not in ("auto", *DATE_FORMATS) and "%" not in value:
        raise LedgerError(source, f"key 'date_format' must be \"auto\", \"iso\", \"day-first\", \"month-first\" or "
                          f"a strptime pattern such as \"%d %b %Y\", not {_kind(value)}")
    if key == "currency" and not (isinstance(value, str) and value.strip() and " " not in value.strip()):
        raise LedgerError(source, f"key 'currency' must be the currency to keep, such as \"EUR\", not {_kind(value)}")
    if key == "normalise_ids" and value not in NORMALISE_IDS:
        raise LedgerError(source, "key 'normalise_ids' must be " + " or ".join(f'"{v}"' for v in NORMALISE_IDS)
                          + f", not {_kind(value)}")
    if key == "encoding":
        try:
            codecs.lookup(value)
        except LookupError:
            raise LedgerError(source, f"key 'encoding' names an unknown encoding {value!r}; "
                              "use one such as \"utf-8\" or \"cp1252\"") from None


def _check_table(source: str, table: str, value: Any) -> None:
    """Raise LedgerError unless ``[date_formats]`` / ``[fx]`` is a table of allowed keys and values."""
    example = {"date_formats": 'due_date = "%Y%m%d.0"', "fx": "USD = 0.92"}[table]
    if not isinstance(value, dict):
        raise LedgerError(source, f"key {table!r} must be a table ([{table}] {example}), not {_kind(value)}")
    for key, v in value.items():
        if table == "date_formats":
            if key not in DATE_COLUMNS:
                raise LedgerError(source, f"[date_formats] key {key!r} is not a date column; date columns are: "
                                  + ", ".join(DATE_COLUMNS))
            if not (isinstance(v, str) and v.strip()) or (v not in ("auto", *DATE_FORMATS) and "%" not in v):
                raise LedgerError(source, f"[date_formats] key {key!r} must be \"auto\", \"iso\", \"day-first\", "
                                  f"\"month-first\" or a strptime pattern such as \"%Y%m%d.0\", not {_kind(v)}")
        elif isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < float("inf"):
            raise LedgerError(source, f"[fx] key {key!r} must be a positive number, the rate that converts one {key} "
                              f"into the ledger currency, not {_kind(v)}")


#: What ``normalise_ids`` may say: leave customer ids as they are, or read ``00042`` as ``42``.
NORMALISE_IDS = ("none", "strip-leading-zeros")


@dataclass(frozen=True)
class Ledger:
    """Clean invoices (``frame``) and the rows left out with their reasons (``rejects``).

    ``frame`` columns: line, customer_id, invoice_id, issue_date, due_date, paid_date (NaT when
    open), amount_cents, disputed (boolean, NA when unknown), channel, segment, currency,
    customer_name. ``input_rows`` counts the data rows of the file (everything after the header);
    ``len(frame) + len(rejects) + len(skipped) == input_rows`` always holds. ``skipped`` lists the
    rows left out on purpose (another currency than the one kept: line and currency), ``date_formats``
    the format each date column was read with, ``notes`` what was done to the rows (skipped,
    converted), ``warnings`` what deserves a look (two raw customer ids read as one), and ``diagnosis``
    the most common reason rows were rejected with the mapping key that fixes it ("" when none was).
    """

    frame: pd.DataFrame
    rejects: pd.DataFrame
    source: str
    as_of: date
    date_format: str
    input_rows: int
    skipped: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["line", "currency"]))
    date_formats: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    diagnosis: str = ""

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


def detect_date_format(values: list[str], source: str = "<ledger>", column: str | None = None,
                       header: str | None = None) -> str:
    """Name the date format of ``values`` (non-empty strings): 'iso', 'day-first', 'month-first' or a pattern.

    Refuses to guess: when every value reads both day-first and month-first (no day above 12), it
    raises LedgerError saying so. The format that reads the most values wins; values it cannot read
    are reported row by row later. When no named format reads any value, a common export pattern
    (``"%Y-%m-%d %H:%M:%S"``, ``"%Y%m%d.0"``, ...) that reads the most values is used, if the
    patterns that read them agree on the dates. ``column`` (and its ``header``) name the one date
    column detected on its own, for the messages.
    """
    sample = [v.strip() for v in values if v.strip()]
    if not sample:
        return "iso"
    counts = {name: sum(_try_formats(v, fmts) is not None for v in sample) for name, fmts in DATE_FORMATS.items()}
    best = max(counts.values())
    where = f"column {header or column!r}: " if column else ""
    if best == 0:
        pattern = _common_pattern(sample)
        if pattern is not None:
            return pattern
        suggested = suggest_date_pattern(sample[0])
        how = (f'[date_formats] {column} = "..." in the mapping file' if column
               else "--date-format (or date_format in the mapping file; [date_formats] for one column)")
        raise LedgerError(source, f"{where}no date could be read (e.g. {sample[0]!r}); give the format with {how}: "
                          "iso, day-first, month-first or a strptime pattern such as "
                          + (f'"{suggested}"' if suggested else '"%d %b %Y"'))
    winners = [name for name, n in counts.items() if n == best]
    if "iso" in winners:
        return "iso"
    if len(winners) > 1:
        example = next(v for v in sample if _try_formats(v, DATE_FORMATS["day-first"]))
        how = (f'[date_formats] {column} = "day-first" or "month-first" in the mapping file' if column else
               "--date-format day-first or --date-format month-first (or date_format in the mapping file)")
        raise LedgerError(source, f"{where}dates such as {example!r} read both day-first and month-first and no date "
                          f"in the {'column' if column else 'file'} has a day above 12, so the format cannot be told; "
                          f"refusing to guess. Give {how}")
    return winners[0]


def _common_pattern(sample: list[str]) -> str | None:
    """The export pattern reading the most of ``sample`` (at least one), unless another reads them as other dates."""
    reads = {p: [_try_formats(v, (p,)) for v in sample[:200]] for p in _PATTERNS}
    best = max(sum(d is not None for d in ds) for ds in reads.values())
    if best == 0:
        return None
    top = [p for p, ds in reads.items() if sum(d is not None for d in ds) == best]
    if len({tuple(reads[p]) for p in top}) > 1:
        return None
    return top[0]


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

    Whole-file problems (missing file, wrong encoding, empty file, missing required columns, a
    duplicated header a column is read from, ambiguous dates, mixed currencies without a choice)
    raise in both modes, since no row could be trusted. In lenient mode a rejected row carries
    every bad column, not only the first.
    """
    options = options or LedgerOptions()
    path = Path(path)
    source = str(path)
    _check_options(options, source)
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
        norms = {_norm(h) for h in first}
        missing = [c for c in REQUIRED if not _present(wanted[c], norms)]
        if options.pseudonym_key is not None:  # the first row may be data: a customer's id and name
            found = f"{len(found)} fields (not shown: --pseudonymise)"
        raise LedgerError(source, "missing required column(s) " + ", ".join(repr(wanted[c]) for c in missing)
                          + f"; the header has {found!r}. Name them in a mapping file ([columns] "
                          "canonical = \"your header\") or with --column canonical=header", line=first_line)
    rejects: list[dict] = []
    problems: list[tuple[str | None, str, str, int]] = []  # (canonical column, kind, value, line) per bad cell
    header_line, header = numbered[header_at]
    col = _columns(header, wanted, set(options.columns), source, header_line)
    name = wanted  # columns are named in messages as the mapping names them ("Document Date#2")
    public = [i for c, i in col.items() if c not in ("customer_id", "customer_name")]
    private = _Private(options.pseudonym_key, [col["customer_id"], col["customer_name"]], public, numbered)
    for line, r in numbered[:header_at]:
        problem = LedgerError(source, "text before the header row (a report title or preamble)", line=line)
        if strict:
            raise problem
        rejects.append(_reject(line, None, problem.reason, private.row(r, fits=False)))
        problems.append((None, "preamble", "", line))
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
        problems.append((None, "stray" if stray else "fields", "", line))

    currency = _Currencies(options, col["currency"] is not None, [(line, cell(r, "currency")) for line, r in good],
                           source, name["currency"])
    skipped = [(line, code) for line, code in currency.coded
               if currency.keep is not None and not currency.rates and code and code != currency.keep]
    if skipped:
        dropped = {line for line, _ in skipped}
        good = [(line, r) for line, r in good if line not in dropped]

    formats, fmt = _date_formats(options, good, cell, source, name)
    amounts = [(line, cell(r, "amount")) for line, r in good]
    decimal = options.decimal if options.decimal != "auto" else detect_decimal([v for _, v in amounts])
    if options.decimal != "auto":
        check_decimal(amounts, decimal, source, name["amount"])
    else:
        check_thousands_dot(amounts, source, name["amount"])

    ids = _Ids(options.normalise_ids)
    records: list[dict] = []
    seen: dict[str, int] = {}
    for line, r in good:
        try:
            rec = _check_row(r, cell, formats, decimal, seen, line, options.as_of, ids.normal, currency)
        except _RowProblem as p:
            if strict:
                column, _, reason, _ = p.problems[0]
                raise LedgerError(source, private.text(reason), line=line, column=name.get(column, column)) from None
            columns = list(dict.fromkeys(name.get(c, c) for c, _, _, _ in p.problems))
            reason = "; ".join(private.text(reason) for _, _, reason, _ in p.problems)
            rejects.append(_reject(line, "; ".join(columns), reason, private.row(r, fits=True)))
            problems.extend((c, kind, value, line) for c, kind, _, value in p.problems)
            continue
        seen[rec["invoice_id"]] = line
        ids.seen(cell(r, "customer_id"), rec["customer_id"])
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
    as_of = options.as_of
    if as_of is None and len(frame):
        as_of = max(frame[c].max() for c in ("issue_date", "paid_date") if frame[c].notna().any()).date()
    rej = pd.DataFrame(rejects, columns=["line", "column", "reason", "row"])
    skip = pd.DataFrame(skipped, columns=["line", "currency"])
    rows = len(body) + header_at
    diagnosis = private.text(_diagnosis(problems, rows - len(skipped), formats, name)) if problems else ""
    return Ledger(frame, rej, source, as_of or date.today(), fmt, rows, skip,
                  {c: shown for c, (shown, _) in formats.items()}, currency.notes(len(skipped)),
                  ids.warnings(options.pseudonym_key is not None), diagnosis)


def _check_options(options: LedgerOptions, source: str) -> None:
    """The options a mapping file checks, checked again for options built in code."""
    for key in options.date_formats:
        if key not in DATE_COLUMNS:
            raise LedgerError(source, f"date_formats names {key!r}, which is not a date column; date columns are: "
                              + ", ".join(DATE_COLUMNS))
    if options.normalise_ids not in NORMALISE_IDS:
        raise LedgerError(source, "normalise_ids must be " + " or ".join(f'"{v}"' for v in NORMALISE_IDS)
                          + f", not {options.normalise_ids!r}")


def _present(name: str, norms: set[str]) -> bool:
    """Whether the header (its normalised names) has the column ``name`` ("Doc Date#2" counts its base name)."""
    m = _OCCURRENCE.fullmatch(name)
    return _norm(name) in norms or (m is not None and _norm(m[1]) in norms)


_OCCURRENCE = re.compile(r"(.*\S)\s*#(\d+)")


def _columns(header: list[str], wanted: dict[str, str], mapped: set[str], source: str,
             line: int) -> dict[str, int | None]:
    """The field index of each canonical column; a duplicated header must be named by its occurrence.

    ``"Doc Date#2"`` is the second column headed "Doc Date" (unless a column is headed "Doc Date#2"
    itself). Naming a header that occurs twice without ``#n`` is an error saying how to choose:
    the columns may hold different things, and reading either silently would shadow the other.
    """
    at: dict[str, list[int]] = {}
    for i, h in enumerate(header):
        at.setdefault(_norm(h), []).append(i)
    col: dict[str, int | None] = {}
    for canon, want in wanted.items():
        where = at.get(_norm(want))
        m = _OCCURRENCE.fullmatch(want)
        if where is None and m is not None and _norm(m[1]) in at:
            base, k = at[_norm(m[1])], int(m[2])
            if not 1 <= k <= len(base):
                raise LedgerError(source, f"{_mapping_key(canon, mapped)} names {want!r}, but the header has "
                                  f"{len(base)} column(s) headed {header[base[0]]!r}", line=line)
            col[canon] = base[k - 1]
            continue
        if where is not None and len(where) > 1:
            shown = header[where[0]]
            raise LedgerError(source, f"the header has {len(where)} columns headed {shown!r} (fields "
                              + ", ".join(str(i + 1) for i in where) + f") and {_mapping_key(canon, mapped)} "
                              f"does not say which one holds {canon}; name it by its occurrence: [columns] "
                              f"{canon} = \"{shown}#1\" (or #2 ...) in the mapping file, or --column "
                              f"{canon}=\"{shown}#2\"", line=line, column=shown)
        col[canon] = where[0] if where else None
    return col


def _mapping_key(canon: str, mapped: set[str]) -> str:
    return f"[columns] {canon}" if canon in mapped else f"the {canon} column (read by its canonical name)"


def _date_formats(options: LedgerOptions, good: list[tuple[int, list[str]]], cell, source: str,
                  name: dict[str, str]) -> tuple[dict[str, tuple[str, tuple[str, ...]]], str]:
    """Each date column's (format name, strptime patterns), and the default format as read.

    ``date_format = "auto"`` detects one format on the date columns without their own
    ``[date_formats]`` entry together (a day above 12 in any of them settles day- or month-first);
    ``"auto"`` in ``[date_formats]`` detects that column on its own values.
    """
    fmt = options.date_format
    shared = [c for c in DATE_COLUMNS if c not in options.date_formats]
    if fmt == "auto" and shared:
        values = [cell(r, c) for _, r in good for c in shared]
        fmt = detect_date_format(values, source)
    out = {}
    for c in DATE_COLUMNS:
        own = options.date_formats.get(c, fmt)
        if own == "auto":
            own = detect_date_format([cell(r, c) for _, r in good], source, column=c, header=name[c])
        out[c] = (own, _formats_for(own))
    return out, fmt


class _Currencies:
    """Which currency the ledger is in, which rows are skipped (``keep``) or converted (``rates``).

    Without ``currency`` or ``fx`` a file of several currencies is a whole-file error that lists them
    and says how to choose. An empty currency cell in a file of several currencies is a row problem.
    """

    def __init__(self, options: LedgerOptions, has_column: bool, cells: list[tuple[int, str]], source: str,
                 column: str) -> None:
        self.coded = [(line, v.upper()) for line, v in cells]
        self.keep, self.rates, self.source = options.currency, dict(options.fx), source
        self.converted = 0
        if not has_column:
            if self.keep or self.rates:
                what = "currency" if self.keep else "[fx]"
                raise LedgerError(source, f"{what} is given but the ledger has no currency column; name it in the "
                                  "mapping file ([columns] currency = \"your header\") or leave it out")
            self.codes: dict[str, int] = {}
            return
        codes: dict[str, int] = {}
        for _, code in self.coded:
            if code:
                codes[code] = codes.get(code, 0) + 1
        self.codes = codes
        found = ", ".join(f"{c} ({n} rows)" for c, n in sorted(codes.items()))
        if self.rates:
            if self.keep is None:
                unrated = [c for c in codes if c not in self.rates]
                if len(unrated) != 1:
                    raise LedgerError(source, "an [fx] table is given but the ledger currency cannot be told (the "
                                      f"currencies found are {found}); give currency = \"CODE\", the currency the "
                                      "[fx] rates convert into")
                self.keep = unrated[0]
            missing = sorted(c for c in codes if c != self.keep and c not in self.rates)
            if missing:
                raise LedgerError(source, f"currencies {', '.join(missing)} have no rate in [fx] (found: {found}); "
                                  f"add e.g. [fx] {missing[0]} = 0.92, the value of one {missing[0]} in {self.keep}",
                                  column=column)
        elif self.keep is not None:
            if self.keep not in codes:
                raise LedgerError(source, f"currency {self.keep} was asked for but no row is in it; the currencies "
                                  f"found are {found}", column=column)
        elif len(codes) > 1:
            first = next(c for _, c in self.coded if c)
            line = next(ln for ln, c in self.coded if c and c != first)
            names = sorted(codes)
            most = max(names, key=lambda c: codes[c])
            other = next(c for c in names if c != most)
            raise LedgerError(source, f"the ledger mixes currencies ({', '.join(names)}): "
                              + ", ".join(f"{codes[c]} rows in {c}" for c in names) + "; amounts cannot be added "
                              f"up: keep one with --currency {most} (or currency = \"{most}\" in the mapping file; "
                              f"the other rows are skipped and counted), or convert with an [fx] table in the "
                              f"mapping file ([fx] {other} = <the value of one {other} in {most}>)",
                              line=line, column=column)

    @property
    def several(self) -> bool:
        return len(self.codes) > 1

    def convert(self, code: str, cents: int) -> tuple[str, int]:
        """The row's currency and amount in the ledger currency (raises ValueError with the reason)."""
        code = code.upper()
        if not code:
            if self.several:
                raise ValueError(f"currency is empty, and the ledger has several ({', '.join(sorted(self.codes))})")
            return code, cents
        if not self.rates or code == self.keep:
            return code, cents
        value = (Decimal(cents) * Decimal(repr(self.rates[code]))).to_integral_value(ROUND_HALF_EVEN)
        if value <= 0 or value > MAX_AMOUNT * 100:
            raise ValueError(f"amount of {cents / 100:.2f} {code} is {value / 100:.2f} {self.keep} at the [fx] rate "
                             f"{self.rates[code]:g}, outside what an invoice can be")
        self.converted += 1
        return self.keep, int(value)

    def notes(self, skipped: int) -> tuple[str, ...]:
        """What was done to rows of other currencies: skipped (how many, of which) or converted."""
        out = []
        if skipped:
            others = ", ".join(f"{c}: {n}" for c, n in sorted(self.codes.items()) if c != self.keep)
            out.append(f"{skipped} rows in other currencies than {self.keep} skipped ({others})")
        if self.converted:
            out.append(f"{self.converted} rows converted into {self.keep} at the [fx] rates ("
                       + ", ".join(f"{c} {r:g}" for c, r in sorted(self.rates.items()) if c in self.codes) + ")")
        return tuple(out)


class _Ids:
    """Customer ids normalised on request, remembering which raw ids became one customer."""

    def __init__(self, how: str) -> None:
        self.how = how
        self.raw: dict[str, set[str]] = {}

    def normal(self, value: str) -> str:
        if self.how == "strip-leading-zeros":
            return value.lstrip("0") or "0"
        return value

    def seen(self, raw: str, normal: str) -> None:
        if self.how != "none":
            self.raw.setdefault(normal, set()).add(raw)

    def warnings(self, hidden: bool) -> tuple[str, ...]:
        merged = {n: sorted(r) for n, r in self.raw.items() if len(r) > 1}
        if not merged:
            return ()
        if hidden:
            return (f"{len(merged)} customer(s) appear under several raw ids that normalise_ids = \"{self.how}\" "
                    "reads as one (ids not shown: --pseudonymise)",)
        shown = "; ".join(" and ".join(repr(r) for r in raw) + f" -> {n!r}" for n, raw in list(merged.items())[:3])
        more = f" and {len(merged) - 3} more" if len(merged) > 3 else ""
        return (f"{len(merged)} customer(s) appear under several raw ids, read as one by normalise_ids = "
                f"\"{self.how}\": {shown}{more}; check they are the same customer",)


class _RowProblem(Exception):
    """Every problem of one row: (canonical column or None, kind, reason, the cell's value)."""

    def __init__(self, problems: list[tuple[str | None, str, str, str]]) -> None:
        super().__init__(problems[0][2])
        self.problems = problems
        self.column, self.reason = problems[0][0], problems[0][2]


def _check_row(r, cell, formats, decimal, seen, line, as_of=None, normal=None, currency=None) -> dict:
    """The typed record of one row, or _RowProblem listing every bad column and its reason."""
    problems: list[tuple[str | None, str, str, str]] = []

    def bad(column: str, kind: str, reason: str, value: str = "") -> None:
        problems.append((column, kind, reason, value))

    rec: dict[str, Any] = {"line": line}
    for c in ("customer_id", "invoice_id"):
        rec[c] = cell(r, c)
        if not rec[c]:
            bad(c, "empty", f"{c} is empty")
    if rec["customer_id"] and normal is not None:
        rec["customer_id"] = normal(rec["customer_id"])
    if rec["invoice_id"] in seen:
        bad("invoice_id", "duplicate", f"duplicate invoice id {rec['invoice_id']!r} (first on line "
            f"{seen[rec['invoice_id']]})")
    for c in DATE_COLUMNS:
        v = cell(r, c)
        rec[c] = None
        if not v:
            if c != "paid_date":
                bad(c, "empty", f"{c} is empty")
            continue
        shown, fmts = formats[c]
        d = _try_formats(v, fmts)
        if d is None:
            bad(c, "date", f"date {v!r} cannot be read as {shown}", v)
        elif not EARLIEST_DATE <= d <= LATEST_DATE:
            bad(c, "range", f"{c} {v!r} is outside {EARLIEST_DATE} to {LATEST_DATE}, the dates a ledger can hold", v)
        else:
            rec[c] = d
    for column, kind, reason in _date_order(rec, as_of):
        bad(column, kind, reason)
    try:
        rec["amount_cents"] = parse_amount(cell(r, "amount"), decimal)
    except ValueError as exc:
        rec["amount_cents"] = None
        bad("amount", "amount", str(exc), cell(r, "amount"))
    v = cell(r, "disputed").lower()
    if v in _TRUE:
        rec["disputed"] = True
    elif v in _FALSE:
        rec["disputed"] = False
    else:
        bad("disputed", "disputed", f"disputed {v!r} is not yes/no, true/false or 1/0", v)
    v = cell(r, "channel").lower()
    if v and v not in _CHANNELS:
        bad("channel", "channel", f"channel {v!r} is not paper or electronic", v)
    rec["channel"] = _CHANNELS.get(v, "unknown")
    rec["segment"] = cell(r, "segment") or "all"
    rec["currency"] = cell(r, "currency")
    rec["customer_name"] = cell(r, "customer_name")
    if currency is not None and not problems:
        try:
            rec["currency"], rec["amount_cents"] = currency.convert(rec["currency"], rec["amount_cents"])
        except ValueError as exc:
            bad("currency", "currency", str(exc), rec["currency"])
    if problems:
        raise _RowProblem(problems)
    return rec


def _date_order(rec: dict, as_of: date | None) -> list[tuple[str, str, str]]:
    """Due and paid on or after issue and at most ten years later; nothing issued or paid after ``as_of``.

    Comparisons with a date that could not be read are left out (that date is already a problem).
    """
    issued, due, paid = rec["issue_date"], rec["due_date"], rec["paid_date"]
    out = []
    if issued is not None and as_of is not None and issued > as_of:
        out.append(("issue_date", "after_as_of",
                    f"issued {issued}, after the as-of date {as_of} (the date of the export)"))
    if issued is not None and due is not None:
        if due < issued:
            out.append(("due_date", "order", f"due {due} before issued {issued}"))
        elif (due - issued).days > MAX_DAYS_AFTER_ISSUE:
            out.append(("due_date", "order", f"due {due}, more than ten years after issued {issued}"))
    if paid is None:
        return out
    if issued is not None and paid < issued:
        out.append(("paid_date", "order", f"paid {paid} before issued {issued}"))
    elif issued is not None and (paid - issued).days > MAX_DAYS_AFTER_ISSUE:
        out.append(("paid_date", "order", f"paid {paid}, more than ten years after issued {issued}"))
    elif as_of is not None and paid > as_of:
        out.append(("paid_date", "after_as_of", f"paid {paid}, after the as-of date {as_of} (the date of the export)"))
    return out


def _diagnosis(problems: list[tuple[str | None, str, str, int]], rows: int,
               formats: Mapping[str, tuple[str, tuple[str, ...]]], name: dict[str, str]) -> str:
    """The most common reason rows were rejected (counted once per row) and the mapping key that fixes it."""
    counts: dict[tuple[str | None, str], list[tuple[str, int]]] = {}
    for column, kind, value, line in problems:
        rows_of = counts.setdefault((column, kind), [])
        if not rows_of or rows_of[-1][1] != line:
            rows_of.append((value, line))
    (column, kind), hits = max(counts.items(), key=lambda kv: len(kv[1]))
    value, line = hits[0]
    where = f"column {name.get(column, column)!r}, " if column else ""
    head = f"the most common reason ({len(hits)} of {rows} rows; {where}first on line {line}) is "
    return head + _fix(column, kind, value, formats)


def _fix(column: str | None, kind: str, value: str, formats: Mapping[str, tuple[str, tuple[str, ...]]]) -> str:
    """A problem kind in words, and the mapping key (or option) that fixes it."""
    if kind == "date" and column:
        pattern = suggest_date_pattern(value)
        shown = f'"{pattern}"' if pattern else 'a strptime pattern such as "%Y-%m-%d %H:%M:%S"'
        return (f"a {column} such as {value!r} that the format {formats[column][0]} cannot read; set that "
                f"column's format in the mapping file: [date_formats] {column} = {shown}")
    if kind == "empty":
        return (f"an empty {column}; check which of the export's columns holds it: [columns] {column} = "
                "\"your header\" in the mapping file")
    if kind == "amount":
        return (f"an amount such as {value!r} that cannot be read; check the column ([columns] amount = "
                "\"your header\") and the decimal mark (decimal = \".\" or \",\")")
    if kind in ("order", "range"):
        return (f"a {column} out of order with the issue date (or out of range); check the columns ([columns] "
                f"{column}, [columns] issue_date) and their formats ([date_formats] {column})")
    if kind == "after_as_of":
        return "a date after the as-of date; check as_of in the mapping file (or --as-of)"
    if kind == "duplicate":
        return "a duplicate invoice id; check which column holds the invoice number ([columns] invoice_id)"
    if kind == "currency":
        return "an empty or unconvertible currency; check [columns] currency and the [fx] rates"
    if kind in ("disputed", "channel"):
        return f"a {column} value such as {value!r} that cannot be read; check [columns] {column}"
    if kind == "fields":
        return ("a row whose number of fields differs from the header's; check the delimiter (delimiter = \";\" "
                "in the mapping file) and quoting")
    if kind == "stray":
        return "the header row repeated inside the data; remove the repeated header rows from the export"
    return "text before the header row; remove the title lines from the export"


#: Date patterns of exports in the wild, tried in order by :func:`suggest_date_pattern`.
_PATTERNS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
             "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%SZ", "%Y%m%d", "%Y%m%d.0",
             "%Y/%m/%d", "%Y/%m/%d %H:%M:%S", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d.%m.%Y %H:%M:%S",
             "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S", "%d-%m-%Y", "%d %b %Y", "%d-%b-%Y", "%d-%b-%y", "%b %d, %Y",
             "%d %B %Y", "%B %d, %Y")


def suggest_date_pattern(value: str) -> str | None:
    """A strptime pattern that reads ``value``, when the patterns that do all agree on the date; else None.

    ``suggest_date_pattern("20190405.0") == "%Y%m%d.0"``; ``"03/04/2025"`` reads day- and month-first,
    so nothing is suggested.
    """
    value = value.strip()
    found = [(p, _try_formats(value, (p,))) for p in _PATTERNS]
    found = [(p, d) for p, d in found if d is not None]
    if not found or len({d for _, d in found}) > 1:
        return None
    return found[0][0]


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
    for i, (_, r) in enumerate(numbered[:20]):
        norms = {_norm(h) for h in r}
        if all(_present(wanted[c], norms) for c in REQUIRED):
            return i
    return None
