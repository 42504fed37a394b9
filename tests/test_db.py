"""The working database as a step sees it (assets/db.py): attached to the process's DuckDB for the
length of the step, released when it ends, whatever the step did."""

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dagster_duckdb import DuckDBResource

from assets.db import working_db
from assets.resources import PipelineSettings


@pytest.fixture
def settings(tmp_path):
    return PipelineSettings(
        raw_dir=str(tmp_path / "raw"), state_dir=str(tmp_path / "state"),
        warehouse_path=str(tmp_path / "w.duckdb"), pii_key="k",
    )


def resource(settings, **config) -> DuckDBResource:
    return DuckDBResource(database=str(settings.working_db), connection_config=config)


def other_process_reads(path) -> list:
    """What another process sees in the file (it could not open it while a step held it)."""
    code = f"import duckdb; print(duckdb.connect({str(path)!r}, read_only=True).execute('select v from t').fetchall())"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_a_step_sees_the_file_as_its_own_database_and_releases_it(settings):
    with working_db(settings, resource(settings, memory_limit="512MB")) as con:
        assert con.execute("select current_database()").fetchone() == ("pipeline",)
        assert con.execute("select current_setting('memory_limit')").fetchone()[0].startswith("488")  # MiB
        assert con.execute("select current_setting('temp_directory')").fetchone() == (f"{settings.working_db}.tmp",)
        con.execute("create table t as select 1 as v")  # unqualified: in the working database
    assert other_process_reads(settings.working_db) == "[(1,)]"
    assert not settings.working_db.with_name("pipeline.duckdb.wal").exists()  # checkpointed on release


def test_temporary_tables_stay_with_their_step(settings):
    with working_db(settings, resource(settings)) as con:
        con.execute("create temp table scratch_rows as select 1 as x")
    with working_db(settings, resource(settings)) as con:
        assert con.execute(
            "select count(*) from duckdb_tables() where table_name = 'scratch_rows'"
        ).fetchone() == (0,)


def test_a_failed_step_leaves_nothing_half_done_and_the_file_free(settings):
    with working_db(settings, resource(settings)) as con:
        con.execute("create table t as select 1 as v")
    with pytest.raises(RuntimeError):
        with working_db(settings, resource(settings)) as con:
            con.execute("begin")
            con.execute("insert into t values (2)")
            raise RuntimeError("the step failed")
    assert other_process_reads(settings.working_db) == "[(1,)]"
    with working_db(settings, resource(settings)) as con:
        assert con.execute("select v from t").fetchall() == [(1,)]


def test_two_deployments_in_one_process_never_meet(tmp_path, settings):
    other = settings.model_copy(update={"state_dir": str(tmp_path / "other")})
    with working_db(settings, resource(settings)) as con:
        con.execute("create table t as select 1 as v")
    with working_db(other, resource(other)) as con:
        con.execute("create table t as select 2 as v")
        assert con.execute("select current_setting('temp_directory')").fetchone() == (f"{other.working_db}.tmp",)
    assert other_process_reads(settings.working_db) == "[(1,)]"
    assert other_process_reads(other.working_db) == "[(2,)]"


def test_an_unknown_setting_stops_the_step_and_leaves_nothing_attached(settings):
    with pytest.raises(duckdb.Error, match="no_such_setting"):
        with working_db(settings, resource(settings, no_such_setting="x")):
            pass
    duckdb.connect(str(settings.working_db)).close()  # the file is free


def test_after_spilling_the_next_steps_and_another_deployment_still_open(tmp_path, settings):
    # DuckDB refuses to move its spill folder once it was used: a step after a spill must not
    # try to set it again, and a deployment with another folder gets a DuckDB of its own.
    small = resource(settings, memory_limit="32MB", threads=1)
    with working_db(settings, small) as con:
        con.execute("create table t as select range as v from range(3000000) order by hash(range)")
        spilled = Path(f"{settings.working_db}.tmp")
        assert con.execute("select count(*) from duckdb_temporary_files()").fetchone()[0] > 0 or spilled.exists()
    with working_db(settings, small) as con:
        assert con.execute("select count(*) from t").fetchone() == (3000000,)
    other = settings.model_copy(update={"state_dir": str(tmp_path / "other")})
    with working_db(other, resource(other, memory_limit="32MB", threads=1)) as con:
        assert con.execute("select current_setting('temp_directory')").fetchone() == (f"{other.working_db}.tmp",)


def test_a_step_waits_for_a_reader_of_another_process(settings):
    # A run that plans reads the working database read-only, without the lock file; a step of
    # another run starting meanwhile waits for it (as DuckDBResource's connect did), not fails.
    with working_db(settings, resource(settings)) as con:
        con.execute("create table t as select 1 as v")
    code = (
        f"import duckdb, sys, time; c = duckdb.connect({str(settings.working_db)!r}, read_only=True); "
        "print('open', flush=True); sys.stdin.readline(); time.sleep(0.5)"
    )
    reader = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "open"
        reader.stdin.write("go\n")
        reader.stdin.flush()  # the reader closes half a second from now, while the step tries
        with working_db(settings, resource(settings)) as con:
            assert con.execute("select v from t").fetchall() == [(1,)]
    finally:
        reader.wait(timeout=60)
