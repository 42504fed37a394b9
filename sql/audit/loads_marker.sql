-- What the load history is at a moment: a run that records any file (loaded, unchanged or failed)
-- changes it, so a publication recorded with it is known to cover every run before it.
select count(*) || ':' || coalesce(max(loaded_at)::varchar, '') as marker
from audit.loads
