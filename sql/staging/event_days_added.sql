-- The rows the events lake files being merged (registered as `event_day_source`: the new files, or
-- every file on a rebuild) add to staging.event_days: shop aliases mapped, each day's quarter.
create or replace temp table event_days_added as
select
    e.date,
    quarter_start(e.date, $fiscal_start_month) as quarter_start,
    coalesce(s.shop_id, e.shop_id) as shop_id,
    e.user_key,
    e.pv,
    e.cart,
    e.fav,
    e.buy,
    e.file_name
from event_day_source as e
left join staging.shops as s on s.alias = e.shop_id
