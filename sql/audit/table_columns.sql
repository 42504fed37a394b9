-- The columns of one table, in order, with their comments.
select column_name, data_type, comment
from duckdb_columns()
where schema_name = $schema and table_name = $table
order by column_index
