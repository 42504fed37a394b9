-- ids: the distinct users of a file's loaded lines, as text, for sql/parse/pseudonyms.sql.
create or replace temp view ids as
select distinct user_id::varchar as id
from event_groups
where reason is null
