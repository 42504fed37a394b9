-- One table's comment (null when none) and the rows it stores, deleted ones not yet vacuumed
-- included (DuckDB's estimated_size).
select comment, estimated_size
from duckdb_tables()
where schema_name = $schema and table_name = $table
