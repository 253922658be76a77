"""Fuzzing the command line with mutated scenario files (issue 25).

A tiny valid scenario is mutated -- keys deleted, values of the wrong type, numbers at and beyond their
declared limits, huge and negative integers, infinities, strings with control characters, HTML and path
separators, dates -- written as TOML and put through ``collectsim validate`` and ``collectsim run`` in this
process. Every example must end in success (exit 0) or a one-line error on stderr with exit code 2, never a
traceback; a scenario that validates must run, and a run's money must be conserved and its metrics finite.
Derandomised under the "ci" hypothesis profile (tests/conftest.py).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
import io
import json
import math
import tempfile
import tomllib
import typing
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from collectsim.apps.cli import main
from collectsim.config.policy_spec import PolicySpec
from collectsim.config.scenario import Economics, Economy, Horizon, Segment, Team, parse_scenario
from collectsim.config.schema import spec_of
from collectsim.experiments import capacity

BASE = {
    "name": "fuzz",
    "seed": 3,
    "horizon": {"start_date": dt.date(2025, 1, 1), "warmup_days": 10, "measured_days": 30, "runoff_days": 30},
    "portfolio": {"segments": [
        {"name": "steady", "customers": 4, "orders_per_year": 24.0, "days_late_mean": 5.0},
        {"name": "late", "customers": 3, "orders_per_year": 12.0, "days_late_mean": 25.0, "dispute_rate": 0.2},
    ]},
    "policies": {"ladder": {
        "reminders": {"steps": [{"offset": -2, "channel": "email", "tone": "friendly"},
                                {"offset": 10, "channel": "phone", "tone": "firm"}]},
        "write_off": {"age_days": 40}}},
}

# --- where to mutate: every declared key of the tables the tiny scenario has -----------------------------


def _declared(cls) -> list[tuple[str, object]]:
    """(key, spec) of a settings dataclass's scalar keys."""
    hints = typing.get_type_hints(cls)
    return [(f.name, spec_of(f)) for f in dataclasses.fields(cls)
            if f.init and not dataclasses.is_dataclass(hints[f.name])]


def _targets() -> list[tuple[tuple, object]]:
    out: list[tuple[tuple, object]] = [(("name",), None), (("seed",), None), (("description",), None),
                                       (("include_policies",), None), (("policies",), None), (("portfolio",), None),
                                       (("horizon",), None), (("portfolio", "segments"), None)]
    for key, spec in _declared(Segment):
        out += [(("portfolio", "segments", i, key), spec) for i in (0, 1)]
    for table, cls in (("horizon", Horizon), ("economics", Economics), ("team", Team), ("economy", Economy)):
        out += [((table, key), spec) for key, spec in _declared(cls)]
    policy = ("policies", "ladder")
    for table in ("discount", "plans", "fees", "settlement", "escalation", "write_off", "onboarding"):
        cls = typing.get_type_hints(PolicySpec)[table]
        out += [((*policy, table, key), spec) for key, spec in _declared(cls)]
    out += [((*policy, "reminders", "steps", 1, key), None) for key in ("offset", "channel", "tone", "cost")]
    out += [((*policy, "reminders", "steps"), None), ((*policy, "segments", "late", "discount", "rate"), None),
            ((*policy, "segments"), None), ((*policy, "name"), None)]
    return out


TARGETS = _targets()

NASTY_TEXT = ["", " ", "../../etc/passwd", "/absolute/path", "C:\\win\\path", "<script>alert(1)</script>",
              "=HYPERLINK(\"http://x\")", "a\x00b", "tab\there", "new\nline", "\x1b[31mred", "\u202eevil", "é" * 300,
              "x" * 5000, "..", ".", "policies", "steady", "-1"]
text = st.one_of(st.sampled_from(NASTY_TEXT), st.text(max_size=30),
                 st.text(alphabet=st.sampled_from("<>&\"'/\\\x00\x07\n\r\t.;{}[]=#"), max_size=12))
integers = st.one_of(st.sampled_from([0, -1, 1, 2, 7, 365, 3650, 36_500, 10**6, 2**31, 2**53 + 1, 2**63 - 1, 2**63,
                                      2**64, -(2**63), 10**30]),
                     st.integers(min_value=-(2**70), max_value=2**70), st.integers(min_value=-5, max_value=400))
floats = st.one_of(st.sampled_from([0.0, -0.0, 1e-300, 5e-324, 1e300, -1e300, 1e9, 0.5, 1.0, math.inf, -math.inf,
                                    math.nan]),
                   st.floats(allow_nan=True, allow_infinity=True))
dates = st.one_of(st.dates(), st.sampled_from([dt.date(1, 1, 1), dt.date(9999, 12, 31), dt.date(9990, 1, 1),
                                               dt.date(2262, 4, 11), dt.date(1677, 9, 21)]))
scalars = st.one_of(integers, floats, text, st.booleans(), dates, st.datetimes())
values = st.one_of(scalars, st.lists(scalars, max_size=3), st.dictionaries(text, scalars, max_size=2))


def _near_limits(spec) -> st.SearchStrategy:
    """A declared key's limits, just inside and just outside."""
    edges = [x for x in (getattr(spec, "low", None), getattr(spec, "high", None)) if x is not None]
    picks = []
    for x in edges:
        picks += [x, x - 1, x + 1, x - 1e-9, x + 1e-9]
        if float(x).is_integer():
            picks += [int(x), int(x) - 1, int(x) + 1]
    picks += list(getattr(spec, "choices", None) or [])
    return st.sampled_from(picks) if picks else values


@st.composite
def mutation(draw):
    if draw(st.integers(0, 9)) == 0:  # a policy's own name, which `run --all --out` makes a folder name
        return ("rename", ("policies", "ladder"), draw(text))
    path, spec = draw(st.sampled_from(TARGETS))
    kind = draw(st.sampled_from(["delete", "value", "limits", "limits"] if spec is not None else ["delete", "value"]))
    if kind == "delete":
        return ("delete", path, None)
    return ("set", path, draw(_near_limits(spec) if kind == "limits" else values))


def _apply(data: dict, op: tuple) -> None:
    kind, path, value = op
    if kind == "rename":
        policies = data.get("policies")
        if isinstance(policies, dict) and "ladder" in policies:
            policies[value] = policies.pop("ladder")
        return
    here = data
    for key in path[:-1]:
        if isinstance(here, dict):
            here = here.setdefault(key, {})
        elif isinstance(here, list) and isinstance(key, int) and key < len(here):
            here = here[key]
        else:
            return  # an earlier mutation replaced this table: nothing to change
        if not isinstance(here, (dict, list)):
            return
    last = path[-1]
    if isinstance(here, dict):
        if kind == "delete":
            here.pop(last, None)
        else:
            here[last] = value
    elif isinstance(here, list) and isinstance(last, int) and last < len(here):
        if kind == "delete":
            del here[last]
        else:
            here[last] = value


# --- TOML out ---------------------------------------------------------------------------------------------


def _toml_str(s: str) -> str:
    out = []
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else repr(v)  # inf, -inf and exponents are TOML
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_str(str(k))} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def to_toml(data: dict) -> str:
    return "".join(f"{_toml_str(k)} = {_toml_value(v)}\n" for k, v in data.items())


# --- the property -------------------------------------------------------------------------------------------


def _cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def _assert_clean_failure(code: int, err: str, what: str) -> None:
    assert "Traceback" not in err, f"{what}: traceback\n{err}"
    assert code == 2, f"{what}: exit code {code}, stderr {err!r}"
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), f"{what}: not one error line: {err!r}"


def _small_enough_to_run(path: Path) -> bool:
    """Valid mutants with very large portfolios or horizons are validated only (this suite runs in seconds)."""
    from collectsim import load_scenario

    scenario = load_scenario(path)
    return (capacity.expected_invoices(scenario) <= 3_000 and capacity.expected_customers(scenario) <= 300
            and scenario.horizon.total_days <= 1_500)


def test_the_tiny_base_scenario_is_valid_and_small():
    parse_scenario(copy.deepcopy(BASE))
    nasty = {**copy.deepcopy(BASE), "description": "".join(NASTY_TEXT), "x": [1e300, -(2**70), {"k\x7f": True}]}
    assert tomllib.loads(to_toml(nasty)) == nasty


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutation(), min_size=1, max_size=3))
def test_mutated_scenarios_validate_and_run_or_fail_in_one_line(ops):
    data = copy.deepcopy(BASE)
    for op in ops:
        _apply(data, op)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mutant.toml"
        path.write_text(to_toml(data), encoding="utf-8")
        code, _, err = _cli(["validate", str(path)])
        if code != 0:
            _assert_clean_failure(code, err, "validate")
            code, _, err = _cli(["run", str(path), "--json"])  # the same limits: run refuses it too
            _assert_clean_failure(code, err, "run of a scenario validate refused")
            event("refused by validate and run")
            return
        assert "Traceback" not in err
        if not _small_enough_to_run(path):
            event("valid, too large to run here")
            return
        event("valid and run")
        out_dir = Path(tmp) / "out"
        code, out, err = _cli(["run", str(path), "--all", "--json", "--out", str(out_dir)])
        if code == 2 and "folder name under --out" in err:  # a policy name that is not a plain folder name
            _assert_clean_failure(code, err, "run --all --out")
            assert not out_dir.exists()
            event("valid, policy name refused as a folder name")
            code, out, err = _cli(["run", str(path), "--all", "--json"])
            out_dir = None
        assert "Traceback" not in err and code == 0, f"validated but did not run: {code} {err!r}"
        for run in json.loads(out):
            m = run["metrics"]
            bad = {k: v for k, v in m.items() if not (isinstance(v, (int, float)) and math.isfinite(v))}
            assert not bad, f"metrics not finite: {bad}"
            principal = m["cash_collected"] - m["fees_collected"]
            parts = (principal + m["discounts_granted"] + m["credit_notes"] + m["settlements_forgiven"]
                     + m["written_off"] + m["outstanding"])
            assert parts == m["invoiced"], f"money not conserved: {parts} != {m['invoiced']}"
            if out_dir is not None:
                written = out_dir / run["policy"] / "metrics.json"
                assert written.resolve().parent.parent == out_dir.resolve()  # inside --out, one level down
                assert json.loads(written.read_text()) == run
