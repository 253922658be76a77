"""Where compiled code is cached, and the background warm-up."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

import pytest

from collectsim.engines import jit
from collectsim.engines.compiled_engine import warm_up_in_background


def test_numba_cache_dir_is_honoured(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "numba"))
    folder = jit.cache_dir("abc")
    assert folder == tmp_path / "numba" / "collectsim-abc" and folder.is_dir()


def test_the_user_cache_is_used_without_numba_cache_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert jit.cache_dir("abc") == tmp_path / "cache" / "collectsim" / "collectsim-abc"


@pytest.mark.skipif(os.geteuid() == 0 if hasattr(os, "geteuid") else True,
                    reason="root can write into a read-only folder")
def test_a_read_only_cache_falls_back_to_the_temporary_folder(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(locked))
    monkeypatch.setenv("XDG_CACHE_HOME", str(locked))
    try:
        assert jit.cache_dir("abc").parent.parent == Path(tempfile.gettempdir())
    finally:
        locked.chmod(stat.S_IRWXU)


def test_a_folder_that_cannot_be_written_is_passed_over(tmp_path, monkeypatch):
    """Without relying on permissions (tests may run as root): a file where the folder should be."""
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(blocker))
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert jit.cache_dir("abc").parent.parent == Path(tempfile.gettempdir())


def test_the_digest_changes_with_the_compiled_source(monkeypatch):
    import inspect

    before = jit.source_digest()
    real = inspect.getsource
    monkeypatch.setattr(inspect, "getsource", lambda obj: real(obj) + "# changed\n")
    assert jit.source_digest() != before


def test_warm_up_runs_in_the_background():
    thread = warm_up_in_background()
    thread.join(timeout=600)
    assert not thread.is_alive()
