-- The comment of each of the tables $tables (schema.name) (column null) and of each of their
-- columns, in column order: one catalog scan for the comments of every published table (a query
-- per table cost publish 80 catalog scans).
select schema_name, table_name, null as column_name, comment, -1 as column_index
from duckdb_tables()
where list_contains($tables, schema_name || '.' || table_name)
union all
select schema_name, table_name, column_name, comment, column_index
from duckdb_columns()
where list_contains($tables, schema_name || '.' || table_name)
order by schema_name, table_name, column_index
