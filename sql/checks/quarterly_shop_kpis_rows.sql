-- The rows of marts.quarterly_shop_kpis, judged whole by its checks.
select * from marts.quarterly_shop_kpis
