-- event_lines(...): the lines of one events file that the CSV reader could split and type (registered as
-- `event_source` by assets/lib/events.py, with `ordinality`, the line's place among them), each with
-- its shop, its Unix second (13-digit values are milliseconds) and the reason it is rejected, if any
-- (contract §8). The window is the batch date's China days: [window_start, batch_date]. A table
-- macro, since a view cannot take the run's values as bound parameters.
create or replace temp macro event_lines(shop, batch_date, window_start, max_age_days) as table
with

typed as (
    select
        user_id,
        item_id,
        category_id,
        lower(trim(behavior)) as behavior,
        "timestamp",
        coalesce(nullif(trim(shop_id), ''), shop) as shop_id,
        case when abs("timestamp") >= 1000000000000 then "timestamp" // 1000 else "timestamp" end as seconds,
        ordinality
    from event_source
),

final as (
    select
        *,
        china_day(seconds) as date,
        case
            when user_id is null then 'user_id: empty'
            when item_id is null then 'item_id: empty'
            when category_id is null then 'category_id: empty'
            when behavior is null then 'behavior: empty'
            when behavior not in ('pv', 'cart', 'fav', 'buy') then 'behavior: not one of pv, cart, fav, buy'
            when "timestamp" is null then 'timestamp: empty'
            when china_day(seconds) is null then 'timestamp: not a Unix time in seconds or milliseconds'
            when china_day(seconds) > batch_date then 'timestamp: after the batch date ' || batch_date::varchar
            when china_day(seconds) < window_start then
                'timestamp: more than ' || max_age_days::varchar || ' days (events_max_age_days) before the batch date '
                || batch_date::varchar
        end as reason
    from typed
)

select * from final
