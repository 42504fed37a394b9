-- The rows of marts.quarterly_channel_kpis, judged whole by its checks.
select * from marts.quarterly_channel_kpis
