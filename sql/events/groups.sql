-- event_groups: one pass over the file's lines (sql/events/lines.sql). The loaded lines counted per
-- (China day, shop, user) and behaviour. The rejected lines grouped by what they hold: their reason
-- and their line as read (user_id masked: the values they were typed to, in file order, whereby
-- assets/lib/events.py finds them in the file when the reader could not number them), and their place
-- among the typed lines when it could. Every key column but these costs each of the millions of
-- groups its width: 100 M lines took 16.4 s with four more.
create or replace temp table event_groups as
select
    day_number,
    shop_id,
    user_id,
    reason,
    raw_line,
    case when reason is not null then ordinality end as ordinality,
    count(*) filter (where behavior_name = 'pv') as pv,
    count(*) filter (where behavior_name = 'cart') as cart,
    count(*) filter (where behavior_name = 'fav') as fav,
    count(*) filter (where behavior_name = 'buy') as buy,
    count(*) as lines
from event_lines($batch_day, $window_start_day, $batch_date, $max_age_days)
group by all
