"""The lake files' schemas as docs/lake.md states them, made from the code (parse.lake_schema, the
raw columns of schema.SOURCES): `python -m assets.lib.lake_doc --write` puts them in the file, and
a test fails while the file says otherwise."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from .parse import LAKE_SCHEMAS, empty_rows, lake_schema
from .schema import SOURCES

DOC = Path(__file__).resolve().parents[2] / "docs" / "lake.md"
BEGIN, END = "<!-- lake-schemas: made by `python -m assets.lib.lake_doc --write` -->", "<!-- lake-schemas: end -->"

# What a lake column holds that no raw column of the same name gives.
OWN_COLUMNS = {
    ("events", "date"): "China day (UTC+8) of the events",
    ("events", "user_key"): "the number of the user's pseudonym (of 用户id) in the working database's `staging.event_users`",
    ("events", "pv"): "page views (behaviour pv) of the user that day in the shop",
    ("events", "cart"): "add-to-carts (behaviour cart)",
    ("events", "fav"): "favourites (behaviour fav)",
    ("events", "buy"): "purchases (behaviour buy)",
    ("events", "window_start"): "the first day the file's batch date accepts events of",
    ("orders", "province"): "province of 收货地址 (the address itself is not kept)",
    ("orders", "city"): "city of 收货地址",
    ("orders", "district"): "district of 收货地址",
    ("traffic", "is_total"): "the row is the export's total over its channels (汇总/合计)",
    ("couriers", "courier"): "the courier's code (快递公司 / 代码)",
}
LINEAGE = {
    "batch_date": "the raw file's batch date, from its name (null in reference files)",
    "file_name": "the raw file's name below its source's folder (`shop01/x.csv` for events)",
    "line": "the row's line in the raw file (1 = the header)",
}


def _meaning(source: str, column: str) -> str:
    if (source, column) in OWN_COLUMNS:
        return OWN_COLUMNS[source, column]
    if column in LINEAGE:
        return LINEAGE[column]
    raw = next(c for c in SOURCES[source] if c.name == column)
    headers = " / ".join(raw.aliases[:2]) or column
    return f"{headers}, as its pseudonym (HMAC-SHA256 with the deployment's key)" if raw.personal else headers


def _types(source: str) -> dict[str, str]:
    """The SQL type a reader sees of each column (DuckDB's name of the Parquet type)."""
    import duckdb

    rows = empty_rows(source)  # noqa: F841 - read by the statement below, by its name
    return dict(duckdb.sql("select column_name, column_type from (describe select * from rows)").fetchall())


def markdown() -> str:
    parts = []
    for source in LAKE_SCHEMAS:
        types = _types(source)
        parts.append(f"### `{source}`\n\n| column | type | what |\n|---|---|---|")
        parts.extend(f"| `{c}` | `{types[c]}` | {_meaning(source, c)} |" for c in lake_schema(source))
        parts.append("")
    return "\n".join(parts)


_BLOCK = re.compile(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), re.S)


def block(text: str) -> str | None:
    """The part of docs/lake.md between the markers."""
    match = _BLOCK.search(text)
    return match.group(1) if match else None


def main(argv: list[str]) -> int:
    """Print the tables; with --write, put them between the markers of docs/lake.md."""
    if argv != ["--write"]:
        print(markdown())
        return 0
    text = DOC.read_text(encoding="utf-8")
    DOC.write_text(_BLOCK.sub(lambda _: f"{BEGIN}\n{markdown()}{END}", text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
