-- The last line of a file that ends without a line break, as event_lines reads it from a file holding
-- only that line (the view event_source, assets/lib/events.py), when the reader typed it.
create or replace temp table event_last_line as
select day_number, shop_id, user_id, behavior_name as behavior, reason, raw_line
from event_lines($batch_day, $window_start_day, $batch_date, $max_age_days)
