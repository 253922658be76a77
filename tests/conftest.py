"""Fixtures (small scenarios built in memory), the hypothesis profiles, and the markers each folder's tests get.

Shared values and functions are in helpers.py."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

import collectsim
from helpers import SCENARIOS, small_data

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

@pytest.fixture
def small() -> collectsim.Scenario:
    return collectsim.parse_scenario(small_data())


@pytest.fixture(scope="session")
def baseline() -> collectsim.Scenario:
    return collectsim.load_scenario(SCENARIOS / "baseline.toml")


#: Folders whose tests are slow (many replications, or a package build): ``-m "not slow"`` leaves them out.
SLOW_FOLDERS = ("statistical", "install")


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        if item.path.parent.name in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)
