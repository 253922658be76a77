"""Sweeps: one policy, its levers varied over a grid of dotted keys, every point replicated.

"What does a discount of 0 to 3% with a window of 10 or 20 days do?" is a sweep over
``{"discount.rate": [0, 0.01, 0.02, 0.03], "discount.window_days": [10, 20]}``. Every grid point is the
base policy with those keys replaced (and validated like a file); every point runs the same replication
seeds (common random numbers), so neighbouring points differ by the lever, not by luck.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from collectsim.config.policy_spec import PolicySpec
from collectsim.config.scenario import Scenario
from collectsim.config.schema import ScenarioError
from collectsim.experiments.compare import _num
from collectsim.experiments.executors import ExecutorSpec, open_executor, run_all
from collectsim.experiments.replication import Replication, run_unit, runs_in, work_units
from collectsim.experiments.stats import mean_interval
from collectsim.files.exports import write_csv
from collectsim.files.safe_output import interrupts_held, remove, save_figure
from collectsim.model.draws import derive_seed
from collectsim.results.metric_info import METRIC_NAMES, long_table_for_people

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class SweepResult:
    """A tidy table: one row per grid point and metric, with mean and 95% interval."""

    scenario: str
    base_policy: str
    seed: int
    reps: int
    keys: tuple[str, ...]
    frame: pd.DataFrame
    partial: bool = False
    currency: str = ""  # the scenario's, for the table written for people

    def to_dict(self) -> dict:
        rows = [{k: (_num(v) if isinstance(v, float) else v) for k, v in row.items()}
                for row in self.frame.to_dict(orient="records")]
        return {"scenario": self.scenario, "base_policy": self.base_policy, "seed": self.seed, "reps": self.reps,
                "partial": self.partial, "keys": list(self.keys), "money_unit": "cents", "points": rows}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)

    def write(self, out_dir: str | Path, metric: str = "cash_collected",
              figure: Callable[[SweepResult, str], Figure] | None = None) -> list[Path]:
        """sweep.csv (the metric's unit in a ``unit`` column: money in currency units, shares in percent; a
        ``partial`` column, true when the job was interrupted) and, with ``figure`` (e.g.
        :func:`collectsim.present.plots.sweep_figure`), the metric's plot as sweep_<metric>.png.

        Each file is complete or absent; an earlier sweep.csv is removed first and the table is written after
        the plot. A Ctrl-C while writing leaves the table marked partial, then re-raises.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        plot = out / f"sweep_{metric}.png"
        remove([out / "sweep.csv", plot])
        try:
            paths = [save_figure(figure(self, metric), plot)] if figure and not self.frame.empty else []
            return [self._write_table(out), *paths]
        except KeyboardInterrupt:
            with interrupts_held():
                replace(self, partial=True)._write_table(out)
            raise

    def _write_table(self, out: Path) -> Path:
        table = long_table_for_people(self.frame, self.currency) if not self.frame.empty else self.frame
        return write_csv(table.assign(partial=self.partial), out / "sweep.csv")


def _show(value: Any) -> Any:
    """Grid values as table cells: scalars as they are, tables and lists as compact JSON."""
    return value if isinstance(value, (int, float, str, bool)) else json.dumps(value, default=str)


def sweep(scenario: Scenario, base_policy: str | PolicySpec | None = None,
          grid: Mapping[str, Sequence[Any]] | None = None, reps: int = 5, seed: int | None = None,
          executor: ExecutorSpec = None, workers: int | None = None, metrics: Sequence[str] | None = None,
          progress: bool = True, engine: str = "auto") -> SweepResult:
    """Run the base policy at every point of ``grid`` (dotted policy keys -> lists of values).

    ``engine`` as in :func:`collectsim.experiments.compare`: "auto" batches the points' replications together on the
    compiled engine.
    """
    base = base_policy if isinstance(base_policy, PolicySpec) else scenario.policy(base_policy)
    grid = dict(grid or {})
    if not grid:
        raise ScenarioError(scenario.source, "grid", {}, "name at least one dotted policy key and its values")
    for key, values in grid.items():
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
            raise ScenarioError(scenario.source, f"grid.{key}", values, "must be a non-empty list of values")
    wanted = list(metrics) if metrics else list(METRIC_NAMES)
    unknown = [m for m in wanted if m not in METRIC_NAMES]
    if unknown:
        raise ValueError(f"unknown metric {unknown[0]!r}; metrics are: {', '.join(METRIC_NAMES)}")
    seed = scenario.seed if seed is None else int(seed)
    keys = tuple(grid)
    points = [dict(zip(keys, combo)) for combo in itertools.product(*(grid[k] for k in keys))]
    specs = [base.with_values(point) for point in points]  # validates every point before running any
    chunks = max(1, workers or 1) if executor is None else max(2, workers or 2)
    units = work_units(scenario, [(spec, str(i)) for i, spec in enumerate(specs)], range(reps),
                       lambda j: derive_seed(seed, j), engine, chunks)
    done: dict[tuple[int, int], Replication] = {}

    def collect(unit, results: list[Replication]) -> None:
        for result in results:
            done[(int(result.label), result.rep)] = result

    with open_executor(executor, workers) as ex:
        interrupted = run_all(run_unit, units, ex, collect, progress, runs_in=runs_in,
                              description=f"sweep of {base.name}: {len(points)} points x {reps}")
    rows = []
    for i, point in enumerate(points):
        runs = [done[(i, j)] for j in range(reps) if (i, j) in done]
        for m in wanted:
            iv = mean_interval([r.metrics[m] for r in runs])
            rows.append({**{k: _show(v) for k, v in point.items()}, "metric": m, "mean": iv.mean,
                         "lo": iv.lo, "hi": iv.hi, "n": iv.n})
    frame = pd.DataFrame(rows)
    complete = min((sum((i, j) in done for j in range(reps)) for i in range(len(points))), default=0)
    return SweepResult(scenario.name, base.name, seed, complete, keys, frame,
                       partial=interrupted or complete < reps or any(math.isnan(r["mean"]) for r in rows),
                       currency=scenario.economics.currency)
