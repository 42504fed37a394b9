insert into audit.rejects by name
select * from new_rejects
