-- The tables of the published file, with their comments: what an analyst can query.
select schema_name, table_name, comment
from duckdb_tables()
where database_name = current_database() and schema_name in ('marts', 'staging', 'audit')
order by schema_name = 'marts' desc, schema_name, table_name
