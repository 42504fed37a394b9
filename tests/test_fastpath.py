"""Strict reads (fastpath.py) give exactly what the contract parser gives: rows, rejects, reasons."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from assets.lib import fastpath
from assets.lib.files import FileError, RawFile, batch_date, csv_grid, discover, read_grid
from assets.lib.limits import DEFAULT_LIMITS, ReadLimits
from assets.lib.parse import AGGREGATED, ParseOptions, _typed, map_header, parse_batches, parse_grid
from assets.lib.schema import DATED, SOURCES, Column, Kind
from assets.lib.text import clean_text
from conftest import FIXTURES, generate_bad_input

OPTIONS = ParseOptions(pii_key="k")
REPO = Path(__file__).parent.parent
# Every raw folder the project ships: the fixtures, each bad-input case, and the sample.
RAW_DIRS = sorted(
    {p.parent for p in FIXTURES.rglob("*") if p.is_dir() and p.name in ("orders", "traffic", "courier", "reference")}
    | {REPO / "data" / "raw"}
)


def both_ways(grid, source: str, name: str, batch) -> tuple:
    """The file parsed with strict reads and by the contract parser alone (or the same error)."""
    results = []
    for fast in (True, False):
        try:
            results.append(parse_grid(grid, source, name, batch, OPTIONS, fast_path=fast))
        except FileError as exc:
            results.append(str(exc))
    return tuple(results)


def assert_same(fast, full) -> None:
    if isinstance(full, str):
        assert fast == full
        return
    assert_frame_equal(fast.rows, full.rows)  # values and dtypes, in order
    assert_frame_equal(fast.rejects, full.rejects)  # lines, reasons, raw lines
    assert fast.rows_read == full.rows_read and fast.notes == full.notes


def shipped_files():
    """Every shipped file the grid parser reads: not the event logs, which DuckDB reads (AGGREGATED)."""
    for raw_dir in RAW_DIRS:
        for source in (s for s in SOURCES if s not in AGGREGATED):
            for raw in discover(raw_dir, source):
                yield pytest.param(raw, id=f"{raw_dir.relative_to(REPO)}/{raw.name}")


def generated_bad_inputs(tmp_path: Path):
    """The corpus cases written by test_bad_inputs (a 10 MB field, a Parquet file of wrong types)."""
    for spec_file in sorted((FIXTURES / "bad").glob("*/expected.json")):
        spec = json.loads(spec_file.read_text(encoding="utf-8"))
        if "generate" in spec:
            source, name = spec["file"].split("/", 1)
            (tmp_path / source).mkdir(exist_ok=True)
            generate_bad_input(spec["generate"], tmp_path / source / name)
            yield RawFile(source, tmp_path / source / name, name)


def _grid_and_batch(raw, limits=DEFAULT_LIMITS):
    try:
        grid = read_grid(raw, limits)
        batch = batch_date(raw.name) if DATED[raw.source] else None
    except FileError:
        return None, None  # quarantined before parsing: the same on both paths
    return grid, batch


@pytest.mark.parametrize("raw", shipped_files())
def test_every_shipped_file_parses_the_same_both_ways(raw):
    grid, batch = _grid_and_batch(raw)
    if grid is None:
        pytest.skip("unreadable file: never parsed")
    assert_same(*both_ways(grid, raw.source, raw.name, batch))


def test_the_generated_bad_inputs_parse_the_same_both_ways(tmp_path):
    # lines up to 16 MiB: the 10 MB field, which the default limit quarantines unread, is parsed
    raws = list(generated_bad_inputs(tmp_path))
    parsed = 0
    for raw in raws:
        grid, batch = _grid_and_batch(raw, ReadLimits(max_line_kb=16 << 10))
        if grid is not None:
            assert_same(*both_ways(grid, raw.source, raw.name, batch))
            parsed += 1
    assert len(raws) == 5 and parsed == 2  # the others are over a limit whatever the line length


def test_the_shipped_canonical_exports_do_take_the_strict_reads():
    # Guards the comparison above against comparing the contract parser with itself.
    raw = next(r for r in discover(REPO / "data" / "raw", "orders") if r.name.startswith("orders_shop02"))
    grid = read_grid(raw)
    columns = SOURCES["orders"]
    _, strict = fastpath.read_strictly(grid.rows, columns, map_header(grid.header, columns))
    assert {"order_id", "buyer_id", "status", "created_at", "paid_at", "total_amount", "item_count", "is_mobile"} <= strict


def test_files_parsed_together_as_ingest_chunks_them_parse_the_same_both_ways():
    # ingest parses the files of one header together; a file that breaks a column others read
    # strictly is split off (fastpath.strict_parts): the order and content must not change.
    for raw_dir in RAW_DIRS:
        for source in ("orders", "traffic", "courier"):
            by_header: dict[tuple, list] = {}
            for raw in discover(raw_dir, source):
                grid, batch = _grid_and_batch(raw)
                if grid is not None and grid.header and batch is not None:
                    rows = grid.rows.with_columns(file_name=pl.lit(raw.name), batch_date=pl.lit(batch, pl.Date))
                    by_header.setdefault(tuple(grid.header), []).append(rows)
            for header, parts in by_header.items():
                rows = pl.concat(parts, how="vertical_relaxed")
                try:
                    fast = parse_batches(list(header), rows, source, OPTIONS)
                except FileError as exc:
                    with pytest.raises(FileError, match=re.escape(str(exc))):
                        parse_batches(list(header), rows, source, OPTIONS, fast_path=False)
                    continue
                full = parse_batches(list(header), rows, source, OPTIONS, fast_path=False)
                assert_frame_equal(fast.rows, full.rows)
                assert_frame_equal(fast.rejects, full.rejects)
                assert_frame_equal(fast.notes_by_file.sort("file_name"), full.notes_by_file.sort("file_name"))


HEADER = "order_id,buyer_id,status,created_at,paid_at,total_amount,paid_amount,refund_amount,item_count,is_mobile"
CLEAN = (
    "1001,tb_a,paid,2024-07-01T10:00:00+08:00,2024-07-01T10:01:00+08:00,20.5,20.5,0,1,true",
    "1002,tb_b,TRADE_FINISHED,2024-07-01T11:00:00+08:00,2024-07-01T11:05:00+08:00,9,9,0,2,false",
)


def chunk(files: dict[str, list[str]]) -> pl.DataFrame:
    parts = []
    for name, lines in files.items():
        grid = csv_grid("\n".join([HEADER, *lines, ""]), name)
        parts.append(grid.rows.with_columns(file_name=pl.lit(name), batch_date=pl.lit(dt.date(2024, 7, 1), pl.Date)))
    return pl.concat(parts, how="vertical_relaxed")


def test_a_file_that_breaks_a_strict_column_goes_alone_through_the_contract_parser():
    odd = ["1003,tb_c,买家已付款，等待卖家发货,2024/7/1 12:00,2024/7/1 12:01,\"1,000.00元\",-,0,1,是"]
    later = ["1004,tb_d,refunded,2024-07-01T13:00:00+08:00,2024-07-01T13:01:00+08:00,5,5,6,1,true"]
    rows = chunk({"a_2024-07-01.csv": list(CLEAN), "b_2024-07-01.csv": odd, "c_2024-07-01.csv": later})
    columns, mapped = SOURCES["orders"], map_header(HEADER.split(","), SOURCES["orders"])
    parts = fastpath.strict_parts(rows, columns, mapped)
    assert [part.height for part, _ in parts] == [3, 1]  # the clean files together, the odd one apart
    assert "created_at" in parts[0][1] and "created_at" not in parts[1][1]
    fast = parse_batches(HEADER.split(","), rows, "orders", OPTIONS)
    full = parse_batches(HEADER.split(","), rows, "orders", OPTIONS, fast_path=False)
    assert_frame_equal(fast.rows, full.rows)
    assert_frame_equal(fast.rejects, full.rejects)
    # Worked by hand: 1003 is the full parser's (paid_amount `-` is null, so "missing while paid_at
    # is set"); 1004's refund is above its payment; 1001 and 1002 load, in file order.
    assert fast.rows["order_id"].to_list() == ["1001", "1002"]
    assert fast.rows["status"].to_list() == ["paid", "completed"]
    assert fast.rows["total_amount"].to_list() == [Decimal("20.50"), Decimal("9.00")]
    assert fast.rows["created_at"].to_list() == [dt.datetime(2024, 7, 1, 10), dt.datetime(2024, 7, 1, 11)]
    assert fast.rejects.select("file_name", "line", "reason").rows() == [
        ("b_2024-07-01.csv", 2, "paid_amount: missing while paid_at is set"),
        ("c_2024-07-01.csv", 2, "refund_amount above paid_amount"),
    ]


def test_row_rules_still_apply_to_strictly_read_columns():
    text = "\n".join([
        HEADER,
        "2001,tb_a,paid,2024-07-01T10:00:00+08:00,2024-07-01T09:00:00+08:00,10,10,0,1,true",
        "2002,tb_a,lost,2024-07-01T10:00:00+08:00,,10,0,0,1,true",
        "2003,tb_a,paid,2024-07-03T00:00:00+08:00,,-1,0,0,1,true",
        "2004,tb_a,closed,2024-07-01T10:00:00+08:00,2024-07-01T10:01:00+08:00,10,10,10,1,true",
        "",
    ])
    grid = csv_grid(text, "o.csv")
    columns = SOURCES["orders"]
    _, strict = fastpath.read_strictly(grid.rows, columns, map_header(grid.header, columns))
    assert {"status", "created_at", "paid_at", "total_amount", "refund_amount"} <= strict
    parsed = parse_grid(grid, "orders", "o.csv", dt.date(2024, 7, 1), OPTIONS)
    assert dict(parsed.rejects.select("line", "reason").iter_rows()) == {
        2: "paid_at before created_at",
        3: "status: unknown status 'lost'",
        4: "total_amount: negative; created_at: after the batch date 2024-07-01 (+1 day of grace)",
    }
    (row,) = parsed.rows.to_dicts()
    assert row["status"] == "refunded" and len(row["buyer_id"]) == 64  # closed, fully refunded; pseudonymised


# Near-canonical cells: a canonical value, or one the contract parser normalises or refuses.
DIGITS = st.sampled_from("0123456789")
ODD_DIGITS = st.sampled_from("0123456789０１２３９٠١")


def digits(min_size=1, max_size=4, alphabet=DIGITS):
    return st.text(alphabet, min_size=min_size, max_size=max_size)


def dressed(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Mostly the value as it is; else wrapped the ways exports do: spaces, wrappers, marks, null
    tokens, full width."""
    wrap = st.sampled_from([
        " {}", "{} ", "\t{}", "\u3000{}", '="{}"', "'{}", "¥{}", "{}元", "{},000", "+{}", "-{}", "{}%", "{}E+18",
        "１{}", "{}\u00a0",
    ])
    odd = st.one_of(st.sampled_from(["", "-", "--", " "]), st.builds(lambda w, x: w.format(x), wrap, inner))
    return st.one_of(inner, inner, odd)


def field(low: int, high: int) -> st.SearchStrategy[str]:
    """A two-digit date or time field; sometimes one digit, out of range, or in other digits."""
    two_digits = st.integers(low, high).map(lambda x: f"{x:02d}")
    return st.one_of(two_digits, two_digits, two_digits, st.integers(0, 99).map(str), st.sampled_from(["０７", "٠١", "7"]))


CANONICAL_TIMES = st.builds(
    lambda t, fmt: t.strftime(fmt),
    st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2030, 12, 31)),
    st.sampled_from([
        "%Y-%m-%dT%H:%M:%S+08:00", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S-05:30",
        "%Y-%m-%dT%H:%M:%S+00:00", "%Y-%m-%d", "%Y/%m/%d %H:%M", "%Y-%m-%dT%H:%M:%S+0800", "%Y-%m-%d %H:%M",
    ]),
)
TIMESTAMPS = st.one_of(
    CANONICAL_TIMES,
    CANONICAL_TIMES,
    st.builds(
        lambda y, mo, d, sep, h, mi, s, off: f"{y}-{mo}-{d}{sep}{h}:{mi}:{s}{off}",
        st.sampled_from(["2024", "2024", "1999", "２０２４"]), field(1, 12), field(1, 31),
        st.sampled_from(["T", " ", "T", "/"]), field(0, 23), field(0, 59),
        field(0, 59) | st.sampled_from(["60", "07.5"]),
        st.sampled_from(["+08:00", "+08:00", "", "-05:30", "+00:00", "+0800", "Z", "+08", "+13:45", "+24:00"]),
    ),
    st.builds(lambda y, mo, d: f"{y}-{mo}-{d}", st.just("2024"), field(1, 12), field(1, 31)),
    st.sampled_from(["1719795907", "2024/7/1", "2024-02-30", "2024-13-01", "2024-12-31T24:00:00+08:00"]),
)
NUMBERS = st.builds(
    lambda sign, whole, frac: f"{sign}{whole}{frac}",
    st.sampled_from(["", "", "", "-", "+"]), st.integers(0, 10**17).map(str) | digits(1, 19, ODD_DIGITS),
    st.sampled_from(["", "", ".", ".5", ".05", ".125", ".0", ".995"]) | st.builds(lambda x: "." + x, digits(1, 3)),
)
WORDS = st.sampled_from([
    "paid", "completed", "TRADE_FINISHED", "WAIT_BUYER_PAY", "交易成功", "交易关闭", "买家已付款，等待卖家发货",
    "买家已付款,等待卖家发货", "PAID", "lost", "shop02", "ｓｈｏｐ02", "茶叶/绿茶", "tb_1_000001", "tb_小明",
    "t**8", "a b", "=cmd|x", "@x", "call 13812345678", "SKU-2024070112345", "1.23457E+18", "00123", "1e5",
    "E12", "村淘12号站", "Ⅻ", "mobile", "pc", "all", "无线端", "true", "false", "1", "0", "是", "Y", "TRUE",
    "0.453", "1.0", "1.5", "45.3%",
]) | st.text(st.sampled_from("ab1_-. =+@'\"中，"), min_size=1, max_size=6)

KIND_CELLS = {
    Kind.ID: dressed(WORDS | digits(1, 20)),
    Kind.STRING: dressed(WORDS),
    Kind.STATUS: dressed(WORDS),
    Kind.TIMESTAMP: dressed(TIMESTAMPS),
    Kind.DATE: dressed(TIMESTAMPS),
    Kind.MONEY: dressed(NUMBERS),
    Kind.INT: dressed(NUMBERS),
    Kind.RATE: dressed(NUMBERS | WORDS),
    Kind.BOOL: dressed(WORDS),
    Kind.DEVICE: dressed(WORDS),
}


@pytest.mark.parametrize("kind", list(KIND_CELLS), ids=lambda k: k.value)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_strict_form_accepts_only_what_the_contract_parser_reads_unchanged(kind, data):
    cells = data.draw(st.lists(KIND_CELLS[kind], min_size=1, max_size=40))
    col = Column("x", kind)
    frame = pl.DataFrame({"c0": cells}, schema={"c0": pl.String}).with_columns(
        _raw_x=clean_text(pl.col("c0")), cell=fastpath.cell(0)
    )
    value, invalid = _typed(col, [])
    full = frame.select(
        text=pl.col("_raw_x"), value=value, invalid=invalid if invalid is not None else pl.lit(None, pl.String)
    )
    for form in fastpath.FORMS[kind]:
        strict = frame.select(ok=fastpath.accepted(form, pl.col("cell")), value=form.value(pl.col("cell")))
        for i, ok in enumerate(strict["ok"]):
            if ok:  # accepted: cleaning changes nothing, the value is the same, and no reason
                assert frame["cell"][i] == full["text"][i], cells[i]
                assert strict["value"][i] == full["value"][i], cells[i]
                assert full["invalid"][i] is None, cells[i]


@settings(max_examples=40, deadline=None)
@given(
    ids=st.lists(dressed(WORDS | digits(1, 20)), min_size=3, max_size=3),
    stamps=st.lists(dressed(TIMESTAMPS), min_size=3, max_size=3),
    amounts=st.lists(dressed(NUMBERS), min_size=3, max_size=3),
    statuses=st.lists(dressed(WORDS), min_size=3, max_size=3),
    flags=st.lists(dressed(WORDS), min_size=3, max_size=3),
)
def test_near_canonical_files_parse_the_same_both_ways(ids, stamps, amounts, statuses, flags):
    # Each drawn column sits beside canonical rows, so a column reads strictly unless a drawn cell
    # breaks its form; either way both paths must agree on rows, rejects and reasons.
    header = "order_id,buyer_id,status,created_at,paid_at,total_amount,refund_amount,item_count,is_mobile,category"
    canonical = "9001,tb_z,paid,2024-07-01T10:00:00+08:00,2024-07-01T10:01:00+08:00,20.5,0,1,true,茶叶/绿茶"
    cells = pl.DataFrame({
        "c0": ids, "c1": ["tb_a", "tb_b", "tb_c"], "c2": statuses, "c3": stamps, "c4": stamps[::-1],
        "c5": amounts, "c6": amounts[::-1], "c7": amounts[1:] + amounts[:1], "c8": flags, "c9": statuses[::-1],
    })
    base = csv_grid(f"{header}\n{canonical}\n{canonical}\n", "o.csv")
    drawn = cells.with_columns(line=pl.int_range(4, 7, dtype=pl.Int64), field_count_error=pl.lit(None, pl.String))
    base.rows = pl.concat([base.rows, drawn.select(base.rows.columns)])
    fast, full = both_ways(base, "orders", "o.csv", dt.date(2024, 7, 1))
    assert_same(fast, full)
