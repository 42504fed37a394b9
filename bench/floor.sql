-- The floor: quarterly_shop_kpis straight from the raw canonical CSVs, in one DuckDB statement.
-- No lake, no audit, no checks, no orchestration: what the pipeline cannot beat, only approach.
-- $orders / $traffic are lists of files, $targets and $shops one file each; $order_columns the
-- orders columns and their types (floor_duckdb.ORDER_COLUMNS).
create or replace table floor_kpis as
with

orders as (
    select
        shop_id, order_id, buyer_id, paid_at, paid_amount, refund_amount, is_mobile,
        regexp_extract(filename, '(\d{4}-\d{2}-\d{2})', 1)::date as batch_date,
        filename
    from read_csv(
        $orders, filename = true, header = true, auto_detect = false, columns = $order_columns
    )
),

shops as (select alias, shop_id from read_csv($shops, header = true, all_varchar = true)),

-- Each order's latest row (greatest batch date, then file name), as one struct.
latest as (
    select
        coalesce(s.shop_id, o.shop_id) as shop_id,
        arg_max(
            {'buyer_id': o.buyer_id, 'paid_at': o.paid_at, 'paid_amount': o.paid_amount,
             'refund_amount': o.refund_amount, 'is_mobile': o.is_mobile},
            (o.batch_date, o.filename)
        ) as r
    from orders as o
    left join shops as s on s.alias = o.shop_id
    group by coalesce(s.shop_id, o.shop_id), o.order_id
),

paid as (
    select
        shop_id, r.buyer_id, r.paid_at at time zone 'Asia/Shanghai' as paid_at, r.paid_amount,
        r.refund_amount, r.is_mobile
    from latest
    where r.paid_at is not null
),

paid_q as (
    select *, paid_at::date as paid_day, date_trunc('quarter', paid_at)::date as quarter_start from paid
),

first_payment as (select shop_id, buyer_id, min(paid_at) as first_paid_at from paid_q group by all),

buyers as (
    select
        p.shop_id, p.quarter_start,
        count(*) filter (where p.paid_days >= 2) as repeat_buyers,
        count(*) filter (where f.first_paid_at < p.quarter_start) as returning_buyers
    from (
        select shop_id, quarter_start, buyer_id, count(distinct paid_day) as paid_days
        from paid_q group by all
    ) as p
    join first_payment as f using (shop_id, buyer_id)
    group by all
),

order_kpis as (
    select
        shop_id, quarter_start,
        sum(paid_amount) as gmv,
        sum(refund_amount) as refund_amount,
        count(*) as paid_orders,
        count(distinct buyer_id) as paid_buyers,
        count(distinct (buyer_id, paid_day)) as buyer_days,
        coalesce(sum(paid_amount) filter (where is_mobile), 0) as mobile_gmv,
        sum(paid_amount) filter (where is_mobile is not null) as device_known_gmv
    from paid_q
    group by all
),

traffic as (
    select
        coalesce(s.shop_id, t.shop_id) as shop_id, t.date, t.channel, t.device,
        arg_max(
            {'pv': t.pv, 'uv': t.uv, 'visits': t.visits, 'bounced_visits': t.bounced_visits, 'ad_spend': t.ad_spend},
            (t.batch_date, t.filename)
        ) as r
    from (
        select *, regexp_extract(filename, '(\d{4}-\d{2}-\d{2})', 1)::date as batch_date
        from read_csv(
            $traffic, filename = true, header = true, auto_detect = false,
            columns = {
                'date': 'date', 'shop_id': 'varchar', 'channel': 'varchar', 'device': 'varchar',
                'pv': 'bigint', 'uv': 'bigint', 'visits': 'bigint', 'bounced_visits': 'bigint',
                'ad_spend': 'decimal(18,2)', 'cart_users': 'bigint', 'fav_users': 'bigint'
            }
        )
    ) as t
    left join shops as s on s.alias = t.shop_id
    group by coalesce(s.shop_id, t.shop_id), t.date, t.channel, t.device
),

traffic_kpis as (
    select
        shop_id, date_trunc('quarter', date)::date as quarter_start,
        sum(r.pv) as pv, sum(r.uv) as uv_days, sum(r.bounced_visits) as bounced_visits,
        sum(r.visits) filter (where r.bounced_visits is not null) as bounce_base_visits,
        sum(r.uv) filter (where device = 'mobile') as mobile_uv_days,
        sum(r.uv) filter (where device in ('mobile', 'pc')) as device_uv_days,
        sum(r.ad_spend) as ad_spend
    from traffic
    group by all
),

target_kpis as (
    select
        shop_id, date_trunc('quarter', month)::date as quarter_start,
        case when count(distinct month) = 3 then sum(target_gmv) end as target_gmv
    from (
        select coalesce(s.shop_id, t.shop_id) as shop_id, (t.month || '-01')::date as month,
            arg_max(t.target_gmv::decimal(18, 2), t.line) as target_gmv
        from (
            select *, row_number() over () as line
            from read_csv($targets, header = true, all_varchar = true)
        ) as t
        left join shops as s on s.alias = t.shop_id
        group by all
    )
    group by all
),

base as (
    select
        k.shop_id, k.quarter_start,
        coalesce(o.gmv, 0) as gmv, coalesce(o.refund_amount, 0) as refund_amount,
        coalesce(o.paid_orders, 0) as paid_orders, coalesce(o.paid_buyers, 0) as paid_buyers,
        coalesce(o.buyer_days, 0) as buyer_days,
        coalesce(t.pv, 0) as pv, coalesce(t.uv_days, 0) as uv_days, t.bounced_visits,
        t.bounce_base_visits, t.mobile_uv_days, t.device_uv_days, o.mobile_gmv, o.device_known_gmv,
        coalesce(b.repeat_buyers, 0) as repeat_buyers, coalesce(b.returning_buyers, 0) as returning_buyers,
        coalesce(t.ad_spend, 0) as ad_spend, g.target_gmv
    from (
        select shop_id, quarter_start from order_kpis
        union select shop_id, quarter_start from traffic_kpis
        union select shop_id, quarter_start from target_kpis
    ) as k
    left join order_kpis as o using (shop_id, quarter_start)
    left join buyers as b using (shop_id, quarter_start)
    left join traffic_kpis as t using (shop_id, quarter_start)
    left join target_kpis as g using (shop_id, quarter_start)
)

select
    strftime(c.quarter_start, '%Y') || 'Q' || quarter(c.quarter_start) as quarter,
    c.shop_id,
    c.gmv, c.refund_amount, c.gmv - c.refund_amount as net_sales,
    case when c.gmv = 0 then null else c.refund_amount::double / c.gmv::double end as refund_rate,
    c.paid_orders, c.paid_buyers,
    case when c.paid_buyers = 0 then null else c.gmv::double / c.paid_buyers end as aov,
    case when c.paid_orders = 0 then null else c.gmv::double / c.paid_orders end as avg_order_value,
    c.buyer_days, c.pv, c.uv_days,
    case when c.uv_days = 0 then null else c.buyer_days::double / c.uv_days end as conversion_rate,
    case when c.uv_days = 0 then null else c.gmv::double / c.uv_days end as uv_value,
    case when coalesce(c.bounce_base_visits, 0) = 0 then null else c.bounced_visits::double / c.bounce_base_visits end as bounce_rate,
    case when coalesce(c.device_uv_days, 0) = 0 then null else c.mobile_uv_days::double / c.device_uv_days end as mobile_uv_share,
    case when coalesce(c.device_known_gmv, 0) = 0 then null else coalesce(c.mobile_gmv, 0)::double / c.device_known_gmv::double end as mobile_gmv_share,
    c.repeat_buyers,
    case when c.paid_buyers = 0 then null else c.repeat_buyers::double / c.paid_buyers end as repurchase_rate,
    c.returning_buyers, c.paid_buyers - c.returning_buyers as new_buyers,
    c.ad_spend,
    case when c.ad_spend = 0 then null else c.gmv::double / c.ad_spend::double end as roi,
    c.target_gmv,
    case when coalesce(c.target_gmv, 0) = 0 then null else c.gmv::double / c.target_gmv::double end as target_completion,
    case when coalesce(p.gmv, 0) = 0 then null else c.gmv::double / p.gmv::double - 1 end as gmv_qoq,
    case when coalesce(y.gmv, 0) = 0 then null else c.gmv::double / y.gmv::double - 1 end as gmv_yoy
from base as c
left join base as p on p.shop_id = c.shop_id and p.quarter_start = c.quarter_start - interval 3 month
left join base as y on y.shop_id = c.shop_id and y.quarter_start = c.quarter_start - interval 12 month
order by c.quarter_start, c.shop_id
