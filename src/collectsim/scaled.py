"""A bundled scenario at another size: the same segments in the same proportions, more or fewer customers.

Benchmarks ask "how does cost grow with the portfolio?" and golden tests want a small, fast copy of
the baseline. Both need the scenario file's own segments, behaviour and policies with only the
customer counts changed, so this reads the file, rescales ``customers`` in every segment and
validates the result exactly as :func:`collectsim.load_scenario` would.
"""

from __future__ import annotations

from pathlib import Path

from .scenario import Scenario, parse_scenario, read_toml


def split_customers(counts: list[int], total: int) -> list[int]:
    """``total`` customers split in proportion to ``counts`` (largest remainder, at least one each)."""
    if total < len(counts):
        raise ValueError(f"need at least one customer per segment ({len(counts)}), got {total}")
    whole = sum(counts)
    exact = [c * total / whole for c in counts]
    out = [max(1, int(x)) for x in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: (-(exact[i] - int(exact[i])), i))
    i = 0
    while sum(out) < total:
        out[by_remainder[i % len(counts)]] += 1
        i += 1
    while sum(out) > total:  # only when the one-customer floor pushed the sum over
        j = max(range(len(out)), key=lambda k: (out[k], -k))
        out[j] -= 1
    return out


def scaled_scenario(path: str | Path, customers: int, tables: dict[str, dict] | None = None) -> Scenario:
    """The scenario file at ``path`` with ``customers`` customers in total, split like the file's segments.

    ``tables`` optionally sets keys of top-level tables too, e.g. ``{"team": {"staff": 1}}``.
    """
    path = Path(path)
    data = read_toml(path)
    for name, values in (tables or {}).items():
        data[name] = {**data.get(name, {}), **values}
    counts = [seg.customers for seg in parse_scenario(data, str(path), path.parent).portfolio.segments]
    for seg, n in zip(data["portfolio"]["segments"], split_customers(counts, customers)):
        seg["customers"] = n
    return parse_scenario(data, str(path), path.parent)
