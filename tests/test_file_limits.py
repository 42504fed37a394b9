"""What one raw file may hold (assets/lib/limits.py): a file over a limit is quarantined unread,
with the limit it broke, and a run stays within its memory bound whatever the file holds."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest

from assets.lib.files import FileError, RawFile, check_text, gunzip, read_grid
from assets.lib.limits import DEFAULT_LIMITS, ReadLimits
from conftest import FIXTURES, Deployment

HEADER = b"order_id,shop_id,buyer_id,status,created_at,paid_at,total_amount,paid_amount,refund_amount,category"


def gzip_bomb(path: Path, mebibytes: int) -> None:
    """`mebibytes` MiB of zeros in ~1 KB per MiB: one gzip member of 1 MiB, repeated (a file of
    several members is valid gzip, as `cat a.gz b.gz` gives)."""
    member = gzip.compress(b"\0" * (1 << 20), compresslevel=9)
    with path.open("wb") as out:
        for _ in range(mebibytes):
            out.write(member)


# --- gzip, as a stream within the limits


def test_gunzip_gives_what_gzip_gives_for_one_or_several_members_and_zero_padding():
    one = gzip.compress(HEADER + b"\nz1,Z,zb1,paid,2024-08-01,,10,10,0,tea\n")
    assert gunzip(one, "a.csv.gz") == gzip.decompress(one)
    two = one + gzip.compress(b"z2,Z,zb2,paid,2024-08-01,,5,5,0,tea\n")
    assert gunzip(two, "a.csv.gz") == gzip.decompress(two)
    assert gunzip(one + b"\0" * 100, "a.csv.gz") == gzip.decompress(one)
    assert gunzip(gzip.compress(b""), "a.csv.gz") == b""  # a valid gzip of nothing: an empty file


def test_a_zero_byte_gzip_is_not_a_gzip_file():
    with pytest.raises(FileError, match=r"a\.csv\.gz: empty \(0 bytes\): not a gzip file"):
        gunzip(b"", "a.csv.gz")


def test_a_truncated_or_corrupt_gzip_is_refused():
    whole = gzip.compress(HEADER * 1000)
    with pytest.raises(FileError, match="ends inside its compressed data"):
        gunzip(whole[: len(whole) // 2], "a.csv.gz")
    with pytest.raises(FileError, match="not a readable gzip file"):
        gunzip(b"this is not gzip at all", "a.csv.gz")
    with pytest.raises(FileError, match="not a readable gzip file"):
        gunzip(whole + b"trailing garbage", "a.csv.gz")


def test_a_gzip_bomb_stops_at_the_ratio_limit(tmp_path):
    bomb = tmp_path / "bomb.csv.gz"
    gzip_bomb(bomb, 64)
    data = bomb.read_bytes()
    # 64 MiB of zeros in ~65 KB: 1,000:1, over 100:1 once past the 16 MiB below which ratios are not held
    with pytest.raises(FileError, match=r"bomb\.csv\.gz: unpacks to more than 100 times its .* bytes "
                       r"\(a compression bomb\?\), over the limit of 100:1 \(TAOBAO_OPS_MAX_GZIP_RATIO\)"):
        gunzip(data, "bomb.csv.gz")
    # the size limit, when lower, is the one broken
    with pytest.raises(FileError, match=r"unpacks to more than 8\.0 MiB, over the limit of 8 MiB \(TAOBAO_OPS_MAX_FILE_MB\)"):
        gunzip(data, "bomb.csv.gz", ReadLimits(max_file_mb=8))
    # and a raised ratio lets it through
    assert len(gunzip(data, "bomb.csv.gz", ReadLimits(max_gzip_ratio=2_000))) == 64 << 20


def test_a_small_file_of_repeated_lines_is_not_a_bomb():
    text = HEADER + b"\n" + b"z1,Z,zb1,paid,2024-08-01,,10,10,0,tea\n" * 100_000  # 3.8 MB packing ~300:1
    assert gunzip(gzip.compress(text), "repeats.csv.gz") == text


# --- lines and header fields, before a reader makes a column per field


def test_a_line_over_the_limit_is_refused_with_its_number():
    limits = ReadLimits(max_line_kb=1)
    ok = HEADER + b"\n" + b"x" * 1024 + b"\n" + b"y" * 1024
    check_text(ok, "ok.csv", limits)  # lines of exactly the limit pass, the last one too
    long = HEADER + b"\nshort\n" + b"x" * 1025 + b"\nshort\n"
    with pytest.raises(FileError, match=r"long\.csv: line 3 is longer than 1,024 bytes, over the limit of 1 KiB "
                       r"\(TAOBAO_OPS_MAX_LINE_KB\)"):
        check_text(long, "long.csv", limits)
    with pytest.raises(FileError, match="line 1 is longer"):
        check_text(b"x," * 600, "one_line.csv", limits)


def test_many_short_lines_are_refused_by_their_cells():
    """The reader makes a cell per header field of every line, short lines padded: 50 M lines of
    "1" (100 MB) took 8.5 GB. Lines x header columns over max_cells (1 MiB: 131,072) is refused,
    whichever line ending the lines have; a file of as many bytes in long lines is not."""
    limits = ReadLimits(max_file_mb=1)
    assert limits.max_cells == 131_072
    short = HEADER + b"\n" + b"1\n" * 13_107  # 13,108 lines x 10 columns = 131,080 cells
    with pytest.raises(FileError, match=r"short\.csv: 13,108 lines × 10 columns, more than 131,072 cells, "
                       r"over the limit of 1 MiB \(TAOBAO_OPS_MAX_FILE_MB\)"):
        check_text(short, "short.csv", limits)
    check_text(HEADER + b"\n" + b"1\n" * 13_106, "fits.csv", limits)  # 131,070 cells
    for ending in (b"\r\n", b"\r"):
        with pytest.raises(FileError, match="13,108 lines"):
            check_text(HEADER + ending + b"1" + ending * 13_107, "cr.csv", limits)
    check_text(HEADER + b"\n" + (b"x" * 60 + b"\n") * 3_000, "long_lines.csv", limits)  # 183 KB, 30,010 cells


def test_a_file_only_the_careful_reader_takes_is_held_to_three_quarters_of_the_size_limit(tmp_path):
    """The careful reader (a quoted line break, lone CRs) costs ~16 times the text: a 122 MiB file
    took a run to 2.25 GB. It takes at most 3/4 of TAOBAO_OPS_MAX_FILE_MB (768 KiB of 1 MiB here);
    Polars' reader takes the same rows without the line break."""
    limits = ReadLimits(max_file_mb=1)
    row = b"o1,A," + b"b" * 300 + b",paid,2024-08-01,,1,1,0,x\n"  # wide rows: under the cell limit
    for size, refused in ((700_000, False), (800_000, True), (900_000, False)):
        quoted = size != 900_000
        text = HEADER + b"\n" + (b'q,A,"b\nx",paid,2024-08-01,,1,1,0,x\n' if quoted else b"") + row * (size // len(row))
        path = tmp_path / f"f{size}_2024-08-01.csv"
        path.write_bytes(text)
        if refused:
            with pytest.raises(FileError, match=r"only the careful reader takes .* more than 0\.8 MiB for it, over the "
                               r"limit of 1 MiB \(TAOBAO_OPS_MAX_FILE_MB\)"):
                read_grid(RawFile("orders", path, path.name), limits)
        else:
            assert read_grid(RawFile("orders", path, path.name), limits).rows.height == text.count(b"\n") - 1 - quoted


def test_lines_may_end_in_cr_lf_or_cr():
    limits = ReadLimits(max_line_kb=1)
    check_text((b"a" * 1000 + b"\r\n") * 50, "crlf.csv", limits)
    check_text((b"a" * 1000 + b"\r") * 50, "cr.csv", limits)
    # the header ends at its CR: 200 lines of 10 fields were read as a header of 1,810 columns
    rows = b",".join(b"f%d" % i for i in range(10))
    for ending in (b"\r", b"\r\n", b"\n"):
        check_text((rows + ending) * 200, "lines.csv")


def test_a_header_over_the_column_limit_is_refused_and_quoted_commas_are_not_fields():
    limits = ReadLimits(max_columns=3)
    check_text(b"a,b,c\n1,2,3\n", "three.csv", limits)
    check_text(b'\xef\xbb\xbf\r\n\n"a,b,c",d,"e,f"\n1,2,3\n', "quoted.csv", limits)  # BOM and blank lines first
    with pytest.raises(FileError, match=r"wide\.csv: 4 columns in its header, over the limit of 3 columns "
                       r"\(TAOBAO_OPS_MAX_COLUMNS\)"):
        check_text(b"a,b,c,d\n1,2,3,4\n", "wide.csv", limits)
    check_text(HEADER + b"\n", "orders.csv")  # the defaults take a real header


def test_the_defaults_are_documented_in_the_readme():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    for env, value in [
        ("TAOBAO_OPS_MAX_FILE_MB", DEFAULT_LIMITS.max_file_mb), ("TAOBAO_OPS_MAX_COLUMNS", DEFAULT_LIMITS.max_columns),
        ("TAOBAO_OPS_MAX_LINE_KB", DEFAULT_LIMITS.max_line_kb), ("TAOBAO_OPS_MAX_GZIP_RATIO", DEFAULT_LIMITS.max_gzip_ratio),
    ]:
        assert f"| `{env}` | `{value}` |" in readme


# --- every kind of file goes through them


def test_read_grid_applies_the_limits_to_each_kind_of_file(tmp_path):
    limits = ReadLimits(max_file_mb=1, max_columns=5)
    big = tmp_path / "big_2024-08-01.csv"
    big.write_bytes(HEADER + b"\n" + b"z1,Z,zb1,paid,2024-08-01,,10,10,0,tea\n" * 30_000)
    with pytest.raises(FileError, match=r"big_2024-08-01\.csv: 1\.1 MiB on disk, over the limit of 1 MiB"):
        read_grid(RawFile("orders", big, big.name), limits)
    wide = tmp_path / "wide_2024-08-01.csv.gz"
    wide.write_bytes(gzip.compress(HEADER + b"\n"))
    with pytest.raises(FileError, match="10 columns in its header"):
        read_grid(RawFile("orders", wide, wide.name), limits)
    parquet = tmp_path / "wide_2024-08-01.parquet"
    duckdb.sql("select 1 a, 2 b, 3 c, 4 d, 5 e, 6 f").write_parquet(str(parquet))
    with pytest.raises(FileError, match="6 columns, over the limit of 5 columns"):
        read_grid(RawFile("orders", parquet, parquet.name), limits)
    workbook = tmp_path / "bomb_2024-08-01.xlsx"
    with zipfile.ZipFile(workbook, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 << 20))
    with pytest.raises(FileError, match=r"bomb_2024-08-01\.xlsx: unpacks to 20\.0 MiB, over the limit of 1 MiB"):
        read_grid(RawFile("orders", workbook, workbook.name), limits)
    with pytest.raises(FileError, match=r"unpacks to [\d,]+ times its compressed size \(a compression bomb\?\), over the limit of 10:1"):
        read_grid(RawFile("orders", workbook, workbook.name), ReadLimits(max_gzip_ratio=10))


# --- a whole run: hostile files quarantined, good data loaded, memory bounded

MEMORY_BOUND = 2 << 30  # the benchmark's bound for a run (docs/benchmarks.md, target 7)


@pytest.mark.slow
def test_a_run_with_hostile_files_quarantines_them_within_the_memory_bound(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(FIXTURES / "tiny", raw)
    orders = raw / "orders"
    (orders / "one_line_2024-08-02.csv").write_bytes(b"x," * (50 << 20))  # 100 MiB, one line
    gzip_bomb(orders / "bomb_2024-08-03.csv.gz", 1024)  # 1 GiB of zeros in 1 MB
    (orders / "wide_2024-08-04.csv").write_bytes(b",".join(b"c%d" % i for i in range(20_000)) + b"\n1\n")
    (orders / "long_row_2024-08-05.csv").write_bytes(HEADER + b"\n" + b"z9,Z,zb9,paid,2024-08-05,,1,1,0," + b"x" * (5 << 20) + b"\n")
    (orders / "nothing_2024-08-06.csv.gz").write_bytes(b"")
    (orders / "short_lines_2024-08-07.csv").write_bytes(HEADER + b"\n" + b"1\n" * (20 << 20))  # 40 MB: ~3.4 GB as a grid
    env = {
        **os.environ,
        "TAOBAO_OPS_RAW_DIR": str(raw),
        "TAOBAO_OPS_STATE_DIR": str(tmp_path / "state"),
        "TAOBAO_OPS_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
    }
    # the run as the child of a small parent that reports its children's peak: this run's alone
    measure = (
        "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
        "print('PEAK_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(done.returncode)"
    )
    done = subprocess.run(
        [sys.executable, "-c", measure, sys.executable, "-c", "from pipelines.cli import entry; entry()", "run", "--quiet"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 1, done.stdout + done.stderr  # quarantined files: the run says so
    peak = int(done.stdout.rsplit("PEAK_KIB", 1)[1].split()[0]) * 1024  # ru_maxrss is in KiB on Linux
    assert peak < MEMORY_BOUND, f"peak RSS {peak / 2**30:.2f} GiB"
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        errors = dict(con.execute("select file_name, error from audit.loads where outcome = 'failed'").fetchall())
        loaded = con.execute("select count(*) from audit.loads where source = 'orders' and outcome = 'loaded'").fetchone()[0]
        kpis = con.execute("select * from marts.quarterly_shop_kpis order by all").fetchall()
    # the same marts as the good files alone give
    alone = Deployment(tmp_path / "alone")
    shutil.copytree(FIXTURES / "tiny", alone.raw)
    assert alone.run().success
    assert "line 1 is longer than 1,048,576 bytes" in errors["one_line_2024-08-02.csv"]
    assert "(a compression bomb?)" in errors["bomb_2024-08-03.csv.gz"]
    assert "20,000 columns in its header" in errors["wide_2024-08-04.csv"]
    assert "line 2 is longer than" in errors["long_row_2024-08-05.csv"]
    assert "empty (0 bytes): not a gzip file" in errors["nothing_2024-08-06.csv.gz"]
    assert "20,971,521 lines × 10 columns, more than 16,777,216 cells" in errors["short_lines_2024-08-07.csv"]
    assert loaded == sum(1 for p in (FIXTURES / "tiny" / "orders").iterdir() if p.is_file())
    assert kpis == alone.query("select * from marts.quarterly_shop_kpis order by all")


# --- found in review: ways a small file got past the limits


def test_a_sparse_workbook_is_measured_by_the_cells_its_sheets_name(tmp_path):
    """The reader makes a dense grid out to the furthest cell: a 5 KB workbook naming XFD1048576
    would take ~10^12 bytes."""
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "统计日期"
    book.active["XFD1048576"] = "x"
    path = tmp_path / "sparse_2024-08-01.xlsx"
    book.save(path)
    with pytest.raises(FileError, match=r"16,384 columns in xl/worksheets/sheet1\.xml, over the limit of 1,000 columns"):
        read_grid(RawFile("traffic", path, path.name))
    book.active["XFD1048576"] = None
    book.active["ALL400000"] = "x"  # column 1,000, row 400,000: 400 M cells
    book.save(path)
    with pytest.raises(FileError, match=r"spans 400,000 rows × 1,000 columns, more than 8,388,608 cells"):
        read_grid(RawFile("traffic", path, path.name))
    # 33 M cells were let through (8 bytes a cell of text, as for a CSV): the grid took 1.73 GB
    book.active["ALL400000"] = None
    book.active["AG1000000"] = "x"
    book.save(path)
    with pytest.raises(FileError, match=r"spans 1,000,000 rows × 33 columns, more than 8,388,608 cells"):
        read_grid(RawFile("traffic", path, path.name))


def test_a_parquet_file_is_measured_by_its_rows_and_columns_before_it_is_decoded(tmp_path):
    path = tmp_path / "many_2024-08-01.parquet"
    duckdb.sql("select 1 as a, 1 as b from range(600000)").write_parquet(str(path))  # ~ a KB on disk
    with pytest.raises(FileError, match=r"600,000 rows × 2 columns, more than 131,072 cells"):
        read_grid(RawFile("orders", path, path.name), ReadLimits(max_file_mb=1))


def test_lines_ending_in_a_lone_cr_are_split_not_read_as_one_line(tmp_path):
    path = tmp_path / "cr_2024-08-01.csv"
    path.write_bytes(b"order_id,shop_id,buyer_id\r1,A,b1\r2,A,b2\r")
    grid = read_grid(RawFile("orders", path, path.name))
    assert grid.header == ["order_id", "shop_id", "buyer_id"]
    assert grid.rows.select("c0", "c2", "line").rows() == [("1", "b1", 2), ("2", "b2", 3)]


def test_a_quoted_line_break_in_the_header_does_not_hide_its_columns():
    with pytest.raises(FileError, match="4 columns in its header"):
        check_text(b'"a\nb",c,d,e\n1,2,3,4\n', "q.csv", ReadLimits(max_columns=2))


def test_many_empty_gzip_members_cost_time_in_proportion():
    assert gunzip(gzip.compress(b"") * 50_000, "m.csv.gz") == b""
    with pytest.raises(FileError, match="more than 100,000 gzip members"):
        gunzip(gzip.compress(b"") * 100_001, "m.csv.gz")
