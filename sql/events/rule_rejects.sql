-- The lines of an events file rejected by a rule (contract §8), grouped as event_groups holds them:
-- their place among the typed lines (ordinality, when the reader numbered them), how many lines the
-- group holds, the reason, the user and the line as read with user_id masked.
select
    ordinality,
    lines,
    reason,
    user_id,
    raw_line
from event_groups
where reason is not null
order by ordinality
