-- A merge into staging.event_user_quarters, step 1, before the merged rows are in staging.event_days:
-- what they add to each (shop, quarter, user) they touch. Counts add up; a buy day adds to buy_days
-- unless the user already had a buy event that day (in rows staging.event_days holds). Only the days
-- the merged rows cover are looked up (the days of staging.event_days are kept together: its
-- row groups of other days are skipped), so a merge reads the new rows and their days, not the
-- quarter's history.
create or replace temp table event_buy_days_held as
with

held as (
    select shop_id, quarter_start, user_key, date
    from event_days_added
    where buy > 0
    intersect
    select shop_id, quarter_start, user_key, date
    from staging.event_days
    where buy > 0
        and date between (select min(date) from event_days_added) and (select max(date) from event_days_added)
)

select shop_id, quarter_start, user_key, count(*) as buy_days
from held
group by shop_id, quarter_start, user_key;

create or replace temp table event_user_quarters_changes as
select
    r.shop_id,
    r.quarter_start,
    r.user_key,
    r.pv,
    r.cart,
    r.fav,
    r.buy,
    (r.buy_days - coalesce(h.buy_days, 0))::integer as buy_days
from event_user_quarter_rows('event_days_added') as r
left join event_buy_days_held as h
    on h.shop_id = r.shop_id
    and h.quarter_start = r.quarter_start
    and h.user_key = r.user_key
