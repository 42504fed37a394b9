-- What an events file gave: lines typed by the reader, loaded, rejected by a rule, and events per
-- behaviour loaded.
select
    coalesce(sum(lines), 0)::bigint as lines,
    coalesce(sum(lines) filter (where reason is null), 0)::bigint as loaded,
    coalesce(sum(lines) filter (where reason is not null), 0)::bigint as rejected
from event_groups
