-- The lines of an events file rejected by a rule (contract §8): their place among the lines the reader
-- typed (ordinality), the reason and the line as read with user_id masked.
select
    ordinality,
    reason,
    concat_ws(',', '***', coalesce(item_id::varchar, ''), coalesce(category_id::varchar, ''),
        coalesce(behavior, ''), coalesce("timestamp"::varchar, '')) as raw_line
from event_groups
where reason is not null
order by ordinality
