-- A merge of new events lake files into staging.event_days: their rows added, in their files' order.
insert into staging.event_days
select * from event_days_added
