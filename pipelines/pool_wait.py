"""A run waiting for the `duckdb` pool sleeps until its next claim check instead of spinning a core.

Dagster 1.13's in-process executor sleeps between claim checks for the time
`InstanceConcurrencyContext.interval_to_next_pending_claim_check` returns, which is
`min([0, *(ready_at - now)])`: never above 0, so `ActiveExecution.sleep_til_ready` never sleeps and a
run waiting for a pool slot busy-loops on one core until the slot frees (two runs started together
took 6-7 times the wall time of one on two cores). The claims themselves are retried on their own
back-off (1 s doubling to 15 s), so sleeping until the next of them changes when nothing is claimed,
only the CPU spent waiting. The fix was proposed upstream (dagster-io/dagster#20367) and is not in
1.13; `install` replaces the method with the time to the next check, never negative
(tests/test_pool_wait.py fails once Dagster's own method waits by itself: then this can go).
"""

from __future__ import annotations

import time


def interval_to_next_pending_claim_check(self) -> float:
    """Seconds until the earliest pending claim is due to be checked again (0 when one is due)."""
    if not self._pending_claims:
        return 0.0
    now = time.time()
    return max(0.0, min((ready_at - now for ready_at in self._pending_timeouts.values()), default=0.0))


def install() -> None:
    from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

    global dagsters
    current = InstanceConcurrencyContext.interval_to_next_pending_claim_check
    if current is not interval_to_next_pending_claim_check:
        dagsters = current
    InstanceConcurrencyContext.interval_to_next_pending_claim_check = interval_to_next_pending_claim_check


dagsters = None  # Dagster's own method, once replaced
