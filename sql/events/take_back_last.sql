-- The last line of a file that ends without a line break (event_last_line, sql/events/last_line.sql)
-- taken back out of its group in event_groups: it is rejected as a truncated line, whatever it would
-- have given.
update event_groups as g
set
    lines = g.lines - 1,
    pv = g.pv - (l.reason is null and l.behavior = 'pv')::bigint,
    cart = g.cart - (l.reason is null and l.behavior = 'cart')::bigint,
    fav = g.fav - (l.reason is null and l.behavior = 'fav')::bigint,
    buy = g.buy - (l.reason is null and l.behavior = 'buy')::bigint
from event_last_line as l
where g.day_number is not distinct from l.day_number
    and g.shop_id is not distinct from l.shop_id
    and g.user_id is not distinct from l.user_id
    and g.reason is not distinct from l.reason
    and g.raw_line is not distinct from l.raw_line;

delete from event_groups
where lines = 0;

drop table event_last_line;
