"""The cyclic collector paused around the imports that build a run's long-lived objects."""

from __future__ import annotations

import gc

from assets.lib.collector import collector_paused


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


def test_a_run_imports_its_definitions_with_the_collector_paused():
    from pipelines import cli

    gc.unfreeze()
    try:
        definitions = cli._definitions()
        assert definitions.defs.resolve_job_def("pipeline") is not None
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # the definitions are out of later collections
    finally:
        gc.unfreeze()
