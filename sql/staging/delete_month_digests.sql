-- Before a staging table's month digests are computed again from the whole table: drop them.
delete from audit.month_digests
where table_name = $table_name
