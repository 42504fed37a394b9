-- The rows a table stores, deleted ones not yet vacuumed included (DuckDB's estimated_size).
select estimated_size from duckdb_tables() where schema_name = $schema and table_name = $table
