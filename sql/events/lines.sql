-- event_lines(...): the lines of one events file that the CSV reader could split and type (the view
-- `event_source` of assets/lib/events.py, with `ordinality`, each line's place among them), each
-- with its China day as a number of days since 1970-01-01 (an integer groups faster than a date),
-- and the reason it is rejected, if any (contract §8). The window is [window_start, batch_date] in
-- those day numbers (the batch date and the age limit name them in a reason); 13-digit timestamps are milliseconds. A table macro, since a view cannot take
-- the run's values as bound parameters. This runs once per line of a 100 M-line file: a behaviour
-- spelled as the contract spells it is taken as it is, only another spelling is normalised.
create or replace temp macro event_lines(batch_day, window_start_day, batch_date, max_age_days) as table
with

typed as (
    select
        user_id,
        item_id,
        category_id,
        case
            when behavior in ('pv', 'cart', 'fav', 'buy') then behavior
            else lower(trim(behavior))
        end as behavior,
        "timestamp",
        shop_id,
        case
            when abs("timestamp") >= 1000000000000 then "timestamp" // 1000
            else "timestamp"
        end as seconds,
        ordinality
    from event_source
),

final as (
    select
        user_id,
        shop_id,
        behavior,
        ordinality,
        case
            when seconds between -100000000000 and 100000000000 then (seconds + 28800) // 86400
        end as day_number,
        case
            when user_id is null then 'user_id: empty'
            when item_id is null then 'item_id: empty'
            when category_id is null then 'category_id: empty'
            when behavior is null then 'behavior: empty'
            when behavior not in ('pv', 'cart', 'fav', 'buy') then 'behavior: not one of pv, cart, fav, buy'
            when "timestamp" is null then 'timestamp: empty'
            when day_number is null then 'timestamp: not a Unix time in seconds or milliseconds'
            when day_number > batch_day then 'timestamp: after the batch date ' || batch_date::varchar
            when day_number < window_start_day then
                'timestamp: more than ' || max_age_days::varchar || ' days (events_max_age_days) before the batch date '
                || batch_date::varchar
        end as reason,
        case
            when reason is not null then concat_ws(',', '***', coalesce(item_id::varchar, ''),
                coalesce(category_id::varchar, ''), coalesce(behavior, ''), coalesce("timestamp"::varchar, ''))
        end as raw_line
    from typed
)

select * from final
