-- Whether schema.table of the working database is a view (the Spark engine's staging tables are).
select 1
from duckdb_views()
where database_name = current_database() and schema_name = $schema and view_name = $table
