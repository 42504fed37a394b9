"""Batch dates as Dagster partitions: one partition per day a raw export was taken (contract §1).

The order, traffic and courier assets are partitioned by batch date in China time, so the UI shows
which days are loaded, and a run loads the files of the batch dates it was asked for. A backfill of
many days is one run (`BackfillPolicy.single_run()`), not one run per day.

Files dated before the first partition belong to the first and files dated after the last belong
to the last, so no file is out of reach of a run. A file with no date in its name is quarantined
(contract §1) by every run, until it is renamed or removed.
"""

from __future__ import annotations

import warnings

from dagster import BackfillPolicy, BetaWarning, DailyPartitionsDefinition

from .lib.batch_dates import TIMEZONE, clamp, covering, covers, first_date, first_key, key_of, last_key, partition_of

__all__ = ["BATCH_DATES", "ONE_RUN", "TIMEZONE", "clamp", "covering", "covers", "first_key", "key_of", "last_key", "partition_of"]

BATCH_DATES = DailyPartitionsDefinition(
    start_date=first_date(),
    timezone=TIMEZONE,
    # today's partition exists: an export is dated the day it was taken and may arrive that day
    end_offset=1,
)
ONE_RUN = BackfillPolicy.single_run()
# `backfill_policy` is marked beta on @asset; it is the documented way to backfill in one run.
warnings.filterwarnings("ignore", category=BetaWarning, message=".*backfill_policy.*")
