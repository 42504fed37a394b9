"""A run waiting for a pool slot sleeps until its next claim check (pipelines/pool_wait.py)."""

from __future__ import annotations

import time
from types import SimpleNamespace

from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

from pipelines import pool_wait


def waiting(due_in: float) -> SimpleNamespace:
    return SimpleNamespace(_pending_claims={"raw__orders"}, _pending_timeouts={"raw__orders": time.time() + due_in})


def test_the_wait_is_the_time_to_the_next_check_never_negative():
    assert 4.0 < pool_wait.interval_to_next_pending_claim_check(waiting(5.0)) <= 5.0
    assert pool_wait.interval_to_next_pending_claim_check(waiting(-1.0)) == 0.0  # due: check now
    assert pool_wait.interval_to_next_pending_claim_check(SimpleNamespace(_pending_claims=set(), _pending_timeouts={})) == 0.0


def test_the_definitions_install_it():
    import pipelines.definitions  # noqa: F401 - installs it

    assert InstanceConcurrencyContext.interval_to_next_pending_claim_check is pool_wait.interval_to_next_pending_claim_check


def test_dagsters_own_interval_never_sleeps_which_is_why_it_is_replaced():
    """When this fails, Dagster's own method waits by itself: pool_wait can go."""
    pool_wait.install()
    assert pool_wait.dagsters(waiting(5.0)) == 0  # min([0, 5.0]): no sleep while a slot is 5 s away
