-- event_groups: one pass over the file's lines (sql/events/lines.sql). The loaded lines counted per
-- (China day, shop, user) and behaviour. The rejected lines grouped by what they hold: their reason,
-- their line as read (user_id masked), their values (to find them in the file when the reader could not
-- number them, assets/lib/events.py) and their place among the typed lines when it could.
create or replace temp table event_groups as
select
    day_number,
    shop_id,
    user_id,
    reason,
    raw_line,
    case when reason is not null then item_id end as item_id,
    case when reason is not null then category_id end as category_id,
    case when reason is not null then behavior_as_read end as behavior_as_read,
    case when reason is not null then "timestamp" end as "timestamp",
    case when reason is not null then ordinality end as ordinality,
    count(*) filter (where behavior = 'pv') as pv,
    count(*) filter (where behavior = 'cart') as cart,
    count(*) filter (where behavior = 'fav') as fav,
    count(*) filter (where behavior = 'buy') as buy,
    count(*) as lines
from event_lines($batch_day, $window_start_day, $batch_date, $max_age_days)
group by all
