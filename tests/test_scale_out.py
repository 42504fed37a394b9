"""Parsing on many workers (docs/scale-out.md): raw files parse without the working database's lock,
each load in a pending folder of its own, and a run on Dagster's multiprocess executor publishes
what a run in one process does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from conftest import FIXTURES, PII_KEY, golden_with_events

pytestmark = pytest.mark.slow


def test_the_executor_is_a_setting_in_one_process_by_default():
    from dagster import in_process_executor

    from pipelines.definitions import build_defs, deployment_defs
    from pipelines.settings import Deployment

    default = Deployment.from_environment({})
    assert (default.execution.executor, default.execution.max_concurrent) == ("in_process", os.cpu_count())
    assert deployment_defs(default).resolve_job_def("pipeline").executor_def is in_process_executor
    many = Deployment.from_environment({"TAOBAO_OPS_EXECUTOR": " Multiprocess ", "TAOBAO_OPS_MAX_CONCURRENT": "3"})
    assert many.execution.multiprocess and many.execution.max_concurrent == 3
    executor = deployment_defs(many).resolve_job_def("pipeline").executor_def
    configured = executor.config_schema.resolve_config({}).value["config"]  # what .configured() gave it
    assert (executor.name, configured["max_concurrent"]) == ("multiprocess", 3)
    # the definitions a test builds without a deployment run in one process, as before
    assert build_defs(many.resource(), many.working_database()).resolve_job_def("pipeline").executor_def is in_process_executor
    with pytest.raises(ValueError, match="TAOBAO_OPS_EXECUTOR must be in_process or multiprocess, not 'k8s'"):
        Deployment.from_environment({"TAOBAO_OPS_EXECUTOR": "k8s"})
    with pytest.raises(ValueError, match="max_concurrent"):
        Deployment.from_environment({"TAOBAO_OPS_MAX_CONCURRENT": "0"})


def loaded_names(source: str) -> list[str]:
    return sorted(p.name for p in (FIXTURES / "tiny" / source).iterdir())


@pytest.fixture
def deployment(tmp_path):
    """The tiny fixture's raw files, a working database set up, and what a load needs of them."""
    from dagster_duckdb import DuckDBResource

    from assets.db import working_db
    from assets.resources import PipelineSettings

    shutil.copytree(FIXTURES / "tiny", tmp_path / "raw")
    settings = PipelineSettings(raw_dir=str(tmp_path / "raw"), state_dir=str(tmp_path / "state"), pii_key=PII_KEY)
    database = DuckDBResource(database=str(settings.working_db))
    with working_db(settings, database):
        pass  # its schemas and audit tables
    return settings, database


def settle(settings, database, source: str, unchanged, fresh, step: str):
    """The database part of a load (ingest.settle_source) under the working database's lock."""
    from assets.db import working_db
    from assets.lib.ingest import Timings, settle_source
    from assets.quality import BatchGate

    with working_db(settings, database) as con:
        return settle_source(
            con, BatchGate(source).suite, unchanged, fresh, {}, settings.lake_dir, step, "run-1",
            settings.parse_options(), Timings(),
        )


def pending_names(settings, source: str, step: str) -> list[str]:
    from assets.lib.lake import PENDING

    return sorted(p.name for p in (settings.lake_dir / source / PENDING / step).iterdir())


def test_files_parse_while_another_process_holds_the_working_database(deployment, monkeypatch):
    import assets.db
    from assets.lib.ingest import parse_source
    from assets.lib.lake import PENDING, lake_name, lake_path
    from assets.lib.pending import pending_step

    settings, database = deployment
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from filelock import FileLock; lock = FileLock(sys.argv[1]); lock.acquire(); "
         "print('held', flush=True); sys.stdin.read()", f"{settings.working_db}.lock"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    asked = threading.Event()

    class Watched(assets.db.FileLock):
        def acquire(self, *args, **kwargs):
            asked.set()
            return super().acquire(*args, **kwargs)

    monkeypatch.setattr(assets.db, "FileLock", Watched)
    try:
        assert holder.stdout.readline() == "held\n"
        with pending_step(settings.lake_dir, "orders") as step:
            # the whole parse, every file written pending, with the database locked by another process
            unchanged, fresh = parse_source("orders", settings.raw, settings.lake_dir, settings.parse_options(), {}, step)
            assert not asked.is_set()
            assert (unchanged, [(o.file_name, o.outcome) for o in fresh]) == (
                [], [(name, "loaded") for name in loaded_names("orders")]
            )
            assert pending_names(settings, "orders", step) == sorted(lake_name(n) for n in loaded_names("orders"))
            # the database part waits for the lock: nothing promoted, no audit row
            settled = []
            thread = threading.Thread(target=lambda: settled.append(settle(settings, database, "orders", unchanged, fresh, step)))
            thread.start()
            assert asked.wait(timeout=60)
            assert thread.is_alive() and settled == []
            assert not any(os.path.exists(lake_path(settings.lake_dir, "orders", n)) for n in loaded_names("orders"))
            holder.stdin.close()  # the other process ends: its lock goes with it
            thread.join(timeout=120)
            ((outcomes, _),) = settled
        assert [(o.file_name, o.outcome) for o in outcomes] == [(name, "loaded") for name in loaded_names("orders")]
        assert all(os.path.exists(lake_path(settings.lake_dir, "orders", n)) for n in loaded_names("orders"))
        assert not (Path(settings.lake_dir) / "orders" / PENDING).exists()
        with duckdb.connect(str(settings.working_db), read_only=True) as con:
            assert con.execute("select file_name, outcome from audit.loads order by 1").fetchall() == [
                (name, "loaded") for name in loaded_names("orders")
            ]
    finally:
        holder.kill()
        holder.wait()


def test_two_loads_of_one_new_file_at_once_load_it_once(deployment):
    """Both parse it without the lock; the first to settle loads it, the second finds it loaded
    (same bytes, same parse) and records it unchanged: one audit row, the first load's lake file."""
    from assets.db import working_db
    from assets.lib.ingest import parse_source
    from assets.lib.lake import lake_path
    from assets.lib.pending import pending_step

    settings, database = deployment
    lake, options = settings.lake_dir, settings.parse_options()
    name = loaded_names("orders")[0]
    with pending_step(lake, "orders") as a, pending_step(lake, "orders") as b:
        _, fresh_a = parse_source("orders", settings.raw, lake, options, {}, a, select=lambda n: n == name)
        _, fresh_b = parse_source("orders", settings.raw, lake, options, {}, b, select=lambda n: n == name)
        (first,), _ = settle(settings, database, "orders", [], fresh_a, a)
        written = os.stat(lake_path(lake, "orders", name)).st_ino
        (second,), _ = settle(settings, database, "orders", [], fresh_b, b)
    assert (first.outcome, second.outcome) == ("loaded", "unchanged")
    assert second.rows_in_lake == first.rows_loaded > 0
    assert os.stat(lake_path(lake, "orders", name)).st_ino == written  # the first load's file, not replaced
    with working_db(settings, database) as con:
        loads = con.execute("select outcome, count(*) from audit.loads where file_name = ? group by all order by all", [name]).fetchall()
    assert loads == [("loaded", 1), ("unchanged", 1)]


def test_loads_parsing_at_once_keep_to_their_own_pending_folders(deployment):
    from assets.lib.ingest import parse_source
    from assets.lib.lake import PENDING, lake_name, lake_path
    from assets.lib.pending import pending_step

    settings, database = deployment
    lake, options = settings.lake_dir, settings.parse_options()
    first, rest = loaded_names("orders")[:1], loaded_names("orders")[1:]
    # a load that died (its lock free) left a folder, and a run of the code before load folders a file
    dead = lake / "orders" / PENDING / "host-1-dead"
    dead.mkdir(parents=True)
    (dead / "x.parquet").write_bytes(b"")
    (lake / "orders" / PENDING / "old.parquet").write_bytes(b"")
    with pending_step(lake, "orders") as a:
        assert sorted(p.name for p in (lake / "orders" / PENDING).iterdir()) == [a]  # the dead load's, the old file gone
        _, fresh_a = parse_source("orders", settings.raw, lake, options, {}, a, select=lambda name: name in first)
        # two loads more start, parse and end while `a` is still at work: one of the same source
        # (other batch dates), one of another source
        with pending_step(lake, "orders") as b, pending_step(lake, "traffic") as c:
            assert a != b and pending_names(settings, "orders", a) == [lake_name(n) for n in first]
            _, fresh_b = parse_source("orders", settings.raw, lake, options, {}, b, select=lambda name: name in rest)
            _, fresh_c = parse_source("traffic", settings.raw, lake, options, {}, c)
            assert pending_names(settings, "orders", b) == sorted(lake_name(n) for n in rest)
            assert pending_names(settings, "traffic", c) == [lake_name(n) for n in loaded_names("traffic")]
            settle(settings, database, "orders", [], fresh_b, b)
            settle(settings, database, "traffic", [], fresh_c, c)
        assert not (lake / "orders" / PENDING / b).exists()
        assert pending_names(settings, "orders", a) == [lake_name(n) for n in first]  # untouched
        settle(settings, database, "orders", [], fresh_a, a)
    assert all(os.path.exists(lake_path(lake, "orders", n)) for n in loaded_names("orders"))
    assert os.path.exists(lake_path(lake, "traffic", loaded_names("traffic")[0]))
    assert not (lake / "orders" / PENDING).exists() and not (lake / "traffic" / PENDING).exists()


def run_sample(tmp_path: Path, executor: str) -> subprocess.CompletedProcess:
    raw = tmp_path / "raw"
    if not raw.exists():
        golden_with_events(raw)  # every kind of source in a few files: the two runs cost their steps, not data
    env = {
        **os.environ,
        "TAOBAO_OPS_RAW_DIR": str(raw),
        "TAOBAO_OPS_STATE_DIR": str(tmp_path / executor / "state"),
        "TAOBAO_OPS_WAREHOUSE": str(tmp_path / executor / "warehouse.duckdb"),
        "DAGSTER_HOME": str(tmp_path / executor / "dagster_home"),
        "TAOBAO_OPS_EXECUTOR": executor,
        "TAOBAO_OPS_MAX_CONCURRENT": "4",
    }
    return subprocess.run(
        [sys.executable, "-c", "from pipelines.cli import entry; entry()", "run", "--quiet"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1200,
    )


def published(warehouse: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where schema_name = 'marts' order by all"
        ).fetchall()
        return {f"{s}.{t}": con.execute(f'select * from "{s}"."{t}" order by all').fetchall() for s, t in tables}


def step_processes(dagster_home: Path, monkeypatch) -> dict[str, int]:
    """The process each step of the deployment's one run ran in."""
    from dagster import DagsterEventType, DagsterInstance

    monkeypatch.setenv("DAGSTER_HOME", str(dagster_home))  # its dagster.yaml names its storage by it
    instance = DagsterInstance.from_config(str(dagster_home))
    (run,) = instance.get_runs()
    starts = instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_START)
    return {entry.step_key: entry.dagster_event.pid for entry in starts}


@pytest.mark.slow
def test_the_multiprocess_executor_publishes_what_one_process_does(tmp_path, monkeypatch):
    one, many = run_sample(tmp_path, "in_process"), run_sample(tmp_path, "multiprocess")
    assert one.returncode == 0, one.stdout + one.stderr
    assert many.returncode == 0, many.stdout + many.stderr
    marts = published(tmp_path / "in_process" / "warehouse.duckdb")
    assert len(marts) >= 5 and all(marts.values())
    assert published(tmp_path / "multiprocess" / "warehouse.duckdb") == marts
    # one process for the whole run, against one per step
    assert len(set(step_processes(tmp_path / "in_process" / "dagster_home", monkeypatch).values())) == 1
    raw = {k: pid for k, pid in step_processes(tmp_path / "multiprocess" / "dagster_home", monkeypatch).items() if k.startswith("raw__")}
    assert {"raw__orders", "raw__traffic", "raw__courier", "raw__events"} <= raw.keys()
    assert len(set(raw.values())) == len(raw)


@pytest.mark.parametrize("together", [1, 20_000_000], ids=["one-file-at-a-time", "keyed-together"])
def test_the_users_of_events_files_get_their_keys_in_file_order_however_many_are_keyed_together(
    tmp_path, monkeypatch, together
):
    import hashlib
    import hmac
    from contextlib import contextmanager

    import polars as pl

    from assets.lib import ingest as ingest_module
    from assets.lib.lake import lake_path
    from assets.lib.parse import ParseOptions
    from assets.lib.sql import run_script

    monkeypatch.setattr(ingest_module, "EVENTS_KEYED_TOGETHER", together)
    day = 1511971200  # 2017-11-30 00:00 China time
    raw = tmp_path / "raw" / "events" / "s"
    raw.mkdir(parents=True)
    (raw / "events_2017-11-30.csv").write_text(f"7,1,1,pv,{day}\n5,1,1,buy,{day}\n")
    (raw / "events_2017-12-01.csv").write_text(f"5,1,1,pv,{day + 86400}\n9,1,1,fav,{day + 86400}\n")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for script in ("setup/create_schemas", "setup/create_macros", "setup/create_metrics"):
        run_script(con, script)
    openings = []

    @contextmanager
    def database():
        openings.append(1)
        yield con

    outcomes, _ = ingest_module.ingest(
        database, "events", tmp_path / "raw", tmp_path / "lake", ParseOptions(pii_key=PII_KEY), "run-1",
    )
    assert [o.outcome for o in outcomes] == ["loaded", "loaded"]
    # the versions, the users' keys (once per file, or once), the gate and the audit rows
    assert len(openings) == 1 + (2 if together == 1 else 1) + 1
    pseudonym = {u: hmac.new(PII_KEY.encode(), str(u).encode(), hashlib.sha256).hexdigest() for u in (5, 7, 9)}
    first = sorted([5, 7], key=pseudonym.get)  # the first file's users, in pseudonym order; then 9
    keys = {u: k for k, u in enumerate([*first, 9], start=1)}
    assert sorted(con.execute("select pseudonym, user_key from staging.event_users").fetchall()) == sorted(
        (pseudonym[u], k) for u, k in keys.items()
    )
    rows = pl.concat([
        pl.read_parquet(lake_path(tmp_path / "lake", "events", f"s/events_{d}.csv")) for d in ("2017-11-30", "2017-12-01")
    ])
    assert sorted(rows.select("file_name", "user_key", "pv", "fav", "buy").iter_rows()) == sorted([
        ("s/events_2017-11-30.csv", keys[7], 1, 0, 0), ("s/events_2017-11-30.csv", keys[5], 0, 0, 1),
        ("s/events_2017-12-01.csv", keys[5], 1, 0, 0), ("s/events_2017-12-01.csv", keys[9], 0, 1, 0),
    ])
    con.close()
