"""collectsim's worker processes count numba's references with plain adds: same numbers, nothing leaked.

The workers run nothing but collectsim's compiled code, whose arrays never have their counts changed by two
threads at once (see collectsim.engines.jit.count_references_plainly). A count that went wrong would show as
different numbers, a crash, or memory that grows run after run (numba's own switch for this never frees).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import collectsim
from collectsim.apps.dashboard import resize
from collectsim.config.scenario import load_scenario
from collectsim.engines import jit
from collectsim.experiments.executors import spawn_pool
from helpers import SCENARIOS


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) / 1024


def _runs(first: int, count: int) -> tuple[bool, list[float], float]:
    """In a worker: whether counts are plain, the net value of ``count`` runs from seed ``first`` (firm-and-fair,
    which uses the team's queue, and as-is on two threads), and the memory they left behind (MB)."""
    scenario = resize(load_scenario(SCENARIOS / "baseline.toml"), 300, 90, 365)
    collectsim.simulate(scenario, "firm-and-fair", seed=0)
    collectsim.simulate_batch(scenario, "as-is", [0, 1])
    before = _rss_mb()
    values = []
    for seed in range(first, first + count):
        values.append(collectsim.simulate(scenario, "firm-and-fair", seed=seed).metrics.net_value)
        values += [r.metrics.net_value for r in collectsim.simulate_batch(scenario, "as-is", [seed, seed + 1000])]
    return jit.references_counted_plainly(), values, _rss_mb() - before


@pytest.fixture(scope="module")
def worker():
    pool = spawn_pool(1)
    yield pool
    pool.shutdown(wait=True)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads memory from /proc (Linux)")
def test_a_worker_counts_plainly_gives_this_process_s_numbers_and_keeps_its_memory(worker):
    plain, values, _ = worker.submit(_runs, 1, 3).result()
    assert plain
    here_plain, here, _ = _runs(1, 3)
    assert not here_plain  # this process is the user's: its counts stay atomic
    assert values == here
    _, _, grown = worker.submit(_runs, 10, 40).result()  # 120 runs: a leak of their arrays would be 100s of MB
    assert grown < 40, f"a worker's memory grew by {grown:.0f} MB over 120 runs"


def test_atomic_counts_can_be_kept_in_workers(monkeypatch):
    monkeypatch.setenv("COLLECTSIM_ATOMIC_REFCOUNTS", "1")
    pool = spawn_pool(1)
    try:
        assert pool.submit(jit.references_counted_plainly).result() is False
    finally:
        pool.shutdown(wait=True)


def test_the_counts_never_change_once_numba_s_runtime_has_started():
    collectsim.simulate(resize(load_scenario(SCENARIOS / "baseline.toml"), 20, 10, 10), seed=1)
    assert jit.count_references_plainly() is False
    assert not jit.references_counted_plainly()
