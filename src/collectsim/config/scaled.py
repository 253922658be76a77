"""A bundled scenario at another size: the same segments in the same proportions, more or fewer customers.

Benchmarks ask "how does cost grow with the portfolio?" and golden tests want a small, fast copy of
the baseline. Both need the scenario file's own segments, behaviour and policies with only the size
changed: this loads the file, resizes it (:meth:`Scenario.resized`: the customers, and with them the team's
staff and each segment's new customers a year), then sets any other keys asked for
(:meth:`Scenario.with_values`), validated as a file is.
"""

from __future__ import annotations

from pathlib import Path

from collectsim.config.scenario import Scenario, load_scenario


def scaled_scenario(path: str | Path, customers: int, tables: dict[str, dict] | None = None,
                    segments: dict[str, dict] | None = None) -> Scenario:
    """The scenario file at ``path`` with ``customers`` customers in total, split like the file's segments.

    ``tables`` optionally sets keys of top-level tables too, e.g. ``{"team": {"staff": 1}}``, and
    ``segments`` keys of named segments, e.g. ``{"prompt": {"payment_run": "weekly"}}``.
    """
    values = {f"{name}.{key}": value for name, table in (tables or {}).items() for key, value in table.items()}
    values.update({f"portfolio.segments.{seg}.{key}": value
                   for seg, table in (segments or {}).items() for key, value in table.items()})
    scenario = load_scenario(path).resized(customers)  # staff and arrivals scale with the customers...
    return scenario.with_values(values) if values else scenario  # ...unless set here
