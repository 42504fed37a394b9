-- The comment a table carries (null when none).
select comment from duckdb_tables() where schema_name = $schema and table_name = $table
