drop view if exists scratch.batch_rows_judged;
drop view if exists scratch.batch_subset_judged;
drop view if exists scratch.batch_subset;
drop view if exists scratch.batch_rows;
drop table if exists scratch.batch_rows_copy;
