-- A merge into staging.event_traffic: the (day, shop) pairs the merged rows touch counted again from
-- every event row of theirs.
create or replace temp table event_days_touched as
select distinct date, shop_id
from event_days_added;

create or replace temp table event_days_of_days_touched as
select d.*
from staging.event_days as d
semi join event_days_touched as t
    on t.date = d.date
    and t.shop_id = d.shop_id;

delete from staging.event_traffic as e
using event_days_touched as t
where e.date = t.date
    and e.shop_id = t.shop_id;

insert into staging.event_traffic
select * from event_traffic_rows('event_days_of_days_touched')
