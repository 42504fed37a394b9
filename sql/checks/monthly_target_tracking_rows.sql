-- The rows of marts.monthly_target_tracking, judged whole by its checks.
select * from marts.monthly_target_tracking
