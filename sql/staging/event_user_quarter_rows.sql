-- event_user_quarter_rows(days): per (shop, quarter, user) of the event rows `days` (a table
-- name), the user's events of each behaviour and the distinct China days with a buy event.
create or replace temp macro event_user_quarter_rows(days) as table
select
    shop_id,
    quarter_start,
    user_key,
    sum(pv)::bigint as pv,
    sum(cart)::bigint as cart,
    sum(fav)::bigint as fav,
    sum(buy)::bigint as buy,
    count(distinct date) filter (where buy > 0)::integer as buy_days
from query_table(days)
group by shop_id, quarter_start, user_key
