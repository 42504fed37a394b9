-- One definition per metric (contract §6). Every mart aggregates with these, whatever its grain,
-- so a shop's, a channel's and a region's gmv or conversion rate mean exactly the same thing.

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
create or replace macro metric_mobile_gmv(paid_amount, is_mobile) as
    coalesce(sum(paid_amount) filter (where is_mobile), 0)::decimal(18, 2);
create or replace macro metric_device_known_gmv(paid_amount, is_mobile) as
    sum(paid_amount) filter (where is_mobile is not null);

-- Rates over the numbers above (null on a zero or null denominator).
create or replace macro rate_refund(refund_amount, gmv) as safe_div(refund_amount, gmv);
create or replace macro rate_aov(gmv, paid_buyers) as safe_div(gmv, paid_buyers);
create or replace macro rate_avg_order_value(gmv, paid_orders) as safe_div(gmv, paid_orders);
create or replace macro rate_conversion(buyer_days, uv_days) as safe_div(buyer_days, uv_days);
create or replace macro rate_uv_value(gmv, uv_days) as safe_div(gmv, uv_days);
create or replace macro rate_roi(gmv, ad_spend) as safe_div(gmv, ad_spend);
create or replace macro rate_target_completion(gmv, target_gmv) as safe_div(gmv, target_gmv);
create or replace macro rate_growth(current_value, earlier_value) as safe_div(current_value, earlier_value) - 1;
