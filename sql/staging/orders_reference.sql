-- Everything but the lake that staging.orders is built from: the reference tables it maps with.
-- A change here rebuilds the table from the whole lake.
select
    coalesce((select sum(hash(s)::hugeint) from staging.shops as s), 0)::varchar || ':'
    || coalesce((select sum(hash(c)::hugeint) from staging.channels as c), 0)::varchar || ':'
    || coalesce((select sum(hash(n)::hugeint) from staging.courier_names as n), 0)::varchar
