-- The rows of a source's pending lake files (this run's new files), the batch suite's input.
create or replace table scratch.batch_rows as
select *
from read_parquet($files)
