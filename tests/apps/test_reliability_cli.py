"""Issue 25, the command-line half: unsafe names, range checks, output paths checked first, atomic files,
memory refused up front, and Ctrl-C at any moment (exit 130, partial results marked, no traceback)."""

from __future__ import annotations

import csv
import datetime as dt
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import collectsim.apps.cli as cli
from collectsim.apps.cli import main
from collectsim.config.scenario import CALENDAR_MARGIN_DAYS
from collectsim.experiments import capacity
from collectsim.files.safe_output import atomic, check_component
from collectsim.present.plots import COMPARISON_FIGURES
from helpers import ROOT, write_small_scenario

compare_module = importlib.import_module("collectsim.experiments.compare")
sweep_module = importlib.import_module("collectsim.experiments.sweep")


def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1 and "error:" in lines[0], err
    return lines[0]


def _usage_error(argv: list[str], capsys) -> str:
    """A command-line mistake: argparse stops with exit code 2 and one line."""
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    return _one_line_error(capsys.readouterr().err)


def _scenario(tmp_path: Path, extra: str = "", **kw) -> Path:
    path = write_small_scenario(tmp_path, **kw)
    if extra:
        path.write_text(extra + "\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def _no_simulation(monkeypatch):
    def refuse(*a, **k):
        raise AssertionError("the work started before the error")
    monkeypatch.setattr(cli, "simulate", refuse)
    monkeypatch.setattr(cli, "compare", refuse)
    monkeypatch.setattr(cli, "sweep", refuse)


def _leftover_temp_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob(".*") if ".tmp" in p.name or "write-test" in p.name]


# --- 1. names that become paths; HTML in the report ------------------------------------------------------

@pytest.mark.parametrize("name", ["../escape", "/tmp/absolute-policy", "a\\b", ".."])
def test_run_all_refuses_policy_names_that_would_leave_the_out_folder(tmp_path, capsys, monkeypatch, name):
    path = write_small_scenario(tmp_path, policy_names=("fine", name))
    _no_simulation(monkeypatch)
    out = tmp_path / "sub" / "out"
    assert main(["run", str(path), "--all", "--out", str(out)]) == 2
    line = _one_line_error(capsys.readouterr().err)
    assert "small.toml" in line and repr(name) in line and "folder name" in line
    assert not out.exists() and not (tmp_path / "sub" / "escape").exists()


def test_check_component_accepts_plain_names_and_refuses_paths():
    assert check_component("firm-and-fair (2)", "s.toml", "policies.x", "a folder") == "firm-and-fair (2)"
    for bad in ("", ".", "..", "a/b", "x\x00y", "tab\tname", "n" * 300):
        with pytest.raises(ValueError, match="rename it"):
            check_component(bad, "s.toml", "policies.x", "a folder")


def test_report_markdown_outputs_are_escaped_so_names_are_not_live_html():
    nbformat = pytest.importorskip("nbformat")
    from nbconvert import HTMLExporter

    from collectsim.present.report import _escape_markdown_outputs

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "text/markdown": "## <script>alert(1)</script> versus <img src=x onerror=alert(2)>\n\nA & B **bold**"})]
    nb.cells.append(cell)
    _escape_markdown_outputs(nb)
    exporter = HTMLExporter()
    exporter.exclude_input = True
    body, _ = exporter.from_notebook_node(nb)
    assert "<script>alert(1)" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<strong>bold</strong>" in body


def test_report_end_to_end_escapes_scenario_and_policy_names(tmp_path, capfd, monkeypatch):
    pytest.importorskip("papermill")
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        (tmp_path / "home" / var.lower()).mkdir(parents=True)
        monkeypatch.setenv(var, str(tmp_path / "home" / var.lower()))
    evil = "<script>alert(1)</script>"
    path = _scenario(tmp_path, 'name = "<img src=x onerror=alert(9)>"', policy_names=(evil, "<b>bold</b>"))
    out = tmp_path / "r.html"
    code = main(["report", str(path), "--policies", f"{evil},<b>bold</b>", "--reps", "2", "--out", str(out)])
    assert code == 0, capfd.readouterr().err
    page = out.read_text(encoding="utf-8")
    assert evil not in page and "<img src=x" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- 2. range checks: the same limits in validate and run --------------------------------------------------

@pytest.mark.parametrize("command", ["run", "compare", "sweep", "letters", "report"])
@pytest.mark.parametrize("seed", ["-1", str(2**64), "1.5"])
def test_seed_option_out_of_range_is_one_line_error(tmp_path, capsys, monkeypatch, command, seed):
    path = _scenario(tmp_path)
    _no_simulation(monkeypatch)
    extra = {"sweep": ["--grid", "discount.rate=0,0.01"], "report": ["--policies", "ladder,ladder"]}.get(command, [])
    line = _usage_error([command, str(path), "--seed", seed, *extra], capsys)
    assert "--seed" in line and seed in line


@pytest.mark.parametrize("seed", ["-1", str(2**63), str(2**64 + 5)])
def test_scenario_seed_out_of_range_fails_validate_and_run_alike(tmp_path, capsys, seed):
    path = _scenario(tmp_path)
    path.write_text(path.read_text().replace("seed = 7", f"seed = {seed}"), encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("seed") >= 2 and "Traceback" not in err


@pytest.mark.parametrize("argv", [["compare", "--reps", "0"], ["compare", "--reps", "-3"], ["sweep", "--reps", "0"],
                                  ["compare", "--workers", "0"], ["report", "--reps", "0"]])
def test_replications_and_workers_must_be_above_zero(tmp_path, capsys, monkeypatch, argv):
    path = _scenario(tmp_path)
    _no_simulation(monkeypatch)
    extra = ["--grid", "discount.rate=0"] if argv[0] == "sweep" else (["--policies", "a,b"] if argv[0] == "report"
                                                                         else [])
    assert "must be above 0" in _usage_error([argv[0], str(path), *argv[1:], *extra], capsys)


def test_calibrate_iterations_negative_is_one_line_error(tmp_path, capsys):
    ledger = ROOT / "examples" / "sample_ledger.csv"
    line = _usage_error(["calibrate", str(ledger), "--out", str(tmp_path / "x.toml"), "--iterations", "-1"], capsys)
    assert "--iterations" in line
    assert not (tmp_path / "x.toml").exists()


def test_start_date_near_the_calendar_end_is_refused_by_validate_and_run(tmp_path, capsys):
    path = _scenario(tmp_path)
    total = 30 + 90 + 90
    latest = dt.date.max - dt.timedelta(days=total + CALENDAR_MARGIN_DAYS)
    for start, ok in ((dt.date(9999, 12, 1), False), (latest + dt.timedelta(days=1), False), (latest, True)):
        text = path.read_text().replace("[horizon]\n", f"[horizon]\nstart_date = {start}\n", 1)
        case = tmp_path / f"s{start}.toml"
        case.write_text(text, encoding="utf-8")
        assert main(["validate", str(case)]) == (0 if ok else 2)
        assert main(["run", str(case), "--out", str(tmp_path / f"o{start}")]) == (0 if ok else 2)
        err = capsys.readouterr().err
        if ok:
            assert main(["letters", str(case)]) == 0 and "Traceback" not in capsys.readouterr().err
            assert (tmp_path / f"o{start}" / "daily.csv").exists()
        else:
            assert "horizon.start_date" in err and "9999-12-31" in err and "Traceback" not in err


def test_include_policies_name_too_long_is_one_line_error_naming_it(tmp_path, capsys):
    path = _scenario(tmp_path, 'include_policies = ["' + "x" * 5000 + '.toml"]')
    assert main(["validate", str(path)]) == 2
    line = _one_line_error(capsys.readouterr().err)
    assert "include_policies[0]" in line and "unusable file name" in line and len(line) < 400


@pytest.mark.parametrize("seg_keys, key", [("amount_median = 1e300", "amount_median"),
                                          ("amount_median = 1e9\namount_sigma = 3.0", "amount_sigma"),
                                          ("customers = 1000000\norders_per_year = 3650.0\namount_median = 1e9",
                                           "portfolio.segments[0]")])
def test_huge_amounts_are_range_errors(tmp_path, capsys, seg_keys, key):
    path = _scenario(tmp_path)
    text = path.read_text().replace('name = "steady"', 'name = "steady"\n' + seg_keys, 1)
    for dup in ("customers = 30\n", "orders_per_year = 12\n"):
        if dup.split(" =")[0] + " = " in seg_keys:
            text = text.replace(dup, "", 1)
    path.write_text(text, encoding="utf-8")
    assert main(["validate", str(path)]) == 2
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert key in err and "Traceback" not in err


# --- 4. memory ---------------------------------------------------------------------------------------------

def test_the_largest_allowed_segment_is_refused_up_front_with_an_estimate(tmp_path, capsys, monkeypatch):
    path = _scenario(tmp_path)
    text = path.read_text().replace("customers = 30\n", "customers = 1000000\namount_median = 0.01\n", 1)
    path.write_text(text.replace("orders_per_year = 12\n", "orders_per_year = 3650.0\n", 1), encoding="utf-8")
    _no_simulation(monkeypatch)
    for argv in (["validate", str(path)], ["run", str(path)], ["compare", str(path), "--reps", "2"],
                 ["letters", str(path)]):
        assert main(argv) == 2
        line = _one_line_error(capsys.readouterr().err)
        assert "GB of memory" in line and "fewer customers" in line and "available" in line


def test_memory_limit_is_the_machines_and_the_estimate_grows_with_the_job(tmp_path, capsys, monkeypatch):
    path = _scenario(tmp_path)
    scenario = cli.load_scenario(path)
    one = capacity.check_memory(scenario)
    assert capacity.check_memory(scenario, 10) > 9 * one
    assert capacity.available_memory() is None or capacity.available_memory() > 0
    monkeypatch.setattr(capacity, "available_memory", lambda: int(one / 2))
    _no_simulation(monkeypatch)
    assert main(["run", str(path)]) == 2
    assert "more than the" in _one_line_error(capsys.readouterr().err)
    assert main(["compare", str(path), "--workers", "2"]) == 2
    assert "fewer --workers" in _one_line_error(capsys.readouterr().err)


# --- 3. output paths checked before the work; files complete or absent -------------------------------------

def _commands(path: Path, out: Path) -> dict[str, list[str]]:
    ledger = ROOT / "examples" / "sample_ledger.csv"
    return {"run": ["run", str(path), "--out", str(out)],
            "run-all": ["run", str(path), "--all", "--out", str(out)],
            "compare": ["compare", str(path), "--reps", "2", "--out", str(out)],
            "sweep": ["sweep", str(path), "--grid", "discount.rate=0,0.01", "--reps", "2", "--out", str(out)],
            "letters": ["letters", str(path), "--out", str(out)],
            "calibrate-report-dir": ["calibrate", str(ledger), "--out", str(out.parent / "fit.toml"),
                                     "--report-dir", str(out)]}


@pytest.mark.parametrize("command", ["run", "run-all", "compare", "sweep", "letters", "calibrate-report-dir"])
def test_a_file_where_an_output_folder_is_expected_stops_before_the_work(tmp_path, capsys, monkeypatch, command):
    path = _scenario(tmp_path)
    out = tmp_path / "taken"
    out.write_text("not a folder")
    _no_simulation(monkeypatch)
    monkeypatch.setattr("collectsim.apps.calibrate_cli.read_ledger", lambda *a, **k: pytest.fail("work started"))
    assert main(_commands(path, out)[command]) == 2
    line = _one_line_error(capsys.readouterr().err)
    assert "is a file, not a folder" in line and str(out) in line
    assert out.read_text() == "not a folder"


@pytest.mark.parametrize("command", ["run", "compare", "letters", "calibrate-report-dir"])
def test_an_output_folder_under_a_file_or_where_nothing_can_be_written_stops_first(tmp_path, capsys, monkeypatch,
                                                                                   command):
    path = _scenario(tmp_path)
    (tmp_path / "plain").write_text("x")
    _no_simulation(monkeypatch)
    monkeypatch.setattr("collectsim.apps.calibrate_cli.read_ledger", lambda *a, **k: pytest.fail("work started"))
    argv = _commands(path, tmp_path / "plain" / "below")[command]
    assert main(argv) == 2
    assert "is a file" in _one_line_error(capsys.readouterr().err)
    if Path("/proc/self").is_dir():  # /proc takes no new files, even from root
        argv = _commands(path, Path("/proc/collectsim-test-out"))[command]
        if command == "calibrate-report-dir":
            argv[argv.index("--out") + 1] = str(tmp_path / "fit.toml")
        assert main(argv) == 2
        assert "cannot write in /proc" in _one_line_error(capsys.readouterr().err)


@pytest.mark.parametrize("flag", ["report --out", "report --notebook", "calibrate --out", "calibrate --rejects"])
def test_output_files_are_checked_first_folder_missing_parent_unwritable(tmp_path, capsys, monkeypatch, flag):
    path = _scenario(tmp_path)
    ledger = ROOT / "examples" / "sample_ledger.csv"
    monkeypatch.setattr("collectsim.present.report.load_scenario", lambda *a, **k: pytest.fail("work started"))
    monkeypatch.setattr("collectsim.apps.calibrate_cli.read_ledger", lambda *a, **k: pytest.fail("work started"))
    command, option = flag.split()

    def argv(target: Path) -> list[str]:
        if command == "report":
            base = ["report", str(path), "--policies", "ladder,ladder", "--out", str(tmp_path / "r.html")]
        else:
            base = ["calibrate", str(ledger), "--out", str(tmp_path / "fit.toml"), "--lenient"]
        if option in base:
            base[base.index(option) + 1] = str(target)
        else:
            base += [option, str(target)]
        return base

    (tmp_path / "adir").mkdir()
    cases = [(tmp_path / "adir", "is a folder")]
    if flag != "calibrate --out":  # calibrate makes the folder of its --out, as it always has
        cases.append((tmp_path / "missing" / "f.x", "does not exist"))
    if Path("/proc/self").is_dir():
        cases.append((Path("/proc/collectsim.x"), "cannot write in /proc"))
    for target, words in cases:
        assert main(argv(target)) == 2, target
        line = _one_line_error(capsys.readouterr().err)
        assert words in line and option in line
    assert not (tmp_path / "missing").exists() and not (tmp_path / "fit.toml").exists()


def test_atomic_write_leaves_the_old_file_or_nothing_on_ctrl_c(tmp_path):
    target = tmp_path / "x.csv"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic(target) as tmp:
        tmp.write_text("half of the new")
        raise KeyboardInterrupt
    assert target.read_text() == "old" and _leftover_temp_files(tmp_path) == []
    fresh = tmp_path / "fresh.json"
    with pytest.raises(KeyboardInterrupt), atomic(fresh) as tmp:
        tmp.write_text("{")
        raise KeyboardInterrupt
    assert not fresh.exists() and _leftover_temp_files(tmp_path) == []
    with atomic(fresh) as tmp:
        tmp.write_text("{}")
    assert fresh.read_text() == "{}" and oct(fresh.stat().st_mode & 0o777) != oct(0o600)


# --- 5. Ctrl-C at any moment --------------------------------------------------------------------------------

def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _interrupt_on_call(monkeypatch, module, name, call_number):
    real = getattr(module, name)
    calls = {"n": 0}

    def wrapper(*a, **k):
        calls["n"] += 1
        if calls["n"] == call_number:
            raise KeyboardInterrupt
        return real(*a, **k)
    monkeypatch.setattr(module, name, wrapper)


def _assert_compare_partial(out: Path, reps: int) -> None:
    data = json.loads((out / "comparison.json").read_text())
    assert data["partial"] is True and data["reps"] == reps
    for name in ("summary.csv", "differences.csv", "replications.csv"):
        assert {r["partial"] for r in _rows(out / name)} <= {"True"}
    assert len(_rows(out / "replications.csv")) == reps
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _leftover_temp_files(out) == []


@pytest.mark.parametrize("at_call, reps_kept", [(1, 0), (3, 2)])
def test_ctrl_c_during_replications_keeps_the_finished_ones_marked_partial(tmp_path, capsys, monkeypatch,
                                                                           at_call, reps_kept):
    path = _scenario(tmp_path)
    _interrupt_on_call(monkeypatch, compare_module, "run_unit", at_call)
    out = tmp_path / "out"
    assert main(["compare", str(path), "--reps", "4", "--engine", "simpy", "--out", str(out)]) == 130
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err and "marked partial" in captured.out
    _assert_compare_partial(out, reps_kept)


def test_a_complete_comparison_says_partial_false_everywhere(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["compare", str(_scenario(tmp_path)), "--reps", "2", "--out", str(out)]) == 0
    assert json.loads((out / "comparison.json").read_text())["partial"] is False
    assert {r["partial"] for r in _rows(out / "summary.csv")} == {"False"}
    assert sorted(p.stem for p in out.glob("*.png")) == sorted(COMPARISON_FIGURES)


def test_ctrl_c_before_anything_exits_130_and_writes_nothing(tmp_path, capsys, monkeypatch):
    path = _scenario(tmp_path)
    monkeypatch.setattr(cli, "load_scenario", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    assert main(["compare", str(path), "--out", str(tmp_path / "o")]) == 130
    err = capsys.readouterr().err
    assert "interrupted" in err and "Traceback" not in err and not (tmp_path / "o").exists()


def test_ctrl_c_while_showing_still_writes_the_results_marked_partial(tmp_path, capsys, monkeypatch):
    path = _scenario(tmp_path)
    _interrupt_on_call(monkeypatch, cli, "format_table", 1)
    out = tmp_path / "out"
    assert main(["compare", str(path), "--reps", "2", "--out", str(out)]) == 130
    assert "Traceback" not in capsys.readouterr().err
    _assert_compare_partial(out, 2)


@pytest.mark.parametrize("at_call", [1, 3])
def test_ctrl_c_while_writing_plots_leaves_complete_files_marked_partial(tmp_path, capsys, monkeypatch, at_call):
    path = _scenario(tmp_path)
    out = tmp_path / "out"
    assert main(["compare", str(path), "--reps", "2", "--out", str(out)]) == 0  # an earlier, complete job
    _interrupt_on_call(monkeypatch, compare_module, "save_figure", at_call)
    assert main(["compare", str(path), "--reps", "2", "--out", str(out)]) == 130
    assert "Traceback" not in capsys.readouterr().err
    _assert_compare_partial(out, 2)
    assert len(list(out.glob("*.png"))) == at_call - 1  # the earlier job's plots went first


def test_ctrl_c_in_a_sweep_marks_its_table_partial(tmp_path, capsys, monkeypatch):
    path = _scenario(tmp_path)
    _interrupt_on_call(monkeypatch, sweep_module, "run_unit", 2)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--grid", "discount.rate=0,0.01", "--reps", "2", "--engine", "simpy",
                 "--out", str(out)]) == 130
    assert "Traceback" not in capsys.readouterr().err
    assert {r["partial"] for r in _rows(out / "sweep.csv")} == {"True"}
    _interrupt_on_call(monkeypatch, sweep_module, "save_figure", 1)
    replication = importlib.import_module("collectsim.experiments.replication")
    monkeypatch.setattr(sweep_module, "run_unit", replication.run_unit)
    assert main(["sweep", str(path), "--grid", "discount.rate=0,0.01", "--reps", "2", "--out", str(out)]) == 130
    assert {r["partial"] for r in _rows(out / "sweep.csv")} == {"True"} and not list(out.glob("*.png"))


def test_ctrl_c_while_a_run_writes_leaves_no_metrics_json_and_no_half_file(tmp_path, capsys, monkeypatch):
    path = _scenario(tmp_path)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 0
    _interrupt_on_call(monkeypatch, importlib.import_module("collectsim.results.run"), "write_csv", 3)
    assert main(["run", str(path), "--out", str(out)]) == 130
    assert "Traceback" not in capsys.readouterr().err
    assert not (out / "metrics.json").exists() and _leftover_temp_files(out) == []


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc to look for leftover workers")
@pytest.mark.parametrize("where, reps", [(["--workers", "2"], 4000), (["--dask", "local"], 2000)])
def test_sigint_to_the_whole_job_with_workers_exits_130_partial_no_traceback_no_orphans(tmp_path, where, reps):
    if where[0] == "--dask":
        pytest.importorskip("distributed")
    path = _scenario(tmp_path)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "collectsim.apps.cli", "compare", str(path), "--reps", str(reps),
                             "--engine", "simpy", *where, "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    err: list[str] = []
    reader = threading.Thread(target=lambda: err.extend(iter(lambda: proc.stderr.read(64), "")), daemon=True)
    reader.start()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:  # until some replications are done
        done = [int(n) for n in re.findall(rf"(\d+)/{reps}", "".join(err))]
        if done and max(done) >= 20:
            break
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: every process of the job
    proc.wait(timeout=120)
    reader.join(timeout=10)
    stderr = "".join(err)
    assert proc.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr and "WARNING" not in stderr, stderr[-2000:]
    data = json.loads((out / "comparison.json").read_text())
    assert data["partial"] is True and 0 < data["reps"] < reps
    assert len(_rows(out / "replications.csv")) == data["reps"]
    assert _live_processes_in_group(proc.pid) == []  # no worker left running


def _live_processes_in_group(pgid: int, wait: float = 10.0) -> list[int]:
    """Processes of group ``pgid`` still alive (zombies, already ended, are not counted), after up to ``wait`` s."""
    deadline = time.monotonic() + wait
    while True:
        live = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if int(fields[2]) == pgid and fields[0] != "Z":
                    live.append(int(entry.name))
        if not live or time.monotonic() > deadline:
            return live
        time.sleep(0.2)


def test_a_full_disk_while_writing_is_one_line_not_a_traceback(tmp_path, capsys, monkeypatch):
    path = _scenario(tmp_path)

    def full(frame, target):
        raise OSError(28, "No space left on device", str(target))
    monkeypatch.setattr(compare_module, "write_csv", full)
    out = tmp_path / "out"
    assert main(["compare", str(path), "--reps", "2", "--out", str(out)]) == 1
    line = _one_line_error(capsys.readouterr().err)
    assert "No space left on device" in line and "summary.csv" in line
    assert not (out / "comparison.json").exists() and _leftover_temp_files(out) == []


def test_names_with_terminal_escapes_are_printed_escaped(tmp_path, capsys):
    path = write_small_scenario(tmp_path, policy_names=("red\x1b[31m", "two\nlines"))
    assert main(["validate", str(path)]) == 0
    assert main(["run", str(path), "--all"]) == 0
    assert main(["compare", str(path), "--reps", "2"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "two\nlines" not in out and "red\\x1b[31m" in out and "two\\nlines" in out


def test_ctrl_c_in_report_or_calibrate_exits_130_and_writes_no_file(tmp_path, capsys, monkeypatch):
    pm = pytest.importorskip("papermill")
    path = _scenario(tmp_path)
    monkeypatch.setattr(pm, "execute_notebook", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    out = tmp_path / "r.html"
    assert main(["report", str(path), "--policies", "ladder,ladder", "--reps", "2", "--out", str(out)]) == 130
    from collectsim.calibration.calibrate import Calibrator
    monkeypatch.setattr(Calibrator, "fit", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
    fit = tmp_path / "fit.toml"
    assert main(["calibrate", str(ROOT / "examples" / "sample_ledger.csv"), "--out", str(fit)]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("interrupted") == 2
    assert not out.exists() and not fit.exists() and _leftover_temp_files(tmp_path) == []


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads peak memory from Linux /proc")
def test_the_memory_estimate_covers_a_measured_run():
    """The estimate against the peak resident memory a real run adds (a fresh process, the engine loaded first;
    the compiled engine's arrays are not Python allocations, so tracemalloc would not see them)."""
    code = ("import collectsim\n"
            "from collectsim.experiments import capacity\n"
            "from collectsim.engines.compiled_engine import warm_up\n"
            "from collectsim.apps.dashboard import resize\n"
            "def hwm():\n"
            "    return next(int(l.split()[1]) * 1024 for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
            "s = resize(collectsim.load_scenario('scenarios/baseline.toml'), customers=20000)\n"
            "warm_up()\n"
            "base = hwm()\n"
            "collectsim.simulate(s, 'as-is', 1)\n"
            "print(hwm() - base, capacity.run_bytes(s))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    measured, estimate = map(float, done.stdout.split())
    assert measured <= 1.5 * estimate and estimate <= 5 * measured, (measured, estimate)
