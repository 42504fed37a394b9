-- The lines of an events file rejected by a rule (contract §8): their place among the lines the reader
-- typed (ordinality), the reason and the line as read with user_id masked.
select
    ordinality,
    reason,
    raw_line
from event_groups
where reason is not null
order by ordinality
