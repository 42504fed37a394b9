-- The rows of marts.quarterly_region_kpis, judged whole by its checks.
select * from marts.quarterly_region_kpis
