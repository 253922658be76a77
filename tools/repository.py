"""Where the collectsim source repository is, for the build tools that read it (playbook, golden outputs).

The installed library never needs the repository. The tools that regenerate the playbook's evidence and the
golden outputs do, and they are run from the repository (``make playbook``, ``python tools/golden.py``):
the repository is the working directory or the nearest folder above it that holds ``scenarios/baseline.toml``
and ``pyproject.toml``.
"""

from __future__ import annotations

from pathlib import Path


def repository_root(start: Path | None = None) -> Path:
    """The repository around ``start`` (default: the working directory); ``start`` itself when none is found."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "scenarios" / "baseline.toml").is_file() and (folder / "pyproject.toml").is_file():
            return folder
    return here
