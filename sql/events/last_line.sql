-- The last typed line of a file that ends without a line break (assets/lib/events.py): finding it
-- reads the file again, which only such a file costs.
create or replace temp table event_last_line as
select date, shop_id, user_id, behavior, reason, ordinality
from event_lines($shop, $batch_date, $window_start, $max_age_days)
where ordinality = (select sum(lines) from event_groups)
