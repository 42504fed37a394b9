-- A merge of new events lake files into staging.event_days: their rows added.
insert into staging.event_days
select * from event_days_added
order by date, shop_id, user_key
