"""Writing TOML: values, strings and keys as a person would type them, and a policy as a strategy file.

The standard library reads TOML (``tomllib``) but does not write it. What collectsim writes is small (a calibrated
scenario, a policy found by the optimiser), so the few rules are here: strings escaped so that a name read back is
exactly the name written, floats that read back as the same number, lists and inline tables.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from typing import Any

from collectsim.config.policy_spec import PolicySpec
from collectsim.config.schema import as_raw, one_line


def toml_value(value: Any, digits: int | None = 6) -> str:
    """One TOML value: strings, booleans, numbers, dates, lists and inline tables. Floats are rounded to ``digits``
    decimals (None: written exactly, so that they read back as the same float)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value} to TOML")
        return repr(value if digits is None else round(value, digits))
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v, digits) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(v, digits)}" for k, v in value.items()) + " }"
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


def toml_key(key: str) -> str:
    """A TOML key: bare when only ASCII letters, digits, '_' and '-', otherwise a quoted string."""
    return key if _BARE_KEY.fullmatch(key) else toml_string(key)


def strategy_toml(policy: PolicySpec, comments: Iterable[str] = ()) -> str:
    """``policy`` as a strategy file (one ``[policy]`` table, as in ``scenarios/strategies/``), every key written,
    floats exactly; ``comments`` lead the file as ``#`` lines. :func:`collectsim.load_strategy` reads it back as an
    equal policy."""
    raw = as_raw(policy)
    out = [f"# {one_line(line)}".rstrip() for line in comments]
    out += ([""] if out else []) + ["[policy]"]
    tables = {k: v for k, v in raw.items() if isinstance(v, dict)}
    out += [f"{toml_key(k)} = {toml_value(v, None)}" for k, v in raw.items() if k not in tables]
    for name, table in tables.items():
        if not table:
            continue
        out += ["", f"[policy.{toml_key(name)}]"]
        out += [f"{toml_key(k)} = {_value(v)}" for k, v in table.items()]
    return "\n".join(out) + "\n"


def _value(value: Any) -> str:
    """A value of a policy table, exact; a list of tables (reminder steps) one table a line."""
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return "[\n" + "".join(f"  {toml_value(v, None)},\n" for v in value) + "]"
    return toml_value(value, None)
