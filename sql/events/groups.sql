-- event_groups: one pass over the file's lines (sql/events/lines.sql). The loaded lines counted per (China day, shop, user) and
-- behaviour; each rejected line a group of its own (its ordinality set), with its values.
create or replace temp table event_groups as
select
    date,
    shop_id,
    user_id,
    reason,
    case when reason is not null then ordinality end as ordinality,
    count(*) filter (where behavior = 'pv' and reason is null) as pv,
    count(*) filter (where behavior = 'cart' and reason is null) as cart,
    count(*) filter (where behavior = 'fav' and reason is null) as fav,
    count(*) filter (where behavior = 'buy' and reason is null) as buy,
    count(*) as lines,
    any_value(item_id) as item_id,
    any_value(category_id) as category_id,
    any_value(behavior) as behavior,
    any_value("timestamp") as "timestamp"
from event_lines($shop, $batch_date, $window_start, $max_age_days)
group by all
