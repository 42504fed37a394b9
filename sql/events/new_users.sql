-- The users of a file's loaded lines with their pseudonyms (HMAC-SHA256 of the id's text, as
-- sql/parse/pseudonyms.sql makes a buyer's: the padded keys are bound, never the key) and their key
-- in staging.event_users when it knows them already. Each id is hashed once and never stored in clear.
create or replace temp table event_new_users as
with

ids as (
    select distinct user_id
    from event_groups
    where reason is null
),

hashed as (
    select user_id, sha256($outer || unhex(sha256($inner || encode(user_id::varchar)))) as pseudonym
    from ids
)

select h.user_id, h.pseudonym, u.user_key
from hashed as h
left join staging.event_users as u on u.pseudonym = h.pseudonym
