"""The project's run history storage: Dagster's SQLite files and layout, read back by Dagster's own
storage, with a bounded number of open database files."""

from __future__ import annotations

import shutil
from pathlib import Path

from dagster import (
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    DailyPartitionsDefinition,
    asset,
    materialize,
)
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from pipelines.run_history import OPEN_RUN_FILES, PooledSqliteEventLogStorage

PROJECT = Path(__file__).resolve().parents[1]
DAYS = DailyPartitionsDefinition(start_date="2024-07-01", end_date="2024-07-04")


@asset(partitions_def=DAYS)
def daily(context) -> None:
    context.log.info(f"day {context.partition_key}")


def test_runs_written_by_the_project_storage_read_back_with_dagsters_own(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # the storage's base_dir, as dagster.yaml says
    shutil.copy(PROJECT / "dagster.yaml", home / "dagster.yaml")
    with DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        run_ids = [
            materialize([daily], instance=instance, partition_key=day).run_id
            for day in ("2024-07-01", "2024-07-02", "2024-07-03")
        ]
        assert len(instance.event_log_storage._engines()) <= OPEN_RUN_FILES + 1

    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    for item in ("history", "schedules"):
        shutil.copytree(home / item, plain / item)
    with DagsterInstance.from_config(str(plain)) as instance:
        assert type(instance.event_log_storage) is SqliteEventLogStorage
        assert [r.run_id for r in instance.get_runs()] == run_ids[::-1]
        assert all(r.is_success for r in instance.get_runs())
        assert instance.get_materialized_partitions(AssetKey("daily")) == {"2024-07-01", "2024-07-02", "2024-07-03"}
        steps = instance.get_records_for_run(run_ids[0], of_type=DagsterEventType.STEP_SUCCESS).records
        assert len(steps) == 1


def test_open_database_files_stay_bounded(tmp_path):
    storage = PooledSqliteEventLogStorage(str(tmp_path))
    try:
        for n in range(OPEN_RUN_FILES + 3):
            with storage.run_connection(f"run{n}"):
                pass
        with storage.index_connection():
            pass
        open_files = list(storage._engines())
        assert len(open_files) == OPEN_RUN_FILES + 1
        assert open_files[-1] == "index" and f"run{OPEN_RUN_FILES + 2}" in open_files and "run0" not in open_files
    finally:
        storage.dispose()
    assert storage._engines() == {}


def test_each_event_reaches_the_run_file_itself(tmp_path):
    """The UI follows a run's logs by watching its .db file: every event is checkpointed into it,
    not left in the write-ahead log. Read here from the .db alone (immutable: the WAL ignored)."""
    import sqlite3
    import time

    from dagster._core.events.log import EventLogEntry

    storage = PooledSqliteEventLogStorage(str(tmp_path))
    try:
        for n in range(1, 4):
            storage.store_event(EventLogEntry(error_info=None, level=20, user_message=f"e{n}", run_id="r1",
                                              timestamp=time.time(), dagster_event=None))
            file_only = sqlite3.connect(f"file:{tmp_path / 'r1.db'}?immutable=1", uri=True)
            try:
                assert file_only.execute("select count(*) from event_logs").fetchone() == (n,)
            finally:
                file_only.close()
    finally:
        storage.dispose()
