-- A merge into staging.paid_days, step 2: the touched groups moved by their changes; a group left
-- with no paid order is gone, as it is from a build of the whole table.
merge into staging.paid_days as d
using paid_days_changes as c
    on d.paid_day = c.paid_day and d.shop_id = c.shop_id
    and d.category is not distinct from c.category and d.is_mobile is not distinct from c.is_mobile
when matched and d.paid_orders + c.paid_orders = 0 then delete
when matched then update set
    paid_orders = d.paid_orders + c.paid_orders,
    items = d.items + c.items,
    gmv = d.gmv + c.gmv,
    refund_amount = d.refund_amount + c.refund_amount
when not matched then insert by name
