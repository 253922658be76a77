"""Writing results safely: output paths checked before the work, files complete or absent.

Every command that writes checks its output paths first (:func:`check_dir`, :func:`check_file`), so a
typo costs one line on stderr, not a finished simulation. Files are written under a temporary name in
the same folder and renamed into place (:func:`atomic`), so an interrupted write leaves the file as it
was or absent, never half written. Names that become folder names (a policy's, under ``run --all
--out``) must be one plain path component (:func:`check_component`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from collectsim.config.schema import ScenarioError


class OutputPathError(ScenarioError):
    """An output path that cannot be written; the message is one line naming the option and the path."""

    def __init__(self, flag: str, path: str | Path, problem: str) -> None:
        super().__init__(flag, "", str(path), problem)


def _can_write_in(folder: Path) -> str | None:
    """None when a file can be created in ``folder`` (tried for real), else the reason."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".collectsim-write-test-")
    except OSError as exc:
        return exc.strerror or str(exc)
    os.close(fd)
    os.unlink(name)
    return None


def _nearest_existing(path: Path) -> Path:
    here = path
    while not os.path.lexists(here) and here != here.parent:
        here = here.parent
    return here


def check_dir(path: str | Path, flag: str = "--out") -> Path:
    """``path`` as an output folder: an existing writable folder, or one that can be created (with parents)."""
    path = Path(path)
    try:
        if path.exists() and not path.is_dir():
            raise OutputPathError(flag, path, "is a file, not a folder; give a folder name")
        base = path if path.is_dir() else _nearest_existing(path)
        if not base.is_dir():
            raise OutputPathError(flag, path, f"{base} is a file, so the folder cannot be made there")
    except OSError as exc:  # e.g. a name too long
        raise OutputPathError(flag, path, f"unusable path ({exc.strerror})") from None
    reason = _can_write_in(base)
    if reason:
        raise OutputPathError(flag, path, f"cannot write in {base} ({reason})")
    return path


def check_file(path: str | Path, flag: str = "--out") -> Path:
    """``path`` as an output file: not a folder, in an existing folder where files can be written."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    try:
        if path.is_dir():
            raise OutputPathError(flag, path, "is a folder; give a file name")
        if not parent.exists():
            raise OutputPathError(flag, path, f"the folder {parent} does not exist; create it first")
        if not parent.is_dir():
            raise OutputPathError(flag, path, f"{parent} is a file, not a folder")
        if len(path.name.encode("utf-8", "surrogateescape")) > 255:
            raise OutputPathError(flag, path, "file name too long (at most 255 bytes)")
    except OSError as exc:
        raise OutputPathError(flag, path, f"unusable path ({exc.strerror})") from None
    reason = _can_write_in(parent)
    if reason:
        raise OutputPathError(flag, path, f"cannot write in {parent} ({reason})")
    return path


def component_problem(name: str) -> str | None:
    """Why ``name`` cannot be one folder or file name inside an output folder (None: it can)."""
    if name in ("", ".", ".."):
        return "is not a usable folder name"
    if "/" in name or "\\" in name:
        return "contains a path separator ('/' or '\\')"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "contains a control character"
    if len(name.encode("utf-8", "surrogateescape")) > 200:
        return "is too long for a folder name (at most 200 bytes)"
    return None


def check_component(name: str, source: str, key: str, use: str) -> str:
    """``name`` if it is one safe path component, else a ScenarioError naming ``source`` and ``key``."""
    problem = component_problem(name)
    if problem:
        raise ScenarioError(source, key, name, f"{problem}, so it cannot be {use}; rename it")
    return name


def _mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


@contextlib.contextmanager
def atomic(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed to ``path`` when the block ends without error,
    removed otherwise (Ctrl-C included), so ``path`` is never left half written."""
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:40]}.",
                               suffix=".tmp" + path.suffix[:16])  # the real suffix last: tools infer the format
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, _mode())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; return the path."""
    with atomic(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def save_figure(fig, path: str | Path, dpi: int = 100) -> Path:
    """Save a matplotlib figure as PNG atomically; return the path."""
    with atomic(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
    return Path(path)


def remove(paths) -> None:
    """Delete files left by an earlier job (so a folder never mixes two jobs' results)."""
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            Path(p).unlink()


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Ctrl-C is held back while the block runs (a short write that must finish); outside the main thread,
    nothing changes. A Ctrl-C pressed meanwhile is dropped: the caller is already handling one."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
