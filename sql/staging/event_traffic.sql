-- staging.event_traffic: pv and uv per (China day, shop) from the event logs, kept with
-- staging.event_days; staging.traffic takes the days that no traffic file covers.
create or replace table staging.event_traffic as
select * from event_traffic_rows('staging.event_days')
