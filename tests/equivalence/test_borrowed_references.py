"""The compiled loop's borrowed references (collectsim.engines.borrowed): same numbers, nothing leaked or freed early.

The run's world holds views of its arrays that numba does not count, and its handlers get an unowned reference to
the world; ``run_kernel`` keeps the owners alive until it returns. A view outliving its array would show as
different numbers or a crash, an owner never freed as memory that grows run after run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest

import collectsim
from collectsim.apps.dashboard import resize
from collectsim.config.scenario import load_scenario
from collectsim.engines.borrowed import borrowed
from collectsim.experiments.executors import spawn_pool
from helpers import SCENARIOS


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def _runs(first: int, count: int) -> tuple[list[float], float]:
    """The net value of ``count`` runs from seed ``first`` (firm-and-fair, which uses the team's queue, and as-is on
    two threads), and the memory they left behind (MB)."""
    scenario = resize(load_scenario(SCENARIOS / "baseline.toml"), 300, 90, 365)
    collectsim.simulate(scenario, "firm-and-fair", seed=0)
    collectsim.simulate_batch(scenario, "as-is", [0, 1])
    before = _rss_mb()
    values = []
    for seed in range(first, first + count):
        values.append(collectsim.simulate(scenario, "firm-and-fair", seed=seed).metrics.net_value)
        values += [r.metrics.net_value for r in collectsim.simulate_batch(scenario, "as-is", [seed, seed + 1000])]
    return values, _rss_mb() - before


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads memory from /proc (Linux)")
def test_runs_free_what_they_own_and_give_the_same_numbers_in_a_worker():
    pool = spawn_pool(1)
    try:
        values, _ = pool.submit(_runs, 1, 3).result()
        _, grown = pool.submit(_runs, 10, 40).result()  # 120 runs: a leak of their arrays would be 100s of MB
    finally:
        pool.shutdown(wait=True)
    assert values == _runs(1, 3)[0]
    assert grown < 40, f"a worker's memory grew by {grown:.0f} MB over 120 runs"


_PERTURBED_RUNS = """
import json
import collectsim
from collectsim.apps.dashboard import resize
from collectsim.config.scenario import load_scenario
scenario = resize(load_scenario({path!r}), 300, 90, 365)
print(json.dumps([collectsim.simulate(scenario, p, seed=3).metrics.net_value for p in ("as-is", "firm-and-fair")]))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="MALLOC_PERTURB_ is glibc's")
def test_nothing_the_loop_borrows_is_freed_before_the_run_ends():
    """glibc's MALLOC_PERTURB_ overwrites memory as it is freed: a world or state array freed while the loop still
    reads it through a borrowed reference gives other numbers or a crash (it did, when run_kernel let them go
    after building the world)."""
    code = _PERTURBED_RUNS.format(path=str(SCENARIOS / "baseline.toml"))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "MALLOC_PERTURB_": "165"})
    assert done.returncode == 0, done.stderr[-2000:]
    scenario = resize(load_scenario(SCENARIOS / "baseline.toml"), 300, 90, 365)
    here = [collectsim.simulate(scenario, p, seed=3).metrics.net_value for p in ("as-is", "firm-and-fair")]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == here


@numba.njit
def _write_through_view(array):
    view = borrowed(array)
    view[1] = 7.0
    return view[0] + view[1]


def test_a_borrowed_view_reads_and_writes_its_array():
    array = np.array([1.0, 2.0, 3.0])
    assert _write_through_view(array) == 8.0
    assert array.tolist() == [1.0, 7.0, 3.0]
