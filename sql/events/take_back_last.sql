-- The last typed line of a file that ends without a line break (event_last_line, sql/events/last_line.sql)
-- taken back out of event_groups: it is rejected as a truncated line, whatever it would have given.
delete from event_groups
where ordinality = (select ordinality from event_last_line where reason is not null);

update event_groups as g
set
    lines = g.lines - 1,
    pv = g.pv - (l.behavior = 'pv')::bigint,
    cart = g.cart - (l.behavior = 'cart')::bigint,
    fav = g.fav - (l.behavior = 'fav')::bigint,
    buy = g.buy - (l.behavior = 'buy')::bigint
from event_last_line as l
where l.reason is null
    and g.reason is null
    and g.date = l.date
    and g.shop_id = l.shop_id
    and g.user_id = l.user_id;

delete from event_groups
where lines = 0;

drop table event_last_line;
