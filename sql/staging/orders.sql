-- staging.orders: each order's current state (orders_current over the whole lake).
create or replace table staging.orders as
select * from orders_current
