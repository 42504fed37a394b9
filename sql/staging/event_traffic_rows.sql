-- event_traffic_rows(days): the daily traffic of event logs (contract §8) per (China day, shop) of the
-- event rows `days` (a table name): pv = pv events, uv = distinct users with any event that day.
create or replace temp macro event_traffic_rows(days) as table
select
    date,
    shop_id,
    sum(pv)::bigint as pv,
    count(distinct user_key)::bigint as uv
from query_table(days)
group by date, shop_id
