-- event_lines(...): the lines of one events file that the CSV reader could split and type (the view
-- `event_source` of assets/lib/events.py, with `ordinality`, each line's place among them when it is
-- known: see there), each
-- with its China day as a number of days since 1970-01-01 (an integer groups faster than a date),
-- the reason it is rejected, if any (contract §8), and then its text. The window is
-- [window_start_day, batch_day]; the batch date and the age limit are named in a reason. 13-digit
-- timestamps are milliseconds. A table macro: a view cannot take the run's values as bound
-- parameters. This runs once per line of a 100 M-line file: a behaviour spelled as the contract
-- spells it is taken as it is, only another spelling is normalised.
create or replace temp macro event_lines(batch_day, window_start_day, batch_date, max_age_days) as table
select
    s.user_id,
    s.shop_id,
    s.ordinality,
    case
        when s.behavior in ('pv', 'cart', 'fav', 'buy') then s.behavior
        else lower(trim(s.behavior))
    end as behavior_name,
    case
        when abs(s."timestamp") >= 1000000000000 then s."timestamp" // 1000
        else s."timestamp"
    end as seconds,
    china_day_number(seconds) as day_number,
    case
        when s.user_id is null then 'user_id: empty'
        when s.item_id is null then 'item_id: empty'
        when s.category_id is null then 'category_id: empty'
        when behavior_name is null then 'behavior: empty'
        when behavior_name not in ('pv', 'cart', 'fav', 'buy') then 'behavior: not one of pv, cart, fav, buy'
        when s."timestamp" is null then 'timestamp: empty'
        when day_number is null then 'timestamp: not a Unix time in seconds or milliseconds'
        when day_number > batch_day then 'timestamp: after the batch date ' || batch_date::varchar
        when day_number < window_start_day then
            'timestamp: more than ' || max_age_days::varchar || ' days (events_max_age_days) before the batch date '
            || batch_date::varchar
    end as reason,
    -- the line as read (event_raw_line, made per file by assets/lib/events.py), for a rejected line only
    case when reason is not null then event_raw_line(s) end as raw_line
from event_source as s
