"""The batch suites as SQL in DuckDB: new files judged before they count, bad files held back alone."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from assets.lib import expectations
from assets.lib import batch_gate
from assets.lib import ingest as ingest_module
from assets.lib.batch_gate import _culprits, validate_pending
from assets.lib.ingest import ingest_source
from assets.lib.limits import DEFAULT_LIMITS
from assets.lib.lake import PENDING, batch_files, lake_path, pending_path, write_pending
from assets.lib.parse import ParseOptions
from assets.lib.sql import run_sql
from assets.lib.expectations import SuiteResult
from conftest import orders_batch

PROJECT = Path(__file__).resolve().parents[1]
HEADER = "order_id,shop_id,buyer_id,status,created_at,paid_at,total_amount,paid_amount\n"
OPTIONS = ParseOptions(pii_key="test-key", default_shop="default")


def order(order_id: str, amount: int, day: str = "2024-07-20") -> str:
    return f"{order_id},A,b{order_id},paid,{day} 09:00,{day} 09:01,{amount},{amount}\n"


@pytest.fixture
def folders(tmp_path):
    raw, lake = tmp_path / "raw", tmp_path / "lake"
    (raw / "orders").mkdir(parents=True)
    con = duckdb.connect(str(tmp_path / "pipeline.duckdb"))
    from assets.lib.sql import run_script

    for script in ("setup/create_schemas", "setup/create_macros", "setup/create_metrics"):
        run_script(con, script)
    yield raw, lake, con
    con.close()


def ingest(con, raw, lake):
    return ingest_source(con, "orders", raw, lake, OPTIONS, "run-1", suite="orders_batch")


def strict(gx):
    return [gx.expectations.ExpectColumnValuesToBeBetween(column="paid_amount", max_value=500)]


@pytest.mark.parametrize("copy_rows", [batch_gate.COPY_BATCH_ROWS, 0], ids=["copied", "through-a-view"])
def test_a_bad_file_is_held_back_alone_and_never_reaches_the_lake(folders, monkeypatch, copy_rows):
    raw, lake, con = folders
    monkeypatch.setitem(expectations.SUITES, "orders_batch", strict)
    monkeypatch.setattr(batch_gate, "COPY_BATCH_ROWS", copy_rows)
    copies = []
    create = batch_gate.create_parquet_view

    def spy(con, view, files, *, copy=False):
        if view == "scratch.batch_rows":
            copies.append(copy)
        return create(con, view, files, copy=copy)

    monkeypatch.setattr(batch_gate, "create_parquet_view", spy)
    for day, amount in (("2024-07-20", 10), ("2024-07-21", 1000), ("2024-07-22", 20), ("2024-07-23", 30)):
        (raw / "orders" / f"orders_{day}.csv").write_text(HEADER + order(f"o{day[-2:]}", amount, day) + order(f"p{day[-2:]}", 5, day))
    outcomes, results = ingest(con, raw, lake)
    by_name = {o.file_name: o for o in outcomes}
    assert {n: o.outcome for n, o in by_name.items()} == {
        "orders_2024-07-20.csv": "loaded", "orders_2024-07-21.csv": "failed",
        "orders_2024-07-22.csv": "loaded", "orders_2024-07-23.csv": "loaded",
    }
    assert by_name["orders_2024-07-21.csv"].error == (
        "orders_2024-07-21.csv: held back: its rows failed the orders_batch suite "
        "(expect_column_values_to_be_between on paid_amount)"
    )
    assert by_name["orders_2024-07-21.csv"].rows_loaded == 0
    # one report of the whole batch: 8 rows judged, 1 above 500
    (whole,) = results
    assert (whole.rows, whole.success) == (8, False)
    (failure,) = whole.failed
    assert (failure["unexpected_count"], failure["sample"]) == (1, ["1000.00"])
    assert batch_files(lake, "orders") == sorted(
        str(lake_path(lake, "orders", f"orders_2024-07-{d}.csv")) for d in ("20", "22", "23")
    )
    assert not (lake / "orders" / PENDING).exists()
    # nothing is left in the attached scratch database: no copy, no view
    assert con.execute("select table_name from duckdb_tables() where database_name = 'scratch'").fetchall() == []
    assert con.execute(
        "select view_name from duckdb_views() where database_name = 'scratch' and not internal"
    ).fetchall() == []
    assert copies == [copy_rows > 0]  # the batch of 8 rows: copied unless the limit is 0


def test_files_that_break_a_rule_only_together_are_all_held_back(folders, monkeypatch):
    raw, lake, con = folders

    def one_row_per_order(gx):
        return [gx.expectations.ExpectCompoundColumnsToBeUnique(column_list=["shop_id", "order_id"])]

    monkeypatch.setitem(expectations.SUITES, "orders_batch", one_row_per_order)
    (raw / "orders" / "orders_2024-07-20.csv").write_text(HEADER + order("o1", 10, "2024-07-20"))
    (raw / "orders" / "orders_2024-07-21.csv").write_text(HEADER + order("o1", 10, "2024-07-21"))
    outcomes, _ = ingest(con, raw, lake)
    assert [o.outcome for o in outcomes] == ["failed", "failed"]
    assert outcomes[0].error == (
        "orders_2024-07-20.csv: held back: its rows and those of 1 other new file(s) together failed the "
        "orders_batch suite (expect_compound_columns_to_be_unique on ['shop_id', 'order_id'])"
    )
    assert batch_files(lake, "orders") == []


def test_the_halving_search_judges_about_two_parts_per_level():
    # 8 files, "c" bad, depth first: [a-d] fails, so its halves: [a b] passes, [c d] fails, so
    # [c] fails (a culprit) and [d] passes; then [e-h] passes. 6 runs, not 8.
    calls = []

    def judge(names):
        calls.append(names)
        return SuiteResult("s", "c" not in names, 1, [] if "c" not in names else [{"expectation": "x", "column": "y"}])

    failed = SuiteResult("s", False, 1, [{"expectation": "x", "column": "y"}])
    culprits = _culprits(list("abcdefgh"), failed, judge)
    assert culprits == {"c": "held back: its rows failed the s suite (x on y)"}
    assert calls == [list("abcd"), ["a", "b"], ["c", "d"], ["c"], ["d"], list("efgh")]


def test_a_file_of_the_wrong_types_is_held_back_by_its_own_schema(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    good, bad = orders_batch(file_name="good.csv"), orders_batch(file_name="bad.csv")
    write_pending(tmp_path, "orders", "good.csv", good)
    write_pending(tmp_path, "orders", "bad.csv", bad.with_columns(pl.col("line").cast(pl.String)))
    from assets.lib.ingest import FileOutcome

    parsed = [FileOutcome("orders", n, None, None, "loaded", rows_loaded=1) for n in ("bad.csv", "good.csv")]
    held_back, results = validate_pending(con, "orders_batch", parsed, tmp_path)
    assert held_back == {
        "bad.csv": "held back: its rows failed the orders_batch suite (columns_and_types: ['line: String (want Int64)'])"
    }
    assert [(r.success, r.rows) for r in results] == [(False, 0), (True, 1)]  # the good file judged alone
    assert os.path.exists(pending_path(tmp_path, "orders", "good.csv"))  # the caller renames it into the lake
    con.close()


def test_pending_files_left_by_a_crashed_run_are_removed_and_never_read(folders):
    raw, lake, con = folders
    stale = write_pending(lake, "orders", "orders_2024-07-19.csv", orders_batch())
    (raw / "orders" / "orders_2024-07-20.csv").write_text(HEADER + order("o1", 10))
    outcomes, _ = ingest(con, raw, lake)
    assert [o.outcome for o in outcomes] == ["loaded"]
    assert not os.path.exists(stale)
    assert batch_files(lake, "orders") == [str(lake_path(lake, "orders", "orders_2024-07-20.csv"))]


def test_gx_cursors_are_closed_with_the_session(tmp_path):
    # An open cursor keeps the database open inside this process: connecting again with another
    # configuration would be refused ("different configuration") until every handle is closed.
    from assets.lib.gx_sql import GxSession

    path = str(tmp_path / "w.duckdb")
    con = duckdb.connect(path)
    run_sql(con, "checks/create_scratch_schema")
    con.execute("create table scratch.rows as select 1 as uv_share_sum")
    with GxSession(con) as session:
        assert session.run("channel_shares", "scratch.rows").success
    con.close()
    duckdb.connect(path, read_only=True).close()


def test_a_run_with_no_new_rows_does_not_import_great_expectations(tmp_path):
    # A header-only file is new but has no rows: nothing to judge, so GX (seconds) is not imported.
    (tmp_path / "raw" / "orders").mkdir(parents=True)
    (tmp_path / "raw" / "orders" / "orders_2024-07-20.csv").write_text(HEADER)
    code = (
        "import sys, duckdb; from pathlib import Path\n"
        "from assets.lib.ingest import ingest_source\n"
        "from assets.lib.parse import ParseOptions\n"
        "from assets.lib.sql import run_script\n"
        f"root = Path({str(tmp_path)!r}); con = duckdb.connect(str(root / 'w.duckdb'))\n"
        "for s in ('setup/create_schemas', 'setup/create_macros', 'setup/create_metrics'): run_script(con, s)\n"
        "outcomes, results = ingest_source(con, 'orders', root / 'raw', root / 'lake', ParseOptions(pii_key='k', default_shop='d'),"
        " 'r', suite='orders_batch')\n"
        "print([o.outcome for o in outcomes], results, 'great_expectations' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "['loaded'] [] False", done.stderr


def test_gx_never_fetches_the_rows_it_validates(tmp_path, monkeypatch):
    # Results are buffered whole (the rollback fix), so a query GX runs only for its column names
    # would hold every row in Python: with a query asset GX ran `select * from` the relation
    # (5 GB at 2.8 M orders). Every result GX fetches must stay small.
    import duckdb_engine

    from assets.lib.gx_sql import GxSession, install

    install()
    context = duckdb_engine.Dialect.execution_ctx_cls
    buffered = []
    real = context.post_exec

    def counting(self):
        real(self)
        buffered.append(len(getattr(self.cursor_fetch_strategy, "_rowbuffer", None) or ()))

    monkeypatch.setattr(context, "post_exec", counting)
    con = duckdb.connect()
    run_sql(con, "checks/create_scratch_schema")
    con.execute("create table scratch.rows as select range as uv_share_sum from range(50000)")
    with GxSession(con) as session:
        result = session.run("channel_shares", "scratch.rows")
    assert (result.success, result.rows, result.failed[0]["unexpected_count"]) == (False, 50000, 49999)
    assert buffered and max(buffered) <= 20  # a row count, a sample of 20 unexpected values
    con.close()


def test_gx_runs_without_executing_the_modules_it_defers_and_they_work_when_used():
    # altair and scipy.stats serve expectations the suites never use; they load on first use. GX
    # leaves pyspark alone (the `spark` extra, which make test installs): the Spark engine imports it
    code = (
        "import sys, polars as pl\n"
        "from assets.lib.expectations import validate\n"
        "assert validate('channel_shares', pl.DataFrame({'uv_share_sum': [1.0]})).success\n"
        "print('altair.vegalite' in sys.modules, 'scipy.stats._stats_py' in sys.modules, 'pyspark' in sys.modules)\n"
        "from scipy import stats\n"
        "import altair\n"
        "print(stats.norm.cdf(0), altair.Chart.__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "False", "0.5", "Chart"]


def test_a_small_batch_is_judged_from_a_copy_and_a_large_one_where_its_files_lie(tmp_path):
    from assets.lib.sql import create_parquet_view

    con = duckdb.connect()
    con.execute("attach ':memory:' as scratch")
    files = []
    for n in (1, 2):
        files.append(str(tmp_path / f"part{n}.parquet"))
        pl.DataFrame({"order_id": [f"o{n}"], "amount": [n * 10]}).write_parquet(files[-1])
    create_parquet_view(con, "scratch.copied", files, copy=True)
    create_parquet_view(con, "scratch.in_place", files)
    for path in files:
        Path(path).unlink()
    # the copy was read once, when it was made; the view reads the files on every query
    assert con.execute("select order_id, amount from scratch.copied order by 1").fetchall() == [("o1", 10), ("o2", 20)]
    with pytest.raises(duckdb.IOException):
        con.execute("select count(*) from scratch.in_place").fetchall()


def test_files_are_read_ahead_a_bounded_number_of_bytes_at_a_time(tmp_path, monkeypatch):
    """The read-ahead window holds at most READ_WINDOW files and about READ_WINDOW_BYTES of text
    (a .gz counted at GZIP_RATIO times its size), and always at least one file, however large."""
    from collections import deque

    from assets.lib.files import RawFile
    from assets.lib.ingest import _window

    monkeypatch.setattr(ingest_module, "READ_WINDOW", 3)
    monkeypatch.setattr(ingest_module, "READ_WINDOW_BYTES", 100)
    monkeypatch.setattr(ingest_module, "GZIP_RATIO", 5)
    sizes = {"a.csv": 40, "b.csv": 40, "c.csv": 40, "d.csv.gz": 10, "e.csv": 250, "f.csv": 1, "g.csv": 1,
             "h.csv": 1, "i.csv": 1}
    todo = []
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
        todo.append((RawFile("orders", tmp_path / name, name), "digest"))
    queue = deque(todo)
    assert _window(queue, take=False) == _window(queue, take=False) == (todo[:2], 80)  # a look takes nothing
    taken = []
    while queue:
        taken.append(_window(queue, take=True))
    windows = [[raw.name for raw, _ in window] for window, _ in taken]
    assert [size for _, size in taken] == [80, 90, 250, 3, 1]
    assert windows == [
        ["a.csv", "b.csv"],  # 80 bytes; c would make 120
        ["c.csv", "d.csv.gz"],  # 40 + 50: the .gz counts 5 x 10
        ["e.csv"],  # alone: larger than the window, read on its own
        ["f.csv", "g.csv", "h.csv"],  # 3 bytes, but READ_WINDOW files
        ["i.csv"],
    ]


def _windows_of_two(tmp_path, monkeypatch, ahead_bytes: int):
    """Four one-row files of 20 bytes in windows of two (40 bytes), a chunk per file."""
    from assets.lib.files import RawFile

    monkeypatch.setattr(ingest_module, "READ_WINDOW", 2)
    monkeypatch.setattr(ingest_module, "READ_AHEAD_BYTES", ahead_bytes)
    monkeypatch.setattr(ingest_module, "CHUNK_ROWS", 1)
    monkeypatch.setitem(ingest_module.DATED, "orders", False)
    todo = []
    for name in ("a.csv", "b.csv", "c.csv", "d.csv"):
        (tmp_path / name).write_text("order_id\n" + "x" * 10 + "\n")  # no batch date: read, not parsed
        todo.append((RawFile("orders", tmp_path / name, name), "digest"))
    return todo


def test_the_next_window_is_not_read_while_one_parses_when_both_would_exceed_the_bound(tmp_path, monkeypatch):
    """Reading ahead never holds more than READ_AHEAD_BYTES of text: with a bound below two
    windows, no file of the next window is read before the last chunk of this one was taken."""
    from assets.lib.ingest import Timings, _chunks

    todo = _windows_of_two(tmp_path, monkeypatch, ahead_bytes=79)
    events = []
    real_read = ingest_module._read
    monkeypatch.setattr(ingest_module, "_read", lambda raw, *rest: events.append(f"read {raw.name}") or real_read(raw, *rest))
    for ready in _chunks(todo, 2, Timings(), DEFAULT_LIMITS):
        events.append("parse " + ",".join(r.raw.name for r in ready))
    reads_of_window = [sorted(events[0:2]), sorted(events[3:5])]
    assert reads_of_window == [["read a.csv", "read b.csv"], ["read c.csv", "read d.csv"]]
    assert events[2] == "parse a.csv" and events[5:] == ["parse b.csv", "parse c.csv", "parse d.csv"]


def test_the_next_window_is_read_while_one_parses_within_the_bound(tmp_path, monkeypatch):
    """With room for two windows, the next window's files are read while the first chunk is still
    being parsed (the parse here waits until they are), and every chunk comes out, in order."""
    import threading

    from assets.lib.ingest import Timings, _chunks

    todo = _windows_of_two(tmp_path, monkeypatch, ahead_bytes=80)
    started = {name: threading.Event() for name in ("c.csv", "d.csv")}
    real_read = ingest_module._read

    def read(raw, *rest):
        if raw.name in started:
            started[raw.name].set()
        return real_read(raw, *rest)

    monkeypatch.setattr(ingest_module, "_read", read)
    chunks = []
    for ready in _chunks(todo, 2, Timings(), DEFAULT_LIMITS):
        if not chunks:  # parsing the first chunk: the next window is being read meanwhile
            assert all(event.wait(timeout=60) for event in started.values())
        chunks.append([r.raw.name for r in ready])
    assert chunks == [["a.csv"], ["b.csv"], ["c.csv"], ["d.csv"]]


def test_files_wait_for_a_later_window_while_those_read_hold_the_bound(tmp_path, monkeypatch):
    """What reads really hold is counted, not only their estimates (a .gz may unpack to 50 times its
    size within the limits): with room for less than one file's grid, each file is parsed before
    the next is read, though the windows would hold two and read the next ahead, and every file
    still comes out once, in order."""
    from assets.lib.ingest import Timings, _chunks

    todo = _windows_of_two(tmp_path, monkeypatch, ahead_bytes=80)
    monkeypatch.setattr(ingest_module, "READ_HELD_BYTES", 1)
    events = []
    real_read = ingest_module._read
    monkeypatch.setattr(ingest_module, "_read", lambda raw, *rest: events.append(f"read {raw.name}") or real_read(raw, *rest))
    for ready in _chunks(todo, 1, Timings(), DEFAULT_LIMITS):
        events.append("parse " + ",".join(r.raw.name for r in ready))
    assert events == [f"{step} {name}.csv" for name in "abcd" for step in ("read", "parse")]


def test_a_gz_that_unpacks_beyond_its_trailer_is_stopped_and_read_later_alone(tmp_path, monkeypatch):
    """A .gz of several members states only its last one's size (here 1 byte): its read stops once
    it passes the estimate, gives its room back, and the file is read again on its own."""
    import gzip

    from assets.lib.files import RawFile
    from assets.lib.ingest import READ_HELD_BYTES, Timings, _chunks, _Held, _read_held

    monkeypatch.setitem(ingest_module.DATED, "orders", False)
    monkeypatch.setattr(ingest_module, "GZIP_RATIO", 1)
    body = b"order_id\n" + b"".join(b"%d\n" % i for i in range(50_000))
    path = tmp_path / "lie.csv.gz"
    path.write_bytes(gzip.compress(body) + gzip.compress(b"\n"))  # the trailer states 1 byte
    raw = RawFile("orders", path, path.name)
    held = _Held(READ_HELD_BYTES)
    assert _read_held(raw, "digest", DEFAULT_LIMITS, held) is None
    assert held.alone == {path} and held.bytes == 0
    read = _read_held(raw, "digest", DEFAULT_LIMITS, held)  # alone: nothing expected of it
    assert read.grid.rows.height == 50_000 and held.bytes == read.held
    honest = tmp_path / "honest.csv.gz"
    honest.write_bytes(gzip.compress(body))
    todo = [(raw, "digest"), (RawFile("orders", honest, honest.name), "digest")]
    chunks = [[r.raw.name for r in ready] for ready in _chunks(todo, 2, Timings(), DEFAULT_LIMITS)]
    assert sorted(name for chunk in chunks for name in chunk) == ["honest.csv.gz", "lie.csv.gz"]


def test_a_read_is_held_until_its_chunk_is_parsed():
    from assets.lib.ingest import _Held

    held = _Held(100)
    assert held.take(500)  # nothing held: any one file may be read
    assert not held.take(1)
    held.give(500)
    assert held.take(60) and held.take(40) and not held.take(1)
    held.give(100)
    assert held.bytes == 0


@pytest.mark.parametrize(
    ("rows", "files", "copied"),
    [
        (17_260, 552, True),  # many small exports (the sample's backfill): a copy, each file opened once
        (288_492, 20, False),  # one large day: a view, no copy to write
        (999, 1, True),
        (1_000, 1, False),
        (batch_gate.COPY_BATCH_ROWS + 1, 10_000_000, False),  # beyond the copy's bound: always a view
    ],
)
def test_a_batch_is_copied_to_be_judged_only_when_its_files_are_small(rows, files, copied):
    assert batch_gate.copy_to_judge(rows, files) is copied
