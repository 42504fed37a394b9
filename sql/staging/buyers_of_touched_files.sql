-- A merge into staging.paid_orders, step 0 (after orders_of_touched_files): the key of every buyer of
-- those orders' paid rows, from one join with staging.buyers, a key numbered after the last one for
-- each buyer it does not hold yet, which is added to it. paid_orders_added takes the keys from this
-- small table: joining staging.buyers again (4.5 M pseudonyms at 10 M orders) took 0.3 s more.
create or replace temp table buyers_of_touched_files as
with

buyers as (
    select distinct buyer_id
    from orders_of_touched_files
    where paid_at is not null
),

known as (
    select n.buyer_id, b.buyer_key
    from buyers as n
    left join staging.buyers as b using (buyer_id)
),

final as (
    select
        buyer_id,
        coalesce(
            buyer_key,
            (select coalesce(max(buyer_key), 0) from staging.buyers)
                + row_number() over (partition by buyer_key is null)
        )::bigint as buyer_key,
        buyer_key is null as is_new
    from known
)

select * from final;

insert into staging.buyers
select buyer_id, buyer_key
from buyers_of_touched_files
where is_new
