"""The benchmark script runs at a tiny size and writes every key (its speed is not tested here)."""

from __future__ import annotations

import json
import subprocess
import sys

from helpers import ROOT

KEYS = ("bare_simpy_events_per_s", "simpy_engine_events_per_s", "simpy_vs_bare_simpy_ratio",
        "simpy_engine_invoices_per_s", "compiled_vs_simpy_ratio", "compile_s", "dashboard_unit_s",
        "dashboard_first_update_s", "dashboard_update_s", "dashboard_update_one_side_s", "customers_1m_s",
        "customers_1m_peak_mb", "parallel_efficiency_2", "optimise_s", "bench_s", "scaling", "runs", "notes")


def test_benchmark_smoke_run_writes_every_key(tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--smoke", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(out.read_text())
    assert set(KEYS) <= set(res)
    assert res["compiled_vs_simpy_ratio"] > 0 and "compiled" in res["notes"]["compiled_vs_simpy_ratio"]
    assert res["compiled_vs_simpy_ratio_team"] > 0 and res["compiled_team_batch"]["invoices"] > 0
    assert res["simpy_engine_events_per_s"] > 0 and res["bare_simpy_events_per_s"] > 0
    assert res["simpy_vs_bare_simpy_ratio"] == res["simpy_engine_events_per_s"] / res["bare_simpy_events_per_s"]
    assert res["compile_s"] > 0 and res["bench_s"] > 0
    assert res["optimise_s"] > 0 and 0 < res["optimise"]["runs"] <= res["optimise"]["budget"]
    assert [row["customers"] for row in res["scaling"]] == [20, 40]
    assert all(row["peak_mb"] > 0 and row["invoices"] > 0 for row in res["scaling"])
    # Tiny smoke sizes can time out of order under load; then the estimate is withheld, never negative.
    extrapolated = res["customers_1m_s_extrapolated"]
    assert res["customers_1m_s"] is None and (extrapolated is None or extrapolated > 0)
    assert 0 < res["parallel_efficiency_2"]
    assert res["customers_5k_apart_s"] > 0 and res["customers_5k_apart_peak_mb"] > 0  # the baseline in parts
    assert "simpy_vs_bare_simpy_ratio" in proc.stdout  # the printed table
