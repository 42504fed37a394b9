-- The month digests of the staging table $table: per month of its column $month_column, the rows and
-- the sum of their hashes (rows whose date is null are filed under no month: no mart reads them).
insert into audit.month_digests
with

months as (
    select
        date_trunc('month', struct_extract(r, $month_column))::date as month_start,
        hash(r)::hugeint as row_hash
    from query_table($table) as r
),

final as (
    select
        $table_name as table_name,
        month_start,
        count(*) as row_count,
        sum(row_hash) as digest
    from months
    where month_start is not null
    group by month_start
)

select * from final
