"""The cyclic collector paused around the imports that build a run's long-lived objects."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from assets.lib.collector import collector_paused

PROJECT = Path(__file__).resolve().parents[1]


def test_a_pause_turns_the_collector_off_then_on_and_freezes_what_the_block_made():
    gc.unfreeze()
    made = []
    try:
        with collector_paused():
            assert not gc.isenabled()
            made.extend([] for _ in range(1000))
        assert gc.isenabled()
        assert gc.get_freeze_count() >= 1000
    finally:
        gc.unfreeze()


def test_the_collector_stays_off_after_a_pause_when_it_was_off():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.unfreeze()
        gc.enable()


def test_a_run_imports_its_definitions_once_with_the_collector_paused():
    # A fresh interpreter: in this one another test may have imported the definitions already.
    script = (
        "import gc, sys\n"
        "from pipelines import cli\n"
        "assert 'pipelines.definitions' not in sys.modules\n"
        "first = cli._definitions()\n"
        "frozen = gc.get_freeze_count()\n"
        "assert first.defs.resolve_job_def('pipeline') is not None\n"
        "assert gc.isenabled() and frozen > 100_000, frozen\n"
        "frozen = gc.get_freeze_count()\n"
        "made = [[] for _ in range(1000)]\n"
        # frozen objects freed since only lower the count; a second pause would freeze `made`
        "assert cli._definitions() is first and gc.get_freeze_count() <= frozen\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=PROJECT, check=True, capture_output=True, text=True)
