"""Buyer pseudonyms (contract §7): HMAC-SHA256 of the cleaned id, keyed by a secret."""

from __future__ import annotations

import hashlib
from functools import cache

import duckdb
import polars as pl

from .sql import sql_text

_BLOCK = 64  # SHA-256's block size in bytes
_PARTS = 8
_MIN_PART_IDS = 10_000


def padded_keys(key: str) -> tuple[bytes, bytes]:
    """HMAC's inner and outer keys (RFC 2104): the key, hashed when longer than a block, padded
    with zeros to a block, xor 0x36 and xor 0x5c."""
    secret = key.encode("utf-8")
    if len(secret) > _BLOCK:
        secret = hashlib.sha256(secret).digest()
    secret = secret.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in secret), bytes(b ^ 0x5c for b in secret)


@cache
def _database() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that only hashes, once per process (a connection costs ~23 ms, a cursor
    of it ~0.01 ms); each call hashes on a cursor of its own, so threads do not share one."""
    return duckdb.connect()


def _in_parts(ids: pl.DataFrame) -> pl.DataFrame:
    """The ids in a few memory chunks: DuckDB scans a frame's chunks in parallel, one at a time
    otherwise (200,000 ids: 0.21 s in one chunk, 0.11 s in 8 on two cores)."""
    step = max(_MIN_PART_IDS, -(-ids.height // _PARTS))
    if ids.height <= step:
        return ids
    return pl.concat([ids.slice(start, step) for start in range(0, ids.height, step)], rechunk=False)


def pseudonymize_column(frame: pl.DataFrame, column: str, key: str) -> pl.DataFrame:
    """Hash each distinct id once, in DuckDB, then join back; null stays null."""
    distinct = _in_parts(frame.select(pl.col(column).unique().drop_nulls().alias("id")))
    inner, outer = padded_keys(key)
    con = _database().cursor()
    try:
        con.register("ids", distinct)
        mapping = con.sql(sql_text("parse/pseudonyms"), params={"inner": inner, "outer": outer}).pl()
    finally:
        con.close()
    return (
        frame.join(mapping.rename({"id": column, "pseudonym": "_pseudonym"}), on=column, how="left", maintain_order="left")
        .with_columns(pl.col("_pseudonym").alias(column))
        .drop("_pseudonym")
    )
