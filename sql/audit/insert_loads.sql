insert into audit.loads by name
select * from new_loads
