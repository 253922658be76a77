"""The committed notebook outputs guard the model: change a default and nbval must fail.

`make test` runs every notebook under nbval (strict: every stored output compared, after the
sanitize file). Here one notebook is run under nbval twice in a subprocess, each time importing
collectsim from a copy of src/: once unchanged (it passes), once with one behaviour default changed
(customers answer a reminder 12 days after it instead of 3), which moves the headline metrics, so nbval
must report a mismatch in that table.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

pytest.importorskip("nbval")

NOTEBOOK = ROOT / "notebooks" / "01_quick_start.ipynb"
SANITIZE = ROOT / "notebooks" / "nbval-sanitize.cfg"
DEFAULT = re.compile(r"(response_delay_days: float = setting\(\s*)3\.0\b")


def _nbval(src: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(src)}
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR", "MPLCONFIGDIR"):
        (tmp_path / var).mkdir(exist_ok=True)
        env[var] = str(tmp_path / var)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
                           "--nbval-sanitize-with", str(SANITIZE), str(NOTEBOOK)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def _copy_src(tmp_path: Path, name: str) -> Path:
    src = tmp_path / name
    shutil.copytree(ROOT / "src" / "collectsim", src / "collectsim")
    return src


def test_unchanged_model_passes_and_a_changed_default_fails_nbval(tmp_path):
    same = _copy_src(tmp_path, "same")
    passed = _nbval(same, tmp_path)
    assert passed.returncode == 0, passed.stdout[-3000:]

    changed = _copy_src(tmp_path, "changed")
    scenario_py = changed / "collectsim" / "config" / "scenario.py"
    text, n = DEFAULT.subn(r"\g<1>12.0", scenario_py.read_text(encoding="utf-8"))
    assert n == 1, "the default this test changes (behaviour.response_delay_days = 3.0) was not found"
    scenario_py.write_text(text, encoding="utf-8")
    failed = _nbval(changed, tmp_path)
    assert failed.returncode != 0
    # The cell that fails is the headline-metrics table (the cells before it show only the scenario file).
    assert "Cell outputs differ" in failed.stdout and "headline_table(result.metrics" in failed.stdout, \
        failed.stdout[-3000:]
