-- event_user_quarter_rows(days): per (shop, quarter, user) of the event rows `days` (a table
-- name), the user's events of each behaviour and the distinct China days with a buy event. Those
-- days are counted as the bits set in a mask of the quarter's days (a quarter has at most 92: bit
-- date − quarter start of a 128-bit integer), not by count(distinct date), whose hash set per user
-- took 1.6 s against 0.6 s for 8.6 M rows of 1 M users.
create or replace temp macro event_user_quarter_rows(days) as table
select
    shop_id,
    quarter_start,
    user_key,
    sum(pv)::bigint as pv,
    sum(cart)::bigint as cart,
    sum(fav)::bigint as fav,
    sum(buy)::bigint as buy,
    coalesce(bit_count(bit_or(1::hugeint << (date - quarter_start)) filter (where buy > 0)), 0)::integer as buy_days
from query_table(days)
group by shop_id, quarter_start, user_key
