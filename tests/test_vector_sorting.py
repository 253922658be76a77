"""The vectorised engine's packed sort keys order rows exactly as the keys they replace."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from collectsim.vector_engine import packed_sort_keys

_RANGES = st.sampled_from([(0, 1), (0, 40), (-1, 5), (0, 1_700), (-(1 << 50), 40), (0, 1 << 40), (-5, -1)])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rows=st.integers(0, 300), ranges=st.lists(_RANGES, min_size=1, max_size=7))
def test_packed_keys_sort_like_the_keys_they_replace(seed, rows, ranges):
    rng = np.random.default_rng(seed)
    keys = [rng.integers(lo, hi, size=rows, endpoint=True) for lo, hi in ranges]
    packed = packed_sort_keys(keys)
    assert len(packed) <= len(keys)
    assert np.array_equal(np.lexsort(packed), np.lexsort(keys)) if rows else packed == keys


def test_keys_that_fit_become_one_key_and_wide_ones_stay():
    day = np.array([3, 1, 2, 1])
    run = np.array([0, 1, 0, 1])
    wide = np.array([-(1 << 60), 7, 0, 1])  # 61 bits: too wide to join the other two
    packed = packed_sort_keys([wide, day, run])  # run sorts first, then day, then wide
    assert len(packed) == 2 and packed[0] is wide
    assert list(np.lexsort(packed)) == list(np.lexsort([wide, day, run])) == [2, 0, 3, 1]
