-- A file loaded again replaces the rejects its earlier version gave.
delete from audit.rejects as r
using replaced_files as f
where r.source = f.source and r.file_name = f.file_name
