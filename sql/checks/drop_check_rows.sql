drop view if exists scratch.check_rows_judged;
drop table if exists scratch.check_rows;
