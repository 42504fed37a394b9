-- The key of each user of a file's loaded lines (event_new_users), the ones staging.event_users
-- gained from it (sql/events/insert_users.sql) included: what the file's lake rows are keyed by.
select n.user_id, coalesce(n.user_key, u.user_key) as user_key
from event_new_users as n
left join staging.event_users as u on n.user_key is null and u.pseudonym = n.pseudonym
