"""The SimPy engine's shortcuts give exactly what the plain code gives: block-computed draws, the chunked log."""

import numpy as np

from collectsim.engines.simpy_engine import _ORDER_PURPOSES, _OrderDraws
from collectsim.model.draws import u
from collectsim.results.eventlog import _CHUNK, COLUMN_DTYPES, COLUMNS, EventKind, EventLog


def test_order_draws_are_the_scalar_draws_across_block_edges():
    draws = _OrderDraws(seed=12345, customers=200)
    for customer in (0, 1, 63, 64, 65, 127, 199, 1000):
        for seq in (0, 1, 15, 16, 17, 31, 32, 100):
            for k, purpose in enumerate(_ORDER_PURPOSES):
                assert draws(k, customer, seq) == u(12345, purpose, customer, seq)


def test_order_draws_recompute_a_dropped_block():
    draws = _OrderDraws(seed=7, customers=1)  # room for a handful of blocks only
    first = [draws(2, c, 3) for c in range(0, 64 * 40, 64)]  # more blocks than the cache keeps
    again = [draws(2, c, 3) for c in range(0, 64 * 40, 64)]
    assert first == again == [u(7, _ORDER_PURPOSES[2], c, 3) for c in range(0, 64 * 40, 64)]
    assert len(draws._blocks) <= draws._limit


def _record_many(log: EventLog, n: int) -> list[tuple]:
    rows = []
    for i in range(n):
        row = (i // 7, EventKind.PAYMENT if i % 5 else EventKind.CHURNED, i % 13, i, 100 * i, i % 3 - 1, -1, i % 11,
               0.5 + i * 1e-6, float("nan") if i % 4 == 0 else 0.25, float(i % 9), i % 2)
        log.record(*row)
        rows.append(row)
    return rows


def test_event_log_keeps_every_event_across_chunks():
    log = EventLog()
    n = 2 * _CHUNK + 17
    rows = _record_many(log, n)
    assert len(log) == n
    log.freeze()
    assert len(log) == n
    for j, name in enumerate(COLUMNS):
        expected = np.asarray([r[j] for r in rows], dtype=COLUMN_DTYPES[name])
        assert log[name].dtype == COLUMN_DTYPES[name]
        np.testing.assert_array_equal(log[name], expected)


def test_event_log_reorder_puts_churn_first_in_its_day_and_keeps_the_rest_in_order():
    log = EventLog()
    n = _CHUNK + 300
    rows = _record_many(log, n)
    log.record(0, EventKind.CHURNED, 99, -1)  # found late, belongs at the start of day 0
    log.reorder_by_day(churn_kind=EventKind.CHURNED)
    log.freeze()
    days, kinds, customers = log["day"], log["kind"], log["customer"]
    assert len(log) == n + 1
    assert np.all(np.diff(days) >= 0)
    for day in np.unique(days):
        k = kinds[days == day]
        churn = k == EventKind.CHURNED
        assert not np.any(churn[np.argmin(churn):]) or churn.all()  # churn events come first
    day0 = customers[(days == 0) & (kinds == EventKind.CHURNED)].tolist()
    assert day0 == [r[2] for r in rows if r[0] == 0 and r[1] == EventKind.CHURNED] + [99]


def test_an_empty_log_freezes_to_empty_typed_columns():
    log = EventLog().freeze()
    assert len(log) == 0
    assert all(log[name].dtype == COLUMN_DTYPES[name] and len(log[name]) == 0 for name in COLUMNS)
