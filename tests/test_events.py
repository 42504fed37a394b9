"""Behaviour event logs (#16, contract §8): the loader's rules on tiny hand-made files, and the whole
pipeline on them and on two real excerpts of the Tianchi set, every number checked against a
computation made here from the raw lines (`independent`), not read back from the pipeline.

China days (UTC+8) of the timestamps the tiny files use:
  1511884800 = 2017-11-29 00:00:00 +08    1511971199 = 2017-11-29 23:59:59 +08
  1511971200 = 2017-11-30 00:00:00 +08 (= 2017-11-29 16:00:00 UTC)
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import hmac
import shutil
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pytest

from conftest import PII_KEY, Deployment, build_modes

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"
EXCERPTS = {
    "flink": REALDATA / "taobao-userbehavior-flink" / "UserBehavior.csv",  # 110,300 events, 2017-11-26
    "hotitems": REALDATA / "taobao-userbehavior-hotitems" / "UserBehavior.csv",  # 10,000 events, 114 users
}
CHINA = dt.timezone(dt.timedelta(hours=8))
BEHAVIOURS = ("pv", "cart", "fav", "buy")
DAY_START_29, DAY_END_29, DAY_START_30 = 1511884800, 1511971199, 1511971200
NOV_29, NOV_30 = dt.date(2017, 11, 29), dt.date(2017, 11, 30)
TRUNCATED = "truncated line: the file ends without a line break"


def pseudonym(user_id: int | str, key: str = PII_KEY) -> str:
    """The pseudonym of a user as contract §7 defines it, by Python's own HMAC."""
    return hmac.new(key.encode(), str(user_id).encode(), hashlib.sha256).hexdigest()


def after(batch: dt.date) -> str:
    return f"timestamp: after the batch date {batch}"


def too_old(batch: dt.date, days: int = 31) -> str:
    return f"timestamp: more than {days} days (events_max_age_days) before the batch date {batch}"


def lines(*rows: tuple) -> str:
    return "".join(",".join(map(str, row)) + "\n" for row in rows)


# -- the independent computation: plain Python over the raw lines ---------------------------------


@dataclass
class Judged:
    """What contract §8 makes of the lines of events files of one shop: the loaded events as
    (China day, user_id, behaviour) and the rejected lines {line number: reason}."""
    events: list[tuple[dt.date, str, str]] = field(default_factory=list)
    rejects: dict[int, str] = field(default_factory=dict)


def independent(paths_and_batches: list[tuple[Path, dt.date]], max_age_days: int = 31) -> Judged:
    """The Tianchi layout without a header, every line ended by a line break: a line loads when it
    has five fields, integer ids and timestamp, a known behaviour and a China day in the window
    [batch − max_age_days, batch]."""
    judged = Judged()
    for path, batch in paths_and_batches:
        with path.open(encoding="utf-8", newline="") as file:
            for number, line in enumerate(file, start=1):
                assert line.endswith("\n"), "the independent computation reads whole lines only"
                user, _item, _category, behaviour, seconds = line.rstrip("\n").split(",")
                assert behaviour in BEHAVIOURS and user.isdigit()
                day = dt.datetime.fromtimestamp(int(seconds), CHINA).date()
                if day > batch:
                    judged.rejects[number] = after(batch)
                elif day < batch - dt.timedelta(days=max_age_days):
                    judged.rejects[number] = too_old(batch, max_age_days)
                else:
                    judged.events.append((day, user, behaviour))
    return judged


def funnel_of(events: list[tuple[dt.date, str, str]]) -> dict:
    """The quarterly_funnel row of events of one shop and quarter (contract §6)."""
    users_with = defaultdict(set)
    buy_days = defaultdict(set)
    for day, user, behaviour in events:
        users_with[behaviour].add(user)
        if behaviour == "buy":
            buy_days[user].add(day)
    uv = len({user for _, user, _ in events})
    buyers = len(users_with["buy"])
    repeat = sum(len(days) >= 2 for days in buy_days.values())
    return {
        "pv": sum(b == "pv" for _, _, b in events), "uv": uv, "cart_users": len(users_with["cart"]),
        "fav_users": len(users_with["fav"]), "buyers": buyers, "conversion_rate": pytest.approx(buyers / uv),
        "repeat_buyers": repeat, "repurchase_rate": pytest.approx(repeat / buyers),
    }


def daily_of(events: list[tuple[dt.date, str, str]]) -> dict[dt.date, tuple[int, int]]:
    """Daily traffic of events (contract §8): pv events, and users with any event that day."""
    pv = Counter(day for day, _, b in events if b == "pv")
    users = defaultdict(set)
    for day, user, _ in events:
        users[day].add(user)
    return {day: (pv[day], len(users[day])) for day in sorted(users)}


def test_the_independent_computation_matches_a_hand_count():
    events = [(NOV_29, "1", "pv"), (NOV_29, "1", "pv"), (NOV_29, "1", "buy"), (NOV_30, "1", "buy"),
              (NOV_29, "2", "cart"), (NOV_30, "3", "fav")]
    # pv: 2 events; users 1, 2, 3; user 1 buys on two days
    assert funnel_of(events) == {"pv": 2, "uv": 3, "cart_users": 1, "fav_users": 1, "buyers": 1,
                                 "conversion_rate": 1 / 3, "repeat_buyers": 1, "repurchase_rate": 1.0}
    assert daily_of(events) == {NOV_29: (2, 2), NOV_30: (0, 2)}


# -- the loader alone: one file through assets.lib.events.load_file on an in-memory DuckDB --------


@dataclass
class Loaded:
    rows_read: int
    rows_loaded: int
    rejects: list[tuple[int, str, str]]  # (line, reason, raw_line)
    days: dict[tuple[dt.date, str, str], tuple[int, int, int, int]]  # (day, shop, pseudonym) -> pv, cart, fav, buy


@pytest.fixture
def load(tmp_path):
    """load(name, content, batch=None, **options): the file `events/<name>` read by the loader, its
    batch date from its name unless given."""
    from assets.lib import events
    from assets.lib.files import RawFile, batch_date
    from assets.lib.lake import pending_path
    from assets.lib.parse import ParseOptions
    from assets.lib.sql import run_script

    con = duckdb.connect()
    for script in ("setup/create_schemas", "setup/create_macros", "setup/create_metrics"):
        run_script(con, script)
    lake = tmp_path / "lake"

    def load_one(name: str, content: str | bytes | pl.DataFrame, batch: dt.date | None = None, **options) -> Loaded:
        path = tmp_path / "raw" / "events" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, pl.DataFrame):
            content.write_parquet(path)
        else:
            path.write_bytes(content.encode() if isinstance(content, str) else content)
        result = events.load_file(
            con, RawFile("events", path, name), batch or batch_date(name), ParseOptions(pii_key=PII_KEY, **options), lake
        )
        con.register("lake_rows", pl.read_parquet(pending_path(lake, "events", name)))
        days = con.execute(
            "select r.date, r.shop_id, u.pseudonym, r.pv, r.cart, r.fav, r.buy from lake_rows as r "
            "join staging.event_users as u using (user_key)"
        ).fetchall()
        con.unregister("lake_rows")
        return Loaded(
            result.rows_read, result.rows_loaded, list(result.rejects.iter_rows()),
            {(d, s, p): tuple(counts) for d, s, p, *counts in days},
        )

    load_one.con = con
    yield load_one
    con.close()


def test_the_china_day_starts_at_16_00_utc(load):
    text = lines((1, 1, 1, "pv", DAY_END_29), (1, 1, 1, "pv", DAY_START_30))
    # batch 11-30: 23:59:59 and 00:00:00 China time fall on two days
    loaded = load("s/events_2017-11-30.csv", text)
    assert loaded.days == {(NOV_29, "s", pseudonym(1)): (1, 0, 0, 0), (NOV_30, "s", pseudonym(1)): (1, 0, 0, 0)}
    assert loaded.rejects == []
    # batch 11-29: 1511971200 is 16:00 UTC of 11-29, already 11-30 in China, after the batch date
    loaded = load("s/events_2017-11-29.csv", text)
    assert loaded.days == {(NOV_29, "s", pseudonym(1)): (1, 0, 0, 0)}
    assert loaded.rejects == [(2, after(NOV_29), f"***,1,1,pv,{DAY_START_30}")]


def test_an_event_31_days_old_loads_and_one_32_days_old_is_rejected(load):
    # batch 12-31: 31 days before is 11-30 (accepted from its 00:00 China time), 11-29 is 32 days before
    loaded = load("s/events_2017-12-31.csv", lines((7, 1, 1, "fav", DAY_START_30), (7, 1, 1, "fav", DAY_END_29)))
    assert loaded.days == {(NOV_30, "s", pseudonym(7)): (0, 0, 1, 0)}
    assert loaded.rejects == [(2, too_old(dt.date(2017, 12, 31)), f"***,1,1,fav,{DAY_END_29}")]
    # events_max_age_days moves the window: with 32 days both load
    assert load("t/events_2017-12-31.csv", lines((7, 1, 1, "fav", DAY_END_29)), events_max_age_days=32).rejects == []


@pytest.mark.parametrize(
    "last, reason_if_whole",
    [
        (f"3,1,1,buy,{DAY_END_29}", None),  # a whole event, but its line break is missing
        ("3,1,1,bu", "behavior"),  # cut inside a field: the reader could type it
        ("3,1,1", "fields"),  # cut to three fields
        (f"3,1,1,pv,{DAY_END_29}"[:-4], "timestamp"),  # cut inside the timestamp: 1970, too old
    ],
    ids=["whole-event", "in-behaviour", "three-fields", "in-timestamp"],
)
def test_a_last_line_without_its_line_break_is_a_truncated_line(load, last, reason_if_whole):
    # lines 1-2 load (user 3 buys once, views once); line 3, the last, is rejected whatever it holds
    text = lines((3, 1, 1, "buy", DAY_END_29), (3, 1, 1, "pv", DAY_END_29)) + last
    loaded = load("s/events_2017-11-29.csv", text)
    assert loaded.days == {(NOV_29, "s", pseudonym(3)): (1, 0, 0, 1)}
    assert loaded.rejects == [(3, TRUNCATED, "***" + last[1:])]
    assert (loaded.rows_read, loaded.rows_loaded) == (3, 2)


def test_a_truncated_line_that_repeats_a_loaded_event_is_taken_back_once(load):
    event = (4, 1, 1, "pv", DAY_END_29)
    loaded = load("s/events_2017-11-29.csv", lines(event, event) + ",".join(map(str, event)))
    # three equal lines: the first two count, the third (no line break) is rejected
    assert loaded.days == {(NOV_29, "s", pseudonym(4)): (2, 0, 0, 0)}
    assert [r[0:2] for r in loaded.rejects] == [(3, TRUNCATED)]


def test_a_header_line_is_line_1_of_a_truncated_file(load):
    text = "user_id,item_id,category_id,behavior,timestamp\n" + lines((5, 1, 1, "pv", DAY_END_29)) + "5,1,1,pv"
    loaded = load("s/events_2017-11-29.csv", text)
    assert loaded.rejects == [(3, TRUNCATED, "***,1,1,pv")]
    assert (loaded.rows_read, loaded.rows_loaded) == (2, 1)


def test_a_duplicate_line_is_two_events_of_one_user(load):
    event = (8, 1, 1, "pv", DAY_END_29)
    loaded = load("s/events_2017-11-29.csv", lines(event, event, (8, 2, 1, "cart", DAY_END_29)))
    # one user: pv 2 (both lines), cart 1
    assert loaded.days == {(NOV_29, "s", pseudonym(8)): (2, 1, 0, 0)}
    assert (loaded.rows_read, loaded.rows_loaded, loaded.rejects) == (3, 3, [])


def test_every_bad_line_is_rejected_with_its_physical_line_number_and_user_masked(load):
    text = lines(
        (1, 1, 1, "pv", DAY_END_29),  # 1 loads
        ("abc", 1, 1, "pv", DAY_END_29),  # 2 user_id not an integer (the reader's reject)
        (2, 1, 1, "click", DAY_END_29),  # 3 unknown behaviour (a rule's)
        (3, 1, 1, "pv", DAY_END_29, 9),  # 4 six fields (the reader's)
        ("", 1, 1, "pv", DAY_END_29),  # 5 empty user_id (a rule's)
        (4, 1, 1, "cart", DAY_START_30),  # 6 after the batch date (a rule's)
        (5, "x", 1, "pv", DAY_END_29),  # 7 item_id not an integer
        (6, 1, 1, "buy", "soon"),  # 8 timestamp not an integer
        (7, 1, 1, "pv"),  # 9 four fields
        (8, 1, 1, "fav", DAY_END_29),  # 10 loads
    )
    loaded = load("s/events_2017-11-29.csv", text)
    assert loaded.days == {(NOV_29, "s", pseudonym(1)): (1, 0, 0, 0), (NOV_29, "s", pseudonym(8)): (0, 0, 1, 0)}
    assert [(line, raw) for line, _, raw in loaded.rejects] == [
        (2, f"***,1,1,pv,{DAY_END_29}"), (3, f"***,1,1,click,{DAY_END_29}"), (4, f"***,1,1,pv,{DAY_END_29},9"),
        (5, f"***,1,1,pv,{DAY_END_29}"), (6, f"***,1,1,cart,{DAY_START_30}"), (7, f"***,x,1,pv,{DAY_END_29}"),
        (8, "***,1,1,buy,soon"), (9, "***,1,1,pv"),
    ]
    reasons = {line: reason for line, reason, _ in loaded.rejects}
    assert reasons[2] == "user_id: not an integer"
    assert reasons[3] == "behavior: not one of pv, cart, fav, buy"
    assert reasons[4].startswith("more fields than the 5")
    assert reasons[5] == "user_id: empty"
    assert reasons[6] == after(NOV_29)
    assert reasons[7] == "item_id: not an integer"
    assert reasons[8] == "timestamp: not an integer"
    assert reasons[9].startswith("truncated line: fewer fields than the 5")
    assert (loaded.rows_read, loaded.rows_loaded) == (10, 2)


def test_a_blank_line_keeps_the_physical_line_numbers_after_it(load):
    text = lines((1, 1, 1, "pv", DAY_END_29)) + "\n" + lines(
        ("x", 1, 1, "pv", DAY_END_29),  # 3 the reader's reject
        (2, 1, 1, "click", DAY_END_29),  # 4 a rule's reject
    )
    loaded = load("s/events_2017-11-29.csv", text)
    assert [line for line, *_ in loaded.rejects] == [3, 4]


@pytest.mark.parametrize("end", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_blank_lines_at_the_start_and_in_a_row_keep_the_numbers_after_them(load, end):
    text = end.join([
        "",  # 1 blank
        f"1,1,1,pv,{DAY_END_29}",  # 2 loaded
        "",  # 3 blank
        "",  # 4 blank
        f"2,1,1,click,{DAY_END_29}",  # 5 a rule's reject
        "y,1,1,pv,1",  # 6 the reader's reject
        "",  # 7 blank
        f"3,1,1,pv,{DAY_END_29 + 86400}",  # 8 after the batch date
    ]) + end
    loaded = load("s/events_2017-11-29.csv", text)
    assert [line for line, *_ in loaded.rejects] == [5, 6, 8]
    assert (loaded.rows_read, loaded.rows_loaded) == (4, 1)  # blank lines are no rows


def test_a_rejected_line_polars_reads_otherwise_is_numbered_by_an_ordered_read(load, monkeypatch):
    """A plain CSV file's rejected lines are found by their values with Polars; a value DuckDB types
    and Polars does not (DuckDB reads `1_0` as 10) sends the file to DuckDB's ordered read."""
    from assets.lib import events

    found = []
    real = events._found_by_values
    monkeypatch.setattr(events, "_found_by_values", lambda *a: found.append(real(*a)) or found[-1])
    text = lines(
        (1, 1, 1, "pv", DAY_END_29),  # 1 loaded
        ("1_0", 1, 1, "click", DAY_END_29),  # 2 a rule's reject
        ("y", 1, 1, "pv", DAY_END_29),  # 3 the reader's reject
        (3, 1, 1, "click", DAY_END_29),  # 4 a rule's reject
    )
    loaded = load("s/events_2017-11-29.csv", text)
    assert [f is None for f in found] == [True]
    assert [(line, reason) for line, reason, _ in loaded.rejects] == [
        (2, "behavior: not one of pv, cart, fav, buy"), (3, "user_id: not an integer"),
        (4, "behavior: not one of pv, cart, fav, buy"),
    ]
    found.clear()
    loaded = load("s/events_2017-11-30.csv", lines((1, 1, 1, "pv", DAY_END_29), (2, 1, 1, "click", DAY_END_29)))
    assert found[0] is not None and [line for line, *_ in loaded.rejects] == [2]


def test_rejected_lines_sharing_a_user_and_a_second_are_told_apart_by_their_other_values(load):
    # found by user and timestamp first: those name both rejected lines for each group, so every
    # column is compared
    text = lines(
        (1, 1, 1, "click", DAY_END_29),  # 1 rejected
        (1, 1, 1, "tap", DAY_END_29),  # 2 rejected
        (1, 2, 1, "pv", DAY_END_29),  # 3 loaded
        (1, 1, 1, "click", DAY_END_29),  # 4 rejected, as line 1
    )
    loaded = load("s/events_2017-11-29.csv", text)
    assert [(line, raw) for line, _, raw in loaded.rejects] == [
        (1, f"***,1,1,click,{DAY_END_29}"), (2, f"***,1,1,tap,{DAY_END_29}"), (4, f"***,1,1,click,{DAY_END_29}"),
    ]
    assert (loaded.rows_read, loaded.rows_loaded) == (4, 1)


HEADED = (
    "behavior,timestamp,shop_id,user_id,item_id,category_id\n"
    f"pv,{DAY_END_29},shop-x,11,1,1\n"  # 2 shop from its column
    f"buy,{DAY_END_29},,11,1,1\n"  # 3 no shop_id: the folder's
    f"click,{DAY_END_29},,12,1,1\n"  # 4 unknown behaviour
)


def test_a_behaviour_in_another_case_or_with_spaces_loads_as_the_contract_spells_it(load):
    # contract §8: behaviours are compared trimmed, in lower case
    text = lines((1, 1, 1, " PV ", DAY_END_29), (1, 1, 1, "Buy", DAY_END_29), (1, 1, 1, "CART", DAY_END_29))
    loaded = load("s/events_2017-11-29.csv", text)
    assert loaded.days == {(NOV_29, "s", pseudonym(1)): (1, 1, 0, 1)}
    assert (loaded.rows_read, loaded.rows_loaded, loaded.rejects) == (3, 3, [])


def test_blank_lines_above_a_header_are_skipped_and_still_counted(load):
    text = "\n\n" + "user_id,item_id,category_id,behavior,timestamp\n" + lines(
        (1, 1, 1, "pv", DAY_END_29),  # 4 loads
        ("x", 1, 1, "pv", DAY_END_29),  # 5 the reader's reject
        (2, 1, 1, "click", DAY_END_29),  # 6 a rule's reject
    )
    loaded = load("s/events_2017-11-29.csv", text)
    assert loaded.days == {(NOV_29, "s", pseudonym(1)): (1, 0, 0, 0)}
    assert [(line, reason) for line, reason, _ in loaded.rejects] == [
        (5, "user_id: not an integer"), (6, "behavior: not one of pv, cart, fav, buy"),
    ]
    assert (loaded.rows_read, loaded.rows_loaded) == (3, 1)


def test_a_header_names_the_columns_in_any_order_and_a_shop_id_column_wins_over_the_folder(load):
    loaded = load("s/events_2017-11-29.csv", HEADED)
    assert loaded.days == {(NOV_29, "shop-x", pseudonym(11)): (1, 0, 0, 0), (NOV_29, "s", pseudonym(11)): (0, 0, 0, 1)}
    assert [line for line, *_ in loaded.rejects] == [4]
    assert (loaded.rows_read, loaded.rows_loaded) == (3, 2)


def test_a_rejected_line_of_a_header_file_is_stored_as_read(load):
    loaded = load("s/events_2017-11-29.csv", HEADED)
    assert [raw for *_, raw in loaded.rejects] == [f"click,{DAY_END_29},,***,1,1"]


def test_the_shop_is_the_folder_below_events_else_the_default_shop(load):
    text = lines((9, 1, 1, "pv", DAY_END_29))
    assert set(load("events_2017-11-29.csv", text, default_shop="main").days) == {(NOV_29, "main", pseudonym(9))}
    assert set(load("shop-9/events_2017-11-29.csv", text, default_shop="main").days) == {(NOV_29, "shop-9", pseudonym(9))}


def test_a_gzip_and_a_parquet_file_load_as_the_csv_does(load):
    rows = [(21, 1, 1, "pv", DAY_END_29), (21, 1, 1, "pv", DAY_END_29), (21, 2, 1, "buy", DAY_START_30),
            (22, 1, 1, "cart", DAY_START_29), (23, 1, 1, "fav", DAY_START_30 + 86400)]  # the last: after 11-30
    text = lines(*rows)
    from_csv = load("csv/events_2017-11-30.csv", text)
    from_gzip = load("gz/events_2017-11-30.csv.gz", gzip.compress(text.encode()))
    frame = pl.DataFrame(rows, schema=["user_id", "item_id", "category_id", "behavior", "timestamp"], orient="row")
    from_parquet = load("pq/events_2017-11-30.parquet", frame)
    # user 21: pv 2 on 11-29, a buy on 11-30; user 22: a cart on 11-29; user 23's fav is on 12-01
    expected = {(NOV_29, pseudonym(21)): (2, 0, 0, 0), (NOV_30, pseudonym(21)): (0, 0, 0, 1),
                (NOV_29, pseudonym(22)): (0, 1, 0, 0)}
    # the fifth row is rejected: line 5 of a file without a header; a Parquet file's rows are
    # numbered as the other sources number them, after a header line (tests/test_parse.py)
    for loaded, shop, line in ((from_csv, "csv", 5), (from_gzip, "gz", 5), (from_parquet, "pq", 6)):
        assert loaded.days == {(day, shop, user): counts for (day, user), counts in expected.items()}, shop
        assert [(line, reason) for line, reason, _ in loaded.rejects] == [(line, after(NOV_30))], shop
        assert (loaded.rows_read, loaded.rows_loaded) == (5, 4), shop


@pytest.mark.parametrize(
    "content",
    ["", "user_id,item_id,category_id,behavior,timestamp\n", "user_id,item_id,category_id,behavior,timestamp"],
    ids=["empty", "header-only", "header-without-line-break"],
)
def test_an_empty_file_loads_no_events(load, content):
    loaded = load("s/events_2017-11-29.csv", content)
    assert (loaded.rows_read, loaded.rows_loaded, loaded.rejects, loaded.days) == (0, 0, [], {})


def test_a_user_gets_one_key_across_files(load):
    first = load("s/events_2017-11-29.csv", lines((31, 1, 1, "pv", DAY_END_29)))
    second = load("s/events_2017-11-30.csv", lines((31, 1, 1, "pv", DAY_START_30), (32, 1, 1, "pv", DAY_START_30)))
    assert set(first.days) == {(NOV_29, "s", pseudonym(31))}
    assert set(second.days) == {(NOV_30, "s", pseudonym(31)), (NOV_30, "s", pseudonym(32))}
    assert sorted(load.con.execute("select pseudonym, user_key from staging.event_users").fetchall()) == sorted(
        [(pseudonym(31), 1), (pseudonym(32), 2)]
    )


# -- the whole pipeline ---------------------------------------------------------------------------


def funnel_rows(deployment: Deployment) -> dict[str, dict]:
    """shop -> its quarterly_funnel row; every event of these tests is in 2017Q4."""
    rows = deployment.rows("select * from marts.quarterly_funnel order by shop_id")
    assert {r.pop("quarter") for r in rows} <= {"2017Q4"}
    return {r.pop("shop_id"): r for r in rows}


def traffic_of(deployment: Deployment, shop: str) -> dict[dt.date, tuple[int, int]]:
    """The shop's daily traffic rows, which events give alone: channel unknown, device all."""
    rows = deployment.query("select date, channel, device, pv, uv from staging.traffic where shop_id = ? order by date", [shop])
    assert {(channel, device) for _, channel, device, _, _ in rows} == {("unknown", "all")}
    return {day: (pv, uv) for day, _, _, pv, uv in rows}


def shop_kpis(deployment: Deployment, shop: str) -> tuple[int, int]:
    (row,) = deployment.query(
        "select pv, uv_days from marts.quarterly_shop_kpis where quarter = '2017Q4' and shop_id = ?", [shop]
    )
    return row


def loads(deployment: Deployment) -> dict[str, tuple]:
    """file -> its latest audit.loads row (outcome, rows read, loaded, rejected); every row of every
    run reconciles."""
    rows = deployment.query(
        "select file_name, outcome, rows_read, rows_loaded, rows_rejected, loaded_at from audit.loads "
        "where source = 'events' order by loaded_at"
    )
    for name, _, read, loaded, rejected, _ in rows:
        assert read == loaded + rejected, name
    return {name: (outcome, read, loaded, rejected) for name, outcome, read, loaded, rejected, _ in rows}


def rejects(deployment: Deployment) -> dict[tuple[str, int], tuple[str, str]]:
    rows = deployment.query("select file_name, line, reason, raw_line from audit.rejects where source = 'events'")
    return {(name, line): (reason, raw) for name, line, reason, raw in rows}


# Tianchi lines without a header; user ids 9000000xx, which nothing else in the warehouse can hold.
SHOP_A = lines(
    (900000001, 1, 1, "pv", DAY_START_29),  # 1 11-29
    (900000001, 1, 1, "pv", DAY_START_29),  # 2 the same line again: a second pv
    (900000001, 1, 1, "buy", DAY_END_29),  # 3 11-29
    (900000001, 1, 1, "buy", DAY_START_30),  # 4 11-30: user 1 bought on two days
    (900000002, 2, 1, "cart", DAY_START_30),  # 5 11-30
    (900000003, 3, 1, "click", DAY_START_30),  # 6 rejected: unknown behaviour
    (900000004, 4, 1, "pv", DAY_START_30 + 86400),  # 7 rejected: 12-01, after the batch date
) + f"900000005,5,1,pv,{DAY_START_30}"  # 8 rejected: no line break at the end
AT_ROOT = lines((900000006, 6, 1, "fav", DAY_START_30), (900000006, 6, 1, "buy", DAY_START_30))


@pytest.fixture(scope="module")
def tiny_events(tmp_path_factory) -> tuple[Deployment, object]:
    """A deployment with event logs alone: shop-a's file, a file directly in events/ (the default
    shop, `main`), and a file without a date in its name; one run."""
    deployment = Deployment(tmp_path_factory.mktemp("tiny-events"))
    deployment.drop("events/shop-a/events_2017-11-30.csv", SHOP_A)
    deployment.drop("events/events_2017-11-30.csv", AT_ROOT)
    deployment.drop("events/shop-a/events_latest.csv", lines((900000007, 7, 1, "pv", DAY_START_30)))
    return deployment, deployment.run(default_shop="main")


@pytest.mark.slow
def test_tiny_event_logs_give_the_funnel_worked_out_by_hand(tiny_events):
    deployment, _ = tiny_events
    assert funnel_rows(deployment) == {
        # shop-a: pv lines 1-2; users 1 and 2; user 2 carts; user 1 buys on 11-29 and 11-30
        "shop-a": {"pv": 2, "uv": 2, "cart_users": 1, "fav_users": 0, "buyers": 1, "conversion_rate": 0.5,
                   "repeat_buyers": 1, "repurchase_rate": 1.0},
        # main (events/ itself): user 6 favs and buys on 11-30
        "main": {"pv": 0, "uv": 1, "cart_users": 0, "fav_users": 1, "buyers": 1, "conversion_rate": 1.0,
                 "repeat_buyers": 0, "repurchase_rate": 0.0},
    }
    # daily: shop-a 11-29 user 1's two pv; 11-30 users 1 and 2, no pv
    assert traffic_of(deployment, "shop-a") == {NOV_29: (2, 1), NOV_30: (0, 2)}
    assert traffic_of(deployment, "main") == {NOV_30: (0, 1)}
    # a shop with events alone has its kpis row: pv and uv_days summed over those days
    assert shop_kpis(deployment, "shop-a") == (2, 3)
    assert shop_kpis(deployment, "main") == (0, 1)


@pytest.mark.slow
def test_tiny_event_logs_audit_every_line(tiny_events):
    deployment, result = tiny_events
    assert not result.success  # the file without a date fails the run, as contract §7 wants
    assert loads(deployment) == {
        "shop-a/events_2017-11-30.csv": ("loaded", 8, 5, 3),
        "events_2017-11-30.csv": ("loaded", 2, 2, 0),
        "shop-a/events_latest.csv": ("failed", 0, 0, 0),
    }
    (error,) = deployment.query("select error from audit.loads where outcome = 'failed'")
    assert error == ("shop-a/events_latest.csv: no date (YYYY-MM-DD or YYYYMMDD) in the file name",)
    # each file's digest, a new one's taken while it loads, is its bytes' sha256, failed or not
    digests = dict(deployment.query("select file_name, sha256 from audit.loads where source = 'events'"))
    assert digests == {
        name: hashlib.sha256((deployment.raw / "events" / name).read_bytes()).hexdigest()
        for name in ("shop-a/events_2017-11-30.csv", "events_2017-11-30.csv", "shop-a/events_latest.csv")
    }
    name = "shop-a/events_2017-11-30.csv"
    assert rejects(deployment) == {
        (name, 6): ("behavior: not one of pv, cart, fav, buy", f"***,3,1,click,{DAY_START_30}"),
        (name, 7): (after(NOV_30), f"***,4,1,pv,{DAY_START_30 + 86400}"),
        (name, 8): (TRUNCATED, f"***,5,1,pv,{DAY_START_30}"),
    }


@pytest.mark.slow
def test_event_users_are_pseudonymised_and_never_stored_in_clear(tiny_events):
    deployment, _ = tiny_events
    loaded = {900000001, 900000002, 900000006}  # the users of loaded lines only
    pseudonyms = deployment.query("select pseudonym from staging.event_users")
    assert sorted(p for (p,) in pseudonyms) == sorted(pseudonym(u) for u in loaded)
    with duckdb.connect(str(deployment.warehouse), read_only=True) as con:
        tables = con.execute("select schema_name, table_name from duckdb_tables()").fetchall()
        text = "\n".join(
            str(row) for schema, table in tables for row in con.execute(f'select * from "{schema}"."{table}"').fetchall()  # noqa: S608
        )
    assert "9000000" not in text


@pytest.mark.slow
def test_a_later_events_file_merges_and_a_redropped_one_replaces_its_events(tmp_path):
    deployment = Deployment(tmp_path)
    first, second = deployment.raw / "events/shop-b/events_2017-11-29.csv", deployment.raw / "events/shop-b/events_2017-11-30.csv"
    deployment.drop("events/shop-b/events_2017-11-29.csv", lines(
        (900000011, 1, 1, "pv", DAY_START_29),
        (900000011, 1, 1, "buy", DAY_END_29),
        (900000012, 2, 1, "pv", DAY_END_29),
        (900000013, 3, 1, "fav", DAY_START_30),  # after the batch date 11-29: rejected
    ))
    result = deployment.run()
    assert result.success and build_modes(result)["staging/event_days"] == "rebuild"
    # users 11 and 12 view; 11 buys
    assert funnel_rows(deployment)["shop-b"] == {
        "pv": 2, "uv": 2, "cart_users": 0, "fav_users": 0, "buyers": 1, "conversion_rate": 0.5,
        "repeat_buyers": 0, "repurchase_rate": 0.0,
    }

    deployment.drop("events/shop-b/events_2017-11-30.csv", lines(
        (900000011, 1, 1, "buy", DAY_START_30),  # user 11 buys again, on 11-30
        (900000013, 3, 1, "fav", DAY_START_30),
        (900000012, 2, 1, "cart", DAY_END_29),  # a day the first file gave: 11-29
    ))
    result = deployment.run()
    assert result.success and build_modes(result)["staging/event_days"] == "merge"
    # the second file adds: users 11, 12, 13; 12 carts, 13 favs; 11 bought on two days
    expected = {"pv": 2, "uv": 3, "cart_users": 1, "fav_users": 1, "buyers": 1, "conversion_rate": 1 / 3,
                "repeat_buyers": 1, "repurchase_rate": 1.0}
    judged = independent([(first, NOV_29), (second, NOV_30)])
    assert funnel_rows(deployment)["shop-b"] == expected == funnel_of(judged.events)
    # 11-29: users 11 and 12 (pv 2); 11-30: users 11 and 13
    assert traffic_of(deployment, "shop-b") == {NOV_29: (2, 2), NOV_30: (0, 2)} == daily_of(judged.events)

    deployment.drop("events/shop-b/events_2017-11-29.csv", lines((900000014, 4, 1, "buy", DAY_START_29)))
    result = deployment.run()
    assert result.success and build_modes(result)["staging/event_days"] == "rebuild"
    # the new version replaces the first file's events: users 11 (buys on 11-30 only), 12 (carts on
    # 11-29), 13 (favs), 14 (buys on 11-29)
    expected = {"pv": 0, "uv": 4, "cart_users": 1, "fav_users": 1, "buyers": 2, "conversion_rate": 0.5,
                "repeat_buyers": 0, "repurchase_rate": 0.0}
    judged = independent([(first, NOV_29), (second, NOV_30)])
    assert funnel_rows(deployment)["shop-b"] == expected == funnel_of(judged.events)
    assert traffic_of(deployment, "shop-b") == {NOV_29: (0, 2), NOV_30: (0, 2)} == daily_of(judged.events)
    assert loads(deployment)["shop-b/events_2017-11-29.csv"] == ("loaded", 1, 1, 0)


def test_a_merged_buy_on_a_day_the_user_already_bought_adds_no_buy_day(tmp_path):
    # a merge moves each user's state by what the new file adds: its buy days count only where the
    # user had no buy event that day in the files merged before
    deployment = Deployment(tmp_path)
    first, second = deployment.raw / "events/shop-c/events_2017-11-29.csv", deployment.raw / "events/shop-c/events_2017-11-30.csv"
    deployment.drop("events/shop-c/events_2017-11-29.csv", lines(
        (900000021, 1, 1, "buy", DAY_START_29),
        (900000022, 2, 1, "pv", DAY_START_29),
    ))
    assert deployment.run().success
    deployment.drop("events/shop-c/events_2017-11-30.csv", lines(
        (900000021, 1, 1, "buy", DAY_END_29),  # 11-29 again: still one buy day
        (900000022, 2, 1, "buy", DAY_END_29),  # a first buy, on a day the user only viewed
        (900000022, 2, 1, "buy", DAY_START_30),  # and a second buy day
        (900000023, 3, 1, "buy", DAY_START_30),  # a user new to the quarter, buying twice that day
        (900000023, 3, 1, "buy", DAY_START_30),
    ))
    result = deployment.run()
    assert result.success and build_modes(result)["staging/event_days"] == "merge"
    # buyers 21, 22 and 23; only 22 bought on two days
    expected = {"pv": 1, "uv": 3, "cart_users": 0, "fav_users": 0, "buyers": 3, "conversion_rate": 1.0,
                "repeat_buyers": 1, "repurchase_rate": 1 / 3}
    judged = independent([(first, NOV_29), (second, NOV_30)])
    assert funnel_rows(deployment)["shop-c"] == expected == funnel_of(judged.events)
    # the users' state (user keys follow no user id): buy events and buy days of 21, 23 and 22
    with duckdb.connect(str(deployment.state / "pipeline.duckdb"), read_only=True) as con:
        state = con.execute("select buy, buy_days from staging.event_user_quarters where shop_id = 'shop-c'").fetchall()
    assert sorted(state) == [(2, 1), (2, 1), (2, 2)]


# -- two real excerpts of the Tianchi set ---------------------------------------------------------

REAL_BATCH = dt.date(2017, 12, 3)  # keeps every event of both excerpts in its window


def excerpt(name: str) -> Path:
    path = EXCERPTS[name]
    if not path.is_file():
        pytest.skip(f"the real {name} excerpt is absent ({path}): ../shared/realdata/ holds it next to the project")
    return path


@pytest.fixture(scope="module", params=sorted(EXCERPTS))
def real(request, tmp_path_factory) -> tuple[Deployment, Path, Judged]:
    """An excerpt as shop-1's events of batch 2017-12-03, published by one run, and what contract §8
    makes of it, computed here."""
    path = excerpt(request.param)
    deployment = Deployment(tmp_path_factory.mktemp(f"real-{request.param}"))
    shutil.copyfile(path, deployment.drop("events/shop-1/events_2017-12-03.csv", b""))
    assert deployment.run().success
    return deployment, path, independent([(path, REAL_BATCH)])


@pytest.mark.slow
def test_a_real_excerpt_gives_the_funnel_computed_from_its_lines(real):
    deployment, _, judged = real
    assert funnel_rows(deployment) == {"shop-1": funnel_of(judged.events)}


@pytest.mark.slow
def test_a_real_excerpt_gives_daily_traffic_and_shop_kpis(real):
    deployment, _, judged = real
    daily = daily_of(judged.events)
    assert traffic_of(deployment, "shop-1") == daily
    assert shop_kpis(deployment, "shop-1") == (sum(pv for pv, _ in daily.values()), sum(uv for _, uv in daily.values()))


@pytest.mark.slow
def test_a_real_excerpt_loads_every_line_and_pseudonymises_every_user(real):
    deployment, path, judged = real
    with path.open("rb") as file:
        read = sum(1 for _ in file)
    assert loads(deployment) == {"shop-1/events_2017-12-03.csv": ("loaded", read, len(judged.events), 0)}
    assert judged.rejects == {} and rejects(deployment) == {}
    users = {user for _, user, _ in judged.events}
    assert sorted(p for (p,) in deployment.query("select pseudonym from staging.event_users")) == sorted(map(pseudonym, users))


@pytest.mark.slow
def test_a_real_excerpt_with_an_earlier_batch_date_rejects_what_is_out_of_its_window(tmp_path):
    """hotitems as the batch of 11-30 with a 5-day window (11-25 .. 11-30): 11-24's events are too
    old, those of 12-01 .. 12-03 after the batch date."""
    path = excerpt("hotitems")
    deployment = Deployment(tmp_path)
    name = "shop-1/events_2017-11-30.csv"
    shutil.copyfile(path, deployment.drop(f"events/{name}", b""))
    assert deployment.run(events_max_age_days=5).success
    judged = independent([(path, NOV_30)], max_age_days=5)
    reasons = Counter(judged.rejects.values())
    assert reasons[too_old(NOV_30, 5)] > 0 and reasons[after(NOV_30)] > 0  # both rules at work
    raw = path.read_text().splitlines()
    assert rejects(deployment) == {
        (name, line): (reason, "***," + raw[line - 1].split(",", 1)[1]) for line, reason in judged.rejects.items()
    }
    assert loads(deployment) == {name: ("loaded", len(raw), len(judged.events), len(judged.rejects))}
    assert funnel_rows(deployment) == {"shop-1": funnel_of(judged.events)}
    assert traffic_of(deployment, "shop-1") == daily_of(judged.events)
