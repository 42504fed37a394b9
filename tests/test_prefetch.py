"""The working database read ahead: once per file and process, never for a file that would not fit."""

import os

import pytest

from assets.lib import prefetch as pf


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    monkeypatch.setattr(pf, "_started", set())


def test_started_once_per_file(tmp_path):
    path = tmp_path / "pipeline.duckdb"
    path.write_bytes(b"x" * 4096)
    assert pf.prefetch(path) is (hasattr(os, "posix_fadvise") and pf._available_memory() is not None)
    assert pf.prefetch(path) is False
    assert pf.prefetch(tmp_path / "." / "pipeline.duckdb") is False  # the same file by another spelling


def test_missing_file_is_left_alone(tmp_path):
    assert pf.prefetch(tmp_path / "absent.duckdb") is False


def test_not_for_a_file_over_half_the_available_memory(tmp_path, monkeypatch):
    path = tmp_path / "big.duckdb"
    path.write_bytes(b"x" * 1000)
    monkeypatch.setattr(pf, "_available_memory", lambda: 1998)
    assert pf.prefetch(path) is False
    monkeypatch.setattr(pf, "_started", set())
    monkeypatch.setattr(pf, "_available_memory", lambda: 2000)
    assert pf.prefetch(path) is hasattr(os, "posix_fadvise")


def test_no_memory_figure_no_prefetch(tmp_path, monkeypatch):
    path = tmp_path / "pipeline.duckdb"
    path.write_bytes(b"x")
    monkeypatch.setattr(pf, "_available_memory", lambda: None)
    assert pf.prefetch(path) is False


def test_available_memory_reads_meminfo():
    if not os.path.exists("/proc/meminfo"):
        pytest.skip("no /proc/meminfo on this system")
    assert pf._available_memory() > 0
