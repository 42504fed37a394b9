-- A merge into staging.event_user_quarters, step 1: the (shop, quarter, user) the merged rows touch,
-- and every event row of theirs as staging.event_days now holds it.
create or replace temp table event_users_touched as
select distinct shop_id, quarter_start, user_key
from event_days_added;

create or replace temp table event_days_of_users_touched as
select d.*
from staging.event_days as d
semi join event_users_touched as t
    on t.shop_id = d.shop_id
    and t.quarter_start = d.quarter_start
    and t.user_key = d.user_key
