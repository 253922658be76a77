"""Writing a calibrated scenario as a commented TOML file a person can read and edit.

The file says, beside each fitted key, what it was fitted from and its 95% interval, so a finance
manager can see which numbers rest on many invoices and which on a handful.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any

_ASSUMED = "an ASSUMED practice: pass --as-is POLICY.toml with the real one"
_NOTES = {
    "orders_per_year": "invoices per customer-year in the ledger, corrected for churn and goodwill in the model",
    "amount_median": "median invoice amount (log-normal fit)",
    "amount_sigma": "sd of log(amount)",
    "terms_days": "median days from issue to due date",
    "days_late_mean": "habit before chasing: median days past due, corrected for the as-is reminders",
    "days_late_sd_between": "spread of customers' habits (variance split from customers with 2+ invoices)",
    "days_late_sd_within": "spread of one customer's invoices",
    "ignore_share": "share paid far beyond the bulk (Kaplan-Meier, open invoices censored), before chasing",
    "dispute_rate": "share of invoices marked disputed",
    "dispute_resolution_days": "fitted so disputed invoices pay as late as in the ledger",
}


def toml_value(value: Any) -> str:
    """One TOML value: strings, booleans, numbers, dates, lists and inline tables."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value} to TOML")
        return repr(round(value, 6))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_key(k)} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise ValueError(f"cannot write {type(value).__name__} to TOML")


def toml_string(text: str) -> str:
    """A TOML basic string: quotes and backslashes escaped, control characters as ``\\uXXXX``.

    Every character TOML forbids in a basic string (U+0000 to U+001F except tab, and U+007F) is
    escaped, and so is tab, so a name read back is exactly the name written.
    """
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(key: str) -> str:
    """A TOML key: bare when only ASCII letters, digits, '_' and '-', otherwise a quoted string."""
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def _dotted(prefix: str, table: dict[str, Any]) -> list[str]:
    lines = []
    for k, v in table.items():
        name = f"{prefix}.{_key(k)}" if prefix else _key(k)
        if isinstance(v, dict) and v:
            lines.extend(_dotted(name, v))
        elif isinstance(v, dict):
            continue
        else:
            lines.append(f"{name} = {toml_value(v)}")
    return lines


def scenario_toml(cal: Any, ledger_name: str | None = None) -> str:
    """The calibrated scenario of a fitted :class:`~collectsim.calibration.calibrate.Calibrator`, with comments."""
    raw = cal.raw_scenario()
    led = cal.ledger_
    name = ledger_name or Path(led.source).name
    total = sum(f.invoices for f in cal.groups_)
    settled = sum(f.settled for f in cal.groups_)
    out = [
        f"# Calibrated by `collectsim calibrate` from {toml_string(name)[1:-1]}",
        f"# {total} invoices ({settled} settled, {total - settled} open at {led.as_of}, kept as censored),",
        f"# {sum(f.customers for f in cal.groups_)} customers, issued {cal.first_issue_} over {cal.span_days_} days;"
        f" {len(led.rejects)} rows rejected" + (f", {len(led.skipped)} in other currencies skipped" if len(led.skipped)
                                                else "") + ".",
        "# Payment habits are the behaviour BEFORE chasing: the as-is policy below is the current practice",
        f"# ({_ASSUMED if cal.as_is_assumed else 'given with --as-is'}),"
        f" and {cal.iterations} rounds of simulation moved the habits so that, chased by it, the",
        "# simulated ledger matches the history (see collectsim.calibration.calibrate). Intervals are 95%,",
        "# bootstrap over customers. Keys not written take the documented defaults (docs/scenario-keys.md).",
        "",
        f"name = {toml_value(raw['name'])}",
        f"description = {toml_value(raw['description'])}",
        f"seed = {raw['seed']}",
        "",
        *(["[economics]", f"currency = {toml_value(raw['economics']['currency'])}  # from the ledger", ""]
          if "economics" in raw else []),
        "[horizon]",
        *_dotted("", raw["horizon"]),
        "",
    ]
    for seg, fit in zip(raw["portfolio"]["segments"], cal.groups_):
        out.append("[[portfolio.segments]]")
        out.append(f"# fitted from {fit.invoices} invoices ({fit.settled} settled, {fit.disputed_invoices} disputed)"
                   f" of {fit.customers} customers")
        if fit.invoices < 100 or fit.customers < 10:
            out.append("# few invoices or customers: rough values with wide intervals; check them by hand")
        out.append(f"name = {toml_value(seg['name'])}")
        out.append(f"customers = {seg['customers']}")
        for key, value in seg.items():
            if key in ("name", "customers"):
                continue
            lo, hi = fit.intervals.get(key, (float("nan"), float("nan")))
            ci = f"; 95% CI {lo:.3g} to {hi:.3g}" if math.isfinite(lo) and math.isfinite(hi) else ""
            out.append(f"{key} = {toml_value(value)}  # {_NOTES.get(key, '')}{ci}")
        out.append("")
    out.append("[policies.as-is]")
    out.extend(_dotted("", raw["policies"]["as-is"]))
    out.append("")
    return "\n".join(out)
