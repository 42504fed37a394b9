-- The users of a file's loaded lines with their pseudonyms (event_file_users: sql/parse/pseudonyms.sql
-- over the distinct ids, as a buyer's is made, on the connection that parsed the file) and their key
-- in staging.event_users when it knows them already. Each id is hashed once and never stored in clear.
create or replace temp table event_new_users as
select p.id::bigint as user_id, p.pseudonym, u.user_key
from event_file_users as p
left join staging.event_users as u on u.pseudonym = p.pseudonym
