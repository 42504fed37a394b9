-- One definition per metric (contract §6). Every mart, the report's SQL and the checks aggregate
-- with these, whatever their grain, so a shop's, a channel's, a region's and all shops' gmv or
-- conversion rate mean exactly the same thing. The glossary (assets/lib/glossary.py) names the macro
-- behind each published column; tests/test_metrics.py fails when SQL in sql/marts, sql/report or
-- sql/checks divides outside these macros, or gives a column another macro than its glossary entry.

-- 支付金额: Σ paid_amount of paid orders.
create or replace macro metric_gmv(paid_amount) as
    coalesce(sum(paid_amount), 0)::decimal(18, 2);

-- 退款金额: Σ refund_amount of those orders, in the quarter of payment.
create or replace macro metric_refund_amount(refund_amount) as
    coalesce(sum(refund_amount), 0)::decimal(18, 2);

-- 支付订单数 and 支付买家数. Buyers are counted by their integer key (staging.buyers), one per
-- pseudonymised buyer_id.
create or replace macro metric_paid_orders(order_id) as count(order_id);
create or replace macro metric_paid_buyers(buyer_key) as count(distinct buyer_key);

-- Σ over days of the distinct buyers who paid that day = the distinct (buyer, day) pairs.
create or replace macro metric_buyer_days(buyer_key, paid_day) as count(distinct (buyer_key, paid_day));

-- The buyer numbers of a (shop, quarter), counted from its rows of staging.buyer_quarters (one row
-- per shop, quarter of payment and buyer: paid_days, the distinct days the buyer paid on in the
-- quarter, and first_quarter_start, the quarter of the buyer's first payment at the shop). The same
-- numbers as metric_paid_buyers and metric_buyer_days over the quarter's paid orders.
create or replace macro metric_state_paid_buyers(buyer_key) as count(buyer_key);
create or replace macro metric_state_buyer_days(paid_days) as coalesce(sum(paid_days), 0);
-- 支付订单数 from staging.paid_days, the paid orders counted per day, shop, category and device.
create or replace macro metric_state_paid_orders(paid_orders) as coalesce(sum(paid_orders), 0)::bigint;
-- 复购买家: paid on two or more distinct days of the quarter.
create or replace macro metric_repeat_buyers(paid_days) as count(*) filter (where paid_days >= 2);
-- 老客: first paid at the shop before the quarter.
create or replace macro metric_returning_buyers(first_quarter_start, quarter_start) as
    count(*) filter (where first_quarter_start < quarter_start);

-- 无线成交 parts: gmv of mobile orders, and of orders whose device is known.
-- Behaviour event logs (marts.quarterly_funnel), from staging.event_user_quarters: one row per user
-- with any event in the (shop, quarter), with the user's events of each behaviour.
create or replace macro metric_event_users(user_key) as count(user_key);
create or replace macro metric_users_with(behavior_events) as count(*) filter (where behavior_events > 0);

create or replace macro metric_mobile_gmv(paid_amount, is_mobile) as
    coalesce(sum(paid_amount) filter (where is_mobile), 0)::decimal(18, 2);
create or replace macro metric_device_known_gmv(paid_amount, is_mobile) as
    sum(paid_amount) filter (where is_mobile is not null);

-- 净销售额 and 新买家数.
create or replace macro metric_net_sales(gmv, refund_amount) as (gmv - refund_amount)::decimal(18, 2);
create or replace macro metric_new_buyers(paid_buyers, returning_buyers) as paid_buyers - returning_buyers;

-- 跳失率 parts: the bounced visits, over the visits of the rows that give a bounce figure.
create or replace macro metric_bounced_visits(bounced_visits) as sum(bounced_visits);
create or replace macro metric_bounce_base_visits(visits, bounced_visits) as
    sum(visits) filter (where bounced_visits is not null);

-- 无线访客占比 parts: visitor-days of mobile rows, and of rows whose device is mobile or pc.
create or replace macro metric_mobile_uv_days(uv, device) as sum(uv) filter (where device = 'mobile');
create or replace macro metric_device_uv_days(uv, device) as sum(uv) filter (where device in ('mobile', 'pc'));

-- 超时率 and 退件率 parts: late and returned parcels of the rows that give delivered.
create or replace macro metric_late_with_delivered(late, delivered) as sum(late) filter (where delivered is not null);
create or replace macro metric_returned_with_delivered(returned, delivered) as
    sum(returned) filter (where delivered is not null);

-- 日常日均支付金额: the mean of the daily gmv over the baseline days (a day without sales as 0:
-- one row per day, its gmv null when it had none).
create or replace macro metric_baseline_daily_gmv(daily_gmv) as safe_div(coalesce(sum(daily_gmv), 0), count(*));

-- Hours between two timestamps (service times).
create or replace macro metric_hours_between(started_at, ended_at) as epoch(ended_at - started_at) / 3600;

-- Rates over the numbers above (null on a zero or null denominator).
create or replace macro rate_refund(refund_amount, gmv) as safe_div(refund_amount, gmv);
create or replace macro rate_aov(gmv, paid_buyers) as safe_div(gmv, paid_buyers);
create or replace macro rate_avg_order_value(gmv, paid_orders) as safe_div(gmv, paid_orders);
create or replace macro rate_conversion(buyer_days, uv_days) as safe_div(buyer_days, uv_days);
create or replace macro rate_funnel_conversion(buyers, uv) as safe_div(buyers, uv);
create or replace macro rate_uv_value(gmv, uv_days) as safe_div(gmv, uv_days);
create or replace macro rate_roi(gmv, ad_spend) as safe_div(gmv, ad_spend);
create or replace macro rate_target_completion(gmv, target_gmv) as safe_div(gmv, target_gmv);
create or replace macro rate_growth(current_value, earlier_value) as safe_div(current_value, earlier_value) - 1;
create or replace macro rate_bounce(bounced_visits, bounce_base_visits) as safe_div(bounced_visits, bounce_base_visits);
create or replace macro rate_mobile_uv_share(mobile_uv_days, device_uv_days) as safe_div(mobile_uv_days, device_uv_days);
create or replace macro rate_mobile_gmv_share(mobile_gmv, device_known_gmv) as
    safe_div(coalesce(mobile_gmv, 0), device_known_gmv);
create or replace macro rate_repurchase(repeat_buyers, paid_buyers) as safe_div(repeat_buyers, paid_buyers);
-- A part's share of its whole: a channel's visitors of its shop's, a courier's parcels of its
-- region's, rural stations' gmv of all gmv.
create or replace macro rate_uv_share(uv_days, shop_uv_days) as safe_div(uv_days, shop_uv_days);
create or replace macro rate_collected_share(collected, all_collected) as safe_div(collected, all_collected);
create or replace macro rate_rural_gmv_share(rural_gmv, gmv) as safe_div(rural_gmv, gmv);
create or replace macro rate_avg_daily_collected(collected, days_covered) as safe_div(collected, days_covered);
create or replace macro rate_peak_ratio(peak_day_collected, avg_daily_collected) as
    safe_div(peak_day_collected, avg_daily_collected);
create or replace macro rate_late(late_with_delivered, delivered) as safe_div(late_with_delivered, delivered);
create or replace macro rate_return(returned_with_delivered, delivered) as safe_div(returned_with_delivered, delivered);
create or replace macro rate_uplift(gmv, campaign_days, baseline_daily_gmv) as
    safe_div(safe_div(gmv, campaign_days), baseline_daily_gmv);
