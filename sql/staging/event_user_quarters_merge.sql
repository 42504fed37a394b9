-- A merge into staging.event_user_quarters, step 2: the touched users' rows replaced by their rows now.
delete from staging.event_user_quarters as q
using event_users_touched as t
where q.shop_id = t.shop_id
    and q.quarter_start = t.quarter_start
    and q.user_key = t.user_key;

insert into staging.event_user_quarters
select * from event_user_quarter_rows('event_days_of_users_touched')
