"""Batch dates (contract §1): the day a raw export was taken, in China time, as a partition key.

Plain functions without Dagster, so that planning a run (and finding that there is nothing to run)
does not import it: `assets/partitions.py` builds the Dagster partitions from the same values.

Files dated before the first batch date belong to the first and files dated after the last belong
to the last, so no file is out of reach of a run.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
from typing import TYPE_CHECKING, Callable
from zoneinfo import ZoneInfo

from .files import FileError, batch_date

if TYPE_CHECKING:
    from dagster import PartitionKeyRange

TIMEZONE = "Asia/Shanghai"
KEY_FORMAT = "%Y-%m-%d"


@functools.cache
def first_date() -> str:
    """The first partition's day, as the setting gives it (`Settings.first_batch_date`). Read when
    the partitions are defined, with the assets, before any command's settings exist: a process
    has one."""
    from .settings import Settings

    return Settings.from_environment(os.environ).first_batch_date


# Dagster's get_first/last_partition_key walk the cron schedule from the first day (0.3 ms a call):
# a run clamps every file name of the folder, 7,360 order files for a year. The same keys, directly.
def first_key() -> str:
    return _key_of_text(first_date())


@functools.lru_cache(maxsize=8)
def _key_of_text(text: str) -> str:
    return key_of(dt.datetime.strptime(text, KEY_FORMAT).date())


def last_key() -> str:
    """Today in China: with end_offset=1 today's partition exists."""
    return key_of(_today())


def _today() -> dt.date:
    return dt.datetime.now(ZoneInfo(TIMEZONE)).date()


def key_of(day: dt.date) -> str:
    return day.strftime(KEY_FORMAT)


def clamp(key: str, first: str | None = None, last: str | None = None) -> str:
    """A batch date's key, or the first or last partition (`first_key`, `last_key` unless given)
    when it lies outside them."""
    return min(max(key, first or first_key()), last or last_key())


def partition_of(file_name: str) -> str | None:
    """The batch-date partition a dated source's file belongs to; None when its name has no date."""
    return _partition_between(file_name, first_key(), last_key())


def _partition_between(file_name: str, first: str, last: str) -> str | None:
    try:
        day = batch_date(file_name)
    except FileError:
        return None
    return clamp(key_of(day), first, last)


def covers(key_range: PartitionKeyRange, file_name: str) -> bool:
    """Does a run over `key_range` look at this file? A run that reaches the latest batch date also
    takes the files dated later; "latest" allows for midnight passing between asking for the run
    and running it, so a file dated tomorrow is not left between two runs."""
    return covering(key_range)(file_name)


def covering(key_range: PartitionKeyRange) -> Callable[[str], bool]:
    """`covers` for one range, the clock read once: a run asks about every file of the history."""
    today = _today()
    first, last = first_key(), key_of(today)  # last_key(), from the same reading of the clock
    yesterday = key_of(today - dt.timedelta(days=1))
    reaches_latest = key_range.end >= yesterday

    def covered(file_name: str) -> bool:
        key = _partition_between(file_name, first, last)
        return key is None or key_range.start <= key <= key_range.end or (key > key_range.end and reaches_latest)

    return covered
