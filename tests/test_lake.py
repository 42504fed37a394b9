"""The lake's interface: a local lake's paths and versions are those it always had, and docs/lake.md
states its schemas and names as the code makes them. (On an object store: tests/test_lake_s3.py.)"""

from __future__ import annotations

import os
import re

import duckdb

from assets.lib.lake import attach, batch_files, file_versions, lake_name, lake_path, promote, write_pending
from assets.lib.lake_doc import DOC, block, markdown
from conftest import orders_batch


def test_a_local_lake_has_the_paths_and_versions_it_always_had(tmp_path):
    write_pending(tmp_path, "orders", "a b.csv", orders_batch())
    promote(tmp_path, "orders", "a b.csv")
    path = lake_path(tmp_path, "orders", "a b.csv")
    assert path == str(tmp_path / "orders" / "a_b.csv.50a29e02aa.parquet") == batch_files(tmp_path, "orders")[0]
    stat = os.stat(path)
    # the versions audit.staging_inputs holds: other ones would rebuild every staging table once
    assert file_versions(tmp_path, "orders") == {path: f"{stat.st_size}:{stat.st_mtime_ns}:{stat.st_ino}"}
    con = duckdb.connect()
    before = con.list_filesystems()
    attach(con, tmp_path)
    assert con.list_filesystems() == before  # DuckDB reads local files itself


def test_the_schema_tables_are_the_lake_schemas_of_the_code():
    assert block(DOC.read_text(encoding="utf-8")) == markdown(), (
        "docs/lake.md is stale: run `python -m assets.lib.lake_doc --write`"
    )


def test_the_schema_tables_cover_every_source_with_its_lineage():
    made = markdown()
    assert re.findall(r"^### `(\w+)`", made, re.M) == [
        "orders", "traffic", "courier", "targets", "channels", "couriers", "campaigns", "shops", "events",
    ]
    assert "| `buyer_id` | `VARCHAR` | 买家会员名, as its pseudonym (HMAC-SHA256 with the deployment's key) |" in made
    assert "| `total_amount` | `DECIMAL(18,2)` | 总金额 |" in made
    assert made.count("| `file_name` | `VARCHAR` |") == 9
    assert made.count("| `line` | `BIGINT` |") == 8  # an events row sums lines: it has none of its own


def test_the_naming_examples_are_what_lake_name_gives():
    examples = re.findall(r"^\| `(\w+)/([^`]+)` \| `\1/([^`]+)` \|$", DOC.read_text(encoding="utf-8"), re.M)
    assert len(examples) == 2
    for _, raw, lake in examples:
        assert lake_name(raw) == lake
