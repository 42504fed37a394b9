-- The lines of an events file rejected by a rule, numbered by their place among the typed lines: for a
-- file whose lines could not be found by their values (assets/lib/events.py). The view event_source
-- then numbers the lines, which costs the reader its parallelism: only such a file pays for it.
select
    ordinality,
    1 as lines,
    reason,
    raw_line
from event_lines($batch_day, $window_start_day, $batch_date, $max_age_days)
where reason is not null
order by ordinality
