-- The share of a table's stored rows that are deleted but not vacuumed yet: DuckDB counts them in
-- estimated_size until a checkpoint vacuums them ($live: the table's count(*)).
select coalesce(1 - $live / nullif(estimated_size, 0), 0) as deleted_share
from duckdb_tables()
where schema_name = $schema and table_name = $table
