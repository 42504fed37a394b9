-- The rows of marts.quarterly_funnel, judged whole by its checks.
select * from marts.quarterly_funnel
