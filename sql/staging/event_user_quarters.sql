-- staging.event_user_quarters: the distinct-user state of each (shop, quarter) of event logs, one row
-- per user with any event in it; kept with staging.event_days (only the users a merge touched are
-- counted again), so a new day of events does not rescan the quarter.
create or replace table staging.event_user_quarters as
select * from event_user_quarter_rows('staging.event_days')
