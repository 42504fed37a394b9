-- The rows of marts.quarterly_courier_kpis, judged whole by its checks.
select * from marts.quarterly_courier_kpis
