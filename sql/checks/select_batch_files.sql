-- The files whose rows scratch.batch_subset shows: a part of the batch judged on its own.
create or replace table scratch.batch_files as
select unnest($names::varchar[]) as file_name
