-- The rows of a mart the Spark engine computed (its Parquet folder), into the temp table mart_rows
-- that DuckDB's SQL for the mart made with no row: they take DuckDB's column types.
insert into mart_rows by name
select * from read_parquet($files)
