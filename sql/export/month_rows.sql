-- The rows of the months of $quarter of a mart ($mart, schema.name) kept by month (YYYY-MM), the
-- quarter of a month as sql/report/monthly.sql takes it, in the order of its key.
select *
from query_table($mart)
where quarter_label(quarter_start(strptime(month, '%Y-%m'), $fiscal_start_month), $fiscal_start_month) = $quarter
order by all
