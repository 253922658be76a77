"""Command-line number types: argparse ``type=`` functions whose errors are one plain line."""

from __future__ import annotations

import argparse

#: Seeds are whole numbers from 0 to this (the scenario's ``seed`` key allows the same).
SEED_MAX = 2**63 - 1
#: ``calibrate`` validates with its seed + 1000, which must stay a seed too.
CALIBRATION_SEED_MAX = SEED_MAX - 1000


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _between(low: int, high: int):
    def parse(text: str) -> int:
        value = _whole(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} must be a whole number from {low} to {high}")
        return value
    return parse


seed = _between(0, SEED_MAX)
calibration_seed = _between(0, CALIBRATION_SEED_MAX)
non_negative_int = _between(0, 10_000)
