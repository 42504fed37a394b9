-- The rows of marts.quarterly_category_kpis, judged whole by its checks.
select * from marts.quarterly_category_kpis
