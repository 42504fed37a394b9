-- A merge into a staging table changes its month digests by signed deltas: + the rows it added
-- ($added), − the rows it removed ($removed), both temp tables of the staging table's shape.
merge into audit.month_digests as d
using (
    with

    signed as (
        select date_trunc('month', struct_extract(r, $month_column))::date as month_start, 1 as sign, hash(r) as row_hash
        from query_table($added) as r
        union all
        select date_trunc('month', struct_extract(r, $month_column))::date, -1, hash(r)
        from query_table($removed) as r
    ),

    final as (
        select
            month_start,
            sum(sign) as row_count,
            sum(sign * row_hash::hugeint) as digest
        from signed
        where month_start is not null
        group by month_start
    )

    select * from final
) as delta
on d.table_name = $table_name and d.month_start = delta.month_start
when matched then update set row_count = d.row_count + delta.row_count, digest = d.digest + delta.digest
when not matched then insert (table_name, month_start, row_count, digest)
    values ($table_name, delta.month_start, delta.row_count, delta.digest)
