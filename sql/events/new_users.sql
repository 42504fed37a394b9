-- The users of a file's loaded lines with their pseudonyms (event_pseudonyms: sql/parse/pseudonyms.sql
-- over the distinct ids, as a buyer's is made) and their key in staging.event_users when it knows them
-- already. Each id is hashed once and never stored in clear.
create or replace temp table event_new_users as
select p.id::bigint as user_id, p.pseudonym, u.user_key
from event_pseudonyms as p
left join staging.event_users as u on u.pseudonym = p.pseudonym
