-- staging.event_days: every loaded event summed per (China day, shop, user) and file (contract §8),
-- the grain the funnel and the daily traffic of event logs are counted from. Files add up: a
-- re-dropped file replaces what it gave (a rebuild), another file adds its events.
create or replace table staging.event_days as
select * from event_days_added
order by date, shop_id, user_key
