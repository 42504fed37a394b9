-- event_groups: one pass over the file's lines (sql/events/lines.sql). The loaded lines counted per
-- (China day, shop, user) and behaviour; each rejected line a group of its own (its ordinality and
-- its line as read, user_id masked).
create or replace temp table event_groups as
select
    day_number,
    shop_id,
    user_id,
    reason,
    case when reason is not null then ordinality end as ordinality,
    raw_line,
    count(*) filter (where behavior = 'pv') as pv,
    count(*) filter (where behavior = 'cart') as cart,
    count(*) filter (where behavior = 'fav') as fav,
    count(*) filter (where behavior = 'buy') as buy,
    count(*) as lines
from event_lines($batch_day, $window_start_day, $batch_date, $max_age_days)
group by all
