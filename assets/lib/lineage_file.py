"""sql/lineage.json: what each staging table's and mart's SQL reads (its lakes and the staging
tables upstream) and where each of its columns comes from, derived from the SQL with sqlglot at
build time (`make lineage`, assets/lib/sql_lineage.py) and committed.

Runs and the definitions only read it: deriving it at run time cost 0.25-0.9 s of loading the
definitions (most of it importing sqlglot) and 0.6-2.2 s of every run's first table (the column
lineage), depending on the machine's load; reading it costs 1.4 ms, the SQL's digest included. tests/test_sql_lineage.py fails while the file is stale, and
loading it refuses a file derived from other SQL than sql/ holds now (`sql_digest`), so a run never
plans with the edges of an older SQL.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from functools import cache

from .sql import SQL_DIR, sql_text

LINEAGE_FILE = SQL_DIR / "lineage.json"
REGENERATE = "make lineage"  # python -m assets.lib.sql_lineage --write


class StaleLineage(RuntimeError):
    """sql/lineage.json does not describe the SQL files as they are."""


def sql_digest(names: Iterable[str]) -> str:
    """A digest of the statements of these SQL files, whatever order they are named in: their
    comments and the spacing between words left out, which change no table or column they read
    (a comment edited needs no `make lineage`)."""
    digest = hashlib.sha256()
    for name in sorted(set(names)):
        digest.update(f"{name}\0{_statements(sql_text(name))}\0".encode())
    return digest.hexdigest()[:16]


def _statements(text: str) -> str:
    """`text` without its `--` comments, its words one space apart."""
    return " ".join(re.sub(r"--[^\n]*", " ", text).split())


def render(document: dict) -> str:
    """The file's text: pretty-printed, one value a line, so that a change reads in a diff."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@cache
def derived() -> dict[str, dict]:
    """Asset key (`staging/orders`) -> its `sql` files, the `lakes` and `upstream` tables they read,
    and the `columns` they build, each with the asset columns (`raw/orders.paid_amount`) it is
    computed from."""
    document = json.loads(LINEAGE_FILE.read_text(encoding="utf-8"))
    assets = document["assets"]
    if document["sql_digest"] != sql_digest(name for entry in assets.values() for name in entry["sql"]):
        raise StaleLineage(f"{LINEAGE_FILE} was derived from other SQL than sql/ holds: run `{REGENERATE}`")
    return assets


@cache
def derived_from(sql: tuple[str, ...]) -> dict:
    """The entry of the asset these SQL files build."""
    for entry in derived().values():
        if tuple(entry["sql"]) == sql:
            return entry
    raise StaleLineage(f"{LINEAGE_FILE} has no table built by {', '.join(sql)}: run `{REGENERATE}`")
