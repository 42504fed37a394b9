-- The month digests of the staging tables a mart reads (months left with no rows left out, as a
-- digest computed afresh has none).
select table_name, strftime(month_start, '%Y-%m-%d') as month_start, row_count, digest::varchar as digest
from audit.month_digests
where list_contains($table_names, table_name) and row_count > 0
order by table_name, month_start
