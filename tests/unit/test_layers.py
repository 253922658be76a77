"""The package's layers, and that no import runs back up them.

A module may import from its own layer and from the layers below it, never from a layer above (so the model
never depends on how results are shown, and the command line can be replaced without touching the engines).
Every import counts, those inside functions too. Nothing in the package finds files through its own location.
"""

from __future__ import annotations

import ast
from pathlib import Path

import collectsim

PACKAGE = Path(collectsim.__file__).parent

#: Bottom to top.
LAYERS = ("config", "files", "model", "results", "engines", "experiments", "calibration", "present", "apps")


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.parent != PACKAGE)


def _layer(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0]


def _imported_layers(path: Path) -> list[tuple[int, str]]:
    """(line, layer) of every collectsim import in the module."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                names = [f"relative:{node.module}"]
            elif node.module:
                names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "collectsim":
                out.append((node.lineno, parts[1] if len(parts) > 1 else "collectsim"))
            elif name.startswith("relative:"):
                out.append((node.lineno, "relative"))
    return out


def test_every_module_lives_in_a_layer():
    loose = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in ("__init__.py", "__main__.py"))
    assert loose == [], f"modules outside the layers: {loose}"
    assert {_layer(p) for p in _modules()} <= set(LAYERS)


def test_no_import_runs_up_a_layer():
    wrong = []
    for path in _modules():
        own = LAYERS.index(_layer(path))
        for line, target in _imported_layers(path):
            where = f"{path.relative_to(PACKAGE)}:{line}"
            if target == "relative":
                wrong.append(f"{where} uses a relative import (write collectsim.<layer>.<module>)")
            elif target == "collectsim":
                wrong.append(f"{where} imports the package's top level (the public API sits above every layer)")
            elif LAYERS.index(target) > own:
                wrong.append(f"{where} ({_layer(path)}) imports from {target}, a layer above")
    assert wrong == [], "\n".join(wrong)


def test_the_checker_catches_an_upward_import(tmp_path):
    bad = tmp_path / "mod.py"
    bad.write_text("def f():\n    from collectsim.apps.cli import main\n")
    assert _imported_layers(bad) == [(2, "apps")]


def test_nothing_finds_files_through_its_own_location():
    offenders = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if "__file__" in p.read_text(encoding="utf-8")]
    assert offenders == []
