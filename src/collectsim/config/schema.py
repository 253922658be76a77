"""Declared settings and their validation: one description of every key, three uses.

Every scenario and policy key is a dataclass field declared with :func:`setting`, which carries its
default, unit, allowed range and source. The same declaration builds a frozen value object from a
parsed TOML table (:func:`build`), writes the reference table in ``docs/scenario-keys.md``
(:mod:`reference`), and turns a value object back into plain tables (:func:`as_raw`) so
that sweeps can change one dotted key and validate the result again. Nothing is executed: TOML is
data and only the types listed here are accepted.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ASSUMPTION = "assumption"


class ScenarioError(ValueError):
    """A scenario or strategy file breaks the contract; the message is one line for the user."""

    def __init__(self, source: str, key: str, value: Any, allowed: str) -> None:
        self.source, self.key, self.value, self.allowed = source, key, value, allowed
        where = f"{source}: {key}" if key else source
        shown = "" if value is NO_VALUE else f" = {_show(value)}"
        super().__init__(one_line(f"{where}{shown}: {allowed}"))


NO_VALUE = object()


def one_line(text: str) -> str:
    """``text`` with every character that is not printable (newlines, tabs, terminal escapes, bidirectional
    controls) written as an escape, so that a message stays on one line and shows what the file holds."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "{" + ", ".join(value) + "}" if value else "{}"
    text = repr(value) if isinstance(value, str) else str(value)
    text = text.replace("\n", " ")
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class Spec:
    """What a key means and what it may hold."""

    doc: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    source: str = ASSUMPTION
    required: bool = False
    low_exclusive: bool = False

    def allowed(self, kind: str) -> str:
        """Plain words for the allowed values, used in error messages and the reference table."""
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        if self.low is not None and self.high is not None:
            low = f"above {_num(self.low)}" if self.low_exclusive else f"from {_num(self.low)}"
            return f"{kind} {low} to {_num(self.high)}"
        if self.low is not None:
            return f"{kind} {'>' if self.low_exclusive else '>='} {_num(self.low)}"
        return kind


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def setting(default: Any = None, *, doc: str, unit: str = "", low: float | None = None,
            high: float | None = None, choices: tuple[str, ...] | None = None,
            source: str = ASSUMPTION, required: bool = False, low_exclusive: bool = False) -> Any:
    """Declare a scalar key with its default, unit, range and source (or 'assumption')."""
    spec = Spec(doc, unit, low, high, choices, source, required, low_exclusive)
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: tuple(default), metadata={"spec": spec})
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata={"spec": spec})
    return field(default=default, metadata={"spec": spec})


def table(cls: type, *, doc: str, required: bool = False) -> Any:
    """Declare a nested table whose keys are the fields of ``cls``."""
    return field(default_factory=cls, metadata={"spec": Spec(doc, source="", required=required)})


def spec_of(f: dataclasses.Field) -> Spec:
    return f.metadata.get("spec") or Spec(doc="")


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


# --- building value objects from tables ---------------------------------------------------------

@functools.cache
def _type_hints(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints(cls)``, worked out once per class (it evaluates every annotation's text, which
    made re-reading a scenario, as the dashboard does on every Run, cost about a tenth of a second)."""
    return typing.get_type_hints(cls)


def build(cls: type, data: Any, path: str, source: str) -> Any:
    """Validate a parsed table against ``cls``'s declared keys and return the frozen object.

    Unknown keys, wrong types and out-of-range values raise :class:`ScenarioError` naming the
    file, the dotted key path, the value and what is allowed. After the fields, a class may
    check relations between them in a ``check(self, path, source)`` method.
    """
    if not isinstance(data, Mapping):
        raise ScenarioError(source, path, data, "must be a table")
    hints = _type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls) if f.init]
    for key, value in data.items():
        if key not in known:
            raise ScenarioError(source, join(path, key), value,
                                f"unknown key; allowed keys here: {', '.join(known)}")
    kwargs = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        key_path = join(path, f.name)
        if f.name not in data:
            if spec_of(f).required:
                raise ScenarioError(source, key_path, NO_VALUE, "missing required key")
            continue
        kwargs[f.name] = convert(hints[f.name], data[f.name], key_path, source, spec_of(f))
    obj = cls(**kwargs)
    check = getattr(obj, "check", None)
    if check is not None:
        check(path, source)
    return obj


def _kind_name(tp: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
            dt.date: "a date (YYYY-MM-DD)"}.get(tp, "a value")


def convert(tp: Any, value: Any, path: str, source: str, spec: Spec) -> Any:
    """Check one value against its declared type and range; return it in canonical form."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return convert(inner[0], value, path, source, spec)
    if origin is tuple:
        item_tp = typing.get_args(tp)[0]
        if not isinstance(value, list):
            raise ScenarioError(source, path, value, "must be a list")
        return tuple(convert(item_tp, v, join(path, i), source, spec) for i, v in enumerate(value))
    if origin in (dict, Mapping, typing.Mapping) or tp is dict:
        if not isinstance(value, Mapping):
            raise ScenarioError(source, path, value, "must be a table")
        return dict(value)
    if dataclasses.is_dataclass(tp):
        return build(tp, value, path, source)
    if tp is bool:
        if not isinstance(value, bool):
            raise ScenarioError(source, path, value, "must be true or false")
        return value
    if tp is dt.date:
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                raise ScenarioError(source, path, value, "must be a date like 2025-01-31") from None
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            raise ScenarioError(source, path, value, "must be a date like 2025-01-31")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ScenarioError(source, path, value, "must be a string")
        if spec.choices and value not in spec.choices:
            raise ScenarioError(source, path, value, f"must be {spec.allowed('')}")
        if spec.required and not value.strip():
            raise ScenarioError(source, path, value, "must not be empty")
        return value
    if tp in (int, float):
        ok = isinstance(value, int) if tp is int else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok:
            raise ScenarioError(source, path, value, f"must be {spec.allowed(_kind_name(tp))}")
        if tp is float:
            value = float(value)
            if not math.isfinite(value):
                raise ScenarioError(source, path, value, f"must be {spec.allowed('a finite number')}")
        too_low = spec.low is not None and (value <= spec.low if spec.low_exclusive else value < spec.low)
        too_high = spec.high is not None and value > spec.high
        if too_low or too_high:
            raise ScenarioError(source, path, value, f"must be {spec.allowed(_kind_name(tp))}")
        return value
    raise TypeError(f"unsupported setting type {tp!r} at {path}")  # a programming error, not user input


# --- back to plain tables -------------------------------------------------------------------------

def as_raw(obj: Any) -> Any:
    """A value object as plain TOML-like tables (None values left out), for editing and rebuilding."""
    if dataclasses.is_dataclass(obj):
        out = {}
        for f in dataclasses.fields(obj):
            if not f.init:
                continue
            value = getattr(obj, f.name)
            if value is not None:
                out[f.name] = as_raw(value)
        return out
    if isinstance(obj, tuple):
        return [as_raw(v) for v in obj]
    if isinstance(obj, Mapping):
        return {k: as_raw(v) for k, v in obj.items()}
    return obj


def deep_merge(base: Mapping, override: Mapping) -> dict:
    """``base`` with ``override`` laid over it; nested tables merge, everything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def set_dotted(raw: dict, dotted: str, value: Any) -> dict:
    """A copy of ``raw`` with the nested key ``a.b.c`` set to ``value``.

    A whole number after a list's key picks an item of the list, counted from 0: ``reminders.steps.1.tone`` is the
    tone of the second reminder step. An index past the list's end raises :class:`IndexError` naming it.
    """
    head, _, rest = dotted.partition(".")
    out = dict(raw)
    if rest:
        inner = out.get(head, {})
        if isinstance(inner, (list, tuple)):
            out[head] = _set_item(list(inner), rest, value, head)
        else:
            out[head] = set_dotted(dict(inner) if isinstance(inner, Mapping) else {}, rest, value)
    else:
        out[head] = value
    return out


def _set_item(items: list, dotted: str, value: Any, where: str) -> list:
    """``items`` with the item ``dotted`` starts with (an index) set, or a key inside it."""
    head, _, rest = dotted.partition(".")
    if not head.isdigit():
        return set_dotted({}, dotted, value)  # not an index: the list is replaced by a table, which build rejects
    index = int(head)
    if index >= len(items):
        raise IndexError(f"no item {index} in {where}: it has {len(items)}, counted from 0")
    if not rest:
        items[index] = value
    elif isinstance(items[index], (list, tuple)):
        items[index] = _set_item(list(items[index]), rest, value, f"{where}.{head}")
    else:
        items[index] = set_dotted(dict(items[index]) if isinstance(items[index], Mapping) else {}, rest, value)
    return items
