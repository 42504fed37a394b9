-- The rows of marts.quarterly_campaign_kpis, judged whole by its checks.
select * from marts.quarterly_campaign_kpis
