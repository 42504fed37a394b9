-- The lines of an events file rejected by a rule (contract §8), grouped as event_groups holds them:
-- their place among the typed lines (ordinality, when the reader numbered them), how many lines the
-- group holds, the reason, the line as read with user_id masked, and the values they were typed to.
select
    ordinality,
    lines,
    reason,
    raw_line,
    user_id,
    item_id,
    category_id,
    behavior_as_read,
    "timestamp"
from event_groups
where reason is not null
order by ordinality
