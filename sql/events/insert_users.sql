-- staging.event_users gains the pseudonyms it did not know, each with the next integer key: keys are
-- never reused or changed, so the lake files that hold them stay valid.
insert into staging.event_users (pseudonym, user_key)
select
    pseudonym,
    (select coalesce(max(user_key), 0) from staging.event_users) + row_number() over (order by pseudonym)
from event_new_users
where user_key is null
