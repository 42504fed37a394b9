-- The lake rows of an events file: per (China day, shop, user key) its loaded events of each
-- behaviour, with the first day its batch date accepts (window_start) and the file's lineage.
select
    g.date,
    g.shop_id,
    coalesce(n.user_key, u.user_key) as user_key,
    g.pv,
    g.cart,
    g.fav,
    g.buy,
    $window_start::date as window_start,
    $batch_date::date as batch_date,
    $file_name::varchar as file_name
from event_groups as g
join event_new_users as n using (user_id)
left join staging.event_users as u on n.user_key is null and u.pseudonym = n.pseudonym
where g.reason is null
order by g.date, g.shop_id, user_key
