"""The analysts' file in a storage format the clients people have can read (assets/lib/storage.py):
DuckDB 1.x clients (the registry's duckdb-cli 1.5.6 here) open it, with its comments and macros, even
while a run publishes; a working database in another format is converted once."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import pytest

from assets.lib import storage
from conftest import Deployment, FIXTURES

PROJECT = Path(__file__).resolve().parents[1]
SHELL = Path(sys.executable).with_name("duckdb")  # duckdb-cli, a test dependency (pyproject's dev extra)


def shell_or_skip() -> Path:
    if not SHELL.exists():
        pytest.skip(f"the DuckDB shell is not installed at {SHELL}: `make test` installs it (duckdb-cli, the dev extra)")
    return SHELL


def shell(warehouse: Path, sql: str) -> subprocess.CompletedProcess:
    """The DuckDB shell of the 1.x line on the published file, read-only, as an analyst runs it."""
    return subprocess.run([str(shell_or_skip()), "-readonly", "-csv", str(warehouse), sql],
                          capture_output=True, text=True, timeout=60)


def storage_of(path: Path) -> str:
    with duckdb.connect(str(path), read_only=True) as con:
        return storage.file_version(con, path.stem)


def readme_query() -> str:
    """The README's DuckDB-shell query, as a reader would copy it."""
    text = (PROJECT / "README.md").read_text(encoding="utf-8")
    (sql,) = re.findall(r'duckdb -readonly data/warehouse\.duckdb "([^"]+)"', text)
    return sql


@pytest.fixture
def published(tiny_published) -> Deployment:
    """The tiny fixture, run and published once for the session (conftest)."""
    return tiny_published


def test_the_published_file_is_in_the_format_duckdb_1_5_reads(published):
    assert storage_of(published.warehouse) == "v1.5.0+"
    assert storage_of(published.state / "pipeline.duckdb") == "v1.5.0+"


def test_the_registrys_duckdb_shell_reads_rows_comments_and_macros(published):
    version = subprocess.run([str(shell_or_skip()), "--version"], capture_output=True, text=True).stdout
    assert version.startswith("v1."), version  # a client of the 1.x line, which refuses 2.0's own format
    rows = shell(published.warehouse, "select quarter, shop_id, gmv from marts.quarterly_shop_kpis order by all")
    assert rows.returncode == 0, rows.stderr
    expected = published.query("select quarter, shop_id, gmv from marts.quarterly_shop_kpis order by all")
    assert rows.stdout.splitlines()[1:] == [f"{q},{s},{g}" for q, s, g in expected]
    comment = shell(published.warehouse, "select comment from duckdb_columns() where table_name = 'quarterly_shop_kpis' "
                    "and column_name = 'gmv'")
    assert comment.stdout.splitlines()[1].startswith("\"支付金额 — ")  # quoted: it has a comma
    macro = shell(published.warehouse, "select rate_roi(10, 4) as roi")  # the analysts' file carries the metric macros
    assert macro.stdout.splitlines() == ["roi", "2.5"]


def test_latest_is_duckdb_2s_own_format_which_the_1_x_shell_refuses(tmp_path):
    deployment = Deployment(tmp_path)
    shutil.copytree(FIXTURES / "tiny", deployment.raw)
    assert deployment.run(warehouse_storage_version="latest").success
    assert storage_of(deployment.warehouse) == storage.latest_version() != "v1.5.0+"
    refused = shell(deployment.warehouse, "select 1")
    assert refused.returncode != 0 and "version number" in refused.stderr


def test_a_working_database_in_another_format_is_converted_once_and_published(tmp_path):
    deployment = Deployment(tmp_path)
    shutil.copytree(FIXTURES / "tiny", deployment.raw)
    assert deployment.run(warehouse_storage_version="latest").success
    before = deployment.query("select * from marts.quarterly_shop_kpis order by all")
    # nothing new, but the setting changed: the run converts the working database and publishes
    result = deployment.run()
    assert result is not None and result.success
    assert storage_of(deployment.state / "pipeline.duckdb") == storage_of(deployment.warehouse) == "v1.5.0+"
    assert deployment.query("select * from marts.quarterly_shop_kpis order by all") == before
    assert deployment.query(
        "select comment from duckdb_columns() where table_name = 'quarterly_shop_kpis' and column_name = 'gmv'"
    )[0][0].startswith("支付金额 — ")
    assert deployment.query("select rate_roi(10, 4)") == [(2.5,)]
    assert not (deployment.state / "pipeline.duckdb.converting").exists()
    assert deployment.run() is None  # converted once: nothing to do after


def test_the_readme_query_works_in_the_shell_while_a_run_publishes(published, tmp_path):
    """The README's query, in the 1.x shell, run again and again while a run replaces the file: every
    answer is whole (the old file's or the new one's), none an error."""
    sql = readme_query()
    deployment = Deployment(tmp_path)
    shutil.copytree(published.root, tmp_path, dirs_exist_ok=True)
    first = deployment.warehouse.stat().st_ino
    answers: list[subprocess.CompletedProcess] = []
    done = threading.Event()

    def analyst():
        while not done.is_set():
            answers.append(shell(deployment.warehouse, sql))

    reader = threading.Thread(target=analyst)
    reader.start()
    try:
        # a corrected export of a day already loaded: the run rebuilds and publishes again
        corrected = deployment.raw / "orders" / "orders_2024-07-15.csv"
        corrected.write_text(corrected.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        result = deployment.run()
    finally:
        done.set()
        reader.join()
    answers.append(shell(deployment.warehouse, sql))
    assert result is not None and result.success
    assert deployment.warehouse.stat().st_ino != first  # the file was replaced while the shell read it
    assert len(answers) >= 2
    failed = [a.stderr for a in answers if a.returncode != 0]
    assert not failed, failed[:3]
    expected = len(deployment.query(f"select * from ({sql})"))
    assert all(len(a.stdout.splitlines()) == expected + 1 for a in answers)


def test_a_version_is_compared_by_its_format_and_an_unknown_one_refused(tmp_path):
    """v1.5.6 writes the format of v1.5.0 (DuckDB tags the file 'v1.5.0+'): a file in it is not
    converted again at every step, as it was when the setting's text was compared with the tag."""
    with duckdb.connect() as con:
        con.execute(f"attach '{tmp_path / 'w.duckdb'}' as w (storage_version 'v1.5.0')")
        assert storage.is_in(con, "w", "v1.5.6") and storage.is_in(con, "w", "v1.5.0")
        assert not storage.is_in(con, "w", "latest")
    from pipelines.settings import Deployment as Settings

    with pytest.raises(ValueError, match="TAOBAO_OPS_WAREHOUSE_STORAGE_VERSION: DuckDB .* cannot write storage version v9.9.9"):
        Settings.from_environment({"TAOBAO_OPS_WAREHOUSE_STORAGE_VERSION": "v9.9.9"}, state_dir=tmp_path)


def test_a_failed_conversion_leaves_the_file_as_it_was_and_free(tmp_path, monkeypatch):
    """A conversion that fails (a full disk) leaves the old file in use by no one: the next step of
    the same process attaches it again (it used to stay attached to the process's DuckDB)."""
    from dagster_duckdb import DuckDBResource

    from assets import db

    path = tmp_path / "pipeline.duckdb"
    with duckdb.connect(str(path)) as con:  # DuckDB 2.0's own format
        con.execute("create table t as select 1 as x")
    database = DuckDBResource(database=str(path))

    def full_disk(con, path, version, log):
        con.execute(f"attach '{path}.converting' as {storage.CONVERTING}")
        raise duckdb.IOException("No space left on device")

    monkeypatch.setattr(storage, "convert", full_disk)
    with pytest.raises(duckdb.IOException):
        db._attach(database, "v1.5.0")
    monkeypatch.undo()
    con = db._attach(database, "latest")  # attaches again: nothing held it
    try:
        assert con.execute("select * from t").fetchall() == [(1,)]
    finally:
        db._detach(con, path.stem)
