create or replace view scratch.batch_subset as
select *
from scratch.batch_rows
where file_name in (select file_name from scratch.batch_files)
