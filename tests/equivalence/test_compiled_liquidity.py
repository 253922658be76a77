"""The compiled engine's liquidity paths are the model's (``liquidity.liquidity_paths``), state for state.

The compiled engine draws them in its own loop (one customer at a time, no portfolio-wide block of draws);
the SimPy engine uses ``liquidity_paths``. Every bundled scenario, with and without an economy-wide shock.
"""

from __future__ import annotations

import numpy as np
import pytest

from collectsim.config.scaled import scaled_scenario
from collectsim.engines.compiled_engine import _liquidity
from collectsim.model.liquidity import liquidity_paths
from collectsim.model.portfolio import make_customers
from helpers import SCENARIOS

SCENARIO_FILES = sorted(SCENARIOS.glob("*.toml"))
SHOCK = {"economy": {"shock": True, "shock_start_day": 200, "shock_months": 9, "shock_strain_multiplier": 3.0}}


@pytest.mark.parametrize("tables", [{}, SHOCK], ids=["no shock", "shock"])
@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_liquidity_paths_are_the_model_s(path, tables):
    scenario = scaled_scenario(path, 2000, tables)
    for seed in (1, 12345, 2**40 + 3):
        segment = make_customers(scenario, seed).segment
        expected = liquidity_paths(scenario, seed, segment)
        actual = _liquidity(scenario, seed, segment)
        assert actual.states.dtype == expected.states.dtype
        assert np.array_equal(actual.states, expected.states)
        assert np.array_equal(actual.insolvency_day, expected.insolvency_day)
        assert (expected.insolvency_day < 1 << 62).any() or not tables  # the shock makes some fail
