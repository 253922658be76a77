"""Levers: the dotted policy keys an optimisation moves, and the values it tries for each.

A lever is written as on the command line: ``discount.rate=0:0.03:0.01`` (a range with a step),
``write_off.age_days=90:365`` (five values evenly spaced), ``reminders.steps.1.tone=friendly,firm`` (a list).
Whether the key exists and the values are allowed is for the policy to say (:meth:`PolicySpec.with_values`);
this module only reads the text.
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from collectsim.config.policy_spec import PolicySpec
from collectsim.config.schema import NO_VALUE, ScenarioError, as_raw

#: Values a lever written LO:HI without a step takes (evenly spaced, both ends included).
DEFAULT_POINTS = 5
#: The most values one lever may take.
MAX_LEVER_VALUES = 1000

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")



@dataclass(frozen=True)
class Lever:
    """A dotted policy key and the values the search tries for it."""

    key: str
    values: tuple

    @property
    def text(self) -> str:
        return f"{self.key}={','.join(value_text(v) for v in self.values)}"


def _lever_error(text: str, key: str, allowed: str) -> ScenarioError:
    return ScenarioError("lever", key or text, NO_VALUE if not key else text.partition("=")[2], allowed)


_SYNTAX = "write KEY=LO:HI[:STEP] (numbers) or KEY=A,B,C (a list of values), e.g. discount.rate=0:0.03:0.01"


def parse_lever(text: str) -> Lever:
    """``KEY=LO:HI[:STEP]`` or ``KEY=A,B,C`` as a :class:`Lever`; a one-line :class:`ScenarioError` naming the key
    when it is not one.

    ``LO:HI:STEP`` gives LO, LO+STEP, ... up to HI (HI included when a step lands on it); without STEP,
    :data:`DEFAULT_POINTS` values evenly spaced from LO to HI. When LO, HI and STEP are whole numbers the values are
    integers (offsets, days); otherwise floats. ``A,B,C`` values are read as TOML literals (``0.02``, ``10``,
    ``true``), bare words as strings (``friendly,firm``). Whether the key exists and the values are allowed is
    checked against the policy by :func:`optimise`.
    """
    key, sep, spec = str(text).partition("=")
    key, spec = key.strip(), spec.strip()
    if not sep or not key or not spec:
        raise _lever_error(text, "", _SYNTAX)
    if not re.fullmatch(r"[A-Za-z0-9_.\-]+", key) or ".." in key or key.startswith(".") or key.endswith("."):
        raise _lever_error(text, key, "the key must be a dotted policy key such as discount.rate or "
                                      "reminders.steps.0.offset")
    if ":" in spec and "," not in spec:
        values = _range_values(text, key, spec)
    else:
        values = [_literal(v.strip()) for v in spec.split(",")]
        if any(v == "" for v in values):
            raise _lever_error(text, key, "an empty value in the list; " + _SYNTAX)
    values = list(dict.fromkeys(values))  # repeated values once, in the order given
    if len(values) > MAX_LEVER_VALUES:
        raise _lever_error(text, key, f"{len(values)} values; at most {MAX_LEVER_VALUES} per lever")
    return Lever(key, tuple(values))


def _range_values(text: str, key: str, spec: str) -> list:
    parts = [p.strip() for p in spec.split(":")]
    if len(parts) not in (2, 3) or not all(_NUMBER.match(p) for p in parts):
        raise _lever_error(text, key, "LO, HI and STEP must be numbers: " + _SYNTAX)
    integers = all(_INTEGER.match(p) for p in parts)
    lo, hi = (int(p) if integers else float(p) for p in parts[:2])
    if not hi >= lo:
        raise _lever_error(text, key, f"HI ({parts[1]}) must be at least LO ({parts[0]})")
    if len(parts) == 3:
        step = int(parts[2]) if integers else float(parts[2])
        if not step > 0:
            raise _lever_error(text, key, f"STEP ({parts[2]}) must be above 0")
        count = math.floor((hi - lo) / step + 1e-9) + 1
        if count > MAX_LEVER_VALUES:
            raise _lever_error(text, key, f"{count} values; at most {MAX_LEVER_VALUES} per lever (take a larger STEP)")
        return [lo + i * step if integers else round(lo + i * step, 10) for i in range(count)]
    points = np.linspace(lo, hi, DEFAULT_POINTS)
    return [int(round(x)) for x in points] if integers else [round(float(x), 10) for x in points]


def _literal(text: str) -> Any:
    """A value read as a TOML literal (0.02, 10, true, "x"); a bare word as a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_levers(levers: Iterable[str | Lever] | Mapping[str, Sequence[Any]]) -> tuple[Lever, ...]:
    """Levers from strings (``"discount.rate=0:0.03:0.01"``), :class:`Lever` objects or a mapping of keys to lists
    of values; a :class:`ScenarioError` for a malformed one, none given, or a key given twice."""
    if isinstance(levers, Mapping):
        out = []
        for key, values in levers.items():
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
                raise ScenarioError("lever", str(key), values, "must be a non-empty list of values")
            out.append(Lever(str(key), tuple(dict.fromkeys(values))))
    else:
        out = [lev if isinstance(lev, Lever) else parse_lever(lev) for lev in levers]
    if not out:
        raise ScenarioError("lever", "", NO_VALUE, "name at least one lever: " + _SYNTAX)
    seen = set()
    for lev in out:
        if lev.key in seen:
            raise ScenarioError("lever", lev.key, NO_VALUE, "the key is given twice; give each lever once")
        seen.add(lev.key)
    return tuple(out)


def value_at(policy: PolicySpec, key: str) -> Any:
    """The value of a dotted key in ``policy`` (list items by index), or None when it is not set."""
    node: Any = as_raw(policy)
    for part in key.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node



def value_text(value: Any) -> str:
    """A lever value as text: scalars as written in TOML, tables and lists as compact JSON ("not set" for None)."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    return json.dumps(value, default=str)


__all__ = ["DEFAULT_POINTS", "MAX_LEVER_VALUES", "Lever", "parse_lever", "parse_levers", "value_at", "value_text"]
