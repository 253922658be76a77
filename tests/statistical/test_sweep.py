"""Sweeps over dotted policy keys: tidy results with intervals, plots, and clear errors."""

import json

import pytest

import collectsim
from collectsim.apps.cli import main
from helpers import write_small_scenario


def test_sweep_gives_one_row_per_point_and_metric(small):
    result = collectsim.sweep(small, None, {"discount.rate": [0.0, 0.02], "discount.window_days": [10, 20]},
                              reps=2, metrics=["dso", "discounts_granted"], progress=False)
    frame = result.frame
    assert len(frame) == 4 * 2
    assert list(frame.columns) == ["discount.rate", "discount.window_days", "metric", "mean", "lo", "hi", "n"]
    granted = frame[frame["metric"] == "discounts_granted"].set_index(["discount.rate", "discount.window_days"])
    assert (granted.loc[0.0, "mean"] == 0).all() and (granted.loc[0.02, "mean"] > 0).all()
    assert (frame["n"] == 2).all() and (frame["lo"] <= frame["mean"]).all() and (frame["mean"] <= frame["hi"]).all()
    dso = frame[frame["metric"] == "dso"].set_index(["discount.rate", "discount.window_days"])["mean"]
    assert dso.loc[(0.02, 20)] < dso.loc[(0.0, 10)]


def test_sweep_points_are_validated_before_running(small):
    with pytest.raises(collectsim.ScenarioError, match="discount.rate = 0.5"):
        collectsim.sweep(small, None, {"discount.rate": [0.01, 0.5]}, reps=1, progress=False)
    with pytest.raises(collectsim.ScenarioError, match="non-empty list"):
        collectsim.sweep(small, None, {"discount.rate": []}, reps=1, progress=False)


def test_sweep_cli_writes_a_heat_map_and_json(tmp_path, capsys):
    path = write_small_scenario(tmp_path)
    out = tmp_path / "sw"
    assert main(["sweep", str(path), "--grid", "discount.rate=0,0.02", "--grid",
                 "reminders.pause_on_dispute=true,false", "--reps", "2", "--metric", "dso", "--out", str(out)]) == 0
    assert "metric dso" in capsys.readouterr().out
    assert (out / "sweep.csv").exists() and (out / "sweep_dso.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["sweep", str(path), "--grid", "discount.rate=0,0.01", "--reps", "2", "--json"]) == 0
    out_json = json.loads(capsys.readouterr().out)
    assert out_json["keys"] == ["discount.rate"] and len(out_json["points"]) > 2


def test_sweep_cli_bad_grid_is_a_one_line_error(tmp_path, capsys):
    path = write_small_scenario(tmp_path)
    assert main(["sweep", str(path), "--grid", "discount.rate"]) == 2
    assert "KEY=V1,V2" in capsys.readouterr().err
    assert main(["sweep", str(path), "--grid", "discount.rat=0,0.01"]) == 2
    assert "unknown key" in capsys.readouterr().err
