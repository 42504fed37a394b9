-- Tables and views a check validates: real ones, because GX's cursors are other connections and
-- do not see this connection's TEMP objects. An in-memory database attached to the instance is
-- seen by every cursor, costs no write-ahead log or checkpoint (copying 2.8 M new order rows into
-- a table of the working database took 20 s), and spills to the temp directory beyond DuckDB's
-- memory limit. Its objects are dropped after each check; it goes with the connection.
attach if not exists ':memory:' as scratch
