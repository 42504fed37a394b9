"""The project's run history storage: Dagster's SQLite files and layout, read back by Dagster's own
storage, with a bounded number of open database files."""

from __future__ import annotations

import shutil
from pathlib import Path

from dagster import (
    AssetKey,
    BackfillPolicy,
    DagsterEventType,
    DagsterInstance,
    DailyPartitionsDefinition,
    MaterializeResult,
    asset,
    materialize,
)
from dagster._core.event_api import EventLogRecord
from dagster._serdes import deserialize_value
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG
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


@asset(partitions_def=DAYS, backfill_policy=BackfillPolicy.single_run())
def days_at_once(context) -> MaterializeResult:
    return MaterializeResult(metadata={"days": len(context.partition_keys)})


def _index_rows(home: Path) -> dict[str, list[tuple]]:
    """What the index holds of the asset's materializations, without ids and times (the planned
    events differ on purpose: one per range here, one per day in Dagster's storage)."""
    import sqlite3

    index = sqlite3.connect(home / "history" / "runs" / "index.db")
    try:
        return {
            "events": index.execute(
                "select dagster_event_type, asset_key, partition from event_logs "
                "where dagster_event_type = 'ASSET_MATERIALIZATION' order by partition"
            ).fetchall(),
            "tags": index.execute(
                # a data version is a hash of the run's own code version and time
                "select asset_key, key, iif(key = 'dagster/data_version', 'a hash', value) as value "
                "from asset_event_tags order by value, key"
            ).fetchall(),
            "assets": index.execute("select asset_key from asset_keys").fetchall(),
            # the asset's latest materialization, as the index row keeps it (the last day of the range)
            "latest": [
                (key, deserialize_value(last, EventLogRecord).event_log_entry.get_dagster_event().partition)
                for key, last in index.execute("select asset_key, last_materialization from asset_keys")
            ],
        }
    finally:
        index.close()


def _range_run(home: Path, config: str) -> str:
    home.mkdir()
    (home / "dagster.yaml").write_text(config)
    with DagsterInstance.from_config(str(home)) as instance:
        result = materialize(
            [days_at_once], instance=instance,
            tags={ASSET_PARTITION_RANGE_START_TAG: "2024-07-01", ASSET_PARTITION_RANGE_END_TAG: "2024-07-03"},
        )
        assert result.success
        assert instance.get_materialized_partitions(AssetKey("days_at_once")) == {"2024-07-01", "2024-07-02", "2024-07-03"}
        return result.run_id


def test_a_range_runs_materializations_are_written_as_one_batch_with_dagsters_rows(tmp_path, monkeypatch):
    """One transaction per file for the days of a range run, and the same rows as Dagster's own
    storage writes one event at a time."""
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "0")
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE")  # unset, as in a fresh process; restored after
    batches = []
    original = PooledSqliteEventLogStorage.store_event_batch

    def spy(self, events):
        batches.append([e.get_dagster_event().partition for e in events])
        return original(self, events)

    monkeypatch.setattr(PooledSqliteEventLogStorage, "store_event_batch", spy)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "project"))
    project_yaml = (PROJECT / "dagster.yaml").read_text()
    run_id = _range_run(tmp_path / "project", project_yaml)
    assert batches == [["2024-07-01", "2024-07-02", "2024-07-03"]]

    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "0")  # Dagster's own storage, one event at a time
    _range_run(tmp_path / "plain", "telemetry:\n  enabled: false\n")
    assert _index_rows(tmp_path / "project") == _index_rows(tmp_path / "plain")
    assert _index_rows(tmp_path / "project")["latest"] == [('["days_at_once"]', "2024-07-03")]
    assert [row[2] for row in _index_rows(tmp_path / "project")["events"] if row[0] == "ASSET_MATERIALIZATION"] == [
        "2024-07-01", "2024-07-02", "2024-07-03"
    ]

    # and Dagster's own storage reads the batch back: the run's log has each day's materialization
    plain = tmp_path / "reader"
    plain.mkdir()
    (plain / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    for item in ("history", "schedules"):
        shutil.copytree(tmp_path / "project" / item, plain / item)
    with DagsterInstance.from_config(str(plain)) as instance:
        records = instance.get_records_for_run(run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION).records
        assert [r.event_log_entry.get_dagster_event().partition for r in records] == [
            "2024-07-01", "2024-07-02", "2024-07-03"
        ]
        latest = instance.get_latest_materialization_event(AssetKey("days_at_once"))
        assert latest.asset_materialization.partition == "2024-07-03"


def test_a_batch_the_index_refuses_is_stored_again_once(tmp_path, monkeypatch):
    """When the index write of a batch fails, Dagster stores its events again one by one: the run's
    own file must not keep the batch's rows as well."""
    import sqlite3

    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    original = PooledSqliteEventLogStorage._store_asset_event_tags
    failures = []

    def fail_once(self, conn, events, ids):
        if len(events) > 1 and not failures:  # the batch (planned events are stored one by one)
            failures.append(len(events))
            raise RuntimeError("database is locked")
        return original(self, conn, events, ids)

    monkeypatch.setattr(PooledSqliteEventLogStorage, "_store_asset_event_tags", fail_once)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "project"))
    run_id = _range_run(tmp_path / "project", (PROJECT / "dagster.yaml").read_text())
    assert failures == [3]  # the batch of three days failed, and was stored again
    run_file = sqlite3.connect(tmp_path / "project" / "history" / "runs" / f"{run_id}.db")
    try:
        partitions = run_file.execute(
            "select partition from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION' order by 1"
        ).fetchall()
    finally:
        run_file.close()
    assert partitions == [("2024-07-01",), ("2024-07-02",), ("2024-07-03",)]
    assert [row[2] for row in _index_rows(tmp_path / "project")["events"]] == ["2024-07-01", "2024-07-02", "2024-07-03"]
